"""Import services (导入): what the web upload, the CLI and (later) the API call.

    stage(file, user, partial=False, *, file_name=None, area_code=None, channel="web", reimport=False,
          dry_run=False) -> ImportBatch  # store the file, status "uploaded" (a dry run: never applied)
    validate(batch) -> ImportBatch     # read + check; status "validated", or "failed" with errors
    apply(batch, user=None, *, dry_run=False) -> ImportBatch
                                       # one transaction; status "applied" (or "failed"); raises ImportRefused
    error_report(batch) -> Path | None # the error workbook (original rows + 错误原因), when there were errors

``file`` is a path or a file-like object (a Django ``UploadedFile``); ``area_code`` defaults to the user's
area (a superuser without area: everything). All-or-nothing by default: any error and nothing changes
(status "failed"); ``partial=True`` imports the valid households and leaves the rest in the error
workbook. ``apply`` moves the status with one conditional UPDATE (uploaded/validated → applying), so a
retried or double-submitted batch cannot apply twice (``ImportRefused``), and a file whose content was
already applied in the same area is refused unless ``reimport=True`` (it would change nothing anyway).
The stored files (upload, error workbook) are removed after a dry run and after the retention period
(``imports.retention``); a batch whose upload is gone fails validation with 上传的文件已不存在.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from xiaokang.core.audit import history_tables, os_login
from xiaokang.core.cache import REGISTRY, bump
from xiaokang.core.db import analyze
from xiaokang.core.scoping import LEVEL_PREFIX_LENGTH
from xiaokang.registry.models import Household, Income, Member

from . import apply as A
from . import layout as L
from . import retention, timing
from .models import COMMAND_LINE_PREFIX, BatchStatus, ImportBatch
from .readers import Issue, read_file
from .validate import Parsed, parse

# After a batch adds this many households and members, the planner statistics are refreshed (ANALYZE).
ANALYZE_AFTER_ROWS = 10_000

MAX_STORED_ERRORS = 1000


class ImportRefused(Exception):
    """The batch cannot be applied (already applied, being applied, failed, or the same file applied)."""


class _Rollback(Exception):
    pass


def import_dir() -> Path:
    d = Path(getattr(settings, "XIAOKANG_IMPORT_DIR", settings.HOME / "imports"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def work_root() -> Path:
    """The folder of the parsed rows of the files being imported (``import_dir()/.work``: one temporary
    folder per parse, removed when its batch is done or its process exits; the purge removes those a
    process killed outright left behind)."""
    return import_dir() / ".work"


def _user_area(user) -> str:
    if user is None or getattr(user, "is_superuser", False):
        return getattr(user, "area_id", None) or ""
    return getattr(user, "area_id", None) or ""


def stage(file, user, partial: bool = False, *, file_name: str | None = None, area_code: str | None = None,
          channel: str = "web", reimport: bool = False, dry_run: bool = False) -> ImportBatch:
    """Store the uploaded file and create its batch (status uploaded). Raises PermissionError for a
    non-superuser without an area."""
    if area_code is None:
        area_code = _user_area(user)
        if not area_code and not getattr(user, "is_superuser", False) and user is not None:
            raise PermissionError("您的账号没有管辖区域，不能导入")
    name = file_name or Path(getattr(file, "name", None) or str(file)).name
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=import_dir())  # a unique name, even across threads
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(file, (str, Path)):
                src = open(file, "rb")
            else:
                src = file
                if hasattr(src, "seek"):
                    src.seek(0)
            try:
                chunks = src.chunks() if hasattr(src, "chunks") else iter(lambda: src.read(1 << 20), b"")
                size = 0
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            finally:
                if isinstance(file, (str, Path)):
                    src.close()
        sha = digest.hexdigest()
        final = import_dir() / f"{sha[:16]}-{Path(name).name}"
        shutil.move(tmp, final)
    except BaseException:  # a broken-off upload (disk full, client gone) leaves no partial copy behind
        tmp.unlink(missing_ok=True)
        raise
    return ImportBatch.objects.create(
        file_name=name, file_path=str(final), sha256=sha, size_bytes=size,
        uploaded_by=user if getattr(user, "pk", None) else None,
        username=getattr(user, "username", "") or (
            f"{COMMAND_LINE_PREFIX}{os_login()}"[:150] if channel == "command" else ""),
        area_code=area_code or "", unrestricted=not area_code, channel=channel, partial=partial, reimport=reimport, dry_run=dry_run,
    )


_CACHE: dict[tuple[int, str], tuple[Parsed, list]] = {}


def _progress(batch: ImportBatch):
    """The progress callback of a parse: stores the rows read so far on the batch (``rows_done``), at most
    once per second — committed at once outside a transaction, so the batch page of a background job
    (``imports.jobs``) shows it while the file is read."""
    last = [0.0]

    def report(rows: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            ImportBatch.objects.filter(pk=batch.pk).update(rows_done=rows)

    return report


PROGRESS_SECONDS = 1.0


def jurisdiction(batch: ImportBatch) -> str:
    """The area the rows of ``batch`` must lie in ("" for none): its area, unless the batch is unrestricted
    (its area is then only where it is filed: a command-line import may move a household between villages)."""
    return "" if batch.unrestricted else batch.area_code


def _parsed(batch: ImportBatch) -> Parsed:
    """The parsed file (kept for the last batch of this process, so that validate + apply read it once;
    its rows are in files on disk, removed when it is dropped)."""
    key = (batch.pk, batch.sha256)
    if key in _CACHE and _CACHE[key][0].has_data and not _CACHE[key][0].workdir.is_dir():
        _forget()  # its rows were swept (the retention purge of work folders a day old): read the file again
    if key not in _CACHE:
        _forget()
        if not batch.file_path or not Path(batch.file_path).is_file():  # removed (dry run, retention purge)
            p = Parsed(file=batch.file_name, fatal=True, issues=[Issue(
                batch.file_name, "", None, "", "", gettext("上传的文件已不存在（试运行已结束或已按保存期限删除），请重新上传"),
                code="IMP_FILE_MISSING")])
        else:
            try:
                p = parse(batch.file_path, batch.file_name, jurisdiction(batch), progress=_progress(batch),
                          workroot=work_root())
            except (OSError, ValueError, UnicodeError) as exc:  # a damaged file: reported, not a server error
                p = Parsed(file=batch.file_name, fatal=True, issues=[
                    Issue(batch.file_name, "", None, "", "", f"无法读取文件：{exc}", code="IMP_UNREADABLE")])
        _CACHE[key] = (p, list(p.issues))
    p, base = _CACHE[key]
    p.issues = list(base)
    return p


def _forget() -> None:
    """Drop the kept parse (and its files on disk)."""
    for p, _base in _CACHE.values():
        p.close()
    _CACHE.clear()


def _record_errors(batch: ImportBatch, parsed: Parsed) -> None:
    batch.error_count = len(parsed.issues)
    batch.errors = [i.as_dict() for i in parsed.issues[:MAX_STORED_ERRORS]]
    batch.rows_total = parsed.rows_total
    batch.households_total = parsed.household_count
    batch.households_rejected = parsed.rejected_count()
    if parsed.issues and not parsed.fatal:
        batch.error_report_path = str(write_error_workbook(batch, parsed))
    else:
        batch.error_report_path = ""


def _check(batch: ImportBatch, parsed: Parsed, keys_only: bool = False) -> None:
    """Staging + the registry checks (the caller drops the staging tables). A validation against an empty
    registry stages nothing: both checks need a registry household (members belong to one)."""
    if parsed.fatal or not parsed.has_data:
        return
    if keys_only:
        if not Household.objects.exists():
            return
        A.stage_keys(parsed)
    else:
        A.stage(parsed)
    A.check_staged(parsed, jurisdiction(batch))


# The code lengths of the area levels, village first (core.scoping: 12, 9, 6, 4, 2).
AREA_LEVEL_LENGTHS = tuple(sorted(LEVEL_PREFIX_LENGTH.values(), reverse=True))


def covering_area(parsed: Parsed) -> str:
    """The smallest registered area (12/9/6/4/2-digit code) holding every household of the file ("" when the
    file spans provinces, has no data, or that area is not in the registry): the area of a batch staged
    without one (a command-line import of everything), so that the county's pages list it and the
    same-content check of ``refusal`` compares it with the county's own batches."""
    if parsed.fatal or not parsed.has_data:
        return ""
    import duckdb

    from xiaokang.areas.models import Area

    path = parsed.workdir / "households.parquet"
    if not path.exists():
        return ""
    with duckdb.connect() as con:
        low, high = con.execute(
            "SELECT min(household__area), max(household__area) FROM read_parquet(?) "
            "WHERE household__area IS NOT NULL AND household__area <> ''", [str(path)]).fetchone()
    if not low:
        return ""
    common = 0
    while common < min(len(low), len(high)) and low[common] == high[common]:
        common += 1
    for length in AREA_LEVEL_LENGTHS:
        if length <= common and Area.objects.filter(code=low[:length]).exists():
            return low[:length]
    return ""


