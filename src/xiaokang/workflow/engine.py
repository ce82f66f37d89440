"""The approval workflow engine (审批流程引擎), DHIS2-style: steps in a fixed order, each taken by the right role
at the right level, locking the subject as it goes (policy.md §3.3, the household exit procedure).

A ``Process`` is a tuple of ``Step``s registered at import time (``register``, from an app's ``ready``).
``start`` opens an instance for a subject; ``advance`` takes the next step. Rules enforced here:

- the acting user's role must be one of the step's ``roles`` and their jurisdiction must be at the step's
  ``level`` and contain the instance's area (superusers always may) — else ``StepNotAllowed`` (HTTP 403);
- only the next step in order may be taken, once, on an open instance, on a date not before the previous
  step and not in the future; a step with ``min_days_after_previous_param`` waits that many days after the
  previous step (e.g. the notice period, 公示 ≥ 7 days, ``exit.notice_days_min``) — else ``WorkflowConflict``
  (HTTP 409);
- a rejected outcome ends the instance (state rejected); the last approved step completes it; an approved
  step with ``locks=True`` locks the subject (``is_locked``);
- concurrency: ``advance`` runs in ``transaction.atomic()`` and moves the instance on with one conditional
  ``UPDATE … WHERE id = … AND current_step = … AND state = 'open'``: of two people taking the same step at
  once, the second gets ``WorkflowConflict`` and nothing of theirs is written.

Optional per-step hooks (not part of the minimal contract, default None): ``guard(instance, step, user,
outcome, data, on)`` may raise ``WorkflowConflict`` before anything is written (e.g. an unresolved objection);
``effect(instance, record, user)`` runs after an approved step inside the same transaction (e.g. 销号 writes the
household's status); an exception from it rolls the step back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaokang.core.scoping import LEVEL_PREFIX_LENGTH

from .models import Outcome, State, StepRecord, WorkflowInstance

LEVEL_BY_LENGTH = {n: level for level, n in LEVEL_PREFIX_LENGTH.items()}
LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县级", "town": "乡镇级", "village": "村级"}


class WorkflowConflict(Exception):
    """HTTP 409: the step is out of order, already taken, the instance is closed, the subject is locked or
    already in an open instance, or a waiting period (notice) is not over. The message is in Chinese."""


class StepNotAllowed(PermissionDenied):
    """HTTP 403: the user's role or jurisdiction level may not take this step (or the instance is outside it)."""


@dataclass(frozen=True)
class Step:
    code: str                 # e.g. "appraisal"
    label: str                # label (translatable: gettext_lazy), e.g. "民主评议"
    roles: frozenset[str]     # accounts.Role values allowed to take it (superuser always allowed)
    level: str                # area level of the acting user's jurisdiction: "village" | "town" | "county" | "city"
    min_days_after_previous_param: str | None = None   # parameter key, e.g. notice period (公示 ≥ 7 days)
    locks: bool = False       # after this step the subject is locked (changes only through a change request)
    guard: Callable | None = None    # guard(instance, step, user, outcome, data, on); may raise WorkflowConflict
    effect: Callable | None = None   # effect(instance, record, user) after an approved step, same transaction


@dataclass(frozen=True)
class Process:
    code: str                 # "household_exit", "monitoring_case", "risk_elimination"
    label: str
    steps: tuple[Step, ...]   # strictly in order

    def step(self, code: str) -> Step:
        for s in self.steps:
            if s.code == code:
                return s
        raise WorkflowConflict(_("流程“%(p)s”中没有步骤 %(s)s") % {"p": self.label, "s": code})

    def index(self, code: str) -> int:
        for i, s in enumerate(self.steps):
            if s.code == code:
                return i
        raise WorkflowConflict(_("流程“%(p)s”中没有步骤 %(s)s") % {"p": self.label, "s": code})


_REGISTRY: dict[str, Process] = {}


