"""JSON API routes (mounted under /api/v1/)."""

from django.urls import path

from . import api

urlpatterns = [
    path("workflows/<int:pk>/", api.workflow_detail_api, name="api_workflow_detail"),
    path("workflows/<int:pk>/steps/", api.workflow_step_api, name="api_workflow_step"),
]
