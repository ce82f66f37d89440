from django.contrib import admin
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xiaokang.core.admin import ReadOnlyScopedModelAdmin, ScopedModelAdmin

from .models import AssessmentReason, HouseholdAssessment, ParameterValue
from .reasons import Reason, render


@admin.register(HouseholdAssessment)
class HouseholdAssessmentAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("household", "year", "area", "verdict", "member_count", "per_capita_income",
                    "income_above_standard", "food_and_clothing", "compulsory_education", "basic_medical",
                    "safe_housing", "safe_water")
    list_filter = ("year", "verdict", "income_above_standard", "compulsory_education", "basic_medical",
                   "safe_housing", "safe_water")
    search_fields = ("=household__household_number", "=area__code")
    list_select_related = ("household",)
    ordering = ("-year", "household_id")


@admin.register(AssessmentReason)
class AssessmentReasonAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("household", "year", "code", "sentence")
    list_filter = ("year", "code")
    search_fields = ("=household__household_number",)
    list_select_related = ("household", "member")
    ordering = ("-year", "household_id", "code")

    @admin.display(description=_("原因"))
    def sentence(self, obj):
        reason = Reason(code=obj.code, member_name=obj.member.name if obj.member_id and obj.member else None,
                        amount=obj.amount, threshold=obj.threshold, detail=obj.detail, year=obj.year)
        return render(reason, get_language() or "zh-hans")


@admin.register(ParameterValue)
class ParameterValueAdmin(ScopedModelAdmin):
    """Administrator-entered parameter values: national/provincial, so written by superusers only."""

    superuser_only_write = True
    list_display = ("name", "province", "effective_from", "value", "unit", "status", "source", "entered_by",
                    "entered_at")
    list_filter = ("name", "province", "status")
    search_fields = ("name", "source")
    list_select_related = ("entered_by",)
    readonly_fields = ("entered_by", "entered_at")
    ordering = ("name", "province", "effective_from")

    def save_model(self, request, obj, form, change):
        if not change or obj.entered_by_id is None:
            obj.entered_by = request.user
        super().save_model(request, obj, form, change)
