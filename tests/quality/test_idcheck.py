"""The set-based GB 11643 check (``quality.rules.with_id_check``) agrees with ``validate_id_number`` on
valid and invalid samples, in the registry database (SQLite/PostgreSQL) and on DuckDB."""

import datetime as dt
import random

import ibis
import pytest
from django.db import connection

from xiaokang.policy import engine
from xiaokang.quality.rules import id_check_expr
from xiaokang.registry.idnumber import make_id_number, validate_id_number

TODAY = dt.date(2026, 11, 29)
D = dt.date


def samples():
    good = [make_id_number("430225", D(1990, 1, 2), 901), make_id_number("430224", D(2000, 2, 29), 902),
            make_id_number("430221", D(1885, 12, 31), 999)]
    b = make_id_number("430225", D(1985, 7, 31), 903)
    x = next(make_id_number("430225", D(1980, 1, 1), s) for s in range(900, 1000)
             if make_id_number("430225", D(1980, 1, 1), s).endswith("X"))
    other = "0" if b[17] != "0" else "1"
    rows = good + [
        x, x.lower(), f" {b} ",                      # lower-case x and spaces are accepted (normalised)
        "430225900102901",                            # legacy 15 digits (1990-01-02)
        b[:17] + other,                               # wrong check character
        b[:17],                                       # 17 characters
        "43022519900230901X",                         # 30 February
        "43022519000229901X",                         # 1900 was not a leap year
        "4302251990010290X1",                         # X inside
        "43022518790102901" + "0",                    # before 1880
        "43022520301010901" + "0",                    # in the future
        "43022A900102901",                            # 15 with a letter
        "", "4302251990010290123",
    ]
    rng = random.Random(11)
    for _ in range(200):
        s = (f"430225{rng.randint(1870, 2030)}{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}"
             f"{rng.randint(900, 999):03d}{rng.choice('0123456789X')}")
        rows.append(s)
    return rows


@pytest.fixture(scope="module")
def expected():
    return [validate_id_number(s, today=TODAY) for s in samples()]


def _expr():
    return id_check_expr(ibis.table({"id": "int64", "id_number": "string"}, name="xk_test_ids"), TODAY)


def test_samples_cover_valid_and_invalid(expected):
    assert 5 <= sum(c.valid for c in expected) < len(expected) - 20


@pytest.mark.django_db
def test_database_check_agrees_with_validate_id_number(expected):
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE xk_test_ids (id integer, id_number varchar(40))")
        for i, s in enumerate(samples()):
            cur.execute("INSERT INTO xk_test_ids (id, id_number) VALUES (%s, %s)", [i, s])
        rows = sorted(engine.fetch(cur, connection.vendor, _expr()), key=lambda r: r["id"])
        cur.execute("DROP TABLE xk_test_ids")
    for r, c in zip(rows, expected):
        assert bool(r["id_valid"]) == c.valid, r["id_number"]
        assert r["id_error"] == c.error, r["id_number"]


def test_duckdb_check_agrees_with_validate_id_number(expected):
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE xk_test_ids (id BIGINT, id_number VARCHAR)")
    con.executemany("INSERT INTO xk_test_ids VALUES (?, ?)", list(enumerate(samples())))
    cur = con.execute(engine.to_sql(_expr(), "duckdb"))
    names = [d[0] for d in cur.description]
    rows = sorted((dict(zip(names, r)) for r in cur.fetchall()), key=lambda r: r["id"])
    for r, c in zip(rows, expected):
        assert bool(r["id_valid"]) == c.valid, r["id_number"]
        assert r["id_error"] == c.error, r["id_number"]


def _stage_rows(fetch):
    rows = sorted(fetch(), key=lambda r: r["member_id"])
    return rows


@pytest.mark.django_db
def test_sql_id_stage_agrees_with_validate_id_number(expected):
    """The batch pass's hand-written SQL form (``id_stage_sql``) in the registry database."""
    from xiaokang.quality.rules import id_stage_sql

    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE xk_test_src (household_id integer, member_id integer, area_code "
                    "varchar(12), sex varchar(1), birth_text varchar(10), id_number varchar(40), is_id boolean)")
        for i, s in enumerate(samples()):
            cur.execute("INSERT INTO xk_test_src VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [1, i, "430225100201", "1", "1990-01-02", s, True])
        cur.execute("INSERT INTO xk_test_src VALUES (1, 9999, '430225100201', '1', '1990-01-02', 'x', %s)", [False])
        sql = id_stage_sql("xk_test_src", engine.dialect_for(connection.vendor), TODAY)
        rows = sorted(engine.fetch(cur, connection.vendor, sql), key=lambda r: r["member_id"])
        cur.execute("DROP TABLE xk_test_src")
    assert len(rows) == len(expected)  # the non-ID document is not checked
    for r, c, s in zip(rows, expected, samples()):
        assert bool(r["id_valid"]) == c.valid, s
        assert r["id_error"] == c.error, s
        if c.valid:
            assert (r["id_sex"], r["id_birth"]) == (c.sex, c.birth_date.isoformat()), s
            assert r["id_key"] == c.normalized[:17], s
            assert bool(r["canonical"]) == (s == c.normalized), s


def test_sql_id_stage_on_duckdb(expected):
    import duckdb

    from xiaokang.quality.rules import id_stage_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE xk_test_src (household_id BIGINT, member_id BIGINT, area_code VARCHAR, sex VARCHAR, "
                "birth_text VARCHAR, id_number VARCHAR, is_id BOOLEAN)")
    con.executemany("INSERT INTO xk_test_src VALUES (1, ?, '430225100201', '1', '1990-01-02', ?, TRUE)",
                    list(enumerate(samples())))
    cur = con.execute(id_stage_sql("xk_test_src", "duckdb", TODAY))
    names = [d[0] for d in cur.description]
    rows = sorted((dict(zip(names, r)) for r in cur.fetchall()), key=lambda r: r["member_id"])
    for r, c, s in zip(rows, expected, samples()):
        assert bool(r["id_valid"]) == c.valid and r["id_error"] == c.error, s
