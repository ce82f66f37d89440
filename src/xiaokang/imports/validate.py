"""Validation of one file (校验): typed columns, then the checks across rows — set-based, bounded memory.

``parse(path, display_name, area_code)`` streams the file (``readers``: Arrow record batches of strings,
one block of the file at a time), converts every layout column batch by batch (``convert_array``: each
*distinct* value is normalised and converted once with ``converter`` and spread back with dictionary
indices; text and ID columns are vectorised with Arrow compute) and appends each typed batch to a
temporary Parquet file, so that neither the strings nor the typed rows of the whole file are ever held in
Python. The checks across rows then run as DuckDB SQL over that file (an in-memory DuckDB limited to
``DUCKDB_MEMORY_LIMIT``, spilling to disk): rows without a household number; a household number in two
separate blocks (a household's rows are adjacent); the household's columns and income agreeing across its
rows (blank cells below the first count as "same as above"); required values; ID numbers (GB 11643 check
character and birth date in SQL, the exact message from ``registry.idnumber`` for the few that fail; an ID
stored by Excel as a number is refused — "format the column as text" — never repaired); sex and birth date
against the ID; the same ID twice in the file; work months (``quality.work_months_min/max``); villages
unknown, not villages or outside the uploader's area; other causes repeating the main cause; exit year
before identification; 其中 items above their totals. Issues are located (sheet, row, household number)
with one query per step, not one per issue. The checks against the registry (person already in another
household, household number of another area) run in SQL over the staged rows (``apply.check_staged``).

The result (``Parsed``) keeps the rows to stage on disk — ``households.parquet`` and ``members.parquet``
in a temporary folder it owns — and ``Parsed.batches`` streams them back for staging. Peak memory is
therefore a few batches plus DuckDB's limit, whatever the size of the file.

Every problem is an ``Issue`` (file, sheet, row, column header, value, reason in Chinese); the codes and
messages of the checks shared with data quality come from ``xiaokang.quality.catalogue``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xiaokang.areas.models import Area
from xiaokang.core.money import yuan_to_fen
from xiaokang.quality import catalogue as Q
from xiaokang.registry import codes
from xiaokang.registry.idnumber import validate_id_number
from xiaokang.registry.models import Household, Income, Member

from . import layout as L
from .readers import NUMBER_MARK, Issue, RereadExactly, norm_cell, read_file, show
from .timing import step

MODELS = {L.HOUSEHOLD: Household, L.MEMBER: Member, L.INCOME: Income}
YEAR_MIN = 1900  # a sanity bound of the four-digit year format, not a policy number
# DuckDB (the checks across rows) spills to disk above this, keeping an import of a million households
# under the 2 GB target of issue 5 together with the batches in Python.
DUCKDB_MEMORY_LIMIT = "768MB"
# Rows per Arrow table when the parsed rows are read back for staging (``Parsed.batches``).
STAGE_BATCH_ROWS = 100_000


class Bad(ValueError):
    """A cell that cannot be converted; the message is the Chinese reason."""


FORMAT_AS_TEXT = ("证件号码被 Excel 存成了数字（科学计数法或末尾“.0”，后几位可能已经丢失），不会自动修复："
                  "请将该列设为“文本”格式，重新录入完整号码后再导入")
# An ID number with "*": a masked export (430225********1234) imported back — say so, not "not 17 digits".
MASKED_ID = ("证件号码是脱敏号码（含 *），不能导入：脱敏导出的文件只供查看；请导出完整号码"
             "（有权查看完整号码的管理员勾选“完整证件号码”，或命令行不加 --masked）后再导入")
_SCI = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")
_DOT0 = re.compile(r"^\d+\.0+$")
_DATE_FORMS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]0{1,2}:0{2}(?::0{2}(?:\.0+)?)?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: 0{1,2}:0{2}(?::0{2})?)?$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_AMBIGUOUS = [
    (re.compile(r"^\d{1,2}[-/.年]\d{1,2}[-/.月]\d{1,4}日?$"), "日期有歧义（无法确定年、月、日的顺序）"),
    (re.compile(r"^\d{4}[-/.年]\d{1,2}月?$"), "日期不完整（缺少日）"),
    (re.compile(r"^\d{6}$"), "日期有歧义（6 位数字无法确定年月日）"),
]
TRUE = {"是", "y", "yes", "true", "1", "√", "有", "t"}
FALSE = {"否", "n", "no", "false", "0", "×", "无", "f"}
_SPLIT = re.compile(r"[,，、;；\s]+")


def model_field(col: L.Column):
    return MODELS[col.model]._meta.get_field(col.key)


def _number_text(v) -> str:
    if isinstance(v, bool):
        raise Bad("应为文本")
    if isinstance(v, float):
        if not v.is_integer() or abs(v) >= 1e15:
            raise Bad("数字过长或带小数，请将该列设为文本格式")
        return str(int(v))
    return str(v)


def parse_date(v) -> dt.date:
    """An Excel date cell or text in the usual Chinese forms → date. Raises Bad with the reason."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)):
        raise Bad("日期不是日期单元格也不是文本日期（请填写如 2019-04-01，或将单元格设为日期格式）")
    s = str(v).replace(" ", "") if "年" in str(v) else str(v)
    for form in _DATE_FORMS:
        m = form.match(s)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise Bad("日期不存在") from None
    for form, reason in _AMBIGUOUS:
        if form.match(s):
            raise Bad(reason + "，请写作 2019-04-01")
    raise Bad("日期格式无法识别，请写作 2019-04-01、2019/4/1、2019.4.1、2019年4月1日 或 20190401")


def _code_lookup(col: L.Column) -> dict[str, str]:
    table: dict[str, str] = {}
    for value, label in codes.zh_choices(col.choices):  # Chinese labels, whatever the UI language
        table[str(value)] = value
        table[L.normalize_header(label)] = value
        table[L.normalize_header(label).lower()] = value
        if str(value).isdigit():
            table[str(int(value))] = value
    if col.choices is codes.HouseholdType:  # "五保户" wording of older forms (policy.md §5.3)
        table.setdefault("五保贫困户", codes.HouseholdType.TEKUN_DISPERSED)
    return table


