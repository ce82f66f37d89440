"""Records that carry their household's village code follow the household when it moves (迁移后的区域同步).

Findings, monitoring events, warnings, cases and consolidation classes, change requests, workflow
instances and yearly assessments store the village code of their household (``area_code``, copied when they were created) so that
their lists are scoped by one indexed column (``core.scoping``) without joining the registry. When a
household moves to another village (web edit, admin, import, change request), those copies must move
with it: otherwise the old village's users keep reading and acting on them (a red-team trial took a
workflow step on a household that had left the village) and the new village's users never see them.

    follow_household_area(household_ids) -> int   # rows whose area_code was brought in line

Set-based: one ``UPDATE`` per table over the rows of those households whose code differs (nothing is
written when the household did not move). Called by ``Household.save`` when the area changed and by the
import after it updated households. The full-ID view log (``FullIdView``) keeps the area where the view
happened: it is a record of the past.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import F, OuterRef, Subquery

# Models with a ``household`` foreign key and a copy of its village: (model, the copy's field). A household's
# yearly assessments follow it too: they are person-level (incomes, household size), and a new run of the
# rules over past years files them under the household's current village anyway.
FOLLOWERS = (("quality.Finding", "area_code"), ("monitoring.HouseholdEvent", "area_code"),
             ("monitoring.EarlyWarning", "area_code"), ("monitoring.MonitoringCase", "area_code"),
             ("monitoring.ConsolidationClass", "area_code"), ("workflow.ChangeRequest", "area_code"),
             ("policy.HouseholdAssessment", "area_id"), ("supervision.Problem", "area_code"))


def follow_household_area(household_ids) -> int:
    """Bring the ``area_code`` of every record of the households ``household_ids`` (an iterable of ids, or
    a queryset of ids) in line with the household's current village; workflow instances follow their
    subject (a household, or a monitoring case of one). Returns the number of rows changed."""
    from django.contrib.contenttypes.models import ContentType

    from .models import Household

    ids = household_ids if hasattr(household_ids, "query") else list(household_ids)
    if not hasattr(ids, "query") and not ids:
        return 0
    changed = 0
    village = Subquery(Household._base_manager.filter(pk=OuterRef("household_id")).values("area_id")[:1])
    for label, field in FOLLOWERS:
        model = apps.get_model(label)
        changed += (model._base_manager.filter(household_id__in=ids).exclude(**{field: F("household__area_id")})
                    .update(**{field: village}))
    instance = apps.get_model("workflow.WorkflowInstance")
    case = apps.get_model("monitoring.MonitoringCase")
    for subject, cases in ((Household, None), (case, case._base_manager.filter(household_id__in=ids))):
        pks = ids if cases is None else cases.values("pk")
        current = Subquery(subject._base_manager.filter(pk=OuterRef("object_id"))
                           .values("area_id" if subject is Household else "area_code")[:1])
        rows = instance._base_manager.filter(content_type=ContentType.objects.get_for_model(subject),
                                             object_id__in=pks)
        changed += rows.exclude(area_code=current).update(area_code=current)
    return changed
