"""The dashboard (看板): one year's figures of the user's area by the next level down, with charts."""

from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from xiaokang.areas.models import Area, Level
from xiaokang.core.cache import QUALITY, REGISTRY, WORK, cached, cached_html, version
from xiaokang.core.scoping import scope_key
from xiaokang.registry.views import may_see_person_data
from xiaokang.core.views import ScopedViewMixin, jurisdiction
from xiaokang.policy.rules.household import MET, NOT_MET, UNASSESSABLE
from xiaokang.quality.models import Finding
from xiaokang.registry.models import Pairing
from xiaokang.supervision.models import Problem

from . import selectors

VERDICT_LABELS = {
    MET: gettext_lazy("达到脱贫标准"),
    NOT_MET: gettext_lazy("未达到脱贫标准"),
    UNASSESSABLE: gettext_lazy("无法评估"),
}
LEVEL_LABELS = {
    Level.PROVINCE: gettext_lazy("省"), Level.CITY: gettext_lazy("市州"), Level.COUNTY: gettext_lazy("县市区"),
    Level.TOWN: gettext_lazy("乡镇"), Level.VILLAGE: gettext_lazy("村"),
}


def parse_year(value, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if year in selectors.YEARS else default


class DashboardView(ScopedViewMixin, TemplateView):
    template_name = "dashboards/dashboard.html"

    def root_area(self):
        """The area the user's dashboard starts from (None = whole dataset, superuser only)."""
        user = self.request.user
        area = jurisdiction(user)
        if area is not None:
            return area
        if user.is_superuser:
            provinces = list(Area.objects.filter(level=Level.PROVINCE, valid_to__isnull=True)[:2])
            return provinces[0] if len(provinces) == 1 else None
        raise PermissionError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            root = self.root_area()
        except PermissionError:
            context["no_area"] = True
            context["body"] = render_to_string("dashboards/_dashboard_body.html", context, self.request)
            return context
        area = root
        code = self.request.GET.get("area", "").strip()
        if code and (root is None or code != root.code):
            # Drill down: only to an area inside the user's jurisdiction (the one scoping mechanism).
            area = self.scoped(Area).filter(code=code).first()
            if area is None:
                raise Http404(_("不在管辖区域内"))
        # The figures are cached under the registry's data version (core.cache): recomputed after each change;
        # so is the rendered body, per jurisdiction (the quality counts are scoped to it) and language.
        key = area.code if area is not None else ""
        year = parse_year(self.request.GET.get("year"), None) or cached(
            REGISTRY, f"dashboard-year:{key}", lambda: selectors.latest_assessed_year(area))

        def render_body():
            context.update(self.body_context(root, area, year))
            return render_to_string("dashboards/_dashboard_body.html", context, self.request)

        # (per kind of reader too: the household-list links are left out for aggregate-only roles)
        person = "p" if may_see_person_data(self.request.user) else "a"
        context["body"] = cached_html(
            REGISTRY, f"dashboard:{scope_key(self.request.user)}:{person}:{key}:{year}:quality-{version(QUALITY)}"
                      f":work-{version(WORK)}:{timezone.localdate()}",
            render_body)
        # a pairing cadre's own households with their visits (live: a visit just recorded shows at once)
        from xiaokang.registry.views import my_pairings

        context["my_pairings"] = my_pairings(self.request.user, timezone.localdate())
        return context

    def body_context(self, root, area, year) -> dict:
        """What the dashboard's body shows: the figures of ``area`` for ``year``, charts, quality counts."""
        key = area.code if area is not None else ""
        dash = cached(REGISTRY, f"dashboard:{key}:{year}", lambda: selectors.dashboard(area, year))
        root_prefix = root.code if root is not None else ""
        crumbs = []
        if area is not None and area != root:
            crumbs = [a for a in reversed(area.ancestors()) if a.code.startswith(root_prefix)]
        chart = dash.chart_data()
        chart["labels"] = {
            "remaining_people": _("未脱贫人口（人）"), "incidence": _("贫困发生率（%）"),
            "trend": _("2014–2020 年未脱贫人口与贫困发生率"), "causes": _("主要致贫原因（户）"),
            "verdicts": _("评估结论（户）"), "areas": _("各地未脱贫人口与贫困发生率"),
            "verdict_names": {k: str(v) for k, v in VERDICT_LABELS.items()},
            "no_charts": _("图表组件未安装（运行 make assets），以下为表格数据。"),
            "no_assessment": _("该年度尚无评估结果"), "no_data": _("暂无数据"),
        }
        return dict(
            dash=dash, area=area, root=root, year=year, years=selectors.YEARS, crumbs=crumbs,
            child_level_label=LEVEL_LABELS.get(dash.child_level, ""),
            drillable=bool(dash.rows) and dash.child_level != Level.VILLAGE,
            verdict_rows=[(k, VERDICT_LABELS[k], dash.verdicts[k]) for k in selectors.VERDICT_ORDER],
            chart=chart, is_superuser=self.request.user.is_superuser,
            person_links=may_see_person_data(self.request.user),
            quality=selectors.quality_counts(self.scoped(Finding).within(area), area, get_language() or "zh"),
            work=selectors.work_counts(self.scoped(Pairing).within(area), self.scoped(Problem).within(area), area,
                                       timezone.localdate()),
            work_year=timezone.localdate().year,
        )


dashboard = DashboardView.as_view()
