"""Registry pages: the household list (贫困户查询) and one household's file (一户一档)."""

import datetime as dt

from django.core.paginator import Paginator
from django.db.models import Max
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from xiaokang.core.money import format_yuan
from xiaokang.core.views import ScopedViewMixin
from xiaokang.policy.models import HouseholdAssessment
from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE

from . import selectors
from .forms import YEARS, HouseholdFilterForm
from .idnumber import mask_id_number
from .models import Household

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


def yes_no(value):
    if value is None:
        return _("未填写")
    return _("是") if value else _("否")


def field_display(obj, name: str):
    """(label, shown value) of a model field: choice labels, 是/否, — for blank."""
    f = obj._meta.get_field(name)
    value = getattr(obj, name)
    if name == "other_causes":
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


class HouseholdListView(ScopedViewMixin, TemplateView):
    template_name = "registry/household_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = HouseholdFilterForm(self.request.GET or None)
        data = {}
        if form.is_bound:
            form.is_valid()
            data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
        year = data.get("year") or (
            self.scoped(HouseholdAssessment).filter(year__in=YEARS).aggregate(y=Max("year"))["y"] or YEARS[-1]
        )
        qs = selectors.household_list(
            self.scoped(Household), q=data.get("q", ""), area=data.get("area", ""),
            poverty_status=data.get("poverty_status", ""), household_type=data.get("household_type", ""),
            main_cause=data.get("main_cause", ""), year=year, verdict=data.get("verdict", ""),
        )
        page = Paginator(qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        rows = [{
            "household": h,
            "head_name": h.head_name or "—",
            "head_id": mask_id_number(h.head_id_number) or "—",
            "verdict": h.verdict,
            "verdict_label": VERDICT_LABELS.get(h.verdict, _("未评估")),
        } for h in page.object_list]
        params = self.request.GET.copy()
        params.pop("page", None)
        context.update(form=form, page=page, rows=rows, year=year, querystring=params.urlencode())
        return context


class HouseholdDetailView(ScopedViewMixin, TemplateView):
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
        sections = [(title, [field_display(household, n) for n in names]) for title, names in HOUSEHOLD_SECTIONS]
        ancestors = list(reversed(household.area.ancestors()))
        context.update(
            household=household, sections=sections, members=member_rows, year_rows=year_rows,
            criteria_labels=[label for _c, label in criteria_labels],
            area_path=" ".join([a.name for a in ancestors] + [household.area.name]),
        )
        return context


household_list = HouseholdListView.as_view()
household_detail = HouseholdDetailView.as_view()
