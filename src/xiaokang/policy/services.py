"""Writes of the policy app: run the yearly household assessment in the registry database.

``run_household_assessment`` evaluates every household of an area for a year with the set-based rule
(``rules.household.assess_households``) and stores the results with ``INSERT … SELECT`` in one
transaction, replacing that year's earlier results for the area. ``assess_household_live`` runs the
same rule for one household (the household page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction
from django.db.models.functions import Substr
from django.utils import timezone

from xiaokang.core.cache import REGISTRY, bump
from xiaokang.core.scoping import area_prefix
from xiaokang.registry.models import Household, Member

from . import engine
from .models import AssessmentReason, HouseholdAssessment, ParameterValue as ParameterValueRow
from .params import Parameters, ParameterValue, file_parameters
from .reasons import Reason
import ibis

from .rules.household import (
    RULE_VERSION, HouseholdRuleParams, assess_households, build_stages, reasons_from, results_from,
)
from .schema import unbound_tables


def current_parameters() -> Parameters:
    """The shipped parameter files with the administrator-entered values merged over them."""
    entered = [
        ParameterValue(name=r.name, value=r.value, effective_from=r.effective_from, unit=r.unit, status=r.status,
                       source=r.source, province=r.province or None)
        for r in ParameterValueRow.objects.all()
    ]
    return file_parameters().with_entered(entered) if entered else file_parameters()


@dataclass
class AssessmentRun:
    year: int
    area: str
    households: int
    reasons: int
    seconds: float


# A household id no registry holds: the live query is compiled once with it and the real id put in its place.
_SENTINEL = -918273645


@lru_cache(maxsize=256)
def compiled_rule(p: HouseholdRuleParams, prefix: str, vendor: str, one_household: bool = False):
    """The household rule compiled to ``vendor``'s SQL, cached (compiling takes ~0.5 s; running is fast).

    Returns ``(results_sql, results_columns, reasons_sql, reasons_columns)``. With ``one_household``
    the SQL selects the household whose id replaces the sentinel (see ``assess_household_live``).
    """
    results, reasons = assess_households(unbound_tables(), p, prefix,
                                         household_ids=[_SENTINEL] if one_household else None)
    return (engine.to_sql(results, vendor), tuple(results.columns),
            engine.to_sql(reasons, vendor), tuple(reasons.columns))


TMP_FACTS, TMP_WIDE = "xk_tmp_member_facts", "xk_tmp_household_wide"


@lru_cache(maxsize=256)
def compiled_batch(p: HouseholdRuleParams, prefix: str, vendor: str):
    """The rule compiled in stages for a batch run, cached.

    Returns ``(facts_sql, wide_sql, results_sql, results_columns, reasons_sql, reasons_columns)``: the
    first two read the registry and are stored as temporary tables ``TMP_FACTS``/``TMP_WIDE``; the
    results and the reasons are then read from those, so the members are grouped only once.
    """
    facts, wide = build_stages(unbound_tables(), p, prefix)
    t_facts, t_wide = ibis.table(facts.schema(), name=TMP_FACTS), ibis.table(wide.schema(), name=TMP_WIDE)
    results, reasons = results_from(t_wide), reasons_from(t_wide, t_facts, p)
    return (engine.to_sql(facts, vendor), engine.to_sql(wide, vendor), engine.to_sql(results, vendor),
            tuple(results.columns), engine.to_sql(reasons, vendor), tuple(reasons.columns))


def registry_provinces(prefix: str) -> list[str]:
    """Provinces (2-digit codes) to resolve parameters for: the prefix's own, or every one in the registry."""
    if len(prefix) >= 2:
        return [prefix[:2]]
    return sorted(set(Household.objects.annotate(p=Substr("area_id", 1, 2)).values_list("p", flat=True).distinct()))


def code_range(prefix: str) -> tuple[str, str]:
    """(low, high) area codes of an area prefix: prefix ≤ code ≤ prefix 9…9 (a range the index serves)."""
    return prefix, prefix + "9" * (12 - len(prefix))


