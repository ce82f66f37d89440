"""Apply: idempotent re-import, changes with history (channel import, user, file), partial import with the
error workbook, double apply refused, members missing from the file reported, the CLI and the template."""

import datetime as dt
import getpass
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaokang.imports import services
from xiaokang.imports.models import ImportBatch
from xiaokang.registry.models import Household, Income, Member

from .conftest import HEADERS, ID_A, ID_B, ID_D, YL_VILLAGE, YL_VILLAGE2, base_rows, reasons, run, write_csv


def test_importing_the_same_file_twice_changes_nothing(user, tmp_path):
    path = write_csv(tmp_path / "a.csv", base_rows())
    first = run(path, user)
    assert (first.households_new, first.members_new, first.incomes_new) == (2, 3, 2)
    h = Household.objects.get(household_number="YL01")
    history_before = (Household.history.count(), Member.history.count(), Income.history.count())
    assert history_before == (2, 3, 2)
    second = run(path, user, reimport=True)
    assert second.status == "applied"
    assert (second.households_new, second.households_changed, second.households_unchanged) == (0, 0, 2)
    assert (second.members_new, second.members_changed, second.members_unchanged) == (0, 0, 3)
    assert (second.incomes_new, second.incomes_changed) == (0, 0)
    assert (Household.history.count(), Member.history.count(), Income.history.count()) == history_before
    h2 = Household.objects.get(household_number="YL01")
    assert (h2.version, h2.updated_at) == (h.version, h.updated_at)


def test_same_content_already_applied_is_refused_unless_reimport(user, tmp_path):
    path = write_csv(tmp_path / "a.csv", base_rows())
    run(path, user)
    # refused at validation: the batch ends failed with the reason (no import button; its stored file
    # falls under the retention purge), and the way round it named for the channel it came through
    batch = services.validate(services.stage(path, user))
    assert batch.status == "failed" and batch.error_count == 0
    assert batch.message == ("相同内容的文件（a.csv）已在本区域导入过；再次导入不会有任何变化。"
                             "如确需重新导入，请重新上传并勾选“允许重复导入相同内容的文件”")
    with pytest.raises(services.ImportRefused, match="相同内容的文件（a.csv）已在本区域导入过"):
        services.apply(batch, user)
    with pytest.raises(CommandError, match="如确需重新导入，请加 --reimport 参数重新运行"):
        call_command("import", str(path), "--user", "yl_admin", stdout=io.StringIO())
    again = services.validate(services.stage(path, user, reimport=True))
    assert again.status == "validated"
    assert services.apply(again, user).households_unchanged == 2


def test_a_changed_row_updates_with_history(user, tmp_path):
    run(write_csv(tmp_path / "a.csv", base_rows()), user)
    h = Household.objects.get(household_number="YL01")
    rows = base_rows()
    rows[1][4] = "测试乙改"          # member name changed
    rows[0][8] = rows[1][8] = "15000"  # household income changed
    rows[0][2] = rows[1][2] = "因残"    # household field changed
    batch = run(write_csv(tmp_path / "b.csv", rows), user)
    assert batch.status == "applied"
    assert (batch.households_changed, batch.households_unchanged, batch.members_changed, batch.incomes_changed) == (1, 1, 1, 1)
    h.refresh_from_db()
    assert (h.main_cause, h.version) == ("02", 2)
    assert Member.objects.get(id_number=ID_B).name == "测试乙改"
    assert Income.objects.get(household=h, year=2019).wage == Decimal("15000.00")
    for model, obj_filter in ((Household, {"id": h.id}), (Member, {"id_number": ID_B}), (Income, {"household_id": h.id})):
        last = model.history.filter(**obj_filter).order_by("-history_id").first()
        assert (last.history_type, last.channel, last.history_user_id, last.os_user) == ("~", "import", user.id, "")
        assert last.history_change_reason == f"导入批次 {batch.pk}：b.csv"
    assert Member.history.filter(id_number=ID_A).count() == 1  # unchanged member: no new history row
    # the household page names the batch and the file beside each change
    from xiaokang.registry.views import household_history

    changed = [e for e in household_history(h) if str(e["type"]) == "修改"]
    assert {e["reason"] for e in changed} == {f"导入批次 {batch.pk}：b.csv"} and len(changed) == 3
    assert Household.history.filter(household_number="YL02").count() == 1


