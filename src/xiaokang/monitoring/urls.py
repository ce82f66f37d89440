from django.urls import path

from . import views

urlpatterns = [
    path("", views.object_list, name="monitoring_object_list"),
    path("warnings/", views.warning_inbox, name="warning_inbox"),
    path("warnings/<int:pk>/verify/", views.warning_verify, name="warning_verify"),
    path("warnings/<int:pk>/dismiss/", views.warning_dismiss, name="warning_dismiss"),
    path("cases/<int:pk>/", views.case_detail, name="monitoring_case_detail"),
    path("cases/<int:pk>/step/", views.case_step, name="monitoring_case_step"),
    path("cases/<int:pk>/measures/", views.case_measure, name="monitoring_case_measure"),
    path("cases/<int:pk>/checks/", views.case_income_check, name="monitoring_case_income_check"),
    path("cases/<int:pk>/eliminate/", views.case_eliminate, name="monitoring_case_eliminate"),
    path("events/", views.event_list, name="event_list"),
    path("classes/", views.consolidation_classes, name="consolidation_classes"),
]
