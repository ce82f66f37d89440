"""Monitoring pages (防止返贫监测): monitoring objects, the warning inbox, the case page (identification steps,
measures, income checks, risk elimination) and the consolidation-class counts.

Every read goes through ``ScopedViewMixin`` (``scoped`` / ``get_scoped_object`` = ``for_user``): an object
outside the user's area is 404. Writes call ``monitoring.services``; a refused workflow action is 409
(WorkflowConflict) or 403 (StepNotAllowed) through ``workflow.views.workflow_response``; bad input is 400.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from xiaokang.core.forms import HtmlDateInput
from xiaokang.accounts.models import can_edit_registry
from xiaokang.areas.models import Area
from xiaokang.core.money import format_yuan
from xiaokang.policy.params import ParameterError
from xiaokang.policy.rules.monitoring import CLASSES, monitoring_range
from xiaokang.policy.services import current_parameters
from xiaokang.registry.models import Household
from xiaokang.core.views import ScopedViewMixin
from xiaokang.registry.views import PersonDataMixin, _refused, error_text, field_errors_text
from xiaokang.workflow import engine as wf
from xiaokang.workflow.views import workflow_response

from . import services
from .models import (
    CaseMeasure, CaseStatus, Category, Channel, ConsolidationClass, EarlyWarning, EliminationKind, HouseholdEvent,
    WARNING_KIND_LABELS, IncomeCheck, MonitoringCase, RiskType, WarningStatus,
)

PAGE_SIZE = 50
DATE = HtmlDateInput()


def _blank(choices):
    return [("", gettext_lazy("全部"))] + list(choices)


class CaseFilterForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("监测对象类别"), choices=_blank(Category.choices), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=_blank(CaseStatus.choices), required=False)
    risk = forms.ChoiceField(label=gettext_lazy("风险类型"), choices=_blank(RiskType.choices), required=False)


class WarningFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=_blank(WarningStatus.choices), required=False,
                               initial=WarningStatus.NEW)
    kind = forms.ChoiceField(label=gettext_lazy("预警类型"), choices=_blank(WARNING_KIND_LABELS.items()),
                             required=False)
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=2000, max_value=2100)


class VerifyForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("监测对象类别"), choices=Category.choices, required=False)
    risk_types = forms.MultipleChoiceField(label=gettext_lazy("风险类型（最多 5 项）"), choices=RiskType.choices,
                                           required=False)
    channel = forms.ChoiceField(label=gettext_lazy("发现渠道"), choices=Channel.choices, initial=Channel.SECTOR)
    on = forms.DateField(label=gettext_lazy("核实日期"), required=False, widget=DATE)
    comment = forms.CharField(label=gettext_lazy("核实意见"), required=False)


class DismissForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("排除理由"), max_length=300)


class StepForm(forms.Form):
    process = forms.ChoiceField(choices=[(services.MONITORING_CASE, services.MONITORING_CASE),
                                         (services.RISK_ELIMINATION, services.RISK_ELIMINATION)])
    step = forms.CharField(max_length=40)
    outcome = forms.ChoiceField(label=gettext_lazy("结果"), choices=[("approved", gettext_lazy("通过")),
                                                                    ("rejected", gettext_lazy("不通过"))])
    on = forms.DateField(label=gettext_lazy("办理日期"), required=False, widget=DATE)
    comment = forms.CharField(label=gettext_lazy("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MeasureForm(forms.ModelForm):
    class Meta:
        model = CaseMeasure
        fields = ["kind", "description", "started_on"]
        widgets = {"started_on": DATE}


class IncomeCheckForm(forms.ModelForm):
    class Meta:
        model = IncomeCheck
        fields = ["checked_on", "per_capita_income", "note"]
        widgets = {"checked_on": DATE}


class EliminationForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("风险消除方式"), choices=EliminationKind.choices)
    spending_resolved = forms.BooleanField(label=gettext_lazy("刚性支出（医疗、教育等）已稳定解决"), required=False)
    guarantees_secure = forms.BooleanField(label=gettext_lazy("两不愁三保障已巩固"), required=False)
    water_secure = forms.BooleanField(label=gettext_lazy("饮水安全已巩固"), required=False)
    on = forms.DateField(label=gettext_lazy("申请日期"), required=False, widget=DATE)
    comment = forms.CharField(label=gettext_lazy("核实意见"), required=False)


def _bad_request(request, message, back=None):
    return _refused(request, message, 400, back)


def _validation_message(exc: ValidationError) -> str:
    return error_text(exc, {})


def _form_message(form) -> str:
    return field_errors_text(form.errors, {name: field.label for name, field in form.fields.items()})


class MonitoringObjectListView(PersonDataMixin, TemplateView):
    """监测对象 list: filters category, status, risk type; scoped; paginated."""

    template_name = "monitoring/object_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = CaseFilterForm(self.request.GET or None)
        qs = self.scoped(MonitoringCase).select_related("household")
        if form.is_valid():
            d = form.cleaned_data
            if d["category"]:
                qs = qs.filter(category=d["category"])
            if d["status"]:
                qs = qs.filter(status=d["status"])
            if d["risk"]:
                r = d["risk"]
                qs = qs.filter(Q(risk_types=r) | Q(risk_types__startswith=r + ",") | Q(risk_types__endswith="," + r)
                               | Q(risk_types__contains="," + r + ","))
        counts = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
        page = Paginator(qs.order_by("-opened_on", "-id"), PAGE_SIZE).get_page(self.request.GET.get("page"))
        names = dict(Area.objects.filter(code__in={c.area_code for c in page}).values_list("code", "name"))
        context.update(form=form, page=page, cases=[(c, names.get(c.area_code, "")) for c in page],
                       status_counts=[(label, counts.get(value, 0)) for value, label in CaseStatus.choices],
                       query=_query_without_page(self.request))
        return context


def _query_without_page(request) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


class WarningInboxView(PersonDataMixin, TemplateView):
    """预警 inbox: the warnings of the user's area, new ones first; verify (opens a case) or dismiss."""

    template_name = "monitoring/warning_inbox.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.GET.copy()
        if "status" not in data:
            data["status"] = WarningStatus.NEW
        form = WarningFilterForm(data)
        qs = self.scoped(EarlyWarning).select_related("household", "case")
        if form.is_valid():
            d = form.cleaned_data
            if d["status"]:
                qs = qs.filter(status=d["status"])
            if d["kind"]:
                qs = qs.filter(kind=d["kind"])
            if d["year"]:
                qs = qs.filter(year=d["year"])
        page = Paginator(qs.order_by("-year", "area_code", "household_id", "kind"), PAGE_SIZE).get_page(
            self.request.GET.get("page"))
        rows = []
        for w in page:
            money = w.kind in ("MEDICAL_COST", "INCOME_IN_RANGE", "INCOME_DROP")
            rows.append({
                "w": w, "value": format_yuan(w.value, 2) if money else w.value,
                "threshold": (format_yuan(w.threshold, 2) if money else w.threshold) if w.threshold is not None else "",
                "category": services.default_category(w.household, [w.kind]),
                "risk": services.WARNING_RISK.get(w.kind, RiskType.OTHER),
            })
        verification = wf.get_process(services.MONITORING_CASE).steps[0]
        for r in rows:
            r["can_act"] = r["w"].status == WarningStatus.NEW and wf.may_take(verification, self.request.user,
                                                                                r["w"].area_code)
        context.update(form=form, page=page, rows=rows, query=_query_without_page(self.request),
                       categories=Category.choices,
                       risk_types=RiskType.choices, channels=Channel.choices)
        return context


