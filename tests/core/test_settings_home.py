"""XIAOKANG_HOME defaults to the checkout's var/ whatever the working directory (the trial found that
`xiaokang quality check` run from a sub-folder made an empty ./var/xiaokang.sqlite3 and failed)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _home(cwd, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("XIAOKANG_HOME", "DATABASE_URL")}
    environ.update(env, DJANGO_SETTINGS_MODULE="xiaokang.settings", PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", "from django.conf import settings; "
                          "print(settings.HOME); print(settings.DATABASES['default']['NAME'])"],
                         cwd=cwd, env=environ, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_home_is_the_checkouts_var_from_any_directory(tmp_path):
    assert _home(tmp_path) == [str(ROOT / "var"), str(ROOT / "var" / "xiaokang.sqlite3")]
    assert not (tmp_path / "var").exists()
    assert _home(tmp_path, XIAOKANG_HOME=str(tmp_path / "h"))[0] == str(tmp_path / "h")
