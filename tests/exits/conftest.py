"""Builders for the village and county exit tests: a small Hunan area tree, households with counted members,
populations, village conditions and evaluation samples. All people are synthetic (names 测试…, ID numbers
with 9xx sequences)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from xiaokang.areas.models import Area, AreaPopulation
from xiaokang.exits.models import CountyYear, EvaluationSample, VillageYear
from xiaokang.registry.idnumber import make_id_number
from xiaokang.registry.models import Household, Member

COUNTY, OTHER_COUNTY = "430225", "430224"
TOWN, OTHER_TOWN = "430225100", "430224100"


def village(n: int, county: str = COUNTY) -> str:
    return f"{county}100{200 + n:03d}"


class Builder:
    def __init__(self):
        self._numbers = itertools.count(1)
        self._ids = itertools.count(0)

    def areas(self, villages=range(1, 7), poor=lambda n: n != 6, other_villages=(1,)):
        Area.objects.create(code="43", name="湖南省", level="province")
        Area.objects.create(code="4302", name="株洲市", level="city", parent_id="43")
        Area.objects.create(code=COUNTY, name="炎陵县", level="county", parent_id="4302", is_national_key_county=True)
        Area.objects.create(code=OTHER_COUNTY, name="茶陵县", level="county", parent_id="4302",
                            is_national_key_county=True)
        Area.objects.create(code=TOWN, name="测试镇甲", level="town", parent_id=COUNTY)
        Area.objects.create(code=OTHER_TOWN, name="测试镇乙", level="town", parent_id=OTHER_COUNTY)
        for n in villages:
            Area.objects.create(code=village(n), name=f"炎陵测试{n}村", level="village", parent_id=TOWN,
                                is_poor_village=poor(n))
        for n in other_villages:
            Area.objects.create(code=village(n, OTHER_COUNTY), name=f"茶陵测试{n}村", level="village",
                                parent_id=OTHER_TOWN, is_poor_village=True)

    def household(self, area: str, people: int, identified: int = 2014, exit_year=None, **member_fields):
        """A household with ``people`` members counted at year end (born 1960 + i)."""
        h = Household.objects.create(
            household_number=f"{area}{next(self._numbers):04d}", area_id=area, identified_year=identified,
            exit_year=exit_year, poverty_status="exited" if exit_year else "poor", main_cause="01",
        )
        for i in range(people):
            self.member(h, dt.date(1960 + i % 40, 1 + i % 12, 1), **member_fields)
        return h

    def member(self, h, birth, **fields):
        k = next(self._ids)
        birth = birth + dt.timedelta(days=k // 50)  # keep ID numbers unique
        seq = 900 + k % 50 * 2 + 1
        return Member.objects.create(household=h, name=f"测试{k}", id_number=make_id_number(h.area_id[:6], birth, seq),
                                     sex="1", birth_date=birth, relation="01", **fields)

    def population(self, area: str, year: int, registered: int, rural=None):
        return AreaPopulation.objects.create(area_id=area, year=year, registered_population=registered,
                                             rural_population=rural)

    def conditions(self, area: str, year: int, income="40000", **flags):
        values = dict(has_road=True, has_water=True, has_electricity=True, has_school_access=True, has_clinic=True)
        values.update(flags)
        return VillageYear.objects.create(area_id=area, year=year,
                                          collective_income=None if income is None else Decimal(income), **values)

    def county_income(self, area: str, year: int, yuan):
        return CountyYear.objects.create(area_id=area, year=year, rural_income=Decimal(str(yuan)))

    def samples(self, area: str, year: int, kind: str, rows: int, people: int = 1, approves=True):
        EvaluationSample.objects.bulk_create([
            EvaluationSample(area_id=area, year=year, household_ref=f"S{next(self._numbers)}", people=people,
                             kind=kind, approves=approves(i) if callable(approves) else approves)
            for i in range(rows)
        ])


@pytest.fixture
def build(db):
    b = Builder()
    b.areas()
    return b
