"""Data-quality checks in the demo (演示疑点数据).

``load_demo(year=2020, area="4302")`` puts a few deterministic data errors into the synthetic demo
registry (demo households only; set-based UPDATEs, no history rows — like the demo's bulk load) so that the
疑点数据 page has something to show, then runs every rule for the year. The synthetic generator is
otherwise consistent, so without this the demo shows only the genuine 五保/特困 suspects (Q11).
Call it after the demo registry is loaded (``xiaokang.demo.loader.load_demo``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from xiaokang.registry.models import Household, Member

from .services import CheckRun, run_checks

# Every n-th demo row (by primary key) gets one error: deterministic for a given registry.
EVERY = {"pairing_cadre": 397, "labour_capacity": 509, "work_months": 1201, "farmland": 1499}


def seed_errors(every: dict[str, int] | None = None) -> dict[str, int]:
    """Blank or distort a few fields of demo households/members (``EVERY``, or ``every`` to override).

    Returns the rows changed per field.
    """
    every = {**EVERY, **(every or {})}
    hh = Household.objects.filter(is_demo=True)
    mm = Member.objects.filter(household__is_demo=True)
    with transaction.atomic():
        out = {
            "pairing_cadre": hh.annotate(r=F("id") % every["pairing_cadre"]).filter(r=0).update(pairing_cadre=""),
            "labour_capacity": mm.annotate(r=F("id") % every["labour_capacity"]).filter(r=0)
            .update(labour_capacity=""),
            "work_months": mm.annotate(r=F("id") % every["work_months"]).filter(r=0, work_months__isnull=False)
            .update(work_months=13),
            "farmland": hh.annotate(r=F("id") % every["farmland"]).filter(r=0).update(farmland_mu=F("farmland_mu") + 300),
        }
    return out


def load_demo(year: int = 2020, area: str | None = "4302", errors: bool = True) -> CheckRun:
    """Seed the demo errors (``errors``) and run the checks over ``area`` for ``year``."""
    if errors:
        seed_errors()
    return run_checks(area, year)
