import re
from decimal import Decimal

import pytest
from django.urls import reverse

from xiaokang.dashboards import selectors

pytestmark = pytest.mark.django_db


def get_dash(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("dashboard"), params)
    assert response.status_code == 200
    return response


def test_anonymous_is_sent_to_login(client, data):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_without_external_urls(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "登录" in html
    assert not re.search(r"https?://", html)


def test_county_user_figures_2020(client, yanling_user):
    dash = get_dash(client, yanling_user, year=2020).context["dash"]
    t = dash.total
    assert (t.households, t.people) == (3, 6)
    assert (t.exited_households, t.exited_people) == (2, 3)
    assert (t.remaining_households, t.remaining_people) == (1, 3)
    assert t.population == 200  # villages 120 + 80; the county's own row is not added
    assert t.incidence == Decimal("1.50")
    # county user -> towns
    assert dash.child_level == "town"
    assert [(r.code, r.figures.remaining_people) for r in dash.rows] == [("430225100", 3)]


def test_county_user_trend_and_causes(client, yanling_user):
    dash = get_dash(client, yanling_user, year=2019).context["dash"]
    trend = {t["year"]: t for t in dash.trend}
    assert trend[2019]["remaining_people"] == 4
    assert trend[2019]["incidence"] == Decimal("2.00")
    assert trend[2014]["remaining_people"] == 6
    assert trend[2014]["incidence"] == Decimal("3.00")
    assert trend[2020]["incidence"] == Decimal("1.50")
    assert {c["code"]: c["value"] for c in dash.causes} == {"01": 1, "02": 1, "05": 1}


def test_city_user_sees_both_counties(client, city_user):
    response = get_dash(client, city_user, year=2020)
    dash = response.context["dash"]
    rows = {r.code: r for r in dash.rows}
    assert set(rows) == {"430224", "430225"}
    assert rows["430225"].figures.incidence == Decimal("1.50")
    assert rows["430224"].figures.remaining_people == 4
    assert rows["430224"].figures.incidence == Decimal("1.33")
    assert dash.total.incidence == Decimal("1.40")
    html = response.content.decode()
    assert "炎陵县" in html and "茶陵县" in html


def test_people_are_counted_at_year_end(client, city_user):
    dash = get_dash(client, city_user, year=2018).context["dash"]
    cl = {r.code: r for r in dash.rows}["430224"].figures
    # 2018: H4 five members (the grandmother left in 2019), H5 two members, exited in 2018
    assert (cl.households, cl.people, cl.exited_people, cl.remaining_people) == (2, 7, 2, 5)


def test_verdict_counts_come_from_stored_assessments(client, yanling_user, data):
    from xiaokang.policy.models import HouseholdAssessment

    dash = get_dash(client, yanling_user, year=2020).context["dash"]
    stored = HouseholdAssessment.objects.filter(year=2020, area__code__startswith="430225")
    expected = {v: stored.filter(verdict=v).count() for v in ("met", "not_met", "unassessable")}
    assert {k: v["households"] for k, v in dash.verdicts.items()} == expected
    assert dash.assessed == 3
    assert stored.get(household=data.h2).verdict == "not_met"
    assert stored.get(household=data.h1).verdict == "met"


def test_default_year_is_latest_assessed(client, yanling_user):
    assert get_dash(client, yanling_user).context["year"] == 2020


def test_drill_down_within_area_and_404_outside(client, yanling_user):
    response = get_dash(client, yanling_user, area="430225100", year=2020)
    dash = response.context["dash"]
    assert dash.child_level == "village"
    assert {r.code: r.figures.remaining_people for r in dash.rows} == {"430225100201": 3, "430225100202": 0}
    client.force_login(yanling_user)
    assert client.get(reverse("dashboard"), {"area": "430224"}).status_code == 404
    assert client.get(reverse("dashboard"), {"area": "4302"}).status_code == 404


def test_county_user_never_sees_other_county(client, yanling_user):
    html = get_dash(client, yanling_user, year=2020).content.decode()
    assert "茶陵" not in html


def test_user_without_area_sees_no_data(client, data):
    from xiaokang.accounts.models import User

    user = User.objects.create_user("nobody", password="x-Secret-123")
    response = get_dash(client, user)
    assert response.context["no_area"] is True
    assert "dash" not in response.context


def test_superuser_sees_whole_dataset(client, data):
    from xiaokang.accounts.models import User

    admin = User.objects.create_superuser("root", password="x-Secret-123")
    dash = get_dash(client, admin, year=2020).context["dash"]
    assert dash.total.remaining_people == 7
    assert dash.total.incidence == Decimal("1.40")


def test_no_external_urls_and_charts_data(client, city_user):
    html = get_dash(client, city_user, year=2020).content.decode()
    assert not re.search(r"https?://", html), re.findall(r"https?://\S+", html)[:3]
    assert 'id="chart-data"' in html
    for src in re.findall(r'<script[^>]*src="([^"]+)"', html) + re.findall(r'<link[^>]*href="([^"]+)"', html):
        assert src.startswith("/static/")


def test_page_renders_when_echarts_is_missing(client, city_user, monkeypatch):
    from xiaokang.core import views as core_views

    monkeypatch.setitem(core_views.ASSETS, "echarts", "vendor/echarts/not-installed.min.js")
    html = get_dash(client, city_user, year=2020).content.decode()
    assert "not-installed" not in html
    assert 'id="area-table"' in html


def test_optional_static_with_manifest_storage_and_missing_file(settings):
    from xiaokang.core.views import optional_static

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = "/nonexistent-static-root"
    assert optional_static("vendor/echarts/echarts.min.js") is None


def test_dashboard_query_count_is_bounded(client, city_user, django_assert_max_num_queries):
    client.force_login(city_user)
    # cold: the figures, charts, quality counts, and the visits and problems by area (two grouped queries)
    with django_assert_max_num_queries(16):
        first = client.get(reverse("dashboard"), {"year": 2020})
    with django_assert_max_num_queries(16):
        assert client.get(reverse("dashboard"), {"year": 2019}).status_code == 200
    # Warm: the rendered body comes from the cache; left: the user with its area, the data versions (one
    # query for all topics); the session is read from the cache.
    with django_assert_max_num_queries(2):
        again = client.get(reverse("dashboard"), {"year": 2020})
    assert "dash" in first.context and "dash" not in again.context  # not computed again
    body = first.content.decode()
    body = body[body.index('<main class="content">'):body.index("</main>")]
    assert body in again.content.decode()  # the same body, from the cache


def test_selectors_do_not_loop_per_household(django_assert_max_num_queries, data, sample_data):
    sample = sample_data

    for i in range(40):
        h = sample.household(f"YLX{i:04d}", data.yl_b, exit_year=2020 if i % 2 else None)
        sample.member(h, f"新户{i}", "01", sample.dt.date(1980, 1, 1))
    with django_assert_max_num_queries(7):
        dash = selectors.dashboard(data.yl, 2020)
    assert dash.total.households == 43
    assert dash.total.remaining_people == 3 + 20



def test_english_dashboard_and_language_switch(client, yanling_user):
    client.force_login(yanling_user)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("dashboard")})
    assert response.status_code == 302
    html = client.get(reverse("dashboard"), {"year": 2020}).content.decode()
    assert 'lang="en"' in html
    assert "Dashboard" in html and "Poverty incidence" in html
    assert "1.50%" in html


