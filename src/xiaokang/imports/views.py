"""Import and export pages (导入导出): upload, the batch list and detail with apply, the export download.

- ``/imports/`` batch list (导入批次), scoped by the batch's area (``ImportBatch.objects.for_user``);
- ``/imports/upload/`` upload form: ``services.stage`` then the validation as a background job
  (``jobs.start_validation``; roles ``UPLOAD_ROLES``: county/town/village administrators and the system
  administrator; others 403). The batch carries the uploader's area, so a row for a household outside it
  is an error (``validate``);
- ``/imports/batches/<id>/`` the batch: status, the running job's step and time (the page reloads itself
  every few seconds while a job runs), counts, errors (file, sheet, row, column, value, reason) and the
  导入 button (POST ``/apply/``: ``jobs.start_apply`` claims the batch, then applies it in the background;
  a second POST or a refresh is refused with the message, HTTP 409 — the batch moves with a conditional
  UPDATE, so it can never apply twice); POST ``/validate/`` re-runs a validation whose job was
  interrupted (the batch still "uploaded"; refused, 409, when its stored file is gone);
- ``/imports/batches/<id>/errors/`` the error workbook download (404 with the batch page and the message
  已按保存期限删除 once the retention purge removed it, ``imports.retention``);
- ``/imports/export/`` the export form (area, 脱贫属性, year, xlsx/CSV, full ID numbers for
  ``FULL_ID_ROLES``); the download is a POST: CSV streams (``StreamingHttpResponse``), xlsx is written to
  a temporary file first (``FileResponse``). Statisticians and donors get 403. Every export is logged.

Every page reads through ``ScopedViewMixin`` (``scoped`` / ``get_scoped_object``): a batch outside the
user's area is 404.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from xiaokang.accounts.models import IMPORT_ROLES, can_view_full_id
from xiaokang.core.logmask import mask_text
from xiaokang.core.scoping import area_prefix
from xiaokang.core.views import ScopedViewMixin
from xiaokang.registry import codes
from xiaokang.registry.idnumber import mask_id_number
from xiaokang.registry.models import Income

from . import export as E
from . import layout as L
from . import jobs, retention, services
from .models import BatchStatus, ImportBatch

JOB_LABELS = {"validating": gettext_lazy("正在校验文件"), "applying": gettext_lazy("正在写入数据库")}
REFRESH_SECONDS = 3
UPLOAD_ROLES = IMPORT_ROLES
PAGE_SIZE = 30
ERRORS_SHOWN = 500
ID_HEADERS = {L.normalize_header(h) for h in (L.BY_KEY[L.MEMBER, "id_number"].header,
                                               *L.BY_KEY[L.MEMBER, "id_number"].aliases)}


def can_upload(user) -> bool:
    """Import pages (upload, batches, apply): county/town/village administrators, the system administrator
    and superusers."""
    return user.is_authenticated and (user.is_superuser or user.role in UPLOAD_ROLES)


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（.xlsx / .xls / .csv）"))
    partial = forms.BooleanField(label=gettext_lazy("部分导入"), required=False,
                                 help_text=gettext_lazy("导入无误的户，其余写入错误清单"))
    reimport = forms.BooleanField(label=gettext_lazy("允许重复导入相同内容的文件"), required=False)

    def clean_file(self):
        f = self.cleaned_data["file"]
        suffix = ("." + f.name.rsplit(".", 1)[-1].lower()) if "." in f.name else ""
        if suffix not in {".xlsx", ".xlsm", ".xls", ".csv", ".txt"}:
            raise forms.ValidationError(_("只支持 .xlsx、.xls 和 .csv 文件"))
        return f


class ExportForm(forms.Form):
    area = forms.CharField(label=gettext_lazy("区划代码"), required=False, max_length=12,
                           help_text=gettext_lazy("2/4/6/9/12 位，留空为整个管辖区域"))
    status = forms.ChoiceField(label=gettext_lazy("脱贫属性"), required=False,
                               choices=[("", gettext_lazy("全部"))] + list(codes.PovertyStatus.choices))
    year = forms.TypedChoiceField(label=gettext_lazy("收入年度"), required=False, coerce=int, empty_value=None)
    fmt = forms.ChoiceField(label=gettext_lazy("格式"), choices=[("xlsx", "Excel (.xlsx)"),
                                                                ("csv", gettext_lazy("CSV（UTF-8，带 BOM）"))],
                            initial="xlsx")
    full_ids = forms.BooleanField(label=gettext_lazy("导出完整证件号码和电话（留痕）"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # the income years recorded in the user's area (one query), newest first
        years = (Income.objects.for_user(user).order_by("-year").values_list("year", flat=True).distinct())
        self.fields["year"].choices = [("", _("最近一年"))] + [(str(y), str(y)) for y in years]
        if not E.may_export_full_ids(user):
            del self.fields["full_ids"]

    def clean_area(self):
        code = self.cleaned_data["area"].strip()
        if not code:
            return ""
        try:
            area_prefix(code)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        own = getattr(self.user, "area_id", None) or ""
        if not self.user.is_superuser and not (code.startswith(own) or own.startswith(code)):
            raise forms.ValidationError(_("该区域不在您的管辖范围内"))
        return code


class PageMixin(ScopedViewMixin):
    """Scoped page with the import/export tabs (``can_upload`` decides whether the import tabs show)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_upload"] = can_upload(self.request.user)
        return context


