"""A pairing cadre (帮扶责任人) reads only the households paired with them (帮扶结对, ``registry.Pairing``), with
what belongs to them — not the whole village (issue 3's roles): list, household file, nested records,
monitoring and findings; workflows not at all; a pairing that ended closes the household again."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaokang.core.scoping import scope_key
from xiaokang.monitoring import services as monitoring
from xiaokang.monitoring.models import MonitoringCase
from xiaokang.policy.models import HouseholdAssessment
from xiaokang.quality.models import Finding
from xiaokang.registry.models import Household, Member, Pairing
from xiaokang.workflow.models import WorkflowInstance

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db
D = dt.date(2020, 10, 1)


@pytest.fixture
def data(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    d = sample.build()
    sample.assess(2020)
    return d


def client(user):
    c = Client()
    c.force_login(user)
    return c


def test_a_pairing_cadre_reads_only_paired_households(data):
    village = sample.make_user("cun", area=data.yl_a, role="village_admin")
    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    h1, h2 = data.h1, data.h2  # both in 炎陵一村, the cadre's village
    case = monitoring.open_case(household=h1, category="unstable", risk_types=["01"], channel="self",
                                user=village, on=D)
    now = timezone.now()
    Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=h1, area_code=h1.area_id, year=2020,
                           first_seen=now, last_seen=now)
    Finding.objects.create(rule_code="Q24_NO_PAIRING_CADRE", household=h2, area_code=h2.area_id, year=2020,
                           first_seen=now, last_seen=now)
    # no pairing yet: nothing of the village, but the area's aggregate data
    assert not Household.objects.for_user(cadre).exists()
    c = client(cadre)
    assert c.get(reverse("household_detail", args=[h1.pk])).status_code == 404
    assert c.get(reverse("dashboard")).status_code == 200

    Pairing.objects.create(cadre=cadre, household=h2, started_on=dt.date(2016, 1, 1))
    assert list(Household.objects.for_user(cadre).values_list("household_number", flat=True)) == ["YL0002"]
    assert set(Member.objects.for_user(cadre).values_list("household_id", flat=True)) == {h2.pk}
    assert set(HouseholdAssessment.objects.for_user(cadre).values_list("household_id", flat=True)) == {h2.pk}
    assert list(Finding.objects.for_user(cadre).values_list("household_id", flat=True)) == [h2.pk]
    assert not MonitoringCase.objects.for_user(cadre).exists()  # h1's case
    assert not WorkflowInstance.objects.for_user(cadre).exists()  # workflows: never (fail closed)
    # the village administrator still sees both households
    assert Household.objects.for_user(village).filter(area_id=data.yl_a.code).count() == 2

    page = c.get(reverse("household_list")).content.decode()
    assert reverse("household_detail", args=[h2.pk]) in page and reverse("household_detail", args=[h1.pk]) not in page
    assert c.get(reverse("household_detail", args=[h2.pk])).status_code == 200
    assert c.get(reverse("household_detail", args=[h1.pk])).status_code == 404
    assert c.get(reverse("monitoring_case_detail", args=[case.pk])).status_code == 404
    found = c.get(reverse("household_list"), {"q": "YL0001"}).content.decode()  # a search: nothing either
    assert reverse("household_detail", args=[h1.pk]) not in found
    # cached pages are the cadre's own, not the village's
    assert scope_key(cadre) != scope_key(village)

    # an end date still to come: current until then; a start still to come: not yet
    today = timezone.localdate()
    Pairing.objects.filter(cadre=cadre).update(ended_on=today + dt.timedelta(days=30))
    assert c.get(reverse("household_detail", args=[h2.pk])).status_code == 200
    Pairing.objects.filter(cadre=cadre).update(started_on=today + dt.timedelta(days=1), ended_on=None)
    assert c.get(reverse("household_detail", args=[h2.pk])).status_code == 404
    # the pairing ended: the household closes again
    Pairing.objects.filter(cadre=cadre).update(started_on=dt.date(2016, 1, 1), ended_on=dt.date(2020, 12, 31))
    assert c.get(reverse("household_detail", args=[h2.pk])).status_code == 404


def test_pairings_in_the_admin_are_the_areas_and_only_for_pairing_cadres(data):
    from django.core.exceptions import ValidationError

    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    other = sample.make_user("cl_ganbu", area=data.cl_a, role="pairing_cadre")
    Pairing.objects.create(cadre=other, household=data.h4, started_on=dt.date(2016, 1, 1))
    admin = client(sample.make_user("yanling", area=data.yl, staff=True, role="county_admin"))
    add = reverse("admin:registry_pairing_add")
    page = admin.get(add).content.decode()
    assert "ganbu" in page and "cl_ganbu" not in page  # the cadres of the administrator's area
    r = admin.post(add, {"cadre": cadre.pk, "household": data.h1.pk, "started_on": "2016-01-01"})
    assert r.status_code == 302
    assert list(Pairing.objects.for_user(cadre).values_list("household_id", flat=True)) == [data.h1.pk]
    listing = admin.get(reverse("admin:registry_pairing_changelist")).content.decode()
    assert "YL0001" in listing and "CL0001" not in listing
    with pytest.raises(ValidationError, match="只能选择角色为帮扶责任人的用户"):
        Pairing(cadre=sample.make_user("cun", area=data.yl_a, role="village_admin"), household=data.h1,
                started_on=dt.date(2016, 1, 1)).full_clean()


def test_a_pairing_must_lie_in_the_cadres_area_and_be_the_only_current_one(data):
    from django.core.exceptions import ValidationError

    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    for household in (data.h4, data.h3):  # another county; another village of the same town
        with pytest.raises(ValidationError, match="该户不在此帮扶责任人的区域（430225100201）内"):
            Pairing(cadre=cadre, household=household, started_on=dt.date(2016, 1, 1)).full_clean()
    Pairing.objects.create(cadre=cadre, household=data.h1, started_on=dt.date(2016, 1, 1))
    with pytest.raises(ValidationError, match="该户与此帮扶责任人已有进行中的结对"):
        Pairing(cadre=cadre, household=data.h1, started_on=dt.date(2019, 1, 1)).full_clean()


def test_the_household_page_hides_a_newborns_entry_date_from_roles_without_full_numbers(data):
    """A newborn's entry date is its birth date, which with the masked ID number gives the full number."""
    baby = sample.member(data.h2, "李小宝", "03", dt.date(2018, 3, 10), entered_on=dt.date(2018, 3, 10),
                         entry_reason="newborn")
    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    Pairing.objects.create(cadre=cadre, household=data.h2, started_on=dt.date(2016, 1, 1))
    page = client(cadre).get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert "2018-03-10" not in page and "2018 新增（新生儿）" in page
    assert "帮扶责任人不查看审批流程" in page
    assert f'href="{reverse("workflow_list")}"' not in page  # no link to a page that shows them nothing
    village = sample.make_user("cun", area=data.yl_a, role="village_admin")
    assert "2018-03-10 新增（新生儿）" in client(village).get(reverse("household_detail", args=[data.h2.pk])).content.decode()
    assert baby.id_number[:6] + "********" + baby.id_number[-4:] in page


