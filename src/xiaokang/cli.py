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


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaokang.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["xiaokang", *argv])
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
