"""Records that carry their household's village code follow the household when it moves (a red-team trial
took a workflow step on a household that had left the village: the workflow kept the old village's code)."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaokang.monitoring import services as monitoring
from xiaokang.monitoring.models import EarlyWarning, HouseholdEvent, MonitoringCase
from xiaokang.quality.models import Finding
from xiaokang.workflow import services
from xiaokang.workflow.models import WorkflowInstance

D = dt.date(2020, 10, 1)


def client(user):
    c = Client()
    c.force_login(user)
    return c


def test_records_follow_a_household_that_moves(data, users):
    h1, h2 = data.h1, data.h2  # both in 炎陵一村 430225100201
    exit_wf = services.start_household_exit(h2, user=users.village, on=D)
    event = monitoring.record_event(household=h1, kind="medical_cost", occurred_on=D, amount=30000,
                                    user=users.village)
    case = monitoring.open_case(household=h1, category="unstable", risk_types=["01"], channel="self",
                                user=users.village, on=D)
    now = timezone.now()
    warning = EarlyWarning.objects.create(household=h1, area_code=h1.area_id, year=2020, kind="MEDICAL_COST",
                                          rule_version="test", created_at=now)
    finding = Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=h2, area_code=h2.area_id,
                                     year=2020, first_seen=now, last_seen=now)
    other = Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=data.h3, area_code=data.h3.area_id,
                                   year=2020, first_seen=now, last_seen=now)
    case_wf = WorkflowInstance.objects.get(object_id=case.pk, process="monitoring_case")
    url = reverse("api_workflow_detail", args=[exit_wf.pk])
    assert client(users.village).get(url).status_code == 200
    assert client(users.village_b).get(url).status_code == 404

    import sample_data as sample

    from xiaokang.policy.models import HouseholdAssessment

    sample.assess(2020)
    assert HouseholdAssessment.objects.get(household=h1, year=2020).area_id == "430225100201"
    for h in (h1, h2):  # moved to 炎陵二村 430225100202 (as the web form and the admin save it)
        h.area = data.yl_b
        h.save()

    b = "430225100202"
    assert [r.area_code for r in (*(type(o).objects.get(pk=o.pk) for o in (event, case, warning, finding)),
                                  WorkflowInstance.objects.get(pk=exit_wf.pk),
                                  WorkflowInstance.objects.get(pk=case_wf.pk))] == [b] * 6
    assert Finding.objects.get(pk=other.pk).area_code == b  # YL0003 already lived there: untouched
    assert HouseholdAssessment.objects.get(household=h1, year=2020).area_id == b  # person-level: follows
    assert HouseholdEvent.objects.get(pk=event.pk).area_code == b
    assert MonitoringCase.objects.for_user(users.village).count() == 0
    # the old village's user no longer reaches the workflow; the new village's user does
    assert client(users.village).get(url).status_code == 404
    assert client(users.village_b).get(url).status_code == 200
    r = client(users.village).post(reverse("api_workflow_step", args=[exit_wf.pk]),
                                   '{"step": "appraisal"}', content_type="application/json")
    assert r.status_code == 404


def test_records_follow_a_move_made_through_update_household(data, users):
    """``registry.services.update_household`` (the web edit, approved change requests) writes with a conditional
    UPDATE, not ``save``: a move made there is followed too."""
    from xiaokang.registry.services import update_household

    now = timezone.now()
    finding = Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=data.h2, area_code=data.h2.area_id,
                                     year=2020, first_seen=now, last_seen=now)
    update_household(data.h2.pk, {"area": data.yl_b}, data.h2.version, user=users.town)
    assert Finding.objects.get(pk=finding.pk).area_code == "430225100202"
