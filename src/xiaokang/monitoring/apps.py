from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "xiaokang.monitoring"
    verbose_name = _("防止返贫监测")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .processes import register_all

        register_all()
