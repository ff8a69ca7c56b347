"""The live status of `ccoin devnet up`: redrawn in place on a terminal, one line per
change elsewhere, one JSON document per change with --json."""

from __future__ import annotations

import io
import json
import re

from ccoin.devnet.live import LEGEND, JsonStatus, LiveTable, status_line
from ccoin.devnet.processes import BridgeStatus, NodeStatus, render_table

ESCAPE = "\x1b"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def nodes(height: int, finalized: int, *, down: int | None = None) -> list[NodeStatus]:
    return [
        NodeStatus(f"node{i}", height, finalized, 1, i != down, 100 + i if i != down else None)
        for i in range(2)
    ]


def bridge(anchored: int | None) -> BridgeStatus:
    return BridgeStatus("http://127.0.0.1:26800", True, anchored, True)


def test_status_line() -> None:
    assert status_line(nodes(5, 3, down=1), bridge(2)) == (
        "node0 up 5/3 p1 | node1 down 5/3 p1 | bsc up anchored 2 | relayer up"
    )
    unknown = [NodeStatus("node0", None, None, None, False, None)]
    assert status_line(unknown, None) == "node0 down -/- p-"


def test_on_a_terminal_the_table_is_redrawn_in_place() -> None:
    out = io.StringIO()
    table = LiveTable(out, terminal=True)
    table.show(nodes(1, 0), bridge(0))
    first = out.getvalue()
    rows = render_table(nodes(1, 0), bridge(0))
    assert first == "".join(f"\x1b[2K{row}\n" for row in rows) + "\x1b[J"  # no cursor move yet

    table.show(nodes(1, 0), bridge(0))
    assert out.getvalue() == first  # the same table: nothing written

    table.show(nodes(2, 1), bridge(0))
    redraw = out.getvalue()[len(first) :]
    assert redraw.startswith(f"\x1b[{len(rows)}F")  # back up over the whole table
    assert redraw.count("\n") == len(rows)  # as many lines as it went up: no scrolling
    body = redraw[len(f"\x1b[{len(rows)}F") : -len("\x1b[J")]
    assert body.split("\n")[:-1] == [
        f"\x1b[2K{row}" for row in render_table(nodes(2, 1), bridge(0))
    ]


def test_elsewhere_one_plain_line_per_change() -> None:
    out = io.StringIO()
    clock = iter([1_800_000_000.0, 1_800_000_001.0, 1_800_000_002.0])
    table = LiveTable(out, terminal=False, clock=lambda: next(clock))
    shown = [
        (nodes(1, 0), bridge(0)),
        (nodes(1, 0), bridge(0)),  # unchanged: no line
        (nodes(2, 0), bridge(0)),  # a new head
        (nodes(2, 0), bridge(0)),
        (nodes(2, 1), bridge(0)),  # a new finalized height
        (nodes(2, 1), bridge(0)),
    ]
    for statuses, bsc in shown:
        table.show(statuses, bsc)
    text = out.getvalue()
    assert ESCAPE not in text
    legend, *lines = text.splitlines()
    assert legend == LEGEND
    assert len(lines) == 3
    assert lines[0] == "2027-01-15T08:00:00Z " + status_line(nodes(1, 0), bridge(0))
    assert all(re.fullmatch(STAMP + r" node0 up \d/\d p1 \| .*relayer up", x) for x in lines)
    assert lines[2].endswith(status_line(nodes(2, 1), bridge(0)))


def test_json_one_document_per_change() -> None:
    out = io.StringIO()
    status = JsonStatus(out)
    for statuses in (nodes(1, 0), nodes(1, 0), nodes(2, 1, down=0)):
        status.show(statuses, None)
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(docs) == 2
    assert docs[1] == {
        "status": {
            "nodes": [
                {"name": "node0", "height": 2, "finalized": 1, "peers": 1, "running": False},
                {"name": "node1", "height": 2, "finalized": 1, "peers": 1, "running": True},
            ],
            "bridge": None,
        }
    }
