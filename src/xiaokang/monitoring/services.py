"""Writes of the monitoring app (防止返贫动态监测): warnings, cases, measures, income checks, risk elimination.

- ``run_warnings`` / ``run_consolidation`` run the set-based rules of ``policy.rules.monitoring`` in the
  registry database (compiled by ``policy.engine``) and store the results with ``INSERT … SELECT`` in one
  transaction: warnings only where none exists yet for the household, year and kind (re-running never
  duplicates, and verified or dismissed warnings are left as they are); classes replace the year's classes.
- A verified warning opens a monitoring case (or joins the household's open case) and takes the
  verification step (核实) of the ``monitoring_case`` workflow; the other steps — village appraisal and
  notice, township review (after ``monitoring.notice_days``), county approval — go through
  ``take_case_step``. ``propose_elimination`` starts ``risk_elimination`` only when the conditions of
  policy.md §6.5 hold; county approval re-checks them and marks the case eliminated (帮扶消除/自然消除), or,
  for a household without labour capacity, keeps it under tracking (持续跟踪).

Every function runs in one transaction with the acting user as keyword; bad input raises
``ValidationError`` (400) with a Chinese message naming the field, workflow problems ``WorkflowConflict``
(409) or ``StepNotAllowed`` (403). Nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import ibis
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaokang.core.scoping import area_prefix
from xiaokang.policy import engine
from xiaokang.policy.params import ParameterError, Parameters
from xiaokang.policy.rules import monitoring as rule
from xiaokang.policy.schema import MONITORING_WARNING, monitoring_unbound_tables
from xiaokang.policy.services import code_range, current_parameters, registry_provinces
from xiaokang.registry.models import Household, Member
from xiaokang.workflow import engine as wf

from .models import (
    CaseMeasure, CaseStatus, Category, Channel, ConsolidationClass, EarlyWarning, EliminationKind, HouseholdEvent,
    IncomeCheck, MonitoringCase, RiskType, WarningStatus,
)

MONITORING_CASE = "monitoring_case"
RISK_ELIMINATION = "risk_elimination"
OPEN_STATUSES = (CaseStatus.VERIFYING, CaseStatus.MONITORED, CaseStatus.TRACKING)
# Default risk type (致贫/返贫风险) suggested for a case opened from a warning of each kind.
WARNING_RISK = {
    "MEDICAL_COST": RiskType.ILLNESS, "LABOURER_DEATH": RiskType.LACK_LABOUR, "NEW_DISABILITY": RiskType.DISABILITY,
    "DISASTER": RiskType.DISASTER, "JOB_LOSS": RiskType.EMPLOYMENT, "INCOME_DROP": RiskType.OTHER,
    "INCOME_IN_RANGE": RiskType.OTHER,
}


class EliminationRefused(wf.WorkflowConflict):
    """Risk elimination refused (HTTP 409): ``reasons`` lists each unmet condition in Chinese."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__(_("风险消除条件未满足：") + "；".join(reasons))


# ------------------------------------------------------------------------------------------ the rules


@dataclass
class MonitoringRun:
    year: int
    area: str
    new_warnings: dict = field(default_factory=dict)   # kind -> warnings created by this run
    warnings: dict = field(default_factory=dict)       # kind -> all warnings of the year in the area
    classes: dict = field(default_factory=dict)        # class -> households
    seconds: float = 0.0


@lru_cache(maxsize=128)
def compiled_warnings(p: rule.MonitoringRuleParams, prefix: str, vendor: str):
    """SQL of the new warnings (the rule minus the warnings already stored for that household, year, kind)."""
    found = rule.warnings(monitoring_unbound_tables(), p, prefix)
    stored = ibis.table(MONITORING_WARNING, name=EarlyWarning._meta.db_table)
    stored = stored.filter(stored.year == p.year).select(s_household_id=stored.household_id, s_kind=stored.kind)
    new = found.anti_join(stored, [found.household_id == stored.s_household_id, found.kind == stored.s_kind])
    return engine.to_sql(new, vendor), tuple(new.columns)


@lru_cache(maxsize=128)
def compiled_classes(p: rule.MonitoringRuleParams, prefix: str, vendor: str):
    expr = rule.consolidation_classes(monitoring_unbound_tables(), p, prefix)
    return engine.to_sql(expr, vendor), tuple(expr.columns)


