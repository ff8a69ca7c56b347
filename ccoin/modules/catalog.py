"""The modules this node runs, in dispatch order, and the lookups built from them: the one
place the ledger, the pool, the RPC server and the CLI learn which module owns a type."""

from __future__ import annotations

from ccoin.modules.base import Module, TxTypeSpec
from ccoin.modules.bridge.module import MODULE as BRIDGE
from ccoin.modules.carbon.module import MODULE as CARBON
from ccoin.modules.contracts.module import MODULE as CONTRACTS
from ccoin.modules.core.module import MODULE as CORE
from ccoin.types.genesis import GenesisConfig

MODULES: tuple[Module, ...] = (CORE, CONTRACTS, BRIDGE, CARBON)

TYPE_SPECS: dict[int, TxTypeSpec] = {
    int(spec.tx_type): spec for module in MODULES for spec in module.types
}
MODULE_OF_TYPE: dict[int, Module] = {
    int(spec.tx_type): module for module in MODULES for spec in module.types
}


def enabled_modules(genesis: GenesisConfig) -> tuple[Module, ...]:
    return tuple(m for m in MODULES if m.enabled(genesis))
