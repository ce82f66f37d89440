from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "xiaokang.policy"
    verbose_name = "政策与评估 Policy"
