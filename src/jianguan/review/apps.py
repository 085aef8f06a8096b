from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "jianguan.review"
    verbose_name = "审查与许可"
