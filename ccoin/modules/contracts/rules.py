"""Types 5 and 8 against state: deploy, upgrade and call contracts (DESIGN section 8).

A deploy's code is linted and compiled here, in the node, before anything runs (the same
check the pool makes at admission); a rejected source is an invalid transaction. Every run
of contract code (a deploy's `init`, a call) goes through the sandbox (`ccoin.vm.runner`),
whose storage reads come from the block's overlay. Its outcome is a `Receipt` in state:

- success: the write set, the transfers out of the contract's balance, the receipt;
- the contract's own failure (an exception, out of gas, a transfer to an invalid address):
  nothing but the receipt, the fee paid, and a call's attached value back with the sender.

A `WorkerFault` (the sandbox died, was killed, hung or sent a malformed frame: a reason that
is not the contract's) is never a result, since recording it would make this node's state
depend on its own machine: it becomes `TX_SANDBOX_FAULT`, an invalid transaction, so the
executor writes nothing of it (no fee, no value moved, no receipt). A block being built
drops it; a block being checked is refused (ADR 0017).

May import what `ccoin.modules` may (`ccoin.vm` among it); never the executor, which
reaches these rules through the catalog.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ccoin.crypto.address import (
    address_from_raw,
    address_raw,
    address_raw_from_public_key,
    contract_address_raw,
    id_from_hash,
    is_address,
)
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.modules.base import TxScope
from ccoin.modules.contracts.records import ContractRecord, Receipt
from ccoin.storage import schema
from ccoin.types.account import Account
from ccoin.types.assets import ContractCallAsset, ContractDeployAsset
from ccoin.types.transaction import Transaction, TxBody
from ccoin.vm import gas
from ccoin.vm.api import CallContext, encode_value
from ccoin.vm.runner import (
    CallResult,
    CompileCache,
    ContractCall,
    ContractHost,
    SandboxRunner,
    WorkerFault,
)


class ContractScope(TxScope, Protocol):
    """A contract rule's scope: the executor's, plus the node's contract runner."""

    contracts: ContractEngine


INIT_FUNCTION = "init"
# Every contract source this process compiled: the deploy checks (pool and blocks) and every
# sandbox (block execution, views) share it, so a source is linted and compiled once.
COMPILED = CompileCache()
CALL_TIMEOUT = 10.0  # wall seconds; a capped call needs about one (see gas.CALL_GAS_CAP)

_ERROR_CODES = {
    "OutOfGas": ErrorCode.CONTRACT_OUT_OF_GAS,
    "CallDepthExceeded": ErrorCode.CONTRACT_CALL_DEPTH,
}


class ContractEngine:
    """The node's contract runner: one sandbox, started on first use. Thread-safe (the
    runner serialises calls); the chain executes one block at a time anyway."""

    def __init__(self, runner: SandboxRunner | None = None) -> None:
        """`runner`: a sandbox to share (its owner closes it); by default the engine starts
        its own on first use and closes it in `close`."""
        self._runner = runner
        self._owned = runner is None
        self._lock = threading.Lock()

    @property
    def runner(self) -> SandboxRunner:
        with self._lock:
            if self._runner is None:
                self._runner = SandboxRunner(timeout=CALL_TIMEOUT, compile_cache=COMPILED)
            return self._runner

    def call(self, call: ContractCall, host: ContractHost) -> CallResult:
        return self.runner.call(call, host)

    def close(self) -> None:
        with self._lock:
            if self._runner is not None and self._owned:
                self._runner.close()
                self._runner = None


# -- stateless checks (the pool's admission and block execution share them) -----------------


def call_gas_fee(body: TxBody) -> int:
    """What a call pays for its gas limit, at `gas.GAS_PER_FEE_UNIT`, on top of the type's
    minimum fee."""
    if isinstance(body.asset, ContractCallAsset):
        return gas.gas_fee(body.asset.gas_limit)
    return 0


