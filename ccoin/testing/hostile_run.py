"""The hostile contracts of `ccoin.testing.hostile` against a real multi-node devnet: what
`bench/hostile_devnet.py` and `tests/e2e/test_hostile_contracts.py` share.

`run_hostile` deploys every case from one funded test account and calls every deployed one
(gas limit the case's, fee `required_fee`, `BALANCE` attached to the few that move coins, so
the contract holds it during the call as the corpus assumes), waits for finality, then
checks:

* each case's outcome: refused at submission with TX_CONTRACT_REJECTED naming its lint
  rule, or a finalized failed receipt whose error starts with the expected text (a case
  whose export is `init` fails in its deploy's receipt);
* the fee paid: the sender's balance fell by exactly the fees of its included transactions;
* every node's block hash and stateRoot at one height all of them have finalized, and
  every transaction's block and receipt the same on every node;
* optionally a node that was stopped before the calls and started after them: it applies
  the hostile blocks in a fresh process (it would refuse them with BLOCK_BAD_STATE_ROOT on
  any difference) and must then agree; and a node restarted at the end must report the
  same stateRoot and receipts from its own database;
* every node still serving: its process runs, it answers, and its chain moves on.

Every wait is for an observed condition under one overall deadline; nothing sleeps a guessed
time but the bounded polling between observations.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccoin.client import Client, ClientError, NodeError, NodeUnreachable
from ccoin.client.flows import SubmitResult
from ccoin.crypto.keys import KeyPair
from ccoin.devnet.layout import DEVNET_FILE, GENESIS_FILE, Devnet, init_devnet
from ccoin.devnet.pids import LOG_FILE
from ccoin.devnet.ports import free_port_range
from ccoin.devnet.processes import (
    Started,
    node_process,
    running_nodes,
    start_devnet,
    start_processes,
    stop_processes,
    stop_started,
)
from ccoin.errors import ErrorCode
from ccoin.ledger.execute import required_fee
from ccoin.testing.hostile import BALANCE, Case
from ccoin.types.assets import Asset, ContractCallAsset, ContractDeployAsset, TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction, TxBody

NODES = 4
POLL = 0.2  # seconds between two observations
CLIENT_TIMEOUT = 10.0  # one RPC request (a node applying a full block may answer late)
INIT = "init"  # a case with this export fails in its deploy's receipt, never called
# Log lines that must not appear during a run: a refused block (BLOCK_BAD_STATE_ROOT among
# them), a sandbox fault, a penalized peer, anything above info, a traceback.
FLAGGED = re.compile(
    r"^\S+ (?:warning|error|critical) |^Traceback|block_invalid|contract_fault|"
    r"header_rejected|equivocation|peer_penalized|peer_banned|bad_message|peer_invalid_message"
)
LINT_RULE = re.compile(r"\d+:\d+: ([a-z][a-z0-9-]*):")  # "4:11: no-star-args: ..."


class RunFailed(Exception):
    """The run cannot go on: a wait ran out of time, or a node exited."""


# -- the devnet's processes ----------------------------------------------------------------


@dataclass
class DevnetNodes:
    """The nodes of one devnet, their clients, and the processes this run started.

    With `owned` (the run started the devnet), `close` stops every node it started; a devnet
    found running is left running, a node restarted here included."""

    devnet: Devnet
    deadline: float  # time.monotonic() by which the whole run must be done
    started: dict[int, Started] = field(default_factory=dict)
    owned: bool = False
    _clients: dict[int, Client] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.devnet.nodes)

    def client(self, i: int) -> Client:
        if i not in self._clients:
            url = f"http://{self.devnet.nodes[i].rpc}"
            self._clients[i] = Client(url, timeout=CLIENT_TIMEOUT)
        return self._clients[i]

    def running(self, i: int) -> bool:
        if i in self.started:
            return self.started[i].process.poll() is None
        return node_process(self.devnet, self.devnet.nodes[i]).live_pid() is not None

    def stop(self, i: int) -> None:
        if i in self.started:
            stop_started([self.started.pop(i)])
        else:
            stop_processes([node_process(self.devnet, self.devnet.nodes[i])])

    def start(self, i: int) -> None:
        [self.started[i]] = start_processes([node_process(self.devnet, self.devnet.nodes[i])])

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        if self.owned:
            stop_started(list(self.started.values()))

    def status(self, i: int) -> dict[str, Any] | None:
        try:
            return self.client(i).status()
        except ClientError:
            return None

    def finalized(self, i: int) -> int:
        found = self.status(i)
        return -1 if found is None else int(found["finalizedHeight"])

    def wait(self, what: str, condition: Callable[[], bool], nodes: Sequence[int]) -> None:
        """Poll `condition` until it holds; RunFailed when one of `nodes` exits or the
        deadline passes first."""
        while not condition():
            for i in nodes:
                if not self.running(i):
                    raise RunFailed(f"{self.devnet.nodes[i].name} exited while {what}")
            if time.monotonic() > self.deadline:
                heights = {n.name: self.finalized(i) for i, n in enumerate(self.devnet.nodes)}
                raise RunFailed(f"timed out {what}; finalized heights {heights}")
            time.sleep(POLL)

    def log(self, i: int) -> Path:
        return self.devnet.node_dir(self.devnet.nodes[i]) / LOG_FILE

    def log_size(self, i: int) -> int:
        log = self.log(i)
        return log.stat().st_size if log.exists() else 0

    def log_lines(self, i: int, since: int = 0) -> list[str]:
        """Node `i`'s log from byte `since` on."""
        if not self.log(i).exists():
            return []
        with self.log(i).open("rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace").splitlines()

    def log_tail(self, i: int, lines: int = 20) -> str:
        return "\n".join(self.log_lines(i)[-lines:]) or "(no log)"


