"""Audit trail (操作留痕): who changed what, when, through which channel.

The registry models keep their history with django-simple-history (``HistoricalRecords``): every save
or delete through the ORM writes a historical row with the full record, the user (``history_user``, from
``simple_history.middleware.HistoryRequestMiddleware`` in a request) and the time. This module adds the
*channel* (``web``, ``admin``, ``import``, ``api``, ``command``) as a column of every historical table
(abstract base ``AuditChannelBase``): ``AuditChannelMiddleware`` sets it per request, ``audit_channel()``
sets it around other code (imports, commands), and ``instance._audit_channel`` overrides it for one
save. Outside a request and without ``audit_channel()`` the channel is ``command``. A change of the command
or import channel made without an application user (a command run without ``--user``) records the
operating-system login that ran it (``os_user``, 系统账号), so that every change names someone.

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


def os_login() -> str:
    """The operating-system login name of this process (操作系统账号: who ran a command), or its user id
    when it has no name (a container); "" when neither can be found."""
    import getpass
    import os

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name
        return str(os.getuid()) if hasattr(os, "getuid") else ""


# Channels through which a change without an application user comes from a command run on the server.
SERVER_CHANNELS = frozenset({Channel.COMMAND, Channel.IMPORT})


class AuditChannelBase(models.Model):
    """Abstract base of the historical models: the channel column, and the operating-system login of a
    change made on the server's command line without an application user (``os_user``)."""

    channel = models.CharField(_("操作渠道"), max_length=10, choices=Channel.choices, blank=True)
    os_user = models.CharField(_("系统账号"), max_length=64, blank=True,
                               help_text=_("没有应用用户的命令行操作：运行命令的操作系统账号"))

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _set_channel(sender, instance, history_instance, **kwargs):
    if hasattr(history_instance, "channel") and not history_instance.channel:
        history_instance.channel = getattr(instance, "_audit_channel", None) or current_channel()
    if (hasattr(history_instance, "os_user") and history_instance.history_user_id is None
            and history_instance.channel in SERVER_CHANNELS):
        history_instance.os_user = os_login()[:64]


def history_tables(*models) -> list[str]:
    """The tables of the historical models of ``models`` (django-simple-history), e.g. for ``ANALYZE`` after a
    bulk write of history rows."""
    return [model.history.model._meta.db_table for model in models]


def history_select(model, src: str, history_type: str, reason: str, user_id, now, channel: str):
    """(columns, SQL expressions, parameters) that make the django-simple-history row of each record of
    ``model`` read from the SQL alias ``src`` (its table, or a staging table of the same columns), for an
    ``INSERT INTO <history table> (columns) SELECT expressions FROM … src``: the record's values, the time
    ``now``, ``history_type`` (+ new, ~ changed, - deleted), the change reason, the user id (or None) and
    the ``channel`` (``Channel``) and, without a user on the command or import channel, the operating-system
    login (``os_user``). Raises ValueError for an unknown channel."""
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
        elif f.name == "os_user":
            sql.append("%s")
            params.append(os_login()[: f.max_length] if user_id is None and channel in SERVER_CHANNELS else "")
        else:
            sql.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
    return cols, sql, params
