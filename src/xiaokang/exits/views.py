"""Village and county exit pages (贫困村退出、贫困县摘帽): one year's stored assessments with each criterion and
reason, read through the one scoping mechanism (``ScopedViewMixin.scoped`` = ``for_user``)."""

from django.db.models import Max
from django.utils.translation import get_language
from django.views.generic import TemplateView

from xiaokang.core.views import ScopedViewMixin

from .models import CountyAssessment, ExitReason, VillageAssessment
from .selectors import county_rows, village_rows

YEARS = list(range(2014, 2021))


class _ExitView(ScopedViewMixin, TemplateView):
    model = VillageAssessment
    select = staticmethod(village_rows)
    level = "village"

    def year(self, assessments):
        try:
            year = int(self.kwargs.get("year") or self.request.GET.get("year", ""))
        except ValueError:
            year = None
        if year is None:
            year = assessments.aggregate(y=Max("year"))["y"] or YEARS[-1]
        return year

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        assessments = self.scoped(self.model)
        code = self.kwargs.get("code")
        year = self.year(assessments)
        if code:  # one village / county: 404 when outside the user's area (or not assessed)
            self.get_scoped_object(self.model, area_id=code, year=year)
            assessments = assessments.filter(area_id=code)
        lang = "en" if (get_language() or "").startswith("en") else "zh"
        rows = self.select(assessments, self.scoped(ExitReason), year, lang)
        context.update(rows=rows, year=year, years=YEARS, level=self.level, single=bool(code),
                       counts={v: sum(1 for r in rows if r["verdict"] == v) for v in ("met", "not_met", "unassessable")})
        return context


class VillageExitView(_ExitView):
    template_name = "exits/villages.html"


class CountyExitView(_ExitView):
    template_name = "exits/counties.html"
    model = CountyAssessment
    select = staticmethod(county_rows)
    level = "county"


village_list = VillageExitView.as_view()
county_list = CountyExitView.as_view()
