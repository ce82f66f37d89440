"""Registry pages: the household list (贫困户查询) and one household's file (一户一档)."""

import datetime as dt
import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.db.models import Exists, F, Max, OuterRef, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from xiaokang.core.forms import valid_filters
from xiaokang.accounts.models import Role, can_edit_registry, can_view_full_id, may_see_person_data
from xiaokang.core.audit import Channel
from xiaokang.core.cache import REGISTRY, CachedCountPaginator, cached_html
from xiaokang.core.logmask import mask_free_text, mask_phone
from xiaokang.core.money import MoneyField, format_yuan
from xiaokang.core.scoping import scope_key
from xiaokang.core.views import ScopedViewMixin
from xiaokang.policy.models import HouseholdAssessment
from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE

from . import selectors
from .forms import YEARS, HouseholdEditForm, HouseholdFilterForm, VisitFilterForm, VisitForm
from .idnumber import mask_id_number
from .models import FullIdView, Household, Income, Member, Pairing, Visit
from .services import EditConflict, HouseholdLocked, record_visit, update_household

PAGE_SIZE = 50
INCOME_COLUMNS = ("wage", "business_income", "business_expenses", "property_income")
VERDICT_LABELS = {
    MET: gettext_lazy("达到脱贫标准"),
    NOT_MET: gettext_lazy("未达到脱贫标准"),
    UNASSESSABLE: gettext_lazy("无法评估"),
}

HOUSEHOLD_SECTIONS = [
    (gettext_lazy("基本信息"), [
        "household_number", "natural_village", "phone", "household_type", "identification_standard",
        "main_cause", "other_causes", "identified_year", "poverty_status", "exit_year", "return_year",
        "pairing_cadre",
    ]),
    (gettext_lazy("两不愁"), ["food_secure", "clothing_secure"]),
    (gettext_lazy("住房"), ["housing_grade", "housing_renovated_year", "housing_area_m2"]),
    (gettext_lazy("饮水"), [
        "water_scarce_area", "water_quantity_lpd", "water_quality_ok", "water_piped", "water_fetch_minutes",
        "water_fetch_distance_m", "water_fetch_vertical_m", "water_outage_days",
    ]),
    (gettext_lazy("土地与生产"), [
        "farmland_mu", "irrigated_mu", "forest_mu", "cooperative_member", "road_distance_km",
    ]),
]


