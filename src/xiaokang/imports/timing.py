"""Per-step wall times of an import (validation, staging, each apply statement, the commit).

``services.validate`` and ``services.apply`` each open a ``Recorder``; the steps below them are wrapped in
``step("name")``, which adds the step's seconds to the current recorder (a no-op when there is none). The
result is kept on the batch as ``batch.timings`` (not stored in the database) and logged at DEBUG level on
the ``xiaokang.imports`` logger; ``benchmarks/import_bench.py`` prints it.
"""

from __future__ import annotations

import contextvars
import logging
import time
from contextlib import contextmanager

log = logging.getLogger("xiaokang.imports")
_current: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("xiaokang_import_timings", default=None)


class Recorder:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


@contextmanager
def recording():
    """Open a recorder for the steps of one validation or apply; yields it."""
    rec = Recorder()
    token = _current.set(rec)
    try:
        yield rec
    finally:
        _current.reset(token)
        if rec.seconds:
            log.debug("import steps: %s", ", ".join(f"{k} {v:.2f} s" for k, v in rec.seconds.items()))


@contextmanager
def step(name: str):
    """Time the enclosed block as ``name`` in the current recorder (if any)."""
    rec = _current.get()
    if rec is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        rec.add(name, time.perf_counter() - t0)


def add(name: str, seconds: float) -> None:
    """Add ``seconds`` to ``name`` in the current recorder (if any): for a span no ``with`` block can wrap,
    such as the commit at the end of ``transaction.atomic``."""
    rec = _current.get()
    if rec is not None:
        rec.add(name, seconds)
