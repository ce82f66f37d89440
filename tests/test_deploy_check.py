"""`check --deploy` is clean under production settings (SECRET_KEY set, DEBUG off, HTTPS on)."""

import os
import subprocess
import sys


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "xiaokang.settings",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-key-" + "y" * 20,
        "DEBUG": "0",
        "XIAOKANG_HTTPS": "1",
        "XIAOKANG_HOME": str(tmp_path),
        "ALLOWED_HOSTS": "xiaokang.example.internal",
    }
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_check_deploy_reports_the_development_key(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xiaokang.settings", "XIAOKANG_HOME": str(tmp_path)}
    for name in ("SECRET_KEY", "DATABASE_URL", "XIAOKANG_HTTPS"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-m", "django", "check", "--deploy"], env=env, capture_output=True,
                         text=True)
    assert "security.W009" in out.stdout + out.stderr  # SECRET_KEY: the insecure development key
