"""Workflow pages (审批): start an exit, take a step from the household page, the list of open exit instances
with a bulk action, notice objections, and change requests (变更申请). The JSON API is in ``api.py``.

Errors map the same way everywhere (``workflow_response``): ``WorkflowConflict`` → 409, ``StepNotAllowed`` →
403, with the Chinese message; a bulk action that cannot be taken for every selected household is refused as
a whole (409) listing each household and reason. Statisticians and donors get 403 on every page here
(person-level data, ``PersonDataMixin``).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from xiaokang.core.forms import HtmlDateInput
from xiaokang.core.logmask import mask_phone
from xiaokang.registry.models import Household
from xiaokang.registry.views import PersonDataMixin

from . import selectors, services
from .engine import StepNotAllowed, WorkflowConflict
from .models import ChangeRequest, Objection, Outcome, WorkflowInstance
from .processes import HOUSEHOLD_EXIT, HOUSEHOLD_EXIT_PROCESS

STEP_CHOICES = [(s.code, s.label) for s in HOUSEHOLD_EXIT_PROCESS.steps]


def workflow_response(exc, request=None, *, json=False, back=None):
    """The response for a refused workflow action: 409 (WorkflowConflict) or 403 (StepNotAllowed or another
    PermissionDenied), JSON for the API, else the error page; ``errors`` of a bulk refusal are listed."""
    status = 409 if isinstance(exc, WorkflowConflict) else 403
    errors = [{"household": label, "status": st, "reason": reason}
              for label, st, reason in getattr(exc, "errors", [])]
    message = str(exc) if not errors else _("批量办理未执行：以下 %(n)s 户不能办理，全部未保存") % {"n": len(errors)}
    if json:
        body = {"error": "conflict" if status == 409 else "forbidden", "message": message}
        if errors:
            body["errors"] = errors
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    return TemplateResponse(request, "workflow/refused.html",
                            {"message": message, "errors": errors, "status": status, "back": back}, status=status)


class StepForm(forms.Form):
    step = forms.ChoiceField(label=gettext_lazy("步骤"), choices=STEP_CHOICES)
    outcome = forms.ChoiceField(label=gettext_lazy("结果"), choices=Outcome.choices, initial=Outcome.APPROVED)
    on = forms.DateField(label=gettext_lazy("办理日期"), required=False, widget=HtmlDateInput())
    comment = forms.CharField(label=gettext_lazy("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    objections = forms.CharField(label=gettext_lazy("公示异议（每行一条）"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    exit_year = forms.IntegerField(label=gettext_lazy("脱贫年度（销号）"), required=False, min_value=2013, max_value=2100)

    def step_data(self):
        d = self.cleaned_data
        data = {}
        if d.get("objections"):
            data["objections"] = [line.strip() for line in d["objections"].splitlines() if line.strip()]
        if d.get("exit_year"):
            data["exit_year"] = d["exit_year"]
        return data


def _bad_form(request, form, back=None):
    errors = "；".join(f"{form.fields[k].label if k in form.fields else k}：{'、'.join(v)}"
                       for k, v in form.errors.items())
    return TemplateResponse(request, "workflow/refused.html",
                            {"message": _("输入有误：%(e)s") % {"e": errors}, "status": 400, "back": back}, status=400)


class WorkflowPageMixin(PersonDataMixin):
    """Person-level, scoped pages of the workflow app."""

    def household_url(self, household_id):
        return reverse("household_detail", args=[household_id])


class StartExitView(WorkflowPageMixin, TemplateView):
    """POST: open the exit process for a household (village administrator of its village)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        household = self.get_scoped_object(Household, pk=pk)
        back = self.household_url(pk)
        try:
            services.start_household_exit(household, user=request.user)
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, back=back)
        return redirect(back + "#workflow")


