"""Reads of the registry pages: the household list (filters, search, one page with no N+1) and one household's file.

The caller passes a queryset already scoped to the user (``Household.objects.for_user(user)``); these
functions only narrow it further.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from xiaokang.core.money import yuan_to_fen
from xiaokang.policy.models import HouseholdAssessment
from xiaokang.policy.params import ParameterError
from xiaokang.policy.rules.household import CRITERIA, INCOME_COMPONENTS

from . import codes
from .forms import NOT_ASSESSED
from .models import Household, Income, Member


def search(qs, q: str):
    """Households matching a query: household number (exact or prefix), member name (contains), or a
    complete 18-character ID number (exact only: a partial number never matches an ID)."""
    q = (q or "").strip()
    if not q:
        return qs
    cond = Q(household_number__istartswith=q)
    if len(q) == 18:
        cond = Q(household_number=q) | Q(Exists(Member.objects.filter(household=OuterRef("pk"),
                                                                      id_number=q.upper())))
    else:
        cond |= Q(Exists(Member.objects.filter(household=OuterRef("pk"), name__contains=q)))
    return qs.filter(cond)


def household_list(qs, *, q="", area="", poverty_status="", household_type="", main_cause="",
                   year: int, verdict=""):
    """The filtered household list, ordered by household number (ids and sort key only).

    Filters on the verdict of ``year`` when asked. A page's rows are annotated afterwards by
    ``household_rows`` for that page's ids only, so the subqueries never run for the skipped rows of a
    deep page (with a million households, OFFSET would otherwise evaluate them for every skipped row).
    """
    if area:
        qs = qs.within(area)
    if poverty_status:
        qs = qs.filter(poverty_status=poverty_status)
    if household_type:
        qs = qs.filter(household_type=household_type)
    if main_cause:
        qs = qs.filter(main_cause=main_cause)
    qs = search(qs, q)
    assessment = HouseholdAssessment.objects.filter(household=OuterRef("pk"), year=year)
    if verdict == NOT_ASSESSED:
        qs = qs.filter(~Exists(assessment))
    elif verdict:
        qs = qs.filter(Exists(assessment.filter(verdict=verdict)))
    return qs.order_by("household_number").values_list("id", flat=True)


def household_rows(ids, *, year: int) -> list:
    """Households ``ids`` (in that order) with head's name and ID, member count and the verdict of ``year``.

    One SQL query: the head, the verdict and the count are subqueries, the village comes with
    ``select_related``.
    """
    head = Member.objects.filter(household=OuterRef("pk"), relation=codes.Relation.HEAD).order_by("pk")
    assessment = HouseholdAssessment.objects.filter(household=OuterRef("pk"), year=year)
    qs = Household.objects.filter(pk__in=list(ids)).annotate(
        head_name=Subquery(head.values("name")[:1]),
        head_id_number=Subquery(head.values("id_number")[:1]),
        verdict=Subquery(assessment.values("verdict")[:1]),
        assessed_members=Subquery(assessment.values("member_count")[:1]),
        member_total=Subquery(  # current members (not moved out)
            Member.objects.filter(household=OuterRef("pk"), left_on__isnull=True).order_by().values("household")
            .annotate(n=Count("pk")).values("n")[:1]
        ),
    )
    order = {pk: i for i, pk in enumerate(ids)}
    return sorted(qs.select_related("area"), key=lambda h: order[h.pk])


def counted_on(member: Member, ref: dt.date) -> bool:
    """Counted on ``ref`` (31 December): born, entered and not yet left — as in the rule."""
    return (member.birth_date <= ref and (member.entered_on is None or member.entered_on <= ref)
            and (member.left_on is None or member.left_on > ref))


def net_income_fen(income: Income, counted_transfers) -> int:
    """Net income (家庭纯收入, 分): wage + business − expenses + property + counted transfers."""
    cols = [c.removesuffix("_fen") for c in INCOME_COMPONENTS] + [c.removesuffix("_fen") for c in counted_transfers]
    total = sum(yuan_to_fen(getattr(income, c)) or 0 for c in cols)
    return total - (yuan_to_fen(income.business_expenses) or 0)


@dataclass
class YearFile:
    """One year of a household's file: income, net and per-capita, the live assessment or why not."""

    year: int
    income: Income | None = None
    stored: HouseholdAssessment | None = None
    members_counted: int = 0
    net_fen: int | None = None
    per_capita_fen: int | None = None
    per_capita_source: str = ""
    result: dict | None = None
    criteria: list = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    not_identified: bool = False


def household_years(household: Household, members: list[Member], incomes: list[Income],
                    stored: list[HouseholdAssessment], lang: str, params=None) -> list[YearFile]:
    """Every year 2014–2020 with an income record or a stored assessment, assessed live with the batch rule.

    A year whose parameters are unconfirmed (ParameterUnconfirmed) carries the message instead.
    """
    from xiaokang.policy.reasons import render
    from xiaokang.policy.services import assess_household_live_years, current_parameters

    by_income = {i.year: i for i in incomes}
    by_stored = {a.year: a for a in stored}
    years = sorted(y for y in set(by_income) | set(by_stored) if 2014 <= y <= 2020)
    if not years:
        return []
    params = params or current_parameters()
    live = assess_household_live_years(household, [y for y in years if y >= household.identified_year], params,
                                       member_names={m.pk: m.name for m in members})
    out = []
    for year in years:
        yf = YearFile(year=year, income=by_income.get(year), stored=by_stored.get(year))
        ref = dt.date(year, 12, 31)
        yf.members_counted = sum(1 for m in members if counted_on(m, ref))
        if yf.income is not None:
            try:
                transfers = [f"{x}_fen" for x in params.value("income.counted_transfers", ref, household.area_id[:2])]
                yf.net_fen = net_income_fen(yf.income, transfers)
            except ParameterError:
                yf.net_fen = None
        outcome = live.get(year, (None, []))  # before the identification year: the rule returns no row
        if isinstance(outcome, ParameterError):
            yf.error = str(outcome)
        else:
            result, reasons = outcome
            if result is None:
                yf.not_identified = True
            else:
                yf.result = result
                # SQLite returns booleans as 0/1: normalise to True/False/None (unknown)
                yf.criteria = [(c, None if result.get(c) is None else bool(result.get(c))) for c in CRITERIA]
                yf.reasons = [render(r, lang) for r in reasons]
                if result.get("net_income_fen") is not None:
                    yf.net_fen = result["net_income_fen"]
        # The live figure first: it comes from the same data as the net income shown beside it (a stored
        # assessment is stale after an edit or an import until the next assessment run).
        if yf.result is not None and yf.result.get("per_capita_income_fen") is not None:
            yf.per_capita_fen = yf.result["per_capita_income_fen"]
            yf.per_capita_source = "live"
        elif yf.stored is not None and yf.stored.per_capita_income is not None:
            yf.per_capita_fen = yuan_to_fen(yf.stored.per_capita_income)
            yf.per_capita_source = "stored"
        elif yf.net_fen is not None and yf.members_counted:
            yf.per_capita_fen = yf.net_fen // yf.members_counted
            yf.per_capita_source = "computed"
        out.append(yf)
    return out
