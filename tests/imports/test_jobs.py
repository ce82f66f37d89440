"""Background import jobs (imports.jobs) in the "process" mode: the upload and the 导入 button start a
job process (Popen replaced by a recorder here; the job itself is then run as the process would run it,
``call_command("import_job", …)``), the page shows the step and reloads itself, a second submit is
refused at once, a job that died is closed with nothing written, and an error inside a job is recorded."""

import os
import subprocess
import sys

from subprocess import Popen

import pytest
from django.core.management import call_command
from django.urls import reverse

from xiaokang.imports import jobs
from xiaokang.imports.models import ImportBatch
from xiaokang.registry.models import Household

import sample_data as sample
from imports.test_views_imports import NEW, client, household_csv


class FakePopen:
    started: list[list[str]] = []

    def __init__(self, args, **kwargs):
        FakePopen.started.append(list(args))
        self.args, self.kwargs, self.pid = args, kwargs, 4_000_000 + len(FakePopen.started)

    def poll(self):
        return None


@pytest.fixture
def process_mode(settings, tmp_path, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.XIAOKANG_IMPORT_DIR = tmp_path / "imports"
    settings.XIAOKANG_IMPORT_JOBS = "process"
    FakePopen.started = []
    monkeypatch.setattr(jobs, "Popen", FakePopen)
    monkeypatch.setattr(jobs, "_alive", lambda pid: pid is not None and pid > 4_000_000)  # the fakes "run"
    return FakePopen


@pytest.fixture
def data(db):
    return sample.build()


def _validated(data):
    """A county administrator's client and a batch uploaded by it, validated by its job."""
    user = sample.make_user("yl", area=data.yl, role="county_admin")
    c = client(user)
    c.post(reverse("import_upload"), {"file": household_csv([NEW])})
    batch = ImportBatch.objects.get()
    call_command("import_job", str(batch.pk), "validate")
    return user, c, batch


def test_upload_validates_in_a_job_and_the_page_follows_it(data, process_mode):
    user = sample.make_user("yl", area=data.yl, role="county_admin")
    c = client(user)
    response = c.post(reverse("import_upload"), {"file": household_csv([NEW])})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_batch_detail", args=[batch.pk])
    # the request returned before validating: the batch is still "uploaded", with its job recorded
    assert (batch.status, batch.job_phase, batch.job_pid) == ("uploaded", "validating", 4_000_001)
    (args,) = process_mode.started
    assert args[1:] == ["-m", "django", "import_job", str(batch.pk), "validate"]
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert 'id="job-running"' in page and "正在校验文件" in page and 'http-equiv="refresh"' in page
    assert 'id="apply-form"' not in page and 'id="revalidate-form"' not in page

    call_command("import_job", str(batch.pk), "validate")  # what the job process runs
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase, batch.job_pid, batch.rows_total) == ("validated", "", None, 2)
    # the preview of what the import would change (a dry run, rolled back): 1 household and 2 members new
    assert (batch.households_new, batch.members_new, batch.incomes_new) == (1, 2, 1)
    assert not Household.objects.filter(household_number="YL0100").exists()
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert 'id="job-running"' not in page and 'http-equiv="refresh"' not in page and 'id="apply-form"' in page
    assert "新增 / 修改 / 未变户（预计）" in page


def test_apply_claims_at_once_then_applies_in_the_job_with_the_users_history(data, process_mode):
    user, c, batch = _validated(data)

    response = c.post(reverse("import_batch_apply", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase) == ("applying", "applying")
    assert process_mode.started[-1][-4:] == [str(batch.pk), "apply", "--user", str(user.pk)]
    assert not Household.objects.filter(household_number="YL0100").exists()  # not yet: the job writes
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "正在写入数据库" in page and 'id="apply-form"' not in page
    # a second submit (double click, refresh) is refused at once; no second job
    again = c.post(reverse("import_batch_apply", args=[batch.pk]))
    assert again.status_code == 409 and "不能重复导入" in again.content.decode()
    assert len(process_mode.started) == 2

    call_command("import_job", str(batch.pk), "apply", "--user", str(user.pk))
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase, batch.households_new, batch.members_new) == ("applied", "", 1, 2)
    assert "（预计）" not in c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    household = Household.objects.get(household_number="YL0100")
    record = household.history.get()
    assert (record.history_type, record.history_user_id, record.channel) == ("+", user.pk, "import")


