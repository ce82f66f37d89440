"""Reads of the exits app: one year's stored village / county assessments with their reasons and rates.

Callers pass querysets already scoped (``for_user`` / ``within``): nothing here widens the scope.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xiaokang.policy.reasons import Reason, render
from xiaokang.policy.reasons_exit import bp_percent, percent
from xiaokang.policy.rules import county as county_rule
from xiaokang.policy.rules import village as village_rule

from .models import CountyAssessment, ExitReason, VillageAssessment

REASON_ORDER = [
    "NO_POPULATION", "NO_CONDITIONS", "NO_EVALUATION", "INCIDENCE_NOT_BELOW", "COLLECTIVE_INCOME_BELOW",
    "COLLECTIVE_INCOME_UNKNOWN", "NO_ROAD", "NO_WATER", "NO_ELECTRICITY", "NO_SCHOOL_ACCESS", "NO_CLINIC",
    "CONDITION_UNKNOWN", "RURAL_INCOME_BELOW", "RURAL_INCOME_UNKNOWN", "WRONG_EXIT_RATE_NOT_BELOW",
    "MISSED_RATE_NOT_BELOW", "COMPREHENSIVE_INCIDENCE_NOT_BELOW", "APPROVAL_BELOW", "EVALUATION_INCOMPLETE",
]


# The rule modules are Django-free and keep the Chinese labels; the pages show them in the user's language.
VILLAGE_VERDICT_LABELS = {village_rule.MET: _("达到退出标准"), village_rule.NOT_MET: _("未达到退出标准"),
                          village_rule.UNASSESSABLE: _("无法评估")}
COUNTY_VERDICT_LABELS = {county_rule.MET: _("达到摘帽标准"), county_rule.NOT_MET: _("未达到摘帽标准"),
                         county_rule.UNASSESSABLE: _("无法评估")}


def to_reason(r: ExitReason) -> Reason:
    return Reason(code=r.code, amount=r.amount, threshold=r.threshold, detail=r.detail, year=r.year,
                  numerator=r.numerator, denominator=r.denominator)


def _reasons(reason_qs, level: str, year: int, codes: list[str]) -> dict[str, list[Reason]]:
    order = {c: i for i, c in enumerate(REASON_ORDER)}
    out: dict[str, list[Reason]] = {}
    for r in reason_qs.filter(level=level, year=year, area_id__in=codes):
        out.setdefault(r.area_id, []).append(to_reason(r))
    for v in out.values():
        v.sort(key=lambda r: (order.get(r.code, 99), r.detail or ""))
    return out


def village_rows(assessments, reasons, year: int, lang: str = "zh") -> list[dict]:
    """Stored village assessments of ``year`` (a scoped queryset) as dicts with rendered reasons."""
    rows = list(assessments.filter(year=year).select_related("area").order_by("area_id"))
    by_area = _reasons(reasons, "village", year, [a.area_id for a in rows])
    out = []
    for a in rows:
        rs = by_area.get(a.area_id, [])
        out.append({
            "code": a.area_id, "name": a.area.name if a.area else a.area_id, "year": a.year,
            "poor_people": a.poor_people, "population": a.population,
            "incidence": percent(a.poor_people, a.population), "incidence_max": bp_percent(a.incidence_max_bp),
            "collective_income": a.collective_income, "collective_income_min": a.collective_income_min,
            **{c: getattr(a, c) for c in village_rule.CRITERIA},
            "verdict": a.verdict, "verdict_label": VILLAGE_VERDICT_LABELS[a.verdict],
            "reasons": [render(r, lang) for r in rs], "reason_codes": [r.code for r in rs],
            "assessment": a,
        })
    return out


def county_rows(assessments, reasons, year: int, lang: str = "zh") -> list[dict]:
    """Stored county assessments of ``year`` with every rate as numerator, denominator and percent."""
    rows = list(assessments.filter(year=year).select_related("area").order_by("area_id"))
    by_area = _reasons(reasons, "county", year, [a.area_id for a in rows])
    out = []
    for a in rows:
        rs = by_area.get(a.area_id, [])
        rates = [
            ("incidence", _("贫困发生率"), a.remaining_poor, a.rural_population, "<", a.incidence_max_bp, a.incidence_below),
            ("wrong_exit", _("错退率"), a.wrongly_exited, a.sampled_exited, "<", a.wrong_exit_max_bp, a.wrong_exit_ok),
            ("missed", _("漏评率"), a.missed, a.sampled_nonregistered, "<", a.missed_max_bp, a.missed_ok),
            ("comprehensive", _("综合贫困发生率"), a.comprehensive_people, a.rural_population, "<",
             a.comprehensive_max_bp, a.comprehensive_ok),
            ("approval", _("群众认可度"), a.approving_households, a.surveyed_households, "≥", a.approval_min_bp,
             a.approval_ok),
        ]
        out.append({
            "code": a.area_id, "name": a.area.name if a.area else a.area_id, "year": a.year,
            "rates": [{"key": k, "label": label, "numerator": n, "denominator": d, "percent": percent(n, d),
                       "comparison": cmp, "threshold": bp_percent(t), "ok": ok}
                      for k, label, n, d, cmp, t, ok in rates],
            "rural_income": a.rural_income, "income_path": a.income_path, "rural_income_ok": a.rural_income_ok,
            "exited_people": a.exited_people, "nonregistered_population": a.nonregistered_population,
            **{c: getattr(a, c) for c in county_rule.CRITERIA},
            "verdict": a.verdict, "verdict_label": COUNTY_VERDICT_LABELS[a.verdict],
            "reasons": [render(r, lang) for r in rs], "reason_codes": [r.code for r in rs],
            "assessment": a,
        })
    return out


__all__ = ["village_rows", "county_rows", "VillageAssessment", "CountyAssessment", "ExitReason"]
