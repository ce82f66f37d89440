"""Retention of the stored import files (``imports.retention``): a dry run keeps no stored upload, ``xiaokang
imports purge`` removes the files of batches ended more than N days ago and nothing else, and the batch pages
behave once the files are gone. Counts and sizes are worked out by hand from the files the tests create."""

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaokang.imports import services
from xiaokang.imports.models import ImportBatch

from .conftest import base_rows, write_csv

DAY = dt.timedelta(days=1)


def stored(settings) -> list[str]:
    """The names of the files in the import folder (not its folders, such as the parses' ``.work``), and of
    the files left in its work folder."""
    folder = Path(settings.XIAOKANG_IMPORT_DIR)
    if not folder.exists():
        return []
    work = [f"{p.parent.name}/{p.name}" for p in (folder / ".work").rglob("*") if p.is_file()]
    return sorted([p.name for p in folder.iterdir() if p.is_file()] + work)


def rows_with_wage(wage: int):
    """The two-household file of conftest with another wage for YL01 (another content, another stored file)."""
    rows = base_rows()
    rows[0][8] = rows[1][8] = str(wage)
    return rows


def bad_rows(wage: int):
    """As ``rows_with_wage``, with an unknown cause for YL02 (one error, row 4)."""
    rows = rows_with_wage(wage)
    rows[2][2] = "因懒"
    return rows


def age(path, days: float) -> None:
    """Set the modification time of the file at ``path`` to ``days`` days ago (a file written back then)."""
    when = (timezone.now() - days * DAY).timestamp()
    os.utime(path, (when, when))


def purge(*args) -> str:
    out = io.StringIO()
    call_command("imports", "purge", *args, stdout=out)
    return out.getvalue()


# --- the dry run ---------------------------------------------------------------------------------------------

def test_cli_dry_run_leaves_no_stored_file(areas, tmp_path, settings):
    source = write_csv(tmp_path / "a.csv", base_rows())
    out = io.StringIO()
    call_command("import", str(source), "--dry-run", "--area", "430225", stdout=out)
    assert out.getvalue().startswith("试运行（未写入）：文件 a.csv：3 行，2 户")
    batch = ImportBatch.objects.get()
    # the row stays, with its counts; the stored copy is gone (the user's own file is untouched)
    assert (batch.dry_run, batch.status, batch.households_new, batch.members_new) == (True, "validated", 2, 3)
    assert batch.file_path == "" and batch.files_removed_at is None
    assert stored(settings) == []
    assert source.exists()


def test_cli_dry_run_keeps_only_the_printed_error_workbook(areas, tmp_path, settings):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", str(write_csv(tmp_path / "b.csv", bad_rows(12000))), "--dry-run", "--area",
                     "430225", stdout=out)
    assert exit_.value.code == 1
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.error_count, batch.file_path) == ("failed", 1, "")
    assert f"错误清单：{batch.error_report_path}" in out.getvalue()
    assert Path(batch.error_report_path).is_file()
    assert stored(settings) == [Path(batch.error_report_path).name]


def test_refused_dry_run_removes_its_copy_but_not_a_shared_one(areas, user, tmp_path, settings):
    source = write_csv(tmp_path / "a.csv", base_rows())
    call_command("import", str(source), "--area", "430225", stdout=io.StringIO())
    applied = ImportBatch.objects.get()
    assert applied.status == "applied"
    # a web upload of another content, waiting to be applied
    waiting = services.validate(services.stage(write_csv(tmp_path / "c.csv", rows_with_wage(9000)), user))
    assert waiting.status == "validated"
    with pytest.raises(CommandError, match="已在本区域导入过"):
        call_command("import", str(source), "--dry-run", "--area", "430225", stdout=io.StringIO())
    dry = ImportBatch.objects.get(dry_run=True)
    assert dry.file_path == ""
    # the same content is stored once: the applied batch still refers to it, so it stays
    assert dry.sha256 == applied.sha256 and Path(applied.file_path).is_file()
    # a dry run of the waiting batch's content leaves the waiting batch its file
    call_command("import", str(tmp_path / "c.csv"), "--dry-run", "--area", "430225", stdout=io.StringIO())
    assert Path(waiting.file_path).is_file()
    assert stored(settings) == sorted([Path(applied.file_path).name, Path(waiting.file_path).name])


