from django.contrib import admin

from xiaokang.core.admin import ScopedModelAdmin

from .models import Area, AreaPopulation


@admin.register(Area)
class AreaAdmin(ScopedModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_poor_village", "is_national_key_county",
                    "county_exit_year", "village_exit_year", "valid_to")
    list_filter = ("level", "is_poor_village", "is_national_key_county", "is_contiguous_area_county",
                   "is_provincial_poor_county")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    raw_id_fields = ("parent", "successor")
    ordering = ("code",)
    fieldsets = (
        (None, {"fields": ("code", "name", "level", "parent", "valid_from", "valid_to", "successor")}),
        ("县级属性", {"fields": ("is_national_key_county", "is_contiguous_area_county",
                              "is_provincial_poor_county", "county_exit_year")}),
        ("村级属性", {"fields": ("is_poor_village", "poor_village_identified_year", "village_exit_year")}),
        (None, {"fields": ("is_demo",)}),
    )


@admin.register(AreaPopulation)
class AreaPopulationAdmin(ScopedModelAdmin):
    list_display = ("area", "year", "registered_population", "rural_population", "source")
    list_filter = ("year",)
    search_fields = ("area__code", "area__name")
    list_select_related = ("area",)
    autocomplete_fields = ("area",)
    ordering = ("area_id", "year")
