"""County exit (贫困县摘帽) with the special evaluation (三率一度), hand-worked for 炎陵 (Hunan) 2020.

Registry: remaining poor R = 5 people (one household), exited EX = 20 people (four households of 5),
rural population P = 1,000 (county AreaPopulation.rural_population) → incidence 5 / 1000 = 0.5 %;
non-registered rural population NR = 1000 − 5 − 20 = 975.

Samples (1,000 surveyed households):
  exited:          99 correctly exited households × 2 + 1 wrongly exited × 2 → Es = 200, W = 2 → 错退率 1 %
  non-registered:  5 missed households × 1 + 495 non-registered × 1         → N = 500, M = 5 → 漏评率 1 %
  registered poor: 400 households × 1 (approval only)
综合贫困发生率 = (R + 漏评率 × NR + 错退率 × EX) ÷ P = (5 + 0.01 × 975 + 0.01 × 20) ÷ 1000
              = (5 + 9.75 + 0.2) ÷ 1000 = 14.95 ÷ 1000 = 1.495 % < 2 % (reported numerator ⌊⌋: 5 + 9 + 0 = 14)
群众认可度 = 899 ÷ 1000 = 89.9 % < 90 % → the county fails on approval only.
Rural per-capita disposable income 10,000.01 yuan > 10,000 (2020: "above").
"""

from decimal import Decimal

import pytest

from xiaokang.exits.models import CountyAssessment, EvaluationSample, ExitReason
from xiaokang.exits.selectors import county_rows
from xiaokang.exits.services import run_county_assessment
from xiaokang.policy.params import ParameterUnconfirmed
from xiaokang.policy.reasons import Reason, render

from .conftest import COUNTY, OTHER_COUNTY, village

YEAR = 2020


def outcome(code=COUNTY):
    a = CountyAssessment.objects.get(area_id=code, year=YEAR)
    reasons = sorted((r.code, r.numerator, r.denominator, r.amount, r.threshold, r.detail)
                     for r in ExitReason.objects.filter(level="county", area_id=code, year=YEAR))
    return a, reasons


@pytest.fixture
def county(build):
    b = build
    b.population(COUNTY, YEAR, 1200, rural=1000)
    b.population(village(1), YEAR, 600)  # village sums are not used when the county's rural population exists
    b.household(village(1), 5)
    for _ in range(4):
        b.household(village(2), 5, exit_year=2018)
    b.county_income(COUNTY, YEAR, "10000.01")
    b.samples(village(1), YEAR, "correctly_exited", 99, people=2)
    b.samples(village(1), YEAR, "wrongly_exited", 1, people=2)
    b.samples(village(2), YEAR, "missed", 5)
    b.samples(village(2), YEAR, "non_registered", 495)
    b.samples(village(3), YEAR, "poor", 400, approves=lambda i: i >= 101)  # 101 disapprove → 899 approve
    return b


def test_fails_only_on_approval_89_9_percent(county):
    run_county_assessment(YEAR, COUNTY)
    a, reasons = outcome()
    assert (a.remaining_poor, a.exited_people, a.rural_population, a.nonregistered_population) == (5, 20, 1000, 975)
    assert (a.wrongly_exited, a.sampled_exited, a.missed, a.sampled_nonregistered) == (2, 200, 5, 500)
    assert (a.approving_households, a.surveyed_households, a.comprehensive_people) == (899, 1000, 14)
    assert (a.incidence_below, a.rural_income_ok, a.wrong_exit_ok, a.missed_ok, a.comprehensive_ok,
            a.approval_ok) == (True, True, True, True, True, False)
    assert a.verdict == "not_met"
    assert reasons == [("APPROVAL_BELOW", 899, 1000, None, 9000, None)]
    assert render(Reason("APPROVAL_BELOW", numerator=899, denominator=1000, threshold=9000)) == \
        "群众认可度 89.90%（认可 899 户 ÷ 调查 1000 户）低于 90%"


def test_approval_exactly_90_percent_passes(county):
    first = EvaluationSample.objects.filter(approves=False).order_by("id").first()
    EvaluationSample.objects.filter(pk=first.pk).update(approves=True)
    run_county_assessment(YEAR, COUNTY)
    a, reasons = outcome()
    assert (a.approving_households, a.approval_ok, a.verdict, reasons) == (900, True, "met", [])


