from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "xiaokang.monitoring"
    verbose_name = "防止返贫监测 Return-to-poverty monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .processes import register_all

        register_all()
