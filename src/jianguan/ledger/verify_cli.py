"""`jianguan ledger-verify BUNDLE --key PUBKEY`: checks an evidence bundle offline. No Django, no database.

PUBKEY is the verifier key string (``<name>+<key id>+<base64>``) or a file holding it, as published at
/.well-known/jianguan-ledger-key. Exit status 0 when every check holds, 1 when one fails, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .bundle import verify_bundle


def _read_key(value: str) -> str:
    path = Path(value)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jianguan ledger-verify", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="evidence bundle (JSON file), or - for standard input")
    parser.add_argument("--key", required=True, help="verifier key string, or a file containing it")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        text = sys.stdin.read() if args.bundle == "-" else Path(args.bundle).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        print(f"无法读取存证包 / cannot read the bundle: {exc}", file=sys.stderr)
        return 2
    report = verify_bundle(data, _read_key(args.key))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for check in report.checks:
            mark = "✓" if check.ok else "✗"
            print(f"{mark} {check.label_zh} — {check.message}")
        print("结论：存证有效，记录未被改动。" if report.ok else "结论：验证失败，见上方 ✗ 项。")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
