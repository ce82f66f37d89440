"""Household exit rule (一超过、两不愁、三保障 + 饮水安全) on small hand-built households.

Every case runs through BOTH paths — the batch run (``run_household_assessment`` → HouseholdAssessment /
AssessmentReason rows) and the live run (``assess_household_live``) — and the ``assess`` fixture fails
unless they agree. Expected values are worked out by hand in the comments.

Shipped parameters used below (policy/parameters/*.yaml):
  standard 2016 = national line 2952 (Hunan 2016 unconfirmed → national), key "national:2016"
  standard 2019 = Hunan 3700 (key "43:2019");  standard 2020 = Hunan 4000 (key "43:2020")
  compulsory age 6–16 inclusive (full years on 31 December = year − birth year); exempt reasons "1", "2"
  serious-illness insurance required; safe grades A, B
  water: quantity ≥ 35 L (≥ 20 L in scarce areas); ≤ 20 min or ≤ 800 m or ≤ 80 m; outage ≤ 36 days
"""

from __future__ import annotations

import datetime as dt

import pytest

from xiaokang.areas.models import Area
from xiaokang.policy.models import AssessmentReason, HouseholdAssessment, ParameterValue as ParameterValueRow
from xiaokang.policy.params import ParameterUnconfirmed, ParameterValue, file_parameters
from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE, HouseholdRuleParams, assess_households
from xiaokang.policy.schema import TABLES
from xiaokang.policy.services import assess_household_live, run_household_assessment
from xiaokang.registry.models import Household

from .conftest import COUNTY, OTHER_COUNTY, OTHER_VILLAGE, SECOND_VILLAGE, VILLAGE, stored_outcome

pytestmark = pytest.mark.django_db

D = dt.date


# ---------------------------------------------------------------------------------------------- 一超过 (income)

def test_income_exactly_at_standard_is_not_above(build, assess):
    # 2020, 2 members, net 8,000.00 元 = 800,000 分. Standard 4,000 元 = 400,000 分 × 2 = 800,000 分.
    # 800,000 > 800,000 is false → not above → not_met. Per capita 800,000 // 2 = 400,000 分 = 4,000 元.
    h = build.standard_household(2020, wage="8000")
    out = assess(h, 2020)
    assert out["member_count"] == 2
    assert out["net_income_fen"] == 800_000
    assert out["per_capita_income_fen"] == 400_000
    assert out["income_standard_fen"] == 400_000
    assert out["standard_key"] == "43:2020"
    assert out["income_above_standard"] is False
    assert out["verdict"] == NOT_MET
    assert out.codes == ["INCOME_NOT_ABOVE"]
    assert out.sentences == ["人均纯收入 4,000 元 未超过 4,000 元（湖南省 2020 年脱贫标准）"]


def test_income_one_fen_above_standard_is_met(build, assess):
    # net 8,000.01 元 = 800,001 分 > 800,000 分 → above. Per capita floor(800,001 / 2) = 400,000 分.
    h = build.standard_household(2020, wage="8000.01")
    out = assess(h, 2020)
    assert out["net_income_fen"] == 800_001
    assert out["per_capita_income_fen"] == 400_000
    assert out["income_above_standard"] is True
    assert out["verdict"] == MET
    assert out.reasons == []


def test_income_below_the_2019_hunan_standard(build, assess):
    # 2019, 2 members, net 6,240 元 → per capita 3,120 元 < 3,700 元 (Hunan 2019) → "低于".
    h = build.standard_household(2019, wage="6240")
    out = assess(h, 2019)
    assert out["per_capita_income_fen"] == 312_000
    assert out["income_standard_fen"] == 370_000
    assert out["standard_key"] == "43:2019"
    assert out["income_above_standard"] is False
    assert out["verdict"] == NOT_MET
    assert out.sentences == ["人均纯收入 3,120 元 低于 3,700 元（湖南省 2019 年脱贫标准）"]


def test_2016_uses_the_national_line(build, assess):
    # Hunan 2016 is unconfirmed → national 2016 line 2,952 元. 1 member, net 2,952 元: not above;
    # sentence cites the national line.
    h = build.standard_household(2016, wage="2952", n=1)
    out = assess(h, 2016)
    assert out["income_standard_fen"] == 295_200
    assert out["standard_key"] == "national:2016"
    assert out["verdict"] == NOT_MET
    assert out.sentences == ["人均纯收入 2,952 元 未超过 2,952 元（国家扶贫标准 2016 年）"]