def block_gas(body: TxBody) -> int:
    """What a transaction counts against `gas.BLOCK_GAS_CAP` (0 for non-contract types)."""
    if isinstance(body.asset, ContractCallAsset):
        return body.asset.gas_limit
    if isinstance(body.asset, ContractDeployAsset) and body.asset.contract is None:
        return gas.INIT_GAS
    return 0


def check_contract_body(body: TxBody) -> None:
    """A call's gas limit is within the cap; a deploy's code is a valid contract."""
    asset = body.asset
    if isinstance(asset, ContractCallAsset) and asset.gas_limit > gas.CALL_GAS_CAP:
        raise InvalidTransaction(
            ErrorCode.TX_GAS_LIMIT_TOO_HIGH,
            f"gasLimit {asset.gas_limit} is above the cap of {gas.CALL_GAS_CAP}",
        )
    if isinstance(asset, ContractDeployAsset):
        contract_exports(asset.code)


def contract_exports(code: str) -> tuple[str, ...]:
    """The exported functions of `code`, or TX_CONTRACT_REJECTED with every violation.
    Compiled through the same cache the sandbox runs from, so a deployed contract's first
    call does not compile it again."""
    try:
        found = COMPILED.get(code)
    except WorkerFault as exc:  # the machine's limits, not the code's: never a verdict on it
        raise InvalidTransaction(ErrorCode.TX_SANDBOX_FAULT, str(exc)) from None
    if found.code is None:
        raise InvalidTransaction(ErrorCode.TX_CONTRACT_REJECTED, found.error)
    return found.exports


def check_contract_target(get: Callable[[bytes], bytes | None], body: TxBody) -> None:
    """A call's contract exists; an upgrade's contract exists and is the sender's. (The
    pool's check at admission; the block rules make the same ones.)"""
    asset = body.asset
    target = asset.contract if isinstance(asset, ContractCallAsset | ContractDeployAsset) else None
    if target is None:
        return
    record = load_contract(get, address_raw(target))
    if record is None:
        raise InvalidTransaction(ErrorCode.TX_CONTRACT_UNKNOWN, f"no contract at {target}")
    if isinstance(asset, ContractDeployAsset) and record.owner != address_raw_from_public_key(
        body.sender_public_key
    ):
        raise InvalidTransaction(
            ErrorCode.TX_NOT_CONTRACT_OWNER, f"{target} belongs to {address_from_raw(record.owner)}"
        )


def load_contract(state: Callable[[bytes], bytes | None], raw: bytes) -> ContractRecord | None:
    data = state(schema.contract(raw))
    return None if data is None else ContractRecord.decode(data)


# -- the rules ---------------------------------------------------------------------------------


def apply_deploy(ex: ContractScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, ContractDeployAsset)
    exports = contract_exports(asset.code)
    if asset.contract is not None:
        _upgrade(ex, asset, sender_raw, tx)
        return
    tx_hash = tx.digest(ex.ctx.network_id)[1]
    raw = contract_address_raw(tx_hash)
    record = ContractRecord(sender_raw, asset.name, asset.code, 1, ex.ctx.height)
    if INIT_FUNCTION not in exports:
        ex.state.put(schema.contract(raw), record.encode())
        _put_receipt(ex, tx_hash, Receipt(True, 0, 0, raw))
        return
    context = _context(ex, tx_hash, address_from_raw(sender_raw), raw, value=0)
    call = ContractCall(asset.code, INIT_FUNCTION, asset.init_args, gas.INIT_GAS, context)
    result = _run(ex, call)
    receipt = _settle(ex, raw, result, gas.INIT_GAS)
    if receipt.ok:
        ex.state.put(schema.contract(raw), record.encode())
    _put_receipt(ex, tx_hash, receipt)


