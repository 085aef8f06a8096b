from django.conf import settings
from django.core.management.base import BaseCommand

from jianguan.sites.readings import aggregates


class Command(BaseCommand):
    help = (
        "Delete raw readings older than READINGS_RETENTION_DAYS (each day re-rolled first; daily aggregates kept) "
        "and hourly aggregates older than READINGS_HOURLY_RETENTION_DAYS. Also runs nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only print what would be deleted")

    def handle(self, *args, dry_run, **options):
        raw, hourly = (
            f"{days} 天" if days > 0 else "永久"
            for days in (settings.READINGS_RETENTION_DAYS, settings.READINGS_HOURLY_RETENTION_DAYS)
        )
        rehearsal = "（演练，不删除）" if dry_run else ""
        self.stdout.write(f"原始数据保留 {raw}，小时汇总保留 {hourly}，日汇总永久保留{rehearsal}")
        result = aggregates.apply_retention(dry_run=dry_run, progress=self.stdout.write)
        verb = "将删除" if dry_run else "已删除"
        self.stdout.write(
            self.style.SUCCESS(f"{verb}：{result.days} 天的原始数据 {result.readings} 条，小时汇总 {result.hourly} 条")
        )
