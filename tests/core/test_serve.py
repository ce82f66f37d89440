"""`xiaokang serve`: the gunicorn settings it runs with (the server is not started here)."""

import io

from django.core.management import call_command


def test_serve_settings(monkeypatch):
    from gunicorn.app.base import BaseApplication

    seen = {}

    def run(self):  # instead of serving: read the configuration the command gave gunicorn
        seen.update({k: self.cfg.settings[k].value for k in (
            "bind", "workers", "threads", "worker_class", "keepalive", "preload_app", "control_socket_disable",
            "logger_class")}, logger=self.cfg.logger_class)  # the class gunicorn resolves and uses

    monkeypatch.setattr(BaseApplication, "run", run)
    call_command("serve", "--bind", "127.0.0.1:8123", "--workers", "3", "--threads", "4", "--no-collectstatic",
                 stdout=io.StringIO())
    from xiaokang.core.serverlog import MaskedLogger

    seen.pop("logger_class")
    assert seen == {"bind": ["127.0.0.1:8123"], "workers": 3, "threads": 4, "worker_class": "gthread",
                    "keepalive": 10, "preload_app": True,
                    # no control socket at the fixed path in the user's home that two servers would share
                    "control_socket_disable": True, "logger": MaskedLogger}


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


def test_the_servers_access_log_masks_id_and_mobile_numbers():
    """gunicorn's access log line of a search by full ID number (a GET query) and its referer: masked, as
    every other log (the access log is gunicorn's own logger, outside Django's LOGGING). The line is the one
    gunicorn itself formats from a request, with the access-log format and handler ``xiaokang serve`` uses."""
    import logging
    from types import SimpleNamespace

    from gunicorn.config import Config

    from xiaokang.core.serverlog import MaskedLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    log = MaskedLogger(cfg)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    log.access_log.addHandler(handler)
    try:
        query = "q=430225199001011234&phone=13812345678"
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/registry/households/?{query}", "PATH_INFO":
                   "/registry/households/", "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": "/registry/households/?q=43022519900101123X"}
        req = SimpleNamespace(headers=[], method="GET", path="/registry/households/", query=query,
                              uri=environ["RAW_URI"], version=(1, 1))
        resp = SimpleNamespace(status="200 OK", headers=[], sent=1234, response_length=1234)
        import datetime as dt

        log.access(resp, req, environ, dt.timedelta(milliseconds=12))
        log.setup(cfg)  # a configuration reload keeps one filter, not two
        log.access(resp, req, environ, dt.timedelta(milliseconds=12))
    finally:
        log.access_log.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert '"GET /registry/households/?q=430225********1234&phone=138****5678 HTTP/1.1" 200 1234' in lines[0]
    assert '"/registry/households/?q=430225********123X"' in lines[0]
    assert "199001011234" not in out.getvalue() and "12345678" not in out.getvalue()