class UploadRoleMixin(PageMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_upload(request.user):
            raise PermissionDenied(_("您的角色不能导入数据"))
        return super().dispatch(request, *args, **kwargs)


class BatchListView(UploadRoleMixin, TemplateView):
    template_name = "imports/batch_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(self.scoped(ImportBatch).order_by("-created_at", "-id"), PAGE_SIZE).get_page(
            self.request.GET.get("page"))
        context.update(page=page, batches=page.object_list)
        return context


class UploadView(UploadRoleMixin, TemplateView):
    template_name = "imports/upload.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=UploadForm()))

    def post(self, request, *args, **kwargs):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        f = form.cleaned_data["file"]
        try:
            batch = services.stage(f, request.user, form.cleaned_data["partial"], file_name=f.name, channel="web",
                                   reimport=form.cleaned_data["reimport"])
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        jobs.start_validation(batch)
        return redirect("import_batch_detail", pk=batch.pk)


def _shown_errors(batch) -> list[dict]:
    """The stored errors for the page, ID and mobile numbers masked for every role (a trial found full numbers
    on the page, unlogged; the full ones are in the error workbook, whose download is logged)."""
    out = []
    for e in (batch.errors or [])[:ERRORS_SHOWN]:
        e = dict(e)
        for key in ("value", "reason"):
            if isinstance(e.get(key), str):
                e[key] = mask_text(e[key])
        if L.normalize_header(e.get("column") or "") in ID_HEADERS:
            e["value"] = mask_id_number(e.get("value") or "")  # also a malformed number (not 18 characters)
        out.append(e)
    return out


class BatchDetailView(UploadRoleMixin, TemplateView):
    template_name = "imports/batch_detail.html"

    def get_batch(self):
        batch = self.get_scoped_object(ImportBatch, pk=self.kwargs["pk"])
        jobs.refresh(batch)  # a job whose process has gone is closed (nothing written)
        return batch

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = kwargs.get("batch") or self.get_batch()
        running = bool(batch.job_phase)
        file_present = retention.files_present(batch)
        elapsed = None
        if running and batch.job_started_at:
            elapsed = max(0, int((timezone.now() - batch.job_started_at).total_seconds()))
        context.update(batch=batch, errors=_shown_errors(batch),
                       more_errors=max(0, batch.error_count - min(len(batch.errors or []), ERRORS_SHOWN)),
                       can_apply=batch.status == BatchStatus.VALIDATED and not batch.dry_run and not running,
                       can_revalidate=batch.status == BatchStatus.UPLOADED and not running and file_present
                       and not batch.dry_run,
                       file_missing=batch.status == BatchStatus.UPLOADED and not running and not file_present
                       and not batch.dry_run,  # a dry run's page says its upload went when it ended
                       job_running=running, job_label=JOB_LABELS.get(batch.job_phase, batch.job_phase),
                       job_elapsed=elapsed, refresh_seconds=REFRESH_SECONDS if running else None,
                       statuses=BatchStatus, files_kept_until=retention.files_kept_until(batch),
                       waiting=retention.waiting_since(batch) is not None)
        return context

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(batch=self.get_batch()))


class BatchApplyView(BatchDetailView):
    """POST only: apply the batch. Refused (409, message on the page) when already applied, being applied,
    failed, or the same content was applied before."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        batch = self.get_batch()
        try:
            jobs.start_apply(batch, request.user)
        except services.ImportRefused as exc:
            batch.refresh_from_db()
            return self.render_to_response(self.get_context_data(batch=batch, refused=str(exc)), status=409)
        batch.refresh_from_db()
        if batch.status == BatchStatus.APPLIED:
            messages.success(request, batch.message or _("已导入"))
        elif batch.status == BatchStatus.APPLYING:
            messages.success(request, _("已开始导入，本页会自动刷新显示进度"))
        else:
            messages.error(request, batch.message or _("导入未完成"))
        return redirect("import_batch_detail", pk=batch.pk)


class BatchRevalidateView(BatchDetailView):
    """POST only: validate again a batch whose validation job was interrupted (status still "uploaded",
    no job running); 409 otherwise."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        batch = self.get_batch()
        if retention.is_abandoned(batch):
            return self.render_to_response(self.get_context_data(batch=batch, refused=batch.message), status=409)
        if batch.status != BatchStatus.UPLOADED or batch.job_phase:
            return self.render_to_response(
                self.get_context_data(batch=batch, refused=_("该批次已校验或正在校验，无需重新校验")), status=409)
        if batch.dry_run:  # a command-line dry run broken off: nothing resumes it (its file goes with the purge)
            return self.render_to_response(self.get_context_data(
                batch=batch, refused=_("试运行批次中断后不能重新校验，请在命令行重新运行试运行")), status=409)
        if not retention.files_present(batch):
            return self.render_to_response(
                self.get_context_data(batch=batch, refused=_("上传的文件已不存在，不能重新校验，请重新上传")), status=409)
        jobs.start_validation(batch)
        return redirect("import_batch_detail", pk=batch.pk)