def validate(batch: ImportBatch, *, registry_checks: bool = True) -> ImportBatch:
    """Read and check the file (nothing written to the registry). Status: validated, or failed when there
    are errors and the batch is not partial (or the errors are in the file's layout).

    ``registry_checks=False`` leaves out the checks against the registry (a household number of another
    area, a person already in another household: ``apply.check_staged``) for a caller that applies the batch
    at once — the command line, real run or dry run: ``apply`` runs those checks anyway, inside its
    transaction on the rows it writes, and reports them the same way (row, column, reason; all-or-nothing,
    or with ``--partial`` the household left out), so running them here too would stage the keys and
    read the registry twice. The web validates alone (the user reads the errors before pressing 导入) and
    keeps them."""
    with timing.recording() as rec:
        parsed = _parsed(batch)
        if registry_checks:
            with transaction.atomic():
                try:
                    _check(batch, parsed, keys_only=True)
                finally:
                    A.drop_staging()
        with timing.step("validate: record errors"):
            _record_errors(batch, parsed)
    batch.timings = rec.seconds
    batch.validated_at = timezone.now()
    if not batch.area_code:
        batch.area_code = covering_area(parsed)
    ok = not parsed.issues or (batch.partial and not parsed.fatal)
    batch.message = "" if ok else errors_message(batch, len(parsed.issues))
    if ok and not batch.reimport and _same_content_applied(batch):
        # refused now, not when 导入 is pressed: the batch ends (failed, with the reason), so it offers no
        # import button and its stored file falls under the retention purge like any ended batch
        ok, batch.message = False, same_content_message(batch)
    if batch.status in (BatchStatus.UPLOADED, BatchStatus.VALIDATED):
        batch.status = BatchStatus.VALIDATED if ok else BatchStatus.FAILED
    if batch.status == BatchStatus.FAILED or batch.dry_run:
        batch.ended_at = batch.validated_at  # nothing more can happen to it: the retention period starts
    batch.save()
    return batch


