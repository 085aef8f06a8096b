from django.conf import settings
from django.core.management.base import BaseCommand

from jianguan.notify import outbox


class Command(BaseCommand):
    help = (
        "Delete sent and given-up outbox rows (投递记录) older than NOTIFY_OUTBOX_RETENTION_DAYS and the messages "
        "left without a delivery. Pending and failed rows and in-app notifications are kept. Also runs nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only print what would be deleted")

    def handle(self, *args, dry_run, **options):
        days = settings.NOTIFY_OUTBOX_RETENTION_DAYS
        if days <= 0:
            self.stdout.write("NOTIFY_OUTBOX_RETENTION_DAYS=0：投递记录永久保留，不删除。")
            return
        rehearsal = "（演练，不删除）" if dry_run else ""
        self.stdout.write(f"已发送、已放弃的投递记录保留 {days} 天；待发送与重试中的不删除{rehearsal}")
        counts = outbox.purge_outbox(dry_run=dry_run)
        verb = "将删除" if dry_run else "已删除"
        self.stdout.write(
            self.style.SUCCESS(f"{verb}：投递记录 {counts['deliveries']} 条，外发消息 {counts['messages']} 条")
        )
