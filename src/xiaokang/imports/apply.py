"""Staging, the checks against the registry, and apply (入库) — all set-based SQL.

The parsed rows (streamed from the parse's files by ``Parsed.batches``, one Arrow table of at most
``validate.STAGE_BATCH_ROWS`` rows at a time) are loaded into temporary staging tables with the registry's
column types (``stage``: households, members, incomes; ``stage_keys``: only the keys, for a validation
without apply): one ``COPY … (FORMAT csv)`` per table fed by Arrow's CSV writer on PostgreSQL, then
``ANALYZE`` of the join columns (the planner hashes; no index on the staging tables), ``executemany`` and
indexes elsewhere. Then:

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
- **all new** (no staged household number in the registry — one query): the update passes, the
  ``NOT EXISTS`` tests and the missing-members query are left out; on PostgreSQL (``_insert_new``) each
  table is one ``INSERT … SELECT`` with the ids the staged rows drew from the sequences, and its history
  one more ``INSERT … SELECT`` from the same staged rows.
- **bulk mode** (PostgreSQL, an empty registry, at least ``BULK_MIN_ROWS`` rows; ``bulk_begin`` →
  ``load_bulk`` → ``bulk_end``, called by ``services.apply`` instead of staging): the household, member
  and income tables (and the history tables that are smaller than what the import adds) are locked
  ACCESS EXCLUSIVE until the commit, their secondary indexes and the member/income → household foreign
  keys dropped, the rows copied straight in (``COPY``), the history written from the tables, and the
  indexes and foreign keys rebuilt with their names and definitions — one sorted build each and one join
  per foreign key instead of index entries and a deferred check row by row. A failure rolls all of it
  back with the rest of the transaction.

Runs inside the caller's transaction (``services.apply``); the staging tables are dropped at the end.
The seconds of each step go to ``timing`` (``batch.timings``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django.utils import timezone

from xiaokang.core.audit import history_select
from xiaokang.quality import catalogue as Q
from xiaokang.registry.models import Household, Income, Member

from . import layout as L
from .readers import Issue
from .timing import step
from .validate import HN, Parsed, colname

STAGE_H, STAGE_M, STAGE_I = "xk_import_household", "xk_import_member", "xk_import_income"
# PostgreSQL memory of the import's statements (SET LOCAL: this transaction only): hash joins of a batch's
# staged rows stay in memory, and the index builds of the bulk mode sort in memory.
WORK_MEM = "64MB"
MAINTENANCE_WORK_MEM = "256MB"


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


def _work_mem() -> None:
    """PostgreSQL: this transaction's ``work_mem`` (WORK_MEM), for the joins of the staged rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")


def _create(table: str, fields, extra: list[tuple[str, str]]) -> None:
    cols = [f"{qn(f.column)} {f.db_type(connection).split(' CHECK')[0].split(' check')[0]}" for f in fields]
    cols += [f"{qn(n)} {t}" for n, t in extra]
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {qn(table)}")
        cur.execute(f"CREATE TEMPORARY TABLE {qn(table)} ({', '.join(cols)})")


def _load(table: str, columns: list[str] | None, tables) -> int:
    """Load Arrow tables (an iterable; columns in the order of ``columns``, default: the first table's
    column names) into a table, one at a time: one ``COPY … (FORMAT csv)`` fed by Arrow's CSV writer on
    PostgreSQL, ``executemany`` elsewhere. Returns the number of rows."""
    if columns is None:
        import itertools

        tables = iter(tables)
        first = next(tables, None)
        if first is None:
            return 0
        columns = first.column_names
        tables = itertools.chain([first], tables)
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


