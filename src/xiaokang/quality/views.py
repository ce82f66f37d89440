"""Data-quality pages (疑点数据): findings per area with filters and counts, confirm-correct, export, run.

Every read goes through ``ScopedViewMixin.scoped`` (``Finding.objects.for_user``); a finding outside the
user's area is 404. Statisticians and donors see counts only, never person-level rows (also in exports).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from xiaokang.core.forms import valid_filters
from xiaokang.core.scoping import area_prefix
from xiaokang.core.views import ScopedViewMixin
from xiaokang.policy.params import ParameterError
from xiaokang.accounts.models import can_view_full_id
from xiaokang.registry.views import may_see_person_data

from . import selectors
from .forms import ConfirmForm, FindingFilterForm, ui_lang
from .models import Finding
from .services import can_confirm, confirm_finding, default_year, run_checks

PAGE_SIZE = 50


class _FindingsMixin(ScopedViewMixin):
    def filtered(self):
        """``(form, data, findings, prefix)``: the user's findings narrowed by the filter form."""
        query = self.request.GET.copy()
        query.setdefault("status", "open")  # 待处理 unless the user picks another status (or 全部: "")
        form = FindingFilterForm(query)
        data = valid_filters(form)
        qs = self.scoped(Finding)
        own = getattr(self.request.user, "area_id", None) or ""
        prefix = data.get("area") or own
        if data.get("area"):
            qs = qs.within(data["area"])
        return form, data, qs, prefix

    @staticmethod
    def narrowed(qs, data):
        if data.get("rule"):
            qs = qs.filter(rule_code=data["rule"])
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        return qs


class FindingListView(_FindingsMixin, TemplateView):
    template_name = "quality/findings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form, data, qs, prefix = self.filtered()
        by_status = qs.filter(rule_code=data["rule"]) if data.get("rule") else qs
        by_rule_qs = qs.filter(status=data["status"]) if data.get("status") else qs
        person = may_see_person_data(self.request.user)
        rows, page = [], None
        if person:
            listed = self.narrowed(qs, data).order_by("area_code", "household_id", "rule_code", "member_key")
            page = Paginator(listed, PAGE_SIZE).get_page(self.request.GET.get("page"))
            ids = [f.pk for f in page.object_list]
            rows = list(selectors.finding_rows(Finding.objects.filter(pk__in=ids).order_by(
                "area_code", "household_id", "rule_code", "member_key"), ui_lang(), prefix,
                mask_dates=not can_view_full_id(self.request.user)))
        params = self.request.GET.copy()
        params.setdefault("status", "open")
        params.pop("page", None)
        context.update(
            form=form, rows=rows, page=page, person=person, querystring=params.urlencode(),
            by_rule=selectors.counts_by_rule(by_rule_qs, ui_lang()),
            by_area=selectors.counts_by_area(self.narrowed(qs, data), prefix),
            totals=selectors.summary(by_status),
            can_confirm=can_confirm(self.request.user), confirm_form=ConfirmForm(),
            can_run=can_confirm(self.request.user), default_year=default_year(),
        )
        return context


class ConfirmView(ScopedViewMixin, View):
    """POST: mark one finding 核实无误 with a reason (administrator roles of the finding's area)."""

    def post(self, request, pk):
        finding = self.get_scoped_object(Finding, pk=pk)
        if not can_confirm(request.user, finding):
            raise PermissionDenied(_("只有本辖区的管理员可以核实疑点"))
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("未核实：请填写核实无误的理由"))
        else:
            try:
                confirm_finding(finding, user=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("已标记为核实无误"))
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
        back = request.POST.get("next") or ""
        if not back.startswith("/quality/"):
            back = reverse("quality_findings")
        return HttpResponseRedirect(back)


class RunView(ScopedViewMixin, View):
    """POST: run the checks over the user's area (or a sub-area) for a year (administrator roles)."""

    def post(self, request):
        if not can_confirm(request.user):
            raise PermissionDenied(_("只有管理员可以运行数据清洗检查"))
        own = getattr(request.user, "area_id", None) or ""
        code = (request.POST.get("area") or own).strip()
        try:
            prefix = area_prefix(code or None)
            raw = (request.POST.get("year") or "").strip()
            if raw and not (raw.isdigit() and len(raw) == 4):
                raise ValueError(_("年度应为 4 位数字（收到 %(v)s）") % {"v": raw[:20]})
            year = int(raw or default_year())
            run = run_checks(prefix or None, year, user=request.user)
        except (ValueError, ParameterError) as exc:
            messages.error(request, str(exc))
        else:
            if run.recorded:
                messages.success(request, _("%(year)s 年检查完成：发现 %(found)s 条，新增 %(new)s 条，已修正 %(fixed)s 条") % {
                    "year": run.year, "found": run.found, "new": run.new, "fixed": run.fixed})
            else:
                messages.info(request, _("%(year)s 年检查完成：发现 %(found)s 条（早于最近的收入年度：只统计，疑点记录及其状态未改变）")
                              % {"year": run.year, "found": run.found})
        return HttpResponseRedirect(reverse("quality_findings"))


class ExportView(_FindingsMixin, View):
    """GET: the filtered findings as CSV (UTF-8 with BOM) or xlsx; counts only for statisticians/donors; logged
    in the export log (``core.tables``)."""

    def get(self, request):
        from xiaokang.core import tables

        form, data, qs, prefix = self.filtered()
        fmt = request.GET.get("format", "xlsx")
        if (refused := tables.bad_format(fmt)) is not None:
            return refused
        if may_see_person_data(request.user):
            rows = list(selectors.finding_rows(self.narrowed(qs, data).order_by(
                "area_code", "household_id", "rule_code", "member_key"), ui_lang(), prefix,
                mask_dates=not can_view_full_id(request.user)))
            columns, name, kind = selectors.EXPORT_COLUMNS, f"疑点数据_{prefix or 'all'}", "quality_findings"
        else:
            rows = selectors.counts_by_area_and_rule(self.narrowed(qs, data), prefix, ui_lang())
            columns, name, kind = selectors.COUNT_COLUMNS, f"疑点统计_{prefix or 'all'}", "quality_counts"
        return tables.download(request, rows, columns, name, fmt, kind=kind, filters=data, area_code=prefix)


finding_list = FindingListView.as_view()
finding_confirm = ConfirmView.as_view()
finding_export = ExportView.as_view()
quality_run = RunView.as_view()
