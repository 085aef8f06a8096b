from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "jianguan.ledger"
    verbose_name = "存证日志"
