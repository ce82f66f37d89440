"""Benchmark: importing the collection-form layout (导入) at 100,000 and 1,000,000 households.

    .venv/bin/python benchmarks/import_bench.py [--households 100000] [--orm-households 10000] [--year 2019]
        [--no-checks] [--check-runs 1] [--timings] [--error-scale 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiaokang_bench_import .venv/bin/python benchmarks/import_bench.py \
        --households 1000000

What it does, in one run (nothing here is a test; it prints figures):

1. a template database (SQLite file in a temporary folder, or ``<name>_tpl`` on the PostgreSQL server of
   DATABASE_URL): migrations, the Zhuzhou divisions, ``--villages-per-town`` synthetic villages under each of
   the 112 towns, one superuser; every phase below starts from a fresh copy of it (``CREATE DATABASE …
   TEMPLATE``, or a file copy) and drops it afterwards;
2. two synthetic registries from a fixed seed, written in chunks: file A (N households, ~3.3 members
   each, one row per member in the import layout, CSV UTF-8 with BOM) and file B (N *other* households);
   the same records are also written as COPY text files per table (households, members, incomes) for the
   reference loads. People are synthetic (names 姓 + 测 + one character; ID numbers from
   ``make_id_number`` with sequence 900–999, unique across A and B: each (county, birth date, sex) gives
   at most 50 numbers, then the next day is used). The fields the collection form requires are filled the
   way the demo generator fills them (``xiaokang.demo.generator``): 在校生状况 by age, 劳动技能 by age,
   schooling and health, a 帮扶责任人 for every household, the main cause of poverty consistent with the
   members (因病 → someone ill, 因残 → someone disabled, 因学 → someone at school), 特困 only for one-person
   households, business expenses with business income. Then a few deliberate errors at the demo's rate
   (``xiaokang.quality.demo.EVERY``; ``--error-scale`` multiplies it): 帮扶责任人 blank (one household in
   397), 劳动技能 blank (one member in 509), 耕地面积 300 亩 too high (one household in 1,499) — the demo's
   fourth error, 务工时间 13 months, is left out because the import refuses it. About 2 findings per 100
   households, as in the demo (half of them genuine 五保/特困 suspects, Q11);
3. the reference rates on the same records: a row-by-row ORM import of ``--orm-households`` households of
   file A (``full_clean()`` then ``Household.objects.create`` / ``Member.objects.create`` / ``Income`` per row,
   the way generic admin importers work, one transaction); a plain ``COPY`` of A into the live tables (keys,
   foreign keys, indexes in place; ``executemany`` on SQLite); on PostgreSQL, ``COPY`` into bare tables (the
   same tables with every constraint and index dropped) followed by adding them back;
4. (a) ``imports.services`` stage → validate → apply of file A into an empty registry, (b) the same into a
   registry already holding file B (loaded with COPY, not timed), validation included; then (c) the
   data-quality pass (``quality.services.run_checks``) over the populated registry, when that exists
   (``--no-checks`` leaves it out; ``--check-runs N`` runs it N times, the later runs updating the
   findings; ``--timings`` prints each step). The number of findings is printed, by rule.

Each phase runs in a child process; its wall time and peak RSS (``resource.getrusage``) are printed, with
households/s and the ratios against the targets of issue 5 (a ≥ 80 % of bare-COPY-then-constraints;
b ≥ plain COPY into live tables; ≥ 50× the ORM import; peak RSS < 2 GB; data quality ≤ 30 s at 1 M), and for
(a) and (b) the seconds of each step of the import (``batch.timings``, see ``xiaokang.imports.timing``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 20201231
YEAR = 2019
# Household sizes 1–6 with these weights: mean 3.3 members (10·1 + 20·2 + 25·3 + 25·4 + 15·5 + 5·6) / 100.
SIZE_WEIGHTS = [(1, 10), (2, 20), (3, 25), (4, 25), (5, 15), (6, 5)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
BIRTH_MIN, BIRTH_MAX = dt.date(1930, 1, 1), dt.date(2018, 12, 31)


# ------------------------------------------------------------------------------------------- environment


def django_setup(home: str, db_url: str | None) -> None:
    os.environ["XIAOKANG_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "xiaokang.settings"
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def pg_admin(url: str):
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    conn = psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or "postgres",
                           password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    return conn, cfg


def pg_url(url: str, name: str) -> str:
    base, _sep, _old = url.rpartition("/")
    return f"{base}/{name}"


class Databases:
    """Fresh databases for the phases: PostgreSQL ``CREATE DATABASE … TEMPLATE``, or SQLite file copies."""

    def __init__(self, db_url: str | None, work: Path):
        self.url, self.work = db_url, work
        self.pg = bool(db_url)
        if self.pg:
            _conn, cfg = pg_admin(db_url)
            _conn.close()
            self.name = cfg["NAME"]

    def template(self) -> str:
        if self.pg:
            self._drop(f"{self.name}_tpl")
            conn, _ = pg_admin(self.url)
            conn.execute(f'CREATE DATABASE "{self.name}_tpl"')
            conn.close()
            return pg_url(self.url, f"{self.name}_tpl")
        return f"sqlite:///{self.work / 'template.sqlite3'}"

    def fresh(self, phase: str) -> str:
        if self.pg:
            name = f"{self.name}_{phase}"
            self._drop(name)
            conn, _ = pg_admin(self.url)
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}_tpl"')
            conn.close()
            return pg_url(self.url, name)
        path = self.work / f"{phase}.sqlite3"
        shutil.copyfile(self.work / "template.sqlite3", path)
        return f"sqlite:///{path}"

    def drop(self, phase: str) -> None:
        if self.pg:
            self._drop(f"{self.name}_{phase}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.work / phase}.sqlite3{suffix}").unlink(missing_ok=True)

    def drop_template(self) -> None:
        if self.pg:
            self._drop(f"{self.name}_tpl")

    def _drop(self, name: str) -> None:
        conn, _ = pg_admin(self.url)
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def run_child(phase: str, db_url: str, home: str, params: dict) -> dict:
    env = dict(os.environ, XIAOKANG_HOME=home, DJANGO_SETTINGS_MODULE="xiaokang.settings", DATABASE_URL=db_url)
    out = subprocess.run([sys.executable, __file__, "--child", phase, "--params", json.dumps(params)], env=env,
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-5000:] + out.stderr[-20000:])
        raise SystemExit(f"phase {phase} failed ({out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------- generator


class Generator:
    """Synthetic households in the layout (CSV) and as COPY text per table, from one seed."""

    def __init__(self, villages: list[str], seed: int = SEED, error_scale: float = 1.0):
        from django.utils import timezone

        from xiaokang.demo import generator as demo
        from xiaokang.imports import layout as L
        from xiaokang.quality.demo import EVERY
        from xiaokang.registry.models import Household, Income, Member

        self.L = L
        self.cause_weights, self.all_causes, self.in_school = demo.CAUSE_WEIGHTS, demo.ALL_CAUSES, demo.IN_SCHOOL
        self.every, self.error_scale = EVERY, error_scale
        self.villages = villages
        self.rng = random.Random(seed)
        self.id_counters: dict[tuple[str, int, bool], int] = {}
        self.next_member_id = 1
        self.now = timezone.now().isoformat()
        self.tables = {}
        for key, model in (("household", Household), ("member", Member), ("income", Income)):
            self.tables[key] = (model._meta.db_table, [(f.column, f.attname) for f in model._meta.concrete_fields])
        self.labels = {(c.model, c.key): c.labels() for c in L.COLUMNS}
        self.sizes = [s for s, w in SIZE_WEIGHTS for _ in range(w)]
        self.birth_days = (BIRTH_MAX - BIRTH_MIN).days

    # -- one person
    def _id_number(self, county: str, birth: dt.date, male: bool) -> tuple[str, dt.date]:
        from xiaokang.registry.idnumber import make_id_number

        while True:
            key = (county, birth.toordinal(), male)
            n = self.id_counters.get(key, 0)
            if n < 50:
                self.id_counters[key] = n + 1
                return make_id_number(county, birth, 900 + 2 * n + (1 if male else 0)), birth
            birth = birth + dt.timedelta(days=1)
            if birth > BIRTH_MAX:
                birth = BIRTH_MIN

    def _birth(self, year_lo: int, year_hi: int) -> dt.date:
        lo = max(dt.date(year_lo, 1, 1), BIRTH_MIN)
        hi = max(min(dt.date(year_hi, 12, 31), BIRTH_MAX), lo)
        return lo + dt.timedelta(days=self.rng.randrange((hi - lo).days + 1))

    def _school(self, age: int) -> tuple[str, str]:
        """(在校生状况, 文化程度) by age on 31 December, as the demo generator fills them (``demo.generator._school``):
        pre-school 3–5, in school 6–15, most of 16–22 in upper secondary or higher education; never blank."""
        r = self.rng
        if age < 3:
            return "00", "6"
        if age < 6:
            return "10", "6"
        if age <= 11:
            return "20", "2"
        if age <= 14:
            return "30", "3"
        if age <= 17:
            return ("50", "4") if r.random() < 0.3 else ("40", "4")
        if age <= 21 and r.random() < 0.4:
            return ("60", "5") if r.random() < 0.4 else ("70", "5")
        return "00", r.choice("12233344")

    def _labour(self, p: dict, age: int) -> None:
        """劳动技能, 务工时间 and 务工所在地 as the demo generator fills them (``demo.generator._labour``)."""
        r = self.rng
        p["labour_capacity"], p["work_months"], p["work_place"] = "4", None, ""
        if age < 16 or p["schooling_status"] in self.in_school:
            return
        if p["health_status"] == "3" or (p["health_status"] == "4" and p["disability_grade"] in ("1", "2")):
            p["labour_capacity"] = "3"
        elif age <= 60:
            p["labour_capacity"] = "2" if r.random() < 0.2 else "1"
            if 18 <= age <= 55 and r.random() < 0.65:
                p["work_months"], p["work_place"] = r.randint(3, 12), r.choice("1223334444")
        elif age <= 70:
            p["labour_capacity"] = "1" if r.random() < 0.35 else "4"

    def person(self, county: str, relation: str, birth: dt.date, male: bool) -> dict:
        """One member: identity, schooling, health "1" (``household`` then sets health, labour and the rest)."""
        r = self.rng
        ident, birth = self._id_number(county, birth, male)
        schooling, education = self._school(YEAR - birth.year)
        return {
            "name": r.choice(SURNAMES) + "测" + r.choice(GIVEN), "document_type": "id", "id_number": ident,
            "sex": "1" if male else "2", "birth_date": birth, "relation": relation,
            "ethnicity": "01" if r.random() < 0.8 else r.choice(["15", "06", "12"]),
            "education_level": education, "schooling_status": schooling, "not_attending_reason": "",
            "health_status": "1", "disability_grade": "",
            "entered_on": None, "entry_reason": "", "left_on": None, "leave_reason": "",
        }

    def _cause(self, members: list[dict], htype: str) -> tuple[str, str]:
        """主要致贫原因 and 其他致贫原因 as the demo generator picks them (``demo.generator._cause``): 因学 only
        where someone is at school, 特困 households 因病/因残/缺劳动力; 0–2 other causes, never the main one."""
        r = self.rng
        weights = dict(self.cause_weights)
        weights["03"] = 22 if any(m["schooling_status"] in self.in_school - {"10"} for m in members) else 0
        if htype in ("6", "7"):
            weights = {"01": 45, "02": 25, "08": 30}
        main = r.choices(list(weights), list(weights.values()))[0]
        k = r.choices((0, 1, 2), (45, 40, 15))[0]
        return main, ",".join(sorted(r.sample([c for c in self.all_causes if c != main], k)))

    def _health(self, members: list[dict], main: str) -> None:
        """健康状况 and 残疾等级 as the demo generator sets them (``demo.generator._health``): some elderly
        chronically ill; 因病 → an adult ill, 因残 → an adult disabled."""
        r = self.rng
        adults = [m for m in members if YEAR - m["birth_date"].year >= 18] or members
        for m in members:
            if YEAR - m["birth_date"].year >= 65 and r.random() < 0.3:
                m["health_status"] = "2"
        if main == "01":
            r.choice(adults)["health_status"] = "3" if r.random() < 0.4 else "2"
        elif main == "02":
            m = r.choice(adults)
            m["health_status"], m["disability_grade"] = "4", r.choice("1234")

    def _error(self, field: str) -> bool:
        """Whether to leave this row's ``field`` wrong: the demo's rate (``quality.demo.EVERY``: one row in n)
        times ``--error-scale``."""
        return self.rng.random() * self.every[field] < self.error_scale

    # -- one household
    def household(self, k: int, village: str) -> tuple[dict, list[dict], dict]:
        r = self.rng
        identified = r.choice((2014, 2014, 2014, 2015, 2016))
        u = r.random()
        if u < 0.85:
            status, exit_year, return_year = "exited", r.randint(max(identified, 2015), 2020), None
        elif u < 0.95:
            status, exit_year, return_year = "poor", None, None
        else:
            status, exit_year, return_year = "returned", 2017, 2019
        grade = r.choice("AAABBBC")
        county = village[:6]
        size = r.choice(self.sizes)
        # 贫困户属性 as in the demo plan: 特困 (分散/集中供养) only for one-person households.
        if size == 1 and r.random() < 0.25:
            htype = "6" if r.random() < 0.9 else "7"
        else:
            htype = "2" if r.random() < 0.22 else "1"
        head_male = r.random() < 0.8
        head_birth = self._birth(1940, 1985)
        members = [self.person(county, "01", head_birth, head_male)]
        if size >= 2:
            members.append(self.person(county, "02", self._birth(head_birth.year - 5, head_birth.year + 5),
                                       not head_male))
        for i in range(2, size):
            if i == 5:
                male = r.random() < 0.5
                members.append(self.person(county, "11" if male else "12",
                                           self._birth(head_birth.year - 30, head_birth.year - 20), male))
                continue
            male = r.random() < 0.5
            members.append(self.person(county, "03" if male else "04",
                                       self._birth(head_birth.year + 20, min(head_birth.year + 40, 2018)), male))
        main, others = self._cause(members, htype)
        self._health(members, main)
        for m in members:
            age = YEAR - m["birth_date"].year
            self._labour(m, age)
            health = m["health_status"]
            m.update({
                "basic_medical_insurance": True, "serious_illness_insurance": r.random() < 0.97,
                "medical_aid": htype != "1" or health in ("3", "4"), "pension_insurance": age >= 16,
                "on_dibao": htype == "2" and m["relation"] == "01",
                "is_tekun": htype in ("6", "7") and m["relation"] == "01",
            })
            if self._error("labour_capacity"):  # 劳动技能 left blank
                m["labour_capacity"] = ""
        farmland = f"{r.randint(0, 8)}.{r.randint(0, 99):02d}"
        if self._error("farmland"):  # 耕地面积 mistyped (300 亩 too many, as the demo's error)
            farmland = f"{int(farmland.split('.')[0]) + 300}.{farmland.split('.')[1]}"
        h = {
            "household_number": f"{village}{k:08d}", "area": village, "natural_village": f"{r.randint(1, 12)}组",
            "phone": f"139{k:08d}", "household_type": htype, "identification_standard": "national",
            "main_cause": main, "other_causes": others,
            "identified_year": identified, "poverty_status": status, "exit_year": exit_year,
            "return_year": return_year, "housing_grade": grade,
            "housing_renovated_year": r.randint(2015, 2019) if grade == "C" else None,
            "housing_area_m2": f"{r.randint(40, 160)}.{r.randint(0, 9)}", "water_scarce_area": r.random() < 0.05,
            "water_quantity_lpd": r.randint(30, 150), "water_quality_ok": True, "water_piped": r.random() < 0.9,
            "water_fetch_minutes": None, "water_fetch_distance_m": None, "water_fetch_vertical_m": None,
            "water_outage_days": r.randint(0, 20), "food_secure": True, "clothing_secure": True,
            "farmland_mu": farmland, "irrigated_mu": None,
            "forest_mu": f"{r.randint(0, 20)}.{r.randint(0, 99):02d}", "cooperative_member": r.random() < 0.3,
            "road_distance_km": f"{r.randint(0, 5)}.{r.randint(0, 99):02d}",
            "pairing_cadre": "" if self._error("pairing_cadre") else f"帮扶人{k % 997}",
        }
        wage = r.randint(0, 40000) * 100 if any(m["work_months"] for m in members) else 0
        business = r.randint(10, 10000) * 100 if r.random() < 0.6 else 0
        inc = {
            "year": YEAR, "wage": wage, "public_welfare_post": min(wage, r.choice((0, 0, 0, 360000))),
            "business_income": business,  # expenses 25–45 % of it, as in the demo: net never negative
            "business_expenses": round(business * (0.25 + 0.2 * r.random()) / 100) * 100,
            "property_income": 30000, "asset_dividend": 30000, "family_planning": 0,
            "dibao": 300000 if htype == "2" else 0, "tekun": 500000 if htype in ("6", "7") else 0,
            "pension": r.choice((0, 0, 120000)), "ecological": r.randint(0, 500) * 100, "other_transfer": 0,
        }
        return h, members, inc

    # -- writers
    def _cell(self, col, v):
        if v is None or v == "":
            return ""
        t = col.type
        if t == "code":
            return self.labels[col.model, col.key].get(v, v)
        if t == "codes":
            labels = self.labels[col.model, col.key]
            return "、".join(labels[c] for c in v.split(","))
        if t == "bool":
            return "是" if v else "否"
        if t == "money":
            return str(v // 100) if v % 100 == 0 else f"{v // 100}.{v % 100:02d}"
        if t == "date":
            return v.isoformat()
        return str(v)

    @staticmethod
    def _copy_value(v) -> str:
        if v is None:
            return r"\N"
        if v is True:
            return "t"
        if v is False:
            return "f"
        if isinstance(v, dt.date):
            return v.isoformat()
        return str(v)

    def write(self, csv_path: Path, tsv_dir: Path, first: int, n: int) -> dict:
        """Households ``first … first + n − 1``: the layout CSV and the COPY files. Returns the counts."""
        L = self.L
        tsv_dir.mkdir(parents=True, exist_ok=True)
        files = {k: open(tsv_dir / f"{k}.tsv", "w", encoding="utf-8") for k in self.tables}
        members_total = 0
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow([c.header for c in L.COLUMNS])
            hcols, mcols, icols = L.HOUSEHOLD_COLUMNS, L.MEMBER_COLUMNS, L.INCOME_COLUMNS
            hcols_db = self.tables["household"][1]
            mcols_db = self.tables["member"][1]
            icols_db = self.tables["income"][1]
            V = len(self.villages)
            for i in range(n):
                k = first + i
                village = self.villages[i * V // n]
                h, members, inc = self.household(k, village)
                hcells = [self._cell(c, h[c.key]) for c in hcols]
                icells = [self._cell(c, inc[c.key]) for c in icols]
                rows = []
                for m in members:
                    rows.append(hcells + [self._cell(c, m[c.key]) for c in mcols] + icells)
                w.writerows(rows)
                # COPY text
                hid = k + 1
                hvals = {**h, "id": hid, "area_id": village, "is_demo": False, "version": 1,
                         "created_at": self.now, "updated_at": self.now}
                files["household"].write("\t".join(self._copy_value(hvals[a]) for _c, a in hcols_db) + "\n")
                for m in members:
                    mvals = {**m, "id": self.next_member_id, "household_id": hid}
                    self.next_member_id += 1
                    files["member"].write("\t".join(self._copy_value(mvals[a]) for _c, a in mcols_db) + "\n")
                ivals = {**inc, "id": hid, "household_id": hid}
                files["income"].write("\t".join(self._copy_value(ivals[a]) for _c, a in icols_db) + "\n")
                members_total += len(members)
        for fh in files.values():
            fh.close()
        meta = {"households": n, "members": members_total, "tables": {k: [self.tables[k][0], [c for c, _a in cols]]
                                                                     for k, (_t, cols) in self.tables.items()}}
        (tsv_dir / "meta.json").write_text(json.dumps(meta))
        return meta


# --------------------------------------------------------------------------------------------- children


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_prepare(p: dict) -> dict:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from xiaokang.accounts.models import User
    from xiaokang.areas.models import Area, Level
    from xiaokang.areas.services import import_zhuzhou

    import_zhuzhou()
    towns = list(Area.objects.filter(level=Level.TOWN, code__startswith="4302").order_by("code")
                 .values_list("code", flat=True))
    villages = [Area(code=f"{t}{200 + i:03d}", name=f"基准测试{i + 1}村", level=Level.VILLAGE, parent_id=t)
                for t in towns for i in range(p["villages_per_town"])]
    Area.objects.bulk_create(villages, batch_size=2000)
    User.objects.create_superuser("bench", password="bench-not-used", role="system_admin")
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"villages": [v.code for v in villages]}


def _load_copy_files(tsv_dir: Path) -> dict:
    """Load the COPY files into the live tables (COPY on PostgreSQL, executemany on SQLite); reset sequences."""
    from django.core.management.color import no_style
    from django.db import connection

    from xiaokang.registry.models import Household, Income, Member

    meta = json.loads((tsv_dir / "meta.json").read_text())
    for key in ("household", "member", "income"):
        table, cols = meta["tables"][key]
        col_sql = ", ".join(connection.ops.quote_name(c) for c in cols)
        path = tsv_dir / f"{key}.tsv"
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            with connection.connection.cursor() as cur, open(path, "rb") as fh:
                with cur.copy(f"COPY {connection.ops.quote_name(table)} ({col_sql}) FROM STDIN") as cp:
                    while chunk := fh.read(1 << 20):
                        cp.write(chunk)
        else:
            sql = f"INSERT INTO {connection.ops.quote_name(table)} ({col_sql}) VALUES ({', '.join(['%s'] * len(cols))})"
            conv = {r"\N": None, "t": 1, "f": 0}
            with connection.cursor() as cur, open(path, encoding="utf-8") as fh:
                batch = []
                for line in fh:
                    batch.append([conv.get(v, v) for v in line.rstrip("\n").split("\t")])
                    if len(batch) >= 50_000:
                        cur.executemany(sql, batch)
                        batch = []
                if batch:
                    cur.executemany(sql, batch)
    sql = connection.ops.sequence_reset_sql(no_style(), [Household, Member, Income])
    with connection.cursor() as cur:
        for statement in sql:
            cur.execute(statement)
    return meta


def _constraints_and_indexes(tables: list[str]):
    """(constraints [(table, name, definition, type)], indexes [(name, definition)]) of the tables (PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                    "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('p', 'u', 'f', 'c')", [tables])
        constraints = cur.fetchall()
        cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND i.indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]))", [tables, tables])
        indexes = cur.fetchall()
    return constraints, indexes


