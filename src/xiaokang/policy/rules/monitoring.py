"""Return-to-poverty monitoring (防止返贫动态监测): early warnings, consolidation classes, risk elimination.

Sources: ../shared/reference/policy.md §1.3 (monitoring range), §6 (objects, risk types, channels, sector
signals, risk elimination), §7 (post-exit classes: no national definition found). Every number comes
from ``policy/parameters/monitoring.yaml`` (dated, with status and source); this module does not import
Django.

``warnings`` builds one Ibis expression over the registry tables and the recorded household events
(``xiaokang.policy.schema``) for one year: one row per (household, kind) that fires, for households exited
by that year (脱贫户; households still poor are under poverty assistance, not monitoring). Any Ibis backend
runs it set-based (SQLite, PostgreSQL, DuckDB over a snapshot); no Python loop per household.

Warning kinds (``value`` / ``threshold`` columns; money in fen):

- ``MEDICAL_COST`` 医疗自付费用高: the household's recorded out-of-pocket medical costs in the year
  (元/户·年, summed) *above* ``monitoring.medical_oop_threshold`` (exactly at it does not fire).
- ``LABOURER_DEATH`` 劳动力死亡, ``NEW_DISABILITY`` 新增残疾, ``DISASTER`` 遭受灾害, ``JOB_LOSS`` 务工失业:
  at least one such event recorded in the year (value = number of events).
- ``INCOME_DROP`` 收入下降: per-capita net income (元/人·年, floor in fen) fell from last year by at least
  ``monitoring.income_drop_pct`` percent: ``(last − this) × 10000 ≥ pct_bp × last`` (a drop exactly at
  the percentage fires). Needs counted members and an income record in both years.
- ``INCOME_IN_RANGE`` 收入在监测范围内: net income < range × members counted on 31 December (per-capita
  *below* the range; exactly at it is not inside). ``value`` per-capita fen, ``threshold`` range fen.

Consolidation classes (巩固分类, for households exited by the year; rule as parameters, policy.md §7):
``key`` 重点帮扶户 when a monitoring case is open at year end or per-capita income is below
``consolidation.key_income_pct`` % of the range; else ``stable`` 稳定脱贫户 when no warning of the year is
pending or verified and per-capita income is at least ``consolidation.stable_income_pct`` % of the range;
else ``consolidate`` 巩固提升户. Households with no counted members or no income record and no open case
are ``unknown`` 无法分类 (never a division by zero, never a blank income taken as 0).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from ..params import ParameterError, Parameters, ParameterUnconfirmed, ParameterValue, require_comparison
from .household import area_filter
from .village import percent_to_bp

RULE_VERSION = "monitoring-warning/2020-03.1"
CLASS_RULE_VERSION = "consolidation-class/system.1"

WARNING_KINDS = {
    "MEDICAL_COST": "医疗自付费用高",
    "LABOURER_DEATH": "劳动力死亡",
    "NEW_DISABILITY": "新增残疾",
    "DISASTER": "遭受自然灾害或意外事故",
    "JOB_LOSS": "务工就业中断",
    "INCOME_DROP": "收入较上年大幅下降",
    "INCOME_IN_RANGE": "收入在监测范围内",
}
# Event kinds (``HouseholdEvent.kind``) -> the warning each fires.
EVENT_WARNINGS = {
    "labourer_death": "LABOURER_DEATH",
    "disability": "NEW_DISABILITY",
    "disaster": "DISASTER",
    "job_loss": "JOB_LOSS",
}
MEDICAL_EVENT = "medical_cost"
WARNING_COLUMNS = ("household_id", "area_code", "year", "kind", "value", "threshold", "event_id")

STABLE, CONSOLIDATE, KEY, UNKNOWN = "stable", "consolidate", "key", "unknown"
CLASSES = {STABLE: "稳定脱贫户", CONSOLIDATE: "巩固提升户", KEY: "重点帮扶户", UNKNOWN: "无法分类"}
CLASS_COLUMNS = ("household_id", "area_code", "year", "klass", "per_capita_income_fen", "range_fen",
                 "open_case", "warned")
# Case statuses (``MonitoringCase.status``) that count as an open monitoring record at year end.
OPEN_CASE_STATUSES = ("verifying", "monitored", "tracking")
INCOME_COMPONENTS = ("wage_fen", "business_income_fen", "property_income_fen")


def _fen(yuan) -> int:
    from decimal import Decimal

    return int((Decimal(str(yuan)) * 100).to_integral_value())


def monitoring_range(params: Parameters, year: int, province: str) -> tuple[ParameterValue, int]:
    """The monitoring range (防止返贫监测范围, 元/人·年) for a year and province: ``(entry, fen)``.

    ``monitoring.range`` in force on 31 December for the province (else national). Its 2020 value is
    ``{times: 1.5, of: poverty_line.national}`` — 1.5 × that year's national line (1.5 × 4000 = 6000); from
    2021 each province sets an amount, so Hunan 2021–2025 as shipped raise ``ParameterUnconfirmed`` until an
    administrator enters them (never computed as a multiple unless the entry says so, policy.md §1.3).
    Raises ``ParameterError`` before 2020 (no monitoring range yet).
    """
    on = dt.date(year, 12, 31)
    try:
        entry = params.get("monitoring.range", on, province)
    except ParameterUnconfirmed:
        raise
    except ParameterError:
        raise ParameterError(f"{year} 年尚无防止返贫监测范围（监测机制自 2020 年建立，policy.md §1.3）") from None
    value = entry.value
    if isinstance(value, dict):
        from decimal import Decimal

        base = params.get(str(value["of"]), on, province)
        value = Decimal(str(value["times"])) * Decimal(str(base.value))
        value = int(value) if value == int(value) else value
        entry = ParameterValue(**{**entry.__dict__, "value": value,
                                  "source": f"{entry.source}（{entry.value['times']} × {base.label or base.name} "
                                            f"{base.value} 元 = {value} 元；{base.source}）"})
    return entry, _fen(value)


@dataclass(frozen=True)
class MonitoringRuleParams:
    """Parameter values of one year's warning and class rules, resolved before any query runs."""

    year: int
    province: str
    range_fen: int
    range_source: str
    medical_threshold_fen: int
    income_drop_bp: int
    key_income_bp: int
    stable_income_bp: int
    counted_transfers: tuple[str, ...]
    rule_version: str = RULE_VERSION

    @classmethod
    def resolve(cls, params: Parameters, year: int, province: str) -> "MonitoringRuleParams":
        """Look every value up for 31 December of ``year``. Raises ParameterUnconfirmed/ParameterError."""
        on = dt.date(year, 12, 31)
        require_comparison(params, "monitoring.range", "less_than")
        require_comparison(params, "monitoring.medical_oop_threshold", "greater_than")
        require_comparison(params, "monitoring.income_drop_pct", "at_least")
        require_comparison(params, "consolidation.key_income_pct", "less_than")
        require_comparison(params, "consolidation.stable_income_pct", "at_least")
        entry, range_fen = monitoring_range(params, year, province)
        return cls(
            year=year, province=province, range_fen=range_fen, range_source=entry.source,
            medical_threshold_fen=_fen(params.value("monitoring.medical_oop_threshold", on, province)),
            income_drop_bp=percent_to_bp(params.value("monitoring.income_drop_pct", on, province)),
            key_income_bp=percent_to_bp(params.value("consolidation.key_income_pct", on, province)),
            stable_income_bp=percent_to_bp(params.value("consolidation.stable_income_pct", on, province)),
            counted_transfers=tuple(f"{x}_fen" for x in params.value("income.counted_transfers", on, province)),
        )


