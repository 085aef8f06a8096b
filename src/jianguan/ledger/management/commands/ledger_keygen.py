import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jianguan.ledger import checkpoint


class Command(BaseCommand):
    help = "Generate the evidence log's Ed25519 signer key file (once per deployment) and print its public key."

    def handle(self, *args, **options):
        path = Path(settings.LEDGER_SIGNING_KEY_FILE)
        if path.exists():
            raise CommandError(f"{path} exists already; a log keeps its key (rotate only with a new origin)")
        signer, verifier = checkpoint.generate_signer(settings.LEDGER_ORIGIN)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(signer + "\n")
        self.stdout.write(f"signer key written to {path} (mode 600)")
        self.stdout.write(f"verifier key (publish this): {verifier}")
