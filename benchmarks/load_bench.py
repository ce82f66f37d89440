"""Load benchmark: 50 concurrent clients on the dashboard, the household list and the household page.

    # once: a PostgreSQL database with ~1,000,000 households (the demo ×21), assessed 2014–2020 (~10 min)
    .venv/bin/python benchmarks/load_bench.py --prepare
    # then: start the production server (gunicorn, ``xiaokang serve``) on loopback and load it for 60 s
    .venv/bin/python benchmarks/load_bench.py [--clients 50] [--seconds 60] [--workers 5] [--threads 10] [--warmup 20]
    # the shared cache in Redis instead of files; the machine's ceiling (a request that does next to nothing)
    XIAOKANG_CACHE_URL=redis://127.0.0.1:6379/3 .venv/bin/python benchmarks/load_bench.py
    .venv/bin/python benchmarks/load_bench.py --routes healthz

Environment: ``LOAD_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/xiaokang_load). Each client
logs in as ``demo_city`` (株洲市 4302: the whole registry in scope), then loops for the duration, picking at
random one of: the dashboard (``/``), a page of the household list (``/registry/households/?page=N``, N in
1–200) or a household page (``/registry/households/<id>/``, a random household) — one keep-alive connection
per client. Prints, per kind and overall: requests, p50, p95 and max latency (ms) and the error count
(non-200 answers and failed connections), and the server's throughput. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/xiaokang_load"
PASSWORD = os.environ.get("XIAOKANG_DEMO_PASSWORD", "xiaokang-demo-2020")


def env_for(url: str, home: str) -> dict:
    return dict(os.environ, DATABASE_URL=url, XIAOKANG_HOME=home, DJANGO_SETTINGS_MODULE="xiaokang.settings",
                SECRET_KEY="load-bench-secret-key-not-for-production-0123456789abcdef", DEBUG="0",
                ALLOWED_HOSTS="127.0.0.1,localhost")


def prepare(url: str, home: str, scale: int) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or "postgres",
                            dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()
    t = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/xiaokang"), "demo", "--no-serve", "--scale", str(scale)],
                   env=env_for(url, home), check=True, cwd=ROOT)
    print(f"prepared in {time.perf_counter() - t:.0f} s")


def household_ids(url: str, n: int = 5000) -> list[int]:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    with psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or "postgres",
                         dbname=cfg["NAME"]) as con:
        rows = con.execute("SELECT id FROM registry_household TABLESAMPLE SYSTEM (1) LIMIT %s", [n]).fetchall()
        print(f"registry: {con.execute('SELECT count(*) FROM registry_household').fetchone()[0]:,} households")
    return [r[0] for r in rows]


class Client:
    """One keep-alive connection with the session cookie of a logged-in user."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        h = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise
        data = resp.read()
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, data

    def login(self, username: str, password: str) -> None:
        status, body = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"})
        status, _ = self.request("POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded",
                                                          "Referer": f"http://{self.host}:{self.port}/login/"})
        if status != 302:
            raise SystemExit(f"login failed ({status})")


KINDS = ("dashboard", "household_list", "household_page")
# Diagnosis only: /healthz/ (one SELECT 1 and a cache round trip behind the whole middleware stack, with the
# client's session) measures what this machine serves when a page costs next to nothing: the ceiling.
CEILING = "healthz"


def run_client(host, port, ids, window, results, lock, seed, kinds, barrier):
    """One client: log in, wait for every client to have logged in (``barrier``, whose action opens the
    measured ``window`` [start, end]), then request pages until the window ends. Logging in (a deliberately
    slow password hash) is not part of the measurement."""
    rng = random.Random(seed)
    c = Client(host, port)
    c.login("demo_city", PASSWORD)
    barrier.wait()
    until = window[1]
    local = []
    while time.perf_counter() < until:
        kind = rng.choice(kinds)
        path = {"dashboard": "/", "household_list": f"/registry/households/?page={rng.randint(1, 200)}",
                "household_page": f"/registry/households/{rng.choice(ids)}/", CEILING: "/healthz/"}[kind]
        t = time.perf_counter()
        try:
            status, _ = c.request("GET", path)
        except Exception:  # noqa: BLE001 — a failed connection is counted as an error
            status = 0
        local.append((kind, (time.perf_counter() - t) * 1000, status))
    with lock:
        results.extend(local)


