"""The all-new path of apply (no staged household in the registry: no update pass, no anti-join, no missing
members query) and, on PostgreSQL, its bulk mode into an empty registry (secondary indexes and the member /
income foreign keys set aside and rebuilt inside the import's transaction)."""

import datetime as dt

import pytest
from django.db import connection

from xiaokang.imports import apply as A
from xiaokang.imports import services
from xiaokang.registry.models import Household, Income, Member

from .conftest import ID_A, ID_B, ID_D, YL_VILLAGE, YL_VILLAGE2, base_rows, pid, reasons, run, write_csv

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="bulk mode is PostgreSQL only")

TABLES = ["registry_household", "registry_member", "registry_income", "registry_historicalhousehold",
          "registry_historicalmember", "registry_historicalincome"]


def _other_household():
    """A household outside the file, so that the registry is not empty (no bulk mode)."""
    h = Household.objects.create(household_number="YL09", area_id=YL_VILLAGE2, identified_year=2014, main_cause="01")
    Member.objects.create(household=h, name="测试己", id_number=pid(dt.date(1950, 2, 2), 911), sex="1",
                          birth_date=dt.date(1950, 2, 2), relation="01")
    return h


def _assert_history_of_new_records(batch, user):
    """Every record of the file has exactly one '+' history row, equal to the record, channel import."""
    reason = f"导入批次 {batch.pk}：{batch.file_name}"
    for model, numbers in ((Household, {"YL01", "YL02"}), (Member, {ID_A, ID_B, ID_D}), (Income, None)):
        records = model.objects.exclude(**({"household__household_number": "YL09"} if model is not Household
                                           else {"household_number": "YL09"}))
        assert records.count() == (3 if model is Member else 2)
        for record in records:
            rows = list(model.history.filter(id=record.id))
            assert len(rows) == 1
            h = rows[0]
            assert (h.history_type, h.channel, h.history_user_id, h.history_change_reason) == (
                "+", "import", user.id, reason)
            for f in model._meta.concrete_fields:
                assert getattr(h, f.attname) == getattr(record, f.attname), f.name
        if numbers is not None:
            key = "household_number" if model is Household else "id_number"
            assert set(records.values_list(key, flat=True)) == numbers


def test_all_new_households_are_inserted_with_history(user, tmp_path):
    _other_household()
    batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    assert batch.status == "applied"
    assert (batch.households_new, batch.members_new, batch.incomes_new) == (2, 3, 2)
    assert (batch.households_changed, batch.households_unchanged, batch.members_unchanged) == (0, 0, 0)
    assert "apply: bulk mode, drop indexes and foreign keys" not in batch.timings
    _assert_history_of_new_records(batch, user)
    h = Household.objects.get(household_number="YL01")
    assert set(h.members.values_list("id_number", flat=True)) == {ID_A, ID_B}
    assert h.incomes.get(year=2019).wage == 12000
    assert batch.notes == []


def test_all_new_path_still_refuses_a_person_already_in_the_registry(user, tmp_path):
    other = _other_household()
    rows = base_rows()
    rows[2][5] = other.members.get().id_number  # YL02's only member is already YL09's member
    batch = run(write_csv(tmp_path / "a.csv", rows), user)
    assert batch.status == "failed"
    assert [r[4] for r in reasons(batch)] == ["测试丙 的证件号码同时出现在其他户：已是户 YL09 的成员"]
    assert Household.objects.count() == 1 and not Member.history.filter(channel="import").exists()
    # partial: the other household (all new) is imported, with its history
    batch = run(write_csv(tmp_path / "b.csv", rows), user, partial=True)
    assert (batch.status, batch.households_new, batch.members_new, batch.households_rejected) == ("applied", 1, 2, 1)
    assert set(Household.objects.values_list("household_number", flat=True)) == {"YL01", "YL09"}
    assert Member.history.filter(channel="import").count() == 2
    assert other.members.get().name == "测试己"


def test_new_and_existing_households_in_one_file_take_the_merge_path(user, tmp_path):
    run(write_csv(tmp_path / "a.csv", base_rows()[:2]), user)  # YL01 only
    rows = base_rows()
    rows[0][8] = rows[1][8] = "15000"
    batch = run(write_csv(tmp_path / "b.csv", rows), user)
    assert (batch.households_new, batch.households_changed, batch.incomes_changed, batch.members_unchanged) == (
        1, 0, 1, 2)
    assert Household.history.get(household_number="YL02").history_type == "+"
    assert [h.history_type for h in Income.history.filter(household__household_number="YL01")
            .order_by("history_id")] == ["+", "~"]


def _schema():
    with connection.cursor() as cur:
        cur.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1", [TABLES])
        indexes = cur.fetchall()
        cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable, condeferred "
                    "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1, 2", [TABLES])
        return indexes, cur.fetchall()


