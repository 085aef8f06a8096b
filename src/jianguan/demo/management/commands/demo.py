"""`jianguan demo`: migrate the embedded database, load the Linyi demo data once, print the logins, and
serve the platform at http://127.0.0.1:8000 with everything embedded in one process: background jobs,
the HJ 212 gateway, simulated monitors and (with MQTT_URL) the MQTT ingest."""

from contextlib import ExitStack

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from huey.contrib.djhuey import HUEY

from jianguan.accounts.models import User
from jianguan.demo import seed
from jianguan.sites.ingest import simulator
from jianguan.sites.ingest.hj212_gateway import build_gateway
from jianguan.sites.ingest.mqtt import MqttIngest
from jianguan.sites.models import Device

from .seed_demo import print_logins


class Command(BaseCommand):
    help = "Set up and run the demo: migrations, Linyi demo data, simulated devices, server on 127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--gateway-port", type=int, default=9212, help="HJ 212 TCP gateway port (0: off)")
        parser.add_argument("--no-serve", action="store_true", help="set up and exit (for scripts and CI)")

    def handle(self, *args, host, port, gateway_port, no_serve, **options):
        self.stdout.write("数据库迁移…")
        call_command("migrate", interactive=False, verbosity=0)
        if not User.objects.filter(username="admin").exists():
            self.stdout.write("载入临沂演示数据…")
            logins = seed.seed(progress=self.stdout.write)
        else:
            self.stdout.write("演示数据已存在，跳过载入。")
            users = User.objects.exclude(username__startswith="reg_").order_by("id")
            logins = [(u.username, u.get_role_display(), u.get_full_name()) for u in users]
        print_logins(self.stdout, logins)
        if no_serve:
            return
        with ExitStack() as running:
            self.start_jobs(running)
            if gateway_port:
                self.start_devices(running, host, gateway_port)
            self.start_mqtt(running)
            self.stdout.write(self.style.SUCCESS(f"平台已启动：http://{host}:{port}/  （Ctrl+C 停止）"))
            uvicorn.run(
                "jianguan.asgi:application",
                host=host,
                port=port,
                log_level="info",
                lifespan="off",
                timeout_graceful_shutdown=5,  # open live-alarm pages would hold Ctrl+C for minutes
            )

    def start_jobs(self, running: ExitStack) -> None:
        # The embedded default: background jobs and schedules run in this process (threads).
        consumer = HUEY.create_consumer(**settings.HUEY["consumer"])
        consumer.start()
        running.callback(consumer.stop, graceful=True)
        self.stdout.write("后台任务（存证检查点签发、每日自检）已在本进程内运行。")

    def start_devices(self, running: ExitStack, host: str, gateway_port: int) -> None:
        running.callback(build_gateway(host, gateway_port).run_in_thread())
        mns = list(Device.objects.filter(protocol="hj212").exclude(mn=None).values_list("mn", flat=True))
        running.callback(
            simulator.run_in_thread([(mn, seed.DEMO_DEVICE_PASSWORD) for mn in mns], host, gateway_port, interval=30)
        )
        self.stdout.write(f"HJ 212 设备网关：tcp://{host}:{gateway_port}（演示设备密码 {seed.DEMO_DEVICE_PASSWORD}）")
        self.stdout.write(f"模拟设备：{len(mns)} 台扬尘噪声监测仪，每 30 秒上报一次实时数据。")

    def start_mqtt(self, running: ExitStack) -> None:
        url = settings.MQTT_URL
        if not url:
            self.stdout.write("未设置 MQTT_URL：本演示只接入 HJ 212 与 HTTP 设备（不连接消息代理）。")
            return
        ingest = MqttIngest(url, worker="demo")
        ingest.start()
        running.callback(ingest.stop)
        self.stdout.write(f"MQTT 接入：{url}（主题 jianguan/v1/devices/<客户端ID>/telemetry）")
