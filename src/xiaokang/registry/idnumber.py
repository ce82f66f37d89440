"""Resident identity numbers (公民身份号码), GB 11643-1999.

An 18-character number: 6-digit address code (GB/T 2260), 8-digit birth date YYYYMMDD, 3-digit
sequence (odd for men, even for women: the 17th character), and a check character computed with
ISO 7064 MOD 11-2 (weights 2^(17-i) mod 11; value 10 is written "X"). 15-digit numbers issued before
1999 (YYMMDD, born 19YY, no check character) are upgraded by inserting "19" and appending the check.
"""

import re
from dataclasses import dataclass
from datetime import date

FULL_WIDTH = str.maketrans("０１２３４５６７８９ＸｘⅩ", "0123456789XXX")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11


def _ascii_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def check_char(first17: str) -> str:
    """The GB 11643 check character for 17 digits. Raises ValueError if not 17 digits."""
    if len(first17) != 17 or not _ascii_digits(first17):
        raise ValueError("需要 17 位数字")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class IdCheck:
    """Outcome of validating an ID number.

    ``normalized`` is the 18-character form (upper-case X, 15-digit upgraded) when valid; ``error`` is
    a Chinese message when not; ``birth_date`` and ``sex`` ("1" male, "2" female) come from the number.
    """

    valid: bool
    normalized: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    error: str | None = None
    upgraded: bool = False


def _birth(digits8: str) -> date | None:
    try:
        return date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def validate_id_number(value, today: date | None = None) -> IdCheck:
    """Validate an 18-digit (or legacy 15-digit) ID number. Never raises: returns ``IdCheck``.

    Accepts surrounding spaces, a lower-case "x" and full-width digits (normalised). Rejects wrong length, non-digits, impossible
    birth dates (19990230, 29 February in a common year), birth dates in the future, and a wrong
    check character.
    """
    if value is None:
        return IdCheck(False, error="证件号码为空")
    if not isinstance(value, str):
        return IdCheck(False, error="证件号码必须是文本（Excel 中请将该列设为文本格式）")
    s = value.strip().translate(FULL_WIDTH).upper()  # full-width digits typed with a Chinese IME
    upgraded = False
    if len(s) == 15:
        if not _ascii_digits(s):
            return IdCheck(False, error="15 位证件号码只能包含数字")
        first17 = s[:6] + "19" + s[6:]
        s = first17 + check_char(first17)
        upgraded = True
    if len(s) != 18:
        return IdCheck(False, error=f"证件号码应为 18 位（实际 {len(s)} 位）")
    if not _ascii_digits(s[:17]) or not (_ascii_digits(s[17]) or s[17] == "X"):
        return IdCheck(False, error="证件号码前 17 位须为数字，末位为数字或 X")
    birth = _birth(s[6:14])
    if birth is None:
        return IdCheck(False, error=f"出生日期 {s[6:14]} 不存在")
    if birth > (today or date.today()) or birth.year < 1880:
        return IdCheck(False, error=f"出生日期 {s[6:14]} 不合理")
    expected = check_char(s[:17])
    if s[17] != expected:
        return IdCheck(False, error=f"校验码错误（应为 {expected}）")
    sex = "1" if int(s[16]) % 2 == 1 else "2"
    return IdCheck(True, normalized=s, birth_date=birth, sex=sex, upgraded=upgraded)


def make_id_number(address6: str, birth: date, sequence: int) -> str:
    """Build a valid 18-digit number (used by the synthetic demo; sequence 0–999, odd = male)."""
    first17 = f"{address6}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask_id_number(value: str | None) -> str:
    """Mask for lists and logs: 430225********1234 (first 6 and last 4 kept)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_FULL_DATE = re.compile(r"(?<![0-9])([0-9]{4})-[0-9]{2}-[0-9]{2}(?![0-9])")
_ID_BIRTH_DIGITS = re.compile(r"(出生日期 )([0-9]{4})[0-9]{4}(?![0-9])")


def mask_birth_dates(text: str | None) -> str:
    """``text`` with birth dates cut to the year: ``1968-01-09`` → ``1968-**-**``, and the birth digits that a
    data-quality message quotes from an ID number (``出生日期 19680132 不存在``) → ``出生日期 1968****``. The
    masked ID number (``430225********1234``) hides exactly the birth date: shown beside it, a full date would
    give the whole number back. For roles without full-number rights (``accounts.FULL_ID_ROLES``)."""
    if not text:
        return text or ""
    text = _FULL_DATE.sub(lambda m: m.group(1) + "-**-**", text)
    return _ID_BIRTH_DIGITS.sub(lambda m: m.group(1) + m.group(2) + "****", text)
