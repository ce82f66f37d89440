"""The workflow engine (xiaokang.workflow.engine): order, roles and levels, waiting periods, rejection, locking,
the concurrent double advance and the immutability of step records. A test process of four steps:

    propose (village admin, village) → review (town admin, town) → wait (village admin, village, ≥ 7 days after
    review: exit.notice_days_min) → approve (county admin, county, locks)
"""

import datetime as dt

import pytest
from django.contrib import admin

from xiaokang.workflow import engine
from xiaokang.workflow.engine import Process, Step, StepNotAllowed, WorkflowConflict
from xiaokang.workflow.models import ImmutableRecord, StepRecord, WorkflowInstance

D = dt.date(2020, 10, 1)

TEST_PROCESS = Process("test_process", "测试流程", (
    Step("propose", "提出", frozenset({"village_admin"}), "village"),
    Step("review", "审核", frozenset({"town_admin"}), "town"),
    Step("wait", "等待期满", frozenset({"village_admin"}), "village", min_days_after_previous_param="exit.notice_days_min"),
    Step("approve", "批准", frozenset({"county_admin"}), "county", locks=True),
))


@pytest.fixture(autouse=True)
def _process():
    engine.register(TEST_PROCESS)
    yield
    engine._REGISTRY.pop("test_process", None)


def _start(data, users):
    return engine.start("test_process", subject=data.h2, area_code=data.h2.area_id, user=users.village, on=D)


def _run(inst, users, until=4):
    plan = [("propose", users.village, D), ("review", users.town, D + dt.timedelta(days=1)),
            ("wait", users.village, D + dt.timedelta(days=8)), ("approve", users.county, D + dt.timedelta(days=9))]
    for code, user, on in plan[:until]:
        engine.advance(inst, code, user=user, on=on)


def test_in_order_success_completes_and_locks(data, users):
    inst = _start(data, users)
    assert not engine.is_locked(data.h2)
    _run(inst, users, 3)
    assert (inst.current_step, inst.state, inst.locked) == (3, "open", False)
    record = engine.advance(inst, "approve", user=users.county, comment="同意", on=D + dt.timedelta(days=9))
    inst.refresh_from_db()
    assert (inst.current_step, inst.state, inst.finished_on, inst.locked) == (4, "completed", dt.date(2020, 10, 10), True)
    assert (record.step, record.outcome, record.username, record.comment) == ("approve", "approved", "xian", "同意")
    assert [r.step for r in inst.records.all()] == ["propose", "review", "wait", "approve"]
    assert engine.is_locked(data.h2)
    assert not engine.is_locked(data.h1)


@pytest.mark.parametrize("taken", range(4))
def test_each_out_of_order_step_is_refused(data, users, taken):
    """After ``taken`` steps, every other step (earlier: already taken; later: out of order) is a 409."""
    inst = _start(data, users)
    _run(inst, users, taken)
    actor = {"propose": users.village, "review": users.town, "wait": users.village, "approve": users.county}
    for i, step in enumerate(TEST_PROCESS.steps):
        if i == taken:
            continue
        with pytest.raises(WorkflowConflict) as exc:
            engine.advance(inst, step.code, user=actor[step.code], on=D + dt.timedelta(days=20))
        expected = "已办理过" if i < taken else "步骤顺序不对"
        assert expected in str(exc.value), str(exc.value)
    inst.refresh_from_db()
    assert inst.current_step == taken and inst.records.count() == taken


def test_out_of_order_message_names_the_expected_step(data, users):
    inst = _start(data, users)
    with pytest.raises(WorkflowConflict, match="当前应办理“提出”，不能办理“审核”"):
        engine.advance(inst, "review", user=users.town, on=D)


def test_wrong_role_or_level_or_area_is_refused(data, users):
    inst = _start(data, users)
    with pytest.raises(StepNotAllowed, match="角色"):
        engine.advance(inst, "propose", user=users.cadre, on=D)        # right level, wrong role
    with pytest.raises(StepNotAllowed, match="角色"):
        engine.advance(inst, "propose", user=users.county, on=D)       # county admin for a village step
    with pytest.raises(StepNotAllowed, match="管辖区域"):
        engine.advance(inst, "propose", user=users.village_b, on=D)    # other village
    with pytest.raises(StepNotAllowed):
        engine.advance(inst, "propose", user=users.statistician, on=D)
    engine.advance(inst, "propose", user=users.village, on=D)
    with pytest.raises(StepNotAllowed):
        engine.advance(inst, "review", user=users.village, on=D)
    engine.advance(inst, "review", user=users.town, on=D)
    engine.advance(inst, "wait", user=users.village, on=D + dt.timedelta(days=7))
    with pytest.raises(StepNotAllowed, match="管辖区域"):
        engine.advance(inst, "approve", user=users.other_county, on=D + dt.timedelta(days=7))
    assert inst.records.count() == 3
    # a superuser may take any step
    engine.advance(inst, "approve", user=users.superuser, on=D + dt.timedelta(days=7))
    assert inst.state == "completed"


def test_level_is_checked_separately_from_role(data, users):
    """A town administrator whose account sits at village level is refused a town step."""
    from xiaokang.accounts.models import User

    odd = User.objects.create_user("odd", password="x", area=data.yl_a, role="town_admin")
    inst = _start(data, users)
    engine.advance(inst, "propose", user=users.village, on=D)
    with pytest.raises(StepNotAllowed, match="乡镇级用户"):
        engine.advance(inst, "review", user=odd, on=D)


