"""Finding a deposit's `Deposited` event on BSC by its nonce.

`Bridge.depositBlock(nonce)` names the block the deposit was made in, so the event is read
with an `eth_getLogs` over that one block: public BSC endpoints refuse log queries over
wide block ranges, and a scan from block 0 would grow with the chain.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from ccoin.bridge.evm import EvmClient

DEPOSITED = "0x" + keccak(b"Deposited(uint64,address,bytes,uint256)").hex()
_DEPOSIT_BLOCK = keccak(b"depositBlock(uint64)")[:4]


def nonce_topic(nonce: int) -> str:
    return "0x" + nonce.to_bytes(32, "big").hex()


def deposit_event(bsc: EvmClient, bridge: str, nonce: int) -> dict[str, Any] | None:
    """The `Deposited` event with this nonce from the Bridge at `bridge`, or None when BSC
    (as this endpoint sees it now) has no such deposit."""
    if not 0 < nonce < 2**64:
        return None
    raw = bsc.call(bridge, _DEPOSIT_BLOCK + abi_encode(["uint64"], [nonce]))
    (block,) = abi_decode(["uint256"], raw)
    if block == 0:
        return None
    found = bsc.logs(bridge, [DEPOSITED, nonce_topic(nonce)], block, block)
    return found[0] if len(found) == 1 else None


def deposit_data(event: dict[str, Any]) -> tuple[bytes, int]:
    """(recipient's raw sidechain address, amount) of a `Deposited` event."""
    recipient, amount = abi_decode(["bytes", "uint256"], bytes.fromhex(event["data"][2:]))
    return bytes(recipient), int(amount)