def test_wrong_exit_rate_exactly_two_percent_fails(county):
    # 98 correct × 2 + 1 wrong × 4 = 200 sampled exited people, 4 wrongly exited: 2.00 % is not below 2 %.
    EvaluationSample.objects.filter(kind="wrongly_exited").update(people=4)
    EvaluationSample.objects.filter(pk=EvaluationSample.objects.filter(kind="correctly_exited").first().pk).delete()
    run_county_assessment(YEAR, COUNTY)
    a, reasons = outcome()
    assert (a.wrongly_exited, a.sampled_exited, a.wrong_exit_ok) == (4, 200, False)
    # comprehensive: (5 + 0.01 × 975 + 0.02 × 20) ÷ 1000 = 15.15 ÷ 1000 = 1.515 % → still passes
    assert (a.comprehensive_ok, a.comprehensive_people) == (True, 14)
    assert ("WRONG_EXIT_RATE_NOT_BELOW", 4, 200, None, 200, None) in reasons


def test_comprehensive_incidence_fails_alone(county):
    # 10 more remaining poor: R = 15 (1.5 %), NR = 965; comprehensive = (15 + 9.65 + 0.2) ÷ 1000 = 2.485 %.
    county.household(village(1), 10)
    EvaluationSample.objects.filter(approves=False).update(approves=True)
    run_county_assessment(YEAR, COUNTY)
    a, reasons = outcome()
    assert (a.incidence_below, a.comprehensive_ok, a.comprehensive_people) == (True, False, 24)
    assert reasons == [("COMPREHENSIVE_INCIDENCE_NOT_BELOW", 24, 1000, None, 200, None)]


def test_income_path_2020_must_be_above_10000(county):
    from xiaokang.exits.models import CountyYear

    CountyYear.objects.filter(area_id=COUNTY).update(rural_income=Decimal("10000.00"))  # exactly the path
    run_county_assessment(YEAR, COUNTY)
    a, reasons = outcome()
    assert a.rural_income_ok is False
    assert ("RURAL_INCOME_BELOW", None, None, 1000000, 1000000, "greater_than") in reasons


def test_no_samples_is_unassessable_and_other_county_is_listed(county):
    run_county_assessment(YEAR, "4302")
    a, reasons = outcome(OTHER_COUNTY)
    assert a.verdict == "unassessable"
    assert [r[0] for r in reasons] == ["NO_EVALUATION", "NO_POPULATION", "RURAL_INCOME_UNKNOWN"]


def test_unconfirmed_income_path_year_raises_before_writing(county):
    with pytest.raises(ParameterUnconfirmed):
        run_county_assessment(2018, COUNTY)
    assert not CountyAssessment.objects.exists()


def test_rates_reported_with_numerator_and_denominator(county):
    run_county_assessment(YEAR, COUNTY)
    (row,) = county_rows(CountyAssessment.objects.all(), ExitReason.objects.all(), YEAR)
    rates = {r["key"]: (r["numerator"], r["denominator"], r["percent"], r["ok"]) for r in row["rates"]}
    assert rates == {
        "incidence": (5, 1000, "0.50%", True), "wrong_exit": (2, 200, "1.00%", True),
        "missed": (5, 500, "1.00%", True), "comprehensive": (14, 1000, "1.40%", True),
        "approval": (899, 1000, "89.90%", False),
    }


def test_entered_interpolated_year_is_used(county):
    import datetime as dt

    from xiaokang.policy.params import ParameterValue, file_parameters

    entered = ParameterValue(name="county.rural_income_path", value=9333, effective_from=dt.date(2019, 1, 1),
                             province="43", status="entered", source="测试录入")
    county.county_income(COUNTY, 2019, "9333")
    run_county_assessment(2019, COUNTY, params=file_parameters().with_entered([entered]))
    a = CountyAssessment.objects.get(area_id=COUNTY, year=2019)
    assert (a.income_path, a.rural_income_ok) == (Decimal("9333.00"), True)  # at least the path
