from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "xiaokang.quality"
    verbose_name = "数据清洗 Data quality"
    default_auto_field = "django.db.models.BigAutoField"