def test_partial_imports_valid_households_and_writes_error_workbook(user, tmp_path):
    from openpyxl import load_workbook

    rows = base_rows()
    rows[1][5] = ID_B[:17] + ("0" if ID_B[17] != "0" else "1")  # bad checksum in YL01's second row
    batch = run(write_csv(tmp_path / "a.csv", rows), user, partial=True)
    assert batch.status == "applied"
    assert (batch.households_new, batch.members_new, batch.households_rejected, batch.error_count) == (1, 1, 1, 1)
    assert list(Household.objects.values_list("household_number", flat=True)) == ["YL02"]
    wb = load_workbook(batch.error_report_path)
    ws = wb["CSV"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == HEADERS + ["错误原因"]
    assert values[1] == rows[0] + ["同一户的其他行有错误，整户未导入"]
    assert values[2][:9] == rows[1] and values[2][9].startswith("证件号码：测试乙 的证件号码无效：校验码错误")
    assert len(values) == 3


def test_all_or_nothing_leaves_registry_untouched(user, tmp_path):
    run(write_csv(tmp_path / "a.csv", base_rows()), user)
    rows = base_rows()
    rows[0][4] = "测试甲改"
    rows[2][2] = "不存在的原因"
    batch = run(write_csv(tmp_path / "b.csv", rows), user)
    assert batch.status == "failed" and batch.error_count == 1
    assert Member.objects.get(id_number=ID_A).name == "测试甲"
    with pytest.raises(services.ImportRefused, match="校验未通过"):
        services.apply(batch, user)


def test_double_apply_is_refused(user, tmp_path):
    batch = services.validate(services.stage(write_csv(tmp_path / "a.csv", base_rows()), user))
    same = ImportBatch.objects.get(pk=batch.pk)  # a second request holding the same batch
    services.apply(batch, user)
    with pytest.raises(services.ImportRefused, match="已导入或正在导入"):
        services.apply(same, user)
    assert Member.objects.count() == 3 and Member.history.count() == 3


def test_members_missing_from_the_file_are_reported_not_deleted(user, tmp_path):
    run(write_csv(tmp_path / "a.csv", base_rows()), user)
    batch = run(write_csv(tmp_path / "b.csv", [base_rows()[0], base_rows()[2]]), user)
    assert batch.status == "applied" and batch.households_unchanged == 2
    assert Member.objects.filter(id_number=ID_B).exists()
    assert batch.notes == ["户 YL01 的成员 测试乙 未在文件中列出（未删除，请核实是否已迁出）"]


def test_dry_run_writes_nothing(user, tmp_path):
    batch = services.validate(services.stage(write_csv(tmp_path / "a.csv", base_rows()), user))
    batch = services.apply(batch, user, dry_run=True)
    assert (batch.households_new, batch.members_new, batch.status) == (2, 3, "validated")
    assert Household.objects.count() == 0 and Household.history.count() == 0


def test_cli_import_counts_and_errors(user, tmp_path):
    out = io.StringIO()
    call_command("import", str(write_csv(tmp_path / "a.csv", base_rows())), "--user", "yl_admin", stdout=out)
    text = out.getvalue()
    assert "户：新增 2，修改 0，未变 0" in text and "成员：新增 3，修改 0，未变 0" in text
    assert Member.history.filter(channel="import", history_user=user).count() == 3
    rows = base_rows()
    rows[2][2] = "因懒"
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", str(write_csv(tmp_path / "b.csv", rows)), "--user", "yl_admin", stdout=out)
    assert exit_.value.code == 1
    assert "错误 1 处（全部未导入）" in out.getvalue()
    assert "文件「b.csv」，工作表「CSV」，第 4 行，列「主要致贫原因」，值「因懒」" in out.getvalue()
    # --partial: the valid household is imported, exit status 3 (not 1: something was imported)
    rows[2][0] = "YL03"
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", str(write_csv(tmp_path / "c.csv", rows)), "--user", "yl_admin", "--partial",
                     stdout=out)
    assert exit_.value.code == 3
    assert "户：新增 0，修改 0，未变 1，未导入 1" in out.getvalue() and "错误清单：" in out.getvalue()


