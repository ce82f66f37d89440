"""Conflict-safe household edits (version), the audit trail (django-simple-history + channel) and the logged
display of full ID numbers."""

import datetime as dt
import getpass
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from xiaokang.core.audit import audit_channel
from xiaokang.registry.models import FullIdView, Household, Income, Member
from xiaokang.registry.services import EditConflict, update_household

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need no slow password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data(db):
    return sample.build()


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def yanling_user(data):
    return sample.make_user("yanling", area=data.yl, role="county_admin")


def edit_url(h):
    return reverse("household_edit", args=[h.pk])


def form_post(client, h):
    """The edit form as the browser would post it (all fields, with the version read)."""
    form = client.get(edit_url(h)).context["form"]
    post = {}
    for name, field in form.fields.items():
        value = form[name].value()
        post[name] = "" if value is None else value
    return post


# ------------------------------------------------------------------------------------------ conflicts


def test_two_sessions_second_gets_409(data, yanling_user):
    first, second = client_for(yanling_user), client_for(sample.make_user("yl_town", area=data.yl_t,
                                                                          role="town_admin"))
    a, b = form_post(first, data.h2), form_post(second, data.h2)
    assert a["version"] == b["version"] == 1
    a["phone"] = "13800000001"
    assert first.post(edit_url(data.h2), a).status_code == 302
    b["phone"] = "13900000002"
    b["natural_village"] = "二组"
    response = second.post(edit_url(data.h2), b)
    assert response.status_code == 409
    assert "已被他人修改" in response.content.decode()
    h = Household.objects.get(pk=data.h2.pk)
    assert (h.phone, h.natural_village, h.version) == ("13800000001", "", 2)


def test_after_a_conflict_the_form_shows_the_others_changes_and_keeps_the_editors(data, yanling_user):
    """Nothing is lost: the 409 page lists what the other editor saved (opened → current), and the form comes
    back at the current version with the second editor's own changes kept; saving it again applies them."""
    first, second = client_for(yanling_user), client_for(sample.make_user("yl_town", area=data.yl_t,
                                                                          role="town_admin"))
    a, b = form_post(first, data.h2), form_post(second, data.h2)
    a.update(phone="13800000001", housing_grade="C", farmland_mu="3.5")
    assert first.post(edit_url(data.h2), a).status_code == 302
    b.update(natural_village="二组", housing_grade="D", phone="13900000002")
    response = second.post(edit_url(data.h2), b)
    assert response.status_code == 409
    merge = response.context["merge"]
    others = {str(r["label"]): (str(r["opened"]), str(r["current"]), r["mine"] and str(r["mine"]), r["conflict"])
              for r in merge["others"]}
    assert others["住房安全等级"] == ("A级（安全）", "C级（局部危房）", "D级（整幢危房）", True)
    assert others["联系电话"] == ("—", "138****0001", "139****0002", True)
    assert others["耕地面积（亩）"][1:] == ("3.50", None, False)
    assert [str(f) for f in merge["kept_out"]] == ["联系电话"]
    form = response.context["form"]
    assert form["version"].value() == 2 and form["natural_village"].value() == "二组"
    assert form["housing_grade"].value() == "D" and str(form["farmland_mu"].value()) == "3.50"
    html = response.content.decode()
    assert "13800000001" not in html and "13900000002" not in html and "冲突：表单中为您的值" in html
    assert Household.objects.get(pk=data.h2.pk).natural_village == ""  # nothing of the second editor yet
    # the second editor checks the merged form and saves it: their changes on top of the first's
    again = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    assert second.post(edit_url(data.h2), again).status_code == 302
    h = Household.objects.get(pk=data.h2.pk)
    assert (h.natural_village, h.housing_grade, h.phone, str(h.farmland_mu), h.version) == (
        "二组", "D", "13800000001", "3.50", 3)


def test_partial_update_keeps_omitted_fields(data, yanling_user):
    h = data.h2
    update_household(h.pk, {"housing_grade": "C"}, 1, user=yanling_user)
    h.refresh_from_db()
    assert (h.housing_grade, h.food_secure, h.water_quantity_lpd, h.main_cause, h.version) == ("C", True, 100, "02", 2)
    # a post with only some fields changes only those
    c = client_for(yanling_user)
    assert c.post(edit_url(h), {"version": 2, "phone": "13912345678"}).status_code == 302
    h.refresh_from_db()
    assert (h.phone, h.housing_grade, h.household_type, h.water_piped, h.version) == ("13912345678", "C", "2", True, 3)


