"""xiaokang serve [--bind 127.0.0.1:8000] [--workers N] [--threads N]

Runs the production WSGI server (gunicorn, threaded workers) after collecting static files, which
whitenoise then serves itself: no CDN and no separate web server needed on an intranet.
"""

import argparse
import multiprocessing
import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from xiaokang.settings import _env_int


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (workers, threads)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为正整数，收到 {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"须至少为 1，收到 {number}")
    return number


def check_cache() -> None:
    """Store and read back a value in the shared cache (files, or Redis with ``XIAOKANG_CACHE_URL``). Raises
    CommandError naming the cache when it cannot: the sessions are kept there, so no one could log in."""
    from django.conf import settings

    from xiaokang.core.cache import round_trip

    reason = round_trip()
    if reason:
        where = getattr(settings, "CACHE_URL", "") or settings.CACHES["default"].get("LOCATION", "")
        raise CommandError(f"共享缓存不可用（{where}）：{reason.rstrip('.。 ')}。会话和登录依赖共享缓存，服务器未启动；"
                           "请检查 XIAOKANG_CACHE_URL 指向的 Redis 是否在运行，或不设置它（使用文件缓存）")


class Command(BaseCommand):
    help = "以生产服务器（gunicorn）运行 Web 界面"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("XIAOKANG_BIND", "127.0.0.1:8000"),
                            help="监听地址:端口（默认 127.0.0.1:8000，环境变量 XIAOKANG_BIND）")
        # the environment's values are checked like the settings' (a wrong one: one line naming it, exit 2)
        parser.add_argument("--workers", type=_positive, default=_env_int("XIAOKANG_WORKERS", 0, 1) or None,
                            help="工作进程数（默认 CPU 数 × 2 + 1，环境变量 XIAOKANG_WORKERS）")
        parser.add_argument("--threads", type=_positive, default=_env_int("XIAOKANG_THREADS", 10, 1),
                            help="每个工作进程的线程数（默认 10，环境变量 XIAOKANG_THREADS）")
        parser.add_argument("--no-collectstatic", action="store_true", help="启动前不收集静态文件")

    def handle(self, *args, **opts):
        from gunicorn.app.base import BaseApplication

        check_cache()  # sessions and logins need it: refuse to start rather than answer 500 to every login

        # Collect first: whitenoise indexes STATIC_ROOT when the application is created.
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        workers = opts["workers"] or multiprocessing.cpu_count() * 2 + 1
        options = {
            "bind": opts["bind"], "workers": workers, "threads": opts["threads"], "worker_class": "gthread",
            "accesslog": "-", "timeout": 120,
            # ID and mobile numbers masked in gunicorn's own access and error logs (a search is a GET query)
            "logger_class": "xiaokang.core.serverlog.MaskedLogger",
            # Keep-alive connections wait 10 s for their next request (gunicorn: 2 s): a busy worker that is
            # slow to poll must not close a connection whose next request has already arrived.
            "keepalive": 10,
            # The application is loaded (and the household rule compiled) once in the parent process,
            # before the workers are forked: no worker compiles on its first household page.
            "preload_app": True,
            # No gunicorn control socket (gunicorn ≥ 25 makes one at a fixed path in the user's home, which
            # two servers on one machine would share); the server is managed as a process (systemd, Ctrl+C).
            "control_socket_disable": True,
        }

        class App(BaseApplication):
            def load_config(self):
                for k, v in options.items():
                    self.cfg.set(k, v)

            def load(self):
                from django.db import connections

                from xiaokang.wsgi import application

                try:
                    from xiaokang.policy.services import warm_up

                    warm_up()
                except Exception as exc:  # noqa: BLE001 — an empty or unmigrated database still serves
                    print(f"（未预编译评估规则：{exc}）")
                connections.close_all()  # never share a database connection with the forked workers
                return application

        self.stdout.write(f"xiaokang 正在服务：http://{opts['bind']}/  （Ctrl+C 停止）")
        App().run()
