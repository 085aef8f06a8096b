"""The `jianguan` console command: Django's management entry point (`jianguan migrate`, `jianguan demo`, ...)."""

import os
import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "ledger-verify":
        # Offline verification needs neither Django nor a database.
        from jianguan.ledger.verify_cli import main as verify

        sys.exit(verify(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianguan.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
