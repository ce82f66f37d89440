"""The demo plan reproduces the published calibration figures (policy.md §8.2) exactly, without a database."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from xiaokang.demo import generator as G
from xiaokang.demo import plan as P


@pytest.fixture(scope="module")
def city():
    return G.make_plan()


def test_city_totals(city):
    t = city.totals()
    assert t["poor_villages"] == 166
    assert t["people"] == 158_000
    assert len(city.counties) == 9


@pytest.mark.parametrize("code, households, people, poor_villages", [
    ("430225", 8164, 26761, 54),  # 炎陵县
    ("430224", 17343, 64656, 68),  # 茶陵县
])
def test_published_counties(city, code, households, people, poor_villages):
    t = city.totals(code)
    assert (t["households"], t["people"], t["poor_villages"]) == (households, people, poor_villages)


def test_other_counties_share_the_rest(city):
    others = [c for c in city.counties if c not in ("430224", "430225")]
    assert sum(city.totals(c)["poor_villages"] for c in others) == 166 - 54 - 68 == 44
    assert sum(city.totals(c)["people"] for c in others) == 158_000 - 26_761 - 64_656 == 66_583


def test_yanling_incidence_2014(city):
    t = city.totals("430225")
    assert t["population"] == 161_503
    incidence = (Decimal(26761) * 100 / Decimal(t["population"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert incidence == Decimal("16.57")


def test_villages_are_synthetic_and_under_real_towns(city):
    towns = {c for county in G.towns_by_county().values() for c, _ in county}
    codes = [v.code for v in city.villages]
    assert len(codes) == len(set(codes))
    for v in city.villages:
        assert v.town in towns and v.code[:9] == v.town and len(v.code) == 12 and int(v.code[9:]) >= 201
        assert v.name.startswith("示例") and v.name.endswith("村")


def test_planned_exits(city):
    for code, layout in city.counties.items():
        hh = layout.households
        not_exited = [h for h in hh if h.exit_year is None]
        assert len(not_exited) == P.COUNTIES[code].not_exited
        assert all(h.failure in G.FAILURE_KINDS for h in not_exited)
        assert all(2015 <= h.exit_year <= 2020 for h in hh if h.exit_year)
    total = sum(len([h for h in layout.households if h.exit_year is None]) for layout in city.counties.values())
    assert 24 <= total <= 60  # "a few dozen" households city-wide


def test_deterministic_and_subset_equal(city):
    again = G.make_plan(counties=["430225"])
    a, b = city.counties["430225"], again.counties["430225"]
    assert [(v.code, v.name, v.population) for v in a.villages] == [(v.code, v.name, v.population) for v in b.villages]
    assert [(h.village, h.size, h.exit_year) for h in a.households] == \
        [(h.village, h.size, h.exit_year) for h in b.households]
    other = G.make_plan(seed=7, counties=["430225"])
    assert other.totals("430225")["people"] == 26761  # calibration holds for any seed
    assert [h.size for h in other.counties["430225"].households] != [h.size for h in a.households]


def test_scale_multiplies(city):
    two = G.make_plan(counties=["430204"], scale=2)
    one = G.make_plan(counties=["430204"])
    assert two.totals()["households"] == 2 * one.totals()["households"]
    assert two.totals()["population"] == 2 * one.totals()["population"]


def test_unknown_county():
    with pytest.raises(ValueError, match="430299"):
        G.make_plan(counties=["430299"])


def test_id_allocator_stays_in_900_999_and_unique():
    import datetime as dt

    from xiaokang.registry.idnumber import validate_id_number

    alloc = G.IdAllocator()
    birth = dt.date(1970, 12, 31)
    numbers = [alloc.allocate("430225", birth, male=True) for _ in range(600)]
    ids = [n for n, _ in numbers]
    assert len(set(ids)) == 600
    for n, day in numbers:
        check = validate_id_number(n)
        assert check.valid and check.sex == "1" and check.birth_date == day and day.year == 1970
        assert 900 <= int(n[14:17]) <= 999
    # 50 male numbers per address and day, then the other Zhuzhou address codes, then a nearby day.
    assert {n[:6] for n in ids[:50]} == {"430225"}
    assert numbers[-1][1] != birth
