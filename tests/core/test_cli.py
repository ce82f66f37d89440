"""The ``xiaokang`` command's front door: a wrong setting is one line, not a traceback; SIGTERM exits
through the normal path, so clean-up code runs."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _xiaokang(*args, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    environ.update(env, XIAOKANG_HOME=str(tmp_path), PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-c", "from xiaokang.cli import main; main()", *args],
                          env=environ, capture_output=True, text=True, timeout=120)


def test_a_wrong_setting_is_one_line(tmp_path):
    out = _xiaokang("imports", "purge", tmp_path=tmp_path, XIAOKANG_IMPORT_RETENTION_DAYS="abc")
    assert out.returncode == 2
    assert out.stderr == ("配置错误（环境变量）：XIAOKANG_IMPORT_RETENTION_DAYS must be a whole number "
                          "(at least 1), got 'abc'\n")


def test_sigterm_runs_the_clean_up(tmp_path):
    """A command killed with SIGTERM leaves through SystemExit: ``finally`` blocks and exit handlers run
    (an import's work folder, a dry run's stored upload)."""
    code = ("import atexit, os, signal, time\n"
            "atexit.register(lambda: print('cleaned up', flush=True))\n"
            "try:\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    time.sleep(30)\n"
            "finally:\n"
            "    print('finally ran', flush=True)\n")
    out = _xiaokang("shell", "--no-imports", "-c", code, tmp_path=tmp_path)
    assert out.returncode == 143
    assert out.stdout.splitlines() == ["finally ran", "cleaned up"]
    assert "已终止（SIGTERM）" in out.stderr
