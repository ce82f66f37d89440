"""The admin shows no full ID or mobile number and offers no unscoped lookup (found by a red-team trial):
masked pages and forms that still save, autocomplete instead of raw-id inputs, household saves with their
inlines, statisticians and donors kept out."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaokang.imports.models import ImportBatch
from xiaokang.registry.models import Household, Member

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


@pytest.fixture
def data(db):
    return sample.build()


def login(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def yanling(data):
    return login(sample.make_user("yanling", area=data.yl, staff=True))


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


class FormFields(HTMLParser):
    """The fields of the admin's change form as a browser would post them back unchanged."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea, self._in_form = {}, None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[name] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, text):
        if self._textarea:
            self.data[self._textarea] += text


def form_of(page: str) -> dict:
    parser = FormFields()
    parser.feed(page)
    return parser.data


def test_member_and_household_pages_mask_numbers_and_still_save(data, yanling):
    """The household's change page with its member and income inlines: numbers masked, and posted back
    with one change it saves (without the inlines' record state every save was a conflict)."""
    h = data.h2
    Household.objects.filter(pk=h.pk).update(phone="13912345678")
    h.refresh_from_db()
    member = h.members.get(relation="01")
    page = yanling.get(change_url(h)).content.decode()
    assert not FULL_ID.findall(page) and "13912345678" not in page
    assert member.id_number[:6] + "********" + member.id_number[-4:] in page and "139****5678" in page
    form = form_of(page)
    assert form["phone"] == "139****5678"
    form["housing_area_m2"] = "66.5"
    response = yanling.post(change_url(h), form)
    assert response.status_code == 302, re.findall(r'class="errorlist[^"]*">(.*?)</ul>', response.content.decode())
    h.refresh_from_db()
    assert (str(h.housing_area_m2), h.phone) == ("66.5", "13912345678")  # the stored phone kept
    assert Member.objects.get(pk=member.pk).id_number == member.id_number
    assert not Member.history.filter(id=member.pk, history_type="~").exists()  # unchanged members not saved
    # the member's own page: masked; a full new number replaces the stored one
    page = yanling.get(change_url(member)).content.decode()
    assert not FULL_ID.findall(page)
    form = form_of(page)
    new_id = sample._id("430225", dt.date(1968, 1, 9))
    form["id_number"] = new_id
    assert yanling.post(change_url(member), form).status_code == 302
    assert Member.objects.get(pk=member.pk).id_number == new_id


def test_no_unscoped_lookup_by_id_in_the_admin(data, yanling):
    """A raw-id input looked the typed id up unscoped: the add page of an event prefilled with a 茶陵
    household and member showed their number and name to a 炎陵 user."""
    other = data.h4
    url = reverse("admin:monitoring_householdevent_add")
    page = yanling.get(url, {"household": other.pk, "member": data.m41.pk}).content.decode()
    assert other.household_number not in page and data.m41.name not in page
    assert yanling.get(url, {"household": data.h2.pk}).status_code == 200


def test_stored_import_errors_are_masked_in_the_admin(data, yanling):
    ident = data.m21.id_number
    batch = ImportBatch.objects.create(file_name="a.csv", sha256="0" * 64, area_code="430225", status="failed",
                                       errors=[{"reason": f"证件号码 {ident} 重复"}], ended_at=timezone.now())
    page = yanling.get(change_url(batch)).content.decode()
    assert ident not in page and ident[:6] + "********" + ident[-4:] in page


@pytest.mark.parametrize("role", ["statistician", "donor"])
def test_statisticians_and_donors_never_get_the_admin(data, role):
    """Even made staff with the area administrators' group, a role that sees aggregates only is kept out."""
    c = login(sample.make_user(f"u_{role}", area=data.yl, staff=True, role=role))
    assert c.get(reverse("admin:registry_household_changelist")).status_code == 403
    assert c.get(change_url(data.h2)).status_code in (302, 403)
    assert "registry" not in c.get(reverse("admin:index")).content.decode()


def test_the_address_cannot_filter_on_a_masked_number(data, yanling):
    """Django allows any lookup on a model's own fields in a list's address: ?id_number__startswith=… answered
    found / not found and gave a full number back digit by digit. Only the list's own filters are accepted."""
    member = data.m21
    url = reverse("admin:registry_member_changelist")
    for probe in ({"id_number__startswith": member.id_number[:17]}, {"id_number__regex": "^4302"},
                  {"id": member.pk}):
        assert yanling.get(url, probe).status_code == 400, probe
    assert yanling.get(reverse("admin:registry_household_changelist"), {"phone__startswith": "139"}).status_code == 400
    assert yanling.get(reverse("admin:imports_importbatch_changelist"), {"errors__icontains": "4302"}).status_code == 400
    assert yanling.get(url, {"relation__exact": "01"}).status_code == 200  # a filter the list offers


def test_birth_dates_beside_masked_numbers_show_the_year(data):
    """The masked digits of an ID number are the birth date: for a role that may not see full numbers the
    admin shows the birth year only; an administrator of the area (full numbers, logged) keeps the date."""
    member = data.m21  # born 1968-01-09
    city = login(sample.make_user("zhuzhou", area=data.zz, staff=True, role="city_admin"))
    page = city.get(change_url(member)).content.decode()
    assert "1968-01-09" not in page and 'name="birth_date"' not in page and "1968" in page
    listing = city.get(reverse("admin:registry_member_changelist")).content.decode()
    assert "1968-01-09" not in listing and "1968年1月9日" not in listing
    county = login(sample.make_user("yanling2", area=data.yl, staff=True, role="county_admin"))
    assert 'name="birth_date"' in county.get(change_url(member)).content.decode()


def test_a_household_number_that_looks_like_an_id_number_is_not_saved_masked(data, yanling):
    """Every 18-digit number is masked on admin pages, inputs included; sent back unchanged it keeps its
    stored value (a household number of village code + 6-digit sequence looks like an ID number)."""
    h = data.h2
    Household.objects.filter(pk=h.pk).update(household_number="430225100201000019")
    page = yanling.get(change_url(h)).content.decode()
    assert "430225100201000019" not in page
    form = form_of(page)
    assert form["household_number"] == "430225********0019"
    form["natural_village"] = "上屋组"
    assert yanling.post(change_url(h), form).status_code == 302
    h.refresh_from_db()
    assert (h.household_number, h.natural_village) == ("430225100201000019", "上屋组")


def test_a_refused_admin_lookup_is_a_chinese_400_page(data, yanling):
    response = yanling.get(reverse("admin:registry_member_changelist"), {"id_number__startswith": "4302"})
    page = response.content.decode()
    assert response.status_code == 400 and "请求无效（400）" in page and "只接受页面上提供的筛选条件" in page


def test_export_log_in_the_admin_names_the_command_line_user_as_the_pages_do(data, yanling):
    from xiaokang.imports.models import ExportLog

    ExportLog.objects.create(username="命令行:root", area_code="430225", rows=3, channel="command")
    page = yanling.get(reverse("admin:imports_exportlog_changelist")).content.decode()
    assert "root（命令行）" in page and "命令行:root" not in page and ">命令行<" in page
