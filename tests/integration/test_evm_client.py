"""`EvmClient` against a real anvil: a transaction stuck unmined is replaced by the next one
at its nonce with a gas price raised by 1/8, so exactly one of them is mined. And what
`ccoin relay` checks at its start: the BSC endpoint's chain, its metrics port."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge.evm import EvmClient, EvmError, new_account
from ccoin.cli.main import cli
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import KDF_PRESETS, encrypt_seed, save_keystore


@pytest.fixture(scope="module")
def chain() -> Iterator[EvmClient]:
    with start_anvil(chain_id=97, block_time=0, accounts=2) as node, EvmClient(node.url) as client:
        yield client


def test_a_stuck_transaction_is_replaced_at_its_nonce(chain: EvmClient) -> None:
    sender, receiver = (new_account(a.key) for a in dev_accounts(2))
    start = int(chain.rpc("eth_getTransactionCount", sender.address, "latest"), 16)
    before = int(chain.rpc("eth_getBalance", receiver.address, "latest"), 16)
    chain.rpc("evm_setAutomine", False)  # BSC congested: nothing gets mined
    try:
        with pytest.raises(EvmError, match="no receipt"):
            chain.transact(sender, receiver.address, b"", value=5, receipt_timeout=0.3)
        [stuck] = chain.rpc("eth_getBlockByNumber", "pending", True)["transactions"]
        with pytest.raises(EvmError, match="no receipt"):  # the next one takes its place
            chain.transact(sender, receiver.address, b"", value=7, receipt_timeout=0.3)
        [replacement] = chain.rpc("eth_getBlockByNumber", "pending", True)["transactions"]
        chain.rpc("anvil_mine", "0x1")
    finally:
        chain.rpc("evm_setAutomine", True)
    assert int(replacement["nonce"], 16) == start == int(stuck["nonce"], 16)
    assert int(replacement["gasPrice"], 16) == -(-int(stuck["gasPrice"], 16) * 9 // 8)
    assert chain.rpc("eth_getTransactionReceipt", stuck["hash"]) is None  # replaced
    receipt = chain.rpc("eth_getTransactionReceipt", replacement["hash"])
    assert receipt is not None and int(receipt["status"], 16) == 1
    after = int(chain.rpc("eth_getBalance", receiver.address, "latest"), 16)
    assert after - before == 7  # only the replacement's value arrived
    assert int(chain.rpc("eth_getTransactionCount", sender.address, "latest"), 16) == start + 1

    again = chain.transact(sender, receiver.address, b"", value=1)  # next nonce, normal price
    sent = chain.rpc("eth_getTransactionByHash", again["transactionHash"])
    assert int(sent["nonce"], 16) == start + 1
    assert int(sent["gasPrice"], 16) == int(chain.rpc("eth_gasPrice"), 16)


def relay_files(tmp_path: Path, bsc_url: str, chain_id: int, **extra: Any) -> Path:
    """A relay.json with real keystores beside it."""
    (tmp_path / "pass").write_text("pw\n")
    payer = Account.encrypt(dev_accounts(1)[0].key, "pw", kdf="pbkdf2", iterations=2)
    (tmp_path / "payer.json").write_text(json.dumps(payer))
    key = KeyPair.generate()
    ops, mem = KDF_PRESETS["fast"]
    keystore = encrypt_seed(key.seed, "pw", opslimit=ops, memlimit=mem)
    save_keystore(keystore, tmp_path / "relayer.json")
    config = {
        "bsc": bsc_url, "bscChainId": chain_id,
        "anchor": "0x" + "ab" * 20, "bridge": "0x" + "cd" * 20,
        "payerKey": "payer.json", "payerPassphraseFile": "pass",
        "sidechain": "http://127.0.0.1:9", "signers": ["http://127.0.0.1:9"],
        "relayerKeystore": "relayer.json", "relayerPassphraseFile": "pass", **extra,
    }  # fmt: skip
    (tmp_path / "relay.json").write_text(json.dumps(config))
    return tmp_path / "relay.json"


def test_the_relayer_refuses_a_bsc_endpoint_of_another_chain(
    chain: EvmClient, tmp_path: Path
) -> None:
    path = relay_files(tmp_path, chain.url, 56)
    result = CliRunner().invoke(cli, ["relay", "--config", str(path), "--rounds", "1"])
    assert result.exit_code == 2, result.output
    assert "is chain 97, not bscChainId 56" in result.output


def test_the_relayer_reports_a_taken_metrics_port(chain: EvmClient, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = relay_files(tmp_path, chain.url, 97, metricsListen=f"127.0.0.1:{port}")
        result = CliRunner().invoke(cli, ["relay", "--config", str(path), "--rounds", "1"])
    assert result.exit_code == 2, result.output
    assert "LISTEN_FAILED" in result.output and f"127.0.0.1:{port}" in result.output
