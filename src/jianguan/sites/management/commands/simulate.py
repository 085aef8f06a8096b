import time

from django.core.management.base import BaseCommand, CommandError

from jianguan.demo.seed import DEMO_DEVICE_PASSWORD
from jianguan.sites.ingest import simulator
from jianguan.sites.models import Device


class Command(BaseCommand):
    help = "Simulate the registered HJ 212 monitors: real packets over TCP to the gateway, with daily patterns."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9212)
        parser.add_argument("--interval", type=float, default=30, help="seconds between packets (HJ 212: 30–3600)")
        parser.add_argument("--password", default=DEMO_DEVICE_PASSWORD, help="the devices' access password (PW)")
        parser.add_argument("--limit", type=int, default=0, help="simulate at most this many devices")

    def handle(self, *args, host, port, interval, password, limit, **options):
        mns = list(Device.objects.filter(protocol=Device.Protocol.HJ212).exclude(mn=None).values_list("mn", flat=True))
        if limit:
            mns = mns[:limit]
        if not mns:
            raise CommandError("没有已登记的 HJ 212 设备（先运行 jianguan demo 或登记设备）")
        stop = simulator.run_in_thread([(mn, password) for mn in mns], host, port, interval)
        self.stdout.write(f"模拟 {len(mns)} 台监测仪 → {host}:{port}，每 {interval:g} 秒一包（Ctrl+C 停止）")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            stop()