def refusal(batch: ImportBatch, *, dry_run_ok: bool = False) -> str:
    """Why ``batch`` cannot be applied now ("" when it can): a dry run (unless ``dry_run_ok``: the dry run
    itself), already applied or being applied, failed validation, or the same content already applied in
    the area (unless ``reimport``)."""
    if batch.dry_run and not dry_run_ok:
        return f"批次 {batch.pk}（{batch.file_name}）是试运行，只用于校验和统计，不能导入；请重新上传该文件"
    if batch.status in (BatchStatus.APPLIED, BatchStatus.APPLYING):
        return f"批次 {batch.pk}（{batch.file_name}）已导入或正在导入，不能重复导入"
    if not batch.reimport and _same_content_applied(batch):
        return same_content_message(batch)
    if batch.status == BatchStatus.FAILED and retention.is_abandoned(batch):
        return batch.message  # ended by the retention purge: 超过保存期限……未导入，批次已作废……请重新上传
    if batch.status == BatchStatus.FAILED:
        return f"批次 {batch.pk}（{batch.file_name}）校验未通过，请修改文件后重新上传"
    return ""


def errors_message(batch: ImportBatch, count: int | None = None) -> str:
    """The message of a batch refused for its errors (``count``, default the batch's error count)."""
    return f"发现 {batch.error_count if count is None else count} 处错误，未导入任何数据"


def same_content_message(batch: ImportBatch) -> str:
    """Why a file of content already applied is refused, with the way to import it anyway for the channel
    it came through (the upload form's checkbox, or ``--reimport`` on the command line)."""
    how = ("加 --reimport 参数重新运行" if batch.channel == "command"
           else "重新上传并勾选“允许重复导入相同内容的文件”")
    return f"相同内容的文件（{batch.file_name}）已在本区域导入过；再次导入不会有任何变化。如确需重新导入，请{how}"


