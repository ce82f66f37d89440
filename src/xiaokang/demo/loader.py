"""Load the synthetic registry (``xiaokang.demo.generator``) into the database, fast and idempotently.

``load_demo`` runs in one transaction: load the packaged Zhuzhou divisions, wipe earlier demo data
(``is_demo``: households with everything hanging off them, then stale demo villages), upsert the demo
villages and their yearly population, then insert households, members and incomes in large batches
with primary keys assigned here (no refetching): ``COPY`` on PostgreSQL, ``executemany`` elsewhere.
Sequences are reset afterwards so ordinary inserts continue after the demo rows.

Also here: the administrator parameter values the demo years need (``enter_demo_parameters``), the
demo users (``create_demo_users``) and the yearly assessment run (``assess_demo``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from xiaokang.core.cache import REGISTRY, bump
from xiaokang.areas.models import Area, AreaPopulation, Level
from xiaokang.areas.services import import_zhuzhou
from xiaokang.registry.models import Household, Income, Member

from . import generator as G
from . import plan as P

FLUSH_ROWS = 50_000  # income rows per insert round (households and members follow their incomes)
DEFAULT_PASSWORD = "xiaokang-demo-2020"


@dataclass
class LoadResult:
    seed: int
    scale: int
    counties: list[str]
    villages: int = 0
    poor_villages: int = 0
    households: int = 0
    members: int = 0
    incomes: int = 0
    seconds: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ deleting


def raw_cascade_delete(qs: models.QuerySet) -> int:
    """Delete ``qs`` with set-based SQL, following ``on_delete`` of every relation pointing at it.

    CASCADE recurses, SET_NULL updates, DO_NOTHING is skipped, PROTECT/RESTRICT raise
    ``ProtectedError`` when rows refer to the doomed ones. No object is loaded into Python, so tens of
    thousands of households with their members, incomes and assessments go in a few statements.
    """
    model = qs.model
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        fk = rel.field
        target = qs.values(rel.field_name)
        related = rel.related_model._base_manager.filter(**{f"{fk.attname}__in": target})
        on_delete = fk.remote_field.on_delete
        if on_delete is models.CASCADE:
            raw_cascade_delete(related)
        elif on_delete is models.SET_NULL:
            related.update(**{fk.attname: None})
        elif on_delete is models.DO_NOTHING:
            continue
        elif on_delete in (models.PROTECT, models.RESTRICT):
            blocking = list(related[:5])
            if blocking:
                raise ProtectedError(f"{rel.related_model._meta.label} 仍引用待删除的 {model._meta.label}", blocking)
        else:  # SET_DEFAULT / SET(...): let Django's collector handle these rare cases row by row
            related_ids = list(related.values_list("pk", flat=True))
            if related_ids:
                rel.related_model._base_manager.filter(pk__in=related_ids).delete()
    return qs._raw_delete(qs.db)


def wipe_demo_registry() -> int:
    """Delete every demo household (is_demo) and everything that hangs off it. Returns households deleted.

    The history rows of demo households, members, incomes and pairings (the creation rows of the load, and
    those of edits since) go too, so that reused primary keys never inherit an old history; so do the
    supervision problems recorded on demo households, which would otherwise hold them (PROTECT)."""
    from xiaokang.workflow.demo import wipe_demo as wipe_demo_workflows

    from xiaokang.registry.models import Pairing
    from xiaokang.supervision.models import Problem

    wipe_demo_workflows()  # generic relations: not reached by the cascade below
    demo = Household._base_manager.filter(is_demo=True).values("pk")
    # supervision problems keep their household (PROTECT: a record of an inspection is not deleted with it) —
    # the demo's own go with the demo households
    problems = Problem._base_manager.filter(household_id__in=demo)
    problems._raw_delete(problems.db)
    for model, lookup in ((Household, "id__in"), (Member, "household_id__in"), (Income, "household_id__in"),
                          (Pairing, "household_id__in"), (Problem, "household_id__in")):
        history = model.history.model._base_manager.filter(**{lookup: demo})
        history._raw_delete(history.db)
    return raw_cascade_delete(Household._base_manager.filter(is_demo=True))


# ----------------------------------------------------------------------------------------- inserting


def _columns(model, names: tuple[str, ...]):
    """DB columns for the generator's attribute names plus constant columns for every other field."""
    now = timezone.now()
    given = []
    for name in names:
        given.append(model._meta.get_field(name).column)
    extra_cols, extra_vals = [], []
    named = set(names)
    for f in model._meta.concrete_fields:
        if f.attname in named or f.name in named:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = f.get_default()
        extra_cols.append(f.column)
        extra_vals.append(f.get_db_prep_save(value, connection))
    return given + extra_cols, tuple(extra_vals)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def insert_rows(model, names: tuple[str, ...], rows: list[tuple]) -> int:
    """Insert generator rows (values in DB form, in the order of ``names``) into ``model``'s table."""
    if not rows:
        return 0
    cols, extra = _columns(model, names)
    table = _quote(model._meta.db_table)
    col_sql = ", ".join(_quote(c) for c in cols)
    data = rows if not extra else [r + extra for r in rows]
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({col_sql}) FROM STDIN") as copy:
                for r in data:
                    copy.write_row(r)
    else:
        sql = f"INSERT INTO {table} ({col_sql}) VALUES ({', '.join(['%s'] * len(cols))})"
        with connection.cursor() as cur:
            for i in range(0, len(data), 100_000):
                cur.executemany(sql, data[i:i + 100_000])
    return len(rows)


