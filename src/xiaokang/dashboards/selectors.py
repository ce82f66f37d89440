"""Reads of the dashboard (看板): yearly figures of one area, by the next level down, from aggregate queries.

Every figure comes from a handful of set-based queries (GROUP BY on an area-code prefix with
``Substr``, ``Count``/``Sum`` with conditional filters), each scoped through ``.within(area)``: there is
no loop over households and the number of queries does not depend on the amount of data.

Definitions (for a year Y, 2014–2020):

- registered households (建档立卡户): ``identified_year <= Y``;
- exited households (已脱贫): registered and ``exit_year <= Y``; remaining (未脱贫) = registered − exited.
  ``return_year`` (返贫) is not taken into account, as in ``xiaokang.policy.selectors``;
- people (人数): the members counted on 31 December of Y (年底家庭人口数: born, entered and not yet left
  by then), counted from ``registry.Member`` — the same definition the assessment rule uses for
  ``HouseholdAssessment.member_count``, so for an assessed year the two agree; counting members also
  gives figures for the years that have not been assessed (the 2014–2020 trend);
- population (户籍人口): ``AreaPopulation.registered_population`` of year Y summed over the villages
  of the area (an area with no village rows falls back to its own row);
- poverty incidence (贫困发生率, %) = remaining poor people ÷ population × 100, 2 decimals, half-up;
- verdicts: stored ``HouseholdAssessment`` rows of year Y (the batch run), counted by verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Length, Substr

from xiaokang.areas.models import Area, AreaPopulation, Level
from xiaokang.core.scoping import area_prefix
from xiaokang.policy.models import HouseholdAssessment
from xiaokang.policy.selectors import incidence_percent
from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE
from xiaokang.registry import codes
from xiaokang.registry.models import Household, Member

YEARS = list(range(2014, 2021))
FIRST_YEAR, LAST_YEAR = YEARS[0], YEARS[-1]
NEXT_LENGTH = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}
LEVEL_BY_LENGTH = {2: Level.PROVINCE, 4: Level.CITY, 6: Level.COUNTY, 9: Level.TOWN, 12: Level.VILLAGE}
VERDICT_ORDER = (MET, NOT_MET, UNASSESSABLE)


def child_length(area) -> int:
    """Code length of the level below ``area`` (None = whole dataset -> provinces; a village -> itself)."""
    return NEXT_LENGTH[len(area_prefix(area))]


def latest_assessed_year(area) -> int:
    """The latest year (2014–2020) with stored assessments in the area, else 2020."""
    year = HouseholdAssessment.objects.within(area).filter(
        year__gte=FIRST_YEAR, year__lte=LAST_YEAR).aggregate(y=Max("year"))["y"]
    return year or LAST_YEAR


def _exited(year: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}exit_year__lte": year})


def _registered(year: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}identified_year__lte": year})


def _counted_members(year: int) -> Q:
    """Members counted on 31 December (年底家庭人口数), as in ``policy.rules.household``."""
    ref = dt.date(year, 12, 31)
    return (
        Q(birth_date__lte=ref)
        & (Q(entered_on__isnull=True) | Q(entered_on__lte=ref))
        & (Q(left_on__isnull=True) | Q(left_on__gt=ref))
    )


def household_counts(area, length: int) -> dict[str, dict[int, dict]]:
    """{group code: {year: {"households", "exited_households"}}} for 2014–2020 — one query."""
    aggs = {}
    for y in YEARS:
        aggs[f"h{y}"] = Count("id", filter=_registered(y))
        aggs[f"x{y}"] = Count("id", filter=_registered(y) & _exited(y))
    rows = (Household.objects.within(area).filter(identified_year__lte=LAST_YEAR)
            .annotate(g=Substr("area_id", 1, length)).values("g").annotate(**aggs).order_by())
    return {r["g"]: {y: {"households": r[f"h{y}"], "exited_households": r[f"x{y}"]} for y in YEARS} for r in rows}


def people_counts(area, length: int) -> dict[str, dict[int, dict]]:
    """{group code: {year: {"people", "exited_people"}}}: members counted at year end — one query."""
    aggs = {}
    for y in YEARS:
        counted = _registered(y, "household__") & _counted_members(y)
        aggs[f"p{y}"] = Count("id", filter=counted)
        aggs[f"x{y}"] = Count("id", filter=counted & _exited(y, "household__"))
    rows = (Member.objects.within(area).filter(household__identified_year__lte=LAST_YEAR)
            .annotate(g=Substr("household__area_id", 1, length)).values("g").annotate(**aggs).order_by())
    return {r["g"]: {y: {"people": r[f"p{y}"], "exited_people": r[f"x{y}"]} for y in YEARS} for r in rows}


def population_counts(area, length: int) -> tuple[dict[str, dict[int, int]], dict[int, int]]:
    """Registered population by group and year, and the area total by year — one query.

    Village rows (12 digits) are summed; a group (or the area) without village rows uses its own row.
    """
    own_len = len(area_prefix(area))
    rows = (AreaPopulation.objects.within(area).filter(year__gte=FIRST_YEAR, year__lte=LAST_YEAR)
            .annotate(n=Length("area_id"), g=Substr("area_id", 1, length))
            .filter(Q(n=12) | Q(n=length) | Q(n=own_len))
            .values("year", "n", "g").annotate(total=Sum("registered_population")).order_by())
    village: dict[str, dict[int, int]] = {}
    own: dict[str, dict[int, int]] = {}
    area_own: dict[int, int] = {}
    for r in rows:
        if r["n"] == 12:
            village.setdefault(r["g"], {})[r["year"]] = r["total"]
        if r["n"] == length and length != 12:
            own.setdefault(r["g"], {})[r["year"]] = r["total"]
        if r["n"] == own_len and own_len:
            area_own[r["year"]] = area_own.get(r["year"], 0) + r["total"]
    by_group: dict[str, dict[int, int]] = {}
    for g in set(village) | set(own):
        by_group[g] = {y: village.get(g, {}).get(y, own.get(g, {}).get(y)) for y in YEARS}
    totals: dict[int, int] = {}
    for y in YEARS:
        v = [village[g][y] for g in village if y in village[g]]
        if v:
            totals[y] = sum(v)
        elif y in area_own:
            totals[y] = area_own[y]
        else:
            o = [own[g][y] for g in own if y in own[g]]
            if o and len(o) == len(own):
                totals[y] = sum(o)
    return by_group, totals


def cause_counts(area, year: int) -> list[dict]:
    """Registered households of ``year`` by main cause (主要致贫原因), largest first — one query."""
    labels = dict(codes.PovertyCause.choices)
    rows = (Household.objects.within(area).filter(identified_year__lte=year)
            .values("main_cause").annotate(n=Count("id")).order_by("-n", "main_cause"))
    return [{"code": r["main_cause"], "name": labels.get(r["main_cause"], r["main_cause"]), "value": r["n"]}
            for r in rows]


def verdict_counts(area, year: int) -> dict[str, dict]:
    """Stored assessments of ``year`` by verdict: {verdict: {"households", "people"}} — one query."""
    rows = (HouseholdAssessment.objects.within(area).filter(year=year)
            .values("verdict").annotate(n=Count("id"), people=Sum("member_count")).order_by())
    out = {v: {"households": 0, "people": 0} for v in VERDICT_ORDER}
    for r in rows:
        out[r["verdict"]] = {"households": r["n"], "people": r["people"] or 0}
    return out


def child_areas(area, length: int) -> dict[str, tuple[str, bool]]:
    """{code: (name, retired)} of the areas one level below (the area itself for a village) — one query."""
    if isinstance(area, Area) and length == len(area.code):
        return {area.code: (area.name, area.valid_to is not None)}
    qs = Area.objects.within(area).annotate(n=Length("code")).filter(n=length)
    rows = qs.values_list("code", "name", "valid_to").order_by("code")
    return {code: (name, valid_to is not None) for code, name, valid_to in rows}


@dataclass
class Figures:
    households: int = 0
    exited_households: int = 0
    people: int = 0
    exited_people: int = 0
    population: int | None = None

    @property
    def remaining_households(self) -> int:
        return self.households - self.exited_households

    @property
    def remaining_people(self) -> int:
        return self.people - self.exited_people

    @property
    def incidence(self) -> Decimal | None:
        return incidence_percent(self.remaining_people, self.population)


@dataclass
class AreaRow:
    code: str
    name: str
    figures: Figures
    retired: bool = False


@dataclass
class Dashboard:
    area: Area | None
    year: int
    child_level: str
    total: Figures
    rows: list[AreaRow]
    trend: list[dict]
    causes: list[dict]
    verdicts: dict[str, dict]
    assessed: int = 0
    notes: list[str] = field(default_factory=list)

    def chart_data(self) -> dict:
        """Plain data for the charts (json_script)."""
        return {
            "year": self.year,
            "trend": [{"year": t["year"], "remaining_people": t["remaining_people"],
                       "incidence": float(t["incidence"]) if t["incidence"] is not None else None}
                      for t in self.trend],
            "causes": [{"name": c["name"], "value": c["value"]} for c in self.causes],
            "areas": [{"name": r.name, "remaining_people": r.figures.remaining_people,
                       "incidence": float(r.figures.incidence) if r.figures.incidence is not None else None}
                      for r in self.rows],
            "verdicts": {k: v["households"] for k, v in self.verdicts.items()},
        }


def dashboard(area, year: int) -> Dashboard:
    """All figures of the dashboard for ``area`` (Area, or None = whole dataset) and ``year``.

    Seven queries, whatever the size of the data: households, members, population, child areas,
    causes, verdicts (and none per row).
    """
    length = child_length(area)
    hh = household_counts(area, length)
    pp = people_counts(area, length)
    pop_by_group, pop_total = population_counts(area, length)
    names = child_areas(area, length)
    codes_ = list(names) + sorted((set(hh) | set(pp)) - set(names))
    missing = [c for c in codes_ if c not in names]
    if missing:  # data under a code missing from the area table (only then: one more query)
        names.update({c: (n, True) for c, n in Area.objects.filter(code__in=missing).values_list("code", "name")})
    rows = []
    for code in codes_:
        h = hh.get(code, {}).get(year, {})
        p = pp.get(code, {}).get(year, {})
        f = Figures(households=h.get("households", 0), exited_households=h.get("exited_households", 0),
                    people=p.get("people", 0), exited_people=p.get("exited_people", 0),
                    population=pop_by_group.get(code, {}).get(year))
        name, retired = names.get(code, (code, True))
        if retired and not (f.households or f.people or code in hh or code in pp):
            continue  # a retired code (e.g. 株洲县 430221 → 渌口区 430212) is listed only while it holds data
        rows.append(AreaRow(code=code, name=name, figures=f, retired=retired))
    trend = []
    total = None
    for y in YEARS:
        f = Figures(
            households=sum(v[y]["households"] for v in hh.values()),
            exited_households=sum(v[y]["exited_households"] for v in hh.values()),
            people=sum(v[y]["people"] for v in pp.values()),
            exited_people=sum(v[y]["exited_people"] for v in pp.values()),
            population=pop_total.get(y),
        )
        trend.append({"year": y, "remaining_households": f.remaining_households,
                      "remaining_people": f.remaining_people, "population": f.population,
                      "incidence": f.incidence})
        if y == year:
            total = f
    verdicts = verdict_counts(area, year)
    return Dashboard(
        area=area if isinstance(area, Area) else None, year=year,
        child_level=LEVEL_BY_LENGTH[length], total=total or Figures(), rows=rows, trend=trend,
        causes=cause_counts(area, year), verdicts=verdicts,
        assessed=sum(v["households"] for v in verdicts.values()),
    )


def quality_counts(findings, area, lang: str = "zh") -> dict:
    """Open data-quality findings (疑点数据, ``xiaokang.quality``) by rule and by the next level down.

    ``findings``: a ``Finding`` queryset already scoped to the user and narrowed to ``area``; ``lang``: the
    language of the rule titles.
    """
    from xiaokang.quality import selectors as quality

    prefix = area.code if area is not None else ""
    by_rule = [r for r in quality.counts_by_rule(findings, lang) if r["open"] or r["confirmed"]]
    by_area = quality.counts_by_area(findings.filter(status="open"), prefix)
    return {"by_rule": by_rule, "by_area": by_area, "open": sum(r["open"] for r in by_rule)}


def work_counts(pairings, problems, area, today) -> list[dict]:
    """Cadre visits and supervision problems (帮扶走访, 督查问题) of ``area`` by the next level down, for the
    dashboard — counts only, so every role of the area reads them. They describe the work now, not an
    assessment year: this calendar year's visits (the year of ``today``) and the problems as they stand.

    ``pairings``: ``Pairing`` rows already scoped to the user and narrowed to ``area``; ``problems``: the same
    of ``Problem``. Per child area: households currently paired (结对户), how many of them had a visit this
    year (已走访) and the share (覆盖率, %, one decimal); problems still open (未销号: to rectify or awaiting
    revisit, whenever found), of them overdue (逾期: to rectify past the deadline), problems found this year
    (本年发现) and closed this year (本年销号). Rows of areas with neither pairings nor problems are left out.
    """
    from django.db.models import Exists, OuterRef

    from xiaokang.quality.selectors import child_length
    from xiaokang.registry.models import Visit

    n = child_length(area.code if area is not None else "")
    start, end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    current = pairings.filter(started_on__lte=today).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
    visited = Exists(Visit.objects.filter(household_id=OuterRef("household_id"), visited_on__gte=start,
                                          visited_on__lte=end))
    paired = {r["child"]: r for r in (
        current.annotate(child=Substr("household__area_id", 1, n)).values("child").order_by("child")
        .annotate(paired=Count("household_id", distinct=True),
                  visited=Count("household_id", distinct=True, filter=Q(visited))))}
    this_year = Q(found_on__gte=start, found_on__lte=end)
    closed_this_year = Q(status="closed", revisited_on__gte=start, revisited_on__lte=end)
    found = {r["child"]: r for r in (
        problems.filter(~Q(status="closed") | this_year | closed_this_year)
        .annotate(child=Substr("area_code", 1, n)).values("child").order_by("child")
        .annotate(open=Count("id", filter=~Q(status="closed")),
                  overdue=Count("id", filter=Q(status="assigned", deadline__lt=today)),
                  found=Count("id", filter=this_year), closed=Count("id", filter=closed_this_year)))}
    codes = sorted(set(paired) | set(found))
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    rows = []
    for code in codes:
        p, f = paired.get(code, {}), found.get(code, {})
        rows.append({"code": code, "name": names.get(code, code), "paired": p.get("paired", 0),
                     "visited": p.get("visited", 0),
                     "coverage": f"{p['visited'] * 100 / p['paired']:.1f}" if p.get("paired") else None,
                     **{k: f.get(k, 0) for k in ("open", "overdue", "found", "closed")}})
    return rows
