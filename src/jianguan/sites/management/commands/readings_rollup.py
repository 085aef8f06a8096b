import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from jianguan.sites.readings import aggregates


def _instant(text: str, *, end: bool = False) -> dt.datetime:
    """A local date (a whole day: its midnight, or the next one for --until) or an ISO date-time."""
    day = parse_date(text)
    if day is not None:
        return aggregates.day_end(day) if end else aggregates.day_start(day)
    at = parse_datetime(text)
    if at is None:
        raise CommandError(f"不是日期或时间：{text}（例：2026-11-20 或 2026-11-20T08:00+08:00）")
    return at if at.tzinfo else timezone.make_aware(at)


class Command(BaseCommand):
    help = (
        "Recompute hourly and daily reading aggregates (idempotent). Default: the last "
        "READINGS_ROLLUP_LOOKBACK_HOURS, as the 10-minute job does; --since/--until backfill a range."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="local date (whole day) or ISO date-time")
        parser.add_argument("--until", help="local date (included) or ISO date-time (excluded); default now")

    def handle(self, *args, since, until, **options):
        now = timezone.now()
        end = _instant(until, end=True) if until else now
        start = _instant(since) if since else end - dt.timedelta(hours=settings.READINGS_ROLLUP_LOOKBACK_HOURS)
        if start >= end:
            raise CommandError("--since 须早于 --until")
        cutoff = aggregates.retention_cutoff(now)
        if cutoff is not None and start < cutoff:
            self.stdout.write(
                f"保留期外（{cutoff.astimezone(aggregates.local_tz()):%Y-%m-%d} 之前）原始数据已删除，跳过"
            )
        result = aggregates.rollup(start, end, progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(f"汇总完成：{result.hours} 个小时窗，{result.days} 天，写入 {result.buckets} 条汇总")
        )
