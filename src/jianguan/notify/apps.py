from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "jianguan.notify"
    verbose_name = "通知"