# --- the purge -----------------------------------------------------------------------------------------------

@pytest.fixture
def batches(areas, user, tmp_path, settings):
    """Eight batches, each of its own content: three ended long ago (their files due), five not: one ended 10
    days ago, three waiting for 60 days, one with a job running."""
    now = timezone.now()

    def staged(wage, bad=False):
        make = bad_rows if bad else rows_with_wage
        return services.stage(write_csv(tmp_path / f"w{wage}.csv", make(wage)), user)

    b = {}
    b["old_applied"] = staged(1001)
    ImportBatch.objects.filter(pk=b["old_applied"].pk).update(
        status="applied", created_at=now - 120 * DAY, validated_at=now - 120 * DAY, applied_at=now - 100 * DAY)
    log = Path(settings.XIAOKANG_IMPORT_DIR) / f"job-{b['old_applied'].pk}-apply.log"
    log.write_bytes(b"x" * 10)
    b["old_failed"] = services.validate(staged(1002, bad=True))  # failed, with an error workbook
    ImportBatch.objects.filter(pk=b["old_failed"].pk).update(created_at=now - 95 * DAY, validated_at=now - 95 * DAY,
                                                             ended_at=now - 95 * DAY)
    with pytest.raises(SystemExit):  # a partial dry run with an error: validated, its workbook kept
        call_command("import", str(write_csv(tmp_path / "dry.csv", bad_rows(1003))), "--dry-run", "--partial",
                     "--area", "430225", stdout=io.StringIO())
    b["old_dry"] = ImportBatch.objects.get(dry_run=True)
    ImportBatch.objects.filter(pk=b["old_dry"].pk).update(created_at=now - 91 * DAY, validated_at=now - 91 * DAY,
                                                          ended_at=now - 91 * DAY)
    b["recent_applied"] = staged(1004)
    ImportBatch.objects.filter(pk=b["recent_applied"].pk).update(
        status="applied", created_at=now - 11 * DAY, validated_at=now - 11 * DAY, applied_at=now - 10 * DAY)
    (Path(settings.XIAOKANG_IMPORT_DIR) / f"job-{b['recent_applied'].pk}-apply.log").write_bytes(b"y" * 7)
    # waiting for their next step for 60 days: within the retention period, kept (abandoned only after 90)
    b["old_validated"] = staged(1005)
    ImportBatch.objects.filter(pk=b["old_validated"].pk).update(
        status="validated", created_at=now - 60 * DAY, validated_at=now - 60 * DAY)
    b["old_uploaded"] = staged(1006)
    ImportBatch.objects.filter(pk=b["old_uploaded"].pk).update(created_at=now - 60 * DAY)
    b["old_applying"] = staged(1007)
    ImportBatch.objects.filter(pk=b["old_applying"].pk).update(
        status="applying", created_at=now - 60 * DAY, validated_at=now - 60 * DAY)
    b["old_failed_job_running"] = staged(1008)
    ImportBatch.objects.filter(pk=b["old_failed_job_running"].pk).update(
        status="failed", job_phase="validating", created_at=now - 200 * DAY, validated_at=now - 200 * DAY)
    for name in b:
        b[name].refresh_from_db()
        if b[name].file_path:  # each upload written when its batch was uploaded
            age(b[name].file_path, (now - b[name].created_at) / DAY)
    assert b["old_failed"].status == "failed" and b["old_failed"].error_report_path
    assert (b["old_dry"].status, b["old_dry"].file_path) == ("validated", "") and b["old_dry"].error_report_path
    return b


