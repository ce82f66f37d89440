"""The database pass and DuckDB over a Parquet snapshot give the same findings (same Ibis expression)."""

import datetime as dt
from decimal import Decimal

from xiaokang.quality.models import Finding
from xiaokang.quality.services import resolve_params, run_checks
from xiaokang.quality.snapshot import check_snapshot, write_snapshot
from xiaokang.registry.models import Income, Member

from .conftest import OTHER_VILLAGE, YEAR

D = dt.date


def test_database_and_duckdb_snapshot_agree(b, tmp_path):
    h1 = b.household(pairing_cadre="", main_cause="01", farmland_mu=Decimal("100.01"))  # 2 people
    b.member(h1, D(2010, 1, 1), labour_capacity="1", schooling_status="")
    h2 = b.household(household_type="2", wage="0", head_birth=D(1971, 1, 1))
    Income.objects.filter(household=h2).update(business_income=Decimal("10"))
    h3 = b.household(area=OTHER_VILLAGE, wage=None, other_causes="05", head_birth=D(1972, 1, 1))
    head = b.head(h3)
    Member.objects.filter(pk=head.pk).update(id_number=head.id_number[:17] + "Y", work_months=14)
    b.household(head_birth=D(1973, 1, 1))  # clean

    run_checks(None, YEAR)
    in_db = {(f.rule_code, f.household_id, f.member_id, f.value) for f in Finding.objects.all()}
    counts = write_snapshot(tmp_path)
    assert counts == {"registry_household": 4, "registry_member": 5, "registry_income": 3}
    p = resolve_params(YEAR)
    on_duckdb = {(r["rule_code"], r["household_id"], r["member_id"], r["value"])
                 for r in check_snapshot(tmp_path, p)}
    assert on_duckdb == in_db
    assert {c for c, *_ in in_db} == {
        "Q24_NO_PAIRING_CADRE", "Q14_CAUSE_ILLNESS_NO_SICK", "Q23_FARMLAND_PER_PERSON", "Q10_MINOR_NOT_NO_LABOUR",
        "Q08_SCHOOLING_BLANK", "Q12_DIBAO_HOUSEHOLD_NO_DIBAO", "Q21_BUSINESS_NO_EXPENSES",
        "Q18_INCOME_BLANK", "Q17_CAUSE_REPEATED", "Q01_ID_INVALID", "Q22_WORK_MONTHS_RANGE"}
    # One area only.
    assert {r["household_id"] for r in check_snapshot(tmp_path, p, "430224")} == {h3.pk}
