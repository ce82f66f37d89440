"""Masking of personal numbers in logs (日志脱敏): ID numbers and mobile numbers never reach a log file in full.

``MaskPersonalDataFilter`` is a ``logging.Filter`` installed on the handlers in ``settings.LOGGING``. For every
record it renders the message with its arguments, masks it, and replaces ``msg``/``args`` with the masked
text (so no handler or formatter can see the original arguments); a traceback already formatted or attached
(``exc_info``) and ``stack_info`` are masked too.

- 18-character resident ID numbers (GB 11643: 17 digits + digit or X): first 6 and last 4 kept,
  ``430225********1234`` (as ``xiaokang.registry.idnumber.mask_id_number`` shows them on pages); the old
  15-digit numbers are not told from other 15-digit codes (a village code and a 3-digit household sequence
  look the same) and are masked where the column is known to hold ID numbers (import errors and workbooks);
- 11-digit mainland mobile numbers (1[3-9]x xxxx xxxx): first 3 and last 4 kept, ``138****5678``.

Numbers inside longer digit runs (e.g. 20-digit codes) are left alone.
"""

from __future__ import annotations

import logging
import re

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """``text`` with ID numbers and mobile numbers masked."""
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
    return MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


OLD_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{6}(\d{3})(?![0-9A-Za-z])")


def mask_free_text(text: str) -> str:
    """Text that people type (a visit's notes, a supervision problem's description): ``mask_text``, and any
    standalone 15-digit number masked too as an old ID number (6 address digits, 6 birth digits YYMMDD and a
    3-digit sequence: ``430225******123``). Elsewhere such a run may be a village code and a household
    sequence; in a note, masking one costs nothing."""
    if not text:
        return text or ""
    text = mask_text(text)
    return OLD_ID_NUMBER.sub(lambda m: m.group(1) + "*" * 6 + m.group(2), text)


class MaskPersonalDataFilter(logging.Filter):
    """Masks ID and mobile numbers in each record's message, arguments and traceback; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: mask the parts instead
            message = f"{record.msg} {record.args!r}"
        record.msg = mask_text(str(message))
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)  # formatters print the cached (masked) text
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


class NoTracebackFilter(logging.Filter):
    """Drops a record's traceback (kept: its message): for refusals that are expected, such as Django's
    security warnings about a lookup the admin does not offer — one line each instead of a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def mask_phone(value: str | None) -> str:
    """A phone number for pages and lists: first 3 and last 4 digits kept (``138****5678``); a number of 7 or
    fewer characters is masked entirely. Blank stays blank."""
    if not value:
        return ""
    value = str(value).strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
