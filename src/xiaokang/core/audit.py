"""Audit trail (操作留痕): who changed what, when, through which channel.

The registry models keep their history with django-simple-history (``HistoricalRecords``): every save
or delete through the ORM writes a historical row with the full record, the user (``history_user``, from
``simple_history.middleware.HistoryRequestMiddleware`` in a request) and the time. This module adds the
*channel* (``web``, ``admin``, ``import``, ``api``, ``command``) as a column of every historical table
(abstract base ``AuditChannelBase``): ``AuditChannelMiddleware`` sets it per request, ``audit_channel()``
sets it around other code (imports, commands), and ``instance._audit_channel`` overrides it for one
save. Outside a request and without ``audit_channel()`` the channel is ``command``.

Bulk writes that bypass ``save()`` write their history rows themselves, set-based (``history_select``:
the import's merge, the demo loader's creation rows); the demo's raw deletes write none. Historical rows are never exposed for change or deletion in the application.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.db import models
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    ADMIN = "admin", _("管理后台")
    IMPORT = "import", _("导入")
    API = "api", _("接口")
    COMMAND = "command", _("命令行")


_channel: contextvars.ContextVar[str] = contextvars.ContextVar("xiaokang_audit_channel", default=Channel.COMMAND)


def current_channel() -> str:
    return _channel.get()


@contextlib.contextmanager
def audit_channel(channel: str):
    """Record history written inside the block with ``channel``."""
    if channel not in Channel.values:
        raise ValueError(f"未知的操作渠道: {channel!r}")
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


class AuditChannelMiddleware:
    """Sets the channel of the request: ``admin`` under the admin site, ``web`` elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            admin_prefix = reverse("admin:index")
        except Exception:  # noqa: BLE001 - no admin site mounted
            admin_prefix = None
        channel = Channel.ADMIN if admin_prefix and request.path.startswith(admin_prefix) else Channel.WEB
        with audit_channel(channel):
            return self.get_response(request)


class AuditChannelBase(models.Model):
    """Abstract base of the historical models: the channel column."""

    channel = models.CharField(_("操作渠道"), max_length=10, choices=Channel.choices, blank=True)

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _set_channel(sender, instance, history_instance, **kwargs):
    if hasattr(history_instance, "channel") and not history_instance.channel:
        history_instance.channel = getattr(instance, "_audit_channel", None) or current_channel()


def history_select(model, src: str, history_type: str, reason: str, user_id, now, channel: str):
    """(columns, SQL expressions, parameters) that make the django-simple-history row of each record of
    ``model`` read from the SQL alias ``src`` (its table, or a staging table of the same columns), for an
    ``INSERT INTO <history table> (columns) SELECT expressions FROM … src``: the record's values, the time
    ``now``, ``history_type`` (+ new, ~ changed, - deleted), the change reason, the user id (or None) and
    the ``channel`` (``Channel``). Raises ValueError for an unknown channel."""
    from django.db import connection

    if channel not in Channel.values:
        raise ValueError(f"未知的操作渠道: {channel!r}")
    qn = connection.ops.quote_name
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
            sql.append(f"'{channel}'")
        else:
            sql.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
    return cols, sql, params
