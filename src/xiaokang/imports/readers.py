"""Readers (读取): .xlsx / .xls / .csv → sheets of (row number, raw cells), with the header found.

- **Excel** (.xlsx, .xls) is read with python-calamine (fast, typed cells: text, float, bool, date,
  datetime). Cells merged across ranges (``merged_cell_ranges``) are filled with the top-left value, so
  a household's cells merged vertically across its member rows reach every member row, and merged
  header cells name every column they cover.
- **CSV** is decoded by detection, never asked: a UTF-8 byte-order mark → ``utf-8-sig``; else strict
  UTF-8 (checked in chunks); else GB18030 (a superset of GBK and GB2312). The header is found with the
  csv module; the data rows are parsed by Arrow's CSV parser one block (``CSV_BLOCK_BYTES``, cut at a
  line end) at a time, all columns as text, row numbers = line numbers (Arrow's own streaming reader
  reads ahead the whole file); a block whose rows are not its lines (a record spanning lines) or that
  Arrow refuses (ragged rows) switches the sheet to the csv module (``RereadExactly`` when that happens
  after the first block: the caller reads the sheet again).
- ``SheetData.batches()`` streams the mapped columns as Arrow record batches of strings (``table()``
  gathers them); Excel numbers in ID and date columns carry ``NUMBER_MARK`` so that the validator
  refuses them.
- **Header**: the first row (of the first 20) with at least ``MIN_HEADER_MATCHES`` cells naming layout
  columns; when the next row names columns too, the header has two rows (group names above, column names
  below; for each column the lower cell when it names a column, else the upper). Unknown header cells,
  a column given twice and missing required columns are ``Issue`` s.
- Text cells are normalised: NFKC (full-width digits and letters → half-width, non-breaking spaces →
  spaces), stripped; an empty text is ``None``. Numbers, booleans and dates keep their type, so that
  the validator can tell an ID number stored as a number from one stored as text.

``read_file(path, display_name)`` returns ``SheetData`` objects (only sheets with a layout header) and the
file-level issues.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import layout as L


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 → A, 25 → Z, 26 → AA (as Excel and WPS show it)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)

MIN_HEADER_MATCHES = 3
HEADER_SCAN_ROWS = 20
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
CSV_SUFFIXES = {".csv", ".txt"}
CSV_SHEET = "CSV"


@dataclass(frozen=True)
class Issue:
    """One problem found in a file (导入错误): file, sheet, row (Excel numbering), column header, value,
    reason (Chinese). ``household`` is the household number of the row when known (a partial import
    rejects that whole household)."""

    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str
    household: str | None = None
    code: str = ""

    def __str__(self) -> str:
        parts = [f"文件「{self.file}」"] + ([f"工作表「{self.sheet}」"] if self.sheet else [])
        if self.row:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"列「{self.column}」")
        if self.value not in (None, ""):
            parts.append(f"值「{self.value}」")
        return "，".join(parts) + f"：{self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "sheet": self.sheet, "row": self.row, "column": self.column,
                "value": self.value, "reason": self.reason, "household": self.household, "code": self.code}


def show(value) -> str:
    """A raw cell as the user would recognise it in a message."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e16 else str(int(value))
    return str(value)


def norm_cell(value):
    """Normalise one raw cell: text → NFKC, stripped, ``None`` when empty; other types unchanged."""
    if isinstance(value, str):
        if value.isascii():
            s = value.strip()
        else:
            s = unicodedata.normalize("NFKC", value).strip()
        return s or None
    return value