def _index_or_analyze(table: str, *indexes: list[str]) -> None:
    """Make a filled staging table ready for the joins: on PostgreSQL ``ANALYZE`` its size and the join
    columns (without statistics the planner guesses the size of a temporary table and may pick nested
    loops; with them it hashes, and an index on the staging table is not needed), elsewhere (SQLite joins
    by nested loops) one index per column list."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cols = list(dict.fromkeys(c for ix in indexes for c in ix)) or ["household_number"]
            cur.execute(f"ANALYZE {qn(table)} ({', '.join(qn(c) for c in cols)})")
            return
        for cols in indexes:
            if cols:
                cur.execute(f"CREATE INDEX {qn(table + '_' + '_'.join(cols))} ON {qn(table)} "
                            f"({', '.join(qn(c) for c in cols)})")


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
    _work_mem()
    _create(STAGE_H, [hn_f], key)
    _create(STAGE_M, [id_f, name_f], [*key, ("household_number", "varchar(32)")])
    _create(STAGE_I, [], [("household_number", "varchar(32)")])
    with step("stage keys: households"):
        _load(STAGE_H, ["household_number", "_sheet", "_row"], parsed.batches("households", [HN, "_sheet", "_row"]))
    m_names = ["member__id_number", "member__name", "_sheet", "_row", "household_number"]
    with step("stage keys: members"):
        _load(STAGE_M, ["id_number", "name", "_sheet", "_row", "household_number"],
              (t.filter(pc.is_valid(t.column("member__id_number"))) for t in parsed.batches("members", m_names)))
    with step("stage keys: indexes / ANALYZE"):
        _index_or_analyze(STAGE_H, ["household_number"])
        _index_or_analyze(STAGE_M, ["id_number"])


def _id_column(model) -> list[tuple[str, str]]:
    """PostgreSQL: the staged rows draw their future id from the table's sequence as they are copied in
    (``nextval`` of a constant sequence costs ~0.2 µs a row), so that the all-new path (``_insert_new``)
    writes each record and its history row straight from the staging table. Rows that end up updated or
    unchanged leave gaps in the (bigint) sequence, as rolled-back inserts do."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
        seq = cur.fetchone()[0]
    return [("_id", f"bigint DEFAULT nextval('{seq}'::regclass)")]


def stage(parsed: Parsed, exclude: set[str] = frozenset()) -> dict[str, int]:
    """Create and fill the staging tables with the parsed households not in ``exclude`` (streamed from
    ``parsed.batches``, one Arrow table at a time)."""
    hf, mf, inf = _layout_fields()
    key = ("_sheet", "varchar(100)"), ("_row", "integer")
    _work_mem()
    _create(STAGE_H, hf, [*key, *_id_column(Household)])
    _create(STAGE_M, mf, [*key, ("household_number", "varchar(32)"), *_id_column(Member)])
    _create(STAGE_I, inf, [*key, ("household_number", "varchar(32)"), *_id_column(Income)])
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
    with step("stage: households"):
        hrows = _load(STAGE_H, [f.column for f in hf] + ["_sheet", "_row"],
                      keep(parsed.batches("households", h_names), HN))
    with step("stage: members"):
        mrows = _load(STAGE_M, [f.column for f in mf] + ["_sheet", "_row", "household_number"],
                      keep(parsed.batches("members", m_names), "household_number"))
    with step("stage: incomes"):
        irows = _load(STAGE_I, [f.column for f in inf] + ["_sheet", "_row", "household_number"],
                      (t.filter(pc.is_valid(t.column("income__year")))
                       for t in keep(parsed.batches("households", i_names), HN)))
    with step("stage: indexes / ANALYZE"):
        _index_or_analyze(STAGE_H, ["household_number"])
        _index_or_analyze(STAGE_M, ["id_number"], ["household_number"])
        _index_or_analyze(STAGE_I, ["household_number"])
    return {"households": hrows, "members": mrows, "incomes": irows}


# What an uploader learns of a record outside their area: only that the key is taken (a household number
# and an ID number are unique in the registry, so refusing the row says that much), never the other
# household's number or village — the import must not be a way to look up other areas (a red-team trial
# read a 茶陵 person's household number and village through a 炎陵 village's upload).
OUT_OF_AREA_HOUSEHOLD = "该户编号已被管辖区域以外的户使用，不能导入（不显示该户信息，如有疑问请与上级部门核实）"
OUT_OF_AREA_PERSON = "已在管辖区域以外的户登记（不显示该户信息，如有疑问请与上级部门核实）"


