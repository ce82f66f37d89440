"""Findings in the admin: read only (statuses change through runs and the confirm page), scoped by area; birth
dates in their values cut to the year."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from xiaokang.core.admin import ReadOnlyScopedModelAdmin
from xiaokang.registry.idnumber import mask_birth_dates

from .models import Finding


@admin.register(Finding)
class FindingAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("rule_code", "area_code", "household", "member", "shown_value", "status", "year", "last_seen")
    exclude = ("value",)
    readonly_fields = ("shown_value",)
    list_filter = ("status", "rule_code", "year")
    search_fields = ("=area_code", "=household__household_number")
    list_select_related = ("household", "member")
    ordering = ("area_code", "household_id", "rule_code")

    @admin.display(description=_("疑点值"))
    def shown_value(self, obj):
        """The value with birth dates cut to the year (the admin never shows what would unmask an ID number)."""
        return mask_birth_dates(obj.value) or "—"
