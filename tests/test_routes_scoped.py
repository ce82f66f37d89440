"""Every URL route is accounted for: public, admin (ScopedModelAdmin) or scoped through ScopedViewMixin.

``ROUTES`` is the coverage table. A route missing from it (a new view) fails ``test_every_route_is_listed``,
so nothing slips through unlisted. Every scoped route that takes an object id or code has an entry in
``OUT_OF_AREA``, and ``test_out_of_area_object_is_404`` checks that a 炎陵 (430225) user gets 404 for the
茶陵 (430224) object while a 株洲市 user (positive control) does not.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from xiaokang.core.admin import AREA_ADMIN_PERMISSIONS, ScopedModelAdmin

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)
from workflow.routes import OUT_OF_AREA as WORKFLOW_OUT_OF_AREA  # tests/workflow/routes.py

PUBLIC = "public"
ADMIN = "admin"
SCOPED = "scoped"

# route name -> (kind, how it is scoped / where it is tested)
ROUTES = {
    "set_language": (PUBLIC, "language switch (django.conf.urls.i18n), no data"),
    "login": (PUBLIC, "login form; throttled by django-axes (tests/test_login_throttling.py)"),
    "logout": (PUBLIC, "ends the session, no data"),
    "healthz": (PUBLIC, "health check: database and cache ok or not, no data; tests/core/test_healthz.py"),
    "dashboard": (SCOPED, "ScopedViewMixin, drill-down through scoped(Area); tests/dashboards/test_dashboard.py, "
                          "?area= outside the jurisdiction -> 404 here"),
    "household_list": (SCOPED, "ScopedViewMixin.scoped(Household); tests/registry/test_views_households.py"),
    "household_detail": (SCOPED, "ScopedViewMixin.get_scoped_object; 404 here"),
    "household_edit": (SCOPED, "ScopedViewMixin.get_scoped_object + edit roles; tests/registry/test_edit_audit.py"),
    "member_full_id": (SCOPED, "ScopedViewMixin.get_scoped_object(Member) + FULL_ID_ROLES, logged; "
                               "tests/registry/test_edit_audit.py"),
    "household_full_phone": (SCOPED, "ScopedViewMixin.get_scoped_object + FULL_ID_ROLES, logged; "
                                     "tests/workflow/test_logmask.py"),
    "household_visit": (SCOPED, "POST; get_scoped_object(Household) + the household's current pairing cadre "
                                "(services.record_visit); 404 here; tests/registry/test_visits.py"),
    "visit_list": (SCOPED, "scoped(Visit), scoped(Pairing); ?area= narrows inside the jurisdiction; "
                           "tests/registry/test_visits.py"),
    "visit_export": (SCOPED, "the visit list's filters (scoped(Visit)) as xlsx/CSV, logged; tests/registry/test_visits.py"),
    "api_household_visits": (SCOPED, "JSON; get_scoped_object(Household); 404 here; tests/registry/test_visits.py"),
    "village_exit_list": (SCOPED, "ScopedViewMixin.scoped(VillageAssessment); tests/exits/test_views.py"),
    "village_exit_detail": (SCOPED, "ScopedViewMixin.get_scoped_object; 404 here and in tests/exits/test_views.py"),
    "county_exit_list": (SCOPED, "ScopedViewMixin.scoped(CountyAssessment); tests/exits/test_views.py"),
    "county_exit_detail": (SCOPED, "ScopedViewMixin.get_scoped_object; 404 here and in tests/exits/test_views.py"),
    "monitoring_object_list": (SCOPED, "ScopedViewMixin.scoped(MonitoringCase); tests/monitoring/test_views.py"),
    "warning_inbox": (SCOPED, "ScopedViewMixin.scoped(EarlyWarning); tests/monitoring/test_views.py"),
    "warning_verify": (SCOPED, "POST; get_scoped_object(EarlyWarning) + workflow roles; 404 here"),
    "warning_dismiss": (SCOPED, "POST; get_scoped_object(EarlyWarning) + edit roles; 404 here"),
    "monitoring_case_detail": (SCOPED, "get_scoped_object(MonitoringCase); 404 here and in tests/monitoring"),
    "monitoring_case_step": (SCOPED, "POST; get_scoped_object(MonitoringCase) + workflow roles; 404 here"),
    "monitoring_case_measure": (SCOPED, "POST; get_scoped_object(MonitoringCase) + edit roles; 404 here"),
    "monitoring_case_income_check": (SCOPED, "POST; get_scoped_object(MonitoringCase) + edit roles; 404 here"),
    "monitoring_case_eliminate": (SCOPED, "POST; get_scoped_object(MonitoringCase) + workflow roles; 404 here"),
    "consolidation_classes": (SCOPED, "ScopedViewMixin.scoped(ConsolidationClass); tests/monitoring/test_views.py"),
    "event_list": (SCOPED, "scoped(HouseholdEvent); POST looks the household up with get_scoped_object (404 "
                           "outside); tests/monitoring/test_views.py"),
    # workflow (tests/workflow/test_web.py): PersonDataMixin (ScopedViewMixin; 403 for statistician/donor)
    "workflow_list": (SCOPED, "scoped(WorkflowInstance); bulk POST takes only scoped ids (else 404)"),
    "workflow_start_exit": (SCOPED, "get_scoped_object(Household); 404 here"),
    "workflow_step": (SCOPED, "get_scoped_object(WorkflowInstance); 404 here"),
    "workflow_objection": (SCOPED, "get_scoped_object(WorkflowInstance); 404 here"),
    "workflow_objection_resolve": (SCOPED, "get_scoped_object(Objection); 404 here"),
    "change_request_list": (SCOPED, "scoped(ChangeRequest)"),
    "change_request_create": (SCOPED, "get_scoped_object(Household) + village/town admin; 404 here"),
    "change_request_detail": (SCOPED, "get_scoped_object(ChangeRequest); 404 here"),
    "api_workflow_detail": (SCOPED, "JSON; get_scoped_object(WorkflowInstance); 404 here"),
    "api_workflow_step": (SCOPED, "JSON; get_scoped_object(WorkflowInstance); 404 here"),
    # imports (tests/imports/test_views_imports.py): upload roles 403 for others; batches by their area_code
    "import_batch_list": (SCOPED, "scoped(ImportBatch) + upload roles"),
    "import_upload": (SCOPED, "upload roles; the batch carries the uploader's area (rows outside it are errors)"),
    "import_template": (SCOPED, "upload roles; the empty workbook, no data (tests/imports/test_views_imports.py)"),
    "import_batch_detail": (SCOPED, "get_scoped_object(ImportBatch); 404 here"),
    "import_batch_apply": (SCOPED, "POST; get_scoped_object(ImportBatch); 404 here"),
    "import_batch_revalidate": (SCOPED, "POST; get_scoped_object(ImportBatch); 404 here"),
    "import_batch_errors": (SCOPED, "get_scoped_object(ImportBatch); 404 here"),
    "import_export": (SCOPED, "Household.objects.for_user (imports.export.prepare); 403 statistician/donor"),
    # quality (tests/quality/test_views.py): Finding.objects.for_user; statisticians/donors get counts only
    "quality_findings": (SCOPED, "scoped(Finding); ?area= narrows inside the jurisdiction"),
    "quality_confirm": (SCOPED, "POST; get_scoped_object(Finding) + admin roles of the area; 404 here"),
    "quality_export": (SCOPED, "scoped(Finding); counts only for statistician/donor"),
    "quality_run": (SCOPED, "POST; admin roles; run_checks(user=) refuses an area outside the jurisdiction"),
    # supervision (tests/supervision/test_problems.py): PersonDataMixin; steps by role (403) and in order (409)
    "supervision_problems": (SCOPED, "scoped(Problem); POST records one: the household by get_scoped_object, "
                                     "an area code only inside the inspector's jurisdiction (400)"),
    "supervision_export": (SCOPED, "the list's filters (scoped(Problem)) as xlsx/CSV, logged"),
    "supervision_problem": (SCOPED, "get_scoped_object(Problem); 404 here"),
    "supervision_rectify": (SCOPED, "POST; get_scoped_object(Problem) + the area's administrators; 404 here"),
    "supervision_revisit": (SCOPED, "POST; get_scoped_object(Problem) + inspectors of the area; 404 here"),
}
# Every route of the admin site: ScopedModelAdmin (tests/test_admin_scoping.py), or one of the admins below
# that area administrators have no permission for (users, groups, login-throttling records: superusers only).
ADMIN_NAMESPACE = (ADMIN, "admin.site: ScopedModelAdmin for project models; tests/test_admin_scoping.py")
SUPERUSER_ONLY_ADMINS = {"accounts.user", "auth.group", "axes.accessattempt", "axes.accesslog",
                         "axes.accessfailurelog"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need no slow password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def iter_routes(patterns=None, prefix="", namespace=None):
    """(full pattern, qualified name, has arguments) of every route, recursively (includes and admin)."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if p.namespace and namespace:
                ns = f"{namespace}:{p.namespace}"
            yield from iter_routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            full = prefix + str(p.pattern)
            yield full, name, bool(p.pattern.regex.groupindex) or "<" in full


