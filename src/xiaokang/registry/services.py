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