def _same_content_applied(batch: ImportBatch) -> bool:
    """Whether a file of the same content has been applied in this batch's area, or applied in full (no
    household left out) in an area holding this one or held by it: every row of such a file lies in the
    smaller of the two areas (or its validation would have failed), so importing it again changes nothing."""
    code = batch.area_code or ""
    same = ImportBatch.objects.filter(sha256=batch.sha256, status=BatchStatus.APPLIED).exclude(pk=batch.pk)
    if same.filter(area_code=code).exists():
        return True
    covering = [code[:n] for n in (0, *AREA_LEVEL_LENGTHS) if n < len(code)]
    full = same.filter(households_rejected=0)
    return full.filter(area_code__in=covering).exists() or full.filter(area_code__startswith=code).exists()


def claim(batch: ImportBatch) -> None:
    """Move ``batch`` to "applying" with one conditional UPDATE (uploaded/validated → applying), after the
    checks of ``refusal``: of two concurrent claims exactly one succeeds. Raises ImportRefused."""
    batch.refresh_from_db()
    reason = refusal(batch)
    if reason:
        raise ImportRefused(reason)
    claimed = ImportBatch.objects.filter(
        pk=batch.pk, status__in=[BatchStatus.UPLOADED, BatchStatus.VALIDATED]).update(status=BatchStatus.APPLYING)
    if claimed != 1:
        raise ImportRefused(f"批次 {batch.pk}（{batch.file_name}）已导入或正在导入，不能重复导入")
    batch.status = BatchStatus.APPLYING


def apply(batch: ImportBatch, user=None, *, dry_run: bool = False, claimed: bool = False) -> ImportBatch:
    """Apply a batch in one transaction (see the module docstring). ``dry_run``: compute everything, then
    roll back (the batch keeps its status; the counts show what would change). ``claimed``: the caller
    has already moved the batch to "applying" with ``claim`` (the background job). Raises ImportRefused.
    Into an empty registry (PostgreSQL, at least ``apply.BULK_MIN_ROWS`` rows) the rows are copied straight
    into the registry tables, which stay locked ACCESS EXCLUSIVE until the commit (``apply.bulk_begin``);
    otherwise they are staged, checked against the registry and merged. The seconds of each step are left
    in ``batch.timings`` (``timing``)."""
    with timing.recording() as rec:
        batch = _apply(batch, user, dry_run=dry_run, claimed=claimed)
    batch.timings = rec.seconds
    return batch


def _apply(batch: ImportBatch, user, *, dry_run: bool, claimed: bool) -> ImportBatch:
    batch.refresh_from_db()
    if claimed:
        if batch.status != BatchStatus.APPLYING:
            raise ImportRefused(f"批次 {batch.pk}（{batch.file_name}）不在“导入中”状态，未导入")
    elif dry_run:
        reason = refusal(batch, dry_run_ok=True)
        if reason:
            raise ImportRefused(reason)
    else:
        claim(batch)
    user = user or batch.uploaded_by
    reason = f"导入批次 {batch.pk}：{batch.file_name}"
    result = None
    failed = False
    try:
        parsed = _parsed(batch)
        with transaction.atomic():
            try:
                bulk = None
                if not dry_run and not parsed.fatal and (batch.partial or not parsed.issues):
                    bulk = A.bulk_begin(parsed)  # an empty registry: copied straight in (see apply.bulk_begin)
                if bulk is None:
                    _check(batch, parsed)
                if parsed.fatal or (parsed.issues and not batch.partial):
                    failed = True
                    raise _Rollback
                if bulk is not None:
                    result = A.load_bulk(parsed, bulk, parsed.bad_households(), reason=reason, user=user)
                else:
                    if parsed.issues:
                        A.remove_households(parsed.bad_households())
                    result = A.apply_staged(reason=reason, user=user)
                bump(REGISTRY)  # bulk writes send no signals: cached summaries are renewed after the commit
            finally:
                A.drop_staging()
            if dry_run:
                raise _Rollback
            _counts(batch, result)
            batch.status = BatchStatus.APPLIED
            batch.applied_at = batch.ended_at = timezone.now()
            batch.rows_done = parsed.rows_total
            _record_errors(batch, parsed)
            batch.message = _summary(batch)
            batch.save()
            t_commit = time.perf_counter()
        timing.add("commit", time.perf_counter() - t_commit)
    except _Rollback:
        pass
    except IntegrityError as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED, message=f"导入失败：{exc}",
                                                       ended_at=timezone.now())
        raise ImportRefused(f"批次 {batch.pk} 导入失败（数据库约束）：{exc}") from exc
    except Exception:
        ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.APPLYING).update(status=BatchStatus.VALIDATED)
        raise
    if dry_run or failed:
        _record_errors(batch, parsed)
        if result is not None:
            _counts(batch, result)
        if failed and (not dry_run or batch.dry_run):  # a dry-run batch fails too (its registry checks run here)
            batch.status = BatchStatus.FAILED
            batch.message = errors_message(batch, len(parsed.issues))
        if batch.status == BatchStatus.FAILED or batch.dry_run:  # ended; not the web's preview of a waiting batch
            batch.ended_at = batch.ended_at or timezone.now()
        batch.save()
    if batch.status == BatchStatus.APPLIED and result is not None and (
            result.households.new + result.members.new >= ANALYZE_AFTER_ROWS):
        with timing.step("analyze"):
            # fresh planner statistics, the history tables' too (a household page reads its history)
            analyze("registry_household", "registry_member", "registry_income",
                    *history_tables(Household, Member, Income))
    if batch.status == BatchStatus.APPLIED:
        _forget()  # the parsed file is not needed any more
    batch.result = result
    return batch


