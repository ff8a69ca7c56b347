"""Deterministic keys, genesis configs and transactions for tests and benchmarks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ccoin.crypto.keys import KeyPair
from ccoin.ledger.presets import delegate_asset as delegate_asset
from ccoin.types.assets import (
    ContractCallAsset,
    ContractDeployAsset,
    GovernanceAsset,
    InTransferAsset,
    MultisignatureAsset,
    OutTransferAsset,
    SecondSignatureAsset,
    TransferAsset,
    TxType,
    VoteAsset,
)
from ccoin.types.codec import UNIT
from ccoin.types.genesis import (
    DEFAULT_MIN_FEES,
    GenesisAccount,
    GenesisConfig,
    GenesisDelegate,
)
from ccoin.types.transaction import Transaction, TxBody
from ccoin.vm.gas import gas_fee


def key(label: str | int) -> KeyPair:
    """The same key for the same label, every run."""
    return KeyPair(hashlib.sha256(f"ccoin-test-key:{label}".encode()).digest())


@dataclass(frozen=True)
class LocalNet:
    """A genesis plus the keys that control its accounts and delegates."""

    genesis: GenesisConfig
    accounts: tuple[KeyPair, ...]
    delegates: tuple[KeyPair, ...]


def make_testnet(
    *,
    accounts: int = 8,
    balance: int = 1_000_000 * UNIT,
    delegates: int = 1,
    locked: int = 0,
    genesis_time: int = 1_700_000_000,
    max_block_transactions: int = 10_000,
    prefix: str = "acct",
    governance: bool = True,
) -> LocalNet:
    """Funded accounts; the last one is the network's governance account when `governance`."""
    account_keys = tuple(key(f"{prefix}{i}") for i in range(accounts))
    delegate_keys = tuple(key(f"delegate{i}") for i in range(delegates))
    genesis = GenesisConfig(
        chain_name="ccoin-test",
        genesis_time=genesis_time,
        block_time_ms=1000,
        active_delegates=delegates,
        max_block_transactions=max_block_transactions,
        max_block_bytes=16 * 1024 * 1024,
        min_fees=tuple(DEFAULT_MIN_FEES.values()),
        accounts=tuple(
            GenesisAccount(k.address, balance, None, i < locked, f"test {i}")
            for i, k in enumerate(account_keys)
        ),
        delegates=tuple(
            GenesisDelegate(k.public_key, delegate_asset(k, f"delegate_{i}"))
            for i, k in enumerate(delegate_keys)
        ),
        governance=account_keys[-1].address if governance and account_keys else "",
    )
    return LocalNet(genesis, account_keys, delegate_keys)


def transfer(
    sender: KeyPair,
    recipient: str,
    amount: int,
    network_id: bytes,
    *,
    fee: int = DEFAULT_MIN_FEES[TxType.TRANSFER],
    timestamp: int = 0,
    data: bytes = b"",
    second: KeyPair | None = None,
) -> Transaction:
    body = TxBody(0, timestamp, sender.public_key, recipient, amount, fee, TransferAsset(data))
    return body.sign(sender, network_id, second_key=second)


def deploy(
    sender: KeyPair,
    name: str,
    code: str,
    network_id: bytes,
    *,
    init_args: tuple[Any, ...] = (),
    upgrade: str | None = None,
    fee: int = DEFAULT_MIN_FEES[TxType.CONTRACT_DEPLOY],
    timestamp: int = 0,
    cosigners: Sequence[KeyPair] = (),
) -> Transaction:
    """A type-5 deploy (or, with `upgrade`, an upgrade of that contract)."""
    asset = ContractDeployAsset(name, code, init_args, upgrade)
    body = TxBody(5, timestamp, sender.public_key, None, 0, fee, asset)
    tx = body.sign(sender, network_id)
    for member in cosigners:
        tx = tx.cosign(member, network_id)
    return tx