@dataclass
class SheetData:
    """One sheet with a layout header. ``columns[i]`` is the layout column of file column ``index[i]``
    (0-based), ``headers[i]`` its header text as written; ``raw_headers`` is the full (last) header row.
    ``rows()`` yields every non-empty data row (row number, normalised cells); ``table()`` returns the
    mapped columns as an Arrow table of strings (``_row`` + ``c0``, ``c1``… in the order of ``columns``)."""

    file: str
    name: str
    header_rows: tuple[int, ...]
    index: list[int]
    columns: list[L.Column]
    headers: list[str]
    raw_headers: list[str]
    source: object = field(repr=False, default=None)

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number, full list of normalised cells) of every non-empty data row."""
        return self.source.rows(self)

    def table(self):
        import pyarrow as pa

        try:
            batches = list(self.batches())
        except RereadExactly:
            batches = list(self.batches())
        return pa.Table.from_batches(batches) if batches else None

    def batches(self):
        """The mapped columns as Arrow record batches of strings (``_row``, ``c0``, ``c1``…), streamed."""
        return self.source.batches(self)


CHUNK_ROWS = 50_000
# Bytes of CSV per Arrow batch (~40,000 rows of the layout): fewer, larger batches for the column-wise
# conversion, still bounded.
CSV_BLOCK_BYTES = 1 << 24
# Excel cells that are numbers where text is required (ID numbers) carry this prefix in the string table,
# so that the validator refuses them instead of reading digits Excel may already have lost.
NUMBER_MARK = "\x01"


def _string_batches(rows: Iterator[tuple[int, list]], index: list[int], cell_text):
    """Record batches (``_row``, ``c0``…) of the mapped columns, ``CHUNK_ROWS`` rows each (bounded memory)."""
    import pyarrow as pa

    names = ["_row"] + [f"c{j}" for j in range(len(index))]
    buf_rows, buf = [], [[] for _ in index]
    for n, cells in rows:
        buf_rows.append(n)
        width = len(cells)
        for j, ci in enumerate(index):
            buf[j].append(cell_text(j, cells[ci]) if ci < width else None)
        if len(buf_rows) >= CHUNK_ROWS:
            yield pa.record_batch([pa.array(buf_rows, pa.int64())] + [pa.array(b, pa.string()) for b in buf],
                                  names=names)
            buf_rows, buf = [], [[] for _ in index]
    if buf_rows:
        yield pa.record_batch([pa.array(buf_rows, pa.int64())] + [pa.array(b, pa.string()) for b in buf],
                              names=names)


def _csv_encoding(path: Path) -> str:
    """``utf-8-sig`` (byte-order mark), ``utf-8`` (the whole file decodes strictly), else ``gb18030``.
    Reads the file in chunks (no copy of it in memory)."""
    with open(path, "rb") as f:
        head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 24):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


class RereadExactly(Exception):
    """The CSV fast path found, after some batches, a record spanning lines or a ragged row: the sheet's
    ``batches()`` must be read again from the start (it now takes the exact path)."""


class _CsvSource:
    def __init__(self, path: Path, encoding: str, data_start_line: int):
        self.path = path
        self.encoding = encoding
        self.start = data_start_line  # physical lines before the first data row
        self.exact = False  # read with the csv module (set when Arrow's fast path does not fit the file)

    def rows(self, sheet: SheetData):
        with open(self.path, encoding=self.encoding, newline="") as f:
            for n, row in enumerate(csv.reader(f), 1):
                if n <= sheet.header_rows[-1]:
                    continue
                cells = [norm_cell(v) for v in row]
                if any(v is not None for v in cells):
                    yield n, cells

    def _options(self):
        import pyarrow.csv as pcsv

        encoding = "utf8" if self.encoding.startswith("utf-8") else self.encoding
        return encoding, pcsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=False)

    def _blocks(self):
        """The file as byte strings of about ``CSV_BLOCK_BYTES``, each cut after its last line end."""
        rest = b""
        with open(self.path, "rb") as f:
            while data := f.read(CSV_BLOCK_BYTES):
                buf = rest + data if rest else data
                cut = buf.rfind(b"\n") + 1
                if cut:
                    yield buf[:cut]
                rest = buf[cut:]
                del buf, data
        if rest:
            yield rest

    def _width(self, data: bytes, skip: int) -> int:
        """Number of fields of the first row after ``skip`` lines of ``data`` (what Arrow's reader takes
        as the number of columns)."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        pos = 0
        for _ in range(skip):
            pos = data.index(b"\n", pos) + 1
        end = data.find(b"\n", pos)
        line = data[pos:] if end < 0 else data[pos:end + 1]
        encoding, parse_options = self._options()
        return pcsv.read_csv(pa.py_buffer(line), read_options=pcsv.ReadOptions(
            autogenerate_column_names=True, encoding=encoding, use_threads=False), parse_options=parse_options).num_columns

    def _reader(self, columns):
        """Record batches of the data rows (columns ``f<i>`` for ``i`` in ``columns``, as text), parsed by
        Arrow block by block: at most one block of the file is in memory (Arrow's streaming reader would
        read ahead the whole file). Raises ``RereadExactly`` when a block's rows are not its lines (a
        record spanning lines) or Arrow refuses a row (a ragged row, a stray quote)."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        encoding, parse_options = self._options()
        convert_options = pcsv.ConvertOptions(
            strings_can_be_null=False, quoted_strings_can_be_null=False, auto_dict_encode=False,
            include_columns=[f"f{ci}" for ci in columns], include_missing_columns=True,
            column_types={f"f{ci}": pa.string() for ci in columns})
        skip, names = self.start, None
        for data in self._blocks():
            lines = data.count(b"\n")
            complete = data.endswith(b"\n")
            rows = lines - skip + (0 if complete else 1)  # lines of the block that are data rows
            if rows <= 0:  # header lines only
                skip -= lines
                continue
            try:
                if names is None:
                    names = [f"f{i}" for i in range(self._width(data, skip))]
                table = pcsv.read_csv(pa.py_buffer(data), read_options=pcsv.ReadOptions(
                    column_names=names, skip_rows=skip, block_size=len(data) + 1, encoding=encoding,
                    use_threads=False), parse_options=parse_options, convert_options=convert_options)
            except Exception as exc:  # noqa: BLE001 - the parser refused a row: the exact path will report it
                raise RereadExactly(str(exc)) from exc
            del data
            if table.num_rows != rows:
                raise RereadExactly("a record spans lines")
            skip = 0
            yield from table.to_batches()

    def batches(self, sheet: SheetData):
        """Fast path: Arrow's CSV parser, block by block (row numbers = line numbers); otherwise (a record
        spanning lines, ragged rows) the csv module. The fast path checks each block as it goes: a
        failure in the first block falls back at once; a later one sets ``exact`` and raises
        ``RereadExactly`` — the caller drops what it got and calls ``batches`` again."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.exact:
            yield from _string_batches(self.rows(sheet), sheet.index, lambda j, v: None if v is None else str(v))
            return
        names = ["_row"] + [f"c{j}" for j in range(len(sheet.index))]
        first = sheet.header_rows[-1] + 1
        seen = 0
        reader = self._reader(sheet.index)
        while True:
            try:
                batch = next(reader)
            except StopIteration:
                return
            except RereadExactly:
                self.exact = True
                if seen:
                    raise
                yield from self.batches(sheet)
                return
            cols = [pa.array(range(first + seen, first + seen + batch.num_rows), pa.int64())]
            keep = None
            for ci in sheet.index:
                a = batch.column(f"f{ci}")  # "" = blank: the validator treats it as empty
                if a.type != pa.string():
                    a = a.cast(pa.string())
                cols.append(a)
                filled = pc.fill_null(pc.greater(pc.binary_length(a), 0), False)
                keep = filled if keep is None else pc.or_(keep, filled)
            seen += batch.num_rows
            out = pa.record_batch(cols, names=names)
            if keep is not None and not pc.all(keep).as_py():
                out = out.filter(keep)  # blank rows
            yield out


