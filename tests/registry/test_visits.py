"""Pairing cadres record their visits (帮扶走访记录, issue 3: "pairing cadre — their own paired households, read
and record visits"): on the household page and through the API, only for a household of a current pairing,
within the pairing's dates and not in the future, never twice, never changed afterwards; administrators and
inspectors of the area read them, with the year's coverage of the paired households."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaokang.registry.models import Pairing, Visit
from xiaokang.registry.services import record_visit

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db
START = dt.date(2016, 1, 1)


@pytest.fixture
def data(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    d = sample.build()
    d.cadre = sample.make_user("ganbu", area=d.yl_a, role="pairing_cadre")
    d.cadre.first_name, d.cadre.last_name = "干部", "赵"
    d.cadre.save()
    d.village = sample.make_user("cun", area=d.yl_a, role="village_admin")
    Pairing.objects.create(cadre=d.cadre, household=d.h2, started_on=START)
    return d


def client(user):
    c = Client()
    c.force_login(user)
    return c


def post_visit(c, household, **fields):
    body = {"visited_on": f"{timezone.localdate():%Y-%m-%d}", "mode": "home", "situation": "了解生产生活情况",
            **fields}
    return c.post(reverse("household_visit", args=[household.pk]), body)


def test_the_paired_cadre_records_a_visit_on_the_household_page(data):
    c = client(data.cadre)
    page = c.get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert 'id="visit-form"' in page and "赵干部（2016-01-01 起）" in page and "尚无走访记录" in page
    # the date input is pre-filled with today in the only format browsers take (zh-hans would write 2026/11/30)
    assert f'type="date" name="visited_on" value="{timezone.localdate():%Y-%m-%d}"' in page
    r = post_visit(c, data.h2, needs="希望安排公益性岗位", measures="联系村里的扶贫车间")
    assert r.status_code == 302 and r["Location"].endswith(f"/registry/households/{data.h2.pk}/#visits")
    visit = Visit.objects.get()
    assert (visit.household, visit.cadre, visit.visited_on, visit.mode, visit.channel) == (
        data.h2, data.cadre, timezone.localdate(), "home", "web")
    assert visit.needs == "希望安排公益性岗位"
    page = c.get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert "了解生产生活情况" in page and "联系村里的扶贫车间" in page and "入户走访" in page
    # the village administrator reads it, without the form (only the paired cadre records visits)
    page = client(data.village).get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert "了解生产生活情况" in page and 'id="visit-form"' not in page


def test_visits_are_refused_to_anyone_but_the_current_pairing_cadre_and_nothing_is_written(data):
    # another role of the same village: 403
    r = post_visit(client(data.village), data.h2)
    assert r.status_code == 403 and "只有帮扶责任人可以登记走访记录" in r.content.decode()
    # the cadre and a household of the same village they are not paired with: 404 (it does not exist for them)
    assert post_visit(client(data.cadre), data.h1).status_code == 404
    # another cadre of the village, not paired with h2: 404 as well
    assert post_visit(client(sample.make_user("ganbu2", area=data.yl_a, role="pairing_cadre")), data.h2).status_code == 404
    # the pairing ended: the household closes (404), and the service refuses too
    Pairing.objects.update(ended_on=dt.date(2020, 12, 31))
    assert post_visit(client(data.cadre), data.h2).status_code == 404
    with pytest.raises(PermissionDenied, match="该户不是您当前的结对帮扶户"):
        record_visit(data.h2, data.cadre, visited_on=dt.date(2020, 6, 1), mode="home", situation="x")
    assert not Visit.objects.exists()


def test_bad_visits_get_400_naming_the_field_and_are_not_written(data):
    c = client(data.cadre)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    r = post_visit(c, data.h2, visited_on=f"{tomorrow:%Y-%m-%d}")
    assert r.status_code == 400
    assert f"走访日期：不能晚于今天（{timezone.localdate():%Y-%m-%d}）" in r.content.decode()
    r = post_visit(c, data.h2, visited_on="2015-12-31")
    assert r.status_code == 400 and "走访日期：早于您与该户的结对日期（2016-01-01）" in r.content.decode()
    r = post_visit(c, data.h2, situation="   ", needs="缺少种苗")
    assert r.status_code == 400 and "走访情况" in r.content.decode()
    # the household page again, the reason above the form and what the cadre typed still in it
    page = r.content.decode()
    assert 'id="visit-error"' in page and "走访记录未登记：" in page and 'value="缺少种苗"' in page
    # its language switch returns to the page the form was sent from, not to the POST-only address (405)
    assert f'name="next" type="hidden" value="/"' in page
    body = {"visited_on": f"{timezone.localdate():%Y-%m-%d}", "mode": "home", "situation": ""}
    home = f"http://testserver{reverse('household_detail', args=[data.h2.pk])}"
    page = c.post(reverse("household_visit", args=[data.h2.pk]), body, HTTP_REFERER=home).content.decode()
    assert f'name="next" type="hidden" value="{home}"' in page
    r = post_visit(c, data.h2, mode="visit")
    assert r.status_code == 400 and "走访方式" in r.content.decode()
    assert not Visit.objects.exists()
    # the pairing's first day is accepted; the same record again (a double submission) is refused
    assert post_visit(c, data.h2, visited_on="2016-01-01").status_code == 302
    r = post_visit(c, data.h2, visited_on="2016-01-01")
    assert r.status_code == 400 and "这条走访记录已经登记过" in r.content.decode()
    assert Visit.objects.count() == 1


def test_the_visit_list_shows_the_years_coverage_of_the_paired_households(data):
    Pairing.objects.create(cadre=data.cadre, household=data.h1, started_on=START)
    today = timezone.localdate()
    record_visit(data.h2, data.cadre, visited_on=today, mode="phone", situation="电话了解务工情况")
    record_visit(data.h1, data.cadre, visited_on=dt.date(today.year - 1, 3, 1), mode="home", situation="去年入户")
    # another county's visit: never on 炎陵's list
    cl_cadre = sample.make_user("cl_ganbu", area=data.cl_a, role="pairing_cadre")
    Pairing.objects.create(cadre=cl_cadre, household=data.h4, started_on=START)
    record_visit(data.h4, cl_cadre, visited_on=today, mode="home", situation="茶陵入户")

    county = client(sample.make_user("xian", area=data.yl, role="county_admin"))
    page = county.get(reverse("visit_list")).content.decode()
    assert "电话了解务工情况" in page and "去年入户" not in page and "茶陵入户" not in page
    # this year: 1 visit of 1 household; 2 households paired, 1 of them visited (50.0%); YL0001 not yet
    assert "走访 1 次，涉及 1 户" in page and "结对中的户 2 户，其中已走访 1 户" in page and "覆盖率 50.0%" in page
    # 炎陵 has 3 registered households (YL0001–YL0003), YL0003 with no cadre: outside the coverage, but said
    assert "本区域建档立卡户 3 户，其中 1 户没有结对中的帮扶责任人" in page
    unvisited = page.split('id="unvisited-table"')[1].split("</table>")[0]
    assert "YL0001" in unvisited and "YL0002" not in unvisited and "赵干部" in unvisited
    # every year: both visited
    page = county.get(reverse("visit_list"), {"year": "all"}).content.decode()
    assert "走访 2 次，涉及 2 户" in page and "覆盖率 100.0%" in page and "去年入户" in page
    page = county.get(reverse("visit_list"), {"year": str(today.year - 1)}).content.decode()
    assert "去年入户" in page and "电话了解务工情况" not in page
    page = county.get(reverse("visit_list"), {"mode": "home"}).content.decode()
    assert "走访 0 次，涉及 0 户" in page and "覆盖率 0.0%" in page
    page = county.get(reverse("visit_list"), {"year": "20x"}).content.decode()
    assert "年度应为 2014 年以后的四位年份" in page
    # an area outside the jurisdiction gives nothing; the other county sees only its own
    page = county.get(reverse("visit_list"), {"area": "430224"}).content.decode()
    assert "茶陵入户" not in page and "走访 0 次" in page
    page = client(sample.make_user("chaling", area=data.cl, role="county_admin")).get(reverse("visit_list")).content.decode()
    assert "茶陵入户" in page and "电话了解务工情况" not in page
    # a statistician: aggregates only, no visit list
    assert client(sample.make_user("tongji", area=data.yl, role="statistician")).get(reverse("visit_list")).status_code == 403


def test_visit_texts_are_shown_with_id_and_mobile_numbers_masked(data):
    number = data.m21.id_number
    record_visit(data.h2, data.cadre, visited_on=timezone.localdate(), mode="home",
                 situation=f"核对户主身份证 {number}，电话 13812345678，旧证 430225680109123")
    page = client(data.village).get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert number not in page and "13812345678" not in page
    assert f"核对户主身份证 {number[:6]}********{number[-4:]}，电话 138****5678，旧证 430225******123" in page
    assert "430225680109123" not in page  # an old 15-digit number too: in a note it is taken for one


def test_the_visit_api_records_and_lists_visits(data):
    c = client(data.cadre)
    url = reverse("api_household_visits", args=[data.h2.pk])
    r = c.post(url, json.dumps({"visited_on": "2020-06-01", "mode": "other", "situation": "田间地头查看产业",
                                "needs": "缺少种苗"}), content_type="application/json")
    assert r.status_code == 201
    body = r.json()["visit"]
    assert (body["visited_on"], body["mode"], body["mode_label"], body["cadre"], body["needs"], body["channel"]) == (
        "2020-06-01", "other", "其他（集中座谈、田间地头等）", "赵干部", "缺少种苗", "api")
    listing = client(data.village).get(url).json()
    assert listing["count"] == 1 and listing["household"]["household_number"] == "YL0002"
    assert listing["visits"][0]["situation"] == "田间地头查看产业"
    for payload, message in (({"situation": "x"}, "缺少 visited_on"), ({"visited_on": "2020-13-01", "situation": "x"},
                             "日期格式应为 YYYY-MM-DD"), ({"visited_on": "2020-06-02", "mode": "fly", "situation": "x"},
                             "mode（走访方式）应为 home/phone/other"), ({"visited_on": "2020-06-02"}, "走访情况："),
                             ({"visited_on": "2020-06-02", "situation": 5}, "situation（走访情况）应为字符串")):
        r = c.post(url, json.dumps(payload), content_type="application/json")
        assert r.status_code == 400 and message in r.json()["message"], (payload, r.json())
    r = client(data.village).post(url, json.dumps({"visited_on": "2020-06-02", "situation": "x"}),
                                  content_type="application/json")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    other = client(sample.make_user("chaling", area=data.cl, role="county_admin"))
    assert other.get(url).status_code == 404
    assert Visit.objects.count() == 1


def test_visits_cannot_be_changed_in_the_admin(data):
    record_visit(data.h2, data.cadre, visited_on=timezone.localdate(), mode="home",
                 situation="入户核对旧证 430225680109123", needs="手机 13812345678")
    visit = Visit.objects.get()
    admin = client(sample.make_user("yanling", area=data.yl, staff=True, role="county_admin"))
    listing = admin.get(reverse("admin:registry_visit_changelist"))
    assert listing.status_code == 200 and "YL0002" in listing.content.decode()
    page = admin.get(reverse("admin:registry_visit_change", args=[visit.pk])).content.decode()
    assert "入户核对旧证 430225******123" in page and "430225680109123" not in page and "138****5678" in page
    assert admin.get(reverse("admin:registry_visit_add")).status_code == 403
    assert admin.post(reverse("admin:registry_visit_delete", args=[visit.pk]), {"post": "yes"}).status_code == 403
    assert Visit.objects.filter(pk=visit.pk).exists()
    with pytest.raises(ValidationError):  # a Visit without a situation never passes the model's checks
        Visit(household=data.h2, cadre=data.cadre, visited_on=timezone.localdate(), mode="home").full_clean()


def test_the_visit_list_in_english(data):
    record_visit(data.h2, data.cadre, visited_on=timezone.localdate(), mode="home", situation="入户")
    county = client(sample.make_user("xian", area=data.yl, role="county_admin"))
    county.cookies.load({"django_language": "en"})
    page = county.get(reverse("visit_list")).content.decode()
    assert "Visits: 1, households visited: 1" in page and "households currently paired: 1, of them visited: 1" in page
    assert " (coverage 100.0%)" in page and "Registered households of the area: 3, of which 2 have no current" in page
    r = client(data.cadre)
    r.cookies.load({"django_language": "en"})
    response = r.post(reverse("api_household_visits", args=[data.h2.pk]), "[]", content_type="application/json")
    assert response.status_code == 400 and response.json()["message"] == "The request body must be a JSON object"


def test_a_cadres_dashboard_lists_their_households_with_their_visits(data):
    """我的结对户: the cadre's current pairings, never-visited first, with the latest visit and this year's count."""
    Pairing.objects.create(cadre=data.cadre, household=data.h1, started_on=START)
    today = timezone.localdate()
    record_visit(data.h2, data.cadre, visited_on=dt.date(today.year - 1, 6, 1), mode="home", situation="去年")
    record_visit(data.h2, data.cadre, visited_on=today, mode="phone", situation="今年")
    page = client(data.cadre).get(reverse("dashboard"))
    rows = [(r["household"].household_number, r["last_visit"], r["visits_this_year"]) for r in page.context["my_pairings"]]
    assert rows == [("YL0001", None, 0), ("YL0002", today, 1)]
    html = page.content.decode()
    assert "我的结对户（2 户）" in html and "尚未走访" in html
    assert client(data.village).get(reverse("dashboard")).context["my_pairings"] is None


def test_the_visit_ledger_export_is_scoped_masked_and_logged(data):
    import csv
    import io

    from xiaokang.imports.models import ExportLog

    number = data.m21.id_number
    record_visit(data.h2, data.cadre, visited_on=timezone.localdate(), mode="phone", situation=f"核对证件 {number}")
    cl_cadre = sample.make_user("cl_ganbu", area=data.cl_a, role="pairing_cadre")
    Pairing.objects.create(cadre=cl_cadre, household=data.h4, started_on=START)
    record_visit(data.h4, cl_cadre, visited_on=timezone.localdate(), mode="home", situation="茶陵入户")
    county = client(sample.make_user("xian", area=data.yl, role="county_admin"))
    county.cookies.load({"django_language": "en"})  # the ledger stays Chinese
    r = county.get(reverse("visit_export"), {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8").lstrip("\ufeff"))))
    assert [(x["户编号"], x["帮扶责任人"], x["走访方式"], x["走访情况"]) for x in rows] == [
        ("YL0002", "赵干部", "电话或视频联系", f"核对证件 {number[:6]}********{number[-4:]}")]
    log = ExportLog.objects.get()
    assert (log.username, log.rows, log.filters["export"], log.full_ids) == ("xian", 1, "visits", False)
    staff = client(sample.make_user("xian_staff", area=data.yl, role="county_admin", staff=True))
    assert "走访台账" in staff.get(reverse("admin:imports_exportlog_changelist")).content.decode()
    assert rows[0]["走访日期"] == timezone.localdate().isoformat() and len(rows[0]["登记时间"]) == 16  # 2020-06-01 09:30
    r = county.get(reverse("visit_export"), {"format": "xlsx"})
    assert r.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    day, stamp = sheet[2][header.index("走访日期")], sheet[2][header.index("登记时间")]
    assert (day.is_date, day.value.date(), day.number_format) == (True, timezone.localdate(), "yyyy-mm-dd")
    assert (stamp.is_date, stamp.number_format, stamp.value.second) == (True, "yyyy-mm-dd hh:mm", 0)
    assert county.get(reverse("visit_export"), {"format": "pdf"}).status_code == 400
    r = county.get(reverse("visit_export"), {"format": "csv", "year": "1900"})  # never the default year instead
    assert r.status_code == 400 and "four-digit year from 2014 on" in r.content.decode()  # an English session
    stat = client(sample.make_user("tongji", area=data.yl, role="statistician"))
    assert stat.get(reverse("visit_export")).status_code == 403