def _choices_hint(col: L.Column) -> str:
    items = [f"{v} {lab}" for v, lab in codes.zh_choices(col.choices)]
    return "、".join(items[:12]) + ("…" if len(items) > 12 else "")


def converter(col: L.Column):
    """A function raw cell (not None) → database value for ``col``; raises Bad."""
    f = model_field(col)
    max_length = getattr(f, "max_length", None)
    t = col.type
    if t == "text":
        def conv(v):
            s = _number_text(v)
            if max_length and len(s) > max_length:
                raise Bad(f"超过 {max_length} 个字符")
            return s
        return conv
    if t == "id":
        def conv(v):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                raise Bad(FORMAT_AS_TEXT)
            s = str(v).replace(" ", "")
            if max_length and len(s) > max_length:
                raise Bad(f"超过 {max_length} 个字符")
            if _SCI.match(s) or _DOT0.match(s):
                raise Bad(FORMAT_AS_TEXT)
            return s.upper()
        return conv
    if t == "area":
        def conv(v):
            s = _number_text(v)
            if not (len(s) == 12 and s.isdigit()):
                raise Bad("所在村代码应为 12 位数字的村级区划代码")
            return s
        return conv
    if t == "code":
        table = _code_lookup(col)

        def conv(v):
            s = _number_text(v) if isinstance(v, (int, float)) else str(v)
            code = table.get(s) or table.get(L.normalize_header(s)) or table.get(L.normalize_header(s).lower())
            if code is None:
                raise Bad(f"不是有效的{col.header}（可填代码或名称：{_choices_hint(col)}）")
            return code
        return conv
    if t == "codes":
        table = _code_lookup(col)

        def conv(v):
            s = _number_text(v) if isinstance(v, (int, float)) else str(v)
            items = [x for x in _SPLIT.split(s) if x]
            out = []
            for x in items:
                code = table.get(x) or table.get(L.normalize_header(x))
                if code is None:
                    raise Bad(f"「{x}」不是有效的{col.header}（可填代码或名称：{_choices_hint(col)}）")
                if code in out:
                    raise Bad(f"{col.header}重复：{x}")
                out.append(code)
            return ",".join(out)
        return conv
    if t == "date":
        return parse_date
    if t in ("year", "int"):
        def conv(v):
            if isinstance(v, bool):
                raise Bad("应为整数")
            if isinstance(v, float):
                if not v.is_integer():
                    raise Bad("应为整数")
                n = int(v)
            elif isinstance(v, int):
                n = v
            else:
                s = str(v).replace(",", "")
                if t == "year":
                    s = s.removesuffix("年")
                if not s.isdigit():
                    raise Bad("应为整数" if t == "int" else "应为四位年份，如 2019")
                n = int(s)
            if n < 0:
                raise Bad("不能为负数")
            if t == "year" and not (YEAR_MIN <= n <= dt.date.today().year + 1):
                raise Bad("年份不合理（应为四位年份，如 2019）")
            return n
        return conv
    if t == "decimal":
        places = col.decimals

        def conv(v):
            try:
                d = Decimal(repr(v) if isinstance(v, float) else str(v).replace(",", ""))
            except InvalidOperation:
                raise Bad("应为数值") from None
            if not d.is_finite() or isinstance(v, bool):
                raise Bad("应为数值")
            if d < 0:
                raise Bad("不能为负数")
            q = d.quantize(Decimal(1).scaleb(-places))
            if q != d:
                raise Bad(f"最多 {places} 位小数")
            if len(q.as_tuple().digits) > f.max_digits:
                raise Bad("数值过大")
            return q
        return conv
    if t == "money":
        def conv(v):
            if isinstance(v, bool):
                raise Bad("应为金额（元）")
            try:
                fen = yuan_to_fen(Decimal(repr(v)) if isinstance(v, float) else v)
            except ValueError as exc:
                raise Bad("应为金额（元），最多两位小数") from exc
            if fen < 0:
                raise Bad("金额不能为负数")
            return fen
        return conv
    if t == "bool":
        def conv(v):
            if isinstance(v, bool):
                return v
            s = (_number_text(v) if isinstance(v, (int, float)) else str(v)).lower()
            if s in TRUE:
                return True
            if s in FALSE:
                return False
            raise Bad("应填“是”或“否”")
        return conv
    raise ValueError(f"layout: 未知列类型 {t}")


def blank_value(col: L.Column):
    """The database value of a blank cell: NULL where allowed, else the field's default, else ""."""
    f = model_field(col)
    if f.null:
        return None
    if f.has_default():
        d = f.get_default()
        if col.type == "money":
            return int(d) * 100
        return d
    return "" if f.get_internal_type() in ("CharField", "TextField") else None



# --------------------------------------------------------------------------------------------------
# Column-wise conversion and the checks across rows (Arrow arrays + DuckDB over the whole file).
# --------------------------------------------------------------------------------------------------

def colname(col: L.Column) -> str:
    """Name of a layout column in the parsed tables: ``household__area``, ``member__name``…"""
    return f"{col.model}__{col.key}"


def arrow_type(col: L.Column):
    import pyarrow as pa

    t = col.type
    if t in ("date",):
        return pa.date32()
    if t in ("year", "int", "money"):
        return pa.int64()
    if t == "decimal":
        f = model_field(col)
        return pa.decimal128(f.max_digits, f.decimal_places)
    if t == "bool":
        return pa.bool_()
    return pa.string()


def show_raw(v) -> str:
    """A raw (string-table) cell as the user typed it: an Excel number keeps its number form."""
    if v is None:
        return ""
    if isinstance(v, str) and v.startswith(NUMBER_MARK):
        try:
            return show(float(v[1:]))
        except ValueError:
            return v[1:]
    return show(v)


