"""Hypothesis strategies for the carbon module's assets (test-only; imports hypothesis)."""

from __future__ import annotations

import datetime
import hashlib
import string
from typing import Any

from hypothesis import strategies as st

from ccoin.crypto.address import address_from_raw
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon import wire as W
from ccoin.modules.carbon.jurisdictions import COUNTRIES
from ccoin.types.asset_base import TxType
from ccoin.types.codec import MAX_BIGINT

_UPPER = string.ascii_uppercase
_ID_REST = string.ascii_uppercase + string.digits


def addresses() -> st.SearchStrategy[str]:
    return st.binary(min_size=12, max_size=12).map(
        lambda body: address_from_raw(body + hashlib.sha256(body).digest()[:2])
    )


def class_ids() -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, b: a + b, st.sampled_from(_UPPER), st.text(alphabet=_ID_REST, max_size=7)
    )


def project_ids() -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, b: a + b,
        st.sampled_from(_ID_REST),
        st.text(alphabet=_ID_REST + "-", max_size=31),
    )


def batch_ids() -> st.SearchStrategy[str]:
    return st.builds(
        lambda p, n: f"{p}-{n:03d}", project_ids(), st.integers(min_value=1, max_value=999)
    )


def jurisdictions() -> st.SearchStrategy[str]:
    country = st.sampled_from(sorted(COUNTRIES))
    sub = st.text(alphabet=_ID_REST, min_size=1, max_size=3)
    return st.one_of(country, st.builds(lambda c, s: f"{c}-{s}", country, sub))


def texts(max_size: int) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=max_size
    ).filter(lambda t: t.strip() == t and bool(t))


def ranges(max_ranges: int = 8) -> st.SearchStrategy[R.Ranges]:
    """Canonical ranges: sorted, disjoint, not adjacent."""

    def build(cuts: list[int]) -> R.Ranges:
        points = sorted(set(cuts))
        out: list[R.Range] = []
        for i in range(0, len(points) - 1, 2):
            first, last = points[i], points[i + 1]
            if out and first <= out[-1][1] + 1:
                continue
            out.append((first, last))
        return tuple(out)

    return (
        st.lists(
            st.integers(min_value=1, max_value=MAX_BIGINT), min_size=2, max_size=2 * max_ranges
        )
        .map(build)
        .filter(bool)
    )


def _moves() -> st.SearchStrategy[tuple[str, int, R.Ranges]]:
    by_quantity = st.tuples(
        batch_ids(), st.integers(min_value=1, max_value=MAX_BIGINT), st.just(())
    )
    by_ranges = st.tuples(batch_ids(), st.just(0), ranges())
    return st.one_of(by_quantity, by_ranges)


def committee_assets() -> st.SearchStrategy[W.CommitteeAsset]:
    return st.one_of(
        st.builds(W.CommitteeAsset, st.just("admit-class"), class_ids(), texts(W.MAX_NAME)),
        st.builds(W.CommitteeAsset, st.just("remove-class"), class_ids()),
        st.builds(
            lambda issuer, classes: W.CommitteeAsset(
                "admit-issuer", issuer=issuer, classes=tuple(sorted(set(classes)))
            ),
            addresses(),
            st.lists(class_ids(), min_size=1, max_size=W.MAX_ISSUER_CLASSES),
        ),
        st.builds(lambda issuer: W.CommitteeAsset("remove-issuer", issuer=issuer), addresses()),
    )


def project_assets() -> st.SearchStrategy[W.ProjectAsset]:
    return st.builds(
        W.ProjectAsset,
        project_ids(),
        class_ids(),
        texts(W.MAX_NAME),
        jurisdictions(),
        texts(W.MAX_NAME),
        st.binary(min_size=32, max_size=32),
    )


def _day(d: datetime.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def issue_assets() -> st.SearchStrategy[W.IssueAsset]:
    def build(
        project: str, start: int, days: int, first: int, count: int, origin: str, meta: bytes
    ) -> W.IssueAsset:
        begin = datetime.date(2000, 1, 1) + datetime.timedelta(days=start)
        end = begin + datetime.timedelta(days=days)
        last = min(first + count - 1, MAX_BIGINT)
        return W.IssueAsset(project, _day(begin), _day(end), first, last, origin, meta)

    return st.builds(
        build,
        project_ids(),
        st.integers(min_value=0, max_value=9000),
        st.integers(min_value=0, max_value=3650),
        st.integers(min_value=1, max_value=MAX_BIGINT),
        st.integers(min_value=1, max_value=10**12),
        st.builds(
            lambda a, b: a + b,
            st.sampled_from(_ID_REST),
            st.text(alphabet=_ID_REST + "._:/-", max_size=127),
        ),
        st.binary(min_size=32, max_size=32),
    )


def transfer_assets() -> st.SearchStrategy[W.CarbonTransferAsset]:
    return _moves().map(lambda m: W.CarbonTransferAsset(*m))


def retire_assets() -> st.SearchStrategy[W.RetireAsset]:
    return st.builds(
        lambda m, b, j, r: W.RetireAsset(m[0], m[1], m[2], b, j, r),
        _moves(),
        texts(W.MAX_BENEFICIARY),
        jurisdictions(),
        st.one_of(st.just(""), texts(W.MAX_REASON)),
    )


def cancel_assets() -> st.SearchStrategy[W.CancelAsset]:
    return st.builds(lambda m, r: W.CancelAsset(m[0], m[1], m[2], r), _moves(), texts(W.MAX_REASON))


CARBON_ASSET_STRATEGIES: dict[int, Any] = {
    TxType.CARBON_COMMITTEE: committee_assets,
    TxType.CARBON_PROJECT: project_assets,
    TxType.CARBON_ISSUE: issue_assets,
    TxType.CARBON_TRANSFER: transfer_assets,
    TxType.CARBON_RETIRE: retire_assets,
    TxType.CARBON_CANCEL: cancel_assets,
}