def test_every_route_is_listed():
    unlisted = []
    for full, name, _args in iter_routes():
        if name and name.split(":")[0] == "admin" or full.startswith("admin/"):
            continue  # the admin site as a whole: ADMIN_NAMESPACE (each ModelAdmin checked below)
        if name not in ROUTES:
            unlisted.append(f"{full} (name={name!r})")
    assert not unlisted, ("routes not in the coverage table of tests/test_routes_scoped.py — say how each is "
                          "scoped and test it:\n" + "\n".join(unlisted))
    names = {name for _f, name, _a in iter_routes()}
    assert not set(ROUTES) - names, f"stale entries in ROUTES: {set(ROUTES) - names}"


def test_every_scoped_route_with_an_object_has_an_out_of_area_test():
    with_args = {name for _f, name, args in iter_routes() if args and ROUTES.get(name, ("",))[0] == SCOPED}
    assert with_args <= set(OUT_OF_AREA), f"no out-of-area test for {with_args - set(OUT_OF_AREA)}"


def test_every_admin_is_scoped_or_superuser_only():
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if label in SUPERUSER_ONLY_ADMINS:
            app, name = label.split(".")
            assert name not in AREA_ADMIN_PERMISSIONS.get(app, {}), label
            continue
        assert isinstance(model_admin, ScopedModelAdmin), f"{label} admin is not a ScopedModelAdmin"
        assert not model._meta.model_name.startswith("historical"), f"audit rows must not be in the admin: {label}"


