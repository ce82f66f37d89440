from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "xiaokang.dashboards"
    verbose_name = "看板 Dashboards"
