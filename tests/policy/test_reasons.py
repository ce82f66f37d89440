"""Reason sentences (评估原因), rendered from a code and its values at display time."""

import pytest

from xiaokang.policy.reasons import Reason, render, standard_label
from xiaokang.policy.services import REASON_ORDER


@pytest.mark.parametrize("reason,zh", [
    (Reason("NO_MEMBERS"), "年底家庭人口数为 0，无法计算人均纯收入"),
    (Reason("NO_INCOME", amount=2019), "缺少 2019 年收入记录，无法评估收入"),
    # 312,000 分 = 3,120 元 < 370,000 分 = 3,700 元 → 低于
    (Reason("INCOME_NOT_ABOVE", amount=312_000, threshold=370_000, detail="43:2019"),
     "人均纯收入 3,120 元 低于 3,700 元（湖南省 2019 年脱贫标准）"),
    # equal → 未超过 (the standard must be exceeded)
    (Reason("INCOME_NOT_ABOVE", amount=400_000, threshold=400_000, detail="43:2020"),
     "人均纯收入 4,000 元 未超过 4,000 元（湖南省 2020 年脱贫标准）"),
    # fen shown when not a whole yuan: 399,999 分 = 3,999.99 元
    (Reason("INCOME_NOT_ABOVE", amount=399_999, threshold=400_000, detail="43:2020"),
     "人均纯收入 3,999.99 元 低于 4,000 元（湖南省 2020 年脱贫标准）"),
    # 123,456 分 = 1,234.56 元 < 295,200 分 = 2,952 元 (national line)
    (Reason("INCOME_NOT_ABOVE", amount=123_456, threshold=295_200, detail="national:2016"),
     "人均纯收入 1,234.56 元 低于 2,952 元（国家扶贫标准 2016 年）"),
    (Reason("FOOD_INSECURE"), "不愁吃未达到"),
    (Reason("FOOD_UNKNOWN"), "不愁吃未核实"),
    (Reason("CLOTHING_INSECURE"), "不愁穿未达到"),
    (Reason("CLOTHING_UNKNOWN"), "不愁穿未核实"),
    (Reason("EDU_DROPOUT", member_name="测试乙", amount=12), "成员 测试乙（12岁）义务教育阶段失学"),
    (Reason("EDU_STATUS_MISSING", member_name="测试丙", amount=9), "成员 测试丙（9岁）在校生状况未填写"),
    (Reason("MED_NO_BASIC_INSURANCE", member_name="测试丁"), "成员 测试丁 未参加基本医疗保险"),
    (Reason("MED_NO_SERIOUS_ILLNESS_INSURANCE", member_name="测试丁"), "成员 测试丁 未参加大病保险"),
    (Reason("MED_UNKNOWN", member_name="测试丁"), "成员 测试丁 参保情况未填写"),
    (Reason("HOUSING_BEFORE_RENOVATION", amount=2018, year=2016), "危房改造（或搬迁）于 2018 年完成，2016 年住房尚不安全"),
    (Reason("HOUSING_UNSAFE", detail="D"), "住房为D级危房（整幢危房），未改造"),
    (Reason("HOUSING_UNSAFE", detail="C"), "住房为C级危房（局部危房），未改造"),
    (Reason("HOUSING_UNKNOWN"), "住房安全等级未鉴定"),
    (Reason("WATER_QUANTITY", amount=34, threshold=35), "人均日供水量 34 升 低于 35 升"),
    (Reason("WATER_QUALITY"), "饮用水水质不达标"),
    (Reason("WATER_CONVENIENCE", amount=25, threshold=20), "取水不方便：单次往返 25 分钟，超过 20 分钟"),
    (Reason("WATER_CONVENIENCE", threshold=20), "取水不方便"),
    (Reason("WATER_GUARANTEE", amount=37, threshold=36), "年断水及供水不足 37 天，超过 36 天"),
    (Reason("WATER_UNKNOWN", detail="quantity"), "饮水安全水量未填写"),
    (Reason("WATER_UNKNOWN", detail="quality"), "饮水安全水质未填写"),
    (Reason("WATER_UNKNOWN", detail="convenience"), "饮水安全用水方便程度未填写"),
    (Reason("WATER_UNKNOWN", detail="guarantee"), "饮水安全供水保证率未填写"),
])
def test_chinese_sentences(reason, zh):
    assert render(reason) == zh
    assert render(reason, "zh-hans") == zh


def test_every_ordered_code_renders_in_both_languages():
    for code in REASON_ORDER:
        r = Reason(code, member_name="测试乙", amount=1, threshold=2, detail="43:2019", year=2019)
        zh, en = render(r), render(r, "en")
        assert zh != code and en != code, code
        assert zh != en, code


def test_english_sentences():
    assert render(Reason("INCOME_NOT_ABOVE", amount=312_000, threshold=370_000, detail="43:2019"), "en") == (
        "per-capita net income 3,120 yuan below 3,700 yuan (Hunan exit standard 2019)")
    assert render(Reason("INCOME_NOT_ABOVE", amount=400_000, threshold=400_000, detail="43:2020"), "en") == (
        "per-capita net income 4,000 yuan not above 4,000 yuan (Hunan exit standard 2020)")
    assert render(Reason("EDU_DROPOUT", member_name="测试乙", amount=16), "en") == (
        "member 测试乙 (age 16) out of compulsory school")


def test_member_name_missing_is_some_member():
    assert render(Reason("MED_UNKNOWN")) == "成员 某成员 参保情况未填写"
    assert render(Reason("MED_UNKNOWN"), "en") == "member a member: insurance not recorded"


def test_unknown_code_renders_as_itself():
    assert render(Reason("SOMETHING_NEW")) == "SOMETHING_NEW"


@pytest.mark.parametrize("key,zh,en", [
    ("43:2019", "湖南省 2019 年脱贫标准", "Hunan exit standard 2019"),
    ("national:2016", "国家扶贫标准 2016 年", "national poverty line 2016"),
    ("52:2018", "省级（52） 2018 年脱贫标准", "province 52 exit standard 2018"),
    ("", "", ""),
    (None, "", ""),
    ("weird", "weird", "weird"),
])
def test_standard_label(key, zh, en):
    assert standard_label(key) == zh
    assert standard_label(key, "en") == en
