"""Hostile contracts on a real 4-node devnet without the bridge (issue 11's acceptance).

A dozen cases of `ccoin.testing.hostile`, most of them shapes that stopped a node or split
receipts before issue 11, are deployed and called from a funded test account through
`ccoin.testing.hostile_run` (the logic `bench/hostile_devnet.py` runs over the whole
corpus). Each must end as its case says: refused at deploy by its lint rule, or a failed
receipt with its error and the fee paid. node3 is down during all of them and started after
them: it applies their blocks in a fresh process, and would refuse them with
BLOCK_BAD_STATE_ROOT if its result differed. All four must then report the same block and
stateRoot at one finalized height and the same receipts; node1 is restarted once more and
must report the same from its database; every node keeps serving, and no log shows a fault,
a refused block or a traceback. Waits are for heights, finality and receipts under one
deadline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ccoin.testing.hostile import ALL, ISSUE_SHAPES
from ccoin.testing.hostile_run import RunFailed, devnet_nodes, run_hostile

pytestmark = pytest.mark.slow

DEADLINE = 120.0  # seconds for the whole run; about 35 on a 2-core machine
LATE, RESTARTED = 3, 1
NAMES = (
    "to_bytes_keyword",
    "aliased_return",
    "deep_tuple_key",
    "deep_tuple_key_in_init",  # fails in its deploy's receipt
    "sort_key_sorts_again",
    "require_message_function",
    "isinstance_function",
    "index_of_function",
    "huge_require_message",
    "big_int_key",
    "dict_unpacking",  # refused at deploy: no-star-args
    "transfers_of_long_recipients",  # moves coins: BALANCE attached to its call
)
CASES = tuple(case for case in ALL if case.name in NAMES)


def test_the_cases_are_there() -> None:
    assert len(CASES) == len(NAMES)
    assert sum(case in ISSUE_SHAPES for case in CASES) >= 10
    assert any(case.rule is not None for case in CASES)


def test_hostile_contracts_on_a_four_node_devnet(tmp_path: Path) -> None:
    with devnet_nodes(tmp_path / "devnet", timeout=DEADLINE) as nodes:
        try:
            report = run_hostile(nodes, CASES, late=LATE, restart=RESTARTED)
        except RunFailed as exc:
            tails = "\n".join(
                f"--- {node.name} ---\n{nodes.log_tail(i)}"
                for i, node in enumerate(nodes.devnet.nodes)
            )
            pytest.fail(f"{exc}\n{tails}")
    wrong = [
        f"{o.case.name}: expected {o.expected}, got {o.got}" for o in report.outcomes if not o.held
    ]
    assert not wrong, "\n".join(wrong)
    assert not report.problems, "\n".join(report.problems)
    assert [o.case for o in report.outcomes] == list(CASES)
    assert report.height > 0 and len(report.state_root) == 64
    checked = "\n".join(report.notes)
    assert f"node{LATE} was down during every hostile transaction" in checked
    assert f"node{RESTARTED} restarted" in checked
    assert "still serving" in checked and "fees paid" in checked
