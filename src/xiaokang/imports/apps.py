from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "xiaokang.imports"
    verbose_name = "导入导出 Import and export"
    default_auto_field = "django.db.models.BigAutoField"
