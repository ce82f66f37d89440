"""Each failure kind names file, sheet, row, column, value and a Chinese reason; all-or-nothing by default."""

import datetime as dt

import pytest

from xiaokang.imports.validate import FORMAT_AS_TEXT
from xiaokang.registry.models import Household, Member

from .conftest import (CL_VILLAGE, HEADERS, ID_A, ID_B, ID_D, YL_VILLAGE, YL_VILLAGE2, base_rows, pid, reasons, run,
                       write_csv, write_xlsx)


def only_error(batch):
    assert batch.status == "failed"
    assert Household.objects.count() == 0 and Member.objects.count() == 0, "all-or-nothing: nothing imported"
    assert len(batch.errors) == 1, batch.errors
    return reasons(batch)[0]


def test_unknown_header(user, tmp_path):
    batch = run(write_csv(tmp_path / "a.csv", [r + ["x"] for r in base_rows()], HEADERS + ["备注栏"]), user)
    assert only_error(batch) == ("CSV", 1, "备注栏", "", "未知列名（不在导入格式中，请对照导入模板）")


def test_duplicate_header_names_both_columns(user, tmp_path):
    """The same column twice (here 户编号 again at the end) names both positions, as Excel shows them."""
    n = len(HEADERS)
    first = HEADERS.index("户编号")
    batch = run(write_csv(tmp_path / "a.csv", [r + [r[first]] for r in base_rows()], HEADERS + ["户编号"]), user)
    letter = lambda i: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i] if i < 26 else "A" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i - 26]  # noqa: E731
    assert only_error(batch) == ("CSV", 1, "户编号", "",
                                 f"列重复（第 {letter(n)} 列与第 {letter(first)} 列「户编号」是同一列）")


def test_missing_required_column(user, tmp_path):
    batch = run(write_csv(tmp_path / "a.csv", [r[:6] + r[7:] for r in base_rows()], HEADERS[:6] + HEADERS[7:]), user)
    assert only_error(batch) == ("CSV", 1, "与户主关系", "", "缺少必填列")


def test_bad_code(user, tmp_path):
    rows = base_rows()
    rows[2][2] = "因懒"
    sheet, row, column, value, reason = only_error(run(write_csv(tmp_path / "a.csv", rows), user))
    assert (sheet, row, column, value) == ("CSV", 4, "主要致贫原因", "因懒")
    assert reason.startswith("不是有效的主要致贫原因（可填代码或名称：01 因病、02 因残")


def test_bad_and_ambiguous_date(user, tmp_path):
    rows = [r + [d] for r, d in zip(base_rows(), ["1970-03-01", "5/1/1972", "1968-02-30"])]
    batch = run(write_csv(tmp_path / "a.csv", rows, HEADERS + ["出生日期"]), user)
    assert batch.status == "failed" and Member.objects.count() == 0
    assert reasons(batch) == [
        ("CSV", 3, "出生日期", "5/1/1972", "日期有歧义（无法确定年、月、日的顺序），请写作 2019-04-01"),
        ("CSV", 4, "出生日期", "1968-02-30", "日期不存在"),
    ]


@pytest.mark.parametrize("cell", [430225197003019015, 4.30225197003019e17, 430225197003019015.0])
def test_id_stored_as_number_in_excel_is_refused_not_repaired(user, tmp_path, cell):
    rows = base_rows()
    rows[0][5] = cell
    sheet, row, column, value, reason = only_error(run(write_xlsx(tmp_path / "a.xlsx", rows), user))
    assert (sheet, row, column, reason) == ("导入", 2, "证件号码", FORMAT_AS_TEXT)
    assert "格式" in reason and "文本" in reason


@pytest.mark.parametrize("text", ["4.30225E+17", "4.30225197003019E17", ID_A + ".0"])
def test_id_in_scientific_notation_or_with_trailing_zero_in_csv(user, tmp_path, text):
    rows = base_rows()
    rows[0][5] = text
    assert only_error(run(write_csv(tmp_path / "a.csv", rows), user)) == ("CSV", 2, "证件号码", text, FORMAT_AS_TEXT)


