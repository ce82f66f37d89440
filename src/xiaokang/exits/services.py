"""Writes of the exits app: run the village and county exit assessments in the registry database.

Like ``policy.services.run_household_assessment``: the rule (``policy.rules.village`` / ``county``) is one
Ibis expression over all villages or counties of an area, compiled by ``policy.engine`` for the
connection's dialect and stored with ``INSERT … SELECT`` in one transaction, replacing that year's
earlier results (and reasons) of the area. Parameters are resolved first: an unconfirmed parameter
(Hunan's 2018/2019 income path) raises ``ParameterUnconfirmed`` before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction
from django.db.models.functions import Substr
from django.utils import timezone

from xiaokang.areas.models import Area
from xiaokang.core.scoping import area_prefix
from xiaokang.policy import engine
from xiaokang.policy.params import Parameters
from xiaokang.policy.rules import county as county_rule
from xiaokang.policy.rules import village as village_rule
from xiaokang.policy.schema import all_unbound_tables
from xiaokang.policy.services import current_parameters

from .models import CountyAssessment, ExitReason, VillageAssessment


@dataclass
class ExitRun:
    level: str
    year: int
    area: str
    assessed: int
    reasons: int
    seconds: float


@lru_cache(maxsize=128)
def compiled_village_rule(p: village_rule.VillageRuleParams, prefix: str, vendor: str):
    results, reasons = village_rule.assess_villages(all_unbound_tables(), p, prefix)
    return (engine.to_sql(results, vendor), tuple(results.columns), engine.to_sql(reasons, vendor),
            tuple(reasons.columns))


@lru_cache(maxsize=128)
def compiled_county_rule(p: county_rule.CountyRuleParams, prefix: str, vendor: str):
    results, reasons = county_rule.assess_counties(all_unbound_tables(), p, prefix)
    return (engine.to_sql(results, vendor), tuple(results.columns), engine.to_sql(reasons, vendor),
            tuple(reasons.columns))


def _provinces(prefix: str, level: str) -> list[str]:
    if len(prefix) >= 2:
        return [prefix[:2]]
    return sorted(set(Area.objects.filter(level=level).annotate(p=Substr("code", 1, 2))
                      .values_list("p", flat=True).distinct()))


def _run(level, model, resolve, compiled, year, area, params):
    started = timezone.now()
    t0 = dt.datetime.now()
    prefix = area_prefix(area)
    params = params or current_parameters()
    rule_params = [resolve(params, year, prov) for prov in _provinces(prefix, level)]  # fail before writing
    lo, hi = prefix, prefix + "9" * (12 - len(prefix))
    total = reasons = 0
    version = rule_params[0].rule_version if rule_params else ""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {ExitReason._meta.db_table} WHERE level = %s AND year = %s "
                    f"AND area_code >= %s AND area_code <= %s", [level, year, lo, hi])
        cur.execute(f"DELETE FROM {model._meta.db_table} WHERE year = %s AND area_code >= %s AND area_code <= %s",
                    [year, lo, hi])
        for p in rule_params:
            scope = prefix if len(prefix) >= 2 else p.province
            results_sql, results_cols, reasons_sql, reasons_cols = compiled(p, scope, connection.vendor)
            total += engine.insert_select(cur, connection.vendor, model._meta.db_table, results_sql,
                                          {"rule_version": version, "assessed_at": started},
                                          columns=list(results_cols))
            reasons += engine.insert_select(cur, connection.vendor, ExitReason._meta.db_table, reasons_sql,
                                            {"level": level, "year": year}, columns=list(reasons_cols))
    return ExitRun(level, year, prefix, total, reasons, (dt.datetime.now() - t0).total_seconds())


def run_village_assessment(year: int, area=None, params: Parameters | None = None) -> ExitRun:
    """Assess every poor village of ``area`` (Area, code or None = all) for ``year`` and store the results."""
    return _run("village", VillageAssessment, village_rule.VillageRuleParams.resolve, compiled_village_rule,
                year, area, params)


def run_county_assessment(year: int, area=None, params: Parameters | None = None) -> ExitRun:
    """Assess every poor county of ``area`` for ``year`` and store the results (三率一度 included)."""
    return _run("county", CountyAssessment, county_rule.CountyRuleParams.resolve, compiled_county_rule,
                year, area, params)