def _next_id(model) -> int:
    return (model._base_manager.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequences(models_) -> None:
    sql = connection.ops.sequence_reset_sql(no_style(), models_)
    if sql:
        with connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)


def _bar(total, desc, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="户", unit_scale=True, leave=True)


def load_demo(seed: int = G.DEFAULT_SEED, scale: int = 1, counties=None, progress: bool = False,
              say=None) -> LoadResult:
    """Replace the demo registry with a fresh one for ``counties`` (default all nine), in one transaction."""
    t0 = dt.datetime.now()
    say = say or (lambda msg: None)
    result = LoadResult(seed, scale, sorted(counties) if counties else sorted(P.COUNTIES))
    with transaction.atomic():
        bump(REGISTRY)  # bulk writes below send no signals
        import_zhuzhou()
        say("清除旧的演示数据（演示户及其上登记的走访、督查问题、审批等）……")
        wipe_demo_registry()
        reserved = set(Area.objects.filter(level=Level.VILLAGE, is_demo=False,
                                           code__startswith=P.CITY).values_list("code", flat=True))
        plan = G.make_plan(seed, counties, scale, reserved_codes=reserved)
        result.seconds["wipe+plan"] = (dt.datetime.now() - t0).total_seconds()

        # Villages (upsert), stale demo villages, populations, county attributes.
        villages = plan.villages
        codes = {v.code for v in villages}
        Area.objects.bulk_create(
            [Area(code=v.code, name=v.name, level=Level.VILLAGE, parent_id=v.town, is_demo=True,
                  is_poor_village=v.poor, poor_village_identified_year=P.IDENTIFIED_YEAR if v.poor else None,
                  village_exit_year=None) for v in villages],
            batch_size=2000, update_conflicts=True, unique_fields=["code"],
            update_fields=["name", "level", "parent", "is_demo", "is_poor_village", "poor_village_identified_year",
                           "village_exit_year"],
        )
        stale = Area.objects.filter(is_demo=True, level=Level.VILLAGE).exclude(code__in=codes)
        AreaPopulation.objects.filter(area__is_demo=True).delete()
        try:
            with transaction.atomic():
                stale.delete()
        except ProtectedError:
            say("部分旧演示村仍被引用（如用户管辖区域），已保留。")
        AreaPopulation.objects.bulk_create(
            [AreaPopulation(area_id=v.code, year=y, registered_population=pop, rural_population=pop,
                            source=G.POPULATION_SOURCE) for v in villages for y, pop in v.population.items()],
            batch_size=5000,
        )
        for code in plan.counties:
            cp = P.COUNTIES[code]
            Area.objects.filter(code=code).update(
                is_contiguous_area_county=cp.is_contiguous_area_county,
                is_national_key_county=cp.is_national_key_county,
                county_exit_year=cp.county_exit_year,
            )
        result.villages = len(villages)
        result.poor_villages = sum(1 for v in villages if v.poor)

        # Households, members, incomes.
        ids = G.IdStart(_next_id(Household), _next_id(Member), _next_id(Income))
        taken_ids = set(Member._base_manager.values_list("id_number", flat=True))
        taken_numbers = set(Household._base_manager.values_list("household_number", flat=True))
        t1 = dt.datetime.now()
        bar = _bar(plan.totals()["households"], "生成并写入演示户", progress)
        hh, mm, ii = [], [], []

        def flush():
            result.households += insert_rows(Household, G.HOUSEHOLD_COLUMNS, hh)
            result.members += insert_rows(Member, G.MEMBER_COLUMNS, mm)
            result.incomes += insert_rows(Income, G.INCOME_COLUMNS, ii)
            hh.clear(), mm.clear(), ii.clear()

        for _village, batch in G.iter_rows(plan, ids, taken_ids, taken_numbers):
            hh.extend(batch.households)
            mm.extend(batch.members)
            ii.extend(batch.incomes)
            if bar is not None:
                bar.update(len(batch.households))
            if len(ii) >= FLUSH_ROWS:
                flush()
        flush()
        if bar is not None:
            bar.close()
        result.seconds["registry"] = (dt.datetime.now() - t1).total_seconds()
        for v in villages:
            if v.poor:
                Area.objects.filter(code=v.code).update(village_exit_year=v.exit_year)
        _reset_sequences([Household, Member, Income])
        t2 = dt.datetime.now()
        write_creation_history(timezone.now())
        result.seconds["history"] = (dt.datetime.now() - t2).total_seconds()
    from xiaokang.core.db import analyze

    # fresh statistics for the planner, the history tables included (without them a household page's
    # history query is planned for thousands of rows: a parallel scan per page view)
    from xiaokang.core.audit import history_tables

    analyze("registry_household", "registry_member", "registry_income", *history_tables(Household, Member, Income))
    result.seconds["total"] = (dt.datetime.now() - t0).total_seconds()
    return result


