"""Reason sentences (评估原因) rendered at display time in the reader's language (Chinese first).

A stored reason is a code with values (member, amount, threshold, detail); the sentence names the
member and the value, e.g. "成员 测试乙（12岁）义务教育阶段失学" or
"人均纯收入 3,120 元 低于 3,700 元（湖南省 2019 年脱贫标准）".
"""

from __future__ import annotations

from dataclasses import dataclass

from xiaokang.core.money import format_yuan

PROVINCE_NAMES = {"43": ("湖南省", "Hunan")}

WATER_ASPECTS = {
    "quantity": ("水量", "quantity"), "quality": ("水质", "quality"),
    "convenience": ("用水方便程度", "convenience"), "guarantee": ("供水保证率", "guarantee"),
}
GRADE_LABELS = {"C": ("C级危房（局部危房）", "grade C (partly unsafe)"), "D": ("D级危房（整幢危房）", "grade D (unsafe)")}


@dataclass(frozen=True)
class Reason:
    code: str
    member_name: str | None = None
    amount: int | None = None
    threshold: int | None = None
    detail: str | None = None
    year: int | None = None
    numerator: int | None = None  # village and county exit rates (reasons_exit)
    denominator: int | None = None


def _yuan(fen):
    if fen is None:
        return "—"
    return format_yuan(fen, 0 if fen % 100 == 0 else 2)


def standard_label(key: str | None, lang: str = "zh") -> str:
    """"43:2019" -> "湖南省 2019 年脱贫标准"; "national:2016" -> "国家扶贫标准 2016 年"."""
    if not key or ":" not in key:
        return key or ""
    scope, year = key.split(":", 1)
    if scope == "national":
        return f"国家扶贫标准 {year} 年" if lang == "zh" else f"national poverty line {year}"
    zh, en = PROVINCE_NAMES.get(scope, (f"省级（{scope}）", f"province {scope}"))
    return f"{zh} {year} 年脱贫标准" if lang == "zh" else f"{en} exit standard {year}"


def render(r: Reason, lang: str = "zh") -> str:
    """The sentence for one reason. Unknown codes render as the code itself."""
    zh = lang.startswith("zh")
    who = r.member_name or ("某成员" if zh else "a member")
    age = r.amount
    c = r.code
    if c == "NO_MEMBERS":
        return "年底家庭人口数为 0，无法计算人均纯收入" if zh else "no members counted at year end: per-capita income cannot be computed"
    if c == "NO_INCOME":
        return f"缺少 {r.amount} 年收入记录，无法评估收入" if zh else f"no income record for {r.amount}: income cannot be assessed"
    if c == "INCOME_NOT_ABOVE":
        label = standard_label(r.detail, "zh" if zh else "en")
        if zh:
            verb = "低于" if (r.amount or 0) < (r.threshold or 0) else "未超过"
            return f"人均纯收入 {_yuan(r.amount)} 元 {verb} {_yuan(r.threshold)} 元（{label}）"
        verb = "below" if (r.amount or 0) < (r.threshold or 0) else "not above"
        return f"per-capita net income {_yuan(r.amount)} yuan {verb} {_yuan(r.threshold)} yuan ({label})"
    if c == "FOOD_INSECURE":
        return "不愁吃未达到" if zh else "food not secure"
    if c == "FOOD_UNKNOWN":
        return "不愁吃未核实" if zh else "food security not verified"
    if c == "CLOTHING_INSECURE":
        return "不愁穿未达到" if zh else "clothing not secure"
    if c == "CLOTHING_UNKNOWN":
        return "不愁穿未核实" if zh else "clothing not verified"
    if c == "EDU_DROPOUT":
        return f"成员 {who}（{age}岁）义务教育阶段失学" if zh else f"member {who} (age {age}) out of compulsory school"
    if c == "EDU_STATUS_MISSING":
        return f"成员 {who}（{age}岁）在校生状况未填写" if zh else f"member {who} (age {age}): schooling status blank"
    if c == "MED_NO_BASIC_INSURANCE":
        return f"成员 {who} 未参加基本医疗保险" if zh else f"member {who} not in basic medical insurance"
    if c == "MED_NO_SERIOUS_ILLNESS_INSURANCE":
        return f"成员 {who} 未参加大病保险" if zh else f"member {who} not in serious-illness insurance"
    if c == "MED_UNKNOWN":
        return f"成员 {who} 参保情况未填写" if zh else f"member {who}: insurance not recorded"
    if c == "HOUSING_BEFORE_RENOVATION":
        return (f"危房改造（或搬迁）于 {r.amount} 年完成，{r.year or ''} 年住房尚不安全" if zh
                else f"house renovated (or household relocated) only in {r.amount}; unsafe in {r.year or ''}")
    if c == "HOUSING_UNSAFE":
        g = GRADE_LABELS.get(r.detail or "", (f"{r.detail}级", f"grade {r.detail}"))
        return f"住房为{g[0]}，未改造" if zh else f"house is {g[1]}, not renovated"
    if c == "HOUSING_UNKNOWN":
        return "住房安全等级未鉴定" if zh else "housing safety grade not recorded"
    if c == "WATER_QUANTITY":
        return (f"人均日供水量 {r.amount} 升 低于 {r.threshold} 升" if zh
                else f"water supply {r.amount} L/person/day below {r.threshold} L")
    if c == "WATER_QUALITY":
        return "饮用水水质不达标" if zh else "drinking-water quality not met"
    if c == "WATER_CONVENIENCE":
        if r.amount is not None:
            return (f"取水不方便：单次往返 {r.amount} 分钟，超过 {r.threshold} 分钟" if zh
                    else f"water not convenient: {r.amount} min per trip, over {r.threshold} min")
        return "取水不方便" if zh else "water not convenient"
    if c == "WATER_GUARANTEE":
        return (f"年断水及供水不足 {r.amount} 天，超过 {r.threshold} 天" if zh
                else f"{r.amount} days without enough water a year, over {r.threshold}")
    if c == "WATER_UNKNOWN":
        a = WATER_ASPECTS.get(r.detail or "", (r.detail, r.detail))
        return f"饮水安全{a[0]}未填写" if zh else f"water {a[1]} not recorded"
    from .reasons_exit import render_exit  # village and county exit codes

    exit_sentence = render_exit(r, zh)
    if exit_sentence is not None:
        return exit_sentence
    return c