# Roles that see aggregates or public anonymised data only, never person-level pages (统计员, 爱心人士).
class PersonDataMixin(ScopedViewMixin):
    """A scoped page with person-level data: 403 for statisticians and donors (they keep the dashboard)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_see_person_data(request.user):
            raise PermissionDenied(_("您的角色（%(r)s）只能查看汇总数据，不能查看户、人信息")
                                   % {"r": request.user.get_role_display()})
        return super().dispatch(request, *args, **kwargs)


def yes_no(value):
    if value is None:
        return _("未填写")
    return _("是") if value else _("否")


def field_display(obj, name: str, mask_personal: bool = False):
    """(label, shown value) of a model field: choice labels, 是/否, — for blank; the phone number masked
    (138****5678) when ``mask_personal``."""
    f = obj._meta.get_field(name)
    value = getattr(obj, name)
    if name == "phone" and mask_personal:
        shown = mask_phone(value)
    elif name == "other_causes":
        shown = "、".join(obj.other_cause_labels())
    elif f.choices:
        shown = getattr(obj, f"get_{name}_display")() if value not in (None, "") else ""
    elif f.get_internal_type() == "BooleanField":
        shown = yes_no(value)
    else:
        shown = value
    return f.verbose_name, (shown if shown not in (None, "") else "—")


def yuan(fen):
    return format_yuan(fen, 0 if fen is None or fen % 100 == 0 else 2)


class HouseholdListView(PersonDataMixin, TemplateView):
    """The household list. Its body (filter form, one page of rows, pager) is rendered once per registry
    data version, jurisdiction, query and language and then served from the cache (``core.cache``) —
    except for a text search, whose query may be a full ID number: never stored."""

    template_name = "registry/household_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)

        def render_body():
            context.update(self.body_context())
            return render_to_string("registry/_household_list_body.html", context, self.request)

        if self.request.GET.get("q", "").strip():
            context["body"] = mark_safe(render_body())
        else:
            query = sorted((k, v) for k, values in self.request.GET.lists() for v in values)
            context["body"] = cached_html(
                REGISTRY, f"household-list:{scope_key(self.request.user)}:{query!r}", render_body)
        return context

    def body_context(self) -> dict:
        context = {}
        form = HouseholdFilterForm(self.request.GET or None)
        data = valid_filters(form)
        year = data.get("year") or (
            self.scoped(HouseholdAssessment).filter(year__in=YEARS).aggregate(y=Max("year"))["y"] or YEARS[-1]
        )
        qs = selectors.household_list(
            self.scoped(Household), q=data.get("q", ""), area=data.get("area", ""),
            poverty_status=data.get("poverty_status", ""), household_type=data.get("household_type", ""),
            main_cause=data.get("main_cause", ""), year=year, verdict=data.get("verdict", ""),
        )
        page = CachedCountPaginator(qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        households = selectors.household_rows(list(page.object_list), year=year)
        rows = [{
            "household": h,
            "head_name": h.head_name or "—",
            "head_id": mask_id_number(h.head_id_number) or "—",
            "verdict": h.verdict,
            "verdict_label": VERDICT_LABELS.get(h.verdict, _("未评估")),
        } for h in households]
        params = self.request.GET.copy()
        params.pop("page", None)
        context.update(form=form, page=page, rows=rows, year=year, querystring=params.urlencode())
        return context


class HouseholdDetailView(PersonDataMixin, TemplateView):
    template_name = "registry/household_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        household = self.get_scoped_object(Household.objects.select_related("area"), pk=kwargs["pk"])
        members = list(household.members.all())
        incomes = list(household.incomes.order_by("year"))
        stored = list(HouseholdAssessment.objects.filter(household=household).order_by("year"))
        lang = get_language() or "zh-hans"
        years = selectors.household_years(household, members, incomes, stored, lang)
        today = dt.date.today()
        full_ids = can_view_full_id(self.request.user)
        member_rows = [{
            "member": m,
            "id_masked": mask_id_number(m.id_number),
            "relation": m.get_relation_display(),
            "sex": m.get_sex_display(),
            "age": m.age_on(min(today, m.left_on) if m.left_on else today),
            "schooling": m.get_schooling_status_display() or "—",
            "health": m.get_health_status_display() or "—",
            "disability": m.get_disability_grade_display(),
            "labour": m.get_labour_capacity_display() or "—",
            "basic_medical": yes_no(m.basic_medical_insurance),
            "serious_illness": yes_no(m.serious_illness_insurance),
            "pension": yes_no(m.pension_insurance),
            "dibao": m.on_dibao,
            "left": m.left_on is not None,
            # a newborn's entry date is its birth date, which with the masked ID number gives the full one:
            # the year only, unless the user may see full numbers
            "entered": (f"{m.entered_on.year}" if m.entered_on and m.entry_reason == "newborn" and not full_ids
                        else (f"{m.entered_on:%Y-%m-%d}" if m.entered_on else "")),
        } for m in members]
        criteria_labels = [
            (c, HouseholdAssessment._meta.get_field(c).verbose_name) for c in selectors.CRITERIA
        ]
        year_rows = []
        for yf in years:
            inc = yf.income
            year_rows.append({
                "file": yf,
                "amounts": [yuan(selectors.yuan_to_fen(getattr(inc, f))) for f in INCOME_COLUMNS] if inc else [],
                "transfers": yuan(selectors.yuan_to_fen(inc.transfer_total)) if inc else "—",
                "net": yuan(yf.net_fen),
                "per_capita": yuan(yf.per_capita_fen),
                "standard": yuan(yf.result["income_standard_fen"]) if yf.result else "—",
                "verdict_label": VERDICT_LABELS.get(yf.result["verdict"], "") if yf.result else "",
                "stored_verdict_label": VERDICT_LABELS.get(yf.stored.verdict, "") if yf.stored else "",
                "criteria": [(label, dict(yf.criteria).get(c)) for c, label in criteria_labels],
            })
        # The phone number is masked here like ID numbers, for every role; the roles that may see full numbers
        # (county/town/village admins) reveal it with a logged POST (FullPhoneView).
        sections = [(title, [(*field_display(household, n, mask_personal=True), n) for n in names])
                    for title, names in HOUSEHOLD_SECTIONS]
        ancestors = list(reversed(household.area.ancestors()))
        from xiaokang.workflow.selectors import household_panel

        context.update(household_visits(self.request.user, household, timezone.localdate()))
        from xiaokang.supervision.views import household_problems

        context["problems"] = household_problems(household)
        context.update(
            workflow=household_panel(self.request.user, household),
            history=household_history(household, mask_personal=True), can_edit=can_edit_registry(self.request.user),
            can_view_full_id=can_view_full_id(self.request.user),
            household=household, sections=sections, members=member_rows, year_rows=year_rows,
            criteria_labels=[label for _c, label in criteria_labels],
            area_path=" ".join([a.name for a in ancestors] + [household.area.name]),
        )
        return context


HISTORY_SKIP = {"history_id", "history_date", "history_change_reason", "history_type", "history_user",
                "channel", "os_user", "updated_at", "created_at", "version"}
HISTORY_TYPES = {"+": gettext_lazy("新建"), "~": gettext_lazy("修改"), "-": gettext_lazy("删除")}
HISTORY_LIMIT = 200


# Dates that are (or may be) a birth date: the masked ID number hides exactly the birth date, so beside it the
# history shows their year only — to every role: the full number shows only through the logged display.
BIRTH_DATE_FIELDS = {"birth_date", "entered_on"}


def _shown(field, value, mask_personal=False):
    """A historical value for the history table: masked ID numbers, choice labels, 是/否, amounts in 元 with
    thousands separators, dates as YYYY-MM-DD and birth dates as YYYY-**-** (a change of month or day still
    shows as a change), — for blank."""
    name = field.name
    if name == "id_number":
        return mask_id_number(value) or "—"
    if name in BIRTH_DATE_FIELDS and value is not None:
        return f"{value.year}-**-**"
    if isinstance(value, dt.date):
        return value.isoformat()
    if name == "phone" and mask_personal:
        return mask_phone(value) or "—"
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, MoneyField) and value is not None:
        return yuan(selectors.yuan_to_fen(value))  # 22,034 or 22,034.50, as on the rest of the page
    if isinstance(value, bool) or (value is None and field.get_internal_type() == "BooleanField"):
        return yes_no(value)
    return "—" if value in (None, "") else value


@functools.cache
def _history_fields(model):
    """The historical model of ``model`` and its shown fields. Resolved once: each ``Model.history`` access
    builds a manager class (django-simple-history), which costs more than the query it serves."""
    hist = model.history.model
    return hist, [f for f in hist._meta.concrete_fields if f.name not in HISTORY_SKIP and f.attname != "history_id"]


def household_history(household, limit=HISTORY_LIMIT, mask_personal=False):
    """The audit trail of one household's file: changes to the household, its members, incomes and pairings,
    newest first (time, user, channel, what, field, old → new, the change reason: the import batch and file,
    the demo load). The caller has already scoped ``household``.

    Read as plain rows (one query per table, ``values()``), each record compared with the previous record
    of the same row, field by field (the fields of ``HISTORY_SKIP`` are bookkeeping, not shown)."""
    cadres = {}

    def pairing_label(r):
        if not cadres:
            from xiaokang.accounts.models import User

            ids = Pairing.history.filter(household_id=household.pk).values("cadre_id")
            cadres.update({u.pk: cadre_name(u) for u in User.objects.filter(pk__in=ids)})
        return _("帮扶结对（%(c)s）") % {"c": cadres.get(r["cadre_id"], r["cadre_id"])}

    sources = [
        (Household, {"id": household.pk}, lambda r: _("户信息")),
        (Member, {"household_id": household.pk}, lambda r: _("成员 %(n)s") % {"n": r["name"]}),
        (Income, {"household_id": household.pk}, lambda r: _("%(y)s 年收入") % {"y": r["year"]}),
        (Pairing, {"household_id": household.pk}, pairing_label),
    ]
    entries = []
    for model, lookup, label in sources:
        hist, fields = _history_fields(model)
        qs = hist._default_manager.filter(**lookup)
        names = [f.attname for f in fields]
        records = list(qs.order_by("id", "history_date", "history_id").values(
            *names, "history_id", "history_date", "history_type", "history_change_reason", "channel", "os_user",
            "history_user__username"))
        previous = {}
        for rec in records:
            old = previous.get(rec["id"])
            changes = []
            if old is not None and rec["history_type"] == "~":
                changes = [{"field": f.verbose_name, "old": _shown(f, old[f.attname], mask_personal),
                            "new": _shown(f, rec[f.attname], mask_personal)}
                           for f in fields if old[f.attname] != rec[f.attname]]
            previous[rec["id"]] = rec
            if rec["history_type"] == "~" and old is not None and not changes:
                continue  # saved without a visible change
            channel = rec["channel"]
            entries.append({
                "date": rec["history_date"], "user": rec["history_user__username"] or (
                    _("%(login)s（系统账号）") % {"login": rec["os_user"]} if rec["os_user"] else "—"),
                "channel": Channel(channel).label if channel in Channel.values else (channel or "—"),
                "type": HISTORY_TYPES.get(rec["history_type"], rec["history_type"]), "object": label(rec),
                "changes": changes, "order": rec["history_id"], "reason": rec["history_change_reason"] or "",
            })
    entries.sort(key=lambda e: (e["date"], e["order"]), reverse=True)
    return entries[:limit]


class HouseholdEditView(PersonDataMixin, TemplateView):
    """Edit the main fields of a household (乐观锁: the version read travels in a hidden field).

    404 outside the user's area, 403 for a role that may not edit, 409 (nothing written) when someone
    saved the household since the form was opened."""

    template_name = "registry/household_edit.html"

    def get_household(self):
        household = self.get_scoped_object(Household.objects.select_related("area"), pk=self.kwargs["pk"])
        if not can_edit_registry(self.request.user):
            raise PermissionDenied(_("您的角色不能修改贫困户信息"))
        return household

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        household = kwargs.get("household")
        if household is not None and kwargs.get("locked"):
            from xiaokang.workflow.services import may_request_change

            # the 提交变更申请 link only for the roles that may file one (a city administrator may not)
            context["may_request_change"] = may_request_change(self.request.user, household)
        return context

    def get(self, request, *args, **kwargs):
        household = self.get_household()
        form = HouseholdEditForm(instance=household, initial={"version": household.version})
        from xiaokang.workflow.engine import is_locked

        extra = {"conflict": str(HouseholdLocked(household.pk)), "locked": True} if is_locked(household) else {}
        return self.render_to_response(self.get_context_data(form=form, household=household, **extra))

    def post(self, request, *args, **kwargs):
        household = self.get_household()
        # Fields absent from the request keep their current value (a partial post never blanks them).
        current = HouseholdEditForm(instance=household)
        data = {name: current[name].value() for name in current.fields if name != "version"}
        data.update({k: v for k, v in request.POST.items() if k in current.fields})
        form = HouseholdEditForm(data, instance=household)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, household=household), status=400)
        household.refresh_from_db()  # form validation touched the instance; nothing is saved through it
        changes = {n: form.cleaned_data[n] for n in form.changed_data if n != "version"}
        try:
            update_household(household.pk, changes, form.cleaned_data["version"], user=request.user,
                             channel=Channel.WEB)
        except EditConflict as exc:
            merge = conflict_merge(household.pk, form.cleaned_data["version"], request.POST)
            if merge is None:  # the version opened is not in the history: the user reopens the form
                return self.render_to_response(
                    self.get_context_data(form=form, household=household, conflict=str(exc)), status=409)
            return self.render_to_response(self.get_context_data(
                form=merge["form"], household=merge["current"], conflict=_(
                    "该户信息已被他人修改（您编辑的是第 %(e)s 版，当前为第 %(c)s 版），您的修改未保存。") % {
                    "e": exc.expected_version, "c": exc.current_version}, merge=merge), status=409)
        except HouseholdLocked as exc:
            return self.render_to_response(
                self.get_context_data(form=form, household=household, conflict=str(exc), locked=True), status=409)
        return redirect("household_detail", pk=household.pk)


def conflict_merge(household_pk: int, opened_version: int, post) -> dict | None:
    """After an edit conflict (``EditConflict``): what others saved since the editor opened the form, and the
    form again, at the current version, with the editor's own changes kept — nothing typed is lost, nothing
    of the others' is overwritten unseen. Compares three records: the version the editor opened (from the
    history: ``Household.history`` keeps the version of each record), the current one, and the editor's.

    Returns ``{"form", "current", "others": [{"label", "opened", "current", "mine", "conflict"}], "kept_out"}``
    — ``others``: the fields changed by others (``mine`` the editor's value when they changed it too: a
    conflict, the editor's value is in the form); ``kept_out``: masked fields (the phone number) the editor
    changed, which a form shows only masked and must be typed again — or None when the opened version is
    not in the history or the editor's values do not validate against it."""
    import copy

    hist = (Household.history.filter(id=household_pk, version=opened_version)
            .order_by("-history_date", "-history_id").first())
    if hist is None:
        return None
    opened = hist.instance
    base = HouseholdEditForm(instance=opened)
    data = {name: base[name].value() for name in base.fields if name != "version"}
    data.update({k: v for k, v in post.items() if k in base.fields and k != "version"})
    data["version"] = opened_version
    mine_form = HouseholdEditForm(data, instance=copy.copy(opened))
    if not mine_form.is_valid():
        return None
    mine = [n for n in mine_form.changed_data if n != "version"]
    current = Household._base_manager.select_related("area").get(pk=household_pk)
    merged = copy.copy(current)
    kept_out = []
    for name in mine:
        if name in HouseholdEditForm.masked:
            kept_out.append(Household._meta.get_field(name).verbose_name)
            continue
        setattr(merged, Household._meta.get_field(name).attname, mine_form.cleaned_data[name])
    others = []
    for name in HouseholdEditForm._meta.fields:
        attname = Household._meta.get_field(name).attname
        if getattr(current, attname) == getattr(opened, attname):
            continue
        label, was = field_display(opened, name, mask_personal=True)
        others.append({"label": label, "opened": was, "current": field_display(current, name, mask_personal=True)[1],
                       "mine": field_display(mine_form.instance, name, mask_personal=True)[1] if name in mine else None,
                       "conflict": name in mine})
    return {"form": HouseholdEditForm(instance=merged, initial={"version": current.version}), "current": current,
            "others": others, "kept_out": kept_out}


class FullIdNumberView(PersonDataMixin, TemplateView):
    """Display one member's full ID number (POST only), for county/town/village admins of the area;
    every display is logged (``FullIdView``: who, when, which member)."""

    template_name = "registry/full_id.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        member = self.get_scoped_object(Member.objects.select_related("household"), pk=kwargs["member_pk"],
                                        household_id=kwargs["pk"])
        if not can_view_full_id(request.user):
            raise PermissionDenied(_("您的角色不能查看完整证件号码"))
        FullIdView.objects.create(user=request.user, username=request.user.get_username(), member=member,
                                  household=member.household, area_code=member.household.area_id,
                                  ip_address=request.META.get("REMOTE_ADDR") or None)
        response = self.render_to_response(self.get_context_data(member=member, household=member.household))
        response["Cache-Control"] = "no-store"
        return response