def test_a_job_that_died_is_closed_and_nothing_is_written(data, process_mode):
    user, c, batch = _validated(data)
    c.post(reverse("import_batch_apply", args=[batch.pk]))
    # the job process is gone (server restarted) without clearing its fields
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jobs, "_alive", lambda pid: False)
        page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase, batch.job_pid) == ("validated", "", None)
    assert "后台任务意外中止" in batch.message and "后台任务意外中止" in page and 'id="apply-form"' in page
    assert not Household.objects.filter(household_number="YL0100").exists()


def test_an_interrupted_validation_can_be_run_again(data, process_mode):
    c = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    c.post(reverse("import_upload"), {"file": household_csv([NEW])})
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(job_phase="", job_pid=None)  # closed, still "uploaded"
    page = c.get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert 'id="revalidate-form"' in page
    assert c.post(reverse("import_batch_revalidate", args=[batch.pk])).status_code == 302
    assert process_mode.started[-1][-2:] == [str(batch.pk), "validate"]
    # while that job runs, another re-validation is refused
    assert c.post(reverse("import_batch_revalidate", args=[batch.pk])).status_code == 409
    call_command("import_job", str(batch.pk), "validate")
    batch.refresh_from_db()
    assert batch.status == "validated"
    assert c.post(reverse("import_batch_revalidate", args=[batch.pk])).status_code == 409


def test_an_error_inside_a_job_is_recorded_on_the_batch(data, process_mode, monkeypatch):
    c = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    c.post(reverse("import_upload"), {"file": household_csv([NEW])})
    batch = ImportBatch.objects.get()

    def broken(batch):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(jobs.services, "validate", broken)
    with pytest.raises(RuntimeError):
        jobs.run(batch.pk, "validate")
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase) == ("failed", "")
    assert batch.message == "校验出错：磁盘已满"


def test_the_job_command_is_found_by_a_fresh_process(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="xiaokang.settings", XIAOKANG_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "django", "help", "import_job"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "validate" in out.stdout and "apply" in out.stdout


def test_the_rows_read_are_stored_while_the_file_is_parsed(data, settings, tmp_path, monkeypatch):
    """The parse reports its progress on the batch (rows_done), which the page of a running job shows."""
    from xiaokang.imports import services

    settings.XIAOKANG_IMPORT_DIR = tmp_path / "imports"
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.0)
    seen = []
    original = services._progress

    def spy(batch):
        report = original(batch)

        def wrapped(rows):
            report(rows)
            seen.append(ImportBatch.objects.get(pk=batch.pk).rows_done)

        return wrapped

    monkeypatch.setattr(services, "_progress", spy)
    user = sample.make_user("yl", area=data.yl, role="county_admin")
    batch = services.stage(household_csv([NEW]), user)
    services._forget()  # no parse kept from an earlier test (same batch id and content)
    services.validate(batch)
    assert seen == [2]  # one block of two data rows, stored while parsing
    batch.refresh_from_db()
    assert (batch.status, batch.rows_total) == ("validated", 2)
    ImportBatch.objects.filter(pk=batch.pk).update(job_phase="applying", rows_done=2)
    monkeypatch.setattr(jobs, "_alive", lambda pid: True)
    from django.utils import timezone

    ImportBatch.objects.filter(pk=batch.pk).update(job_started_at=timezone.now(), job_pid=1)
    page = client(user).get(reverse("import_batch_detail", args=[batch.pk])).content.decode()
    assert "已读取 2 行" in page


def test_alive_tells_a_running_job_from_a_finished_one_and_from_other_processes():
    """Any server process can tell: a finished (even unreaped, zombie) child is gone; another program is
    not a job."""
    import time

    job = Popen([sys.executable, "-c", "import time, sys; time.sleep(30)", "import_job"])
    other = Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert jobs._alive(job.pid) is True
        assert jobs._alive(other.pid) is False  # a recycled pid running something else
        job.kill()
        time.sleep(0.3)  # killed, not reaped: a zombie
        assert jobs._alive(job.pid) is False
    finally:
        for p in (job, other):
            p.kill()
            p.wait()
    assert jobs._alive(None) is False


def test_a_failed_preview_leaves_the_batch_validated(data, process_mode, monkeypatch):
    """The preview (a dry run after the validation) is a courtesy: when it fails the batch stays
    validated and appliable, and the message says the expected changes could not be computed."""
    c = client(sample.make_user("yl", area=data.yl, role="county_admin"))
    c.post(reverse("import_upload"), {"file": household_csv([NEW])})
    batch = ImportBatch.objects.get()

    def broken(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(jobs.services, "apply", broken)
    jobs.run(batch.pk, "validate")
    batch.refresh_from_db()
    assert (batch.status, batch.job_phase, batch.households_new) == ("validated", "", 0)
    assert batch.message == "预计变化未能计算（不影响导入）：磁盘已满"
