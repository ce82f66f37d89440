from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExitsConfig(AppConfig):
    name = "xiaokang.exits"
    verbose_name = _("贫困村退出与贫困县摘帽")
    default_auto_field = "django.db.models.BigAutoField"
