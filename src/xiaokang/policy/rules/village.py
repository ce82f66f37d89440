"""Village exit assessment (贫困村退出评估).

Sources: 中办国办《关于建立贫困退出机制的意见》(2016-04) — poverty incidence below 2% (3% in the west);
湖南省实施意见 (2016-05) — also village collective income of at least 40,000 yuan that year, and road,
water, electricity, school and clinic access (policy.md §4.1–4.2). Every number comes from the parameters.

``assess_villages`` builds two Ibis expressions — one row per village and one row per reason — over the
tables of ``xiaokang.policy.schema`` (``all_unbound_tables``). No Django import, no loop per village.

Which villages: areas of level ``village`` flagged ``is_poor_village`` (贫困村) inside the area prefix,
whose ``poor_village_identified_year`` is blank or ≤ Y. Villages that are not poor villages are not
assessed for exit (no row): the rule is about 贫困村退出.

Criteria (true, false, or null = unknown because data is missing):

- ``incidence_below``: registered poor people at year end ÷ the village's registered population
  (``AreaPopulation.registered_population`` of year Y) below the threshold. Poor people = members counted
  on 31 December (born, entered, not left: as in ``rules/household.py``) of households identified ≤ Y and
  not exited by Y (exit year blank or > Y). Compared in integers: ``poor × 10000 < threshold_bp ×
  population``, so 4 of 200 (exactly 2%) is *not* below 2%.
- ``collective_income_ok``: the village's collective income that year (``VillageYear``) ≥ the minimum.
- ``road``, ``water``, ``electricity``, ``school``, ``clinic``: as recorded on ``VillageYear``.

Verdict: ``unassessable`` with no population for the year or no ``VillageYear`` record; else ``not_met``
if any criterion is false; else ``unassessable`` if any is unknown; else ``met``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

import ibis

from ..params import Parameters, require_comparison
from .household import MET, NOT_MET, UNASSESSABLE, area_filter

RULE_VERSION = "village-exit/2016-05.1"
VERDICTS = {MET: "达到退出标准", NOT_MET: "未达到退出标准", UNASSESSABLE: "无法评估"}
CONDITIONS = (
    ("road", "has_road", "NO_ROAD"),
    ("water", "has_water", "NO_WATER"),
    ("electricity", "has_electricity", "NO_ELECTRICITY"),
    ("school", "has_school_access", "NO_SCHOOL_ACCESS"),
    ("clinic", "has_clinic", "NO_CLINIC"),
)
CRITERIA = ("incidence_below", "collective_income_ok", *(c for c, _, _ in CONDITIONS))
REASON_COLUMNS = ("area_code", "code", "numerator", "denominator", "amount", "threshold", "detail")


def percent_to_bp(value) -> int:
    """A percentage parameter (2, 3, 90, "1.5") as integer basis points (200, 300, 9000, 150)."""
    from decimal import Decimal

    bp = Decimal(str(value)) * 100
    if bp != bp.to_integral_value():
        raise ValueError(f"百分比最多两位小数: {value!r}")
    return int(bp)


@dataclass(frozen=True)
class VillageRuleParams:
    year: int
    province: str
    incidence_max_bp: int
    collective_income_min_fen: int
    rule_version: str = RULE_VERSION

    @classmethod
    def resolve(cls, params: Parameters, year: int, province: str) -> "VillageRuleParams":
        on = dt.date(year, 12, 31)
        require_comparison(params, "village.incidence_max", "less_than")
        require_comparison(params, "village.collective_income_min", "at_least")
        return cls(
            year=year, province=province,
            incidence_max_bp=percent_to_bp(params.value("village.incidence_max", on, province)),
            collective_income_min_fen=int(round(float(params.value("village.collective_income_min", on, province)) * 100)),
        )


def _null(t):
    return ibis.null(t)


def area_reason(wide, cond_, code, numerator=None, denominator=None, amount=None, threshold=None, detail=None):
    """Reason rows of an area rule: the rows of ``wide`` where ``cond_`` holds, as
    (area_code, code, numerator, denominator, amount, threshold, detail). ``numerator`` … ``threshold``
    name a column of ``wide`` or give a constant."""
    rows = wide.filter(cond_)

    def col(x):
        if x is None:
            return _null("int64")
        return (rows[x] if isinstance(x, str) else ibis.literal(x, "int64")).cast("int64")

    return rows.select(
        area_code=rows.area_code, code=ibis.literal(code, "string"),
        numerator=col(numerator), denominator=col(denominator), amount=col(amount), threshold=col(threshold),
        detail=ibis.literal(detail, "string") if detail is not None else _null("string"),
    )


def poor_people_by_area(tables: dict, year: int, area_prefix: str = "", exited: bool = False):
    """Members counted on 31 December of households identified ≤ ``year``, grouped by village code.

    ``exited=False``: households not exited by ``year`` (remaining poor); ``True``: exited by ``year``.
    Returns a table ``p_area_code``, ``people``.
    """
    ref = ibis.date(year, 12, 31)
    h, m = tables["household"], tables["member"]
    gone = h.exit_year.notnull() & (h.exit_year <= year)
    hh = h.filter(h.identified_year <= year, gone if exited else ~gone, area_filter(h.area_code, area_prefix))
    hh = hh.select(hh_id=hh.id, hh_area_code=hh.area_code)
    mm = m.filter(
        m.birth_date <= ref,
        m.entered_on.isnull() | (m.entered_on <= ref),
        m.left_on.isnull() | (m.left_on > ref),
    )
    j = mm.inner_join(hh, mm.household_id == hh.hh_id)
    return j.group_by(p_area_code=j.hh_area_code).aggregate(people=j.count().cast("int64"))


def _all(*criteria):
    any_false = ibis.or_(*[~c.fill_null(True) for c in criteria])
    any_null = ibis.or_(*[c.isnull() for c in criteria])
    return any_false, any_null


def assess_villages(tables: dict, p: VillageRuleParams, area_prefix: str = ""):
    """Assess every poor village in an area for ``p.year``. Returns ``(results, reasons)``.

    results: area_code, year, poor_people, population, incidence_max_bp, collective_income_fen,
    collective_income_min_fen, the criteria (boolean or null), verdict.
    reasons: area_code, code, numerator, denominator, amount, threshold, detail.
    """
    year = p.year
    a, pop, vy = tables["area"], tables["population"], tables["village_year"]
    v = a.filter(
        a.level == "village", a.is_poor_village.fill_null(False), area_filter(a.code, area_prefix),
        a.poor_village_identified_year.isnull() | (a.poor_village_identified_year <= year),
    ).select(v_code=a.code)
    poor = poor_people_by_area(tables, year, area_prefix)
    pp = pop.filter(pop.year == year).select(pop_area_code=pop.area_code, population=pop.registered_population)
    cond = vy.filter(vy.year == year)
    cond = cond.select(
        vy_area_code=cond.area_code, collective_income_fen=cond.collective_income_fen,
        **{name: cond[col] for name, col, _ in CONDITIONS},
    )
    w = (v.left_join(poor, v.v_code == poor.p_area_code)
         .left_join(pp, v.v_code == pp.pop_area_code)
         .left_join(cond, v.v_code == cond.vy_area_code))
    n_poor = w.people.fill_null(0).cast("int64")
    population = w.population.cast("int64")
    has_pop = population.notnull() & (population > 0)
    has_cond = w.vy_area_code.notnull()
    incidence_ok = ibis.cases(
        (~has_pop, _null("boolean")),
        else_=n_poor * 10000 < population * ibis.literal(p.incidence_max_bp, "int64"),
    )
    income = w.collective_income_fen
    income_ok = ibis.cases(
        (income.isnull(), _null("boolean")),
        else_=income >= ibis.literal(p.collective_income_min_fen, "int64"),
    )
    conds = {name: w[name] for name, _, _ in CONDITIONS}
    criteria = [incidence_ok, income_ok, *conds.values()]
    any_false, any_null = _all(*criteria)
    verdict = ibis.cases(
        (~has_pop | ~has_cond, UNASSESSABLE), (any_false, NOT_MET), (any_null, UNASSESSABLE), else_=MET,
    )
    wide = w.select(
        area_code=w.v_code,
        year=ibis.literal(year, "int64"),
        poor_people=n_poor,
        population=population,
        incidence_max_bp=ibis.literal(p.incidence_max_bp, "int64"),
        collective_income_fen=income.cast("int64"),
        collective_income_min_fen=ibis.literal(p.collective_income_min_fen, "int64"),
        incidence_below=incidence_ok,
        collective_income_ok=income_ok,
        **conds,
        verdict=verdict,
        has_pop=has_pop,
        has_cond=has_cond,
    )
    results = wide.drop("has_pop", "has_cond")

    reason = partial(area_reason, wide)

    c = wide
    parts = [
        reason(~c.has_pop, "NO_POPULATION", amount=year),
        reason(~c.has_cond, "NO_CONDITIONS", amount=year),
        reason(~c.incidence_below.fill_null(True), "INCIDENCE_NOT_BELOW", numerator="poor_people",
               denominator="population", threshold="incidence_max_bp", detail="village"),
        reason(~c.collective_income_ok.fill_null(True), "COLLECTIVE_INCOME_BELOW",
               amount="collective_income_fen", threshold="collective_income_min_fen"),
        reason(c.has_cond & c.collective_income_fen.isnull(), "COLLECTIVE_INCOME_UNKNOWN"),
    ]
    for name, _, code in CONDITIONS:
        parts.append(reason(~c[name].fill_null(True), code))
        parts.append(reason(c.has_cond & c[name].isnull(), "CONDITION_UNKNOWN", detail=name))
    reasons = ibis.union(*parts, distinct=False)
    return results, reasons
