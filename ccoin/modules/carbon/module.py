"""The carbon module's declaration: what the catalog lists."""

from __future__ import annotations

from ccoin.modules.base import Admission, Module, Rule, TxTypeSpec
from ccoin.modules.carbon import rules
from ccoin.modules.carbon.genesis import DEFAULT_FEES, FEE_NAMES
from ccoin.modules.carbon.wire import (
    CancelAsset,
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.storage import schema
from ccoin.types.asset_base import TxType


def _spec(tx_type: TxType, asset: type, apply: Rule, admit: Admission) -> TxTypeSpec:
    return TxTypeSpec(
        tx_type,
        asset,
        schema.ASSET_TABLE_NAME[tx_type],
        FEE_NAMES[tx_type],
        DEFAULT_FEES[tx_type],
        apply,
        admit,
    )


MODULE = Module(
    name="carbon",
    types=(
        _spec(
            TxType.CARBON_COMMITTEE, CommitteeAsset, rules.apply_committee, rules.admit_committee
        ),
        _spec(TxType.CARBON_PROJECT, ProjectAsset, rules.apply_project, rules.admit_project),
        _spec(TxType.CARBON_ISSUE, IssueAsset, rules.apply_issue, rules.admit_issue),
        _spec(TxType.CARBON_TRANSFER, CarbonTransferAsset, rules.apply_transfer, rules.admit_move),
        _spec(TxType.CARBON_RETIRE, RetireAsset, rules.apply_retire, rules.admit_move),
        _spec(TxType.CARBON_CANCEL, CancelAsset, rules.apply_cancel, rules.admit_move),
    ),
    enabled=lambda genesis: genesis.carbon is not None,
    rpc="ccoin.modules.carbon.rpc:RPC",
    cli="ccoin.modules.carbon.cli:carbon",
)