def test_net_income_formula_uses_all_six_items(build, assess):
    # wage 10,000 (of which 公益性岗位 2,000: a sub-item, not added again)
    # + business 6,000 − business expenses 2,500
    # + property 1,500 (of which 资产收益分红 500: sub-item)
    # + transfers: 计划生育 100 + 低保 1,200 + 特困 300 + 养老 900 + 生态 150 + 其他 50.01 = 2,700.01
    # = 10,000 + 6,000 − 2,500 + 1,500 + 2,700.01 = 17,700.01 元 = 1,770,001 分.
    # 3 members: per capita floor(1,770,001 / 3) = 590,000 分 (5,900 元; 590,000.33 floored).
    # Standard 2019: 370,000 × 3 = 1,110,000 < 1,770,001 → above → met.
    h = build.household()
    build.adults(h, 3)
    build.income(h, 2019, wage="10000", public_welfare_post="2000", business_income="6000",
                 business_expenses="2500", property_income="1500", asset_dividend="500", family_planning="100",
                 dibao="1200", tekun="300", pension="900", ecological="150", other_transfer="50.01")
    out = assess(h, 2019)
    assert out["member_count"] == 3
    assert out["net_income_fen"] == 1_770_001
    assert out["per_capita_income_fen"] == 590_000
    assert out["income_above_standard"] is True
    assert out["verdict"] == MET


def test_each_income_item_counts_with_its_sign(build, assess):
    # One item at a time, 1 member, 2019 (standard 3,700 元): 3,700.01 元 of an item is above (370,001 分),
    # and the same minus 0.02 of business expenses is below (369,999 分 = 3,699.99 元).
    # One batch run for all 18 households; the live path is compared on the first pair.
    items = ["wage", "business_income", "property_income", "family_planning", "dibao", "tekun", "pension",
             "ecological", "other_transfer"]
    pairs = []
    for item in items:
        above, below = build.household(), build.household()
        build.adults(above, 1)
        build.adults(below, 1)
        build.income(above, 2019, **{item: "3700.01"})
        build.income(below, 2019, **{item: "3700.01", "business_expenses": "0.02"})
        pairs.append((item, above, below))
    run_household_assessment(2019, COUNTY)
    for item, above, below in pairs:
        a, b = stored_outcome(above, 2019), stored_outcome(below, 2019)
        assert (a["net_income_fen"], a["verdict"], a.reasons) == (370_001, MET, []), item
        assert (b["net_income_fen"], b["verdict"]) == (369_999, NOT_MET), item
        assert b.sentences == ["人均纯收入 3,699.99 元 低于 3,700 元（湖南省 2019 年脱贫标准）"], item
    _, above, below = pairs[0]
    assert assess(above, 2019).result == stored_outcome(above, 2019).result
    assert assess(below, 2019).result == stored_outcome(below, 2019).result


def test_negative_net_income_per_capita_is_floored(build, assess):
    # net = 0 − 0.01 = −1 分; 2 members: floor(−1 / 2) = floor(−0.5) = −1 分 (floor, not truncation to 0).
    h = build.household()
    build.adults(h, 2)
    build.income(h, 2019, business_expenses="0.01")
    out = assess(h, 2019)
    assert out["net_income_fen"] == -1
    assert out["per_capita_income_fen"] == -1
    assert out["verdict"] == NOT_MET


def test_zero_income_record_is_zero_not_missing(build, assess):
    # A record with every item 0 is income 0 (below the standard), not "no record".
    h = build.standard_household(2019, wage="0")
    out = assess(h, 2019)
    assert out["net_income_fen"] == 0
    assert out["income_above_standard"] is False
    assert out["verdict"] == NOT_MET
    assert out.sentences == ["人均纯收入 0 元 低于 3,700 元（湖南省 2019 年脱贫标准）"]


def test_missing_income_record_is_unassessable_never_zero(build, assess):
    # Income recorded for 2018 and 2020, none for 2019 → 2019 unassessable (NO_INCOME), income unknown.
    h = build.household()
    build.adults(h, 2)
    build.income(h, 2018, wage="100000")
    build.income(h, 2020, wage="100000")
    out = assess(h, 2019)
    assert out["net_income_fen"] is None
    assert out["per_capita_income_fen"] is None
    assert out["income_above_standard"] is None
    assert out["verdict"] == UNASSESSABLE
    assert out.codes == ["NO_INCOME"]
    assert out.sentences == ["缺少 2019 年收入记录，无法评估收入"]


