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

ARROW_TYPES = {"int64": "int64", "string": "string", "boolean": "bool_", "date": "date32"}


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


def write_snapshot(out, area=None, chunk_rows: int = CHUNK_ROWS) -> list[SnapshotFile]:
    """Write every table (rows inside ``area``, or all) as ``out/<table>.parquet``. Returns the files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = area_prefix(area)
    written = []
    for _key, (table, schema) in ALL_TABLES.items():
        names = list(schema.names)
        kinds = [str(schema[n]).rstrip("!").lower() for n in names]
        converters = [_convert(k) for k in kinds]
        arrow_schema = _arrow_schema(schema)
        where, params = _where(table, names, prefix)
        sql = f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {table}{where} ORDER BY 1"
        path = out / f"{table}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        rows = 0
        with pq.ParquetWriter(tmp, arrow_schema) as writer:
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
        written.append(SnapshotFile(table, path, rows))
    return written
