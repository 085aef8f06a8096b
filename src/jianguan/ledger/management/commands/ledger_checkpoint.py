from django.core.management.base import BaseCommand

from jianguan.ledger import services


class Command(BaseCommand):
    help = "Sign a checkpoint of the evidence log's current tree (also runs on the schedule)."

    def handle(self, *args, **options):
        cp = services.sign_checkpoint()
        self.stdout.write(cp.note)