def test_missing_income_with_a_failed_criterion_is_still_unassessable(build, assess):
    # Docstring: unassessable with no income record, even when another criterion is false.
    h = build.household(housing_grade="D")
    build.adults(h, 2)
    out = assess(h, 2019)
    assert out["safe_housing"] is False
    assert out["verdict"] == UNASSESSABLE
    assert out.codes == ["NO_INCOME", "HOUSING_UNSAFE"]


# ---------------------------------------------------------------------------------- members at year end

def test_members_are_counted_on_31_december(build, assess):
    # 2019. Counted: 测试甲 (adult), 测试乙 born 2019-12-31 (born by year end), 测试丙 leaving 2020-01-01.
    # Not counted: 测试丁 left 2019-06-30, 测试戊 entered 2020-01-01, 测试己 left 2019-12-31 (gone at year end),
    # 测试庚 born 2020-01-05 (after year end).
    # The uncounted ones are uninsured and out of school: that must not matter.
    # Net 12,000 元 / 3 = 4,000 元 per capita (> 3,700).
    h = build.household()
    build.member(h, "测试甲", D(1970, 3, 1), "01")
    build.member(h, "测试乙", D(2019, 12, 31), "07")
    build.member(h, "测试丙", D(1990, 5, 5), "03", left_on=D(2020, 1, 1))
    build.member(h, "测试丁", D(1992, 7, 7), "04", left_on=D(2019, 6, 30), basic_medical_insurance=False)
    build.member(h, "测试戊", D(2005, 8, 8), "99", entered_on=D(2020, 1, 1), schooling_status="00",
                 serious_illness_insurance=False)
    build.member(h, "测试己", D(1993, 9, 9), "99", left_on=D(2019, 12, 31), basic_medical_insurance=None)
    build.member(h, "测试庚", D(2020, 1, 5), "08", basic_medical_insurance=False)
    build.income(h, 2019, wage="12000")
    out = assess(h, 2019)
    assert out["member_count"] == 3
    assert out["per_capita_income_fen"] == 400_000
    assert out["compulsory_education"] is True
    assert out["basic_medical"] is True
    assert out["verdict"] == MET
    assert out.reasons == []


def test_member_entered_on_1_january_counts_the_next_year(build, assess):
    # 测试戊 entered 2020-01-01: not counted for 2019 (1 member), counted for 2020 (2 members).
    h = build.household()
    build.member(h, "测试甲", D(1970, 3, 1), "01")
    build.member(h, "测试戊", D(1995, 8, 8), "05", entered_on=D(2020, 1, 1))
    build.income(h, 2019, wage="10000")
    build.income(h, 2020, wage="10000")
    assert assess(h, 2019)["member_count"] == 1
    assert assess(h, 2020)["member_count"] == 2


def test_all_members_left_is_unassessable_without_division(build, assess):
    # Both members left on 2019-06-30 → 0 counted at year end: NO_MEMBERS, per capita not computed.
    h = build.household()
    build.member(h, "测试甲", D(1970, 3, 1), "01", left_on=D(2019, 6, 30))
    build.member(h, "测试丁", D(1972, 3, 1), "02", left_on=D(2019, 6, 30))
    build.income(h, 2019, wage="5000")
    out = assess(h, 2019)
    assert out["member_count"] == 0
    assert out["per_capita_income_fen"] is None
    assert out["income_above_standard"] is None
    assert out["verdict"] == UNASSESSABLE
    assert out.codes == ["NO_MEMBERS"]
    assert out.sentences == ["年底家庭人口数为 0，无法计算人均纯收入"]


def test_household_without_members_is_unassessable(build, assess):
    h = build.household()
    build.income(h, 2019, wage="5000")
    out = assess(h, 2019)
    assert out["member_count"] == 0
    assert out["net_income_fen"] == 500_000
    assert out["per_capita_income_fen"] is None
    assert out["verdict"] == UNASSESSABLE
    assert out.codes == ["NO_MEMBERS"]


def test_no_members_and_no_income(build, assess):
    h = build.household()
    out = assess(h, 2019)
    assert out["verdict"] == UNASSESSABLE
    assert out.codes == ["NO_MEMBERS", "NO_INCOME"]


# ------------------------------------------------------------------------- 义务教育有保障 (compulsory education)

