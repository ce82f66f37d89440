"""JSON API routes of the registry (mounted under /api/v1/)."""

from django.urls import path

from . import api

urlpatterns = [
    path("households/<int:pk>/visits/", api.household_visits_api, name="api_household_visits"),
]
