"""炎陵县 demo registry, generated and loaded once (see conftest): calibration and consistency.

Figures asserted are the published ones (policy.md §8.2) or computed by hand:
8,164 households / 26,761 people in 2014, 54 poor villages, incidence 16.57 % (26,761 ÷ 161,503),
below 2 % at the end of 2017.
"""

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db.models import Q, Sum

from xiaokang.areas.models import Area, AreaPopulation
from xiaokang.policy.models import AssessmentReason, HouseholdAssessment, ParameterValue
from xiaokang.policy.params import ParameterUnconfirmed
from xiaokang.policy.services import run_household_assessment
from xiaokang.registry import codes
from xiaokang.registry.idnumber import validate_id_number
from xiaokang.registry.models import Household, Income, Member

from .conftest import YANLING

pytestmark = pytest.mark.django_db


def counted(year):
    end = dt.date(year, 12, 31)
    return Q(birth_date__lte=end) & (Q(entered_on__isnull=True) | Q(entered_on__lte=end)) & \
        (Q(left_on__isnull=True) | Q(left_on__gt=end))


def test_calibration(yanling):
    result, _ = yanling
    hh = Household.objects.within(YANLING)
    assert hh.count() == 8164 == result.households
    assert Member.objects.within(YANLING).filter(counted(2014)).count() == 26761
    assert set(hh.values_list("identified_year", flat=True)) == {2014}
    poor = Area.objects.filter(code__startswith=YANLING, level="village", is_poor_village=True)
    assert poor.count() == 54
    assert all(v.is_demo and v.name.startswith("示例") for v in poor)
    pop14 = AreaPopulation.objects.within(YANLING).filter(year=2014).aggregate(s=Sum("registered_population"))["s"]
    assert pop14 == 161_503
    county = Area.objects.get(code=YANLING)
    assert county.county_exit_year == 2018 and county.is_contiguous_area_county and not county.is_national_key_county


def test_summary_incidence(yanling):
    from xiaokang.policy.selectors import county_summary

    (r14,) = county_summary(2014, YANLING)
    assert (r14["households"], r14["people"], r14["population"]) == (8164, 26761, 161_503)
    assert r14["incidence"] == Decimal("16.57")
    (r17,) = county_summary(2017, YANLING)
    assert r17["incidence"] < 2
    # The same by hand from the registry: people of households not exited by 2017, counted at year end.
    remaining = Member.objects.within(YANLING).filter(counted(2017)).filter(
        Q(household__exit_year__isnull=True) | Q(household__exit_year__gt=2017)).count()
    pop17 = AreaPopulation.objects.within(YANLING).filter(year=2017).aggregate(s=Sum("registered_population"))["s"]
    assert remaining == r17["remaining_people"] and remaining * 100 < 2 * pop17
    (r20,) = county_summary(2020, YANLING)
    assert r20["not_met"] == 2 and r20["remaining_households"] == 2


def test_poor_villages_exit_by_2017(yanling):
    years = Area.objects.filter(code__startswith=YANLING, is_poor_village=True).values_list(
        "village_exit_year", flat=True)
    assert all(y is not None and 2015 <= y <= 2017 for y in years)


def test_verdicts_follow_exit_years(yanling):
    """Every year: 达到 exactly for households exited by then; the rest 未达到 (never 无法评估)."""
    for year in range(2014, 2021):
        rows = HouseholdAssessment.objects.within(YANLING).filter(year=year)
        assert rows.count() == 8164
        wrong = rows.exclude(
            Q(verdict="met", household__exit_year__lte=year)
            | Q(verdict="not_met") & (Q(household__exit_year__gt=year) | Q(household__exit_year__isnull=True)))
        assert wrong.count() == 0, year


def test_2020_failures_have_real_reasons(yanling):
    left = Household.objects.within(YANLING).filter(exit_year__isnull=True)
    assert left.count() == 2 and set(left.values_list("poverty_status", flat=True)) == {"poor"}
    reasons = set(AssessmentReason.objects.filter(year=2020, household__in=left).values_list("code", flat=True))
    assert reasons and reasons <= {"HOUSING_UNSAFE", "EDU_DROPOUT", "INCOME_NOT_ABOVE",
                                   "MED_NO_SERIOUS_ILLNESS_INSURANCE"}
    assert reasons & {"HOUSING_UNSAFE", "EDU_DROPOUT"}


