"""Fixtures of the dashboard tests: the hand-built sample registry of tests/sample_data.py."""

import pytest
import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)


@pytest.fixture
def sample_data():
    return sample


@pytest.fixture
def data(db):
    d = sample.build()
    sample.assess(2019, 2020)
    return d


@pytest.fixture
def yanling_user(data):
    return sample.make_user("yanling", area=data.yl, staff=True)


@pytest.fixture
def city_user(data):
    return sample.make_user("zhuzhou", area=data.zz, staff=True, role="city_admin")
