"""督查问题 pages: the list of the user's jurisdiction (with the form to record a problem, for inspectors), one
problem's page with its course and the next action (整改 for the area's administrators, 回访 for inspectors).
Scoped like every page (``ScopedViewMixin``; another area's problem is 404); statisticians and donors 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from xiaokang.core.forms import valid_filters
from xiaokang.areas.models import Area
from xiaokang.core.logmask import mask_free_text
from xiaokang.registry.models import Household
from xiaokang.registry.views import PersonDataMixin, _refused, error_text, field_errors_text
from xiaokang.workflow.engine import WorkflowConflict

from . import services
from .forms import ProblemFilterForm, ProblemForm, RectifyForm, RevisitForm
from .models import Problem, Status

PAGE_SIZE = 50


def _labels(form):
    return {name: f.label for name, f in form.fields.items()}


def _form_errors(form):
    return field_errors_text(form.errors, _labels(form))


def _area_names(codes) -> dict:
    return dict(Area.objects.filter(code__in=set(codes)).values_list("code", "name"))


class ProblemListView(PersonDataMixin, TemplateView):
    """督查问题: counts by status (and overdue: 待整改 past the deadline), the list filtered by status, category,
    area, household number and overdue, and for an inspector
    the form to record (交办) a problem; POST records it (``services.record_problem``)."""

    template_name = "supervision/problem_list.html"

    def filtered(self, today):
        """(form, valid filters, the problems before the status filters, the same after them)."""
        form = ProblemFilterForm(self.request.GET or None)
        data = valid_filters(form)
        qs = self.scoped(Problem)
        if data.get("area"):
            qs = qs.within(data["area"])
        if data.get("category"):
            qs = qs.filter(category=data["category"])
        if data.get("household", "").strip():
            qs = qs.filter(household__household_number=data["household"].strip())
        listed = qs
        if data.get("status"):
            listed = listed.filter(status=data["status"])
        if data.get("overdue"):
            listed = listed.filter(Q(status=Status.ASSIGNED, deadline__lt=today))
        return form, data, qs, listed

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        form, data, qs, listed = self.filtered(today)
        overdue = Q(status=Status.ASSIGNED, deadline__lt=today)
        counts = qs.aggregate(total=Count("id"), overdue=Count("id", filter=overdue),
                              **{s: Count("id", filter=Q(status=s)) for s in Status.values})
        qs = listed
        page = Paginator(qs.select_related("household").order_by("-found_on", "-id"), PAGE_SIZE).get_page(
            self.request.GET.get("page"))
        names = _area_names(p.area_code for p in page.object_list)
        params = self.request.GET.copy()
        params.pop("page", None)
        context.update(
            form=form, page=page, querystring=params.urlencode(), counts=counts,
            status_labels=[(s, label, counts[s]) for s, label in Status.choices],
            rows=[{"problem": p, "area": names.get(p.area_code, p.area_code), "description": mask_free_text(p.description),
                   "overdue": p.status == Status.ASSIGNED and p.deadline < today} for p in page.object_list],
            problem_form=kwargs.get("problem_form") or (ProblemForm(initial={"found_on": today}, auto_id="new_%s")
                                                        if services.may_record(self.request.user) else None),
        )
        return context

    def post(self, request):
        back = reverse("supervision_problems")
        if not services.may_record(request.user):
            return _refused(request, _("只有督查员可以登记督查问题"), 403, back)
        form = ProblemForm(request.POST, auto_id="new_%s")  # ids apart from the filter form's on the same page
        if not form.is_valid():
            return self.again(form, _form_errors(form))
        d = form.cleaned_data
        try:
            household = None
            number = d["household_number"].strip()
            if number:
                # a number outside the jurisdiction reads like one that does not exist (nothing revealed)
                household = self.scoped(Household).filter(household_number=number).first()
                if household is None:
                    raise ValidationError({"household_number": _("户编号不存在或不在您的管辖区域内：%(n)s") % {"n": number}})
            problem = services.record_problem(
                request.user, category=d["category"], source=d["source"], description=d["description"],
                found_on=d["found_on"], deadline=d["deadline"], household=household, area_code=d["area_code"])
        except PermissionDenied as exc:
            return _refused(request, str(exc), 403, back)
        except ValidationError as exc:
            return self.again(form, error_text(exc, _labels(form)))
        return redirect("supervision_problem", pk=problem.pk)

    def again(self, form, message):
        """The list again (400) with the form as the inspector filled it and the reason: nothing typed is lost."""
        return self.render_to_response(self.get_context_data(problem_form=form, problem_error=message), status=400)


def problem_history(problem) -> list[dict]:
    """The problem's course from its history rows, oldest first: time, who (the user, or ``<login>（系统账号）``
    for a change made on the command line), the step (交办, 整改, 回访通过并销号, 回访未通过、退回), the date of the
    act and its note (the rectification, the revisit, a new deadline) — so an earlier rectification and a
    failed revisit stay readable after the problem was sent back."""
    rows = problem.history.order_by("history_date", "history_id").values(
        "history_date", "history_user__username", "os_user", "history_type", "status", "found_on", "deadline",
        "rectification", "rectified_on", "revisit", "revisited_on", "sent_back")
    out, previous = [], None
    for r in rows:
        user = r["history_user__username"] or (_("%(login)s（系统账号）") % {"login": r["os_user"]} if r["os_user"] else "—")
        step = None
        if previous is None:
            step = (_("交办"), r["found_on"], _("整改期限 %(d)s") % {"d": f"{r['deadline']:%Y-%m-%d}"})
        elif r["status"] != previous["status"]:
            if r["status"] == Status.RECTIFIED:
                step = (_("整改"), r["rectified_on"], r["rectification"])
            elif r["status"] == Status.CLOSED:
                step = (_("回访通过，销号"), r["revisited_on"], r["revisit"])
            elif r["sent_back"] > previous["sent_back"]:
                note = r["revisit"]
                if r["deadline"] != previous["deadline"]:
                    note = _("%(note)s；整改期限改为 %(d)s") % {"note": note, "d": f"{r['deadline']:%Y-%m-%d}"}
                step = (_("回访未通过，退回整改"), r["revisited_on"], note)
        previous = r
        if step is not None:
            out.append({"date": r["history_date"], "user": user, "step": step[0], "on": step[1],
                        "note": mask_free_text(step[2] or "")})
    return out


class ProblemDetailView(PersonDataMixin, TemplateView):
    template_name = "supervision/problem_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        problem = self.get_scoped_object(Problem.objects.select_related("household", "inspector", "rectified_by",
                                                                        "revisited_by"), pk=kwargs["pk"])
        today = timezone.localdate()
        user = self.request.user
        inside = services.inside_jurisdiction(user, problem.area_code) or user.is_superuser
        context.update(
            problem=problem, area=_area_names([problem.area_code]).get(problem.area_code, problem.area_code),
            description=mask_free_text(problem.description), rectification=mask_free_text(problem.rectification),
            revisit=mask_free_text(problem.revisit), history=problem_history(problem),
            overdue=problem.status == Status.ASSIGNED and problem.deadline < today,
            rectify_form=(RectifyForm(initial={"on": today}) if problem.status == Status.ASSIGNED
                          and services.may_rectify(user) and inside else None),
            revisit_form=(RevisitForm(initial={"on": today}) if problem.status == Status.RECTIFIED
                          and services.may_record(user) and inside else None),
        )
        return context


class _ProblemActionView(PersonDataMixin, TemplateView):
    http_method_names = ["post"]
    form_class = None
    form_name = ""  # the detail page's context name of the form

    def act(self, problem, user, data):
        raise NotImplementedError

    def post(self, request, pk):
        problem = self.get_scoped_object(Problem, pk=pk)
        back = reverse("supervision_problem", args=[problem.pk])
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.again(form, _form_errors(form))
        try:
            self.act(problem, request.user, form.cleaned_data)
        except WorkflowConflict as exc:
            return _refused(request, str(exc), 409, back)
        except PermissionDenied as exc:
            return _refused(request, str(exc), 403, back)
        except ValidationError as exc:
            return self.again(form, error_text(exc, {"rectified_on": _("整改完成日期"), "rectification": _("整改情况"),
                                                     "revisited_on": _("回访日期"), "revisit": _("回访情况"),
                                                     "deadline": _("新的整改期限（退回时）")}))
        return redirect(back)

    def again(self, form, message):
        """The problem's page again (400) with the form as filled in and the reason: nothing typed is lost."""
        page = ProblemDetailView()
        page.setup(self.request, **self.kwargs)
        context = page.get_context_data(**self.kwargs)
        context.update({self.form_name: form, "action_error": message})
        return TemplateResponse(self.request, page.template_name, context, status=400)


