from django.apps import AppConfig


class ExitsConfig(AppConfig):
    name = "xiaokang.exits"
    verbose_name = "贫困村退出与贫困县摘帽 Village and county exit"
    default_auto_field = "django.db.models.BigAutoField"
