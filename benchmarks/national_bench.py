"""Benchmark: the household exit rule over a synthetic national registry (全国建档立卡规模), with references.

    .venv/bin/pip install -e '.[bench]'        # Polars, for the reference figure
    .venv/bin/python benchmarks/national_bench.py [--households 30000000] [--dir /tmp/xiaokang-national]
        [--year 2020] [--orm-households 100000] [--threads 2] [--memory-limit 8GB] [--skip ORM,polars]

Steps (each in its own child process, so each peak RSS is its own):

1. generate   30 M households, ~100 M members and one income row per household as Parquet
              (``registry_household`` / ``registry_member`` / ``registry_income``, the rule's schema),
              in chunks of 1 M households from a fixed seed (kept in --dir and reused while the size
              and seed match).
2. facts      the product's pre-grouped household-year facts (``household_year_facts``: members counted
              on 31 December and the member-level counts, grouped once per household and year; the
              snapshot's ``policy_household_year``), computed on DuckDB from the raw files.
3. product    the product's engine: ``assess_pregrouped`` (the same criteria and verdict as the
              database rule) compiled by Ibis and run on DuckDB over the facts, results written to
              Parquet, then the village and county roll-ups (poor households and people by area).
4. duckdb     reference: one plain DuckDB SQL query joining the raw member table to the households,
              the same rule written by hand, results to Parquet.
5. polars     reference: the same with a Polars lazy query (``sink_parquet``).
6. orm        reference: the usual registry-software approach — a Python loop over Django ORM objects,
              one household at a time (its members and income read per household), on the demo
              registry in a temporary SQLite database, for --orm-households households.

Then the three result files are compared household by household (the verdicts must be identical) and
the ratios printed. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 20201231
CHUNK = 1_000_000
# Synthetic provinces (two-digit GB/T 2260 prefixes of the 22 provinces of the 2016 exit plan).
PROVINCES = ("13", "14", "15", "22", "23", "34", "36", "41", "42", "43", "45", "46", "50", "51", "52", "53",
             "54", "61", "62", "63", "64", "65")


def child(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; its last stdout line is JSON; add its peak RSS (MB)."""
    wrapped = code + "\nimport json as _j, resource as _r\nprint(_j.dumps({**RESULT, 'peak_rss_mb': " \
                     "_r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    out = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, cwd=ROOT,
                         env=env or dict(os.environ))
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-5000:])
        raise SystemExit(f"step failed ({out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- 1. generation ------------------------------------------------------------------------------------

GENERATE = r'''
import json, time, numpy as np, pyarrow as pa, pyarrow.compute, pyarrow.parquet as pq
from pathlib import Path
N, CHUNK, SEED, OUT, YEAR = {n}, {chunk}, {seed}, Path({out!r}), {year}
PROVINCES = {provinces!r}
t0 = time.perf_counter()
rng = np.random.default_rng(SEED)
# ~100,000 villages: 12-digit codes province(2) county(4) town(3) village(3)
villages = []
for p in PROVINCES:
    for c in range(1, 46):
        for t in range(1, 11):
            for v in range(1, 11):
                villages.append(f"{{p}}{{c:04d}}{{100 + t:03d}}{{200 + v:03d}}")
villages = pa.array(sorted(villages))
STATUS = pa.array(["00", "10", "20", "30", "40", "50"])
GRADES = pa.array(["A", "B", "C", "D"])
TYPES = pa.array(["1", "2", "6", "7"])
CAUSES = pa.array([f"{{i:02d}}" for i in range(1, 12)])
POVERTY = pa.array(["poor", "exited", "returned"])
REASONS = pa.array(["1", "2", "3", "4"])
EPOCH_2020 = 18262  # 2020-01-01 as days since 1970-01-01

def dict_col(indices, dictionary, null_mask=None):
    idx = pa.array(indices.astype(np.int32), mask=null_mask)
    return pa.DictionaryArray.from_arrays(idx, dictionary)

def maybe(values, p_null, dtype=None):
    mask = rng.random(len(values)) < p_null
    return pa.array(values if dtype is None else values.astype(dtype), mask=mask)

writers = {{}}
def write(name, table):
    if name not in writers:
        writers[name] = pq.ParquetWriter(OUT / f"{{name}}.parquet.tmp", table.schema)
    writers[name].write_table(table)

hh_total = mem_total = 0
member_id = 0
for start in range(0, N, CHUNK):
    n = min(CHUNK, N - start)
    ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
    ident = rng.integers(2014, 2020, n)
    exit_year = ident + rng.integers(0, 4, n)
    renovated = np.where(rng.random(n) < 0.15, rng.integers(2014, 2022, n), 0)
    hh = pa.table({{
        "id": ids,
        "household_number": pa.compute.cast(pa.array(ids), pa.string()),
        "area_code": dict_col(rng.integers(0, len(villages), n), villages),
        "household_type": dict_col(rng.choice(4, n, p=[0.80, 0.14, 0.05, 0.01]), TYPES),
        "main_cause": dict_col(rng.integers(0, 11, n), CAUSES),
        "identified_year": ident.astype(np.int64),
        "poverty_status": dict_col(rng.choice(3, n, p=[0.02, 0.97, 0.01]), POVERTY),
        "exit_year": maybe(exit_year, 0.03, np.int64),
        "housing_grade": dict_col(rng.choice(4, n, p=[0.55, 0.43, 0.015, 0.005]), GRADES, rng.random(n) < 0.002),
        "housing_renovated_year": pa.array(renovated.astype(np.int64), mask=renovated == 0),
        "water_scarce_area": rng.random(n) < 0.08,
        "water_quantity_lpd": maybe(rng.integers(33, 120, n), 0.002, np.int64),
        "water_quality_ok": maybe(rng.random(n) < 0.995, 0.002),
        "water_piped": maybe(rng.random(n) < 0.85, 0.002),
        "water_fetch_minutes": maybe(rng.integers(1, 40, n), 0.5, np.int64),
        "water_fetch_distance_m": maybe(rng.integers(10, 1500, n), 0.5, np.int64),
        "water_fetch_vertical_m": maybe(rng.integers(0, 120, n), 0.5, np.int64),
        "water_outage_days": maybe(rng.integers(0, 38, n) // 2, 0.002, np.int64),
        "food_secure": maybe(rng.random(n) < 0.998, 0.001),
        "clothing_secure": maybe(rng.random(n) < 0.998, 0.001),
    }})
    write("registry_household", hh)

    sizes = rng.choice(np.arange(1, 8), n, p=[0.12, 0.20, 0.22, 0.24, 0.14, 0.06, 0.02])
    m = int(sizes.sum())
    hid = np.repeat(ids, sizes)
    mids = np.arange(member_id + 1, member_id + m + 1, dtype=np.int64)
    member_id += m
    birth = rng.integers(-12784, EPOCH_2020 + 300, m)  # 1935-01-01 .. late 2020
    age = (EPOCH_2020 + 365 - birth) // 365
    school_age = (age >= 6) & (age <= 18)
    status_idx = np.where(school_age, np.where(rng.random(m) < 0.995, np.where(age <= 12, 2, 3), 0),
                          np.where(age < 6, 1, np.where((age < 23) & (rng.random(m) < 0.3), 4, 0)))
    status_null = rng.random(m) < 0.002
    reason_null = ~((status_idx == 0) & school_age) | (rng.random(m) < 0.5)
    entered = rng.random(m) < 0.04
    left = rng.random(m) < 0.02
    mem = pa.table({{
        "id": mids,
        "household_id": hid,
        "birth_date": pa.array(birth.astype(np.int32), type=pa.int32()).cast(pa.date32()),
        "schooling_status": dict_col(status_idx, STATUS, status_null),
        "not_attending_reason": dict_col(rng.integers(0, 4, m), REASONS, reason_null),
        "basic_medical_insurance": maybe(rng.random(m) < 0.998, 0.001),
        "serious_illness_insurance": maybe(rng.random(m) < 0.998, 0.001),
        "entered_on": pa.array((birth + rng.integers(0, 20000, m)).astype(np.int32), type=pa.int32(),
                               mask=~entered).cast(pa.date32()),
        "left_on": pa.array(rng.integers(16000, EPOCH_2020 + 365, m).astype(np.int32), type=pa.int32(),
                            mask=~left).cast(pa.date32()),
    }})
    write("registry_member", mem)

    has = rng.random(n) < 0.995
    k = int(has.sum())
    people = sizes[has]
    per_capita = rng.lognormal(np.log(9000), 0.45, k)  # 元/人·年
    total = (per_capita * people * 100).astype(np.int64)
    wage = (total * rng.uniform(0.4, 0.8, k)).astype(np.int64)
    business = (total * 0.15).astype(np.int64)
    expenses = (business * rng.uniform(0.1, 0.5, k)).astype(np.int64)
    zero = np.zeros(k, dtype=np.int64)
    inc = pa.table({{
        "id": ids[has], "household_id": ids[has], "year": np.full(k, YEAR, dtype=np.int64),
        "wage_fen": wage, "business_income_fen": business, "business_expenses_fen": expenses,
        "property_income_fen": (total * 0.03).astype(np.int64), "family_planning_fen": zero,
        "dibao_fen": np.where(rng.random(k) < 0.1, 300000, 0).astype(np.int64), "tekun_fen": zero,
        "pension_fen": np.maximum(total - wage - business - (total * 0.03).astype(np.int64) + expenses, 0),
        "ecological_fen": zero, "other_transfer_fen": zero,
    }})
    write("registry_income", inc)
    hh_total += n
    mem_total += m
for name, w in writers.items():
    w.close()
    (OUT / f"{{name}}.parquet.tmp").replace(OUT / f"{{name}}.parquet")
RESULT = {{"households": hh_total, "members": mem_total, "seconds": time.perf_counter() - t0}}
'''

# --- 2./3. the product's engine ----------------------------------------------------------------------

PRODUCT_SETUP = r'''
import time, duckdb, ibis
from pathlib import Path
from xiaokang.policy import engine
from xiaokang.policy.params import file_parameters
from xiaokang.policy.rules.household import (FACTS_SCHEMA, FACTS_TABLE, HouseholdRuleParams, assess_pregrouped,
                                             household_year_facts)
from xiaokang.policy.schema import unbound_tables
D = Path({dir!r})
p = HouseholdRuleParams.resolve(file_parameters(), {year}, "43")
con = duckdb.connect(":memory:")
con.execute("SET threads = {threads}")
con.execute("SET memory_limit = '{memory_limit}'")
con.execute("SET preserve_insertion_order = false")
def view(name, file):
    con.execute(f"CREATE OR REPLACE VIEW {{name}} AS SELECT * FROM read_parquet('{{D / file}}')")
'''

FACTS = PRODUCT_SETUP + r'''
for name in ("registry_household", "registry_member", "registry_income"):
    view(name, name + ".parquet")
t0 = time.perf_counter()
sql = engine.to_sql(household_year_facts(unbound_tables(), p), "duckdb")
con.execute(f"COPY ({{sql}}) TO '{{D / (FACTS_TABLE + '.parquet')}}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
RESULT = {{"seconds": time.perf_counter() - t0,
          "rows": con.execute(f"SELECT count(*) FROM read_parquet('{{D / (FACTS_TABLE + '.parquet')}}')").fetchone()[0]}}
'''

PRODUCT = PRODUCT_SETUP + r'''
view(FACTS_TABLE, FACTS_TABLE + ".parquet")
t0 = time.perf_counter()
results = assess_pregrouped(ibis.table(FACTS_SCHEMA, name=FACTS_TABLE), p)
# The run-level constants (year, income standard and its key) are the same for every row: not repeated.
results = results.drop("year", "income_standard_fen", "standard_key")
sql = engine.to_sql(results, "duckdb")
con.execute(f"COPY ({{sql}}) TO '{{D / 'results_product.parquet'}}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
t_assess = time.perf_counter() - t0
view("results", "results_product.parquet")
# Roll-ups (汇总): households and people not meeting the standard, by village and by county.
villages = con.execute("""
    SELECT area_code, count(*) AS households, sum(member_count) AS people,
           sum(CASE WHEN verdict <> 'met' THEN 1 ELSE 0 END) AS not_met_households,
           sum(CASE WHEN verdict <> 'met' THEN member_count ELSE 0 END) AS not_met_people
    FROM results GROUP BY area_code""").to_arrow_table()
counties = con.execute("""
    SELECT substr(area_code, 1, 6) AS county, count(*) AS households, sum(member_count) AS people,
           sum(CASE WHEN verdict <> 'met' THEN 1 ELSE 0 END) AS not_met_households
    FROM results GROUP BY 1""").to_arrow_table()
verdicts = dict(con.execute("SELECT verdict, count(*) FROM results GROUP BY 1").fetchall())
RESULT = {{"seconds": time.perf_counter() - t0, "assess_seconds": t_assess, "households": sum(verdicts.values()),
          "verdicts": verdicts, "villages": villages.num_rows, "counties": counties.num_rows}}
'''

# --- 4. reference: plain DuckDB SQL over the raw members ----------------------------------------------

PLAIN_DUCKDB = PRODUCT_SETUP + r'''
for name in ("registry_household", "registry_member", "registry_income"):
    view(name, name + ".parquet")
Y = p.year
ref = f"DATE '{{Y}}-12-31'"
exempt = ", ".join(f"'{{r}}'" for r in p.exempt_reasons)
grades = ", ".join(f"'{{g}}'" for g in p.safe_grades)
net = " + ".join(["wage_fen", "business_income_fen", "property_income_fen", *p.counted_transfers]) + " - business_expenses_fen"
cmp = ">" if p.income_comparison == "greater_than" else ">="
serious_no = "(serious_illness_insurance = false)" if p.require_serious_illness else "false"
serious_unknown = "OR serious_illness_insurance IS NULL" if p.require_serious_illness else ""
sql = f"""
WITH m AS (
  SELECT household_id, count(*) AS n,
    sum(CASE WHEN age BETWEEN {{p.age_min}} AND {{p.age_max}} AND schooling_status = '00'
             AND coalesce(not_attending_reason, '') NOT IN ({{exempt}}) THEN 1 ELSE 0 END) AS n_dropout,
    sum(CASE WHEN age BETWEEN {{p.age_min}} AND {{p.age_max}} AND coalesce(schooling_status, '') = '' THEN 1 ELSE 0 END) AS n_school_unknown,
    sum(CASE WHEN basic_medical_insurance = false OR {{serious_no}} THEN 1 ELSE 0 END) AS n_uninsured,
    sum(CASE WHEN basic_medical_insurance IS NULL {{serious_unknown}} THEN 1 ELSE 0 END) AS n_med_unknown
  FROM (SELECT *, {{Y}} - year(birth_date) AS age FROM registry_member
        WHERE birth_date <= {{ref}} AND (entered_on IS NULL OR entered_on <= {{ref}}) AND (left_on IS NULL OR left_on > {{ref}}))
  GROUP BY household_id),
i AS (SELECT household_id, {{net}} AS net FROM registry_income WHERE year = {{Y}}),
w AS (
  SELECT h.*, coalesce(m.n, 0) AS n, m.n_dropout, m.n_school_unknown, m.n_uninsured, m.n_med_unknown,
         i.net, i.household_id IS NOT NULL AS has_income,
         CASE WHEN coalesce(h.water_scarce_area, false) THEN {{p.water_quantity_min_scarce}} ELSE {{p.water_quantity_min}} END AS qmin
  FROM registry_household h LEFT JOIN m ON m.household_id = h.id LEFT JOIN i ON i.household_id = h.id
  WHERE h.identified_year <= {{Y}}),
c AS (
  SELECT id, area_code, n,
    CASE WHEN n > 0 AND has_income THEN net {{cmp}} {{p.standard_fen}} * n END AS income_ok,
    CASE WHEN food_secure = false OR clothing_secure = false THEN false
         WHEN food_secure IS NULL OR clothing_secure IS NULL THEN NULL ELSE true END AS food_ok,
    CASE WHEN coalesce(n_dropout, 0) > 0 THEN false WHEN coalesce(n_school_unknown, 0) > 0 THEN NULL ELSE true END AS edu_ok,
    CASE WHEN coalesce(n_uninsured, 0) > 0 THEN false WHEN coalesce(n_med_unknown, 0) > 0 THEN NULL ELSE true END AS med_ok,
    CASE WHEN housing_renovated_year IS NOT NULL THEN housing_renovated_year <= {{Y}}
         WHEN coalesce(housing_grade, '') IN ({{grades}}) THEN true
         WHEN coalesce(housing_grade, '') = '' THEN NULL ELSE false END AS housing_ok,
    (CASE WHEN water_quantity_lpd IS NULL THEN NULL ELSE water_quantity_lpd >= qmin END) AS q_ok,
    water_quality_ok AS ql_ok,
    CASE WHEN coalesce(water_piped, false) OR coalesce(water_fetch_minutes, 1000000) <= {{p.water_minutes_max}}
              OR coalesce(water_fetch_distance_m, 1000000000) <= {{p.water_distance_max}}
              OR coalesce(water_fetch_vertical_m, 1000000000) <= {{p.water_vertical_max}} THEN true
         WHEN water_fetch_minutes IS NULL AND water_fetch_distance_m IS NULL AND water_fetch_vertical_m IS NULL THEN NULL
         ELSE false END AS conv_ok,
    CASE WHEN water_outage_days IS NULL THEN NULL ELSE water_outage_days <= {{p.water_outage_max}} END AS g_ok,
    n > 0 AND has_income AS computable
  FROM w),
v AS (
  SELECT *, CASE WHEN q_ok = false OR ql_ok = false OR conv_ok = false OR g_ok = false THEN false
                 WHEN q_ok IS NULL OR ql_ok IS NULL OR conv_ok IS NULL OR g_ok IS NULL THEN NULL ELSE true END AS water_ok
  FROM c)
SELECT id AS household_id, area_code, n AS member_count,
  CASE WHEN NOT computable THEN 'unassessable'
       WHEN income_ok = false OR food_ok = false OR edu_ok = false OR med_ok = false OR housing_ok = false OR water_ok = false THEN 'not_met'
       WHEN income_ok IS NULL OR food_ok IS NULL OR edu_ok IS NULL OR med_ok IS NULL OR housing_ok IS NULL OR water_ok IS NULL THEN 'unassessable'
       ELSE 'met' END AS verdict
FROM v"""
t0 = time.perf_counter()
con.execute(f"COPY ({{sql}}) TO '{{D / 'results_duckdb.parquet'}}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
RESULT = {{"seconds": time.perf_counter() - t0}}
'''

# --- 5. reference: Polars lazy ------------------------------------------------------------------------

POLARS = PRODUCT_SETUP.replace("import time, duckdb, ibis", "import time, duckdb, ibis, datetime as dt, polars as pl") + r'''
Y = p.year
ref = dt.date(Y, 12, 31)
t0 = time.perf_counter()
h = pl.scan_parquet(D / "registry_household.parquet").filter(pl.col("identified_year") <= Y)
m = pl.scan_parquet(D / "registry_member.parquet").filter(
    (pl.col("birth_date") <= ref) & (pl.col("entered_on").is_null() | (pl.col("entered_on") <= ref))
    & (pl.col("left_on").is_null() | (pl.col("left_on") > ref)))
age = pl.lit(Y) - pl.col("birth_date").dt.year()
compulsory = age.is_between(p.age_min, p.age_max)
status = pl.col("schooling_status").cast(pl.String).fill_null("")
reason = pl.col("not_attending_reason").cast(pl.String).fill_null("")
basic, serious = pl.col("basic_medical_insurance"), pl.col("serious_illness_insurance")
no_serious = (serious == False) if p.require_serious_illness else pl.lit(False)  # noqa: E712
serious_unknown = serious.is_null() if p.require_serious_illness else pl.lit(False)
agg = m.group_by("household_id").agg(
    pl.len().alias("n"),
    (compulsory & (status == "00") & ~reason.is_in(list(p.exempt_reasons))).sum().alias("n_dropout"),
    (compulsory & (status == "")).sum().alias("n_school_unknown"),
    ((basic == False) | no_serious).fill_null(False).sum().alias("n_uninsured"),  # noqa: E712
    (basic.is_null() | serious_unknown).sum().alias("n_med_unknown"),
)
inc = pl.scan_parquet(D / "registry_income.parquet").filter(pl.col("year") == Y).select(
    pl.col("household_id"),
    (sum(pl.col(c) for c in ("wage_fen", "business_income_fen", "property_income_fen", *p.counted_transfers))
     - pl.col("business_expenses_fen")).alias("net"), pl.lit(True).alias("has_income"))
w = h.join(agg, left_on="id", right_on="household_id", how="left").join(
    inc, left_on="id", right_on="household_id", how="left")

def all3(*cs):
    any_false = pl.any_horizontal(*[c.fill_null(True).not_() for c in cs])
    any_null = pl.any_horizontal(*[c.is_null() for c in cs])
    return pl.when(any_false).then(False).when(any_null).then(None).otherwise(True)

n = pl.col("n").fill_null(0)
computable = (n > 0) & pl.col("has_income").fill_null(False)
income_ok = pl.when(~computable).then(None).otherwise(
    pl.col("net") > p.standard_fen * n if p.income_comparison == "greater_than" else pl.col("net") >= p.standard_fen * n)
food_ok = all3(pl.col("food_secure"), pl.col("clothing_secure"))
edu_ok = pl.when(pl.col("n_dropout").fill_null(0) > 0).then(False).when(
    pl.col("n_school_unknown").fill_null(0) > 0).then(None).otherwise(True)
med_ok = pl.when(pl.col("n_uninsured").fill_null(0) > 0).then(False).when(
    pl.col("n_med_unknown").fill_null(0) > 0).then(None).otherwise(True)
ren, grade = pl.col("housing_renovated_year"), pl.col("housing_grade").cast(pl.String).fill_null("")
housing_ok = pl.when(ren.is_not_null()).then(ren <= Y).when(grade.is_in(list(p.safe_grades))).then(True).when(
    grade == "").then(None).otherwise(False)
qmin = pl.when(pl.col("water_scarce_area").fill_null(False)).then(p.water_quantity_min_scarce).otherwise(p.water_quantity_min)
q_ok = pl.when(pl.col("water_quantity_lpd").is_null()).then(None).otherwise(pl.col("water_quantity_lpd") >= qmin)
near = ((pl.col("water_fetch_minutes").fill_null(10**6) <= p.water_minutes_max)
        | (pl.col("water_fetch_distance_m").fill_null(10**9) <= p.water_distance_max)
        | (pl.col("water_fetch_vertical_m").fill_null(10**9) <= p.water_vertical_max))
measured = (pl.col("water_fetch_minutes").is_not_null() | pl.col("water_fetch_distance_m").is_not_null()
            | pl.col("water_fetch_vertical_m").is_not_null())
conv_ok = pl.when(pl.col("water_piped").fill_null(False) | near).then(True).when(~measured).then(None).otherwise(False)
g_ok = pl.when(pl.col("water_outage_days").is_null()).then(None).otherwise(pl.col("water_outage_days") <= p.water_outage_max)
water_ok = all3(q_ok, pl.col("water_quality_ok"), conv_ok, g_ok)
crit = [income_ok, food_ok, edu_ok, med_ok, housing_ok, water_ok]
any_false = pl.any_horizontal(*[c.fill_null(True).not_() for c in crit])
any_null = pl.any_horizontal(*[c.is_null() for c in crit])
verdict = pl.when(~computable).then(pl.lit("unassessable")).when(any_false).then(pl.lit("not_met")).when(
    any_null).then(pl.lit("unassessable")).otherwise(pl.lit("met"))
w.select(pl.col("id").alias("household_id"), pl.col("area_code").cast(pl.String), n.alias("member_count"),
         verdict.alias("verdict")).sink_parquet(D / "results_polars.parquet")
RESULT = {{"seconds": time.perf_counter() - t0}}
'''

# --- 6. reference: a per-household loop over ORM objects ----------------------------------------------

ORM_PREPARE = r'''
import django, time
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from xiaokang.demo.loader import load_demo
t0 = time.perf_counter()
load_demo(scale={scale})
RESULT = {{"seconds": time.perf_counter() - t0}}
'''

ORM_LOOP = r'''
import django, datetime as dt, time
django.setup()
from xiaokang.policy.params import file_parameters
from xiaokang.policy.rules.household import HouseholdRuleParams
from xiaokang.registry.models import Household, Income
p = HouseholdRuleParams.resolve(file_parameters(), {year}, "43")
Y, ref = p.year, dt.date({year}, 12, 31)

def tri_all(values):
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True

def assess(h):
    """The usual approach: one household at a time, its members and income read through the ORM."""
    members = [m for m in h.members.all()
               if m.birth_date <= ref and (m.entered_on is None or m.entered_on <= ref) and (m.left_on is None or m.left_on > ref)]
    try:
        inc = Income.objects.get(household=h, year=Y)
    except Income.DoesNotExist:
        inc = None
    n = len(members)
    if n == 0 or inc is None:
        return "unassessable"
    net = int(inc.wage * 100) + int(inc.business_income * 100) + int(inc.property_income * 100) \
        + sum(int(getattr(inc, t[:-4]) * 100) for t in p.counted_transfers) - int(inc.business_expenses * 100)
    income_ok = net > p.standard_fen * n if p.income_comparison == "greater_than" else net >= p.standard_fen * n
    food_ok = tri_all([h.food_secure, h.clothing_secure])
    edu = True
    med = True
    for m in members:
        age = Y - m.birth_date.year
        if p.age_min <= age <= p.age_max:
            if m.schooling_status == "00" and (m.not_attending_reason or "") not in p.exempt_reasons:
                edu = False
            elif not m.schooling_status and edu is not False:
                edu = None
        if m.basic_medical_insurance is False or (p.require_serious_illness and m.serious_illness_insurance is False):
            med = False
        elif (m.basic_medical_insurance is None or (p.require_serious_illness and m.serious_illness_insurance is None)) and med is not False:
            med = None
    if h.housing_renovated_year is not None:
        housing = h.housing_renovated_year <= Y
    elif h.housing_grade in p.safe_grades:
        housing = True
    else:
        housing = None if not h.housing_grade else False
    qmin = p.water_quantity_min_scarce if h.water_scarce_area else p.water_quantity_min
    q = None if h.water_quantity_lpd is None else h.water_quantity_lpd >= qmin
    near = any(v is not None and v <= lim for v, lim in ((h.water_fetch_minutes, p.water_minutes_max),
               (h.water_fetch_distance_m, p.water_distance_max), (h.water_fetch_vertical_m, p.water_vertical_max)))
    measured = any(v is not None for v in (h.water_fetch_minutes, h.water_fetch_distance_m, h.water_fetch_vertical_m))
    conv = True if (h.water_piped or near) else (None if not measured else False)
    g = None if h.water_outage_days is None else h.water_outage_days <= p.water_outage_max
    water = tri_all([q, h.water_quality_ok, conv, g])
    v = tri_all([income_ok, food_ok, edu, med, housing, water])
    return "met" if v else ("not_met" if v is False else "unassessable")

ids = list(Household.objects.filter(identified_year__lte=Y).order_by("id").values_list("id", flat=True)[:{limit}])
t0 = time.perf_counter()
verdicts = {{}}
for hid in ids:
    h = Household.objects.get(pk=hid)
    v = assess(h)
    verdicts[v] = verdicts.get(v, 0) + 1
RESULT = {{"seconds": time.perf_counter() - t0, "households": len(ids), "verdicts": verdicts}}
'''

COMPARE = r'''
import duckdb
from pathlib import Path
D = Path({dir!r})
con = duckdb.connect()
con.execute("SET threads = {threads}")
out = {{}}
for other in {others!r}:
    out[other] = con.execute(f"""
        SELECT count(*) FROM read_parquet('{{D / 'results_product.parquet'}}') a
        FULL JOIN read_parquet('{{D / ('results_' + other + '.parquet')}}') b ON a.household_id = b.household_id
        WHERE a.household_id IS NULL OR b.household_id IS NULL OR a.verdict <> b.verdict
           OR a.member_count <> b.member_count""").fetchone()[0]
RESULT = {{"differences": out}}
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=30_000_000)
    ap.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "xiaokang-national"))
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--orm-households", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--memory-limit", default="8GB")
    ap.add_argument("--skip", default="", help="comma-separated steps to skip: duckdb,polars,orm")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    fmt = dict(dir=str(d), year=args.year, threads=args.threads, memory_limit=args.memory_limit)
    print(f"machine: {os.cpu_count()} CPUs; DuckDB threads {args.threads}, memory limit {args.memory_limit}; "
          f"year {args.year}; data in {d}", flush=True)

    meta_path = d / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    want = {"households": args.households, "seed": SEED, "year": args.year, "generator": 2}
    if {k: meta.get(k) for k in want} != want or not (d / "registry_member.parquet").exists():
        g = child(GENERATE.format(n=args.households, chunk=CHUNK, seed=SEED, out=str(d), year=args.year,
                                  provinces=PROVINCES))
        meta = {**want, "members": g["members"]}
        meta_path.write_text(json.dumps(meta))
        print(f"generate: {g['households']:,} households, {g['members']:,} members in {g['seconds']:.1f} s "
              f"(peak RSS {g['peak_rss_mb']:,.0f} MB)", flush=True)
    else:
        print(f"generate: reusing {meta['households']:,} households, {meta['members']:,} members", flush=True)
    n = meta["households"]

    f = child(FACTS.format(**fmt))
    print(f"facts (member facts grouped once per household-year, kept in the snapshot): {f['rows']:,} rows "
          f"in {f['seconds']:.1f} s, peak RSS {f['peak_rss_mb']:,.0f} MB", flush=True)
    prod = child(PRODUCT.format(**fmt))
    rate = prod["households"] / prod["seconds"]
    print(f"product engine (assess_pregrouped on DuckDB, results to Parquet + village/county roll-ups): "
          f"{prod['households']:,} households in {prod['seconds']:.2f} s (assessment {prod['assess_seconds']:.2f} s) "
          f"= {rate:,.0f} households/s, peak RSS {prod['peak_rss_mb']:,.0f} MB; {prod['villages']:,} villages, "
          f"{prod['counties']:,} counties; verdicts {prod['verdicts']}", flush=True)

    refs = {}
    if "duckdb" not in skip:
        r = child(PLAIN_DUCKDB.format(**fmt))
        refs["duckdb"] = r
        print(f"reference 1, plain DuckDB SQL over the raw members: {r['seconds']:.2f} s "
              f"= {n / r['seconds']:,.0f} households/s, peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
    if "polars" not in skip:
        r = child(POLARS.format(**fmt))
        refs["polars"] = r
        print(f"reference 2, Polars lazy over the raw members: {r['seconds']:.2f} s "
              f"= {n / r['seconds']:,.0f} households/s, peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
    if refs:
        cmp = child(COMPARE.format(dir=str(d), threads=args.threads, others=sorted(refs)))
        print(f"verdicts differing from the product's, household by household: {cmp['differences']}", flush=True)
    if "orm" not in skip:
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, XIAOKANG_HOME=home, DJANGO_SETTINGS_MODULE="xiaokang.settings")
            env.pop("DATABASE_URL", None)
            scale = max(1, -(-args.orm_households // 46_527))
            prep = child(ORM_PREPARE.format(scale=scale), env)
            r = child(ORM_LOOP.format(year=args.year, limit=args.orm_households), env)
        refs["orm"] = r
        print(f"reference 3, per-household loop over Django ORM objects (SQLite, demo registry ×{scale}, loaded in "
              f"{prep['seconds']:.0f} s): {r['households']:,} households in {r['seconds']:.1f} s "
              f"= {r['households'] / r['seconds']:,.0f} households/s; verdicts {r['verdicts']}", flush=True)
    print("ratios (product households/s ÷ reference households/s):")
    for name, r in refs.items():
        other = (r.get("households") or n) / r["seconds"]
        print(f"  vs {name}: {rate / other:,.1f}×")


if __name__ == "__main__":
    main()
