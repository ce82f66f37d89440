"""Sentences for the village and county exit reasons (贫困村退出、贫困县摘帽), Chinese and English.

A reason carries a code and numbers: ``numerator`` ÷ ``denominator`` for a rate, ``threshold`` in basis
points (200 = 2%) for a rate or in fen for money, ``amount`` (fen or a year). ``render_exit`` returns
None for a code that is not an exit code (``reasons.render`` then carries on with its own codes).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from xiaokang.core.money import format_yuan

CONDITIONS = {
    "NO_ROAD": ("未通硬化路", "no paved road"),
    "NO_WATER": ("未通安全饮水", "no safe drinking water"),
    "NO_ELECTRICITY": ("未通生活用电", "no household electricity"),
    "NO_SCHOOL_ACCESS": ("义务教育就学无保障", "no access to compulsory schooling"),
    "NO_CLINIC": ("无标准化村卫生室", "no standard village clinic"),
}
CONDITION_NAMES = {
    "road": ("通路", "road"), "water": ("通水", "water"), "electricity": ("通电", "electricity"),
    "school": ("就学", "school access"), "clinic": ("卫生室", "clinic"),
}
RATES = {
    # code: (zh name, en name, zh numerator unit, zh denominator unit, en unit, "below" or "at_least")
    "INCIDENCE_NOT_BELOW": ("贫困发生率", "poverty incidence", "人", "人", "people", "below"),
    "WRONG_EXIT_RATE_NOT_BELOW": ("错退率", "wrong-exit rate", "错退 {n} 人", "抽样已脱贫 {d} 人", "people", "below"),
    "MISSED_RATE_NOT_BELOW": ("漏评率", "missed-identification rate", "漏评 {n} 人", "抽样非建档立卡 {d} 人", "people",
                              "below"),
    "COMPREHENSIVE_INCIDENCE_NOT_BELOW": ("综合贫困发生率", "comprehensive poverty incidence",
                                          "贫困人口（含推算） {n} 人", "农村人口 {d} 人", "people", "below"),
    "APPROVAL_BELOW": ("群众认可度", "public approval", "认可 {n} 户", "调查 {d} 户", "households", "at_least"),
}
INCOMPLETE = {
    "exited": ("未抽样已脱贫人口，无法计算错退率", "no exited people sampled: wrong-exit rate cannot be computed"),
    "non_registered": ("未抽样非建档立卡人口，无法计算漏评率", "no non-registered people sampled: missed rate cannot be computed"),
    "approval": ("无群众认可度调查，无法计算认可度", "no approval survey: approval cannot be computed"),
}


def percent(numerator, denominator) -> str:
    """"4", "200" → "2.00%"; "—" when the denominator is missing or zero."""
    if not denominator:
        return "—"
    value = (Decimal(int(numerator or 0)) * 100 / Decimal(int(denominator))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{value}%"


def bp_percent(bp) -> str:
    """Basis points as a percentage: 200 → "2%", 8990 → "89.9%"."""
    if bp is None:
        return "—"
    value = Decimal(int(bp)) / 100
    return f"{value.normalize():f}%"


def _yuan(fen):
    return format_yuan(fen, 0 if fen is None or fen % 100 == 0 else 2)


def render_exit(r, zh: bool = True) -> str | None:
    c = r.code
    n, d, t = getattr(r, "numerator", None), getattr(r, "denominator", None), r.threshold
    if c in RATES:
        name, name_en, nu, du, unit_en, kind = RATES[c]
        if kind == "below":
            above = (n or 0) * 10000 > (t or 0) * (d or 0)
            verb, verb_en = ("高于", "above") if above else ("未低于", "not below")
        else:
            verb, verb_en = "低于", "below"
        if zh:
            if c == "INCIDENCE_NOT_BELOW":
                who = "村" if r.detail == "village" else "县"
                body = f"{n} 人 ÷ {'户籍' if r.detail == 'village' else '农村'}人口 {d} 人"
                return f"{who}贫困发生率 {percent(n, d)}（{body}）{verb} {bp_percent(t)}"
            return f"{name} {percent(n, d)}（{nu.format(n=n)} ÷ {du.format(d=d)}）{verb} {bp_percent(t)}"
        return f"{name_en} {percent(n, d)} ({n} / {d} {unit_en}) {verb_en} {bp_percent(t)}"
    if c in CONDITIONS:
        return CONDITIONS[c][0 if zh else 1]
    if c == "CONDITION_UNKNOWN":
        a = CONDITION_NAMES.get(r.detail or "", (r.detail, r.detail))
        return f"{a[0]}情况未填写" if zh else f"{a[1]} not recorded"
    if c == "COLLECTIVE_INCOME_BELOW":
        return (f"村集体经济收入 {_yuan(r.amount)} 元 低于 {_yuan(t)} 元" if zh
                else f"village collective income {_yuan(r.amount)} yuan below {_yuan(t)} yuan")
    if c == "COLLECTIVE_INCOME_UNKNOWN":
        return "村集体经济收入未填写" if zh else "village collective income not recorded"
    if c == "NO_POPULATION":
        return (f"缺少 {r.amount} 年人口数，无法计算贫困发生率" if zh
                else f"no population for {r.amount}: incidence cannot be computed")
    if c == "NO_CONDITIONS":
        return (f"缺少 {r.amount} 年村退出条件记录（集体经济收入、路水电、就学、卫生室）" if zh
                else f"no village exit conditions recorded for {r.amount}")
    if c == "NO_EVALUATION":
        return (f"缺少 {r.amount} 年专项评估检查抽样数据" if zh
                else f"no special-evaluation samples for {r.amount}")
    if c == "EVALUATION_INCOMPLETE":
        text = INCOMPLETE.get(r.detail or "", (r.detail, r.detail))
        return text[0 if zh else 1]
    if c == "RURAL_INCOME_BELOW":
        strict = r.detail == "greater_than"
        if zh:
            return f"农村居民人均可支配收入 {_yuan(r.amount)} 元 {'未高于' if strict else '未达到'} {_yuan(t)} 元（省定目标）"
        return (f"rural per-capita disposable income {_yuan(r.amount)} yuan {'not above' if strict else 'below'} "
                f"{_yuan(t)} yuan (provincial path)")
    if c == "RURAL_INCOME_UNKNOWN":
        return (f"缺少 {r.amount} 年农村居民人均可支配收入" if zh
                else f"no rural per-capita disposable income for {r.amount}")
    return None