def _size(path) -> int:
    return os.path.getsize(path)


def test_purge_removes_only_old_ended_batches_files(batches, settings):
    b = batches
    due = [b["old_applied"].file_path, Path(settings.XIAOKANG_IMPORT_DIR) / f"job-{b['old_applied'].pk}-apply.log",
           b["old_failed"].file_path, b["old_failed"].error_report_path, b["old_dry"].error_report_path]
    # 3 batches: the upload and job log of old_applied, upload and workbook of old_failed, workbook of old_dry
    expected = (b["old_applied"].size_bytes + 10 + b["old_failed"].size_bytes + _size(b["old_failed"].error_report_path)
                + _size(b["old_dry"].error_report_path))
    kept = {name: b[name] for name in ("recent_applied", "old_validated", "old_uploaded", "old_applying",
                                       "old_failed_job_running")}
    before = timezone.now()
    text = purge()
    assert text.strip().startswith(f"已删除 3 个批次的 5 个文件，共 {expected:,} 字节（保存期限 90 天：")
    assert not any(Path(p).exists() for p in due)
    for name in ("old_applied", "old_failed", "old_dry"):
        batch = ImportBatch.objects.get(pk=b[name].pk)
        assert (batch.file_path, batch.error_report_path) == ("", "")
        assert batch.files_removed_at >= before
        # the row keeps its counts and errors
        assert (batch.status, batch.error_count, batch.errors) == (b[name].status, b[name].error_count, b[name].errors)
    for name, batch in kept.items():
        row = ImportBatch.objects.get(pk=batch.pk)
        assert row.files_removed_at is None and row.file_path == batch.file_path, name
        assert Path(row.file_path).is_file(), name
    assert (Path(settings.XIAOKANG_IMPORT_DIR) / f"job-{b['recent_applied'].pk}-apply.log").is_file()
    # a second purge finds nothing
    assert purge().startswith("已删除 0 个批次的 0 个文件，共 0 字节")


def test_purge_dry_run_removes_nothing(batches, settings):
    b = batches
    files = stored(settings)
    rows = list(ImportBatch.objects.order_by("pk").values())
    expected = (b["old_applied"].size_bytes + 10 + b["old_failed"].size_bytes + _size(b["old_failed"].error_report_path)
                + _size(b["old_dry"].error_report_path))
    text = purge("--dry-run")
    assert f"试运行（未删除）：将删除 3 个批次的 5 个文件，共 {expected:,} 字节" in text
    assert f"批次 #{b['old_failed'].pk} w1002.csv（失败，" in text and "：2 个文件，" in text
    assert stored(settings) == files
    assert list(ImportBatch.objects.order_by("pk").values()) == rows


def test_purge_days_option_setting_and_minimum(batches, settings):
    b = batches
    with pytest.raises(CommandError, match="保存期限至少为 1 天"):
        purge("--days", "0")
    # recent_applied ended 10 days ago: now due too; the three batches waiting for 60 days are abandoned
    settings.XIAOKANG_IMPORT_RETENTION_DAYS = 5
    expected = (b["old_applied"].size_bytes + 10 + b["old_failed"].size_bytes + _size(b["old_failed"].error_report_path)
                + _size(b["old_dry"].error_report_path) + b["recent_applied"].size_bytes + 7
                + b["old_validated"].size_bytes + b["old_uploaded"].size_bytes + b["old_applying"].size_bytes)
    assert purge().startswith(f"已删除 7 个批次的 10 个文件，共 {expected:,} 字节（保存期限 5 天：")
    assert not Path(b["recent_applied"].file_path).exists()
    assert ImportBatch.objects.get(pk=b["old_validated"].pk).status == "failed"
    assert ImportBatch.objects.get(pk=b["old_failed_job_running"].pk).files_removed_at is None  # its job runs
    # --days overrides the setting
    settings.XIAOKANG_IMPORT_RETENTION_DAYS = 1000
    assert purge("--days", "1").startswith("已删除 0 个批次的 0 个文件")


