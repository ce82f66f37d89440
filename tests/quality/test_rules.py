"""Each data-quality rule fires on a hand-built case and not on the boundary case beside it (2020, ages
in full years on 31 December = 2020 − birth year). Source of the rules: policy.md §2.4, §5.4."""

import datetime as dt
from decimal import Decimal

import pytest

from xiaokang.quality import catalogue
from xiaokang.quality.models import Finding
from xiaokang.quality.services import run_checks
from xiaokang.registry.idnumber import make_id_number
from xiaokang.registry.models import Household, Income, Member

from .conftest import YEAR

D = dt.date


def found(year=YEAR, area=None):
    """{(rule code, household id, member id): value} of the open findings after a run."""
    run_checks(area, year)
    return {(f.rule_code, f.household_id, f.member_id): f.value for f in Finding.objects.filter(status="open")}


def codes(year=YEAR):
    return sorted({k[0] for k in found(year)})


def test_catalogue_has_one_expression_per_rule_and_stable_codes():
    assert len(catalogue.RULES) == 24
    assert catalogue.CODES[:4] == ("Q01_ID_INVALID", "Q02_DUPLICATE_PERSON", "Q03_SEX_ID_MISMATCH",
                                   "Q04_BIRTH_ID_MISMATCH")
    assert catalogue.WORK_MONTHS_RANGE == "Q22_WORK_MONTHS_RANGE"
    assert catalogue.render("Q07_HEAD_UNDER_16", "15", "测试甲") == "户主 测试甲 未满 16 周岁：15 岁"
    assert catalogue.render("Q22_WORK_MONTHS_RANGE", "13 个月", "测试甲") == "测试甲 的务工时间超出 0–12 个月：13 个月"
    assert catalogue.render("Q07_HEAD_UNDER_16", "15", "测试甲", thresholds={}) == "户主 测试甲 未满 … 周岁：15 岁"


def test_messages_quote_the_parameters_of_the_year(db):
    from xiaokang.quality.services import thresholds

    t = thresholds(2020)
    assert t["minor_age"] == "16" and t["income_max"] == "100,000" and t["farmland_max"] == "50"
    assert catalogue.render("Q07_HEAD_UNDER_16", "15", "测试甲", thresholds=t) == "户主 测试甲 未满 16 周岁：15 岁"
    assert catalogue.render("Q20_INCOME_TOO_HIGH", "100000.01", thresholds=t) == "人均纯收入超过 100,000 元：100000.01 元"
    assert catalogue.render("Q08_SCHOOLING_BLANK", "7", "测试乙", "en", t) == (
        "测试乙 (aged 7): schooling status is blank (required at ages 6–23)")
    assert all(r.source.startswith("policy.md §") for r in catalogue.RULES)


def test_a_clean_household_has_no_findings(b):
    b.household()
    assert found() == {}


# --------------------------------------------------------------------------------- ID numbers (Q01–Q04)

def test_invalid_id_number_is_flagged_with_the_reason(b):
    h = b.household()
    head = b.head(h)
    good = head.id_number
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    Member.objects.filter(pk=head.pk).update(id_number=wrong)
    assert found() == {("Q01_ID_INVALID", h.pk, head.pk): f"校验码错误（应为 {good[17]}）"}
    # Another document type is not checked as a resident ID.
    Member.objects.filter(pk=head.pk).update(document_type="hukou")
    assert found() == {}


def test_lower_case_x_and_legacy_15_digit_numbers_are_valid(b):
    h = b.household(head_birth=D(1970, 3, 1))
    head = b.head(h)
    legacy = head.id_number[:6] + head.id_number[8:17]  # 15 digits: YYMMDD, no check character
    Member.objects.filter(pk=head.pk).update(id_number=legacy)
    assert found() == {}


def test_same_person_in_two_households(b):
    h1 = b.household()
    h2 = b.household(head_birth=D(1971, 1, 1))
    m1 = b.head(h1)
    # The same person recorded in h2 under the legacy 15-digit form of the number (unique as text).
    m2 = b.member(h2, D(1970, 3, 1), relation="02")
    Member.objects.filter(pk=m2.pk).update(id_number=m1.id_number[:6] + m1.id_number[8:17])
    assert found() == {("Q02_DUPLICATE_PERSON", h1.pk, m1.pk): "2 户", ("Q02_DUPLICATE_PERSON", h2.pk, m2.pk): "2 户"}
    # Once the copy has left (迁出) by year end, it is one person in one household.
    Member.objects.filter(pk=m2.pk).update(left_on=D(2020, 6, 1), leave_reason="other_out")
    assert found() == {}


def test_sex_and_birth_date_against_the_id_number(b):
    h = b.household()
    head = b.head(h)
    Member.objects.filter(pk=head.pk).update(sex="2")
    assert found() == {("Q03_SEX_ID_MISMATCH", h.pk, head.pk): "登记为女，证件号码为男"}
    Member.objects.filter(pk=head.pk).update(sex="1", birth_date=D(1970, 3, 2))
    assert found() == {("Q04_BIRTH_ID_MISMATCH", h.pk, head.pk): "登记为 1970-03-02，证件号码为 1970-03-01"}


