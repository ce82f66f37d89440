"""The warning rule and the consolidation classes, worked out by hand (see conftest.py for the households)."""

import datetime as dt

from django.core.management import call_command

from xiaokang.monitoring.models import ConsolidationClass, EarlyWarning
from xiaokang.monitoring.services import run_consolidation, run_monitoring, run_warnings
from xiaokang.policy.params import ParameterError, ParameterUnconfirmed
from xiaokang.policy.services import current_parameters
from xiaokang.policy.rules.monitoring import (
    add_months, income_stable_for, monitoring_range, stable_since,
)

import pytest


def stored(year=2020):
    return {(w.household.household_number, w.kind): (w.value, w.threshold)
            for w in EarlyWarning.objects.filter(year=year).select_related("household")}


# YL0002 and CL0001 (2,000 per person) are still poor households: under poverty assistance, not monitored.
EXPECTED_2020 = {
    ("MNB", "MEDICAL_COST"): (1000001, 1000000),      # 10,000.01 元 > 10,000
    ("MND", "INCOME_IN_RANGE"): (599999, 600000),     # 11,999.99 / 2, floor in fen
    ("MNC", "INCOME_DROP"): (600000, 1000000),        # 10,000 -> 6,000 per person (−40 %)
    ("MND", "INCOME_DROP"): (599999, 1000000),
    ("MNE", "INCOME_DROP"): (700000, 1000000),        # exactly −30 %
    ("MNG", "LABOURER_DEATH"): (1, None),
    ("MNG", "NEW_DISABILITY"): (1, None),
    ("MNH", "DISASTER"): (1, None),
}


def test_monitoring_range_2020_is_one_and_a_half_poverty_lines_and_later_years_unconfirmed(db):
    params = current_parameters()
    entry, fen = monitoring_range(params, 2020, "43")
    assert fen == 600000 and "1.5 × 国家扶贫标准 4000 元 = 6000 元" in entry.source
    with pytest.raises(ParameterError, match="2020 年建立"):
        monitoring_range(params, 2019, "43")
    with pytest.raises(ParameterUnconfirmed):
        monitoring_range(params, 2021, "43")


def test_each_warning_fires_at_its_boundary_and_not_below(mon):
    created = run_warnings(2020, "4302")
    assert stored() == EXPECTED_2020
    assert created == {"MEDICAL_COST": 1, "LABOURER_DEATH": 1, "NEW_DISABILITY": 1, "DISASTER": 1, "JOB_LOSS": 0,
                       "INCOME_DROP": 3, "INCOME_IN_RANGE": 1}
    w = EarlyWarning.objects.get(household=mon.B, kind="MEDICAL_COST")
    assert w.status == "new" and w.event.amount == w.event.amount.__class__("10000.01") and w.area_code == mon.B.area_id
    assert EarlyWarning.objects.get(household=mon.G, kind="LABOURER_DEATH").event.kind == "labourer_death"


def test_rerunning_creates_no_duplicates_and_keeps_decisions(mon):
    run_warnings(2020, "430225")
    first = stored()
    assert ("MNH", "DISASTER") not in first  # 茶陵: outside
    EarlyWarning.objects.filter(household=mon.C).update(status="dismissed", reason="测试")
    assert sum(run_warnings(2020, "430225").values()) == 0
    assert stored() == first
    assert EarlyWarning.objects.get(household=mon.C).status == "dismissed"
    assert run_warnings(2020, "4302") == {"MEDICAL_COST": 0, "LABOURER_DEATH": 0, "NEW_DISABILITY": 0,
                                          "DISASTER": 1, "JOB_LOSS": 0, "INCOME_DROP": 0, "INCOME_IN_RANGE": 0}
    assert EarlyWarning.objects.count() == len(EXPECTED_2020)


def test_consolidation_classes(mon):
    run_warnings(2020, "4302")
    counts = run_consolidation(2020, "4302")
    classes = {c.household.household_number: c.klass for c in ConsolidationClass.objects.select_related("household")}
    assert classes == {
        "YL0001": "stable",      # 15,000 per person ≥ 9,000 (150 % of 6,000)
        "YL0003": "stable",      # 9,000: exactly 150 %
        "CL0002": "stable",      # 10,000
        "MNA": "stable",
        "MNB": "consolidate",    # a warning this year
        "MNC": "consolidate",    # 6,000: not below the range, warned
        "MND": "key",            # 5,999.99: below the range
        "MNE": "consolidate",
        "MNF": "consolidate",    # 7,000.01: between 100 % and 150 %, no warning
        "MNG": "consolidate",
        "MNH": "consolidate",
    }
    assert counts == {"stable": 4, "consolidate": 6, "key": 1, "unknown": 0}
    assert ConsolidationClass.objects.get(household=mon.F).per_capita_income == ConsolidationClass.objects.get(
        household=mon.F).per_capita_income.__class__("7000.01")


def test_open_case_makes_a_household_key(mon):
    from xiaokang.monitoring.models import MonitoringCase

    MonitoringCase.objects.create(household=mon.A, category="unstable", risk_types="01", channel="cadre",
                                  opened_on=dt.date(2020, 6, 1), status="monitored")
    run_monitoring(2020, "430225")
    assert ConsolidationClass.objects.get(household=mon.A).klass == "key"


def test_stable_income_months():
    r = 600000
    checks = [(dt.date(2020, 2, 1), 600000, r), (dt.date(2020, 3, 1), 650000, r), (dt.date(2020, 8, 1), 650000, r)]
    assert stable_since(checks) == dt.date(2020, 3, 1)  # exactly at the range is not above
    assert income_stable_for(checks, 6, dt.date(2020, 8, 31)) == (False, dt.date(2020, 3, 1))
    assert income_stable_for(checks, 6, dt.date(2020, 9, 1)) == (True, dt.date(2020, 3, 1))
    assert stable_since(checks + [(dt.date(2020, 9, 1), 590000, r)]) is None
    assert add_months(dt.date(2020, 8, 31), 6) == dt.date(2021, 2, 28)


def test_cli_prints_counts_by_kind(mon, capsys):
    import io

    out, err = io.StringIO(), io.StringIO()
    call_command("assess", "monitoring", year="2020", area="430225", stdout=out, stderr=err)
    text = out.getvalue()
    assert "收入较上年大幅下降" in text and "新增      3" in text and "重点帮扶户" in text
    out = io.StringIO()
    call_command("assess", "monitoring", year="2020", area="430225", format="json", stdout=out, stderr=err)
    import json

    data = json.loads(out.getvalue())["2020"]
    drop = next(x for x in data["warnings"] if x["kind"] == "INCOME_DROP")
    assert drop == {"kind": "INCOME_DROP", "label": "收入较上年大幅下降", "new": 0, "total": 3}
    assert {x["class"]: x["households"] for x in data["classes"]}["key"] == 1
