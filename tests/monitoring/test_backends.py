"""The warning and consolidation-class rules give identical rows in the registry database, on DuckDB over a
Parquet snapshot (``exits.snapshot.write_snapshot(..., monitoring=True)``, which carries the monitoring tables)
and on Spark in local mode over the same files (when pyspark and Java are installed)."""

import datetime as dt


from django.db import connection

from xiaokang.monitoring.services import run_warnings
from xiaokang.policy import engine
from xiaokang.policy.params import file_parameters
from xiaokang.policy.rules.monitoring import MonitoringRuleParams, consolidation_classes, warnings
from xiaokang.policy.schema import ALL_TABLES, MONITORING_TABLES, monitoring_unbound_tables


def normalise(rows):
    return sorted((tuple(sorted((k, (bool(v) if k in ("open_case", "warned") and v is not None else v))
                                for k, v in r.items())) for r in rows), key=repr)


SPARK = {}


def both(expr, snapshot):
    with connection.cursor() as cur:
        in_db = engine.fetch(cur, connection.vendor, expr)
    on_duckdb = normalise(engine.fetch_duckdb(expr, snapshot))
    if "session" in SPARK:
        assert normalise(engine.fetch_spark(expr, SPARK["session"])) == on_duckdb, "Spark and DuckDB disagree"
    return normalise(in_db), on_duckdb




def test_warning_and_class_rules_agree_on_every_engine(mon, tmp_path, spark_session):
    from xiaokang.monitoring.models import EarlyWarning, MonitoringCase

    run_warnings(2020, "4302")
    EarlyWarning.objects.filter(household=mon.C).update(status="dismissed", reason="测试")
    MonitoringCase.objects.create(household=mon.A, category="unstable", risk_types="01", channel="cadre",
                                  opened_on=dt.date(2020, 6, 1), status="monitored")
    from xiaokang.exits.snapshot import write_snapshot

    write_snapshot(tmp_path, monitoring=True)
    SPARK.clear()
    if spark_session is not None:
        engine.spark_snapshot(spark_session, tmp_path)
        SPARK["session"] = spark_session
    assert {p.stem for p in tmp_path.glob("*.parquet")} == {t for t, _ in {**ALL_TABLES, **MONITORING_TABLES}.values()}
    p = MonitoringRuleParams.resolve(file_parameters(), 2020, "43")
    tables = monitoring_unbound_tables()

    db, duck = both(warnings(tables, p, "43"), tmp_path)
    assert db == duck and len(db) == 8
    assert ("MNE", "INCOME_DROP") in {(EarlyWarning.objects.get(household_id=dict(r)["household_id"],
                                                                 kind=dict(r)["kind"]).household.household_number,
                                       dict(r)["kind"]) for r in db}

    db, duck = both(consolidation_classes(tables, p, "430225"), tmp_path)
    assert db == duck and len(db) == 9
    by_household = {dict(r)["household_id"]: dict(r)["klass"] for r in db}
    assert by_household[mon.A.pk] == "key"          # open case
    assert by_household[mon.C.pk] == "consolidate"  # warning dismissed, 6,000 < 9,000
    assert by_household[mon.F.pk] == "consolidate"
    SPARK.clear()
