"""Structured logs: one event name plus key=value fields per line (STYLE convention 11)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.codec import json_int, json_object, json_str

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


MIB = 1024 * 1024
_ROTATION_FIELDS = frozenset({"file", "maxBytes", "backups"})


@dataclass(frozen=True)
class LogRotation:
    """A log file that rotates by size: `file` grows to `max_bytes`, then becomes `file.1`
    (the older ones shift up), and at most `backups` old files are kept."""

    file: Path
    max_bytes: int = 10 * MIB
    backups: int = 3

    def to_json(self, file: str) -> dict[str, Any]:
        return {"file": file, "maxBytes": self.max_bytes, "backups": self.backups}

    @classmethod
    def from_json(cls, value: Any, base: Path, name: str = "log") -> LogRotation:
        obj = json_object(value, name, _ROTATION_FIELDS)
        if "file" not in obj:
            raise ConfigError(ErrorCode.CONFIG_INVALID, f"{name}: missing field file")
        return cls(
            file=base / json_str(obj["file"], f"{name}.file", max_len=4096),
            max_bytes=json_int(obj.get("maxBytes", 10 * MIB), f"{name}.maxBytes", 1024, 2**40),
            backups=json_int(obj.get("backups", 3), f"{name}.backups", 1, 1000),
        )


class RotatingLog(logging.handlers.RotatingFileHandler):
    """With `own_stderr`, the process's stderr follows the current file (after each rollover
    too), so a crash's last words land in the log and rotate with it, and a parent that
    sent our stderr to the same file does not keep writing to a renamed old one."""

    def __init__(self, rotation: LogRotation, *, own_stderr: bool = False) -> None:
        self.own_stderr = own_stderr
        rotation.file.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(rotation.file, maxBytes=rotation.max_bytes, backupCount=rotation.backups)
        self.setFormatter(EventFormatter())

    def _open(self) -> Any:
        stream = super()._open()
        if self.own_stderr:
            os.dup2(stream.fileno(), sys.stderr.fileno())
        return stream


def setup_logging(level: str = "info", rotation: LogRotation | None = None) -> None:
    """Log lines to stderr, or to `rotation.file` rotated by size."""
    handler: logging.Handler
    if rotation is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = RotatingLog(rotation, own_stderr=True)
    handler.setFormatter(EventFormatter())
    root = logging.getLogger("ccoin")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def event(_event: str, _level: int = logging.INFO, **fields: Any) -> None:
    _LOGGER.log(_level, _event, extra={"fields": fields})