def test_service_conflict_writes_nothing(data, yanling_user):
    update_household(data.h1.pk, {"phone": "1"}, 1, user=yanling_user)
    with pytest.raises(EditConflict):
        update_household(data.h1.pk, {"phone": "2", "natural_village": "x"}, 1, user=yanling_user)
    h = Household.objects.get(pk=data.h1.pk)
    assert (h.phone, h.natural_village, h.version) == ("1", "", 2)
    assert Household.history.filter(id=h.pk).count() == 2  # created + one change
    with pytest.raises(ValueError):
        update_household(data.h1.pk, {"version": 9}, 2)


def test_edit_out_of_area_is_404_and_roles(data, yanling_user):
    c = client_for(yanling_user)
    assert c.get(edit_url(data.h4)).status_code == 404
    assert c.post(edit_url(data.h4), {"version": 1, "phone": "1"}).status_code == 404
    assert Household.objects.get(pk=data.h4.pk).phone == ""
    assert c.get(edit_url(data.h2)).status_code == 200
    for role in ("statistician", "donor", "pairing_cadre"):
        user = sample.make_user(f"u_{role}", area=data.yl, role=role)
        if role == "pairing_cadre":  # paired with YL0002: reads it, may not edit it
            from xiaokang.registry.models import Pairing

            Pairing.objects.create(cadre=user, household=data.h2, started_on=dt.date(2016, 1, 1))
        other = client_for(user)
        assert other.get(edit_url(data.h2)).status_code == 403
        assert other.post(edit_url(data.h2), {"version": 1, "phone": "1"}).status_code == 403
    assert Household.objects.get(pk=data.h2.pk).version == 1
    assert Client().get(edit_url(data.h2)).status_code == 302  # login required


def test_admin_or_orm_save_moves_the_version_on(data, yanling_user):
    c = client_for(yanling_user)
    stale = form_post(c, data.h2)
    h = Household.objects.get(pk=data.h2.pk)
    h.phone = "13955555555"
    h.save()  # e.g. the admin's change form
    assert Household.objects.get(pk=h.pk).version == 2
    stale["phone"] = "13966666666"
    assert c.post(edit_url(h), stale).status_code == 409
    assert Household.objects.get(pk=h.pk).phone == "13955555555"


def test_invalid_edit_is_400(data, yanling_user):
    c = client_for(yanling_user)
    response = c.post(edit_url(data.h2), {"version": 1, "other_causes": "02"})  # equals the main cause
    assert response.status_code == 400
    assert Household.objects.get(pk=data.h2.pk).version == 1


# ------------------------------------------------------------------------------------------ audit trail


def test_history_who_when_channel_old_new(data, yanling_user):
    c = client_for(yanling_user)
    assert c.post(edit_url(data.h2), {"version": 1, "phone": "13800000001", "housing_grade": "C"}).status_code == 302
    last = Household.history.filter(id=data.h2.pk).latest("history_date")
    assert last.history_user == yanling_user and last.channel == "web" and last.history_type == "~"
    diff = last.diff_against(last.prev_record)
    assert {(ch.field, ch.old, ch.new) for ch in diff.changes} >= {("phone", "", "13800000001"),
                                                                   ("housing_grade", "A", "C")}
    # member and income changes: through the ORM (channel 'command' outside a request), or an import
    m = Member.objects.get(name="李四")
    m.health_status = "3"
    m.save()
    row = Member.history.filter(id=m.pk).latest("history_date")
    # no application user on the command line: the operating-system login that ran it is recorded instead
    assert (row.channel, row.history_user_id, row.os_user) == ("command", None, getpass.getuser())
    assert last.os_user == ""  # a web change names its user, not the server's account
    with audit_channel("import"):
        inc = data.h2.incomes.get(year=2020)
        inc.wage = 7000
        inc.save()
    assert inc.history.latest("history_date").channel == "import"
    # shown on the household page, with the user, the channel and old -> new
    response = c.get(reverse("household_detail", args=[data.h2.pk]))
    html = response.content.decode()
    assert "修改记录" in html and "138****0001" in html and "yanling" in html and "网页" in html
    assert "13800000001" not in html  # the phone number masked in the history too (shown in full by a logged POST)
    fields = {(str(ch["field"]), str(ch["old"]), str(ch["new"])) for e in response.context["history"]
              for ch in e["changes"]}
    assert ("联系电话", "—", "138****0001") in fields
    assert ("工资性收入（含公益性岗位）", "6,000", "7,000") in fields  # amounts in 元 as on the rest of the page
    assert any(e["channel"] == "导入" for e in response.context["history"])
    member_rows = [e for e in response.context["history"] if e["object"] == "成员 李四" and e["changes"]]
    assert member_rows[0]["user"] == f"{getpass.getuser()}（系统账号）"