class _Action(PersonDataMixin, View):
    """A POST action on one scoped object (404 outside the user's area)."""

    http_method_names = ["post"]

    def check_edit(self):
        if not can_edit_registry(self.request.user):
            raise PermissionDenied(_("您的角色不能办理监测业务"))


class WarningVerifyView(_Action):
    def post(self, request, pk):
        warning = self.get_scoped_object(EarlyWarning, pk=pk)
        back = reverse("warning_inbox")
        try:
            self.check_edit()
            form = VerifyForm(request.POST)
            if not form.is_valid():
                return _bad_request(request, _form_message(form), back)
            d = form.cleaned_data
            case = services.verify_warning(warning, user=request.user, category=d["category"] or None,
                                           risk_types=d["risk_types"] or None, channel=d["channel"],
                                           on=d["on"], comment=d["comment"])
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return _bad_request(request, _validation_message(exc), back)
        return redirect("monitoring_case_detail", pk=case.pk)


class WarningDismissView(_Action):
    def post(self, request, pk):
        warning = self.get_scoped_object(EarlyWarning, pk=pk)
        back = reverse("warning_inbox")
        try:
            self.check_edit()
            services.dismiss_warning(warning, user=request.user, reason=request.POST.get("reason", ""))
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return _bad_request(request, _validation_message(exc), back)
        return redirect(f"{back}?{request.POST.get('query', '')}")


def _instance_view(instance, user):
    if instance is None:
        return None
    process = instance.process_def
    records = list(instance.records.all())
    nxt = instance.next_step
    return {
        "instance": instance, "process": process, "records": [
            (process.steps[r.step_index].label if r.step_index < len(process.steps) else r.step, r) for r in records],
        "next": nxt, "may_take": wf.may_take(nxt, user, instance.area_code),
        "pending": [s for s in process.steps[instance.current_step:]] if instance.state == "open" else [],
    }