class StepView(WorkflowPageMixin, TemplateView):
    """POST: take the next step of one instance (the household page's form)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        instance = self.get_scoped_object(WorkflowInstance, pk=pk)
        back = self.household_url(instance.object_id) if instance.process == HOUSEHOLD_EXIT else None
        form = StepForm(request.POST)
        if not form.is_valid():
            return _bad_form(request, form, back)
        d = form.cleaned_data
        try:
            services.take_step(instance, d["step"], user=request.user, outcome=d["outcome"],
                               comment=d["comment"], data=form.step_data(), on=d["on"])
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, back=back)
        return redirect((back or reverse("workflow_list")) + "#workflow")


class ObjectionView(WorkflowPageMixin, TemplateView):
    """POST: record an objection during the notice (公示异议)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        instance = self.get_scoped_object(WorkflowInstance, pk=pk)
        back = self.household_url(instance.object_id)
        try:
            services.record_objection(instance, request.POST.get("text", ""), user=request.user)
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return TemplateResponse(request, "workflow/refused.html",
                                    {"message": "；".join(exc.messages), "status": 400, "back": back}, status=400)
        return redirect(back + "#workflow")


class ResolveObjectionView(WorkflowPageMixin, TemplateView):
    """POST: record how an objection was resolved."""

    http_method_names = ["post"]

    def post(self, request, pk):
        objection = self.get_scoped_object(Objection.objects.select_related("instance"), pk=pk)
        back = self.household_url(objection.instance.object_id)
        try:
            services.resolve_objection(objection, request.POST.get("resolution", ""), user=request.user)
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, back=back)
        except ValidationError as exc:
            return TemplateResponse(request, "workflow/refused.html",
                                    {"message": "；".join(exc.messages), "status": 400, "back": back}, status=400)
        return redirect(back + "#workflow")


class WorkflowListView(WorkflowPageMixin, TemplateView):
    """Open household exits in the user's area (``/workflow/``), filter by next step, and the bulk action:
    select households and take the same step for all of them — all or nothing (409 listing each refusal)."""

    template_name = "workflow/list.html"
    LIMIT = 500

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scoped = self.scoped(WorkflowInstance)
        step = self.request.GET.get("step", "")
        qs = selectors.open_exit_instances(scoped, step=step)
        rows = selectors.attach_households(qs[: self.LIMIT])
        context.update(rows=rows, step=step, steps=STEP_CHOICES, counts=selectors.step_counts(scoped),
                       outcomes=Outcome.choices, limit=self.LIMIT, truncated=qs.count() > self.LIMIT,
                       pending_changes=selectors.pending_change_requests(self.scoped(ChangeRequest)).count())
        return context

    def post(self, request):
        ids = request.POST.getlist("instance")
        try:
            ids = sorted({int(i) for i in ids})
        except ValueError:
            raise Http404 from None
        form = StepForm(request.POST)
        back = reverse("workflow_list")
        if not form.is_valid():
            return _bad_form(request, form, back)
        instances = list(self.scoped(WorkflowInstance).filter(pk__in=ids, process=HOUSEHOLD_EXIT))
        if len(instances) != len(ids):
            raise Http404(_("所选流程不存在或不在您的管辖区域内"))
        d = form.cleaned_data
        try:
            services.bulk_take_step(instances, d["step"], user=request.user, outcome=d["outcome"],
                                    comment=d["comment"], on=d["on"])
        except ValidationError as exc:
            return TemplateResponse(request, "workflow/refused.html",
                                    {"message": "；".join(exc.messages), "status": 400, "back": back}, status=400)
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, back=back)
        return redirect(back)


# ----------------------------------------------------------------------------------------- change requests


class ChangeRequestForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("变更理由"), widget=forms.Textarea(attrs={"rows": 3}))


