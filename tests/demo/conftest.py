"""Fixtures for the demo tests: 炎陵县 generated and loaded once per module, assessed, then removed."""

import pytest

from xiaokang.demo import loader as L
from xiaokang.demo import plan as P

YANLING = "430225"
ASSESSED_YEARS = P.YEARS


def area_codes() -> set[str]:
    from xiaokang.areas.models import Area

    return set(Area.objects.values_list("code", flat=True))


def cleanup_demo(keep_areas: set[str]) -> None:
    """Remove everything the demo loader wrote (the module fixture's data outlives test transactions)."""
    from django.contrib.auth import get_user_model

    from xiaokang.areas.models import Area, AreaPopulation
    from xiaokang.policy.models import ParameterValue

    L.wipe_demo_registry()
    AreaPopulation.objects.filter(area__is_demo=True).delete()
    get_user_model().objects.filter(username__in=[u.username for u in L.demo_users()]).delete()
    ParameterValue.objects.filter(source=P.DEMO_PARAMETER_SOURCE).delete()
    added = sorted(area_codes() - keep_areas, key=len, reverse=True)  # children before parents
    for length in sorted({len(c) for c in added}, reverse=True):
        Area.objects.filter(code__in=[c for c in added if len(c) == length]).delete()


@pytest.fixture(scope="module")
def yanling(django_db_setup, django_db_blocker):
    """炎陵县 only, seed default, scale 1, loaded and assessed for 2014–2020 (removed afterwards)."""
    with django_db_blocker.unblock():
        before = area_codes()
        result = L.load_demo(counties=[YANLING])
        L.enter_demo_parameters()
        runs = L.assess_demo(ASSESSED_YEARS, YANLING)
    yield result, runs
    with django_db_blocker.unblock():
        cleanup_demo(before)
