from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "xiaokang.areas"
    verbose_name = "行政区划 Areas"
