from django.urls import path

from . import views

urlpatterns = [
    path("villages/", views.village_list, name="village_exit_list"),
    path("villages/<str:code>/<int:year>/", views.village_list, name="village_exit_detail"),
    path("counties/", views.county_list, name="county_exit_list"),
    path("counties/<str:code>/<int:year>/", views.county_list, name="county_exit_detail"),
]