def per_capita_income(tables: dict, households, year: int, counted_transfers):
    """Net income and members counted on 31 December of ``year`` for ``households`` (Ibis table with ``id``).

    Returns household_id, members, net_income_fen, per_capita_income_fen (floor) — only households with
    at least one counted member and an income record for the year (as in ``rules/household.py``).
    """
    ref = ibis.date(year, 12, 31)
    m, inc = tables["member"], tables["income"]
    mm = m.filter(m.household_id.isin(households.id), m.birth_date <= ref,
                  m.entered_on.isnull() | (m.entered_on <= ref), m.left_on.isnull() | (m.left_on > ref))
    counts = mm.group_by(c_household_id=mm.household_id).aggregate(members=mm.count())
    iy = inc.filter(inc.year == year, inc.household_id.isin(households.id))
    net = sum((iy[c] for c in (*INCOME_COMPONENTS, *counted_transfers)), ibis.literal(0)) - iy.business_expenses_fen
    iy = iy.select(i_household_id=iy.household_id, net_income_fen=net.cast("int64"))
    j = iy.join(counts, iy.i_household_id == counts.c_household_id)
    j = j.filter(j.members > 0)
    return j.select(
        household_id=j.i_household_id, members=j.members.cast("int64"), net_income_fen=j.net_income_fen,
        per_capita_income_fen=(j.net_income_fen // j.members).cast("int64"),
    )


def _households(tables: dict, year: int, area_prefix: str):
    """The households watched in ``year``: exited by then (脱贫户, exit year ≤ Y). Households still poor are
    under poverty assistance, not monitoring; ordinary households (边缘易致贫户) are not in the 建档立卡
    registry and enter monitoring through a case registered by hand (农户申报、干部排查)."""
    h = tables["household"]
    return h.filter(h.exit_year.notnull(), h.exit_year <= year,
                    area_filter(h.area_code, area_prefix)).select("id", "area_code")


def _rows(t, year: int, kind: str, value, threshold, event_id):
    return t.select(
        household_id=t.household_id.cast("int64"), area_code=t.area_code.cast("string"),
        year=ibis.literal(year, "int64"),
        kind=ibis.literal(kind, "string"), value=value.cast("int64"),
        threshold=(threshold if threshold is not None else ibis.null("int64")).cast("int64"),
        event_id=(event_id if event_id is not None else ibis.null("int64")).cast("int64"),
    )


def warnings(tables: dict, p: MonitoringRuleParams, area_prefix: str = ""):
    """Every warning that fires in ``p.year`` inside the area: columns ``WARNING_COLUMNS``.

    ``tables``: household, member, income, event (``xiaokang.policy.schema``). Unique per household and
    kind; which of them are new (not yet stored) is decided by the caller.
    """
    year = p.year
    hh = _households(tables, year, area_prefix)
    e = tables["event"]
    ev = e.filter(e.household_id.isin(hh.id), e.occurred_on >= ibis.date(year, 1, 1),
                  e.occurred_on <= ibis.date(year, 12, 31))
    ev = ev.join(hh, ev.household_id == hh.id).select(
        household_id=ev.household_id, area_code=hh.area_code, kind=ev.kind, amount_fen=ev.amount_fen, event_id=ev.id)
    parts = []

    med = ev.filter(ev.kind == MEDICAL_EVENT)
    med = med.group_by(["household_id", "area_code"]).aggregate(
        total=med.amount_fen.fill_null(0).sum().cast("int64"), last_event=med.event_id.max())
    med = med.filter(med.total > p.medical_threshold_fen)
    parts.append(_rows(med, year, "MEDICAL_COST", med.total, ibis.literal(p.medical_threshold_fen, "int64"),
                       med.last_event))

    for event_kind, kind in EVENT_WARNINGS.items():
        x = ev.filter(ev.kind == event_kind)
        x = x.group_by(["household_id", "area_code"]).aggregate(n=x.count(), first_event=x.event_id.min())
        parts.append(_rows(x, year, kind, x.n, None, x.first_event))

    this = per_capita_income(tables, hh, year, p.counted_transfers)
    this = this.join(hh, this.household_id == hh.id).select(this, area_code=hh.area_code)
    inside = this.filter(this.net_income_fen < ibis.literal(p.range_fen, "int64") * this.members)
    parts.append(_rows(inside, year, "INCOME_IN_RANGE", inside.per_capita_income_fen,
                       ibis.literal(p.range_fen, "int64"), None))

    last = per_capita_income(tables, hh, year - 1, p.counted_transfers)
    last = last.select(l_household_id=last.household_id, last_pc=last.per_capita_income_fen)
    d = this.join(last, this.household_id == last.l_household_id)
    drop = d.filter(d.last_pc > 0,
                    (d.last_pc - d.per_capita_income_fen) * 10000 >= ibis.literal(p.income_drop_bp, "int64") * d.last_pc)
    parts.append(_rows(drop, year, "INCOME_DROP", drop.per_capita_income_fen, drop.last_pc, None))

    return ibis.union(*parts, distinct=False)


def consolidation_classes(tables: dict, p: MonitoringRuleParams, area_prefix: str = ""):
    """The consolidation class of every household exited by ``p.year`` in the area: ``CLASS_COLUMNS``.

    ``tables``: household, member, income, warning, case (``xiaokang.policy.schema``).
    """
    year = p.year
    end = ibis.date(year, 12, 31)
    h = tables["household"]
    hh = h.filter(h.exit_year.notnull(), h.exit_year <= year, area_filter(h.area_code, area_prefix))
    inc = per_capita_income(tables, hh.select("id"), year, p.counted_transfers)
    c = tables["case"]
    open_cases = c.filter(
        c.household_id.isin(hh.id), c.opened_on <= end,
        c.status.isin(list(OPEN_CASE_STATUSES)) | (c.eliminated_on.notnull() & (c.eliminated_on > end)),
    ).select(oc_household_id=c.household_id).distinct()
    w = tables["warning"]
    warned = w.filter(w.year == year, w.status != "dismissed", w.household_id.isin(hh.id)).select(
        w_household_id=w.household_id).distinct()
    j = (hh.left_join(inc, hh.id == inc.household_id)
         .left_join(open_cases, hh.id == open_cases.oc_household_id)
         .left_join(warned, hh.id == warned.w_household_id))
    rng = ibis.literal(p.range_fen, "int64")
    has_income = j.members.notnull()
    open_case = j.oc_household_id.notnull()
    is_warned = j.w_household_id.notnull()
    # per-capita × 10000 vs bp × range, both sides times members; bp × range is one (BIGINT) literal so no
    # backend multiplies two small integer literals in 32 bits.
    key_income = has_income & (j.net_income_fen * 10000 < j.members * (p.key_income_bp * p.range_fen))
    stable_income = has_income & (j.net_income_fen * 10000 >= j.members * (p.stable_income_bp * p.range_fen))
    klass = ibis.cases(
        (open_case, KEY), (~has_income, UNKNOWN), (key_income, KEY),
        (~is_warned & stable_income, STABLE), else_=CONSOLIDATE,
    )
    return j.select(
        household_id=j.id.cast("int64"), area_code=j.area_code, year=ibis.literal(year, "int64"), klass=klass,
        per_capita_income_fen=j.per_capita_income_fen.cast("int64"), range_fen=rng, open_case=open_case,
        warned=is_warned,
    )


# --- risk elimination (风险消除): the six-month income test ---------------------------------------------

def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months (31 Jan + 1 month = 28/29 Feb)."""
    import calendar

    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def stable_since(checks) -> dt.date | None:
    """First date of the unbroken run of income checks above the range that ends with the latest check.

    ``checks``: iterable of ``(checked_on, per_capita_fen, range_fen)``. Above = per-capita > range
    (policy.md §6.5: 稳定高于监测范围). None when there is no check or the latest is not above.
    """
    since = None
    for day, pc, rng in sorted(checks, key=lambda c: c[0]):
        if pc is not None and rng is not None and pc > rng:
            since = since or day
        else:
            since = None
    return since


def income_stable_for(checks, months: int, on: dt.date) -> tuple[bool, dt.date | None]:
    """Whether income has been above the range for at least ``months`` months on ``on``: ``(ok, since)``."""
    since = stable_since(checks)
    if since is None:
        return False, None
    return add_months(since, months) <= on, since