EDUCATION_CASES = [
    # (birth of 测试乙, 在校生状况, 未上学原因, compulsory_education, verdict, sentences)   year 2019
    # 2019 − 2003 = 16 → compulsory (6–16), 非在校生 without a reason → dropout
    (D(2003, 5, 1), "00", "", False, NOT_MET, ["成员 测试乙（16岁）义务教育阶段失学"]),
    # born 31 December 2003: 16 full years on 2019-12-31 → still compulsory
    (D(2003, 12, 31), "00", "", False, NOT_MET, ["成员 测试乙（16岁）义务教育阶段失学"]),
    # 2019 − 2002 = 17 → above the window, not checked
    (D(2002, 1, 1), "00", "", True, MET, []),
    # 2019 − 2014 = 5 → below the window, not checked (blank or 非在校生 alike)
    (D(2014, 6, 1), "", "", True, MET, []),
    (D(2014, 6, 1), "00", "", True, MET, []),
    # 2019 − 2013 = 6 → lower bound inclusive
    (D(2013, 1, 1), "00", "", False, NOT_MET, ["成员 测试乙（6岁）义务教育阶段失学"]),
    # 12, 非在校生 with exempt reasons 2 送教上门 and 1 身体原因 → not a dropout
    (D(2007, 9, 1), "00", "2", True, MET, []),
    (D(2007, 9, 1), "00", "1", True, MET, []),
    # 12, 非在校生 because of 3 经济困难 → dropout
    (D(2007, 9, 1), "00", "3", False, NOT_MET, ["成员 测试乙（12岁）义务教育阶段失学"]),
    # 12, in primary school → fine
    (D(2007, 9, 1), "20", "", True, MET, []),
    # 12, status blank → unknown → unassessable
    (D(2007, 9, 1), "", "", None, UNASSESSABLE, ["成员 测试乙（12岁）在校生状况未填写"]),
]


@pytest.mark.parametrize("birth,status,reason,expected,verdict,sentences", EDUCATION_CASES)
def test_compulsory_education(build, assess, birth, status, reason, expected, verdict, sentences):
    h = build.household()
    build.member(h, "测试甲", D(1975, 3, 1), "01")
    build.member(h, "测试乙", birth, "03", schooling_status=status, not_attending_reason=reason)
    build.income(h, 2019, wage="100000")
    out = assess(h, 2019)
    assert out["compulsory_education"] is expected
    assert out["verdict"] == verdict
    assert out.sentences == sentences


def test_dropout_reason_names_each_member(build, assess):
    # Two dropouts (16 and 12) → two reasons, each with the member's name and age; and one member blank.
    h = build.household()
    build.member(h, "测试甲", D(1975, 3, 1), "01")
    build.member(h, "测试乙", D(2003, 5, 1), "03", schooling_status="00")
    build.member(h, "测试丙", D(2007, 5, 1), "04", schooling_status="00", not_attending_reason="4")
    build.member(h, "测试丁", D(2009, 5, 1), "04")
    build.income(h, 2019, wage="100000")
    out = assess(h, 2019)
    assert out["compulsory_education"] is False  # a dropout outweighs an unknown
    assert out["verdict"] == NOT_MET
    assert sorted(out.sentences) == sorted([
        "成员 测试乙（16岁）义务教育阶段失学",
        "成员 测试丙（12岁）义务教育阶段失学",
        "成员 测试丁（10岁）在校生状况未填写",
    ])
    by_code = {(r.code, r.member_name): r.amount for r in out.reasons}
    assert by_code == {("EDU_DROPOUT", "测试乙"): 16, ("EDU_DROPOUT", "测试丙"): 12,
                       ("EDU_STATUS_MISSING", "测试丁"): 10}


# ------------------------------------------------------------------------------- 基本医疗有保障 (medical)

MEDICAL_CASES = [
    # (测试丁's basic insurance, serious-illness insurance, basic_medical, verdict, sentences)
    (True, True, True, MET, []),
    (False, True, False, NOT_MET, ["成员 测试丁 未参加基本医疗保险"]),
    # serious-illness insurance required by the parameter (medical.require_serious_illness_insurance)
    (True, False, False, NOT_MET, ["成员 测试丁 未参加大病保险"]),
    (False, False, False, NOT_MET, ["成员 测试丁 未参加基本医疗保险", "成员 测试丁 未参加大病保险"]),
    (None, True, None, UNASSESSABLE, ["成员 测试丁 参保情况未填写"]),
    (True, None, None, UNASSESSABLE, ["成员 测试丁 参保情况未填写"]),
]


@pytest.mark.parametrize("basic,serious,expected,verdict,sentences", MEDICAL_CASES)
def test_basic_medical(build, assess, basic, serious, expected, verdict, sentences):
    h = build.household()
    build.member(h, "测试甲", D(1970, 3, 1), "01")
    build.member(h, "测试丁", D(1972, 3, 1), "02", basic_medical_insurance=basic, serious_illness_insurance=serious)
    build.income(h, 2019, wage="100000")
    out = assess(h, 2019)
    assert out["basic_medical"] is expected
    assert out["verdict"] == verdict
    assert out.sentences == sentences


