"""The OpenAPI 3.1 document of the HTTP API, served at `/openapi.json`.

Written here as data next to the code it describes; `docs/api/openapi.json` is this
document as committed (a test keeps the two equal; `docs/spec/rpc.md` says how to
regenerate it).
"""

from __future__ import annotations

import re
from typing import Any

from ccoin import __version__
from ccoin.errors import ErrorCode
from ccoin.rpc.methods import METHODS, NODE_METHODS
from ccoin.rpc.table import Method


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
_AMOUNT = {"type": "string", "pattern": "^[0-9]{1,19}$", "description": "base units"}
_ID = {"type": "string", "minLength": 1, "maxLength": 20}
_ADDRESS = {"type": "string", "minLength": 2, "maxLength": 21}


def _object(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


def _schemas() -> dict[str, Any]:
    error_body = _object(
        {
            "code": {"type": "integer", "enum": sorted({c.number for c in ErrorCode})},
            "name": {"type": "string", "enum": [c.name for c in ErrorCode]},
            "message": {"type": "string"},
            "retryable": {"type": "boolean"},
        }
    )
    transaction = _object(
        {
            "id": _ID,
            "blockId": _ID,
            "type": {"type": "integer", "minimum": 0, "maximum": 255},
            "timestamp": {"type": "integer", "minimum": 0},
            "senderId": _ADDRESS,
            "recipientId": _nullable(_ADDRESS),
            "amount": _AMOUNT,
            "fee": _AMOUNT,
            "signature": _HEX,
            "signSignature": _nullable(_HEX),
            "signatures": _nullable({"type": "string"}),
            "senderPublicKey": _HEX,
            "asset": {"type": "object"},
        },
        required=["type", "timestamp", "senderPublicKey", "amount", "fee", "signature"],
    )
    header = _object(
        {
            "id": _ID,
            "version": {"type": "integer"},
            "height": {"type": "integer", "minimum": 0},
            "previousBlockHash": _HEX,
            "timestampMs": {
                "type": "integer",
                "minimum": 0,
                "description": "chain milliseconds since genesisTime (signed)",
            },
            "timestamp": {
                "type": "integer",
                "minimum": 0,
                "description": "whole chain seconds (timestampMs // 1000), as transactions count",
            },
            "generatorPublicKey": _HEX,
            "payloadHash": _HEX,
            "numberOfTransactions": {"type": "integer"},
            "totalAmount": _AMOUNT,
            "totalFee": _AMOUNT,
            "reward": _AMOUNT,
            "stateRoot": _HEX,
            "withdrawalRoot": _HEX,
            "attestation": _nullable({"type": "object"}),
            "blockSignature": _HEX,
            "hash": _HEX,
        }
    )
    block = {
        "allOf": [
            header,
            {
                "type": "object",
                "properties": {
                    "transactions": {"type": "array", "items": _ref("Transaction")},
                    "transactionIds": {"type": "array", "items": _ID},
                },
            },
        ]
    }
    tx_status = _object(
        {
            "id": _ID,
            "status": {"enum": ["pending", "included", "finalized", "rejected"]},
            "blockId": _nullable(_ID),
            "height": _nullable({"type": "integer"}),
            "confirmations": _nullable({"type": "integer"}),
            "error": _nullable(_ref("ErrorBody")),
            "transaction": _nullable(_ref("Transaction")),
            "receipt": _nullable(_ref("Receipt")),
        }
    )
    delegate = _object(
        {
            "publicKey": _HEX,
            "username": {"type": "string"},
            "bridgeAddress": _HEX,
            "certFingerprint": _HEX,
            "voteWeight": _AMOUNT,
            "registeredHeight": {"type": "integer"},
            "rank": {"type": "integer", "minimum": 1},
            "address": _ADDRESS,
            "active": {"type": "boolean"},
            "jailed": {"type": "boolean"},
            "producedBlocks": {"type": "integer", "minimum": 0},
            "missedBlocks": {"type": "integer", "minimum": 0},
        }
    )
    account = _object(
        {
            "address": _ADDRESS,
            "exists": {"type": "boolean"},
            "balance": _AMOUNT,
            "publicKey": _nullable(_HEX),
            "secondPublicKey": _nullable(_HEX),
            "multisignature": _nullable({"type": "object"}),
            "votes": {"type": "array", "items": _HEX},
            "locked": {"type": "boolean"},
            "delegate": _nullable({"type": "object"}),
            "pending": {"type": "integer", "minimum": 0},
        }
    )
    status = _object(
        {
            "networkId": _HEX,
            "chainName": {"type": "string"},
            "version": {"type": "string"},
            "name": {"type": "string"},
            "height": {"type": "integer"},
            "headId": _ID,
            "finalizedHeight": {"type": "integer"},
            "finalizedId": _nullable(_ID),
            "peers": {"type": "integer"},
            "mempoolSize": {"type": "integer"},
            "mempoolBytes": {"type": "integer"},
            "slot": {"type": "integer"},
            "blockTimeMs": {"type": "integer"},
            "genesisTime": {"type": "integer"},
        }
    )
    votes = _object(
        {
            "address": _ADDRESS,
            "votes": {"type": "array", "items": _HEX},
            "records": {
                "type": "array",
                "items": _object(
                    {
                        "transactionId": _ID,
                        "votes": {"type": "string"},
                        "blockId": _ID,
                        "height": {"type": "integer"},
                    }
                ),
            },
        }
    )
    fee = _object(
        {
            "type": {"type": "integer"},
            "minFee": _AMOUNT,
            "fee": _AMOUNT,
            "mempoolSize": {"type": "integer"},
        }
    )
    rpc_request = _object(
        {
            "jsonrpc": {"const": "2.0"},
            "id": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            "method": {"type": "string"},
            "params": {"anyOf": [{"type": "array"}, {"type": "object"}]},
        },
        required=["jsonrpc", "method"],
    )
    rpc_response = {
        "type": "object",
        "properties": {
            "jsonrpc": {"const": "2.0"},
            "id": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            "result": {},
            "error": _object(
                {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "data": _object({"name": {"type": "string"}, "retryable": {"type": "boolean"}}),
                }
            ),
        },
        "required": ["jsonrpc", "id"],
        "oneOf": [{"required": ["result"]}, {"required": ["error"]}],
    }
    return {
        "ErrorBody": error_body,
        "Error": _object({"error": _ref("ErrorBody")}),
        "Transaction": transaction,
        "TransactionStatus": tx_status,
        "Block": block,
        "Account": account,
        "Delegate": delegate,
        "Delegates": _object(
            {
                "round": {"type": "integer"},
                "active": {"type": "array", "items": _ref("Delegate")},
                "standby": {"type": "array", "items": _ref("Delegate")},
            }
        ),
        "Votes": votes,
        "Fee": fee,
        "Receipt": _receipt_schema(),
        "ContractValue": _contract_value_schema(),
        "Contract": _object(
            {
                "address": _ADDRESS,
                "owner": _ADDRESS,
                "name": {"type": "string"},
                "version": {"type": "integer", "minimum": 1},
                "deployedHeight": {"type": "integer", "minimum": 0},
                "codeHash": _HEX,
                "code": {"type": "string"},
                "balance": _AMOUNT,
            },
            required=["address", "owner", "name", "version", "deployedHeight", "codeHash"],
        ),
        "Status": status,
        "SubmitResult": {
            "type": "array",
            "items": _object(
                {"id": _nullable({"type": "string"}), "error": _ref("ErrorBody")},
                required=["id"],
            ),
        },
        "RpcRequest": rpc_request,
        "RpcResponse": rpc_response,
    }


def _receipt_schema() -> dict[str, Any]:
    return _object(
        {
            "ok": {"type": "boolean"},
            "contract": _ADDRESS,
            "gasLimit": {"type": "integer", "minimum": 0},
            "gasUsed": {"type": "integer", "minimum": 0},
            "errorCode": _nullable({"type": "integer"}),
            "errorName": _nullable({"type": "string"}),
            "error": _nullable({"type": "string"}),
            "value": _ref("ContractValue"),
            "events": {
                "type": "array",
                "items": _object(
                    {
                        "contract": _ADDRESS,
                        "name": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": _ref("ContractValue")},
                    }
                ),
            },
            "transfers": {
                "type": "array",
                "items": _object({"from": _ADDRESS, "recipientId": _ADDRESS, "amount": _AMOUNT}),
            },
        },
        required=["ok", "contract", "gasLimit", "gasUsed", "errorCode", "error", "events"],
    )


def _contract_value_schema() -> dict[str, Any]:
    safe = 2**53 - 1
    value = _ref("ContractValue")
    return {
        "description": "a contract value (docs/spec/rpc.md, section 1): integers within "
        '+-(2**53 - 1) as numbers, larger ones as a string of decimal digits ("-" first '
        'when negative), beyond 4,300 digits as "int:0x" + hex ("int:-0x" when '
        'negative); bytes as "0x" + hex; Decimals as their string; dicts as objects '
        "whose keys are converted the same way and written as text",
        "anyOf": [
            {"type": "null"},
            {"type": "boolean"},
            {"type": "integer", "minimum": -safe, "maximum": safe},
            {"type": "string"},
            {"type": "array", "items": value},
            {"type": "object", "additionalProperties": value},
        ],
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "bad input",
        404: "not found",
        413: "body too large",
        415: "not application/msgpack",
        429: "rate limited",
        500: "internal error",
        503: "busy, retry",
    }
    return {
        str(s): {"description": text[s], "content": _json(_ref("Error"))} for s in (*statuses, 429)
    }


def _get(summary: str, schema: str, params: list[dict[str, Any]], *errors: int) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "ok", "content": _json(_ref(schema))},
                **_errors(*errors),
            },
        }
    }