def register(process: Process) -> Process:
    """Register a process (at import time, from ``AppConfig.ready``). Re-registering the same code replaces
    it (module reloads); step codes must be unique within the process."""
    codes = [s.code for s in process.steps]
    if len(set(codes)) != len(codes):
        raise ValueError(f"流程 {process.code} 的步骤代码重复: {codes}")
    if not process.steps:
        raise ValueError(f"流程 {process.code} 没有步骤")
    for s in process.steps:
        if s.level not in LEVEL_PREFIX_LENGTH:
            raise ValueError(f"流程 {process.code} 步骤 {s.code} 的级别无效: {s.level}")
    _REGISTRY[process.code] = process
    return process


def get_process(code: str) -> Process:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise LookupError(f"未注册的流程: {code}") from None


def processes() -> dict[str, Process]:
    return dict(_REGISTRY)


def _today() -> dt.date:
    return timezone.localdate()


def user_level(user) -> str | None:
    """The level of the user's jurisdiction (village/town/county/city/province), from its code length."""
    code = getattr(user, "area_id", None)
    return LEVEL_BY_LENGTH.get(len(code)) if code else None


def _in_jurisdiction(user, area_code: str) -> bool:
    code = getattr(user, "area_id", None)
    return bool(code) and area_code.startswith(code)


