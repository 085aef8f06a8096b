from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "jianguan.projects"
    verbose_name = "工程项目"
