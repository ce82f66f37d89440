"""Calibration of the synthetic Zhuzhou demo registry (演示数据标定).

Published figures (../shared/reference/policy.md §8.2), reproduced exactly at ``scale=1``:

- 炎陵县 430225: 54 poor villages; 8,164 households / 26,761 people registered in 2014 (people =
  members counted on 31 December 2014); poverty incidence 16.57 % in 2014, so its rural population
  (the sum of its villages' 2014 户籍人口) is 161,503 (26,761 ÷ 161,503 = 16.5700 %).
- 茶陵县 430224: 68 poor villages; 17,343 households / 64,656 people (Hunan Daily 2021-04-30, all exited).
- Both were approved to exit as counties in 2018 (after the evaluation of 2017 applicants), so both are
  below 2 % incidence at the end of 2017 (``county_exit_year`` 2018). Both are 罗霄山片区
  (Luoxiao Mountains contiguous-area) counties; neither is on the 592 national key-county list.
- 株洲市: 166 poor villages and 158,000 poor people in 2014 (city figures as commonly quoted; not
  confirmed by a primary source, policy.md §8.2).

**Synthetic allocation (not published):** the other 44 poor villages and 66,583 people are spread over
the other seven county-level areas by this module's own choice — 攸县, 醴陵市 and 渌口区 most, 天元区
a few, the urban districts 荷塘区、芦淞区、石峰区 no poor villages and a few hundred households each.
Their household counts, rural populations, village counts, the share of poor households living in
poor villages, the exit schedules and every household, member and income are invented. Real county
and town codes and names are used; villages are invented (``示例…村``, codes town + 201…).
"""

from __future__ import annotations

from dataclasses import dataclass, field

YEARS = tuple(range(2014, 2021))
# County exit is assessed for the year of the special evaluation (三率一度, from October 2017): the demo's
# 炎陵 and 茶陵 were evaluated on 2017 and exited in 2018.
COUNTY_EVALUATION_YEARS = (2017,)
IDENTIFIED_YEAR = 2014
CITY = "4302"
PROVINCE = "43"

# Household exit income standard per year (元/人·年) the demo incomes are calibrated against: the
# national line 2014–2016, Hunan's 2017/2018 values entered by the demo administrator (unconfirmed,
# see DEMO_PARAMETER_VALUES), Hunan 2019 (3700, rounded) and 2020 (4000).
EXIT_STANDARDS = {2014: 2800, 2015: 2855, 2016: 2952, 2017: 3335, 2018: 3535, 2019: 3700, 2020: 4000}
# Incomes stay at least this far from the standard (per capita): ≥ +10 % after exit, ≤ −6 % before.
ABOVE_MIN, BELOW_MAX = 1.10, 0.94

DEMO_PARAMETER_SOURCE = "演示录入：坊间常引湖南标准，未经核实，仅供演示"
DEMO_PARAMETER_VALUES = [
    # (name, province, effective_from, value)
    ("exit.income_standard", PROVINCE, "2017-01-01", 3335),
    ("exit.income_standard", PROVINCE, "2018-01-01", 3535),
]

# The retired code 株洲县 430221 (渌口区 430212 since 2018): ID numbers of 渌口区 people born before
# 2018 carry it as their address code, as real ones issued then would.
LUKOU, ZHUZHOU_COUNTY = "430212", "430221"


@dataclass(frozen=True)
class CountyPlan:
    code: str
    name: str
    households: int  # registered households (建档立卡户), identified 2014
    people: int  # members counted on 31 December 2014
    poor_villages: int  # 贫困村
    rural_population: int  # Σ village 户籍人口, 2014
    villages: int  # villages generated (poor and others)
    poor_village_share: float  # share of poor households living in poor villages
    poor_village_incidence: tuple[float, float]  # range of 2014 incidence in poor villages
    village_exit_years: dict[int, int] = field(default_factory=dict)  # planned poor-village exits per year
    household_exit: dict[int, float] = field(default_factory=dict)  # exit-year weights outside poor villages
    not_exited: int = 0  # households still not meeting the standard in 2020 (deliberate failures)
    mountainous: bool = False
    published: bool = False  # figures published (True) or a synthetic allocation (False)
    is_contiguous_area_county: bool = False
    is_national_key_county: bool = False
    county_exit_year: int | None = None


FAST = {2015: 0.30, 2016: 0.34, 2017: 0.31, 2018: 0.03, 2019: 0.015, 2020: 0.005}
SLOW = {2015: 0.12, 2016: 0.18, 2017: 0.22, 2018: 0.24, 2019: 0.17, 2020: 0.07}
URBAN = {2015: 0.15, 2016: 0.20, 2017: 0.25, 2018: 0.20, 2019: 0.15, 2020: 0.05}

COUNTIES: dict[str, CountyPlan] = {p.code: p for p in [
    CountyPlan("430202", "荷塘区", 600, 1800, 0, 30_000, 14, 0.0, (0.1, 0.2), {}, URBAN, 1),
    CountyPlan("430203", "芦淞区", 700, 2200, 0, 36_000, 16, 0.0, (0.1, 0.2), {}, URBAN, 1),
    CountyPlan("430204", "石峰区", 520, 1583, 0, 26_000, 12, 0.0, (0.1, 0.2), {}, URBAN, 1),
    CountyPlan("430211", "天元区", 1300, 4000, 3, 95_000, 40, 0.35, (0.10, 0.18),
               {2017: 1, 2018: 1, 2019: 1}, URBAN, 2),
    CountyPlan("430212", "渌口区", 4700, 15000, 12, 265_000, 120, 0.40, (0.10, 0.20),
               {2016: 2, 2017: 4, 2018: 4, 2019: 2}, SLOW, 7),
    CountyPlan("430223", "攸县", 6300, 20000, 15, 640_000, 280, 0.40, (0.10, 0.20),
               {2016: 3, 2017: 5, 2018: 4, 2019: 3}, SLOW, 9),
    CountyPlan("430224", "茶陵县", 17343, 64656, 68, 513_000, 250, 0.50, (0.18, 0.32),
               {2015: 14, 2016: 24, 2017: 30}, FAST, 3, mountainous=True, published=True,
               is_contiguous_area_county=True, county_exit_year=2018),
    CountyPlan("430225", "炎陵县", 8164, 26761, 54, 161_503, 125, 0.55, (0.18, 0.35),
               {2015: 15, 2016: 20, 2017: 19}, FAST, 2, mountainous=True, published=True,
               is_contiguous_area_county=True, county_exit_year=2018),
    CountyPlan("430281", "醴陵市", 6900, 22000, 14, 720_000, 300, 0.40, (0.10, 0.20),
               {2016: 3, 2017: 4, 2018: 4, 2019: 3}, SLOW, 10),
]}

CITY_POOR_VILLAGES = 166
CITY_PEOPLE = 158_000
assert sum(p.poor_villages for p in COUNTIES.values()) == CITY_POOR_VILLAGES
assert sum(p.people for p in COUNTIES.values()) == CITY_PEOPLE
assert all(sum(p.village_exit_years.values()) == p.poor_villages for p in COUNTIES.values())