def test_serious_illness_insurance_not_required_when_parameter_says_so(build, assess):
    # An administrator sets medical.require_serious_illness_insurance = false from 2019: a member without
    # serious-illness insurance no longer fails basic medical care.
    params = file_parameters().with_entered([ParameterValue(
        name="medical.require_serious_illness_insurance", value=False, effective_from=D(2019, 1, 1),
        status="entered", source="测试录入")])
    h = build.household()
    build.member(h, "测试甲", D(1970, 3, 1), "01", serious_illness_insurance=False)
    build.member(h, "测试丁", D(1972, 3, 1), "02", serious_illness_insurance=None)
    build.income(h, 2019, wage="100000")
    out = assess(h, 2019, params=params)
    assert out["basic_medical"] is True
    assert out["verdict"] == MET
    assert out.reasons == []


# --------------------------------------------------------------------------------- 住房安全有保障 (housing)

HOUSING_CASES = [
    # (grade, renovated year, assessed year, safe_housing, verdict, sentences)
    ("D", None, 2019, False, NOT_MET, ["住房为D级危房（整幢危房），未改造"]),
    ("C", None, 2019, False, NOT_MET, ["住房为C级危房（局部危房），未改造"]),
    ("D", 2018, 2019, True, MET, []),
    # renovated only in 2018: in 2016 (national line 2,952) the house was still unsafe
    ("D", 2018, 2016, False, NOT_MET, ["危房改造（或搬迁）于 2018 年完成，2016 年住房尚不安全"]),
    # a later renovation overrides even a grade recorded as safe
    ("A", 2018, 2016, False, NOT_MET, ["危房改造（或搬迁）于 2018 年完成，2016 年住房尚不安全"]),
    ("D", 2016, 2016, True, MET, []),  # renovated in the assessed year itself
    ("B", None, 2019, True, MET, []),
    ("A", None, 2019, True, MET, []),
    ("", None, 2019, None, UNASSESSABLE, ["住房安全等级未鉴定"]),
    ("", 2017, 2019, True, MET, []),
]


@pytest.mark.parametrize("grade,renovated,year,expected,verdict,sentences", HOUSING_CASES)
def test_safe_housing(build, assess, grade, renovated, year, expected, verdict, sentences):
    h = build.standard_household(year, housing_grade=grade, housing_renovated_year=renovated)
    out = assess(h, year)
    assert out["safe_housing"] is expected
    assert out["verdict"] == verdict
    assert out.sentences == sentences


# ------------------------------------------------------------------------------ 饮水安全有保障 (water)

WATER_CASES = [
    # (household fields, safe_water, verdict, sentences); defaults: not scarce, 50 L, quality ok, piped, 0 days
    ({"water_quantity_lpd": 34}, False, NOT_MET, ["人均日供水量 34 升 低于 35 升"]),
    ({"water_quantity_lpd": 35}, True, MET, []),  # boundary: ≥ 35
    ({"water_quantity_lpd": 34, "water_scarce_area": True}, True, MET, []),  # scarce: ≥ 20
    ({"water_quantity_lpd": 20, "water_scarce_area": True}, True, MET, []),
    ({"water_quantity_lpd": 19, "water_scarce_area": True}, False, NOT_MET, ["人均日供水量 19 升 低于 20 升"]),
    ({"water_quantity_lpd": None}, None, UNASSESSABLE, ["饮水安全水量未填写"]),
    ({"water_quality_ok": None}, None, UNASSESSABLE, ["饮水安全水质未填写"]),
    ({"water_quality_ok": False}, False, NOT_MET, ["饮用水水质不达标"]),
    # convenience: piped, or ≤ 20 min, or ≤ 800 m horizontal, or ≤ 80 m vertical
    ({"water_piped": False, "water_fetch_minutes": 25}, False, NOT_MET,
     ["取水不方便：单次往返 25 分钟，超过 20 分钟"]),
    ({"water_piped": False, "water_fetch_minutes": 20}, True, MET, []),
    ({"water_piped": False, "water_fetch_minutes": 25, "water_fetch_distance_m": 800}, True, MET, []),
    ({"water_piped": False, "water_fetch_minutes": 25, "water_fetch_vertical_m": 80}, True, MET, []),
    ({"water_piped": False, "water_fetch_distance_m": 801}, False, NOT_MET, ["取水不方便"]),
    ({"water_piped": False, "water_fetch_vertical_m": 81}, False, NOT_MET, ["取水不方便"]),
    ({"water_piped": False}, None, UNASSESSABLE, ["饮水安全用水方便程度未填写"]),
    ({"water_piped": None}, None, UNASSESSABLE, ["饮水安全用水方便程度未填写"]),
    ({"water_piped": None, "water_fetch_minutes": 10}, True, MET, []),
    # guarantee: ≤ 36 days of outage a year
    ({"water_outage_days": 36}, True, MET, []),
    ({"water_outage_days": 37}, False, NOT_MET, ["年断水及供水不足 37 天，超过 36 天"]),
    ({"water_outage_days": None}, None, UNASSESSABLE, ["饮水安全供水保证率未填写"]),
    # false outweighs unknown
    ({"water_quality_ok": None, "water_outage_days": 37}, False, NOT_MET,
     ["年断水及供水不足 37 天，超过 36 天", "饮水安全水质未填写"]),
]