@contextmanager
def devnet_nodes(
    root: Path | None, *, timeout: float, test_accounts: int = 2
) -> Iterator[DevnetNodes]:
    """The 4-node devnet in `root` without the bridge (made there on free ports when `root`
    holds none; in a temporary directory, deleted afterwards, when `root` is None), started
    unless its nodes already run; what this started is stopped afterwards, always."""
    temporary = root is None
    where = Path(tempfile.mkdtemp(prefix="ccoin-hostile-")) if root is None else root
    try:
        if not (where / DEVNET_FILE).exists():
            base = free_port_range(NODES)
            init_devnet(
                where, nodes=NODES, base_port=base, test_accounts=test_accounts, bridge=False
            )
        devnet = Devnet.load(where)
        nodes = DevnetNodes(devnet, time.monotonic() + timeout)
        try:
            adopt_or_start(nodes)
            yield nodes
        finally:
            nodes.close()
    finally:
        if temporary:
            shutil.rmtree(where, ignore_errors=True)


def adopt_or_start(nodes: DevnetNodes) -> None:
    devnet = nodes.devnet
    live = running_nodes(devnet)
    if len(live) == len(devnet.nodes):
        return
    if live:
        names = ", ".join(proc.name for proc, _pid in live)
        raise RunFailed(f"only some nodes of {devnet.root} run ({names}): all or none")
    index = {node.name: i for i, node in enumerate(devnet.nodes)}
    for started in start_devnet(devnet, bridge=False):
        nodes.started[index[started.name]] = started
    nodes.owned = True


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    held: bool
    got: str  # what happened, in one line
    tx_ids: tuple[str, ...]  # its deploy and call, those the nodes admitted

    @property
    def expected(self) -> str:
        return f"refused: {self.case.rule}" if self.case.rule else f"failed: {self.case.error}"


