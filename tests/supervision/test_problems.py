"""Supervision problems (督查问题, issue 3's inspector: "read within the area, record findings"): an inspector
records a problem and assigns it with a deadline (交办), the area's administrators report the rectification
(整改), an inspector revisits (回访) and closes it (销号) or sends it back; each step only by its role, in order
(409 otherwise), scoped like every page."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaokang.registry.models import Pairing
from xiaokang.supervision.models import Problem

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    d = sample.build()
    d.inspector = sample.make_user("ducha", area=d.yl, role="inspector")
    d.village = sample.make_user("cun", area=d.yl_a, role="village_admin")
    return d


def client(user):
    c = Client()
    c.force_login(user)
    return c


def day(n=0):
    return f"{timezone.localdate() + dt.timedelta(days=n):%Y-%m-%d}"


def record(c, **fields):
    body = {"household_number": "YL0002", "area_code": "", "category": "basic_needs", "source": "covert",
            "found_on": day(-30), "deadline": day(-1), "description": "土坯房墙体有约 20 厘米裂缝，未列入危房改造", **fields}
    return c.post(reverse("supervision_problems"), body)


def test_a_problem_goes_from_assignment_to_rectification_revisit_and_closing(data):
    insp, village = client(data.inspector), client(data.village)
    r = record(insp)
    problem = Problem.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("supervision_problem", args=[problem.pk])
    assert (problem.area_code, problem.household, problem.status, problem.inspector) == (
        "430225100201", data.h2, "assigned", data.inspector)
    # the deadline has passed: overdue on the list, in the counts and the filter
    page = village.get(reverse("supervision_problems")).content.decode()
    assert "逾期未整改 1" in page and "土坯房墙体有约 20 厘米裂缝" in page
    assert village.get(reverse("supervision_problems"), {"overdue": "on", "status": "closed"}).context["page"].paginator.count == 0
    page = village.get(reverse("supervision_problem", args=[problem.pk])).content.decode()
    assert 'id="rectify-form"' in page and 'id="revisit-form"' not in page
    # 整改 by the village administrator
    url = reverse("supervision_rectify", args=[problem.pk])
    assert village.post(url, {"note": "已申报危房改造，先行加固", "on": day(-5)}).status_code == 302
    problem.refresh_from_db()
    assert (problem.status, problem.rectified_by, problem.rectified_on) == (
        "rectified", data.village, timezone.localdate() - dt.timedelta(days=5))
    # 回访 not passed: back to 待整改 with a new deadline
    revisit = reverse("supervision_revisit", args=[problem.pk])
    assert insp.post(revisit, {"passed": "0", "note": "仅简单加固，未改造", "on": day(-3), "deadline": day(30)}).status_code == 302
    problem.refresh_from_db()
    assert (problem.status, problem.sent_back, problem.deadline) == (
        "assigned", 1, timezone.localdate() + dt.timedelta(days=30))
    assert str(problem.revisit_result) == "未通过，退回整改"
    assert "逾期未整改 0" in village.get(reverse("supervision_problems")).content.decode()
    assert village.post(url, {"note": "完成 C 级危房改造", "on": day(-1)}).status_code == 302
    problem.refresh_from_db()  # the revisit on record is the earlier one: the page says so
    assert str(problem.revisit_result) == "上次回访未通过"
    assert 'id="revisit-result">上次回访未通过<' in village.get(reverse("supervision_problem", args=[problem.pk])).content.decode()
    assert insp.post(revisit, {"passed": "1", "note": "住房安全，户主签字满意", "on": day()}).status_code == 302
    problem.refresh_from_db()
    assert (problem.status, problem.revisited_by, problem.revisit) == ("closed", data.inspector, "住房安全，户主签字满意")
    # the household page lists it; the list filters by household
    page = village.get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert 'id="problems"' in page and "土坯房墙体有约 20 厘米裂缝" in page and "已销号" in page
    assert 'id="problems"' not in village.get(reverse("household_detail", args=[data.h1.pk])).content.decode()
    assert village.get(reverse("supervision_problems"), {"household": "YL0001"}).context["page"].paginator.count == 0
    assert village.get(reverse("supervision_problems"), {"household": "YL0002"}).context["page"].paginator.count == 1
    history = client(data.village).get(reverse("supervision_problem", args=[problem.pk])).context["history"]
    today = timezone.localdate()
    assert [(h["step"], h["user"], h["on"], h["note"]) for h in history] == [
        ("交办", "ducha", today - dt.timedelta(days=30), f"整改期限 {day(-1)}"),
        ("整改", "cun", today - dt.timedelta(days=5), "已申报危房改造，先行加固"),
        ("回访未通过，退回整改", "ducha", today - dt.timedelta(days=3), f"仅简单加固，未改造；整改期限改为 {day(30)}"),
        ("整改", "cun", today - dt.timedelta(days=1), "完成 C 级危房改造"),
        ("回访通过，销号", "ducha", today, "住房安全，户主签字满意")]
    r = insp.post(revisit, {"passed": "1", "note": "再次回访", "on": day()})
    assert r.status_code == 409 and "该问题已销号，不能再回访" in r.content.decode()


def test_steps_out_of_order_get_409_and_roles_403(data):
    insp, village = client(data.inspector), client(data.village)
    record(insp)
    problem = Problem.objects.get()
    rectify, revisit = (reverse(n, args=[problem.pk]) for n in ("supervision_rectify", "supervision_revisit"))
    r = insp.post(revisit, {"passed": "1", "note": "x", "on": day()})  # not rectified yet
    assert r.status_code == 409 and "整改后才能回访" in r.content.decode()
    r = insp.post(rectify, {"note": "x", "on": day()})  # an inspector does not rectify
    assert r.status_code == 403 and "只有问题所在区域的管理员可以填报整改情况" in r.content.decode()
    r = record(village)  # an administrator does not record problems
    assert r.status_code == 403 and "只有督查员可以登记督查问题" in r.content.decode()
    # a refused rectification (a date before the problem was found) comes back on the page, filled in
    early = village.post(rectify, {"note": "已整改到位", "on": day(-40)})
    assert early.status_code == 400 and "未办理：整改完成日期：不能早于发现日期" in early.content.decode()
    assert "已整改到位" in early.content.decode() and 'id="rectify-form"' in early.content.decode()
    assert village.post(rectify, {"note": "已整改", "on": day()}).status_code == 302
    r = village.post(rectify, {"note": "再次整改", "on": day()})
    assert r.status_code == 409 and "不能再填报整改情况" in r.content.decode()
    r = village.post(revisit, {"passed": "1", "note": "x", "on": day()})
    assert r.status_code == 403 and "只有督查员可以回访销号" in r.content.decode()
    problem.refresh_from_db()
    assert (problem.status, problem.rectification, problem.revisit) == ("rectified", "已整改", "")
    # aggregate-only roles: no supervision pages
    stat = client(sample.make_user("tongji", area=data.yl, role="statistician"))
    assert stat.get(reverse("supervision_problems")).status_code == 403


@pytest.mark.parametrize("fields, status, message", [
    ({"household_number": "", "area_code": "430224100201"}, 400, "该区划不在您的管辖区域（430225）内"),
    ({"household_number": "", "area_code": "430225999999"}, 400, "区划代码不存在：430225999999"),
    ({"household_number": "", "area_code": ""}, 400, "请填写户编号或区划代码"),
    ({"deadline": "2020-01-01", "found_on": "2020-02-01"}, 400, "整改期限：不能早于发现日期"),
    ({"found_on": "2999-01-01", "deadline": "2999-02-01"}, 400, "发现日期：不能晚于今天"),
    ({"description": "   "}, 400, "问题描述"),
    ({"category": "weather"}, 400, "问题类别"),
    # another county's household reads like one that does not exist
    ({"household_number": "CL0001"}, 400, "户编号：户编号不存在或不在您的管辖区域内：CL0001"),
    ({"household_number": "YL9999"}, 400, "户编号：户编号不存在或不在您的管辖区域内：YL9999"),
    ({"area_code": "430225100202"}, 400, "区划代码 430225100202 与户 YL0002 的所在村不一致"),
])
def test_bad_problems_are_refused_and_nothing_is_written(data, fields, status, message):
    r = record(client(data.inspector), **fields)
    assert r.status_code == status and message in r.content.decode()
    assert not Problem.objects.exists()
    # the list again with the reason and the form as filled in
    assert "问题未登记：" in r.content.decode() and 'id="problem-form"' in r.content.decode()
    if fields.get("description", "x").strip():
        assert "土坯房墙体有约 20 厘米裂缝" in r.content.decode()


def test_problems_are_scoped_to_the_area_and_a_cadres_paired_households(data):
    insp = client(data.inspector)
    record(insp)  # YL0002, 炎陵一村
    record(insp, household_number="", area_code="430225100202", description="村级公示栏未更新")  # 炎陵二村
    village = client(data.village)  # 炎陵一村
    assert village.get(reverse("supervision_problems")).context["page"].paginator.count == 1
    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    assert client(cadre).get(reverse("supervision_problems")).context["page"].paginator.count == 0
    Pairing.objects.create(cadre=cadre, household=data.h2, started_on=dt.date(2016, 1, 1))
    page = client(cadre).get(reverse("supervision_problems"))
    assert page.context["page"].paginator.count == 1 and page.context["problem_form"] is None
    other = Problem.objects.get(area_code="430225100202")
    assert village.get(reverse("supervision_problem", args=[other.pk])).status_code == 404
    # the household moves to 炎陵二村: its problem follows it
    data.h2.area = data.yl_b
    data.h2.save()
    assert set(Problem.objects.values_list("area_code", flat=True)) == {"430225100202"}
    assert village.get(reverse("supervision_problems")).context["page"].paginator.count == 0


def test_the_same_problem_twice_is_refused(data):
    insp = client(data.inspector)
    assert record(insp).status_code == 302
    r = record(insp)
    assert r.status_code == 400 and "这个问题已经登记过" in r.content.decode()
    assert record(insp, area_code="430225100201").status_code == 400  # the village's own code given too: same
    assert record(insp, category="data").status_code == 302  # another category: another problem
    assert Problem.objects.count() == 2


def test_problem_pages_in_english(data):
    """English second: labels, steps, punctuation and the refusals in English (the data stay as written)."""
    insp = client(data.inspector)
    insp.cookies.load({"django_language": "en"})
    r = record(insp, found_on="2999-01-01", deadline="2999-02-01")
    assert r.status_code == 400 and "Discovered on: cannot be after today" in r.content.decode()
    assert record(insp).status_code == 302
    problem = Problem.objects.get()
    page = insp.get(reverse("supervision_problem", args=[problem.pk])).content.decode()
    assert "Assigned" in page and f"deadline {day(-1)}" in page and "炎陵一村 (430225100201)" in page
    assert "（" not in page.split("<main")[1]
    page = insp.get(reverse("supervision_problems")).content.decode()
    assert "Problems: 1" in page and "Overdue: 1" in page


def test_the_problem_ledger_export(data):
    import csv
    import io

    insp = client(data.inspector)
    record(insp, description="核对户主手机 13812345678")
    r = client(data.village).get(reverse("supervision_export"), {"format": "csv", "status": "assigned"})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8").lstrip("\ufeff"))))
    assert [(x["户编号"], x["问题类别"], x["状态"], x["逾期"], x["问题描述"], x["督查员"]) for x in rows] == [
        ("YL0002", "两不愁三保障", "待整改", "是", "核对户主手机 138****5678", "ducha")]
    assert (rows[0]["发现日期"], rows[0]["整改期限"], rows[0]["整改完成日期"]) == (
        str(timezone.localdate() - dt.timedelta(days=30)), str(timezone.localdate() - dt.timedelta(days=1)), "")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client(data.village).get(reverse("supervision_export")).content)).active
    header = [c.value for c in sheet[1]]
    found = sheet[2][header.index("发现日期")]
    assert (found.value.date(), found.number_format) == (timezone.localdate() - dt.timedelta(days=30), "yyyy-mm-dd")
    assert len(list(csv.DictReader(io.StringIO(client(data.village).get(
        reverse("supervision_export"), {"format": "csv", "status": "closed"}).content.decode("utf-8").lstrip("\ufeff"))))) == 0
    other = client(sample.make_user("chaling", area=data.cl, role="county_admin"))
    assert "YL0002" not in other.get(reverse("supervision_export"), {"format": "csv"}).content.decode("utf-8")
    r = client(data.village).get(reverse("supervision_export"), {"format": "csv", "area": "abc"})
    assert r.status_code == 400 and "未导出：区划代码：区划代码应为 2、4、6、9 或 12 位数字" in r.content.decode()