def test_invalid_id_checksum(user, tmp_path):
    rows = base_rows()
    wrong = ID_A[:17] + ("1" if ID_A[17] != "1" else "2")
    rows[0][5] = wrong
    assert only_error(run(write_csv(tmp_path / "a.csv", rows), user)) == (
        "CSV", 2, "证件号码", wrong, f"测试甲 的证件号码无效：校验码错误（应为 {ID_A[17]}）")


def test_sex_and_birth_date_against_id(user, tmp_path):
    rows = [r + s for r, s in zip(base_rows(), [["女", ""], ["", "1972-05-01"], ["", "1968-01-10"]])]
    batch = run(write_csv(tmp_path / "a.csv", rows, HEADERS + ["性别", "出生日期"]), user)
    assert reasons(batch) == [
        ("CSV", 2, "性别", "女", "测试甲 的性别与证件号码不一致：填写为女，证件号码为男"),
        ("CSV", 4, "出生日期", "1968-01-10", "测试丙 的出生日期与证件号码不一致：填写为 1968-01-10，证件号码为 1968-01-09"),
    ]


def test_work_months_out_of_range(user, tmp_path):
    rows = [r + [m] for r, m in zip(base_rows(), ["12", "13", "0"])]
    batch = run(write_csv(tmp_path / "a.csv", rows, HEADERS + ["务工时间（月）"]), user)
    assert reasons(batch) == [("CSV", 3, "务工时间（月）", "13", "测试乙 的务工时间超出 0–12 个月：13")]


def test_duplicate_id_in_file(user, tmp_path):
    rows = base_rows()
    rows[2][5] = ID_A
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert batch.status == "failed"
    where = "「CSV」第 2 行、「CSV」第 4 行"
    assert reasons(batch) == [
        ("CSV", 2, "证件号码", ID_A, f"证件号码在文件中重复（{where}），同一人不能出现两次"),
        ("CSV", 4, "证件号码", ID_A, f"证件号码在文件中重复（{where}），同一人不能出现两次"),
    ]


def test_duplicate_household_number_in_file(user, tmp_path):
    rows = base_rows() + [["YL01", YL_VILLAGE, "因病", "2014", "测试丁", pid(dt.date(1990, 1, 1), 909), "之子", "2019",
                           "12000"]]
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert reasons(batch) == [("CSV", 5, "户编号", "YL01",
                               "户编号在文件中重复（已在工作表「CSV」第 2 行出现；同一户的各行须相邻）")]


def test_household_rows_must_agree(user, tmp_path):
    rows = base_rows()
    rows[1][8] = "9000"
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert reasons(batch) == [("CSV", 3, "工资性收入", "9000", "同一户的各行此列不一致（该户第 2 行为「12000」）")]
    # a coded column shows the labels as typed, not the codes (it said 值「02」…为「01」)
    rows = base_rows()
    rows[1][2] = "因残"
    batch = run(write_csv(tmp_path / "b.csv", rows), user)
    assert reasons(batch) == [("CSV", 3, "主要致贫原因", "因残", "同一户的各行此列不一致（该户第 2 行为「因病」）")]


def test_person_already_in_another_household(user, tmp_path, areas):
    h = Household.objects.create(household_number="YL09", area_id=YL_VILLAGE, identified_year=2014, main_cause="01")
    Member.objects.create(household=h, name="测试甲", id_number=ID_A, sex="1", birth_date=dt.date(1970, 3, 1),
                          relation="01")
    batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    assert batch.status == "failed"
    assert reasons(batch) == [("CSV", 2, "证件号码", ID_A, "测试甲 的证件号码同时出现在其他户：已是户 YL09 的成员")]
    assert Household.objects.count() == 1


def test_household_outside_the_users_area(user, tmp_path):
    rows = base_rows()
    rows[2][1] = CL_VILLAGE
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert reasons(batch) == [("CSV", 4, "所在村代码", CL_VILLAGE, "该户不在您的管辖区域（430225）内，不能导入")]
    assert Household.objects.count() == 0