def check_staged(parsed: Parsed, area_code: str) -> list[Issue]:
    """Checks against the registry, one query each; the issues are also appended to ``parsed.issues``.
    ``area_code``: the uploader's jurisdiction ("" for none); of a household or person outside it the
    message tells nothing but that the number is taken (``OUT_OF_AREA_*``)."""
    file = parsed.file
    issues: list[Issue] = []
    hh = qn(Household._meta.db_table)
    mm = qn(Member._meta.db_table)
    with step("check: registry"), connection.cursor() as cur:
        if area_code:
            cur.execute(
                f"SELECT s._sheet, s._row, s.household_number, h.area_code FROM {qn(STAGE_H)} s "
                f"JOIN {hh} h ON h.household_number = s.household_number WHERE h.area_code NOT LIKE %s",
                [area_code + "%"])
            for sheet, row, hn, _other in cur.fetchall():
                # nothing about the other household (its village) is told: only that the number is taken
                issues.append(Issue(file, sheet, row, L.BY_KEY[L.HOUSEHOLD, "household_number"].header, hn,
                                    OUT_OF_AREA_HOUSEHOLD, hn, "IMP_OUT_OF_AREA"))
        cur.execute(
            f"SELECT s._sheet, s._row, s.household_number, s.id_number, s.name, h.household_number, h.area_code "
            f"FROM {qn(STAGE_M)} s JOIN {mm} m ON m.id_number = s.id_number "
            f"JOIN {hh} h ON h.id = m.household_id WHERE h.household_number <> s.household_number")
        for sheet, row, hn, ident, name, other, other_area in cur.fetchall():
            where = (f"已是户 {other} 的成员" if not area_code or other_area.startswith(area_code)
                     else OUT_OF_AREA_PERSON)
            issues.append(Issue(file, sheet, row, L.BY_KEY[L.MEMBER, "id_number"].header, ident,
                                Q.render(Q.DUPLICATE_PERSON, value=where, name=name), hn, Q.DUPLICATE_PERSON))
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


