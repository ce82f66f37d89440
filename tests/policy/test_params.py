"""Dated policy parameters: lookups by date and province, the exit income standard's fallback, refusal of
unconfirmed values, administrator-entered values, and the shape of every shipped YAML entry."""

import datetime as dt

import pytest
import yaml

from xiaokang.policy.params import (
    PARAMETER_DIR,
    Parameters,
    ParameterError,
    ParameterUnconfirmed,
    ParameterValue,
    exit_income_standard,
    file_parameters,
)

D = dt.date


@pytest.fixture(scope="module")
def params():
    return Parameters.from_files()


# ------------------------------------------------------------------------------------------- by date

@pytest.mark.parametrize("on,value", [
    (D(2010, 12, 31), 2300), (D(2013, 12, 31), 2736), (D(2014, 1, 1), 2800), (D(2014, 12, 31), 2800),
    (D(2015, 6, 30), 2855), (D(2016, 1, 1), 2952), (D(2016, 12, 31), 2952), (D(2019, 12, 31), 3218),
    (D(2020, 12, 31), 4000),
])
def test_national_line_by_date(params, on, value):
    assert params.value("poverty_line.national", on) == value


def test_national_line_value_carries_unit_status_and_source(params):
    v = params.get("poverty_line.national", D(2016, 12, 31))
    assert (v.value, v.unit, v.status) == (2952, "元/人·年", "confirmed")
    assert "云南调查年鉴2017" in v.source
    assert v.effective_from == D(2016, 1, 1)
    assert v.province is None and v.entered is False


def test_value_before_the_first_entry_is_an_error(params):
    with pytest.raises(ParameterError, match="poverty_line.national"):
        params.get("poverty_line.national", D(2009, 12, 31))


@pytest.mark.parametrize("year", [2017, 2018])
def test_national_line_unconfirmed_years_raise(params, year):
    with pytest.raises(ParameterUnconfirmed, match=rf"poverty_line\.national.*{year}"):
        params.get("poverty_line.national", D(year, 6, 30))


# ------------------------------------------------------------------------------------ province override

def test_hunan_2019_override_with_its_source(params):
    v = params.get("exit.income_standard", D(2019, 12, 31), province="43")
    assert v.value == 3700
    assert v.status == "rounded"
    assert v.province == "43"
    assert "新华社 2020-01-14" in v.source
    assert v.unit == "元/人·年"


def test_hunan_2020_override(params):
    v = params.get("exit.income_standard", D(2020, 12, 31), province="43")
    assert (v.value, v.status) == (4000, "confirmed")


def test_province_without_its_own_series_uses_the_national_series(params):
    # No by_province entry for 42: the national (province None) series of the same parameter is used.
    assert params.value("poverty_line.national", D(2016, 12, 31), province="42") == 2952
    assert params.value("water.quantity_min_lpd", D(2019, 12, 31), province="43") == 35


# ---------------------------------------------------------------------------- exit_income_standard

@pytest.mark.parametrize("year,value", [(2014, 2800), (2015, 2855), (2016, 2952)])
def test_exit_standard_falls_back_to_the_national_line(params, year, value):
    # 2014, 2015: no Hunan entry in force yet; 2016: Hunan's entry is unconfirmed → national line.
    v = exit_income_standard(params, year, "43")
    assert v.value == value
    assert v.name == "poverty_line.national"
    assert v.province is None


@pytest.mark.parametrize("year,value", [(2019, 3700), (2020, 4000)])
def test_exit_standard_uses_the_province_value(params, year, value):
    v = exit_income_standard(params, year, "43")
    assert (v.value, v.province, v.name) == (value, "43", "exit.income_standard")
    assert v.source


@pytest.mark.parametrize("year", [2017, 2018])
def test_exit_standard_refuses_unconfirmed_years(params, year):
    with pytest.raises(ParameterUnconfirmed) as exc:
        exit_income_standard(params, year, "43")
    message = str(exc.value)
    assert "exit.income_standard" in message
    assert str(year) in message
    assert "43" in message


def test_unconfirmed_is_a_parameter_error():
    assert issubclass(ParameterUnconfirmed, ParameterError)


def test_entered_value_makes_2017_usable(params):
    entered = params.with_entered([ParameterValue(
        name="exit.income_standard", value=3335, effective_from=D(2017, 1, 1), province="43",
        status="entered", source="测试录入（非真实数字）")])
    v = exit_income_standard(entered, 2017, "43")
    assert (v.value, v.province, v.entered) == (3335, "43", True)
    assert v.unit == "元/人·年"  # taken from the series
    assert v.source == "测试录入（非真实数字）"
    # 2018 is still unconfirmed (its own file entry starts 2018-01-01) …
    with pytest.raises(ParameterUnconfirmed):
        exit_income_standard(entered, 2018, "43")
    # … and the original object is unchanged
    with pytest.raises(ParameterUnconfirmed):
        exit_income_standard(params, 2017, "43")


