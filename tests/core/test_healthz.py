"""The health check (``GET /healthz/``) and the Redis cache option (``XIAOKANG_CACHE_URL``)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from xiaokang.core.cache import REGISTRY, cached

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def redis_cache(url: str) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                        "KEY_PREFIX": "xiaokang-test"}}


@pytest.mark.django_db
def test_healthz_needs_no_login_and_says_ok():
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_concurrent_probes_do_not_read_each_others_value():
    """Probes at the same moment (a load balancer polling several servers) each store and read their own key:
    one shared key made half of them fail under load (another probe's value read back)."""
    from concurrent.futures import ThreadPoolExecutor

    def probe(_):
        return Client().get("/healthz/").status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(probe, range(200))) == {200}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_part_that_failed(settings):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = Client().get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error: ConnectionError"}


@pytest.mark.django_db
@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_the_summaries_cache_works_on_redis(settings):
    settings.CACHES = redis_cache(REDIS)
    cache.clear()
    calls = []

    def compute():
        calls.append(1)
        return {"households": 3}

    assert cached(REGISTRY, "test-key", compute) == {"households": 3}
    assert cached(REGISTRY, "test-key", compute) == {"households": 3}
    assert len(calls) == 1  # the second read came from Redis
    assert Client().get("/healthz/").json()["cache"] == "ok"
    cache.clear()


def _settings(**env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "XIAOKANG_CACHE_URL"}
    environ.update(env, DJANGO_SETTINGS_MODULE="xiaokang.settings", PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-c", "from django.conf import settings; "
                           "c = settings.CACHES['default']; print(c['BACKEND']); print(c['LOCATION'])"],
                          env=environ, capture_output=True, text=True)


def test_cache_url_setting():
    out = _settings()
    assert out.stdout.split()[0] == "django.core.cache.backends.filebased.FileBasedCache"
    out = _settings(XIAOKANG_CACHE_URL="redis://127.0.0.1:6379/2")
    assert out.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/2"]
    out = _settings(XIAOKANG_CACHE_URL="memcached://127.0.0.1:11211")
    assert out.returncode != 0
    assert "XIAOKANG_CACHE_URL must be a Redis URL" in out.stderr and "memcached://" in out.stderr


def test_a_server_error_is_logged_on_standard_error_in_production(tmp_path):
    """DEBUG off: a 500 answer's traceback goes to standard error (the server's log), not only to the
    administrators' mail (a fresh-user trial saw a login fail with 500 and nothing in the log). The 500 here:
    a session looked up in an empty database (no tables)."""
    code = ("import django; django.setup()\n"
            "from django.test import Client\n"
            "c = Client(raise_request_exception=False)\n"
            "c.cookies['sessionid'] = 'a' * 32\n"
            "print(c.get('/').status_code)\n")
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    environ.update(DJANGO_SETTINGS_MODULE="xiaokang.settings", PYTHONPATH=str(ROOT / "src"), DEBUG="0",
                   XIAOKANG_HOME=str(tmp_path), ALLOWED_HOSTS="testserver")
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True)
    assert out.stdout.strip() == "500", out.stderr
    assert "Internal Server Error: /\nTraceback (most recent call last):" in out.stderr
    assert "no such table: django_session" in out.stderr


def test_whole_number_settings_are_checked():
    for name in ("XIAOKANG_IMPORT_RETENTION_DAYS", "XIAOKANG_SESSION_IDLE_MINUTES"):
        out = _settings(**{name: "abc"})
        assert out.returncode != 0 and f"{name} must be a whole number (at least 1), got 'abc'" in out.stderr
        out = _settings(**{name: "0"})
        assert out.returncode != 0 and f"{name} must be at least 1, got 0" in out.stderr