def test_aggregate_only_roles_get_no_links_to_person_level_pages(data):
    """A statistician's navigation and dashboard link to no page that answers 403 (the trial found 贫困户,
    防返贫监测, 审批 and the dashboard's 户名单 links); an administrator of the same area keeps them (the
    dashboard body is cached per kind of reader, not only per area)."""
    stat = client(sample.make_user("tongji", area=data.yl, role="statistician"))
    county = client(sample.make_user("xian", area=data.yl, role="county_admin"))
    for c, shown in ((stat, False), (county, True), (stat, False)):
        page = c.get(reverse("dashboard")).content.decode()
        for url in (reverse("household_list"), reverse("monitoring_object_list"), reverse("workflow_list")):
            assert (f'href="{url}"' in page) is shown, url
        assert (f'href="{reverse("household_list")}?area=' in page) is shown


def test_pairings_keep_their_history_on_the_household_page(data):
    """A pairing opens a household to a cadre: who paired them, who ended it and when is in the history."""
    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    admin = client(sample.make_user("yanling", area=data.yl, staff=True, role="county_admin"))
    assert admin.post(reverse("admin:registry_pairing_add"),
                      {"cadre": cadre.pk, "household": data.h1.pk, "started_on": "2016-01-01"}).status_code == 302
    pairing = Pairing.objects.get()
    r = admin.post(reverse("admin:registry_pairing_change", args=[pairing.pk]),
                   {"cadre": cadre.pk, "household": data.h1.pk, "started_on": "2016-01-01", "ended_on": "2020-12-31"})
    assert r.status_code == 302
    history = admin.get(reverse("household_detail", args=[data.h1.pk])).context["history"]
    rows = [(e["object"], str(e["type"]), e["user"], e["channel"], [(str(c["field"]), str(c["old"]), str(c["new"]))
                                                                    for c in e["changes"]])
            for e in history if str(e["object"]).startswith("帮扶结对")]
    assert rows == [("帮扶结对（ganbu）", "修改", "yanling", "管理后台", [("结束日期", "—", "2020-12-31")]),
                    ("帮扶结对（ganbu）", "新建", "yanling", "管理后台", [])]
