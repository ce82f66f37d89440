"""Writes of the workflow app: household exit instances and steps (single and bulk), notice objections and
change requests (变更申请). Each function runs in one transaction with the acting user as a keyword; errors:
``WorkflowConflict`` (409), ``StepNotAllowed`` (403), ``django.core.exceptions.ValidationError`` (400, bad input).
Source: policy.md §3.3 (exit procedure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaokang.accounts.models import Role
from xiaokang.core.audit import current_channel
from xiaokang.registry.models import Household

from . import engine
from .engine import StepNotAllowed, WorkflowConflict, check_allowed, user_level
from .models import ChangeRequest, Objection, State, WorkflowInstance
from .processes import HOUSEHOLD_EXIT

CHANGE_REQUEST_ROLES = frozenset({Role.VILLAGE_ADMIN.value, Role.TOWN_ADMIN.value})
CHANGE_DECISION_ROLES = frozenset({Role.COUNTY_ADMIN.value})
OBJECTION_ROLES = frozenset({Role.VILLAGE_ADMIN.value, Role.TOWN_ADMIN.value})


def household_label(household) -> str:
    return household.household_number


def start_household_exit(household, *, user, on=None) -> WorkflowInstance:
    """Open the exit process (贫困户退出) for a household that is still poor. Raises ``WorkflowConflict`` when it
    has exited already or has an open exit instance, ``StepNotAllowed`` unless a village administrator of its
    village (or a superuser)."""
    if household.poverty_status == "exited":
        raise WorkflowConflict(_("户 %(n)s 已脱贫，不能再发起退出流程") % {"n": household.household_number})
    return engine.start(HOUSEHOLD_EXIT, subject=household, area_code=household.area_id, user=user, on=on)


def take_step(instance, step_code, *, user, outcome="approved", comment="", data=None, on=None):
    """One step of one instance (the engine's ``advance``)."""
    return engine.advance(instance, step_code, user=user, outcome=outcome, comment=comment, data=data, on=on)


class BulkConflict(WorkflowConflict):
    """Some of the selected items could not take the step: nothing was written. ``errors`` is a list of
    (label, status, reason) — status 409 (order, period, objections…) or 403 (role, level)."""

    def __init__(self, errors):
        self.errors = errors
        lines = "；".join(f"{label}：{reason}" for label, _status, reason in errors)
        super().__init__(_("批量办理未执行（须全部可办理）：%(l)s") % {"l": lines})


@dataclass
class BulkResult:
    records: list


def bulk_take_step(instances, step_code, *, user, outcome="approved", comment="", on=None) -> BulkResult:
    """Take the same step for every instance, all or nothing: if any item is refused, nothing is written and
    ``BulkConflict`` lists each refused item with its reason."""
    instances = list(instances)
    if not instances:
        raise ValidationError(_("未选择任何贫困户"))
    labels = _subject_labels(instances)
    errors, records = [], []
    with transaction.atomic():
        for inst in instances:
            try:
                records.append(engine.advance(inst, step_code, user=user, outcome=outcome, comment=comment,
                                              on=on))
            except StepNotAllowed as exc:
                errors.append((labels.get(inst.pk, str(inst.pk)), 403, str(exc)))
            except WorkflowConflict as exc:
                errors.append((labels.get(inst.pk, str(inst.pk)), 409, str(exc)))
        if errors:
            transaction.set_rollback(True)
    if errors:
        for inst in instances:  # the in-memory objects moved on with the rolled-back steps
            inst.refresh_from_db()
        raise BulkConflict(errors)
    return BulkResult(records)


def _subject_labels(instances) -> dict[int, str]:
    """Instance id -> household number (one query) for household instances."""
    ids = {i.object_id for i in instances if i.process == HOUSEHOLD_EXIT}
    numbers = dict(Household._base_manager.filter(pk__in=ids).values_list("pk", "household_number"))
    return {i.pk: numbers.get(i.object_id, str(i.object_id)) for i in instances}


# ------------------------------------------------------------------------------------ notice objections


def _check_role(user, roles, area_code, what):
    if user.is_superuser:
        return
    if user.role not in roles:
        raise StepNotAllowed(_("您的角色（%(r)s）不能%(w)s") % {"r": user.get_role_display(), "w": what})
    if not (user.area_id and area_code.startswith(user.area_id)):
        raise StepNotAllowed(_("该对象不在您的管辖区域内"))


def record_objection(instance, text, *, user, on=None) -> Objection:
    """Record an objection raised during the village notice (公示异议): only between the notice start and the
    township review. Raises ``WorkflowConflict`` outside that window, ``ValidationError`` for an empty text."""
    _check_role(user, OBJECTION_ROLES, instance.area_code, _("登记公示异议"))
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("异议内容不能为空"))
    on = on or timezone.localdate()
    process = instance.process_def
    with transaction.atomic():
        fresh = WorkflowInstance.objects.select_for_update().get(pk=instance.pk)
        try:
            start, review = process.index("notice_start"), process.index("township_review")
        except WorkflowConflict:
            raise WorkflowConflict(_("该流程没有公示环节")) from None
        if fresh.state != State.OPEN or not (start < fresh.current_step <= review):
            raise WorkflowConflict(_("只能在公示开始后、乡镇审核前登记异议"))
        return Objection.objects.create(instance=fresh, text=text, raised_on=on, recorded_by=user,
                                        recorded_by_username=user.get_username())


