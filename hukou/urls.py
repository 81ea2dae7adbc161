from django.urls import path

from . import views

app_name = "hukou"
urlpatterns = [
    path("", views.index, name="index"),
]