def test_ids_valid_unique_and_synthetic(yanling):
    rows = list(Member.objects.within(YANLING).values_list("id_number", "birth_date", "sex", "name", "document_type"))
    assert len(rows) > 26761  # newborns after 2014
    assert len({r[0] for r in rows}) == len(rows)
    for number, birth, sex, name, doc in rows:
        check = validate_id_number(number, today=dt.date(2021, 1, 1))
        assert check.valid, number
        assert (check.birth_date, check.sex) == (birth, sex)
        assert 900 <= int(number[14:17]) <= 999
        assert number[:6].startswith("4302")
        assert len(name) == 3 and name[1] == "示" and doc == "id"


def test_households_and_members_consistent(yanling):
    hh = {h.pk: h for h in Household.objects.within(YANLING)}
    numbers = [h.household_number for h in hh.values()]
    assert len(set(numbers)) == len(numbers) and all(n.startswith(YANLING) and len(n) == 13 for n in numbers)
    valid_causes = set(codes.PovertyCause.values)
    for h in hh.values():
        assert h.is_demo and h.pairing_cadre and "示" in h.pairing_cadre
        others = h.other_causes.split(",") if h.other_causes else []
        assert h.main_cause in valid_causes and set(others) <= valid_causes
        assert h.main_cause not in others and len(others) == len(set(others))
        assert (h.poverty_status == "exited") == (h.exit_year is not None)
        if h.housing_renovated_year:
            assert h.housing_grade in ("C", "D") and 2015 <= h.housing_renovated_year <= 2019
            assert h.exit_year is None or h.housing_renovated_year <= h.exit_year
        assert h.water_quantity_lpd >= 35 and h.water_quality_ok and h.water_outage_days <= 36
        assert h.food_secure and h.clothing_secure
    causes = Counter(h.main_cause for h in hh.values())
    assert 0.35 < causes["01"] / len(hh) < 0.45  # 因病 about 40 %
    heads = Counter(Member.objects.within(YANLING).filter(relation="01").values_list("household_id", flat=True))
    assert set(heads) == set(hh) and set(heads.values()) == {1}
    types = Counter(h.household_type for h in hh.values())
    assert set(types) <= {"1", "2", "6", "7"} and types["1"] > types["2"] > types["6"]


def test_schooling_every_year(yanling):
    """Anyone aged 6–16 in a year 2014–2020 is in school or exempt, except in households not exited."""
    exit_year = dict(Household.objects.within(YANLING).values_list("pk", "exit_year"))
    dropouts = []
    for m in Member.objects.within(YANLING):
        for year in range(2014, 2021):
            if not 6 <= year - m.birth_date.year <= 16:  # the rule's age: full years on 31 December
                continue
            end = dt.date(year, 12, 31)
            if m.birth_date > end or (m.left_on and m.left_on <= end):
                continue
            if m.schooling_status == "00" and m.not_attending_reason not in ("1", "2"):
                dropouts.append((m.household_id, year))
    assert {exit_year[h] for h, _ in dropouts} <= {None}
    assert dropouts  # the deliberate dropout of a household not exited


def test_incomes(yanling):
    standards = {2014: 2800, 2015: 2855, 2016: 2952, 2017: 3335, 2018: 3535, 2019: 3700, 2020: 4000}
    hh = dict(Household.objects.within(YANLING).values_list("pk", "exit_year"))
    members = defaultdict(list)
    for m in Member.objects.within(YANLING).only("household_id", "birth_date", "entered_on", "left_on"):
        members[m.household_id].append(m)
    incomes = list(Income.objects.within(YANLING))
    assert len(incomes) == 7 * len(hh)
    for i in incomes:
        assert isinstance(i.wage, Decimal)
        if i.business_income:
            assert i.business_expenses > 0
        assert i.public_welfare_post <= i.wage and i.asset_dividend <= i.property_income
        net = (i.wage + i.business_income - i.business_expenses + i.property_income + i.family_planning + i.dibao
               + i.tekun + i.pension + i.ecological + i.other_transfer)
        end = dt.date(i.year, 12, 31)
        n = sum(1 for m in members[i.household_id]
                if m.birth_date <= end and (m.entered_on is None or m.entered_on <= end)
                and (m.left_on is None or m.left_on > end))
        per_capita = net / n
        exited = hh[i.household_id] is not None and i.year >= hh[i.household_id]
        if exited:
            assert per_capita >= Decimal("1.05") * standards[i.year]
        elif hh[i.household_id] is not None or i.year < 2020:
            assert per_capita <= Decimal("0.95") * standards[i.year]


def test_model_validation_on_a_sample(yanling):
    for h in Household.objects.within(YANLING).order_by("pk")[:200]:
        h.full_clean(exclude=["area"])
        for m in h.members.all():
            m.full_clean(exclude=["household"])
        for i in h.incomes.all():
            i.full_clean(exclude=["household"])


