"""Change requests (变更申请): the only way to change a locked household; created by a village/town
administrator, decided by a county administrator, applied through update_household (with history)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from xiaokang.registry.models import Household
from xiaokang.registry.services import update_household
from xiaokang.workflow import services
from xiaokang.workflow.engine import StepNotAllowed, WorkflowConflict
from xiaokang.workflow.models import ChangeRequest

from .test_household_exit import D, run


@pytest.fixture
def locked(data, users):
    inst = services.start_household_exit(data.h2, user=users.village, on=D)
    run(inst, users, 7)
    data.h2.refresh_from_db()
    return data.h2


def test_request_and_approval_apply_the_change_with_history(data, users, locked):
    version = locked.version
    cr = services.create_change_request(locked, {"phone": "13912345678", "housing_area_m2": "85.5"},
                                        "电话号码变更，住房面积复核", user=users.village)
    assert (cr.status, cr.base_version, cr.changes) == ("pending", version,
                                                        {"phone": "13912345678", "housing_area_m2": "85.5"})
    locked.refresh_from_db()
    assert locked.phone == ""
    services.decide_change_request(cr, user=users.county, approve=True, comment="同意")
    locked.refresh_from_db()
    assert (locked.phone, locked.housing_area_m2, locked.version) == ("13912345678", Decimal("85.5"), version + 1)
    assert (cr.status, cr.decided_by_username) == ("approved", "xian")
    last = Household.history.filter(id=locked.pk).order_by("-history_id").first()
    assert (last.phone, last.history_user.username) == ("13912345678", "xian")


def test_rejected_request_changes_nothing(data, users, locked):
    cr = services.create_change_request(locked, {"phone": "13912345678"}, "变更", user=users.town)
    services.decide_change_request(cr, user=users.county, approve=False, comment="材料不全")
    locked.refresh_from_db()
    assert locked.phone == "" and cr.status == "rejected"
    with pytest.raises(WorkflowConflict, match="已审批"):
        services.decide_change_request(cr, user=users.county, approve=True)


def test_who_may_request_and_decide(data, users, locked):
    with pytest.raises(StepNotAllowed):
        services.create_change_request(locked, {"phone": "1"}, "x", user=users.county)
    with pytest.raises(StepNotAllowed):
        services.create_change_request(locked, {"phone": "1"}, "x", user=users.village_b)   # other village
    cr = services.create_change_request(locked, {"phone": "13912345678"}, "变更", user=users.village)
    for who in ("village", "town", "city", "other_county", "statistician"):
        with pytest.raises(StepNotAllowed):
            services.decide_change_request(cr, user=getattr(users, who), approve=True)
    assert ChangeRequest.objects.get(pk=cr.pk).status == "pending"


def test_bad_changes_are_refused_with_the_field(data, users, locked):
    with pytest.raises(ValidationError) as exc:
        services.create_change_request(locked, {"household_number": "X"}, "x", user=users.village)
    assert "household_number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_change_request(locked, {"housing_grade": "Z"}, "x", user=users.village)
    assert "住房安全等级" in exc.value.message_dict["housing_grade"][0]
    with pytest.raises(ValidationError):
        services.create_change_request(locked, {"phone": "1"}, "  ", user=users.village)
    with pytest.raises(ValidationError):
        services.create_change_request(locked, {}, "x", user=users.village)


def test_stale_request_is_a_conflict(data, users, locked):
    cr1 = services.create_change_request(locked, {"phone": "13900000001"}, "一", user=users.village)
    cr2 = services.create_change_request(locked, {"phone": "13900000002"}, "二", user=users.village)
    services.decide_change_request(cr1, user=users.county, approve=True)
    with pytest.raises(WorkflowConflict, match="已被修改"):
        services.decide_change_request(cr2, user=users.county, approve=True)
    assert ChangeRequest.objects.get(pk=cr2.pk).status == "pending"   # rolled back
    locked.refresh_from_db()
    assert locked.phone == "13900000001"
    assert update_household  # the direct path stays locked (tests/workflow/test_household_exit.py)


def test_admin_shows_a_locked_household_read_only(client, data, users, locked):
    """The admin's own forms respect the lock too: the household, its members and incomes are read-only there."""
    from django.contrib import admin as django_admin

    from xiaokang.registry.models import Income, Member

    request = type("R", (), {"user": users.superuser})()
    household_admin = django_admin.site._registry[Household]
    assert household_admin.has_change_permission(request, locked) is False
    assert household_admin.has_delete_permission(request, locked) is False
    member = Member.objects.filter(household=locked).first()
    assert django_admin.site._registry[Member].has_change_permission(request, member) is False
    assert household_admin.has_change_permission(request, data.h1) is True  # not locked
    client.force_login(users.superuser)
    response = client.post(f"/admin/registry/household/{locked.pk}/change/", {"phone": "13900000000"})
    assert response.status_code == 403
    locked.refresh_from_db()
    assert locked.phone != "13900000000"
    assert Income.objects.filter(household=locked).exists()
