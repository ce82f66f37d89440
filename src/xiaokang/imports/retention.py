"""Retention of the stored import files (导入文件保存期限).

Every import stores the uploaded file, and an error workbook when there were errors, under the import
folder (``services.import_dir()``); a background job also leaves its log there (``job-<batch>-<step>.log``).
They hold full ID and phone numbers (personal information under the PIPL), so they are not kept forever:

    discard_upload(batch) -> int           # a finished dry run: remove its stored upload now (bytes removed)
    purge(days=None, *, dry_run=False, now=None) -> PurgeResult
                                           # remove the files of batches ended more than ``days`` days ago
    files_present(batch) -> bool           # whether the stored upload of ``batch`` is still on disk
    end_time(batch) -> datetime | None     # when it ended, as the purge counts it (None: not ended)
    files_kept_until(batch) -> datetime | None   # when a batch's files fall due (ended, or left waiting)

A batch has ended when it was applied, failed, or is a dry run that finished (validated or failed) or was
broken off (still uploaded: a dry run is never resumed); its end is ``ended_at`` (recorded when it ended;
for rows older than that field: applied, else validated, else uploaded). Batches still uploaded, validated
(not a dry run) or applying, and batches with a job running, are not ended — but one left waiting
(uploaded, validated, or "applying" with no job: a command-line apply killed) for longer than the retention
period since it was uploaded or validated is *abandoned* (逾期未导入): the purge ends it (status failed,
``ended_at`` now, the reason in its message — nobody can apply it any more; the file would have to be
uploaded again) and removes its files too, so that a file nobody imported does not keep full ID numbers for
ever. Before that it closes the jobs whose process has gone (``jobs.refresh``). A batch with a job running is
never touched. The purge clears the paths on the batch row and sets ``files_removed_at``; the row itself
(counts, errors) stays.

Several batches of the same content share one stored upload (its name is the content's SHA-256 and the file
name), so a file is removed only when no other batch still refers to it (it goes with the last of them).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import BatchStatus, ImportBatch

DEFAULT_DAYS = 90

# Batches whose files may go: applied or failed, or a dry run that has finished (never applied) — or that
# was broken off while validating (still "uploaded": a command-line dry run killed; nothing can resume it).
ENDED_STATUSES = (BatchStatus.APPLIED, BatchStatus.FAILED)
DRY_RUN_ENDED_STATUSES = (BatchStatus.VALIDATED, BatchStatus.UPLOADED)
ENDED = Q(status__in=ENDED_STATUSES) | Q(dry_run=True, status__in=DRY_RUN_ENDED_STATUSES)
# Batches waiting for a next step (not a dry run): uploaded, validated, or "applying" — with no job running, an
# apply that was killed (the command line's has no job; a web job's is closed by ``jobs.refresh`` first).
# Waiting longer than the retention period since their last step (``WAITING_SINCE``), they are abandoned.
WAITING_STATUSES = (BatchStatus.UPLOADED, BatchStatus.VALIDATED, BatchStatus.APPLYING)
WAITING = Q(dry_run=False, status__in=WAITING_STATUSES)
WAITING_SINCE = ("validated_at", "created_at")


def retention_days() -> int:
    """The retention period in days: ``settings.XIAOKANG_IMPORT_RETENTION_DAYS`` (default 90)."""
    return int(getattr(settings, "XIAOKANG_IMPORT_RETENTION_DAYS", DEFAULT_DAYS))


def files_present(batch: ImportBatch) -> bool:
    """Whether the stored upload of ``batch`` is still on disk (False once removed: a finished dry run, the
    retention purge, or deleted by hand)."""
    return bool(batch.file_path) and Path(batch.file_path).is_file()


def end_time(batch: ImportBatch) -> dt.datetime | None:
    """When ``batch`` ended, as the purge counts it (``ENDED``; ``ended_at``, else for rows older than that
    field its apply, validation or upload time); None while it has not ended (it may still be applied)."""
    if not (batch.status in ENDED_STATUSES or (batch.dry_run and batch.status in DRY_RUN_ENDED_STATUSES)):
        return None
    return batch.ended_at or batch.applied_at or batch.validated_at or batch.created_at


def waiting_since(batch: ImportBatch) -> dt.datetime | None:
    """For a batch waiting for its next step (``WAITING``: uploaded, validated or left applying; not a dry
    run), the time of its last step (validated, else uploaded); None for any other batch."""
    if batch.dry_run or batch.status not in WAITING_STATUSES:
        return None
    return batch.validated_at or batch.created_at


def files_kept_until(batch: ImportBatch) -> dt.datetime | None:
    """When the stored files of ``batch`` fall due for the purge: an ended batch's end + the retention
    period; a batch waiting for 导入 (or for a validation to be resumed), its last step + the retention
    period (then it is abandoned: ended and its files removed). None while a job runs, for a batch
    whose files are already gone, or when it has none."""
    start = end_time(batch) or (None if batch.job_phase else waiting_since(batch))
    if start is None or batch.files_removed_at or not (batch.file_path or batch.error_report_path):
        return None
    return start + dt.timedelta(days=retention_days())


def _shared(path: str, exclude) -> bool:
    """Whether a batch other than those in ``exclude`` (a pk or a list of pks) refers to ``path``."""
    others = ImportBatch.objects.filter(Q(file_path=path) | Q(error_report_path=path))
    others = others.exclude(pk__in=exclude) if isinstance(exclude, list) else others.exclude(pk=exclude)
    return others.exists()


def _remove(path: Path, *, dry_run: bool, written_before: dt.datetime | None = None) -> int | None:
    """Remove the file at ``path``: its size in bytes, or None when there was no such file (or, with
    ``written_before``, when it was written at or after that time: kept)."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not path.is_file():
        return None
    if written_before is not None and st.st_mtime >= written_before.timestamp():
        return None
    size = st.st_size
    if not dry_run:
        path.unlink(missing_ok=True)
    return size