@pytest.mark.parametrize("fields,expected,verdict,sentences", WATER_CASES)
def test_safe_water(build, assess, fields, expected, verdict, sentences):
    h = build.standard_household(2019, **fields)
    out = assess(h, 2019)
    assert out["safe_water"] is expected
    assert out["verdict"] == verdict
    assert out.sentences == sentences


# ------------------------------------------------------------------------------ 两不愁 (food, clothing)

FOOD_CASES = [
    ({"food_secure": False}, False, NOT_MET, ["不愁吃未达到"]),
    ({"clothing_secure": False}, False, NOT_MET, ["不愁穿未达到"]),
    ({"food_secure": None}, None, UNASSESSABLE, ["不愁吃未核实"]),
    ({"clothing_secure": None}, None, UNASSESSABLE, ["不愁穿未核实"]),
    ({"food_secure": False, "clothing_secure": None}, False, NOT_MET, ["不愁吃未达到", "不愁穿未核实"]),
]


@pytest.mark.parametrize("fields,expected,verdict,sentences", FOOD_CASES)
def test_food_and_clothing(build, assess, fields, expected, verdict, sentences):
    h = build.standard_household(2019, **fields)
    out = assess(h, 2019)
    assert out["food_and_clothing"] is expected
    assert out["verdict"] == verdict
    assert out.sentences == sentences


# ------------------------------------------------------------------------------------------ the verdict

def test_a_false_criterion_outweighs_an_unknown_one(build, assess):
    # housing D (false) and water quality unknown (null) → not_met, both reasons listed.
    h = build.standard_household(2019, housing_grade="D", water_quality_ok=None)
    out = assess(h, 2019)
    assert out["safe_housing"] is False
    assert out["safe_water"] is None
    assert out["verdict"] == NOT_MET
    assert out.codes == ["HOUSING_UNSAFE", "WATER_UNKNOWN"]


def test_a_household_meeting_everything_is_met_with_no_reasons(build, assess):
    h = build.standard_household(2019)
    out = assess(h, 2019)
    assert {k: out[k] for k in ("income_above_standard", "food_and_clothing", "compulsory_education",
                                "basic_medical", "safe_housing", "safe_water")} == dict.fromkeys(
        ("income_above_standard", "food_and_clothing", "compulsory_education", "basic_medical", "safe_housing",
         "safe_water"), True)
    assert out["verdict"] == MET
    assert out.reasons == []


# -------------------------------------------------------------------------- which households, which rows

def test_household_identified_later_is_not_assessed(build, assess):
    # Identified in 2020 → not part of the 2019 run (no row, no reasons), part of the 2020 run.
    h = build.standard_household(2019, identified_year=2020)
    build.income(h, 2020, wage="100000")
    out = assess(h, 2019)
    assert out.result is None and out.reasons == []
    assert not HouseholdAssessment.objects.filter(household=h, year=2019).exists()
    assert assess(h, 2020)["verdict"] == MET


def test_run_is_scoped_to_the_area(build):
    here = build.standard_household(2019, village=VILLAGE)
    there = build.standard_household(2019, village=OTHER_VILLAGE)
    run = run_household_assessment(2019, COUNTY)
    assert run.households == 1
    assert list(HouseholdAssessment.objects.filter(year=2019).values_list("household_id", flat=True)) == [here.pk]
    # the other county's run adds its household and leaves this county's row alone
    run_household_assessment(2019, OTHER_COUNTY)
    assert set(HouseholdAssessment.objects.filter(year=2019).values_list("household_id", flat=True)) == {
        here.pk, there.pk}
    # the whole city (prefix 4302, given as an Area) and everything (None) cover both
    assert run_household_assessment(2019, Area.objects.get(code="4302")).households == 2
    assert run_household_assessment(2019, None).households == 2
    assert HouseholdAssessment.objects.filter(year=2019).count() == 2


