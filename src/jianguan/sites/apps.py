from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "jianguan.sites"
    verbose_name = "智慧工地"
