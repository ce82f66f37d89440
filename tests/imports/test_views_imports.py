"""The import and export pages through the test client: upload → validate → apply, out-of-area rows, double
apply, roles (statistician 403), export scoping and masking by role."""

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from xiaokang.imports import layout as L
from xiaokang.imports.models import ExportLog, ImportBatch
from xiaokang.registry.idnumber import make_id_number, mask_id_number
from xiaokang.registry.models import Household, Member

import sample_data as sample

COL = {c.header: i for i, c in enumerate(L.COLUMNS)}


@pytest.fixture(autouse=True)
def _fast_passwords_and_files(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.XIAOKANG_IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def data(db):
    return sample.build()


def client(user):
    c = Client()
    c.force_login(user)
    return c


def household_csv(households) -> SimpleUploadedFile:
    """A CSV in the layout: ``households`` = [(number, village, [(name, birth, male, relation), …])]."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([c.header for c in L.COLUMNS])
    seq = 950
    for number, village, members in households:
        for name, birth, male, relation in members:
            seq += 2
            row = [""] * len(L.COLUMNS)
            row[COL["户编号"]] = number
            row[COL["所在村代码"]] = village
            row[COL["主要致贫原因"]] = "因病"
            row[COL["识别年度"]] = "2015"
            row[COL["姓名"]] = name
            row[COL["证件号码"]] = make_id_number(village[:6], birth, seq + (1 if male else 0))
            row[COL["与户主关系"]] = relation
            row[COL["年度"]] = "2019"
            row[COL["工资性收入（含公益性岗位）"]] = "8000"
            w.writerow(row)
    return SimpleUploadedFile("测试导入.csv", buf.getvalue().encode("utf-8-sig"), content_type="text/csv")


NEW = ("YL0100", "430225100202", [("测试甲", dt.date(1970, 1, 1), True, "户主"),
                                  ("测试乙", dt.date(1972, 2, 2), False, "配偶")])
OUTSIDE = ("CL0100", "430224100201", [("测试丙", dt.date(1980, 3, 3), True, "户主")])


def test_upload_validate_apply_and_no_second_apply(data):
    c = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    assert c.get(reverse("import_upload")).status_code == 200
    response = c.post(reverse("import_upload"), {"file": household_csv([NEW])})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_batch_detail", args=[batch.pk])
    assert (batch.status, batch.area_code, batch.rows_total, batch.error_count) == ("validated", "430225", 2, 0)
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "已校验" in page and 'id="apply-form"' in page
    # the batch list shows it with its progress counts
    listing = c.get(reverse("import_batch_list")).content.decode()
    assert "测试导入.csv" in listing and "已校验" in listing

    response = c.post(reverse("import_batch_apply", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.households_new, batch.members_new, batch.incomes_new) == ("applied", 1, 2, 1)
    h = Household.objects.get(household_number="YL0100")
    assert sorted(h.members.values_list("name", flat=True)) == ["测试乙", "测试甲"]
    assert h.incomes.get().wage == 8000
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "已导入" in page and 'id="apply-form"' not in page

    # a second POST (double submit, refresh) is refused with the message; nothing changes
    again = c.post(reverse("import_batch_apply", args=[batch.pk]))
    assert again.status_code == 409
    assert "不能重复导入" in again.content.decode()
    assert Member.objects.filter(household__household_number="YL0100").count() == 2
    batch.refresh_from_db()
    assert batch.status == "applied" and batch.households_new == 1


def test_household_outside_the_uploaders_area_is_an_error(data):
    c = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    c.post(reverse("import_upload"), {"file": household_csv([NEW, OUTSIDE])})
    batch = ImportBatch.objects.get()
    assert batch.status == "failed"
    out = [e for e in batch.errors if e["household"] == "CL0100"]
    assert len(out) == 1
    e = out[0]
    assert (e["file"], e["sheet"], e["row"], e["column"], e["value"]) == (
        "测试导入.csv", "CSV", 4, "所在村代码", "430224100201")
    assert "管辖区域" in e["reason"]
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "430224100201" in page and "管辖区域" in page and 'id="apply-form"' not in page
    assert c.post(reverse("import_batch_apply", args=[batch.pk])).status_code == 409
    assert not Household.objects.filter(household_number__in=["YL0100", "CL0100"]).exists()


def test_partial_upload_imports_the_rest_and_offers_the_error_workbook(data):
    from openpyxl import load_workbook

    c = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    c.post(reverse("import_upload"), {"file": household_csv([NEW, OUTSIDE]), "partial": "on"})
    batch = ImportBatch.objects.get()
    assert batch.status == "validated" and batch.households_rejected == 1
    assert c.post(reverse("import_batch_apply", args=[batch.pk])).status_code == 302
    assert Household.objects.filter(household_number="YL0100").exists()
    assert not Household.objects.filter(household_number="CL0100").exists()
    response = c.get(reverse("import_batch_errors", args=[batch.pk]))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(ws.values)
    assert len(rows) == 2 and rows[1][COL["户编号"]] == "CL0100" and L.ERROR_COLUMN in rows[0]
    ident = rows[1][COL["证件号码"]]
    assert len(ident) == 18  # the uploader gets the rows as uploaded
    # the batch page shows the number masked (it showed it in full, unlogged, to roles allowed full numbers)
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert ident not in page
    # a system administrator who did not upload it gets the workbook masked; every download is logged
    admin = client(sample.make_user("sysadmin", area=data.yl, role="system_admin"))
    ws = load_workbook(io.BytesIO(b"".join(admin.get(reverse("import_batch_errors", args=[batch.pk]))
                                           .streaming_content))).worksheets[0]
    assert list(ws.values)[1][COL["证件号码"]] == mask_id_number(ident)
    logs = list(ExportLog.objects.order_by("pk").values_list("username", "full_ids", "filters", "rows"))
    assert logs == [("yl", True, {"error_report": batch.pk, "file": "测试导入.csv"}, batch.error_count),
                    ("sysadmin", False, {"error_report": batch.pk, "file": "测试导入.csv"}, batch.error_count)]


def test_other_county_batch_is_404_and_roles_are_403(data):
    chaling = client(sample.make_user("cl", area=data.cl, role="county_admin"))
    chaling.post(reverse("import_upload"), {"file": household_csv([OUTSIDE])})
    batch = ImportBatch.objects.get()
    assert batch.status == "validated"
    yanling = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    assert yanling.get(reverse("import_batch_detail", args=[batch.pk])).status_code == 404
    assert yanling.post(reverse("import_batch_apply", args=[batch.pk])).status_code == 404
    assert "茶陵" not in yanling.get(reverse("import_batch_list")).content.decode()
    for role in ("statistician", "donor"):
        u = client(sample.make_user(role, area=data.zz, role=role))
        assert u.get(reverse("import_upload")).status_code == 403
        assert u.post(reverse("import_upload"), {"file": household_csv([NEW])}).status_code == 403
        assert u.get(reverse("import_export")).status_code == 403
        assert u.post(reverse("import_export"), {"fmt": "csv"}).status_code == 403
        assert u.get(reverse("import_batch_list")).status_code == 403
    assert ImportBatch.objects.count() == 1 and ExportLog.objects.count() == 0


def _csv_rows(response):
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1:]


def test_export_page_scoped_and_masked_by_role(data):
    yl_user = sample.make_user("yl", area=data.yl, role="county_admin")
    yanling = client(yl_user)
    page = yanling.get(reverse("import_export")).content.decode()
    assert 'name="full_ids"' in page
    response = yanling.post(reverse("import_export"), {"fmt": "csv", "year": "2019"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    assert {r[COL["户编号"]] for r in rows} == {"YL0001", "YL0002", "YL0003"}  # no 茶陵 row
    assert {r[COL["所在村代码"]][:6] for r in rows} == {"430225"}
    li = next(r for r in rows if r[COL["姓名"]] == "李四")
    assert li[COL["证件号码"]] == mask_id_number(data.m21.id_number)
    full = _csv_rows(yanling.post(reverse("import_export"), {"fmt": "csv", "year": "2019", "full_ids": "on"}))
    assert next(r for r in full if r[COL["姓名"]] == "李四")[COL["证件号码"]] == data.m21.id_number
    # another county's area is refused by the form
    assert yanling.post(reverse("import_export"), {"fmt": "csv", "area": "430224"}).status_code == 400

    city = client(sample.make_user("city", area=data.zz, role="city_admin"))
    assert 'name="full_ids"' not in city.get(reverse("import_export")).content.decode()
    city_rows = _csv_rows(city.post(reverse("import_export"), {"fmt": "csv", "year": "2019", "full_ids": "on"}))
    assert len(city_rows) == 13
    assert data.m21.id_number not in {r[COL["证件号码"]] for r in city_rows}

    logs = list(ExportLog.objects.order_by("id").values_list("username", "rows", "full_ids", "channel"))
    assert logs == [("yl", 6, False, "web"), ("yl", 6, True, "web"), ("city", 13, False, "web")]


def test_export_xlsx_download(data):
    from openpyxl import load_workbook

    c = client(sample.make_user("town", area=data.yl_t, role="town_admin"))
    response = c.post(reverse("import_export"), {"fmt": "xlsx", "year": "2019", "status": "poor"})
    assert response.status_code == 200
    assert ".xlsx" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(ws.values)[1:]
    assert [r[COL["姓名"]] for r in rows] == ["李四", "李四妻", "李小四"]
    log = ExportLog.objects.get()
    assert (log.rows, log.area_code, log.filters["status"]) == (3, "430225100", "poor")


def test_template_download_from_the_upload_page(data):
    """The upload page links the empty workbook; it has the layout's two-row header and the 说明 sheet."""
    from openpyxl import load_workbook

    c = client(sample.make_user("yl_admin", area=data.yl, role="county_admin"))
    page = c.get(reverse("import_upload")).content.decode()
    assert reverse("import_template") in page
    r = c.get(reverse("import_template"))
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["导入", "说明"]
    headers = [cell.value for cell in wb["导入"][2]]
    assert headers[:len(L.COLUMNS)] == [col.header + ("*" if col.required else "") for col in L.COLUMNS]
    assert wb["导入"].max_row <= 2 or all(v is None for row in wb["导入"].iter_rows(min_row=3, values_only=True)
                                          for v in row)
    stat = client(sample.make_user("stat", area=data.yl, role="statistician"))
    assert stat.get(reverse("import_template")).status_code == 403


def test_nav_link_opens_the_batch_list_for_importers_and_the_export_page_for_others(data):
    """The header's 导入导出 link: the batch list for the roles that import, the export form for the others
    (an inspector may export but not import: the batch list would be 403 for them)."""
    importer = client(sample.make_user("cl", area=data.cl, role="county_admin"))
    inspector = client(sample.make_user("insp", area=data.cl, role="inspector"))
    batches, export = reverse("import_batch_list"), reverse("import_export")
    page = importer.get(reverse("household_list")).content.decode()
    assert f'<a href="{batches}"' in page and f'<a href="{export}"' not in page
    page = inspector.get(reverse("household_list")).content.decode()
    assert f'<a href="{export}"' in page and f'<a href="{batches}"' not in page
    assert inspector.get(batches).status_code == 403 and inspector.get(export).status_code == 200


def test_export_log_names_the_area_actually_exported(data):
    """A county user asking for the whole province exports their county, and the log says so (it said 43)."""
    c = client(sample.make_user("cl", area=data.cl, role="county_admin"))
    response = c.post(reverse("import_export"), {"fmt": "csv", "area": "43", "year": "2019"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    log = ExportLog.objects.get()
    assert (log.area_code, log.filters["area"]) == ("430224", "43")