def _merge(cur, model, stage_t: str, key_match: str, join: str, layout_fields, fk: dict[str, str],
           reason: str, user_id, now, all_new: bool = False) -> MergeCounts:
    """Update the changed and insert the new rows of ``model`` from ``stage_t`` (alias ``s``; ``join`` adds
    ``h``, the registry household of the staged row), writing one history row for each.

    ``key_match`` relates a registry row ``t`` to the staged row. PostgreSQL: each step is one statement,
    ``WITH x AS (UPDATE/INSERT … RETURNING *) INSERT INTO <history> SELECT … FROM x``. Elsewhere: UPDATE …
    RETURNING the ids (into a temporary table), INSERT … SELECT, then the history of ids above the previous
    maximum (SQLite writes are serialised, so new ids are exactly those). ``all_new``: no staged row has a
    registry row (``apply_staged`` checked), so the UPDATE pass and the NOT EXISTS test are left out."""
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
    not_exists = "TRUE" if all_new else f"NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match})"
    pg = connection.vendor == "postgresql"
    label = model._meta.model_name
    changed = 0
    if pg:
        def with_history(dml: str, params: list, history_type: str) -> int:
            """``dml`` (… RETURNING the rows) and the history row of each returned row, one statement."""
            h_cols, h_sql, h_params = history_select(model, "x", history_type, reason, user_id, now, "import")
            cur.execute(f"WITH x AS ({dml}) INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) "
                        f"SELECT {', '.join(h_sql)} FROM x", params + h_params)
            return cur.rowcount

        if not all_new:
            with step(f"apply: {label} update + history"):
                changed = with_history(f"UPDATE {table} SET {', '.join(sets)} FROM {st} s {join} "
                                       f"WHERE {match_live} AND ({diff}) RETURNING {table}.*", set_params, "~")
        with step(f"apply: {label} insert + history"):
            new = with_history(f"INSERT INTO {table} ({insert_cols}) SELECT {insert_select} FROM {st} s {join} "
                               f"WHERE {not_exists} RETURNING *", extra_params, "+")
    else:
        ids = []
        with step(f"apply: {label} update + history"):
            if not all_new:
                cur.execute(f"UPDATE {table} SET {', '.join(sets)} FROM {st} s {join} WHERE {match_live} "
                            f"AND ({diff}) RETURNING {table}.id", set_params)
                ids = [r[0] for r in cur.fetchall()]
            changed = len(ids)
            if ids:
                cur.execute("DROP TABLE IF EXISTS xk_import_ids")
                cur.execute("CREATE TEMPORARY TABLE xk_import_ids (id bigint PRIMARY KEY)")
                cur.executemany("INSERT INTO xk_import_ids (id) VALUES (%s)", [(i,) for i in ids])
                h_cols, h_sql, h_params = history_select(model, "t", "~", reason, user_id, now, "import")
                cur.execute(f"INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) "
                            f"SELECT {', '.join(h_sql)} FROM {table} t WHERE t.id IN (SELECT id FROM xk_import_ids)",
                            h_params)
                cur.execute("DROP TABLE xk_import_ids")
        with step(f"apply: {label} insert + history"):
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            before = cur.fetchone()[0]
            cur.execute(f"INSERT INTO {table} ({insert_cols}) SELECT {insert_select} FROM {st} s {join} "
                        f"WHERE {not_exists}", extra_params)
            new = cur.rowcount
            if new:
                h_cols, h_sql, h_params = history_select(model, "t", "+", reason, user_id, now, "import")
                cur.execute(f"INSERT INTO {hist_table} ({', '.join(qn(c) for c in h_cols)}) "
                            f"SELECT {', '.join(h_sql)} FROM {table} t WHERE t.id > %s", h_params + [before])
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
    pg = connection.vendor == "postgresql"
    _work_mem()
    with connection.cursor() as cur:
        with step("apply: any staged household in the registry?"):
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {sh} s {join_h})")
            all_new = not cur.fetchone()[0]
        # All new: every member of a new household is new too (a person already in the registry belongs to
        # another household — ``check_staged`` reported it, so the import was refused or, partial, the
        # household removed from the staging tables), and so is its income.
        if all_new and pg:
            return _insert_new(cur, (hf, mf, inf), reason, user_id, now)
        moved = []
        if not all_new:  # households the file moves to another village (their records follow them, below)
            area_col = qn(Household._meta.get_field("area").column)
            cur.execute(f"SELECT h.id FROM {sh} s {join_h} WHERE h.{area_col} <> s.{area_col}")
            moved = [r[0] for r in cur.fetchall()]
        result.households = _merge(cur, Household, STAGE_H, "t.household_number = s.household_number", "",
                                   hf, {}, reason, user_id, now, all_new)
        if moved:
            from xiaokang.registry.area_follow import follow_household_area

            with step("apply: records follow moved households"):
                follow_household_area(moved)
        result.members = _merge(cur, Member, STAGE_M, "t.id_number = s.id_number", join_h, mf,
                                {"household_id": "h.id"}, reason, user_id, now, all_new)
        result.incomes = _merge(cur, Income, STAGE_I, "t.household_id = h.id AND t.year = s.year", join_h, inf,
                                {"household_id": "h.id"}, reason, user_id, now, all_new)
        if all_new:
            return result  # every household is new: no member can be missing from the file
        with step("apply: missing members"):
            cur.execute(
                f"SELECT s.household_number, m.name, m.id_number FROM {mm} m JOIN {hh} h ON h.id = m.household_id "
                f"JOIN {sh} s ON s.household_number = h.household_number WHERE m.left_on IS NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {sm} x WHERE x.id_number = m.id_number) "
                f"ORDER BY s.household_number, m.id")
        result.missing_members = [{"household": hn, "name": name, "id_number": ident}
                                  for hn, name, ident in cur.fetchall()]
    return result


