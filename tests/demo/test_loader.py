"""Loading the demo: idempotent, keeps non-demo data, scale, and the ``demo`` command (石峰区, small)."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from xiaokang.areas.models import Area, AreaPopulation
from xiaokang.areas.services import import_zhuzhou
from xiaokang.demo import loader as L
from xiaokang.demo import plan as P
from xiaokang.registry.idnumber import make_id_number, validate_id_number
from xiaokang.registry.models import Household, Income, Member

pytestmark = pytest.mark.django_db

SHIFENG = "430204"  # 520 households, 1,583 people, no poor village
REAL_VILLAGE = "430204102201"  # a real (non-demo) village code under 云田镇, where the demo would start


def test_load_twice_is_idempotent_and_keeps_real_data():
    import_zhuzhou()
    Area.objects.create(code=REAL_VILLAGE, name="真实村", level="village", parent_id="430204102")
    real = Household.objects.create(household_number="REAL-1", area_id=REAL_VILLAGE, main_cause="01",
                                    identified_year=2014)
    real_id = make_id_number("430204", dt.date(1960, 5, 5), 123)
    Member.objects.create(household=real, name="真实", id_number=real_id, sex="1",
                          birth_date=dt.date(1960, 5, 5), relation="01")

    first = L.load_demo(counties=[SHIFENG])
    assert (first.households, first.villages, first.poor_villages) == (520, 12, 0)
    demo = Household.objects.filter(is_demo=True)
    assert demo.count() == 520
    assert not demo.filter(area_id=REAL_VILLAGE).exists()
    assert Area.objects.get(code=REAL_VILLAGE).name == "真实村" and not Area.objects.get(code=REAL_VILLAGE).is_demo
    snapshot = sorted(demo.values_list("household_number", "area_id", "exit_year"))
    ids = sorted(Member.objects.filter(household__is_demo=True).values_list("id_number", flat=True))

    second = L.load_demo(counties=[SHIFENG])
    assert second.households == 520
    assert sorted(Household.objects.filter(is_demo=True).values_list("household_number", "area_id", "exit_year")) \
        == snapshot
    assert sorted(Member.objects.filter(household__is_demo=True).values_list("id_number", flat=True)) == ids
    assert Household.objects.filter(pk=real.pk, household_number="REAL-1").exists()
    assert Member.objects.filter(id_number=real_id).exists()
    assert Income.objects.filter(household__is_demo=True).count() == 7 * 520
    assert AreaPopulation.objects.filter(area__is_demo=True).count() == 12 * 7
    # New rows after the demo get fresh keys (sequences reset on PostgreSQL).
    extra = Household.objects.create(household_number="REAL-2", area_id=REAL_VILLAGE, main_cause="01",
                                     identified_year=2015)
    assert extra.pk > Household.objects.filter(is_demo=True).order_by("-pk").first().pk


def test_scale_two_keeps_ids_unique():
    result = L.load_demo(counties=[SHIFENG], scale=2)
    assert result.households == 1040
    numbers = list(Member.objects.filter(household__is_demo=True).values_list("id_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert all(validate_id_number(n).valid and 900 <= int(n[14:17]) <= 999 for n in numbers)
    pops = AreaPopulation.objects.filter(area__is_demo=True, year=2014).values_list("registered_population", flat=True)
    assert sum(pops) == 2 * 26_000


def test_demo_command(capsys, monkeypatch, settings):
    from xiaokang.demo.management.commands import demo as demo_cmd

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests

    calls = []
    real_call = demo_cmd.call_command

    def fake_call(name, *args, **kwargs):
        calls.append(name)
        if name != "serve":
            return real_call(name, *args, **kwargs)

    monkeypatch.setattr(demo_cmd, "call_command", fake_call)
    monkeypatch.setenv("XIAOKANG_DEMO_PASSWORD", "test-demo-pass")
    call_command("demo", "--county", SHIFENG, "--no-progress")
    out = capsys.readouterr().out
    assert calls == ["migrate", "serve"]
    assert "2014 年株洲市分县汇总" in out and "2020 年株洲市分县汇总" in out and "石峰区" in out
    for name in ("admin", "demo_city", "demo_yanling", "demo_chaling", "demo_town"):
        assert name in out
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("test-demo-pass")
    yanling = User.objects.get(username="demo_yanling")
    assert (yanling.role, yanling.area_id, yanling.is_superuser) == ("county_admin", "430225", False)
    assert User.objects.get(username="demo_town").area_id.startswith("430225")
    assert User.objects.get(username="demo_city").area_id == P.CITY

    # Twice, without serving: still works (idempotent), and the parameters are entered once each.
    calls.clear()
    call_command("demo", "--county", SHIFENG, "--no-progress", "--no-serve")
    assert calls == ["migrate"]
    from xiaokang.policy.models import HouseholdAssessment, ParameterValue

    assert ParameterValue.objects.filter(name="exit.income_standard", province="43", status="entered").count() == 2
    assert HouseholdAssessment.objects.filter(year=2020).count() == 520
    assert HouseholdAssessment.objects.filter(year=2020, verdict="not_met").count() == 1


def test_demo_records_have_their_creation_in_the_history():
    """The bulk load writes one "+" history row per demo household, member and income (channel 命令行), so
    the first edit of a demo record shows its old value on the household page; a second load replaces them."""
    from xiaokang.registry.views import household_history

    for _ in range(2):
        L.load_demo(counties=[SHIFENG])
    assert Household.history.filter(history_type="+", channel="command").count() == 520
    assert Member.history.count() == Member.objects.count() > 1583  # 1,583 people now, and those who left
    assert Income.history.count() == Income.objects.count() == 7 * 520
    h = Household.objects.filter(is_demo=True).order_by("pk").first()
    old_phone = h.phone
    h.phone = "13900000000"
    h.save()
    changed = [e for e in household_history(h) if str(e["object"]) == "户信息" and str(e["type"]) == "修改"]
    assert [(c["field"], c["old"], c["new"]) for c in changed[0]["changes"]] == [
        ("联系电话", old_phone or "—", "13900000000")]


def test_the_load_refreshes_the_planner_statistics_of_the_history_tables_too(monkeypatch):
    """Without statistics a bulk-filled history table is planned for thousands of rows per household (on
    PostgreSQL a parallel scan behind every household page): the load analyzes it with the registry tables."""
    import xiaokang.core.db as db

    analyzed = []
    monkeypatch.setattr(db, "analyze", lambda *tables: analyzed.extend(tables))
    L.load_demo(counties=[SHIFENG])
    assert analyzed == ["registry_household", "registry_member", "registry_income", "registry_historicalhousehold",
                        "registry_historicalmember", "registry_historicalincome"]


def test_reload_removes_the_demo_households_problems_pairings_and_visits():
    """A supervision problem holds its household (PROTECT) and a pairing its history: loading the demo again
    wipes the demo's own with its households instead of failing (the first `make demo` run after a trial)."""
    from xiaokang.registry.models import Pairing, Visit
    from xiaokang.supervision.models import Problem

    import_zhuzhou()
    L.load_demo(counties=[SHIFENG])
    household = Household.objects.filter(is_demo=True).order_by("pk").first()
    User = get_user_model()
    inspector = User.objects.create_user("t_ducha", role="inspector", area_id=SHIFENG)
    cadre = User.objects.create_user("t_ganbu", role="pairing_cadre", area_id=household.area_id)
    Problem.objects.create(area_code=household.area_id, household=household, category="data", inspector=inspector,
                           found_on=dt.date(2020, 5, 1), deadline=dt.date(2020, 6, 1), description="数据不准")
    Pairing.objects.create(cadre=cadre, household=household, started_on=dt.date(2016, 1, 1))
    Visit.objects.create(household=household, cadre=cadre, visited_on=dt.date(2020, 5, 2), situation="入户")
    L.load_demo(counties=[SHIFENG])
    assert not Problem.objects.exists() and not Pairing.objects.exists() and not Visit.objects.exists()
    assert not Pairing.history.exists() and not Problem.history.exists()
