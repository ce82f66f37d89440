from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "xiaokang.demo"
    verbose_name = "示例数据 Demo"
