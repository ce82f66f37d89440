"""Export (导出) in the import layout: one row per member, the household's columns and one year's income repeated.

The columns are ``imports.layout.COLUMNS`` in order, with their Chinese headers, so an exported file
imports back unchanged (``tests/imports/test_roundtrip.py``). Coded fields are written as their Chinese
labels (the importer accepts the code or the label); 其他致贫原因 as labels joined by "、"; booleans as
是/否; money in 元; dates as Excel date cells (xlsx) or ``YYYY-MM-DD`` text (CSV).

Streaming, never the whole registry in memory: households are read in chunks by keyset pagination on the
primary key (``id > last ORDER BY id LIMIT n``), their members and the chosen year's income with one
query per chunk each. Writers: xlsx with openpyxl ``write_only=True`` (to a file or temporary file),
CSV as UTF-8 with a byte-order mark (so Excel and WPS on Chinese Windows open it as UTF-8), produced as
a stream of byte chunks for ``StreamingHttpResponse``.

Access rules (access-control issue):

- scoped through ``Household.objects.for_user(user)`` (web) or ``.within(area)`` (CLI): an export never
  contains a row outside the user's area;
- statisticians (统计员) and donors (爱心人士) may not export person-level data (``can_export``: 403);
- ID numbers (证件号码) and phone numbers (联系电话) are masked (``mask_id_number``, ``mask_phone``; the birth
  date then shows its year only — the masked digits of an ID number are the birth date —, and so does a
  newborn's entry date) unless the
  user's role may see full numbers (``accounts.FULL_ID_ROLES``, ``can_view_full_id``) and asks for them,
  or the export runs from the command line (channel ``command``);
- every export is logged (``ExportLog``: user, area, filters, rows, full or masked, channel).

Filters: ``area`` (a 2–12 digit code inside the jurisdiction), ``status`` (脱贫属性 poor / exited /
returned), ``year``: the income year written (年度 and the income columns) — households identified after
that year are left out. Without a year, the latest income year in the exported area is used.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db.models import Max

from xiaokang.accounts.models import Role, can_view_full_id
from xiaokang.core.audit import os_login
from xiaokang.core.scoping import area_prefix
from xiaokang.registry import codes
from xiaokang.registry.idnumber import mask_id_number
from xiaokang.registry.models import Household, Income, Member

from . import layout as L
from .models import ExportLog

CHUNK_HOUSEHOLDS = 2000  # households per keyset page (members and incomes follow with one query each)
CSV_FLUSH_ROWS = 500  # CSV rows per streamed byte chunk
FORMATS = ("xlsx", "csv")
NO_EXPORT_ROLES = frozenset({Role.STATISTICIAN, Role.DONOR})
SHEET_TITLE = "贫困户信息采集表"
SHEET_MAX_ROWS = 1_000_000  # data rows per xlsx sheet before the next household starts a new one (Excel: 1,048,576)
BOM = "\ufeff"


class ExportError(ValueError):
    """Bad export request (unknown format, status, area outside the jurisdiction); Chinese message."""


# ------------------------------------------------------------------------------------------ access rules


def can_export(user) -> bool:
    """Person-level export is allowed to every signed-in role except statisticians and donors."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or user.role not in NO_EXPORT_ROLES


def may_export_full_ids(user) -> bool:
    """Full ID and phone numbers on the web only for ``FULL_ID_ROLES`` with an area (county/town/village
    administrators), as on the household file; the command line always writes them."""
    return can_view_full_id(user)


def mask_phone(value: str | None) -> str:
    """Mask a phone number: 138****1234 (first 3 and last 4 kept); short numbers fully masked."""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# ------------------------------------------------------------------------------------------------ query


def export_queryset(base, *, area: str = "", status: str = "", year: int | None = None):
    """Narrow an already scoped household queryset by the filters (area prefix, 脱贫属性, identified by year).

    Raises ExportError for an invalid area code or status."""
    qs = base
    if area:
        try:
            qs = qs.within(area_prefix(area))
        except ValueError as exc:
            raise ExportError(str(exc)) from None
    if status:
        if status not in codes.PovertyStatus.values:
            labels = {label: value for value, label in codes.zh_choices(codes.PovertyStatus)}
            if status not in labels:
                raise ExportError(f"未知的脱贫属性: {status}（可选 poor / exited / returned）")
            status = labels[status]
        qs = qs.filter(poverty_status=status)
    if year:
        from django.utils import timezone

        this_year = timezone.localdate().year
        if year > this_year:  # nothing to export yet: every income column would be blank
            raise ExportError(f"{year} 年尚未到来，无法导出该年度收入（今年是 {this_year} 年）")
        qs = qs.filter(identified_year__lte=year)
    return qs


