"""Builders for the import tests: a small area tree (炎陵 430225 / 茶陵 430224), users, and files in the
collection-form layout written by the tests themselves (xlsx with openpyxl, xls with xlwt, CSV in
utf-8 / utf-8-sig / gbk). All people are synthetic (测试…, ID sequences 900–999)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from xiaokang.areas.models import Area
from xiaokang.imports import layout as L
from xiaokang.registry.idnumber import make_id_number

YL_VILLAGE, YL_VILLAGE2, CL_VILLAGE = "430225100201", "430225100202", "430224100201"

HEADERS = ["户编号", "所在村代码", "主要致贫原因", "识别年度", "姓名", "证件号码", "与户主关系", "年度", "工资性收入"]


def pid(birth: dt.date, seq: int, county: str = "430225") -> str:
    return make_id_number(county, birth, seq)


ID_A = pid(dt.date(1970, 3, 1), 901)        # male
ID_B = pid(dt.date(1972, 5, 1), 902)        # female
ID_C = pid(dt.date(2010, 9, 1), 903)        # male
ID_D = pid(dt.date(1968, 1, 9), 905)        # male


def base_rows():
    """Two households: YL01 (2 members, income 2019), YL02 (1 member)."""
    return [
        ["YL01", YL_VILLAGE, "因病", "2014", "测试甲", ID_A, "户主", "2019", "12000"],
        ["YL01", YL_VILLAGE, "因病", "2014", "测试乙", ID_B, "配偶", "2019", "12000"],
        ["YL02", YL_VILLAGE2, "02", "2015", "测试丙", ID_D, "01", "2019", "3000.50"],
    ]


def write_csv(path, rows, headers=HEADERS, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)
    return path


def write_xlsx(path, rows, headers=HEADERS, sheet="导入"):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def areas(db):
    hn = Area.objects.create(code="43", name="湖南省", level="province")
    zz = Area.objects.create(code="4302", name="株洲市", level="city", parent=hn)
    yl = Area.objects.create(code="430225", name="炎陵县", level="county", parent=zz)
    cl = Area.objects.create(code="430224", name="茶陵县", level="county", parent=zz)
    yt = Area.objects.create(code="430225100", name="霞阳镇", level="town", parent=yl)
    ct = Area.objects.create(code="430224100", name="城关镇", level="town", parent=cl)
    Area.objects.create(code=YL_VILLAGE, name="炎陵一村", level="village", parent=yt)
    Area.objects.create(code=YL_VILLAGE2, name="炎陵二村", level="village", parent=yt)
    Area.objects.create(code=CL_VILLAGE, name="茶陵一村", level="village", parent=ct)
    return {"yl": yl, "cl": cl, "zz": zz}


@pytest.fixture
def user(areas):
    from xiaokang.accounts.models import User

    return User.objects.create_user(username="yl_admin", password="pw-Secret-123", area=areas["yl"],
                                    role="county_admin")


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    """Each test its own import folder, and no parse kept from another test (batch ids repeat after a
    rollback: a kept parse of an earlier test's batch would be taken for this one's)."""
    from xiaokang.imports import services

    services._forget()
    settings.XIAOKANG_IMPORT_DIR = tmp_path / "uploads"
    yield
    services._forget()


def run(path, user, partial=False, reimport=False):
    """stage → validate → apply (when validated) as the web and the CLI do; returns the batch."""
    from xiaokang.imports import services

    batch = services.stage(path, user, partial, reimport=reimport)
    batch = services.validate(batch)
    if batch.status == "validated":
        batch = services.apply(batch, user)
    return batch


def reasons(batch):
    return [(e["sheet"], e["row"], e["column"], e["value"], e["reason"]) for e in batch.errors]


__all__ = ["L"]
