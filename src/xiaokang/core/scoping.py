"""Area scoping (按行政区划限定数据范围): the one mechanism by which scoped data is read.

Every scoped row carries an area code (the 12-digit village code, or the code of its own level).
An area's *prefix* is its code at its own length: province 2, city 4, county 6, town 9, village 12
digits (GB/T 2260 and the statistical division codes). A row is inside an area when its area code
starts with that prefix. ``Model.objects.within(area)`` is the only way views, admin, search and
exports read scoped data.
"""

from django.db import models

LEVEL_PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}


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
        return self.within(area_code)


def scope_key(user) -> str:
    """What ``for_user`` restricts the user's rows to, as a key for cached pages: ``*`` (superuser:
    everything), the user's area code, or ``-`` (nothing)."""
    if user is None or not user.is_authenticated:
        return "-"
    if user.is_superuser:
        return "*"
    return getattr(user, "area_id", None) or "-"


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
