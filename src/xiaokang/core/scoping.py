"""Area scoping (按行政区划限定数据范围): the one mechanism by which scoped data is read.

Every scoped row carries an area code (the 12-digit village code, or the code of its own level).
An area's *prefix* is its code at its own length: province 2, city 4, county 6, town 9, village 12
digits (GB/T 2260 and the statistical division codes). A row is inside an area when its area code
starts with that prefix. ``Model.objects.within(area)`` is the only way views, admin, search and
exports read scoped data.

A pairing cadre (帮扶责任人) reads, within their area, only the households of their current pairings
(``registry.Pairing``) and what belongs to them: each scoped model names the path to its household in
``pairing_lookup`` ("pk" for the household itself, "household", "case__household"), or ``AREA_LEVEL`` for
area-level data (areas, populations, exit statistics), which the cadre reads like any user of the area; a
model that declares neither (workflows, import batches) gives the cadre nothing (fail closed).
"""

from django.db import models

LEVEL_PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}
# ``pairing_lookup`` of area-level models: a pairing cadre reads them like any user of the area.
AREA_LEVEL = "__area__"
PAIRING_CADRE = "pairing_cadre"


def area_prefix(area) -> str:
    """The code prefix of an area: an ``Area``, a code string, or None (no restriction -> "")."""
    if area is None:
        return ""
    code = area if isinstance(area, str) else area.code
    code = code.strip()
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        raise ValueError(f"行政区划代码无效: {code!r}（应为 2/4/6/9/12 位数字）")
    return code


class ScopedQuerySet(models.QuerySet):
    """QuerySet of a model whose ``area_lookup`` names the path to its area code column."""

    def within(self, area):
        """Rows inside ``area`` (an Area, a code, or None for everything)."""
        prefix = area_prefix(area)
        if not prefix:
            return self
        lookup = self.model.area_lookup
        if len(prefix) == 12:
            return self.filter(**{lookup: prefix})
        # A range on the code (prefix ≤ code ≤ prefix + 9…9) selects the same rows as a prefix match and,
        # unlike LIKE 'prefix%' under a non-C collation, uses the column's b-tree index on PostgreSQL.
        return self.filter(**{f"{lookup}__gte": prefix, f"{lookup}__lte": prefix + "9" * (12 - len(prefix))})

    def for_user(self, user):
        """Rows the user may see: everything for a superuser, else the user's jurisdiction, else none."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        area_code = getattr(user, "area_id", None)
        if not area_code:
            return self.none()
        rows = self.within(area_code)
        if getattr(user, "role", None) == PAIRING_CADRE:
            return paired_only(rows, user)
        return rows


def paired_only(rows, user):
    """``rows`` narrowed to the households of ``user``'s current pairings (``pairing_lookup``; see above)."""
    lookup = getattr(rows.model, "pairing_lookup", None)
    if lookup == AREA_LEVEL:
        return rows
    if not lookup:
        return rows.none()
    from django.utils import timezone

    from xiaokang.registry.models import Pairing

    today = timezone.localdate()  # current: started, and not ended (an end date still to come counts)
    households = (Pairing.objects.filter(cadre=user, started_on__lte=today)
                  .filter(models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=today)).values("household_id"))
    return rows.filter(**{f"{lookup}__in": households})


def scope_key(user) -> str:
    """What ``for_user`` restricts the user's rows to, as a key for cached pages: ``*`` (superuser:
    everything), the user's area code (with the user for a pairing cadre), or ``-`` (nothing)."""
    if user is None or not user.is_authenticated:
        return "-"
    if user.is_superuser:
        return "*"
    if getattr(user, "role", None) == PAIRING_CADRE:  # their own paired households: a key of their own
        return f"{getattr(user, 'area_id', None) or '-'}:cadre{user.pk}"
    return getattr(user, "area_id", None) or "-"


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
