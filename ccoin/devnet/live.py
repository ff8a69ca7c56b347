"""The live status `ccoin devnet up` shows until it is stopped.

On a terminal the status table is redrawn in place (ANSI cursor movement), so it never
scrolls. Anywhere else (a pipe, a log file, CI) escape codes would be noise and a whole
table per refresh would bury the log: one timestamped line is written per change of the
table's content, and nothing while it stays the same. With --json, one status document per
change (the shape of `ccoin devnet status --json`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from ccoin.devnet.processes import BridgeStatus, NodeStatus, render_table

CURSOR_UP = "\x1b[{}F"  # to the first column, N lines up
CLEAR_LINE = "\x1b[2K"
CLEAR_BELOW = "\x1b[J"
LEGEND = (
    "status, one line per change: NODE up|down HEIGHT/FINALIZED pPEERS | ... "
    "| bsc up|down anchored HEIGHT | relayer up|down"
)


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def _state(up: bool) -> str:
    return "up" if up else "down"


def status_line(statuses: list[NodeStatus], bridge: BridgeStatus | None) -> str:
    """The table's content on one line (`LEGEND` says how to read it)."""
    parts = [
        f"{s.name} {_state(s.running)} {_cell(s.height)}/{_cell(s.finalized)} p{_cell(s.peers)}"
        for s in statuses
    ]
    if bridge is not None:
        parts.append(f"bsc {_state(bridge.bsc_running)} anchored {_cell(bridge.anchored)}")
        parts.append(f"relayer {_state(bridge.relayer_running)}")
    return " | ".join(parts)


def utc_stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class LiveTable:
    """Shows each new status: redrawn in place on a terminal, else one line per change."""

    def __init__(
        self, stream: TextIO, *, terminal: bool, clock: Callable[[], float] = time.time
    ) -> None:
        self.stream = stream
        self.terminal = terminal
        self.clock = clock
        self.last: list[str] = []

    def show(self, statuses: list[NodeStatus], bridge: BridgeStatus | None) -> None:
        lines = render_table(statuses, bridge)
        if lines == self.last:
            return
        if self.terminal:
            # Back to the table's first line, rewrite every line whole, clear what is left.
            up = CURSOR_UP.format(len(self.last)) if self.last else ""
            body = "".join(f"{CLEAR_LINE}{line}\n" for line in lines)
            self.stream.write(up + body + CLEAR_BELOW)
        else:
            legend = "" if self.last else LEGEND + "\n"
            stamp = utc_stamp(self.clock())
            self.stream.write(f"{legend}{stamp} {status_line(statuses, bridge)}\n")
        self.stream.flush()
        self.last = lines


class JsonStatus:
    """--json: one `{"status": ...}` line per change of the statuses."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last: dict[str, Any] | None = None

    def show(self, statuses: list[NodeStatus], bridge: BridgeStatus | None) -> None:
        status = {
            "nodes": [s.to_json() for s in statuses],
            "bridge": bridge.to_json() if bridge is not None else None,
        }
        if status == self.last:
            return
        self.stream.write(json.dumps({"status": status}) + "\n")
        self.stream.flush()
        self.last = status