def test_rerun_replaces_rather_than_duplicates(build, assess):
    h = build.standard_household(2019, housing_grade="D", water_outage_days=37)
    first = run_household_assessment(2019, COUNTY)
    assert (first.households, first.reasons) == (1, 2)
    second = run_household_assessment(2019, COUNTY)
    assert (second.households, second.reasons) == (1, 2)
    assert HouseholdAssessment.objects.filter(household=h, year=2019).count() == 1
    assert AssessmentReason.objects.filter(household=h, year=2019).count() == 2
    # the data change and a re-run for the village alone: the row is replaced with the new verdict
    Household.objects.filter(pk=h.pk).update(housing_grade="A", water_outage_days=3)
    run_household_assessment(2019, VILLAGE)
    assert HouseholdAssessment.objects.get(household=h, year=2019).verdict == MET
    assert not AssessmentReason.objects.filter(household=h, year=2019).exists()
    assert stored_outcome(h, 2019).result["verdict"] == MET


def test_rerun_of_one_village_keeps_its_neighbours_rows(build):
    a = build.standard_household(2019, village=VILLAGE, housing_grade="D")
    b = build.standard_household(2019, village=SECOND_VILLAGE, housing_grade="C")
    run_household_assessment(2019, COUNTY)
    run_household_assessment(2019, SECOND_VILLAGE)
    assert HouseholdAssessment.objects.filter(year=2019).count() == 2
    assert AssessmentReason.objects.filter(household=a, year=2019).count() == 1
    assert AssessmentReason.objects.filter(household=b, year=2019).count() == 1


def test_runs_of_different_years_are_kept_apart(build):
    h = build.standard_household(2019)
    build.income(h, 2020, wage="100000")
    run_household_assessment(2019, COUNTY)
    run_household_assessment(2020, COUNTY)
    run_household_assessment(2020, COUNTY)
    assert sorted(HouseholdAssessment.objects.filter(household=h).values_list("year", flat=True)) == [2019, 2020]


def test_unconfirmed_year_raises_and_writes_nothing(build):
    # Hunan 2017 and the national 2017 line are both unconfirmed: the run refuses, naming parameter and year.
    h = build.standard_household(2017)
    with pytest.raises(ParameterUnconfirmed, match="2017"):
        run_household_assessment(2017, COUNTY)
    with pytest.raises(ParameterUnconfirmed, match="exit.income_standard"):
        assess_household_live(h, 2017)
    assert not HouseholdAssessment.objects.filter(year=2017).exists()


def test_unconfirmed_year_keeps_earlier_results(build):
    h = build.standard_household(2016)
    run_household_assessment(2016, COUNTY)  # 2016 works (national line)
    before = HouseholdAssessment.objects.filter(household=h).count()
    with pytest.raises(ParameterUnconfirmed):
        run_household_assessment(2018, COUNTY)
    assert HouseholdAssessment.objects.filter(household=h).count() == before == 1


def test_administrator_entered_standard_makes_2017_usable(build, assess):
    # A ParameterValue row (参数录入) for Hunan 2017 = 3,335 元 (a test value) is merged over the files.
    ParameterValueRow.objects.create(name="exit.income_standard", province="43", effective_from=D(2017, 1, 1),
                                     value=3335, source="测试录入（非真实数字）")
    # 2 members, net 6,670 元 = 667,000 分 = 333,500 × 2 → not above.
    h = build.standard_household(2017, wage="6670")
    out = assess(h, 2017)
    assert out["income_standard_fen"] == 333_500
    assert out["standard_key"] == "43:2017"
    assert out["verdict"] == NOT_MET
    assert out.sentences == ["人均纯收入 3,335 元 未超过 3,335 元（湖南省 2017 年脱贫标准）"]


def test_live_assessment_of_one_household_ignores_the_others(build):
    a = build.standard_household(2019, wage="1000")  # not met
    build.standard_household(2019)  # met, same village
    row, reasons = assess_household_live(a, 2019)
    assert row["household_id"] == a.pk
    assert row["verdict"] == NOT_MET
    assert [r.code for r in reasons] == ["INCOME_NOT_ABOVE"]


# ------------------------------------------------------------------------------ the same rule on DuckDB

