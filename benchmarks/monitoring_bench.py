"""Benchmark: the monitoring warning and consolidation-class rules over the demo registry (city-wide, one year).

    .venv/bin/python benchmarks/monitoring_bench.py [--db var/xiaokang.sqlite3] [--year 2020] [--runs 2]

Copies the SQLite demo database (``make demo SERVE=0``) to a temporary folder, migrates it, records the demo
events (``monitoring.demo.load_events``), then times ``run_warnings`` (first run: all warnings new; later
runs: none new) and ``run_consolidation`` for the whole city. Prints households, warnings, wall time and
households/s. Nothing here is a test.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(ROOT / "var" / "xiaokang.sqlite3"))
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="xk-monitoring-bench-")
    db = Path(tmp) / "bench.sqlite3"
    shutil.copy(args.db, db)
    os.environ.update(DATABASE_URL=f"sqlite:///{db}", XIAOKANG_HOME=tmp, DJANGO_SETTINGS_MODULE="xiaokang.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from xiaokang.monitoring.demo import load_events
    from xiaokang.monitoring.models import EarlyWarning
    from xiaokang.monitoring.services import run_consolidation, run_warnings
    from xiaokang.registry.models import Household

    households = Household.objects.count()
    events = load_events(args.year, "4302")
    print(f"households {households:,}  events {events:,}  year {args.year}")
    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        created = sum(run_warnings(args.year, "4302").values())
        t1 = time.perf_counter()
        classes = sum(run_consolidation(args.year, "4302").values())
        t2 = time.perf_counter()
        print(f"run {run}: warnings new {created:,} (stored {EarlyWarning.objects.count():,}) in {t1 - t0:.2f} s "
              f"= {households / (t1 - t0):,.0f} households/s; classes {classes:,} in {t2 - t1:.2f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
