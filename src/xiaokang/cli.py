"""The ``xiaokang`` command: a thin front door to the project's Django management commands.

    xiaokang demo [--no-serve] [--scale N]
    xiaokang assess --year Y [--area CODE] [--format table|csv|json]
    xiaokang serve [--bind 127.0.0.1:8000] [--workers N]
    xiaokang areas import FILE
    xiaokang import FILE [--partial] [--dry-run]   xiaokang template   xiaokang export --out FILE
    xiaokang imports purge [--days N] [--dry-run]
    xiaokang quality check|export
    xiaokang <any Django management command>   (migrate, createsuperuser, ...)
"""

import os
import sys


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (``kill``, a service manager stopping the command) into a normal exit (status 143), so
    that ``finally`` blocks and exit handlers run: an import's temporary work folder (rows with ID numbers)
    and a dry run's stored upload are removed as on Ctrl+C. Left alone when something already handles it
    (gunicorn installs its own handlers in ``xiaokang serve``)."""
    import signal

    def stop(signum, frame):
        sys.stderr.write("已终止（SIGTERM）\n")
        raise SystemExit(128 + signum)

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaokang.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    from django.core.management import execute_from_command_line

    from django.core.exceptions import ImproperlyConfigured

    _exit_cleanly_on_sigterm()
    try:
        execute_from_command_line(["xiaokang", *argv])
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except ImproperlyConfigured as exc:  # a wrong setting (environment variable): its message, no traceback
        sys.stderr.write(f"配置错误（环境变量）：{exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl+C: an interrupted command says so, without a traceback
        sys.stderr.write("已中断\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
