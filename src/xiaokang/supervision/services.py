"""Writes of the supervision problems (督查问题, ``models.Problem``): record (交办), rectify (整改), revisit (回访:
销号 or sent back). One transaction each; the history row names the user and the channel.

Who may do what (PermissionDenied, HTTP 403, otherwise):

- ``record_problem`` — an inspector (督查员), for an area or a household inside their jurisdiction;
- ``rectify`` — an administrator (city, county, town or village) whose jurisdiction holds the problem;
- ``revisit`` — an inspector whose jurisdiction holds the problem.

A step out of order (rectifying a problem already rectified or closed, revisiting one not rectified or closed) raises
``WorkflowConflict`` (HTTP 409) and writes nothing. Bad input raises ``ValidationError`` naming the field.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaokang.accounts.models import Role
from xiaokang.workflow.engine import WorkflowConflict

from .models import Problem, Status

ADMIN_ROLES = frozenset({Role.CITY_ADMIN, Role.COUNTY_ADMIN, Role.TOWN_ADMIN, Role.VILLAGE_ADMIN})


def may_record(user) -> bool:
    return getattr(user, "role", None) == Role.INSPECTOR and bool(getattr(user, "area_id", None))


def may_rectify(user) -> bool:
    return getattr(user, "role", None) in ADMIN_ROLES and bool(getattr(user, "area_id", None))


def inside_jurisdiction(user, code: str) -> bool:
    """Whether the area ``code`` lies in ``user``'s jurisdiction (their area code is its prefix)."""
    own = getattr(user, "area_id", None) or ""
    return bool(own) and code.startswith(own)


def _text(value, field):
    """The stripped text of a required note (≤ 1,000 characters); the error names the field (its label is put
    before the message by the pages)."""
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: _("不能为空")})
    if len(text) > 1000:
        raise ValidationError({field: _("不能超过 1000 字（现有 %(n)s 字）") % {"n": len(text)}})
    return text


def _not_future(on: dt.date, field: str) -> None:
    today = timezone.localdate()
    if on > today:
        raise ValidationError({field: _("不能晚于今天（%(d)s）") % {"d": f"{today:%Y-%m-%d}"}})


def _lock(problem: Problem) -> Problem:
    return Problem.objects.select_for_update().get(pk=problem.pk)


def record_problem(user, *, category: str, description: str, found_on: dt.date, deadline: dt.date,
                   source: str = "covert", household=None, area_code: str = "") -> Problem:
    """Record a problem found by supervision and assign it to its area (交办): ``household`` (its village is the
    area; an ``area_code`` given with it must contain that village) or ``area_code`` (an existing village, town
    or county inside the inspector's jurisdiction). The deadline (整改期限) is on or after the day it was found,
    which is not after today. The same problem recorded twice is refused (``ValidationError``)."""
    from xiaokang.areas.models import Area

    if not may_record(user):
        raise PermissionDenied(_("只有督查员可以登记督查问题"))
    area_code = (area_code or "").strip()
    if household is not None:
        if area_code and not household.area_id.startswith(area_code):
            raise ValidationError({"area_code": _("区划代码 %(c)s 与户 %(h)s 的所在村不一致；涉及农户时可不填区划代码")
                                                % {"c": area_code, "h": household.household_number}})
        area_code = household.area_id
    if not area_code:
        raise ValidationError({"area_code": _("请填写户编号或区划代码")})
    if not Area.objects.filter(code=area_code).exists():
        raise ValidationError({"area_code": _("区划代码不存在：%(c)s") % {"c": area_code}})
    if not inside_jurisdiction(user, area_code):
        raise ValidationError({"area_code": _("该区划不在您的管辖区域（%(a)s）内") % {"a": user.area_id}})
    _not_future(found_on, "found_on")
    if deadline < found_on:
        raise ValidationError({"deadline": _("不能早于发现日期")})
    problem = Problem(area_code=area_code, household=household, category=category, source=source,
                      description=_text(description, "description"), found_on=found_on,
                      deadline=deadline, inspector=user)
    problem.full_clean()
    with transaction.atomic():
        # the same problem sent twice (a double-submitted form) is refused; checked under the area's lock
        list(Area.objects.select_for_update().filter(code=area_code).values_list("code", flat=True))
        if Problem.objects.filter(area_code=area_code, household=household, category=category, found_on=found_on,
                                  description=problem.description).exists():
            raise ValidationError(_("这个问题已经登记过（同一区域或农户、类别、发现日期和问题描述），未重复登记"))
        problem._history_user = user
        problem.save()
    return problem


def rectify(problem: Problem, user, *, note: str, on: dt.date) -> Problem:
    """Report the rectification (整改) of an assigned problem: what was done and when (not before it was found,
    not after today). 409 unless the problem is 待整改."""
    if not may_rectify(user) or not inside_jurisdiction(user, problem.area_code):
        raise PermissionDenied(_("只有问题所在区域的管理员可以填报整改情况"))
    note = _text(note, "rectification")
    _not_future(on, "rectified_on")
    if on < problem.found_on:
        raise ValidationError({"rectified_on": _("不能早于发现日期（%(d)s）") % {"d": f"{problem.found_on:%Y-%m-%d}"}})
    with transaction.atomic():
        current = _lock(problem)
        if current.status != Status.ASSIGNED:
            raise WorkflowConflict(_("该问题当前为“%(s)s”，不能再填报整改情况") % {"s": current.get_status_display()})
        current.status, current.rectification, current.rectified_on, current.rectified_by = (
            Status.RECTIFIED, note, on, user)
        current._history_user = user
        current.save()
    return current


def revisit(problem: Problem, user, *, note: str, on: dt.date, passed: bool,
            deadline: dt.date | None = None) -> Problem:
    """The inspectors' revisit (回访) of a rectified problem: passed → closed (销号); not passed → back to 待整改
    with a new deadline when given (on or after the revisit; the count of send-backs kept, the earlier
    rectification kept in the history). 409 unless 已整改待回访."""
    if not may_record(user) or not inside_jurisdiction(user, problem.area_code):
        raise PermissionDenied(_("只有督查员可以回访销号"))
    note = _text(note, "revisit")
    _not_future(on, "revisited_on")
    with transaction.atomic():
        current = _lock(problem)
        if current.status == Status.CLOSED:
            raise WorkflowConflict(_("该问题已销号，不能再回访"))
        if current.status != Status.RECTIFIED:
            raise WorkflowConflict(_("该问题当前为“%(s)s”，整改后才能回访") % {"s": current.get_status_display()})
        if on < current.rectified_on:
            raise ValidationError({"revisited_on": _("不能早于整改完成日期（%(d)s）")
                                                   % {"d": f"{current.rectified_on:%Y-%m-%d}"}})
        current.revisit, current.revisited_on, current.revisited_by = note, on, user
        if passed:
            current.status = Status.CLOSED
        else:
            if deadline is not None and deadline < on:
                raise ValidationError({"deadline": _("不能早于回访日期")})
            current.status = Status.ASSIGNED
            current.sent_back += 1
            current.deadline = deadline or current.deadline
        current._history_user = user
        current.save()
    return current
