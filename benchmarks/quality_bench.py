"""Benchmark: the data-quality pass (数据清洗, all rules, findings synchronised) over a demo registry.

    .venv/bin/python benchmarks/quality_bench.py [--scale 1] [--year 2020] [--runs 2] [--timings]
    .venv/bin/python benchmarks/quality_bench.py --scale 21          # ≈ 1,000,000 households
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiaokang_bench .venv/bin/python benchmarks/quality_bench.py

A fresh database (SQLite file in a temporary folder, or the PostgreSQL database named in DATABASE_URL,
dropped and re-created), the demo registry generated with ``load_demo(scale=N)`` (46,527 households at
scale 1), then ``quality.services.run_checks`` for the whole city run in a child process ``--runs`` times
(the first run inserts every finding; later runs update them). Prints households, members, findings, wall
time of each run (``--timings``: of each step), households/s and the child's peak RSS. Nothing here is a
test. Goal (issue 5): the pass over 1,000,000 households in ≤ 30 s.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assess_bench import child_env, reset_postgres, run_py  # noqa: E402  (same folder)

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

CHECK = """
import django, json, resource, time
django.setup()
from xiaokang.quality.services import compiled_check, resolve_params, run_checks
from django.db import connection
t = time.perf_counter()
compiled_check(resolve_params({year}, "4302"), "4302", connection.vendor)
compile_s = time.perf_counter() - t
runs = []
for _ in range({runs}):
    t = time.perf_counter()
    run = run_checks("4302", {year})
    runs.append({{"seconds": time.perf_counter() - t, "found": run.found, "new": run.new, "open": run.open,
                 "timings": run.timings}})
print(json.dumps({{"compile": compile_s, "runs": runs,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1, help="demo scale (1 ≈ 46,527 households; 21 ≈ 1 M)")
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--timings", action="store_true", help="print the time of each step of each run")
    args = ap.parse_args()
    db_url = os.environ.get("DATABASE_URL")
    backend = "PostgreSQL" if db_url else "SQLite"
    print(f"backend: {backend}; year {args.year}; scale {args.scale}; machine: {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as home:
        if db_url:
            reset_postgres(db_url)
        env = child_env(home, db_url)
        prep = run_py(PREPARE.format(scale=args.scale), env)
        print(f"households {prep['households']:,}  members {prep['members']:,}  load {prep['seconds']:.1f} s",
              flush=True)
        res = run_py(CHECK.format(year=args.year, runs=args.runs), env)
    print(f"compile (cached per process) {res['compile']:.2f} s; peak RSS {res['peak_rss_mb']:.0f} MB")
    print(f"{'run':>4} {'findings':>9} {'new':>9} {'wall s':>8} {'households/s':>13}")
    for i, r in enumerate(res["runs"], 1):
        rate = prep["households"] / r["seconds"] if r["seconds"] else float("inf")
        print(f"{i:>4} {r['found']:>9,} {r['new']:>9,} {r['seconds']:>8.2f} {rate:>13,.0f}")
    if args.timings:
        for i, r in enumerate(res["runs"], 1):
            print(f"run {i}, seconds per step:")
            for label, seconds in r["timings"].items():
                print(f"  {seconds:8.3f}  {label}")


if __name__ == "__main__":
    main()