def test_purge_missing_files_are_not_an_error(batches):
    b = batches
    Path(b["old_applied"].file_path).unlink()
    Path(b["old_failed"].error_report_path).unlink()
    expected = 10 + b["old_failed"].size_bytes + _size(b["old_dry"].error_report_path)
    assert purge().startswith(f"已删除 3 个批次的 3 个文件，共 {expected:,} 字节")
    assert ImportBatch.objects.get(pk=b["old_applied"].pk).files_removed_at is not None


def test_purge_keeps_an_upload_another_batch_still_needs(areas, user, tmp_path):
    source = write_csv(tmp_path / "a.csv", base_rows())
    old = services.stage(source, user)
    ImportBatch.objects.filter(pk=old.pk).update(status="failed", created_at=timezone.now() - 100 * DAY,
                                                 validated_at=timezone.now() - 100 * DAY)
    again = services.stage(source, user)  # the same content uploaded again: the same stored file
    assert again.file_path == old.file_path
    assert purge().startswith("已删除 1 个批次的 0 个文件，共 0 字节")
    assert ImportBatch.objects.get(pk=old.pk).file_path == "" and Path(again.file_path).is_file()
    # once the second batch has ended long ago too, the file goes with it
    ImportBatch.objects.filter(pk=again.pk).update(status="applied", applied_at=timezone.now() - 100 * DAY)
    age(again.file_path, 100)
    assert purge().startswith(f"已删除 1 个批次的 1 个文件，共 {again.size_bytes:,} 字节")
    assert not Path(again.file_path).exists()


# --- the pages -----------------------------------------------------------------------------------------------

def test_batch_page_and_error_download_after_purge(batches, user):
    c = Client()
    c.force_login(user)
    failed = batches["old_failed"]
    detail = reverse("import_batch_detail", args=[failed.pk])
    errors = reverse("import_batch_errors", args=[failed.pk])
    assert 'id="error-report"' in c.get(detail).content.decode()
    assert c.get(errors).status_code == 200
    purge()
    response = c.get(detail)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-report"' not in page and 'id="error-report-removed"' in page
    assert "上传文件和错误清单已按保存期限删除" in page and "因懒" in page  # the stored errors still show
    response = c.get(errors)
    assert response.status_code == 404 and "该批次的错误清单已按保存期限删除" in response.content.decode()
    assert "已按保存期限删除" in c.get(reverse("import_batch_list")).content.decode()
    # a batch that never had a workbook: 404 as before
    assert c.get(reverse("import_batch_errors", args=[batches["old_applied"].pk])).status_code == 404


def test_revalidate_of_an_uploaded_batch_whose_file_is_gone(areas, user, tmp_path):
    batch = services.stage(write_csv(tmp_path / "a.csv", base_rows()), user)
    Path(batch.file_path).unlink()
    c = Client()
    c.force_login(user)
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert 'id="revalidate-form"' not in page and 'id="file-missing"' in page
    response = c.post(reverse("import_batch_revalidate", args=[batch.pk]))
    assert response.status_code == 409 and "上传的文件已不存在" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "uploaded"
    # the service itself reports it as an error rather than failing on the missing file
    batch = services.validate(batch)
    assert batch.status == "failed" and [e["code"] for e in batch.errors] == ["IMP_FILE_MISSING"]
    assert batch.error_report_path == ""


# --- the end time, re-uploads, broken-off uploads ---------------------------------------------------------


