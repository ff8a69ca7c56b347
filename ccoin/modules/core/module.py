"""The core module's declaration."""

from __future__ import annotations

from typing import Any

from ccoin.modules.base import Admission, Module, Rule, TxTypeSpec
from ccoin.modules.core import rules
from ccoin.storage import schema
from ccoin.types.asset_base import TxType
from ccoin.types.assets import ASSET_CLASSES
from ccoin.types.genesis import DEFAULT_MIN_FEES, FEE_NAMES


def core_spec(
    tx_type: TxType, apply: Rule, admit: Admission | None = None, **hooks: Any
) -> TxTypeSpec:
    """A type whose minimum fee is the genesis `minFees` entry (the types of DESIGN
    section 4, contracts and the bridge among them)."""
    return TxTypeSpec(
        tx_type,
        ASSET_CLASSES[tx_type],
        schema.ASSET_TABLE_NAME[tx_type],
        FEE_NAMES[tx_type],
        DEFAULT_MIN_FEES[tx_type],
        apply,
        admit,
        **hooks,
    )


MODULE = Module(
    name="core",
    types=(
        core_spec(TxType.TRANSFER, rules.apply_transfer),
        core_spec(TxType.SECOND_SIGNATURE, rules.apply_second_signature),
        core_spec(TxType.DELEGATE, rules.apply_delegate, rules.admit_delegate),
        core_spec(TxType.VOTE, rules.apply_vote),
        core_spec(TxType.MULTISIGNATURE, rules.apply_multisignature),
        core_spec(TxType.GOVERNANCE, rules.apply_governance),
        core_spec(TxType.EVIDENCE, rules.apply_evidence),
    ),
    enabled=lambda genesis: True,
)
