"""Out-of-area cases of the workflow routes for tests/test_routes_scoped.py: objects of 茶陵 (430224) that a
炎陵 county administrator must get 404 for (H4's exit instance, an objection, a change request)."""

import datetime as dt

from django.urls import reverse


def chaling_objects(d):
    """H4 (茶陵): an exit instance at the notice end step with one objection, and a change request (cached on d)."""
    if not hasattr(d, "_wf"):
        from xiaokang.accounts.models import User
        from xiaokang.workflow import services
        from xiaokang.workflow.models import ChangeRequest, Objection

        root = User.objects.create_superuser("wf_root", password="x")
        on = dt.date(2020, 10, 1)
        inst = services.start_household_exit(d.h4, user=root, on=on)
        for code in ("appraisal", "verification", "household_signature", "notice_start"):
            services.take_step(inst, code, user=root, on=on)
        objection = Objection.objects.create(instance=inst, text="测试异议", raised_on=on,
                                             recorded_by_username="wf_root")
        cr = ChangeRequest.objects.create(household=d.h4, area_code=d.h4.area_id, changes={"phone": "1"},
                                          reason="测试", base_version=d.h4.version, requested_by_username="wf_root")
        d._wf = (inst, objection, cr)
    return d._wf


def _inst(d):
    return chaling_objects(d)[0]


OUT_OF_AREA = {
    "workflow_start_exit": lambda d: ("post", reverse("workflow_start_exit", args=[d.h4.pk]), {}),
    "workflow_step": lambda d: ("post", reverse("workflow_step", args=[_inst(d).pk]),
                                {"step": "notice_end", "outcome": "approved", "on": "2020-10-20"}),
    "workflow_objection": lambda d: ("post", reverse("workflow_objection", args=[_inst(d).pk]), {"text": "异议"}),
    "workflow_objection_resolve": lambda d: ("post", reverse("workflow_objection_resolve",
                                                             args=[chaling_objects(d)[1].pk]), {"resolution": "x"}),
    "workflow_list bulk": lambda d: ("post", reverse("workflow_list"),
                                     {"instance": [_inst(d).pk], "step": "notice_end", "outcome": "approved"}),
    "change_request_create": lambda d: ("get", reverse("change_request_create", args=[d.h4.pk]), {}),
    "change_request_detail": lambda d: ("get", reverse("change_request_detail", args=[chaling_objects(d)[2].pk]), {}),
    "change_request_detail POST": lambda d: ("post", reverse("change_request_detail",
                                                             args=[chaling_objects(d)[2].pk]), {"decision": "approve"}),
    "api_workflow_detail": lambda d: ("get", reverse("api_workflow_detail", args=[_inst(d).pk]), {}),
    "api_workflow_step": lambda d: ("post", reverse("api_workflow_step", args=[_inst(d).pk]), {}),
}
