from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "xiaokang.supervision"
    verbose_name = _("督查")
    default_auto_field = "django.db.models.BigAutoField"
