"""Synthetic 建档立卡 registry for Zhuzhou (株洲市演示数据), deterministic from a seed.

Everything here is invented except the division codes and names of the city, its counties and towns
and the published calibration figures in ``xiaokang.demo.plan``. Nothing identifies a real person:

- names are a surname + "示" + one character (李示华): "示" marks them as 示例 (sample);
- ID numbers are valid GB 11643 numbers built by ``make_id_number(county, birth, seq)`` with
  sequence numbers **900–999 only** (odd for men, even for women), unique across the demo (and never
  one already in the database). The address code is the household's county; 渌口区 people born
  before 2018 carry 株洲县's retired 430221. When a day's 50 numbers of one sex are used up (only at
  large ``scale``), the other Zhuzhou county codes are used, then a nearby day of the same year;
- villages are named ``示例XX村`` with codes town + 201, 202, … and ``is_demo=True``;
- household numbers are the county code + a 7-digit running number (4302250000001);
- phone numbers are left blank.

Two stages:

1. ``make_plan(seed, counties, scale)`` lays out villages, their yearly population (户籍人口) and every
   household's village, size in 2014, type, exit year and (for a few) the reason it has not exited
   by 2020. It is cheap and is what the calibration tests check (166 poor villages, 158,000 people).
2. ``iter_rows(plan, ids)`` generates members and yearly incomes household by household and yields
   row batches ready for insertion (money in integer fen), one batch per village copy.

Consistency with the exit rule (``xiaokang.policy.rules.household``), for every year 2014–2020:
per-capita net income (net ÷ members counted on 31 December) is at least 10 % above the year's exit
standard from the exit year on and at least 6 % below it before; C/D houses are renovated in
2015–2019 and no later than the exit year; water, food and clothing are met; every member is insured;
anyone aged 6–16 in any year 2014–2020 has an in-school status (or an exempt reason, 送教上门 /
身体原因), since the rule reads the current status against each year's age. The few households that
have not exited by 2020 fail for a real reason: an unrenovated D-grade house, a child out of school,
income below the standard, or a member without serious-illness insurance.

At ``scale=N`` each village holds N copies of its household plan, each with its own members, IDs and
incomes (and N times the population, so incidence stays comparable); ``scale=1`` is the calibration.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Iterator

from xiaokang.areas.data import zhuzhou_csv
from xiaokang.registry.idnumber import make_id_number

from . import plan as P

DEFAULT_SEED = 20140101
POPULATION_SOURCE = "演示数据（虚构）：按株洲市贫困发生率标定"

SURNAMES = tuple("刘李陈谭周罗谢段彭黄王张易曾胡邓肖唐文尹龙贺颜宋何钟欧廖邹汤蒋许袁郭朱马")
MALE_GIVEN = tuple("华军伟明强平国建勇涛斌林海波志文辉杰鹏飞东峰云龙春生德福贵")
FEMALE_GIVEN = tuple("英芳兰秀娟霞丽琴艳红梅玲桂莲凤萍燕珍花敏静婷娜翠")
VILLAGE_FIRST = tuple("东西南北上下新大小高长青石黄白龙凤桃竹枫松梅杨柳金银双和平安富兴光明清泉茶枣")
VILLAGE_SECOND = tuple("山塘冲坪湾岭源田江桥洲坳溪垅口团庄园林岗")

# 致贫原因 weights (因病 ≈ 40 %).
CAUSE_WEIGHTS = {"01": 40, "07": 13, "08": 12, "02": 10, "03": 8, "09": 8, "11": 3, "04": 2, "10": 2,
                 "05": 1, "06": 1}
ALL_CAUSES = tuple(CAUSE_WEIGHTS)
HOUSING_GRADES = (("A", 8), ("B", 42), ("C", 28), ("D", 22))
FAILURE_KINDS = ("housing", "dropout", "income", "insurance")
IN_SCHOOL = {"10", "20", "30", "40", "50", "60", "70"}
YAO_TOWN = "430225209"  # 中村瑶族乡
ADDRESS_FALLBACK = ("430202", "430203", "430204", "430211", "430212", "430221", "430223", "430224", "430225",
                    "430281")
YEAR_END = {y: dt.date(y, 12, 31) for y in range(2010, 2022)}
YEAR_START_ORD = {y: dt.date(y, 1, 1).toordinal() for y in range(1900, 2022)}

HOUSEHOLD_COLUMNS = (
    "id", "household_number", "area_id", "natural_village", "phone", "household_type", "identification_standard",
    "main_cause", "other_causes", "identified_year", "poverty_status", "exit_year", "return_year",
    "housing_grade", "housing_renovated_year", "housing_area_m2", "water_scarce_area", "water_quantity_lpd",
    "water_quality_ok", "water_piped", "water_fetch_minutes", "water_fetch_distance_m", "water_fetch_vertical_m",
    "water_outage_days", "food_secure", "clothing_secure", "farmland_mu", "irrigated_mu", "forest_mu",
    "cooperative_member", "road_distance_km", "pairing_cadre", "is_demo", "version",
)
MEMBER_COLUMNS = (
    "id", "household_id", "name", "document_type", "id_number", "sex", "birth_date", "relation", "ethnicity",
    "education_level", "schooling_status", "not_attending_reason", "health_status", "disability_grade",
    "labour_capacity", "work_months", "work_place", "basic_medical_insurance", "serious_illness_insurance",
    "medical_aid", "pension_insurance", "on_dibao", "is_tekun", "entered_on", "entry_reason", "left_on",
    "leave_reason",
)
# Money columns are integer fen (分).
INCOME_COLUMNS = (
    "id", "household_id", "year", "wage", "public_welfare_post", "business_income", "business_expenses",
    "property_income", "asset_dividend", "family_planning", "dibao", "tekun", "pension", "ecological",
    "other_transfer",
)


class Rng(random.Random):
    """``random.Random`` with cheaper ``randint``/``choice`` (one ``random()`` call each; deterministic)."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, n: int) -> int:  # only the one-argument form is used here
        return int(self.random() * n)