class ErrorReportView(BatchDetailView):
    """The error workbook download. 404 when there is none; once the retention purge removed it, the 404
    is the batch page with the message 已按保存期限删除."""

    def get(self, request, *args, **kwargs):
        batch = self.get_batch()
        path = services.error_report(batch)
        if (path is None or not path.exists()) and batch.files_removed_at:
            return self.render_to_response(
                self.get_context_data(batch=batch, refused=_("该批次的错误清单已按保存期限删除")), status=404)
        if path is None or not path.exists():
            raise Http404(_("该批次没有错误清单"))
        user = request.user
        # the rows of the file with full ID numbers: as they were uploaded to the uploader and to the roles
        # that may see full numbers, masked to the others (a system administrator); each download is logged
        full = (batch.uploaded_by_id is not None and batch.uploaded_by_id == user.pk) or can_view_full_id(user)
        source = open(path, "rb") if full else _masked_workbook(path)
        E.log_export(user=user, area_code=batch.area_code, filters={"error_report": batch.pk, "file": batch.file_name},
                     rows=batch.error_count, full_ids=full, channel="web")
        response = FileResponse(source, as_attachment=True,
                                filename=f"{batch.file_name.rsplit('.', 1)[0]}-错误清单.xlsx")
        response["Cache-Control"] = "no-store"
        return response


def _masked_workbook(path):
    """A temporary copy of the error workbook at ``path`` with ID and mobile numbers masked in every cell and
    birth dates as their year (an open file, removed from disk already: it lives until the response is sent)."""
    import tempfile

    from openpyxl import load_workbook

    import datetime as dt

    wb = load_workbook(path)
    for ws in wb.worksheets:
        # a birth date beside a masked ID number gives the number back: its year only
        # (and an entry date, which for a newborn is the birth date)
        births = {c.column for c in ws[1] if isinstance(c.value, str)
                  and ("出生" in c.value or ("日期" in c.value and ("迁入" in c.value or "新增" in c.value)))}
        ids = {c.column for c in ws[1] if isinstance(c.value, str) and ("证件号码" in c.value or "身份证" in c.value)}
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if cell.column in ids and cell.value not in (None, ""):  # any length: an old 15-digit one too
                    cell.value = mask_id_number(str(cell.value))
                elif cell.column in births and cell.value not in (None, ""):
                    year = cell.value.year if isinstance(cell.value, (dt.date, dt.datetime)) else str(cell.value)[:4]
                    cell.value = f"{year}年"
                elif isinstance(cell.value, str):
                    cell.value = mask_text(cell.value)
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    tmp.close()
    wb.save(tmp.name)
    handle = open(tmp.name, "rb")
    Path(tmp.name).unlink()
    return handle


class ExportView(PageMixin, TemplateView):
    """The export form (GET) and the download (POST)."""

    template_name = "imports/export.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not E.can_export(request.user):
            raise PermissionDenied(_("您的角色不能导出个人信息（统计员、爱心人士只能查看汇总数据）"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=ExportForm(user=request.user)))

    def post(self, request, *args, **kwargs):
        form = ExportForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        d = form.cleaned_data
        try:
            exp = E.prepare(user=request.user, area=d["area"], status=d["status"], year=d["year"], fmt=d["fmt"],
                            full_ids=d.get("full_ids", False), channel="web")
        except E.ExportError as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        name = E.export_filename(exp.fmt, d["area"] or exp.area_code, exp.source.year)
        if exp.fmt == "csv":
            response = StreamingHttpResponse(exp.stream_csv(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = _attachment(name)
        else:
            response = FileResponse(exp.to_temporary_xlsx(), as_attachment=True, filename=name,
                                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Cache-Control"] = "no-store"
        return response


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"export.{name.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(name)}"


class TemplateDownloadView(UploadRoleMixin, View):
    """The empty import workbook (导入模板): the same file as ``xiaokang template`` (sheet 导入 with the
    two-row header, sheet 说明 with every column's type and codes); no personal data."""

    def get(self, request):
        import tempfile

        tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
        tmp.close()
        path = L.write_template(tmp.name)
        response = FileResponse(open(path, "rb"), as_attachment=True, filename="贫困户信息导入模板.xlsx")
        Path(path).unlink()  # the open file stays readable until the response is sent (POSIX)
        return response


batch_list = BatchListView.as_view()
template_download = TemplateDownloadView.as_view()
upload = UploadView.as_view()
batch_detail = BatchDetailView.as_view()
batch_apply = BatchApplyView.as_view()
batch_revalidate = BatchRevalidateView.as_view()
error_report = ErrorReportView.as_view()
export = ExportView.as_view()
