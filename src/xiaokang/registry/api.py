"""JSON API of the visits (帮扶走访记录), for the pairing cadres' mobile clients — session authentication and
CSRF, scoped like the pages (``workflow.api.ApiView``):

- ``GET  /api/v1/households/<id>/visits/`` — the household's visits, newest first (at most 200), ID and
  mobile numbers in the texts masked: ``{"household": {"id", "household_number"}, "count", "visits": [...]}``;
- ``POST /api/v1/households/<id>/visits/`` with ``{"visited_on": "YYYY-MM-DD", "mode": "home"|"phone"|"other",
  "situation": "…", "needs": "…", "measures": "…"}`` — record a visit (``services.record_visit``): 201 with
  the visit; 400 (bad JSON, date, way or text, a date outside the pairing, the same visit again), 403 (not the
  household's current pairing cadre, statistician/donor, not logged in), 404 (outside the user's area or
  pairings) — always a JSON body ``{"error": …, "message": …}``, the message in the session's language (Chinese
  by default).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _

from xiaokang.core.audit import Channel
from xiaokang.workflow.api import ApiView
from xiaokang.workflow.views import json_body, json_error, parse_date

from .models import Household, Visit, VisitMode
from .services import record_visit
from .views import error_text, visit_rows

API_VISITS_SHOWN = 200
FIELDS = ("visited_on", "mode", "situation", "needs", "measures")


def _label(name: str) -> str:
    return str(Visit._meta.get_field(name).verbose_name)


def visit_json(row) -> dict:
    v = row["visit"]
    return {"id": v.pk, "household_id": v.household_id, "visited_on": v.visited_on.isoformat(), "mode": v.mode,
            "mode_label": str(row["mode"]), "cadre": row["cadre"], "situation": row["situation"],
            "needs": row["needs"], "measures": row["measures"], "channel": v.channel,
            "created_at": v.created_at.isoformat()}


class HouseholdVisitsApi(ApiView):
    http_method_names = ["get", "post"]

    def get(self, request, pk):
        household = self.get_scoped_object(Household, pk=pk)
        visits = Visit.objects.filter(household=household).select_related("cadre")
        return JsonResponse({"household": {"id": household.pk, "household_number": household.household_number},
                             "count": visits.count(),
                             "visits": [visit_json(r) for r in visit_rows(visits[:API_VISITS_SHOWN])]},
                            json_dumps_params={"ensure_ascii": False})

    def post(self, request, pk):
        household = self.get_scoped_object(Household, pk=pk)
        body = json_body(request)
        if body is None:
            return json_error(400, _("请求体应为 JSON 对象"))
        for name in ("situation", "needs", "measures", "mode"):
            if body.get(name) is not None and not isinstance(body[name], str):
                return json_error(400, _("%(name)s（%(label)s）应为字符串") % {"name": name, "label": _label(name)})
        mode = body.get("mode") or VisitMode.HOME
        if mode not in VisitMode.values:
            return json_error(400, _("mode（走访方式）应为 %(values)s") % {"values": "/".join(VisitMode.values)})
        try:
            visited_on = parse_date(body.get("visited_on"))
            if visited_on is None:
                return json_error(400, _("缺少 visited_on（走访日期，YYYY-MM-DD）"))
            visit = record_visit(household, request.user, visited_on=visited_on, mode=mode,
                                 situation=body.get("situation") or "", needs=body.get("needs") or "",
                                 measures=body.get("measures") or "", channel=Channel.API)
        except ValidationError as exc:
            return json_error(400, error_text(exc, {name: _label(name) for name in FIELDS}))
        return JsonResponse({"visit": visit_json(visit_rows([visit])[0])}, status=201,
                            json_dumps_params={"ensure_ascii": False})


household_visits_api = HouseholdVisitsApi.as_view()
