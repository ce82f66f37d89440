"""Background import jobs (后台导入任务): the web upload validates and applies a batch in its own process.

    start_validation(batch) -> None        # after ``services.stage``: validate in the background
    start_apply(batch, user) -> None       # claims the batch (uploaded/validated → applying) first:
                                           # raises services.ImportRefused, so a second submit is refused
                                           # at once (HTTP 409 on the page), then applies in the background
    run(batch_id, action, user_id=None)    # what the job process runs (``manage.py import_job``)
    refresh(batch) -> bool                 # a job whose process has gone (server restarted, killed) is
                                           # closed: True when it did that

A file of a few hundred thousand households takes minutes to check and write; a web request must not
wait that long (the server would time it out and the browser shows nothing). The job runs in a separate
process (``python -m django import_job <batch> validate|apply``; the same settings and database), records
its step in ``ImportBatch.job_phase`` / ``job_pid`` / ``job_started_at`` and clears them when it ends; the
batch page shows the step and the time elapsed and reloads itself until the job is done.

``settings.XIAOKANG_IMPORT_JOBS``: ``"process"`` (default) or ``"inline"`` (run in the request: tests, and
a single-process setup that prefers to wait). The CLI (``xiaokang import``) always runs in its own process
already and does not use jobs. Nothing is half-written when a job dies: apply is one transaction, and a
batch left "applying" by a vanished job returns to "validated" (``refresh``).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from subprocess import DEVNULL, STDOUT, Popen

from django.conf import settings
from django.utils import timezone

from . import services
from .models import BatchStatus, ImportBatch

logger = logging.getLogger(__name__)

VALIDATE, APPLY = "validate", "apply"
PHASES = {VALIDATE: "validating", APPLY: "applying"}

_children: list[Popen] = []  # started by this process; reaped when the next one starts


def mode() -> str:
    return getattr(settings, "XIAOKANG_IMPORT_JOBS", "process")


def start_validation(batch: ImportBatch) -> None:
    """Validate ``batch`` in the background (inline in the "inline" mode), with the preview of what an
    import would change (``validate_with_preview``)."""
    if mode() == "inline":
        validate_with_preview(batch)
        return
    _start(batch, VALIDATE, None)


def validate_with_preview(batch: ImportBatch, user=None) -> ImportBatch:
    """Validate ``batch``; when it passes, also compute what applying it would change (households, members
    and income records new / changed / unchanged, households left out) with a dry run that is rolled back,
    so the batch page shows the counts before the 导入 button is pressed (marked 预计)."""
    batch = services.validate(batch)
    if batch.status == BatchStatus.VALIDATED:
        try:
            batch = services.apply(batch, user or batch.uploaded_by, dry_run=True)
        except Exception as exc:  # noqa: BLE001 — the preview is a courtesy: the validated batch stays appliable
            logger.exception("import preview of batch %s failed", batch.pk)
            ImportBatch.objects.filter(pk=batch.pk).update(message=f"预计变化未能计算（不影响导入）：{exc}")
            batch.refresh_from_db()
    return batch


def start_apply(batch: ImportBatch, user=None) -> None:
    """Claim ``batch`` for applying (raises ``services.ImportRefused`` when it cannot be applied: already
    applied or applying, failed, a dry run, the same content applied), then apply it in the background."""
    if mode() == "inline":
        services.apply(batch, user)
        return
    services.claim(batch)
    _start(batch, APPLY, user)


def _start(batch: ImportBatch, action: str, user) -> None:
    for child in list(_children):  # reap finished children (no zombies in a long-running server)
        if child.poll() is not None:
            _children.remove(child)
    ImportBatch.objects.filter(pk=batch.pk).update(job_phase=PHASES[action], job_started_at=timezone.now(),
                                                   job_pid=None)
    log = services.import_dir() / f"job-{batch.pk}-{action}.log"
    args = [sys.executable, "-m", "django", "import_job", str(batch.pk), action]
    user_id = getattr(user, "pk", None)
    if user_id:
        args += ["--user", str(user_id)]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "xiaokang.settings"),
               XIAOKANG_HOME=str(settings.HOME))
    with open(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as out:  # server account only
        child = Popen(args, env=env, stdin=DEVNULL, stdout=out, stderr=STDOUT, start_new_session=True,
                      close_fds=True)
    _children.append(child)
    ImportBatch.objects.filter(pk=batch.pk, job_phase=PHASES[action], job_pid__isnull=True).update(job_pid=child.pid)


def run(batch_id: int, action: str, user_id: int | None = None) -> ImportBatch:
    """The job itself (in its own process): validate, or apply a claimed batch; then clear the job fields.
    An unexpected error is recorded in the batch's message (validation: status failed; apply: nothing was
    written, the batch returns to validated)."""
    from django.contrib.auth import get_user_model

    batch = ImportBatch.objects.get(pk=batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(job_pid=os.getpid())
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        if action == VALIDATE:
            validate_with_preview(batch, user)
        elif action == APPLY:
            services.apply(batch, user, claimed=True)
        else:
            raise ValueError(f"unknown import job action {action!r}")
    except services.ImportRefused as exc:
        ImportBatch.objects.filter(pk=batch_id).update(message=str(exc))
    except Exception as exc:  # noqa: BLE001 — recorded on the batch for the user, then re-raised for the log
        if action == VALIDATE:
            ImportBatch.objects.filter(pk=batch_id).update(status=BatchStatus.FAILED, ended_at=timezone.now(),
                                                           message=f"校验出错：{exc}")
        else:
            ImportBatch.objects.filter(pk=batch_id, status=BatchStatus.APPLYING).update(
                status=BatchStatus.VALIDATED)
            ImportBatch.objects.filter(pk=batch_id).update(message=f"导入出错，未写入任何数据：{exc}")
        raise
    finally:
        ImportBatch.objects.filter(pk=batch_id).update(job_phase="", job_pid=None)
    batch.refresh_from_db()
    return batch


def _alive(pid: int | None) -> bool:
    """Whether ``pid`` is a running import job. Read from /proc where there is one, so that any server
    process can tell (a finished job that the worker which started it has not reaped yet is a zombie,
    which ``kill(pid, 0)`` would still find; a recycled pid runs something else)."""
    if not pid:
        return False
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            return state not in ("Z", "X") and b"import_job" in (proc / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        except OSError:
            pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A job that has not recorded its process within this many seconds of starting is taken as gone.
START_GRACE_SECONDS = 60


def refresh(batch: ImportBatch) -> bool:
    """Close the job of ``batch`` when its process has gone without clearing it (the server restarted, the
    process was killed): the job fields are cleared, a batch left "applying" returns to "validated" (its
    transaction was rolled back: nothing written) and the message says so. Returns True when it did."""
    if not batch.job_phase:
        return False
    if batch.job_pid is None:
        started = batch.job_started_at or timezone.now()
        if (timezone.now() - started).total_seconds() < START_GRACE_SECONDS:
            return False
    elif _alive(batch.job_pid):
        return False
    phase = batch.job_phase
    updated = ImportBatch.objects.filter(pk=batch.pk, job_phase=phase, job_pid=batch.job_pid).update(
        job_phase="", job_pid=None, message="后台任务意外中止，未写入任何数据，请重试")
    if not updated:
        batch.refresh_from_db()
        return False
    if phase == PHASES[APPLY]:
        ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.APPLYING).update(status=BatchStatus.VALIDATED)
    batch.refresh_from_db()
    return True
