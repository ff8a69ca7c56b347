"""Contract assets: type 5 (deploy, the whitepaper's "application store") and type 8
(call), and the contract argument values both carry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from ccoin.crypto.address import is_address
from ccoin.types.asset_base import TxType, asset_fields, bad_asset
from ccoin.types.codec import (
    MAX_UINT64,
    MIN_BIGINT,
    field_int,
    field_str,
    json_int,
    json_object,
    json_str,
    packb,
)

MAX_CONTRACT_CODE = 64 * 1024
MAX_CONTRACT_NAME = 64
MAX_METHOD_NAME = 64
MAX_ARGS_DEPTH = 8
MAX_ARGS_ITEMS = 256
MAX_ARG_STR = 4096
MAX_GAS_LIMIT = 10**9
# Contract code plus arguments must leave room in a transaction (MAX_TX_BYTES, 80 KiB) for
# the other fields and up to 101 co-signatures (~10 KiB).
MAX_CONTRACT_ASSET_BYTES = 68 * 1024

_CONTRACT_NAME_RE = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z")
_METHOD_RE = re.compile(r"\A[a-z][a-z0-9_]{0,63}\Z")


# Contract arguments: null, booleans, integers (msgpack's range), strings and nested arrays.
# No floats, bytes or maps: each has one JSON form and one msgpack form, so JSON and bytes
# round-trip exactly. The VM issue defines how contracts see them.
ContractValue: TypeAlias = bool | int | str | tuple["ContractValue", ...] | None


def _contract_args(value: Any, name: str, depth: int = 0) -> tuple[ContractValue, ...]:
    if type(value) not in (list, tuple):
        raise bad_asset(f"{name}: expected an array")
    if len(value) > MAX_ARGS_ITEMS:
        raise bad_asset(f"{name}: more than {MAX_ARGS_ITEMS} items")
    out: list[ContractValue] = []
    for item in value:
        kind = type(item)
        if item is None or kind is bool:
            out.append(item)
        elif kind is int:
            if not MIN_BIGINT <= item <= MAX_UINT64:
                raise bad_asset(f"{name}: integer out of range")
            out.append(item)
        elif kind is str:
            out.append(field_str(item, name, max_len=MAX_ARG_STR))
        elif kind in (list, tuple):
            if depth + 1 >= MAX_ARGS_DEPTH:
                raise bad_asset(f"{name}: nested deeper than {MAX_ARGS_DEPTH}")
            out.append(_contract_args(item, name, depth + 1))
        else:
            raise bad_asset(f"{name}: only null, booleans, integers, strings and arrays")
    return tuple(out)


def _check_asset_size(array: list[Any]) -> None:
    size = len(packb(array))
    if size > MAX_CONTRACT_ASSET_BYTES:
        raise bad_asset(f"asset: {size} bytes encoded, limit {MAX_CONTRACT_ASSET_BYTES}")


def _args_to_json(args: tuple[ContractValue, ...]) -> list[Any]:
    return [_args_to_json(a) if type(a) is tuple else a for a in args]


@dataclass(frozen=True)
class ContractDeployAsset:
    """Type 5: the whitepaper's "application store": name, code, init args. With `contract`
    set it is an upgrade of that contract instead (new code, same address and storage), which
    only the contract's owner may send."""

    name: str
    code: str
    init_args: tuple[ContractValue, ...] = ()
    contract: str | None = None
    TYPE: ClassVar[TxType] = TxType.CONTRACT_DEPLOY

    def __post_init__(self) -> None:
        field_str(self.name, "asset.name", max_len=MAX_CONTRACT_NAME)
        if not _CONTRACT_NAME_RE.match(self.name):
            raise bad_asset("asset.name: 1-64 characters of A-Z a-z 0-9 _ . -")
        field_str(self.code, "asset.code", max_len=MAX_CONTRACT_CODE)
        if not self.code or len(self.code.encode("utf-8")) > MAX_CONTRACT_CODE:
            raise bad_asset(f"asset.code: 1 to {MAX_CONTRACT_CODE} bytes of UTF-8")
        _contract_args(self.init_args, "asset.initArgs")
        if self.contract is not None:
            _check_contract_address(self.contract)
            if self.init_args:
                raise bad_asset("asset.initArgs: an upgrade runs no init, so it takes none")
        _check_asset_size(self.to_array())

    def to_array(self) -> list[Any]:
        return [self.name, self.code, list(self.init_args), self.contract]

    @classmethod
    def from_array(cls, arr: Any) -> ContractDeployAsset:
        name, code, args, contract = asset_fields(arr, "contract deploy", 4)
        return cls(
            field_str(name, "asset.name", max_len=MAX_CONTRACT_NAME),
            field_str(code, "asset.code", max_len=MAX_CONTRACT_CODE),
            _contract_args(args, "asset.initArgs"),
            None if contract is None else field_str(contract, "asset.contract", max_len=21),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "code": self.code,
            "initArgs": _args_to_json(self.init_args),
        }
        if self.contract is not None:
            out["contract"] = self.contract
        return out

    @classmethod
    def from_json(cls, obj: Any) -> ContractDeployAsset:
        obj = json_object(obj, "asset", frozenset({"name", "code", "initArgs", "contract"}))
        contract = obj.get("contract")
        return cls(
            json_str(obj.get("name"), "asset.name", max_len=MAX_CONTRACT_NAME),
            json_str(obj.get("code"), "asset.code", max_len=MAX_CONTRACT_CODE),
            _contract_args(obj.get("initArgs", []), "asset.initArgs"),
            None if contract is None else json_str(contract, "asset.contract", max_len=21),
        )