def test_admin_edit_is_recorded_with_admin_channel(data):
    root = client_for(sample.make_user("root", superuser=True, role="system_admin"))
    url = reverse("admin:registry_member_change", args=[data.m21.pk])
    form = root.get(url).context["adminform"].form
    post = {k: ("" if v is None else v) for k, v in form.initial.items()}
    post.update({"name": "李四改", "household": data.h2.pk, "expected_state": form["expected_state"].value()})
    for k in ("birth_date", "entered_on", "left_on"):
        post[k] = post[k].isoformat() if post.get(k) else ""
    for k in ("basic_medical_insurance", "serious_illness_insurance"):
        post[k] = "true" if post.get(k) else "unknown"
    post = {k: v for k, v in post.items() if v is not False}
    assert root.post(url, post).status_code == 302
    last = Member.history.filter(id=data.m21.pk).latest("history_date")
    assert last.name == "李四改" and last.channel == "admin" and last.history_user.username == "root"


def _admin_household_post(response, **changes):
    """The POST of the admin's household change form as opened in ``response`` (inlines left as they are)."""
    form = response.context["adminform"].form
    post = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None or value is False:
            continue
        post[name] = "true" if value is True else value
    for fs in response.context["inline_admin_formsets"]:
        prefix = fs.formset.prefix
        post.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    post.update(changes)
    return post


def test_admin_two_sessions_second_save_is_refused(data):
    """The admin's household form carries the version it was opened at: the second of two editors gets the
    conflict message and nothing of theirs is written."""
    first = client_for(sample.make_user("root1", superuser=True, role="system_admin"))
    second = client_for(sample.make_user("root2", superuser=True, role="system_admin"))
    url = reverse("admin:registry_household_change", args=[data.h2.pk])
    page1, page2 = first.get(url), second.get(url)
    assert 'name="expected_version"' in page1.content.decode()
    assert first.post(url, _admin_household_post(page1, phone="13800000011")).status_code == 302
    h = Household.objects.get(pk=data.h2.pk)
    assert (h.phone, h.version) == ("13800000011", 2)
    refused = second.post(url, _admin_household_post(page2, phone="13900000022", natural_village="东组"))
    assert refused.status_code == 200
    assert "该户信息已被他人修改（您编辑的是第 1 版，当前为第 2 版）" in refused.content.decode()
    h = Household.objects.get(pk=data.h2.pk)
    assert (h.phone, h.natural_village, h.version) == ("13800000011", "", 2)
    # reopened, the form carries version 2 and saves
    again = second.get(url)
    assert second.post(url, _admin_household_post(again, natural_village="东组")).status_code == 302
    h = Household.objects.get(pk=data.h2.pk)
    assert (h.phone, h.natural_village, h.version) == ("13800000011", "东组", 3)


def test_history_is_not_in_the_admin(data):
    registered = {m._meta.model_name for m in admin.site._registry}
    assert not {"historicalhousehold", "historicalmember", "historicalincome"} & registered
    superuser = sample.make_user("root", superuser=True, role="system_admin")
    assert client_for(superuser).get("/admin/registry/historicalhousehold/").status_code == 404
    # the full-ID log is read-only in the admin
    log = admin.site._registry[FullIdView]
    request = SimpleNamespace(user=superuser)
    assert not log.has_change_permission(request) and not log.has_delete_permission(request)
    assert not log.has_add_permission(request)


# ------------------------------------------------------------------------------------------ full ID numbers


def full_id_url(member):
    return reverse("member_full_id", args=[member.household_id, member.pk])


