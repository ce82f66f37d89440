"""Admin of the monitoring app: events are entered here (scoped); warnings, cases and classes are read-only
(their writes go through the services and the workflow); no monitoring record can be deleted here."""

from django.contrib import admin

from xiaokang.core.admin import ReadOnlyScopedModelAdmin, ScopedModelAdmin

from .models import CaseMeasure, ConsolidationClass, EarlyWarning, HouseholdEvent, IncomeCheck, MonitoringCase


@admin.register(HouseholdEvent)
class HouseholdEventAdmin(ScopedModelAdmin):
    list_display = ("household", "kind", "occurred_on", "amount", "member", "source", "area_code")
    list_filter = ("kind",)
    search_fields = ("=household__household_number", "=area_code")
    # autocomplete, not raw-id inputs: Django's raw-id widget looks the typed id up unscoped and would show
    # the name of any household or member (the autocomplete reads the scoped admin querysets)
    autocomplete_fields = ("household", "member")
    readonly_fields = ("recorded_by",)
    ordering = ("-occurred_on", "-id")

    def save_model(self, request, obj, form, change):
        if obj.household_id:
            obj.area_code = obj.household.area_id
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(EarlyWarning)
class EarlyWarningAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("household", "year", "kind", "value", "threshold", "status", "decided_by_username", "case")
    list_filter = ("year", "kind", "status")
    search_fields = ("=household__household_number", "=area_code")
    ordering = ("-year", "household_id", "kind")


@admin.register(MonitoringCase)
class MonitoringCaseAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("household", "category", "risk_types", "channel", "status", "opened_on", "identified_on",
                    "elimination_kind", "eliminated_on")
    list_filter = ("status", "category", "channel", "elimination_kind")
    search_fields = ("=household__household_number", "=area_code")
    ordering = ("-opened_on", "-id")


@admin.register(IncomeCheck)
class IncomeCheckAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("case", "checked_on", "per_capita_income", "note")
    ordering = ("case_id", "checked_on")


@admin.register(CaseMeasure)
class CaseMeasureAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("case", "kind", "description", "started_on")
    list_filter = ("kind",)
    ordering = ("case_id", "started_on")


@admin.register(ConsolidationClass)
class ConsolidationClassAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("household", "year", "klass", "per_capita_income", "monitoring_range", "open_case", "warned")
    list_filter = ("year", "klass")
    search_fields = ("=household__household_number", "=area_code")
    ordering = ("-year", "household_id")
