"""Workflow pages, the bulk action and the JSON API: 409 for an out-of-order step from the page, the bulk
action and the API alike; 403 for the wrong role; the panel on the household page; change request pages; the
locked edit page; statisticians and donors refused person-level pages."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from xiaokang.registry.models import Household
from xiaokang.workflow import services
from xiaokang.workflow.models import ChangeRequest, StepRecord, WorkflowInstance

from .test_household_exit import D, run


def client(user, csrf=False):
    c = Client(enforce_csrf_checks=csrf)
    c.force_login(user)
    return c


@pytest.fixture
def inst(data, users):
    return services.start_household_exit(data.h2, user=users.village, on=D)


# ------------------------------------------------------------------------------------------- single page


def test_start_and_step_from_the_household_page(data, users):
    c = client(users.village)
    page = c.get(reverse("household_detail", args=[data.h2.pk]))
    assert 'id="start-exit"' in page.content.decode()
    r = c.post(reverse("workflow_start_exit", args=[data.h2.pk]))
    assert r.status_code == 302
    inst = WorkflowInstance.objects.get()
    r = c.post(reverse("workflow_step", args=[inst.pk]), {"step": "appraisal", "outcome": "approved",
                                                           "comment": "村民代表一致同意"})
    assert r.status_code == 302
    html = c.get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert "村民代表一致同意" in html and "民主评议" in html and "当前步骤：村两委和驻村工作队核实" in html
    assert 'id="step-form"' in html
    # the town administrator sees the panel but no step form (not their step)
    html = client(users.town).get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert 'id="workflow"' in html and 'id="step-form"' not in html


def test_out_of_order_step_from_the_page_is_409(data, users, inst):
    r = client(users.town).post(reverse("workflow_step", args=[inst.pk]),
                                {"step": "township_review", "outcome": "approved", "on": "2020-10-02"})
    assert r.status_code == 409
    assert "步骤顺序不对：当前应办理“民主评议”，不能办理“乡镇审核”" in r.content.decode()
    assert StepRecord.objects.count() == 0


def test_wrong_role_from_the_page_is_403(data, users, inst):
    r = client(users.county).post(reverse("workflow_step", args=[inst.pk]),
                                  {"step": "appraisal", "outcome": "approved", "on": "2020-10-02"})
    assert r.status_code == 403
    assert "不能办理“民主评议”" in r.content.decode()


def test_second_start_from_the_page_is_409(data, users, inst):
    r = client(users.village).post(reverse("workflow_start_exit", args=[data.h2.pk]))
    assert r.status_code == 409 and "已有办理中" in r.content.decode()


def test_notice_and_objections_from_the_page(data, users, inst):
    run(inst, users, 4)
    c = client(users.village)
    r = c.post(reverse("workflow_step", args=[inst.pk]), {"step": "notice_end", "outcome": "approved",
                                                           "on": "2020-10-10"})
    assert r.status_code == 409 and "最早 2020-10-11" in r.content.decode()
    c.post(reverse("workflow_objection", args=[inst.pk]), {"text": "有人反映其子女在外务工收入高"})
    r = c.post(reverse("workflow_step", args=[inst.pk]), {"step": "notice_end", "outcome": "approved",
                                                           "on": "2020-10-11"})
    assert r.status_code == 302
    r = client(users.town).post(reverse("workflow_step", args=[inst.pk]),
                                {"step": "township_review", "outcome": "approved", "on": "2020-10-12"})
    assert r.status_code == 409 and "1 条异议尚未处理" in r.content.decode()
    objection = inst.objections.get()
    client(users.town).post(reverse("workflow_objection_resolve", args=[objection.pk]), {"resolution": "已核实"})
    r = client(users.town).post(reverse("workflow_step", args=[inst.pk]),
                                {"step": "township_review", "outcome": "approved", "on": "2020-10-12"})
    assert r.status_code == 302


# ------------------------------------------------------------------------------------------------ bulk


@pytest.fixture
def three(data, users):
    """Exit instances for H2 (炎陵一村), H3 (炎陵二村; H3 is exited, so its status is reset first) and a new 炎陵一村
    household; all at step 0."""
    import sample_data as sample

    Household.objects.filter(pk=data.h3.pk).update(poverty_status="poor", exit_year=None)
    h6 = sample.household("YL0006", data.yl_a)
    root = users.superuser
    return [services.start_household_exit(h, user=root, on=D) for h in (data.h2, Household.objects.get(pk=data.h3.pk), h6)]


def test_bulk_step_all_in_order(data, users, three):
    r = client(users.superuser).post(reverse("workflow_list"), {
        "instance": [i.pk for i in three], "step": "appraisal", "outcome": "approved", "on": "2020-10-02"})
    assert r.status_code == 302
    assert StepRecord.objects.filter(step="appraisal").count() == 3


def test_bulk_with_an_out_of_order_item_is_refused_whole(data, users, three):
    services.take_step(three[0], "appraisal", user=users.village, on=D)   # H2 is one step ahead
    r = client(users.superuser).post(reverse("workflow_list"), {
        "instance": [i.pk for i in three], "step": "appraisal", "outcome": "approved", "on": "2020-10-02"})
    assert r.status_code == 409
    html = r.content.decode()
    assert "以下 1 户不能办理" in html and data.h2.household_number in html and "已办理过" in html
    assert StepRecord.objects.count() == 1            # nothing of the bulk request was written
    assert set(WorkflowInstance.objects.values_list("current_step", flat=True)) == {0, 1}


def test_bulk_lists_each_refused_household(data, users, three):
    """A village administrator of 炎陵一村 selects all three: H3 is in another village (403 reason) — all refused."""
    r = client(users.village).post(reverse("workflow_list"), {
        "instance": [i.pk for i in three], "step": "verification", "outcome": "approved", "on": "2020-10-02"})
    # H3 (炎陵二村) is outside the village administrator's area: not even found
    assert r.status_code == 404
    r = client(users.village).post(reverse("workflow_list"), {
        "instance": [three[0].pk, three[2].pk], "step": "verification", "outcome": "approved", "on": "2020-10-02"})
    assert r.status_code == 409
    html = r.content.decode()
    assert "以下 2 户不能办理" in html and "YL0006" in html and data.h2.household_number in html
    assert StepRecord.objects.count() == 0


def test_list_page_shows_open_exits_in_area(data, users, three):
    html = client(users.village).get(reverse("workflow_list")).content.decode()
    assert data.h2.household_number in html and "YL0006" in html
    assert data.h3.household_number not in html          # 炎陵二村
    html = client(users.county).get(reverse("workflow_list") + "?step=appraisal").content.decode()
    assert html.count('name="instance"') == 3


# ------------------------------------------------------------------------------------------------- API


def api_post(c, inst, body):
    return c.post(reverse("api_workflow_step", args=[inst.pk]), json.dumps(body), content_type="application/json")


def test_api_step_and_detail(data, users, inst):
    c = client(users.village)
    r = api_post(c, inst, {"step": "appraisal", "outcome": "approved", "comment": "同意", "on": "2020-10-01"})
    assert r.status_code == 201
    body = r.json()
    assert body["record"]["step"] == "appraisal" and body["record"]["username"] == "cun"
    assert body["workflow"]["next_step"] == {"code": "verification", "label": "村两委和驻村工作队核实"}
    r = c.get(reverse("api_workflow_detail", args=[inst.pk]))
    assert r.status_code == 200 and r.json()["current_step"] == 1 and len(r.json()["history"]) == 1


def test_api_out_of_order_is_409_json(data, users, inst):
    r = api_post(client(users.county), inst, {"step": "county_approval", "on": "2020-10-01"})
    assert r.status_code == 409
    assert r.json() == {"error": "conflict", "message": "步骤顺序不对：当前应办理“民主评议”，不能办理“县级审批”"}


def test_api_errors(data, users, inst):
    c = client(users.town)
    assert api_post(c, inst, {"step": "appraisal"}).status_code == 403
    assert api_post(c, inst, {"step": "appraisal", "on": "2020-13-01"}).status_code == 400
    assert c.post(reverse("api_workflow_step", args=[inst.pk]), "nope", content_type="application/json").status_code == 400
    assert client(users.other_county).get(reverse("api_workflow_detail", args=[inst.pk])).status_code == 404
    assert Client().get(reverse("api_workflow_detail", args=[inst.pk])).status_code == 403
    r = client(users.statistician).get(reverse("api_workflow_detail", args=[inst.pk]))
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


@pytest.mark.parametrize("body, message", [
    ({"step": "appraisal", "comment": {"a": 1}}, "comment 应为字符串"),  # was stored as the text "{'a': 1}"
    ({"step": "appraisal", "data": []}, "data 应为 JSON 对象"),  # was taken for {}
    ({"step": ["appraisal"]}, 'step 须为字符串（步骤代码，如 "appraisal"）'),
    ({"step": 1}, 'step 须为字符串（步骤代码，如 "appraisal"）'),  # was told "缺少 step"
    ({"comment": "x"}, "缺少 step（步骤代码，字符串）"),
])
def test_api_refuses_fields_of_the_wrong_type(data, users, inst, body, message):
    r = api_post(client(users.village), inst, {**body, "on": "2020-10-01"})
    assert r.status_code == 400 and r.json()["message"] == message
    inst.refresh_from_db()
    assert inst.current_step == 0  # nothing taken


def test_api_needs_csrf(data, users, inst):
    c = client(users.village, csrf=True)
    r = api_post(c, inst, {"step": "appraisal", "on": "2020-10-01"})
    assert r.status_code == 403 and r["Content-Type"] == "application/json"
    assert r.json()["error"] == "csrf_failed" and "CSRF" in r.json()["message"]
    assert StepRecord.objects.count() == 0
    # a page form without its token: the Chinese 403 page
    page = c.post(reverse("workflow_step", args=[inst.pk]), {"step": "appraisal", "on": "2020-10-01"})
    assert page.status_code == 403 and "无权访问（403）" in page.content.decode() and "CSRF" in page.content.decode()
    assert StepRecord.objects.count() == 0


def test_api_removal_writes_history_with_api_channel(data, users, inst):
    run(inst, users, 8)
    r = api_post(client(users.county), inst, {"step": "removal", "on": "2020-10-21"})
    assert r.status_code == 201
    last = Household.history.filter(id=data.h2.pk).order_by("-history_id").first()
    assert (last.poverty_status, last.channel) == ("exited", "api")


# ------------------------------------------------------------------------------- locking, change requests


def test_locked_household_edit_page_is_409_pointing_to_change_request(data, users, inst):
    run(inst, users, 7)
    h = Household.objects.get(pk=data.h2.pk)
    page = client(users.county).get(reverse("household_edit", args=[h.pk]))
    assert page.status_code == 200 and "已审批锁定" in page.content.decode()
    r = client(users.county).post(reverse("household_edit", args=[h.pk]), {"version": h.version, "phone": "13912345678"})
    assert r.status_code == 409
    html = r.content.decode()
    # a county administrator decides change requests but does not file them: no link that would answer 403
    assert "变更申请由本村、本乡镇管理员提交" in html and reverse("change_request_create", args=[h.pk]) not in html
    h.refresh_from_db()
    assert h.phone == ""
    r = client(users.village).post(reverse("household_edit", args=[h.pk]), {"version": h.version, "phone": "13912345678"})
    assert r.status_code == 409 and reverse("change_request_create", args=[h.pk]) in r.content.decode()


def test_change_request_pages(data, users, inst):
    run(inst, users, 7)
    h = Household.objects.get(pk=data.h2.pk)
    c = client(users.village)
    assert c.get(reverse("change_request_create", args=[h.pk])).status_code == 200
    r = c.post(reverse("change_request_create", args=[h.pk]), {"phone": "13912345678", "reason": "号码变更"})
    assert r.status_code == 302
    cr = ChangeRequest.objects.get()
    assert cr.changes == {"phone": "13912345678"}
    assert client(users.county).get(reverse("change_request_list")).content.decode().count(h.household_number) == 1
    assert c.post(reverse("change_request_detail", args=[cr.pk]), {"decision": "approve"}).status_code == 403
    assert client(users.county).post(reverse("change_request_detail", args=[cr.pk]),
                                     {"decision": "approve", "comment": "同意"}).status_code == 302
    h.refresh_from_db()
    assert h.phone == "13912345678"
    r = client(users.county).post(reverse("change_request_detail", args=[cr.pk]), {"decision": "approve"})
    assert r.status_code == 409
    assert client(users.county).get(reverse("change_request_create", args=[h.pk])).status_code == 403


# --------------------------------------------------------------------------------------------- privacy


@pytest.mark.parametrize("who", ["statistician", "donor"])
def test_statistician_and_donor_get_403_on_person_level_pages(data, users, inst, who):
    c = client(getattr(users, who))
    m = data.h2.members.first()
    for method, url in [
        ("get", reverse("household_list")), ("get", reverse("household_detail", args=[data.h2.pk])),
        ("get", reverse("household_edit", args=[data.h2.pk])),
        ("post", reverse("member_full_id", args=[data.h2.pk, m.pk])),
        ("get", reverse("workflow_list")), ("get", reverse("change_request_list")),
        ("post", reverse("workflow_step", args=[inst.pk])),
        ("get", reverse("change_request_create", args=[data.h2.pk])),
    ]:
        assert getattr(c, method)(url).status_code == 403, url
    assert c.get(reverse("dashboard")).status_code == 200


def test_ordinary_roles_keep_person_level_pages(data, users):
    for who in ("village", "cadre", "county"):
        assert client(getattr(users, who)).get(reverse("household_detail", args=[data.h2.pk])).status_code == 200
