"""Area import (行政区划导入): layouts, idempotence, parents, errors, the packaged Zhuzhou data."""

import csv
import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaokang.areas.data import zhuzhou_csv
from xiaokang.areas.models import Area
from xiaokang.areas.services import AreaImportError, import_areas, import_zhuzhou

from .conftest import DIVISION_FILES

pytestmark = pytest.mark.django_db

# Counted by hand from ../shared/data/divisions/README.md: 9 county-level areas, 112 town-level areas.
ZHUZHOU_COUNTIES = ["430202", "430203", "430204", "430211", "430212", "430223", "430224", "430225", "430281"]


def test_zhuzhou_package_data_loads_and_is_idempotent():
    first = import_zhuzhou()
    # 1 province + 1 city + 9 counties + retired 株洲县 + 112 towns = 124 rows.
    assert (first.created, first.updated, first.unchanged) == (124, 0, 0)
    assert Area.objects.filter(code="43", level="province", name="湖南省").exists()
    assert Area.objects.get(code="4302").parent_id == "43"
    current = Area.objects.filter(level="county", parent_id="4302", valid_to__isnull=True)
    assert sorted(current.values_list("code", flat=True)) == ZHUZHOU_COUNTIES
    assert Area.objects.filter(level="town", code__startswith="4302").count() == 112
    old = Area.objects.get(code="430221")
    assert old.name == "株洲县" and old.valid_to == dt.date(2018, 1, 1) and old.successor_id == "430212"
    assert not old.is_current
    assert Area.objects.get(code="430225100").name == "霞阳镇"

    second = import_zhuzhou()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 124)


def test_package_data_matches_the_shared_division_files(divisions_dir):
    with zhuzhou_csv().open(encoding="utf-8") as f:
        packaged = {r["code"]: r for r in csv.DictReader(f)}
    expected = {}
    for name, parent_col in (("areas.csv", "cityCode"), ("streets.csv", "areaCode")):
        with open(divisions_dir / name, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["code"].startswith("4302"):
                    expected[r["code"]] = (r["name"], r[parent_col])
    got = {c: (r["name"], r["parent_code"]) for c, r in packaged.items() if len(c) >= 6 and c != "430221"}
    assert got == expected
    assert len([c for c in expected if len(c) == 9]) == 112


def test_import_all_shared_files_in_one_go(divisions_dir):
    result = import_areas([divisions_dir / f for f in DIVISION_FILES])
    counts = {}
    for f in DIVISION_FILES:
        with open(divisions_dir / f, encoding="utf-8") as fh:
            counts[f] = sum(1 for _ in fh) - 1
    assert result.created == sum(counts.values())
    assert Area.objects.filter(level="town").count() == counts["streets.csv"]
    assert Area.objects.filter(level="town", code__startswith="4302").count() == 112
    assert Area.objects.get(code="430225100").parent_id == "430225"
    assert [layout for _, layout, _ in result.files] == ["provinces", "cities", "areas", "streets"]

    # Idempotent: the streets again change nothing.
    again = import_areas(divisions_dir / "streets.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, counts["streets.csv"])


def test_zhuzhou_package_over_the_national_files_only_adds_the_retired_county(divisions_dir):
    import_areas([divisions_dir / f for f in DIVISION_FILES])
    result = import_zhuzhou()
    # The 123 current rows are already there with the same name, level and parent; only the package
    # layout's dates and successors differ: 株洲县 is new.
    assert result.created == 1
    assert result.created + result.updated + result.unchanged == 124


def test_parent_from_the_same_file_and_updates(write_csv):
    path = write_csv("p.csv", "code,name,level,parent_code,valid_from,valid_to,successor_code\n"
                              "430225100201,示例村,village,430225100,,,\n"
                              "430225100,霞阳镇,town,430225,,,\n"
                              "430225,炎陵县,county,4302,,,\n"
                              "4302,株洲市,city,43,,,\n"
                              "43,湖南省,province,,,,\n")
    assert import_areas(path).created == 5
    assert Area.objects.get(code="430225100201").parent_id == "430225100"
    renamed = write_csv("r.csv", "code,name,cityCode,provinceCode\n430225,炎陵县（新）,4302,43\n")
    r = import_areas(renamed)
    assert (r.created, r.updated, r.unchanged) == (0, 1, 0)
    assert Area.objects.get(code="430225").name == "炎陵县（新）"


def test_missing_parent_names_the_row_and_writes_nothing(write_csv):
    import_zhuzhou()
    before = Area.objects.count()
    path = write_csv("streets.csv", "code,name,areaCode,provinceCode,cityCode\n"
                                    "430225100,霞阳镇,430225,43,4302\n"
                                    "439999001,无上级街道,439999,43,4399\n")
    with pytest.raises(AreaImportError) as err:
        import_areas(path)
    e = err.value
    assert (e.row, e.field, e.code) == (3, "areaCode", "439999001")
    assert "第 3 行" in str(e) and "439999001" in str(e) and "areaCode" in str(e) and "不存在" in str(e)
    assert Area.objects.count() == before  # nothing written, not even the valid first row's update


@pytest.mark.parametrize("text, row, field_name", [
    ("code,name,cityCode,provinceCode\n43022X,坏代码,4302,43\n", 2, "code"),
    ("code,name,cityCode,provinceCode\n4302251,七位,4302,43\n", 2, "code"),
    ("code,name,cityCode,provinceCode\n430225,炎陵县,4303,43\n", 2, "cityCode"),
    ("code,name,cityCode,provinceCode\n430225,,4302,43\n", 2, "name"),
    ("code,name,areaCode,provinceCode,cityCode\n430225100,霞阳镇,430225,44,4302\n", 2, "provinceCode"),
    ("code,name,level,parent_code,valid_from,valid_to,successor_code\n430225,炎陵县,town,4302,,,\n", 2, "level"),
    ("code,name,level,parent_code,valid_from,valid_to,successor_code\n430225,炎陵县,county,4302,2018-13-01,,\n",
     2, "valid_from"),
    ("code,name,level,parent_code,valid_from,valid_to,successor_code\n430221,株洲县,county,4302,,2018-01-01,430299\n",
     2, "successor_code"),
    ("code,name,cityCode,provinceCode\n430225,炎陵县,4302,43\n430225,炎陵县,4302,43\n", 3, "code"),
])
def test_invalid_rows(write_csv, text, row, field_name):
    import_zhuzhou()
    with pytest.raises(AreaImportError) as err:
        import_areas(write_csv("bad.csv", text))
    assert (err.value.row, err.value.field) == (row, field_name)


def test_unknown_header(write_csv):
    with pytest.raises(AreaImportError, match="无法识别的表头"):
        import_areas(write_csv("x.csv", "区划代码,名称\n43,湖南省\n"))


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name\n43,湖南省\n".encode("gbk"))
    with pytest.raises(AreaImportError, match="UTF-8"):
        import_areas(path)


def test_command(write_csv, capsys):
    call_command("areas", "import", "--zhuzhou")
    out = capsys.readouterr().out
    assert "新增 124" in out
    path = write_csv("bad.csv", "code,name,cityCode,provinceCode\n439901,无上级,4399,43\n")
    with pytest.raises(CommandError) as err:
        call_command("areas", "import", str(path))
    assert "第 2 行" in str(err.value) and "cityCode" in str(err.value) and "未写入任何数据" in str(err.value)
    with pytest.raises(CommandError):
        call_command("areas", "import")