def test_each_way_a_batch_ends_records_its_end_time(areas, user, tmp_path):
    before = timezone.now()
    failed = services.validate(services.stage(write_csv(tmp_path / "bad.csv", bad_rows(3000)), user))
    assert failed.status == "failed" and failed.ended_at == failed.validated_at >= before
    # its page says until when its files are kept (90 days from its end)
    c = Client()
    c.force_login(user)
    page = c.get(reverse("import_batch_detail", args=[failed.pk])).content.decode()
    until = timezone.localtime(failed.ended_at + 90 * DAY).date()
    assert f'<dd id="files-kept-until">上传文件和错误清单保存至 {until:%Y-%m-%d}，' in page
    from xiaokang.imports import jobs

    # the web's validation with its preview (a rolled-back dry run of the apply) does not end the batch
    waiting = jobs.validate_with_preview(services.stage(write_csv(tmp_path / "ok.csv", rows_with_wage(3001)), user))
    assert waiting.status == "validated" and waiting.households_new == 2
    waiting.refresh_from_db()
    assert waiting.ended_at is None  # still to be applied: not ended
    # … but kept only for the retention period from its validation, unless it is applied meanwhile
    until = timezone.localtime(waiting.validated_at + 90 * DAY).date()
    page = c.get(reverse("import_batch_detail", args=[waiting.pk])).content.decode()
    assert f'<dd id="files-kept-until">未导入的批次保存至 {until:%Y-%m-%d}；逾期仍未导入则批次作废' in page
    applied = services.apply(waiting, user)
    assert applied.status == "applied" and applied.ended_at == applied.applied_at >= waiting.validated_at
    call_command("import", str(write_csv(tmp_path / "dry.csv", rows_with_wage(3002))), "--dry-run",
                 "--area", "430225", stdout=io.StringIO())
    dry = ImportBatch.objects.get(dry_run=True)
    assert dry.status == "validated" and dry.ended_at >= dry.validated_at


def test_the_retention_period_counts_from_the_end(areas, user, tmp_path):
    """A batch validated 100 days ago that failed only 10 days ago (when 导入 was pressed) is not yet due."""
    batch = services.stage(write_csv(tmp_path / "a.csv", base_rows()), user)
    now = timezone.now()
    ImportBatch.objects.filter(pk=batch.pk).update(status="failed", created_at=now - 100 * DAY,
                                                   validated_at=now - 100 * DAY, ended_at=now - 10 * DAY)
    age(batch.file_path, 100)
    assert purge().startswith("已删除 0 个批次的 0 个文件")
    assert purge("--days", "9").startswith(f"已删除 1 个批次的 1 个文件，共 {batch.size_bytes:,} 字节")


def test_purge_keeps_an_upload_written_again_before_its_batch_row_exists(areas, user, tmp_path):
    """The same content uploaded again: ``stage`` renames the new copy onto the stored file, then creates the
    row. A purge in between finds no batch of the new upload, yet the file was just written: it stays."""
    source = write_csv(tmp_path / "a.csv", base_rows())
    old = services.stage(source, user)
    ImportBatch.objects.filter(pk=old.pk).update(status="failed", created_at=timezone.now() - 100 * DAY,
                                                 ended_at=timezone.now() - 100 * DAY)
    age(old.file_path, 100)
    Path(old.file_path).write_bytes(source.read_bytes())  # the new upload's rename (no row yet)
    assert purge().startswith("已删除 1 个批次的 0 个文件，共 0 字节")
    assert Path(old.file_path).is_file() and ImportBatch.objects.get(pk=old.pk).file_path == ""


def test_a_broken_off_upload_leaves_no_temporary_file(areas, user, settings):
    class Broken(io.BytesIO):
        name = "a.csv"

        def read(self, size=-1):
            if self.tell() > 0:
                raise OSError("connection reset")
            return super().read(5)

    with pytest.raises(OSError, match="connection reset"):
        services.stage(Broken(b"0123456789"), user)
    assert stored(settings) == [] and not ImportBatch.objects.exists()