def test_entered_national_value_also_resolves_the_fallback(params):
    entered = params.with_entered([ParameterValue(
        name="poverty_line.national", value=2999, effective_from=D(2018, 1, 1), status="entered",
        source="测试录入（非真实数字）")])
    assert exit_income_standard(entered, 2018, "43").value == 2999
    with pytest.raises(ParameterUnconfirmed):
        exit_income_standard(entered, 2017, "43")


def test_entered_value_for_a_new_province(params):
    entered = params.with_entered([ParameterValue(
        name="exit.income_standard", value=3500, effective_from=D(2018, 1, 1), province="52",
        source="测试录入（非真实数字）")])
    assert exit_income_standard(entered, 2018, "52").value == 3500
    assert entered.series("exit.income_standard", "52")[0].unit == "元/人·年"


def test_entered_value_of_an_unknown_parameter_is_refused(params):
    with pytest.raises(ParameterError):
        params.with_entered([ParameterValue(name="no.such.parameter", value=1, effective_from=D(2019, 1, 1))])


# ---------------------------------------------------------------------------------------- unknown names

def test_unknown_parameter_raises(params):
    with pytest.raises(ParameterError, match="no.such.parameter"):
        params.get("no.such.parameter", D(2019, 12, 31))
    with pytest.raises(ParameterError):
        params.value("no.such.parameter", D(2019, 12, 31), province="43")
    with pytest.raises(ParameterError):
        params.meta("no.such.parameter")


def test_unknown_parameter_is_not_reported_as_unconfirmed(params):
    with pytest.raises(ParameterError) as exc:
        params.get("no.such.parameter", D(2019, 12, 31))
    assert not isinstance(exc.value, ParameterUnconfirmed)


def test_meta_holds_the_comparison(params):
    assert params.meta("exit.income_standard")["comparison"] == "greater_than"


def test_file_parameters_is_loaded_once():
    assert file_parameters() is file_parameters()


# ------------------------------------------------------------------------------------ the YAML files

def _entries():
    for path in sorted(PARAMETER_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, spec in data.items():
            yield path.name, name, spec


def test_there_are_parameter_files():
    assert len(list(_entries())) >= 10


@pytest.mark.parametrize("filename,name,spec", list(_entries()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_entry_has_unit_status_and_source(filename, name, spec):
    assert spec.get("unit"), f"{filename}: {name} has no unit"
    series = [("national", spec.get("values") or [])]
    series += [(f"province {p}", ps.get("values") or []) for p, ps in (spec.get("by_province") or {}).items()]
    assert any(values for _, values in series), f"{filename}: {name} has no values"
    for scope, values in series:
        dates = []
        for v in values:
            where = f"{filename}: {name} ({scope}) from {v.get('from')}"
            assert "from" in v, where
            assert v.get("status"), f"{where}: no status"
            assert isinstance(v.get("source"), str) and v["source"].strip(), f"{where}: no source"
            assert "value" in v, f"{where}: no value key"
            if v["value"] is None:
                assert v["status"] == "unconfirmed", f"{where}: empty value must be marked unconfirmed"
            dates.append(v["from"])
        assert dates == sorted(dates), f"{filename}: {name} ({scope}) dates out of order"
        assert len(set(dates)) == len(dates), f"{filename}: {name} ({scope}) repeats a date"


def test_every_parameter_is_usable_for_2019_and_2020(params):
    # The household rule resolves these for every assessed year. A parameter of a mechanism that began later
    # (the monitoring mechanism: 2020-03-20) declares ``first_year`` and is not asked for earlier years.
    for name in params.names():
        for year in (2019, 2020):
            if year < int(params.meta(name).get("first_year", 0)):
                continue
            on = D(year, 12, 31)
            v = params.get(name, on, province="43")
            assert v.usable, (name, year)


def test_declared_comparisons_match_the_rules():
    # The files say how each limit is compared; the rules check it at resolve time.
    from xiaokang.policy.params import ParameterError, file_parameters, require_comparison

    p = file_parameters()
    require_comparison(p, "village.incidence_max", "less_than")  # "below 2%": exactly 2% fails
    require_comparison(p, "evaluation.approval_min", "at_least")  # "≥ 90%": exactly 90% passes
    with pytest.raises(ParameterError, match="比较方式"):
        require_comparison(p, "village.incidence_max", "at_least")
