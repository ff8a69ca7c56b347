"""The carbon module through a node's API: `client.carbon` on both clients.

Reads are one JSON-RPC call each (`ccoin_carbon*`, `ccoin_getRetirementProof`; docs/spec
rpc.md section 7). Builders make the carbon transactions (types 11-16) as `flows.prepare`
makes every other type: the network id, the timestamp, the type's minimum fee when none is
given, the signatures; they return the submitted transaction's id. Arguments the asset
would refuse fail here, before anything is sent, with the node's own code. The assets are
built once, in the functions below; `CarbonClient` and `AsyncCarbonClient` only run them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ccoin.client import flows
from ccoin.client.flows import BytesLike, Signers
from ccoin.client.protocol import Flow
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon.wire import (
    HASH_LEN,
    CancelAsset,
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.types.assets import Asset

DEFAULT_LIMIT = 100

# -- the assets ----------------------------------------------------------------------------


def admit_class_asset(class_id: str, name: str) -> CommitteeAsset:
    return CommitteeAsset("admit-class", class_id, name)


def remove_class_asset(class_id: str) -> CommitteeAsset:
    return CommitteeAsset("remove-class", class_id)


def admit_issuer_asset(issuer: str, classes: Iterable[str]) -> CommitteeAsset:
    """The classes in their canonical order (sorted, each once), whatever order given."""
    return CommitteeAsset("admit-issuer", issuer=issuer, classes=tuple(sorted(set(classes))))


def remove_issuer_asset(issuer: str) -> CommitteeAsset:
    return CommitteeAsset("remove-issuer", issuer=issuer)


def project_asset(
    project_id: str,
    class_id: str,
    name: str,
    jurisdiction: str,
    methodology: str,
    metadata_hash: BytesLike,
) -> ProjectAsset:
    return ProjectAsset(
        project_id, class_id, name, jurisdiction, methodology, _metadata(metadata_hash)
    )


def issue_asset(
    project_id: str,
    first: int,
    last: int,
    origin: str,
    vintage: tuple[int, int],
    metadata_hash: BytesLike,
) -> IssueAsset:
    start, end = vintage
    return IssueAsset(project_id, start, end, first, last, origin, _metadata(metadata_hash))


def canonical_ranges(ranges: Iterable[Sequence[int]]) -> R.Ranges:
    """Serial ranges as the assets take them: sorted, adjacent ones merged. Overlapping
    ranges (a serial named twice) are refused."""
    pairs: list[R.Range] = []
    for pair in ranges:
        if len(pair) != 2:
            raise InvalidTransaction(ErrorCode.TX_BAD_ASSET, f"ranges: {pair!r} is not a pair")
        pairs.append((int(pair[0]), int(pair[1])))
    try:
        return R.canonical(sorted(pairs))
    except R.RangeError as exc:
        raise InvalidTransaction(ErrorCode.TX_BAD_ASSET, f"ranges: {exc}") from None


def transfer_asset(
    batch_id: str, quantity: int = 0, ranges: Iterable[Sequence[int]] = ()
) -> CarbonTransferAsset:
    return CarbonTransferAsset(batch_id, quantity, canonical_ranges(ranges))


def retire_asset(
    batch_id: str,
    beneficiary: str,
    jurisdiction: str,
    reason: str = "",
    quantity: int = 0,
    ranges: Iterable[Sequence[int]] = (),
) -> RetireAsset:
    return RetireAsset(
        batch_id, quantity, canonical_ranges(ranges), beneficiary, jurisdiction, reason
    )


def cancel_asset(
    batch_id: str, reason: str, quantity: int = 0, ranges: Iterable[Sequence[int]] = ()
) -> CancelAsset:
    return CancelAsset(batch_id, quantity, canonical_ranges(ranges), reason)


def _metadata(value: BytesLike) -> bytes:
    return flows.hex_bytes(value, "metadataHash", HASH_LEN)


# -- the reads -------------------------------------------------------------------------------


def read(method: str, **params: Any) -> Flow[Any]:
    """`method` with the parameters given (None: the node's default)."""
    return flows.call(method, **{k: v for k, v in params.items() if v is not None})


# -- the two clients -------------------------------------------------------------------------

Submit = Callable[..., Any]


class CarbonBase:
    """What both clients share: the reads' flows and the builders' assets."""

    def __init__(self, run: Callable[[Flow[Any]], Any], submit: Submit) -> None:
        self._run = run
        self._submit = submit

    def _read(self, method: str, **params: Any) -> Any:
        return self._run(read(method, **params))

    def _new(
        self,
        key: KeyPair,
        asset: Asset,
        second_key: KeyPair | None,
        cosigners: Sequence[KeyPair],
        **fields: Any,
    ) -> Any:
        return self._submit(Signers(key, second_key, cosigners), asset, **fields)


class CarbonClient(CarbonBase):
    """`Client.carbon`: the carbon reads and transactions, blocking."""

    def classes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read("ccoin_carbonClasses")
        return result

    def issuers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read("ccoin_carbonIssuers")
        return result

    def projects(
        self, class_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read(
            "ccoin_carbonProjects", classId=class_id, limit=limit
        )
        return result

    def project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._read("ccoin_carbonProject", projectId=project_id)
        return result

    def batches(
        self, project_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read(
            "ccoin_carbonBatches", projectId=project_id, limit=limit
        )
        return result

    def batch(self, batch_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._read("ccoin_carbonBatch", batchId=batch_id)
        return result

    def holdings(self, address: str, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        result: dict[str, Any] = self._read("ccoin_carbonHoldings", address=address, limit=limit)
        return result

    def serial_history(
        self, batch_id: str, serial: int, limit: int = DEFAULT_LIMIT
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._read(
            "ccoin_carbonSerialHistory", batchId=batch_id, serial=str(serial), limit=limit
        )
        return result

    def retirements(
        self,
        *,
        beneficiary: str | None = None,
        project_id: str | None = None,
        from_height: int | None = None,
        to_height: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read(
            "ccoin_carbonRetirements",
            beneficiary=beneficiary,
            projectId=project_id,
            fromHeight=from_height,
            toHeight=to_height,
            limit=limit,
        )
        return result

    def retirement(self, retirement_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._read("ccoin_carbonRetirement", id=retirement_id)
        return result

    def certificate(self, retirement_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._read("ccoin_carbonCertificate", id=retirement_id)
        return result

    def retirement_proof(
        self, retirement_id: str, from_height: int, to_height: int
    ) -> dict[str, Any]:
        """What `RetirementRegistry.record` on BSC takes, for the anchored range
        `from_height..to_height` holding the retirement's block."""
        result: dict[str, Any] = self._read(
            "ccoin_getRetirementProof", id=retirement_id, fromHeight=from_height, toHeight=to_height
        )
        return result

    # -- transactions: each returns the submitted transaction's id ---------------------

    def admit_class(
        self,
        key: KeyPair,
        class_id: str,
        name: str,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """The committee admits a credit class (or admits a removed one again)."""
        result: str = self._new(
            key, admit_class_asset(class_id, name), second_key, cosigners, fee=fee
        )
        return result

    def remove_class(
        self,
        key: KeyPair,
        class_id: str,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        result: str = self._new(key, remove_class_asset(class_id), second_key, cosigners, fee=fee)
        return result

    def admit_issuer(
        self,
        key: KeyPair,
        issuer: str,
        classes: Iterable[str],
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """The committee admits `issuer` for `classes` (again: replaces its classes)."""
        asset = admit_issuer_asset(issuer, classes)
        result: str = self._new(key, asset, second_key, cosigners, fee=fee)
        return result

    def remove_issuer(
        self,
        key: KeyPair,
        issuer: str,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        result: str = self._new(key, remove_issuer_asset(issuer), second_key, cosigners, fee=fee)
        return result

    def register_project(
        self,
        key: KeyPair,
        project_id: str,
        class_id: str,
        name: str,
        jurisdiction: str,
        methodology: str,
        metadata_hash: BytesLike,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        asset = project_asset(project_id, class_id, name, jurisdiction, methodology, metadata_hash)
        result: str = self._new(key, asset, second_key, cosigners, fee=fee)
        return result

    def issue(
        self,
        key: KeyPair,
        project_id: str,
        first: int,
        last: int,
        origin: str,
        recipient: str,
        *,
        vintage: tuple[int, int],
        metadata_hash: BytesLike,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """Issue serials `first..last` of the project's class to `recipient` (the batch
        id, PROJECT-NNN, is in `batches(project_id)` once included)."""
        asset = issue_asset(project_id, first, last, origin, vintage, metadata_hash)
        result: str = self._new(key, asset, second_key, cosigners, recipient=recipient, fee=fee)
        return result

    def transfer(
        self,
        key: KeyPair,
        recipient: str,
        batch_id: str,
        *,
        quantity: int = 0,
        ranges: Iterable[Sequence[int]] = (),
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """`quantity` credits (the lowest serials held) or the serial `ranges`, not both."""
        asset = transfer_asset(batch_id, quantity, ranges)
        result: str = self._new(key, asset, second_key, cosigners, recipient=recipient, fee=fee)
        return result

    def retire(
        self,
        key: KeyPair,
        batch_id: str,
        *,
        beneficiary: str,
        jurisdiction: str,
        reason: str = "",
        quantity: int = 0,
        ranges: Iterable[Sequence[int]] = (),
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """Retire for `beneficiary` in `jurisdiction` (ISO 3166-2); the id is the
        retirement's (its certificate and proof take it)."""
        asset = retire_asset(batch_id, beneficiary, jurisdiction, reason, quantity, ranges)
        result: str = self._new(key, asset, second_key, cosigners, fee=fee)
        return result

    def cancel(
        self,
        key: KeyPair,
        batch_id: str,
        *,
        reason: str,
        quantity: int = 0,
        ranges: Iterable[Sequence[int]] = (),
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        result: str = self._new(
            key, cancel_asset(batch_id, reason, quantity, ranges), second_key, cosigners, fee=fee
        )
        return result