def _upgrade(
    ex: ContractScope, asset: ContractDeployAsset, sender_raw: bytes, tx: Transaction
) -> None:
    assert asset.contract is not None
    raw = address_raw(asset.contract)
    record = load_contract(ex.state.get, raw)
    if record is None:
        raise InvalidTransaction(ErrorCode.TX_CONTRACT_UNKNOWN, f"no contract at {asset.contract}")
    if record.owner != sender_raw:
        raise InvalidTransaction(
            ErrorCode.TX_NOT_CONTRACT_OWNER,
            f"{asset.contract} belongs to {address_from_raw(record.owner)}",
        )
    upgraded = ContractRecord(
        record.owner, asset.name, asset.code, record.version + 1, record.deployed_height
    )
    ex.state.put(schema.contract(raw), upgraded.encode())
    _put_receipt(ex, tx.digest(ex.ctx.network_id)[1], Receipt(True, 0, 0, raw))


def apply_call(ex: ContractScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    body = tx.body
    asset = body.asset
    assert isinstance(asset, ContractCallAsset)
    raw = address_raw(asset.contract)
    record = load_contract(ex.state.get, raw)
    if record is None:
        raise InvalidTransaction(ErrorCode.TX_CONTRACT_UNKNOWN, f"no contract at {asset.contract}")
    tx_hash = tx.digest(ex.ctx.network_id)[1]
    mark = ex.state.mark()
    if body.amount:
        ex.credit(raw, body.amount)  # the attached value is the contract's during the call
    context = _context(ex, tx_hash, address_from_raw(sender_raw), raw, value=body.amount)
    call = ContractCall(record.code, asset.method, asset.args, asset.gas_limit, context)
    result = _run(ex, call)
    receipt = _settle(ex, raw, result, asset.gas_limit)
    if not receipt.ok and body.amount:
        ex.state.revert(mark)  # only the value's credit was written since the mark
        ex.credit(sender_raw, body.amount)
    _put_receipt(ex, tx_hash, receipt)


def _run(ex: ContractScope, call: ContractCall) -> CallResult:
    """The sandbox's result of `call` over the block's overlay, or `TX_SANDBOX_FAULT`."""
    try:
        return ex.contracts.call(call, StateHost(ex.state.get))
    except WorkerFault as exc:
        raise InvalidTransaction(
            ErrorCode.TX_SANDBOX_FAULT, sandbox_fault_message(call, exc)
        ) from None


def sandbox_fault_message(call: ContractCall, fault: WorkerFault) -> str:
    """One line for the submitter and the log: which call, the runner's reason, and that
    nothing was recorded."""
    reason = " ".join(fault.reason.split())[:200] or "unknown"
    return (
        f"the contract sandbox faulted on {call.function} of {call.context.contract}: "
        f"{reason} (a node fault, never a result: nothing recorded, no fee taken)"
    )


def _context(
    ex: ContractScope, tx_hash: bytes, sender: str, raw: bytes, *, value: int
) -> CallContext:
    account = ex.state.account(raw)
    return CallContext(
        sender=sender,
        contract=address_from_raw(raw),
        height=ex.ctx.height,
        timestamp=ex.ctx.timestamp_seconds,
        tx_id=id_from_hash(tx_hash),
        value=value,
        balance=0 if account is None else account.balance,
    )


@dataclass(frozen=True)
class StateHost:
    """The sandbox's `ContractHost` over a state reader: contract storage under its
    namespace, and contracts by address (with their balance before the transaction)."""

    get: Callable[[bytes], bytes | None]

    def read(self, contract: str, key: bytes) -> bytes | None:
        return self.get(schema.contract_storage(address_raw(contract), key))

    def load(self, contract: str) -> tuple[str, int] | None:
        if not is_address(contract):  # asked by contract code: anything may come
            return None
        raw = address_raw(contract)
        record = load_contract(self.get, raw)
        if record is None:
            return None
        data = self.get(schema.account(raw))
        return record.code, 0 if data is None else Account.decode(data).balance


def _settle(ex: ContractScope, raw: bytes, result: CallResult, gas_limit: int) -> Receipt:
    """Apply a successful result's writes and transfers; the receipt either way (on
    failure nothing of the result is applied)."""
    refused = _refusal(raw, result, gas_limit)
    if refused is not None:
        return refused
    mark = ex.state.mark()
    for contract, key, value in result.writes:
        if value is None:
            ex.state.delete(schema.contract_storage(address_raw(contract), key))
        else:
            ex.state.put(schema.contract_storage(address_raw(contract), key), value)
    for source, to, amount in result.transfers:
        source_raw = address_raw(source)
        account = ex.state.account(source_raw)
        if account is None or amount > account.balance:
            # The sandbox keeps the running balances; the node checks again, as it checks
            # everything that comes out of the worker.
            ex.state.revert(mark)
            error = f"transfers exceed the balance of {source}"
            return _failed(raw, result, gas_limit, ErrorCode.CONTRACT_BAD_TRANSFER, error)
        ex.set_balance(source_raw, account, account.balance - amount)
        ex.credit(address_raw(to), amount)
    return _succeeded(raw, result, gas_limit)


def _succeeded(raw: bytes, result: CallResult, gas_limit: int) -> Receipt:
    return Receipt(
        ok=True,
        gas_limit=gas_limit,
        gas_used=result.gas_used,
        contract=raw,
        value=encode_value(result.value),
        events=tuple((c, name, encode_value(fields)) for c, name, fields in result.events),
        transfers=result.transfers,
    )


def _refusal(raw: bytes, result: CallResult, gas_limit: int) -> Receipt | None:
    """The failed receipt for a result that fails as a whole, else None."""
    if not result.ok:
        return _failed(raw, result, gas_limit, _error_code(result.error))
    bad = [to for _source, to, _amount in result.transfers if not is_address(to)]
    if bad:
        error = f"transfer to an invalid address {bad[0][:32]!r}"
        return _failed(raw, result, gas_limit, ErrorCode.CONTRACT_BAD_TRANSFER, error)
    return None


def _failed(
    raw: bytes, result: CallResult, gas_limit: int, code: ErrorCode, error: str | None = None
) -> Receipt:
    return Receipt(
        ok=False,
        gas_limit=gas_limit,
        gas_used=result.gas_used,
        contract=raw,
        error_code=code.number,
        error=(error or result.error or "failed")[:1024],
    )


def _error_code(error: str | None) -> ErrorCode:
    kind = (error or "").split(":", 1)[0]
    return _ERROR_CODES.get(kind, ErrorCode.CONTRACT_FAILED)


def _put_receipt(ex: ContractScope, tx_hash: bytes, receipt: Receipt) -> None:
    ex.state.put(schema.receipt(tx_hash[:14]), receipt.encode())


def view(
    get: Callable[[bytes], bytes | None],
    engine: ContractEngine,
    contract: str,
    method: str,
    args: tuple[object, ...],
    context: CallContext,
    gas_limit: int,
) -> Receipt:
    """Run a call against the state `get` reads and apply nothing: the read-only
    `ccoin_callContract`. `context.balance` must already include `context.value`."""
    raw = address_raw(contract)
    record = load_contract(get, raw)
    if record is None:
        raise InvalidTransaction(ErrorCode.TX_CONTRACT_UNKNOWN, f"no contract at {contract}")
    call = ContractCall(record.code, method, args, gas_limit, context)
    result = engine.call(call, StateHost(get))
    refused = _refusal(raw, result, gas_limit)
    if refused is not None:
        return refused
    return _succeeded(raw, result, gas_limit)


def deploy_address(tx: Transaction, network_id: bytes) -> str:
    """The address a type-5 deploy gives its contract (the upgraded one for an upgrade)."""
    asset = tx.body.asset
    assert isinstance(asset, ContractDeployAsset)
    if asset.contract is not None:
        return asset.contract
    return address_from_raw(contract_address_raw(tx.digest(network_id)[1]))
