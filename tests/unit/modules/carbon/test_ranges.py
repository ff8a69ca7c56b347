"""The serial-range algebra against the obvious model (a Python set of serials)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccoin.modules.carbon import ranges as R


def serial_sets(max_serial: int = 60) -> st.SearchStrategy[frozenset[int]]:
    return st.frozensets(st.integers(min_value=1, max_value=max_serial), max_size=40)


def as_ranges(serials: frozenset[int]) -> R.Ranges:
    out: list[R.Range] = []
    for s in sorted(serials):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return tuple(out)


def as_set(ranges: R.Ranges) -> frozenset[int]:
    return frozenset(s for first, last in ranges for s in range(first, last + 1))


@given(serial_sets())
def test_the_canonical_form_is_the_model_and_is_checked(serials: frozenset[int]) -> None:
    ranges = as_ranges(serials)
    assert R.is_canonical(ranges)
    assert R.canonical(ranges) == ranges
    assert R.size(ranges) == len(serials)
    for s in range(0, 62):
        assert R.contains(ranges, s) == (s in serials)


@given(serial_sets(), st.integers(min_value=1, max_value=70))
def test_take_lowest_takes_the_lowest_serials(serials: frozenset[int], quantity: int) -> None:
    ranges = as_ranges(serials)
    if quantity > len(serials):
        with pytest.raises(R.RangeError):
            R.take_lowest(ranges, quantity)
        return
    taken, rest = R.take_lowest(ranges, quantity)
    lowest = frozenset(sorted(serials)[:quantity])
    assert as_set(taken) == lowest and as_set(rest) == serials - lowest
    assert R.is_canonical(taken) and R.is_canonical(rest)
    assert len(rest) <= len(ranges)  # taking from the bottom never fragments


@given(serial_sets(), serial_sets())
def test_subtract_removes_exactly_held_serials(
    held: frozenset[int], remove: frozenset[int]
) -> None:
    held_r, remove_r = as_ranges(held), as_ranges(remove)
    if not remove <= held:
        with pytest.raises(R.RangeError):
            R.subtract(held_r, remove_r)
        return
    rest = R.subtract(held_r, remove_r)
    assert as_set(rest) == held - remove
    assert R.is_canonical(rest)


@given(serial_sets(), serial_sets())
def test_union_of_disjoint_sets_and_refusal_of_overlap(
    a: frozenset[int], b: frozenset[int]
) -> None:
    if a & b:
        with pytest.raises(R.RangeError):
            R.union(as_ranges(a), as_ranges(b))
        return
    merged = R.union(as_ranges(a), as_ranges(b))
    assert merged == as_ranges(a | b)


def test_canonical_refuses_unsorted_overlapping_and_reversed_ranges() -> None:
    assert R.canonical(((1, 3), (4, 9))) == ((1, 9),)  # adjacent ranges are merged
    for bad in (((5, 9), (1, 3)), ((1, 5), (5, 9)), ((4, 3),)):
        with pytest.raises(R.RangeError):
            R.canonical(bad)
    assert not R.is_canonical(((1, 3), (4, 9)))


def test_costs_follow_ranges_not_serials() -> None:
    ten_million = ((1, 10_000_000),)
    taken, rest = R.take_lowest(ten_million, 9_999_999)
    assert taken == ((1, 9_999_999),) and rest == ((10_000_000, 10_000_000),)
    assert R.subtract(ten_million, ((5, 5),)) == ((1, 4), (6, 10_000_000))
