"""The workflow demo hook: exits at successive steps for poor demo households, and the wipe before a reload."""

import pytest

import sample_data as sample
from xiaokang.registry.models import Household
from xiaokang.workflow import demo, engine
from xiaokang.workflow.models import ChangeRequest, Objection, StepRecord, WorkflowInstance


def test_load_and_wipe(data, users):
    for n in range(3):
        sample.household(f"DEMO{n}", data.yl_a, is_demo=True)
    Household.objects.filter(pk=data.h2.pk).update(is_demo=True)
    instances = demo.load_demo(user=users.superuser)
    assert [i.current_step for i in instances] == [0, 1, 2, 3]
    assert StepRecord.objects.count() == 0 + 1 + 2 + 3
    assert not any(engine.is_locked(i.subject) for i in instances)
    assert demo.load_demo(user=users.superuser) == []   # all busy now
    ChangeRequest.objects.create(household=data.h2, area_code=data.h2.area_id, changes={"phone": "1"}, reason="x",
                                 base_version=1, requested_by_username="root")
    assert demo.wipe_demo() == 4
    assert (WorkflowInstance.objects.count(), StepRecord.objects.count(), ChangeRequest.objects.count()) == (0, 0, 0)


def test_objection_demo_at_township_review(data, users):
    for n in range(6):
        sample.household(f"DEMO{n}", data.yl_a, is_demo=True)
    instances = demo.load_demo(user=users.superuser)
    assert instances[5].next_step.code == "township_review"
    assert Objection.objects.filter(instance=instances[5], resolved_on__isnull=True).count() == 1


@pytest.mark.parametrize("n", [0])
def test_no_superuser_no_demo(db, n):
    assert demo.load_demo() == []
