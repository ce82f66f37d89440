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


# County exit (贫困县摘帽) inputs of the demo: synthetic rural income and one special evaluation.
DEMO_RURAL_INCOME_2017 = 8_600  # 元/人·年, synthetic; grows 9 % a year
DEMO_SAMPLE = {  # kind -> (households, people each) in the exit evaluation of each poor county
    "correctly_exited": (180, 3), "wrongly_exited": (1, 3), "poor": (4, 3), "missed": (1, 3), "non_registered": (220, 4),
}
DEMO_DISAPPROVING = 5  # of the surveyed households, these answer 不认可


def load_county_evaluations(years, area_prefix: str) -> int:
    """Synthetic ``CountyYear`` incomes for ``years`` and one evaluation sample per poor county.

    The evaluation is recorded for the year before the county's exit year (the demo's 炎陵 and 茶陵:
    2017): 错退率 1/181 people-weighted, 漏评率 1/221, 群众认可度 (406−5)/406 — all within the limits.
    Returns the number of sampled households written.
    """
    from .models import CountyYear, EvaluationSample

    counties = list(Area.objects.filter(level="county", code__startswith=area_prefix, county_exit_year__isnull=False)
                    .filter(models_q_poor()).values_list("code", "county_exit_year"))
    codes = [c for c, _ in counties]
    CountyYear.objects.filter(area_id__in=codes).delete()
    EvaluationSample.objects.filter(area_id__in=codes).delete()
    CountyYear.objects.bulk_create([
        CountyYear(area_id=code, year=year, source="演示数据（虚构）",
                   rural_income=Decimal(round(DEMO_RURAL_INCOME_2017 * 1.09 ** (year - 2017), 2)))
        for code in codes for year in years
    ])
    samples = []
    for code, exit_year in counties:
        n = 0
        for kind, (households, people) in DEMO_SAMPLE.items():
            for _ in range(households):
                n += 1
                samples.append(EvaluationSample(area_id=code, year=exit_year - 1, household_ref=f"示例{n:04d}",
                                                people=people, kind=kind, approves=n > DEMO_DISAPPROVING))
    EvaluationSample.objects.bulk_create(samples, batch_size=2000)
    return len(samples)


def models_q_poor():
    from django.db.models import Q

    return Q(is_national_key_county=True) | Q(is_contiguous_area_county=True) | Q(is_provincial_poor_county=True)


def assess_demo_counties(years, area_prefix: str) -> list:
    from .services import run_county_assessment

    load_county_evaluations(years, area_prefix)
    return [run_county_assessment(year, area_prefix) for year in years]