def child_copy(p: dict) -> dict:
    import time as _t

    from django.db import connection, transaction

    tsv_dir = Path(p["dir"])
    meta = json.loads((tsv_dir / "meta.json").read_text())
    tables = [meta["tables"][k][0] for k in ("household", "member", "income")]
    q = connection.ops.quote_name
    if p["mode"] == "bare":
        constraints, indexes = _constraints_and_indexes(tables)
        with connection.cursor() as cur:
            for table, name, _d, typ in sorted(constraints, key=lambda c: c[3] != "f"):  # foreign keys first
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {q(name)} CASCADE")
            for name, _d in indexes:
                cur.execute(f"DROP INDEX IF EXISTS {q(name)}")
    t0 = _t.perf_counter()
    with transaction.atomic():
        _load_copy_files(tsv_dir)
    loaded = _t.perf_counter() - t0
    if p["mode"] == "bare":
        order = {"p": 0, "u": 1, "c": 2, "f": 3}
        with connection.cursor() as cur:
            for table, name, definition, typ in sorted(constraints, key=lambda c: order[c[3]]):
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}")
            for _name, definition in indexes:
                cur.execute(definition)
    seconds = _t.perf_counter() - t0
    if p.get("analyze"):  # statistics for the planner, as a registry in use would have
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"households": meta["households"], "members": meta["members"], "seconds": seconds,
            "load_seconds": loaded, "peak_rss_mb": _peak_mb()}


