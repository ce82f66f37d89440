"""Terminal text helpers: Chinese characters take two columns (East Asian wide/full-width)."""

import unicodedata


def display_width(s: str) -> int:
    """Columns ``s`` takes in a terminal: 2 for wide and full-width characters, 1 otherwise."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def ljust(s: str, width: int) -> str:
    """``s`` padded on the right to ``width`` terminal columns."""
    return s + " " * max(0, width - display_width(s))


def rjust(s: str, width: int) -> str:
    return " " * max(0, width - display_width(s)) + s