class RectifyView(_ProblemActionView):
    """整改: POST note, on — the area's administrators (``services.rectify``)."""

    form_class = RectifyForm
    form_name = "rectify_form"

    def act(self, problem, user, data):
        services.rectify(problem, user, note=data["note"], on=data["on"])


class RevisitView(_ProblemActionView):
    """回访: POST passed (1 销号 / 0 退回), note, on, deadline — inspectors (``services.revisit``)."""

    form_class = RevisitForm
    form_name = "revisit_form"

    def act(self, problem, user, data):
        services.revisit(problem, user, note=data["note"], on=data["on"], passed=data["passed"],
                         deadline=data.get("deadline"))


PROBLEM_COLUMNS = [("found_on", "发现日期"), ("area", "所在区域"), ("area_code", "区划代码"),
                   ("household_number", "户编号"), ("category", "问题类别"), ("source", "发现方式"),
                   ("description", "问题描述"), ("deadline", "整改期限"), ("state", "状态"), ("overdue", "逾期"),
                   ("rectification", "整改情况"), ("rectified_on", "整改完成日期"), ("revisit", "回访情况"),
                   ("revisited_on", "回访日期"), ("revisit_result", "回访结论"), ("sent_back", "回访未通过次数"),
                   ("inspector", "督查员")]


