"""Four real nodes in one process, each with its own sandbox, run the hostile corpus
(`ccoin.testing.hostile`): every deploy the linter refuses is refused at the door, every
call is included with a failed receipt carrying its exact error, no node faults or stops,
and all four agree on the blocks, the stateRoot and every receipt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

from ccoin.errors import ErrorCode
from ccoin.modules.contracts.rules import deploy_address
from ccoin.node.service import Node
from ccoin.testing import factories as f
from ccoin.testing.hostile import ALL, Case
from ccoin.types.transaction import Transaction
from tests.integration.test_nodes_inprocess import build_network

STEP_TIMEOUT = 60  # seconds for any one thing the test waits for; slots are 1 s
# Refused before the work (the expensive, out-of-gas ones are the unit suite's): quick to
# run four times in one process. Plus two refused at deploy.
CALLED = [c for c in ALL if c.error is not None and c.error != "OutOfGas"]
REFUSED = [c for c in ALL if c.rule is not None][:2]


async def until(node: Node, holds: Callable[[Node], bool]) -> None:
    with trio.fail_after(STEP_TIMEOUT):
        while not holds(node):
            await node.wait_for_change()


def faults(node: Node) -> float:
    registry = node.metrics.registry
    values = [
        registry.get_sample_value("ccoin_contract_faults_total", {"phase": phase})
        for phase in ("build", "apply", "view")
    ]
    return sum(v or 0.0 for v in values)


def error_of(node: Node, tx: Transaction, nid: bytes) -> str | None:
    receipt = node.chain.receipt(tx.id(nid))
    assert receipt is not None and not receipt.ok, receipt
    return receipt.error


async def test_four_nodes_run_the_hostile_corpus_and_agree(tmp_path: Path) -> None:
    nodes = build_network(tmp_path)
    net = nodes[0].testnet  # type: ignore[attr-defined]
    nid = nodes[0].network_id
    try:
        async with trio.open_nursery() as nursery:
            for node in nodes:
                await nursery.start(node.run)
            now = int(nodes[0].chain_time())
            for case in REFUSED:
                bad = f.deploy(net.accounts[0], case.name[:20], case.source, nid, timestamp=now)
                [result] = await nodes[0].submit([bad])
                assert result.error is not None
                assert result.error.code is ErrorCode.TX_CONTRACT_REJECTED
                assert case.rule is not None and case.rule in result.error.message

            deploys = {
                case.name: f.deploy(
                    net.accounts[0], case.name[:20], case.source, nid, timestamp=now
                )
                for case in CALLED
            }
            results = await nodes[0].submit(list(deploys.values()))
            assert all(r.error is None for r in results), results
            # every node has applied the deploys before calls go to one of them (a node a
            # block behind would refuse a call to a contract it does not know yet)
            for node in nodes:
                for tx in deploys.values():
                    await until(node, lambda n, tx=tx: n.chain.transaction(tx.id(nid)) is not None)

            calls: dict[str, tuple[Case, Transaction]] = {}
            for i, case in enumerate(c for c in CALLED if c.function != "init"):
                contract = deploy_address(deploys[case.name], nid)
                sender = net.accounts[1 + i % 3]
                tx = f.call_contract(
                    sender, contract, case.function, (), nid, gas_limit=case.gas_limit,
                    timestamp=now,
                )  # fmt: skip
                calls[case.name] = (case, tx)
            results = await nodes[1].submit([tx for _case, tx in calls.values()])
            assert all(r.error is None for r in results), [r.error for r in results]

            included = [tx for _case, tx in calls.values()] + list(deploys.values())
            for node in nodes:
                for tx in included:
                    await until(node, lambda n, tx=tx: n.chain.transaction(tx.id(nid)) is not None)
            top = max(node.chain.transaction(tx.id(nid)).height for tx in included)  # type: ignore[union-attr]
            for node in nodes:
                await until(node, lambda n: n.chain.finalized_height >= top)

            # Each failed as it must, the same on every node.
            for case, tx in calls.values():
                errors = {error_of(node, tx, nid) for node in nodes}
                assert len(errors) == 1, (case.name, errors)
                [error] = errors
                assert case.error is not None and error is not None
                assert error.startswith(case.error), (case.name, error)
            for case in CALLED:
                if case.function == "init":  # the deploy's init failed: no contract
                    tx = deploys[case.name]
                    assert case.error is not None
                    assert (error_of(nodes[0], tx, nid) or "").startswith(case.error)
                    assert nodes[0].chain.contract(deploy_address(tx, nid)) is None

            headers = [node.chain.header_at(top) for node in nodes]
            assert all(h is not None for h in headers)
            assert len({h.hash(nid) for h in headers if h is not None}) == 1
            assert len({h.state_root for h in headers if h is not None}) == 1
            assert all(faults(node) == 0 for node in nodes)
            # ... and every node goes on producing and finalizing.
            for node in nodes:
                await until(node, lambda n: n.chain.finalized_height > top)
            nursery.cancel_scope.cancel()
    finally:
        for node in nodes:
            node.close()