def child_import(p: dict) -> dict:
    import time as _t

    from xiaokang.accounts.models import User
    from xiaokang.imports import services
    from xiaokang.registry.models import Household, Member

    user = User.objects.get(username="bench")
    before_h, before_m = Household.objects.count(), Member.objects.count()
    t0 = _t.perf_counter()
    batch = services.stage(p["csv"], user, file_name=Path(p["csv"]).name, channel="command")
    services.validate(batch, registry_checks=False)  # as the command line: the registry checks run in apply
    t_valid = _t.perf_counter() - t0
    steps = dict(getattr(batch, "timings", {}))  # seconds per step (``imports.timing``)
    if batch.status != "validated":
        raise SystemExit(f"validation failed: {batch.error_count} errors, first: {batch.errors[:5]}")
    batch = services.apply(batch, user)
    seconds = _t.perf_counter() - t0
    for k, v in getattr(batch, "timings", {}).items():
        steps[k] = steps.get(k, 0.0) + v
    batch.refresh_from_db()
    if batch.status != "applied":
        raise SystemExit(f"apply failed: {batch.status} {batch.message}")
    return {"households": Household.objects.count() - before_h, "members": Member.objects.count() - before_m,
            "new": batch.households_new, "seconds": seconds, "validate_seconds": t_valid, "steps": steps,
            "peak_rss_mb": _peak_mb()}