def display(col: L.Column, v) -> str:
    """A converted value as the user would write it (money in 元, dates ISO, a code as its Chinese label: 因残,
    not 02 — a trial was told 值「02」 about a cell it had typed 因残)."""
    if v is None:
        return ""
    if col.type in ("code", "codes") and col.choices is not None:
        labels = dict(codes.zh_choices(col.choices))
        return "、".join(str(labels.get(c, c)) for c in str(v).split(",") if c)
    if col.type == "money":
        return f"{Decimal(int(v)) / 100:f}".rstrip("0").rstrip(".") if int(v) % 100 else str(int(v) // 100)
    if col.type == "bool":
        return "是" if v else "否"
    return str(v)


_MARK_REASON = {"id": FORMAT_AS_TEXT, "date": "日期单元格被存成了数字，请填写如 2019-04-01，或将单元格设为日期格式",
                "text": "数字过长或带小数，请将该列设为文本格式", "area": "所在村代码应为 12 位数字的村级区划代码"}


def convert_array(col: L.Column, arr, memo: dict | None = None) -> tuple[object, dict[int, tuple[str, str]]]:
    """Convert one column (Arrow strings, null or "" = blank) → (typed Arrow array, {position: (reason, raw)}).

    Chunk by chunk (bounded memory); in each chunk every *distinct* value is normalised (NFKC, stripped)
    and converted once with ``converter(col)`` (remembered across chunks) and spread back with the
    dictionary indices, so the cost follows the number of distinct values, not rows. Text and ID columns
    are vectorised (``_convert_text_array``)."""
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    memo = {} if memo is None else memo
    typed_chunks, errors, offset = [], {}, 0
    for chunk in chunks:
        if col.type in ("text", "id"):
            typed, errs = _convert_text_array(col, chunk)
        else:
            typed, errs = _convert_chunk(col, chunk, memo)
        typed_chunks.append(typed)
        for p, e in errs.items():
            errors[p + offset] = e
        offset += len(chunk)
    if not typed_chunks:
        return pa.chunked_array([], type=arrow_type(col)), errors
    return pa.chunked_array(typed_chunks, type=arrow_type(col)), errors


def _convert_chunk(col: L.Column, arr, memo: dict):
    import pyarrow as pa
    import pyarrow.compute as pc

    d = arr.dictionary_encode() if not pa.types.is_dictionary(arr.type) else arr
    dic = d.dictionary
    conv = converter(col)
    mark_reason = _MARK_REASON.get(col.type)
    iso = None
    if col.type == "date" and len(dic) > 1000:
        # the common ISO form, vectorised; every other form (and an ISO-shaped day that does not exist)
        # goes through parse_date below
        ok = pc.fill_null(pc.match_substring_regex(dic, r"^\d{4}-\d{2}-\d{2}$"), False)
        iso = pc.cast(pc.strptime(pc.if_else(ok, dic, pa.scalar(None, pa.string())), format="%Y-%m-%d", unit="s",
                                  error_is_null=True), pa.date32())
        todo = pc.indices_nonzero(pc.is_null(iso)).to_pylist()
    else:
        todo = range(len(dic))
    uniq = dic.take(pa.array(todo, pa.int64())).to_pylist() if iso is not None else dic.to_pylist()
    out, bad = [], {}
    for k, v in zip(todo, uniq):
        hit = memo.get(v)
        if hit is None:
            s = norm_cell(v)
            if s is None:
                hit = (None, None)
            else:
                try:
                    if s.startswith(NUMBER_MARK):
                        if mark_reason:
                            raise Bad(mark_reason)
                        s = s[1:]
                    hit = (conv(s), None)
                except Bad as exc:
                    hit = (None, str(exc))
            memo[v] = hit
        out.append(hit[0])
        if hit[1] is not None:
            bad[k] = hit[1]
    if iso is not None:
        values = pc.replace_with_mask(iso, pc.is_null(iso), pa.array(out, pa.date32())) if out else iso
    else:
        values = pa.array(out, type=arrow_type(col))
    typed = values.take(d.indices)
    errors: dict[int, tuple[str, str]] = {}
    if bad:
        mask = pc.fill_null(pc.is_in(d.indices, value_set=pa.array(list(bad), d.indices.type)), False)
        positions = pc.indices_nonzero(mask).to_pylist()
        for p, k in zip(positions, d.indices.take(positions).to_pylist()):
            errors[p] = (bad[k], show_raw(norm_cell(dic[k].as_py())))
    return typed, errors


def _convert_text_array(col: L.Column, arr):
    """Vectorised conversion of a text or ID column (mostly distinct values): NFKC where non-ASCII, trim,
    blank → null, length; an ID number stored by Excel as a number (marker, scientific notation, ".0") is
    an error, spaces are removed and "x" is upper-cased."""
    import pyarrow as pa
    import pyarrow.compute as pc

    a = arr
    if not pc.all(pc.fill_null(pc.string_is_ascii(a), True)).as_py():
        a = pc.utf8_normalize(a, "NFKC")
    a = pc.utf8_trim_whitespace(a)
    a = pc.if_else(pc.equal(pc.utf8_length(a), 0), pa.scalar(None, pa.string()), a)
    f = model_field(col)
    reasons = []
    if col.type == "id":
        a = pc.utf8_upper(pc.replace_substring(a, " ", ""))
        mangled = pc.or_(pc.starts_with(a, NUMBER_MARK),
                         pc.or_(pc.match_substring_regex(a, _SCI.pattern), pc.match_substring_regex(a, _DOT0.pattern)))
        reasons.append((mangled, FORMAT_AS_TEXT))
    else:
        reasons.append((pc.starts_with(a, NUMBER_MARK), _MARK_REASON["text"]))
    if f.max_length:
        reasons.append((pc.greater(pc.utf8_length(a), f.max_length), f"超过 {f.max_length} 个字符"))
    errors: dict[int, tuple[str, str]] = {}
    any_bad = None
    for mask, reason in reasons:
        mask = pc.fill_null(mask, False)
        positions = pc.indices_nonzero(mask).to_pylist()
        for p in positions:
            errors.setdefault(p, (reason, show_raw(norm_cell(arr[p].as_py()))))
        any_bad = mask if any_bad is None else pc.or_(any_bad, mask)
    if errors:
        a = pc.if_else(any_bad, pa.scalar(None, pa.string()), a)
    return a, errors


@dataclass
class Parsed:
    """A parsed file. The rows to stage are kept on disk, not in memory: ``workdir`` holds
    ``households.parquet`` (one row per household number: household and income columns, ``_sheet``/``_row``
    of its first row) and ``members.parquet`` (one row per member row with a household number, with
    ``household_number``, ``_sheet``, ``_row``), columns named ``colname(col)``, values in database form
    (money in fen), in file order; ``batches`` streams them with the blanks set to the field defaults. The
    folder is removed by ``close`` (or when the object is garbage-collected, or at exit). ``fatal`` issues
    (file or header) stop the whole import even when partial."""

    file: str
    sheets: list = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    fatal: bool = False
    rows_total: int = 0
    household_count: int = 0
    workdir: Path | None = None
    # called with the number of data rows read so far, after each block (``parse(progress=…)``)
    progress: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self._finalizer = None

    @property
    def has_data(self) -> bool:
        return self.workdir is not None

    def _own(self, workdir: Path) -> None:
        self.workdir = workdir
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(workdir), True)

    def close(self) -> None:
        """Remove the files of the parsed rows (``has_data`` becomes false)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self.workdir = None

    def batches(self, kind: str, columns: list[str] | None = None, rows: int = STAGE_BATCH_ROWS):
        """Arrow tables of at most ``rows`` rows of ``kind`` ("households" or "members"), in file order,
        only ``columns`` (default: all), blanks set to the field defaults (``blank_value``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        fill = _DEFAULTS_OF[kind]()
        with pq.ParquetFile(self.workdir / f"{kind}.parquet") as f:
            for b in f.iter_batches(batch_size=rows, columns=columns, use_threads=False):
                yield _fill_defaults(pa.Table.from_batches([b]), [c for c in fill if colname(c) in b.schema.names])

    def rejected_count(self) -> int:
        """Households of the file with an error (a partial import leaves them out)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        bad = self.bad_households()
        if not self.has_data or not bad:
            return 0
        value_set = pa.array(sorted(bad), pa.string())
        return sum(pc.sum(pc.fill_null(pc.is_in(t.column(HN), value_set=value_set), False)).as_py() or 0
                   for t in self.batches("households", [HN]))

    def bad_households(self) -> set[str]:
        return {i.household for i in self.issues if i.household}

    def bad_rows(self) -> set[tuple[str, int]]:
        """(sheet, row) of every row not imported: rows with an error, and all rows of a rejected household."""
        import pyarrow as pa
        import pyarrow.compute as pc

        out = {(i.sheet, i.row) for i in self.issues if i.row}
        bad = self.bad_households()
        if bad and self.has_data:
            value_set = pa.array(sorted(bad), pa.string())
            for t in self.batches("members", ["household_number", "_sheet", "_row"]):
                sub = t.filter(pc.fill_null(pc.is_in(t.column("household_number"), value_set=value_set), False))
                out.update(zip(sub.column("_sheet").to_pylist(), sub.column("_row").to_pylist()))
        return out


_DEFAULTS_OF = {"households": lambda: L.HOUSEHOLD_COLUMNS + tuple(c for c in L.INCOME_COLUMNS if c.key != "year"),
                "members": lambda: L.MEMBER_COLUMNS}


def _q(code: str, value="", name="") -> str:
    return Q.render(code, value=value, name=name)


HN = colname(L.BY_KEY[L.HOUSEHOLD, "household_number"])
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_sql(c: str) -> tuple[str, str, str]:
    """DuckDB expressions (valid, sex, birth) of GB 11643 for the 18-character ID in column ``c``."""
    total = " + ".join(f"TRY_CAST(substr({c}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(_ID_WEIGHTS))
    birth = f"TRY_CAST(try_strptime(substr({c}, 7, 8), '%Y%m%d') AS DATE)"
    form = f"regexp_full_match({c}, '[0-9]{{17}}[0-9X]')"
    valid = (f"({form} AND substr('10X98765432', (({total}) % 11) + 1, 1) = substr({c}, 18, 1) "
             f"AND {birth} IS NOT NULL AND {birth} <= $today AND {birth} >= DATE '1880-01-01')")
    sex = f"CASE WHEN TRY_CAST(substr({c}, 17, 1) AS INTEGER) % 2 = 1 THEN '1' ELSE '2' END"
    return valid, sex, birth


def parse(path, display_name: str | None = None, area_code: str = "", today: dt.date | None = None,
          progress=None, workroot: Path | None = None) -> Parsed:
    """Read and check one file (no database writes). ``area_code``: the uploader's area prefix ("" = all).
    The rows to stage go to a temporary folder owned by the result (``Parsed.workdir``), made under
    ``workroot`` (default: the system's temporary folder; the import service gives its own, which the
    retention purge sweeps). ``progress``: a callable given the number of data rows read so far, after each
    block of rows (the batch page's progress)."""
    sheets, issues = read_file(path, display_name)
    file = display_name or str(path).rsplit("/", 1)[-1]
    result = Parsed(file=file, issues=list(issues), fatal=bool(issues), progress=progress)
    if result.fatal:
        return result
    if workroot is not None:
        Path(workroot).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="xiaokang-import-", dir=workroot))
    try:
        kept = _parse(result, sheets, work, area_code, today)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if kept:
        result._own(work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _parse(result: Parsed, sheets, work: Path, area_code: str, today: dt.date | None) -> bool:
    """The body of ``parse``: returns whether the rows to stage were written to ``work``."""
    import duckdb

    from xiaokang.policy.params import file_parameters

    params = file_parameters()
    on = today or dt.date.today()
    months_min = params.value("quality.work_months_min", on)
    months_max = params.value("quality.work_months_max", on)

    # DuckDB in memory (at most DUCKDB_MEMORY_LIMIT, spilling to the work folder): the rows themselves
    # stay in a Parquet file that DuckDB scans, never in Python.
    con = duckdb.connect(":memory:", config={"memory_limit": DUCKDB_MEMORY_LIMIT, "threads": 1,
                                             "preserve_insertion_order": False,
                                             "temp_directory": str(work / "spill")})
    try:
        con.execute("SET enable_progress_bar = false")
        with step("validate: read, convert and check (DuckDB)"):
            patch = _checks(result, sheets, con, work, area_code, on, months_min, months_max)
        con.close()  # DuckDB's memory is released before the members are written
        if patch is not None:
            with step("validate: write members.parquet"):
                _write_members(work / "rows.parquet", work / "members.parquet", patch, {
                    colname(L.BY_KEY[L.MEMBER, "id_number"]): "id", "member__sex": "sex",
                    "member__birth_date": "birth"})
        return patch is not None
    finally:
        con.close()
        (work / "rows.parquet").unlink(missing_ok=True)
        shutil.rmtree(work / "spill", ignore_errors=True)


def _checks(result: Parsed, sheets, con, work: Path, area_code: str, on: dt.date, months_min, months_max):
    """Conversion and checks; writes ``households.parquet`` and returns the patch of the member rows for
    ``_write_members`` (None when the file has no data rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = result.file

    # 1–2. Stream each sheet's rows (Arrow batches of strings) and convert every layout column batch by
    # batch (distinct values once, remembered across batches); each typed batch is appended to a Parquet
    # file (``_pos`` = position in the file) and dropped. DuckDB reads that file as the view ``t``.
    header_of: dict[tuple[str, str], str] = {}
    memos: dict[str, dict] = {colname(c): {} for c in L.COLUMNS}
    conv_errors: list[tuple[int, L.Column, str, str]] = []
    rows_file = work / "rows.parquet"

    def convert() -> int:
        writer = None
        n = 0
        try:
            for sheet in sheets:
                result.sheets.append((sheet.name, sheet.header_rows, sheet.raw_headers))
                present = {colname(c): j for j, c in enumerate(sheet.columns)}
                for c, h in zip(sheet.columns, sheet.headers):
                    header_of[sheet.name, colname(c)] = h
                for batch in sheet.batches():
                    nb = batch.num_rows
                    if not nb:
                        continue
                    cols = {"_sheet": pa.array([sheet.name] * nb, pa.string()), "_row": batch.column("_row")}
                    for c in L.COLUMNS:
                        j = present.get(colname(c))
                        arr = batch.column(f"c{j}") if j is not None else pa.nulls(nb, pa.string())
                        typed, errors = convert_array(c, arr, memos[colname(c)])
                        cols[colname(c)] = typed
                        conv_errors.extend((n + p, c, reason, value) for p, (reason, value) in errors.items())
                    del batch
                    cols["_pos"] = pa.array(range(n, n + nb), pa.int64())
                    part = pa.table(cols)
                    del cols
                    if writer is None:
                        writer = pq.ParquetWriter(rows_file, part.schema, compression="snappy")
                    writer.write_table(part)
                    del part
                    n += nb
                    if result.progress is not None:
                        result.progress(n)
        finally:
            if writer is not None:
                writer.close()
        return n

    with step("validate: … of which read + convert"):
        try:
            n = convert()
        except RereadExactly:  # a CSV that the fast path cannot read after all: again, with the csv module
            result.sheets.clear()
            conv_errors.clear()
            n = convert()
    if not n:
        result.issues.append(Issue(file, sheets[0].name if sheets else "", None, "", "", "文件中没有数据行",
                                   code="IMP_EMPTY"))
        result.fatal = True
        return None
    rows_sql = str(rows_file).replace("'", "''")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{rows_sql}')")
    result.rows_total = n

    def q(sql, params=None):
        return con.execute(sql, params or {}).fetchall()

    # Issues of a row are located (sheet, row, household number) in one query per step, not per issue:
    # ``add`` keeps a placeholder, ``locate`` fills the placeholders in.
    pending: list[tuple] = []

    def add(pos, col, reason, code, value, household=...):
        pending.append((len(result.issues), pos, col, reason, code, value, household))
        result.issues.append(None)

    def locate(extra=()) -> dict[int, tuple]:
        want = sorted({p[1] for p in pending} | set(extra))
        if not want:
            return {}
        con.register("want", pa.table({"_pos": pa.array(want, pa.int64())}))
        loc = {pos: (sheet, row, hn) for pos, sheet, row, hn in
               q(f"SELECT t._pos, t._sheet, t._row, t.{HN} FROM t JOIN want USING (_pos)")}
        con.unregister("want")
        for i, pos, col, reason, code, value, household in pending:
            sheet, row, hn = loc[pos]
            header = header_of.get((sheet, colname(col)), col.header) if col is not None else ""
            result.issues[i] = Issue(file, sheet, row, header, value, reason, hn if household is ... else household,
                                     code)
        pending.clear()
        return loc

    errored: set[tuple[int, str]] = set()
    for pos, c, reason, value in sorted(conv_errors, key=lambda e: (e[0], L.COLUMNS.index(e[1]))):
        errored.add((pos, colname(c)))
        add(pos, c, reason, "Q01_ID_INVALID" if c.type == "id" else "IMP_VALUE", value)
    del conv_errors

    hcol = L.BY_KEY[L.HOUSEHOLD, "household_number"]
    # 3. Rows without a household number.
    for (pos,) in q(f"SELECT _pos FROM t WHERE {HN} IS NULL ORDER BY _pos"):
        if (pos, HN) not in errored:
            add(pos, hcol, "户编号为空（必填）", "IMP_REQUIRED", "", household=None)
    # 4. A household's rows must be adjacent: the same number in a later block is a duplicate.
    for pos, first_sheet, first_row, hn in q(f"""
        WITH b AS (SELECT _pos, _sheet, _row, {HN} AS hn,
                          {HN} IS DISTINCT FROM lag({HN}) OVER (ORDER BY _pos) AS starts FROM t),
             s AS (SELECT *, min(_pos) OVER (PARTITION BY hn) AS first_pos FROM b WHERE hn IS NOT NULL)
        SELECT s._pos, f._sheet, f._row, s.hn FROM s JOIN t f ON f._pos = s.first_pos
        WHERE s.starts AND s._pos <> s.first_pos ORDER BY s._pos"""):
        add(pos, hcol, f"户编号在文件中重复（已在工作表「{first_sheet}」第 {first_row} 行出现；同一户的各行须相邻）",
            "IMP_DUPLICATE_HOUSEHOLD", hn)
    # 5. Member values: required, ID number (GB 11643), sex and birth date against it, work months, dates.
    for c in L.MEMBER_COLUMNS:
        if c.required:
            for (pos,) in q(f"SELECT _pos FROM t WHERE {colname(c)} IS NULL AND {HN} IS NOT NULL ORDER BY _pos"):
                if (pos, colname(c)) not in errored:
                    add(pos, c, "必填项为空", "IMP_REQUIRED", "")
    idc, doc = colname(L.BY_KEY[L.MEMBER, "id_number"]), colname(L.BY_KEY[L.MEMBER, "document_type"])
    namec, sexc, birthc = "member__name", "member__sex", "member__birth_date"
    valid = _id_sql(idc)[0]
    resident = f"coalesce({doc}, 'id') = 'id'"
    # One pass over the ID numbers: sex and birth date of the valid ones (``d``), and the invalid ones
    # (with their name) for the exact message, or the upgrade of a 15-digit number.
    # (``OFFSET 0`` keeps the optimizer from copying the validity expression into each use of it)
    con.execute(f"CREATE TABLE d AS SELECT _pos, CASE WHEN ok THEN {_id_sql('v_id')[1]} END AS id_sex, "
                f"CASE WHEN ok THEN {_id_sql('v_id')[2]} END AS id_birth, CASE WHEN bad THEN v_id END AS bad_id, "
                f"CASE WHEN bad THEN v_name END AS bad_name, bad AS invalid "
                f"FROM (SELECT *, coalesce(res AND valid, false) AS ok, "
                f"coalesce(v_id IS NOT NULL AND res AND NOT valid, false) AS bad "
                f"FROM (SELECT _pos, {idc} AS v_id, {namec} AS v_name, {resident} AS res, {valid} AS valid "
                f"FROM t OFFSET 0))", {"today": on})
    fix_pos, fix_id = [], []
    for pos, ident, name in q("SELECT _pos, bad_id, bad_name FROM d WHERE invalid ORDER BY _pos"):
        check = validate_id_number(ident, today=on)
        if check.valid:  # a 15-digit number, upgraded to 18
            fix_pos.append(pos)
            fix_id.append(check.normalized)
        else:
            reason = MASKED_ID if "*" in ident else check.error
            add(pos, L.BY_KEY[L.MEMBER, "id_number"], _q(Q.ID_INVALID, reason, name or ""), Q.ID_INVALID, ident)
            errored.add((pos, idc))
    if fix_pos:  # t becomes the file's rows with these ID numbers replaced; d gets their sex and birth date
        con.register("fix_in", pa.table({"_pos": pa.array(fix_pos, pa.int64()), "v": pa.array(fix_id, pa.string())}))
        con.execute("CREATE TABLE fix AS SELECT * FROM fix_in")
        con.unregister("fix_in")
        con.execute(f"CREATE OR REPLACE VIEW t AS SELECT r.* REPLACE (coalesce(fix.v, r.{idc}) AS {idc}) "
                    f"FROM read_parquet('{rows_sql}') r LEFT JOIN fix USING (_pos)")
        fvalid, fsex, fbirth = _id_sql("fix.v")
        con.execute(f"UPDATE d SET id_sex = CASE WHEN {fvalid} THEN {fsex} END, "
                    f"id_birth = CASE WHEN {fvalid} THEN {fbirth} END FROM fix WHERE d._pos = fix._pos", {"today": on})
    # (the rows of ``bad_ids`` have no sex or birth date in ``d``: their ID number is blank or invalid)
    bad_ids = sorted(p for p, c in errored if c == idc)
    con.execute("CREATE TABLE bad_ids (_pos BIGINT)")
    if bad_ids:
        con.register("bad_ids_in", pa.table({"_pos": pa.array(bad_ids, pa.int64())}))
        con.execute("INSERT INTO bad_ids SELECT _pos FROM bad_ids_in")
        con.unregister("bad_ids_in")
    sex_labels = codes.zh_labels(codes.Sex)
    for pos, sex, isex, name in q(f"SELECT t._pos, t.{sexc}, d.id_sex, t.{namec} FROM t JOIN d USING (_pos) "
                                  f"WHERE t.{sexc} IS NOT NULL AND d.id_sex IS NOT NULL AND t.{sexc} <> d.id_sex "
                                  f"ORDER BY t._pos"):
        add(pos, L.BY_KEY[L.MEMBER, "sex"], _q(Q.SEX_ID_MISMATCH, f"填写为{sex_labels[sex]}，证件号码为{sex_labels[isex]}",
                                               name or ""), Q.SEX_ID_MISMATCH, sex_labels[sex])
    for pos, birth, ibirth, name, raw_birth in q(
            f"SELECT t._pos, t.{birthc}, d.id_birth, t.{namec}, t.{birthc} FROM t JOIN d USING (_pos) "
            f"WHERE t.{birthc} IS NOT NULL AND d.id_birth IS NOT NULL AND t.{birthc} <> d.id_birth ORDER BY t._pos"):
        add(pos, L.BY_KEY[L.MEMBER, "birth_date"], _q(Q.BIRTH_ID_MISMATCH, f"填写为 {birth}，证件号码为 {ibirth}",
                                                      name or ""), Q.BIRTH_ID_MISMATCH, str(raw_birth))
    for c in (L.BY_KEY[L.MEMBER, "sex"], L.BY_KEY[L.MEMBER, "birth_date"]):
        for (pos,) in q(f"SELECT _pos FROM t WHERE {colname(c)} IS NULL AND NOT {resident} AND {HN} IS NOT NULL "
                        f"ORDER BY _pos"):
            if (pos, colname(c)) not in errored:
                add(pos, c, "非居民身份证的成员须填写此项", "IMP_REQUIRED", "")
    wm = "member__work_months"
    for pos, months, name in q(f"SELECT _pos, {wm}, {namec} FROM t WHERE {wm} < $lo OR {wm} > $hi ORDER BY _pos",
                               {"lo": months_min, "hi": months_max}):
        add(pos, L.BY_KEY[L.MEMBER, "work_months"], _q(Q.WORK_MONTHS_RANGE, months, name or ""), Q.WORK_MONTHS_RANGE,
            str(months))
    for (pos, left) in q("SELECT _pos, member__left_on FROM t "
                         "WHERE member__left_on < member__entered_on ORDER BY _pos"):
        add(pos, L.BY_KEY[L.MEMBER, "left_on"], "减少日期早于新增日期", "IMP_DATES", str(left))
    # 6. The same person twice in the file: every occurrence is an error.
    id_col = L.BY_KEY[L.MEMBER, "id_number"]
    for pos, ident, places in q(f"""
        WITH s AS (SELECT _pos, _sheet, _row, {idc} FROM t
                   WHERE {idc} IS NOT NULL AND _pos NOT IN (SELECT _pos FROM bad_ids)),
             dup AS (SELECT {idc} FROM s GROUP BY {idc} HAVING count(*) > 1)
        SELECT _pos, {idc}, string_agg('「' || _sheet || '」第 ' || _row || ' 行', '、' ORDER BY _pos)
                      OVER (PARTITION BY {idc}) AS places
        FROM s WHERE {idc} IN (SELECT {idc} FROM dup) ORDER BY _pos"""):
        add(pos, id_col, f"证件号码在文件中重复（{places}），同一人不能出现两次", "IMP_DUPLICATE_ID", ident)
    # 7. Households: the first non-blank value of each household column; a different one later is an error.
    hl = [colname(c) for c in L.HOUSEHOLD_LEVEL]
    # The household's first row (small join), then, column by column, the first non-blank value of the
    # households whose first row left it blank (an aggregate over all columns at once needs far more memory).
    select_hl = ", ".join(f"t.{c}" for c in hl if c != HN)
    con.execute(f"CREATE TABLE firsts AS SELECT {HN} AS hn, min(_pos) AS p FROM t WHERE {HN} IS NOT NULL "
                f"GROUP BY {HN}")
    con.execute(f"CREATE TABLE h AS SELECT t.{HN}, t._sheet, t._row, t._pos, {select_hl} "
                f"FROM t JOIN firsts f ON t._pos = f.p")
    for c in hl:
        if c == HN:
            continue
        con.execute(f"UPDATE h SET {c} = x.v FROM (SELECT t.{HN} AS hn, arg_min(t.{c}, t._pos) AS v FROM t "
                    f"JOIN (SELECT {HN} AS hn FROM h WHERE {c} IS NULL) b ON b.hn = t.{HN} "
                    f"WHERE t.{c} IS NOT NULL GROUP BY t.{HN}) x WHERE h.{HN} = x.hn")
    conflicts = ", ".join(f"CASE WHEN t.{c} IS NOT NULL AND t.{c} <> h.{c} THEN '{c}' END" for c in hl if c != HN)
    by_name = {colname(c): c for c in L.COLUMNS}
    found = [(pos, name, first_row) for pos, names, first_row in q(f"""
        SELECT * FROM (SELECT t._pos, list_filter([{conflicts}], lambda x: x IS NOT NULL) AS names, h._row
                       FROM t JOIN h USING ({HN})) WHERE len(names) > 0 ORDER BY _pos""")
             for name in names if (pos, name) not in errored]
    values: dict[tuple[int, str], tuple] = {}
    for name in {name for _p, name, _r in found}:  # the values of the (few) disagreeing cells, column by column
        con.register("want", pa.table({"_pos": pa.array(sorted({p for p, nm, _r in found if nm == name}), pa.int64())}))
        for pos, value, first in q(f"SELECT t._pos, t.{name}, h.{name} FROM t JOIN want USING (_pos) "
                                   f"JOIN h USING ({HN})"):
            values[pos, name] = (value, first)
        con.unregister("want")
    for pos, name, first_row in found:
        c = by_name[name]
        value, first = values[pos, name]
        add(pos, c, f"同一户的各行此列不一致（该户第 {first_row} 行为「{display(c, first)}」）",
            "IMP_HOUSEHOLD_DISAGREES", display(c, value))
    del found, values
    # 8. Household checks: required values, villages, area, causes, years, income items.
    hl_set = set(hl)
    loc = locate(extra=[p for p, c in errored if c in hl_set])
    household_errored = {(loc[p][2], c) for p, c in errored if c in hl_set}
    del loc
    _household_checks(result, con, area_code, household_errored, header_of)
    # 9. The rows to stage, written to Parquet files (``Parsed.batches`` reads them back in batches):
    # the households (their first non-blank values), and the member columns of every row with a household
    # number, sex and birth date taken from the ID number when blank.
    result.household_count = q("SELECT count(*) FROM h")[0][0]
    households_sql = str(work / "households.parquet").replace("'", "''")
    con.execute(f"COPY (SELECT * FROM h ORDER BY _pos) TO '{households_sql}' "
                f"(FORMAT parquet, COMPRESSION snappy)")
    # Members: the rows file read again in file order (no sort), with the cells that differ from it — an
    # ID number upgraded to 18 digits, sex and birth date taken from the ID number — patched by position.
    return con.sql(
        f"SELECT t._pos, t.{idc} AS id, coalesce(t.{sexc}, d.id_sex) AS sex, "
        f"coalesce(t.{birthc}, d.id_birth) AS birth FROM t LEFT JOIN d USING (_pos) "
        f"WHERE (t.{sexc} IS NULL AND d.id_sex IS NOT NULL) OR (t.{birthc} IS NULL AND d.id_birth IS NOT NULL)"
        + (" OR t._pos IN (SELECT _pos FROM fix)" if fix_pos else "") + " ORDER BY t._pos").to_arrow_table()


def _write_members(rows_file: Path, out: Path, patch, patched: dict[str, str]) -> None:
    """``members.parquet``: the member columns, ``household_number``, ``_sheet`` and ``_row`` of every row
    of ``rows_file`` with a household number, in file order; ``patch`` (``_pos`` ascending) replaces the
    cells of the columns ``patched`` (rows-file column → patch column) at its positions."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = [colname(c) for c in L.MEMBER_COLUMNS] + [HN, "_sheet", "_row", "_pos"]
    patch = patch.combine_chunks()
    ppos = patch.column("_pos")
    writer = None
    with pq.ParquetFile(rows_file) as f:
        for b in f.iter_batches(batch_size=STAGE_BATCH_ROWS, columns=names, use_threads=False):
            t = pa.Table.from_batches([b])
            pos = t.column("_pos").combine_chunks()
            if patch.num_rows:
                lo, hi = pc.min_max(pos).values()
                sub = patch.filter(pc.and_(pc.greater_equal(ppos, lo), pc.less_equal(ppos, hi)))
                if sub.num_rows:
                    mask = pc.is_in(pos, value_set=sub.column("_pos").combine_chunks())
                    for name, pname in patched.items():
                        i = t.schema.get_field_index(name)
                        col = t.column(i).combine_chunks()
                        t = t.set_column(i, name, pc.replace_with_mask(col, mask, sub.column(pname).combine_chunks().cast(col.type)))
            if t.column(HN).null_count:
                t = t.filter(pc.is_valid(t.column(HN)))
            t = t.drop_columns(["_pos"]).rename_columns([*names[:-4], "household_number", "_sheet", "_row"])
            if writer is None:
                writer = pq.ParquetWriter(out, t.schema, compression="snappy")
            writer.write_table(t)
    if writer is not None:
        writer.close()


def _fill_defaults(table, columns):
    import pyarrow as pa
    import pyarrow.compute as pc

    for c in columns:
        name = colname(c)
        default = blank_value(c)
        if default is not None:
            i = table.schema.get_field_index(name)
            col = table.column(i)
            if col.null_count:
                table = table.set_column(i, name, pc.fill_null(col, pa.scalar(default, col.type)))
    return table


def _household_checks(result: Parsed, con, area_code: str, errored: set, header_of: dict) -> None:
    """Checks of the household table ``h`` in SQL; only offending households come back to Python."""
    import pyarrow as pa

    file = result.file
    codes_list = [r[0] for r in con.execute("SELECT DISTINCT household__area FROM h "
                                            "WHERE household__area IS NOT NULL").fetchall()]
    found_codes, levels = [], []
    for i in range(0, len(codes_list), 900):
        for code, level in Area.objects.filter(code__in=codes_list[i:i + 900]).values_list("code", "level"):
            found_codes.append(code)
            levels.append(level)
    con.register("areas", pa.table({"code": pa.array(found_codes, pa.string()),
                                    "level": pa.array(levels, pa.string())}))
    cause_labels = codes.zh_labels(codes.PovertyCause)

    def issue(hn, sheet, row, c, reason, code, value):
        header = header_of.get((sheet, colname(c)), c.header)
        result.issues.append(Issue(file, sheet, row, header, value, reason, hn, code))

    def rows(sql, params=None):
        return con.execute(sql, params or {}).fetchall()

    base = f"SELECT {HN}, _sheet, _row"
    for c in L.HOUSEHOLD_COLUMNS:
        if c.required and c.key != "household_number":
            for hn, sheet, row in rows(f"{base} FROM h WHERE {colname(c)} IS NULL ORDER BY _pos"):
                if (hn, colname(c)) not in errored:
                    issue(hn, sheet, row, c, "必填项为空", "IMP_REQUIRED", "")
    ac = L.BY_KEY[L.HOUSEHOLD, "area"]
    for hn, sheet, row, area, level in rows(
            f"{base}, household__area, a.level FROM h LEFT JOIN areas a ON a.code = h.household__area "
            f"WHERE household__area IS NOT NULL AND (a.level IS NULL OR a.level <> 'village' "
            f"OR NOT starts_with(household__area, $prefix)) ORDER BY _pos", {"prefix": area_code or ""}):
        if level is None:
            issue(hn, sheet, row, ac, "所在村代码不存在（请核对行政区划代码）", "IMP_AREA_UNKNOWN", area)
        elif level != "village":
            issue(hn, sheet, row, ac, "所在村代码不是村级区划代码", "IMP_AREA_LEVEL", area)
        else:
            issue(hn, sheet, row, ac, f"该户不在您的管辖区域（{area_code}）内，不能导入", "IMP_OUT_OF_AREA", area)
    for hn, sheet, row, main, other in rows(
            f"{base}, household__main_cause, household__other_causes FROM h WHERE household__main_cause IS NOT NULL "
            f"AND list_contains(string_split(household__other_causes, ','), household__main_cause) ORDER BY _pos"):
        issue(hn, sheet, row, L.BY_KEY[L.HOUSEHOLD, "other_causes"], _q("Q17_CAUSE_REPEATED", cause_labels[main]),
              "Q17_CAUSE_REPEATED", other)
    for hn, sheet, row, ey in rows(f"{base}, household__exit_year FROM h "
                                   f"WHERE household__exit_year < household__identified_year ORDER BY _pos"):
        issue(hn, sheet, row, L.BY_KEY[L.HOUSEHOLD, "exit_year"], "脱贫年度早于识别年度", "IMP_YEARS", str(ey))
    amounts = " OR ".join(f"{colname(c)} IS NOT NULL" for c in L.INCOME_COLUMNS if c.key != "year")
    for hn, sheet, row in rows(f"{base} FROM h WHERE income__year IS NULL AND ({amounts}) ORDER BY _pos"):
        if (hn, "income__year") not in errored:
            issue(hn, sheet, row, L.BY_KEY[L.INCOME, "year"], "填写了收入但未填写年度", "IMP_REQUIRED", "")
    for part, total, reason in (("public_welfare_post", "wage", "公益性岗位收入不能大于工资性收入"),
                                ("asset_dividend", "property_income", "资产收益分红不能大于财产性收入")):
        c = L.BY_KEY[L.INCOME, part]
        for hn, sheet, row, v in rows(f"{base}, income__{part} FROM h WHERE coalesce(income__{part}, 0) > "
                                      f"coalesce(income__{total}, 0) ORDER BY _pos"):
            issue(hn, sheet, row, c, reason, "IMP_INCOME", display(c, v))
