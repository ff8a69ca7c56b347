"""How long the bridge takes on a devnet: deposits from BSC to credit, withdrawals to release.

    .venv/bin/python bench/bridge_latency.py [--deposits 20] [--withdrawals 5] [--dir DEVNET]

Without --dir it makes a 4-node devnet with the bridge in a temporary directory, starts it
(`devnet up --detach`: anvil, contracts, nodes, relayer) and stops it afterwards; with
--dir it uses a running one. Then:

- **deposits**: the devnet's BSC user locks C for fresh sidechain addresses, one BSC
  transaction after another (anvil mines a block a second); each deposit's latency runs
  from its BSC receipt to the moment node0 reports it credited (a watcher thread looks up
  every pending deposit every 50 ms).
- **withdrawals**: test account 0 withdraws to BSC, one after another; each is timed from
  submission to finalized, to anchored on BSC, and to released on BSC (`Bridge.withdraw`
  with the node's proof, as `ccoin bridge claim` does).

Prints one JSON report with per-phase percentiles in seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccoin.bridge.evm import Contract, EvmClient
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.bridge import anchored_range, claim_arguments
from ccoin.client import Client
from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import KeyPair
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import Devnet
from ccoin.devnet.temporary import temporary_devnet

POLL = 0.05
DEADLINE = 120.0


def wait(what: str, condition: Callable[[], bool]) -> float:
    """Poll until `condition`; the monotonic time it first held."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(POLL)
    return time.monotonic()


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)

    return {"p50": at(0.5), "p95": at(0.95), "max": round(ordered[-1], 2)}


def run(devnet: Devnet, deposits: int, withdrawals: int) -> dict[str, Any]:
    bsc = devnet.bsc
    assert bsc is not None
    node = Client(f"http://{devnet.nodes[0].rpc}")
    evm = EvmClient(bsc.url)
    token = Contract(bsc.token, tuple(load_artifact("CarbonCoin")["abi"]))
    bridge = Contract(bsc.bridge, tuple(load_artifact("Bridge")["abi"]))
    anchor = Contract(bsc.anchor, tuple(load_artifact("Anchor")["abi"]))
    user = devbsc.dev_keys()[devbsc.USER]
    wait("the first anchor", lambda: int(anchor.read(evm, "nextHeight")) > 1)

    def credited(nonce: int) -> bool:
        answer = node.request("ccoin_getDeposit", bscChainId=97, bridge=bsc.bridge, nonce=nonce)
        return bool(answer["credited"])

    token.send(evm, user, "approve", bridge.address, 1_000 * deposits)
    pending: dict[int, float] = {}  # nonce -> when its BSC receipt came
    deposit_latency: list[float] = []

    def observe() -> bool:
        """Record the deposits credited since the last look; True when none is left."""
        for nonce, sent in list(pending.items()):
            if credited(nonce):
                deposit_latency.append(time.monotonic() - sent)
                del pending[nonce]
        return not pending

    lock = threading.Lock()
    sending = threading.Event()
    sending.set()

    def watch() -> None:  # every 50 ms, while later deposits are being made
        while sending.is_set():
            with lock:
                observe()
            time.sleep(POLL)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for _ in range(deposits):
        receipt = bridge.send(evm, user, "deposit", address_raw(KeyPair.generate().address), 1_000)
        with lock:
            pending[int(receipt["logs"][-1]["topics"][1], 16)] = time.monotonic()
    sending.clear()
    watcher.join()
    wait("every deposit credited", observe)

    account = devnet.test_accounts()[0]
    payee = "0x" + "be" * 20
    phases: dict[str, list[float]] = {"finalized": [], "anchored": [], "released": []}
    for _ in range(withdrawals):
        start = time.monotonic()
        tx_id = node.withdraw(account, payee, 500)
        found = node.wait_for(tx_id, "finalized", timeout=DEADLINE, interval=POLL)
        phases["finalized"].append(time.monotonic() - start)
        height = int(found["height"])
        index, first, last, _ = anchored_range(evm, anchor, height, time.monotonic() + DEADLINE)
        phases["anchored"].append(time.monotonic() - start)
        proof = node.get_withdrawal_proof(tx_id, first, last)
        bridge.send(evm, user, "withdraw", *claim_arguments(proof, index))
        phases["released"].append(time.monotonic() - start)
    node.close()
    evm.close()
    return {
        "deposits": deposits,
        "deposit_to_credit_s": summary(deposit_latency),
        "withdrawals": withdrawals,
        **{f"withdrawal_to_{k}_s": summary(v) for k, v in phases.items()},
        "bsc_block_time_s": devbsc.BSC_BLOCK_TIME,
        "confirmations": devbsc.CONFIRMATIONS,
        "anchor_every_s": devbsc.ANCHOR_EVERY,
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deposits", type=int, default=20)
    parser.add_argument("--withdrawals", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="a running devnet with the bridge")
    args = parser.parse_args()
    if args.dir is not None:
        report = run(Devnet.load(args.dir), args.deposits, args.withdrawals)
    else:
        with temporary_devnet(test_accounts=2) as devnet:
            report = run(devnet, args.deposits, args.withdrawals)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
