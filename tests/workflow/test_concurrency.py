"""Two people take the same step at the same moment (PostgreSQL only: real concurrent transactions in two
threads). Both read the instance at step 0 before either writes (a barrier inside ``engine._load``); the
conditional UPDATE lets exactly one through, the other gets WorkflowConflict and writes nothing."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from xiaokang.workflow import engine, services
from xiaokang.workflow.engine import WorkflowConflict
from xiaokang.workflow.models import StepRecord, WorkflowInstance

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)")


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_advance_on_postgresql(monkeypatch):
    import sample_data as sample

    d = sample.build()
    a = sample.make_user("cun_a", area=d.yl_a, role="village_admin")
    b = sample.make_user("cun_b", area=d.yl_a, role="village_admin")
    inst = services.start_household_exit(d.h2, user=a, on=dt.date(2020, 10, 1))
    barrier = threading.Barrier(2, timeout=20)
    real_load = engine._load

    def load_then_wait(instance):
        fresh = real_load(instance)
        barrier.wait()   # both have read step 0 before either writes
        return fresh

    monkeypatch.setattr(engine, "_load", load_then_wait)
    outcomes = {}

    def take(user):
        try:
            engine.advance(WorkflowInstance.objects.get(pk=inst.pk), "appraisal", user=user, on=dt.date(2020, 10, 1))
            outcomes[user.username] = "ok"
        except WorkflowConflict as exc:
            outcomes[user.username] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(u,)) for u in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(v == "ok" for v in outcomes.values()) == [False, True], outcomes
    assert any("刚刚已由他人办理" in v for v in outcomes.values()), outcomes
    assert StepRecord.objects.filter(instance_id=inst.pk).count() == 1
    assert WorkflowInstance.objects.get(pk=inst.pk).current_step == 1
