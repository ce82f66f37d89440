"""Reads of the policy app: yearly roll-ups of the stored household assessments by area.

All figures come from aggregate queries (GROUP BY on an area-code prefix), never a loop per household.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr

from xiaokang.areas.models import Area, AreaPopulation

from .models import HouseholdAssessment
from .rules.household import MET, NOT_MET, UNASSESSABLE


def incidence_percent(poor_people: int, population: int | None) -> Decimal | None:
    """Poverty incidence (贫困发生率, %) = poor people ÷ population × 100, rounded half-up to 2 decimals.

    None when the population is unknown or zero. Source: policy.md §4.1 (建档立卡贫困人口 ÷ 总人口).
    """
    if not population:
        return None
    return (Decimal(poor_people) * 100 / Decimal(population)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def area_summary(year: int, area=None, group_length: int = 6) -> list[dict]:
    """Per-area summary of one year's assessment, grouped by the first ``group_length`` code digits.

    Returns one dict per area: code, name, households (registered by that year), people (members counted
    on 31 December), exited_households, exited_people, remaining_households, remaining_people (exit
    year blank or later), population (户籍人口 of its villages that year), incidence (%, Decimal or None),
    met, not_met, unassessable (verdict counts). Sorted by code.
    """
    remaining = Q(household__exit_year__isnull=True) | Q(household__exit_year__gt=year)
    exited = Q(household__exit_year__lte=year)
    rows = (
        HouseholdAssessment.objects.filter(year=year).within(area)
        .annotate(group=Substr("area_id", 1, group_length)).values("group")
        .annotate(
            households=Count("id"), people=Sum("member_count"),
            exited_households=Count("id", filter=exited), exited_people=Sum("member_count", filter=exited),
            remaining_households=Count("id", filter=remaining),
            remaining_people=Sum("member_count", filter=remaining),
            met=Count("id", filter=Q(verdict=MET)), not_met=Count("id", filter=Q(verdict=NOT_MET)),
            unassessable=Count("id", filter=Q(verdict=UNASSESSABLE)),
        ).order_by("group")
    )
    pops = dict(
        AreaPopulation.objects.filter(year=year, area__level="village").within(area)
        .annotate(group=Substr("area_id", 1, group_length)).values("group")
        .annotate(total=Sum("registered_population")).values_list("group", "total")
    )
    rows = list(rows)
    names = dict(Area.objects.filter(code__in=[r["group"] for r in rows]).values_list("code", "name"))
    out = []
    for r in rows:
        code = r.pop("group")
        for k in ("people", "exited_people", "remaining_people"):
            r[k] = r[k] or 0
        pop = pops.get(code)
        out.append({"code": code, "name": names.get(code, code), **r, "population": pop,
                    "incidence": incidence_percent(r["remaining_people"], pop)})
    return out


def county_summary(year: int, area=None) -> list[dict]:
    """``area_summary`` by county (6-digit code)."""
    return area_summary(year, area, 6)


def total_row(rows: list[dict], code: str = "", name: str = "合计") -> dict:
    """Sum of summary rows (incidence recomputed from the sums)."""
    keys = ["households", "people", "exited_households", "exited_people", "remaining_households",
            "remaining_people", "met", "not_met", "unassessable"]
    total = {k: sum(r[k] for r in rows) for k in keys}
    pops = [r["population"] for r in rows]
    pop = sum(pops) if pops and all(p is not None for p in pops) else None
    return {"code": code, "name": name, **total, "population": pop,
            "incidence": incidence_percent(total["remaining_people"], pop)}