@pytest.mark.parametrize("role,area,allowed", [
    ("county_admin", "yl", True), ("town_admin", "yl_t", True), ("village_admin", "yl_a", True),
    ("statistician", "yl", False), ("donor", "yl", False), ("pairing_cadre", "yl_a", False),
    ("city_admin", "zz", False), ("inspector", "yl", False),
])
def test_full_id_roles_and_log(data, role, area, allowed):
    user = sample.make_user(f"u_{role}", area=getattr(data, area), role=role)
    if role == "pairing_cadre":  # reads only the households paired with them
        from xiaokang.registry.models import Pairing

        Pairing.objects.create(cadre=user, household=data.h2, started_on=dt.date(2016, 1, 1))
    c = client_for(user)
    detail = c.get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert ("显示完整证件号码" in detail) is allowed
    assert data.m21.id_number not in detail
    response = c.post(full_id_url(data.m21))
    if allowed:
        assert response.status_code == 200
        assert data.m21.id_number in response.content.decode()
        assert response["Cache-Control"] == "no-store"
        log = FullIdView.objects.get()
        assert (log.user, log.member, log.household, log.area_code) == (user, data.m21, data.h2, data.h2.area_id)
    else:
        assert response.status_code == 403
        assert data.m21.id_number not in response.content.decode()
        assert not FullIdView.objects.exists()


def test_full_id_get_not_allowed_and_out_of_area(data, yanling_user):
    c = client_for(yanling_user)
    assert c.get(full_id_url(data.m21)).status_code == 405
    assert c.post(full_id_url(data.m41)).status_code == 404
    assert not FullIdView.objects.exists()


@pytest.mark.parametrize("model", ["member", "income"])
def test_admin_member_and_income_forms_refuse_a_stale_save(data, model):
    """A member or income has no version number: its admin form carries a digest of the record as opened,
    and the second of two editors gets the conflict message with nothing of theirs written."""
    first = client_for(sample.make_user("root1", superuser=True, role="system_admin"))
    second = client_for(sample.make_user("root2", superuser=True, role="system_admin"))
    if model == "member":
        obj, field, one, two = data.m21, "name", "李四甲", "李四乙"
    else:
        obj = Income.objects.filter(household=data.h2).order_by("year").first()
        field, one, two = "wage", "7100.00", "7200.00"
    url = reverse(f"admin:registry_{model}_change", args=[obj.pk])
    page1, page2 = first.get(url), second.get(url)
    assert 'name="expected_state"' in page1.content.decode()
    assert first.post(url, _admin_household_post(page1, **{field: one})).status_code == 302
    refused = second.post(url, _admin_household_post(page2, **{field: two}))
    assert refused.status_code == 200 and "在您打开后已被他人修改，您的修改未保存" in refused.content.decode()
    assert str(getattr(type(obj).objects.get(pk=obj.pk), field)) == one
    # reopened, it saves; a form posted unchanged is no conflict either
    again = second.get(url)
    assert second.post(url, _admin_household_post(again, **{field: two})).status_code == 302
    assert str(getattr(type(obj).objects.get(pk=obj.pk), field)) == two


def test_history_shows_birth_dates_as_the_year_only(data, yanling_user):
    """The masked ID number hides exactly the birth date: a birth date (or a newborn's entry date) in the
    household's history would give it back without the logged display, so every role reads YYYY-**-** there
    (a change of month or day still shows as a change); other dates read YYYY-MM-DD."""
    import datetime as dt

    m = Member.objects.get(name="李四")
    old = m.birth_date
    m.birth_date = dt.date(old.year, 2, 3)
    m.save()
    m.left_on, m.leave_reason = dt.date(2020, 5, 6), "death"
    m.save()
    for user in (sample.make_user("insp", area=data.yl, role="inspector"), yanling_user):
        response = client_for(user).get(reverse("household_detail", args=[data.h2.pk]))
        fields = {(str(ch["field"]), str(ch["old"]), str(ch["new"])) for e in response.context["history"]
                  for ch in e["changes"]}
        assert ("出生日期", f"{old.year}-**-**", f"{old.year}-**-**") in fields
        assert ("迁出（减少）日期", "—", "2020-05-06") in fields  # not 2020年5月6日 (Django's zh-hans format)
        html = response.content.decode()
        assert f"{old:%Y-%m-%d}" not in html and f"{old.year}-02-03" not in html