class FullPhoneView(PersonDataMixin, TemplateView):
    """Display a household's full phone number (POST only), for county/town/village admins of the area;
    every display is logged (``FullIdView`` with field ``phone``: who, when, which household)."""

    template_name = "registry/full_id.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        household = self.get_scoped_object(Household.objects.all(), pk=kwargs["pk"])
        if not can_view_full_id(request.user):
            raise PermissionDenied(_("您的角色不能查看完整联系电话"))
        if not household.phone:
            raise Http404(_("该户未登记联系电话"))  # nothing to show: nothing logged
        FullIdView.objects.create(user=request.user, username=request.user.get_username(), field="phone",
                                  household=household, area_code=household.area_id,
                                  ip_address=request.META.get("REMOTE_ADDR") or None)
        response = self.render_to_response(self.get_context_data(household=household, phone=household.phone))
        response["Cache-Control"] = "no-store"
        return response


VISITS_SHOWN = 20


def cadre_name(user) -> str:
    """A cadre as pages show them: their name in the Chinese order (``User.get_full_name``), else their login."""
    return user.get_full_name() if user is not None else "—"


def visit_rows(visits) -> list[dict]:
    """Visits for a page: way, cadre, and the texts with any ID or mobile number masked (a cadre may have
    typed one into a note)."""
    return [{"visit": v, "cadre": cadre_name(v.cadre), "mode": v.get_mode_display(),
             "situation": mask_free_text(v.situation), "needs": mask_free_text(v.needs),
             "measures": mask_free_text(v.measures)}
            for v in visits]