def test_purge_removes_temporary_files_of_uploads_broken_off_a_day_ago(areas, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "incoming")
    folder, spool = services.import_dir(), Path(settings.FILE_UPLOAD_TEMP_DIR)
    spool.mkdir()
    old, fresh = folder / ".upload-20260101000000000000-1", folder / ".upload-20260101000000000001-2"
    spooled, arriving = spool / "tmpab12cd.upload.csv", spool / "tmpef34gh.upload.xlsx"  # Django's spool files
    old.write_bytes(b"x" * 11)
    fresh.write_bytes(b"y" * 5)
    spooled.write_bytes(b"z" * 7)
    arriving.write_bytes(b"w" * 3)
    age(old, 1.5)
    age(spooled, 2)
    age(fresh, 0.5)  # may be an upload still arriving
    assert "另将删除 2 个中断的上传或导入留下的临时文件，共 18 字节" in purge("--dry-run")
    assert old.exists() and spooled.exists()
    assert purge().endswith("；另删除 2 个中断的上传或导入留下的临时文件，共 18 字节\n")
    assert stored(settings) == [fresh.name]
    assert sorted(p.name for p in spool.iterdir()) == [arriving.name]


def test_large_uploads_are_spooled_under_the_home_folder():
    from django.conf import settings as live

    assert Path(live.FILE_UPLOAD_TEMP_DIR) == live.HOME / "imports" / ".incoming"
    assert Path(live.FILE_UPLOAD_TEMP_DIR).is_dir()


def test_purge_removes_the_upload_of_a_dry_run_broken_off_long_ago(areas, tmp_path):
    """A command-line dry run killed while validating stays 已上传 with its stored copy; nothing can resume it
    (a dry run is never applied), so it counts as ended when it was uploaded."""
    batch = services.stage(write_csv(tmp_path / "a.csv", base_rows()), None, area_code="430225",
                           channel="command", dry_run=True)
    assert batch.status == "uploaded"
    assert purge().startswith("已删除 0 个批次的 0 个文件")  # uploaded just now: it may still be running
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - 91 * DAY)
    age(batch.file_path, 91)
    assert purge().startswith(f"已删除 1 个批次的 1 个文件，共 {batch.size_bytes:,} 字节")
    assert not Path(batch.file_path).exists()


def test_a_real_purge_lists_the_batches_it_cleared(batches):
    b = batches
    lines = purge().splitlines()
    assert lines[0].startswith("已删除 3 个批次的 5 个文件")
    assert [line.split("（")[0].strip() for line in lines[1:]] == [
        f"批次 #{b['old_applied'].pk} w1001.csv", f"批次 #{b['old_failed'].pk} w1002.csv", f"批次 #{b['old_dry'].pk} dry.csv"]
    assert "：2 个文件，" in lines[1]  # the upload and the job log


def test_the_kept_until_line_names_what_is_kept(batches, user, monkeypatch):
    """A batch waiting to be applied counts from its validation (an end time set by hand changes nothing),
    one with a job running shows no date; a finished dry run, whose upload went at once, keeps only its
    error workbook — and says so."""
    b = batches
    ImportBatch.objects.filter(pk=b["old_validated"].pk).update(ended_at=timezone.now() - 100 * DAY)
    c = Client()
    c.force_login(user)
    page = c.get(reverse("import_batch_detail", args=[b["old_validated"].pk])).content.decode()
    until = timezone.localtime(b["old_validated"].validated_at + 90 * DAY).date()  # 30 days from now
    assert f'<dd id="files-kept-until">未导入的批次保存至 {until:%Y-%m-%d}；' in page
    from xiaokang.imports import jobs

    monkeypatch.setattr(jobs, "_alive", lambda pid: pid == 4242)  # a validation job running as process 4242
    ImportBatch.objects.filter(pk=b["old_uploaded"].pk).update(job_phase="validating", job_pid=4242)
    page = c.get(reverse("import_batch_detail", args=[b["old_uploaded"].pk])).content.decode()
    assert 'id="files-kept-until"' not in page
    dry = ImportBatch.objects.get(pk=b["old_dry"].pk)
    page = c.get(reverse("import_batch_detail", args=[dry.pk])).content.decode()
    until = timezone.localtime(dry.ended_at + 90 * DAY).date()
    assert f'<dd id="files-kept-until">错误清单保存至 {until:%Y-%m-%d}，' in page
    assert "试运行结束（或中断）后上传文件已删除" in page and "上传文件和错误清单保存至" not in page


