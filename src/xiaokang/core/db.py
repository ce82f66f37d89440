"""Database housekeeping shared by the bulk writers."""

from django.db import connection


def analyze(*tables: str) -> None:
    """Refresh the planner statistics of ``tables`` (``ANALYZE``; SQLite and PostgreSQL).

    Bulk loads (``COPY``, ``executemany``, ``INSERT … SELECT``) leave the statistics of a fresh table empty
    until autovacuum catches up; PostgreSQL then picks plans for an empty table (e.g. sorting a million
    households for one page of the list instead of walking the household-number index).
    """
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f'ANALYZE "{table}"')
