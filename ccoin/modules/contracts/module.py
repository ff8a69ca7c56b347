"""The contracts module's declaration."""

from __future__ import annotations

from ccoin.modules.base import KeyGet, Module
from ccoin.modules.contracts import rules
from ccoin.modules.core.module import core_spec
from ccoin.types.asset_base import TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction


def admit_target(get: KeyGet, genesis: GenesisConfig, tx: Transaction) -> None:
    rules.check_contract_target(get, tx.body)


MODULE = Module(
    name="contracts",
    types=(
        core_spec(
            TxType.CONTRACT_DEPLOY,
            rules.apply_deploy,
            admit_target,
            check_body=rules.check_contract_body,
            block_gas=rules.block_gas,
        ),
        core_spec(
            TxType.CONTRACT_CALL,
            rules.apply_call,
            admit_target,
            check_body=rules.check_contract_body,
            extra_fee=rules.call_gas_fee,
            block_gas=rules.block_gas,
        ),
    ),
    enabled=lambda genesis: True,
)