def test_purge_ends_batches_abandoned_past_the_retention_period(areas, user, tmp_path, monkeypatch):
    """A batch nobody applied (or whose validation died) keeps full ID numbers only for the retention period
    from its last step: then the purge ends it (failed, with the reason) and removes its files. A job whose
    process has gone is closed first; a batch with a job running is left alone."""
    from xiaokang.imports import jobs

    now = timezone.now()
    monkeypatch.setattr(jobs, "_alive", lambda pid: pid == 4242)  # only process 4242 runs an import job

    def waiting(wage, days, **fields):
        batch = services.stage(write_csv(tmp_path / f"w{wage}.csv", rows_with_wage(wage)), user)
        ImportBatch.objects.filter(pk=batch.pk).update(created_at=now - days * DAY, **fields)
        age(batch.file_path, days)
        batch.refresh_from_db()
        return batch

    validated = waiting(5001, 100, status="validated", validated_at=now - 95 * DAY)
    died = waiting(5002, 100, job_phase="validating", job_pid=999_999, job_started_at=now - 100 * DAY)
    applying = waiting(5003, 120, status="applying", validated_at=now - 120 * DAY)  # a command-line apply killed
    running = waiting(5004, 100, job_phase="validating", job_pid=4242, job_started_at=now - 100 * DAY)
    recent = waiting(5005, 80, status="validated", validated_at=now - 80 * DAY)
    sizes = validated.size_bytes + died.size_bytes + applying.size_bytes
    rows = list(ImportBatch.objects.order_by("pk").values())

    text = purge("--dry-run")  # lists what would go, changes nothing (the dead job is not closed either)
    assert text.startswith(f"试运行（未删除）：将删除 2 个批次的 2 个文件，共 {validated.size_bytes + applying.size_bytes:,} 字节")
    assert "；其中 2 个批次逾期未导入，将作废" in text
    assert list(ImportBatch.objects.order_by("pk").values()) == rows

    before = timezone.now()
    lines = purge().splitlines()
    assert lines[0].startswith(f"已删除 3 个批次的 3 个文件，共 {sizes:,} 字节（保存期限 90 天：")
    assert lines[0].endswith("；其中 3 个批次逾期未导入，已作废")
    started = timezone.localtime(applying.validated_at).date()
    assert lines[1] == f"  批次 #{applying.pk} w5003.csv（导入中，{started:%Y-%m-%d} 起未导入，逾期作废）：1 个文件，{applying.size_bytes:,} 字节"
    assert [line.split("（")[0].strip() for line in lines[1:]] == [
        f"批次 #{applying.pk} w5003.csv", f"批次 #{died.pk} w5002.csv", f"批次 #{validated.pk} w5001.csv"]
    for batch in (validated, died, applying):
        row = ImportBatch.objects.get(pk=batch.pk)
        assert (row.status, row.file_path, row.job_phase) == ("failed", "", "")
        assert row.ended_at >= before and row.files_removed_at >= before
        assert row.message == "超过保存期限（90 天）未导入，批次已作废，上传文件和错误清单已删除；如需导入请重新上传"
        assert not Path(batch.file_path).exists()
    for batch in (running, recent):
        row = ImportBatch.objects.get(pk=batch.pk)
        assert (row.status, row.files_removed_at) == (batch.status, None) and Path(row.file_path).is_file()
    # the abandoned batch cannot be applied any more; its page says why
    c = Client()
    c.force_login(user)
    abandoned_reason = "超过保存期限（90 天）未导入，批次已作废，上传文件和错误清单已删除；如需导入请重新上传"
    for action in ("import_batch_apply", "import_batch_revalidate"):  # its own reason, not 校验未通过
        response = c.post(reverse(action, args=[validated.pk]))
        assert response.status_code == 409 and abandoned_reason in response.content.decode(), action
    page = c.get(reverse("import_batch_detail", args=[validated.pk])).content.decode()
    assert "超过保存期限（90 天）未导入，批次已作废" in page and "上传文件和错误清单已按保存期限删除" in page
    assert 'id="apply-form"' not in page and "新增 / 修改 / 未变户（预计）" in page  # never imported
    assert purge().startswith("已删除 0 个批次的 0 个文件")


