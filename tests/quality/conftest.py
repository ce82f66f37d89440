"""Builders for the data-quality tests: one county tree (炎陵 430225, 茶陵 430224) and a *clean* household
that triggers no rule in 2020, which each test then breaks in one field. All people are synthetic (names
测试…, ID numbers from ``make_id_number`` with sequences 900–999)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from xiaokang.areas.models import Area
from xiaokang.registry.idnumber import make_id_number
from xiaokang.registry.models import Household, Income, Member

YEAR = 2020
COUNTY, OTHER_COUNTY = "430225", "430224"
VILLAGE, OTHER_VILLAGE = "430225100201", "430224100201"


class Builder:
    def __init__(self):
        self._numbers = itertools.count(1)
        self._seq = itertools.count(0)
        Area.objects.create(code="43", name="湖南省", level="province")
        Area.objects.create(code="4302", name="株洲市", level="city", parent_id="43")
        Area.objects.create(code=COUNTY, name="炎陵县", level="county", parent_id="4302")
        Area.objects.create(code=OTHER_COUNTY, name="茶陵县", level="county", parent_id="4302")
        Area.objects.create(code="430225100", name="测试镇甲", level="town", parent_id=COUNTY)
        Area.objects.create(code="430224100", name="测试镇乙", level="town", parent_id=OTHER_COUNTY)
        Area.objects.create(code=VILLAGE, name="炎陵测试村", level="village", parent_id="430225100")
        Area.objects.create(code=OTHER_VILLAGE, name="茶陵测试村", level="village", parent_id="430224100")

    def household(self, area=VILLAGE, wage="10000", head_birth=dt.date(1970, 3, 1), **fields):
        """A clean household: a head aged 50 in 2020, ordinary, cause 缺土地, 10 亩, a pairing cadre, and a
        2020 income of ``wage`` 元 (None: no income record)."""
        values = dict(household_type="1", main_cause="05", other_causes="", identified_year=2014,
                      farmland_mu=Decimal("10"), pairing_cadre="测试帮扶人")
        values.update(fields)
        h = Household.objects.create(household_number=f"T{next(self._numbers):05d}", area_id=area, **values)
        self.member(h, head_birth, relation="01")
        if wage is not None:
            Income.objects.create(household=h, year=YEAR, wage=Decimal(wage))
        return h

    def member(self, h, birth, relation="03", male=True, **fields):
        seq = 900 + (next(self._seq) % 50) * 2 + (1 if male else 0)
        values = dict(schooling_status="00", health_status="1", labour_capacity="1" if YEAR - birth.year >= 16 else "4")
        values.update(fields)
        return Member.objects.create(
            household=h, name=f"测试{seq}", id_number=make_id_number(h.area_id[:6], birth, seq),
            sex="1" if male else "2", birth_date=birth, relation=relation, **values)

    def head(self, h):
        return h.members.get(relation="01")


@pytest.fixture
def b(db):
    return Builder()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
