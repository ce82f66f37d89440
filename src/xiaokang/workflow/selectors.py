"""Reads of the workflow app, already scoped by the caller (``for_user``): the workflow panel of one
household's file and the list of open exit instances of an area."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q

from xiaokang.registry.models import Household

from .engine import is_locked, may_take
from .models import ChangeRequest, Outcome, State, StepRecord, WorkflowInstance
from .processes import HOUSEHOLD_EXIT, HOUSEHOLD_EXIT_PROCESS
from .services import may_request_change


def household_ct():
    return ContentType.objects.get_for_model(Household)


def step_rows(instance):
    """The history of an instance: one row per step record (label, outcome, who, when, comment, data)."""
    process = instance.process_def
    rows = []
    for r in StepRecord.objects.filter(instance_id=instance.pk).order_by("step_index", "id"):
        rows.append({
            "record": r, "label": process.steps[r.step_index].label, "outcome": r.get_outcome_display(),
            "rejected": r.outcome == Outcome.REJECTED,
        })
    return rows


def instance_summary(instance):
    process = instance.process_def
    nxt = instance.next_step
    return {
        "instance": instance, "process": process, "next_step": nxt,
        "state_label": State(instance.state).label,
        "progress": f"{min(instance.current_step, len(process.steps))}/{len(process.steps)}",
        "steps": [{"index": i, "step": s, "done": i < instance.current_step,
                   "current": instance.state == State.OPEN and i == instance.current_step}
                  for i, s in enumerate(process.steps)],
    }


def household_panel(user, household) -> dict:
    """Context of the workflow panel on the household page (the caller has scoped ``household``)."""
    instances = list(WorkflowInstance.objects.for_user(user).filter(
        content_type=household_ct(), object_id=household.pk).order_by("-id"))
    current = next((i for i in instances if i.process == HOUSEHOLD_EXIT and i.state == State.OPEN), None)
    summaries = []
    for inst in instances:
        s = instance_summary(inst)
        s["history"] = step_rows(inst)
        s["objections"] = list(inst.objections.all())
        s["may_take"] = may_take(s["next_step"], user, inst.area_code)
        summaries.append(s)
    first = HOUSEHOLD_EXIT_PROCESS.steps[0]
    return {
        "instances": summaries,
        "current": current,
        "locked": is_locked(household),
        "may_start": current is None and household.poverty_status != "exited"
        and may_take(first, user, household.area_id),
        "may_request_change": may_request_change(user, household),
        "change_requests": list(ChangeRequest.objects.for_user(user).filter(household=household).order_by("-id")[:20]),
        # a pairing cadre reads no workflow (core.scoping): say so rather than "none"
        "hidden_for_role": getattr(user, "role", None) == "pairing_cadre",
    }


def open_exit_instances(qs, *, step: str = ""):
    """Open household-exit instances of a (scoped) queryset, with their household number and village, oldest
    first; ``step`` filters on the next step's code."""
    qs = qs.filter(process=HOUSEHOLD_EXIT, state=State.OPEN)
    if step:
        codes = [s.code for s in HOUSEHOLD_EXIT_PROCESS.steps]
        if step in codes:
            qs = qs.filter(current_step=codes.index(step))
    return qs.order_by("area_code", "id")


def attach_households(instances) -> list[dict]:
    """Rows for the list page: instance, household (one query for all), next step."""
    instances = list(instances)
    households = Household._base_manager.select_related("area").in_bulk([i.object_id for i in instances])
    return [{"instance": i, "household": households.get(i.object_id), "next_step": i.next_step,
             "progress": f"{i.current_step}/{len(HOUSEHOLD_EXIT_PROCESS.steps)}"} for i in instances]


def step_counts(qs) -> list[dict]:
    """Open exit instances by next step (one aggregate query)."""
    counts = dict(qs.filter(process=HOUSEHOLD_EXIT, state=State.OPEN).values_list("current_step")
                  .annotate(n=Count("id")).values_list("current_step", "n"))
    return [{"step": s, "count": counts.get(i, 0)} for i, s in enumerate(HOUSEHOLD_EXIT_PROCESS.steps)]


def pending_change_requests(qs):
    return qs.filter(Q(status=ChangeRequest.Status.PENDING)).select_related("household")
