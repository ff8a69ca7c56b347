"""A bounded soak of the bridge on a devnet: random deposits and withdrawals with the relayer
killed (SIGKILL) and restarted now and then; at the end every deposit must be credited
exactly once, every withdrawal released exactly once, and escrow + locked unchanged.

    .venv/bin/python bench/bridge_soak.py [--minutes 10] [--seed 1] [--dir DEVNET]

Without --dir it makes a 4-node devnet with the bridge in a temporary directory and stops
it afterwards. Each step (about one a second) is a deposit (60%), a withdrawal by one of
the test accounts (30%) or a relayer kill and restart (10%); withdrawals are claimed on BSC
after the steps. Prints one JSON report; exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
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
from ccoin.devnet.pids import process_alive, read_pid
from ccoin.devnet.processes import bridge_processes, start_processes
from ccoin.devnet.temporary import temporary_devnet

DEADLINE = 180.0
POLL = 0.1


def wait(what: str, condition: Any, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(POLL)


def soak(devnet: Devnet, minutes: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    bsc = devnet.bsc
    procs = bridge_processes(devnet)
    assert bsc is not None and procs is not None
    relayer = procs[1]
    node = Client(f"http://{devnet.nodes[1].rpc}")
    evm = EvmClient(bsc.url)
    token = Contract(bsc.token, tuple(load_artifact("CarbonCoin")["abi"]))
    bridge = Contract(bsc.bridge, tuple(load_artifact("Bridge")["abi"]))
    anchor = Contract(bsc.anchor, tuple(load_artifact("Anchor")["abi"]))
    user = devbsc.dev_keys()[devbsc.USER]
    genesis_bridge = json.loads((devnet.root / "genesis.json").read_text())["bridge"]
    escrow = genesis_bridge["escrow"]

    def balance(address: str) -> int:
        account = node.get_account(address)
        return int(account["balance"]) if account["exists"] else 0

    def total() -> int:
        return balance(escrow) + int(token.read(evm, "balanceOf", bsc.bridge))

    wait("the first anchor", lambda: int(anchor.read(evm, "nextHeight")) > 1)
    start_total = total()
    accounts = devnet.test_accounts()
    deposits: dict[int, tuple[str, int]] = {}  # nonce -> (fresh recipient, amount)
    withdrawals: list[tuple[str, str, int]] = []  # (tx id, BSC recipient, amount)
    kills = 0
    token.send(evm, user, "approve", bridge.address, 2**64 - 1)
    end = time.monotonic() + minutes * 60
    while time.monotonic() < end:
        roll = rng.random()
        if roll < 0.6:
            recipient, amount = KeyPair.generate().address, rng.randint(1, 10**6)
            receipt = bridge.send(evm, user, "deposit", address_raw(recipient), amount)
            deposits[int(receipt["logs"][-1]["topics"][1], 16)] = (recipient, amount)
        elif roll < 0.9:
            to = "0x" + rng.randbytes(20).hex()
            amount = rng.randint(1, 10**6)
            tx_id = node.withdraw(rng.choice(accounts), to, amount)
            withdrawals.append((tx_id, to, amount))
            time.sleep(1.0)  # a withdrawal a block at most, like the deposits
        else:
            pid = read_pid(relayer.pid_file)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                wait("the killed relayer to vanish", lambda p=pid: not process_alive(p), 10.0)
            start_processes([relayer])
            kills += 1

    def credited(nonce: int) -> bool:
        found = node.request("ccoin_getDeposit", bscChainId=97, bridge=bsc.bridge, nonce=nonce)
        return bool(found["credited"])

    waiting = set(deposits)

    def all_credited() -> bool:  # each waiting deposit once a sweep: the node rate-limits
        waiting.difference_update([n for n in sorted(waiting)[:50] if credited(n)])
        time.sleep(0.5)
        return not waiting

    wait("every deposit credited", all_credited, DEADLINE * 2)
    wrong_credits = [n for n, (r, a) in deposits.items() if balance(r) != a]
    released = 0
    for tx_id, to, amount in withdrawals:
        found = node.wait_for(tx_id, "finalized", timeout=DEADLINE)
        height = int(found["height"])
        index, first, last, _ = anchored_range(evm, anchor, height, time.monotonic() + DEADLINE)
        proof = node.get_withdrawal_proof(tx_id, first, last)
        before = int(token.read(evm, "balanceOf", to))
        bridge.send(evm, user, "withdraw", *claim_arguments(proof, index))
        released += int(token.read(evm, "balanceOf", to)) - before == amount  # paid in full
    end_total = total()
    node.close()
    evm.close()
    return {
        "minutes": minutes,
        "seed": seed,
        "deposits": len(deposits),
        "deposits_credited_wrongly": wrong_credits,
        "withdrawals": len(withdrawals),
        "withdrawals_released": released,
        "relayer_kills": kills,
        "escrow_plus_locked_before": start_total,
        "escrow_plus_locked_after": end_total,
        "ok": not wrong_credits and released == len(withdrawals) and start_total == end_total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="a running devnet with the bridge")
    args = parser.parse_args()
    if args.dir is not None:
        report = soak(Devnet.load(args.dir), args.minutes, args.seed)
    else:
        with temporary_devnet(test_accounts=8) as devnet:
            report = soak(devnet, args.minutes, args.seed)
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