def _insert_new(cur, layout_fields, reason: str, user_id, now) -> ApplyResult:
    """PostgreSQL, every staged household new: per table, one ``INSERT … SELECT`` of the records with the ids
    drawn at staging (``_id``; members and incomes get their household's staged id) and one ``INSERT …
    SELECT`` of their history rows from the same staged rows — no update pass, no anti-join, no RETURNING."""
    hf, mf, inf = layout_fields
    sh = qn(STAGE_H)
    join_h = f"JOIN {sh} h ON h.household_number = s.household_number"
    result = ApplyResult()
    for model, stage_t, fields, join, fk, attr in (
            (Household, STAGE_H, hf, "", {}, "households"),
            (Member, STAGE_M, mf, join_h, {"household_id": "h._id"}, "members"),
            (Income, STAGE_I, inf, join_h, {"household_id": "h._id"}, "incomes")):
        table, hist = qn(model._meta.db_table), qn(model.history.model._meta.db_table)
        cols = [f.column for f in fields]
        extra_cols, extra_sql, extra_params = _extra_columns(model, set(cols), fk, now)
        names = ["id", *cols, *extra_cols]
        exprs = ["s._id", *(f"s.{qn(c)}" for c in cols), *extra_sql]
        label = model._meta.model_name
        with step(f"apply: {label} insert"):
            cur.execute(f"INSERT INTO {table} ({', '.join(qn(c) for c in names)}) "
                        f"SELECT {', '.join(exprs)} FROM {qn(stage_t)} s {join}", extra_params)
            setattr(result, attr, MergeCounts(new=cur.rowcount))
        h_cols, h_sql, h_params = history_select(model, "x", "+", reason, user_id, now, "import")
        record = ", ".join(f"{e} AS {qn(c)}" for c, e in zip(names, exprs))
        with step(f"apply: {label} history"):
            cur.execute(f"INSERT INTO {hist} ({', '.join(qn(c) for c in h_cols)}) SELECT {', '.join(h_sql)} "
                        f"FROM (SELECT {record} FROM {qn(stage_t)} s {join}) x", h_params + extra_params)
    return result


# Bulk mode: PostgreSQL, an import of at least BULK_MIN_ROWS rows (households + member rows) into an
# empty registry, not a dry run.
BULK_MIN_ROWS = 20_000
BULK_LOCK_TIMEOUT = "5s"


@dataclass
class Bulk:
    indexes: list[tuple[str, str]]            # (name, CREATE INDEX statement)
    foreign_keys: list[tuple[str, str, str]]  # (table, name, definition)
    deferred: list[str]                       # foreign keys of the household table (pending checks)


class _NotEmpty(Exception):
    pass