def child_orm(p: dict) -> dict:
    """Row by row through the ORM: convert each cell, full_clean(), create — households, members, incomes."""
    import time as _t

    from django.db import transaction

    from xiaokang.core.audit import audit_channel
    from xiaokang.core.money import fen_to_yuan
    from xiaokang.imports import layout as L
    from xiaokang.imports.validate import blank_value, converter
    from xiaokang.registry.models import Household, Income, Member

    limit = p["households"]
    t0 = _t.perf_counter()
    households = members = 0
    with open(p["csv"], encoding="utf-8-sig", newline="") as f, transaction.atomic(), audit_channel("import"):
        reader = csv.reader(f)
        header = next(reader)
        cols = [L.match_header(h) for h in header]
        convs = [converter(c) for c in cols]
        current, h = None, None
        for row in reader:
            vals = {}
            for c, conv, raw in zip(cols, convs, row):
                vals[c.model, c.key] = conv(raw) if raw != "" else blank_value(c)
            number = vals[L.HOUSEHOLD, "household_number"]
            if number != current:
                if households >= limit:
                    break
                current = number
                hv = {c.key: vals[L.HOUSEHOLD, c.key] for c in L.HOUSEHOLD_COLUMNS}
                hv["area_id"] = hv.pop("area")
                h = Household(**hv)
                h.full_clean()
                h.save()
                iv = {c.key: vals[L.INCOME, c.key] for c in L.INCOME_COLUMNS}
                for c in L.INCOME_COLUMNS:
                    if c.type == "money":
                        iv[c.key] = fen_to_yuan(iv[c.key])
                inc = Income(household=h, **iv)
                inc.full_clean()
                inc.save()
                households += 1
            mv = {c.key: vals[L.MEMBER, c.key] for c in L.MEMBER_COLUMNS}
            m = Member(household=h, **mv)
            m.full_clean()
            m.save()
            members += 1
    seconds = _t.perf_counter() - t0
    return {"households": households, "members": members, "seconds": seconds, "peak_rss_mb": _peak_mb()}