def discard_upload(batch: ImportBatch) -> int:
    """Remove the stored upload of a finished dry run (it can never be applied) and clear ``file_path`` on
    the row; the error workbook stays (its path was printed for the user to open; the retention purge removes
    it later). The parsed rows kept on disk for this process are dropped too. A file another batch still
    refers to stays. Returns the bytes removed (0: nothing removed; a missing file is not an error)."""
    from . import services

    services._forget()
    path = batch.file_path
    if not path:
        return 0
    removed = 0
    if not _shared(path, batch.pk):
        removed = _remove(Path(path), dry_run=False) or 0
    ImportBatch.objects.filter(pk=batch.pk).update(file_path="")
    batch.file_path = ""
    return removed


@dataclass
class PurgedBatch:
    """One batch of a purge: its files removed (count) and their size in bytes; ``ended_at`` its end (for
    an abandoned batch, ``abandoned`` True: its last step, and ``status`` the status it was left in)."""

    pk: int
    file_name: str
    status: str
    ended_at: dt.datetime
    files: int = 0
    bytes: int = 0
    abandoned: bool = False


@dataclass
class PurgeResult:
    """What a purge removed (or, ``dry_run``, would remove): batches cleared, files removed, bytes freed;
    ``cutoff``: batches that ended before this time were purged; ``days``: the retention period used;
    ``stray_files``/``stray_bytes``: what broken-off uploads and imports left a day ago, removed (temporary
    ``.upload-*`` files, Django's upload spool files, parses' work folders)."""

    days: int
    cutoff: dt.datetime
    dry_run: bool
    items: list[PurgedBatch] = field(default_factory=list)
    stray_files: int = 0
    stray_bytes: int = 0

    @property
    def batches(self) -> int:
        return len(self.items)

    @property
    def abandoned(self) -> int:
        """How many of the batches were abandoned (waiting past the retention period; ended by the purge)."""
        return sum(1 for i in self.items if i.abandoned)

    @property
    def files(self) -> int:
        return sum(i.files for i in self.items)

    @property
    def bytes(self) -> int:
        return sum(i.bytes for i in self.items)


def purgeable(cutoff: dt.datetime):
    """The batches whose stored files are due: ended (``ENDED``) before ``cutoff``, no job running, files
    not yet removed and at least one path recorded; oldest first, annotated with ``end_time`` (its end)."""
    return (ImportBatch.objects.filter(ENDED, job_phase="", files_removed_at__isnull=True)
            .exclude(file_path="", error_report_path="")
            .annotate(end_time=Coalesce("ended_at", "applied_at", "validated_at", "created_at"))
            .filter(end_time__lt=cutoff)
            .order_by("end_time", "pk"))


def abandoned(cutoff: dt.datetime):
    """The batches waiting for their next step (``WAITING``) since before ``cutoff`` with no job running and
    files not yet removed: abandoned; oldest first, annotated with ``end_time`` (their last step)."""
    return (ImportBatch.objects.filter(WAITING, job_phase="", files_removed_at__isnull=True)
            .annotate(end_time=Coalesce(*WAITING_SINCE))
            .filter(end_time__lt=cutoff)
            .order_by("end_time", "pk"))


def _close_gone_jobs(cutoff: dt.datetime) -> None:
    """Close the jobs of waiting batches started before ``cutoff`` whose process has gone (``jobs.refresh``),
    so that a batch whose validation or apply job died long ago can be found abandoned."""
    from . import jobs

    for batch in ImportBatch.objects.filter(WAITING, job_started_at__lt=cutoff).exclude(job_phase=""):
        jobs.refresh(batch)


ABANDONED_MESSAGE = "超过保存期限（%(days)s 天）未导入，批次已作废，上传文件和错误清单已删除；如需导入请重新上传"


