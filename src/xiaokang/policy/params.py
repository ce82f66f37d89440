"""Dated policy parameters (政策参数), OpenFisca-style: every value has an effective date, unit, status and source.

Files: ``xiaokang/policy/parameters/*.yaml``. Each top-level key is a parameter name with ``values``
(a list of ``{from, value, status, source}``) and optionally ``by_province`` ({"43": {values: [...]}}).
An administrator may enter further values (``ParameterValue`` in the database); they are merged over
the files, an entered value replacing a file value with the same name, province and date.

A value whose status is ``unconfirmed`` (or whose value is null) is never used: ``get`` raises
``ParameterUnconfirmed`` naming the parameter, year and what is known, rather than guessing.
This module does not import Django.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARAMETER_DIR = Path(__file__).parent / "parameters"
UNUSABLE = {"unconfirmed"}


class ParameterError(LookupError):
    """A parameter is unknown or has no usable value for the date asked."""


class ParameterUnconfirmed(ParameterError):
    """The value in force at the date is marked unconfirmed (or empty): enter it with a source first."""


@dataclass(frozen=True)
class ParameterValue:
    """One dated value: ``value`` in ``unit`` from ``effective_from``, with ``status`` and ``source``."""

    name: str
    value: Any
    effective_from: dt.date
    unit: str = ""
    status: str = "confirmed"
    source: str = ""
    province: str | None = None
    label: str = ""
    label_en: str = ""
    entered: bool = False  # entered by an administrator rather than shipped in the files

    @property
    def usable(self) -> bool:
        return self.value is not None and self.status not in UNUSABLE


@dataclass
class _Series:
    name: str
    unit: str
    label: str
    label_en: str
    meta: dict
    values: list[ParameterValue] = field(default_factory=list)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class Parameters:
    """All parameters, looked up by name, date and province."""

    def __init__(self, series: dict[tuple[str, str | None], _Series]):
        self._series = series

    @classmethod
    def from_files(cls, directory: Path = PARAMETER_DIR) -> "Parameters":
        series: dict[tuple[str, str | None], _Series] = {}
        for path in sorted(Path(directory).glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for name, spec in data.items():
                unit = spec.get("unit", "")
                meta = {k: v for k, v in spec.items() if k not in {"values", "by_province"}}
                s = _Series(name, unit, spec.get("label", ""), spec.get("label_en", ""), meta)
                s.values = [cls._value(name, v, unit, None, s.label, s.label_en) for v in spec.get("values", [])]
                series[(name, None)] = s
                for prov, pspec in (spec.get("by_province") or {}).items():
                    p = _Series(name, unit, pspec.get("label", s.label), pspec.get("label_en", s.label_en), meta)
                    p.values = [cls._value(name, v, unit, str(prov), p.label, p.label_en)
                                for v in pspec.get("values", [])]
                    series[(name, str(prov))] = p
        for s in series.values():
            s.values.sort(key=lambda v: v.effective_from)
        return cls(series)

    @staticmethod
    def _value(name, raw, unit, province, label, label_en) -> ParameterValue:
        return ParameterValue(
            name=name, value=raw.get("value"), effective_from=_as_date(raw["from"]), unit=unit,
            status=raw.get("status", "confirmed"), source=raw.get("source", ""), province=province,
            label=label, label_en=label_en,
        )

    def with_entered(self, entered: list[ParameterValue]) -> "Parameters":
        """A copy with administrator-entered values merged over the file values."""
        series = {k: _Series(s.name, s.unit, s.label, s.label_en, s.meta, list(s.values))
                  for k, s in self._series.items()}
        for v in entered:
            key = (v.name, v.province)
            if key not in series:
                base = series.get((v.name, None))
                if base is None:
                    raise ParameterError(f"未知参数 {v.name}")
                series[key] = _Series(v.name, base.unit, base.label, base.label_en, base.meta, [])
            s = series[key]
            v = ParameterValue(**{**v.__dict__, "unit": v.unit or s.unit, "label": v.label or s.label,
                                  "label_en": v.label_en or s.label_en, "entered": True})
            s.values = [x for x in s.values if x.effective_from != v.effective_from] + [v]
            s.values.sort(key=lambda x: x.effective_from)
        return Parameters(series)

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._series})

    def meta(self, name: str) -> dict:
        try:
            return self._series[(name, None)].meta
        except KeyError:
            raise ParameterError(f"未知参数 {name}") from None

    def series(self, name: str, province: str | None = None) -> list[ParameterValue]:
        s = self._series.get((name, province))
        return list(s.values) if s else []

    def in_force(self, name: str, on: dt.date, province: str | None = None) -> ParameterValue | None:
        """The entry in force on ``on`` (usable or not), or None if none has started yet."""
        if (name, None) not in self._series and (name, province) not in self._series:
            raise ParameterError(f"未知参数 {name}")
        s = self._series.get((name, province))
        if s is None:
            return None
        current = None
        for v in s.values:
            if v.effective_from <= on:
                current = v
        return current

    def get(self, name: str, on: dt.date, province: str | None = None) -> ParameterValue:
        """The usable value of ``name`` on ``on``; a province's own series if it has one in force.

        Raises ``ParameterUnconfirmed`` when the value in force is unconfirmed or empty, and
        ``ParameterError`` when the parameter is unknown or not yet in force.
        """
        v = None
        if province is not None:
            v = self.in_force(name, on, province)
        if v is None:
            v = self.in_force(name, on, None)
        if v is None:
            raise ParameterError(f"参数 {name} 在 {on:%Y-%m-%d} 尚无取值")
        if not v.usable:
            raise ParameterUnconfirmed(
                f"参数 {name}（{v.label or name}）{on.year} 年的取值未经核实，不能评估：{v.source}。"
                f"请由管理员录入该年取值及来源（xiaokang params set {name} {on.year} 值 --source 来源）。"
            )
        return v

    def value(self, name: str, on: dt.date, province: str | None = None):
        return self.get(name, on, province).value


def require_comparison(params: "Parameters", name: str, implemented: str) -> None:
    """Check that the ``comparison`` a parameter file declares is the one the rule implements.

    Raises ParameterError on a mismatch, so an edited file can never silently disagree with the rule.
    """
    declared = params.meta(name).get("comparison")
    if declared != implemented:
        raise ParameterError(f"参数 {name} 声明的比较方式为 {declared!r}，规则实现的是 {implemented!r}")


def exit_income_standard(params: Parameters, year: int, province: str) -> ParameterValue:
    """The household exit income standard (脱贫标准, 元/人·年) for a year and province.

    The province's own value when one is entered and usable for that year; otherwise the national
    poverty line (《关于建立贫困退出机制的意见》: 稳定超过国家扶贫标准). Raises
    ``ParameterUnconfirmed`` when neither is usable (Hunan 2017 and 2018 as shipped).
    """
    on = dt.date(year, 12, 31)
    own = params.in_force("exit.income_standard", on, province)
    if own is not None and own.usable and own.effective_from.year == year:
        return own
    try:
        return params.get("poverty_line.national", on)
    except ParameterUnconfirmed as exc:
        raise ParameterUnconfirmed(
            f"{year} 年脱贫收入标准无法确定：省（{province}）未录入该年标准，国家扶贫标准该年未经核实。"
            f"请录入 exit.income_standard（省 {province}，{year} 年）及来源。详情：{exc}"
        ) from exc


_FILES: Parameters | None = None


def file_parameters() -> Parameters:
    """The shipped parameter files, loaded once per process."""
    global _FILES
    if _FILES is None:
        _FILES = Parameters.from_files()
    return _FILES
