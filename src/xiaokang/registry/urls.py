from django.urls import path

from . import views

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/members/<int:member_pk>/id/", views.full_id_number, name="member_full_id"),
    path("households/<int:pk>/phone/", views.full_phone, name="household_full_phone"),
    path("households/<int:pk>/visits/", views.household_visit, name="household_visit"),
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/export/", views.visit_export, name="visit_export"),
]