def current_pairings(qs, today):
    """Pairings of ``qs`` current on ``today`` (started, not ended before it)."""
    return qs.filter(started_on__lte=today).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))


def household_visits(user, household, today) -> dict:
    """The household page's 帮扶走访 panel: its current cadres, its latest visits (``VISITS_SHOWN``) and their
    number, and the form when ``user`` is one of its current pairing cadres."""
    pairings = list(current_pairings(Pairing.objects.filter(household=household), today)
                    .select_related("cadre").order_by("started_on"))
    visits = list(Visit.objects.filter(household=household).select_related("cadre")[:VISITS_SHOWN])
    total = len(visits) if len(visits) < VISITS_SHOWN else Visit.objects.filter(household=household).count()
    may_record = getattr(user, "role", None) == Role.PAIRING_CADRE and any(p.cadre_id == user.pk for p in pairings)
    return {"pairings": [{"cadre": cadre_name(p.cadre), "since": p.started_on} for p in pairings],
            "visits": visit_rows(visits), "visit_total": total,
            "visit_form": VisitForm(initial={"visited_on": today}) if may_record else None}


def my_pairings(user, today) -> list[dict] | None:
    """A pairing cadre's households (我的结对户) for their dashboard: each current pairing's household and
    village, since when, the cadre's latest visit and their visits this year — never-visited households first.
    None for any other role."""
    from django.db.models import Count

    if getattr(user, "role", None) != Role.PAIRING_CADRE:
        return None
    mine = Q(household__visits__cadre=user)
    rows = (current_pairings(Pairing.objects.filter(cadre=user), today)
            .select_related("household", "household__area")
            .annotate(last_visit=Max("household__visits__visited_on", filter=mine),
                      visits_this_year=Count("household__visits", filter=mine & Q(
                          household__visits__visited_on__gte=dt.date(today.year, 1, 1))))
            .order_by(F("last_visit").asc(nulls_first=True), "household__household_number"))
    return [{"household": p.household, "since": p.started_on, "last_visit": p.last_visit,
             "visits_this_year": p.visits_this_year} for p in rows]