def _excel_text(col: L.Column):
    """Excel typed cell → string for the validator: text as is; a number in an ID, date or text column
    that cannot hold it exactly → ``NUMBER_MARK`` + repr; other numbers → their digits; dates → ISO."""
    import datetime as dt

    def text(_j, v):
        if v is None:
            return None
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, (int, float)):
            if col.type in ("id", "date"):
                return NUMBER_MARK + repr(v)
            if isinstance(v, float) and v.is_integer():
                if abs(v) >= 1e15 and col.type in ("text", "area"):
                    return NUMBER_MARK + repr(v)
                return str(int(v))
            return repr(v)
        if isinstance(v, dt.datetime):
            return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
        return str(v)

    return text


class _ExcelSource:
    def __init__(self, rows_factory):
        self.rows_factory = rows_factory

    def rows(self, sheet: SheetData):
        for n, cells in self.rows_factory():
            if n > sheet.header_rows[-1]:
                yield n, cells

    def batches(self, sheet: SheetData):
        texts = [_excel_text(c) for c in sheet.columns]
        return _string_batches(self.rows(sheet), sheet.index, lambda j, v: texts[j](j, v))


def _filled(rows: Iterator[tuple[int, list]], merged, col_offset: int) -> Iterator[tuple[int, list]]:
    """Rows (number, cells) with merged ranges filled from their top-left cell. ``merged``: 0-based
    ((r0, c0), (r1, c1)) absolute; cells of a row start at column ``col_offset``."""
    by_start: dict[int, list] = {}
    for (r0, c0), (r1, c1) in merged or ():
        if (r0, c0) != (r1, c1):
            by_start.setdefault(r0, []).append((r0, c0 - col_offset, r1, c1 - col_offset))
    active: list[list] = []  # [r1, c0, c1, value]
    for n, cells in rows:
        r = n - 1
        if active:
            active = [a for a in active if a[0] >= r]
        starting = by_start.pop(r, None) if by_start else None
        if starting:
            for r0, c0, r1, c1 in starting:
                value = cells[c0] if 0 <= c0 < len(cells) else None
                active.append([r1, c0, c1, value])
        if active:
            for _r1, c0, c1, value in active:
                if value is None:
                    continue
                if len(cells) <= c1:
                    cells.extend([None] * (c1 + 1 - len(cells)))
                for c in range(max(c0, 0), c1 + 1):
                    cells[c] = value
        yield n, cells