def run_household_assessment(year: int, area=None, params: Parameters | None = None) -> AssessmentRun:
    """Assess all households of ``area`` (Area, code or None = all) for ``year`` and store the results.

    Raises ``ParameterUnconfirmed`` (nothing written) when a parameter for the year is unconfirmed.
    """
    started = timezone.now()
    t0 = dt.datetime.now()
    prefix = area_prefix(area)
    params = params or current_parameters()
    provinces = registry_provinces(prefix)
    rule_params = [HouseholdRuleParams.resolve(params, year, prov) for prov in provinces]  # fail before writing
    total = reasons_total = 0
    with transaction.atomic(), connection.cursor() as cur:
        bump(REGISTRY)  # cached summaries (dashboard, list counts) are recomputed after this commits
        lo, hi = code_range(prefix)
        cur.execute(
            f"DELETE FROM {AssessmentReason._meta.db_table} WHERE year = %s AND household_id IN "
            f"(SELECT id FROM {Household._meta.db_table} WHERE area_code >= %s AND area_code <= %s)",
            [year, lo, hi],
        )
        cur.execute(
            f"DELETE FROM {HouseholdAssessment._meta.db_table} WHERE year = %s AND area_code >= %s AND area_code <= %s",
            [year, lo, hi],
        )
        for p in rule_params:
            scope = prefix if len(prefix) >= 2 else p.province
            facts_sql, wide_sql, results_sql, results_cols, reasons_sql, reasons_cols = compiled_batch(
                p, scope, connection.vendor)
            engine.materialize(cur, connection.vendor, TMP_FACTS, facts_sql)
            engine.materialize(cur, connection.vendor, TMP_WIDE, wide_sql)
            total += engine.insert_select(
                cur, connection.vendor, HouseholdAssessment._meta.db_table, results_sql,
                {"rule_version": RULE_VERSION, "assessed_at": started}, columns=list(results_cols),
            )
            reasons_total += engine.insert_select(cur, connection.vendor, AssessmentReason._meta.db_table,
                                                  reasons_sql, {"year": year}, columns=list(reasons_cols))
            engine.drop_temporary(cur, TMP_FACTS)
            engine.drop_temporary(cur, TMP_WIDE)
    return AssessmentRun(year, prefix, total, reasons_total, (dt.datetime.now() - t0).total_seconds())


def assess_household_live(household: Household, year: int, params: Parameters | None = None):
    """Run the household rule for one household and year (not stored).

    Returns ``(result_dict, [Reason, ...])``. Raises ``ParameterUnconfirmed`` like the batch run.
    """
    params = params or current_parameters()
    p = HouseholdRuleParams.resolve(params, year, household.area_id[:2])
    results_sql, _, reasons_sql, _ = compiled_rule(p, "", connection.vendor, one_household=True)
    if connection.vendor == "postgresql":
        rows = _fetch_prepared(results_sql, household.pk)
        reason_rows = _fetch_prepared(reasons_sql, household.pk)
    else:
        sentinel, pk = str(_SENTINEL), str(int(household.pk))
        with connection.cursor() as cur:
            rows = engine.fetch(cur, connection.vendor, results_sql.replace(sentinel, pk))
            reason_rows = engine.fetch(cur, connection.vendor, reasons_sql.replace(sentinel, pk))
    result = rows[0] if rows else None
    return result, to_reasons(reason_rows, year)


def assess_household_live_years(household: Household, years, params: Parameters | None = None,
                                member_names: dict | None = None) -> dict:
    """``assess_household_live`` for several years at once: ``{year: (result_dict, [Reason, ...])}``, or
    ``{year: ParameterError}`` for a year whose parameters are missing or unconfirmed.

    On PostgreSQL the years' rules run as two prepared statements (results, reasons: each the years'
    one-household queries joined by ``UNION ALL``) instead of two per year. ``member_names`` (id → name)
    saves looking the names of the reasons' members up."""
    from .params import ParameterError

    params = params or current_parameters()
    out: dict = {}
    compiled = []
    for year in years:
        try:
            p = HouseholdRuleParams.resolve(params, year, household.area_id[:2])
        except ParameterError as exc:
            out[year] = exc
            continue
        compiled.append((year, compiled_rule(p, "", connection.vendor, one_household=True)))
    if not compiled:
        return out
    if connection.vendor != "postgresql":
        for year, _c in compiled:
            out[year] = assess_household_live(household, year, params)
        return out
    rows = _fetch_prepared(_union_years(tuple((y, c[0]) for y, c in compiled)), household.pk)
    reason_rows = _fetch_prepared(_union_years(tuple((y, c[2]) for y, c in compiled)), household.pk)
    for year, _c in compiled:
        result = next((r for r in rows if r["xk_year"] == year), None)
        if result is not None:
            result = {k: v for k, v in result.items() if k != "xk_year"}
        out[year] = (result, to_reasons([r for r in reason_rows if r["xk_year"] == year], year, member_names))
    return out


