"""``xiaokang quality check`` and ``xiaokang quality export``."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from xiaokang.quality.models import Finding

from .conftest import OTHER_VILLAGE

D = dt.date


def test_check_prints_counts_by_rule(b):
    b.household(pairing_cadre="")
    b.household(area=OTHER_VILLAGE, pairing_cadre="", head_birth=D(1971, 1, 1))
    out, err = io.StringIO(), io.StringIO()
    call_command("quality", "check", "--area", "430225", "--year", "2020", "--format", "json", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert data["run"]["found"] == 1 and data["run"]["area"] == "430225"
    rules = {r["code"]: r for r in data["rules"]}
    assert rules["Q24_NO_PAIRING_CADRE"]["open"] == 1 and len(rules) == 24
    assert "发现 1 条" in err.getvalue()
    out = io.StringIO()
    call_command("quality", "check", "--format", "csv", stdout=out, stderr=io.StringIO())
    line = next(x for x in out.getvalue().splitlines() if x.startswith("Q24_NO_PAIRING_CADRE"))
    assert line.split(",")[-4:] == ["2", "2", "0", "0"]  # found, open, confirmed, fixed
    out, err = io.StringIO(), io.StringIO()
    call_command("quality", "check", stdout=out, stderr=err)
    assert "无帮扶责任人" in out.getvalue() and "全部区域：发现 2 条" in out.getvalue() and err.getvalue() == ""
    out = io.StringIO()
    call_command("quality", "check", "--year", "2019", stdout=out)  # before the latest income year: counted only
    assert "2019 年早于最近的收入年度：只统计本次发现，疑点记录及其状态未改变" in out.getvalue()
    assert Finding.objects.filter(status="open", year=2020).count() == 2


def test_export_csv_with_bom_and_xlsx(b, tmp_path):
    h = b.household(pairing_cadre="")
    b.household(area=OTHER_VILLAGE, pairing_cadre="", head_birth=D(1971, 1, 1))
    call_command("quality", "check", stdout=io.StringIO(), stderr=io.StringIO())
    path = tmp_path / "q.csv"
    out = io.StringIO()
    call_command("quality", "export", "--out", str(path), "--area", "430225", "--status", "open", stdout=out)
    assert out.getvalue() == f"已导出 1 条疑点到 {path}\n"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and h.household_number in lines[1] and "待处理" in lines[1]
    xlsx = tmp_path / "q.xlsx"
    call_command("quality", "export", "--out", str(xlsx), stdout=io.StringIO())
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[0][0] == "规则代码" and len(rows) == 3
    assert Finding.objects.count() == 2
    with pytest.raises(CommandError):
        call_command("quality", "export", "--out", str(tmp_path / "q.txt"), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("quality", "check", "--area", "43a", stderr=io.StringIO())


def test_check_prints_the_time_of_each_step_on_request(b):
    b.household(pairing_cadre="")
    err = io.StringIO()
    call_command("quality", "check", "--year", "2020", "--timings", stdout=io.StringIO(), stderr=err)
    assert "insert: new" in err.getvalue() and "update: fixed" in err.getvalue()
    err = io.StringIO()
    call_command("quality", "check", "--year", "2020", stdout=io.StringIO(), stderr=err)
    assert "insert: new" not in err.getvalue()


def test_check_of_a_year_still_to_come_is_a_plain_error(b):
    """Refused with the message (a CommandError: one line, exit 1), not a traceback (a trial found one)."""
    b.household()
    year = dt.date.today().year + 1
    with pytest.raises(CommandError, match=f"^{year} 年尚未到来，无法检查（今年是 {year - 1} 年）$"):
        call_command("quality", "check", "--year", str(year), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Finding.objects.exists()