@dataclass
class HostileReport:
    outcomes: list[CaseOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was checked and held, one line each
    problems: list[str] = field(default_factory=list)  # every mismatch, one line each
    height: int = -1  # the finalized height all nodes were compared at
    block_id: str = ""
    state_root: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and all(outcome.held for outcome in self.outcomes)

    def check(self, held: bool, note: str, problem: str) -> None:
        (self.notes if held else self.problems).append(note if held else problem)

    def summary(self) -> str:
        refused = sum(o.held and o.case.rule is not None for o in self.outcomes)
        failed = sum(o.held and o.case.error is not None for o in self.outcomes)
        held = refused + failed
        return (
            f"{held}/{len(self.outcomes)} cases held: {refused} refused at deploy by their "
            f"rule, {failed} failed receipts with their error"
        )


def short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else f"{text[:width]}... ({len(text)} chars)"


def refusal_outcome(case: Case, error: NodeError) -> CaseOutcome:
    """A deploy the node refused at submission: held when it names the case's rule."""
    rules = set(LINT_RULE.findall(error.message))
    held = error.code is ErrorCode.TX_CONTRACT_REJECTED and case.rule in rules
    return CaseOutcome(case, held, f"refused: {short(str(error))}", ())


def receipt_outcome(case: Case, found: dict[str, Any], tx_ids: tuple[str, ...]) -> CaseOutcome:
    """A finalized transaction: held when its receipt failed with the expected error."""
    receipt = found.get("receipt")
    if found["status"] != "finalized":
        return CaseOutcome(case, False, f"{found['status']}: {found.get('error')}", tx_ids)
    if receipt is None:
        return CaseOutcome(case, False, "finalized without a receipt", tx_ids)
    if receipt["ok"]:
        return CaseOutcome(case, False, f"ok: value {short(repr(receipt['value']))}", tx_ids)
    error = str(receipt["error"])
    held = case.error is not None and error.startswith(case.error)
    return CaseOutcome(case, held, f"failed: {short(error)}", tx_ids)


# -- transactions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    key: KeyPair
    network_id: bytes
    genesis: GenesisConfig

    def sign(self, tx_type: TxType, asset: Asset, amount: int = 0) -> Transaction:
        """A transaction paying exactly its required fee, stamped now."""
        stamp = max(0, int(time.time()) - self.genesis.genesis_time)
        pk = self.key.public_key
        unpaid = TxBody(int(tx_type), stamp, pk, None, amount, 0, asset)
        fee = required_fee(unpaid, self.genesis)
        return TxBody(int(tx_type), stamp, pk, None, amount, fee, asset).sign(
            self.key, self.network_id
        )


def sender_of(devnet: Devnet, account: int = -1) -> Sender:
    genesis = GenesisConfig.load(devnet.root / GENESIS_FILE)
    return Sender(devnet.test_accounts()[account], bytes.fromhex(devnet.network_id), genesis)


def submit(
    nodes: DevnetNodes, targets: Sequence[int], txs: Sequence[Transaction]
) -> list[SubmitResult]:
    """Each transaction to one of `targets` in turn (one batch per node); results in order."""
    results: dict[int, SubmitResult] = {}
    for k, i in enumerate(targets):
        picked = list(range(k, len(txs), len(targets)))
        if picked:
            answers = nodes.client(i).send_transactions([txs[j] for j in picked])
            results.update(zip(picked, answers, strict=True))
    return [results[j] for j in range(len(txs))]


def wait_final(nodes: DevnetNodes, i: int, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each transaction's status on node `i` once it is finalized (or rejected). Polls in
    submission order and stops a sweep at the first still pending, to stay well inside the
    node's per-client rate limit."""
    client = nodes.client(i)
    done: dict[str, dict[str, Any]] = {}

    def settled() -> bool:
        for tx_id in ids:
            if tx_id in done:
                continue
            try:
                found = client.get_transaction(tx_id)
            except NodeError as exc:
                if exc.code is not ErrorCode.NOT_FOUND:
                    raise
                return False
            except NodeUnreachable:  # busy applying a block: ask again
                return False
            if found["status"] not in ("finalized", "rejected"):
                return False
            done[tx_id] = found
        return True

    nodes.wait(f"for {len(ids)} transactions to be final on node{i}", settled, [i])
    return done


def balance(nodes: DevnetNodes, i: int, address: str) -> int:
    return int(nodes.client(i).get_account(address)["balance"])


# -- the run ---------------------------------------------------------------------------------


def moves_coins(case: Case) -> bool:
    """The case sends coins from the contract: it gets `BALANCE` attached to its call."""
    return "coins." in case.source


@dataclass
class _Run:
    nodes: DevnetNodes
    sender: Sender
    report: HostileReport
    outcomes: dict[str, CaseOutcome] = field(default_factory=dict)
    fees: int = 0  # of every included transaction
    ids: list[str] = field(default_factory=list)  # every included transaction
    last_height: int = 0  # the highest block holding one of them

    def included(self, found: dict[str, Any], tx: Transaction) -> None:
        if found["status"] == "finalized":
            self.fees += tx.body.fee
            self.ids.append(found["id"])
            self.last_height = max(self.last_height, int(found["height"]))

    def outcome(self, outcome: CaseOutcome) -> None:
        self.outcomes[outcome.case.name] = outcome


def run_hostile(
    nodes: DevnetNodes,
    cases: Sequence[Case],
    *,
    late: int | None = None,
    restart: int | None = None,
    account: int = -1,
) -> HostileReport:
    """Deploy and call every case (see the module docstring); `late` is a node kept down
    during them, `restart` one restarted at the end; `account` the test account sending."""
    run = _Run(nodes, sender_of(nodes.devnet, account), HostileReport())
    everyone = list(range(nodes.size))
    logs = [nodes.log_size(i) for i in everyone]
    nodes.wait(
        "waiting for every node to finalize a block",
        lambda: all(nodes.finalized(i) >= 1 for i in everyone),
        everyone,
    )
    if late is not None:
        nodes.stop(late)
    serving = [i for i in everyone if i != late]
    address = run.sender.key.address
    before = balance(nodes, serving[0], address)
    call_cases(run, deploy_cases(run, cases, serving), serving)
    run.report.outcomes = [run.outcomes[case.name] for case in cases]
    spent = before - balance(nodes, serving[0], address)
    run.report.check(
        spent == run.fees,
        f"fees paid: the sender's balance fell by exactly the fees of its {len(run.ids)} "
        f"included transactions ({spent} base units)",
        f"the sender's balance fell by {spent} base units, its fees were {run.fees}",
    )
    if late is not None:
        nodes.start(late)
    agree(run, late)
    if restart is not None:
        restart_node(run, restart)
    still_serving(run)
    check_logs(run, logs)
    return run.report


def deploy_cases(
    run: _Run, cases: Sequence[Case], serving: Sequence[int]
) -> list[tuple[Case, str, str]]:
    """Deploy every case; (case, contract, deploy id) of those to call next. The others'
    outcomes are settled here: refused at submission, or a finalized deploy receipt."""
    txs = [
        run.sender.sign(TxType.CONTRACT_DEPLOY, ContractDeployAsset(case.name, case.source))
        for case in cases
    ]
    admitted: list[tuple[Case, Transaction, str]] = []
    for case, tx, result in zip(cases, txs, submit(run.nodes, serving, txs), strict=True):
        if result.error is not None:
            run.outcome(refusal_outcome(case, result.error))
        else:
            assert result.id is not None
            admitted.append((case, tx, result.id))
    final = wait_final(run.nodes, serving[0], [tx_id for _c, _t, tx_id in admitted])
    to_call = []
    for case, tx, tx_id in admitted:
        found = final[tx_id]
        run.included(found, tx)
        receipt = found.get("receipt")
        if case.rule is not None:
            run.outcome(CaseOutcome(case, False, "admitted, not refused at deploy", (tx_id,)))
        elif case.function == INIT or not (receipt and receipt["ok"]):
            run.outcome(receipt_outcome(case, found, (tx_id,)))
        else:
            to_call.append((case, str(receipt["contract"]), tx_id))
    run.report.notes.append(
        f"deploys: {len(cases)} submitted, {len(cases) - len(admitted)} refused at "
        f"submission, {len(admitted)} finalized"
    )
    return to_call


def call_cases(run: _Run, deployed: list[tuple[Case, str, str]], serving: Sequence[int]) -> None:
    """Call every deployed case once, from the sender, and settle its outcome."""
    txs = [
        run.sender.sign(
            TxType.CONTRACT_CALL,
            ContractCallAsset(contract, case.function, (), case.gas_limit),
            BALANCE if moves_coins(case) else 0,
        )
        for case, contract, _deploy in deployed
    ]
    admitted: list[tuple[Case, Transaction, str, str]] = []
    for (case, _c, deploy), tx, result in zip(
        deployed, txs, submit(run.nodes, serving, txs), strict=True
    ):
        if result.error is not None:
            got = f"call refused at submission: {short(str(result.error))}"
            run.outcome(CaseOutcome(case, False, got, (deploy,)))
        else:
            assert result.id is not None
            admitted.append((case, tx, deploy, result.id))
    final = wait_final(run.nodes, serving[0], [call for _c, _t, _d, call in admitted])
    for case, tx, deploy, call in admitted:
        run.included(final[call], tx)
        run.outcome(receipt_outcome(case, final[call], (deploy, call)))
    gas = sum(case.gas_limit for case, _c, _d in deployed)
    attached = sum(moves_coins(case) for case, _c, _d in deployed)
    run.report.notes.append(
        f"calls: {len(txs)} submitted (gas limits {gas} in all, BALANCE attached to "
        f"{attached}), {len(admitted)} finalized, the last transaction at height "
        f"{run.last_height}"
    )


def tx_views(nodes: DevnetNodes, i: int, ids: Sequence[str]) -> dict[str, Any]:
    """What must be the same on every node for each transaction: status, block, receipt."""
    out = {}
    for tx_id in ids:
        found = nodes.client(i).get_transaction(tx_id)
        out[tx_id] = (found["status"], found["blockId"], found["height"], found["receipt"])
    return out


def compare_receipts(run: _Run, i: int, reference: int) -> None:
    mine = tx_views(run.nodes, i, run.ids)
    theirs = tx_views(run.nodes, reference, run.ids)
    differ = [tx_id for tx_id in run.ids if mine[tx_id] != theirs[tx_id]]
    run.report.check(
        not differ,
        f"node{i}: all {len(run.ids)} transactions in the same blocks with the same receipts "
        f"as node{reference}",
        f"node{i} and node{reference} differ on {len(differ)} transactions: {differ[:5]}",
    )


def agree(run: _Run, late: int | None) -> None:
    """Every node finalizes past the last transaction; one finalized height's block id and
    stateRoot are the same on all of them, and so are every transaction's receipts."""
    nodes, report = run.nodes, run.report
    everyone = list(range(nodes.size))
    target = run.last_height
    nodes.wait(
        f"waiting for every node to finalize height {target}",
        lambda: all(nodes.finalized(i) >= target for i in everyone),
        everyone,
    )
    report.height = min(nodes.finalized(i) for i in everyone)
    blocks = [nodes.client(i).get_block(report.height) for i in everyone]
    report.block_id, report.state_root = blocks[0]["id"], blocks[0]["stateRoot"]
    seen = {f"node{i}": (b["id"], b["stateRoot"]) for i, b in zip(everyone, blocks, strict=True)}
    report.check(
        len(set(seen.values())) == 1,
        f"all {nodes.size} nodes at finalized height {report.height}: block "
        f"{report.block_id}, stateRoot {report.state_root}",
        f"the nodes differ at finalized height {report.height}: {seen}",
    )
    if late is not None:
        report.notes.append(
            f"node{late} was down during every hostile transaction; started again, it applied "
            f"them in a fresh process and finalized height {nodes.finalized(late)}"
        )
    for i in everyone[1:]:
        compare_receipts(run, i, 0)


def restart_node(run: _Run, i: int) -> None:
    """Stop node `i`, start it again, let it finalize past the compared height: the same
    block and stateRoot there, and the same receipts, from its own database."""
    nodes, report = run.nodes, run.report
    nodes.stop(i)
    nodes.start(i)
    height = report.height
    nodes.wait(
        f"waiting for node{i} to finalize past height {height} after its restart",
        lambda: nodes.finalized(i) > height,
        list(range(nodes.size)),
    )
    block = nodes.client(i).get_block(height)
    report.check(
        (block["id"], block["stateRoot"]) == (report.block_id, report.state_root),
        f"node{i} restarted: finalized {nodes.finalized(i)}, the same block and stateRoot at "
        f"height {height}",
        f"node{i} after its restart: block {block['id']}, stateRoot {block['stateRoot']} "
        f"at height {height}, the others {report.block_id}, {report.state_root}",
    )
    compare_receipts(run, i, (i + 1) % nodes.size)


def still_serving(run: _Run) -> None:
    """Every node's process runs, it answers, and its head moves on."""
    nodes = run.nodes
    everyone = list(range(nodes.size))
    heads = [int((nodes.status(i) or {"height": -1})["height"]) for i in everyone]

    def moved_on() -> bool:
        return all(int((nodes.status(i) or {"height": -1})["height"]) > heads[i] for i in everyone)

    nodes.wait("waiting for every node's head to move on", moved_on, everyone)
    run.report.notes.append(
        f"all {nodes.size} nodes still serving: running, answering, heads past {heads}"
    )


def check_logs(run: _Run, since: Sequence[int]) -> None:
    """No node logged a refused block, a fault, a penalty or a traceback during the run."""
    nodes = run.nodes
    clean = True
    for i in range(nodes.size):
        flagged = [line for line in nodes.log_lines(i, since[i]) if FLAGGED.search(line)]
        if flagged:
            clean = False
            run.report.problems.append(
                f"node{i}'s log has {len(flagged)} flagged lines, the first: "
                f"{short(flagged[0], 300)}"
            )
    if clean:
        run.report.notes.append(
            f"logs of all {nodes.size} nodes: no refused block, fault, penalty, warning or "
            "traceback"
        )