def test_cli_dry_run_and_area(areas, tmp_path):
    out = io.StringIO()
    call_command("import", str(write_csv(tmp_path / "a.csv", base_rows())), "--dry-run", "--area", "430225", stdout=out)
    assert out.getvalue().startswith("试运行（未写入）：文件 a.csv：3 行，2 户")
    assert "户：新增 2，修改 0，未变 0" in out.getvalue()
    assert Household.objects.count() == 0
    # the batch is marked a dry run and can never be applied afterwards
    batch = ImportBatch.objects.latest("id")
    assert batch.dry_run and batch.status == "validated"
    with pytest.raises(services.ImportRefused, match="试运行"):
        services.apply(batch)
    assert Household.objects.count() == 0
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import", str(write_csv(tmp_path / "a.csv", base_rows())), "--area", "430224", stdout=out)
    assert "该户不在您的管辖区域（430224）内" in out.getvalue()
    assert Household.objects.count() == 0
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import", str(tmp_path / "none.csv"))


def test_cli_import_without_a_user_names_the_system_account(areas, tmp_path):
    """Without ``--user`` the batch and every history row it writes name the operating-system login."""
    call_command("import", str(write_csv(tmp_path / "a.csv", base_rows())), "--area", "430225",
                 stdout=io.StringIO())
    batch = ImportBatch.objects.get()
    login = getpass.getuser()
    assert (batch.status, batch.uploaded_by, batch.username) == ("applied", None, f"命令行:{login}")
    for model in (Household, Member, Income):
        rows = model.history.all()
        assert rows.count() == {Household: 2, Member: 3, Income: 2}[model]
        assert set(rows.values_list("channel", "history_user", "os_user")) == {("import", None, login)}


def test_template_round_trip(areas, tmp_path):
    from openpyxl import load_workbook

    from xiaokang.imports import layout as L
    from xiaokang.imports.readers import read_file

    path = tmp_path / "t.xlsx"
    call_command("template", "--out", str(path), stdout=io.StringIO())
    sheets, issues = read_file(path)
    assert issues == [] and [s.name for s in sheets] == ["导入"]
    assert [c.header for c in sheets[0].columns] == [c.header for c in L.COLUMNS]
    ws = load_workbook(path)["导入"]
    assert ws["A1"].value == "户基本信息" and ws["A2"].value == "户编号*"


def test_partial_with_merged_household_in_xlsx_error_workbook(user, tmp_path):
    """The rejected household's merged cells reach every row of the error workbook."""
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "导入"
    ws.append(HEADERS)
    for r in base_rows():
        ws.append(r)
    ws.append(["YL03", YL_VILLAGE, "因学", "2016", "测试丁", "430225198001019919", "户主", "", ""])  # bad checksum
    ws.append([None, None, None, None, "测试戊", "430225198201019926", "配偶", "", ""])
    for col in "ABCD":
        ws.merge_cells(f"{col}5:{col}6")
    path = tmp_path / "p.xlsx"
    wb.save(path)
    batch = run(path, user, partial=True)
    assert (batch.status, batch.households_new, batch.households_rejected) == ("applied", 2, 1)
    values = [list(r) for r in load_workbook(batch.error_report_path)["导入"].iter_rows(values_only=True)]
    assert [v[:7] for v in values[1:]] == [
        ["YL03", YL_VILLAGE, "因学", "2016", "测试丁", "430225198001019919", "户主"],
        ["YL03", YL_VILLAGE, "因学", "2016", "测试戊", "430225198201019926", "配偶"],
    ]
    assert values[1][9].startswith("证件号码：测试丁 的证件号码无效") and values[2][9] == "同一户的其他行有错误，整户未导入"


def test_a_batch_staged_without_an_area_takes_the_smallest_area_holding_its_households(areas, tmp_path):
    """A command-line import of everything (no user, no --area) is listed under the area its rows lie in:
    the town 霞阳镇 for two of its villages, the city 株洲市 for villages of two counties."""
    one_town = services.validate(services.stage(write_csv(tmp_path / "a.csv", base_rows()), None, area_code=""))
    assert (one_town.status, one_town.area_code) == ("validated", "430225100")
    rows = base_rows()
    rows[2][1] = "430224100201"  # YL02 moved to 茶陵一村
    two_counties = services.validate(services.stage(write_csv(tmp_path / "b.csv", rows), None, area_code=""))
    assert two_counties.area_code == "4302"
    rows[2][1] = "430224199999"  # a village not in the registry: an error, and no area is guessed below 4302
    unknown = services.validate(services.stage(write_csv(tmp_path / "c.csv", rows), None, area_code=""))
    assert (unknown.status, unknown.area_code) == ("failed", "4302")


