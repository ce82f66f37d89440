"""The data-quality rules on DuckDB over a Parquet snapshot (数据清洗 · 离线检查).

``write_snapshot(out, area)`` writes the registry columns the cleaning rules read
(``policy.schema.QUALITY_TABLES``: ``registry_household``, ``registry_member``, ``registry_income``) as
Parquet, streamed in chunks; ``check_snapshot(dir, year)`` runs the same Ibis expression as the database
pass (``rules.check_all``) on DuckDB over the files (``policy.engine.fetch_duckdb``) and returns the
finding rows. Nothing is written to the registry.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import connection

from xiaokang.core.scoping import area_prefix
from xiaokang.policy import engine
from xiaokang.policy.schema import QUALITY_TABLES, quality_unbound_tables

from . import rules

CHUNK_ROWS = 50_000
ARROW = {"int64": "int64", "string": "string", "boolean": "bool_", "date": "date32", "float64": "float64"}


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


def write_snapshot(out, area=None, chunk_rows: int = CHUNK_ROWS) -> dict[str, int]:
    """Write the three tables (rows inside ``area``) as ``out/<table>.parquet``. Returns rows per table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = area_prefix(area)
    lo, hi = prefix, prefix + "9" * (12 - len(prefix))
    counts = {}
    for _key, (table, schema) in QUALITY_TABLES.items():
        names = list(schema.names)
        kinds = [str(schema[n]).rstrip("!").lower() for n in names]
        arrow_schema = pa.schema([(n, getattr(pa, ARROW[k])()) for n, k in zip(names, kinds)])
        converters = [_convert(k) for k in kinds]
        where, params = "", []
        if prefix and table == "registry_household":
            where, params = " WHERE area_code >= %s AND area_code <= %s", [lo, hi]
        elif prefix:
            where = " WHERE household_id IN (SELECT id FROM registry_household WHERE area_code >= %s AND area_code <= %s)"
            params = [lo, hi]
        sql = f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {table}{where} ORDER BY 1"
        rows = 0
        with pq.ParquetWriter(out / f"{table}.parquet", arrow_schema) as writer, connection.chunked_cursor() as cur:
            cur.execute(sql, params)
            while chunk := cur.fetchmany(chunk_rows):
                cols = [pa.array([conv(r[i]) for r in chunk], type=arrow_schema.field(i).type)
                        for i, conv in enumerate(converters)]
                writer.write_table(pa.Table.from_arrays(cols, schema=arrow_schema))
                rows += len(chunk)
        counts[table] = rows
    return counts


def check_snapshot(directory, p: rules.QualityParams, area=None) -> list[dict]:
    """Every rule over the snapshot in ``directory`` on DuckDB: rows of ``rules.FINDING_COLUMNS``."""
    return engine.fetch_duckdb(rules.check_all(quality_unbound_tables(), p, area_prefix(area)), directory)
