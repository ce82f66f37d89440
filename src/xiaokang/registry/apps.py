from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "xiaokang.registry"
    verbose_name = "建档立卡 Registry"
