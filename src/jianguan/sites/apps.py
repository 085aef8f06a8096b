from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "jianguan.sites"
    verbose_name = "智慧工地"

    def ready(self):
        from . import tasks  # noqa: F401  registers the periodic jobs with huey
