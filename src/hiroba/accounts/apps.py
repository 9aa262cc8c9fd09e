from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hiroba.accounts"
    label = "accounts"
    verbose_name = "アカウント"