def test_existing_household_number_of_another_area(user, tmp_path):
    Household.objects.create(household_number="YL02", area_id=CL_VILLAGE, identified_year=2014, main_cause="01")
    batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    # only that the number is taken: nothing of the other household (its village) is told
    assert reasons(batch) == [("CSV", 4, "户编号", "YL02", "该户编号已被管辖区域以外的户使用，不能导入"
                               "（不显示该户信息，如有疑问请与上级部门核实）")]
    assert "430224" not in str(batch.errors)


def test_person_in_a_household_of_another_area_is_not_described(user, tmp_path, areas):
    """A 炎陵 uploader whose file lists a person of a 茶陵 household learns that the ID number is taken, not
    the 茶陵 household's number or village (a red-team trial used the upload to look people up)."""
    h = Household.objects.create(household_number="CL09", area_id=CL_VILLAGE, identified_year=2014, main_cause="01")
    Member.objects.create(household=h, name="测试甲", id_number=ID_A, sex="1", birth_date=dt.date(1970, 3, 1),
                          relation="01")
    batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    assert reasons(batch) == [("CSV", 2, "证件号码", ID_A, "测试甲 的证件号码同时出现在其他户：已在管辖区域以外的户登记"
                               "（不显示该户信息，如有疑问请与上级部门核实）")]
    assert "CL09" not in str(batch.errors) and "430224" not in str(batch.errors)


def test_command_line_without_area_may_move_a_household_between_villages(tmp_path, areas):
    """Without --user or --area the command line has no jurisdiction: the batch is filed under the area
    holding the file's households, but a household moving from another village is no "outside" row (a
    trial's move was refused: the batch was checked against the village it had been filed under)."""
    import io

    from django.core.management import call_command

    from xiaokang.imports.models import ImportBatch

    Household.objects.create(household_number="YL02", area_id=YL_VILLAGE, identified_year=2015, main_cause="02")
    rows = [r for r in base_rows() if r[0] == "YL02"]  # YL02 now in the second village
    out = io.StringIO()
    call_command("import", str(write_csv(tmp_path / "a.csv", rows)), stdout=out)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.unrestricted, batch.area_code) == ("applied", True, YL_VILLAGE2)
    assert Household.objects.get(household_number="YL02").area_id == YL_VILLAGE2
    # with --area the same move is checked against that area
    Household.objects.filter(household_number="YL02").update(area_id=YL_VILLAGE)
    rows[0][8] = "3100"  # other content
    with pytest.raises(SystemExit):
        call_command("import", str(write_csv(tmp_path / "b.csv", rows)), "--area", YL_VILLAGE2, stdout=io.StringIO())
    assert ImportBatch.objects.latest("pk").errors[0]["code"] == "IMP_OUT_OF_AREA"


def test_unknown_village_and_required_values(user, tmp_path):
    rows = base_rows()
    rows[2][1] = "430225100299"
    rows[0][4] = ""
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert reasons(batch) == [
        ("CSV", 2, "姓名", "", "必填项为空"),
        ("CSV", 4, "所在村代码", "430225100299", "所在村代码不存在（请核对行政区划代码）"),
    ]


def test_message_names_everything(user, tmp_path):
    from xiaokang.imports.readers import Issue

    rows = base_rows()
    rows[2][2] = "因懒"
    batch = run(write_csv(tmp_path / "报表.csv", rows), user)
    text = str(Issue(**batch.errors[0]))
    assert text.startswith("文件「报表.csv」，工作表「CSV」，第 4 行，列「主要致贫原因」，值「因懒」：不是有效的主要致贫原因")


