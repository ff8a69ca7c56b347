"""What delegates sign for BSC (docs/spec/bridge.md section 2), computed as the `Anchor`
contract computes it, and signed with a secp256k1 bridge key (EIP-191 personal-sign).

Pure: no I/O. A delegate signs an anchor only for a range of its own finalized chain, and a
set change only for the set its chain elected; the relayer gathers the signatures, orders
them by signer address (`ordered`) and submits them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_abi.abi import encode as abi_encode
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

ANCHOR_TAG = keccak(b"CCOIN-ANCHOR-V1")
SET_TAG = keccak(b"CCOIN-ANCHOR-SET-V1")


def anchor_digest(
    chain_id: int,
    anchor: str,
    network_id: bytes,
    set_id: int,
    from_height: int,
    to_height: int,
    root: bytes,
) -> bytes:
    types = ["bytes32", "uint256", "address", "bytes32", "uint64", "uint64", "uint64", "bytes32"]
    values = [ANCHOR_TAG, chain_id, anchor, network_id, set_id, from_height, to_height, root]
    return keccak(abi_encode(types, values))


def set_digest(
    chain_id: int, anchor: str, network_id: bytes, set_id: int, members: Sequence[str]
) -> bytes:
    types = ["bytes32", "uint256", "address", "bytes32", "uint64", "address[]"]
    return keccak(abi_encode(types, [SET_TAG, chain_id, anchor, network_id, set_id, list(members)]))


def sign_digest(key: LocalAccount, digest: bytes) -> bytes:
    """A 65-byte `r || s || v` personal-sign signature (low `s`, `v` 27 or 28)."""
    return bytes(key.sign_message(encode_defunct(primitive=digest)).signature)


def ordered(signatures: Iterable[tuple[str, bytes]]) -> list[bytes]:
    """Signatures by (signer address, signature), ordered as the contract wants them:
    strictly increasing signer, one each."""
    by_signer = {int(address, 16): signature for address, signature in signatures}
    return [by_signer[signer] for signer in sorted(by_signer)]


def sorted_members(addresses: Iterable[str]) -> list[str]:
    """A set's bridge addresses in the contract's order (strictly ascending, no repeats)."""
    unique = {int(a, 16): a for a in addresses}
    return [unique[k] for k in sorted(unique)]