DEMO_HISTORY_REASON = "演示数据生成（xiaokang demo）"


def write_creation_history(now) -> None:
    """The creation rows (history_type "+", channel ``command``, no user) of every demo household, member
    and income, written set-based after the bulk insert: a demo record's first edit then shows its old
    and new values like any other record's."""
    from xiaokang.core.audit import history_select

    qn = connection.ops.quote_name
    demo_households = f"SELECT id FROM {qn(Household._meta.db_table)} WHERE is_demo"
    with connection.cursor() as cur:
        for model, where in ((Household, "t.is_demo"), (Member, f"t.household_id IN ({demo_households})"),
                             (Income, f"t.household_id IN ({demo_households})")):
            cols, sql, params = history_select(model, "t", "+", DEMO_HISTORY_REASON, None, now, "command")
            cur.execute(f"INSERT INTO {qn(model.history.model._meta.db_table)} ({', '.join(map(qn, cols))}) "
                        f"SELECT {', '.join(sql)} FROM {qn(model._meta.db_table)} t WHERE {where}", params)


# ------------------------------------------------------------------------------ parameters, users, runs


def enter_demo_parameters(entered_by=None) -> list:
    """Enter Hunan's 2017 and 2018 exit standards as an administrator would (unconfirmed: demo only).

    Without them the 2017 and 2018 assessments raise ``ParameterUnconfirmed``.
    """
    from xiaokang.policy.models import ParameterValue

    rows = []
    for name, province, start, value in P.DEMO_PARAMETER_VALUES:
        obj, _ = ParameterValue.objects.update_or_create(
            name=name, province=province, effective_from=dt.date.fromisoformat(start),
            defaults={"value": value, "unit": "元/人·年", "status": "entered", "source": P.DEMO_PARAMETER_SOURCE,
                      "entered_by": entered_by},
        )
        rows.append(obj)
    return rows


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    area: str | None
    label: str


