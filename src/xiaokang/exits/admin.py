from django.contrib import admin
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xiaokang.core.admin import ReadOnlyScopedModelAdmin, ScopedModelAdmin
from xiaokang.policy.reasons import render

from .models import CountyAssessment, CountyYear, EvaluationSample, ExitReason, VillageAssessment, VillageYear
from .selectors import to_reason


@admin.register(VillageYear)
class VillageYearAdmin(ScopedModelAdmin):
    list_display = ("area", "year", "collective_income", "has_road", "has_water", "has_electricity",
                    "has_school_access", "has_clinic", "source")
    list_filter = ("year", "has_road", "has_water", "has_electricity", "has_school_access", "has_clinic")
    search_fields = ("=area__code", "area__name")
    raw_id_fields = ("area",)
    ordering = ("-year", "area_id")


@admin.register(CountyYear)
class CountyYearAdmin(ScopedModelAdmin):
    list_display = ("area", "year", "rural_income", "source")
    list_filter = ("year",)
    raw_id_fields = ("area",)
    ordering = ("-year", "area_id")


@admin.register(EvaluationSample)
class EvaluationSampleAdmin(ScopedModelAdmin):
    list_display = ("area", "year", "household_ref", "people", "kind", "approves")
    list_filter = ("year", "kind", "approves")
    search_fields = ("=area__code", "household_ref")
    raw_id_fields = ("area",)
    ordering = ("-year", "area_id", "id")


@admin.register(VillageAssessment)
class VillageAssessmentAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("area", "year", "verdict", "poor_people", "population", "incidence_below", "collective_income",
                    "collective_income_ok", "road", "water", "electricity", "school", "clinic")
    list_filter = ("year", "verdict", "incidence_below", "collective_income_ok")
    search_fields = ("=area__code",)
    ordering = ("-year", "area_id")


@admin.register(CountyAssessment)
class CountyAssessmentAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("area", "year", "verdict", "remaining_poor", "rural_population", "incidence_below",
                    "rural_income_ok", "wrong_exit_ok", "missed_ok", "comprehensive_ok", "approval_ok")
    list_filter = ("year", "verdict")
    ordering = ("-year", "area_id")


@admin.register(ExitReason)
class ExitReasonAdmin(ReadOnlyScopedModelAdmin):
    list_display = ("area", "level", "year", "code", "sentence")
    list_filter = ("level", "year", "code")
    search_fields = ("=area__code",)
    ordering = ("-year", "area_id", "code")

    @admin.display(description=_("原因"))
    def sentence(self, obj):
        return render(to_reason(obj), get_language() or "zh-hans")