class CaseDetailView(PersonDataMixin, TemplateView):
    """One monitoring case: identification steps, measures, income checks, risk elimination."""

    template_name = "monitoring/case_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.get_scoped_object(MonitoringCase.objects.select_related("household"), pk=self.kwargs["pk"])
        user = self.request.user
        params = current_parameters()
        checks = []
        for c in case.income_checks.all():
            try:
                rng = monitoring_range(params, c.checked_on.year, case.area_code[:2])[1]
            except ParameterError:
                rng = None
            checks.append({"c": c, "range": format_yuan(rng, 2) if rng is not None else _("未核实"),
                           "income": format_yuan(int(c.per_capita_income * 100), 2),
                           "above": None if rng is None else int(c.per_capita_income * 100) > rng})
        problems = None
        if case.status == CaseStatus.MONITORED:
            problems = services.elimination_problems(
                case, {"kind": EliminationKind.NATURAL, "spending_resolved": True, "guarantees_secure": True,
                       "water_secure": True}, timezone.localdate(), params)
        context.update(
            case=case, household=case.household, area=Area.objects.filter(code=case.area_code).first(),
            identification=_instance_view(services.current_instance(case, services.MONITORING_CASE), user),
            elimination=_instance_view(services.current_instance(case, services.RISK_ELIMINATION), user),
            measures=case.measures.all(), checks=checks, warnings=case.warnings.all(),
            can_edit=can_edit_registry(user) and case.status not in (CaseStatus.NOT_INCLUDED, CaseStatus.ELIMINATED),
            measure_form=MeasureForm(), check_form=IncomeCheckForm(), elimination_form=EliminationForm(),
            may_propose=case.status == CaseStatus.MONITORED and wf.may_take(
                wf.get_process(services.RISK_ELIMINATION).steps[0], user, case.area_code),
            problems=problems, stable_months=params.value("monitoring.stable_months", timezone.localdate()),
        )
        return context


class CaseStepView(_Action):
    def post(self, request, pk):
        case = self.get_scoped_object(MonitoringCase, pk=pk)
        back = reverse("monitoring_case_detail", args=[case.pk])
        form = StepForm(request.POST)
        if not form.is_valid():
            return _bad_request(request, _form_message(form), back)
        d = form.cleaned_data
        try:
            services.take_case_step(case, d["process"], d["step"], user=request.user, outcome=d["outcome"],
                                    comment=d["comment"], on=d["on"])
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        return redirect(back)


class CaseMeasureView(_Action):
    def post(self, request, pk):
        case = self.get_scoped_object(MonitoringCase, pk=pk)
        back = reverse("monitoring_case_detail", args=[case.pk])
        form = MeasureForm(request.POST)
        try:
            self.check_edit()
            if not form.is_valid():
                return _bad_request(request, _form_message(form), back)
            services.add_measure(case, user=request.user, **form.cleaned_data)
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return _bad_request(request, _validation_message(exc), back)
        return redirect(back)


class CaseIncomeCheckView(_Action):
    def post(self, request, pk):
        case = self.get_scoped_object(MonitoringCase, pk=pk)
        back = reverse("monitoring_case_detail", args=[case.pk])
        form = IncomeCheckForm(request.POST)
        try:
            self.check_edit()
            if not form.is_valid():
                return _bad_request(request, _form_message(form), back)
            services.add_income_check(case, user=request.user, **form.cleaned_data)
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return _bad_request(request, _validation_message(exc), back)
        return redirect(back)


class CaseEliminateView(_Action):
    def post(self, request, pk):
        case = self.get_scoped_object(MonitoringCase, pk=pk)
        back = reverse("monitoring_case_detail", args=[case.pk])
        form = EliminationForm(request.POST)
        if not form.is_valid():
            return _bad_request(request, _form_message(form), back)
        d = form.cleaned_data
        try:
            services.propose_elimination(case, user=request.user, kind=d["kind"],
                                         spending_resolved=d["spending_resolved"],
                                         guarantees_secure=d["guarantees_secure"], water_secure=d["water_secure"],
                                         on=d["on"], comment=d["comment"])
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        return redirect(back)


class EventForm(forms.Form):
    household_number = forms.CharField(label=gettext_lazy("户编号"), max_length=32)
    kind = forms.ChoiceField(label=gettext_lazy("事件类型"), choices=HouseholdEvent._meta.get_field("kind").choices)
    occurred_on = forms.DateField(label=gettext_lazy("发生日期"), widget=DATE)
    amount = forms.DecimalField(label=gettext_lazy("金额（元）"), max_digits=14, decimal_places=2, required=False)
    source = forms.CharField(label=gettext_lazy("信息来源"), max_length=60, required=False)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