# ------------------------------------------------------------------------------------ head (Q05–Q07)

def test_no_head_and_more_than_one_head(b):
    h = b.household()
    head = b.head(h)
    Member.objects.filter(pk=head.pk).update(relation="02")
    assert found() == {("Q05_NO_HEAD", h.pk, None): "1 名在册成员"}
    Member.objects.filter(pk=head.pk).update(relation="01")
    second = b.member(h, D(1972, 5, 5), relation="01", male=False)
    assert found() == {("Q06_MULTIPLE_HEADS", h.pk, None): "2"}
    # A head who left by year end is not counted.
    Member.objects.filter(pk=second.pk).update(left_on=D(2020, 12, 1))
    assert found() == {}


def test_head_aged_16_passes_and_15_fails(b):
    h16 = b.household(head_birth=D(2004, 12, 31))
    h15 = b.household(head_birth=D(2005, 1, 1))
    Member.objects.filter(household=h15).update(labour_capacity="4")
    head15 = b.head(h15)
    assert found() == {("Q07_HEAD_UNDER_16", h15.pk, head15.pk): "15"}
    assert h16.pk not in {k[1] for k in found()}


# -------------------------------------------------------------------------------- members (Q08–Q11)

@pytest.mark.parametrize("birth_year,flagged", [(2015, False), (2014, True), (1997, True), (1996, False)])
def test_schooling_status_blank_at_ages_6_to_23(b, birth_year, flagged):
    h = b.household()
    m = b.member(h, D(birth_year, 6, 1), schooling_status="")
    expected = {("Q08_SCHOOLING_BLANK", h.pk, m.pk): str(YEAR - birth_year)} if flagged else {}
    assert {k: v for k, v in found().items() if k[0] == "Q08_SCHOOLING_BLANK"} == expected


@pytest.mark.parametrize("birth_year,flagged", [(2005, False), (2004, True), (1955, True), (1954, False)])
def test_labour_capacity_blank_at_ages_16_to_65(b, birth_year, flagged):
    h = b.household()
    m = b.member(h, D(birth_year, 6, 1), labour_capacity="")
    got = {k: v for k, v in found().items() if k[0] == "Q09_LABOUR_BLANK"}
    assert got == ({("Q09_LABOUR_BLANK", h.pk, m.pk): str(YEAR - birth_year)} if flagged else {})


def test_member_under_16_must_be_no_labour(b):
    h = b.household()
    m15 = b.member(h, D(2005, 6, 1), labour_capacity="1")
    b.member(h, D(2004, 6, 1), labour_capacity="1")  # 16: may be a labourer
    m10 = b.member(h, D(2010, 6, 1), labour_capacity="")  # blank is not 无劳动力 either
    assert found() == {("Q10_MINOR_NOT_NO_LABOUR", h.pk, m15.pk): "15 岁，普通劳动力",
                       ("Q10_MINOR_NOT_NO_LABOUR", h.pk, m10.pk): "10 岁，空"}


def test_tekun_household_with_a_labourer_aged_16_to_65(b):
    h = b.household(household_type="6", head_birth=D(1955, 1, 1))  # head 65, 普通劳动力
    head = b.head(h)
    b.member(h, D(1954, 1, 1), labour_capacity="1")  # 66: outside 16–65
    b.member(h, D(1980, 1, 1), labour_capacity="3")  # 丧失劳动力: not a labourer
    assert found() == {("Q11_TEKUN_WITH_LABOURER", h.pk, head.pk): "65 岁，普通劳动力"}


# --------------------------------------------------------------------------- 低保 and causes (Q12–Q17)

def test_dibao_household_needs_someone_on_dibao_and_ordinary_none(b):
    dibao = b.household(household_type="2")
    ordinary = b.household()
    Member.objects.filter(household=ordinary).update(on_dibao=True)
    assert found() == {("Q12_DIBAO_HOUSEHOLD_NO_DIBAO", dibao.pk, None): "",
                       ("Q13_ORDINARY_WITH_DIBAO", ordinary.pk, None): "1"}
    Member.objects.filter(household=dibao).update(on_dibao=True)
    Member.objects.filter(household=ordinary).update(on_dibao=False)
    assert found() == {}


@pytest.mark.parametrize("cause,code,fix", [
    ("01", "Q14_CAUSE_ILLNESS_NO_SICK", {"health_status": "2"}),
    ("03", "Q15_CAUSE_SCHOOLING_NO_STUDENT", {"schooling_status": "40"}),
    ("02", "Q16_CAUSE_DISABILITY_NO_DISABLED", {"disability_grade": "3"}),
])
def test_main_cause_needs_a_matching_member(b, cause, code, fix):
    h = b.household(main_cause=cause)
    assert found() == {(code, h.pk, None): ""}
    b.member(h, D(2003, 1, 1), **fix)
    assert found() == {}