def test_a_broken_off_dry_run_is_not_validated_again_from_the_web(areas, user, tmp_path):
    batch = services.stage(write_csv(tmp_path / "a.csv", base_rows()), None, area_code="430225",
                           channel="command", dry_run=True)
    c = Client()
    c.force_login(user)
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert 'id="revalidate-form"' not in page
    response = c.post(reverse("import_batch_revalidate", args=[batch.pk]))
    assert response.status_code == 409 and "试运行批次中断后不能重新校验" in response.content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase) == ("uploaded", "")
    # broken off by Ctrl+C, its upload removed on the way out: the page says so, and asks for no re-upload
    from xiaokang.imports import retention

    retention.discard_upload(batch)
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "试运行结束（或中断）后上传文件已删除" in page and 'id="file-missing"' not in page


def test_rows_and_uploader_as_the_pages_show_them(areas, user, tmp_path):
    batch = services.stage(write_csv(tmp_path / "a.csv", base_rows()), None, area_code="430225",
                           channel="command")
    login = __import__("getpass").getuser()
    assert batch.username == f"命令行:{login}" and batch.uploader_label == f"{login}（命令行）"
    assert batch.rows_label == "—"
    batch.rows_done = 1200  # a validation broken off after 1,200 rows
    assert batch.rows_label == "已读取 1,200 行（未完成）"
    batch.job_phase = "validating"
    assert batch.rows_label == "已读取 1,200 行……"
    batch = services.validate(ImportBatch.objects.get(pk=batch.pk))
    assert (batch.rows_total, batch.rows_label) == (3, "3")
    c = Client()
    c.force_login(user)
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert '<dd id="batch-rows">3</dd>' in page and f"{login}（命令行）" in page


def test_purge_removes_work_folders_a_killed_import_left(areas, user, tmp_path):
    """A parse keeps its rows (with ID numbers) in a folder under the import folder; a process killed
    outright leaves it. The purge removes one a day old; a batch whose kept parse was swept reads its file
    again."""
    batch = services.validate(services.stage(write_csv(tmp_path / "a.csv", base_rows()), user))
    parsed = services._parsed(batch)  # kept for the apply, in a work folder under the import folder
    workdir = parsed.workdir
    assert workdir.parent == services.work_root() and any(workdir.iterdir())
    size = sum(f.stat().st_size for f in workdir.rglob("*") if f.is_file())
    left = services.work_root() / "xiaokang-import-killed"
    left.mkdir()
    (left / "rows.parquet").write_bytes(b"p" * 9)
    age(left, 2)
    age(workdir, 2)
    assert purge().endswith(f"；另删除 2 个中断的上传或导入留下的临时文件，共 {9 + size:,} 字节\n")
    assert not left.exists() and not workdir.exists()
    applied = services.apply(batch, user)  # the swept parse is read again from the stored upload
    assert applied.status == "applied" and applied.households_new == 2


def test_stored_files_are_readable_by_the_server_account_only(areas, user, tmp_path):
    """The stored upload and the error workbook hold full ID numbers: mode 0600 (the trial found the
    workbook world-readable)."""
    batch = services.validate(services.stage(write_csv(tmp_path / "b.csv", bad_rows(4000)), user))
    assert batch.status == "failed" and batch.error_report_path
    for path in (batch.file_path, batch.error_report_path):
        assert os.stat(path).st_mode & 0o777 == 0o600, path
