"""Table downloads (导出台账) of the pages' lists: one .xlsx (openpyxl, write-only) or .csv (UTF-8 with BOM, so
Excel and WPS on Chinese Windows read it) response, logged in the export log (导出记录)."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext as _

FORMATS = ("xlsx", "csv")


def bad_format(fmt: str):
    """The 400 for a format other than xlsx/csv (``None`` when ``fmt`` is one of them)."""
    if fmt in FORMATS:
        return None
    return HttpResponseBadRequest(_("不支持的导出格式：%(fmt)s（可选 xlsx 或 csv）") % {"fmt": fmt[:20]},
                                  content_type="text/plain; charset=utf-8")


def bad_filters(form):
    """The 400 for filters that do not validate (field: reason; …) — an export never falls back to defaults."""
    labels = {name: field.label for name, field in form.fields.items()}
    text = _("；").join(f"{labels.get(name, name)}{_('：')}{_('，').join(errors)}" for name, errors in form.errors.items())
    return HttpResponseBadRequest(_("未导出：%(errors)s") % {"errors": text}, content_type="text/plain; charset=utf-8")


def download(request, rows: list[dict], columns, name: str, fmt: str, *, kind: str, filters: dict,
             area_code: str = "") -> HttpResponse:
    """``rows`` (dicts of shown values) under ``columns`` ((key, header) pairs) as ``<name>_<date>.<fmt>``
    (the sheet titled ``name``, cut to Excel's 31 characters); the export is logged (``imports.ExportLog``:
    user, area, ``{"export": kind, **filters}``, rows, channel web)."""
    from xiaokang.imports.models import ExportLog
    from xiaokang.quality.selectors import csv_bytes, write_xlsx

    if fmt == "csv":
        body, ctype = csv_bytes(rows, columns), "text/csv; charset=utf-8"
    else:
        buf = io.BytesIO()
        write_xlsx(rows, buf, columns, title=name[:31])
        body, ctype = buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    user = request.user
    ExportLog.objects.create(user=user, username=user.get_username(),
                             area_code=area_code or getattr(user, "area_id", None) or "",
                             filters={"export": kind, **{k: str(v) for k, v in filters.items()
                                                         if v not in ("", None, False)}},
                             rows=len(rows), full_ids=False, channel="web")
    response = HttpResponse(body, content_type=ctype)
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}_{stamp}.{fmt}"
    response["Cache-Control"] = "no-store"
    return response
