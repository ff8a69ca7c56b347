"""A small Ethereum JSON-RPC client for BSC (and anvil standing in for it), ADR 0014.

`EvmClient` talks JSON-RPC over httpx; transactions are EIP-155 signed with eth-account
(legacy type, as BSC takes them), with the gas estimated (which also surfaces a revert and
its reason before anything is sent) and the nonce of the account's last *mined*
transaction: a transaction of ours that is stuck unmined (its receipt did not come in
time) is replaced by the next one at the same nonce, its gas price raised by 1/8 over the
stuck one's (nodes take a replacement only above +10%), so one stuck transaction never
queues every later one behind it. The key is the one sender of its account. `Contract` encodes calls
and decodes results from a committed ABI with eth-abi. Reverts are `EvmReverted` with the
contract's reason string.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import rlp
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ccoin.errors import ConfigError, ErrorCode

RECEIPT_TIMEOUT = 30.0
REPLACEMENT_BUMP = (9, 8)  # a replacement's gas price: 9/8 of the one it replaces
GAS_MARGIN = 1.2  # estimates can fall a little short when state moves between calls
_ERROR_SELECTOR = keccak(b"Error(string)")[:4]


class EvmError(RuntimeError):
    """The node refused a request or could not be reached."""


class EvmReverted(EvmError):
    """A call or transaction reverted; `reason` is the contract's message when it gave one."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"reverted: {reason}")


def revert_reason(data: object) -> str:
    """The reason string inside revert data (`Error(string)`), or what there is."""
    if not isinstance(data, str) or not data.startswith("0x"):
        return "no reason given"
    raw = bytes.fromhex(data[2:])
    if raw[:4] == _ERROR_SELECTOR:
        (reason,) = abi_decode(["string"], raw[4:])
        return str(reason)
    return "0x" + raw.hex() if raw else "no reason given"


