from django.core.management.base import BaseCommand, CommandError

from jianguan.demo import seed


class Command(BaseCommand):
    help = "Load the Linyi demo data (divisions, departments, users, enterprises, people, projects)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=1, help="multiply the ~200 demo projects (50: 10,000, for benchmarks)"
        )

    def handle(self, *args, scale, **options):
        try:
            logins = seed.seed(progress=self.stdout.write, scale=scale)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        print_logins(self.stdout, logins)


def print_logins(out, logins) -> None:
    out.write(f"\n演示账号（密码均为 {seed.DEMO_PASSWORD}）：")
    width = max(len(u) for u, *_ in logins)
    for username, role, note in logins:
        if note:
            out.write(f"  {username.ljust(width)}  {role}：{note}")
    out.write("  另有各县区监管员 reg_<区划代码>，如 reg_371321（沂南县）。\n")
