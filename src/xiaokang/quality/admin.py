"""Findings in the admin: read only (statuses change through runs and the confirm page), scoped by area."""

from django.contrib import admin

from xiaokang.core.admin import ReadOnlyScopedModelAdmin

from .models import Finding


@admin.register(Finding)
class FindingAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("rule_code", "area_code", "household", "member", "value", "status", "year", "last_seen")
    list_filter = ("status", "rule_code", "year")
    search_fields = ("=area_code", "=household__household_number")
    list_select_related = ("household", "member")
    ordering = ("area_code", "household_id", "rule_code")
