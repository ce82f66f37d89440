"""Where rules run (规则执行引擎): the one place that turns a rule's Ibis expression into work.

- In the registry database: ``to_sql`` compiles an expression for the connection's dialect (SQLite or
  PostgreSQL); ``fetch`` and ``insert_select`` run it through a DB-API cursor, so results are written
  with one ``INSERT … SELECT`` and never pass through Python row by row; ``fetch_prepared`` runs a rule
  compiled for one household as a PostgreSQL prepared statement (the household page).
- On DuckDB (Parquet snapshots) the same expression is compiled to DuckDB SQL and run there.
- On Spark (optional extra ``xiaokang[spark]``) it is compiled to Spark SQL and run over the same
  snapshot's Parquet files, in local mode or on a cluster.

Rules never import Django and never know which of these runs them.
"""

from __future__ import annotations

from functools import lru_cache

import ibis

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres", "duckdb": "duckdb"}


def dialect_for(vendor: str) -> str:
    """Ibis/sqlglot dialect for a Django ``connection.vendor``. Raises ValueError if unsupported."""
    try:
        return DIALECTS[vendor]
    except KeyError:
        raise ValueError(f"不支持的数据库: {vendor}") from None


def to_sql(expr, vendor: str) -> str:
    return str(ibis.to_sql(expr, dialect=dialect_for(vendor)))


def _escape_percent(sql: str) -> str:
    # DB-API "format" paramstyle (psycopg, Django's SQLite wrapper): a literal % must be doubled.
    return sql.replace("%", "%%")


def fetch(cursor, vendor: str, expr) -> list[dict]:
    """Run ``expr`` (an Ibis expression or SQL compiled for ``vendor``) and return its rows as dicts."""
    sql = expr if isinstance(expr, str) else to_sql(expr, vendor)
    cursor.execute(_escape_percent(sql), [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


@lru_cache(maxsize=512)
def _bind_literals(sql: str, literals: tuple[str, ...]) -> str:
    out = _escape_percent(sql)
    for i, literal in enumerate(literals):
        out = out.replace(literal, f"CAST(%(p{i})s AS BIGINT)")
    return out


def fetch_prepared(pg_connection, sql: str, bind: dict[str, int]) -> list[dict]:
    """Run compiled PostgreSQL ``sql`` as a server-side prepared statement on a psycopg 3 connection and
    return its rows as dicts. ``bind`` maps literals of the SQL (a sentinel id the rule was compiled with)
    to the integers that replace them as bound parameters, so that the statement text — prepared once per
    connection — is the same for every value.

    Django opens psycopg connections with ``prepare_threshold=None`` (no prepared statements at all); it is
    raised here so that only statements executed with ``prepare=True`` are prepared — Django's own queries
    (client-side binding) are unaffected."""
    import psycopg

    if pg_connection.prepare_threshold is None:
        pg_connection.prepare_threshold = 1 << 30
    literals = tuple(bind)
    params = {f"p{i}": value for i, value in enumerate(bind.values())}
    with psycopg.Cursor(pg_connection) as cur:
        cur.execute(_bind_literals(sql, literals), params, prepare=True)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def insert_select(cursor, vendor: str, table: str, expr, extra: dict | None = None,
                  columns: list[str] | None = None) -> int:
    """``INSERT INTO table (cols) SELECT … FROM (expr)``; ``extra`` adds constant columns (bound params).

    ``expr`` is an Ibis expression, or SQL compiled for ``vendor`` together with its ``columns``.
    Returns the number of rows inserted (as reported by the driver).
    """
    extra = extra or {}
    cols = list(columns if columns is not None else expr.columns)
    sql_select = expr if isinstance(expr, str) else to_sql(expr, vendor)
    all_cols = cols + list(extra)
    q = lambda c: '"' + c.replace('"', '""') + '"'  # noqa: E731
    select_list = ", ".join([f"r.{q(c)}" for c in cols] + ["%s"] * len(extra))
    sql = (
        f"INSERT INTO {q(table)} ({', '.join(q(c) for c in all_cols)}) "
        f"SELECT {select_list} FROM ({_escape_percent(sql_select)}) AS r"
    )
    cursor.execute(sql, list(extra.values()))
    return cursor.rowcount


# --- DuckDB over a Parquet snapshot (``xiaokang snapshot --out DIR``) ---------------------------------

def duckdb_snapshot(directory):
    """A DuckDB connection (in memory) with one view per ``*.parquet`` file of ``directory``.

    Each view is named as the file (``registry_household.parquet`` → ``registry_household``), i.e. as
    the registry table the rules' unbound tables name, so compiled rule SQL runs unchanged.
    """
    from pathlib import Path

    import duckdb

    con = duckdb.connect(":memory:")
    for path in sorted(Path(directory).glob("*.parquet")):
        name = path.stem.replace('"', '""')
        location = str(path.resolve()).replace("'", "''")
        con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{location}')")
    return con


def fetch_duckdb(expr, snapshot) -> list[dict]:
    """Run ``expr`` (an unbound Ibis expression over the schema's table names) on DuckDB over a snapshot.

    ``snapshot``: a snapshot directory, or a connection from ``duckdb_snapshot``. Rows as dicts.
    """
    con = duckdb_snapshot(snapshot) if not hasattr(snapshot, "execute") else snapshot
    cur = con.execute(to_sql(expr, "duckdb"))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def materialize(cursor, vendor: str, name: str, expr) -> None:
    """Store an intermediate result as a temporary table (dropped by ``drop_temporary``).

    Used when several statements read the same intermediate: the large scans then run once.
    """
    sql = expr if isinstance(expr, str) else to_sql(expr, vendor)
    drop_temporary(cursor, name)
    cursor.execute(f'CREATE TEMPORARY TABLE "{name}" AS {_escape_percent(sql)}', [])


def drop_temporary(cursor, name: str) -> None:
    cursor.execute(f'DROP TABLE IF EXISTS "{name}"', [])


# --- Spark (optional extra ``xiaokang[spark]``), local mode or a cluster ------------------------------

def spark_session(master: str = "local[2]"):
    """A Spark session for running rules (``pip install 'xiaokang[spark]'``; needs Java 17).

    The web UI is off and the warehouse is a temporary folder, so nothing is left behind. Raises
    ImportError when pyspark is not installed.
    """
    import tempfile

    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master).appName("xiaokang")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="xiaokang-spark-"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


def spark_snapshot(spark, directory) -> None:
    """Register one temporary view per ``*.parquet`` file of a snapshot, named as the file (cf. duckdb_snapshot)."""
    from pathlib import Path

    for path in sorted(Path(directory).glob("*.parquet")):
        spark.read.parquet(str(path.resolve())).createOrReplaceTempView(path.stem)


def fetch_spark(expr, spark) -> list[dict]:
    """Run ``expr`` (an unbound Ibis expression) on Spark, over views registered by ``spark_snapshot``.

    The expression is compiled by Ibis's Spark SQL compiler, as for the other engines. Rows as dicts.
    """
    sql = str(ibis.to_sql(expr, dialect="pyspark"))
    return [row.asDict() for row in spark.sql(sql).collect()]
