"""A delegate node's deposit attester: it co-signs a type-6 credit only for a deposit it
sees itself in the BSC Bridge's `Deposited` events, buried under the genesis
`confirmations`, with the same nonce, recipient, amount and BSC transaction (ADR 0015).

The attestation is the delegate's Ed25519 co-signature over the transaction's signing
bytes, which carry all of those facts; the sidechain counts them (type 6's rule).
"""

from __future__ import annotations

from typing import Any

from ccoin.bridge.deposits import deposit_data, deposit_event
from ccoin.bridge.evm import EvmClient, EvmError
from ccoin.bridge.signer import BridgeRefusal
from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.types.assets import InTransferAsset
from ccoin.types.transaction import CoSignature, Transaction


class DepositAttester:
    def __init__(
        self, key: KeyPair, config: BridgeConfig, network_id: bytes, bsc: EvmClient
    ) -> None:
        self.key = key
        self.config = config
        self.network_id = network_id
        self.bsc = bsc
        self.contract = "0x" + config.contract.hex()

    def deposit_event(self, nonce: int) -> dict[str, Any]:
        """The `Deposited` event with this nonce, buried under the confirmations."""
        try:
            event = deposit_event(self.bsc, self.contract, nonce)
            latest = self.bsc.block_number()
        except EvmError as exc:
            raise BridgeRefusal(ErrorCode.BRIDGE_NOT_FINAL, f"BSC unreachable: {exc}") from None
        if event is None:
            raise BridgeRefusal(ErrorCode.BRIDGE_NOT_FINAL, f"no deposit {nonce} seen on BSC")
        depth = latest - int(event["blockNumber"], 16)
        if depth < self.config.confirmations:
            raise BridgeRefusal(
                ErrorCode.BRIDGE_NOT_FINAL,
                f"deposit {nonce} has {depth} of {self.config.confirmations} confirmations",
            )
        return event

    def attest(self, tx: Transaction) -> CoSignature:
        body = tx.body
        asset = body.asset
        if not isinstance(asset, InTransferAsset) or body.recipient_id is None:
            raise BridgeRefusal(ErrorCode.BRIDGE_REFUSED, "only a type-6 deposit is attested")
        if (asset.bsc_chain_id, asset.bridge_address) != (
            self.config.bsc_chain_id,
            self.config.contract,
        ):
            raise BridgeRefusal(ErrorCode.BRIDGE_REFUSED, "not this network's BSC bridge")
        event = self.deposit_event(asset.deposit_nonce)
        recipient, amount = deposit_data(event)
        seen = (recipient, amount, bytes.fromhex(event["transactionHash"][2:]))
        claimed = (address_raw(body.recipient_id), body.amount, asset.bsc_tx_hash)
        if seen != claimed:
            raise BridgeRefusal(
                ErrorCode.BRIDGE_REFUSED, f"deposit {asset.deposit_nonce} is not as claimed"
            )
        signed = tx.cosign(self.key, self.network_id)
        return next(c for c in signed.signatures if c.public_key == self.key.public_key)
