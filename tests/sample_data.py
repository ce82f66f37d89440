"""Small hand-made data for the page and admin tests (shared by tests/dashboards, tests/registry, tests/test_admin*).

株洲市 4302 with two counties: 炎陵县 430225 (town 霞阳镇 430225100, villages 201 and 202) and 茶陵县
430224 (town 城关镇 430224100, village 201). Registered population 2014–2020: 炎陵 villages 120 + 80 =
200, 茶陵 village 300.

Households (all identified 2014 except H5):
  H1 炎陵/201  张三 + 1          exited 2019
  H2 炎陵/201  李四 + 2 (child)   poor; low income (2018–2020)
  H3 炎陵/202  赵六              exited 2020
  H4 茶陵/201  王五 + 3, + 1 member who left on 2019-06-01; poor
  H5 茶陵/201  孙七 + 1          identified 2016, exited 2018

Hand-computed figures for 2020: 炎陵 remaining 1 household / 3 people, incidence 3 / 200 = 1.50 %;
茶陵 remaining 1 / 4 people, 4 / 300 = 1.33 %; 株洲市 7 / 500 = 1.40 %.
2019: 炎陵 remaining H2 + H3 = 4 people, 4 / 200 = 2.00 %.
"""

import datetime as dt
from types import SimpleNamespace

from xiaokang.areas.models import Area, AreaPopulation
from xiaokang.registry.idnumber import make_id_number
from xiaokang.registry.models import Household, Income, Member

SAFE = dict(
    food_secure=True, clothing_secure=True, housing_grade="A", water_quantity_lpd=100, water_quality_ok=True,
    water_piped=True, water_outage_days=0,
)
INSURED = dict(basic_medical_insurance=True, serious_illness_insurance=True, schooling_status="00",
               health_status="1", labour_capacity="1")

_seq = [0]


def _id(address6, birth, male=True):
    """A synthetic ID number, unique within one build(): sequence 900–999 first, then 000–899."""
    _seq[0] += 2
    if _seq[0] >= 1000:
        raise RuntimeError("sample_data: more than 499 people per build()")
    return make_id_number(address6, birth, (900 + _seq[0] + (1 if male else 0)) % 1000)


def member(household, name, relation, birth, male=True, **extra):
    fields = {**INSURED, **extra}
    return Member.objects.create(
        household=household, name=name, relation=relation, birth_date=birth, sex="1" if male else "2",
        id_number=_id(household.area_id[:6], birth, male), **fields,
    )


def household(number, area, identified=2014, exit_year=None, cause="01", **extra):
    status = "exited" if exit_year else "poor"
    return Household.objects.create(
        household_number=number, area=area, identified_year=identified, exit_year=exit_year,
        poverty_status=status, main_cause=cause, **{**SAFE, **extra},
    )


def income(h, year, wage):
    return Income.objects.create(household=h, year=year, wage=wage)


def build():
    """Create the areas, populations and households; return them in a namespace."""
    _seq[0] = 0  # sequence numbers restart with each test database
    hn = Area.objects.create(code="43", name="湖南省", level="province")
    zz = Area.objects.create(code="4302", name="株洲市", level="city", parent=hn)
    yl = Area.objects.create(code="430225", name="炎陵县", level="county", parent=zz)
    cl = Area.objects.create(code="430224", name="茶陵县", level="county", parent=zz)
    yl_t = Area.objects.create(code="430225100", name="霞阳镇", level="town", parent=yl)
    cl_t = Area.objects.create(code="430224100", name="城关镇", level="town", parent=cl)
    yl_a = Area.objects.create(code="430225100201", name="炎陵一村", level="village", parent=yl_t, is_poor_village=True)
    yl_b = Area.objects.create(code="430225100202", name="炎陵二村", level="village", parent=yl_t)
    cl_a = Area.objects.create(code="430224100201", name="茶陵一村", level="village", parent=cl_t)
    for year in range(2014, 2021):
        AreaPopulation.objects.create(area=yl_a, year=year, registered_population=120)
        AreaPopulation.objects.create(area=yl_b, year=year, registered_population=80)
        AreaPopulation.objects.create(area=cl_a, year=year, registered_population=300)
    # A county-level row must not be added to the village sums.
    AreaPopulation.objects.create(area=yl, year=2020, registered_population=999999)

    h1 = household("YL0001", yl_a, exit_year=2019, cause="01")
    m11 = member(h1, "张三", "01", dt.date(1970, 3, 1))
    member(h1, "张三妻", "02", dt.date(1972, 5, 1), male=False)
    h2 = household("YL0002", yl_a, cause="02", household_type="2")
    m21 = member(h2, "李四", "01", dt.date(1968, 1, 9))
    member(h2, "李四妻", "02", dt.date(1970, 2, 2), male=False)
    member(h2, "李小四", "03", dt.date(2010, 9, 1), schooling_status="20")
    h3 = household("YL0003", yl_b, exit_year=2020, cause="05")
    member(h3, "赵六", "01", dt.date(1950, 6, 6))
    h4 = household("CL0001", cl_a, cause="01")
    m41 = member(h4, "王五", "01", dt.date(1965, 7, 7))
    member(h4, "王五妻", "02", dt.date(1966, 8, 8), male=False)
    member(h4, "王小五", "03", dt.date(1990, 1, 1))
    member(h4, "王小妹", "04", dt.date(1992, 1, 1), male=False)
    member(h4, "王五母", "12", dt.date(1940, 1, 1), male=False, left_on=dt.date(2019, 6, 1), leave_reason="death")
    h5 = household("CL0002", cl_a, identified=2016, exit_year=2018, cause="08")
    member(h5, "孙七", "01", dt.date(1975, 1, 1))
    member(h5, "孙七妻", "02", dt.date(1976, 1, 1), male=False)

    for year in (2018, 2019, 2020):
        income(h1, year, 30000)
        income(h2, year, 6000)   # 2,000 per person: below 3,700 (2019) and 4,000 (2020)
        income(h3, year, 9000)
        income(h4, year, 8000)   # 2,000 per person
        income(h5, year, 20000)
    return SimpleNamespace(**locals())


def assess(*years):
    from xiaokang.policy.services import run_household_assessment

    for year in years:
        run_household_assessment(year, "4302")


def make_user(username, area=None, staff=False, superuser=False, role="county_admin"):
    from xiaokang.accounts.models import User

    user = User.objects.create_user(username=username, password="pw-Secret-123", area=area, role=role,
                                    is_superuser=superuser, is_staff=staff or superuser)
    if staff and not superuser:
        from xiaokang.core.admin import grant_area_admin_permissions

        grant_area_admin_permissions(user)
    return user
