"""The programs' log: one JSON object per line on standard error (or `stream`), under the
`hallq` logger; a record's `extra={"fields": {...}}` become keys of its line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"t": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage(), **getattr(record, "fields", {})}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("hallq")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