def resolve_objection(objection, resolution, *, user, on=None) -> Objection:
    """Record how an objection was resolved (异议处理结果). Raises ``WorkflowConflict`` when already resolved."""
    _check_role(user, OBJECTION_ROLES, objection.instance.area_code, _("处理公示异议"))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError(_("处理结果不能为空"))
    on = on or timezone.localdate()
    with transaction.atomic():
        updated = Objection.objects.filter(pk=objection.pk, resolved_on__isnull=True).update(
            resolution=resolution, resolved_on=on, resolved_by=user)
        if updated != 1:
            raise WorkflowConflict(_("该异议已处理"))
    objection.refresh_from_db()
    return objection


# ---------------------------------------------------------------------------------------- change requests


def changeable_fields() -> list[str]:
    """The household fields a change request may change: those of the web edit form."""
    from xiaokang.registry.forms import HouseholdEditForm

    return list(HouseholdEditForm._meta.fields)


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def clean_changes(household, changes: dict) -> dict:
    """Validate ``changes`` (field -> new value) against the household's model fields; return them as JSON
    values. Raises ``ValidationError`` naming the field and reason."""
    if not changes:
        raise ValidationError(_("变更内容为空"))
    allowed = set(changeable_fields())
    cleaned, errors = {}, {}
    for name, raw in changes.items():
        if name not in allowed:
            errors[name] = _("字段 %(f)s 不能通过变更申请修改") % {"f": name}
            continue
        f = Household._meta.get_field(name)
        try:
            value = f.clean(None if raw == "" and f.null else raw, household)
        except ValidationError as exc:
            errors[name] = _("%(label)s：%(e)s") % {"label": f.verbose_name, "e": "；".join(exc.messages)}
            continue
        if value == getattr(household, f.attname if f.is_relation else name):
            errors[name] = _("%(label)s：新值与现值相同") % {"label": f.verbose_name}
            continue
        cleaned[name] = _json_value(value)
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_change_request(household, changes: dict, reason: str, *, user) -> ChangeRequest:
    """A change request for a household by a village or town administrator of its area. Raises
    ``StepNotAllowed`` for another role or area, ``ValidationError`` for bad fields/values or no reason."""
    _check_role(user, CHANGE_REQUEST_ROLES, household.area_id, _("提交变更申请"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写变更理由")})
    cleaned = clean_changes(household, changes)
    with transaction.atomic():
        return ChangeRequest.objects.create(
            household=household, area_code=household.area_id, changes=cleaned, reason=reason,
            base_version=household.version, requested_by=user, requested_by_username=user.get_username())


def decide_change_request(cr, *, user, approve: bool, comment="") -> ChangeRequest:
    """Approve (apply through ``update_household``, lock bypassed, history kept) or reject a pending change
    request; a county administrator of the area (or a superuser) decides. Raises ``StepNotAllowed`` (403),
    ``WorkflowConflict`` (409: already decided, or the household changed since the request)."""
    from xiaokang.registry.services import EditConflict, update_household

    _check_role(user, CHANGE_DECISION_ROLES, cr.area_code, _("审批变更申请"))
    if not user.is_superuser and user_level(user) != "county":
        raise StepNotAllowed(_("变更申请须由县级用户审批"))
    status = ChangeRequest.Status.APPROVED if approve else ChangeRequest.Status.REJECTED
    with transaction.atomic():
        updated = ChangeRequest.objects.filter(pk=cr.pk, status=ChangeRequest.Status.PENDING).update(
            status=status, decided_by=user, decided_by_username=user.get_username(), decided_at=timezone.now(),
            decision_comment=comment or "")
        if updated != 1:
            raise WorkflowConflict(_("该变更申请已审批，不能重复审批"))
        if approve:
            household = Household._base_manager.get(pk=cr.household_id)
            values = {}
            for name, value in cr.changes.items():
                f = Household._meta.get_field(name)
                values[name] = value if f.is_relation else f.to_python(value)
            try:
                update_household(household.pk, values, cr.base_version, user=user, channel=current_channel(),
                                 allow_locked=True)
            except EditConflict as exc:
                raise WorkflowConflict(_("申请提交后该户信息已被修改（第 %(e)s 版 → 第 %(c)s 版），请驳回后重新提交申请")
                                       % {"e": exc.expected_version, "c": exc.current_version}) from exc
    cr.refresh_from_db()
    return cr


def may_request_change(user, household) -> bool:
    try:
        _check_role(user, CHANGE_REQUEST_ROLES, household.area_id, "")
    except StepNotAllowed:
        return False
    return True


def may_decide_change(user, cr) -> bool:
    try:
        _check_role(user, CHANGE_DECISION_ROLES, cr.area_code, "")
    except StepNotAllowed:
        return False
    return user.is_superuser or user_level(user) == "county"


__all__ = ["start_household_exit", "take_step", "bulk_take_step", "BulkConflict", "record_objection",
           "resolve_objection", "create_change_request", "decide_change_request", "check_allowed"]