def resolve(year: int, prefix: str, params: Parameters | None = None) -> list[rule.MonitoringRuleParams]:
    """The rule parameters of each province in the area (raises ParameterUnconfirmed/ParameterError)."""
    params = params or current_parameters()
    return [rule.MonitoringRuleParams.resolve(params, year, prov) for prov in registry_provinces(prefix)]


def run_warnings(year: int, area=None, params: Parameters | None = None) -> dict:
    """Store the warnings of ``year`` in ``area`` that are not stored yet. Returns {kind: created}."""
    prefix = area_prefix(area)
    rule_params = resolve(year, prefix, params)  # fail before writing
    now = timezone.now()
    lo, hi = code_range(prefix)
    with transaction.atomic(), connection.cursor() as cur:
        before = _count_by_kind(year, lo, hi)
        for p in rule_params:
            scope = prefix if len(prefix) >= 2 else p.province
            sql, cols = compiled_warnings(p, scope, connection.vendor)
            engine.insert_select(cur, connection.vendor, EarlyWarning._meta.db_table, sql,
                                 {"rule_version": p.rule_version, "status": WarningStatus.NEW.value, "reason": "",
                                  "decided_by_username": "", "created_at": now}, columns=list(cols))
        after = _count_by_kind(year, lo, hi)
    return {k: after.get(k, 0) - before.get(k, 0) for k in rule.WARNING_KINDS}


def _count_by_kind(year, lo, hi) -> dict:
    rows = (EarlyWarning.objects.filter(year=year, area_code__gte=lo, area_code__lte=hi)
            .values("kind").annotate(n=Count("id")))
    return {r["kind"]: r["n"] for r in rows}


def run_consolidation(year: int, area=None, params: Parameters | None = None) -> dict:
    """Compute the consolidation class of every exited household of ``area`` for ``year`` (replacing the
    year's classes there). Returns {class: households}."""
    prefix = area_prefix(area)
    rule_params = resolve(year, prefix, params)
    now = timezone.now()
    lo, hi = code_range(prefix)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {ConsolidationClass._meta.db_table} WHERE year = %s AND area_code >= %s "
                    f"AND area_code <= %s", [year, lo, hi])
        for p in rule_params:
            scope = prefix if len(prefix) >= 2 else p.province
            sql, cols = compiled_classes(p, scope, connection.vendor)
            engine.insert_select(cur, connection.vendor, ConsolidationClass._meta.db_table, sql,
                                 {"rule_version": rule.CLASS_RULE_VERSION, "assessed_at": now}, columns=list(cols))
    rows = (ConsolidationClass.objects.filter(year=year, area_code__gte=lo, area_code__lte=hi)
            .values("klass").annotate(n=Count("id")))
    counts = {r["klass"]: r["n"] for r in rows}
    return {k: counts.get(k, 0) for k in rule.CLASSES}


def run_monitoring(year: int, area=None, params: Parameters | None = None) -> MonitoringRun:
    """Warnings, then consolidation classes (which read the year's warnings), for ``year`` and ``area``."""
    t0 = dt.datetime.now()
    params = params or current_parameters()
    prefix = area_prefix(area)
    new = run_warnings(year, area, params)
    classes = run_consolidation(year, area, params)
    lo, hi = code_range(prefix)
    total = _count_by_kind(year, lo, hi)
    return MonitoringRun(year, prefix, new, {k: total.get(k, 0) for k in rule.WARNING_KINDS}, classes,
                         (dt.datetime.now() - t0).total_seconds())


# ------------------------------------------------------------------------------------------ events


def record_event(*, household, kind, occurred_on, user, amount=None, member=None, source="", note="") -> HouseholdEvent:
    """Record an event of a household (事件登记). Raises ValidationError naming the field."""
    event = HouseholdEvent(household=household, kind=kind, occurred_on=occurred_on, amount=amount, member=member,
                           source=source, note=note, recorded_by=user if getattr(user, "is_authenticated", False) else None,
                           area_code=household.area_id)
    with transaction.atomic():
        event.full_clean()
        event.save()
    return event


# ------------------------------------------------------------------------------------------ warnings → cases


