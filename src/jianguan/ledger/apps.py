from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "jianguan.ledger"
    verbose_name = "存证日志"

    def ready(self):
        from . import tasks  # noqa: F401  registers the periodic jobs with huey in every process
