from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "jianguan.registry"
    verbose_name = "主体库与人员库"