def _refused(request, message, status, back):
    return TemplateResponse(request, "workflow/refused.html",
                            {"message": message, "errors": [], "status": status, "back": back}, status=status)


def field_errors_text(errors, labels: dict) -> str:
    """Errors by field (a form's ``errors``, a ValidationError's ``message_dict``) as one line — 字段：原因；字段：原因
    — with the punctuation of the page's language (``labels``: field name -> label)."""
    sep, colon, comma = _("；"), _("："), _("，")
    return sep.join(comma.join(str(m) for m in messages) if name == "__all__"
                    else f"{labels.get(name, name)}{colon}{comma.join(str(m) for m in messages)}"
                    for name, messages in errors.items())


def error_text(exc: ValidationError, labels: dict) -> str:
    """A ValidationError as one line (``field_errors_text``)."""
    if hasattr(exc, "error_dict"):
        return field_errors_text(exc.message_dict, labels)
    return _("；").join(exc.messages)


class HouseholdVisitView(PersonDataMixin, TemplateView):
    """Record a visit (帮扶走访记录) from the household page (POST only): the household's current pairing cadre
    (``services.record_visit``). 404 outside the user's area or pairings, 403 for another role or cadre,
    400 (nothing written) for a bad or repeated record."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        household = self.get_scoped_object(Household.objects.select_related("area"), pk=kwargs["pk"])
        back = reverse("household_detail", args=[household.pk]) + "#visits"
        form = VisitForm(request.POST)
        labels = {name: f.label for name, f in form.fields.items()}
        if not form.is_valid():
            return self.again(form, field_errors_text(form.errors, labels))
        try:
            record_visit(household, request.user, channel=Channel.WEB, **form.cleaned_data)
        except PermissionDenied as exc:
            return _refused(request, str(exc), 403, back)
        except ValidationError as exc:
            return self.again(form, error_text(exc, labels))
        return redirect(back)

    def again(self, form, message):
        """The household page again (400) with the form as the cadre filled it and the reason: nothing typed
        is lost."""
        page = HouseholdDetailView()
        page.setup(self.request, **self.kwargs)
        context = page.get_context_data(**self.kwargs)
        context.update(visit_form=form, visit_error=message)
        return TemplateResponse(self.request, page.template_name, context, status=400)


class VisitListView(PersonDataMixin, TemplateView):
    """帮扶走访: the visits of the user's jurisdiction in a year (a pairing cadre: of their paired households),
    newest first, with the year's coverage — households currently paired, how many of them were visited in
    the year (走访覆盖) — and the paired households not yet visited, with their cadres; for everyone but a pairing
    cadre, also the area's registered households and how many of them have no current pairing at all (the
    coverage does not count them). Filters: year (default
    this year; ``all``: every year), area prefix, household number, way of visiting."""

    template_name = "registry/visit_list.html"

    def filtered(self, today):
        """(form, valid filters, year, the visits, the current pairings, the year's visit lookup)."""
        form = VisitFilterForm(self.request.GET or None)
        data = valid_filters(form)
        year = data.get("year") or today.year
        visits = self.scoped(Visit)
        pairings = current_pairings(self.scoped(Pairing), today)
        if data.get("area"):
            visits, pairings = visits.within(data["area"]), pairings.within(data["area"])
        if data.get("household"):
            visits = visits.filter(household__household_number=data["household"])
            pairings = pairings.filter(household__household_number=data["household"])
        in_year = ({} if year == "all" else
                   {"visited_on__gte": dt.date(year, 1, 1), "visited_on__lte": dt.date(year, 12, 31)})
        if data.get("mode"):
            visits = visits.filter(mode=data["mode"])
            in_year["mode"] = data["mode"]
        visits = visits.filter(**{k: v for k, v in in_year.items() if k.startswith("visited_on")})
        return form, data, year, visits, pairings, in_year

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        form, data, year, visits, pairings, in_year = self.filtered(today)
        paired = pairings.values("household_id").distinct().count()
        registered = unpaired = None
        if getattr(self.request.user, "role", None) != Role.PAIRING_CADRE:
            # coverage counts paired households only: say how many of the area's households have no cadre at all
            households = self.scoped(Household)
            if data.get("area"):
                households = households.within(data["area"])
            if data.get("household"):
                households = households.filter(household_number=data["household"])
            registered = households.count()
            unpaired = households.exclude(Exists(current_pairings(Pairing.objects.filter(household_id=OuterRef("pk")),
                                                                   today))).count()
        visited_any = Exists(Visit.objects.filter(household_id=OuterRef("household_id"), **in_year))
        paired_visited = pairings.filter(visited_any).values("household_id").distinct().count()
        unvisited = list(pairings.exclude(visited_any).select_related("household", "household__area", "cadre")
                         .order_by("household__area_id", "household__household_number")[:PAGE_SIZE])
        page = Paginator(visits.select_related("household", "household__area", "cadre").order_by("-visited_on", "-id"),
                         PAGE_SIZE).get_page(self.request.GET.get("page"))
        params = self.request.GET.copy()
        params.pop("page", None)
        context.update(
            form=form, year=year, page=page, rows=visit_rows(page.object_list), querystring=params.urlencode(),
            visit_count=page.paginator.count, households_visited=visits.values("household_id").distinct().count(),
            paired=paired, paired_visited=paired_visited, registered=registered, unpaired=unpaired,
            coverage=f"{paired_visited * 100 / paired:.1f}" if paired else None,
            unvisited=[{"household": p.household, "cadre": cadre_name(p.cadre), "since": p.started_on}
                       for p in unvisited],
            unvisited_more=paired - paired_visited > len({p.household_id for p in unvisited}),
        )
        return context


VISIT_COLUMNS = [("visited_on", "走访日期"), ("household_number", "户编号"), ("village", "所在村"),
                 ("area_code", "所在村代码"), ("cadre", "帮扶责任人"), ("mode", "走访方式"), ("situation", "走访情况"),
                 ("needs", "困难与诉求"), ("measures", "帮扶措施与下步打算"), ("channel", "登记渠道"),
                 ("created_at", "登记时间")]


class VisitExportView(VisitListView):
    """The filtered visits as a ledger (走访台账): ``?format=xlsx`` (default) or ``csv``, the list's filters;
    texts with ID and mobile numbers masked; logged in the export log. Statisticians and donors 403."""

    def get(self, request, *args, **kwargs):
        from xiaokang.core import tables

        fmt = request.GET.get("format", "xlsx")
        if (refused := tables.bad_format(fmt)) is not None:
            return refused
        form, data, year, visits, _pairings, _in_year = self.filtered(timezone.localdate())
        if form.errors:  # a ledger of something other than what was asked for would mislead: nothing exported
            return tables.bad_filters(form)
        visits = visits.select_related("household", "household__area", "cadre").order_by("-visited_on", "-id")
        with translation.override("zh-hans"):  # the ledger is Chinese whatever the page's language
            rows = [{"visited_on": r["visit"].visited_on, "household_number": r["visit"].household.household_number,
                     "village": r["visit"].household.area.name, "area_code": r["visit"].household.area_id,
                     "cadre": r["cadre"], "mode": str(r["mode"]), "situation": r["situation"], "needs": r["needs"],
                     "measures": r["measures"], "channel": r["visit"].get_channel_display(),
                     "created_at": r["visit"].created_at}
                    for r in visit_rows(visits)]
        return tables.download(request, rows, VISIT_COLUMNS, f"走访台账_{year}", fmt, kind="visits",
                               filters={**data, "year": year}, area_code=data.get("area") or "")


household_list = HouseholdListView.as_view()
visit_export = VisitExportView.as_view()
household_visit = HouseholdVisitView.as_view()
visit_list = VisitListView.as_view()
full_phone = FullPhoneView.as_view()
household_edit = HouseholdEditView.as_view()
full_id_number = FullIdNumberView.as_view()
household_detail = HouseholdDetailView.as_view()
