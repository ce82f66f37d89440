"""Finding status: new → open; no longer triggered → fixed automatically; triggered again → open;
confirmed (with a reason, by an administrator of the area) stays confirmed while it still triggers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

import sample_data as sample
from xiaokang.areas.models import Area
from xiaokang.quality.models import Finding
from xiaokang.quality.services import confirm_finding, run_checks
from xiaokang.registry.models import Household

from .conftest import OTHER_VILLAGE, YEAR

D = dt.date


def _finding(h):
    return Finding.objects.get(household=h, rule_code="Q24_NO_PAIRING_CADRE")


def test_open_fixed_open_again(b):
    h = b.household(pairing_cadre="")
    run = run_checks(None, YEAR)
    assert (run.found, run.new, run.fixed, run.reopened, run.open) == (1, 1, 0, 0, 1)
    f = _finding(h)
    assert f.status == "open" and f.area_code == h.area_id and f.year == YEAR and f.fixed_at is None
    first_seen = f.first_seen

    Household.objects.filter(pk=h.pk).update(pairing_cadre="测试帮扶人")
    run = run_checks(None, YEAR)
    assert (run.found, run.new, run.fixed, run.open) == (0, 0, 1, 0)
    f.refresh_from_db()
    assert f.status == "fixed" and f.fixed_at is not None

    Household.objects.filter(pk=h.pk).update(pairing_cadre="")
    run = run_checks(None, YEAR)
    assert (run.found, run.new, run.reopened, run.fixed, run.open) == (1, 0, 1, 0, 1)
    f.refresh_from_db()
    assert f.status == "open" and f.fixed_at is None and f.first_seen == first_seen
    assert Finding.objects.count() == 1


def test_confirmed_stays_confirmed_while_it_triggers_then_fixed(b):
    h = b.household(pairing_cadre="")
    run_checks(None, YEAR)
    admin = sample.make_user("yl_admin", area=Area.objects.get(code="430225"), role="county_admin")
    f = confirm_finding(_finding(h), user=admin, reason="该户帮扶责任人调整中，已报县扶贫办")
    assert (f.status, f.confirmed_by, f.confirmed_reason) == ("confirmed", admin, "该户帮扶责任人调整中，已报县扶贫办")
    # confirmed once: a second confirmation (another reason, another user) is refused and changes nothing
    other = sample.make_user("yl_admin2", area=Area.objects.get(code="430225"), role="county_admin")
    with pytest.raises(ValidationError, match="该疑点已核实无误（yl_admin），不能重复核实"):
        confirm_finding(f, user=other, reason="again")
    f.refresh_from_db()
    assert (f.confirmed_by, f.confirmed_reason) == (admin, "该户帮扶责任人调整中，已报县扶贫办")
    run = run_checks(None, YEAR)
    assert (run.open, run.confirmed, run.new) == (0, 1, 0)
    assert _finding(h).status == "confirmed"
    Household.objects.filter(pk=h.pk).update(pairing_cadre="测试帮扶人")
    run_checks(None, YEAR)
    assert _finding(h).status == "fixed"


def test_confirm_needs_a_reason_and_an_administrator_of_the_area(b):
    h = b.household(pairing_cadre="")
    run_checks(None, YEAR)
    f = _finding(h)
    yanling = Area.objects.get(code="430225")
    admin = sample.make_user("yl_admin", area=yanling, role="county_admin")
    with pytest.raises(ValidationError):
        confirm_finding(f, user=admin, reason="   ")
    with pytest.raises(PermissionDenied):
        confirm_finding(f, user=sample.make_user("yl_stat", area=yanling, role="statistician"), reason="理由")
    with pytest.raises(PermissionDenied):
        confirm_finding(f, user=sample.make_user("cl_admin", area=Area.objects.get(code="430224"),
                                                 role="county_admin"), reason="理由")
    f.refresh_from_db()
    assert f.status == "open" and f.confirmed_reason == ""


def test_a_run_over_one_area_leaves_other_areas_alone(b):
    here = b.household(pairing_cadre="")
    there = b.household(area=OTHER_VILLAGE, pairing_cadre="", head_birth=D(1971, 1, 1))
    run_checks(None, YEAR)
    Household.objects.filter(pk__in=[here.pk, there.pk]).update(pairing_cadre="测试帮扶人")
    run = run_checks("430225", YEAR)
    assert run.fixed == 1 and run.area == "430225"
    assert _finding(here).status == "fixed" and _finding(there).status == "open"


def test_run_for_a_user_refuses_an_area_outside_the_jurisdiction(b):
    b.household(pairing_cadre="")
    user = sample.make_user("yl_admin", area=Area.objects.get(code="430225"), role="county_admin")
    with pytest.raises(PermissionDenied):
        run_checks("430224", YEAR, user=user)
    assert run_checks("430225100201", YEAR, user=user).found == 1


def test_one_run_inserts_refreshes_reopens_and_fixes_together(b):
    """The synchronisation joins the run's findings to the recorded ones once: new, found again (open,
    confirmed, fixed → open) and no longer found (→ fixed) all in the same run, each counted once."""
    stays = b.household(pairing_cadre="")
    goes = b.household(pairing_cadre="", head_birth=D(1971, 1, 1))
    comes_back = b.household(pairing_cadre="", head_birth=D(1972, 1, 1))
    confirmed = b.household(pairing_cadre="", head_birth=D(1973, 1, 1))
    run = run_checks(None, YEAR)
    assert (run.found, run.new, run.fixed, run.reopened) == (4, 4, 0, 0)
    admin = sample.make_user("yl_admin", area=Area.objects.get(code="430225"), role="county_admin")
    confirm_finding(_finding(confirmed), user=admin, reason="已核实")
    Household.objects.filter(pk=comes_back.pk).update(pairing_cadre="测试帮扶人")
    run_checks(None, YEAR)
    assert _finding(comes_back).status == "fixed"
    before = {h.pk: _finding(h) for h in (stays, comes_back, confirmed)}

    Household.objects.filter(pk=goes.pk).update(pairing_cadre="测试帮扶人")
    Household.objects.filter(pk=comes_back.pk).update(pairing_cadre="")
    new = b.household(pairing_cadre="", head_birth=D(1974, 1, 1), farmland_mu=Decimal("300"))
    run = run_checks(None, YEAR)
    assert (run.found, run.new, run.reopened, run.fixed, run.open, run.confirmed) == (5, 2, 1, 1, 4, 1)
    assert run.by_rule == {"Q23_FARMLAND_PER_PERSON": 1, "Q24_NO_PAIRING_CADRE": 4}
    assert {k for k in run.timings} >= {"update: found again", "update: fixed", "insert: new"}
    assert _finding(goes).status == "fixed" and _finding(goes).fixed_at is not None
    for h, status in ((stays, "open"), (comes_back, "open"), (confirmed, "confirmed")):
        f = _finding(h)
        assert f.status == status and f.pk == before[h.pk].pk and f.first_seen == before[h.pk].first_seen
        assert f.last_seen > before[h.pk].last_seen and f.fixed_at is None
    assert _finding(confirmed).confirmed_reason == "已核实"
    assert Finding.objects.filter(household=new).count() == 2
    assert Finding.objects.count() == 6
