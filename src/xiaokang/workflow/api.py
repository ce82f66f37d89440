"""JSON API of the workflows (session authentication + CSRF, scoped like the pages):

- ``GET  /api/v1/workflows/<id>/`` — the instance: process, subject, state, current and next step, history;
- ``POST /api/v1/workflows/<id>/steps/`` with ``{"step": …, "outcome": "approved"|"rejected", "comment": …,
  "on": "YYYY-MM-DD", "data": {…}}`` — take the step: 201 with the record; 409 (out of order, already taken,
  notice period, objections), 403 (role, level, statistician/donor, not logged in), 404 (outside the area),
  400 (bad JSON or date) — always a JSON body ``{"error": …, "message": "<中文>"}``.

History written by a step through the API (销号) has the channel ``api``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import View

from xiaokang.core.audit import Channel, audit_channel
from xiaokang.registry.views import PersonDataMixin

from . import selectors, services
from .engine import StepNotAllowed, WorkflowConflict
from .models import Outcome, WorkflowInstance
from .views import json_body, json_error, parse_date, workflow_response


def record_json(r, process):
    return {"step": r.step, "label": process.steps[r.step_index].label, "index": r.step_index,
            "outcome": r.outcome, "username": r.username, "taken_on": r.taken_on.isoformat(),
            "comment": r.comment, "data": r.data, "created_at": r.created_at.isoformat()}


def instance_json(inst):
    process = inst.process_def
    nxt = inst.next_step
    return {
        "id": inst.pk, "process": inst.process, "process_label": process.label,
        "subject": {"type": inst.content_type.model, "id": inst.object_id}, "area_code": inst.area_code,
        "state": inst.state, "current_step": inst.current_step, "locked": inst.locked,
        "next_step": {"code": nxt.code, "label": nxt.label} if nxt else None,
        "started_on": inst.started_on.isoformat(),
        "finished_on": inst.finished_on.isoformat() if inst.finished_on else None,
        "steps": [{"code": s.code, "label": s.label, "level": s.level} for s in process.steps],
        "history": [record_json(row["record"], process) for row in selectors.step_rows(inst)],
    }


class ApiView(PersonDataMixin, View):
    """JSON errors instead of redirects and HTML pages."""

    raise_exception = True  # not logged in: 403, not a redirect to the login page

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            return json_error(404, _("不存在或不在您的管辖区域内"))
        except (WorkflowConflict, StepNotAllowed) as exc:
            return workflow_response(exc, request, json=True)
        except PermissionDenied as exc:
            return json_error(403, str(exc) or _("无权访问"))


class WorkflowDetailApi(ApiView):
    http_method_names = ["get"]

    def get(self, request, pk):
        inst = self.get_scoped_object(WorkflowInstance.objects.select_related("content_type"), pk=pk)
        return JsonResponse(instance_json(inst), json_dumps_params={"ensure_ascii": False})


class WorkflowStepApi(ApiView):
    http_method_names = ["post"]

    def post(self, request, pk):
        inst = self.get_scoped_object(WorkflowInstance, pk=pk)
        body = json_body(request)
        if body is None:
            return json_error(400, _("请求体应为 JSON 对象"))
        step = body.get("step")
        outcome = body.get("outcome") or Outcome.APPROVED
        if step is not None and not isinstance(step, str):
            return json_error(400, "step 须为字符串（步骤代码，如 \"appraisal\"）")
        if not step:
            return json_error(400, "缺少 step（步骤代码，字符串）")
        if outcome not in Outcome.values:
            return json_error(400, f"outcome 应为 {'/'.join(Outcome.values)}")
        data = body.get("data", {})
        if data is None:
            data = {}
        if not isinstance(data, dict):  # [] or "x" is refused, not taken for {}
            return json_error(400, "data 应为 JSON 对象")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):  # stored as written: text only
            return json_error(400, "comment 应为字符串")
        try:
            on = parse_date(body.get("on"))
        except ValidationError as exc:
            return json_error(400, "；".join(exc.messages))
        with audit_channel(Channel.API):
            record = services.take_step(inst, step, user=request.user, outcome=outcome,
                                        comment=comment or "", data=data, on=on)
        inst.refresh_from_db()
        return JsonResponse({"record": record_json(record, inst.process_def), "workflow": instance_json(inst)},
                            status=201, json_dumps_params={"ensure_ascii": False})


workflow_detail_api = WorkflowDetailApi.as_view()
workflow_step_api = WorkflowStepApi.as_view()
