"""Cached summaries are recomputed after every committed registry change (xiaokang.core.cache)."""

import pytest
from django.urls import reverse

from xiaokang.core import cache as C
from xiaokang.registry.services import update_household

import sample_data as sample

pytestmark = pytest.mark.django_db


def test_cached_value_is_computed_once_per_version(django_capture_on_commit_callbacks):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    v0 = C.version()  # other modules' fixtures may have committed earlier bumps
    assert C.cached(C.REGISTRY, "k", compute) == 1
    assert C.cached(C.REGISTRY, "k", compute) == 1  # from the cache
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        C.bump(C.REGISTRY)
        C.bump(C.REGISTRY)  # once per transaction
    assert len(callbacks) == 1 and C.version() == v0 + 1
    assert C.cached(C.REGISTRY, "k", compute) == 2


def test_bump_waits_for_the_commit(django_capture_on_commit_callbacks):
    v0 = C.version()
    with django_capture_on_commit_callbacks(execute=False):
        C.bump(C.REGISTRY)
    assert C.version() == v0  # not committed: nothing moved


def test_every_kind_of_registry_write_moves_the_version(django_capture_on_commit_callbacks):
    v0 = C.version()
    with django_capture_on_commit_callbacks(execute=True):
        data = sample.build()  # ORM saves (signals)
    v = C.version()
    assert v == v0 + 1  # many saves, one bump per transaction
    with django_capture_on_commit_callbacks(execute=True):
        update_household(data.h1.pk, {"phone": "13800000000"}, data.h1.version)  # conditional UPDATE
    assert C.version() == v + 1
    with django_capture_on_commit_callbacks(execute=True):
        sample.assess(2020)  # INSERT … SELECT
    assert C.version() == v + 2


def test_household_list_count_follows_a_new_household(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        data = sample.build()
    client.force_login(sample.make_user("city", data.zz))
    url = reverse("household_list")
    assert client.get(url, {"year": 2020}).context["page"].paginator.count == 5
    with django_capture_on_commit_callbacks(execute=True):
        sample.household("YL0099", data.yl_b)
    assert client.get(url, {"year": 2020}).context["page"].paginator.count == 6


def test_cached_pages_follow_registry_and_quality_changes(client, django_capture_on_commit_callbacks):
    """The household list's and the dashboard's rendered bodies (cached_html) are renewed after a registry
    change and after a data-quality run; another jurisdiction never gets them."""
    from xiaokang.quality.services import run_checks

    with django_capture_on_commit_callbacks(execute=True):
        data = sample.build()
        sample.assess(2020)
    client.force_login(sample.make_user("city", data.zz))
    url = reverse("household_list")
    first = client.get(url, {"year": 2020}).content.decode()
    assert "YL0001" in first and "CL0001" in first
    with django_capture_on_commit_callbacks(execute=True):
        sample.household("YL0098", data.yl_b)
    assert "YL0098" in client.get(url, {"year": 2020}).content.decode()  # not the cached body

    dash = reverse("dashboard")
    before = client.get(dash, {"year": 2020}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        found = run_checks(None, 2020)
    assert found.open > 0
    after = client.get(dash, {"year": 2020}).content.decode()
    assert after != before and "暂无疑点" in before and "暂无疑点" not in after

    # a county user of 茶陵 gets its own body, never the city's
    other = type(client)()
    other.force_login(sample.make_user("chaling", data.cl, role="county_admin"))
    mine = other.get(url, {"year": 2020}).content.decode()
    assert "CL0001" in mine and "YL0001" not in mine


def test_scope_key_names_what_for_user_restricts_to():
    from django.contrib.auth.models import AnonymousUser

    from xiaokang.core.scoping import scope_key

    data = sample.build()
    assert scope_key(sample.make_user("root", superuser=True)) == "*"
    assert scope_key(sample.make_user("yl", data.yl, role="county_admin")) == "430225"
    assert scope_key(sample.make_user("nobody")) == "-"  # no area: for_user gives nothing
    assert scope_key(AnonymousUser()) == "-"
