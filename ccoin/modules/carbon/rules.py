"""Types 11-16 against state (docs/spec/carbon.md section 4).

Every rule checks everything before it writes, and the executor's journal undoes the
transaction's writes if it raises anyway, so a refused transaction leaves the state
byte-identical. Credits only ever move between three places: a holder's tradable ranges, a
retirement record, a cancellation record; each rule moves the same serials out of one and
into another and moves the batch's counts with them, so per batch issued = tradable +
retired + cancelled and every serial is in exactly one place, by construction. Nothing
takes serials out of a retirement or a cancellation, so they never move again.
"""

from __future__ import annotations

from dataclasses import replace

from ccoin.crypto.address import address_raw
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.modules.base import KeyGet, TxScope
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon import state as S
from ccoin.modules.carbon.genesis import CarbonGenesis
from ccoin.modules.carbon.records import (
    BatchRecord,
    CancellationRecord,
    ClassRecord,
    IssuerRecord,
    ProjectRecord,
    RetirementRecord,
)
from ccoin.modules.carbon.wire import (
    CancelAsset,
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    MoveAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.storage import schema
from ccoin.types.account import Account
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction


def _fail(code: ErrorCode, message: str | None = None) -> InvalidTransaction:
    return InvalidTransaction(code, message)


def config(genesis: GenesisConfig) -> CarbonGenesis:
    section = genesis.carbon
    assert section is not None  # the types are enabled only with the section
    return section


# -- roles ---------------------------------------------------------------------------------


def check_committee(genesis: GenesisConfig, sender_raw: bytes) -> None:
    if address_raw(config(genesis).committee) != sender_raw:
        raise _fail(ErrorCode.TX_CARBON_NOT_COMMITTEE)


def active_class(get: KeyGet, class_id: str) -> ClassRecord:
    record = S.credit_class(get, class_id)
    if record is None or record.removed_height is not None:
        raise _fail(ErrorCode.TX_CARBON_CLASS_UNKNOWN, f"no admitted credit class {class_id!r}")
    return record


def check_issuer(get: KeyGet, sender_raw: bytes, sender_id: str, class_id: str) -> None:
    record = S.issuer(get, sender_raw)
    if record is None:
        raise _fail(ErrorCode.TX_CARBON_NOT_ISSUER, f"{sender_id} is not an admitted issuer")
    if class_id not in record.classes:
        raise _fail(
            ErrorCode.TX_CARBON_NOT_ISSUER,
            f"{sender_id} is admitted for {', '.join(record.classes)}, not {class_id}",
        )


def apply_committee(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, CommitteeAsset)
    state, height = ex.state, ex.ctx.height
    check_committee(ex.ctx.genesis, sender_raw)
    action = asset.action
    if action in ("admit-class", "remove-class"):
        current = S.credit_class(state.get, asset.class_id)
        key = schema.carbon_class(asset.class_id)
        if action == "admit-class":
            if current is not None and current.removed_height is None:
                raise _fail(ErrorCode.TX_CARBON_NO_CHANGE, f"class {asset.class_id} is admitted")
            state.put(key, ClassRecord(asset.class_id, asset.name, height).encode())
            return
        if current is None:
            raise _fail(ErrorCode.TX_CARBON_CLASS_UNKNOWN, f"no credit class {asset.class_id!r}")
        if current.removed_height is not None:
            raise _fail(ErrorCode.TX_CARBON_NO_CHANGE, f"class {asset.class_id} is removed")
        record = ClassRecord(current.class_id, current.name, current.admitted_height, height)
        state.put(key, record.encode())
        return
    issuer_raw = address_raw(asset.issuer)
    current_issuer = S.issuer(state.get, issuer_raw)
    key = schema.carbon_issuer(issuer_raw)
    if action == "remove-issuer":
        if current_issuer is None:
            raise _fail(ErrorCode.TX_CARBON_NO_CHANGE, f"{asset.issuer} is not an issuer")
        state.delete(key)
        return
    for class_id in asset.classes:
        active_class(state.get, class_id)
    if current_issuer is not None and current_issuer.classes == asset.classes:
        raise _fail(ErrorCode.TX_CARBON_NO_CHANGE, f"{asset.issuer} is admitted for those classes")
    state.put(key, IssuerRecord(asset.issuer, asset.classes, height).encode())


# -- projects and issuance ------------------------------------------------------------------


def apply_project(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, ProjectAsset)
    state = ex.state
    active_class(state.get, asset.class_id)
    check_issuer(state.get, sender_raw, tx.body.sender_id, asset.class_id)
    if S.project(state.get, asset.project_id) is not None:
        raise _fail(ErrorCode.TX_CARBON_PROJECT_EXISTS, f"project {asset.project_id} exists")
    record = ProjectRecord(
        asset.project_id,
        asset.class_id,
        asset.name,
        asset.jurisdiction,
        asset.methodology,
        asset.metadata_hash,
        tx.body.sender_id,
        ex.ctx.height,
        0,
    )
    state.put(schema.carbon_project(asset.project_id), record.encode())


def check_issue(get: KeyGet, tx: Transaction, sender_raw: bytes) -> ProjectRecord:
    """The issuer may issue into the project and the origin is new (the pool's check too)."""
    asset = tx.body.asset
    assert isinstance(asset, IssueAsset)
    project = S.project(get, asset.project_id)
    if project is None:
        raise _fail(ErrorCode.TX_CARBON_PROJECT_UNKNOWN, f"no project {asset.project_id!r}")
    active_class(get, project.class_id)
    check_issuer(get, sender_raw, tx.body.sender_id, project.class_id)
    if project.issuer != tx.body.sender_id:
        raise _fail(
            ErrorCode.TX_CARBON_NOT_ISSUER,
            f"project {project.project_id} was registered by {project.issuer}",
        )
    used = get(schema.carbon_origin(S.origin_hash(asset.origin)))
    if used is not None:
        raise _fail(
            ErrorCode.TX_CARBON_ORIGIN_USED,
            f"origin {asset.origin!r} came on chain as batch {used.decode('utf-8', 'replace')}",
        )
    return project


def apply_issue(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, IssueAsset)
    state, ctx = ex.state, ex.ctx
    project = check_issue(state.get, tx, sender_raw)
    overlap = S.overlapping_block(state, project.class_id, asset.first, asset.last)
    if overlap is not None:
        first, last, other = overlap
        raise _fail(
            ErrorCode.TX_CARBON_SERIALS_OVERLAP,
            f"serials [{asset.first}, {asset.last}] overlap batch {other} "
            f"[{first}, {last}] of class {project.class_id}",
        )
    recipient = tx.body.recipient_id
    assert recipient is not None  # the envelope requires it for issues
    batch_id = f"{project.project_id}-{project.batches + 1:03d}"
    tx_id = tx.digest(ctx.network_id)[1][:14]
    record = BatchRecord(
        batch_id,
        project.project_id,
        project.class_id,
        asset.vintage_start,
        asset.vintage_end,
        asset.first,
        asset.last,
        asset.origin,
        asset.metadata_hash,
        tx.body.sender_id,
        ctx.height,
        tx_id,
        asset.quantity,
        0,
        0,
    )
    state.put(schema.carbon_batch(batch_id), record.encode())
    state.put(schema.carbon_origin(S.origin_hash(asset.origin)), batch_id.encode("utf-8"))
    S.put_serial_block(state, record)
    block = ((asset.first, asset.last),)
    S.put_holding(state, address_raw(recipient), batch_id, block)
    bumped = replace(project, batches=project.batches + 1)
    state.put(schema.carbon_project(project.project_id), bumped.encode())
    S.put_event(
        state, batch_id, ctx.height, len(ex.included_ids), "issue", tx_id, None, recipient, block
    )


# -- moving credits ------------------------------------------------------------------------


def check_move(get: KeyGet, tx: Transaction, sender_raw: bytes) -> tuple[BatchRecord, R.Ranges]:
    """The batch exists and the sender holds enough of it (the pool's check too; explicit
    ranges are checked serial by serial when the block applies). Returns the batch and the
    sender's ranges of it."""
    asset = tx.body.asset
    assert isinstance(asset, MoveAsset)
    batch = S.batch(get, asset.batch_id)
    if batch is None:
        raise _fail(ErrorCode.TX_CARBON_BATCH_UNKNOWN, f"no batch {asset.batch_id!r}")
    ranges = S.holding(get, sender_raw, asset.batch_id).ranges
    held = R.size(ranges)
    if held < asset.selected:
        raise _fail(
            ErrorCode.TX_CARBON_INSUFFICIENT,
            f"{tx.body.sender_id} holds {held} tradable credits of {asset.batch_id}, "
            f"the transaction moves {asset.selected}",
        )
    return batch, ranges


def _take(ex: TxScope, tx: Transaction, sender_raw: bytes) -> tuple[BatchRecord, R.Ranges]:
    """Take the asset's credits out of the sender's holding; return the batch and the
    serials taken."""
    asset = tx.body.asset
    assert isinstance(asset, MoveAsset)
    batch, held = check_move(ex.state.get, tx, sender_raw)
    try:
        if asset.quantity:
            taken, rest = R.take_lowest(held, asset.quantity)
        else:
            taken, rest = asset.ranges, R.subtract(held, asset.ranges)
    except R.RangeError as exc:
        raise _fail(
            ErrorCode.TX_CARBON_NOT_HELD, f"{tx.body.sender_id}, batch {asset.batch_id}: {exc}"
        ) from None
    _check_fragments(ex, rest, tx.body.sender_id)
    S.put_holding(ex.state, sender_raw, asset.batch_id, rest)
    return batch, taken


def _check_fragments(ex: TxScope, ranges: R.Ranges, holder: str) -> None:
    limit = config(ex.ctx.genesis).max_holding_ranges
    if len(ranges) > limit:
        raise _fail(
            ErrorCode.TX_CARBON_TOO_FRAGMENTED,
            f"{holder}'s holding would have {len(ranges)} serial ranges, the network allows "
            f"{limit}: move credits by quantity (lowest serials first) to consolidate",
        )


def _with_counts(batch: BatchRecord, *, retired: int = 0, cancelled: int = 0) -> BatchRecord:
    """The batch with credits moved from tradable to retired or cancelled."""
    return replace(
        batch,
        tradable=batch.tradable - retired - cancelled,
        retired=batch.retired + retired,
        cancelled=batch.cancelled + cancelled,
    )


def apply_transfer(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, CarbonTransferAsset)
    recipient = tx.body.recipient_id
    assert recipient is not None  # the envelope requires it for transfers
    recipient_raw = address_raw(recipient)
    if recipient_raw == sender_raw:
        raise _fail(ErrorCode.TX_CARBON_SELF_TRANSFER)
    _batch, taken = _take(ex, tx, sender_raw)
    state = ex.state
    held = S.holding(state.get, recipient_raw, asset.batch_id).ranges
    try:
        merged = R.union(held, taken)
    except R.RangeError as exc:  # a serial in two holdings: the state is broken
        raise _fail(ErrorCode.CHAIN_CORRUPT, f"carbon holding: {exc}") from None
    _check_fragments(ex, merged, recipient)
    S.put_holding(state, recipient_raw, asset.batch_id, merged)
    tx_id = tx.digest(ex.ctx.network_id)[1][:14]
    S.put_event(
        state,
        asset.batch_id,
        ex.ctx.height,
        len(ex.included_ids),
        "transfer",
        tx_id,
        tx.body.sender_id,
        recipient,
        taken,
    )


def apply_retire(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, RetireAsset)
    state, ctx = ex.state, ex.ctx
    batch, taken = _take(ex, tx, sender_raw)
    quantity = R.size(taken)
    state.put(schema.carbon_batch(batch.batch_id), _with_counts(batch, retired=quantity).encode())
    tx_hash = tx.digest(ctx.network_id)[1]
    tx_id = tx_hash[:14]
    record = RetirementRecord(
        tx_hash,
        tx.body.sender_id,
        batch.batch_id,
        taken,
        quantity,
        asset.beneficiary,
        asset.jurisdiction,
        asset.reason,
        ctx.height,
    )
    state.put(schema.carbon_retirement(tx_id), record.encode())
    index = len(ex.retirements)
    ex.retirements.append(record.leaf())
    state.put(schema.carbon_retired_at(ctx.height, index), tx_id)
    state.put(
        schema.carbon_retired_by_beneficiary(
            S.beneficiary_hash(asset.beneficiary), ctx.height, index
        ),
        tx_id,
    )
    state.put(schema.carbon_retired_by_project(batch.project_id, ctx.height, index), tx_id)
    S.put_event(
        state,
        batch.batch_id,
        ctx.height,
        len(ex.included_ids),
        "retire",
        tx_id,
        tx.body.sender_id,
        None,
        taken,
    )


def apply_cancel(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, CancelAsset)
    state, ctx = ex.state, ex.ctx
    batch, taken = _take(ex, tx, sender_raw)
    quantity = R.size(taken)
    state.put(schema.carbon_batch(batch.batch_id), _with_counts(batch, cancelled=quantity).encode())
    tx_id = tx.digest(ctx.network_id)[1][:14]
    record = CancellationRecord(
        tx.body.sender_id, batch.batch_id, taken, quantity, asset.reason, ctx.height
    )
    state.put(schema.carbon_cancellation(tx_id), record.encode())
    S.put_event(
        state,
        batch.batch_id,
        ctx.height,
        len(ex.included_ids),
        "cancel",
        tx_id,
        tx.body.sender_id,
        None,
        taken,
    )


# -- the pool's checks at submission --------------------------------------------------------


def admit_committee(get: KeyGet, genesis: GenesisConfig, tx: Transaction) -> None:
    check_committee(genesis, address_raw(tx.body.sender_id))


def admit_project(get: KeyGet, genesis: GenesisConfig, tx: Transaction) -> None:
    asset = tx.body.asset
    assert isinstance(asset, ProjectAsset)
    active_class(get, asset.class_id)
    check_issuer(get, address_raw(tx.body.sender_id), tx.body.sender_id, asset.class_id)


def admit_issue(get: KeyGet, genesis: GenesisConfig, tx: Transaction) -> None:
    check_issue(get, tx, address_raw(tx.body.sender_id))


def admit_move(get: KeyGet, genesis: GenesisConfig, tx: Transaction) -> None:
    check_move(get, tx, address_raw(tx.body.sender_id))
