"""The bridge module's declaration. A credit's pool check is the pool's own (it verifies the
attestations in the pool's signature batch), so type 6 declares no admission here."""

from __future__ import annotations

from ccoin.modules.base import Module
from ccoin.modules.bridge import rules
from ccoin.modules.core.module import core_spec
from ccoin.types.asset_base import TxType

MODULE = Module(
    name="bridge",
    types=(
        core_spec(TxType.IN_TRANSFER, rules.apply_in_transfer),
        core_spec(TxType.OUT_TRANSFER, rules.apply_out_transfer),
    ),
    enabled=lambda genesis: genesis.bridge is not None,
)