def test_same_content_applied_in_a_holding_or_held_area_is_refused(user, areas, tmp_path):
    """The county applied the file; the same file from the command line (no area given) changes nothing
    and is refused; the other way round too. A county batch that left households out does not stop a
    wider import of the same file."""
    path = write_csv(tmp_path / "a.csv", base_rows())
    run(path, user)  # 炎陵县 (the user's area)
    cli = services.validate(services.stage(path, None, area_code=""))
    with pytest.raises(services.ImportRefused, match="已在本区域导入过"):
        services.apply(cli, None)
    city = services.validate(services.stage(path, None, area_code="4302"))
    assert services.refusal(city) != ""

    rows = base_rows()
    rows[2][1] = "430224100201"  # YL02 in 茶陵: outside the county user's area
    other = write_csv(tmp_path / "b.csv", rows)
    partial = run(other, user, partial=True)
    assert (partial.status, partial.households_rejected) == ("applied", 1)
    wide = services.validate(services.stage(other, None, area_code=""))
    assert wide.area_code == "4302" and services.refusal(wide) == ""
    assert services.apply(wide, None).status == "applied"
    again = services.validate(services.stage(other, user, partial=True))
    assert "已在本区域导入过" in services.refusal(again)


def test_a_large_import_refreshes_the_planner_statistics_with_the_history_tables(user, tmp_path, monkeypatch):
    analyzed = []
    monkeypatch.setattr(services, "analyze", lambda *tables: analyzed.extend(tables))
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", 5)  # 2 households + 3 members
    run(write_csv(tmp_path / "a.csv", base_rows()), user)
    assert analyzed == ["registry_household", "registry_member", "registry_income", "registry_historicalhousehold",
                        "registry_historicalmember", "registry_historicalincome"]
    analyzed.clear()
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", 6)
    rows = base_rows()
    rows[0][8] = rows[1][8] = "15000"  # a change: 0 new rows, below any threshold
    run(write_csv(tmp_path / "b.csv", rows), user)
    assert analyzed == []


def test_cli_partial_import_of_content_already_applied_says_why(areas, tmp_path):
    """A partial file with an error, applied once (its valid household): run again, the batch fails for the
    same content — the command prints that reason and the way round it, not only the file's error."""
    rows = base_rows()
    rows[2][2] = "因懒"  # YL02: an unknown cause
    path = write_csv(tmp_path / "p.csv", rows)
    with pytest.raises(SystemExit) as exit_:
        call_command("import", str(path), "--partial", "--area", "430225", stdout=io.StringIO())
    assert exit_.value.code == 3  # YL01 imported, YL02 left out
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", str(path), "--partial", "--area", "430225", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert "状态 失败\n  相同内容的文件（p.csv）已在本区域导入过" in text and "请加 --reimport 参数重新运行" in text
    assert "错误 1 处（全部未导入）" in text


def test_records_of_a_household_the_file_moves_follow_it(user, tmp_path):
    """A file that moves a household to another village: its findings (and cases, warnings, workflows —
    ``registry.area_follow``) take the new village's code, so that the old village no longer reaches them."""
    from django.utils import timezone

    from xiaokang.quality.models import Finding

    assert run(write_csv(tmp_path / "a.csv", base_rows()), user).status == "applied"
    yl01 = Household.objects.get(household_number="YL01")
    now = timezone.now()
    finding = Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=yl01, area_code=YL_VILLAGE,
                                     year=2019, first_seen=now, last_seen=now)
    rows = base_rows()
    rows[0][1] = rows[1][1] = YL_VILLAGE2  # YL01 moves to the second village
    batch = run(write_csv(tmp_path / "b.csv", rows), user)
    assert (batch.status, batch.households_changed) == ("applied", 1)
    assert Household.objects.get(pk=yl01.pk).area_id == YL_VILLAGE2
    assert Finding.objects.get(pk=finding.pk).area_code == YL_VILLAGE2
    assert "apply: records follow moved households" in batch.timings
