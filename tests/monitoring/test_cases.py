"""Warnings open cases; the identification workflow; risk elimination after six months of stable income."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

import sample_data as sample
from xiaokang.monitoring import services as s
from xiaokang.monitoring.models import EarlyWarning, MonitoringCase
from xiaokang.workflow.engine import StepNotAllowed, WorkflowConflict
from xiaokang.workflow.models import StepRecord

D = dt.date


@pytest.fixture
def people(mon):
    d = mon.d
    s.run_warnings(2020, "4302")
    mon.cun = sample.make_user("cun", area=d.yl_a, role="village_admin")
    mon.cun_b = sample.make_user("cun_b", area=d.yl_b, role="village_admin")
    mon.zhen = sample.make_user("zhen", area=d.yl_t, role="town_admin")
    mon.xian = sample.make_user("xian", area=d.yl, role="county_admin")
    return mon


def warning(h, kind):
    return EarlyWarning.objects.get(household=h, kind=kind, year=2020)


def identify(p, case, start=D(2020, 5, 2)):
    s.take_case_step(case, s.MONITORING_CASE, "appraisal", user=p.cun, on=start)
    s.take_case_step(case, s.MONITORING_CASE, "township_review", user=p.zhen, on=start + dt.timedelta(days=7))
    s.take_case_step(case, s.MONITORING_CASE, "county_approval", user=p.xian, on=start + dt.timedelta(days=8))
    case.refresh_from_db()


def test_a_verified_warning_opens_a_case_and_identification_follows_the_steps(people):
    p = people
    w = warning(p.B, "MEDICAL_COST")
    case = s.verify_warning(w, user=p.cun, on=D(2020, 5, 1))
    w.refresh_from_db()
    assert (w.status, w.case_id, w.decided_by_username) == ("verified", case.pk, "cun")
    assert (case.status, case.category, case.risk_types, case.channel) == ("verifying", "sudden", "01", "sector")
    assert list(StepRecord.objects.filter(instance__object_id=case.pk).values_list("step", flat=True)) == ["verification"]
    with pytest.raises(WorkflowConflict):
        s.verify_warning(w, user=p.cun, on=D(2020, 5, 1))  # already decided

    s.take_case_step(case, s.MONITORING_CASE, "appraisal", user=p.cun, on=D(2020, 5, 2))
    with pytest.raises(WorkflowConflict, match="满 7 天"):  # notice: 6 days are not enough
        s.take_case_step(case, s.MONITORING_CASE, "township_review", user=p.zhen, on=D(2020, 5, 8))
    with pytest.raises(StepNotAllowed):
        s.take_case_step(case, s.MONITORING_CASE, "township_review", user=p.cun, on=D(2020, 5, 9))
    s.take_case_step(case, s.MONITORING_CASE, "township_review", user=p.zhen, on=D(2020, 5, 9))
    assert case.status == "verifying"
    s.take_case_step(case, s.MONITORING_CASE, "county_approval", user=p.xian, on=D(2020, 5, 10))
    assert (case.status, case.identified_on) == ("monitored", D(2020, 5, 10))


def test_town_user_cannot_verify_and_dismissal_needs_a_reason(people):
    p = people
    w = warning(p.C, "INCOME_DROP")
    with pytest.raises(StepNotAllowed):
        s.verify_warning(w, user=p.zhen, on=D(2020, 5, 1))
    assert not MonitoringCase.objects.exists()  # nothing half-written
    assert EarlyWarning.objects.get(pk=w.pk).status == "new"
    with pytest.raises(ValidationError):
        s.dismiss_warning(w, user=p.cun, reason="  ")
    s.dismiss_warning(w, user=p.cun, reason="入户核实：一次性支出，收入稳定")
    assert EarlyWarning.objects.get(pk=w.pk).status == "dismissed"


def test_rejected_identification_leaves_the_case_not_included(people):
    p = people
    case = s.verify_warning(warning(p.E, "INCOME_DROP"), user=p.cun_b, on=D(2020, 5, 1))
    s.take_case_step(case, s.MONITORING_CASE, "appraisal", user=p.cun_b, outcome="rejected", on=D(2020, 5, 2))
    assert case.status == "not_included" and MonitoringCase.objects.filter(pk=case.pk).exists()
    assert case.history.count() >= 2


def test_case_eliminated_after_six_months_of_income_above_the_range_refused_at_five(people):
    p = people
    case = s.verify_warning(warning(p.B, "MEDICAL_COST"), user=p.cun, on=D(2020, 5, 1))
    identify(p, case)
    assert case.status == "monitored"
    s.add_income_check(case, checked_on=D(2020, 5, 15), per_capita_income=Decimal("6000"), user=p.cun)  # not above
    s.add_income_check(case, checked_on=D(2020, 6, 1), per_capita_income=Decimal("6500"), user=p.cun)
    s.add_income_check(case, checked_on=D(2020, 11, 1), per_capita_income=Decimal("6500"), user=p.cun)
    ok = dict(kind="assisted", spending_resolved=True, guarantees_secure=True, water_secure=True)
    with pytest.raises(s.EliminationRefused) as refused:  # five months
        s.propose_elimination(case, user=p.cun, on=D(2020, 11, 1), **ok)
    assert any("不足 6 个月" in r and "2020-12-01" in r for r in refused.value.reasons)
    assert any("帮扶措施" in r for r in refused.value.reasons)
    s.add_measure(case, kind="health", description="大病保险二次报销", started_on=D(2020, 5, 20), user=p.cun)
    s.add_income_check(case, checked_on=D(2020, 12, 1), per_capita_income=Decimal("6600"), user=p.cun)
    with pytest.raises(s.EliminationRefused, match="两不愁三保障"):
        s.propose_elimination(case, user=p.cun, on=D(2020, 12, 1), **{**ok, "guarantees_secure": False})
    s.propose_elimination(case, user=p.cun, on=D(2020, 12, 1), **ok)  # exactly six months since 1 June
    s.take_case_step(case, s.RISK_ELIMINATION, "township_review", user=p.zhen, on=D(2020, 12, 2))
    s.take_case_step(case, s.RISK_ELIMINATION, "county_approval", user=p.xian, on=D(2020, 12, 3))
    assert (case.status, case.elimination_kind, case.eliminated_on) == ("eliminated", "assisted", D(2020, 12, 3))
    assert MonitoringCase.objects.filter(pk=case.pk).exists()  # the base record is kept
    with pytest.raises(WorkflowConflict):
        s.propose_elimination(case, user=p.cun, on=D(2020, 12, 3), **ok)


def test_county_approval_rechecks_the_conditions(people):
    p = people
    case = s.verify_warning(warning(p.B, "MEDICAL_COST"), user=p.cun, on=D(2020, 5, 1))
    identify(p, case)
    for day in (D(2020, 5, 1), D(2020, 11, 1)):
        s.add_income_check(case, checked_on=day, per_capita_income=Decimal("7000"), user=p.cun)
    s.propose_elimination(case, user=p.cun, on=D(2020, 11, 1), kind="natural", spending_resolved=True,
                          guarantees_secure=True, water_secure=True)
    s.take_case_step(case, s.RISK_ELIMINATION, "township_review", user=p.zhen, on=D(2020, 11, 2))
    s.add_income_check(case, checked_on=D(2020, 11, 3), per_capita_income=Decimal("5000"), user=p.cun)
    with pytest.raises(s.EliminationRefused, match="未高于监测范围"):
        s.take_case_step(case, s.RISK_ELIMINATION, "county_approval", user=p.xian, on=D(2020, 11, 4))
    assert case.status == "monitored"


def test_household_without_labour_capacity_stays_under_tracking(people):
    p = people
    case = s.verify_warning(warning(p.D, "INCOME_IN_RANGE"), user=p.cun, on=D(2020, 5, 1))
    same = s.verify_warning(warning(p.D, "INCOME_DROP"), user=p.cun, on=D(2020, 5, 1))
    assert same.pk == case.pk and case.category == "unstable" and MonitoringCase.objects.count() == 1
    identify(p, case)
    s.add_measure(case, kind="social_security", description="纳入低保", started_on=D(2020, 5, 20), user=p.cun)
    for day in (D(2020, 6, 1), D(2020, 12, 1)):
        s.add_income_check(case, checked_on=day, per_capita_income=Decimal("6100"), user=p.cun)
    s.propose_elimination(case, user=p.cun, on=D(2020, 12, 1), kind="assisted", spending_resolved=True,
                          guarantees_secure=True, water_secure=True)
    s.take_case_step(case, s.RISK_ELIMINATION, "township_review", user=p.zhen, on=D(2020, 12, 2))
    s.take_case_step(case, s.RISK_ELIMINATION, "county_approval", user=p.xian, on=D(2020, 12, 3))
    assert (case.status, case.eliminated_on, case.tracking_since) == ("tracking", None, D(2020, 12, 3))


def test_risk_types_are_validated(people):
    p = people
    with pytest.raises(ValidationError):
        s.open_case(household=p.F, category="edge", risk_types="01,02,03,04,05,06", channel="self", user=p.cun_b,
                    on=D(2020, 5, 1))
    with pytest.raises(ValidationError):
        s.open_case(household=p.F, category="edge", risk_types="01,01", channel="self", user=p.cun_b, on=D(2020, 5, 1))
    case = s.open_case(household=p.F, category="edge", risk_types=["01", "02", "03", "04", "05"], channel="self",
                       user=p.cun_b, on=D(2020, 5, 1))
    assert case.risk_type_labels() == ["因病", "因学", "因残", "因自然灾害", "因意外事故"]
    with pytest.raises(WorkflowConflict):
        s.open_case(household=p.F, category="edge", risk_types="01", channel="self", user=p.cun_b, on=D(2020, 5, 1))
