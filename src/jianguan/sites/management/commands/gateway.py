import asyncio
import contextlib
import json

from django.core.management.base import BaseCommand

from jianguan.sites.ingest.hj212_gateway import BatchWriter, build_gateway
from jianguan.sites.protocols.gateway import new_event_loop


class Command(BaseCommand):
    help = "Run the HJ 212-2017 TCP gateway (standalone, for scale-out behind a TCP balancer)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=9212)
        parser.add_argument(
            "--worker", default="", help="name of this gateway process (its own spool file when the database is away)"
        )
        parser.add_argument("--max-batch", type=int, default=2000, help="packets stored per transaction at most")

    def handle(self, *args, host, port, worker, max_batch, **options):
        gateway = build_gateway(host, port, writer=BatchWriter(worker=worker, max_batch=max_batch))

        async def main():
            await gateway.start()
            self.stdout.write(f"HJ 212 网关监听 {host}:{gateway.port}")
            try:
                await gateway.serve_forever()
            finally:
                stats = gateway.stats.snapshot() | {"writer": gateway.writer.stats}
                self.stdout.write(json.dumps(stats, ensure_ascii=False))
                await gateway.close()

        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(main())
