"""Village exit (贫困村退出), hand-worked for Hunan 2019: incidence below 2% and the village conditions."""

import pytest

from xiaokang.exits.models import ExitReason, VillageAssessment
from xiaokang.exits.selectors import village_rows
from xiaokang.exits.services import run_village_assessment
from xiaokang.policy.reasons import Reason, render

from .conftest import COUNTY, village

YEAR = 2019


def outcome(code):
    a = VillageAssessment.objects.get(area_id=code, year=YEAR)
    reasons = sorted((r.code, r.numerator, r.denominator, r.amount, r.threshold, r.detail)
                     for r in ExitReason.objects.filter(level="village", area_id=code, year=YEAR))
    return a, reasons


@pytest.fixture
def villages(build):
    b = build
    for n in range(1, 7):
        if n != 4:
            b.population(village(n), YEAR, 200)
    # V1: 4 poor of 200 = exactly 2%: not below 2% -> not met.
    b.household(village(1), 4)
    b.conditions(village(1), YEAR)
    # V2: 3 poor of 200 = 1.5% -> below. Not counted: a household exited in 2019, one identified in 2020,
    # a member who left on 2019-06-01. Collective income exactly 40,000 passes (at least).
    h = b.household(village(2), 2)
    b.member(h, __import__("datetime").date(1950, 1, 1), left_on=__import__("datetime").date(2019, 6, 1))
    b.household(village(2), 1)
    b.household(village(2), 5, exit_year=2019)
    b.household(village(2), 5, identified=2020)
    b.conditions(village(2), YEAR, income="40000")
    # V3: 1 poor, collective income 39,999.99 (one fen short), no clinic -> not met.
    b.household(village(3), 1)
    b.conditions(village(3), YEAR, income="39999.99", has_clinic=False)
    # V4: no population -> unassessable.  V5: no conditions recorded -> unassessable; road unknown on V5? no record.
    b.household(village(4), 1)
    b.conditions(village(4), YEAR)
    # V6: not a poor village -> not assessed.
    b.conditions(village(6), YEAR)
    return b


def test_incidence_exactly_two_percent_is_not_below(villages):
    run_village_assessment(YEAR, COUNTY)
    a, reasons = outcome(village(1))
    assert (a.poor_people, a.population, a.incidence_below, a.verdict) == (4, 200, False, "not_met")
    assert reasons == [("INCIDENCE_NOT_BELOW", 4, 200, None, 200, "village")]
    assert render(Reason("INCIDENCE_NOT_BELOW", numerator=4, denominator=200, threshold=200, detail="village")) == \
        "村贫困发生率 2.00%（4 人 ÷ 户籍人口 200 人）未低于 2%"


def test_one_and_a_half_percent_and_exactly_40000_pass(villages):
    run_village_assessment(YEAR, COUNTY)
    a, reasons = outcome(village(2))
    assert (a.poor_people, a.incidence_below, a.collective_income_ok, a.verdict) == (3, True, True, "met")
    assert reasons == []


def test_collective_income_one_fen_short_fails(villages):
    run_village_assessment(YEAR, COUNTY)
    a, reasons = outcome(village(3))
    assert (a.incidence_below, a.collective_income_ok, a.clinic, a.verdict) == (True, False, False, "not_met")
    assert reasons == [("COLLECTIVE_INCOME_BELOW", None, None, 3999999, 4000000, None), ("NO_CLINIC",) + (None,) * 5]
    assert render(Reason("COLLECTIVE_INCOME_BELOW", amount=3999999, threshold=4000000)) == \
        "村集体经济收入 39,999.99 元 低于 40,000 元"


def test_missing_population_or_conditions_is_unassessable(villages):
    run_village_assessment(YEAR, COUNTY)
    a, reasons = outcome(village(4))
    assert (a.population, a.incidence_below, a.verdict) == (None, None, "unassessable")
    assert reasons == [("NO_POPULATION", None, None, YEAR, None, None)]
    a, reasons = outcome(village(5))
    assert (a.poor_people, a.incidence_below, a.collective_income_ok, a.verdict) == (0, True, None, "unassessable")
    assert [r[0] for r in reasons] == ["NO_CONDITIONS"]


def test_unknown_condition_is_unassessable_not_passed(villages):
    from xiaokang.exits.models import VillageYear

    VillageYear.objects.filter(area_id=village(2), year=YEAR).update(has_road=None)
    run_village_assessment(YEAR, COUNTY)
    a, reasons = outcome(village(2))
    assert (a.road, a.verdict) == (None, "unassessable")
    assert reasons == [("CONDITION_UNKNOWN", None, None, None, None, "road")]


def test_only_poor_villages_and_only_the_area_are_assessed(villages):
    run = run_village_assessment(YEAR, COUNTY)
    codes = set(VillageAssessment.objects.values_list("area_id", flat=True))
    assert codes == {village(n) for n in range(1, 6)}
    assert run.assessed == 5
    # A second run replaces, never duplicates.
    run_village_assessment(YEAR, COUNTY)
    assert VillageAssessment.objects.count() == 5


def test_selector_rows_render_reasons(villages):
    run_village_assessment(YEAR, COUNTY)
    rows = {r["code"]: r for r in village_rows(VillageAssessment.objects.all(), ExitReason.objects.all(), YEAR)}
    assert rows[village(1)]["incidence"] == "2.00%"
    assert rows[village(3)]["reasons"] == ["村集体经济收入 39,999.99 元 低于 40,000 元", "无标准化村卫生室"]
    assert rows[village(3)]["verdict_label"] == "未达到退出标准"
