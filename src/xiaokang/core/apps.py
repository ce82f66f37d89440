from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "xiaokang.core"
    verbose_name = _("核心")

    def ready(self):
        from .cache import connect_signals

        connect_signals()
