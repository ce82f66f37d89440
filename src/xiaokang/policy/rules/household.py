"""Household exit assessment (贫困户退出评估): "一超过、两不愁、三保障" plus safe drinking water.

Source: 中办国办《关于建立贫困退出机制的意见》(2016-04); Hunan's wording "一超过、两不愁、三保障"; the
operational tests of ../shared/reference/policy.md §3.2. Every number comes from the parameters.

``assess_households`` builds two Ibis expressions over the registry tables for one year — one row per
household and one row per reason — that any Ibis backend runs set-based (SQLite, PostgreSQL, DuckDB):
no Python loop per household. This module does not import Django.

Criteria (each is true, false, or null = unknown because data is missing):

- ``income_above_standard`` 一超过: net income (wage + business − business expenses + property +
  counted transfers, 元) > standard × members counted on 31 December. Compared in integer fen, so
  an income exactly at the standard is *not* above it. Null when there are no counted members or no
  income record for the year (then the verdict is 无法评估; a missing record is never taken as 0).
- ``food_and_clothing`` 不愁吃、不愁穿: as verified on the household visit.
- ``compulsory_education`` 义务教育有保障: no counted member aged 6–16 (full years on 31 December,
  parameters) is 非在校生 without an exempt reason (身体原因、送教上门).
- ``basic_medical`` 基本医疗有保障: every counted member in basic medical insurance (and serious-illness
  insurance when the parameter requires it).
- ``safe_housing`` 住房安全有保障: renovated or relocated by that year; or, with no renovation
  recorded, grade A or B. A renovation completed in a later year means the house was unsafe before.
- ``safe_water`` 饮水安全有保障: quantity, quality, convenience and guarantee all met.

Verdict: ``unassessable`` (无法评估) with no counted members or no income record; else ``not_met``
(未达到脱贫标准) if any criterion is false; else ``unassessable`` if any is unknown; else ``met``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import ibis

from ..params import Parameters, exit_income_standard

RULE_VERSION = "household-exit/2016-04.1"

MET, NOT_MET, UNASSESSABLE = "met", "not_met", "unassessable"
VERDICTS = {MET: "达到脱贫标准", NOT_MET: "未达到脱贫标准", UNASSESSABLE: "无法评估"}
CRITERIA = (
    "income_above_standard", "food_and_clothing", "compulsory_education",
    "basic_medical", "safe_housing", "safe_water",
)
NOT_IN_SCHOOL = "00"
INCOME_COMPONENTS = ("wage_fen", "business_income_fen", "property_income_fen")
REASON_COLUMNS = ("household_id", "code", "member_id", "amount", "threshold", "detail")


@dataclass(frozen=True)
class HouseholdRuleParams:
    """The parameter values one year's assessment uses (all resolved before any query runs)."""

    year: int
    province: str
    standard_fen: int
    standard_key: str  # "43:2019" (provincial) or "national:2016"
    standard_source: str
    income_comparison: str  # "greater_than" (须超过标准) or "at_least"; exit.income_standard's ``comparison``
    age_min: int
    age_max: int
    exempt_reasons: tuple[str, ...]
    require_serious_illness: bool
    safe_grades: tuple[str, ...]
    water_quantity_min: int
    water_quantity_min_scarce: int
    water_minutes_max: int
    water_distance_max: int
    water_vertical_max: int
    water_outage_max: int
    counted_transfers: tuple[str, ...]
    rule_version: str = RULE_VERSION

    @classmethod
    def resolve(cls, params: Parameters, year: int, province: str) -> "HouseholdRuleParams":
        """Look every value up for 31 December of ``year``. Raises ParameterUnconfirmed/ParameterError."""
        on = dt.date(year, 12, 31)
        std = exit_income_standard(params, year, province)
        key = f"{std.province}:{year}" if std.province else f"national:{year}"

        def v(name):
            return params.value(name, on, province)

        return cls(
            year=year, province=province, standard_fen=int(round(float(std.value) * 100)), standard_key=key,
            standard_source=std.source,
            income_comparison=income_comparison(params),
            age_min=int(v("schooling.compulsory_age_min")), age_max=int(v("schooling.compulsory_age_max")),
            exempt_reasons=tuple(str(x) for x in v("schooling.exempt_not_attending_reasons")),
            require_serious_illness=bool(v("medical.require_serious_illness_insurance")),
            safe_grades=tuple(v("housing.safe_grades")),
            water_quantity_min=int(v("water.quantity_min_lpd")),
            water_quantity_min_scarce=int(v("water.quantity_min_lpd_scarce")),
            water_minutes_max=int(v("water.fetch_minutes_max")),
            water_distance_max=int(v("water.fetch_distance_max_m")),
            water_vertical_max=int(v("water.fetch_vertical_max_m")),
            water_outage_max=int(v("water.outage_days_max")),
            counted_transfers=tuple(f"{x}_fen" for x in v("income.counted_transfers")),
        )


