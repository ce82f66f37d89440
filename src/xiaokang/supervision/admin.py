"""Supervision problems in the admin: read only (they move through the pages' steps), scoped by area."""

from django.contrib import admin

from xiaokang.core.admin import FreeTextMaskedAdmin, ReadOnlyScopedModelAdmin

from .models import Problem


@admin.register(Problem)
class ProblemAdmin(FreeTextMaskedAdmin, ReadOnlyScopedModelAdmin):
    list_display = ("found_on", "area_code", "household", "category", "source", "deadline", "status", "inspector")
    free_text = ("description", "rectification", "revisit")
    list_filter = ("status", "category", "source")
    search_fields = ("=area_code", "=household__household_number")
    list_select_related = ("household", "inspector")
    ordering = ("-found_on", "-id")