def child_checks(p: dict) -> dict:
    """Phase (c): ``run_checks`` over the whole registry, ``runs`` times (the first into an empty findings
    table; later runs find everything again and update it)."""
    import time as _t

    from xiaokang.registry.models import Household

    try:
        from xiaokang.quality.services import run_checks
    except ImportError:
        return {"skipped": True}
    runs = []
    for _ in range(p.get("runs", 1)):
        t0 = _t.perf_counter()
        run = run_checks(None, year=p["year"])
        runs.append({"seconds": _t.perf_counter() - t0, "found": run.found, "new": run.new, "fixed": run.fixed,
                     "timings": getattr(run, "timings", {})})
    return {"households": Household.objects.count(), "found": runs[0]["found"], "seconds": runs[0]["seconds"],
            "by_rule": run.by_rule, "runs": runs, "peak_rss_mb": _peak_mb()}


CHILDREN = {"prepare": child_prepare, "copy": child_copy, "import": child_import, "orm": child_orm,
            "checks": child_checks}


# ------------------------------------------------------------------------------------------------- main


def rate(r: dict) -> float:
    return r["households"] / r["seconds"] if r.get("seconds") else float("nan")


def line(label: str, r: dict | None) -> str:
    if not r:
        return f"{label:<46} {'—':>11}"
    return (f"{label:<46} {r['households']:>11,} {r.get('members', 0):>10,} {r['seconds']:>9.1f} "
            f"{rate(r):>13,.0f} {r['peak_rss_mb']:>12,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--orm-households", type=int, default=10_000, help="0: skip the ORM reference")
    ap.add_argument("--villages-per-town", type=int, default=10)
    ap.add_argument("--year", type=int, default=YEAR)
    ap.add_argument("--no-checks", action="store_true", help="skip phase (c), the data-quality pass")
    ap.add_argument("--check-runs", type=int, default=1,
                    help="run phase (c) this many times (the first inserts every finding, later ones update)")
    ap.add_argument("--timings", action="store_true", help="print the time of each step of phase (c)")
    ap.add_argument("--error-scale", type=float, default=1.0,
                    help="deliberate data errors at this multiple of the demo's rate (default 1; 0 = none)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--workdir", default=None, help="folder for the generated files (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import django

        django.setup()
        result = CHILDREN[args.child](json.loads(args.params))
        print(json.dumps(result))
        return

    db_url = os.environ.pop("DATABASE_URL", None)
    work = Path(tempfile.mkdtemp(prefix="xk-import-bench-", dir=args.workdir))
    home = str(work / "home")
    os.makedirs(home, exist_ok=True)
    django_setup(home, None)  # the parent only needs the models and the layout (no database)
    dbs = Databases(db_url, work)
    backend = "PostgreSQL" if db_url else "SQLite"
    n = args.households
    print(f"backend: {backend}; {n:,} households (+{n:,} already present in (b)); seed {args.seed}; "
          f"machine: {os.cpu_count()} CPUs; files in {work}", flush=True)
    try:
        tpl = dbs.template()
        prep = run_child("prepare", tpl, home, {"villages_per_town": args.villages_per_town})
        villages = prep["villages"]
        t = time.perf_counter()
        gen = Generator(villages, args.seed, args.error_scale)
        a = gen.write(work / "A.csv", work / "A", 0, n)
        b = gen.write(work / "B.csv", work / "B", n, n)
        size_mb = (work / "A.csv").stat().st_size / 2**20
        print(f"generated A: {a['households']:,} households, {a['members']:,} members ({size_mb:,.0f} MB CSV); "
              f"B: {b['households']:,} / {b['members']:,}; {time.perf_counter() - t:,.0f} s", flush=True)
        del gen

        results = {}

        def phase(key, child, params, db_phase=None, keep=False):
            url = dbs.fresh(db_phase or key)
            try:
                results[key] = run_child(child, url, home, params)
            finally:
                if not keep:
                    dbs.drop(db_phase or key)
            return url

        print(f"{'phase':<46} {'households':>11} {'members':>10} {'seconds':>9} {'households/s':>13} "
              f"{'peak RSS MB':>12}", flush=True)
        if args.orm_households:
            phase("orm", "orm", {"csv": str(work / "A.csv"), "households": min(args.orm_households, n)})
            print(line(f"ORM row by row ({results['orm']['households']:,} households)", results["orm"]), flush=True)
        phase("live", "copy", {"dir": str(work / "A"), "mode": "live"})
        print(line("plain COPY into live tables" if dbs.pg else "plain executemany into live tables",
                   results["live"]), flush=True)
        if dbs.pg:
            phase("bare", "copy", {"dir": str(work / "A"), "mode": "bare"})
            print(line("COPY into bare tables + add constraints", results["bare"]), flush=True)
        phase("a", "import", {"csv": str(work / "A.csv")})
        print(line("(a) import into an empty registry", results["a"]), flush=True)
        url_b = dbs.fresh("b")
        try:
            results["b_load"] = run_child("copy", url_b, home, {"dir": str(work / "B"), "mode": "live",
                                                                "analyze": True})
            results["b"] = run_child("import", url_b, home, {"csv": str(work / "A.csv")})
            print(line(f"(b) import into a registry of {n:,} households", results["b"]), flush=True)
            results["c"] = ({"skipped": True} if args.no_checks
                            else run_child("checks", url_b, home, {"year": args.year, "runs": args.check_runs}))
            if args.no_checks:
                print("(c) data quality: skipped (--no-checks)", flush=True)
            elif results["c"].get("skipped"):
                print("(c) data quality: xiaokang.quality.services.run_checks not available", flush=True)
            else:
                print(line(f"(c) data-quality pass ({results['c']['found']:,} findings)", results["c"]), flush=True)
                for i, run in enumerate(results["c"]["runs"][1:], 2):
                    print(f"    run {i} (findings updated): {run['seconds']:.1f} s, {run['found']:,} found, "
                          f"{run['new']:,} new, {run['fixed']:,} fixed", flush=True)
        finally:
            dbs.drop("b")

        # ratios and targets
        ra, rb = rate(results["a"]), rate(results["b"])
        rorm = rate(results["orm"]) if "orm" in results else float("nan")
        live = rate(results["live"])
        print()
        print(f"(a) validate {results['a']['validate_seconds']:.1f} s of {results['a']['seconds']:.1f} s; "
              f"(b) validate {results['b']['validate_seconds']:.1f} s of {results['b']['seconds']:.1f} s")
        print(f"  {'seconds per step of the import':<52} {'(a)':>8} {'(b)':>8}")
        for k in dict.fromkeys([*results["a"].get("steps", {}), *results["b"].get("steps", {})]):
            print(f"  {k:<52} {results['a']['steps'].get(k, 0):>8.2f} {results['b']['steps'].get(k, 0):>8.2f}")
        if dbs.pg:
            bare = rate(results["bare"])
            print(f"(a) / bare COPY + constraints  = {ra / bare:6.1%}   (target ≥ 80%)")
        print(f"(b) / plain COPY into live     = {rb / live:6.2f}×  (target ≥ 1.00×)")
        print(f"(a) / ORM row by row           = {ra / rorm:6.1f}×  (target ≥ 50×); (b) / ORM = {rb / rorm:.1f}×")
        peak = max(r.get("peak_rss_mb", 0) for r in results.values())
        print(f"peak RSS of any phase          = {peak:,.0f} MB (target < 2,048 MB)")
        if "c" in results and not results["c"].get("skipped"):
            scaled = results["c"]["seconds"] * 1_000_000 / max(results["c"]["households"], 1)
            c = results["c"]
            print(f"data-quality pass              = {c['seconds']:.1f} s over {c['households']:,} households, "
                  f"{c['found']:,} findings (≈ {scaled:.0f} s per million households; target ≤ 30 s at 1 M)")
            print("findings by rule: " + (", ".join(f"{k} {v:,}" for k, v in c["by_rule"].items()) or "none"))
            if args.timings:
                for i, run in enumerate(c["runs"], 1):
                    print(f"phase (c) run {i}, seconds per step:")
                    for label, seconds in run["timings"].items():
                        print(f"  {seconds:8.3f}  {label}")
    finally:
        dbs.drop_template()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
