"""Admin (管理后台) through ScopedModelAdmin: every changelist, change page, FK choice and save is area-scoped."""

import json

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from xiaokang.core.admin import AREA_ADMIN_GROUP, ScopedModelAdmin
from xiaokang.policy.models import AssessmentReason, HouseholdAssessment
from xiaokang.registry.models import Household, Income, Member

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db):
    d = sample.build()
    sample.assess(2020)
    return d


def login(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def yanling(data):
    return login(sample.make_user("yanling", area=data.yl, staff=True))


@pytest.fixture
def city(data):
    return login(sample.make_user("zhuzhou", area=data.zz, staff=True, role="city_admin"))


@pytest.fixture
def root(data):
    return login(sample.make_user("root", superuser=True, role="system_admin"))


def changelist(client, model, **params):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_project_model_uses_the_scoped_base():
    from xiaokang.areas.models import Area, AreaPopulation
    from xiaokang.policy.models import ParameterValue

    for model in (Area, AreaPopulation, Household, Member, Income, HouseholdAssessment, AssessmentReason,
                  ParameterValue):
        assert isinstance(admin.site._registry[model], ScopedModelAdmin), model


def test_grant_area_admin_permissions(data):
    user = sample.make_user("yl2", area=data.yl, staff=True)
    assert user.is_staff
    assert user.groups.filter(name=AREA_ADMIN_GROUP).exists()
    assert user.has_perm("registry.change_household") and user.has_perm("policy.view_householdassessment")
    assert not user.has_perm("policy.change_householdassessment")


def test_household_changelist_is_scoped(yanling, city, data):
    rows = list(changelist(yanling, Household).context["cl"].result_list)
    assert {h.household_number for h in rows} == {"YL0001", "YL0002", "YL0003"}
    rows = list(changelist(city, Household).context["cl"].result_list)
    assert {h.household_number for h in rows} == {"YL0001", "YL0002", "YL0003", "CL0001", "CL0002"}


def test_admin_search_stays_in_area(yanling, city, data):
    chaling_id = Member.objects.get(name="王五").id_number
    assert list(changelist(yanling, Household, q="王五").context["cl"].result_list) == []
    assert list(changelist(yanling, Household, q=chaling_id).context["cl"].result_list) == []
    assert list(changelist(yanling, Member, q=chaling_id).context["cl"].result_list) == []
    assert [h.household_number for h in changelist(city, Household, q=chaling_id).context["cl"].result_list] == ["CL0001"]


def test_change_pages_outside_area_redirect(yanling, data):
    for obj in (data.h4, data.m41, Income.objects.filter(household=data.h4).first(),
                HouseholdAssessment.objects.get(household=data.h4, year=2020), data.cl, data.cl_a):
        response = yanling.get(change_url(obj))
        assert response.status_code == 302, obj
        assert response["Location"] == reverse("admin:index")
    assert yanling.get(change_url(data.h2)).status_code == 200


def test_other_changelists_are_scoped(yanling, data):
    members = changelist(yanling, Member).context["cl"].result_list
    assert {m.household.area_id[:6] for m in members} == {"430225"}
    areas = changelist(yanling, type(data.yl)).context["cl"].result_list
    assert {a.code for a in areas} == {"430225", "430225100", "430225100201", "430225100202"}
    assessments = changelist(yanling, HouseholdAssessment).context["cl"].result_list
    assert {a.area_id[:6] for a in assessments} == {"430225"}
    reasons = changelist(yanling, AssessmentReason).context["cl"].result_list
    assert reasons and {r.household.area_id[:6] for r in reasons} == {"430225"}
    html = changelist(yanling, Member).content.decode()
    assert Member.objects.get(name="李四").id_number not in html  # masked in the list


def test_foreign_key_choices_are_scoped(yanling, data):
    url = reverse("admin:autocomplete")
    params = {"app_label": "registry", "model_name": "household", "field_name": "area", "term": "村"}
    results = json.loads(yanling.get(url, params).content)["results"]
    ids = {r["id"] for r in results}
    assert "430225100201" in ids and "430224100201" not in ids
    params = {"app_label": "registry", "model_name": "member", "field_name": "household", "term": "CL"}
    assert json.loads(yanling.get(url, params).content)["results"] == []


def test_cannot_move_household_outside_area(yanling, data):
    url = change_url(data.h2)
    form = yanling.get(url).context["adminform"].form
    post = {k: v for k, v in form.initial.items() if v is not None}
    post.update({
        "household_number": "YL0002", "area": "430224100201", "identified_year": 2014, "main_cause": "02",
        "household_type": "2", "identification_standard": "national", "poverty_status": "poor",
        "members-TOTAL_FORMS": 0, "members-INITIAL_FORMS": 0, "incomes-TOTAL_FORMS": 0, "incomes-INITIAL_FORMS": 0,
    })
    response = yanling.post(url, post)
    assert response.status_code == 200  # form redisplayed with an error
    assert "area" in response.context["adminform"].form.errors
    data.h2.refresh_from_db()
    assert data.h2.area_id == "430225100201"


def test_cannot_add_population_outside_area(yanling, data):
    from xiaokang.areas.models import AreaPopulation

    url = reverse("admin:areas_areapopulation_add")
    response = yanling.post(url, {"area": "430224100201", "year": 2021, "registered_population": 5})
    assert response.status_code == 200
    assert not AreaPopulation.objects.filter(year=2021).exists()
    response = yanling.post(url, {"area": "430225100201", "year": 2021, "registered_population": 5})
    assert response.status_code == 302
    assert AreaPopulation.objects.filter(year=2021, area_id="430225100201").exists()


def test_assessments_are_read_only(yanling, root, data):
    assert yanling.get(reverse("admin:policy_householdassessment_add")).status_code == 403
    assert root.get(reverse("admin:policy_householdassessment_add")).status_code == 403
    a = HouseholdAssessment.objects.get(household=data.h2, year=2020)
    response = yanling.get(change_url(a))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_parameters_writable_by_superuser_only(yanling, root):
    assert yanling.get(reverse("admin:policy_parametervalue_add")).status_code == 403
    from xiaokang.policy.models import ParameterValue

    changelist(yanling, ParameterValue)
    assert root.get(reverse("admin:policy_parametervalue_add")).status_code == 200


def test_superuser_admin_pages_render(root, data):
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ScopedModelAdmin):
            continue
        changelist(root, model)
    for obj in (data.h1, data.m11, data.yl, Income.objects.first(), HouseholdAssessment.objects.first(),
                AssessmentReason.objects.first()):
        assert root.get(change_url(obj)).status_code == 200, obj
    assert root.get(reverse("admin:registry_household_add")).status_code == 200


def test_reason_sentence_in_changelist(root, data):
    html = changelist(root, AssessmentReason, q="YL0002").content.decode()
    assert "人均纯收入 2,000 元 低于 4,000 元" in html


def test_changelist_query_count(yanling, data, django_assert_max_num_queries):
    for i in range(30):
        h = sample.household(f"YLQ{i:04d}", data.yl_b)
        sample.member(h, f"户主{i}", "01", sample.dt.date(1980, 1, 1))
    with django_assert_max_num_queries(12):
        changelist(yanling, Household)
    with django_assert_max_num_queries(12):
        changelist(yanling, Member)


def test_the_admin_index_is_chinese_throughout(db, settings):
    """Django 5's admin index has three column headers its zh_Hans catalogue lacks; ours supplies them."""
    from django.test import Client

    import sample_data as sample

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    c = Client()
    c.force_login(sample.make_user("root", superuser=True))
    page = c.get("/admin/").content.decode()
    assert "模型名称" in page and "Model name" not in page and "Add link" not in page
