"""The data-quality rules on DuckDB over a Parquet snapshot (数据清洗 · 离线检查).

``write_snapshot(out, area)`` writes the registry columns the cleaning rules read
(``policy.schema.QUALITY_TABLES``: ``registry_household``, ``registry_member``, ``registry_income``) as
Parquet, streamed in chunks; ``check_snapshot(dir, year)`` runs the same Ibis expression as the database
pass (``rules.check_all``) on DuckDB over the files (``policy.engine.fetch_duckdb``) and returns the
finding rows. Nothing is written to the registry.
"""

from __future__ import annotations

from pathlib import Path

from xiaokang.core.scoping import area_prefix
from xiaokang.exits.snapshot import CHUNK_ROWS, write_query
from xiaokang.policy import engine
from xiaokang.policy.schema import QUALITY_TABLES, quality_unbound_tables

from . import rules

def write_snapshot(out, area=None, chunk_rows: int = CHUNK_ROWS) -> dict[str, int]:
    """Write the three tables (rows inside ``area``) as ``out/<table>.parquet``. Returns rows per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = area_prefix(area)
    lo, hi = prefix, prefix + "9" * (12 - len(prefix))
    counts = {}
    for _key, (table, schema) in QUALITY_TABLES.items():
        names = list(schema.names)
        where, params = "", []
        if prefix and table == "registry_household":
            where, params = " WHERE area_code >= %s AND area_code <= %s", [lo, hi]
        elif prefix:
            where = " WHERE household_id IN (SELECT id FROM registry_household WHERE area_code >= %s AND area_code <= %s)"
            params = [lo, hi]
        sql = f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {table}{where} ORDER BY 1"
        counts[table] = write_query(out / f"{table}.parquet", table, schema, [(sql, params)], chunk_rows).rows
    return counts


def check_snapshot(directory, p: rules.QualityParams, area=None) -> list[dict]:
    """Every rule over the snapshot in ``directory`` on DuckDB: rows of ``rules.FINDING_COLUMNS``."""
    return engine.fetch_duckdb(rules.check_all(quality_unbound_tables(), p, area_prefix(area)), directory)
