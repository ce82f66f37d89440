"""Registry snapshot as Parquet (``xiaokang snapshot --out DIR [--area CODE]``).

One file per table of ``xiaokang.policy.schema.ALL_TABLES`` (``registry_household.parquet`` …), with the
schema's column names and types, so the rules run on DuckDB over the files exactly as in the database
(``policy.engine.fetch_duckdb``). Rows are streamed in chunks through a server-side cursor
(``connection.chunked_cursor``) into a pyarrow ``ParquetWriter``: a table is never held in memory whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from xiaokang.core.scoping import area_prefix
from xiaokang.policy.schema import ALL_TABLES

CHUNK_ROWS = 50_000

ARROW_TYPES = {"int64": "int64", "string": "string", "boolean": "bool_", "date": "date32", "float64": "float64"}


@dataclass
class SnapshotFile:
    table: str
    path: Path
    rows: int


def _arrow_schema(schema):
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, ARROW_TYPES[str(t).rstrip("!").lower()])()) for name, t in schema.items()])


def _convert(kind: str):
    if kind == "boolean":
        return lambda v: None if v is None else bool(v)
    if kind == "date":
        return lambda v: v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])
    if kind == "int64":
        return lambda v: None if v is None else int(v)
    if kind == "float64":
        return lambda v: None if v is None else float(v)
    return lambda v: v


def _where(table: str, columns, prefix: str) -> tuple[str, list]:
    """Rows of ``table`` inside the area prefix (a range on the area code, like ``area_filter``)."""
    if not prefix:
        return "", []
    lo, hi = prefix, prefix + "9" * (12 - len(prefix))
    if table == "areas_area":  # the area's subtree and its ancestors
        above = [prefix[:n] for n in (2, 4, 6, 9) if n < len(prefix)]
        extra = "".join(" OR code = %s" for _ in above)
        return f" WHERE (code >= %s AND code <= %s){extra}", [lo, hi, *above]
    if "area_code" in columns:
        return " WHERE area_code >= %s AND area_code <= %s", [lo, hi]
    if "household_id" in columns:
        return (" WHERE household_id IN (SELECT id FROM registry_household WHERE area_code >= %s AND area_code <= %s)",
                [lo, hi])
    return "", []


def write_snapshot(out, area=None, chunk_rows: int = CHUNK_ROWS, facts_years=(),
                   monitoring: bool = False) -> list[SnapshotFile]:
    """Write every table (rows inside ``area``, or all) as ``out/<table>.parquet``. Returns the files.

    ``facts_years``: also write ``policy_household_year.parquet``, the pre-grouped household-year facts
    of the household rule (``policy.rules.household.household_year_facts``) for each year, computed in
    the registry database with each province's parameters; ``assess_pregrouped`` reads them.
    Raises ParameterUnconfirmed when a year's parameters are not confirmed.
    ``monitoring``: also write the monitoring tables (``policy.schema.MONITORING_TABLES``: events, warnings,
    cases), which the warning and consolidation-class rules read.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = area_prefix(area)
    written = []
    from xiaokang.policy.schema import MONITORING_TABLES

    for _key, (table, schema) in {**ALL_TABLES, **(MONITORING_TABLES if monitoring else {})}.items():
        names = list(schema.names)
        where, params = _where(table, names, prefix)
        sql = f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {table}{where} ORDER BY 1"
        written.append(write_query(out / f"{table}.parquet", table, schema, [(sql, params)], chunk_rows))
    if facts_years:
        written.append(_write_facts(out, prefix, sorted(set(facts_years)), chunk_rows))
    # A snapshot is one moment: files of snapshot tables left in the folder by an earlier run (e.g. monitoring
    # tables, or facts, not asked for this time) would mix two moments, so they are removed. Other files stay.
    from xiaokang.policy.rules.household import FACTS_TABLE

    known = {t for t, _s in {**ALL_TABLES, **MONITORING_TABLES}.values()} | {FACTS_TABLE}
    current = {f.table for f in written}
    for stale in sorted(known - current):
        (out / f"{stale}.parquet").unlink(missing_ok=True)
    return written


def _write_facts(out: Path, prefix: str, years, chunk_rows: int) -> SnapshotFile:
    import ibis

    from xiaokang.policy.engine import to_sql
    from xiaokang.policy.rules.household import (FACTS_SCHEMA, FACTS_TABLE, HouseholdRuleParams,
                                                 household_year_facts)
    from xiaokang.policy.schema import unbound_tables
    from xiaokang.policy.services import current_parameters

    params = current_parameters()
    with connection.cursor() as cur:
        lo, hi = prefix, prefix + "9" * (12 - len(prefix))
        cur.execute("SELECT DISTINCT substr(area_code, 1, 2) FROM registry_household"
                    + (" WHERE area_code >= %s AND area_code <= %s" if prefix else "") + " ORDER BY 1",
                    [lo, hi] if prefix else [])
        provinces = [r[0] for r in cur.fetchall()]
    queries = []
    for year in years:
        for province in provinces:
            p = HouseholdRuleParams.resolve(params, year, province)
            scope = prefix if len(prefix) >= 2 else province
            sql = to_sql(household_year_facts(unbound_tables(), p, scope), connection.vendor)
            queries.append((sql.replace("%", "%%"), []))
    return write_query(out / f"{FACTS_TABLE}.parquet", FACTS_TABLE, ibis.schema(FACTS_SCHEMA), queries, chunk_rows)


def write_query(path: Path, table: str, schema, queries, chunk_rows: int = CHUNK_ROWS) -> SnapshotFile:
    """Stream the rows of ``queries`` ([(sql, params)]) into one Parquet file with ``schema``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(schema.names)
    converters = [_convert(str(schema[n]).rstrip("!").lower()) for n in names]
    arrow_schema = _arrow_schema(schema)
    tmp = path.with_suffix(".parquet.tmp")
    rows = 0
    with pq.ParquetWriter(tmp, arrow_schema) as writer:
        for sql, params in queries:
            with connection.chunked_cursor() as cur:
                cur.execute(sql, params)
                while True:
                    chunk = cur.fetchmany(chunk_rows)
                    if not chunk:
                        break
                    columns = [[conv(row[i]) for row in chunk] for i, conv in enumerate(converters)]
                    writer.write_table(pa.Table.from_arrays(
                        [pa.array(col, type=arrow_schema.field(i).type) for i, col in enumerate(columns)],
                        schema=arrow_schema))
                    rows += len(chunk)
    tmp.replace(path)
    return SnapshotFile(table, path, rows)