def default_category(household, kinds) -> str:
    """Suggested 监测对象类别: 突发严重困难户 when only event warnings fired (income not inside the range);
    脱贫不稳定户 for an exited household; else 边缘易致贫户 (policy.md §6.2)."""
    if kinds and "INCOME_IN_RANGE" not in kinds and "INCOME_DROP" not in kinds:
        return Category.SUDDEN
    return Category.UNSTABLE if household.exit_year else Category.EDGE


def _user(user):
    return user if getattr(user, "is_authenticated", False) else None


def open_case(*, household, category, risk_types, channel, user, on=None, note="") -> MonitoringCase:
    """Open a monitoring case (发现登记) and start its ``monitoring_case`` workflow.

    Raises ValidationError (category, risk types, channel), WorkflowConflict when the household already has
    an open case, StepNotAllowed when the user may not take the verification step.
    """
    on = on or timezone.localdate()
    if isinstance(risk_types, (list, tuple)):
        risk_types = ",".join(risk_types)
    with transaction.atomic():
        if MonitoringCase.objects.filter(household=household, status__in=OPEN_STATUSES).exists():
            raise wf.WorkflowConflict(_("户 %(h)s 已有未消除的监测对象记录") % {"h": household.household_number})
        case = MonitoringCase(household=household, area_code=household.area_id, category=category,
                              risk_types=risk_types, channel=channel, opened_on=on, note=note, created_by=_user(user))
        case.full_clean()
        case.save()
        wf.start(MONITORING_CASE, subject=case, area_code=case.area_code, user=user, on=on)
    return case


def verify_warning(warning: EarlyWarning, *, user, category=None, risk_types=None, channel=Channel.SECTOR,
                   on=None, comment="") -> MonitoringCase:
    """Verify a warning (核实属实): it opens a monitoring case — or joins the household's open case — and the
    case's verification step (核实) is taken. Returns the case.

    Raises WorkflowConflict when the warning was already decided, StepNotAllowed for a user who may not
    verify (village level of the household's area), ValidationError for a bad category or risk type.
    """
    on = on or timezone.localdate()
    with transaction.atomic():
        w = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
        if w.status != WarningStatus.NEW:
            raise wf.WorkflowConflict(_("该预警已处理（%(s)s）") % {"s": w.get_status_display()})
        household = w.household
        case = MonitoringCase.objects.filter(household=household, status__in=OPEN_STATUSES).first()
        if case is None:
            case = open_case(household=household, category=category or default_category(household, [w.kind]),
                             risk_types=risk_types or WARNING_RISK[w.kind], channel=channel, user=user, on=on,
                             note=f"由预警生成：{rule.WARNING_KINDS.get(w.kind, w.kind)}")  # stored: Chinese
            instance = wf.open_instance(MONITORING_CASE, case)
            wf.advance(instance, "verification", user=user, comment=comment, data={"warning": w.pk}, on=on)
        updated = EarlyWarning.objects.filter(pk=w.pk, status=WarningStatus.NEW).update(
            status=WarningStatus.VERIFIED, decided_by=_user(user), decided_by_username=user.get_username(),
            decided_at=timezone.now(), case=case)
        if updated != 1:
            raise wf.WorkflowConflict(_("该预警刚刚已由他人处理"))
    warning.refresh_from_db()
    return case


def dismiss_warning(warning: EarlyWarning, *, user, reason: str) -> EarlyWarning:
    """Dismiss a warning (核实排除) with a reason, by whoever may take the verification step (the household's
    village, or a superuser). Raises StepNotAllowed, ValidationError without a reason, WorkflowConflict when
    the warning was already decided."""
    wf.check_allowed(wf.get_process(MONITORING_CASE).steps[0], user, warning.area_code)  # the village verifies
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写排除理由")})
    with transaction.atomic():
        updated = EarlyWarning.objects.filter(pk=warning.pk, status=WarningStatus.NEW).update(
            status=WarningStatus.DISMISSED, decided_by=_user(user), decided_by_username=user.get_username(),
            decided_at=timezone.now(), reason=reason[:300])
        if updated != 1:
            raise wf.WorkflowConflict(_("该预警已处理"))
    warning.refresh_from_db()
    return warning


# ------------------------------------------------------------------------------------------ case workflow


