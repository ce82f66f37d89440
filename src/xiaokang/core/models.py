"""Shared models: the registry's data version (数据版本), which keys cached summaries."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataVersion(models.Model):
    """A counter moved on after every committed change of a topic's data (``xiaokang.core.cache``)."""

    name = models.CharField(_("数据类别"), max_length=32, primary_key=True)
    version = models.BigIntegerField(_("版本"), default=0)

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")

    def __str__(self):
        return f"{self.name} v{self.version}"