def test_unreadable_and_unsupported_files(user, tmp_path):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    batch = run(bad, user)
    assert batch.status == "failed" and batch.errors[0]["reason"].startswith("无法读取 Excel 文件")
    other = tmp_path / "a.pdf"
    other.write_bytes(b"%PDF")
    batch = run(other, user)
    assert reasons(batch) == [("", None, "", ".pdf", "不支持的文件类型（请使用 .xlsx、.xls 或 .csv）")]
    empty = write_csv(tmp_path / "empty.csv", [])
    assert reasons(run(empty, user)) == [("CSV", None, "", "", "文件中没有数据行")]


def test_command_line_checks_the_registry_once_in_apply(user, tmp_path, areas, monkeypatch):
    """The command line validates and applies in one run: the checks against the registry run once, in the
    apply's transaction (no key staging at validation), and report as on the web — row, column, reason;
    all-or-nothing (exit 1, nothing written), a dry run fails the same way, ``--partial`` leaves the
    household out."""
    import io

    import pytest
    from django.core.management import call_command

    from xiaokang.imports.models import ImportBatch

    h = Household.objects.create(household_number="YL09", area_id=YL_VILLAGE, identified_year=2014, main_cause="01")
    Member.objects.create(household=h, name="测试甲", id_number=ID_A, sex="1", birth_date=dt.date(1970, 3, 1),
                          relation="01")
    path = write_csv(tmp_path / "a.csv", base_rows())
    expected = [("CSV", 2, "证件号码", ID_A, "测试甲 的证件号码同时出现在其他户：已是户 YL09 的成员")]
    for extra in (["--dry-run"], []):
        out = io.StringIO()
        with pytest.raises(SystemExit) as exit_:
            call_command("import", str(path), "--area", "430225", *extra, stdout=out)
        assert exit_.value.code == 1
        batch = ImportBatch.objects.latest("pk")
        assert (batch.status, batch.dry_run, reasons(batch)) == ("failed", bool(extra), expected)
        assert "状态 失败" in out.getvalue() and "错误 1 处（全部未导入）：" in out.getvalue()
        assert Household.objects.count() == 1
    # validated without staging the keys; the registry read once, by the apply
    import xiaokang.imports.services as services

    seen = {}
    real_validate = services.validate

    def validate(batch, **kwargs):
        batch = real_validate(batch, **kwargs)
        seen.update(kwargs, steps=set(batch.timings))
        return batch

    monkeypatch.setattr(services, "validate", validate)
    with pytest.raises(SystemExit) as exit_:
        call_command("import", str(path), "--area", "430225", "--partial", stdout=io.StringIO())
    assert seen["registry_checks"] is False and not any(s.startswith(("stage", "check")) for s in seen["steps"])
    batch = ImportBatch.objects.latest("pk")
    assert exit_.value.code == 3 and batch.status == "applied" and reasons(batch) == expected
    assert (batch.households_new, batch.households_rejected) == (1, 1)
    assert set(Household.objects.values_list("household_number", flat=True)) == {"YL02", "YL09"}


def test_command_line_area_must_exist_and_file_level_messages(tmp_path, areas):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from xiaokang.imports.readers import read_file

    path = write_csv(tmp_path / "a.csv", base_rows())
    with pytest.raises(CommandError, match="区划代码不存在: abc"):
        call_command("import", str(path), "--area", "abc", "--dry-run", stdout=io.StringIO())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip archive")
    _sheets, issues = read_file(broken)
    assert str(issues[0]).startswith("文件「broken.xlsx」：无法读取 Excel 文件：文件已损坏，或不是 Excel 格式"
                                     "（请用 Excel 或 WPS 打开后另存为 .xlsx 再上传；详情：")


def test_a_masked_export_imported_back_is_named_as_such(user, tmp_path):
    """430225********1234 is a masked export's number: the message says so (it said 前 17 位须为数字)."""
    rows = base_rows()
    rows[0][5] = ID_A[:6] + "********" + ID_A[-4:]
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert [(r[1], r[2], r[3]) for r in reasons(batch)] == [(2, "证件号码", ID_A[:6] + "********" + ID_A[-4:])]
    assert "证件号码是脱敏号码（含 *），不能导入：脱敏导出的文件只供查看" in reasons(batch)[0][4]
