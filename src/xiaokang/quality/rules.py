"""The data-quality rules (数据清洗规则) as set-based Ibis expressions over the registry tables.

Source: ../shared/reference/policy.md §2.4 (income plausibility) and §5.4 (the 2017-era cleaning checklist,
the 2023 monitoring-data rules); the rule codes and messages are in ``xiaokang.quality.catalogue``.

``build_stages`` gives three intermediate tables for one year and area — ``facts`` (one row per member
counted on 31 December), ``ids`` (the resident-ID members with the ID-number check, ``with_id_check``) and
``wide`` (one row per household, with member counts and the year's net income) — and ``findings_from``
the union of every rule over them: one row per finding with ``rule_code, household_id, member_id (null
for household rules), area_code, value``. ``check_all`` chains them into one expression (DuckDB over a
snapshot). The batch pass in the registry database (``quality.services``) stores the stages as temporary
tables, checks ID numbers with the equivalent hand-written SQL (``id_stage_sql``, cheaper per row) and
keeps only the flagged rows (``flagged_members``, ``flagged_households``) before the rules run. Nothing
loops per household; the expressions compile to SQLite, PostgreSQL and DuckDB (``xiaokang.policy.engine``).
This module does not import Django.

Ages are full years on 31 December of the year checked (year − birth year, as the household rule counts
them). Members are those counted at year end (born, entered and not yet left). The ID-number check
mirrors ``xiaokang.registry.idnumber.validate_id_number`` on the stored value (trimmed, upper-cased): 18
characters (17 digits and a digit or X) or 15 digits (legacy, born 19YY); a birth date that exists, not in
the future and not before 1880; and, for 18 characters, the GB 11643 check character (ISO 7064 MOD 11-2:
Σ digitᵢ × weightᵢ mod 11 → "10X98765432"). In the Ibis form digits are found with
``instr('0123456789', c)``, in the SQL form after a digits-only test, so a non-digit never reaches a cast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from xiaokang.policy.params import Parameters
from xiaokang.policy.rules.household import INCOME_COMPONENTS, area_filter
from xiaokang.registry.idnumber import CHECK_CHARS, WEIGHTS

from . import catalogue as C

RULE_VERSION = "quality/2017.1"
FINDING_COLUMNS = ("rule_code", "household_id", "member_id", "area_code", "value")
HEAD = "01"
ID_DOCUMENT = "id"
ID_BIRTH_YEAR_MIN = 1880  # as registry/idnumber.py (a birth year before it is "不合理")
DIGITS = "0123456789"
# A LIMIT no table reaches: an optimisation fence. SQLite does not flatten a LIMIT subquery into an outer
# query with LIMIT, and PostgreSQL does not pull it up, so a column computed in one step is computed once
# instead of its expression being pasted into every later reference (which grows exponentially here).
FENCE_ROWS = 2**62
ID_SOURCE_COLUMNS = ("household_id", "member_id", "area_code", "sex", "birth_text")
ID_CHECK_COLUMNS = ("id_valid", "id_error", "id_key", "id_sex", "id_birth", "canonical")


def _fence(t):
    return t.limit(FENCE_ROWS)


@dataclass(frozen=True)
class QualityParams:
    """The parameter values of one year's check (``policy/parameters/quality.yaml``), resolved up front."""

    year: int
    today: dt.date  # ID birth dates after this are 不合理
    schooling_age_min: int
    schooling_age_max: int
    labour_age_min: int
    labour_age_max: int
    minor_age: int
    no_labour_code: str
    labourer_codes: tuple[str, ...]
    tekun_types: tuple[str, ...]
    dibao_type: str
    ordinary_type: str
    illness_cause: str
    sick_health: tuple[str, ...]
    disability_cause: str
    disabled_health: tuple[str, ...]
    schooling_cause: str
    student_statuses: tuple[str, ...]
    income_max_fen: int
    work_months_min: int
    work_months_max: int
    farmland_per_person_max: float
    counted_transfers: tuple[str, ...]
    labour_labels: tuple[tuple[str, str], ...] = ()
    rule_version: str = RULE_VERSION

    @classmethod
    def resolve(cls, params: Parameters, year: int, province: str | None = None, today: dt.date | None = None,
                labour_labels: tuple[tuple[str, str], ...] = ()) -> "QualityParams":
        """Look every value up for 31 December of ``year``. Raises ParameterError/ParameterUnconfirmed."""
        on = dt.date(year, 12, 31)

        def v(name):
            return params.value(name, on, province)

        illness, disability, schooling = v("quality.cause_illness"), v("quality.cause_disability"), v(
            "quality.cause_schooling")
        return cls(
            year=year, today=today or dt.date.today(),
            schooling_age_min=int(v("quality.schooling_age_min")),
            schooling_age_max=int(v("quality.schooling_age_max")),
            labour_age_min=int(v("quality.labour_age_min")), labour_age_max=int(v("quality.labour_age_max")),
            minor_age=int(v("quality.minor_age")), no_labour_code=str(v("quality.no_labour_code")),
            labourer_codes=tuple(str(x) for x in v("quality.labourer_codes")),
            tekun_types=tuple(str(x) for x in v("quality.tekun_household_types")),
            dibao_type=str(v("quality.dibao_household_type")),
            ordinary_type=str(v("quality.ordinary_household_type")),
            illness_cause=str(illness["cause"]), sick_health=tuple(str(x) for x in illness["health"]),
            disability_cause=str(disability["cause"]), disabled_health=tuple(str(x) for x in disability["health"]),
            schooling_cause=str(schooling["cause"]), student_statuses=tuple(str(x) for x in schooling["schooling"]),
            income_max_fen=int(round(float(v("quality.per_capita_income_max")) * 100)),
            work_months_min=int(v("quality.work_months_min")), work_months_max=int(v("quality.work_months_max")),
            farmland_per_person_max=float(v("quality.farmland_per_person_max")),
            counted_transfers=tuple(f"{x}_fen" for x in v("income.counted_transfers")),
            labour_labels=tuple(labour_labels),
        )