@pg_only
def test_bulk_mode_into_an_empty_registry_restores_indexes_and_foreign_keys(user, tmp_path, monkeypatch):
    monkeypatch.setattr(A, "BULK_MIN_ROWS", 0)
    before = _schema()
    assert any("registry_member_household_id" in c[1] for c in before[1])
    batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    assert batch.status == "applied"
    assert "apply: bulk mode, drop indexes and foreign keys" in batch.timings
    assert "apply: bulk mode, rebuild indexes and foreign keys" in batch.timings
    assert _schema() == before
    assert (Household.objects.count(), Member.objects.count(), Income.objects.count()) == (2, 3, 2)
    assert (Household.history.count(), Member.history.count(), Income.history.count()) == (2, 3, 2)
    h = Household.objects.get(household_number="YL02")
    assert list(h.members.values_list("id_number", flat=True)) == [ID_D]
    for model in (Household, Member, Income):
        for record in model.objects.all():
            assert model.history.get(id=record.id).channel == "import"
    # the next file meets a registry that is not empty: no bulk mode, the merge path
    rows = base_rows()
    rows[2][8] = "4000"
    batch = run(write_csv(tmp_path / "b.csv", rows), user)
    assert (batch.households_unchanged, batch.incomes_changed) == (2, 1)
    assert "apply: bulk mode, drop indexes and foreign keys" not in batch.timings


@pg_only
def test_bulk_mode_failure_rolls_back_records_and_schema(user, tmp_path, monkeypatch):
    monkeypatch.setattr(A, "BULK_MIN_ROWS", 0)
    before = _schema()

    def fail(bulk):
        raise RuntimeError("boom")

    monkeypatch.setattr(A, "bulk_end", fail)
    batch = services.validate(services.stage(write_csv(tmp_path / "a.csv", base_rows()), user))
    with pytest.raises(RuntimeError, match="boom"):
        services.apply(batch, user)
    assert _schema() == before
    assert Household.objects.count() == 0 and Household.history.count() == 0
    batch.refresh_from_db()
    assert batch.status == "validated"


@pg_only
def test_bulk_mode_partial_import(user, tmp_path, monkeypatch):
    monkeypatch.setattr(A, "BULK_MIN_ROWS", 0)
    rows = base_rows()
    rows[1][5] = ID_B[:17] + ("0" if ID_B[17] != "0" else "1")  # bad checksum: YL01 rejected
    batch = run(write_csv(tmp_path / "a.csv", rows), user, partial=True)
    assert (batch.status, batch.households_new, batch.members_new, batch.households_rejected) == ("applied", 1, 1, 1)
    assert "apply: bulk mode, drop indexes and foreign keys" in batch.timings
    assert list(Household.objects.values_list("household_number", flat=True)) == ["YL02"]
    assert Member.history.get().id_number == ID_D


@pg_only
@pytest.mark.parametrize("partial", [False, True])
def test_bulk_mode_members_find_their_household_across_batches(user, tmp_path, monkeypatch, partial):
    """Batches of 2 rows: runs of a household's member rows cross batch boundaries; every member lands in
    its own household, incomes too (with ``partial``, a rejected household in the middle is left out)."""
    from xiaokang.imports.validate import Parsed

    monkeypatch.setattr(A, "BULK_MIN_ROWS", 0)
    original = Parsed.batches
    monkeypatch.setattr(Parsed, "batches", lambda self, kind, columns=None, rows=2: original(self, kind, columns, 2))
    sizes = [3, 1, 2, 4, 1, 1, 5]
    rows, expected, seq = [], {}, 930
    for k, size in enumerate(sizes):
        number = f"YLB{k:02d}"
        for j in range(size):
            ident = pid(dt.date(1960 + k, 1 + j, 1), seq)
            seq += 2
            rows.append([number, YL_VILLAGE, "因病", "2014", f"测试{k}{j}", ident, "户主" if j == 0 else "之子",
                         "2019" if k % 2 == 0 else "", str(1000 * (k + 1)) if k % 2 == 0 else ""])
            expected[ident] = number
    rejected = "YLB03"
    if partial:
        bad = next(i for i, r in enumerate(rows) if r[0] == rejected) + 1
        rows[bad][5] = rows[bad][5][:17] + ("0" if rows[bad][5][17] != "0" else "1")  # bad checksum
        expected = {i: n for i, n in expected.items() if n != rejected}
    batch = run(write_csv(tmp_path / "a.csv", rows), user, partial=partial)
    assert batch.status == "applied"
    assert "apply: bulk mode, drop indexes and foreign keys" in batch.timings
    assert dict(Member.objects.values_list("id_number", "household__household_number")) == expected
    incomes = dict(Income.objects.values_list("household__household_number", "wage"))
    assert incomes == {f"YLB{k:02d}": 1000 * (k + 1) for k in range(0, len(sizes), 2)
                       if not (partial and f"YLB{k:02d}" == rejected)}
    assert Member.history.filter(channel="import").count() == len(expected)
    assert Household.history.count() == len(sizes) - partial


@pg_only
def test_bulk_mode_gives_way_when_the_tables_are_in_use(user, tmp_path, monkeypatch):
    """Another session reading the member table: the locks are not had within the timeout, the import goes
    the staged way (and still imports everything, with history)."""
    import psycopg

    monkeypatch.setattr(A, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(A, "BULK_LOCK_TIMEOUT", "200ms")
    s = connection.settings_dict
    other = psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"] or None,
                            password=s["PASSWORD"] or None, dbname=s["NAME"])
    try:
        other.execute("LOCK TABLE registry_member IN ACCESS SHARE MODE")  # opens a transaction
        batch = run(write_csv(tmp_path / "a.csv", base_rows()), user)
    finally:
        other.rollback()
        other.close()
    assert batch.status == "applied"
    assert "apply: bulk mode, drop indexes and foreign keys" not in batch.timings
    assert (Household.history.count(), Member.history.count(), Income.history.count()) == (2, 3, 2)
