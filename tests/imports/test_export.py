"""Export in the import layout (imports.export and ``xiaokang export``): rows, filters, scoping, masking, log.

Sample registry (tests/sample_data.py): 炎陵 H1 (2 people, exited 2019), H2 (3, poor), H3 (1, exited 2020,
village 202); 茶陵 H4 (5 incl. one who left, poor), H5 (2, identified 2016, exited 2018). 13 member rows.
"""

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from xiaokang.imports import export as E
from xiaokang.imports import layout as L
from xiaokang.imports.models import ExportLog
from xiaokang.registry.idnumber import mask_id_number

import sample_data as sample

COL = {c.header: i for i, c in enumerate(L.COLUMNS)}


@pytest.fixture
def data(db):
    d = sample.build()
    d.h2.phone = "13812345678"
    d.h2.save()
    return d


def read_csv(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_command_csv_has_every_member_full_ids_and_is_logged(data, tmp_path):
    out = tmp_path / "all.csv"
    call_command("export", "--out", str(out), "--year", "2019", stdout=io.StringIO())
    rows = read_csv(out.read_bytes())
    assert rows[0] == [c.header for c in L.COLUMNS]
    body = rows[1:]
    assert len(body) == 2 + 3 + 1 + 5 + 2
    assert sorted({r[COL["户编号"]] for r in body}) == ["CL0001", "CL0002", "YL0001", "YL0002", "YL0003"]
    # the head of H2 with the full ID number, labels for codes, 是/否, the 2019 income in 元
    li = next(r for r in body if r[COL["姓名"]] == "李四")
    assert li[COL["证件号码"]] == data.m21.id_number
    assert li[COL["联系电话"]] == "13812345678"
    assert li[COL["与户主关系"]] == "户主"
    assert li[COL["贫困户属性"]] == "低保贫困户"
    assert li[COL["主要致贫原因"]] == "因残"
    assert li[COL["脱贫属性"]] == "未脱贫"
    assert li[COL["参加基本医疗保险"]] == "是"
    assert li[COL["享受低保"]] == "否"
    assert li[COL["出生日期"]] == "1968-01-09"
    assert li[COL["所在村代码"]] == "430225100201"
    assert li[COL["年度"]] == "2019"
    assert li[COL["工资性收入（含公益性岗位）"]] == "6000"
    assert li[COL["住房面积（平方米）"]] == ""
    # members in order: head first
    h4 = [r[COL["与户主关系"]] for r in body if r[COL["户编号"]] == "CL0001"]
    assert h4[0] == "户主" and len(h4) == 5
    left = next(r for r in body if r[COL["姓名"]] == "王五母")
    assert left[COL["迁出（减少）日期"]] == "2019-06-01" and left[COL["减少原因"]] == "死亡"
    log = ExportLog.objects.get()
    assert (log.rows, log.full_ids, log.channel, log.user) == (13, True, "command", None)
    assert log.filters == {"area": "", "status": "", "year": 2019, "format": "csv"}
    assert log.username.startswith("命令行:")


def test_filters_area_status_year(data, tmp_path):
    def rows(**kw):
        out = tmp_path / "f.csv"
        E.export_file(out, **kw)
        return read_csv(out.read_bytes())[1:]

    assert {r[COL["户编号"]] for r in rows(status="exited")} == {"YL0001", "YL0003", "CL0002"}
    assert len(rows(status="exited")) == 2 + 1 + 2
    only = rows(area="430225100202")
    assert [r[COL["姓名"]] for r in only] == ["赵六"]
    # 2015: H5 (identified 2016) is left out, and no household has a 2015 income: income columns blank
    r2015 = rows(year=2015)
    assert len(r2015) == 11 and all(r[COL["年度"]] == "" and r[COL["工资性收入（含公益性岗位）"]] == "" for r in r2015)
    # no year: the latest income year (2020)
    assert {r[COL["年度"]] for r in rows()} == {"2020"}
    with pytest.raises(E.ExportError):
        rows(status="nonsense")
    with pytest.raises(E.ExportError):
        rows(area="43022")
    # a year still to come: refused (every income column would be blank), as the data-quality check does
    from django.utils import timezone

    future = timezone.localdate().year + 1
    with pytest.raises(E.ExportError, match=f"{future} 年尚未到来，无法导出该年度收入"):
        rows(year=future)


def test_keyset_chunks_give_the_same_rows(data):
    from xiaokang.registry.models import Household

    one = list(E.RowSource(Household.objects.all(), 2019, chunk=1).iter_rows())
    big = list(E.RowSource(Household.objects.all(), 2019, chunk=1000).iter_rows())
    assert one == big and len(one) == 13


def test_web_scope_masking_and_roles(data):
    yanling = sample.make_user("yl", area=data.yl, role="county_admin")
    city = sample.make_user("city", area=data.zz, role="city_admin")
    stat = sample.make_user("stat", area=data.zz, role="statistician")
    donor = sample.make_user("donor", area=data.zz, role="donor")

    def export(user, **kw):
        buf = io.BytesIO()
        E.prepare(user=user, fmt="csv", year=2019, **kw).write(buf)
        return read_csv(buf.getvalue())[1:]

    masked = export(yanling)
    assert {r[COL["户编号"]] for r in masked} == {"YL0001", "YL0002", "YL0003"}  # never a 茶陵 row
    li = next(r for r in masked if r[COL["姓名"]] == "李四")
    assert li[COL["证件号码"]] == mask_id_number(data.m21.id_number) != data.m21.id_number
    assert li[COL["联系电话"]] == "138****5678"
    assert li[COL["出生日期"]] == "1968年"  # beside a masked number, the birth date's year only
    full = export(yanling, full_ids=True)
    assert next(r for r in full if r[COL["姓名"]] == "李四")[COL["证件号码"]] == data.m21.id_number
    assert next(r for r in full if r[COL["姓名"]] == "李四")[COL["出生日期"]] == "1968-01-09"
    # a city administrator is not in FULL_ID_ROLES: masked even when asking
    city_rows = export(city, full_ids=True)
    assert len(city_rows) == 13
    assert next(r for r in city_rows if r[COL["姓名"]] == "李四")[COL["证件号码"]] == mask_id_number(data.m21.id_number)
    # an area filter outside the jurisdiction gives nothing, never the other county
    assert export(yanling, area="430224") == []
    for user in (stat, donor):
        with pytest.raises(PermissionDenied):
            E.prepare(user=user)
    logs = list(ExportLog.objects.order_by("id").values_list("username", "rows", "full_ids", "area_code", "channel"))
    assert logs == [("yl", 6, False, "430225", "web"), ("yl", 6, True, "430225", "web"),
                    ("city", 13, False, "4302", "web"), ("yl", 0, False, "430224", "web")]


def test_xlsx_cells_are_typed(data, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "all.xlsx"
    result = E.export_file(out, year=2019)
    assert (result.rows, result.households, result.year, result.full_ids) == (13, 5, 2019, True)
    ws = load_workbook(out, read_only=True).worksheets[0]
    rows = list(ws.values)
    assert list(rows[0]) == [c.header for c in L.COLUMNS]
    li = next(r for r in rows[1:] if r[COL["姓名"]] == "李四")
    assert li[COL["证件号码"]] == data.m21.id_number  # text, not a number
    assert li[COL["出生日期"]] == dt.datetime(1968, 1, 9)  # a date cell
    assert li[COL["工资性收入（含公益性岗位）"]] == 6000
    assert li[COL["识别年度"]] == 2014


def test_csv_streams_in_chunks(data):
    from xiaokang.registry.models import Household

    chunks = list(E.csv_chunks(E.RowSource(Household.objects.all(), 2019, csv_text=True).iter_rows(), flush_rows=5))
    assert len(chunks) == 3  # rows 1–5, 6–10, then 11–13 (the header travels with the first)
    assert chunks[0].startswith(b"\xef\xbb\xbf") and chunks[0].count(b"\r\n") == 6
    assert b"".join(chunks).count(b"\r\n") == 14


def test_xlsx_splits_sheets_at_household_boundaries(data, tmp_path, monkeypatch, settings):
    """Excel holds 1,048,576 rows a sheet: after SHEET_MAX_ROWS rows the next household opens a new sheet,
    and the importer reads every sheet back (13 rows, 5 households, no error)."""
    from openpyxl import load_workbook

    from xiaokang.imports import services

    monkeypatch.setattr(E, "SHEET_MAX_ROWS", 4)
    out = tmp_path / "split.xlsx"
    E.export_file(out, year=2019)
    wb = load_workbook(out, read_only=True)
    # rows per household in id order: H1 2, H2 3, H3 1, H4 5, H5 2 -> sheets [H1 H2] [H3 H4] [H5]
    assert wb.sheetnames == ["贫困户信息采集表", "贫困户信息采集表2", "贫困户信息采集表3"]
    numbers = [[r[COL["户编号"]] for r in list(ws.values)[1:]] for ws in wb.worksheets]
    assert numbers == [["YL0001"] * 2 + ["YL0002"] * 3, ["YL0003"] + ["CL0001"] * 5, ["CL0002"] * 2]
    settings.XIAOKANG_IMPORT_DIR = tmp_path / "imports"
    batch = services.validate(services.stage(out, None, file_name=out.name, area_code="", channel="command"))
    assert (batch.status, batch.rows_total, batch.households_total, batch.error_count) == ("validated", 13, 5, 0)


def test_a_newborns_entry_date_shows_its_year_beside_a_masked_number(data):
    """A newborn's entry date is its birth date (the masked digits of its ID number): year only when masked."""
    baby = sample.member(data.h2, "李小宝", "03", dt.date(2018, 3, 10), entered_on=dt.date(2018, 3, 10),
                         entry_reason="newborn")
    yanling = sample.make_user("yl", area=data.yl, role="county_admin")

    def row(**kw):
        buf = io.BytesIO()
        E.prepare(user=yanling, fmt="csv", year=2019, **kw).write(buf)
        return next(r for r in read_csv(buf.getvalue())[1:] if r[COL["姓名"]] == "李小宝")

    masked = row()
    assert (masked[COL["证件号码"]], masked[COL["出生日期"]], masked[COL["迁入（新增）日期"]]) == (
        mask_id_number(baby.id_number), "2018年", "2018年")
    full = row(full_ids=True)
    assert (full[COL["证件号码"]], full[COL["迁入（新增）日期"]]) == (baby.id_number, "2018-03-10")