COMPARISONS = ("greater_than", "at_least")


def income_comparison(params: Parameters) -> str:
    """How income meets the exit standard, from ``exit.income_standard``'s ``comparison`` in the files.

    Raises ParameterError for a missing or unknown value (never a silent default).
    """
    from ..params import ParameterError

    how = params.meta("exit.income_standard").get("comparison")
    if how not in COMPARISONS:
        raise ParameterError(f"exit.income_standard 的 comparison 应为 {'/'.join(COMPARISONS)}，实为 {how!r}")
    return how


def area_filter(column, prefix: str):
    """Rows whose area code starts with ``prefix`` (a digit string): a range test that uses indexes."""
    if not prefix:
        return ibis.literal(True)
    if len(prefix) == 12:
        return column == prefix
    return (column >= prefix) & (column <= prefix + "9" * (12 - len(prefix)))


def _null(type_: str):
    return ibis.null(type_)


def _count_true(flag):
    """Number of rows where ``flag`` is true (portable: PostgreSQL cannot cast boolean to bigint)."""
    return ibis.ifelse(flag, 1, 0).sum().cast("int64")


def _all(*criteria):
    """Three-valued AND: false if any is false, else null if any is null, else true.

    This is SQL's own ``AND`` (ISO SQL three-valued logic, as in SQLite, PostgreSQL, DuckDB and Spark),
    which engines evaluate far faster than the equivalent CASE over null tests."""
    return ibis.and_(*criteria)


def assess_households(tables: dict, p: HouseholdRuleParams, area_prefix: str = "",
                      household_ids: Iterable[int] | None = None):
    """Assess every household identified by ``p.year`` in an area (or the given households).

    ``tables``: Ibis tables ``household``, ``member``, ``income`` (schema: ``xiaokang.policy.schema``).
    Returns ``(results, reasons)``:

    - results: household_id, area_code, year, member_count, net_income_fen, per_capita_income_fen
      (floor, 分), income_standard_fen, standard_key, the six criteria (boolean or null), verdict.
    - reasons: household_id, code, member_id, amount, threshold, detail — one row per reason; codes
      and their sentences are in ``xiaokang.policy.reasons``.
    """
    facts, wide = build_stages(tables, p, area_prefix, household_ids)
    return results_from(wide), reasons_from(wide, facts, p)


def build_stages(tables: dict, p: HouseholdRuleParams, area_prefix: str = "",
                 household_ids: Iterable[int] | None = None):
    """The two intermediate tables of the rule: ``(facts, wide)``.

    ``facts``: one row per member counted on 31 December (household_id, member_id, age and the
    member-level flags). ``wide``: one row per household with the criteria, the verdict and the inputs
    of the household-level reasons. An engine may store them as temporary tables and build the
    results and reasons on those (``results_from``, ``reasons_from``), so large areas are scanned once.
    """
    facts, w = _joined(tables, p, area_prefix, household_ids)
    return facts, _criteria(w, w.i_household_id.notnull(), p)


