from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jianguan.accounts"
    verbose_name = "用户与部门"
