"""Demo data of the workflow app: household exits in progress, so that the 审批 pages show something.

``load_demo()`` (after the registry is loaded and the demo users exist) opens the exit process for up to nine
demo households that are still poor (未脱贫) and takes 0…8 of its steps for them (the i-th household stands
before step i), dated in the past with the 7-day notice respected; one household waiting for the township
review has an unresolved objection. ``wipe_demo()`` (before the demo registry is wiped: demo household ids
are reused) removes the workflow rows of demo households. Steps are taken by the superuser given (or the first
superuser).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from xiaokang.registry.models import Household

from . import services
from .models import ChangeRequest, Objection, StepRecord, WorkflowInstance
from .processes import HOUSEHOLD_EXIT, HOUSEHOLD_EXIT_PROCESS

# Day of each step counted from the start (the notice lasts 8 days ≥ exit.notice_days_min = 7).
STEP_DAYS = (0, 2, 4, 5, 13, 16, 20, 22, 25)
FIRST_COUNTY = "430225"


def wipe_demo() -> int:
    """Delete the workflow instances, step records, objections and change requests of demo households (a
    privileged raw delete: step records are otherwise never deleted). Returns the instances deleted."""
    ct = ContentType.objects.get_for_model(Household)
    demo_ids = Household._base_manager.filter(is_demo=True).values("pk")
    with transaction.atomic():
        instances = WorkflowInstance.objects.filter(content_type=ct, object_id__in=demo_ids)
        for model in (StepRecord, Objection):
            rows = model._base_manager.filter(instance__in=instances.values("pk"))
            rows._raw_delete(rows.db)
        crs = ChangeRequest.objects.filter(household__in=demo_ids)
        crs._raw_delete(crs.db)
        return instances._raw_delete(instances.db)


def load_demo(user=None, households: int = 9, area: str = "4302") -> list[WorkflowInstance]:
    """Open exits for up to ``households`` poor demo households of ``area`` (at most one per step position)."""
    from django.contrib.auth import get_user_model

    if user is None:
        user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        return []
    busy = WorkflowInstance.objects.filter(process=HOUSEHOLD_EXIT, state="open").values("object_id")
    poor = Household.objects.within(area).filter(is_demo=True, poverty_status="poor").exclude(pk__in=busy)
    # 炎陵县 first: the demo's county and town accounts (demo_yanling, demo_town) are there.
    first = list(poor.within(FIRST_COUNTY).order_by("area_id", "pk")[:households]) if FIRST_COUNTY.startswith(area) else []
    rest = poor.exclude(pk__in=[h.pk for h in first]).order_by("area_id", "pk")[: households - len(first)]
    candidates = first + list(rest)
    start = timezone.localdate() - dt.timedelta(days=STEP_DAYS[-1] + 5)
    steps = HOUSEHOLD_EXIT_PROCESS.steps
    out = []
    with transaction.atomic():
        for i, household in enumerate(candidates):
            inst = services.start_household_exit(household, user=user, on=start)
            for k in range(min(i, len(steps) - 1)):
                on = start + dt.timedelta(days=STEP_DAYS[k])
                services.take_step(inst, steps[k].code, user=user, on=on, comment="演示数据")
            if steps[inst.current_step].code == "township_review":
                Objection.objects.create(instance=inst, text="（演示）村民反映该户收入登记不全",
                                         raised_on=start + dt.timedelta(days=STEP_DAYS[4]), recorded_by=user,
                                         recorded_by_username=user.get_username())
            out.append(inst)
    return out
