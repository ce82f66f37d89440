"""Writes of the areas app: import administrative divisions (行政区划导入) from CSV.

Layouts (detected from the header, column order free):

=========  ==================================================================  =====
layout     columns                                                             level
=========  ==================================================================  =====
provinces  code,name                                                           省级
cities     code,name,provinceCode                                              地级
areas      code,name,cityCode,provinceCode                                     县级
streets    code,name,areaCode,provinceCode,cityCode                            乡级
package    code,name,level,parent_code,valid_from,valid_to,successor_code      any
=========  ==================================================================  =====

The first four are the public statistical division code files (../shared/data/divisions); the last
is this project's own layout (``xiaokang/areas/data/zhuzhou.csv``, ``import_zhuzhou``).

An import is all-or-nothing and idempotent: every row is validated first (code, level, parent,
dates, successor); the parent of each row must already be in the database or come from the same
import (any of its files); on the first error ``AreaImportError`` names the file, row, field and
reason and nothing is written. Valid rows are written set-based, in one transaction: new and changed
rows with one ``INSERT … ON CONFLICT (code) DO UPDATE`` per batch (``bulk_create(update_conflicts=…)``),
unchanged rows not at all. Attributes the files do not carry (poverty flags, exit years, ``is_demo``)
are never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from django.db import transaction

from .models import CODE_LENGTH, LEVEL_BY_LENGTH, PARENT_LENGTH, Area, Level

BATCH_SIZE = 2000
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Layout:
    name: str
    columns: frozenset
    parent_column: str | None
    level: str | None  # None: from the ``level`` column
    dated: bool = False  # carries valid_from / valid_to / successor_code


LAYOUTS = [
    Layout("provinces", frozenset({"code", "name"}), None, Level.PROVINCE),
    Layout("cities", frozenset({"code", "name", "provinceCode"}), "provinceCode", Level.CITY),
    Layout("areas", frozenset({"code", "name", "cityCode", "provinceCode"}), "cityCode", Level.COUNTY),
    Layout("streets", frozenset({"code", "name", "areaCode", "provinceCode", "cityCode"}), "areaCode", Level.TOWN),
    Layout("package", frozenset({"code", "name", "level", "parent_code", "valid_from", "valid_to", "successor_code"}),
           "parent_code", None, dated=True),
]
# Prefix columns that must agree with the code (省级代码 = first 2 digits, 地级 = first 4).
PREFIX_COLUMNS = {"provinceCode": 2, "cityCode": 4, "areaCode": 6}
LEVEL_LABELS = dict(Level.choices)
BASE_FIELDS = ["name", "level", "parent"]
DATED_FIELDS = ["valid_from", "valid_to", "successor"]


class AreaImportError(ValueError):
    """A row cannot be imported. Nothing has been written."""

    def __init__(self, source: str, row: int | None, field_name: str | None, reason: str, code: str | None = None):
        self.source, self.row, self.field, self.reason, self.code = source, row, field_name, reason, code
        where = source
        if row is not None:
            where += f" 第 {row} 行"
        if code:
            where += f"（代码 {code}）"
        if field_name:
            where += f" 字段 {field_name}"
        super().__init__(f"{where}：{reason}")


@dataclass
class AreaRow:
    source: str
    row: int  # line number in the file (the header is line 1)
    code: str
    name: str
    level: str
    parent_code: str | None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    successor_code: str | None = None
    dated: bool = False


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (source, layout, rows)
    by_level: Counter = field(default_factory=Counter)  # level -> rows read

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        levels = "、".join(f"{LEVEL_LABELS.get(lv, lv)} {n}" for lv, n in sorted(
            self.by_level.items(), key=lambda kv: list(CODE_LENGTH).index(kv[0]) if kv[0] in CODE_LENGTH else 9))
        return f"共 {self.rows} 行（{levels}）：新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}"


def detect_layout(header: Iterable[str], source: str = "CSV") -> Layout:
    """The layout whose columns are exactly the header's. Raises AreaImportError otherwise."""
    cols = frozenset(h.strip().lstrip("\ufeff") for h in header if h is not None and h.strip())
    for layout in LAYOUTS:
        if cols == layout.columns:
            return layout
    known = "；".join(",".join(sorted(x.columns)) for x in LAYOUTS)
    raise AreaImportError(source, 1, None, f"无法识别的表头 {','.join(header)}（支持：{known}）")


