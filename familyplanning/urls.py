from django.urls import path

from . import views

app_name = "familyplanning"
urlpatterns = [
    path("", views.index, name="index"),
]
