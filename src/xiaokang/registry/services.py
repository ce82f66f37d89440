"""Writes to the registry that must be conflict-safe (乐观锁: ``Household.version``).

``update_household`` changes only the fields it is given, with one conditional
``UPDATE … WHERE id = %s AND version = %s`` that also increments the version: of two editors who
loaded the same version, the second gets ``EditConflict`` and nothing of theirs is written. The
history row (who, when, channel, old and new values) is written in the same transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaokang.core.cache import REGISTRY, bump
from .models import HOUSEHOLD_HISTORY, Household

NOT_EDITABLE = {"id", "version", "created_at", "updated_at", "is_demo"}


class HouseholdLocked(Exception):
    """The household is locked by an approval workflow (审批锁定, e.g. after county approval of its exit):
    it changes only through an approved change request (变更申请, ``xiaokang.workflow``). HTTP 409."""

    def __init__(self, household_id):
        self.household_id = household_id
        super().__init__(_("该户已审批锁定，不能直接修改；请提交变更申请（户档案页“变更申请”），"
                           "经县级管理员批准后生效。"))


class EditConflict(Exception):
    """The row changed since the editor loaded it (its version is no longer the expected one)."""

    def __init__(self, household_id, expected_version, current_version):
        self.household_id = household_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(_("该户信息已被他人修改（您编辑的是第 %(e)s 版，当前为第 %(c)s 版），您的修改未保存。"
                           "请重新打开编辑页面，核对后再提交。") % {"e": expected_version, "c": current_version})


def update_household(household_id: int, changes: dict, expected_version: int, *, user=None,
                     channel: str = "web", allow_locked: bool = False) -> Household:
    """Apply ``changes`` (field name -> value; omitted fields are untouched) if the household is still at
    ``expected_version``; return the updated household (version + 1). Raises ``EditConflict`` (nothing
    written) when it is not, ``Household.DoesNotExist`` when it does not exist, ``HouseholdLocked`` when an
    approval workflow has locked it (``xiaokang.workflow.engine.is_locked``) — unless ``allow_locked`` (only
    the workflow itself: 销号 and approved change requests)."""
    from xiaokang.workflow.engine import is_locked
    bad = set(changes) & NOT_EDITABLE
    if bad:
        raise ValueError(f"不可修改的字段: {sorted(bad)}")
    values = {}
    for name, value in changes.items():
        f = Household._meta.get_field(name)
        values[f.attname] = value
    with transaction.atomic():
        if not allow_locked and is_locked(Household(pk=household_id)):
            raise HouseholdLocked(household_id)
        updated = Household._base_manager.filter(pk=household_id, version=expected_version).update(
            **values, version=F("version") + 1, updated_at=timezone.now(),
        )
        if updated != 1:
            current = Household._base_manager.filter(pk=household_id).values_list("version", flat=True).first()
            if current is None:
                raise Household.DoesNotExist(household_id)
            raise EditConflict(household_id, expected_version, current)
        household = Household._base_manager.get(pk=household_id)
        household._history_user = user if getattr(user, "is_authenticated", False) else None
        household._audit_channel = channel
        HOUSEHOLD_HISTORY.create_historical_record(household, "~")
        if "area" in values or "area_id" in values:  # moved: its records follow (Household.save does it too)
            from .area_follow import follow_household_area

            follow_household_area([household_id])
        bump(REGISTRY)  # a conditional UPDATE sends no post_save: cached summaries are renewed here
    return household


def current_pairing(cadre, household, on=None):
    """The pairing (帮扶结对) of ``cadre`` with ``household`` current on ``on`` (default today: started on or
    before it, not ended before it), or None."""
    from django.db.models import Q

    from .models import Pairing

    on = on or timezone.localdate()
    return (Pairing.objects.filter(cadre=cadre, household=household, started_on__lte=on)
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=on)).order_by("-started_on").first())


def record_visit(household: Household, cadre, *, visited_on, mode: str, situation: str, needs: str = "",
                 measures: str = "", channel: str = "web"):
    """Record a pairing cadre's visit (帮扶走访记录, ``models.Visit``) and return it.

    Only the cadre of a current pairing with the household records it (``PermissionDenied`` for another
    role, another cadre, or a pairing that ended), for a date within that pairing (on or after its start)
    and not after today; ``situation`` (走访情况) is required. The same visit sent twice (same cadre,
    household, date, way and text: a double-submitted form) is refused. Errors: ``ValidationError`` naming
    the field (nothing is written)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from .models import Visit

    if getattr(cadre, "role", None) != "pairing_cadre":
        raise PermissionDenied(_("只有帮扶责任人可以登记走访记录（管理员、督查员查看走访记录）"))
    today = timezone.localdate()
    pairing = current_pairing(cadre, household, today)
    if pairing is None:
        raise PermissionDenied(_("该户不是您当前的结对帮扶户，不能登记走访记录"))
    if visited_on > today:
        raise ValidationError({"visited_on": _("不能晚于今天（%(d)s）") % {"d": f"{today:%Y-%m-%d}"}})
    if current_pairing(cadre, household, visited_on) is None:
        raise ValidationError({"visited_on": _("早于您与该户的结对日期（%(d)s）")
                                             % {"d": f"{pairing.started_on:%Y-%m-%d}"}})
    visit = Visit(household=household, cadre=cadre, visited_on=visited_on, mode=mode,
                  situation=(situation or "").strip(), needs=(needs or "").strip(),
                  measures=(measures or "").strip(), channel=channel)
    visit.full_clean()
    limit = Visit._meta.get_field("situation").max_length  # a TextField's max_length is not a model check
    if len(visit.situation) > limit:
        raise ValidationError({"situation": _("不能超过 %(n)s 字（现有 %(m)s 字）")
                                            % {"n": limit, "m": len(visit.situation)}})
    with transaction.atomic():
        # a double-submitted form: the same record again (checked under the household's row lock)
        list(Household._base_manager.select_for_update().filter(pk=household.pk).values_list("pk", flat=True))
        if Visit.objects.filter(household=household, cadre=cadre, visited_on=visited_on, mode=visit.mode,
                                situation=visit.situation).exists():
            raise ValidationError(_("这条走访记录已经登记过（同一日期、方式和走访情况），未重复登记"))
        visit.save()
    return visit
