"""The household exit process (household_exit, policy.md §3.3): roles and levels, the 7-day notice, objections,
locking at county approval, 销号 through update_household, one open instance per household, and the lock on
direct edits."""

import datetime as dt

import pytest

from xiaokang.registry.models import Household
from xiaokang.registry.services import HouseholdLocked, update_household
from xiaokang.workflow import engine, services
from xiaokang.workflow.engine import StepNotAllowed, WorkflowConflict
from xiaokang.workflow.processes import HOUSEHOLD_EXIT_PROCESS

D = dt.date(2020, 10, 1)
CODES = [s.code for s in HOUSEHOLD_EXIT_PROCESS.steps]


def plan(users):
    """(step, user, date) of a complete exit: notice 10-04 → 10-11 (7 days)."""
    return [
        ("appraisal", users.village, D), ("verification", users.village, D + dt.timedelta(days=1)),
        ("household_signature", users.village, D + dt.timedelta(days=2)),
        ("notice_start", users.village, D + dt.timedelta(days=3)),
        ("notice_end", users.village, D + dt.timedelta(days=10)),
        ("township_review", users.town, D + dt.timedelta(days=12)),
        ("county_approval", users.county, D + dt.timedelta(days=15)),
        ("announcement", users.county, D + dt.timedelta(days=16)),
        ("removal", users.county, D + dt.timedelta(days=20)),
    ]


def run(inst, users, n):
    for code, user, on in plan(users)[:n]:
        services.take_step(inst, code, user=user, on=on)


@pytest.fixture
def inst(data, users):
    return services.start_household_exit(data.h2, user=users.village, on=D)


def test_the_process_has_the_steps_of_the_policy():
    assert CODES == ["appraisal", "verification", "household_signature", "notice_start", "notice_end",
                     "township_review", "county_approval", "announcement", "removal"]
    levels = [s.level for s in HOUSEHOLD_EXIT_PROCESS.steps]
    assert levels == ["village"] * 5 + ["town"] + ["county"] * 3
    assert [s.code for s in HOUSEHOLD_EXIT_PROCESS.steps if s.locks] == ["county_approval"]


def test_complete_exit_removes_the_household_from_the_poor_list(data, users, inst):
    h = data.h2
    assert (h.poverty_status, h.exit_year) == ("poor", None)
    run(inst, users, 9)
    h.refresh_from_db()
    inst.refresh_from_db()
    assert (h.poverty_status, h.exit_year) == ("exited", 2020)
    assert (inst.state, inst.finished_on, inst.locked) == ("completed", dt.date(2020, 10, 21), True)
    last = Household.history.filter(id=h.pk).order_by("-history_id").first()
    assert (last.poverty_status, last.history_user.username, last.channel) == ("exited", "xian", "command")
    assert engine.is_locked(h)


def test_exit_year_can_be_given(data, users, inst):
    run(inst, users, 8)
    services.take_step(inst, "removal", user=users.county, data={"exit_year": 2019}, on=D + dt.timedelta(days=20))
    data.h2.refresh_from_db()
    assert data.h2.exit_year == 2019


@pytest.mark.parametrize("taken", range(9))
def test_each_out_of_order_exit_step_is_refused(data, users, inst, taken):
    run(inst, users, taken)
    for code, user, _on in plan(users):
        if code == CODES[taken]:
            continue
        with pytest.raises(WorkflowConflict):
            services.take_step(inst, code, user=user, on=D + dt.timedelta(days=25))
    inst.refresh_from_db()
    assert inst.current_step == taken
    data.h2.refresh_from_db()
    assert data.h2.poverty_status == "poor"


@pytest.mark.parametrize("index,wrong", [(0, "town"), (0, "cadre"), (5, "village"), (5, "county"), (6, "town"),
                                         (6, "city"), (8, "village")])
def test_wrong_role_or_level_refused(data, users, inst, index, wrong):
    run(inst, users, index)
    with pytest.raises(StepNotAllowed):
        services.take_step(inst, CODES[index], user=getattr(users, wrong), on=D + dt.timedelta(days=25))


def test_notice_must_last_seven_days(data, users, inst):
    run(inst, users, 4)   # notice started 10-04
    with pytest.raises(WorkflowConflict, match="满 7 天后办理，最早 2020-10-11"):
        services.take_step(inst, "notice_end", user=users.village, on=dt.date(2020, 10, 10))
    services.take_step(inst, "notice_end", user=users.village, on=dt.date(2020, 10, 11))


def test_unresolved_objection_blocks_the_township_review(data, users, inst):
    run(inst, users, 4)
    objection = services.record_objection(inst, "村民反映该户有经营收入未登记", user=users.village,
                                          on=dt.date(2020, 10, 6))
    services.take_step(inst, "notice_end", user=users.village, on=dt.date(2020, 10, 11),
                       data={"objections": ["另一条异议"]})
    assert inst.objections.count() == 2
    with pytest.raises(WorkflowConflict, match="2 条异议尚未处理"):
        services.take_step(inst, "township_review", user=users.town, on=dt.date(2020, 10, 13))
    services.resolve_objection(objection, "经核实收入已登记", user=users.town)
    with pytest.raises(WorkflowConflict, match="1 条异议尚未处理"):
        services.take_step(inst, "township_review", user=users.town, on=dt.date(2020, 10, 13))
    services.resolve_objection(inst.objections.get(text="另一条异议"), "不属实", user=users.village)
    with pytest.raises(WorkflowConflict, match="已处理"):
        services.resolve_objection(objection, "再次", user=users.town)
    services.take_step(inst, "township_review", user=users.town, on=dt.date(2020, 10, 13))
    # a rejection is still possible with open objections: no guard for it
    assert inst.current_step == 6


def test_objection_only_during_the_notice(data, users, inst):
    run(inst, users, 3)
    with pytest.raises(WorkflowConflict, match="公示开始后"):
        services.record_objection(inst, "过早", user=users.village)
    with pytest.raises(StepNotAllowed):
        services.record_objection(inst, "异议", user=users.cadre)


def test_only_one_open_exit_per_household(data, users, inst):
    with pytest.raises(WorkflowConflict, match="已有办理中"):
        services.start_household_exit(data.h2, user=users.village, on=D)


def test_exited_household_cannot_start(data, users):
    with pytest.raises(WorkflowConflict, match="已脱贫"):
        services.start_household_exit(data.h1, user=users.village, on=D)


def test_rejected_exit_allows_a_new_one(data, users, inst):
    run(inst, users, 5)
    services.take_step(inst, "township_review", user=users.town, outcome="rejected", comment="收入不稳定",
                       on=D + dt.timedelta(days=12))
    assert inst.state == "rejected"
    again = services.start_household_exit(data.h2, user=users.village, on=D + dt.timedelta(days=13))
    assert again.state == "open" and again.current_step == 0


def test_county_approval_locks_the_household_against_direct_edits(data, users, inst):
    h = data.h2
    update_household(h.pk, {"phone": "13800000001"}, h.version, user=users.village)   # not locked yet
    h.refresh_from_db()
    run(inst, users, 7)
    with pytest.raises(HouseholdLocked, match="变更申请"):
        update_household(h.pk, {"phone": "13800000002"}, h.version, user=users.county)
    h.refresh_from_db()
    assert h.phone == "13800000001"
