"""Audit trail (操作留痕): who changed what, when, through which channel.

The registry models keep their history with django-simple-history (``HistoricalRecords``): every save
or delete through the ORM writes a historical row with the full record, the user (``history_user``, from
``simple_history.middleware.HistoryRequestMiddleware`` in a request) and the time. This module adds the
*channel* (``web``, ``admin``, ``import``, ``api``, ``command``) as a column of every historical table
(abstract base ``AuditChannelBase``): ``AuditChannelMiddleware`` sets it per request, ``audit_channel()``
sets it around other code (imports, commands), and ``instance._audit_channel`` overrides it for one
save. Outside a request and without ``audit_channel()`` the channel is ``command``.

Bulk writes that bypass ``save()`` (the demo loader's ``COPY``/``executemany`` inserts and raw deletes)
write no history. Historical rows are never exposed for change or deletion in the application.
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
