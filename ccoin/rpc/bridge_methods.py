"""The bridge's part of the API: `ccoin_getWithdrawalProof` (what `Bridge.withdraw` on BSC
needs, from this node's finalized chain), `ccoin_getDeposit` (whether a BSC deposit is
credited), and a delegate node's signing duties for the relayer (ADR 0015):
`ccoin_signAnchor`, `ccoin_signSetChange`, `ccoin_attestDeposit`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccoin.bridge.proofs import withdrawal_proof
from ccoin.bridge.signer import MAX_ANCHOR_RANGE, BridgeRefusal
from ccoin.crypto.address import id_from_hash, id_raw
from ccoin.errors import DecodeError, ErrorCode
from ccoin.storage import schema
from ccoin.types.codec import json_evm_address, json_int
from ccoin.types.transaction import Transaction

if TYPE_CHECKING:
    from ccoin.node.bridge_signing import NodeBridge
    from ccoin.rpc.methods import Api


async def get_withdrawal_proof(api: Api, p: dict[str, Any]) -> Any:
    tx_id = p["id"]
    if type(tx_id) is not str:
        raise DecodeError(ErrorCode.BAD_ID, "id: expected a transaction id string")
    id_raw(tx_id)  # a clear BAD_ID
    start = json_int(p["fromHeight"], "fromHeight", 1, 2**63 - 1)
    end = json_int(p["toHeight"], "toHeight", start, start + MAX_ANCHOR_RANGE - 1)
    proof = await api.node.bridge_work.run(withdrawal_proof, api.node.chain, tx_id, start, end)
    return proof.to_json()


def _duties(api: Api) -> NodeBridge:
    bridge = api.node.bridge
    if bridge is None:
        raise BridgeRefusal(ErrorCode.BRIDGE_REFUSED, "this node does not sign for the bridge")
    return bridge


async def sign_anchor(api: Api, p: dict[str, Any]) -> Any:
    duties = _duties(api)
    chain_id = json_int(p["bscChainId"], "bscChainId", 1, 2**63 - 1)
    anchor = json_evm_address(p["anchor"], "anchor")
    set_id = json_int(p["setId"], "setId", 0, 2**63 - 1)
    start = json_int(p["fromHeight"], "fromHeight", 1, 2**63 - 1)
    end = json_int(p["toHeight"], "toHeight", start, 2**63 - 1)
    signed = await api.node.bridge_work.run(
        duties.signer.sign_anchor, chain_id, anchor, set_id, start, end
    )
    return {"root": signed.root.hex(), "signer": signed.signer, "signature": signed.signature.hex()}


async def sign_set_change(api: Api, p: dict[str, Any]) -> Any:
    duties = _duties(api)
    chain_id = json_int(p["bscChainId"], "bscChainId", 1, 2**63 - 1)
    anchor = json_evm_address(p["anchor"], "anchor")
    set_id = json_int(p["setId"], "setId", 0, 2**63 - 1)
    signed = await api.node.bridge_work.run(duties.signer.sign_set, chain_id, anchor, set_id)
    return {
        "members": list(signed.members),
        "signer": signed.signer,
        "signature": signed.signature.hex(),
    }


async def attest_deposit(api: Api, p: dict[str, Any]) -> Any:
    duties = _duties(api)
    tx = Transaction.from_json(p["transaction"], api.network_id)
    cosig = await api.node.bridge_work.run(duties.attester.attest, tx)
    return {"publicKey": cosig.public_key.hex(), "signature": cosig.signature.hex()}


async def get_deposit(api: Api, p: dict[str, Any]) -> Any:
    chain_id = json_int(p["bscChainId"], "bscChainId", 1, 2**63 - 1)
    bridge = bytes.fromhex(json_evm_address(p["bridge"], "bridge")[2:])
    nonce = json_int(p["nonce"], "nonce", 0, 2**64 - 1)
    credited = api.node.chain.get(schema.deposit_consumed(chain_id, bridge, nonce))
    return {
        "nonce": nonce,
        "credited": credited is not None,
        "transactionId": None if credited is None else id_from_hash(credited),
    }
