from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xiaokang.core"
    verbose_name = "核心 Core"
