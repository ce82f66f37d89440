"""Writes of the data-quality app (数据清洗): run the checks and keep the findings in step, confirm a finding.

``run_checks`` evaluates every rule of ``xiaokang.quality.rules`` over an area for a year in one pass
(the member and household stages stored as temporary tables, the union of all rules over them stored as
another, joined once to the recorded findings) and synchronises ``Finding`` set-based, in one transaction:

- found and not yet recorded → inserted ``open``;
- recorded and found again → ``last_seen``/value/year updated; ``fixed`` → ``open`` again (``fixed_at``
  cleared); ``open`` and ``confirmed`` keep their status;
- recorded ``open``/``confirmed`` inside the area and not found → ``fixed`` (``fixed_at`` = now).

Three writes whatever the size of the area (``UPDATE … FROM`` on the primary key, ``UPDATE … WHERE NOT
EXISTS`` as one anti-join, ``INSERT … SELECT`` of the unmatched rows), each skipped when it has nothing to
do: nothing passes through Python row by row. ``CheckRun.timings`` has the wall time of each step.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import ibis
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext

from xiaokang.accounts.models import EDIT_ROLES
from xiaokang.core.cache import QUALITY, bump
from xiaokang.core.scoping import area_prefix
from xiaokang.policy import engine
from xiaokang.policy.schema import quality_unbound_tables
from xiaokang.policy.params import ParameterError
from xiaokang.policy.services import current_parameters
from xiaokang.registry import codes
from xiaokang.registry.models import Income

from . import rules
from .models import Finding, FindingStatus

TMP_FACTS, TMP_IDS, TMP_WIDE, TMP_MEMBERS, TMP_FOUND = (
    "xk_tmp_quality_facts", "xk_tmp_quality_ids", "xk_tmp_quality_wide", "xk_tmp_quality_members",
    "xk_tmp_quality_found")
RUN_LOCK_KEY = 0x5143_4B31  # PostgreSQL advisory lock of run_checks ("QCK1")
# PostgreSQL settings for the pass's transaction only (SET LOCAL). The stages are a few large scans whose
# expressions JIT compilation costs more than it saves (0.5–0.7 s on the ID stage alone over 660,000
# members, whatever the size), and the grouping per household spills to disk at the default 4 MB.
PG_SETTINGS = (("jit", "off"), ("work_mem", "64MB"))
# Temporary tables given statistics (ANALYZE; autovacuum never sees temporary tables): the run's findings,
# which drive the three writes. Not the stages: they are read by scans and one grouping (the planner takes
# their size from their pages), analysing them cost 0.3 s per 200,000 households, and with statistics
# showing an empty ID stage the duplicate-person check chose a nested loop over every member.
ANALYZED = {TMP_FOUND}


@dataclass
class CheckRun:
    """Outcome of ``run_checks``: counts of this run and of the findings now recorded in the area."""

    year: int
    area: str
    found: int  # findings the rules produced this run
    new: int  # inserted as open
    reopened: int  # fixed → open
    fixed: int  # open/confirmed → fixed
    open: int  # open in the area after the run
    confirmed: int  # confirmed in the area after the run
    seconds: float
    by_rule: dict
    timings: dict = field(default_factory=dict)  # step → wall seconds (``print_timings``)
    # False: a check of a year before the latest income year (``default_year``): counted, findings untouched
    recorded: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def default_year() -> int:
    """The latest year with an income record (年度收入), else the current year."""
    return Income.objects.aggregate(y=Max("year"))["y"] or timezone.localdate().year


@lru_cache(maxsize=64)
def compiled_check(p: rules.QualityParams, prefix: str, vendor: str):
    """``([(temporary table, sql), …], findings_sql)`` for ``vendor``, cached (compiling takes ~1 s).

    Stages, each stored as a temporary table and read by the next: the member facts (one scan of the
    members of the area), the ID check over them (SQL, ``rules.id_stage_sql``; only the rows a rule can use), the households that
    trigger a household rule, the members that trigger a member rule. The findings SQL reads the last
    three, so each large table is scanned once and the 24 rules run over the few flagged rows.
    """
    tables = quality_unbound_tables()
    facts = rules.build_facts(tables, p, prefix)
    t_facts = ibis.table(facts.schema(), name=TMP_FACTS)
    ids_schema = rules.build_ids(t_facts, p).schema()
    wide = rules.flagged_households(rules.build_wide(tables, t_facts, p, prefix), p)
    members = rules.flagged_members(t_facts, p)
    t_ids, t_wide = ibis.table(ids_schema, name=TMP_IDS), ibis.table(wide.schema(), name=TMP_WIDE)
    t_members = ibis.table(members.schema(), name=TMP_MEMBERS)
    found = rules.findings_from(t_members, t_ids, t_wide, p, id_facts=t_facts)
    stages = (
        (TMP_FACTS, engine.to_sql(facts, vendor)),
        (TMP_IDS, rules.id_stage_sql(TMP_FACTS, engine.dialect_for(vendor), p.today, flagged_only=True)),
        (TMP_WIDE, engine.to_sql(wide, vendor)),
        (TMP_MEMBERS, engine.to_sql(members, vendor)),
    )
    return stages, engine.to_sql(found, vendor)


def resolve_params(year: int, prefix: str = "", params=None, today: dt.date | None = None) -> rules.QualityParams:
    """The rule parameters of ``year`` (province from the area prefix). Raises ParameterError."""
    params = params or current_parameters()
    labels = tuple(codes.zh_choices(codes.LabourCapacity))  # stored finding values are Chinese
    return rules.QualityParams.resolve(params, year, prefix[:2] or None, today=today or timezone.localdate(),
                                       labour_labels=labels)


def thresholds(year: int | None) -> dict[str, str]:
    """The thresholds the messages of ``year``'s findings quote (the parameters of that year); {} if unknown."""
    try:
        return rules.thresholds(resolve_params(int(year or default_year())))
    except ParameterError:
        return {}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Timer:
    """Wall time of each labelled step of a run (``CheckRun.timings``); printed to stderr when the
    environment variable ``XIAOKANG_QUALITY_TIMINGS`` is set (``xiaokang quality check --timings``)."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, label: str) -> None:
        now = time.perf_counter()
        self.timings[label] = self.timings.get(label, 0.0) + now - self._t
        self._t = now


def _analyze(cur, vendor: str, name: str) -> None:
    """Statistics for a temporary table named in ``ANALYZED`` (PostgreSQL; autovacuum never sees them)."""
    if vendor == "postgresql" and name in ANALYZED:
        cur.execute(f"ANALYZE {_q(name)}")


def _record_findings(cur, clock, year: int, now, lo: str, hi: str, found: int, matched: int) -> tuple[int, int]:
    """The three writes of a recorded run, each reading only ``TMP_FOUND`` (see ``run_checks``): found again
    (refreshed; fixed → open), no longer found inside the area ``lo``–``hi`` (→ fixed), new (open).
    Returns (fixed, new)."""
    f, t = _q(Finding._meta.db_table), _q(TMP_FOUND)
    if matched:
        cur.execute(
            f"UPDATE {f} AS f SET "
            f"status = CASE WHEN f.status = %s THEN %s ELSE f.status END, "
            f"fixed_at = CASE WHEN f.status = %s THEN NULL ELSE f.fixed_at END, "
            f"last_seen = %s, value = t.value, area_code = t.area_code, year = %s "
            f"FROM {t} AS t WHERE f.id = t.finding_id",
            [FindingStatus.FIXED, FindingStatus.OPEN, FindingStatus.FIXED, now, year],
        )
    clock.lap("update: found again")
    cur.execute(
        f"UPDATE {f} SET status = %s, fixed_at = %s "
        f"WHERE status IN (%s, %s) AND area_code >= %s AND area_code <= %s AND NOT EXISTS ("
        f"SELECT 1 FROM {t} AS t WHERE t.finding_id = {f}.id)",
        [FindingStatus.FIXED, now, FindingStatus.OPEN, FindingStatus.CONFIRMED, lo, hi],
    )
    fixed = cur.rowcount
    clock.lap("update: fixed")
    new = 0
    if found > matched:
        cur.execute(
            f"INSERT INTO {f} (rule_code, household_id, member_id, member_key, area_code, value, year, status, "
            f"confirmed_reason, first_seen, last_seen) "
            f"SELECT t.rule_code, t.household_id, t.member_id, t.member_key, t.area_code, t.value, %s, %s, '', "
            f"%s, %s FROM {t} AS t WHERE t.finding_id IS NULL",
            [year, FindingStatus.OPEN, now, now],
        )
        new = cur.rowcount
    clock.lap("insert: new")
    return fixed, new


def run_checks(area=None, year: int | None = None, user=None, params=None) -> CheckRun:
    """Run every data-quality rule over ``area`` (Area, code or None = everything) for ``year``.

    ``year`` defaults to ``default_year()``; ages are full years on 31 December of it and the income is
    that year's. ``user``: when given, the area must lie inside the user's jurisdiction (else
    PermissionDenied). Returns ``CheckRun`` with the counts. Raises ParameterError for a missing parameter,
    ValueError for a year still to come.

    The stored findings (one per rule, household and member, with their status) follow the registry as
    checked for the latest income year (``default_year``) or a later one (up to the current year): only such
    a check records them
    (new, found again, fixed). A check of an earlier year counts what its rules find
    (``CheckRun.found``/``by_rule``, ``recorded`` False) and changes no stored finding — else a check of
    2019 would mark fixed a 2020 finding whose data still triggers it.

    The findings of the run are stored once (``TMP_FOUND``), already joined to the recorded finding each
    matches (its id and status, null when new) through the unique key (rule, household, member key): one
    join, whatever the number of findings. Every later statement reads that table, never the findings
    table it writes: the refresh and the reopening join on the finding's primary key, the fixing is one
    anti-join on it, and the new findings are a plain ``INSERT … SELECT`` of the unmatched rows (on a
    first run, all of them). (Before, ``INSERT … WHERE NOT EXISTS (findings)`` planned against an empty
    findings table rescanned the pages the statement itself was writing, once per row: quadratic.)
    """
    t0 = time.perf_counter()
    clock = _Timer()
    prefix = area_prefix(area)
    if user is not None and not user.is_superuser:
        own = getattr(user, "area_id", None) or ""
        if not own or not prefix.startswith(own):
            raise PermissionDenied("所选区域不在您的管辖范围内")
    latest = default_year()
    year = int(year or latest)
    this_year = timezone.localdate().year
    if year > this_year:
        # a year still to come: every household would be flagged "income blank" (Q18), recorded as the
        # current findings, and the real ones marked fixed
        raise ValueError(gettext("%(year)s 年尚未到来，无法检查（今年是 %(this)s 年）") % {"year": year, "this": this_year})
    recorded = year >= latest
    p = resolve_params(year, prefix, params)
    vendor = connection.vendor
    stages, found_sql = compiled_check(p, prefix, vendor)
    clock.lap("compile")
    now = timezone.now()
    lo, hi = prefix, prefix + "9" * (12 - len(prefix))
    f, t = _q(Finding._meta.db_table), _q(TMP_FOUND)
    with transaction.atomic(), connection.cursor() as cur:
        if vendor == "postgresql":  # one run at a time (SQLite serialises writers anyway)
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
            for setting, value in PG_SETTINGS:
                cur.execute("SELECT set_config(%s, %s, true)", [setting, value])
        for name, sql in stages:
            engine.materialize(cur, vendor, name, sql)
            _analyze(cur, vendor, name)
            clock.lap(f"stage {name}")
        # This run's findings, each with the recorded finding it matches (finding_id, old_status; null: new).
        engine.materialize(
            cur, vendor, TMP_FOUND,
            f"SELECT r.rule_code, r.household_id, r.member_id, r.member_key, r.area_code, r.value, "
            f"f.id AS finding_id, f.status AS old_status FROM ("
            f"SELECT r.rule_code, r.household_id, r.member_id, COALESCE(r.member_id, 0) AS member_key, "
            f"r.area_code, r.value FROM ({found_sql}) AS r) AS r "
            f"LEFT JOIN {f} AS f ON f.rule_code = r.rule_code AND f.household_id = r.household_id "
            f"AND f.member_key = r.member_key")
        clock.lap(f"stage {TMP_FOUND} (findings joined to the recorded ones)")
        for name, _sql in stages:
            engine.drop_temporary(cur, name)
        cur.execute(f'CREATE INDEX "{TMP_FOUND}_finding" ON {t} (finding_id)')
        _analyze(cur, vendor, TMP_FOUND)
        cur.execute(f"SELECT COUNT(*), COUNT(finding_id), "
                    f"COALESCE(SUM(CASE WHEN old_status = %s THEN 1 ELSE 0 END), 0) FROM {t}",
                    [FindingStatus.FIXED])
        found, matched, reopened = cur.fetchone()
        clock.lap("count")
        fixed = new = 0
        if recorded:
            fixed, new = _record_findings(cur, clock, year, now, lo, hi, found, matched)
        else:
            reopened = 0  # counted only: the stored findings stay as they are
        cur.execute(f"SELECT rule_code, COUNT(*) FROM {t} GROUP BY rule_code")
        by_rule = dict(sorted(cur.fetchall()))
        engine.drop_temporary(cur, TMP_FOUND)
        clock.lap("count by rule")
    clock.lap("commit (deferred foreign keys)")
    if recorded:
        bump(QUALITY)  # bulk writes send no signals: cached counts (dashboard) are renewed
    counts = _status_counts(prefix)
    clock.lap("status counts")
    run = CheckRun(year=year, area=prefix, found=found, new=new, reopened=reopened, fixed=fixed,
                   open=counts.get(FindingStatus.OPEN, 0), confirmed=counts.get(FindingStatus.CONFIRMED, 0),
                   seconds=time.perf_counter() - t0, by_rule=by_rule, timings=clock.timings, recorded=recorded)
    if os.environ.get("XIAOKANG_QUALITY_TIMINGS"):
        print_timings(run, sys.stderr)
    return run


def print_timings(run: CheckRun, out) -> None:
    """The wall time of each step of ``run`` (``CheckRun.timings``), one line each."""
    out.write(f"数据清洗 {run.year} {run.area or '全部'}: {run.seconds:.2f} s, {run.found:,} findings "
              f"({run.new:,} new, {run.fixed:,} fixed)\n")
    for label, seconds in run.timings.items():
        out.write(f"  {seconds:8.3f} s  {label}\n")


def _status_counts(prefix: str) -> dict:
    qs = Finding.objects.within(prefix or None).values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in qs}


def can_confirm(user, finding: Finding | None = None) -> bool:
    """Administrator roles (市/县/乡镇/村级管理员, 系统管理员) of the finding's area, or a superuser."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if user.role not in EDIT_ROLES or not user.area_id:
        return False
    return finding is None or finding.area_code.startswith(user.area_id)


@transaction.atomic
def confirm_finding(finding: Finding, *, user, reason: str) -> Finding:
    """Mark a finding 核实无误 (the data is correct as recorded), with the reason and who confirmed it.

    Raises ValidationError when the reason is blank or the finding is already fixed (nothing to confirm) or
    already confirmed (its reason and confirmer are kept),
    PermissionDenied when the user is not an administrator of the finding's area.
    """
    reason = (reason or "").strip()
    if not can_confirm(user, finding):
        raise PermissionDenied("只有本辖区的管理员可以核实疑点")
    if not reason:
        raise ValidationError({"reason": "请填写核实无误的理由"})
    locked = Finding.objects.select_for_update().get(pk=finding.pk)
    if locked.status == FindingStatus.FIXED:
        raise ValidationError({"status": "该疑点已修正，无需核实"})
    if locked.status == FindingStatus.CONFIRMED:  # its reason and confirmer stand (a second POST replaced them)
        raise ValidationError({"status": "该疑点已核实无误（%s），不能重复核实" % (locked.confirmed_by or "")})
    locked.status = FindingStatus.CONFIRMED
    locked.confirmed_reason = reason
    locked.confirmed_by = user
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_reason", "confirmed_by", "confirmed_at"])
    return locked