class ProblemExportView(ProblemListView):
    """The filtered problems as a ledger (督查问题整改台账): ``?format=xlsx`` (default) or ``csv``, the list's
    filters; texts with ID and mobile numbers masked; logged in the export log. Statisticians and donors 403."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        from xiaokang.core import tables

        fmt = request.GET.get("format", "xlsx")
        if (refused := tables.bad_format(fmt)) is not None:
            return refused
        today = timezone.localdate()
        form, data, _qs, listed = self.filtered(today)
        if form.errors:  # a ledger of something other than what was asked for would mislead: nothing exported
            return tables.bad_filters(form)
        problems = list(listed.select_related("household", "inspector").order_by("-found_on", "-id"))
        names = _area_names(p.area_code for p in problems)
        with translation.override("zh-hans"):  # the ledger is Chinese whatever the page's language, as exports are
            rows = [{"found_on": p.found_on, "area": names.get(p.area_code, p.area_code), "area_code": p.area_code,
                     "household_number": p.household.household_number if p.household_id else "",
                     "category": p.get_category_display(), "source": p.get_source_display(),
                     "description": mask_free_text(p.description), "deadline": p.deadline, "state": p.get_status_display(),
                     "overdue": "是" if p.status == Status.ASSIGNED and p.deadline < today else "",
                     "rectification": mask_free_text(p.rectification), "rectified_on": p.rectified_on,
                     "revisit": mask_free_text(p.revisit), "revisited_on": p.revisited_on,
                     "revisit_result": str(p.revisit_result), "sent_back": p.sent_back,
                     "inspector": p.inspector.get_full_name()} for p in problems]
        return tables.download(request, rows, PROBLEM_COLUMNS, "督查问题台账", fmt, kind="supervision_problems",
                               filters=data, area_code=data.get("area") or "")


problem_list = ProblemListView.as_view()
problem_export = ProblemExportView.as_view()
problem_detail = ProblemDetailView.as_view()
problem_rectify = RectifyView.as_view()
problem_revisit = RevisitView.as_view()


def household_problems(household, limit: int = 10) -> list[dict]:
    """The household page's 督查问题 panel: its latest problems (``limit``), newest first."""
    today = timezone.localdate()
    return [{"problem": p, "description": mask_free_text(p.description),
             "overdue": p.status == Status.ASSIGNED and p.deadline < today}
            for p in Problem.objects.filter(household=household).order_by("-found_on", "-id")[:limit]]