def _joined(tables: dict, p: HouseholdRuleParams, area_prefix: str, household_ids):
    """(member facts, one row per household: its columns, grouped member facts and the year's net income)."""
    year = p.year
    ref = ibis.date(year, 12, 31)
    h, m, inc = tables["household"], tables["member"], tables["income"]

    hh = h.filter(h.identified_year <= year, area_filter(h.area_code, area_prefix))
    if household_ids is not None:
        hh = hh.filter(hh.id.isin(list(household_ids)))

    # Members counted on 31 December (年底家庭人口数): born, entered and not yet left.
    mm = m.filter(
        m.household_id.isin(hh.id),
        m.birth_date <= ref,
        m.entered_on.isnull() | (m.entered_on <= ref),
        m.left_on.isnull() | (m.left_on > ref),
    )
    age = ibis.literal(year) - mm.birth_date.year()  # full years on 31 December
    status = mm.schooling_status.fill_null("")
    reason = mm.not_attending_reason.fill_null("")
    compulsory = age.between(p.age_min, p.age_max)
    basic = mm.basic_medical_insurance
    serious = mm.serious_illness_insurance
    if p.require_serious_illness:
        no_serious = serious.notnull() & ~serious.fill_null(True)
        med_unknown = basic.isnull() | serious.isnull()
    else:
        no_serious = ibis.literal(False)
        med_unknown = basic.isnull()
    facts = mm.select(
        household_id=mm.household_id,
        member_id=mm.id,
        age=age.cast("int64"),
        dropout=compulsory & (status == NOT_IN_SCHOOL) & ~reason.isin(list(p.exempt_reasons)),
        school_unknown=compulsory & (status == ""),
        no_basic=basic.notnull() & ~basic.fill_null(True),
        no_serious=no_serious,
        med_unknown=med_unknown,
    )
    agg = group_member_facts(facts)

    iy = inc.filter(inc.year == year)
    net = sum((iy[c] for c in (*INCOME_COMPONENTS, *p.counted_transfers)), ibis.literal(0)) - iy.business_expenses_fen
    iy = iy.select(i_household_id=iy.household_id, net_income_fen=net.cast("int64"))

    w = hh.left_join(agg, hh.id == agg.m_household_id).left_join(iy, hh.id == iy.i_household_id)
    return facts, w


def group_member_facts(facts):
    """Member facts grouped per household: m_household_id and ``MEMBER_FACT_COLUMNS`` (counts)."""
    # Group on the key itself (renamed): SQLite then indexes the grouped rows for the join below,
    # where an aggregate of the key (MAX) would make it scan them once per household.
    return facts.group_by(m_household_id=facts.household_id).aggregate(
        member_count=facts.count(),
        n_dropout=_count_true(facts.dropout),
        n_school_unknown=_count_true(facts.school_unknown),
        n_uninsured=_count_true(facts.no_basic | facts.no_serious),
        n_med_unknown=_count_true(facts.med_unknown),
    )


# The pre-grouped household-year facts (一户一年的成员汇总): what a national snapshot keeps per household
# so that assessing 30 million households never regroups 100 million members (``household_year_facts``).
MEMBER_FACT_COLUMNS = ("member_count", "n_dropout", "n_school_unknown", "n_uninsured", "n_med_unknown")
HOUSEHOLD_FACT_COLUMNS = (
    "area_code", "identified_year", "housing_grade", "housing_renovated_year", "water_scarce_area",
    "water_quantity_lpd", "water_quality_ok", "water_piped", "water_fetch_minutes", "water_fetch_distance_m",
    "water_fetch_vertical_m", "water_outage_days", "food_secure", "clothing_secure",
)
FACTS_TABLE = "policy_household_year"


def household_year_facts(tables: dict, p: HouseholdRuleParams, area_prefix: str = ""):
    """One row per household identified by ``p.year``: what the rule needs, members already grouped.

    Columns: household_id, year, the household columns of ``HOUSEHOLD_FACT_COLUMNS``,
    ``MEMBER_FACT_COLUMNS`` (members counted on 31 December and the member-level counts, computed with
    ``p``'s ages and exemptions), has_income and net_income_fen (元 × 100). Written to a snapshot as
    ``policy_household_year`` (``xiaokang snapshot --facts-year Y``) and read by ``assess_pregrouped``.
    """
    _facts, w = _joined(tables, p, area_prefix, None)
    return w.select(
        household_id=w.id, year=ibis.literal(p.year, "int64"),
        **{c: w[c] for c in HOUSEHOLD_FACT_COLUMNS},
        **{c: w[c].fill_null(0).cast("int64") for c in MEMBER_FACT_COLUMNS},
        has_income=w.i_household_id.notnull(), net_income_fen=w.net_income_fen,
    )


FACTS_SCHEMA = {
    "household_id": "int64", "year": "int64", "area_code": "string", "identified_year": "int64",
    "housing_grade": "string", "housing_renovated_year": "int64", "water_scarce_area": "boolean",
    "water_quantity_lpd": "int64", "water_quality_ok": "boolean", "water_piped": "boolean",
    "water_fetch_minutes": "int64", "water_fetch_distance_m": "int64", "water_fetch_vertical_m": "int64",
    "water_outage_days": "int64", "food_secure": "boolean", "clothing_secure": "boolean",
    **{c: "int64" for c in MEMBER_FACT_COLUMNS}, "has_income": "boolean", "net_income_fen": "int64",
}