def bulk_begin(parsed: Parsed) -> Bulk | None:
    """Bulk mode for an import into an empty registry (call inside the import's transaction): lock the
    household, member and income tables and their history tables (ACCESS EXCLUSIVE until the commit:
    nobody can read or write them meanwhile — with an empty registry there is nothing to read yet), drop
    their secondary indexes (not the primary keys and unique constraints, which keep guarding the keys)
    and the foreign keys of members and incomes to households. ``load_bulk`` then copies the rows straight
    into the tables and ``bulk_end`` puts everything back: one sorted build per index and one join per
    foreign key, instead of index entries and a foreign-key check row by row. A history table is
    included only while it holds fewer rows than the import adds to it (rebuilding its indexes reads it
    whole). Returns None (the import goes the staged way) on SQLite, below BULK_MIN_ROWS, when the
    registry is not empty, or when the locks cannot be had within BULK_LOCK_TIMEOUT."""
    from django.db import OperationalError, transaction

    if connection.vendor != "postgresql" or not parsed.has_data:
        return None
    if parsed.household_count + parsed.rows_total < BULK_MIN_ROWS:
        return None
    live = [Household._meta.db_table, Member._meta.db_table, Income._meta.db_table]
    adds = [parsed.household_count, parsed.rows_total, parsed.household_count]
    with connection.cursor() as cur:
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(live[0])})")
        if cur.fetchone()[0]:
            return None
        history = [m.history.model._meta.db_table for m in (Household, Member, Income)]
        history = [t for t, n in zip(history, adds) if _fewer_rows(cur, t, n)]
        tables = live + history
        try:
            with transaction.atomic():  # a savepoint: a lock timeout leaves the import's transaction usable
                cur.execute("SELECT current_setting('lock_timeout')")
                previous = cur.fetchone()[0]
                cur.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_TIMEOUT}'")
                cur.execute(f"LOCK TABLE {', '.join(qn(t) for t in tables)} IN ACCESS EXCLUSIVE MODE")
                cur.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(live[0])})")
                if cur.fetchone()[0]:
                    raise _NotEmpty
        except (OperationalError, _NotEmpty):
            return None
        cur.execute("SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                    "JOIN pg_class c ON c.oid = x.indexrelid "
                    "WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary AND NOT x.indisunique "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid "
                    "AND k.conrelid = x.indrelid) ORDER BY c.relname", [tables])
        indexes = cur.fetchall()
        cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) AND confrelid = %s::regclass "
                    "ORDER BY conname", [live[1:], live[0]])
        foreign_keys = cur.fetchall()
        cur.execute("SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass "
                    "AND condeferrable AND condeferred", [live[0]])
        deferred = [r[0] for r in cur.fetchall()]
        with step("apply: bulk mode, drop indexes and foreign keys"):
            for table, name, _definition in foreign_keys:
                cur.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
            for name, _definition in indexes:
                cur.execute(f"DROP INDEX {qn(name)}")
    return Bulk(indexes, foreign_keys, deferred)


def _fewer_rows(cur, table: str, rows: int) -> bool:
    """Whether ``table`` holds fewer than ``rows`` rows (counts at most ``rows``)."""
    cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {qn(table)} LIMIT %s) x", [rows])
    return cur.fetchone()[0] < rows


def bulk_end(bulk: Bulk) -> None:
    """Put back what ``bulk_begin`` dropped, with the same names and definitions. The household table's
    deferred foreign-key checks (its village) are run first: PostgreSQL builds no index on a table with
    pending trigger events."""
    with step("apply: bulk mode, rebuild indexes and foreign keys"), connection.cursor() as cur:
        if bulk.deferred:
            names = ", ".join(qn(n) for n in bulk.deferred)
            cur.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
            cur.execute(f"SET CONSTRAINTS {names} DEFERRED")
        cur.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        for _name, definition in bulk.indexes:
            cur.execute(definition)
        for table, name, definition in bulk.foreign_keys:
            cur.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")