def _excel_sheets(path: Path):
    """(sheet name, factory of filled rows) for every non-empty sheet."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        start = sheet.start
        if start is None:
            continue
        col_offset = start[1]
        merged = list(sheet.merged_cell_ranges or ())

        def factory(sheet=sheet, col_offset=col_offset, merged=merged):
            def rows():
                pad = [None] * col_offset
                for i, row in enumerate(sheet.iter_rows()):
                    cells = [None if v == "" else norm_cell(v) for v in row]
                    if any(v is not None for v in cells):
                        yield i + 1, pad + cells if col_offset else cells
            # cells are padded to absolute columns, so merged ranges need no column offset
            return _filled(rows(), merged, 0)

        yield name, factory


def _detect_header(file: str, sheet: str, head: list[tuple[int, list]], issues: list[Issue]):
    """Find the header row(s) among the first rows; return (header row numbers, index, columns, headers,
    raw headers, number of rows consumed) or None when the sheet has no layout header."""
    matches = [sum(1 for v in cells if v is not None and L.match_header(v) is not None) for _n, cells in head]
    pos = next((i for i, m in enumerate(matches) if m >= MIN_HEADER_MATCHES), None)
    if pos is None:
        return None
    upper_n, upper = head[pos]
    two_rows = pos + 1 < len(head) and matches[pos + 1] >= 1 and head[pos + 1][0] == upper_n + 1
    lower = head[pos + 1][1] if two_rows else []
    width = max(len(upper), len(lower))
    index, columns, headers, raw = [], [], [], []
    seen: dict[tuple[str, str], int] = {}
    header_row = upper_n + 1 if two_rows else upper_n
    for c in range(width):
        hi = upper[c] if c < len(upper) else None
        lo = lower[c] if c < len(lower) else None
        text = None
        if lo is not None and L.match_header(lo) is not None:
            text = lo
        elif hi is not None and L.match_header(hi) is not None:
            text = hi
        elif lo is not None:
            text = lo
        elif hi is not None and not two_rows:
            text = hi
        raw.append("" if text is None else str(text))
        if text is None:
            continue
        col = L.match_header(text)
        if col is None:
            if L.normalize_header(text) == L.normalize_header(L.ERROR_COLUMN):
                continue  # the reason column of our own error workbook, imported back
            issues.append(Issue(file, sheet, header_row, str(text), "", "未知列名（不在导入格式中，请对照导入模板）",
                                code="IMP_UNKNOWN_HEADER"))
            continue
        if (col.model, col.key) in seen:
            first = seen[col.model, col.key]
            issues.append(Issue(file, sheet, header_row, str(text), "",
                                f"列重复（第 {column_letter(c)} 列与第 {column_letter(index[first])} 列"
                                f"「{headers[first]}」是同一列）", code="IMP_DUPLICATE_HEADER"))
            continue
        seen[col.model, col.key] = len(columns)
        index.append(c)
        columns.append(col)
        # Messages name the column as the layout writes it when the cell is that name (modulo spaces
        # and full-width forms), else as the cell reads (an alias).
        headers.append(col.header if L.normalize_header(text) == L.normalize_header(col.header) else str(text))
    present = {(c.model, c.key) for c in columns}
    for col in L.COLUMNS:
        if col.required and (col.model, col.key) not in present:
            issues.append(Issue(file, sheet, header_row, col.header, "", "缺少必填列", code="IMP_MISSING_COLUMN"))
    rows_used = pos + (2 if two_rows else 1)
    header_rows = (upper_n, upper_n + 1) if two_rows else (upper_n,)
    return header_rows, index, columns, headers, raw, rows_used


def read_file(path, display_name: str | None = None) -> tuple[list[SheetData], list[Issue]]:
    """Open ``path`` (.xlsx, .xls or .csv) and return its sheets with a layout header and the issues
    found so far (unknown format, no header, unknown or missing columns). ``display_name`` is the name
    used in messages (the uploaded file's name; default: the path's name)."""
    path = Path(path)
    file = display_name or path.name
    issues: list[Issue] = []
    suffix = Path(file).suffix.lower() or path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        encoding = _csv_encoding(path)
        with open(path, "rb") as f:
            text = f.read(1 << 20).decode(encoding, errors="ignore")
        sources = [(CSV_SHEET, None, text)]
    elif suffix in EXCEL_SUFFIXES:
        try:
            sources = [(name, factory, None) for name, factory in _excel_sheets(path)]
        except Exception as exc:  # noqa: BLE001 - any reader failure is a file-level error for the user
            return [], [Issue(file, "", None, "", "", f"无法读取 Excel 文件：文件已损坏，或不是 Excel 格式"
                              f"（请用 Excel 或 WPS 打开后另存为 .xlsx 再上传；详情：{exc}）", code="IMP_UNREADABLE")]
    else:
        return [], [Issue(file, "", None, "", suffix, "不支持的文件类型（请使用 .xlsx、.xls 或 .csv）",
                          code="IMP_FILE_TYPE")]
    sheets: list[SheetData] = []
    for name, factory, text in sources:
        head = []
        if text is not None:
            reader = csv.reader(io.StringIO(text, newline=""))
            lines_after = {}
            for n, row in enumerate(reader, 1):
                lines_after[n] = reader.line_num
                cells = [norm_cell(v) for v in row]
                if any(v is not None for v in cells):
                    head.append((n, cells))
                if len(head) >= HEADER_SCAN_ROWS:
                    break
        else:
            for item in factory():
                head.append(item)
                if len(head) >= HEADER_SCAN_ROWS:
                    break
        found = _detect_header(file, name, head, issues)
        if found is None:
            continue
        header_rows, index, columns, headers, raw, _used = found
        if text is not None:
            source = _CsvSource(path, encoding, lines_after[header_rows[-1]])
        else:
            source = _ExcelSource(factory)
        sheets.append(SheetData(file, name, header_rows, index, columns, headers, raw, source))
    if not sheets and not issues:
        issues.append(Issue(file, "", None, "", "", "未找到导入格式的表头（如“户编号”“姓名”“证件号码”），请使用导入模板",
                            code="IMP_NO_HEADER"))
    return sheets, issues
