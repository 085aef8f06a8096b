import asyncio
import contextlib
import json

from django.core.management.base import BaseCommand

from jianguan.sites.ingest import build_gateway


class Command(BaseCommand):
    help = "Run the HJ 212-2017 TCP gateway (standalone, for scale-out behind a TCP balancer)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=9212)

    def handle(self, *args, host, port, **options):
        gateway = build_gateway(host, port)

        async def main():
            await gateway.start()
            self.stdout.write(f"HJ 212 网关监听 {host}:{gateway.port}")
            try:
                await gateway.serve_forever()
            finally:
                self.stdout.write(json.dumps(gateway.stats.snapshot(), ensure_ascii=False))
                await gateway.close()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