# ---------------------------------------------------------------------------------------------- plan


@dataclass
class VillagePlan:
    code: str
    name: str
    town: str
    county: str
    poor: bool
    population: dict[int, int]  # year -> 户籍人口 (already multiplied by the scale)
    planned_exit: int | None = None
    households: list["HouseholdPlan"] = field(default_factory=list)
    exit_year: int | None = None  # computed from the generated registry (first year below 2 %)


@dataclass
class HouseholdPlan:
    village: str
    size: int  # members counted on 31 December 2014
    household_type: str
    exit_year: int | None
    failure: str | None = None  # why it has not exited by 2020 (only when exit_year is None)


@dataclass
class CountyLayout:
    plan: P.CountyPlan
    villages: list[VillagePlan]

    @property
    def households(self) -> list[HouseholdPlan]:
        return [h for v in self.villages for h in v.households]


@dataclass
class DemoPlan:
    seed: int
    scale: int
    counties: dict[str, CountyLayout]

    @property
    def villages(self) -> list[VillagePlan]:
        return [v for c in self.counties.values() for v in c.villages]

    def totals(self, county: str | None = None) -> dict:
        """Calibration figures at scale 1 (households, people in 2014, poor villages, population 2014)."""
        layouts = [self.counties[county]] if county else list(self.counties.values())
        hh = [h for c in layouts for h in c.households]
        vs = [v for c in layouts for v in c.villages]
        return {
            "households": len(hh) * self.scale,
            "people": sum(h.size for h in hh) * self.scale,
            "poor_villages": sum(1 for v in vs if v.poor),
            "villages": len(vs),
            "population": sum(v.population[2014] for v in vs),
        }


def towns_by_county() -> dict[str, list[tuple[str, str]]]:
    """Town-level areas (镇、乡) per county from the packaged division file: {county: [(code, name)]}."""
    out: dict[str, list[tuple[str, str]]] = {}
    with zhuzhou_csv().open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code = r["code"]
            # 100–399: 镇 and 乡 (001–099 are 街道, 400+ farms, parks and development zones).
            if r["level"] == "town" and 100 <= int(code[6:9]) < 400 and not r["valid_to"]:
                out.setdefault(code[:6], []).append((code, r["name"]))
    return out


