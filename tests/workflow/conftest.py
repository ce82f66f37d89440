"""Fixtures of the workflow tests: the sample registry (tests/sample_data.py) and users by role and area."""

import pytest

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need no slow password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data(db):
    return sample.build()


@pytest.fixture
def users(data):
    """village/town/county administrators of 炎陵 (村 430225100201, 镇 430225100, 县 430225), a 茶陵 county
    administrator, a 炎陵 pairing cadre at village level (paired with YL0002), a statistician, a donor and a superuser."""
    from types import SimpleNamespace

    from xiaokang.areas.models import Area

    def area(code):
        return Area.objects.get(code=code)

    import datetime as dt

    from xiaokang.registry.models import Pairing

    cadre = sample.make_user("ganbu", area=data.yl_a, role="pairing_cadre")
    Pairing.objects.create(cadre=cadre, household=data.h2, started_on=dt.date(2016, 1, 1))  # 帮扶结对: YL0002
    return SimpleNamespace(
        village=sample.make_user("cun", area=data.yl_a, role="village_admin"),
        village_b=sample.make_user("cun_b", area=data.yl_b, role="village_admin"),
        town=sample.make_user("zhen", area=area("430225100"), role="town_admin"),
        county=sample.make_user("xian", area=data.yl, role="county_admin"),
        other_county=sample.make_user("chaling", area=data.cl, role="county_admin"),
        city=sample.make_user("shi", area=data.zz, role="city_admin"),
        cadre=cadre,
        statistician=sample.make_user("tongji", area=data.yl, role="statistician"),
        donor=sample.make_user("aixin", area=data.yl, role="donor"),
        superuser=sample.make_user("root", superuser=True, role="system_admin"),
    )