def _date(value: str, source: str, row: int, code: str, name: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise AreaImportError(source, row, name, f"日期 {value!r} 无效（应为 YYYY-MM-DD）", code) from None


def parse_rows(text_stream, source: str) -> tuple[Layout, list[AreaRow]]:
    """Read and check one CSV stream row by row (no database access). Raises AreaImportError."""
    reader = csv.reader(text_stream)
    try:
        header = next(reader)
    except StopIteration:
        raise AreaImportError(source, None, None, "文件为空") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    layout = detect_layout(header, source)
    rows: list[AreaRow] = []
    for line_no, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise AreaImportError(source, line_no, None, f"列数为 {len(values)}，表头为 {len(header)} 列")
        r = {k: (v or "").strip() for k, v in zip(header, values)}
        code = r["code"]
        if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
            raise AreaImportError(source, line_no, "code", "区划代码应为 2/4/6/9/12 位数字", code or None)
        length_level = LEVEL_BY_LENGTH[len(code)]
        if layout.level is not None:
            level = layout.level
            if length_level != level:
                raise AreaImportError(source, line_no, "code",
                                      f"{layout.name} 文件的代码应为 {CODE_LENGTH[level]} 位", code)
        else:
            level = r["level"]
            if level not in LEVEL_LABELS:
                raise AreaImportError(source, line_no, "level",
                                      f"级别 {level!r} 无效（应为 {'/'.join(LEVEL_LABELS)}）", code)
            if level != length_level:
                raise AreaImportError(source, line_no, "level",
                                      f"级别 {level} 与 {len(code)} 位代码不符（应为 {length_level}）", code)
        name = r["name"]
        if not name:
            raise AreaImportError(source, line_no, "name", "名称为空", code)
        if len(name) > 64:
            raise AreaImportError(source, line_no, "name", "名称超过 64 个字符", code)
        parent = r.get(layout.parent_column) if layout.parent_column else None
        parent = parent or None
        if len(code) in PARENT_LENGTH:
            if not parent:
                raise AreaImportError(source, line_no, layout.parent_column or "parent_code", "缺少上级代码", code)
            if len(parent) != PARENT_LENGTH[len(code)] or not parent.isdigit():
                raise AreaImportError(source, line_no, layout.parent_column, f"上级代码 {parent} 应为 "
                                      f"{PARENT_LENGTH[len(code)]} 位数字", code)
            if not code.startswith(parent):
                raise AreaImportError(source, line_no, layout.parent_column,
                                      f"上级代码 {parent} 不是本级代码的前缀", code)
        elif parent:
            raise AreaImportError(source, line_no, layout.parent_column, "省级区划不应有上级代码", code)
        for col, n in PREFIX_COLUMNS.items():
            if col in r and col != layout.parent_column and r[col] and r[col] != code[:n]:
                raise AreaImportError(source, line_no, col, f"{r[col]} 与代码前 {n} 位 {code[:n]} 不一致", code)
        ar = AreaRow(source, line_no, code, name, level, parent, dated=layout.dated)
        if layout.dated:
            ar.valid_from = _date(r["valid_from"], source, line_no, code, "valid_from")
            ar.valid_to = _date(r["valid_to"], source, line_no, code, "valid_to")
            if ar.valid_from and ar.valid_to and ar.valid_to < ar.valid_from:
                raise AreaImportError(source, line_no, "valid_to", "停用日期早于启用日期", code)
            succ = r["successor_code"] or None
            if succ is not None:
                if not succ.isdigit() or len(succ) not in LEVEL_BY_LENGTH:
                    raise AreaImportError(source, line_no, "successor_code", f"继承区划代码 {succ} 无效", code)
                if succ == code:
                    raise AreaImportError(source, line_no, "successor_code", "继承区划不能是本身", code)
            ar.successor_code = succ
        rows.append(ar)
    return layout, rows


def _existing_codes(codes: set[str]) -> set[str]:
    found: set[str] = set()
    codes = sorted(codes)
    for i in range(0, len(codes), LOOKUP_CHUNK):
        found.update(Area.objects.filter(code__in=codes[i:i + LOOKUP_CHUNK]).values_list("code", flat=True))
    return found


def _open(source) -> tuple[str, io.TextIOBase, bool]:
    if isinstance(source, (str, Path)):
        return str(source), open(source, encoding="utf-8-sig", newline=""), True
    name = getattr(source, "name", None) or "CSV"
    if hasattr(source, "open") and not hasattr(source, "read"):  # importlib Traversable
        return str(name), source.open(encoding="utf-8-sig", newline=""), True
    return str(name), source, False


def import_areas(sources, progress=None) -> ImportResult:
    """Import one or more CSV files (paths, open text streams or Traversables) in one transaction.

    Raises AreaImportError (nothing written) when a row is invalid or its parent (or successor) is
    neither in the database nor in the import. ``progress``: optional callable(str) for messages.
    """
    if isinstance(sources, (str, Path)) or hasattr(sources, "read"):
        sources = [sources]
    result = ImportResult()
    rows: list[AreaRow] = []
    seen: dict[str, AreaRow] = {}
    for source in sources:
        name, stream, close = _open(source)
        try:
            layout, file_rows = parse_rows(stream, name)
        except UnicodeDecodeError:
            raise AreaImportError(name, None, None, "文件不是 UTF-8 编码（请另存为 UTF-8 的 CSV）") from None
        finally:
            if close:
                stream.close()
        for r in file_rows:
            if r.code in seen:
                first = seen[r.code]
                raise AreaImportError(r.source, r.row, "code",
                                      f"代码重复（已见于 {first.source} 第 {first.row} 行）", r.code)
            seen[r.code] = r
        rows.extend(file_rows)
        result.files.append((name, layout.name, len(file_rows)))
        if progress:
            progress(f"{name}: {layout.name} 格式，{len(file_rows)} 行")

    # Parents and successors: in the import, else in the database.
    referenced = {r.parent_code for r in rows if r.parent_code} | {r.successor_code for r in rows if r.successor_code}
    in_db = _existing_codes(referenced - seen.keys())
    for r in rows:
        if r.parent_code and r.parent_code not in seen and r.parent_code not in in_db:
            col = "parent_code" if r.dated else {Level.CITY: "provinceCode", Level.COUNTY: "cityCode",
                                                  Level.TOWN: "areaCode"}.get(r.level, "parent_code")
            raise AreaImportError(r.source, r.row, col,
                                  f"上级区划 {r.parent_code} 不存在（数据库和本次导入中都没有）", r.code)
        if r.successor_code and r.successor_code not in seen and r.successor_code not in in_db:
            raise AreaImportError(r.source, r.row, "successor_code",
                                  f"继承区划 {r.successor_code} 不存在（数据库和本次导入中都没有）", r.code)

    rows.sort(key=lambda r: (len(r.code), r.code))  # parents first
    existing: dict[str, tuple] = {}
    levels = {r.level for r in rows}
    for values in Area.objects.filter(level__in=levels).values_list(
            "code", "name", "level", "parent_id", "valid_from", "valid_to", "successor_id").iterator(chunk_size=5000):
        if values[0] in seen:
            existing[values[0]] = values[1:]

    plain, dated = [], []
    for r in rows:
        result.by_level[r.level] += 1
        old = existing.get(r.code)
        new = (r.name, r.level, r.parent_code)
        if r.dated:
            new += (r.valid_from, r.valid_to, r.successor_code)
            same = old is not None and tuple(old) == new
        else:
            same = old is not None and tuple(old[:3]) == new
        if same:
            result.unchanged += 1
            continue
        if old is None:
            result.created += 1
        else:
            result.updated += 1
        obj = Area(code=r.code, name=r.name, level=r.level, parent_id=r.parent_code)
        if r.dated:
            obj.valid_from, obj.valid_to, obj.successor_id = r.valid_from, r.valid_to, r.successor_code
            dated.append(obj)
        else:
            plain.append(obj)

    with transaction.atomic():
        for objs, fields in ((plain, BASE_FIELDS), (dated, BASE_FIELDS + DATED_FIELDS)):
            for i in range(0, len(objs), BATCH_SIZE):
                Area.objects.bulk_create(objs[i:i + BATCH_SIZE], update_conflicts=True, unique_fields=["code"],
                                         update_fields=fields)
    return result


def import_zhuzhou(progress=None) -> ImportResult:
    """Load the packaged Zhuzhou divisions (省、市、9 个县级、112 个乡级, plus 株洲县 430221)."""
    from .data import zhuzhou_csv

    return import_areas([zhuzhou_csv()], progress=progress)
