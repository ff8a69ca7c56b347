"""The shape of a native module (ADR 0025): what a module declares, and the small interface
its rules get from the executor (`TxScope`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ccoin.ledger.context import BlockContext
from ccoin.ledger.state import StateOverlay
from ccoin.types.account import Account
from ccoin.types.asset_base import TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction, TxBody

KeyGet = Callable[[bytes], bytes | None]


class TxScope(Protocol):
    """What a rule may use of the executor applying the block: the overlay, the block's
    context, balances, and the lists whose Merkle roots go into the header."""

    state: StateOverlay
    ctx: BlockContext
    withdrawals: list[bytes]
    retirements: list[bytes]
    included_ids: set[bytes]

    def set_balance(self, address_raw: bytes, account: Account, balance: int) -> Account: ...

    def credit(self, address_raw: bytes, amount: int) -> None: ...

    def add_weight(self, delegate_key: bytes, delta: int) -> None: ...


# A type's state rule: called after the common checks (replay, fee, signatures, balance) and
# after the sender paid amount + fee; raises InvalidTransaction to refuse (the executor's
# journal then undoes everything the transaction wrote).
Rule = Callable[[Any, Transaction, bytes, Account], None]
# The pool's stateful check at submission, before gossip: the first, cheap part of the rule,
# so a transaction that cannot apply is refused with the block's own error code.
Admission = Callable[[KeyGet, GenesisConfig, Transaction], None]


@dataclass(frozen=True)
class TxTypeSpec:
    tx_type: TxType
    asset: type  # the asset class: canonical array, JSON form, stateless checks
    table: str  # its asset table's name (the prefix is in ccoin.storage.schema)
    fee_name: str  # its minimum fee's name in the genesis
    default_fee: int
    apply: Rule
    admit: Admission | None = None
    # Stateless checks beyond the asset's own (a deploy's code lints), shared by the pool.
    check_body: Callable[[TxBody], None] | None = None
    # Paid on top of the type's minimum fee (a call's gas limit).
    extra_fee: Callable[[TxBody], int] | None = None
    # What the transaction counts against the block's contract gas cap.
    block_gas: Callable[[TxBody], int] | None = None


@dataclass(frozen=True)
class Module:
    name: str
    types: tuple[TxTypeSpec, ...]
    # Whether this network's genesis turns the module on (its section is present).
    enabled: Callable[[GenesisConfig], bool]
    # Runs once per block after its transactions (rewards, epochs, draws): may write state.
    end_block: Callable[[Any], None] | None = None
    # "package.module:NAME" of the RPC method table and the click group, loaded only by the
    # RPC server and the CLI (the ledger never imports them).
    rpc: str | None = None
    cli: str | None = None
