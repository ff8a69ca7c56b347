"""JSON schemas of the carbon answers, for the OpenAPI document (`ccoin.rpc.openapi`
writes each route's from its `Rest`). They say exactly what `wire`'s and `queries`' JSON
forms hold: serials and quantities are decimal strings, hashes lowercase hex."""

from __future__ import annotations

from typing import Any

DECIMAL = {"type": "string", "pattern": "^[0-9]{1,19}$", "description": "a decimal integer"}
HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
HEIGHT = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}
ID = {"type": "string", "minLength": 1, "maxLength": 20}
ADDRESS = {"type": "string", "minLength": 2, "maxLength": 21}
DAY = {"type": "integer", "minimum": 19000101, "maximum": 29991231, "description": "YYYYMMDD"}
RANGES = {
    "type": "array",
    "items": {"type": "array", "items": DECIMAL, "minItems": 2, "maxItems": 2},
    "description": "sorted, disjoint [first, last] serial ranges",
}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


CLASS = obj(
    {
        "classId": TEXT,
        "name": TEXT,
        "admittedHeight": HEIGHT,
        "removedHeight": nullable(HEIGHT),
        "active": {"type": "boolean"},
    }
)
ISSUER = obj({"issuer": ADDRESS, "classes": array(TEXT), "admittedHeight": HEIGHT})
PROJECT = obj(
    {
        "projectId": TEXT,
        "classId": TEXT,
        "name": TEXT,
        "jurisdiction": TEXT,
        "methodology": TEXT,
        "metadataHash": HEX,
        "issuer": ADDRESS,
        "height": HEIGHT,
        "batches": {"type": "integer", "minimum": 0},
    }
)
BATCH = obj(
    {
        "batchId": TEXT,
        "projectId": TEXT,
        "classId": TEXT,
        "vintageStart": DAY,
        "vintageEnd": DAY,
        "first": DECIMAL,
        "last": DECIMAL,
        "origin": TEXT,
        "metadataHash": HEX,
        "issuer": ADDRESS,
        "height": HEIGHT,
        "transactionId": ID,
        "issued": DECIMAL,
        "tradable": DECIMAL,
        "retired": DECIMAL,
        "cancelled": DECIMAL,
    }
)
HOLDINGS = obj(
    {
        "address": ADDRESS,
        "holdings": array(obj({"batchId": TEXT, "quantity": DECIMAL, "ranges": RANGES})),
    }
)
SERIAL_HISTORY = obj(
    {
        "batchId": TEXT,
        "serial": DECIMAL,
        "status": {"enum": ["tradable", "retired", "cancelled"]},
        "holder": nullable(ADDRESS),
        "retirementId": nullable(ID),
        "events": array(
            obj(
                {
                    "kind": {"enum": ["issue", "transfer", "retire", "cancel"]},
                    "transactionId": ID,
                    "height": HEIGHT,
                    "from": nullable(ADDRESS),
                    "to": nullable(ADDRESS),
                    "range": {"type": "array", "items": DECIMAL, "minItems": 2, "maxItems": 2},
                }
            )
        ),
        "complete": {"type": "boolean"},
    }
)
RETIREMENT = obj(
    {
        "retirementId": ID,
        "retirementHash": HEX,
        "holder": ADDRESS,
        "batchId": TEXT,
        "ranges": RANGES,
        "quantity": DECIMAL,
        "beneficiary": TEXT,
        "jurisdiction": TEXT,
        "reason": TEXT,
        "height": HEIGHT,
        "recordHash": HEX,
    }
)
CERTIFICATE = obj(
    {
        "format": {"const": "ccoin-carbon-retirement-certificate/1"},
        "networkId": HEX,
        "retirement": RETIREMENT,
        "leafIndex": {"type": "integer", "minimum": 0},
        "batch": obj(
            {
                "batchId": TEXT,
                "classId": TEXT,
                "vintageStart": DAY,
                "vintageEnd": DAY,
                "origin": TEXT,
                "issuer": ADDRESS,
            }
        ),
        "project": obj(
            {
                "projectId": TEXT,
                "name": TEXT,
                "jurisdiction": TEXT,
                "methodology": TEXT,
                "metadataHash": HEX,
            }
        ),
        "transaction": obj({"id": ID, "height": HEIGHT}),
        "block": obj(
            {
                "id": ID,
                "height": HEIGHT,
                "hash": HEX,
                "timestampMs": {"type": "integer", "minimum": 0},
                "retirementRoot": HEX,
            }
        ),
        "finality": obj({"finalized": {"type": "boolean"}, "finalizedHeight": HEIGHT}),
    }
)
RETIREMENT_PROOF = obj(
    {
        "retirementId": HEX,
        "recordHash": HEX,
        "quantity": DECIMAL,
        "leafIndex": {"type": "integer", "minimum": 0},
        "leafCount": {"type": "integer", "minimum": 1},
        "leafPath": array(HEX),
        "height": HEIGHT,
        "blockHash": HEX,
        "withdrawalRoot": HEX,
        "retirementRoot": HEX,
        "rangeFrom": HEIGHT,
        "rangeTo": HEIGHT,
        "rangeRoot": HEX,
        "blockPath": array(HEX),
    }
)