def call_contract(
    sender: KeyPair,
    contract: str,
    method: str,
    args: tuple[Any, ...],
    network_id: bytes,
    *,
    gas_limit: int = 100_000,
    amount: int = 0,
    fee: int | None = None,
    timestamp: int = 0,
) -> Transaction:
    """A type-8 call paying exactly the minimum fee for its gas limit unless `fee` is given."""
    asset = ContractCallAsset(contract, method, args, gas_limit)
    if fee is None:
        fee = DEFAULT_MIN_FEES[TxType.CONTRACT_CALL] + gas_fee(gas_limit)
    body = TxBody(8, timestamp, sender.public_key, None, amount, fee, asset)
    return body.sign(sender, network_id)


def withdraw(
    sender: KeyPair,
    bsc_recipient: bytes,
    amount: int,
    network_id: bytes,
    *,
    fee: int = DEFAULT_MIN_FEES[TxType.OUT_TRANSFER],
    timestamp: int = 0,
) -> Transaction:
    """A type-7 withdrawal of `amount` to a 20-byte BSC address."""
    body = TxBody(
        7, timestamp, sender.public_key, None, amount, fee, OutTransferAsset(bsc_recipient)
    )
    return body.sign(sender, network_id)


def deposit(
    relayer: KeyPair,
    recipient: str,
    amount: int,
    nonce: int,
    network_id: bytes,
    attesters: Sequence[KeyPair],
    *,
    bsc_chain_id: int = 97,
    bridge: bytes = b"\xbb" * 20,
    bsc_tx_hash: bytes | None = None,
    timestamp: int = 0,
) -> Transaction:
    """A type-6 deposit credit sent by `relayer`, attested by `attesters` (co-signatures)."""
    tx_hash = bsc_tx_hash or hashlib.sha256(b"bsc-deposit-%d" % nonce).digest()
    asset = InTransferAsset(bsc_chain_id, bridge, nonce, tx_hash)
    body = TxBody(6, timestamp, relayer.public_key, recipient, amount, 0, asset)
    tx = body.sign(relayer, network_id)
    for attester in attesters:
        tx = tx.cosign(attester, network_id)
    return tx


def second_signature(
    sender: KeyPair, second: KeyPair, network_id: bytes, *, timestamp: int = 0
) -> Transaction:
    body = TxBody(
        1,
        timestamp,
        sender.public_key,
        None,
        0,
        DEFAULT_MIN_FEES[TxType.SECOND_SIGNATURE],
        SecondSignatureAsset(second.public_key),
    )
    return body.sign(sender, network_id)


def register_delegate(
    sender: KeyPair, username: str, network_id: bytes, *, timestamp: int = 0
) -> Transaction:
    body = TxBody(
        2,
        timestamp,
        sender.public_key,
        None,
        0,
        DEFAULT_MIN_FEES[TxType.DELEGATE],
        delegate_asset(sender, username),
    )
    return body.sign(sender, network_id)


def vote(
    sender: KeyPair, changes: list[tuple[bool, bytes]], network_id: bytes, *, timestamp: int = 0
) -> Transaction:
    text = ",".join(("+" if add else "-") + pk.hex() for add, pk in changes)
    body = TxBody(
        3, timestamp, sender.public_key, None, 0, DEFAULT_MIN_FEES[TxType.VOTE], VoteAsset(text)
    )
    return body.sign(sender, network_id)


def register_multisig(
    sender: KeyPair,
    members: list[KeyPair],
    min_: int,
    network_id: bytes,
    *,
    lifetime: int = 24,
    timestamp: int = 0,
) -> Transaction:
    body = TxBody(
        4,
        timestamp,
        sender.public_key,
        None,
        0,
        DEFAULT_MIN_FEES[TxType.MULTISIGNATURE],
        MultisignatureAsset(min_, lifetime, tuple(m.public_key for m in members)),
    )
    tx = body.sign(sender, network_id)
    for member in members:
        tx = tx.cosign(member, network_id)
    return tx


def govern(
    sender: KeyPair, action: str, kind: str, subject: str, network_id: bytes, *, timestamp: int = 0
) -> Transaction:
    body = TxBody(
        9,
        timestamp,
        sender.public_key,
        None,
        0,
        DEFAULT_MIN_FEES[TxType.GOVERNANCE],
        GovernanceAsset(action, kind, subject),
    )
    return body.sign(sender, network_id)
