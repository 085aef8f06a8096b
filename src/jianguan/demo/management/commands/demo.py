"""`jianguan demo`: migrate the embedded database, load the Linyi demo data once, print the logins and
serve the platform at http://127.0.0.1:8000."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from jianguan.accounts.models import User
from jianguan.demo import seed

from .seed_demo import print_logins


class Command(BaseCommand):
    help = "Set up and run the demo: migrations, Linyi demo data, server on 127.0.0.1:8000."

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
            logins = [(u.username, u.get_role_display(), "") for u in User.objects.order_by("id")]
            logins = [(u, r, "见首次启动时的说明") for u, r, _ in logins if not u.startswith("reg_")]
        print_logins(self.stdout, logins)
        if no_serve:
            return
        self.stdout.write(self.style.SUCCESS(f"平台已启动：http://{host}:{port}/  （Ctrl+C 停止）"))
        stop_gateway = None
        if gateway_port:
            from jianguan.sites.ingest import build_gateway

            stop_gateway = build_gateway(host, gateway_port).run_in_thread()
            from jianguan.sites import simulator
            from jianguan.sites.models import Device

            mns = Device.objects.filter(protocol="hj212").exclude(mn=None).values_list("mn", flat=True)
            stop_simulator = simulator.run_in_thread(
                [(mn, seed.DEMO_DEVICE_PASSWORD) for mn in mns], host, gateway_port, interval=30
            )
            self.stdout.write(f"模拟设备：{len(mns)} 台扬尘噪声监测仪，每 30 秒上报一次实时数据。")
            self.stdout.write(
                f"HJ 212 设备网关：tcp://{host}:{gateway_port}（演示设备密码 {seed.DEMO_DEVICE_PASSWORD}）；"
                "MQTT 接入尚未启用。"
            )
        import uvicorn
        from django.conf import settings
        from huey.contrib.djhuey import HUEY

        # The embedded default: background jobs and schedules run in this process (threads).
        consumer = HUEY.create_consumer(**settings.HUEY["consumer"])
        consumer.start()
        self.stdout.write("后台任务（存证检查点签发、每日自检）已在本进程内运行。")
        try:
            uvicorn.run("jianguan.asgi:application", host=host, port=port, log_level="info", lifespan="off")
        finally:
            consumer.stop(graceful=True)
            if stop_gateway:
                stop_simulator()
                stop_gateway()
