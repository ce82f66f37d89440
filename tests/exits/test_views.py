"""Village and county exit pages: scoped to the user's area (a 炎陵 user cannot see a 茶陵 village)."""

import pytest
from django.test import Client
from django.urls import reverse

from xiaokang.accounts.models import User
from xiaokang.exits.services import run_county_assessment, run_village_assessment

from .conftest import COUNTY, OTHER_COUNTY, village

YANLING_VILLAGE, CHALING_VILLAGE = village(1), village(1, OTHER_COUNTY)


@pytest.fixture
def data(build):
    for code in (YANLING_VILLAGE, CHALING_VILLAGE):
        build.population(code, 2019, 200)
        build.conditions(code, 2019)
        build.household(code, 4)
    run_village_assessment(2019)
    run_county_assessment(2020)
    return build


def client_for(area):
    user = User.objects.create_user(username=f"u{area}", password="pw-Secret-123", area_id=area, role="county_admin")
    c = Client()
    c.force_login(user)
    return c


def test_yanling_user_sees_only_yanling_villages(data):
    c = client_for(COUNTY)
    page = c.get(reverse("village_exit_list"), {"year": 2019})
    assert page.status_code == 200
    text = page.content.decode()
    assert YANLING_VILLAGE in text and CHALING_VILLAGE not in text
    assert "村贫困发生率 2.00%（4 人 ÷ 户籍人口 200 人）未低于 2%" in text
    assert c.get(reverse("village_exit_detail", args=[YANLING_VILLAGE, 2019])).status_code == 200
    assert c.get(reverse("village_exit_detail", args=[CHALING_VILLAGE, 2019])).status_code == 404


def test_county_page_is_scoped(data):
    c = client_for(COUNTY)
    text = c.get(reverse("county_exit_list"), {"year": 2020}).content.decode()
    assert COUNTY in text and OTHER_COUNTY not in text
    assert "群众认可度" in text
    assert c.get(reverse("county_exit_detail", args=[OTHER_COUNTY, 2020])).status_code == 404
    assert c.get(reverse("county_exit_detail", args=[COUNTY, 2020])).status_code == 200


def test_login_required(data):
    assert Client().get(reverse("village_exit_list")).status_code == 302


def test_exit_pages_in_english_show_english_criteria_and_verdicts(data):
    """The rule modules keep Chinese labels; the pages translate the verdicts and the county's rates."""
    c = client_for(COUNTY)
    c.cookies.load({"django_language": "en"})
    text = c.get(reverse("county_exit_list"), {"year": 2020}).content.decode()
    assert "Wrong-exit rate" in text and "Omission rate" in text and "Public satisfaction" in text
    assert "错退率" not in text and "群众认可度" not in text
    assert 'class="verdict unassessable">Cannot be assessed<' in text and "无法评估" not in text
    from django.utils import translation

    from xiaokang.exits.selectors import COUNTY_VERDICT_LABELS

    with translation.override("en"):
        assert str(COUNTY_VERDICT_LABELS["met"]) == "Meets the standard for removing the poor-county title"
    text = c.get(reverse("village_exit_list"), {"year": 2019}).content.decode()
    assert "未达到退出标准" not in text and "达到退出标准" not in text
