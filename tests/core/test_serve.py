"""`xiaokang serve`: the gunicorn settings it runs with (the server is not started here)."""

import io

from django.core.management import call_command


def test_serve_settings(monkeypatch):
    from gunicorn.app.base import BaseApplication

    seen = {}

    def run(self):  # instead of serving: read the configuration the command gave gunicorn
        seen.update({k: self.cfg.settings[k].value for k in (
            "bind", "workers", "threads", "worker_class", "keepalive", "preload_app", "control_socket_disable")})

    monkeypatch.setattr(BaseApplication, "run", run)
    call_command("serve", "--bind", "127.0.0.1:8123", "--workers", "3", "--threads", "4", "--no-collectstatic",
                 stdout=io.StringIO())
    assert seen == {"bind": ["127.0.0.1:8123"], "workers": 3, "threads": 4, "worker_class": "gthread",
                    "keepalive": 10, "preload_app": True,
                    # no control socket at the fixed path in the user's home that two servers would share
                    "control_socket_disable": True}


def test_serve_refuses_to_start_when_the_shared_cache_is_unreachable(settings, monkeypatch):
    """A Redis URL nobody answers: every login would be a 500 (the sessions live in the cache), so the
    server does not start and says why."""
    import pytest
    from django.core.management.base import CommandError
    from gunicorn.app.base import BaseApplication

    started = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: started.append(1))
    settings.CACHE_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    with pytest.raises(CommandError, match=r"共享缓存不可用（redis://127.0.0.1:1/0）：ConnectionError"):
        call_command("serve", "--no-collectstatic", stdout=io.StringIO())
    assert started == []


def test_serve_checks_its_numbers(monkeypatch):
    """A wrong XIAOKANG_WORKERS / XIAOKANG_THREADS names the variable (ImproperlyConfigured: the ``xiaokang``
    command prints that one line, exit 2; it was a ValueError traceback); --workers 0 is refused."""
    import pytest
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import CommandError

    monkeypatch.setenv("XIAOKANG_WORKERS", "four")
    with pytest.raises(ImproperlyConfigured, match=r"XIAOKANG_WORKERS must be a whole number \(at least 1\), got 'four'"):
        call_command("serve", "--no-collectstatic", stdout=io.StringIO())
    monkeypatch.delenv("XIAOKANG_WORKERS")
    monkeypatch.setenv("XIAOKANG_THREADS", "0")
    with pytest.raises(ImproperlyConfigured, match="XIAOKANG_THREADS must be at least 1, got 0"):
        call_command("serve", "--no-collectstatic", stdout=io.StringIO())
    monkeypatch.delenv("XIAOKANG_THREADS")
    with pytest.raises(CommandError, match="须至少为 1，收到 0"):
        call_command("serve", "--workers", "0", "--no-collectstatic", stdout=io.StringIO())