def test_2017_needs_the_entered_standard(yanling):
    ParameterValue.objects.filter(name="exit.income_standard", province="43",
                                  effective_from=dt.date(2017, 1, 1)).delete()
    with pytest.raises(ParameterUnconfirmed):
        run_household_assessment(2017, YANLING)
    entered = ParameterValue.objects.get(effective_from=dt.date(2018, 1, 1), province="43")
    assert (entered.value, entered.status) == (3535, "entered") and "未经核实" in entered.source


def test_county_exit_from_the_demo_evaluation(yanling):
    """The demo's special evaluation of 炎陵 for 2017 (synthetic): every rate within its limit → 摘帽 met.

    Sample (exits/demo.py): 180 correctly exited + 1 wrongly exited households of 3 people, 4 poor of 3,
    1 missed of 3, 220 non-registered of 4; 5 of the 406 households do not approve.
    错退率 = 3 ÷ 543 people = 0.55 % < 2 %; 漏评率 = 3 ÷ 883 = 0.34 % < 2 %; 认可度 = 401 ÷ 406 = 98.8 % ≥ 90 %.
    """
    from xiaokang.exits.demo import assess_demo_counties
    from xiaokang.exits.models import CountyAssessment

    assess_demo_counties([2017], YANLING)
    r = CountyAssessment.objects.get(area_id=YANLING, year=2017)
    assert (r.wrongly_exited, r.sampled_exited) == (3, 543)
    assert (r.missed, r.sampled_nonregistered) == (3, 883)
    assert (r.approving_households, r.surveyed_households) == (401, 406)
    assert r.rural_income == Decimal("8600.00") and r.income_path == Decimal("8000.00")
    assert (r.incidence_below, r.rural_income_ok, r.wrong_exit_ok, r.missed_ok, r.approval_ok) == (True,) * 5
    assert r.comprehensive_ok is True and r.verdict == "met"


def test_demo_town_and_village_accounts_sit_where_an_exit_is_open(yanling):
    """demo_village / demo_town are the village and town of the first 炎陵 household still poor in 2020, so
    the demo's first open exit can be taken step by step by the right role at each level."""
    from xiaokang.demo import loader as L

    users = {du.username: user for du, user in L.create_demo_users(password="x")}
    poor = Household.objects.within(YANLING).filter(poverty_status="poor").order_by("area_id", "pk").first()
    assert poor is not None
    assert (users["demo_village"].role, users["demo_village"].area_id) == ("village_admin", poor.area_id)
    assert (users["demo_town"].role, users["demo_town"].area_id) == ("town_admin", poor.area_id[:9])
    # the pairing cadre: three households of that village, two visits on the first (idempotent)
    from xiaokang.registry.models import Pairing, Visit

    cadre = users["demo_cadre"]
    paired = list(Pairing.objects.filter(cadre=cadre).order_by("household_id").values_list("household_id", flat=True))
    assert len(paired) == L.PAIRED_DEMO and Household.objects.filter(pk__in=paired, area_id=poor.area_id).count() == 3
    L.create_demo_users(password="x")
    assert list(Visit.objects.filter(cadre=cadre).order_by("visited_on").values_list(
        "household_id", "visited_on", "mode")) == [(paired[0], dt.date(2020, 3, 16), "home"),
                                                   (paired[0], dt.date(2020, 9, 8), "phone")]
    # the cadre bears the name the first household's form gives its 帮扶责任人, and so do the other two households
    first = Household.objects.get(pk=paired[0])
    assert first.pairing_cadre and cadre.last_name + cadre.first_name == first.pairing_cadre
    assert set(Household.objects.filter(pk__in=paired).values_list("pairing_cadre", flat=True)) == {first.pairing_cadre}
    # three supervision problems in that village, one at each status (still three after the second call), taken
    # through the services: their course names the inspector and the village administrator
    from xiaokang.supervision.models import Problem
    from xiaokang.supervision.views import problem_history

    problems = {p.status: p for p in Problem.objects.filter(area_code=poor.area_id)}
    assert sorted(problems) == ["assigned", "closed", "rectified"] and problems["closed"].household_id == paired[0]
    assert [(h["step"], h["user"], h["on"]) for h in problem_history(problems["rectified"])] == [
        ("交办", "demo_inspector", dt.date(2020, 9, 10)), ("整改", "demo_village", dt.date(2020, 9, 25)),
        ("回访未通过，退回整改", "demo_inspector", dt.date(2020, 10, 5)), ("整改", "demo_village", dt.date(2020, 10, 15))]
    assert problems["rectified"].sent_back == 1 and problems["rectified"].deadline == dt.date(2020, 10, 20)
