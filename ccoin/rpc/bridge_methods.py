"""The bridge's reads of the API: `ccoin_getWithdrawalProof` (what `Bridge.withdraw` on
BSC needs, from this node's finalized chain)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccoin.bridge.proofs import withdrawal_proof
from ccoin.crypto.address import id_raw
from ccoin.errors import DecodeError, ErrorCode
from ccoin.types.codec import json_int

if TYPE_CHECKING:
    from ccoin.rpc.methods import Api


async def get_withdrawal_proof(api: Api, p: dict[str, Any]) -> Any:
    tx_id = p["id"]
    if type(tx_id) is not str:
        raise DecodeError(ErrorCode.BAD_ID, "id: expected a transaction id string")
    id_raw(tx_id)  # a clear BAD_ID
    start = json_int(p["fromHeight"], "fromHeight", 1, 2**63 - 1)
    end = json_int(p["toHeight"], "toHeight", start, min(start + MAX_RANGE - 1, 2**63 - 1))
    return withdrawal_proof(api.node.chain, tx_id, start, end).to_json()


MAX_RANGE = 10_000  # heights one proof may span (the work is linear in it)
