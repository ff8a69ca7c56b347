"""The contract reads of the API: `ccoin_callContract` (a read-only call at the head's
state, within a gas cap) and `ccoin_getContract`. Receipts of included deploys and calls
come with `ccoin_getTransaction`.

A view that runs out of gas or fails in the contract answers a receipt (`ok` false, a 7xxx
`errorCode`), as the same call in a block would; a sandbox fault (`WorkerFault`) answers
the error `SANDBOX_FAULT`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ccoin.crypto.address import address_raw
from ccoin.errors import ErrorCode, RpcError
from ccoin.node.log import event
from ccoin.types.assets import ContractCallAsset
from ccoin.types.codec import json_bigint, json_int
from ccoin.vm.runner import WorkerFault

if TYPE_CHECKING:
    from ccoin.rpc.methods import Api


async def call_contract(api: Api, p: dict[str, Any]) -> Any:
    cap = api.config.max_view_gas
    gas_limit = cap if p["gasLimit"] is None else json_int(p["gasLimit"], "gasLimit", 1, cap)
    # The call transaction's own checks: address, method name, argument values.
    call = ContractCallAsset.from_json(
        {"contract": p["contract"], "method": p["method"], "args": p["args"], "gasLimit": 1}
    )
    sender = call.contract if p["sender"] is None else p["sender"]
    address_raw(sender)  # a clear BAD_ADDRESS
    value = json_bigint(p["value"], "value")
    try:
        receipt = await api.node.views.call(
            call.contract, call.method, call.args, sender=sender, value=value, gas_limit=gas_limit
        )
    except WorkerFault as fault:
        raise view_fault(api, call, fault) from None
    return receipt.to_json()


def view_fault(api: Api, call: ContractCallAsset, fault: WorkerFault) -> RpcError:
    """The view's sandbox failed (the runner retries once on a fresh worker, a wall timeout
    excepted): a
    fault of this node, never the contract's result, so the caller gets SANDBOX_FAULT and
    no receipt. One log line, no traceback; nothing was applied and the chain goes on."""
    reason = fault.reason[:200]
    api.node.metrics.contract_faults.labels("view").inc()
    event(
        "contract_fault",
        logging.WARNING,
        phase="view",
        contract=call.contract,
        method=call.method,
        reason=reason,
    )
    return RpcError(
        ErrorCode.SANDBOX_FAULT,
        f"the contract sandbox failed running {call.method} of {call.contract}, a fault of "
        f"this node and not the contract's result ({reason}); nothing was applied",
    )


async def get_contract(api: Api, p: dict[str, Any]) -> Any:
    return contract_json(api, p["address"], p["includeCode"])


def contract_json(api: Api, address: Any, include_code: Any) -> dict[str, Any]:
    address_raw(address)
    if type(include_code) is not bool:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, "includeCode: expected a boolean")
    record = api.node.chain.contract(address)
    if record is None:
        raise RpcError(ErrorCode.NOT_FOUND, f"no contract at {address}")
    out = record.to_json(address)
    if not include_code:
        del out["code"]
    account = api.node.chain.account_raw(address_raw(address))
    out["balance"] = "0" if account is None else str(account.balance)
    return out
