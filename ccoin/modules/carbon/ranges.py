"""Serial ranges: the algebra of carbon holdings (pure, no state).

A set of serials is held as `Ranges`: a tuple of inclusive `(first, last)` pairs, sorted,
disjoint and never adjacent (adjacent pairs are merged), so one set has one form and its
bytes are canonical. Every operation costs O(number of ranges), never O(number of serials):
a holding of ten million credits in one range moves as cheaply as one of ten.

The functions raise `RangeError` for a request that cannot be met (taking more than is
there, removing serials that are not there, a union of overlapping sets); the rules turn it
into the transaction's typed error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Range = tuple[int, int]
Ranges = tuple[Range, ...]


class RangeError(ValueError):
    """The ranges do not allow the operation (a rule decides what the sender is told)."""


def size(ranges: Iterable[Range]) -> int:
    return sum(last - first + 1 for first, last in ranges)


def is_canonical(ranges: Sequence[Range]) -> bool:
    """Sorted, each first <= last, and a gap of at least one serial between neighbours."""
    previous_last = -2
    for first, last in ranges:
        if first > last or first <= previous_last + 1:
            return False
        previous_last = last
    return True


def canonical(ranges: Sequence[Range]) -> Ranges:
    """Sorted, non-overlapping `ranges` (adjacent ones allowed) in canonical form; raises
    `RangeError` if they are unsorted, overlap or one has first > last."""
    out: list[Range] = []
    for first, last in ranges:
        if first > last:
            raise RangeError(f"range [{first}, {last}] ends before it starts")
        if out and first <= out[-1][1]:
            raise RangeError(f"range [{first}, {last}] is unsorted or overlaps the one before")
        if out and first == out[-1][1] + 1:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return tuple(out)


def take_lowest(ranges: Ranges, quantity: int) -> tuple[Ranges, Ranges]:
    """(taken, rest): the `quantity` lowest serials of `ranges`, and what stays."""
    if quantity <= 0:
        raise RangeError("the quantity must be positive")
    taken: list[Range] = []
    needed = quantity
    for i, (first, last) in enumerate(ranges):
        count = last - first + 1
        if count < needed:
            taken.append((first, last))
            needed -= count
            continue
        cut = first + needed - 1
        taken.append((first, cut))
        rest = ranges[i + 1 :] if cut == last else ((cut + 1, last), *ranges[i + 1 :])
        return tuple(taken), rest
    raise RangeError(f"holds {quantity - needed} of the {quantity} asked")


def subtract(ranges: Ranges, remove: Ranges) -> Ranges:
    """`ranges` without `remove` (both canonical); every serial of `remove` must be in
    `ranges`, else `RangeError` naming the first missing one."""
    out: list[Range] = []
    i = 0
    current: Range | None = ranges[0] if ranges else None
    for r_first, r_last in remove:
        while current is not None and current[1] < r_first:
            out.append(current)
            i += 1
            current = ranges[i] if i < len(ranges) else None
        if current is None or current[0] > r_first or current[1] < r_last:
            raise RangeError(f"serials [{r_first}, {r_last}] are not all held")
        if current[0] < r_first:
            out.append((current[0], r_first - 1))
        if r_last < current[1]:
            current = (r_last + 1, current[1])
        else:
            i += 1
            current = ranges[i] if i < len(ranges) else None
    if current is not None:
        out.append(current)
        out.extend(ranges[i + 1 :])
    return tuple(out)


def union(a: Ranges, b: Ranges) -> Ranges:
    """The union of two disjoint canonical sets; `RangeError` if any serial is in both (a
    serial is in exactly one place, so that would be a broken invariant)."""
    merged = sorted((*a, *b))
    out: list[Range] = []
    for first, last in merged:
        if out and first <= out[-1][1]:
            raise RangeError(f"serials [{first}, {min(last, out[-1][1])}] are in both sets")
        if out and first == out[-1][1] + 1:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return tuple(out)


def contains(ranges: Sequence[Range], serial: int) -> bool:
    return any(first <= serial <= last for first, last in ranges)
