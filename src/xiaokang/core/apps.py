from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xiaokang.core"
    verbose_name = "核心 Core"

    def ready(self):
        from .cache import connect_signals

        connect_signals()
