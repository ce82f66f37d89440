from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "xiaokang.dashboards"
    verbose_name = _("看板")