def default_year(qs) -> int | None:
    """The latest income year among the households of ``qs`` (one aggregate query), or None."""
    return Income.objects.filter(household__in=qs.values("pk")).aggregate(y=Max("year"))["y"]


# ------------------------------------------------------------------------------------------------- rows


def header() -> list[str]:
    return [c.header for c in L.COLUMNS]


def _money(v):
    if v is None:
        return None
    d = Decimal(v)
    return int(d) if d == d.to_integral_value() else d


def _cell_converter(col: L.Column, *, csv_text: bool) -> Callable:
    """Database value → exported cell for one column."""
    t = col.type
    if t == "code":
        labels = col.labels()
        return lambda v: labels.get(v, v) if v not in (None, "") else None
    if t == "codes":
        labels = col.labels()
        return lambda v: "、".join(labels.get(c, c) for c in v.split(",") if c) if v else None
    if t == "bool":
        return lambda v: None if v is None else ("是" if v else "否")
    if t == "money":
        return _money
    if t == "date":
        if csv_text:
            return lambda v: v.isoformat() if v else None
        return lambda v: v
    if t == "decimal":
        return lambda v: None if v is None else Decimal(v)
    return lambda v: None if v in (None, "") else v


def _db_name(col: L.Column) -> str:
    return "area_id" if (col.model, col.key) == (L.HOUSEHOLD, "area") else col.key


@dataclass
class RowSource:
    """The export rows of a household queryset for one income year: ``iter_rows()`` yields lists of cells."""

    households: object  # a (scoped, filtered) Household queryset
    year: int | None
    full_ids: bool = False
    csv_text: bool = False
    chunk: int = CHUNK_HOUSEHOLDS
    rows: int = 0
    household_count: int = 0

    def iter_rows(self) -> Iterator[list]:
        hcols = list(L.HOUSEHOLD_COLUMNS)
        mcols = list(L.MEMBER_COLUMNS)
        icols = [c for c in L.INCOME_COLUMNS if c.key != "year"]
        conv = {(c.model, c.key): _cell_converter(c, csv_text=self.csv_text) for c in L.COLUMNS}
        h_fields = ["pk"] + [_db_name(c) for c in hcols]
        m_fields = ["household_id"] + [c.key for c in mcols]
        i_fields = ["household_id"] + [c.key for c in icols]
        empty_member = [None] * len(mcols)
        empty_income = [None] * (len(icols) + 1)
        qs = self.households.order_by("pk")
        last = 0
        while True:
            page = list(qs.filter(pk__gt=last).values_list(*h_fields)[: self.chunk])
            if not page:
                return
            ids = [r[0] for r in page]
            last = ids[-1]
            members = defaultdict(list)
            for r in (Member.objects.filter(household_id__in=ids)
                      .order_by("household_id", "relation", "birth_date", "pk").values_list(*m_fields)):
                members[r[0]].append(r[1:])
            incomes = {}
            if self.year:
                for r in Income.objects.filter(household_id__in=ids, year=self.year).values_list(*i_fields):
                    incomes[r[0]] = r[1:]
            for hrow in page:
                hid = hrow[0]
                hcells = [conv[c.model, c.key](v) for c, v in zip(hcols, hrow[1:])]
                if not self.full_ids:
                    hcells[_PHONE] = mask_phone(hcells[_PHONE]) or None
                inc = incomes.get(hid)
                icells = ([self.year] + [conv[c.model, c.key](v) for c, v in zip(icols, inc)]
                          if inc is not None else empty_income)
                self.household_count += 1
                for mrow in members.get(hid) or [None]:
                    if mrow is None:
                        mcells = empty_member
                    else:
                        mcells = [conv[c.model, c.key](v) for c, v in zip(mcols, mrow)]
                        if not self.full_ids:
                            mcells[_ID] = mask_id_number(mcells[_ID]) or None
                            # the masked digits of an ID number are the birth date: beside a masked number
                            # the birth date shows its year only (a trial rebuilt full numbers from the two)
                            birth = mrow[_BIRTH]
                            mcells[_BIRTH] = f"{birth.year}年" if birth else None
                            if mrow[_ENTRY_REASON] == "newborn" and mrow[_ENTERED]:  # entered when born
                                mcells[_ENTERED] = f"{mrow[_ENTERED].year}年"
                    self.rows += 1
                    yield hcells + mcells + icells