_DUCK_TYPES = {"int64": "BIGINT", "string": "VARCHAR", "boolean": "BOOLEAN", "date": "DATE"}


def _copy_to_duckdb(duck):
    """Copy the registry tables (schema columns only, raw stored values) into an in-memory DuckDB."""
    from django.db import connection

    for _key, (table, schema) in TABLES.items():
        cols = list(schema.names)
        types = [str(schema[c]).rstrip("!").lower() for c in cols]
        duck.execute(f'CREATE TABLE "{table}" (' + ", ".join(
            f'"{c}" {_DUCK_TYPES[t]}' for c, t in zip(cols, types)) + ")")
        with connection.cursor() as cur:
            cur.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{table}"')
            rows = cur.fetchall()

        def conv(v, t):
            if v is None:
                return None
            if t == "boolean":
                return bool(v)
            if t == "date" and isinstance(v, str):
                return dt.date.fromisoformat(v)
            return v

        if rows:
            duck.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in cols)})',
                             [[conv(v, t) for v, t in zip(r, types)] for r in rows])


def test_same_results_on_duckdb(build):
    duckdb = pytest.importorskip("duckdb")
    from xiaokang.policy import engine
    from xiaokang.policy.schema import unbound_tables

    build.standard_household(2019, wage="7400")  # exactly 3,700 × 2 → not above
    build.standard_household(2019, housing_grade="D", water_quality_ok=None)
    h = build.household()
    build.member(h, "测试甲", D(1970, 3, 1), "01")
    build.member(h, "测试乙", D(2003, 5, 1), "03", schooling_status="00", left_on=None)
    build.member(h, "测试丙", D(2007, 5, 1), "04")
    build.member(h, "测试丁", D(1990, 1, 1), "03", left_on=D(2019, 6, 30))
    build.income(h, 2019, wage="20000", business_expenses="0.01")
    empty = build.household()
    build.income(empty, 2019, wage="1")
    build.standard_household(2019, village=OTHER_VILLAGE, food_secure=None)

    run_household_assessment(2019, COUNTY)
    p = HouseholdRuleParams.resolve(file_parameters(), 2019, "43")
    results, reasons = assess_households(unbound_tables(), p, COUNTY)
    duck = duckdb.connect()
    _copy_to_duckdb(duck)

    def rows(expr):
        cur = duck.execute(engine.to_sql(expr, "duckdb"))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    got = {r["household_id"]: r for r in rows(results)}
    stored = {a.household_id: a for a in HouseholdAssessment.objects.filter(year=2019)}
    assert set(got) == set(stored) and len(got) == 4
    for hid, a in stored.items():
        r = got[hid]
        assert r["verdict"] == a.verdict
        assert r["member_count"] == a.member_count
        assert r["net_income_fen"] == (None if a.net_income is None else int(a.net_income * 100))
        assert r["per_capita_income_fen"] == (None if a.per_capita_income is None else int(a.per_capita_income * 100))
        for c in ("income_above_standard", "food_and_clothing", "compulsory_education", "basic_medical",
                  "safe_housing", "safe_water"):
            assert r[c] == getattr(a, c), (hid, c)
    duck_reasons = sorted((r["household_id"], r["code"], r["member_id"], r["amount"], r["threshold"], r["detail"])
                          for r in rows(reasons))
    db_reasons = sorted(AssessmentReason.objects.filter(year=2019).values_list(
        "household_id", "code", "member_id", "amount", "threshold", "detail"))
    assert duck_reasons == db_reasons


def test_income_comparison_comes_from_the_parameter_file(build, assess):
    # exit.income_standard says comparison: greater_than ("超过"). With "at_least" the same household
    # (per capita exactly 4,000 元 = standard 4,000 元) would meet the standard: 800,000 >= 800,000.
    import dataclasses
    from xiaokang.policy.params import file_parameters
    from xiaokang.policy.rules.household import HouseholdRuleParams, assess_households, income_comparison
    from xiaokang.policy.schema import unbound_tables
    from xiaokang.policy import engine
    from django.db import connection

    assert income_comparison(file_parameters()) == "greater_than"
    h = build.standard_household(2020, wage="8000")
    p = dataclasses.replace(HouseholdRuleParams.resolve(file_parameters(), 2020, "43"), income_comparison="at_least")
    results, _ = assess_households(unbound_tables(), p, household_ids=[h.pk])
    with connection.cursor() as cur:
        (row,) = engine.fetch(cur, connection.vendor, results)
    assert bool(row["income_above_standard"]) is True
    assert row["verdict"] == "met"
