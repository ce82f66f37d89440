"""Builders for the policy tests: areas, small hand-built households, and one ``assess`` helper that runs
the household rule through BOTH paths (the batch run stored in the database, and the live one-household
run) and fails unless they agree.

All people are synthetic: names like "测试乙", ID numbers built with ``make_id_number`` from an address
code, the birth date and a 9xx sequence.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from xiaokang.areas.models import Area
from xiaokang.policy.models import AssessmentReason, HouseholdAssessment
from xiaokang.policy.reasons import Reason, render
from xiaokang.policy.rules.household import CRITERIA
from xiaokang.policy.services import assess_household_live, run_household_assessment, to_reasons
from xiaokang.registry import codes
from xiaokang.registry.idnumber import make_id_number
from xiaokang.registry.models import Household, Income, Member

# The synthetic area tree: 湖南省 43 → 株洲市 4302 → two counties, one town and one village each.
PROVINCE, CITY = "43", "4302"
COUNTY, OTHER_COUNTY = "430225", "430224"
TOWN, OTHER_TOWN = "430225100", "430224100"
VILLAGE, OTHER_VILLAGE = "430225100201", "430224100201"
SECOND_VILLAGE = "430225100202"

AREAS = [
    (PROVINCE, "湖南省", "province", None),
    (CITY, "株洲市", "city", PROVINCE),
    (COUNTY, "测试县甲", "county", CITY),
    (OTHER_COUNTY, "测试县乙", "county", CITY),
    (TOWN, "测试镇甲", "town", COUNTY),
    (OTHER_TOWN, "测试镇乙", "town", OTHER_COUNTY),
    (VILLAGE, "测试村一", "village", TOWN),
    (SECOND_VILLAGE, "测试村二", "village", TOWN),
    (OTHER_VILLAGE, "测试村三", "village", OTHER_TOWN),
]

RESULT_KEYS = ("member_count", "net_income_fen", "per_capita_income_fen", "income_standard_fen", "standard_key",
               *CRITERIA, "verdict")


@pytest.fixture
def areas(db):
    """The area rows (parents first), keyed by code."""
    out = {}
    for code, name, level, parent in AREAS:
        out[code] = Area.objects.create(code=code, name=name, level=level, parent_id=parent)
    return out


class Builder:
    """Hand-built registry rows. Defaults describe a household that meets every criterion except income,
    which each test sets with an explicit ``income(...)`` (a missing income record is a test case)."""

    def __init__(self):
        self._numbers = itertools.count(1)
        self._sequences = itertools.cycle(range(900, 1000))

    def household(self, village: str = VILLAGE, identified_year: int = 2016, **fields) -> Household:
        values = dict(
            household_number=f"{village}{next(self._numbers):04d}",
            area_id=village,
            main_cause=codes.PovertyCause.ILLNESS,
            identified_year=identified_year,
            food_secure=True,
            clothing_secure=True,
            housing_grade="A",
            water_scarce_area=False,
            water_quantity_lpd=50,
            water_quality_ok=True,
            water_piped=True,
            water_outage_days=0,
        )
        values.update(fields)
        h = Household(**values)
        h.full_clean()
        h.save()
        return h

    def member(self, household: Household, name: str, birth: dt.date, relation: str = codes.Relation.OTHER,
               **fields) -> Member:
        seq = next(self._sequences)
        values = dict(
            household=household,
            name=name,
            id_number=make_id_number(household.area_id[:6], birth, seq),
            sex="1" if seq % 2 else "2",  # the 17th digit: odd = male
            birth_date=birth,
            relation=relation,
            basic_medical_insurance=True,
            serious_illness_insurance=True,
        )
        values.update(fields)
        m = Member(**values)
        m.full_clean()  # also checks the ID number against birth date and sex
        m.save()
        return m

    def adults(self, household: Household, n: int = 2) -> list[Member]:
        """``n`` insured adults (born 1970 + i), none of compulsory-school age."""
        names = ["测试甲", "测试丁", "测试戊", "测试己", "测试庚"]
        out = [self.member(household, names[i], dt.date(1970 + i, 3, 1),
                           codes.Relation.HEAD if i == 0 else codes.Relation.SPOUSE if i == 1 else codes.Relation.OTHER)
               for i in range(n)]
        return out

    def income(self, household: Household, year: int, **yuan) -> Income:
        """An income record; amounts in yuan (Decimal or str for fen precision)."""
        inc = Income(household=household, year=year, **{k: Decimal(str(v)) for k, v in yuan.items()})
        inc.full_clean()
        inc.save()
        return inc

    def standard_household(self, year: int, wage="100000", n: int = 2, **fields) -> Household:
        """A household meeting every criterion: ``n`` adults and a comfortable income (default 100,000)."""
        h = self.household(**fields)
        self.adults(h, n)
        self.income(h, year, wage=wage)
        return h


@pytest.fixture
def build(areas):
    return Builder()


def _flag(v):
    return None if v is None else bool(v)


def _fen(yuan: Decimal | None):
    return None if yuan is None else int(yuan * 100)


def _reason_key(r: Reason):
    return (r.code, r.member_name, r.amount, r.threshold, r.detail)


@dataclass
class Outcome:
    """The agreed outcome of the batch and the live runs for one household and year."""

    result: dict | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def sentences(self) -> list[str]:
        return [render(r) for r in self.reasons]

    def __getitem__(self, key):
        return self.result[key]


def stored_outcome(household: Household, year: int) -> Outcome:
    """What the batch run stored for one household (HouseholdAssessment + AssessmentReason rows)."""
    rows = list(HouseholdAssessment.objects.filter(household=household, year=year))
    assert len(rows) <= 1
    reasons = to_reasons(list(AssessmentReason.objects.filter(household=household, year=year)), year)
    if not rows:
        return Outcome(None, reasons)
    a = rows[0]
    result = {
        "member_count": a.member_count,
        "net_income_fen": _fen(a.net_income),
        "per_capita_income_fen": _fen(a.per_capita_income),
        "income_standard_fen": _fen(a.income_standard),
        "standard_key": a.standard_key,
        **{c: _flag(getattr(a, c)) for c in CRITERIA},
        "verdict": a.verdict,
    }
    return Outcome(result, reasons)


def live_outcome(household: Household, year: int, params=None) -> Outcome:
    row, reasons = assess_household_live(household, year, params=params)
    if row is None:
        return Outcome(None, reasons)
    result = {k: row[k] for k in RESULT_KEYS}
    for c in CRITERIA:
        result[c] = _flag(result[c])  # SQLite returns 0/1
    for k in ("member_count", "net_income_fen", "per_capita_income_fen", "income_standard_fen"):
        result[k] = None if result[k] is None else int(result[k])
    return Outcome(result, reasons)


@pytest.fixture
def assess():
    """``assess(household, year, area=COUNTY, params=None)``: run the batch for ``area`` and the live rule,
    assert they agree (result and reasons), and return the ``Outcome``."""

    def run(household: Household, year: int, area: str | None = COUNTY, params=None) -> Outcome:
        run_household_assessment(year, area, params=params)
        batch = stored_outcome(household, year)
        live = live_outcome(household, year, params=params)
        assert batch.result == live.result, f"batch {batch.result} != live {live.result}"
        assert sorted(map(_reason_key, batch.reasons), key=repr) == sorted(map(_reason_key, live.reasons), key=repr)
        assert batch.sentences == live.sentences  # same order after to_reasons
        return live

    return run