def load_bulk(parsed: Parsed, bulk: Bulk, exclude: set[str], *, reason: str, user=None) -> ApplyResult:
    """Bulk mode (after ``bulk_begin``): copy the parsed rows of the households not in ``exclude`` straight
    into the (empty, locked) registry tables, then write the history of every row of those tables, then
    ``bulk_end``. No staging and no registry checks: with no household in the registry no household
    number can belong to another area and no person to another household.

    Household ids are a block reserved from the sequence (no other session can insert meanwhile: the
    table is locked), in file order; a member row's household is the household of its run of rows (the
    rows of a household are adjacent — validated — so the k-th run of member rows is the k-th household;
    checked batch by batch against the household numbers); incomes are the households' rows with a year.
    Member and income ids come from their sequences."""
    import pyarrow as pa
    import pyarrow.compute as pc

    hf, mf, inf = _layout_fields()
    now = timezone.now()
    user_id = user.pk if user is not None and getattr(user, "pk", None) else None
    bad = pa.array(sorted(exclude), pa.string()) if exclude else None

    def kept(t, column):
        if bad is None:
            return t
        return t.filter(pc.invert(pc.fill_null(pc.is_in(t.column(column), value_set=bad), False)))

    def with_constants(model, t, fields):
        """``t`` (layout columns, then ``extra`` columns already named as in the database) renamed to the
        database columns, plus the model's other columns as constants (defaults, now)."""
        names = [f.column for f in fields] + t.column_names[len(fields):]
        t = t.rename_columns(names)
        for f in model._meta.concrete_fields:
            if f.primary_key or f.column in names or f.column == "household_id":
                continue
            value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            value = f.get_db_prep_save(value, connection)
            t = t.append_column(f.column, pa.array([value] * t.num_rows, pa.scalar(value).type))
        return t

    h_names = [colname(c) for c in L.HOUSEHOLD_COLUMNS]
    m_names = [colname(c) for c in L.MEMBER_COLUMNS] + ["household_number"]
    i_names = [colname(c) for c in L.INCOME_COLUMNS] + [HN]
    result = ApplyResult()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Household._meta.db_table])
        seq = cur.fetchone()[0]
        n = max(parsed.household_count, 1)
        cur.execute("SELECT setval(%s::regclass, nextval(%s::regclass) + %s - 1)", [seq, seq, n])
        base = cur.fetchone()[0] - n + 1
    numbers = []  # the kept household numbers, in order (their ids are base, base + 1, …)

    def households():
        k = 0
        for t in parsed.batches("households", h_names):
            t = kept(t, HN)
            numbers.append(t.column(HN).combine_chunks())
            ids = pa.array(range(base + k, base + k + t.num_rows), pa.int64())
            k += t.num_rows
            yield with_constants(Household, t.append_column("id", ids), hf)

    def incomes():
        k = 0
        for t in parsed.batches("households", i_names):
            t = kept(t, HN)
            ids = pa.array(range(base + k, base + k + t.num_rows), pa.int64())
            k += t.num_rows
            has_year = pc.is_valid(t.column("income__year"))
            yield with_constants(Income, t.drop_columns([HN]).append_column("household_id", ids).filter(has_year), inf)

    def members():
        all_numbers = pa.chunked_array(numbers, pa.string()) if numbers else pa.chunked_array([], pa.string())
        run, last = 0, None  # runs started so far; household number of the previous row
        for t in parsed.batches("members", m_names):
            t = kept(t, "household_number")
            if not t.num_rows:
                continue
            hn = t.column("household_number").combine_chunks()
            starts = pc.not_equal(hn.slice(1), hn.slice(0, len(hn) - 1))
            first = pa.array([last is None or hn[0].as_py() != last])
            starts = pa.concat_arrays([first, starts.cast(pa.bool_())])
            # run of each row: the runs started before it in this batch, minus one, plus the runs before
            # the batch (a batch that begins inside the previous run gives its first rows run - 1)
            index = pc.add(pc.subtract(pc.cumulative_sum(starts.cast(pa.int64())), 1), run)
            started = pc.sum(starts.cast(pa.int64())).as_py()
            expected = all_numbers.slice(run, started)
            if len(expected) != started or (started and not pc.all(pc.equal(hn.filter(starts), expected)).as_py()):
                raise RuntimeError("bulk import: member rows out of household order")
            run += started
            last = hn[-1].as_py()
            t = t.drop_columns(["household_number"]).append_column("household_id", pc.add(index, base))
            yield with_constants(Member, t, mf)

    with step("apply: household copy"):
        result.households = MergeCounts(new=_load(Household._meta.db_table, None, households()))
    with step("apply: member copy"):
        result.members = MergeCounts(new=_load(Member._meta.db_table, None, members()))
    with step("apply: income copy"):
        result.incomes = MergeCounts(new=_load(Income._meta.db_table, None, incomes()))
    with connection.cursor() as cur:
        for model in (Household, Member, Income):
            h_cols_, h_sql, h_params = history_select(model, "x", "+", reason, user_id, now, "import")
            with step(f"apply: {model._meta.model_name} history"):
                cur.execute(f"INSERT INTO {qn(model.history.model._meta.db_table)} "
                            f"({', '.join(qn(c) for c in h_cols_)}) SELECT {', '.join(h_sql)} "
                            f"FROM {qn(model._meta.db_table)} x", h_params)
    bulk_end(bulk)
    return result