def _cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used: the load client's own share of the machine."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--scale", type=int, default=21, help="demo scale for --prepare (21 ≈ 1,000,000 households)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--threads", type=int, default=10)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--warmup", type=int, default=20, help="seconds of unmeasured warm-up with 10 clients")
    ap.add_argument("--routes", default=",".join(KINDS),
                    help="comma-separated subset of the routes (diagnosis; the issue's figures use all three), "
                         f"or {CEILING} (the machine's ceiling: a request that does next to nothing)")
    args = ap.parse_args()
    kinds = tuple(k for k in args.routes.split(",") if k)
    if not kinds or set(kinds) - {*KINDS, CEILING}:
        ap.error(f"--routes: a subset of {','.join(KINDS)}, or {CEILING}")
    url = os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL)
    home = str(Path(os.environ.get("LOAD_HOME", "/tmp/xiaokang-load-home")))
    Path(home).mkdir(parents=True, exist_ok=True)
    if args.prepare:
        prepare(url, home, args.scale)
        return
    ids = household_ids(url)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/xiaokang"), "serve", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--threads", str(args.threads)],
        # the server's log goes to a file (a pipe nobody reads would block the server once full)
        env=env_for(url, home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(Path(home) / "server.log", "wb"),
        start_new_session=True)
    try:
        for _ in range(120):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/login/")
                break
            except OSError:
                time.sleep(0.5)
        # warm-up (not measured): 10 clients for --warmup seconds, so every worker has imported its
        # modules and the cached summaries exist (steady state, as on a server that has been running)
        results, lock = [], threading.Lock()

        def clients(n, seconds, into, seed0):
            window = [0.0, 0.0]

            def open_window():
                window[0] = time.perf_counter()
                window[1] = window[0] + seconds

            barrier = threading.Barrier(n, action=open_window)
            threads = [threading.Thread(target=run_client, args=("127.0.0.1", args.port, ids, window, into, lock,
                                                                 seed0 + i, kinds, barrier)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return window[0]

        clients(10, args.warmup, [], 1000)
        cpu0 = _cpu_seconds()
        t0 = clients(args.clients, args.seconds, results, 1)
        wall = time.perf_counter() - t0
        client_cpu = _cpu_seconds() - cpu0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"{args.clients} clients for {args.seconds} s against gunicorn ({args.workers} workers × {args.threads} "
          f"threads) on loopback; machine: {os.cpu_count()} CPUs (client and server share them); cache: "
          f"{os.environ.get('XIAOKANG_CACHE_URL') or 'files'}")
    print(f"{'route':<16} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>7}")
    for kind in (*kinds, None):
        rows = [r for r in results if kind is None or r[0] == kind]
        lat = [r[1] for r in rows]
        errors = sum(1 for r in rows if r[2] != 200)
        print(f"{kind or 'all':<16} {len(rows):>9,} {pct(lat, 50):>8.0f} {pct(lat, 95):>8.0f} "
              f"{max(lat) if lat else 0:>8.0f} {errors:>7}")
    print(f"throughput: {len(results) / wall:,.1f} requests/s; mean {statistics.mean(r[1] for r in results):.0f} ms")
    print(f"the load client itself used {client_cpu:.1f} CPU seconds in {wall:.0f} s "
          f"({client_cpu / wall / (os.cpu_count() or 1) * 100:.0f} % of the machine's CPUs, taken from the server)")
    bad = collections.Counter(r[2] for r in results if r[2] != 200)
    if bad:
        print("errors by status (0 = failed connection):", dict(sorted(bad.items())))


if __name__ == "__main__":
    main()