# ------------------------------------------------------------------------------------------ 404 outside


@pytest.fixture
def data(db):
    from xiaokang.exits.services import run_county_assessment, run_village_assessment

    d = sample.build()
    type(d.cl).objects.filter(code="430224").update(is_national_key_county=True)
    type(d.cl).objects.filter(code="430224100201").update(is_poor_village=True)
    run_village_assessment(2019)
    run_county_assessment(2020)
    return d


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _exit_detail(name, model, code):
    def make(d):
        assert model.objects.filter(area_id=code, year=2019 if "village" in name else 2020).exists()
        return "get", reverse(name, args=[code, 2019 if "village" in name else 2020]), {}
    return make


def _exits():
    from xiaokang.exits.models import CountyAssessment, VillageAssessment

    return {
        "village_exit_detail": _exit_detail("village_exit_detail", VillageAssessment, "430224100201"),
        "county_exit_detail": _exit_detail("county_exit_detail", CountyAssessment, "430224"),
    }


OUT_OF_AREA = {
    "household_detail": lambda d: ("get", reverse("household_detail", args=[d.h4.pk]), {}),
    "household_edit": lambda d: ("get", reverse("household_edit", args=[d.h4.pk]), {}),
    "household_edit POST": lambda d: ("post", reverse("household_edit", args=[d.h4.pk]),
                                      {"version": d.h4.version, "phone": "123"}),
    "member_full_id": lambda d: ("post", reverse("member_full_id", args=[d.h4.pk, d.m41.pk]), {}),
    "household_full_phone": lambda d: ("post", reverse("household_full_phone", args=[d.h4.pk]), {}),
    "member_full_id mixed": lambda d: ("post", reverse("member_full_id", args=[d.h2.pk, d.m41.pk]), {}),
    "household_visit": lambda d: ("post", reverse("household_visit", args=[d.h4.pk]),
                                  {"visited_on": "2020-05-01", "mode": "home", "situation": "入户"}),
    "api_household_visits": lambda d: ("get", reverse("api_household_visits", args=[d.h4.pk]), {}),
    "api_household_visits POST": lambda d: ("post", reverse("api_household_visits", args=[d.h4.pk]),
                                            {"visited_on": "2020-05-01", "situation": "入户"}),
    "village_exit_detail": lambda d: _exits()["village_exit_detail"](d),
    "county_exit_detail": lambda d: _exits()["county_exit_detail"](d),
    "dashboard drill-down": lambda d: ("get", reverse("dashboard"), {"area": "430224"}),
    **{name: (lambda name: lambda d: __import__("monitoring.scoping", fromlist=["request"]).request(d, name))(name)
       for name in ("warning_verify", "warning_dismiss", "monitoring_case_detail", "monitoring_case_step",
                    "monitoring_case_measure", "monitoring_case_income_check", "monitoring_case_eliminate")},
    **WORKFLOW_OUT_OF_AREA,
    **{f"import_batch_{k}": (lambda k, m: lambda d: (m, reverse(f"import_batch_{k}", args=[_chaling_batch().pk]), {}))(
        k, m) for k, m in (("detail", "get"), ("apply", "post"), ("revalidate", "post"), ("errors", "get"))},
    "supervision_problem": lambda d: ("get", reverse("supervision_problem", args=[_chaling_problem(d).pk]), {}),
    "supervision_rectify": lambda d: ("post", reverse("supervision_rectify", args=[_chaling_problem(d).pk]),
                                      {"note": "已整改", "on": "2020-06-01"}),
    "supervision_revisit": lambda d: ("post", reverse("supervision_revisit", args=[_chaling_problem(d).pk]),
                                      {"passed": "1", "note": "到位", "on": "2020-06-01"}),
    "quality_confirm": lambda d: ("post", reverse("quality_confirm", args=[_chaling_finding(d).pk]), {"reason": "核实"}),
}


