"""Benchmark: the yearly household exit assessment at 100,000 and 1,000,000 households.

    .venv/bin/python benchmarks/assess_bench.py [--households 100000 1000000] [--year 2020]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiaokang_bench .venv/bin/python benchmarks/assess_bench.py

For each size: a fresh database (SQLite file in a temporary folder, or the PostgreSQL database named in
DATABASE_URL, dropped and re-created), the demo registry generated with ``xiaokang demo --scale N``'s
generator, then the assessment of one year for the whole city run in a child process. Prints the
household count, wall time, households/s and the child's peak RSS. Nothing here is a test.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_HOUSEHOLDS_AT_SCALE_1 = 46_527  # the demo at --scale 1


def child_env(home: str, db_url: str | None) -> dict:
    env = dict(os.environ, XIAOKANG_HOME=home, DJANGO_SETTINGS_MODULE="xiaokang.settings")
    if db_url:
        env["DATABASE_URL"] = db_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def run_py(code: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"child failed ({out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


PREPARE = """
import django, json, time
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from xiaokang.demo.loader import load_demo
t = time.perf_counter()
load_demo(scale={scale})
from xiaokang.registry.models import Household, Member
print(json.dumps({{"households": Household.objects.count(), "members": Member.objects.count(),
                  "seconds": time.perf_counter() - t}}))
"""

ASSESS = """
import django, json, resource, time
django.setup()
from xiaokang.policy.models import ParameterValue
from xiaokang.policy.services import run_household_assessment
t = time.perf_counter()
run = run_household_assessment({year}, "4302")
wall = time.perf_counter() - t
print(json.dumps({{"households": run.households, "reasons": run.reasons, "seconds": wall,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def reset_postgres(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or "postgres",
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--year", type=int, default=2020)
    args = ap.parse_args()
    db_url = os.environ.get("DATABASE_URL")
    backend = "PostgreSQL" if db_url else "SQLite"
    print(f"backend: {backend}; year {args.year}; machine: {os.cpu_count()} CPUs")
    print(f"{'target':>10} {'households':>11} {'members':>10} {'load s':>8} {'assess s':>9} {'households/s':>13} {'peak RSS MB':>12}")
    for target in args.households:
        scale = max(1, round(target / DEMO_HOUSEHOLDS_AT_SCALE_1))
        with tempfile.TemporaryDirectory() as home:
            if db_url:
                reset_postgres(db_url)
            env = child_env(home, db_url)
            prep = run_py(PREPARE.format(scale=scale), env)
            res = run_py(ASSESS.format(year=args.year), env)
        rate = res["households"] / res["seconds"] if res["seconds"] else float("inf")
        print(f"{target:>10,} {res['households']:>11,} {prep['members']:>10,} {prep['seconds']:>8.1f} "
              f"{res['seconds']:>9.2f} {rate:>13,.0f} {res['peak_rss_mb']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