def take_case_step(case: MonitoringCase, process: str, step: str, *, user, outcome="approved", comment="",
                   data=None, on=None):
    """Take the next step of the case's open ``process`` (monitoring_case or risk_elimination).

    A rejection of the identification ends it with the case 未纳入监测; a rejected elimination leaves
    the case monitored. Raises WorkflowConflict (no open instance, order, notice period, conditions) or
    StepNotAllowed.
    """
    with transaction.atomic():
        instance = wf.open_instance(process, case)
        if instance is None:
            raise wf.WorkflowConflict(_("该监测对象没有办理中的“%(p)s”流程") % {"p": wf.get_process(process).label})
        record = wf.advance(instance, step, user=user, outcome=outcome, comment=comment, data=data, on=on)
    case.refresh_from_db()
    return record


def identification_guard(instance, step, user, outcome, data, on):
    """Every identification step: a rejection (不通过) ends the case as 未纳入监测.

    Runs inside the engine's transaction just before the step is written (the engine's hooks run only
    approved steps through ``effect``), so the status changes exactly when the rejection is recorded —
    also when the step is taken from the workflow app's generic pages."""
    if outcome != "rejected":
        return
    case = MonitoringCase.objects.select_for_update().get(pk=instance.object_id)
    case.status = CaseStatus.NOT_INCLUDED
    case.save()  # through save(): the history keeps the change


def add_measure(case: MonitoringCase, *, kind, description, started_on, user) -> CaseMeasure:
    """Link an assistance measure (帮扶措施) to a case. Raises ValidationError naming the field."""
    measure = CaseMeasure(case=case, kind=kind, description=(description or "").strip(), started_on=started_on,
                          recorded_by=_user(user))
    if case.status in (CaseStatus.NOT_INCLUDED, CaseStatus.ELIMINATED):
        raise wf.WorkflowConflict(_("该监测对象已%(s)s，不能再登记帮扶措施") % {"s": case.get_status_display()})
    with transaction.atomic():
        measure.full_clean()
        measure.save()
    return measure


def add_income_check(case: MonitoringCase, *, checked_on, per_capita_income, user, note="") -> IncomeCheck:
    """Record a per-capita income check (收入核查, 元/人·年). Raises ValidationError naming the field."""
    if case.status in (CaseStatus.NOT_INCLUDED, CaseStatus.ELIMINATED):
        raise wf.WorkflowConflict(_("该监测对象已%(s)s，不能再登记收入核查") % {"s": case.get_status_display()})
    check = IncomeCheck(case=case, checked_on=checked_on, per_capita_income=per_capita_income, note=note,
                        recorded_by=_user(user))
    with transaction.atomic():
        check.full_clean()
        if check.per_capita_income is not None and check.per_capita_income < 0:
            raise ValidationError({"per_capita_income": _("人均纯收入不能为负")})
        check.save()
    return check


# ------------------------------------------------------------------------------------------ risk elimination


def has_labour_capacity(household, on: dt.date, params: Parameters | None = None) -> bool:
    """Whether any member counted on ``on`` has labour capacity (``monitoring.labour_capacity_codes``)."""
    params = params or current_parameters()
    codes = [str(c) for c in params.value("monitoring.labour_capacity_codes", on, household.area_id[:2])]
    return (Member.objects.filter(household=household, labour_capacity__in=codes, birth_date__lte=on)
            .filter(Q(entered_on__isnull=True) | Q(entered_on__lte=on)).exclude(left_on__lte=on).exists())


def income_checks_with_range(case: MonitoringCase, params: Parameters | None = None):
    """``[(checked_on, per_capita_fen, range_fen)]`` of the case's checks, each against its year's range.

    Raises ParameterUnconfirmed when a year's range is not confirmed (enter it first)."""
    params = params or current_parameters()
    province = case.area_code[:2]
    ranges = {}
    out = []
    for day, pc in case.income_checks.order_by("checked_on").values_list("checked_on", "per_capita_income"):
        if day.year not in ranges:
            ranges[day.year] = rule.monitoring_range(params, day.year, province)[1]
        out.append((day, int(pc * 100), ranges[day.year]))
    return out


