"""The demo hook: a few deterministic errors in demo households, then a run."""

import datetime as dt

from xiaokang.quality.demo import load_demo, seed_errors
from xiaokang.quality.models import Finding
from xiaokang.registry.models import Household, Member


def test_demo_errors_show_as_findings_and_only_touch_demo_rows(b):
    demo = b.household()
    Household.objects.filter(pk=demo.pk).update(is_demo=True)
    real = b.household(head_birth=dt.date(1971, 1, 1))
    changed = seed_errors(every={"pairing_cadre": 1, "labour_capacity": 1, "work_months": 1, "farmland": 1})
    assert changed == {"pairing_cadre": 1, "labour_capacity": 1, "work_months": 0, "farmland": 1}
    run = load_demo(2020, None, errors=False)
    assert run.found == 3
    assert set(Finding.objects.values_list("rule_code", flat=True)) == {
        "Q24_NO_PAIRING_CADRE", "Q09_LABOUR_BLANK", "Q23_FARMLAND_PER_PERSON"}
    assert not Finding.objects.filter(household=real).exists()
    assert Member.objects.get(household=real).labour_capacity == "1"
