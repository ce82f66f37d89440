from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xiaokang.accounts"
    verbose_name = "用户 Accounts"