def _chaling_finding(d):
    from django.utils import timezone

    from xiaokang.quality.models import Finding

    now = timezone.now()
    return Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=d.h4, area_code=d.h4.area_id,
                                  year=2020, first_seen=now, last_seen=now)


def _chaling_problem(d):
    import datetime as dt

    from xiaokang.supervision.models import Problem

    inspector = sample.make_user("cl_ducha", area=d.cl, role="inspector")
    return Problem.objects.create(area_code=d.h4.area_id, household=d.h4, category="data", found_on=dt.date(2020, 5, 1),
                                  deadline=dt.date(2020, 6, 30), description="数据不准", inspector=inspector)


def _chaling_batch():
    from xiaokang.imports.models import ImportBatch

    return ImportBatch.objects.create(file_name="茶陵.csv", sha256="0" * 64, area_code="430224", status="validated")


@pytest.mark.parametrize("route", sorted(OUT_OF_AREA))
def test_out_of_area_object_is_404(data, route):
    method, url, params = OUT_OF_AREA[route](data)
    yanling = _client(sample.make_user("yanling", area=data.yl, role="county_admin"))
    assert getattr(yanling, method)(url, params).status_code == 404
    # village A → village B: an administrator of the sibling village 茶陵二村 (same town as the objects' 茶陵一村)
    from xiaokang.areas.models import Area

    sibling = Area.objects.create(code="430224100202", name="茶陵二村", level="village", parent=data.cl_t)
    village_b = _client(sample.make_user("cun_b", area=sibling, role="village_admin"))
    assert getattr(village_b, method)(url, params).status_code == 404
    if route in ("household_edit POST", "member_full_id mixed"):
        return
    city = _client(sample.make_user("zhuzhou", area=data.zz, role="city_admin"))
    status = getattr(city, method)(url, params).status_code
    assert status != 404, f"positive control: the city user should reach {url}"


def test_anonymous_is_sent_to_login(data):
    for _full, name, _args in iter_routes():
        if ROUTES.get(name, ("",))[0] != SCOPED or name not in ("dashboard", "household_list", "village_exit_list",
                                                                "county_exit_list"):
            continue
        response = Client().get(reverse(name))
        assert response.status_code == 302 and reverse("login") in response["Location"], name
    response = Client().get(reverse("household_detail", args=[data.h2.pk]))
    assert response.status_code == 302
    response = Client().post(reverse("member_full_id", args=[data.h2.pk, data.m21.pk]))
    assert response.status_code == 302