def _check_contract_address(value: str) -> None:
    field_str(value, "asset.contract", max_len=21)
    if not is_address(value):
        raise bad_asset("asset.contract: not a valid address")


@dataclass(frozen=True)
class ContractCallAsset:
    """Type 8: call `method` of the contract at `contract` with `args`, at most `gas_limit`."""

    contract: str
    method: str
    args: tuple[ContractValue, ...]
    gas_limit: int
    TYPE: ClassVar[TxType] = TxType.CONTRACT_CALL
    AMOUNT: ClassVar[str] = "any"  # C attached to the call

    def __post_init__(self) -> None:
        _check_contract_address(self.contract)
        field_str(self.method, "asset.method", max_len=MAX_METHOD_NAME)
        if not _METHOD_RE.match(self.method):
            raise bad_asset("asset.method: a lowercase name, a-z first, then a-z 0-9 _")
        _contract_args(self.args, "asset.args")
        field_int(self.gas_limit, "asset.gasLimit", 1, MAX_GAS_LIMIT)
        _check_asset_size(self.to_array())

    def to_array(self) -> list[Any]:
        return [self.contract, self.method, list(self.args), self.gas_limit]

    @classmethod
    def from_array(cls, arr: Any) -> ContractCallAsset:
        contract, method, args, gas = asset_fields(arr, "contract call", 4)
        return cls(
            field_str(contract, "asset.contract", max_len=21),
            field_str(method, "asset.method", max_len=MAX_METHOD_NAME),
            _contract_args(args, "asset.args"),
            field_int(gas, "asset.gasLimit", 0, MAX_UINT64),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "method": self.method,
            "args": _args_to_json(self.args),
            "gasLimit": self.gas_limit,
        }

    @classmethod
    def from_json(cls, obj: Any) -> ContractCallAsset:
        obj = json_object(obj, "asset", frozenset({"contract", "method", "args", "gasLimit"}))
        return cls(
            json_str(obj.get("contract"), "asset.contract", max_len=21),
            json_str(obj.get("method"), "asset.method", max_len=MAX_METHOD_NAME),
            _contract_args(obj.get("args", []), "asset.args"),
            json_int(obj.get("gasLimit"), "asset.gasLimit", 0, MAX_UINT64),
        )
