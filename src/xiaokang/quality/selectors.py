"""Reads of the data-quality app (数据清洗): counts by rule and by area, finding rows, CSV/xlsx export.

Every function takes a ``Finding`` queryset that the caller has already scoped (``for_user`` /
``within``); nothing here widens it. ID numbers are always masked (``mask_id_number``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

from django.db.models import Count, Q
from django.db.models.functions import Substr

from xiaokang.areas.models import Area
from xiaokang.registry.idnumber import mask_birth_dates, mask_id_number

from . import catalogue
from .models import FindingStatus

STATUSES = [s for s, _ in FindingStatus.choices]
STATUS_LABELS = dict(FindingStatus.choices)
CHILD_LENGTH = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}

EXPORT_COLUMNS = [
    ("rule_code", "规则代码"), ("rule_title", "规则"), ("severity", "严重程度"), ("county", "县（市区）"),
    ("town", "乡镇"), ("village", "村"), ("area_code", "村代码"), ("household_number", "户编号"),
    ("member_name", "成员姓名"), ("id_number", "证件号码（脱敏）"), ("value", "疑点值"), ("message", "说明"),
    ("status", "状态"), ("confirmed_reason", "核实无误理由"), ("confirmed_by", "核实人"), ("year", "检查年度"),
    ("first_seen", "首次发现"), ("last_seen", "最近发现"), ("fixed_at", "修正时间"),
]
COUNT_COLUMNS = [("area_code", "区划代码"), ("area_name", "区划名称"), ("rule_code", "规则代码"),
                 ("rule_title", "规则"), ("open", "待处理"), ("confirmed", "核实无误"), ("fixed", "已修正")]


def _status_filter(status):
    return {"n_" + s: Count("id", filter=Q(status=s)) for s in STATUSES}


def counts_by_rule(findings, lang: str = "zh") -> list[dict]:
    """One row per catalogue rule: code, title, severity, subject, open, confirmed, fixed (in catalogue order).

    ``lang``: the language of the title, severity and subject (``zh…`` Chinese, any other English)."""
    got = {r["rule_code"]: r for r in findings.values("rule_code").annotate(**_status_filter(None))}
    rows = []
    for rule in catalogue.RULES:
        r = got.get(rule.code, {})
        rows.append({
            "code": rule.code, "title": rule.title_in(lang), "source": rule.source,
            "severity": catalogue.severity_label(rule.severity, lang),
            "subject": catalogue.subject_label(rule.subject, lang),
            **{s: r.get("n_" + s, 0) for s in STATUSES},
        })
    return rows


def child_length(prefix: str) -> int:
    return CHILD_LENGTH[len(prefix)]


def counts_by_area(findings, prefix: str = "") -> list[dict]:
    """Open/confirmed/fixed counts by the next level below ``prefix`` (e.g. counties of a city), with names."""
    n = child_length(prefix)
    rows = (findings.annotate(child=Substr("area_code", 1, n)).values("child")
            .annotate(**_status_filter(None)).order_by("child"))
    rows = list(rows)
    codes = [r["child"] for r in rows]
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    return [{"code": r["child"], "name": names.get(r["child"], r["child"]),
             **{s: r["n_" + s] for s in STATUSES}} for r in rows]


def counts_by_area_and_rule(findings, prefix: str = "", lang: str = "zh") -> list[dict]:
    """Counts per next-level area and rule (the statisticians' export: no person-level rows); rule titles in
    ``lang``."""
    n = child_length(prefix)
    rows = (findings.annotate(child=Substr("area_code", 1, n)).values("child", "rule_code")
            .annotate(**_status_filter(None)).order_by("child", "rule_code"))
    rows = list(rows)
    names = dict(Area.objects.filter(code__in={r["child"] for r in rows}).values_list("code", "name"))
    return [{"area_code": r["child"], "area_name": names.get(r["child"], r["child"]), "rule_code": r["rule_code"],
             "rule_title": catalogue.get(r["rule_code"]).title_in(lang), **{s: r["n_" + s] for s in STATUSES}}
            for r in rows]


def _area_names(prefix: str) -> dict:
    qs = Area.objects.all()
    if prefix:
        ancestors = [prefix[:k] for k in (2, 4, 6, 9) if k < len(prefix)]
        qs = qs.filter(Q(code__startswith=prefix) | Q(code__in=ancestors))
    return dict(qs.values_list("code", "name"))


ROW_FIELDS = ("id", "rule_code", "area_code", "value", "status", "confirmed_reason", "year", "first_seen",
              "last_seen", "fixed_at", "household_id", "household__household_number", "member_id", "member__name",
              "member__id_number", "confirmed_by__username")


def finding_rows(findings, lang: str = "zh", prefix: str = "", names: dict | None = None, chunk: int = 2000,
                 mask_dates: bool = False):
    """Finding rows as dicts (generator, streamed in chunks): the export columns plus ``id``/``household_id``.

    ``lang``: the language of the rule title, severity and message (the stored value stays as stored).
    ``mask_dates``: birth dates in the value and message cut to the year (``registry.idnumber.mask_birth_dates``)
    — for a reader without full-number rights, beside whom the masked ID number must stay masked."""
    from .services import thresholds

    names = names if names is not None else _area_names(prefix)
    limits: dict = {}
    for r in findings.values(*ROW_FIELDS).iterator(chunk_size=chunk):
        if r["year"] not in limits:
            limits[r["year"]] = thresholds(r["year"])
        rule = catalogue.get(r["rule_code"])
        code = r["area_code"] or ""
        value = mask_birth_dates(r["value"]) if mask_dates else r["value"]
        yield {
            "id": r["id"], "household_id": r["household_id"], "member_id": r["member_id"],
            "rule_code": rule.code, "rule_title": rule.title_in(lang),
            "severity": catalogue.severity_label(rule.severity, lang),
            "county": names.get(code[:6], ""), "town": names.get(code[:9], ""), "village": names.get(code, ""),
            "area_code": code, "household_number": r["household__household_number"],
            "member_name": r["member__name"] or "", "id_number": mask_id_number(r["member__id_number"]),
            "value": value, "message": rule.render(value, r["member__name"], lang, limits[r["year"]]),
            "status": r["status"], "status_label": STATUS_LABELS.get(r["status"], r["status"]),
            "confirmed_reason": r["confirmed_reason"], "confirmed_by": r["confirmed_by__username"] or "",
            "year": r["year"], "first_seen": r["first_seen"], "last_seen": r["last_seen"], "fixed_at": r["fixed_at"],
        }


def _cell(key, row):
    """The shown value of ``row[key]``: a datetime in local time (naive, to the minute), a date as it is, the
    status as its label, None as ""."""
    v = row.get(key)
    if key == "status":
        return str(row.get("status_label", v))
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        from django.utils import timezone

        if v.tzinfo is not None:
            v = timezone.make_naive(v)
        return v.replace(second=0, microsecond=0)
    return v


def _text(v) -> str:
    """A CSV field: dates as 2020-05-01, datetimes as 2020-05-01 09:30."""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def write_csv(rows, out, columns=EXPORT_COLUMNS) -> int:
    """Write rows as CSV to a text stream, UTF-8 with BOM expected from the caller's encoding. Returns rows."""
    w = csv.writer(out)
    w.writerow([label for _, label in columns])
    n = 0
    for row in rows:
        w.writerow([_text(_cell(k, row)) for k, _ in columns])
        n += 1
    return n


def csv_bytes(rows, columns=EXPORT_COLUMNS) -> bytes:
    buf = io.StringIO()
    write_csv(rows, buf, columns)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def write_xlsx(rows, target, columns=EXPORT_COLUMNS, title: str = "疑点数据") -> int:
    """Write rows to an .xlsx file (path or binary stream) with openpyxl's write-only mode; dates and times are
    date cells (yyyy-mm-dd, yyyy-mm-dd hh:mm), so that Excel and WPS sort and filter them as dates. Returns rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.append([label for _, label in columns])

    def cell(v):
        if isinstance(v, dt.date):
            c = WriteOnlyCell(ws, value=v)
            c.number_format = "yyyy-mm-dd hh:mm" if isinstance(v, dt.datetime) else "yyyy-mm-dd"
            return c
        return v

    n = 0
    for row in rows:
        ws.append([cell(_cell(k, row)) for k, _ in columns])
        n += 1
    wb.save(target)
    return n


def summary(findings) -> dict:
    """Totals by status (all rules)."""
    got = findings.aggregate(**_status_filter(None))
    return {s: got["n_" + s] or 0 for s in STATUSES}


def open_by_rule_and_area(findings, prefix: str = "") -> dict:
    """{area code: {rule code: open count}} for the next level below ``prefix`` (the dashboard matrix)."""
    n = child_length(prefix)
    out: dict = defaultdict(dict)
    for r in (findings.filter(status=FindingStatus.OPEN).annotate(child=Substr("area_code", 1, n))
              .values("child", "rule_code").annotate(n=Count("id"))):
        out[r["child"]][r["rule_code"]] = r["n"]
    return dict(out)