def elimination_problems(case: MonitoringCase, data: dict, on: dt.date, params: Parameters | None = None) -> list[str]:
    """The unmet conditions of risk elimination (policy.md §6.5) on ``on``, in Chinese; empty when all hold.

    ``data``: kind (assisted 帮扶消除 / natural 自然消除), spending_resolved (刚性支出已解决),
    guarantees_secure (两不愁三保障巩固), water_secure (饮水安全巩固) — confirmed by the proposer.
    """
    params = params or current_parameters()
    problems = []
    kind = data.get("kind")
    if kind not in EliminationKind.values:
        problems.append(_("请选择风险消除方式（帮扶消除或自然消除）"))
    months = int(params.value("monitoring.stable_months", on, case.area_code[:2]))
    try:
        checks = income_checks_with_range(case, params)
    except ParameterError as exc:
        problems.append(str(exc))
        checks = None
    if checks is not None:
        ok, since = rule.income_stable_for(checks, months, on)
        if not checks:
            problems.append(_("尚无收入核查记录"))
        elif since is None:
            problems.append(_("最近一次收入核查人均纯收入未高于监测范围"))
        elif not ok:
            problems.append(_("人均纯收入自 %(d)s 起高于监测范围，不足 %(n)s 个月（最早 %(e)s）") % {
                "d": since.isoformat(), "n": months, "e": rule.add_months(since, months).isoformat()})
    if not data.get("spending_resolved"):
        problems.append(_("刚性支出（医疗、教育等）未确认已稳定解决"))
    if not data.get("guarantees_secure"):
        problems.append(_("两不愁三保障未确认巩固"))
    if not data.get("water_secure"):
        problems.append(_("饮水安全未确认巩固"))
    if kind == EliminationKind.ASSISTED and not case.measures.exists():
        problems.append(_("帮扶消除须至少登记一项帮扶措施"))
    return problems


def propose_elimination(case: MonitoringCase, *, user, kind, spending_resolved=False, guarantees_secure=False,
                        water_secure=False, on=None, comment=""):
    """Propose risk elimination (风险消除申请, village): refused with ``EliminationRefused`` (409) unless the
    case is monitored and every condition holds; then ``risk_elimination`` starts and its proposal step is
    taken with the data. Returns the workflow instance."""
    on = on or timezone.localdate()
    data = {"kind": kind, "spending_resolved": bool(spending_resolved), "guarantees_secure": bool(guarantees_secure),
            "water_secure": bool(water_secure)}
    with transaction.atomic():
        case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.MONITORED:
            raise wf.WorkflowConflict(_("只有监测帮扶中的对象可以申请风险消除（当前：%(s)s）") % {
                "s": case.get_status_display()})
        problems = elimination_problems(case, data, on)
        if problems:
            raise EliminationRefused(problems)
        instance = wf.start(RISK_ELIMINATION, subject=case, area_code=case.area_code, user=user, on=on)
        wf.advance(instance, "proposal", user=user, comment=comment, data=data, on=on)
    return instance


def _proposal_data(instance) -> dict:
    record = instance.records.filter(step="proposal").first()
    return dict(record.data) if record else {}


def elimination_guard(instance, step, user, outcome, data, on):
    """County approval of risk elimination: refused (409) unless the conditions still hold on that date."""
    if outcome != "approved":
        return
    case = MonitoringCase.objects.get(pk=instance.object_id)
    problems = elimination_problems(case, _proposal_data(instance), on)
    if problems:
        raise EliminationRefused(problems)


def elimination_effect(instance, record, user):
    """County approval: the case is eliminated (with kind and date) — or, for a household without labour
    capacity, kept under tracking (持续跟踪, policy.md §6.5). The base record stays."""
    case = MonitoringCase.objects.select_for_update().get(pk=instance.object_id)
    if has_labour_capacity(case.household, record.taken_on):
        case.status = CaseStatus.ELIMINATED
        case.elimination_kind = _proposal_data(instance).get("kind", "")
        case.eliminated_on = record.taken_on
    else:
        case.status = CaseStatus.TRACKING
        case.tracking_since = record.taken_on
    case.save()


def identification_effect(instance, record, user):
    """County approval of identification (县级审定): the case is monitored from that date."""
    case = MonitoringCase.objects.select_for_update().get(pk=instance.object_id)
    case.status = CaseStatus.MONITORED
    case.identified_on = record.taken_on
    case.save()


def current_instance(case: MonitoringCase, process: str):
    """The newest instance of ``process`` for the case (open or closed), or None."""
    return wf.instances_of(case).filter(process=process).order_by("-id").first()
