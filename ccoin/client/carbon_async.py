"""`AsyncClient.carbon`: `ccoin.client.carbon`'s reads and builders for trio programs
(the assets and the flows are that module's; this only awaits them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ccoin.client.carbon import (
    DEFAULT_LIMIT,
    CarbonBase,
    admit_class_asset,
    admit_issuer_asset,
    cancel_asset,
    issue_asset,
    project_asset,
    remove_class_asset,
    remove_issuer_asset,
    retire_asset,
    transfer_asset,
)
from ccoin.client.flows import BytesLike
from ccoin.crypto.keys import KeyPair


class AsyncCarbonClient(CarbonBase):
    """`AsyncClient.carbon`: the same methods as `CarbonClient`, awaited."""

    async def classes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._read("ccoin_carbonClasses")
        return result

    async def issuers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._read("ccoin_carbonIssuers")
        return result

    async def projects(
        self, class_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._read(
            "ccoin_carbonProjects", classId=class_id, limit=limit
        )
        return result

    async def project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._read("ccoin_carbonProject", projectId=project_id)
        return result

    async def batches(
        self, project_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._read(
            "ccoin_carbonBatches", projectId=project_id, limit=limit
        )
        return result

    async def batch(self, batch_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._read("ccoin_carbonBatch", batchId=batch_id)
        return result

    async def holdings(self, address: str, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        result: dict[str, Any] = await self._read(
            "ccoin_carbonHoldings", address=address, limit=limit
        )
        return result

    async def serial_history(
        self, batch_id: str, serial: int, limit: int = DEFAULT_LIMIT
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._read(
            "ccoin_carbonSerialHistory", batchId=batch_id, serial=str(serial), limit=limit
        )
        return result

    async def retirements(
        self,
        *,
        beneficiary: str | None = None,
        project_id: str | None = None,
        from_height: int | None = None,
        to_height: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._read(
            "ccoin_carbonRetirements",
            beneficiary=beneficiary,
            projectId=project_id,
            fromHeight=from_height,
            toHeight=to_height,
            limit=limit,
        )
        return result

    async def retirement(self, retirement_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._read("ccoin_carbonRetirement", id=retirement_id)
        return result

    async def certificate(self, retirement_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._read("ccoin_carbonCertificate", id=retirement_id)
        return result

    async def retirement_proof(
        self, retirement_id: str, from_height: int, to_height: int
    ) -> dict[str, Any]:
        """What `RetirementRegistry.record` on BSC takes, for the anchored range
        `from_height..to_height` holding the retirement's block."""
        result: dict[str, Any] = await self._read(
            "ccoin_getRetirementProof", id=retirement_id, fromHeight=from_height, toHeight=to_height
        )
        return result

    # -- transactions: each returns the submitted transaction's id ---------------------

    async def admit_class(
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
        result: str = await self._new(
            key, admit_class_asset(class_id, name), second_key, cosigners, fee=fee
        )
        return result

    async def remove_class(
        self,
        key: KeyPair,
        class_id: str,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        result: str = await self._new(
            key, remove_class_asset(class_id), second_key, cosigners, fee=fee
        )
        return result

    async def admit_issuer(
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
        result: str = await self._new(key, asset, second_key, cosigners, fee=fee)
        return result

    async def remove_issuer(
        self,
        key: KeyPair,
        issuer: str,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        result: str = await self._new(
            key, remove_issuer_asset(issuer), second_key, cosigners, fee=fee
        )
        return result

    async def register_project(
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
        result: str = await self._new(key, asset, second_key, cosigners, fee=fee)
        return result

    async def issue(
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
        result: str = await self._new(
            key, asset, second_key, cosigners, recipient=recipient, fee=fee
        )
        return result

    async def transfer(
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
        result: str = await self._new(
            key, asset, second_key, cosigners, recipient=recipient, fee=fee
        )
        return result

    async def retire(
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
        result: str = await self._new(key, asset, second_key, cosigners, fee=fee)
        return result

    async def cancel(
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
        result: str = await self._new(
            key, cancel_asset(batch_id, reason, quantity, ranges), second_key, cosigners, fee=fee
        )
        return result