class EvmClient:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self._http = httpx.Client(timeout=timeout)
        self._id = 0
        self._chain_id: int | None = None  # an endpoint's chain never changes: asked once
        self._prices: dict[tuple[str, int], int] = {}  # (sender, nonce) -> gas price sent

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EvmClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def rpc(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        try:
            reply = self._http.post(self.url, json=body).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise EvmError(f"{method} at {self.url}: {exc}") from None
        error = reply.get("error")
        if error is not None:
            message = str(error.get("message", ""))
            if "revert" in message:
                raise EvmReverted(revert_reason(error.get("data")))
            raise EvmError(f"{method}: {message}")
        return reply.get("result")

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.rpc("eth_chainId"), 16)
        return self._chain_id

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def logs(
        self, address: str, topics: list[str | None], from_block: int, to_block: int | str
    ) -> list[dict[str, Any]]:
        """`eth_getLogs` of one contract (topics as 0x-hex, None for any)."""
        query = {
            "address": address,
            "topics": topics,
            "fromBlock": hex(from_block),
            "toBlock": to_block if isinstance(to_block, str) else hex(to_block),
        }
        found = self.rpc("eth_getLogs", query)
        return [dict(entry) for entry in found]

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        request: dict[str, str] = {"to": to, "data": "0x" + data.hex()}
        if sender is not None:
            request["from"] = sender
        return bytes.fromhex(self.rpc("eth_call", request, "latest")[2:])

    def transact(
        self,
        account: LocalAccount,
        to: str | None,
        data: bytes,
        value: int = 0,
        *,
        receipt_timeout: float = RECEIPT_TIMEOUT,
    ) -> dict[str, Any]:
        """Sign, send and wait for the receipt; a revert raises `EvmReverted`, no receipt
        in time `EvmError` (the next transaction replaces it)."""
        request: dict[str, Any] = {"from": account.address, "data": "0x" + data.hex()}
        if to is not None:
            request["to"] = to
        if value:
            request["value"] = hex(value)
        gas = int(int(self.rpc("eth_estimateGas", request), 16) * GAS_MARGIN)
        nonce = int(self.rpc("eth_getTransactionCount", account.address, "latest"), 16)
        tx: dict[str, Any] = {
            "nonce": nonce,
            "gasPrice": self._gas_price(account.address, nonce),
            "gas": gas,
            "value": value,
            "data": data,
            "chainId": self.chain_id(),
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = account.sign_transaction(tx)
        tx_hash = self.rpc("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
        receipt = self.wait_receipt(tx_hash, receipt_timeout)
        if int(receipt["status"], 16) != 1:
            raise EvmReverted("the transaction failed on chain")
        return receipt

    def _gas_price(self, sender: str, nonce: int) -> int:
        """The node's gas price, or more to replace a transaction we sent at this nonce."""
        price = int(self.rpc("eth_gasPrice"), 16)
        sender = sender.lower()
        for key in [k for k in self._prices if k[0] == sender and k[1] < nonce]:
            del self._prices[key]  # mined: their nonces are spent
        stuck = self._prices.get((sender, nonce))
        if stuck is not None:
            numerator, denominator = REPLACEMENT_BUMP
            price = max(price, -(-stuck * numerator // denominator))
        self._prices[(sender, nonce)] = price
        return price

    def wait_receipt(self, tx_hash: str, timeout: float = RECEIPT_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                return dict(receipt)
            if time.monotonic() > deadline:
                raise EvmError(f"no receipt for {tx_hash} within {timeout:g} s")
            time.sleep(0.05)


def _type_of(entry: dict[str, Any]) -> str:
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in entry["components"])
        return f"({inner}){kind[5:]}"
    return kind


@dataclass(frozen=True)
class Contract:
    """A deployed contract: its address and ABI."""

    address: str
    abi: tuple[dict[str, Any], ...]

    def _function(self, name: str) -> dict[str, Any]:
        for entry in self.abi:
            if entry.get("type") == "function" and entry["name"] == name:
                return entry
        raise KeyError(f"no function {name} in the ABI")

    def encode(self, name: str, *args: Any) -> bytes:
        fn = self._function(name)
        types = [_type_of(i) for i in fn["inputs"]]
        selector = keccak(f"{name}({','.join(types)})".encode())[:4]
        return selector + abi_encode(types, list(args))

    def read(self, client: EvmClient, name: str, *args: Any) -> Any:
        """A view call: the decoded result (one value, or a tuple for several)."""
        raw = client.call(self.address, self.encode(name, *args))
        outputs = [_type_of(o) for o in self._function(name)["outputs"]]
        values = abi_decode(outputs, raw)
        return values[0] if len(values) == 1 else values

    def send(
        self, client: EvmClient, account: LocalAccount, name: str, *args: Any
    ) -> dict[str, Any]:
        return client.transact(account, self.address, self.encode(name, *args))


def deploy(
    client: EvmClient, account: LocalAccount, artifact: dict[str, Any], *args: Any
) -> Contract:
    """Deploy a compiled artifact with constructor `args`; the contract at its address."""
    abi = tuple(artifact["abi"])
    constructor: dict[str, Any] = next(
        (e for e in abi if e.get("type") == "constructor"), {"inputs": []}
    )
    types = [_type_of(i) for i in constructor["inputs"]]
    data = bytes.fromhex(artifact["bytecode"][2:]) + abi_encode(types, list(args))
    receipt = client.transact(account, None, data)
    return Contract(to_checksum_address(receipt["contractAddress"]), abi)


def create_address(deployer: str, nonce: int) -> str:
    """The address a contract created by `deployer` at `nonce` will have (CREATE), so a
    genesis can name the Bridge before it is deployed."""
    encoded = rlp.encode([bytes.fromhex(deployer[2:]), nonce])
    return to_checksum_address(keccak(encoded)[12:])


def load_account(keystore: Path, passphrase_file: Path, what: str) -> LocalAccount:
    """The key in an Ethereum v3 keystore file, unlocked with the passphrase in
    `passphrase_file` (its first line); `what` names it in the `ConfigError`s."""
    try:
        encrypted = json.loads(keystore.read_text())
        passphrase = passphrase_file.read_text().rstrip("\n")
        account: LocalAccount = Account.from_key(Account.decrypt(encrypted, passphrase))
    except OSError as exc:
        raise ConfigError(ErrorCode.CONFIG_INVALID, f"{what}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(ErrorCode.KEYSTORE_INVALID, f"{what} {keystore}: {exc}") from None
    return account


def new_account(private_key: bytes) -> LocalAccount:
    account: LocalAccount = Account.from_key(private_key)
    return account