def _path_param(name: str, schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": text}


def _query(name: str, schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}


def openapi_document() -> dict[str, Any]:
    any_id = {"type": "string"}
    rpc_methods = (
        "ccoin_status, ccoin_sendTransaction, ccoin_sendTransactions, "
        "ccoin_sendRawTransactions, ccoin_addSignatures, "
    )
    rpc_methods += "ccoin_getTransaction, ccoin_getBlock, ccoin_getAccount, ccoin_getDelegates, "
    rpc_methods += "ccoin_getVotes, ccoin_estimateFee, ccoin_callContract, ccoin_getContract, "
    rpc_methods += "ccoin_getWithdrawalProof, ccoin_getDeposit, ccoin_signAnchor, "
    rpc_methods += "ccoin_signSetChange, ccoin_attestDeposit"
    modules = [name for name in METHODS if name not in NODE_METHODS]
    rpc_methods += "".join(f", {name}" for name in modules) + " (see docs/spec/rpc.md)"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Carbon Coin node API",
            "version": __version__,
            "description": "JSON-RPC 2.0 at /rpc, a REST view of the reads under /v1, "
            "WebSocket subscriptions at /ws, Prometheus metrics at /metrics.",
        },
        "paths": {
            "/rpc": {
                "post": {
                    "summary": f"JSON-RPC 2.0, single or batch: {rpc_methods}",
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            {
                                "anyOf": [
                                    _ref("RpcRequest"),
                                    {"type": "array", "items": _ref("RpcRequest")},
                                ]
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "a response, or a list for a batch",
                            "content": _json(
                                {
                                    "anyOf": [
                                        _ref("RpcResponse"),
                                        {"type": "array", "items": _ref("RpcResponse")},
                                    ]
                                }
                            ),
                        },
                        "204": {"description": "notifications only: nothing to answer"},
                        "413": {
                            "description": "body too large",
                            "content": _json(_ref("RpcResponse")),
                        },
                        "429": {
                            "description": "rate limited",
                            "content": _json(_ref("RpcResponse")),
                        },
                    },
                }
            },
            "/v1/status": _get("Node and chain status", "Status", []),
            "/v1/transactions": {
                "post": {
                    "summary": "Submit transactions as bytes: a msgpack array of canonical "
                    "transaction bytes (bin), at most maxTransactionsPerCall; one result per "
                    "entry, in order, as ccoin_sendRawTransactions answers",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/msgpack": {
                                "schema": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "one result per entry",
                            "content": _json(_ref("SubmitResult")),
                        },
                        **_errors(400, 413, 415, 503),
                    },
                }
            },
            "/v1/transactions/{id}": _get(
                "A transaction and its status",
                "TransactionStatus",
                [_path_param("id", any_id, "transaction id")],
                400,
                404,
            ),
            "/v1/blocks/{block}": _get(
                "A block by height, id, 'head' or 'finalized'",
                "Block",
                [
                    _path_param("block", any_id, "height, block id, head or finalized"),
                    _query("transactions", {"enum": ["true", "false"]}, "include transactions"),
                ],
                400,
                404,
            ),
            "/v1/accounts/{address}": _get(
                "An account", "Account", [_path_param("address", any_id, "address")], 400
            ),
            "/v1/accounts/{address}/votes": _get(
                "An account's votes and its Asset_Votes records",
                "Votes",
                [
                    _path_param("address", any_id, "address"),
                    _query("limit", {"type": "string"}, "records, 1-1000 (default 100)"),
                ],
                400,
            ),
            "/v1/delegates": _get("Active and standby delegates", "Delegates", []),
            "/v1/fees/{type}": _get(
                "Fee to use for a transaction type",
                "Fee",
                [
                    _path_param("type", any_id, "transaction type 0-10"),
                    _query("size", {"type": "string"}, "transaction size in bytes"),
                ],
                400,
            ),
            "/v1/contracts/{address}": _get(
                "A contract: owner, name, version, code hash, balance (code with ?code=true)",
                "Contract",
                [
                    _path_param("address", any_id, "contract address"),
                    _query("code", {"enum": ["true", "false"]}, "include the source"),
                ],
                400,
                404,
            ),
            **{m.rest.path: _method_route(m) for m in METHODS.values() if m.rest is not None},
        },
        "components": {"schemas": _schemas()},
    }


def _method_route(method: Method) -> dict[str, Any]:
    """A module method's GET route: path parameters from its `{name}` segments, the rest
    from the query string (all text; integers in decimal)."""
    rest = method.rest
    assert rest is not None
    in_path = set(re.findall(r"{(\w+)}", rest.path))
    params = []
    for p in method.params:
        text = p.doc or p.name
        if p.name in in_path:
            params.append(_path_param(p.name, {"type": "string"}, text))
        else:
            query = _query(p.name, {"type": "string"}, text)
            params.append({**query, "required": p.required})
    return {
        "get": {
            "summary": f"{rest.summary} ({method.name})",
            "parameters": params,
            "responses": {
                "200": {"description": "ok", "content": _json(rest.schema)},
                **_errors(400, 404),
            },
        }
    }
