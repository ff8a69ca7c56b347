"""Types 6 and 7 against state: C moving between BSC and the sidechain (DESIGN section 9).

- **Type 7, out-transfer (withdrawal):** the sender's `amount` goes to the bridge escrow,
  a withdrawal record is written under the transaction's hash (its withdrawal id), and the
  leaf `id (32) || BSC recipient (20) || amount (u64, big-endian)` joins the block's
  withdrawal list, whose Merkle root is the header's `withdrawalRoot` (the BSC Bridge
  contract verifies exactly these leaves).
- **Type 6, in-transfer (deposit):** it must name this network's BSC chain and Bridge
  contract and a deposit nonce not credited before; its `signatures` are attestations by
  at least floor(2N/3)+1 of the round's active delegates (each an Ed25519 signature over the
  transaction's signing bytes, which carry the deposit's facts); the escrow pays the
  recipient `amount`. The relaying sender pays only the fee. The pool admits a credit on the
  same checks (`check_deposit_open`, `check_attestations`), before it gossips it.

So C in the escrow plus C locked in the BSC Bridge stays constant.

May import what `ccoin.modules` may; never the executor, which reaches these rules through
the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import verify
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.ledger.rounds import read_round
from ccoin.modules.base import TxScope
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.storage import schema
from ccoin.types.account import Account
from ccoin.types.assets import InTransferAsset, OutTransferAsset
from ccoin.types.codec import packb
from ccoin.types.transaction import CoSignature, Transaction


def withdrawal_leaf(withdrawal_id: bytes, bsc_recipient: bytes, amount: int) -> bytes:
    """The leaf data under a block's withdrawalRoot (the BSC Bridge hashes the same)."""
    return withdrawal_id + bsc_recipient + amount.to_bytes(8, "big")


def attestation_quorum(active: int) -> int:
    return (2 * active) // 3 + 1


def _config(ex: TxScope) -> BridgeConfig:
    config = ex.ctx.genesis.bridge
    assert config is not None  # types 6 and 7 are enabled only with a bridge
    return config


def apply_out_transfer(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, OutTransferAsset)
    if tx.body.amount <= 0:
        raise InvalidTransaction(ErrorCode.TX_BAD_ASSET, "a withdrawal moves a positive amount")
    ex.credit(address_raw(_config(ex).escrow), tx.body.amount)
    withdrawal_id = tx.digest(ex.ctx.network_id)[1]
    record = packb([asset.bsc_recipient, tx.body.amount, ex.ctx.height])
    ex.state.put(schema.withdrawal(withdrawal_id), record)
    ex.withdrawals.append(withdrawal_leaf(withdrawal_id, asset.bsc_recipient, tx.body.amount))


def apply_in_transfer(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    body = tx.body
    asset = body.asset
    assert isinstance(asset, InTransferAsset)
    config = _config(ex)
    consumed = check_deposit_open(ex.state.get, config, asset)
    message = tx.digest(ex.ctx.network_id)[0]
    _round, active = read_round(ex.state)
    check_attestations(active, tx, lambda cosig: verify(cosig.public_key, message, cosig.signature))
    if body.amount <= 0 or body.recipient_id is None:
        raise InvalidTransaction(ErrorCode.TX_BAD_ASSET, "a deposit credits a positive amount")
    escrow_raw = address_raw(config.escrow)
    escrow = ex.state.account(escrow_raw)
    if escrow is None or escrow.balance < body.amount:
        held = 0 if escrow is None else escrow.balance
        raise InvalidTransaction(ErrorCode.TX_ESCROW_EMPTY, f"escrow {held} < {body.amount}")
    ex.set_balance(escrow_raw, escrow, escrow.balance - body.amount)
    ex.credit(address_raw(body.recipient_id), body.amount)
    ex.state.put(consumed, tx.digest(ex.ctx.network_id)[1][:14])


def check_deposit_open(
    get: Callable[[bytes], bytes | None], config: BridgeConfig, asset: InTransferAsset
) -> bytes:
    """The deposit is from this network's BSC chain and Bridge and not credited before (shared
    with the pool's admission); returns its consumed-marker key."""
    if (asset.bsc_chain_id, asset.bridge_address) != (config.bsc_chain_id, config.contract):
        raise InvalidTransaction(
            ErrorCode.TX_WRONG_BRIDGE,
            f"deposit from chain {asset.bsc_chain_id} bridge 0x{asset.bridge_address.hex()}",
        )
    consumed = schema.deposit_consumed(
        asset.bsc_chain_id, asset.bridge_address, asset.deposit_nonce
    )
    if get(consumed) is not None:
        raise InvalidTransaction(
            ErrorCode.TX_DEPOSIT_CONSUMED, f"deposit {asset.deposit_nonce} was credited before"
        )
    return consumed


def check_attestations(
    active: Sequence[bytes], tx: Transaction, valid: Callable[[CoSignature], bool]
) -> None:
    """A credit's attestations: distinct members of the `active` set, at least the quorum of
    them, each signature valid (`valid` verifies one over the transaction's signing bytes).
    Block execution and the pool's admission share this rule; the pool passes the results of
    its batched verification. The cheap checks come first, and `valid` is asked in order
    until one fails, so a forged credit costs at most one verification per attestation, and
    none unless it names a quorum of distinct active delegates."""
    members = set(active)
    seen: set[bytes] = set()
    for cosig in tx.signatures:
        key = cosig.public_key
        if key not in members or key in seen:
            raise InvalidTransaction(
                ErrorCode.TX_BAD_COSIGNATURE,
                f"attestation by {key.hex()[:16]}..., not a distinct active delegate",
            )
        seen.add(key)
    needed = attestation_quorum(len(members))
    if len(seen) < needed:
        raise InvalidTransaction(
            ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS, f"{len(seen)} of {needed} attestations"
        )
    for cosig in tx.signatures:
        if not valid(cosig):
            raise InvalidTransaction(
                ErrorCode.TX_BAD_COSIGNATURE,
                f"attestation of {cosig.public_key.hex()[:16]}... does not verify",
            )
