from django.urls import path

from . import views

urlpatterns = [
    path("", views.finding_list, name="quality_findings"),
    path("<int:pk>/confirm/", views.finding_confirm, name="quality_confirm"),
    path("export/", views.finding_export, name="quality_export"),
    path("run/", views.quality_run, name="quality_run"),
]