def thresholds(p: QualityParams) -> dict[str, str]:
    """The thresholds the messages quote (``catalogue`` templates), as display text."""
    def num(x):
        return f"{x:,.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else f"{x:,}"

    return {
        "minor_age": num(p.minor_age), "schooling_age_min": num(p.schooling_age_min),
        "schooling_age_max": num(p.schooling_age_max), "labour_age_min": num(p.labour_age_min),
        "labour_age_max": num(p.labour_age_max), "income_max": num(p.income_max_fen / 100)
        if p.income_max_fen % 100 else num(p.income_max_fen // 100),
        "work_months_min": num(p.work_months_min), "work_months_max": num(p.work_months_max),
        "farmland_max": num(p.farmland_per_person_max),
    }


# ------------------------------------------------------------------------------------------- helpers

def _count_true(flag):
    return ibis.ifelse(flag, 1, 0).sum().cast("int64")


def _str(x):
    return x.cast("string")


def _yuan(fen):
    """An integer amount in fen (分) as text in yuan (元) with two decimals: 120050 → "1200.50", −1205 → "-12.05"."""
    a = fen.abs()
    yuan = a // 100
    cents = a - yuan * 100  # not MOD: SQLite's MOD returns a real number ("5.0")
    cents_txt = ibis.ifelse(cents < 10, ibis.literal("0") + _str(cents), _str(cents))
    return ibis.ifelse(fen < 0, "-", "") + _str(yuan) + "." + cents_txt


def with_id_check(table, today: dt.date, column: str = "id_number"):
    """``table`` plus the set-based GB 11643 check of its ID-number column.

    Adds ``id_valid`` (boolean), ``id_error`` (the Chinese reason ``validate_id_number`` gives, or null),
    ``id_key`` (the 17-digit body, 15-digit numbers upgraded — the same person's key), ``id_sex``
    ("1"/"2") and ``id_birth`` (text YYYY-MM-DD) from the number, and ``canonical`` (stored exactly in the
    normalised 18-character form).
    Built in steps that refer to the previous step's columns, so the SQL stays small.
    """
    t = _fence(table.mutate(_s=table[column].fill_null("").strip().upper(), _null=table[column].isnull()))
    t = t.mutate(_n=t._s.length(),
                 _body=ibis.ifelse(t._s.length() == 15, t._s.substr(0, 6) + "19" + t._s.substr(6, 9),
                                   t._s.substr(0, 17)),
                 _last=t._s.substr(17, 1))
    digits_lit = ibis.literal(DIGITS)
    t = _fence(t)
    t = t.mutate(**{f"_d{i}": digits_lit.find(t._body.substr(i, 1)) for i in range(17)})
    d = [t[f"_d{i}"] for i in range(17)]
    t = _fence(t)
    t = t.mutate(
        _all_digits=ibis.and_(*[(x >= 0) for x in d]) & (t._body.length() == 17),
        _last_ok=ibis.literal(DIGITS + "X").find(t._last) >= 0,
        _y=d[6] * 1000 + d[7] * 100 + d[8] * 10 + d[9],
        _mo=d[10] * 10 + d[11],
        _da=d[12] * 10 + d[13],
        _total=sum((x * w for x, w in zip(d, WEIGHTS)), ibis.literal(0)),
        _sex=ibis.ifelse(d[16] % 2 == 1, "1", "2"),
    )
    leap = ((t._y % 4) == 0) & (((t._y % 100) != 0) | ((t._y % 400) == 0))
    dim = ibis.cases((t._mo == 2, ibis.ifelse(leap, 29, 28)), (t._mo.isin([4, 6, 9, 11]), 30), else_=31)
    today_int = today.year * 10000 + today.month * 100 + today.day
    t = _fence(t)
    t = t.mutate(
        _date_exists=t._mo.between(1, 12) & (t._da >= 1) & (t._da <= dim),
        _date_plausible=((t._y * 10000 + t._mo * 100 + t._da) <= today_int) & (t._y >= ID_BIRTH_YEAR_MIN),
        _expected=ibis.literal(CHECK_CHARS).substr(t._total % 11, 1),
    )
    n = t._n
    error = ibis.cases(
        (t._null, "证件号码为空"),
        ((n != 18) & (n != 15), ibis.literal("证件号码应为 18 位（实际 ") + _str(n) + " 位）"),
        ((n == 15) & ~t._all_digits, "15 位证件号码只能包含数字"),
        ((n == 18) & ~(t._all_digits & t._last_ok), "证件号码前 17 位须为数字，末位为数字或 X"),
        (~t._date_exists, ibis.literal("出生日期 ") + t._body.substr(6, 8) + " 不存在"),
        (~t._date_plausible, ibis.literal("出生日期 ") + t._body.substr(6, 8) + " 不合理"),
        ((n == 18) & (t._last != t._expected), ibis.literal("校验码错误（应为 ") + t._expected + "）"),
        else_=ibis.null("string"),
    )
    t = _fence(t)
    t = t.mutate(id_error=error)
    t = _fence(t)
    t = t.mutate(
        id_valid=t.id_error.isnull(),
        id_key=t._body,
        id_sex=t._sex,
        id_birth=t._body.substr(6, 4) + "-" + t._body.substr(10, 2) + "-" + t._body.substr(12, 2),
        canonical=(t._n == 18) & (t[column].fill_null("") == t._s),
    )
    return _fence(t.drop(*[c for c in t.columns if c.startswith("_")]))


def _label(code, labels: tuple[tuple[str, str], ...]):
    """Code → label (cases over the given pairs); a blank code reads 空, an unknown one its code."""
    c = code.fill_null("")
    if not labels:
        return ibis.ifelse(c == "", "空", c)
    return ibis.cases((c == "", "空"), *[(c == k, lab) for k, lab in labels], else_=c)


# ------------------------------------------------------------------------------------------- stages

def _households(tables: dict, p: QualityParams, area_prefix: str):
    h = tables["household"]
    return h.filter(h.identified_year <= p.year, area_filter(h.area_code, area_prefix))


def build_facts(tables: dict, p: QualityParams, area_prefix: str = ""):
    """One row per member counted on 31 December of ``p.year`` in the area, with the member-level flags."""
    year = p.year
    ref = ibis.date(year, 12, 31)
    m = tables["member"]
    hh = _households(tables, p, area_prefix)
    hk = hh.select(h_id=hh.id, h_area_code=hh.area_code, h_type=hh.household_type)
    mm = m.filter(
        m.birth_date <= ref,
        m.entered_on.isnull() | (m.entered_on <= ref),
        m.left_on.isnull() | (m.left_on > ref),
    )
    mm = mm.join(hk, mm.household_id == hk.h_id)
    labour = mm.labour_capacity.fill_null("")
    schooling = mm.schooling_status.fill_null("")
    health = mm.health_status.fill_null("")
    base = mm.select(
        household_id=mm.household_id,
        member_id=mm.id,
        area_code=mm.h_area_code,
        household_type=mm.h_type.fill_null(""),
        age=(ibis.literal(year) - mm.birth_date.year()).cast("int64"),
        relation=mm.relation.fill_null(""),
        sex=mm.sex.fill_null(""),
        birth_text=_str(mm.birth_date),
        is_id=mm.document_type.fill_null("") == ID_DOCUMENT,
        id_number=mm.id_number,
        labour=labour,
        schooling=schooling,
        disabled=health.isin(list(p.disabled_health)) | (mm.disability_grade.fill_null("") != ""),
        sick=health.isin(list(p.sick_health)),
        student=schooling.isin(list(p.student_statuses)),
        on_dibao=mm.on_dibao.fill_null(False),
        work_months=mm.work_months,
    )
    return base


def build_ids(facts, p: QualityParams):
    """The members identified by a resident ID card, with the set-based ID check (``with_id_check``)."""
    rows = facts.filter(facts.is_id).select(*ID_SOURCE_COLUMNS, "id_number")
    return with_id_check(rows, p.today).select(*ID_SOURCE_COLUMNS, *ID_CHECK_COLUMNS)


def build_wide(tables: dict, facts, p: QualityParams, area_prefix: str = ""):
    """One row per household in the area: member counts from ``facts`` and the year's net income (分)."""
    year = p.year
    inc = tables["income"]
    hh = _households(tables, p, area_prefix)
    agg = facts.group_by(m_household_id=facts.household_id).aggregate(
        member_count=facts.count(),
        n_heads=_count_true(facts.relation == HEAD),
        n_dibao=_count_true(facts.on_dibao),
        n_sick=_count_true(facts.sick),
        n_student=_count_true(facts.student),
        n_disabled=_count_true(facts.disabled),
    )
    iy = inc.filter(inc.year == year)
    net = sum((iy[c] for c in (*INCOME_COMPONENTS, *p.counted_transfers)), ibis.literal(0)) - iy.business_expenses_fen
    iy = iy.select(i_household_id=iy.household_id, net_income_fen=net.cast("int64"),
                   business_income_fen=iy.business_income_fen, business_expenses_fen=iy.business_expenses_fen)
    w = hh.left_join(agg, hh.id == agg.m_household_id).left_join(iy, hh.id == iy.i_household_id)
    n = w.member_count.fill_null(0)
    wide = w.select(
        household_id=w.id,
        area_code=w.area_code,
        household_type=w.household_type.fill_null(""),
        main_cause=w.main_cause.fill_null(""),
        other_causes=w.other_causes.fill_null(""),
        farmland_mu=w.farmland_mu,
        pairing_cadre=w.pairing_cadre.fill_null("").strip(),
        member_count=n.cast("int64"),
        n_heads=w.n_heads.fill_null(0).cast("int64"),
        n_dibao=w.n_dibao.fill_null(0).cast("int64"),
        n_sick=w.n_sick.fill_null(0).cast("int64"),
        n_student=w.n_student.fill_null(0).cast("int64"),
        n_disabled=w.n_disabled.fill_null(0).cast("int64"),
        has_income=w.i_household_id.notnull(),
        net_income_fen=w.net_income_fen,
        business_income_fen=w.business_income_fen,
        business_expenses_fen=w.business_expenses_fen,
    )
    return wide


def build_stages(tables: dict, p: QualityParams, area_prefix: str = ""):
    """``(facts, ids, wide)`` of one year in an area (see module doc); an engine may store each."""
    facts = build_facts(tables, p, area_prefix)
    return facts, build_ids(facts, p), build_wide(tables, facts, p, area_prefix)


def member_conditions(f, p: QualityParams) -> dict:
    """Rule code → condition on a member-facts table, for the member rules read from ``facts``."""
    minor = f.age < p.minor_age
    labour_age = f.age.between(p.labour_age_min, p.labour_age_max)
    return {
        "Q07_HEAD_UNDER_16": (f.relation == HEAD) & minor,
        "Q08_SCHOOLING_BLANK": f.age.between(p.schooling_age_min, p.schooling_age_max) & (f.schooling == ""),
        "Q09_LABOUR_BLANK": labour_age & (f.labour == ""),
        "Q10_MINOR_NOT_NO_LABOUR": minor & (f.labour != p.no_labour_code),
        "Q11_TEKUN_WITH_LABOURER": f.household_type.isin(list(p.tekun_types)) & labour_age
        & f.labour.isin(list(p.labourer_codes)),
        C.WORK_MONTHS_RANGE: f.work_months.notnull()
        & ((f.work_months < p.work_months_min) | (f.work_months > p.work_months_max)),
    }


def household_conditions(w, p: QualityParams) -> dict:
    """Rule code → condition on the household table ``wide``."""
    n = w.member_count
    computable = (n > 0) & w.has_income
    farmland = w.farmland_mu
    return {
        "Q05_NO_HEAD": w.n_heads == 0,
        "Q06_MULTIPLE_HEADS": w.n_heads > 1,
        "Q12_DIBAO_HOUSEHOLD_NO_DIBAO": (w.household_type == p.dibao_type) & (n > 0) & (w.n_dibao == 0),
        "Q13_ORDINARY_WITH_DIBAO": (w.household_type == p.ordinary_type) & (w.n_dibao > 0),
        "Q14_CAUSE_ILLNESS_NO_SICK": (w.main_cause == p.illness_cause) & (w.n_sick == 0),
        "Q15_CAUSE_SCHOOLING_NO_STUDENT": (w.main_cause == p.schooling_cause) & (w.n_student == 0),
        "Q16_CAUSE_DISABILITY_NO_DISABLED": (w.main_cause == p.disability_cause) & (w.n_disabled == 0),
        "Q17_CAUSE_REPEATED": (w.main_cause != "")
        & ((ibis.literal(",") + w.other_causes + ",").find(ibis.literal(",") + w.main_cause + ",") >= 0),
        "Q18_INCOME_BLANK": ~computable,
        "Q19_INCOME_NOT_POSITIVE": computable & (w.net_income_fen <= 0),
        "Q20_INCOME_TOO_HIGH": computable & (w.net_income_fen > ibis.literal(p.income_max_fen) * n),
        "Q21_BUSINESS_NO_EXPENSES": w.has_income & (w.business_income_fen.fill_null(0) > 0)
        & (w.business_expenses_fen.fill_null(0) <= 0),
        "Q23_FARMLAND_PER_PERSON": (n > 0) & farmland.notnull()
        & (farmland > ibis.literal(p.farmland_per_person_max) * n),
        "Q24_NO_PAIRING_CADRE": w.pairing_cadre == "",
    }


def flagged_members(facts, p: QualityParams):
    """The members that trigger at least one member rule (a batch engine stores these: one scan of facts)."""
    return facts.filter(ibis.or_(*member_conditions(facts, p).values()))


def flagged_households(wide, p: QualityParams):
    """The households that trigger at least one household rule."""
    return wide.filter(ibis.or_(*household_conditions(wide, p).values()))


def findings_from(facts, ids, wide, p: QualityParams, id_facts=None):
    """The union of every rule over the stages: ``FINDING_COLUMNS``, one row per finding.

    ``facts`` and ``wide`` may be the full stages or only their flagged rows (``flagged_members``,
    ``flagged_households``): each rule filters them again, so the result is the same.
    """
    year = p.year

    def hrule(code, value=None):
        rows = wide.filter(hconds[code])
        return rows.select(
            rule_code=ibis.literal(code, "string"), household_id=rows.household_id.cast("int64"),
            member_id=ibis.null("int64"), area_code=rows.area_code.cast("string"),
            value=(value(rows) if value is not None else ibis.literal("", "string")).cast("string"),
        )

    def mrule(rows, code, value=None):
        return rows.select(
            rule_code=ibis.literal(code, "string"), household_id=rows.household_id.cast("int64"),
            member_id=rows.member_id.cast("int64"), area_code=rows.area_code.cast("string"),
            value=(value(rows) if value is not None else ibis.literal("", "string")).cast("string"),
        )

    def mrule_on(code, value):
        return mrule(facts.filter(mconds[code]), code, value)

    mconds, hconds = member_conditions(facts, p), household_conditions(wide, p)
    valid = ids.filter(ids.id_valid)
    # The same person (17-digit body, legacy numbers upgraded) counted in more than one household. Member
    # ID numbers are unique as stored text (Member.id_number), so two records of one person must include
    # a non-canonical form (15 digits, lower-case x, spaces): the keys of those, matched against the
    # canonical numbers (first 17 characters) of all counted members (``id_facts``, default ``facts``).
    id_facts = facts if id_facts is None else id_facts
    odd = valid.filter(~valid.canonical)
    odd_keys = odd.select(odd_key=odd.id_key)
    invalid_ids = ids.filter(~ids.id_valid).select(bad_member_id=ids.member_id)
    canon = id_facts.filter(id_facts.is_id, id_facts.id_number.length() == 18,
                            id_facts.id_number.substr(0, 17).isin(odd_keys.odd_key),
                            ~id_facts.member_id.isin(invalid_ids.bad_member_id))
    candidates = ibis.union(
        odd.select("household_id", "member_id", "area_code", key=odd.id_key),
        canon.select("household_id", "member_id", "area_code", key=canon.id_number.substr(0, 17)),
        distinct=True,
    )
    dup_keys = candidates.group_by(k=candidates.key).aggregate(n_households=candidates.household_id.nunique())
    dup_keys = dup_keys.filter(dup_keys.n_households > 1)
    dup = candidates.join(dup_keys, candidates.key == dup_keys.k)

    age_txt = lambda r: _str(r.age)  # noqa: E731
    age_labour = lambda r: _str(r.age) + " 岁，" + _label(r.labour, p.labour_labels)  # noqa: E731
    per_capita = lambda r: _yuan(r.net_income_fen // r.member_count)  # noqa: E731  (floor, fen; n > 0 there)
    sex_label = lambda c: ibis.cases((c == "1", "男"), (c == "2", "女"), else_=c.fill_null("空"))  # noqa: E731
    parts = [
        mrule(ids.filter(~ids.id_valid), C.ID_INVALID, lambda r: r.id_error),
        mrule(dup, C.DUPLICATE_PERSON, lambda r: _str(r.n_households) + " 户"),
        mrule(valid.filter(valid.sex.fill_null("") != valid.id_sex), C.SEX_ID_MISMATCH,
              lambda r: ibis.literal("登记为") + sex_label(r.sex) + "，证件号码为" + sex_label(r.id_sex)),
        mrule(valid.filter(valid.birth_text != valid.id_birth), C.BIRTH_ID_MISMATCH,
              lambda r: ibis.literal("登记为 ") + r.birth_text + "，证件号码为 " + r.id_birth),
        hrule("Q05_NO_HEAD", lambda r: _str(r.member_count) + " 名在册成员"),
        hrule("Q06_MULTIPLE_HEADS", lambda r: _str(r.n_heads)),
        mrule_on("Q07_HEAD_UNDER_16", age_txt),
        mrule_on("Q08_SCHOOLING_BLANK", age_txt),
        mrule_on("Q09_LABOUR_BLANK", age_txt),
        mrule_on("Q10_MINOR_NOT_NO_LABOUR", age_labour),
        mrule_on("Q11_TEKUN_WITH_LABOURER", age_labour),
        hrule("Q12_DIBAO_HOUSEHOLD_NO_DIBAO"),
        hrule("Q13_ORDINARY_WITH_DIBAO", lambda r: _str(r.n_dibao)),
        hrule("Q14_CAUSE_ILLNESS_NO_SICK"),
        hrule("Q15_CAUSE_SCHOOLING_NO_STUDENT"),
        hrule("Q16_CAUSE_DISABILITY_NO_DISABLED"),
        hrule("Q17_CAUSE_REPEATED", lambda r: r.main_cause),
        hrule("Q18_INCOME_BLANK", lambda r: ibis.ifelse(r.member_count == 0, "年底无在册成员",
                                                        ibis.literal(f"无 {year} 年收入记录"))),
        hrule("Q19_INCOME_NOT_POSITIVE", per_capita),
        hrule("Q20_INCOME_TOO_HIGH", per_capita),
        hrule("Q21_BUSINESS_NO_EXPENSES", lambda r: _yuan(r.business_income_fen)),
        mrule_on(C.WORK_MONTHS_RANGE, lambda r: _str(r.work_months) + " 个月"),
        hrule("Q23_FARMLAND_PER_PERSON",
              lambda r: ibis.literal("耕地 ") + _str(r.farmland_mu) + " 亩 / " + _str(r.member_count) + " 人"),
        hrule("Q24_NO_PAIRING_CADRE"),
    ]
    assert len(parts) == len(C.RULES) == 4 + len(mconds) + len(hconds), "one expression per catalogue rule"
    return ibis.union(*parts, distinct=False)


def check_all(tables: dict, p: QualityParams, area_prefix: str = ""):
    """Every rule over one area and year in one expression (``FINDING_COLUMNS``)."""
    facts, ids, wide = build_stages(tables, p, area_prefix)
    return findings_from(facts, ids, wide, p)


def id_check_expr(table, today: dt.date, column: str = "id_number"):
    """``table`` plus ``id_valid`` and ``id_error``: the set-based ID check alone (import validation)."""
    t = with_id_check(table, today, column)
    return t.select(*table.columns, "id_valid", "id_error")


# --- The ID check as hand-written SQL, for the batch pass in the registry database. --------------------
# Same results as ``with_id_check`` (tests/quality/test_idcheck.py runs both against validate_id_number),
# but ~3× cheaper per row on SQLite: one pattern test (GLOB / regular expression) and three integer casts,
# the 17 digits then taken with integer arithmetic, where the Ibis form needs 17 substrings.

_DIGITS17 = "(LENGTH(body) = 17 AND LTRIM(body, '0123456789') = '')"
_SQL_DIALECT = {
    # dialect: (integer type, integer division, 17-digit test, check-character test, canonical 18 test);
    # LTRIM with a character set is in SQLite, PostgreSQL and DuckDB, and cheaper than a pattern match.
    d: (t, div, _DIGITS17, "(LENGTH(last) = 1 AND LTRIM(last, '0123456789X') = '')",
        "(LENGTH(body) = 18 AND LTRIM(body, '0123456789') IN ('', 'X'))")
    for d, t, div in (("sqlite", "INTEGER", "/"), ("postgres", "BIGINT", "/"), ("duckdb", "BIGINT", "//"))
}


def id_stage_sql(source: str, dialect: str, today: dt.date, flagged_only: bool = False) -> str:
    """SQL selecting ``ID_SOURCE_COLUMNS`` + ``ID_CHECK_COLUMNS`` for the ``is_id`` rows of table ``source``.

    ``dialect``: "sqlite", "postgres" or "duckdb" (``policy.engine.dialect_for``). ``flagged_only``: only
    the rows a rule can use (invalid, non-canonical, sex or birth date differing from the number) — what
    the batch pass stores; ``findings_from`` gives the same findings either way.

    Two branches: numbers stored in the canonical form (18 characters: 17 digits and a digit or X — nearly
    all) are checked straight from the stored text; the others are trimmed, upper-cased and upgraded
    (15 digits) first. Each step is a subquery with a LIMIT no table reaches (``FENCE_ROWS``), so SQLite
    and PostgreSQL compute a column once instead of pasting its expression into every reference.
    """
    int_type, div, digits17, last_ok, digits18 = _SQL_DIALECT[dialect]
    fence = f" LIMIT {FENCE_ROWS}"
    cols = ", ".join(ID_SOURCE_COLUMNS)
    id_sex = "CASE WHEN p3 % 2 = 1 THEN '1' ELSE '2' END"
    id_birth = "SUBSTR(body, 7, 4) || '-' || SUBSTR(body, 11, 2) || '-' || SUBSTR(body, 13, 2)"
    where = (f"\nWHERE id_error IS NOT NULL OR NOT canonical OR sex <> ({id_sex}) OR birth_text <> {id_birth}"
             if flagged_only else "")

    def digit(j: int) -> str:  # digit j (0-based) of the 17-digit body, from p1 (6), ymd (8) or p3 (3)
        name, length, pos = ("p1", 6, j) if j < 6 else ("ymd", 8, j - 6) if j < 14 else ("p3", 3, j - 14)
        return f"(({name} {div} {10 ** (length - 1 - pos)}) % 10)"

    total = " + ".join(f"{digit(j)} * {w}" for j, w in enumerate(WEIGHTS))
    expected = f"SUBSTR('{CHECK_CHARS}', CAST(({total}) % 11 AS INTEGER) + 1, 1)"
    today_int = today.year * 10000 + today.month * 100 + today.day

    def date_and_check(check_when: str) -> str:
        return f"""
   WHEN NOT ((ymd {div} 100) % 100 BETWEEN 1 AND 12 AND ymd % 100 >= 1 AND ymd % 100 <= CASE
       WHEN (ymd {div} 100) % 100 = 2 THEN CASE WHEN (ymd {div} 10000) % 4 = 0
         AND ((ymd {div} 10000) % 100 <> 0 OR (ymd {div} 10000) % 400 = 0) THEN 29 ELSE 28 END
       WHEN (ymd {div} 100) % 100 IN (4, 6, 9, 11) THEN 30 ELSE 31 END)
     THEN '出生日期 ' || SUBSTR(body, 7, 8) || ' 不存在'
   WHEN ymd > {today_int} OR ymd {div} 10000 < {ID_BIRTH_YEAR_MIN} THEN '出生日期 ' || SUBSTR(body, 7, 8) || ' 不合理'
   WHEN {check_when}last <> {expected} THEN '校验码错误（应为 ' || {expected} || '）'"""

    out = f"{cols}, id_error, id_error IS NULL AS id_valid, body AS id_key, {id_sex} AS id_sex, {id_birth} AS id_birth, canonical"
    q = f'"{source}"' if not source.startswith('"') else source
    canonical18 = digits18.replace("body", "id_number")
    fast = f"""
SELECT {out}
FROM (
 SELECT {cols}, body, p3, canonical, CASE {date_and_check("")}
  END AS id_error
 FROM (
  SELECT {cols}, SUBSTR(id_number, 1, 17) AS body, SUBSTR(id_number, 18, 1) AS last, TRUE AS canonical,
   CAST(SUBSTR(id_number, 1, 6) AS {int_type}) AS p1, CAST(SUBSTR(id_number, 7, 8) AS {int_type}) AS ymd,
   CAST(SUBSTR(id_number, 15, 3) AS {int_type}) AS p3
  FROM {q} WHERE is_id AND {canonical18}{fence}
 ) AS f1{fence}
) AS f2{where}"""
    body_expr = "CASE WHEN LENGTH(s) = 15 THEN SUBSTR(s, 1, 6) || '19' || SUBSTR(s, 7, 9) ELSE SUBSTR(s, 1, 17) END"
    all_digits = digits17.replace("body", f"({body_expr})")  # body is computed in the same step
    slow = f"""
SELECT {out}
FROM (
 SELECT {cols}, body, p3, canonical,
  CASE
   WHEN is_null THEN '证件号码为空'
   WHEN n <> 18 AND n <> 15 THEN '证件号码应为 18 位（实际 ' || CAST(n AS TEXT) || ' 位）'
   WHEN n = 15 AND ymd IS NULL THEN '15 位证件号码只能包含数字'
   WHEN n = 18 AND (ymd IS NULL OR NOT last_ok) THEN '证件号码前 17 位须为数字，末位为数字或 X'{date_and_check("n = 18 AND ")}
  END AS id_error
 FROM (
  SELECT {cols}, is_null, n, body, last, canonical, ({last_ok}) AS last_ok,
   CASE WHEN all_digits THEN CAST(SUBSTR(body, 1, 6) AS {int_type}) END AS p1,
   CASE WHEN all_digits THEN CAST(SUBSTR(body, 7, 8) AS {int_type}) END AS ymd,
   CASE WHEN all_digits THEN CAST(SUBSTR(body, 15, 3) AS {int_type}) END AS p3
  FROM (
   SELECT {cols}, is_null, LENGTH(s) AS n, SUBSTR(s, 18, 1) AS last,
    (LENGTH(s) = 18 AND id_number = s) AS canonical, {body_expr} AS body, ({all_digits}) AS all_digits
   FROM (
    SELECT {cols}, id_number, id_number IS NULL AS is_null, UPPER(TRIM(COALESCE(id_number, ''))) AS s
    FROM {q} WHERE is_id AND (id_number IS NULL OR NOT ({canonical18})){fence}
   ) AS a{fence}
  ) AS b{fence}
 ) AS c{fence}
) AS d{where}"""
    return f"SELECT * FROM ({fast}\n) AS fast_rows\nUNION ALL\nSELECT * FROM ({slow}\n) AS other_rows"
