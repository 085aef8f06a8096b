from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jianguan.demo"
    verbose_name = "演示数据"