def assess_pregrouped(facts_table, p: HouseholdRuleParams, area_prefix: str = ""):
    """The same criteria and verdict as ``assess_households``, from pre-grouped household-year facts.

    ``facts_table``: an Ibis table with ``FACTS_SCHEMA`` (e.g. ``ibis.table(FACTS_SCHEMA,
    name=FACTS_TABLE)``), holding rows for ``p.year``. One scan of one row per household, no member
    grouping and no join. Returns the results (as ``results_from``); member-level reasons need the
    member rows and come from ``assess_households`` for the households concerned.
    """
    f = facts_table.filter(facts_table.year == p.year, facts_table.identified_year <= p.year,
                           area_filter(facts_table.area_code, area_prefix))
    return results_from(_criteria(f.mutate(id=f.household_id), f.has_income, p))


def _criteria(w, has_income, p: HouseholdRuleParams):
    """The six criteria and the verdict of each household row ``w`` (household columns, member counts,
    net income) → ``wide`` (see ``build_stages``)."""
    year = p.year
    n = w.member_count.fill_null(0)
    computable = (n > 0) & has_income
    income_ok = ibis.cases(
        (~computable, _null("boolean")),
        else_=(w.net_income_fen > ibis.literal(p.standard_fen) * n) if p.income_comparison == "greater_than"
        else (w.net_income_fen >= ibis.literal(p.standard_fen) * n),
    )
    food_ok = _all(w.food_secure, w.clothing_secure)
    edu_ok = ibis.cases(
        (w.n_dropout.fill_null(0) > 0, False), (w.n_school_unknown.fill_null(0) > 0, _null("boolean")),
        else_=True,
    )
    med_ok = ibis.cases(
        (w.n_uninsured.fill_null(0) > 0, False), (w.n_med_unknown.fill_null(0) > 0, _null("boolean")),
        else_=True,
    )
    renovated = w.housing_renovated_year
    grade = w.housing_grade.fill_null("")
    housing_ok = ibis.cases(
        (renovated.notnull() & (renovated <= year), True),
        (renovated.notnull(), False),
        (grade.isin(list(p.safe_grades)), True),
        (grade == "", _null("boolean")),
        else_=False,
    )
    q_min = ibis.ifelse(w.water_scarce_area.fill_null(False), p.water_quantity_min_scarce, p.water_quantity_min)
    quantity_ok = ibis.cases((w.water_quantity_lpd.isnull(), _null("boolean")),
                             else_=w.water_quantity_lpd >= q_min)
    quality_ok = w.water_quality_ok
    near = (
        (w.water_fetch_minutes.fill_null(10**6) <= p.water_minutes_max)
        | (w.water_fetch_distance_m.fill_null(10**9) <= p.water_distance_max)
        | (w.water_fetch_vertical_m.fill_null(10**9) <= p.water_vertical_max)
    )
    measured = w.water_fetch_minutes.notnull() | w.water_fetch_distance_m.notnull() | w.water_fetch_vertical_m.notnull()
    convenience_ok = ibis.cases(
        (w.water_piped.fill_null(False) | near, True),
        (~measured, _null("boolean")),
        else_=False,
    )
    guarantee_ok = ibis.cases((w.water_outage_days.isnull(), _null("boolean")),
                              else_=w.water_outage_days <= p.water_outage_max)
    water_ok = _all(quantity_ok, quality_ok, convenience_ok, guarantee_ok)

    criteria = [income_ok, food_ok, edu_ok, med_ok, housing_ok, water_ok]
    all_met = _all(*criteria)  # false if any criterion is false, else null if any is unknown
    verdict = ibis.cases(
        (~computable, UNASSESSABLE), (all_met.isnull(), UNASSESSABLE), (all_met, MET), else_=NOT_MET,
    )
    wide = w.select(
        household_id=w.id,
        area_code=w.area_code,
        year=ibis.literal(year, "int64"),
        member_count=n.cast("int64"),
        net_income_fen=w.net_income_fen,
        per_capita_income_fen=ibis.ifelse(computable, w.net_income_fen // n, _null("int64")).cast("int64"),
        income_standard_fen=ibis.literal(p.standard_fen, "int64"),
        standard_key=ibis.literal(p.standard_key, "string"),
        income_above_standard=income_ok,
        food_and_clothing=food_ok,
        compulsory_education=edu_ok,
        basic_medical=med_ok,
        safe_housing=housing_ok,
        safe_water=water_ok,
        verdict=verdict,
        # inputs of the household-level reasons
        has_income=has_income,
        food_secure=w.food_secure,
        clothing_secure=w.clothing_secure,
        housing_grade=grade,
        renovated=renovated,
        water_quantity=w.water_quantity_lpd,
        water_quantity_min=q_min.cast("int64"),
        quantity_ok=quantity_ok,
        quality_ok=quality_ok,
        convenience_ok=convenience_ok,
        water_minutes=w.water_fetch_minutes,
        guarantee_ok=guarantee_ok,
        outage_days=w.water_outage_days,
    )
    return wide


def results_from(wide):
    """One row per household: the stored columns of an assessment."""
    return wide.select(
        "household_id", "area_code", "year", "member_count", "net_income_fen", "per_capita_income_fen",
        "income_standard_fen", "standard_key", *CRITERIA, "verdict",
    )


def reasons_from(wide, facts, p: HouseholdRuleParams):
    """One row per reason (household_id, code, member_id, amount, threshold, detail)."""
    year = p.year

    def hreason(cond, code, amount=None, threshold=None, detail=None):
        rows = wide.filter(cond)
        return rows.select(
            household_id=rows.household_id,
            code=ibis.literal(code, "string"),
            member_id=_null("int64"),
            amount=(rows[amount] if isinstance(amount, str) else ibis.literal(amount, "int64")).cast("int64")
            if amount is not None else _null("int64"),
            threshold=(rows[threshold] if isinstance(threshold, str) else ibis.literal(threshold, "int64")).cast("int64")
            if threshold is not None else _null("int64"),
            detail=(rows[detail[1:]] if isinstance(detail, str) and detail.startswith("@") else ibis.literal(detail, "string")).cast("string")
            if detail is not None else _null("string"),
        )

    def mreason(flag, code):
        rows = facts.filter(facts[flag])
        return rows.select(
            household_id=rows.household_id, code=ibis.literal(code, "string"),
            member_id=rows.member_id.cast("int64"), amount=rows.age.cast("int64"),
            threshold=_null("int64"), detail=_null("string"),
        )

    c = wide
    parts = [
        hreason(c.member_count == 0, "NO_MEMBERS"),
        hreason(~c.has_income, "NO_INCOME", amount=year),
        hreason(~c.income_above_standard.fill_null(True), "INCOME_NOT_ABOVE",
                amount="per_capita_income_fen", threshold="income_standard_fen", detail=p.standard_key),
        hreason(~c.food_secure.fill_null(True), "FOOD_INSECURE"),
        hreason(c.food_secure.isnull(), "FOOD_UNKNOWN"),
        hreason(~c.clothing_secure.fill_null(True), "CLOTHING_INSECURE"),
        hreason(c.clothing_secure.isnull(), "CLOTHING_UNKNOWN"),
        mreason("dropout", "EDU_DROPOUT"),
        mreason("school_unknown", "EDU_STATUS_MISSING"),
        mreason("no_basic", "MED_NO_BASIC_INSURANCE"),
        mreason("no_serious", "MED_NO_SERIOUS_ILLNESS_INSURANCE"),
        mreason("med_unknown", "MED_UNKNOWN"),
        hreason(c.renovated.notnull() & (c.renovated > year), "HOUSING_BEFORE_RENOVATION", amount="renovated"),
        hreason(c.renovated.isnull() & (c.housing_grade != "") & ~c.housing_grade.isin(list(p.safe_grades)),
                "HOUSING_UNSAFE", detail="@housing_grade"),
        hreason(c.renovated.isnull() & (c.housing_grade == ""), "HOUSING_UNKNOWN"),
        hreason(~c.quantity_ok.fill_null(True), "WATER_QUANTITY", amount="water_quantity",
                threshold="water_quantity_min"),
        hreason(~c.quality_ok.fill_null(True), "WATER_QUALITY"),
        hreason(~c.convenience_ok.fill_null(True), "WATER_CONVENIENCE", amount="water_minutes",
                threshold=p.water_minutes_max),
        hreason(~c.guarantee_ok.fill_null(True), "WATER_GUARANTEE", amount="outage_days",
                threshold=p.water_outage_max),
        hreason(c.quantity_ok.isnull(), "WATER_UNKNOWN", detail="quantity"),
        hreason(c.quality_ok.isnull(), "WATER_UNKNOWN", detail="quality"),
        hreason(c.convenience_ok.isnull(), "WATER_UNKNOWN", detail="convenience"),
        hreason(c.guarantee_ok.isnull(), "WATER_UNKNOWN", detail="guarantee"),
    ]
    return ibis.union(*parts, distinct=False)