_PHONE = [c.key for c in L.HOUSEHOLD_COLUMNS].index("phone")
_ID = [c.key for c in L.MEMBER_COLUMNS].index("id_number")
_BIRTH = [c.key for c in L.MEMBER_COLUMNS].index("birth_date")
_ENTERED = [c.key for c in L.MEMBER_COLUMNS].index("entered_on")
_ENTRY_REASON = [c.key for c in L.MEMBER_COLUMNS].index("entry_reason")
_HOUSEHOLD_NUMBER = [c.key for c in L.COLUMNS].index("household_number")


# ---------------------------------------------------------------------------------------------- writers


def write_xlsx(rows: Iterable[list], target) -> None:
    """Write the header and ``rows`` to an .xlsx file (openpyxl write-only: rows go straight to disk).

    ID numbers, household numbers and phone numbers are text cells (never numbers Excel could mangle);
    dates are date cells. A sheet holds at most 1,048,576 rows (Excel's limit), so after
    ``SHEET_MAX_ROWS`` data rows the next household starts a new sheet (贫困户信息采集表2, …) with the
    header again — a household's rows always stay together on one sheet, as the importer requires.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    hn_index = _HOUSEHOLD_NUMBER

    def new_sheet(n):
        ws = wb.create_sheet(SHEET_TITLE if n == 1 else f"{SHEET_TITLE}{n}")
        ws.freeze_panes = "A2"
        head = []
        for h in header():
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            head.append(cell)
        ws.append(head)
        return ws

    sheets = 1
    ws = new_sheet(sheets)
    in_sheet, previous = 0, None
    for row in rows:
        if in_sheet >= SHEET_MAX_ROWS and row[hn_index] != previous:
            sheets += 1
            ws = new_sheet(sheets)
            in_sheet = 0
        ws.append(row)
        in_sheet += 1
        previous = row[hn_index]
    wb.save(target)


def csv_chunks(rows: Iterable[list], flush_rows: int = CSV_FLUSH_ROWS) -> Iterator[bytes]:
    """The header and ``rows`` as CSV (UTF-8 with BOM, CRLF line ends), in byte chunks of ``flush_rows`` rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow(header())
    n = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        n += 1
        if n % flush_rows == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def write_csv(rows: Iterable[list], target) -> None:
    """Write the CSV (UTF-8 with BOM) to a path or a binary file object."""
    if hasattr(target, "write"):
        for chunk in csv_chunks(rows):
            target.write(chunk)
        return
    with open(target, "wb") as f:
        for chunk in csv_chunks(rows):
            f.write(chunk)