def test_waiting_period_from_the_parameter(data, users):
    """review on 10-02; the wait step needs ≥ 7 days: 10-08 (6 days) is refused, 10-09 is accepted."""
    inst = _start(data, users)
    _run(inst, users, 2)
    with pytest.raises(WorkflowConflict, match="满 7 天后办理，最早 2020-10-09"):
        engine.advance(inst, "wait", user=users.village, on=dt.date(2020, 10, 8))
    engine.advance(inst, "wait", user=users.village, on=dt.date(2020, 10, 9))
    assert inst.current_step == 3


def test_dates_before_previous_step_or_in_future_refused(data, users):
    inst = _start(data, users)
    with pytest.raises(WorkflowConflict, match="早于上一步"):
        engine.advance(inst, "propose", user=users.village, on=D - dt.timedelta(days=1))
    with pytest.raises(WorkflowConflict, match="晚于今天"):
        engine.advance(inst, "propose", user=users.village, on=dt.date.today() + dt.timedelta(days=2))


def test_rejected_outcome_ends_the_instance(data, users):
    inst = _start(data, users)
    engine.advance(inst, "propose", user=users.village, on=D)
    record = engine.advance(inst, "review", user=users.town, outcome="rejected", comment="收入不稳定", on=D)
    assert record.outcome == "rejected"
    inst.refresh_from_db()
    assert (inst.state, inst.current_step, inst.finished_on) == ("rejected", 1, D)
    with pytest.raises(WorkflowConflict, match="已否决"):
        engine.advance(inst, "wait", user=users.village, on=D + dt.timedelta(days=8))
    with pytest.raises(WorkflowConflict, match="已否决"):
        engine.advance(inst, "review", user=users.town, on=D)
    # a new instance may now be started for the same subject
    again = _start(data, users)
    assert again.pk != inst.pk


def test_rejected_after_lock_releases_it(data, users):
    process = Process("test_lock_then", "锁定后", (
        Step("lock", "锁定", frozenset({"county_admin"}), "county", locks=True),
        Step("after", "之后", frozenset({"county_admin"}), "county"),
    ))
    engine.register(process)
    try:
        inst = engine.start("test_lock_then", subject=data.h1, area_code=data.h1.area_id, user=users.county, on=D)
        engine.advance(inst, "lock", user=users.county, on=D)
        assert engine.is_locked(data.h1)
        engine.advance(inst, "after", user=users.county, outcome="rejected", on=D)
        assert not engine.is_locked(data.h1)
    finally:
        engine._REGISTRY.pop("test_lock_then")


def test_only_one_open_instance_per_subject(data, users):
    _start(data, users)
    with pytest.raises(WorkflowConflict, match="已有办理中"):
        _start(data, users)
    assert WorkflowInstance.objects.count() == 1


def test_start_needs_the_first_steps_role(data, users):
    with pytest.raises(StepNotAllowed):
        engine.start("test_process", subject=data.h2, area_code=data.h2.area_id, user=users.county, on=D)


def test_stale_object_gets_already_taken(data, users):
    """Two people loaded the instance at step 0; the second one's advance is refused."""
    inst = _start(data, users)
    first = WorkflowInstance.objects.get(pk=inst.pk)
    second = WorkflowInstance.objects.get(pk=inst.pk)
    engine.advance(first, "propose", user=users.village, on=D)
    with pytest.raises(WorkflowConflict, match="已办理过"):
        engine.advance(second, "propose", user=users.superuser, on=D)
    assert StepRecord.objects.filter(instance=inst).count() == 1


def test_concurrent_double_advance_refused_by_the_conditional_update(data, users, monkeypatch):
    """Both requests passed the order check (read step 0) before either wrote: the conditional UPDATE
    on current_step lets only the first through; the second gets 409 and writes nothing."""
    inst = _start(data, users)
    stale = WorkflowInstance.objects.get(pk=inst.pk)
    engine.advance(inst, "propose", user=users.village, on=D)
    monkeypatch.setattr(engine, "_load", lambda instance: stale)  # as read before the other request committed
    with pytest.raises(WorkflowConflict, match="刚刚已由他人办理"):
        engine.advance(stale, "propose", user=users.superuser, on=D)
    assert StepRecord.objects.filter(instance=inst).count() == 1
    inst.refresh_from_db()
    assert inst.current_step == 1


def test_step_records_are_immutable(data, users):
    inst = _start(data, users)
    record = engine.advance(inst, "propose", user=users.village, comment="原意见", on=D)
    record.comment = "改过"
    with pytest.raises(ImmutableRecord):
        record.save()
    with pytest.raises(ImmutableRecord):
        record.delete()
    with pytest.raises(ImmutableRecord):
        StepRecord.objects.filter(pk=record.pk).update(comment="改过")
    with pytest.raises(ImmutableRecord):
        StepRecord.objects.filter(pk=record.pk).delete()
    assert StepRecord.objects.get(pk=record.pk).comment == "原意见"


def test_step_records_have_no_admin_change_or_delete_permission(data, users, rf):
    model_admin = admin.site._registry[StepRecord]
    request = rf.get("/")
    request.user = users.superuser
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_add_permission(request)
    assert model_admin.has_view_permission(request)


def test_unknown_step_and_process(data, users):
    inst = _start(data, users)
    with pytest.raises(WorkflowConflict, match="没有步骤"):
        engine.advance(inst, "nope", user=users.village, on=D)
    with pytest.raises(LookupError):
        engine.start("no_such_process", subject=data.h2, area_code=data.h2.area_id, user=users.village)


def test_instances_are_scoped(data, users):
    _start(data, users)
    engine.start("test_process", subject=data.h4, area_code=data.h4.area_id, user=users.superuser, on=D)
    assert WorkflowInstance.objects.for_user(users.county).count() == 1
    assert WorkflowInstance.objects.for_user(users.other_county).count() == 1
    assert WorkflowInstance.objects.for_user(users.city).count() == 2
    assert StepRecord.objects.for_user(users.county).count() == 0