class ChangeRequestCreateView(WorkflowPageMixin, TemplateView):
    """GET: the form (the household's editable fields, current values); POST: create the change request with
    the fields whose value differs from the current one."""

    template_name = "workflow/change_request_form.html"

    def get_household(self):
        household = self.get_scoped_object(Household.objects.select_related("area"), pk=self.kwargs["pk"])
        if not services.may_request_change(self.request.user, household):
            raise PermissionDenied(_("只有本村、本乡镇管理员可以提交变更申请"))
        return household

    def edit_form(self, household, data=None):
        from xiaokang.registry.forms import HouseholdEditForm

        form = HouseholdEditForm(data, instance=household, initial={"version": household.version})
        form.fields["version"].required = False
        return form

    def get(self, request, pk):
        household = self.get_household()
        return self.render_to_response(self.get_context_data(
            household=household, form=self.edit_form(household), reason_form=ChangeRequestForm()))

    def post(self, request, pk):
        household = self.get_household()
        current = self.edit_form(household)
        data = {name: current[name].value() for name in current.fields}
        data.update({k: v for k, v in request.POST.items() if k in current.fields})
        form = self.edit_form(household, data)
        reason_form = ChangeRequestForm(request.POST)
        ctx = dict(household=household, form=form, reason_form=reason_form)
        if not (form.is_valid() and reason_form.is_valid()):
            return self.render_to_response(self.get_context_data(**ctx), status=400)
        household.refresh_from_db()
        changes = {n: form.cleaned_data[n] for n in form.changed_data if n != "version"}
        try:
            cr = services.create_change_request(household, changes, reason_form.cleaned_data["reason"],
                                                user=request.user)
        except ValidationError as exc:
            return self.render_to_response(self.get_context_data(error="；".join(exc.messages), **ctx), status=400)
        return redirect("change_request_detail", pk=cr.pk)


class ChangeRequestListView(WorkflowPageMixin, TemplateView):
    template_name = "workflow/change_request_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "pending")
        qs = self.scoped(ChangeRequest).select_related("household")
        if status in ChangeRequest.Status.values:
            qs = qs.filter(status=status)
        context.update(requests=qs.order_by("-id")[:500], status=status, statuses=ChangeRequest.Status.choices)
        return context


def change_rows(cr):
    """(field label, current value, requested value) of a change request; phone numbers masked."""
    rows = []
    household = cr.household
    for name, value in cr.changes.items():
        f = Household._meta.get_field(name)
        current = getattr(household, name)
        if f.choices:
            choices = dict(f.flatchoices)
            current, value = choices.get(current, current), choices.get(value, value)
        if name == "phone":  # masked here as everywhere but the household page's logged display
            current, value = mask_phone(current), mask_phone(value)
        current = "—" if current in (None, "") else current
        value = "—" if value in (None, "") else value
        rows.append({"label": f.verbose_name, "current": current, "new": value})
    return rows


class ChangeRequestDetailView(WorkflowPageMixin, TemplateView):
    """GET: the request with current and requested values; POST (county administrator): approve or reject."""

    template_name = "workflow/change_request_detail.html"

    def get_cr(self):
        return self.get_scoped_object(ChangeRequest.objects.select_related("household"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cr = kwargs.get("cr") or self.get_cr()
        context.update(cr=cr, rows=change_rows(cr), may_decide=cr.status == ChangeRequest.Status.PENDING
                       and services.may_decide_change(self.request.user, cr))
        return context

    def post(self, request, pk):
        cr = self.get_cr()
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            return TemplateResponse(request, "workflow/refused.html",
                                    {"message": _("请选择批准或驳回"), "status": 400}, status=400)
        try:
            services.decide_change_request(cr, user=request.user, approve=decision == "approve",
                                           comment=request.POST.get("comment", ""))
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, back=reverse("change_request_detail", args=[pk]))
        return redirect("change_request_detail", pk=pk)


def parse_date(value):
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD：%(v)s") % {"v": value}) from None


def json_body(request) -> dict | None:
    """The request's body as a JSON object (``{}`` when empty), or None when it is not one (bad JSON, a list…)."""
    import json

    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def json_error(status, message):
    return JsonResponse({"error": {400: "bad_request", 403: "forbidden", 404: "not_found"}.get(status, "error"),
                         "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


workflow_list = WorkflowListView.as_view()
start_exit = StartExitView.as_view()
take_step = StepView.as_view()
record_objection = ObjectionView.as_view()
resolve_objection = ResolveObjectionView.as_view()
change_request_list = ChangeRequestListView.as_view()
change_request_create = ChangeRequestCreateView.as_view()
change_request_detail = ChangeRequestDetailView.as_view()
