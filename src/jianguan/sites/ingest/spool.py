"""A local disk spool: when the database is unreachable, ingest appends what it received here (fsynced
JSON lines) and replays it in order once the database is back. An outage delays data, never drops it."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Spool:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, encoding="utf-8") as fh:
            return sum(1 for _ in fh)

    def replay(self, handle: Callable[[dict[str, Any]], None]) -> int:
        """Feeds spooled records to `handle` in order; stops at the first failure and keeps the rest."""
        with self._lock:
            if not self.path.exists():
                return 0
            lines = self.path.read_text(encoding="utf-8").splitlines()
            done = 0
            try:
                for line in lines:
                    if line.strip():
                        handle(json.loads(line))
                    done += 1
            finally:
                rest = lines[done:]
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text("".join(f"{line}\n" for line in rest), encoding="utf-8")
                os.replace(tmp, self.path)
            return done
