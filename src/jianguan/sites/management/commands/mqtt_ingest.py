import contextlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jianguan.sites.ingest.mqtt import run_forever


class Command(BaseCommand):
    help = "Run an MQTT ingest worker (MQTT_URL); start several with different --worker ids to share the load."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.MQTT_URL)
        parser.add_argument("--worker", default="0", help="worker id: the persistent session's name")
        parser.add_argument("--shared", action="store_true", help="join the shared subscription (several workers)")

    def handle(self, *args, url, worker, shared, **options):
        if not url:
            raise CommandError("set MQTT_URL (e.g. mqtt://127.0.0.1:1883) or pass --url")
        self.stdout.write(f"MQTT 接入 {url}（工作进程 {worker}）")
        with contextlib.suppress(KeyboardInterrupt):
            run_forever(url, worker, shared)
