"""The same rules give identical verdicts and reasons in the registry database (SQLite or PostgreSQL, whichever
the test run uses), on DuckDB over a Parquet snapshot written by ``xiaokang snapshot``, and on Spark (local
mode) over the same snapshot when the ``spark`` extra and Java are installed (``make test`` installs them)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from xiaokang.policy import engine
from xiaokang.policy.params import file_parameters
from xiaokang.policy.rules.county import CountyRuleParams, assess_counties
from xiaokang.policy.rules.household import HouseholdRuleParams, assess_households
from xiaokang.policy.rules.village import VillageRuleParams, assess_villages
from xiaokang.policy.schema import ALL_TABLES, all_unbound_tables
from xiaokang.registry.models import Income

from .conftest import COUNTY, OTHER_COUNTY, village


def _norm(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, Decimal)):
        return int(v)
    return v


def normalise(rows, booleans=()):
    out = []
    for r in rows:
        out.append(tuple(sorted((k, bool(v) if k in booleans and v is not None else _norm(v)) for k, v in r.items())))
    return sorted(out, key=repr)


@pytest.fixture
def data(build):
    b = build
    for year in (2019, 2020):
        for n in (1, 2, 3, 5):
            b.population(village(n), year, 200)
        b.population(COUNTY, year, 1200, rural=1000)
        b.conditions(village(1), year)
        b.conditions(village(2), year, income="39999.99", has_clinic=False)
        b.conditions(village(3), year, has_road=None)
        b.conditions(village(4), year)
    h1 = b.household(village(1), 4)  # exactly 2 %
    b.household(village(2), 3)
    h3 = b.household(village(3), 2, exit_year=2019, schooling_status="")
    b.member(h3, dt.date(2010, 5, 1), schooling_status="00")  # a dropout aged 9
    b.household(village(5), 1, left_on=dt.date(2019, 3, 1))
    b.household(village(1, OTHER_COUNTY), 2)
    Income.objects.create(household=h1, year=2019, wage=Decimal("14800.00"))  # exactly 3,700 × 4: not above
    Income.objects.create(household=h3, year=2019, wage=Decimal("30000.00"))
    b.county_income(COUNTY, 2020, "10000.01")
    b.samples(village(1), 2020, "correctly_exited", 49, people=2)
    b.samples(village(1), 2020, "wrongly_exited", 1, people=2)
    b.samples(village(2), 2020, "missed", 1, people=2)
    b.samples(village(2), 2020, "non_registered", 49, people=2, approves=None)
    b.samples(village(2), 2020, "poor", 10, approves=lambda i: i % 3 != 0)
    return b


def bools(expr):
    return [n for n, t in expr.schema().items() if t.is_boolean()]


SPARK = {}  # the test's Spark session, if any


def both(expr, snapshot, booleans=()):
    """Rows in the registry database and on DuckDB; on Spark too when it runs (must equal DuckDB's)."""
    with connection.cursor() as cur:
        in_db = engine.fetch(cur, connection.vendor, expr)
    on_duckdb = normalise(engine.fetch_duckdb(expr, snapshot), booleans)
    if "session" in SPARK:
        on_spark = normalise(engine.fetch_spark(expr, SPARK["session"]), booleans)
        assert on_spark == on_duckdb, "Spark and DuckDB disagree"
    return normalise(in_db, booleans), on_duckdb




@pytest.mark.parametrize("with_spark", [False, True], ids=["duckdb", "duckdb+spark"])
def test_household_village_and_county_rules_agree_on_every_engine(data, tmp_path, spark_session, with_spark):
    if with_spark and spark_session is None:
        pytest.skip("pyspark or Java not installed (pip install 'xiaokang[spark]')")
    call_command("snapshot", out=str(tmp_path), stdout=open("/dev/null", "w"))
    SPARK.clear()
    if with_spark:
        engine.spark_snapshot(spark_session, tmp_path)
        SPARK["session"] = spark_session
    assert {p.stem for p in tmp_path.glob("*.parquet")} == {t for t, _ in ALL_TABLES.values()}
    params = file_parameters()
    tables = all_unbound_tables()

    hp = HouseholdRuleParams.resolve(params, 2019, "43")
    results, reasons = assess_households(tables, hp, "43")
    db, duck = both(results, tmp_path, booleans=bools(results))
    assert db == duck and len(db) == 5
    db, duck = both(reasons, tmp_path)
    assert db == duck and any(dict(r)["code"] == "EDU_DROPOUT" for r in db)

    for year in (2019, 2020):
        vp = VillageRuleParams.resolve(params, year, "43")
        results, reasons = assess_villages(tables, vp, "43")
        db, duck = both(results, tmp_path, booleans=bools(results))
        assert db == duck and len(db) == 6
        verdicts = {dict(r)["area_code"]: dict(r)["verdict"] for r in db}
        assert verdicts[village(1)] == "not_met"  # 4 / 200 = 2 %: not below
        assert verdicts[village(4)] == "unassessable"  # no population
        db, duck = both(reasons, tmp_path)
        assert db == duck and db

    cp = CountyRuleParams.resolve(params, 2020, "43")
    results, reasons = assess_counties(tables, cp, "43")
    db, duck = both(results, tmp_path, booleans=bools(results))
    assert db == duck and len(db) == 2
    db, duck = both(reasons, tmp_path)
    assert db == duck and {dict(r)["code"] for r in db} >= {"WRONG_EXIT_RATE_NOT_BELOW", "NO_EVALUATION"}  # 2 / 100 = 2 %


def test_area_snapshot_holds_only_the_area(data, tmp_path):
    from xiaokang.exits.snapshot import write_snapshot

    files = {f.table: f.rows for f in write_snapshot(tmp_path, COUNTY, chunk_rows=3)}
    con = engine.duckdb_snapshot(tmp_path)
    codes = {r[0] for r in con.execute("SELECT DISTINCT area_code FROM registry_household").fetchall()}
    assert codes and all(c.startswith(COUNTY) for c in codes)
    assert files["areas_area"] == con.execute("SELECT count(*) FROM areas_area").fetchone()[0]
    assert con.execute("SELECT count(*) FROM areas_area WHERE code = '43'").fetchone()[0] == 1  # ancestors kept
    n_members = con.execute("SELECT count(*) FROM registry_member").fetchone()[0]
    assert n_members == files["registry_member"] > 3  # written in several chunks


def test_pregrouped_household_facts_give_the_same_results(data, tmp_path, spark_session):
    """The national-scale path (member facts grouped once per household and year in the snapshot, then one
    scan) gives exactly the results of the rule over the raw member rows."""
    import ibis

    from xiaokang.exits.snapshot import write_snapshot
    from xiaokang.policy.rules.household import FACTS_SCHEMA, FACTS_TABLE, assess_pregrouped

    files = {f.table: f.rows for f in write_snapshot(tmp_path, facts_years=[2019, 2020])}
    assert files[FACTS_TABLE] == 2 * 5  # five households identified by 2019, once per year
    SPARK.clear()  # a session left by another test would still read that test's snapshot
    if spark_session is not None:
        engine.spark_snapshot(spark_session, tmp_path)
        SPARK["session"] = spark_session
    params = file_parameters()
    facts = ibis.table(FACTS_SCHEMA, name=FACTS_TABLE)
    for year in (2019,):
        hp = HouseholdRuleParams.resolve(params, year, "43")
        raw, _reasons = assess_households(all_unbound_tables(), hp, "43")
        pre = assess_pregrouped(facts, hp, "43")
        assert pre.schema() == raw.schema()
        db, duck_raw = both(raw, tmp_path, booleans=bools(raw))
        duck_pre = normalise(engine.fetch_duckdb(pre, tmp_path), bools(pre))
        assert duck_pre == db == duck_raw
        verdicts = sorted(dict(r)["verdict"] for r in duck_pre)
        assert verdicts.count("not_met") >= 1 and len(verdicts) == 5
        if spark_session is not None:
            assert normalise(engine.fetch_spark(pre, spark_session), bools(pre)) == duck_pre
    SPARK.clear()
