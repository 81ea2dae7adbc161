"""/documents/<public_id>/: the permission-checked download of a private upload; `withdraw/`: its owner takes it back."""

from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("<uuid:public_id>/", views.download, name="download"),
    path("<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
]