def demo_users() -> list[DemoUser]:
    """The demo accounts: city, two county, one town and one village administrator, and the superuser ``admin``.

    The town and village accounts sit where the demo's first open household exit is (the 炎陵 household still
    poor in 2020, ``xiaokang.workflow.demo``), so its steps can be taken by the right role at each level:
    ``demo_village`` (村), ``demo_town`` (乡镇), ``demo_yanling`` (县). Before the registry is loaded the town
    falls back to 霞阳镇 and there is no village account.
    """
    town, village = G.towns_by_county()["430225"][0][0], None  # 霞阳镇, 炎陵县
    first = (Household._base_manager.filter(is_demo=True, poverty_status="poor",
                                                area__code__startswith="430225")
             .order_by("area_id", "pk").values_list("area_id", flat=True).first())
    if first:
        town, village = first[:9], first
    names = dict(Area.objects.filter(code__in=[c for c in (town, village) if c]).values_list("code", "name"))
    users = [
        DemoUser("admin", "system_admin", None, "超级管理员"),
        DemoUser("demo_city", "city_admin", P.CITY, "市级管理员（株洲市）"),
        DemoUser("demo_yanling", "county_admin", "430225", "县级管理员（炎陵县）"),
        DemoUser("demo_chaling", "county_admin", "430224", "县级管理员（茶陵县）"),
        DemoUser("demo_town", "town_admin", town, f"乡镇管理员（炎陵县{names.get(town, '')}）"),
    ]
    if village:
        users.append(DemoUser("demo_village", "village_admin", village, f"村级管理员（{names.get(village, '')}）"))
    # the roles that read less: aggregates only (statistician, donor), read within the county (inspector), and
    # a pairing cadre of the same village who reads only the households paired with them (PAIRED_DEMO)
    users += [
        DemoUser("demo_stat", "statistician", "430225", "统计员（炎陵县，只看汇总）"),
        DemoUser("demo_donor", "donor", P.CITY, "爱心人士（株洲市，只看汇总）"),
        DemoUser("demo_inspector", "inspector", "430225", "督查员（炎陵县）"),
    ]
    if village:
        users.append(DemoUser("demo_cadre", "pairing_cadre", village,
                              f"帮扶责任人（{names.get(village, '')}，结对 {PAIRED_DEMO} 户）"))
    return users


# Households of the demo village paired with ``demo_cadre`` (its first poor ones).
PAIRED_DEMO = 3
DEMO_VISITS = [  # (date, way, what the visit found, difficulties, next steps): synthetic
    ("2020-03-16", "home", "入户了解春耕生产、收入和身体状况，宣讲产业奖补政策", "缺少春耕化肥", "联系合作社统一代购化肥"),
    ("2020-09-08", "phone", "电话回访，了解秋收和城乡居民医保缴费情况", "", "提醒按期缴纳城乡居民医保"),
]
ADMIN_ROLES = {"city_admin", "county_admin", "town_admin", "village_admin"}


def demo_password() -> str:
    return os.environ.get("XIAOKANG_DEMO_PASSWORD") or DEFAULT_PASSWORD


