from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "jianguan.projects"
    verbose_name = "工程项目"

    def ready(self) -> None:
        from . import publication

        publication.connect()