class OpenCaseForm(forms.Form):
    household_number = forms.CharField(label=gettext_lazy("户编号"), max_length=32)
    category = forms.ChoiceField(label=gettext_lazy("监测对象类别"), choices=Category.choices)
    risk_types = forms.MultipleChoiceField(label=gettext_lazy("风险类型（最多 5 项）"), choices=RiskType.choices)
    channel = forms.ChoiceField(label=gettext_lazy("发现渠道"), choices=Channel.choices, initial=Channel.SELF)
    on = forms.DateField(label=gettext_lazy("发现日期"), required=False, widget=DATE)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=300, required=False)


class EventListView(PersonDataMixin, TemplateView):
    """事件登记: the recorded events of the user's area (newest first), and the forms to record an event or to
    register a monitoring object found by application or cadre visit (农户自主申报 / 基层干部排查)."""

    template_name = "monitoring/events.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(self.scoped(HouseholdEvent).select_related("household", "member")
                         .order_by("-occurred_on", "-id"), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(page=page, query="", event_form=kwargs.get("event_form") or EventForm(),
                       case_form=kwargs.get("case_form") or OpenCaseForm(),
                       can_edit=can_edit_registry(self.request.user))
        return context

    def _household(self, number):
        """The household with that number inside the user's area, else 404."""
        return self.get_scoped_object(Household, household_number=number.strip())

    def post(self, request):
        back = reverse("event_list")
        if not can_edit_registry(request.user):
            return workflow_response(PermissionDenied(_("您的角色不能办理监测业务")), request, back=back)
        try:
            if request.POST.get("action") == "open_case":
                form = OpenCaseForm(request.POST)
                if not form.is_valid():
                    return _bad_request(request, _form_message(form), back)
                d = form.cleaned_data
                case = services.open_case(household=self._household(d["household_number"]), category=d["category"],
                                          risk_types=d["risk_types"], channel=d["channel"], user=request.user,
                                          on=d["on"], note=d["note"])
                return redirect("monitoring_case_detail", pk=case.pk)
            form = EventForm(request.POST)
            if not form.is_valid():
                return _bad_request(request, _form_message(form), back)
            d = form.cleaned_data
            services.record_event(household=self._household(d["household_number"]), kind=d["kind"],
                                  occurred_on=d["occurred_on"], amount=d["amount"], source=d["source"],
                                  note=d["note"], user=request.user)
        except (wf.WorkflowConflict, PermissionDenied) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return _bad_request(request, _validation_message(exc), back)
        return redirect(back)


CHILD_LENGTH = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}


# The classes' labels in the page's language (the rule module is Django-free and keeps the Chinese ones).
CLASS_LABELS = {"stable": gettext_lazy("稳定脱贫户"), "consolidate": gettext_lazy("巩固提升户"), "key": gettext_lazy("重点帮扶户"),
                "unknown": gettext_lazy("无法分类")}


class ConsolidationClassView(ScopedViewMixin, TemplateView):
    """巩固分类 counts of the user's area by the next level down, for one year (computed by the CLI): counts
    only, so statisticians and donors read it too."""

    template_name = "monitoring/classes.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        qs = self.scoped(ConsolidationClass)
        years = sorted(qs.order_by().values_list("year", flat=True).distinct())
        try:
            year = int(self.request.GET.get("year", ""))
        except ValueError:
            year = years[-1] if years else None
        code = self.request.user.area_id or ""
        length = CHILD_LENGTH[len(code)]
        rows = (qs.filter(year=year).annotate(unit=Substr("area_code", 1, length)).order_by()
                .values("unit", "klass").annotate(n=Count("id")))
        table = {}
        for r in rows:
            table.setdefault(r["unit"], {k: 0 for k in CLASSES})[r["klass"]] = r["n"]
        names = dict(Area.objects.filter(code__in=list(table)).values_list("code", "name"))
        out = [{"code": u, "name": names.get(u, u), "counts": [table[u][k] for k in CLASSES],
                "total": sum(table[u].values())} for u in sorted(table)]
        totals = [sum(r["counts"][i] for r in out) for i in range(len(CLASSES))]
        context.update(year=year, years=years, rows=out, classes=[CLASS_LABELS.get(k, v) for k, v in CLASSES.items()],
                       totals=totals,
                       total=sum(totals))
        return context


object_list = MonitoringObjectListView.as_view()
warning_inbox = WarningInboxView.as_view()
warning_verify = WarningVerifyView.as_view()
warning_dismiss = WarningDismissView.as_view()
case_detail = CaseDetailView.as_view()
case_step = CaseStepView.as_view()
case_measure = CaseMeasureView.as_view()
case_income_check = CaseIncomeCheckView.as_view()
case_eliminate = CaseEliminateView.as_view()
consolidation_classes = ConsolidationClassView.as_view()
event_list = EventListView.as_view()
