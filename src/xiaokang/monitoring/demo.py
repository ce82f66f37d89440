"""Demo data for return-to-poverty monitoring (synthetic): events of demo households, the year's warnings and
classes, and three cases at different stages in one county.

Call ``load_demo(year=2020, area="4302")`` after the demo registry is loaded and assessed (``demo.loader``).
Events: every 40th exited demo household (by id) an out-of-pocket medical cost of 12,000 元 (above the
10,000 threshold), every 97th a disaster, every 113th the death of a labourer, every 131st a job loss. Then
``run_monitoring``; then, acting as the first superuser (if any), three 炎陵 (430225) medical-cost warnings
are verified: one case is identified and eliminated (帮扶消除) after six months of income checks above
the range, one is identified and monitored, one is still being identified. Re-running replaces the demo
events and leaves existing cases as they are (workflow records are never deleted).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import F
from django.db.models.functions import Mod

from xiaokang.registry.models import Household

from . import services
from .models import EarlyWarning, HouseholdEvent, MonitoringCase

SOURCE = "演示数据（虚构）"
EVENTS = (  # (every n-th household by id, remainder, kind, month, day, amount 元)
    (40, 0, "medical_cost", 3, 15, Decimal("12000")),
    (97, 1, "disaster", 7, 10, None),
    (113, 2, "labourer_death", 5, 20, None),
    (131, 3, "job_loss", 9, 1, None),
)


def load_events(year: int, area: str) -> int:
    HouseholdEvent.objects.filter(source=SOURCE, occurred_on__year=year, area_code__startswith=area).delete()
    exited = Household.objects.filter(is_demo=True, exit_year__lte=year, area__code__startswith=area)
    rows = []
    for n, r, kind, month, day, amount in EVENTS:
        ids = exited.annotate(r=Mod(F("id"), n)).filter(r=r).values_list("id", "area_id")
        rows += [HouseholdEvent(household_id=pk, area_code=code, kind=kind, occurred_on=dt.date(year, month, day),
                                amount=amount, source=SOURCE) for pk, code in ids]
    HouseholdEvent.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _identify(case, user, start: dt.date):
    for step, day in (("appraisal", 1), ("township_review", 9), ("county_approval", 11)):
        services.take_case_step(case, services.MONITORING_CASE, step, user=user, on=start + dt.timedelta(days=day),
                                comment=SOURCE)


def load_cases(year: int, county: str = "430225") -> int:
    from xiaokang.accounts.models import User

    user = User.objects.filter(is_superuser=True).order_by("id").first()
    if user is None or MonitoringCase.objects.filter(area_code__startswith=county, household__is_demo=True).exists():
        return 0
    warnings = list(EarlyWarning.objects.filter(year=year, kind="MEDICAL_COST", status="new",
                                                area_code__startswith=county, household__is_demo=True)
                    .exclude(household__monitoring_cases__isnull=False).order_by("household_id")[:3])
    for i, w in enumerate(warnings):
        case = services.verify_warning(w, user=user, on=dt.date(year, 4, 1), comment=SOURCE)
        if i == 2:
            continue  # still being identified
        _identify(case, user, dt.date(year, 4, 1))
        services.add_measure(case, kind="health", description="大病保险、医疗救助（演示）", started_on=dt.date(year, 4, 20),
                             user=user)
        services.add_income_check(case, checked_on=dt.date(year, 5, 1), per_capita_income=Decimal("6800"), user=user)
        if i == 0:
            services.add_income_check(case, checked_on=dt.date(year, 11, 2), per_capita_income=Decimal("7200"),
                                      user=user)
            services.propose_elimination(case, user=user, kind="assisted", spending_resolved=True,
                                         guarantees_secure=True, water_secure=True, on=dt.date(year, 11, 2),
                                         comment=SOURCE)
            services.take_case_step(case, services.RISK_ELIMINATION, "township_review", user=user,
                                    on=dt.date(year, 11, 3))
            services.take_case_step(case, services.RISK_ELIMINATION, "county_approval", user=user,
                                    on=dt.date(year, 11, 5))
    return len(warnings)


def load_demo(year: int = 2020, area: str = "4302") -> dict:
    """Events, warnings, classes and three cases for the demo. Returns counts."""
    events = load_events(year, area)
    services.run_monitoring(year, area)
    cases = load_cases(year)
    run = services.run_monitoring(year, area)  # classes again: the new cases make their households 重点帮扶户
    return {"events": events, "warnings": sum(run.warnings.values()), "cases": cases,
            "open_cases": MonitoringCase.objects.filter(status__in=services.OPEN_STATUSES).count(),
            "classes": run.classes}