def format_of(path, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else from the file suffix (.xlsx or .csv); xlsx by default."""
    fmt = (fmt or Path(str(path)).suffix.lstrip(".") or "xlsx").lower()
    if fmt not in FORMATS:
        raise ExportError(f"不支持的导出格式: {fmt}（可选 .xlsx 或 .csv）")
    return fmt


# ------------------------------------------------------------------------------------------ logged export


@dataclass
class ExportResult:
    rows: int
    households: int
    year: int | None
    full_ids: bool
    path: str = ""
    log: ExportLog | None = None


def log_export(*, user, area_code: str, filters: dict, rows: int, full_ids: bool, channel: str) -> ExportLog:
    """Write one ``ExportLog`` row (who, when, filters, row count, full or masked, channel)."""
    username = user.get_username() if user is not None and user.is_authenticated else (
        f"命令行:{os_login()}" if channel == "command" else "")
    return ExportLog.objects.create(
        user=user if user is not None and user.is_authenticated else None, username=username[:150],
        area_code=area_code or "", filters=filters, rows=rows, full_ids=full_ids, channel=channel,
    )


@dataclass
class Export:
    """One export request, resolved: the scoped queryset, the year, masking, and the log fields.

    Build it with ``prepare`` (web: the user's scope; command line: ``user=None``, full numbers)."""

    source: RowSource
    fmt: str
    user: object
    area_code: str
    filters: dict
    channel: str
    log: ExportLog | None = None

    def logged_rows(self) -> Iterator[list]:
        """The rows; when exhausted (or abandoned), the export is logged with the number of rows written."""
        try:
            yield from self.source.iter_rows()
        finally:
            self.log = log_export(user=self.user, area_code=self.area_code, filters=self.filters,
                                  rows=self.source.rows, full_ids=self.source.full_ids, channel=self.channel)

    def write(self, target) -> ExportResult:
        """Write the whole export to ``target`` (a path or binary file) and log it."""
        rows = self.logged_rows()
        if self.fmt == "xlsx":
            write_xlsx(rows, target)
        else:
            write_csv(rows, target)
        return ExportResult(rows=self.source.rows, households=self.source.household_count, year=self.source.year,
                            full_ids=self.source.full_ids, path=str(target) if isinstance(target, (str, Path)) else "",
                            log=self.log)

    def stream_csv(self) -> Iterator[bytes]:
        return csv_chunks(self.logged_rows())

    def to_temporary_xlsx(self):
        """Write the xlsx to a temporary file and return it open for reading at offset 0 (deleted on close)."""
        tmp = tempfile.TemporaryFile(suffix=".xlsx")
        self.write(tmp)
        tmp.seek(0)
        return tmp


def prepare(*, user=None, area: str = "", status: str = "", year: int | None = None, fmt: str = "xlsx",
            full_ids: bool | None = None, channel: str | None = None) -> Export:
    """Resolve an export request.

    ``user``: the web user (scope ``Household.objects.for_user(user)``; refused with PermissionDenied for
    statisticians and donors; full numbers only when ``full_ids`` is asked and the role allows it), or
    None for the command line (whole registry or ``area``; full numbers unless ``full_ids=False``).
    Raises ExportError for bad filters.
    """
    from django.core.exceptions import PermissionDenied

    fmt = format_of("", fmt)
    if user is not None:
        if not can_export(user):
            raise PermissionDenied("您的角色不能导出个人信息（统计员、爱心人士只能查看汇总数据）")
        base = Household.objects.for_user(user)
        full = bool(full_ids) and may_export_full_ids(user)
        channel = channel or "web"
        scope = getattr(user, "area_id", None) or ""
    else:
        base = Household.objects.all()
        full = True if full_ids is None else bool(full_ids)
        channel = channel or "command"
        scope = ""
    qs = export_queryset(base, area=area, status=status, year=year)
    year = year or default_year(qs)
    filters = {"area": area or "", "status": status or "", "year": year, "format": fmt}
    source = RowSource(qs, year, full_ids=full, csv_text=(fmt == "csv"))
    # the area actually exported (the log's and the file name's): the narrower of the filter and the scope (a
    # county user asking for the province exports, and is logged with, their county); a filter outside the
    # scope exports nothing and is logged as asked (0 rows)
    exported = scope if area and scope and scope.startswith(area) else (area or scope)
    return Export(source=source, fmt=fmt, user=user, area_code=exported, filters=filters, channel=channel)


def export_file(path, *, user=None, area: str = "", status: str = "", year: int | None = None,
                fmt: str | None = None, full_ids: bool | None = None, channel: str | None = None) -> ExportResult:
    """Export to a file (format from ``fmt`` or the suffix) and log it. See ``prepare`` for the rules."""
    exp = prepare(user=user, area=area, status=status, year=year, fmt=format_of(path, fmt), full_ids=full_ids,
                  channel=channel)
    return exp.write(path)


def export_filename(fmt: str, area: str = "", year: int | None = None, today: dt.date | None = None) -> str:
    """A download name such as ``贫困户信息_430225_2019_20261129.xlsx``."""
    parts = ["贫困户信息"] + [p for p in (area, str(year) if year else "") if p]
    parts.append(f"{today or dt.date.today():%Y%m%d}")
    return "_".join(parts) + f".{fmt}"
