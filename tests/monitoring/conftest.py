"""Builders for the monitoring tests: the sample areas and households of ``tests/sample_data.py`` plus exited
households with hand-chosen incomes and recorded events (all synthetic: names 测试…, ID sequences 9xx).

Monitoring range 2020 = 1.5 × 4,000 = 6,000 元/人·年 (600,000 fen); medical threshold 10,000 元;
income drop 30 %; stable-income months 6; notice 7 days (policy/parameters/monitoring.yaml).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

import sample_data as sample
from xiaokang.monitoring.models import HouseholdEvent


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def exited(number, area, income_2019, income_2020, labour="1", exit_year=2019):
    """An exited household of two members (born 1970 and 1972) with its 2019 and 2020 net incomes (元)."""
    h = sample.household(number, area, exit_year=exit_year)
    sample.member(h, f"测试{number}甲", "01", dt.date(1970, 3, 1), labour_capacity=labour)
    sample.member(h, f"测试{number}乙", "02", dt.date(1972, 5, 1), male=False, labour_capacity=labour)
    sample.income(h, 2019, Decimal(income_2019))
    sample.income(h, 2020, Decimal(income_2020))
    return h


def event(h, kind, day, amount=None):
    return HouseholdEvent.objects.create(household=h, area_code=h.area_id, kind=kind, occurred_on=day,
                                         amount=None if amount is None else Decimal(amount))


@pytest.fixture
def mon(db):
    d = sample.build()
    hh = SimpleNamespace(d=d)
    hh.A = exited("MNA", d.yl_a, "20000", "20000")      # medical 6,000 + 4,000 = exactly 10,000: no warning
    event(hh.A, "medical_cost", dt.date(2020, 2, 1), "6000")
    event(hh.A, "medical_cost", dt.date(2020, 9, 1), "4000")
    hh.B = exited("MNB", d.yl_a, "20000", "20000")      # medical 10,000.01: warning
    event(hh.B, "medical_cost", dt.date(2020, 4, 1), "10000.01")
    event(hh.B, "medical_cost", dt.date(2019, 4, 1), "30000")  # last year: not counted for 2020
    hh.C = exited("MNC", d.yl_a, "20000", "12000")      # 6,000 per person: exactly the range, not inside; −40 %
    hh.D = exited("MND", d.yl_a, "20000", "11999.99", labour="4")  # 5,999.99: inside; −40 %; no labour capacity
    hh.E = exited("MNE", d.yl_b, "20000", "14000")      # 7,000: a drop of exactly 30 %
    hh.F = exited("MNF", d.yl_b, "20000", "14000.02")   # 7,000.01: a drop just under 30 %
    hh.G = exited("MNG", d.yl_b, "20000", "20000")
    event(hh.G, "labourer_death", dt.date(2020, 3, 1))
    event(hh.G, "disability", dt.date(2020, 5, 1))
    event(hh.G, "disaster", dt.date(2021, 1, 2))        # next year
    event(hh.G, "job_loss", dt.date(2019, 12, 31))      # last year
    hh.H = exited("MNH", d.cl_a, "20000", "20000")      # 茶陵
    event(hh.H, "disaster", dt.date(2020, 7, 1))
    return hh