def test_main_cause_repeated_among_other_causes(b):
    h = b.household(main_cause="05", other_causes="03,05")
    b.household(main_cause="01", other_causes="10,11", head_birth=D(1971, 1, 1))  # 01 is not in "10,11"
    Member.objects.filter(household__main_cause="01").update(health_status="3")
    assert found() == {("Q17_CAUSE_REPEATED", h.pk, None): "05"}


# ------------------------------------------------------------------------------------ income (Q18–Q21)

def test_income_blank_when_no_record_for_the_year(b):
    h = b.household(wage=None)
    Income.objects.create(household=h, year=2019, wage=Decimal("5000"))
    assert found() == {("Q18_INCOME_BLANK", h.pk, None): "无 2020 年收入记录"}
    assert found(2019) == {}


def test_income_not_positive(b):
    zero = b.household(wage="0")
    b.household(wage="0.01", head_birth=D(1971, 1, 1))
    loss = b.household(wage="0", head_birth=D(1972, 1, 1))
    Income.objects.filter(household=loss).update(business_income=Decimal("100"), business_expenses=Decimal("250.5"))
    assert found() == {("Q19_INCOME_NOT_POSITIVE", zero.pk, None): "0.00",
                       ("Q19_INCOME_NOT_POSITIVE", loss.pk, None): "-150.50"}


def test_income_exactly_100000_per_person_passes_above_fails(b):
    two = b.household(wage="200000")  # two members: exactly 100,000 each
    b.member(two, D(1972, 1, 1), relation="02", male=False)
    over = b.household(wage="100000.01", head_birth=D(1971, 1, 1))
    assert found() == {("Q20_INCOME_TOO_HIGH", over.pk, None): "100000.01"}


def test_business_income_without_expenses(b):
    h = b.household(wage="5000")
    Income.objects.filter(household=h).update(business_income=Decimal("1200"))
    assert found() == {("Q21_BUSINESS_NO_EXPENSES", h.pk, None): "1200.00"}
    Income.objects.filter(household=h).update(business_expenses=Decimal("0.01"))
    assert found() == {}


# ----------------------------------------------------------------------- work, land, cadre (Q22–Q24)

def test_work_months_outside_0_to_12(b):
    h = b.household()
    head = b.head(h)
    Member.objects.filter(pk=head.pk).update(work_months=12)
    assert found() == {}
    Member.objects.filter(pk=head.pk).update(work_months=13)
    assert found() == {("Q22_WORK_MONTHS_RANGE", h.pk, head.pk): "13 个月"}


def test_farmland_50_mu_per_person_passes_50_01_fails(b):
    b.household(farmland_mu=Decimal("50.00"))
    two = b.household(farmland_mu=Decimal("100.00"), head_birth=D(1971, 1, 1))
    b.member(two, D(1972, 1, 1), relation="02", male=False)
    over = b.household(farmland_mu=Decimal("50.01"), head_birth=D(1973, 1, 1))
    result = found()
    assert set(result) == {("Q23_FARMLAND_PER_PERSON", over.pk, None)}
    assert result[("Q23_FARMLAND_PER_PERSON", over.pk, None)].startswith("耕地 50.01")


def test_no_pairing_cadre(b):
    blank = b.household(pairing_cadre="")
    spaces = b.household(pairing_cadre="  ", head_birth=D(1971, 1, 1))
    assert found() == {("Q24_NO_PAIRING_CADRE", blank.pk, None): "", ("Q24_NO_PAIRING_CADRE", spaces.pk, None): ""}


def test_households_identified_later_are_not_checked(b):
    b.household(pairing_cadre="", identified_year=2021)
    assert found() == {}


def test_a_check_of_an_earlier_year_counts_but_changes_no_stored_finding(b):
    """The stored findings follow the latest income year (2020 here): a check of 2019 counts what its rules
    find there and leaves the 2020 findings as they are (it once marked fixed a 2020 finding whose 2020 data
    still triggered it, and rewrote open findings' year to 2019)."""
    blank_2020 = b.household(wage=None)
    Income.objects.create(household=blank_2020, year=2019, wage=Decimal("5000"))
    b.household()  # has a 2020 income: 2020 is the latest income year
    no_cadre = b.household(pairing_cadre="")
    latest = run_checks(None, 2020)
    assert latest.recorded and (latest.found, latest.new) == (2, 2)
    earlier = run_checks(None, 2019)
    assert not earlier.recorded and (earlier.new, earlier.fixed, earlier.reopened) == (0, 0, 0)
    # 2019: the cadre-less household still has no pairing cadre; the incomes of 2019 exist only for one
    # household, so the two others have none: two Q18 findings of 2019, not stored
    assert earlier.by_rule == {"Q18_INCOME_BLANK": 2, "Q24_NO_PAIRING_CADRE": 1}
    stored = {(f.rule_code, f.household_id): (f.status, f.year) for f in Finding.objects.all()}
    assert stored == {("Q18_INCOME_BLANK", blank_2020.pk): ("open", 2020),
                      ("Q24_NO_PAIRING_CADRE", no_cadre.pk): ("open", 2020)}