def _split(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Integer split of ``total`` proportional to ``weights`` (largest remainder), each ≥ ``minimum``."""
    n = len(weights)
    base = minimum * n
    rest = total - base
    s = sum(weights)
    raw = [rest * w / s for w in weights]
    out = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: rest - sum(out)]:
        out[i] += 1
    return [x + minimum for x in out]


def _sizes(rng: random.Random, households: int, people: int) -> list[int]:
    """Household sizes in 2014 summing exactly to ``people`` (1–8 members)."""
    dist = (1, 2, 3, 4, 5, 6, 7)
    weights = (13, 21, 22, 23, 13, 6, 2)
    sizes = rng.choices(dist, weights, k=households)
    diff = people - sum(sizes)
    while diff:
        i = rng.randrange(households)
        if diff > 0 and sizes[i] < 8:
            sizes[i] += 1
            diff -= 1
        elif diff < 0 and sizes[i] > 1:
            sizes[i] -= 1
            diff += 1
    return sizes


def _village_names(rng: random.Random, n: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        nm = "示例" + rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND) + "村"
        if nm not in seen:
            seen.add(nm)
            names.append(nm)
    return names


def _village_codes(town: str, n: int, reserved: set[str]) -> list[str]:
    """``n`` village codes under ``town``: town + 201, 202, … skipping codes already used by real villages."""
    out, i = [], 201
    while len(out) < n:
        code = f"{town}{i:03d}"
        if code not in reserved:
            out.append(code)
        i += 1
        if i > 999:
            raise ValueError(f"{town} 下没有足够的空闲村级代码")
    return out


def plan_county(seed: int, cp: P.CountyPlan, towns: list[tuple[str, str]], scale: int = 1,
                reserved_codes: set[str] | None = None) -> CountyLayout:
    rng = Rng(f"{seed}:plan:{cp.code}")
    # Villages over towns (each town at least one).
    town_weights = [rng.uniform(0.6, 1.4) for _ in towns]
    per_town = _split(cp.villages, town_weights, minimum=1)
    names = _village_names(rng, cp.villages)
    villages: list[VillagePlan] = []
    for (tcode, _tname), n in zip(towns, per_town):
        for vcode in _village_codes(tcode, n, reserved_codes or set()):
            villages.append(VillagePlan(vcode, names[len(villages)], tcode, cp.code, False, {}))
    poor = rng.sample(range(len(villages)), cp.poor_villages)
    exits = [y for y, k in sorted(cp.village_exit_years.items()) for _ in range(k)]
    rng.shuffle(exits)
    for i, y in zip(sorted(poor), exits):
        villages[i].poor, villages[i].planned_exit = True, y
    poor_v = [v for v in villages if v.poor]
    other_v = [v for v in villages if not v.poor]

    # Households: sizes, type, village.
    sizes = _sizes(rng, cp.households, cp.people)
    n_poor_hh = round(cp.households * cp.poor_village_share) if poor_v else 0
    other_w = [rng.uniform(0.6, 1.4) for _ in other_v]
    poor_w = [rng.uniform(0.7, 1.3) for _ in poor_v]
    other_cum, poor_cum = list(accumulate(other_w)), list(accumulate(poor_w))
    households: list[HouseholdPlan] = []
    idx = list(range(cp.households))
    rng.shuffle(idx)
    for k, i in enumerate(idx):
        size = sizes[i]
        if size == 1:
            r = rng.random()
            htype = ("6" if rng.random() < 0.9 else "7") if r < 0.25 else ("2" if r < 0.5 else "1")
        else:
            htype = "2" if rng.random() < 0.22 else "1"
        if k < n_poor_hh:
            v = rng.choices(poor_v, cum_weights=poor_cum)[0]
        else:
            v = rng.choices(other_v, cum_weights=other_cum)[0]
        hp = HouseholdPlan(v.code, size, htype, None)
        v.households.append(hp)
        households.append(hp)

    # Exit years.
    years = list(cp.household_exit)
    exit_cum = list(accumulate(cp.household_exit.values()))
    for v in villages:
        for h in v.households:
            if v.poor:
                y = v.planned_exit
                if y < 2020 and rng.random() < 0.02:
                    h.exit_year = rng.randint(y + 1, 2020)
                else:
                    h.exit_year = rng.randint(2015, y)
            else:
                h.exit_year = rng.choices(years, cum_weights=exit_cum)[0]
    # Households that have not exited by 2020: outside poor villages, 3+ members, each with a reason.
    candidates = [h for v in other_v for h in v.households if h.size >= 3 and h.household_type == "1"]
    for k, h in enumerate(rng.sample(candidates, cp.not_exited)):
        h.exit_year, h.failure = None, FAILURE_KINDS[k % len(FAILURE_KINDS)]

    # Population (户籍人口) 2014: poor villages from their incidence, the rest shared by weight.
    people_by_v = {v.code: sum(h.size for h in v.households) for v in villages}
    lo, hi = cp.poor_village_incidence
    pops: dict[str, int] = {}
    for v in poor_v:
        pops[v.code] = max(round(people_by_v[v.code] / rng.uniform(lo, hi)), people_by_v[v.code] * 2, 300)
    rest = cp.rural_population - sum(pops.values())
    for v, p in zip(other_v, _split(rest, other_w)):
        pops[v.code] = p
    for v in villages:
        growth = rng.uniform(0.992, 1.004)
        base = pops[v.code]
        v.population = {y: round(base * growth ** (y - 2014)) * scale for y in P.YEARS}
    return CountyLayout(cp, villages)


def make_plan(seed: int = DEFAULT_SEED, counties=None, scale: int = 1,
              reserved_codes: set[str] | None = None) -> DemoPlan:
    """The village and household layout for ``counties`` (codes; default all nine).

    ``reserved_codes``: village codes already taken by real (non-demo) villages, never used.
    """
    if scale < 1:
        raise ValueError("scale 至少为 1")
    codes = list(counties) if counties else list(P.COUNTIES)
    unknown = [c for c in codes if c not in P.COUNTIES]
    if unknown:
        raise ValueError(f"没有这些县级区划的演示方案: {', '.join(unknown)}（可选 {', '.join(P.COUNTIES)}）")
    towns = towns_by_county()
    return DemoPlan(seed, scale, {c: plan_county(seed, P.COUNTIES[c], towns[c], scale, reserved_codes)
                                  for c in sorted(codes)})


# ------------------------------------------------------------------------------------- registry rows


@dataclass
class IdStart:
    household: int = 1
    member: int = 1
    income: int = 1


class IdAllocator:
    """Unique synthetic ID numbers: sequence 900–999 per (address, birth date, sex)."""

    def __init__(self, taken: set[str] | None = None):
        self.used: dict[tuple[str, int, int], int] = {}
        self.taken = taken or set()
        self._addresses: dict[str, tuple[str, ...]] = {}

    def allocate(self, address: str, birth: dt.date, male: bool) -> tuple[str, dt.date]:
        """A fresh number and the birth date it encodes (moved to a nearby day of the same year only if
        all 50 numbers of the date are used under every Zhuzhou address code — never at scale 1)."""
        addresses = self._addresses.get(address)
        if addresses is None:
            addresses = (address,) + tuple(a for a in ADDRESS_FALLBACK if a != address)
            self._addresses[address] = addresses
        for day in _nearby_days(birth):
            ordinal = day.toordinal()
            for addr in addresses:
                key = (addr, ordinal, male)
                k = self.used.get(key, 0)
                while k < 50:
                    seq = 900 + 2 * k + (1 if male else 0)
                    k += 1
                    number = make_id_number(addr, day, seq)
                    if number not in self.taken:
                        self.used[key] = k
                        return number, day
                self.used[key] = k
        raise RuntimeError(f"{birth.year} 年的演示身份证号码已用尽")


def _nearby_days(birth: dt.date):
    """``birth``, then days ±1, ±2, … within the same calendar year (so yearly ages never change)."""
    yield birth
    for delta in range(1, 366):
        for d in (birth + dt.timedelta(days=delta), birth - dt.timedelta(days=delta)):
            if d.year == birth.year:
                yield d


@dataclass
class Batch:
    households: list[tuple]
    members: list[tuple]
    incomes: list[tuple]


@dataclass
class _M:
    """A member while being generated."""

    relation: str
    male: bool
    birth: dt.date
    surname: str
    entered_on: dt.date | None = None
    entry_reason: str = ""
    left_on: dt.date | None = None
    leave_reason: str = ""
    schooling: str = "00"
    reason: str = ""
    education: str = ""
    health: str = "1"
    disability: str = ""
    labour: str = ""
    work_months: int | None = None
    work_place: str = ""
    serious_insured: bool = True

    def counted(self, year: int) -> bool:
        end = YEAR_END[year]
        return (self.birth <= end and (self.entered_on is None or self.entered_on <= end)
                and (self.left_on is None or self.left_on > end))


def _birth(rng: random.Random, year: int) -> dt.date:
    days = 366 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 365
    return dt.date.fromordinal(YEAR_START_ORD[year] + rng.randrange(days))


def _date_in(rng: random.Random, first_year: int, last_year: int) -> dt.date:
    a, b = YEAR_START_ORD[first_year], dt.date(last_year, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(a, b))


def _school(rng: random.Random, by: int) -> tuple[str, str]:
    """(在校生状况, 文化程度) as of 2020 by birth year: in school for everyone aged 6–16 in 2014–2020."""
    if by >= 2018:
        return "00", "6"
    if by >= 2015:
        return "10", "6"
    if by >= 2008:
        return "20", "2"
    if by >= 2005:
        return "30", "3"
    if by >= 2002:
        return ("50", "4") if rng.random() < 0.3 else ("40", "4")
    if by >= 1998:
        return ("60", "5") if rng.random() < 0.4 else ("70", "5")
    r = rng.random()
    if by <= 1950:
        edu = "1" if r < 0.45 else "2" if r < 0.9 else "3"
    elif by <= 1965:
        edu = "1" if r < 0.2 else "2" if r < 0.7 else "3" if r < 0.95 else "4"
    elif by <= 1980:
        edu = "1" if r < 0.08 else "2" if r < 0.43 else "3" if r < 0.88 else "4"
    else:
        edu = "1" if r < 0.02 else "2" if r < 0.17 else "3" if r < 0.67 else "4" if r < 0.92 else "5"
    return "00", edu


def _family(rng: random.Random, size: int, failure: str | None) -> list[_M]:
    """Members present at the end of 2014 (exactly ``size``), plus later newborns and leavers."""
    surname = rng.choice(SURNAMES)
    if size == 1:
        r = rng.random()
        head_age = rng.randint(60, 88) if r < 0.5 else rng.randint(45, 59) if r < 0.8 else rng.randint(30, 44)
    elif size == 2:
        head_age = rng.randint(55, 82) if rng.random() < 0.6 else rng.randint(35, 60)
    else:
        head_age = rng.randint(28, 62)
    if failure == "dropout":
        head_age = min(max(head_age, 30), 55)
    head_male = rng.random() < 0.82
    ms = [_M("01", head_male, _birth(rng, 2014 - head_age), surname)]
    other = lambda: rng.choice(SURNAMES)  # noqa: E731
    spouse = size >= 2 and (size >= 4 or rng.random() < (0.9 if size == 3 else 0.6)) and failure != "dropout"
    if failure == "dropout" and size >= 3:
        spouse = True
    if spouse:
        age = max(20, head_age + (rng.randint(-6, 2) if head_male else rng.randint(-2, 6)))
        ms.append(_M("02", not head_male, _birth(rng, 2014 - age), other()))
    rem = size - len(ms)
    kids_needed = 1 if failure == "dropout" else 0
    parents = 0
    if rem - kids_needed >= 1 and head_age <= 58:
        r = rng.random()
        parents = 0 if r < 0.6 else 1 if (r < 0.88 or rem - kids_needed < 2) else 2
        parents = min(parents, rem - kids_needed)
    for k in range(parents):
        age = min(95, head_age + rng.randint(22, 34))
        male = (k == 0 and rng.random() < 0.4)
        ms.append(_M("11" if male else "12", male, _birth(rng, 2014 - age), surname if male else other()))
    rem -= parents
    young_couple = None
    if failure == "dropout":
        by = rng.randint(2005, 2007)
        male = rng.random() < 0.5
        ms.append(_M("03" if male else "04", male, _birth(rng, by), surname, schooling="00",
                     reason=rng.choice("345"), education="2"))
        rem -= 1
    if rem >= 3 and head_age >= 50 and rng.random() < 0.6:
        son_age = max(20, head_age - rng.randint(22, 30))
        ms.append(_M("03", True, _birth(rng, 2014 - son_age), surname))
        dil_age = max(20, son_age - rng.randint(0, 4))
        dil = _M("05", False, _birth(rng, 2014 - dil_age), other())
        ms.append(dil)
        young_couple = (dil_age, "07", "08")
        for _ in range(rem - 2):
            male = rng.random() < 0.52
            ms.append(_M("07" if male else "08", male, _birth(rng, 2014 - rng.randint(0, max(0, son_age - 20))),
                         surname))
    else:
        for _ in range(rem):
            lo = max(0, head_age - 40)
            hi = max(lo, head_age - 20)
            age = rng.randint(lo, hi)
            male = rng.random() < 0.53
            ms.append(_M("03" if male else "04", male, _birth(rng, 2014 - age), surname))
        if spouse:
            wife_age = head_age if not head_male else 2014 - ms[1].birth.year
            young_couple = (wife_age, "03", "04")
    # Newborns 2015–2019 (entered on their birth date).
    if young_couple and 20 <= young_couple[0] <= 36 and rng.random() < 0.3:
        male = rng.random() < 0.52
        birth = _date_in(rng, 2015, 2019)
        ms.append(_M(young_couple[1] if male else young_couple[2], male, birth, surname, entered_on=birth,
                     entry_reason="newborn"))
    # Deaths among the elderly (never the head), daughters marrying out.
    for m in ms[1:]:
        age = 2014 - m.birth.year
        if m.entered_on is None and age >= 72 and rng.random() < 0.15:
            m.left_on, m.leave_reason = _date_in(rng, 2015, 2020), "death"
        elif m.relation == "04" and 20 <= age <= 28 and rng.random() < 0.12:
            m.left_on, m.leave_reason = _date_in(rng, 2015, 2020), "married_out"
    # Schooling and education (status as of 2020, consistent with every year's age).
    for m in ms:
        if m.reason:
            continue
        m.schooling, m.education = _school(rng, m.birth.year)
        if m.schooling in IN_SCHOOL and m.schooling not in ("10",) and rng.random() < 0.004:
            # A disabled child taught at home or unable to attend: exempt, not a dropout.
            m.schooling, m.reason, m.education = "00", rng.choice("221"), "1"
            m.health, m.disability = "4", rng.choice("12")
    return ms


def _cause(rng: random.Random, ms: list[_M], htype: str, failure: str | None) -> tuple[str, str]:
    weights = dict(CAUSE_WEIGHTS)
    # 因学 only where someone is at school (so more often there, ≈ 8 % overall).
    weights["03"] = 22 if any(m.schooling in IN_SCHOOL - {"10"} for m in ms) else 0
    if htype in ("6", "7"):
        weights = {"01": 45, "02": 25, "08": 30}
    if failure == "income":
        weights = {"01": 1}
    main = rng.choices(list(weights), list(weights.values()))[0]
    k = rng.choices((0, 1, 2), (45, 40, 15))[0]
    others = sorted(rng.sample([c for c in ALL_CAUSES if c != main], k))
    return main, ",".join(others)


def _health(rng: random.Random, ms: list[_M], main: str, failure: str | None) -> None:
    adults = [m for m in ms if 2014 - m.birth.year >= 18 and m.left_on is None] or ms
    for m in ms:
        if m.health == "1" and 2014 - m.birth.year >= 65 and rng.random() < 0.3:
            m.health = "2"
    if main == "01":
        m = rng.choice(adults)
        m.health = "3" if (failure == "income" or rng.random() < 0.4) else "2"
    elif main == "02":
        m = rng.choice(adults)
        m.health, m.disability = "4", rng.choice("1234")
    if failure == "insurance":
        rng.choice(adults).serious_insured = False


def _labour(rng: random.Random, m: _M) -> None:
    age = 2014 - m.birth.year
    if age < 16 or m.schooling in IN_SCHOOL or (m.reason and age <= 16):
        m.labour = "4"
    elif m.health == "3" or (m.health == "4" and m.disability in ("1", "2")):
        m.labour = "3"
    elif age <= 60:
        m.labour = "2" if rng.random() < 0.2 else "1"
        if age >= 18 and age <= 55 and rng.random() < 0.65:
            m.work_months = rng.randint(3, 12)
            m.work_place = rng.choices("1234", (15, 25, 30, 30))[0]
    elif age <= 70:
        m.labour = "1" if rng.random() < 0.35 else "4"
    else:
        m.labour = "4"


def _name(rng: random.Random, m: _M) -> str:
    return m.surname + "示" + rng.choice(MALE_GIVEN if m.male else FEMALE_GIVEN)


def _ratios(rng: random.Random, exit_year: int | None, failure: str | None) -> dict[int, float]:
    """Per-capita income ÷ the year's exit standard, per year."""
    out: dict[int, float] = {}
    below = rng.uniform(0.55, 0.88)
    above = None
    for y in P.YEARS:
        exited = exit_year is not None and y >= exit_year
        if y == 2020 and exit_year is None and failure != "income":
            exited = True  # income meets the standard; another criterion fails
        if exited:
            above = rng.uniform(P.ABOVE_MIN, 1.45) if above is None else above * rng.uniform(1.0, 1.08)
            out[y] = above
        else:
            if y > 2014:
                below = min(P.BELOW_MAX, below * rng.uniform(1.0, 1.07))
            out[y] = below
    return out


def _incomes(rng: random.Random, ms: list[_M], htype: str, exit_year: int | None, failure: str | None,
             forest: bool, poor_village: bool) -> list[tuple[int, int, tuple]]:
    """Yearly incomes 2014–2020: [(year, members counted, components in 分)], net income exactly
    round(standard × ratio) × members for each year (see ``_ratios``)."""
    rnd = rng.random
    ratios = _ratios(rng, exit_year, failure)
    spans = []  # (first year counted, last year counted, birth year) per member
    for m in ms:
        first = max(m.birth.year, m.entered_on.year if m.entered_on else 0)
        last = m.left_on.year - 1 if m.left_on else 9999
        spans.append((first, last, m.birth.year))
    has_worker = any(m.work_months for m in ms)
    if htype in ("6", "7"):
        share, main_item = 0.55 + 0.25 * rnd(), "tekun"
    elif htype == "2":
        share, main_item = 0.25 + 0.2 * rnd(), "dibao"
    else:
        share, main_item = 0.03 + 0.12 * rnd(), None
    w_other = 0.7 + 0.6 * rnd()
    w_main = (5.0 + 2.0 * rnd()) if main_item else 0.0
    w_pension = 1.6 + 0.8 * rnd()
    w_eco = (0.7 + 0.6 * rnd()) if forest else 0.0
    w_fp = (0.7 + 0.6 * rnd()) if rnd() < 0.08 else 0.0
    prop_share = 0.04 * rnd()
    wage_share = (0.5 + 0.4 * rnd()) if has_worker else 0.0
    expense_ratio = 0.25 + 0.2 * rnd()
    post = has_worker and rnd() < 0.15
    out = []
    c = 100  # 元 -> 分
    for y in P.YEARS:
        n = 0
        elderly = 0
        for first, last, by in spans:
            if first <= y <= last:
                n += 1
                if y - by >= 60:
                    elderly += 1
        total = round(P.EXIT_STANDARDS[y] * ratios[y]) * n
        exited = exit_year is not None and y >= exit_year
        budget = round(total * (share + (0.1 if elderly and not main_item else 0.0)))
        wp = w_pension * elderly
        wsum = w_other + w_main + wp + w_eco + w_fp
        main_amt = int(budget * w_main / wsum)
        pension = int(budget * wp / wsum)
        eco = int(budget * w_eco / wsum)
        fp = int(budget * w_fp / wsum)
        other = budget - main_amt - pension - eco - fp
        prop = round(total * prop_share)
        dividend = 0
        if y >= 2016 and (exited or poor_village):
            dividend = min(100 + int(300 * rnd()), max(0, total - budget - prop - 1))
            prop += dividend
        rest = total - budget - prop
        wage = round(rest * wage_share)
        business_net = rest - wage
        business_income = round(business_net / (1 - expense_ratio)) if business_net > 0 else 0
        if business_net > 0 and business_income <= business_net:
            business_income = business_net + 1
        business_expenses = business_income - business_net if business_income else 0
        pwp = min(wage, 3000 + int(3000 * rnd())) if post and exited and y >= 2017 and wage else 0
        out.append((y, n, (
            wage * c, pwp * c, business_income * c, business_expenses * c, prop * c, dividend * c,
            fp * c, (main_amt if main_item == "dibao" else 0) * c, (main_amt if main_item == "tekun" else 0) * c,
            pension * c, eco * c, other * c,
        )))
    return out


def iter_rows(plan: DemoPlan, ids: IdStart | None = None, taken_ids: set[str] | None = None,
              taken_numbers: set[str] | None = None) -> Iterator[tuple[VillagePlan, Batch]]:
    """Members and incomes for every household of the plan, one batch per village and copy.

    ``ids``: first primary keys to use; ``taken_ids`` / ``taken_numbers``: ID numbers and household
    numbers already in the database (never reused). Also sets each poor village's ``exit_year``
    (first year its remaining poor are below 2 % of its population) once its households are done.
    """
    ids = ids or IdStart()
    hid, mid, iid = ids.household, ids.member, ids.income
    alloc = IdAllocator(taken_ids)
    taken_numbers = taken_numbers or set()
    for code, layout in plan.counties.items():
        cp = layout.plan
        number_seq = 0
        for v in layout.villages:
            remaining = {y: 0 for y in P.YEARS}
            rng_v = Rng(f"{plan.seed}:cadres:{v.code}")
            cadres = [rng_v.choice(SURNAMES) + "示" + rng_v.choice(MALE_GIVEN + FEMALE_GIVEN)
                      for _ in range(max(2, len(v.households) // 6 + 1))]
            for copy in range(plan.scale):
                rng = Rng(f"{plan.seed}:{v.code}:{copy}")
                hh_rows, m_rows, i_rows = [], [], []
                for h in v.households:
                    number_seq += 1
                    number = f"{code}{number_seq:07d}"
                    while number in taken_numbers:
                        number_seq += 1
                        number = f"{code}{number_seq:07d}"
                    ms = _family(rng, h.size, h.failure)
                    main, others = _cause(rng, ms, h.household_type, h.failure)
                    _health(rng, ms, main, h.failure)
                    for m in ms:
                        _labour(rng, m)
                    # Housing
                    grade = rng.choices([g for g, _ in HOUSING_GRADES], [w for _, w in HOUSING_GRADES])[0]
                    renovated = None
                    if h.failure == "housing":
                        grade = "D"
                    elif grade in ("C", "D"):
                        renovated = rng.randint(2015, min(2019, h.exit_year or 2019))
                    piped = rng.random() < 0.92
                    farmland = round(rng.uniform(0.3, 4.5), 2)
                    forest = round(rng.uniform(0, 40 if cp.mountainous else 5), 2)
                    hh_rows.append((
                        hid, number, v.code, f"第{rng.randint(1, 12)}组", "", h.household_type, "national",
                        main, others, P.IDENTIFIED_YEAR, "exited" if h.exit_year else "poor", h.exit_year, None,
                        grade, renovated, Decimal(rng.randint(80, 320)) / 2, False, rng.randint(40, 120),
                        True, piped, None if piped else rng.randint(5, 18),
                        None if piped else rng.randint(100, 700), None, rng.randint(0, 20), True, True,
                        Decimal(str(farmland)), Decimal(str(round(farmland * rng.uniform(0.3, 1.0), 2))),
                        Decimal(str(forest)), rng.random() < 0.3, Decimal(str(round(rng.uniform(0, 3), 2))),
                        rng.choice(cadres), True, 1,
                    ))
                    # Members
                    dibao, tekun = h.household_type == "2", h.household_type in ("6", "7")
                    for m in ms:
                        address = code
                        if code == P.LUKOU and m.birth.year < 2018:
                            address = P.ZHUZHOU_COUNTY
                        number_id, birth = alloc.allocate(address, m.birth, m.male)
                        m.birth = birth
                        if m.entry_reason == "newborn":
                            m.entered_on = birth
                        age14 = 2014 - birth.year
                        eth = "01"
                        if v.town == YAO_TOWN and rng.random() < 0.6:
                            eth = "13"  # 瑶族
                        m_rows.append((
                            mid, hid, _name(rng, m), "id", number_id, "1" if m.male else "2", birth, m.relation,
                            eth, m.education, m.schooling, m.reason, m.health, m.disability, m.labour,
                            m.work_months, m.work_place, True, m.serious_insured,
                            dibao or tekun or m.health in ("3", "4"), age14 >= 16 and m.schooling not in IN_SCHOOL,
                            dibao, tekun, m.entered_on, m.entry_reason, m.left_on, m.leave_reason,
                        ))
                        mid += 1
                    # Incomes
                    for y, n, comps in _incomes(rng, ms, h.household_type, h.exit_year, h.failure, forest > 5,
                                                v.poor):
                        if h.exit_year is None or h.exit_year > y:
                            remaining[y] += n
                        i_rows.append((iid, hid, y, *comps))
                        iid += 1
                    hid += 1
                yield v, Batch(hh_rows, m_rows, i_rows)
            if v.poor:
                v.exit_year = next((y for y in P.YEARS[1:] if remaining[y] * 50 < v.population[y]), None)
