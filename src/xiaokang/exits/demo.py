"""Demo data for village exit: ``VillageYear`` rows for the demo's poor villages and the 2014–2020 runs.

Synthetic: a poor village meets every condition (road, water, electricity, school, clinic) and has a
collective income of 40,000–59,000 yuan from its exit year; before that the clinic is missing and the
collective income is 8,000–27,000 yuan. Villages without an exit year never meet them.
"""

from __future__ import annotations

from decimal import Decimal

from xiaokang.areas.models import Area

from .models import VillageYear
from .services import run_village_assessment


def load_village_years(years, area_prefix: str) -> int:
    villages = list(Area.objects.filter(level="village", is_poor_village=True, is_demo=True,
                                        code__startswith=area_prefix).values_list("code", "village_exit_year"))
    VillageYear.objects.filter(area_id__in=[c for c, _ in villages]).delete()
    rows = []
    for code, exit_year in villages:
        spread = int(code[-3:]) % 20 * 1000
        for year in years:
            met = exit_year is not None and year >= exit_year
            rows.append(VillageYear(
                area_id=code, year=year, collective_income=Decimal(40000 + spread if met else 8000 + spread),
                has_road=True, has_water=True, has_electricity=True, has_school_access=True, has_clinic=met,
                source="演示数据（虚构）",
            ))
    VillageYear.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def assess_demo_villages(years, area_prefix: str) -> list:
    load_village_years(years, area_prefix)
    return [run_village_assessment(year, area_prefix) for year in years]