def test_chinese_is_the_default(client, yanling_user):
    html = get_dash(client, yanling_user, year=2020).content.decode()
    assert 'lang="zh-hans"' in html
    assert "贫困发生率" in html and "炎陵县" in html and "1.50%" in html
    assert "退出" in html and "管理后台" in html


def test_village_user_sees_own_village(client, data, sample_data):
    user = sample_data.make_user("cun", area=data.yl_a, role="village_admin")
    dash = get_dash(client, user, year=2020).context["dash"]
    assert [(r.code, r.figures.remaining_people) for r in dash.rows] == [("430225100201", 3)]
    assert dash.total.population == 120
    assert dash.total.incidence == Decimal("2.50")


def test_dashboard_counts_visits_and_supervision_problems_by_area(db, settings, django_capture_on_commit_callbacks):
    """帮扶走访与督查问题 by the next level down — the work now, whatever assessment year is shown: paired
    households and this year's visits and coverage; open problems (whenever found), overdue, found and
    closed this year — counts only, so a statistician reads them too; renewed after a new visit (the body
    is cached under the ``work`` data version)."""
    import datetime as dt

    from django.test import Client
    from django.utils import timezone

    import sample_data as sample
    from xiaokang.registry.models import Pairing, Visit
    from xiaokang.supervision.models import Problem

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    today = timezone.localdate()
    last_year = dt.date(today.year - 1, 6, 1)
    # the data versions move on at each block's end, as at a commit (a test's transaction never commits)
    with django_capture_on_commit_callbacks(execute=True):
        d = sample.build()
        sample.assess(2020)
        cadre = sample.make_user("ganbu", area=d.yl_a, role="pairing_cadre")
        inspector = sample.make_user("ducha", area=d.yl, role="inspector")
        for h in (d.h1, d.h2):
            Pairing.objects.create(cadre=cadre, household=h, started_on=dt.date(2016, 1, 1))
        Visit.objects.create(household=d.h2, cadre=cadre, visited_on=today, situation="入户")
        Visit.objects.create(household=d.h1, cadre=cadre, visited_on=last_year, situation="去年")

        def problem(area, found_on, status="assigned", deadline=None, revisited_on=None, who=inspector):
            Problem.objects.create(area_code=area.code, category="data", found_on=found_on, status=status,
                                   deadline=deadline or today + dt.timedelta(days=30), revisited_on=revisited_on,
                                   description=f"{status}{found_on}", inspector=who)

        problem(d.yl_a, last_year, deadline=last_year)  # open since last year, overdue
        problem(d.yl_a, today)  # found this year, open, not overdue
        problem(d.yl_a, today, "rectified")  # open (awaiting the revisit)
        problem(d.yl_a, last_year, "closed", revisited_on=today)  # closed this year
        problem(d.yl_a, last_year, "closed", revisited_on=last_year)  # closed last year: not counted
        problem(d.cl_a, today, who=sample.make_user("cl_ducha", area=d.cl, role="inspector"))  # 茶陵: never
    stat = Client()
    stat.force_login(sample.make_user("tongji", area=d.yl, role="statistician"))
    for year in (2020, 2016):  # the same whatever assessment year the dashboard shows
        page = stat.get(reverse("dashboard"), {"year": year})
        rows = [(r["code"], r["paired"], r["visited"], r["coverage"], r["open"], r["overdue"], r["found"], r["closed"])
                for r in page.context["work"]]
        assert rows == [("430225100", 2, 1, "50.0", 3, 1, 2, 1)]  # the town of 炎陵一村
    with django_capture_on_commit_callbacks(execute=True):
        Visit.objects.create(household=d.h1, cadre=cadre, visited_on=today, situation="补访")
    page = stat.get(reverse("dashboard"), {"year": 2020})
    assert [(r["visited"], r["coverage"]) for r in page.context["work"]] == [(2, "100.0")]
    assert f"走访为 {today.year} 年" in page.content.decode()
