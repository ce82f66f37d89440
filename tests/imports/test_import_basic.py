import datetime as dt
from decimal import Decimal

from xiaokang.registry.models import Household, Income, Member

from .conftest import ID_A, ID_B, ID_D, YL_VILLAGE, base_rows, run, write_csv, write_xlsx


def test_csv_utf8_imports_households_members_income(user, tmp_path):
    batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    assert batch.status == "applied", batch.errors
    assert (batch.households_new, batch.members_new, batch.incomes_new) == (2, 3, 2)
    h = Household.objects.get(household_number="YL01")
    assert h.area_id == YL_VILLAGE and h.main_cause == "01" and h.identified_year == 2014
    a = Member.objects.get(id_number=ID_A)
    assert (a.name, a.sex, a.birth_date, a.relation, a.household_id) == ("测试甲", "1", dt.date(1970, 3, 1), "01", h.id)
    assert Member.objects.get(id_number=ID_B).sex == "2"
    inc = Income.objects.get(household__household_number="YL02", year=2019)
    assert inc.wage == Decimal("3000.50") and inc.dibao == Decimal("0.00")


def test_applied_batch_renews_cached_summaries_and_a_dry_run_does_not(user, tmp_path,
                                                                      django_capture_on_commit_callbacks):
    """The apply step writes in bulk (no signals): it moves the data version itself, after the commit."""
    from xiaokang.core.cache import version

    from xiaokang.imports import services

    v0 = version()  # module fixtures elsewhere (the demo tests) commit outside test transactions
    with django_capture_on_commit_callbacks(execute=True):
        staged = services.validate(services.stage(write_csv(tmp_path / "a.csv", base_rows()), user, False))
        services.apply(staged, user, dry_run=True)
    assert version() == v0
    with django_capture_on_commit_callbacks(execute=True):
        batch = run(write_csv(tmp_path / "b.csv", base_rows()), user)
    assert batch.status == "applied" and version() == v0 + 1
