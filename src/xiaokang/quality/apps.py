from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "xiaokang.quality"
    verbose_name = _("数据清洗")
    default_auto_field = "django.db.models.BigAutoField"
