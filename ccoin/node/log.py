"""Structured logs: one event name plus key=value fields per line (STYLE convention 11)."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

_LOGGER = logging.getLogger("ccoin")


class EventFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        fields = getattr(record, "fields", {})
        parts = [f"{stamp}.{int(record.msecs):03d}Z", record.levelname.lower(), record.getMessage()]
        parts += [f"{k}={_value(v)}" for k, v in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _value(v: Any) -> str:
    text = v.hex() if isinstance(v, bytes) else str(v)
    return f'"{text}"' if (" " in text or not text) else text


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EventFormatter())
    root = logging.getLogger("ccoin")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def event(_event: str, _level: int = logging.INFO, **fields: Any) -> None:
    _LOGGER.log(_level, _event, extra={"fields": fields})
