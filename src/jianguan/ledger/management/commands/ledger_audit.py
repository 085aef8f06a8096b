from django.core.management.base import BaseCommand, CommandError

from jianguan.ledger import services


class Command(BaseCommand):
    help = "Recompute the evidence log from its entries and compare it with the stored tree and checkpoint."

    def handle(self, *args, **options):
        run = services.self_audit()
        if run.ok:
            self.stdout.write(self.style.SUCCESS(f"存证日志自检通过：{run.tree_size} 条，检查点 {run.checkpoint_size}"))
            return
        for problem in run.problems:
            self.stdout.write(self.style.ERROR(problem["message"]))
        raise CommandError(f"存证日志自检发现 {len(run.problems)} 个问题")