@lru_cache(maxsize=256)
def _union_years(parts: tuple) -> str:
    """One query over the years: ``SELECT <year> AS xk_year, q.* FROM (<that year's SQL>) q UNION ALL …``."""
    return " UNION ALL ".join(f"SELECT {int(year)} AS xk_year, q{int(year)}.* FROM ({sql}) AS q{int(year)}"
                              for year, sql in parts)


def _fetch_prepared(sql: str, household_id: int) -> list[dict]:
    """The one-household rule SQL run as a prepared statement on the registry's PostgreSQL connection
    (``engine.fetch_prepared``): planning it costs PostgreSQL 1.5–2.5 ms, five times running it for one
    household; prepared once per connection, each later household page skips it (0.35 ms instead of
    3.2 ms per year at 1 M households). The sentinel id becomes the bound parameter."""
    connection.ensure_connection()
    return engine.fetch_prepared(connection.connection, sql, {str(_SENTINEL): int(household_id)})


def to_reasons(rows, year: int, member_names: dict | None = None) -> list[Reason]:
    """Reason rows (dicts or AssessmentReason objects) to ``Reason`` with member names looked up once
    (or taken from ``member_names``, id → name, when it has them all)."""
    def get(r, k):
        return r[k] if isinstance(r, dict) else getattr(r, k if k != "member_id" else "member_id")

    member_ids = {get(r, "member_id") for r in rows if get(r, "member_id")}
    if member_names is not None and member_ids <= member_names.keys():
        names = member_names
    else:
        names = dict(Member.objects.filter(pk__in=member_ids).values_list("pk", "name")) if member_ids else {}
    order = {c: i for i, c in enumerate(REASON_ORDER)}
    out = [
        Reason(code=get(r, "code"), member_name=names.get(get(r, "member_id")), amount=get(r, "amount"),
               threshold=get(r, "threshold"), detail=get(r, "detail"), year=year)
        for r in rows
    ]
    return sorted(out, key=lambda r: (order.get(r.code, 99), r.member_name or "", r.detail or ""))


REASON_ORDER = [
    "NO_MEMBERS", "NO_INCOME", "INCOME_NOT_ABOVE", "FOOD_INSECURE", "FOOD_UNKNOWN", "CLOTHING_INSECURE",
    "CLOTHING_UNKNOWN", "EDU_DROPOUT", "EDU_STATUS_MISSING", "MED_NO_BASIC_INSURANCE",
    "MED_NO_SERIOUS_ILLNESS_INSURANCE", "MED_UNKNOWN", "HOUSING_BEFORE_RENOVATION", "HOUSING_UNSAFE",
    "HOUSING_UNKNOWN", "WATER_QUANTITY", "WATER_QUALITY", "WATER_CONVENIENCE", "WATER_GUARANTEE", "WATER_UNKNOWN",
]


def warm_up(years=range(2014, 2021)) -> int:
    """Compile the one-household rule for ``years`` and every province in the registry's areas.

    Compiling takes ~0.5 s per year; ``xiaokang serve`` calls this once in the server's parent process
    so that the workers (forked after it) answer their first household page without compiling.
    Years whose parameters are not confirmed are skipped. Returns the number of rules compiled.
    """
    from xiaokang.areas.models import Area

    from .params import ParameterError

    params = current_parameters()
    provinces = sorted(set(Area.objects.filter(level="province").values_list("code", flat=True)))
    n = 0
    for province in provinces:
        for year in years:
            try:
                p = HouseholdRuleParams.resolve(params, year, province)
            except ParameterError:
                continue
            compiled_rule(p, "", connection.vendor, one_household=True)
            n += 1
    return n