def _counts(batch: ImportBatch, result: A.ApplyResult) -> None:
    batch.households_new = result.households.new
    batch.households_changed = result.households.changed
    batch.households_unchanged = result.households.unchanged
    batch.members_new = result.members.new
    batch.members_changed = result.members.changed
    batch.members_unchanged = result.members.unchanged
    batch.incomes_new = result.incomes.new
    batch.incomes_changed = result.incomes.changed
    batch.notes = [f"户 {m['household']} 的成员 {m['name']} 未在文件中列出（未删除，请核实是否已迁出）"
                   for m in result.missing_members[:MAX_STORED_ERRORS]]


def _summary(batch: ImportBatch) -> str:
    return (f"新增 {batch.households_new} 户、修改 {batch.households_changed} 户、未变 {batch.households_unchanged} 户；"
            f"新增成员 {batch.members_new} 人、修改 {batch.members_changed} 人；"
            f"新增收入记录 {batch.incomes_new} 条、修改 {batch.incomes_changed} 条；错误 {batch.error_count} 处")


def write_error_workbook(batch: ImportBatch, parsed: Parsed) -> Path:
    """The rows not imported (every row of a rejected household, and rows with errors) with a 错误原因
    column, sheet by sheet, as an .xlsx next to the uploaded file."""
    from openpyxl import Workbook

    reasons: dict[tuple[str, int], list[str]] = {}
    for i in parsed.issues:
        if i.row:
            text = (f"{i.column}：" if i.column else "") + i.reason
            reasons.setdefault((i.sheet, i.row), []).append(text)
    bad_rows = parsed.bad_rows()
    wb = Workbook(write_only=True)
    sheets, _issues = read_file(batch.file_path, batch.file_name)
    for sheet in sheets:
        ws = None
        for n, cells in sheet.rows():
            if (sheet.name, n) not in bad_rows:
                continue
            if ws is None:
                ws = wb.create_sheet(title=sheet.name[:31])
                ws.append(list(sheet.raw_headers) + [L.ERROR_COLUMN])
            width = len(sheet.raw_headers)
            row = (list(cells) + [None] * width)[:width]
            ws.append(row + ["；".join(reasons.get((sheet.name, n), ["同一户的其他行有错误，整户未导入"]))])
    if not wb.worksheets:
        ws = wb.create_sheet(title="错误")
        ws.append(["文件", "工作表", "行", "列", "值", "错误原因"])
        for i in parsed.issues:
            ws.append([i.file, i.sheet, i.row, i.column, i.value, i.reason])
    path = Path(batch.file_path).with_name(f"{Path(batch.file_path).stem}-错误清单-{batch.pk}.xlsx")
    wb.save(path)
    os.chmod(path, 0o600)  # full ID numbers: readable by the server's account only, like the stored upload
    return path


def error_report(batch: ImportBatch) -> Path | None:
    """The error workbook of the batch, if any."""
    return Path(batch.error_report_path) if batch.error_report_path else None