def check_allowed(step: Step, user, area_code: str) -> None:
    """Raise ``StepNotAllowed`` unless ``user`` may take ``step`` for a subject in ``area_code``."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise StepNotAllowed(_("请先登录"))
    if user.is_superuser:
        return
    if user.role not in step.roles:
        raise StepNotAllowed(_("您的角色（%(r)s）不能办理“%(s)s”") % {"r": user.get_role_display(), "s": step.label})
    if user_level(user) != step.level:
        raise StepNotAllowed(_("“%(s)s”须由%(l)s用户办理") % {"s": step.label, "l": LEVEL_LABELS[step.level]})
    if not _in_jurisdiction(user, area_code):
        raise StepNotAllowed(_("该对象不在您的管辖区域内"))


def may_take(step: Step | None, user, area_code: str) -> bool:
    if step is None:
        return False
    try:
        check_allowed(step, user, area_code)
    except StepNotAllowed:
        return False
    return True


def _subject_key(subject):
    return ContentType.objects.get_for_model(type(subject), for_concrete_model=False), subject.pk


def instances_of(subject):
    """All instances for a subject, newest first (unscoped: callers have scoped the subject)."""
    ct, pk = _subject_key(subject)
    return WorkflowInstance.objects.filter(content_type=ct, object_id=pk)


def open_instance(process_code: str, subject) -> WorkflowInstance | None:
    return instances_of(subject).filter(process=process_code, state=State.OPEN).first()


def is_locked(subject) -> bool:
    """Whether a locking step has been approved for the subject in an open or completed instance
    (a rejected instance releases its lock)."""
    if subject is None or subject.pk is None:
        return False
    return instances_of(subject).filter(locked=True, state__in=[State.OPEN, State.COMPLETED]).exists()


def start(process_code, *, subject, area_code, user, on=None) -> WorkflowInstance:
    """Open an instance of ``process_code`` for ``subject`` (area ``area_code``). Raises ``WorkflowConflict``
    when the subject already has an open instance of that process; ``LookupError`` for an unknown process;
    ``StepNotAllowed`` when the user may not take the first step (so may not start it)."""
    process = get_process(process_code)
    on = on or _today()
    if on > _today():
        raise WorkflowConflict(_("日期 %(d)s 晚于今天") % {"d": on.isoformat()})
    check_allowed(process.steps[0], user, area_code)
    ct, pk = _subject_key(subject)
    try:
        with transaction.atomic():
            if WorkflowInstance.objects.filter(process=process_code, content_type=ct, object_id=pk,
                                               state=State.OPEN).exists():
                raise WorkflowConflict(_("该对象已有办理中的“%(p)s”流程") % {"p": process.label})
            return WorkflowInstance.objects.create(
                process=process_code, content_type=ct, object_id=pk, area_code=area_code, started_on=on,
                started_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError as exc:  # a concurrent start won the partial unique index
        raise WorkflowConflict(_("该对象已有办理中的“%(p)s”流程") % {"p": process.label}) from exc


def _load(instance) -> WorkflowInstance:
    """The instance as it is in the database now (separate function so tests can simulate a race)."""
    return WorkflowInstance.objects.get(pk=instance.pk)


def notice_days(param: str, on: dt.date, area_code: str) -> int:
    """The number of days a waiting period lasts (a dated parameter, by province)."""
    from xiaokang.policy.services import current_parameters

    return int(current_parameters().value(param, on, province=area_code[:2]))


def advance(instance, step_code, *, user, outcome="approved", comment="", data=None, on=None) -> StepRecord:
    """Take step ``step_code`` of ``instance`` with ``outcome`` ("approved" | "rejected") on date ``on``
    (default today). Returns the StepRecord. Raises ``StepNotAllowed`` (403) or ``WorkflowConflict`` (409);
    nothing is written when either is raised."""
    process = get_process(instance.process)
    step = process.step(step_code)
    index = process.index(step_code)
    on = on or _today()
    if outcome not in Outcome.values:
        raise ValueError(f"未知的审批结果: {outcome!r}")
    check_allowed(step, user, instance.area_code)
    data = dict(data or {})
    with transaction.atomic():
        fresh = _load(instance)
        if fresh.state != State.OPEN:
            raise WorkflowConflict(_("流程已%(s)s，不能再办理“%(step)s”") % {
                "s": State(fresh.state).label, "step": step.label})
        current = process.steps[fresh.current_step]
        if index < fresh.current_step:
            raise WorkflowConflict(_("“%(s)s”已办理过，当前应办理“%(c)s”") % {"s": step.label, "c": current.label})
        if index > fresh.current_step:
            raise WorkflowConflict(_("步骤顺序不对：当前应办理“%(c)s”，不能办理“%(s)s”") % {
                "c": current.label, "s": step.label})
        if on > _today():
            raise WorkflowConflict(_("办理日期 %(d)s 晚于今天") % {"d": on.isoformat()})
        previous = StepRecord.objects.filter(instance_id=fresh.pk).order_by("-step_index").first()
        previous_on = previous.taken_on if previous else fresh.started_on
        if on < previous_on:
            raise WorkflowConflict(_("办理日期 %(d)s 早于上一步（%(p)s）") % {"d": on.isoformat(),
                                                                      "p": previous_on.isoformat()})
        if outcome == Outcome.APPROVED and step.min_days_after_previous_param and previous is not None:
            days = notice_days(step.min_days_after_previous_param, on, fresh.area_code)
            if (on - previous.taken_on).days < days:
                raise WorkflowConflict(_(
                    "“%(s)s”须在上一步（%(p)s，%(pd)s）满 %(n)s 天后办理，最早 %(earliest)s") % {
                    "s": step.label, "p": process.steps[previous.step_index].label,
                    "pd": previous.taken_on.isoformat(), "n": days,
                    "earliest": (previous.taken_on + dt.timedelta(days=days)).isoformat()})
        if step.guard is not None:
            step.guard(fresh, step, user, outcome, data, on)
        if outcome == Outcome.REJECTED:
            new_index, state, finished = fresh.current_step, State.REJECTED, on
        else:
            new_index = fresh.current_step + 1
            done = new_index == len(process.steps)
            state, finished = (State.COMPLETED, on) if done else (State.OPEN, None)
        locked = fresh.locked or (step.locks and outcome == Outcome.APPROVED)
        updated = WorkflowInstance.objects.filter(
            pk=fresh.pk, current_step=fresh.current_step, state=State.OPEN,
        ).update(current_step=new_index, state=state, finished_on=finished, locked=locked, updated_at=timezone.now())
        if updated != 1:
            raise WorkflowConflict(_("“%(s)s”刚刚已由他人办理，您的办理未保存，请刷新后查看") % {"s": step.label})
        record = StepRecord.objects.create(
            instance_id=fresh.pk, step=step.code, step_index=index, outcome=outcome,
            user=user if getattr(user, "is_authenticated", False) else None,
            username=user.get_username() if user is not None else "", taken_on=on, comment=comment or "",
            data=data,
        )
        fresh.current_step, fresh.state, fresh.finished_on, fresh.locked = new_index, state, finished, locked
        if outcome == Outcome.APPROVED and step.effect is not None:
            step.effect(fresh, record, user)
    for attr in ("current_step", "state", "finished_on", "locked"):
        setattr(instance, attr, getattr(fresh, attr))
    return record
