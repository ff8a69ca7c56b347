"""The bridge's relayer ports over chains in this process, for tests: delegates whose
signers and attesters run here, and a sidechain whose submitted transactions go straight
into a block; a testnet whose delegates hold real bridge keys; and a chain's headers as
they will be once blocks retire carbon."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from ccoin.bridge.attester import DepositAttester
from ccoin.bridge.proofs import RetirementLeaf
from ccoin.bridge.signer import BridgeSigner
from ccoin.crypto.keys import KeyPair
from ccoin.ledger.chain import Chain
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.block import BlockHeader
from ccoin.types.genesis import GenesisDelegate
from ccoin.types.merkle import merkle_root
from ccoin.types.transaction import Transaction


def bridged_testnet(keys: Sequence[LocalAccount], **genesis: Any) -> tuple[f.LocalNet, Chain]:
    """A testnet of `len(keys)` delegates whose bridge addresses are `keys`' (the factories'
    placeholders have no private keys), with `genesis` fields replaced, and its chain."""
    net = f.make_testnet(accounts=4, delegates=len(keys))
    delegates = tuple(
        GenesisDelegate(
            d.public_key,
            dataclasses.replace(d.asset, bridge_address=bytes.fromhex(k.address[2:])),
        )
        for d, k in zip(net.genesis.delegates, keys, strict=True)
    )
    config = dataclasses.replace(net.genesis, delegates=delegates, **genesis)
    return dataclasses.replace(net, genesis=config), Chain(MemoryStore(), config)


@dataclass
class LocalDelegate:
    """A delegate node in this process: its bridge signer and its deposit attester."""

    signer: BridgeSigner
    attester: DepositAttester

    def sign_anchor(self, *args: Any) -> Any:
        return self.signer.sign_anchor(*args)

    def sign_set(self, *args: Any) -> Any:
        return self.signer.sign_set(*args)

    def attest(self, tx: Transaction) -> Any:
        return self.attester.attest(tx)


def sole_producer(chain: Chain, key: KeyPair) -> Callable[[Sequence[Transaction]], None]:
    """Blocks one second apart by `key`, each holding exactly the transactions given."""

    def produce(txs: Sequence[Transaction]) -> None:
        execution = chain.build_block(list(txs), chain.head.timestamp_ms + 1000, key)[1]
        assert execution.included == list(txs), execution.rejected

    return produce


@dataclass
class LocalSidechain:
    """The sidechain as the relayer sees it, over a chain in this process: a submitted
    transaction goes into the next block, built by `produce`."""

    chain: Chain
    produce: Callable[[Sequence[Transaction]], None]
    network_id: bytes = field(init=False)  # a plain attribute, as the port declares it

    def __post_init__(self) -> None:
        self.network_id = self.chain.network_id

    def finalized_height(self) -> int:
        return self.chain.finalized_height

    def chain_time(self) -> int:
        return self.chain.head.timestamp_seconds

    def active_set_size(self) -> int:
        return len(self.chain.round_record()[1])

    def deposit_credited(self, bsc_chain_id: int, bridge: bytes, nonce: int) -> bool:
        key = schema.deposit_consumed(bsc_chain_id, bridge, nonce)
        return self.chain.store.get(key) is not None

    def submit(self, tx: Transaction) -> None:
        self.produce([tx])

    def wait_included(self) -> None:
        """Nothing to wait for: `submit` put the transaction in a block at once."""


def retirement_leaves(label: str, quantities: Sequence[int]) -> list[bytes]:
    """One block's retirement leaves, one per quantity, with ids and record hashes made
    from `label`."""
    return [
        RetirementLeaf(
            hashlib.sha256(f"{label}-tx-{i}".encode()).digest(),
            hashlib.sha256(f"{label}-record-{i}".encode()).digest(),
            quantity,
        ).encode()
        for i, quantity in enumerate(quantities)
    ]


@dataclass(frozen=True)
class RetiringHeaders:
    """`chain`'s headers as they will be once blocks retire carbon (the carbon module makes
    the leaves; chains here retire nothing yet): the heights in `leaves` have those leaves'
    root as their retirementRoot, and so their own hashes. What a block proof reads of a
    chain (`ccoin.bridge.proofs.FinalizedHeaders`)."""

    chain: Chain
    leaves: dict[int, list[bytes]]

    @property
    def network_id(self) -> bytes:
        return self.chain.network_id

    @property
    def finalized_height(self) -> int:
        return self.chain.finalized_height

    def header_at(self, height: int) -> BlockHeader | None:
        header = self.chain.header_at(height)
        if header is None or height not in self.leaves:
            return header
        return dataclasses.replace(header, retirement_root=merkle_root(self.leaves[height]))
