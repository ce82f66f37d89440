"""County exit assessment (贫困县摘帽评估) with the national special evaluation (专项评估检查, "三率一度").

Sources: 《关于建立贫困退出机制的意见》(2016-04) and 湖南省实施意见 (2016-05), policy.md §4.1–4.2;
《贫困县退出专项评估检查实施办法》(2017-10), policy.md §4.3. Every number comes from the parameters.
No Django import; one Ibis expression per output, set-based over all counties of an area.

Which counties: areas of level ``county`` flagged as a poor county (national key, contiguous-area or
provincial) inside the area prefix.

Figures per county and year Y (people are members counted on 31 December, as in ``rules/household.py``):

- R  remaining poor people: households identified ≤ Y and not exited by Y, in the county's villages;
- EX exited people: households exited by Y;
- P  rural population: the county's ``AreaPopulation.rural_population`` for Y when recorded, else the sum
  of its villages' registered populations;
- NR non-registered rural population = P − R − EX (never below 0);
- from the evaluation samples (``EvaluationSample`` rows, one per sampled household, kind
  correctly_exited / wrongly_exited / missed / non_registered / poor, approves yes / no / blank):
  Es sampled exited people (correctly + wrongly exited), W wrongly exited people, N sampled
  non-registered people (missed + non_registered), M missed people, S surveyed households (approves
  not blank), A approving households.

Criteria (true / false / null = unknown):

- ``incidence_below``: R ÷ P below the limit (``R × 10000 < bp × P``);
- ``rural_income_ok``: rural per-capita disposable income (``CountyYear``) reaches the provincial path
  (at least, or above in 2020); null and not counted when the province has no path for Y (before 2017);
- ``wrong_exit_ok`` 错退率 = W ÷ Es < 2%;
- ``missed_ok`` 漏评率 = M ÷ N < 2%;
- ``comprehensive_ok`` 综合贫困发生率 = (R + 漏评率 × NR + 错退率 × EX) ÷ P < 2% (3% west), compared
  exactly as ``(R·N·Es + M·NR·Es + W·EX·N) × 10000 < bp × P·N·Es``; the reported numerator
  ``comprehensive_people`` is R + ⌊M·NR ÷ N⌋ + ⌊W·EX ÷ Es⌋;
- ``approval_ok`` 群众认可度 = A ÷ S ≥ 90% (``A × 10000 ≥ 9000 × S``: 899 of 1000 fails).

Verdict: ``unassessable`` with no population or no evaluation samples; else ``not_met`` if any criterion
is false (a county fails if any one fails); else ``unassessable`` if any is unknown; else ``met``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

import ibis

from ..params import Parameters, ParameterUnconfirmed, require_comparison
from .household import MET, NOT_MET, UNASSESSABLE, area_filter
from .village import area_reason, percent_to_bp, poor_people_by_area

RULE_VERSION = "county-exit/2017-10.1"
VERDICTS = {MET: "达到摘帽标准", NOT_MET: "未达到摘帽标准", UNASSESSABLE: "无法评估"}
CRITERIA = ("incidence_below", "rural_income_ok", "wrong_exit_ok", "missed_ok", "comprehensive_ok", "approval_ok")
SAMPLE_KINDS = ("correctly_exited", "wrongly_exited", "missed", "non_registered", "poor")
REASON_COLUMNS = ("area_code", "code", "numerator", "denominator", "amount", "threshold", "detail")


@dataclass(frozen=True)
class CountyRuleParams:
    year: int
    province: str
    incidence_max_bp: int
    income_path_fen: int | None  # None: no path for the year (not applicable)
    income_strict: bool  # True: income must be above the path; False: at least the path
    wrong_exit_max_bp: int
    missed_max_bp: int
    comprehensive_max_bp: int
    approval_min_bp: int
    rule_version: str = RULE_VERSION

    @classmethod
    def resolve(cls, params: Parameters, year: int, province: str) -> "CountyRuleParams":
        """Raises ParameterUnconfirmed for a year between path values that has no entered value of its own
        (Hunan 2018 and 2019 as shipped), like ``exit_income_standard`` does for the household rule."""
        on = dt.date(year, 12, 31)
        for name, how in [("county.incidence_max", "less_than"), ("evaluation.wrong_exit_rate_max", "less_than"),
                          ("evaluation.missed_rate_max", "less_than"),
                          ("evaluation.comprehensive_incidence_max", "less_than"), ("evaluation.approval_min", "at_least")]:
            require_comparison(params, name, how)

        def v(name):
            return params.value(name, on, province)

        path = params.in_force("county.rural_income_path", on, province)
        if path is None:
            path_fen, strict = None, False
        elif path.effective_from.year != year:
            # The path is given for 2017 and 2020 only; a year in between is an interpolation that
            # must be entered (with its source) before it is used, never carried forward or guessed.
            raise ParameterUnconfirmed(
                f"参数 county.rural_income_path（农村居民人均可支配收入目标）{year} 年为插值，未经核实，不能评估："
                f"省（{province}）只有 {path.effective_from.year} 年取值 {path.value}。请由管理员录入该年取值及来源"
                f"（xiaokang params set county.rural_income_path {year} 值 --province {province} --source 来源）。"
            )
        else:
            path_fen = int(round(float(v("county.rural_income_path")) * 100))
            strict = v("county.rural_income_comparison") == "greater_than"
        return cls(
            year=year, province=province,
            incidence_max_bp=percent_to_bp(v("county.incidence_max")),
            income_path_fen=path_fen, income_strict=strict,
            wrong_exit_max_bp=percent_to_bp(v("evaluation.wrong_exit_rate_max")),
            missed_max_bp=percent_to_bp(v("evaluation.missed_rate_max")),
            comprehensive_max_bp=percent_to_bp(v("evaluation.comprehensive_incidence_max")),
            approval_min_bp=percent_to_bp(v("evaluation.approval_min")),
        )


def _null(t):
    return ibis.null(t)


def _lit(x):
    return ibis.literal(x, "int64")


def _sum_if(cond, value):
    return ibis.ifelse(cond, value, 0).sum().cast("int64")


def assess_counties(tables: dict, p: CountyRuleParams, area_prefix: str = ""):
    """Assess every poor county in an area for ``p.year``. Returns ``(results, reasons)``."""
    year = p.year
    a, pop, cy, s = tables["area"], tables["population"], tables["county_year"], tables["sample"]
    counties = a.filter(
        a.level == "county",
        a.is_national_key_county.fill_null(False) | a.is_contiguous_area_county.fill_null(False)
        | a.is_provincial_poor_county.fill_null(False),
        area_filter(a.code, area_prefix),
    ).select(c_code=a.code)
    scope = area_prefix[:6] if len(area_prefix) > 6 else area_prefix

    def by_county(t, code_col, name, value_col):
        g = t.group_by(**{f"{name}_code": t[code_col].substr(0, 6)})
        return g.aggregate(**{name: t[value_col].sum().cast("int64")})

    remaining = by_county(poor_people_by_area(tables, year, scope), "p_area_code", "remaining", "people")
    exited = by_county(poor_people_by_area(tables, year, scope, exited=True), "p_area_code", "exited", "people")
    vp = pop.filter(pop.year == year, pop.area_code.length() == 12, area_filter(pop.area_code, scope))
    village_pop = by_county(vp, "area_code", "village_pop", "registered_population")
    cp = pop.filter(pop.year == year, pop.area_code.length() == 6)
    cp = cp.select(cp_code=cp.area_code, county_rural=cp.rural_population)
    inc = cy.filter(cy.year == year)
    inc = inc.select(inc_code=inc.area_code, rural_income_fen=inc.rural_income_fen)
    ss = s.filter(s.year == year, area_filter(s.area_code, scope))
    kind = ss.kind
    samples = ss.group_by(s_code=ss.area_code.substr(0, 6)).aggregate(
        sample_rows=ss.count().cast("int64"),
        sampled_exited=_sum_if(kind.isin(["correctly_exited", "wrongly_exited"]), ss.people),
        wrongly_exited=_sum_if(kind == "wrongly_exited", ss.people),
        sampled_nonregistered=_sum_if(kind.isin(["missed", "non_registered"]), ss.people),
        missed=_sum_if(kind == "missed", ss.people),
        surveyed_households=_sum_if(ss.approves.notnull(), 1),
        approving_households=_sum_if(ss.approves.fill_null(False), 1),
    )
    w = (counties.left_join(remaining, counties.c_code == remaining.remaining_code)
         .left_join(exited, counties.c_code == exited.exited_code)
         .left_join(village_pop, counties.c_code == village_pop.village_pop_code)
         .left_join(cp, counties.c_code == cp.cp_code)
         .left_join(inc, counties.c_code == inc.inc_code)
         .left_join(samples, counties.c_code == samples.s_code))
    R = w.remaining.fill_null(0).cast("int64")
    EX = w.exited.fill_null(0).cast("int64")
    P = w.county_rural.cast("int64").coalesce(w.village_pop.cast("int64"))
    nr = P - R - EX
    NR = ibis.ifelse(nr < 0, 0, nr).cast("int64")
    Es, W = w.sampled_exited.fill_null(0), w.wrongly_exited.fill_null(0)
    N, M = w.sampled_nonregistered.fill_null(0), w.missed.fill_null(0)
    S, A = w.surveyed_households.fill_null(0), w.approving_households.fill_null(0)
    has_pop = P.notnull() & (P > 0)
    has_samples = w.s_code.notnull()

    incidence_ok = ibis.cases((~has_pop, _null("boolean")), else_=R * 10000 < P * _lit(p.incidence_max_bp))
    if p.income_path_fen is None:
        income_ok = _null("boolean")
        income_applies = ibis.literal(False)
    else:
        income = w.rural_income_fen
        path = _lit(p.income_path_fen)
        income_ok = ibis.cases((income.isnull(), _null("boolean")),
                               else_=(income > path) if p.income_strict else (income >= path))
        income_applies = ibis.literal(True)
    wrong_ok = ibis.cases((Es > 0, W * 10000 < Es * _lit(p.wrong_exit_max_bp)), else_=_null("boolean"))
    missed_ok = ibis.cases((N > 0, M * 10000 < N * _lit(p.missed_max_bp)), else_=_null("boolean"))
    comp_num = R * N * Es + M * NR * Es + W * EX * N
    comp_den = P * N * Es
    computable = has_pop & (N > 0) & (Es > 0)
    comp_ok = ibis.cases((computable, comp_num * 10000 < comp_den * _lit(p.comprehensive_max_bp)),
                         else_=_null("boolean"))
    comp_people = ibis.cases((computable, R + (M * NR) // N + (W * EX) // Es), else_=_null("int64"))
    approval_ok = ibis.cases((S > 0, A * 10000 >= S * _lit(p.approval_min_bp)), else_=_null("boolean"))

    counted = [incidence_ok, wrong_ok, missed_ok, comp_ok, approval_ok]
    any_false = ibis.or_(*[~c.fill_null(True) for c in counted], income_applies & ~income_ok.fill_null(True))
    any_null = ibis.or_(*[c.isnull() for c in counted], income_applies & income_ok.isnull())
    verdict = ibis.cases(
        (~has_pop | ~has_samples, UNASSESSABLE), (any_false, NOT_MET), (any_null, UNASSESSABLE), else_=MET,
    )
    wide = w.select(
        area_code=w.c_code,
        year=_lit(year),
        remaining_poor=R,
        exited_people=EX,
        rural_population=P,
        nonregistered_population=ibis.ifelse(has_pop, NR, _null("int64")).cast("int64"),
        incidence_max_bp=_lit(p.incidence_max_bp),
        rural_income_fen=w.rural_income_fen.cast("int64"),
        income_path_fen=_lit(p.income_path_fen) if p.income_path_fen is not None else _null("int64"),
        sampled_exited=Es.cast("int64"),
        wrongly_exited=W.cast("int64"),
        sampled_nonregistered=N.cast("int64"),
        missed=M.cast("int64"),
        surveyed_households=S.cast("int64"),
        approving_households=A.cast("int64"),
        comprehensive_people=comp_people.cast("int64"),
        wrong_exit_max_bp=_lit(p.wrong_exit_max_bp),
        missed_max_bp=_lit(p.missed_max_bp),
        comprehensive_max_bp=_lit(p.comprehensive_max_bp),
        approval_min_bp=_lit(p.approval_min_bp),
        incidence_below=incidence_ok,
        rural_income_ok=income_ok,
        wrong_exit_ok=wrong_ok,
        missed_ok=missed_ok,
        comprehensive_ok=comp_ok,
        approval_ok=approval_ok,
        verdict=verdict,
        has_pop=has_pop,
        has_samples=has_samples,
    )
    results = wide.drop("has_pop", "has_samples")

    reason = partial(area_reason, wide)

    c = wide
    parts = [
        reason(~c.has_pop, "NO_POPULATION", amount=year),
        reason(~c.has_samples, "NO_EVALUATION", amount=year),
        reason(~c.incidence_below.fill_null(True), "INCIDENCE_NOT_BELOW", numerator="remaining_poor",
               denominator="rural_population", threshold="incidence_max_bp", detail="county"),
        reason(~c.wrong_exit_ok.fill_null(True), "WRONG_EXIT_RATE_NOT_BELOW", numerator="wrongly_exited",
               denominator="sampled_exited", threshold="wrong_exit_max_bp"),
        reason(~c.missed_ok.fill_null(True), "MISSED_RATE_NOT_BELOW", numerator="missed",
               denominator="sampled_nonregistered", threshold="missed_max_bp"),
        reason(~c.comprehensive_ok.fill_null(True), "COMPREHENSIVE_INCIDENCE_NOT_BELOW",
               numerator="comprehensive_people", denominator="rural_population", threshold="comprehensive_max_bp"),
        reason(~c.approval_ok.fill_null(True), "APPROVAL_BELOW", numerator="approving_households",
               denominator="surveyed_households", threshold="approval_min_bp"),
        reason(c.has_samples & (c.sampled_exited == 0), "EVALUATION_INCOMPLETE", detail="exited"),
        reason(c.has_samples & (c.sampled_nonregistered == 0), "EVALUATION_INCOMPLETE", detail="non_registered"),
        reason(c.has_samples & (c.surveyed_households == 0), "EVALUATION_INCOMPLETE", detail="approval"),
    ]
    if p.income_path_fen is not None:
        parts += [
            reason(~c.rural_income_ok.fill_null(True), "RURAL_INCOME_BELOW", amount="rural_income_fen",
                   threshold="income_path_fen", detail="greater_than" if p.income_strict else "at_least"),
            reason(c.rural_income_fen.isnull(), "RURAL_INCOME_UNKNOWN", amount=year),
        ]
    reasons = ibis.union(*parts, distinct=False)
    return results, reasons
