import importlib.util
from pathlib import Path

import pytest


def load_sample_data():
    """tests/dashboards/sample_data.py, loaded by path (tests/ folders are not packages)."""
    spec = importlib.util.spec_from_file_location("xiaokang_sample_data", Path(__file__).with_name("sample_data.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sample = load_sample_data()


@pytest.fixture
def sample_data():
    return sample


@pytest.fixture(autouse=True)
def _plain_static(settings):
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


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
