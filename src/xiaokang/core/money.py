"""Money (金额): stored as integer fen (分) in the database, handled as ``Decimal`` yuan (元) in Python.

Integer fen keep every rule exact on every backend (SQLite, PostgreSQL, DuckDB): a rule compares
``net_income_fen > standard_fen * members`` and never divides floating-point money.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

FEN_PER_YUAN = 100


def yuan_to_fen(value) -> int | None:
    """Convert yuan (Decimal, int, str with at most 2 decimals) to integer fen.

    Raises ValueError for a value with more than two decimals or that is not a number.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"不是金额: {value!r}")
    if isinstance(value, int):
        return value * FEN_PER_YUAN
    try:
        d = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"不是金额: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"不是金额: {value!r}")
    fen = d * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"金额最多两位小数: {value!r}")
    return int(fen)


def fen_to_yuan(fen: int | None) -> Decimal | None:
    """Integer fen to Decimal yuan with two decimals (None stays None)."""
    if fen is None:
        return None
    return (Decimal(int(fen)) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_yuan(fen: int | None, decimals: int = 0) -> str:
    """Format fen as yuan with thousands separators: 312000 -> "3,120" (decimals=0, half-up)."""
    if fen is None:
        return "—"
    q = Decimal(1) if decimals == 0 else Decimal(1).scaleb(-decimals)
    y = (Decimal(int(fen)) / FEN_PER_YUAN).quantize(q, rounding=ROUND_HALF_UP)
    return f"{y:,.{decimals}f}"


class MoneyField(models.BigIntegerField):
    """A yuan amount stored as integer fen. Python value: ``Decimal`` yuan with 2 decimals."""

    description = "金额（元，按分存储）"

    def from_db_value(self, value, expression, connection):
        return fen_to_yuan(value)

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return fen_to_yuan(yuan_to_fen(value))
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def get_prep_value(self, value):
        if value is None:
            return None
        try:
            return yuan_to_fen(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def formfield(self, **kwargs):
        defaults = {"form_class": forms.DecimalField, "max_digits": 14, "decimal_places": 2}
        defaults.update(kwargs)
        return models.Field.formfield(self, **defaults)