def is_abandoned(batch: ImportBatch) -> bool:
    """Whether ``batch`` was ended by the purge as abandoned (failed, with ``ABANDONED_MESSAGE``)."""
    return batch.status == BatchStatus.FAILED and batch.message.startswith(ABANDONED_MESSAGE.split("（")[0] + "（")


def _job_logs(batch: ImportBatch) -> list[Path]:
    from . import jobs, services

    return [services.import_dir() / f"job-{batch.pk}-{action}.log" for action in (jobs.VALIDATE, jobs.APPLY)]


def purge(days: int | None = None, *, dry_run: bool = False, now: dt.datetime | None = None) -> PurgeResult:
    """Remove the stored files (upload, error workbook, job logs) of the batches that ended more than
    ``days`` days (default ``retention_days()``) before ``now``, and of the batches abandoned (waiting for
    their next step since before then: ended here, status failed with the reason), clear their paths and
    set ``files_removed_at``; remove what uploads and imports broken off more than a day ago left (temporary
    files, work folders). ``dry_run``: count what would go, remove and change nothing. Missing files are
    skipped (not counted); a stored upload written again after the cutoff (the same content uploaded anew)
    is kept. Raises ValueError when ``days`` is less than 1 (a dry run still running could lose its file)."""
    days = retention_days() if days is None else int(days)
    if days < 1:
        raise ValueError(_("保存期限至少为 1 天（收到 %(days)s）") % {"days": days})
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    if not dry_run:
        _close_gone_jobs(cutoff)
    due = [(b, False) for b in purgeable(cutoff)] + [(b, True) for b in abandoned(cutoff)]
    going = [b.pk for b, _abandoned in due]
    result = PurgeResult(days=days, cutoff=cutoff, dry_run=dry_run)
    seen: set[str] = set()
    for batch, is_abandoned in due:
        if is_abandoned and not dry_run:
            # end it first (conditionally: a batch someone starts to apply right now is left alone) — once
            # failed, nobody can apply it while its file goes
            ended = ImportBatch.objects.filter(pk=batch.pk, status=batch.status, job_phase="").update(
                status=BatchStatus.FAILED, ended_at=now, message=ABANDONED_MESSAGE % {"days": days})
            if not ended:
                continue
        item = PurgedBatch(batch.pk, batch.file_name, batch.status, batch.end_time, abandoned=is_abandoned)
        paths = [p for p in (batch.file_path, batch.error_report_path) if p]
        for path in [*paths, *map(str, _job_logs(batch))]:
            if path in seen:
                continue
            seen.add(path)
            if path in paths and _shared(path, going):
                continue  # another batch (recent or in progress) still needs it
            # an upload written again since the cutoff belongs to a new upload of the same content, whose
            # batch row may not exist yet (services.stage moves the file, then creates the row): kept
            recent = cutoff if path == batch.file_path else None
            size = _remove(Path(path), dry_run=dry_run, written_before=recent)
            if size is not None:
                item.files += 1
                item.bytes += size
        if not dry_run:
            ImportBatch.objects.filter(pk=batch.pk, files_removed_at__isnull=True).update(
                file_path="", error_report_path="", files_removed_at=now)
        result.items.append(item)
    for path in _stray_uploads(now - STRAY_UPLOAD_AGE):
        size = _remove(path, dry_run=dry_run)
        if size is not None:
            result.stray_files += 1
            result.stray_bytes += size
    for folder in _stray_work(now - STRAY_UPLOAD_AGE):
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
        result.stray_files += 1
        result.stray_bytes += size
    return result


def _stray_work(before: dt.datetime) -> list[Path]:
    """The work folders of parsed imports (``services.work_root()``) last changed before ``before``: left by
    a process killed outright (a finished parse removes its own; a live one older than that is read again)."""
    from . import services

    root = services.work_root()
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < before.timestamp():
                found.append(folder)
        except FileNotFoundError:
            continue
    return sorted(found)


# An upload arrives in Django's spool folder (large files), is copied to a temporary ``.upload-*`` file, then
# renamed (``services.stage``); one left behind (the process killed meanwhile) older than this is removed by
# the purge.
STRAY_UPLOAD_AGE = dt.timedelta(days=1)


def _stray_uploads(before: dt.datetime) -> list[Path]:
    """The temporary upload files last written before ``before``: ``.upload-*`` in the import folder, and
    every file in Django's upload spool folder (``FILE_UPLOAD_TEMP_DIR``, where a large upload arrives; a
    finished request removes its own)."""
    from . import services

    candidates = list(services.import_dir().glob(".upload-*"))
    spool = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    if spool and Path(spool).is_dir():
        candidates += list(Path(spool).iterdir())
    found = []
    for path in candidates:
        try:
            if path.is_file() and path.stat().st_mtime < before.timestamp():
                found.append(path)
        except FileNotFoundError:
            continue
    return sorted(found)
