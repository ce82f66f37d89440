"""Staging, the checks against the registry, and apply (入库) — all set-based SQL.

The parsed rows (streamed from the parse's files by ``Parsed.batches``, one Arrow table of at most
``validate.STAGE_BATCH_ROWS`` rows at a time) are loaded into temporary staging tables with the registry's
column types (``stage``: households, members, incomes; ``stage_keys``: only the keys, for a validation
without apply): one ``COPY … (FORMAT csv)`` per table fed by Arrow's CSV writer on PostgreSQL,
``executemany`` elsewhere. Then:

- **checks** (``check_staged``), one query each: a household number that already belongs to a household
  outside the uploader's area; a person (ID number) who is already a member of another household
  (``Q02_DUPLICATE_PERSON``);
- **apply** (``apply_staged``), per table (households by 户编号, members by 证件号码, incomes by household
  and 年度): update only the rows whose values differ (``IS DISTINCT FROM``; households also get
  ``version + 1``, so that a web edit opened before gets its conflict), insert the new ones with
  ``INSERT … SELECT … WHERE NOT EXISTS``, and write one django-simple-history row for each new or changed
  record (user, time, channel ``import``, change reason naming the batch and the file) — on PostgreSQL
  each step with its history in one statement (``WITH x AS (UPDATE/INSERT … RETURNING *) INSERT INTO
  <history> SELECT … FROM x``). Unchanged rows are not touched: importing the same file twice changes
  nothing the second time. Members of an imported household that the file no longer lists are reported
  (``missing_members``), never deleted.

Runs inside the caller's transaction (``services.apply``); the staging tables are dropped at the end.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django.utils import timezone

from xiaokang.quality import catalogue as Q
from xiaokang.registry.models import Household, Income, Member

from . import layout as L
from .readers import Issue
from .validate import HN, Parsed, colname

STAGE_H, STAGE_M, STAGE_I = "xk_import_household", "xk_import_member", "xk_import_income"


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _fields(model, columns):
    return [model._meta.get_field(c.key) for c in columns]



def _layout_fields():
    return (_fields(Household, L.HOUSEHOLD_COLUMNS), _fields(Member, L.MEMBER_COLUMNS),
            _fields(Income, L.INCOME_COLUMNS))


def _distinct(a: str, b: str) -> str:
    if connection.vendor == "postgresql":
        return f"{a} IS DISTINCT FROM {b}"
    return f"{a} IS NOT {b}"


def _create(table: str, fields, extra: list[tuple[str, str]]) -> None:
    cols = [f"{qn(f.column)} {f.db_type(connection).split(' CHECK')[0].split(' check')[0]}" for f in fields]
    cols += [f"{qn(n)} {t}" for n, t in extra]
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {qn(table)}")
        cur.execute(f"CREATE TEMPORARY TABLE {qn(table)} ({', '.join(cols)})")


def _load(table: str, columns: list[str], tables) -> int:
    """Load Arrow tables (an iterable; columns in the order of ``columns``) into a staging table, one at a
    time: one ``COPY … (FORMAT csv)`` fed by Arrow's CSV writer on PostgreSQL, ``executemany`` elsewhere.
    Returns the number of rows."""
    col_sql = ", ".join(qn(c) for c in columns)
    rows = 0
    if connection.vendor == "postgresql":
        import pyarrow.csv as pcsv

        options = pcsv.WriteOptions(include_header=False)
        connection.ensure_connection()
        with connection.connection.cursor() as cur:
            with cur.copy(f"COPY {qn(table)} ({col_sql}) FROM STDIN WITH (FORMAT csv)") as copy:
                for data in tables:
                    if data.num_rows:
                        buf = io.BytesIO()
                        pcsv.write_csv(data, buf, options)
                        copy.write(buf.getbuffer())
                        rows += data.num_rows
                        del buf
    else:
        sql = f"INSERT INTO {qn(table)} ({col_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
        with connection.cursor() as cur:
            for data in tables:
                for start in range(0, data.num_rows, 50_000):
                    chunk = data.slice(start, 50_000)
                    cur.executemany(sql, list(zip(*(chunk.column(i).to_pylist() for i in range(chunk.num_columns)))))
                rows += data.num_rows
    return rows


def drop_staging() -> None:
    """Drop the staging tables (ignored when the transaction has already failed: it rolls them back)."""
    try:
        with connection.cursor() as cur:
            for t in (STAGE_H, STAGE_M, STAGE_I):
                cur.execute(f"DROP TABLE IF EXISTS {qn(t)}")
    except DatabaseError:
        pass


def stage_keys(parsed: Parsed) -> None:
    """Narrow staging tables (keys only) for the registry checks of a validation without apply."""
    import pyarrow.compute as pc

    hn_f = Household._meta.get_field("household_number")
    id_f, name_f = Member._meta.get_field("id_number"), Member._meta.get_field("name")
    key = [("_sheet", "varchar(100)"), ("_row", "integer")]
    _create(STAGE_H, [hn_f], key)
    _create(STAGE_M, [id_f, name_f], [*key, ("household_number", "varchar(32)")])
    _create(STAGE_I, [], [("household_number", "varchar(32)")])
    _load(STAGE_H, ["household_number", "_sheet", "_row"], parsed.batches("households", [HN, "_sheet", "_row"]))
    m_names = ["member__id_number", "member__name", "_sheet", "_row", "household_number"]
    _load(STAGE_M, ["id_number", "name", "_sheet", "_row", "household_number"],
          (t.filter(pc.is_valid(t.column("member__id_number"))) for t in parsed.batches("members", m_names)))
    with connection.cursor() as cur:
        cur.execute(f"CREATE INDEX xk_import_h_hn ON {qn(STAGE_H)} (household_number)")
        cur.execute(f"CREATE INDEX xk_import_m_id ON {qn(STAGE_M)} (id_number)")


def stage(parsed: Parsed, exclude: set[str] = frozenset()) -> dict[str, int]:
    """Create and fill the staging tables with the parsed households not in ``exclude`` (streamed from
    ``parsed.batches``, one Arrow table at a time)."""
    hf, mf, inf = _layout_fields()
    key = ("_sheet", "varchar(100)"), ("_row", "integer")
    _create(STAGE_H, hf, list(key))
    _create(STAGE_M, mf, [*key, ("household_number", "varchar(32)")])
    _create(STAGE_I, inf, [*key, ("household_number", "varchar(32)")])
    import pyarrow as pa
    import pyarrow.compute as pc

    bad = pa.array(sorted(exclude), pa.string()) if exclude else None

    def keep(tables, column):
        for t in tables:
            if bad is not None:
                t = t.filter(pc.invert(pc.fill_null(pc.is_in(t.column(column), value_set=bad), False)))
            yield t

    h_names = [colname(c) for c in L.HOUSEHOLD_COLUMNS] + ["_sheet", "_row"]
    m_names = [colname(c) for c in L.MEMBER_COLUMNS] + ["_sheet", "_row", "household_number"]
    i_names = [colname(c) for c in L.INCOME_COLUMNS] + ["_sheet", "_row", HN]
    hrows = _load(STAGE_H, [f.column for f in hf] + ["_sheet", "_row"], keep(parsed.batches("households", h_names), HN))
    mrows = _load(STAGE_M, [f.column for f in mf] + ["_sheet", "_row", "household_number"],
                  keep(parsed.batches("members", m_names), "household_number"))
    irows = _load(STAGE_I, [f.column for f in inf] + ["_sheet", "_row", "household_number"],
                  (t.filter(pc.is_valid(t.column("income__year")))
                   for t in keep(parsed.batches("households", i_names), HN)))
    with connection.cursor() as cur:
        cur.execute(f"CREATE INDEX xk_import_h_hn ON {qn(STAGE_H)} (household_number)")
        cur.execute(f"CREATE INDEX xk_import_m_id ON {qn(STAGE_M)} (id_number)")
        cur.execute(f"CREATE INDEX xk_import_m_hn ON {qn(STAGE_M)} (household_number)")
    return {"households": hrows, "members": mrows, "incomes": irows}


def check_staged(parsed: Parsed, area_code: str) -> list[Issue]:
    """Checks against the registry, one query each; the issues are also appended to ``parsed.issues``."""
    file = parsed.file
    issues: list[Issue] = []
    hh = qn(Household._meta.db_table)
    mm = qn(Member._meta.db_table)
    with connection.cursor() as cur:
        if area_code:
            cur.execute(
                f"SELECT s._sheet, s._row, s.household_number, h.area_code FROM {qn(STAGE_H)} s "
                f"JOIN {hh} h ON h.household_number = s.household_number WHERE h.area_code NOT LIKE %s",
                [area_code + "%"])
            for sheet, row, hn, other in cur.fetchall():
                issues.append(Issue(file, sheet, row, L.BY_KEY[L.HOUSEHOLD, "household_number"].header, hn,
                                    f"该户编号已属于管辖区域以外的户（所在村 {other}），不能导入", hn,
                                    "IMP_OUT_OF_AREA"))
        cur.execute(
            f"SELECT s._sheet, s._row, s.household_number, s.id_number, s.name, h.household_number "
            f"FROM {qn(STAGE_M)} s JOIN {mm} m ON m.id_number = s.id_number "
            f"JOIN {hh} h ON h.id = m.household_id WHERE h.household_number <> s.household_number")
        for sheet, row, hn, ident, name, other in cur.fetchall():
            issues.append(Issue(file, sheet, row, L.BY_KEY[L.MEMBER, "id_number"].header, ident,
                                Q.render(Q.DUPLICATE_PERSON, value=f"已是户 {other} 的成员", name=name), hn,
                                Q.DUPLICATE_PERSON))
    parsed.issues.extend(issues)
    return issues


def remove_households(numbers: set[str]) -> None:
    """Drop rejected households from the staging tables (partial import): one statement per table on
    PostgreSQL (``= ANY(array)``), one per 500 households elsewhere."""
    if not numbers:
        return
    ordered = sorted(numbers)
    with connection.cursor() as cur:
        for t in (STAGE_H, STAGE_M, STAGE_I):
            if connection.vendor == "postgresql":
                cur.execute(f"DELETE FROM {qn(t)} WHERE household_number = ANY(%s)", [ordered])
                continue
            for start in range(0, len(ordered), 500):
                chunk = ordered[start:start + 500]
                cur.execute(f"DELETE FROM {qn(t)} WHERE household_number IN ({', '.join(['%s'] * len(chunk))})",
                            chunk)


@dataclass
class MergeCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass
class ApplyResult:
    households: MergeCounts = field(default_factory=MergeCounts)
    members: MergeCounts = field(default_factory=MergeCounts)
    incomes: MergeCounts = field(default_factory=MergeCounts)
    missing_members: list[dict] = field(default_factory=list)


def _extra_columns(model, layout_cols: set[str], fk: dict[str, str], now):
    """Columns of ``model`` outside the layout: (names, SQL expressions, parameters) for an INSERT."""
    names, sql, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in layout_cols:
            continue
        names.append(f.column)
        if f.column in fk:
            sql.append(fk[f.column])
        else:
            value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            sql.append("%s")
            params.append(f.get_db_prep_save(value, connection))
    return names, sql, params


def _history_select(model, src: str, history_type: str, reason: str, user_id, now):
    """(columns, SQL expressions, parameters) of the django-simple-history row of each record in ``src``."""
    hist = model.history.model
    live = {f.name for f in model._meta.concrete_fields}
    cols, sql, params = [], [], []
    for f in hist._meta.concrete_fields:
        if f.name == "history_id":
            continue
        cols.append(f.column)
        if f.name in live:
            sql.append(f"{src}.{qn(f.column)}")
        elif f.name == "history_date":
            sql.append("%s")
            params.append(f.get_db_prep_save(now, connection))
        elif f.name == "history_change_reason":
            sql.append("%s")
            params.append(reason[: f.max_length])
        elif f.name == "history_type":
            sql.append(f"'{history_type}'")
        elif f.name == "history_user":
            sql.append("%s")
            params.append(user_id)
        elif f.name == "channel":
            sql.append("'import'")
        else:
            sql.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
    return cols, sql, params


def _merge(cur, model, stage_t: str, key_match: str, join: str, layout_fields, fk: dict[str, str],
           reason: str, user_id, now) -> MergeCounts:
    """Update the changed and insert the new rows of ``model`` from ``stage_t`` (alias ``s``; ``join`` adds
    ``h``, the registry household of the staged row), writing one history row for each.

    ``key_match`` relates a registry row ``t`` to the staged row. PostgreSQL: each step is one statement,
    ``WITH x AS (UPDATE/INSERT … RETURNING *) INSERT INTO <history> SELECT … FROM x``. Elsewhere: UPDATE …
    RETURNING the ids (into a temporary table), INSERT … SELECT, then the history of ids above the previous
    maximum (SQLite writes are serialised, so new ids are exactly those)."""
    table = qn(model._meta.db_table)
    hist_table = qn(model.history.model._meta.db_table)
    st = qn(stage_t)
    cols = [f.column for f in layout_fields]
    names = {f.name for f in model._meta.concrete_fields}
    sets = [f"{qn(c)} = s.{qn(c)}" for c in cols]
    if "version" in names:
        sets.append(f"{qn('version')} = {table}.{qn('version')} + 1")
    set_params = []
    if "updated_at" in names:
        sets.append(f"{qn('updated_at')} = %s")
        set_params.append(now)
    diff = " OR ".join(_distinct(f"{table}.{qn(c)}", f"s.{qn(c)}") for c in cols)
    match_live = key_match.replace("t.", f"{table}.")
    extra_cols, extra_sql, extra_params = _extra_columns(model, set(cols), fk, now)
    insert_cols = ", ".join(qn(c) for c in cols + extra_cols)
    insert_select = ", ".join([f"s.{qn(c)}" for c in cols] + extra_sql)
    not_exists = f"NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match})"
    pg = connection.vendor == "postgresql"
    if pg:
        h_cols, h_sql, h_params = _history_select(model, "x", "~", reason, user_id, now)
        cur.execute(f"WITH x AS (UPDATE {table} SET {', '.join(sets)} FROM {st} s {join} "
                    f"WHERE {match_live} AND ({diff}) RETURNING {table}.*) "
                    f"INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) SELECT {', '.join(h_sql)} FROM x",
                    set_params + h_params)
        changed = cur.rowcount
        h_cols, h_sql, h_params = _history_select(model, "x", "+", reason, user_id, now)
        cur.execute(f"WITH x AS (INSERT INTO {table} ({insert_cols}) SELECT {insert_select} FROM {st} s {join} "
                    f"WHERE {not_exists} RETURNING *) "
                    f"INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) SELECT {', '.join(h_sql)} FROM x",
                    extra_params + h_params)
        new = cur.rowcount
    else:
        cur.execute(f"UPDATE {table} SET {', '.join(sets)} FROM {st} s {join} WHERE {match_live} AND ({diff}) "
                    f"RETURNING {table}.id", set_params)
        ids = [r[0] for r in cur.fetchall()]
        changed = len(ids)
        if ids:
            cur.execute("DROP TABLE IF EXISTS xk_import_ids")
            cur.execute("CREATE TEMPORARY TABLE xk_import_ids (id bigint PRIMARY KEY)")
            cur.executemany("INSERT INTO xk_import_ids (id) VALUES (%s)", [(i,) for i in ids])
            h_cols, h_sql, h_params = _history_select(model, "t", "~", reason, user_id, now)
            cur.execute(f"INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) SELECT {', '.join(h_sql)} "
                        f"FROM {table} t WHERE t.id IN (SELECT id FROM xk_import_ids)", h_params)
            cur.execute("DROP TABLE xk_import_ids")
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        before = cur.fetchone()[0]
        cur.execute(f"INSERT INTO {table} ({insert_cols}) SELECT {insert_select} FROM {st} s {join} WHERE {not_exists}",
                    extra_params)
        new = cur.rowcount
        if new:
            h_cols, h_sql, h_params = _history_select(model, "t", "+", reason, user_id, now)
            cur.execute(f"INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) SELECT {', '.join(h_sql)} "
                        f"FROM {table} t WHERE t.id > %s", h_params + [before])
    cur.execute(f"SELECT COUNT(*) FROM {st}")
    total = cur.fetchone()[0]
    return MergeCounts(new=new, changed=changed, unchanged=total - new - changed)


def apply_staged(*, reason: str, user=None) -> ApplyResult:
    """Apply the staged rows (see the module docstring). Call inside ``transaction.atomic``."""
    hf, mf, inf = _layout_fields()
    now = timezone.now()
    user_id = user.pk if user is not None and getattr(user, "pk", None) else None
    result = ApplyResult()
    sh, sm = qn(STAGE_H), qn(STAGE_M)
    hh, mm = qn(Household._meta.db_table), qn(Member._meta.db_table)
    join_h = f"JOIN {hh} h ON h.household_number = s.household_number"
    with connection.cursor() as cur:
        result.households = _merge(cur, Household, STAGE_H, "t.household_number = s.household_number", "",
                                   hf, {}, reason, user_id, now)
        result.members = _merge(cur, Member, STAGE_M, "t.id_number = s.id_number", join_h, mf,
                                {"household_id": "h.id"}, reason, user_id, now)
        result.incomes = _merge(cur, Income, STAGE_I, "t.household_id = h.id AND t.year = s.year", join_h, inf,
                                {"household_id": "h.id"}, reason, user_id, now)
        if result.households.new == result.households.new + result.households.changed + result.households.unchanged:
            return result  # every household is new: no member can be missing from the file
        cur.execute(
            f"SELECT s.household_number, m.name, m.id_number FROM {mm} m JOIN {hh} h ON h.id = m.household_id "
            f"JOIN {sh} s ON s.household_number = h.household_number WHERE m.left_on IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {sm} x WHERE x.id_number = m.id_number) "
            f"ORDER BY s.household_number, m.id")
        result.missing_members = [{"household": hn, "name": name, "id_number": ident}
                                  for hn, name, ident in cur.fetchall()]
    return result