def create_demo_users(password: str | None = None) -> list[tuple[DemoUser, object]]:
    """Create or reset the demo users (idempotent: the password and area are set again each time)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    password = password or demo_password()
    out = []
    for du in demo_users():
        user, _ = User.objects.get_or_create(username=du.username)
        user.role = du.role
        user.area_id = du.area
        user.is_superuser = user.is_staff = du.username == "admin"
        user.set_password(password)
        user.save()
        if du.area and du.role in ADMIN_ROLES:
            _grant_area_admin(user)
        if du.role == "pairing_cadre":
            _pair_demo_cadre(user)
        out.append((du, user))
    by_name = {du.username: user for du, user in out}
    if "demo_inspector" in by_name and "demo_village" in by_name:
        _demo_problems(by_name["demo_inspector"], by_name["demo_village"])
    return out


# Three supervision problems (督查问题) in the demo village, each taken through the services by the demo's
# inspector and village administrator: (category, how found, found, deadline, description, on the village's first
# household?, steps). A step is (days after found, "rectify" | "pass" | "send_back", note). Synthetic.
DEMO_PROBLEMS = [
    ("assistance", "covert", "2020-04-25", "2020-05-25", "帮扶手册中的收入测算表未经户主签字确认", True,
     [(20, "rectify", "已与户主逐项核对收入并补签"), (30, "pass", "户主确认收入测算无误，签字满意")]),
    ("assistance", "open", "2020-09-10", "2020-10-10", "帮扶责任人变更后户档案未更新，帮扶手册走访记录滞后", False,
     [(15, "rectify", "已更新户档案"), (25, "send_back", "帮扶手册走访记录仍未补齐"), (35, "rectify", "已补齐走访记录")]),
    ("data", "complaint", "2020-11-02", "2020-11-30", "群众反映：系统登记的务工收入与实际不符，需入户核实", False, []),
]


def _demo_problems(inspector, village_admin) -> None:
    """The ``DEMO_PROBLEMS`` through ``supervision.services`` (so their course names who did what), once."""
    import datetime as dt

    from xiaokang.supervision import services as supervision
    from xiaokang.supervision.models import Problem

    village = village_admin.area_id
    first = Household._base_manager.filter(is_demo=True, area_id=village).order_by("pk").first()
    for category, source, found, deadline, description, on_household, steps in DEMO_PROBLEMS:
        if Problem.objects.filter(area_code=village, description=description).exists():
            continue
        found_on = dt.date.fromisoformat(found)
        problem = supervision.record_problem(
            inspector, category=category, source=source, description=description, found_on=found_on,
            deadline=dt.date.fromisoformat(deadline), household=first if on_household else None, area_code=village)
        for days, action, note in steps:
            on = found_on + dt.timedelta(days=days)
            if action == "rectify":
                problem = supervision.rectify(problem, village_admin, note=note, on=on)
            else:
                problem = supervision.revisit(problem, inspector, note=note, on=on, passed=action == "pass",
                                              deadline=on + dt.timedelta(days=15) if action == "send_back" else None)


def _pair_demo_cadre(user) -> None:
    """Pair ``user`` with the first ``PAIRED_DEMO`` poor households of their village (idempotent). The cadre
    takes the name the first household's collection form gives its 帮扶责任人, and the other paired households
    name them too (the form's field and the pairing then agree)."""
    import datetime as dt

    from xiaokang.registry.models import Pairing, Visit

    households = list(Household._base_manager.filter(is_demo=True, area_id=user.area_id).order_by("pk")[:PAIRED_DEMO])
    name = households[0].pairing_cadre.strip() if households else ""
    if name and (user.last_name, user.first_name) != (name[:1], name[1:]):
        user.last_name, user.first_name = name[:1], name[1:]
        user.save(update_fields=["last_name", "first_name"])
    for household in households:
        if name and household.pairing_cadre != name:
            household.pairing_cadre = name
            household._change_reason = DEMO_HISTORY_REASON  # the history's 来源
            household.save()
        Pairing.objects.get_or_create(cadre=user, household_id=household.pk, ended_on=None,
                                      defaults={"started_on": dt.date(2016, 1, 1)})
    # two visits (帮扶走访记录) of the first paired household, so that the visit panel and list show some
    for household in households[:1]:
        for on, mode, situation, needs, measures in DEMO_VISITS:
            Visit.objects.get_or_create(household_id=household.pk, cadre=user, visited_on=on, defaults={
                "mode": mode, "situation": situation, "needs": needs, "measures": measures,
                "channel": "command"})


def _grant_area_admin(user) -> None:
    """Staff in the 辖区管理员 group (``xiaokang.core.admin``), or plain staff if that is unavailable."""
    try:
        from xiaokang.core.admin import grant_area_admin_permissions
    except ImportError:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        return
    grant_area_admin_permissions(user)


def assess_demo(years=P.YEARS, area: str = P.CITY, progress: bool = False) -> list:
    """Run and store the household assessment for each year (``run_household_assessment``)."""
    from xiaokang.policy.services import run_household_assessment

    runs = []
    it = years
    if progress:
        from tqdm import tqdm

        it = tqdm(list(years), desc="年度评估", unit="年")
    for y in it:
        runs.append(run_household_assessment(y, area))
    from xiaokang.core.db import analyze

    analyze("registry_household", "registry_member", "registry_income", "policy_householdassessment",
            "policy_assessmentreason")
    return runs
