"""Cached summaries keyed by the data version (汇总缓存).

Dashboard figures and list counts over a million households take seconds to compute and change only when
the registry or the assessments change. ``cached(topic, key, compute)`` keeps a result in Django's cache
under the topic's current *data version*; ``bump(topic)`` moves the version on after the writing
transaction commits, so the next read computes afresh — in every server process, because the version
lives in the database (``core.DataVersion``), one primary-key read per request.

Who bumps ``registry`` (households, members, incomes, assessments):
- every ORM save or delete of those models (signals below: admin, forms, services that call ``save``);
- the bulk writers that bypass ``save`` call ``bump("registry")`` themselves: ``update_household``,
  the assessment runs, the demo loader and the import's apply step.
Who bumps ``quality`` (data-quality findings): ``quality.services.run_checks``, ``confirm_finding`` and every
ORM save or delete of a ``Finding``.
A ``CACHE_SECONDS`` expiry bounds staleness if a writer is ever missed.

``cached_html`` keeps a rendered page part (HTML) the same way, per language: the dashboard's body and a
page of the household list are rendered once per data version and served from the cache to every user
with the same jurisdiction.
"""

from __future__ import annotations

import hashlib
import threading
import time

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.utils.functional import cached_property

REGISTRY = "registry"
QUALITY = "quality"  # data-quality findings (疑点数据): bumped by each check run, confirmation and ORM save
WORK = "work"  # cadre visits and supervision problems (帮扶走访, 督查问题): bumped by their ORM saves
CACHE_SECONDS = 600


_request = threading.local()


def version(topic: str = REGISTRY) -> int:
    """The topic's current data version (0 before its first bump). Inside a web request
    (``DataVersionMiddleware``) every topic's version is read with one query, once per request."""
    from .models import DataVersion

    memo = getattr(_request, "versions", None)
    if memo is not None:
        if not memo:
            memo.update(DataVersion.objects.values_list("name", "version"))
            memo[""] = 0  # loaded
        return memo.get(topic, 0)
    row = DataVersion.objects.filter(name=topic).values_list("version", flat=True).first()
    return row or 0


class DataVersionMiddleware:
    """Reads the data versions at most once per request (see ``version``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _request.versions = {}
        try:
            return self.get_response(request)
        finally:
            _request.versions = None


def _bump_now(topic: str) -> None:
    from django.db.models import F

    from .models import DataVersion

    if getattr(_request, "versions", None):
        _request.versions.clear()  # read afresh after a write in this request
    if not DataVersion.objects.filter(name=topic).update(version=F("version") + 1):
        DataVersion.objects.get_or_create(name=topic, defaults={"version": 1})


def bump(topic: str = REGISTRY) -> None:
    """Move the topic's version on once the current transaction commits (at once outside one).

    Called many times in one transaction (a signal per saved row), it registers a single callback;
    a rolled-back transaction drops it with the transaction's other callbacks.
    """
    if connection.in_atomic_block and any(getattr(entry[1], "xk_bump", None) == topic and not entry[1].done
                                          for entry in connection.run_on_commit):
        return

    def run():
        run.done = True
        _bump_now(topic)

    run.done = False
    run.xk_bump = topic
    transaction.on_commit(run)


def round_trip() -> str:
    """Store a value in the shared cache, read it back and delete it: "" when that worked, else why not (the
    exception's class and message, or that the value did not come back). One key per call, so concurrent
    checks (health probes, servers starting) never read each other's value. Used by ``/healthz/`` and
    ``xiaokang serve``."""
    import uuid

    token = uuid.uuid4().hex
    key = f"xk:round-trip:{token}"
    try:
        cache.set(key, token, 30)
        returned = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - reported to the caller
        return f"{type(exc).__name__}: {exc}"
    return "" if returned == token else "value not returned"


def cached(topic: str, key: str, compute, seconds: int = CACHE_SECONDS, wait: float = 60.0):
    """``compute()``'s result for ``key`` under the topic's current version (computed once per version).

    The cache is shared by the server's processes (``CACHES`` in settings: files under XIAOKANG_HOME).
    When many requests miss at once, one computes while the others wait for its result (up to ``wait``
    seconds, then they compute themselves), so a cold dashboard is computed once, not once per request.
    """
    database = connection.settings_dict.get("NAME") or ""
    digest = hashlib.sha1(f"{connection.vendor}:{database}:{key}".encode()).hexdigest()
    full = f"xk:{topic}:{version(topic)}:{digest}"
    value = cache.get(full)
    if value is not None:
        return value
    lock = full + ":computing"
    if not cache.add(lock, 1, timeout=int(wait) + 60):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            time.sleep(0.05)
            value = cache.get(full)
            if value is not None:
                return value
    try:
        value = compute()
        cache.set(full, value, seconds)
    finally:
        cache.delete(lock)
    return value


def cached_html(topic: str, key: str, render, seconds: int = CACHE_SECONDS) -> str:
    """``render()``'s HTML (a page part) cached like ``cached`` under the topic's version, per language.

    ``key`` must name everything the HTML depends on besides the topic's data and the language (the
    jurisdiction, the query, the other topics' versions). Never for a part holding a CSRF token or a
    person-level value typed by the user. Returns a safe string."""
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    return mark_safe(cached(topic, f"html:{get_language()}:{key}", lambda: str(render()), seconds))


def connect_signals() -> None:
    """Bump ``registry`` on every ORM save/delete of the registry and assessment models, ``quality`` on
    those of data-quality findings, ``work`` on those of visits, supervision problems and pairings."""
    from django.db.models.signals import post_delete, post_save

    from xiaokang.policy.models import HouseholdAssessment
    from xiaokang.quality.models import Finding
    from xiaokang.registry.models import Household, Income, Member, Pairing, Visit
    from xiaokang.supervision.models import Problem

    # (a pairing changes what a pairing cadre's cached pages list)
    for topic, models in ((REGISTRY, (Household, Member, Income, HouseholdAssessment, Pairing)), (QUALITY, (Finding,)),
                          (WORK, (Visit, Problem, Pairing))):
        def on_change(sender, topic=topic, **kwargs):
            bump(topic)

        for model in models:
            label = model._meta.label
            post_save.connect(on_change, sender=model, weak=False, dispatch_uid=f"xk-cache-{topic}-{label}-save")
            post_delete.connect(on_change, sender=model, weak=False, dispatch_uid=f"xk-cache-{topic}-{label}-delete")


class CachedCountPaginator(Paginator):
    """A Django ``Paginator`` whose ``count`` is cached under the registry's data version.

    The key is the queryset's SQL with its parameters (so each filter and jurisdiction has its own count);
    counting a city's million households then happens once per data version, not on every page view.
    """

    topic = REGISTRY

    @cached_property
    def count(self):
        try:
            sql, params = self.object_list.query.sql_with_params()
        except EmptyResultSet:  # .none(): nothing to count
            return 0
        return cached(self.topic, f"count:{sql}:{params!r}", self.object_list.count)
