"""Gas: the versioned cost schedule, the meter and the size-based cost functions.

Every cost is computed from the sizes of the inputs *before* the work is done, so a
contract that asks for something too large stops with `OutOfGas` without the value ever
being allocated. Costs depend only on values (never on time, addresses or hash order), so
the same call charges the same gas on every node.

The schedule is a consensus rule: changing a number means a new `SCHEDULE_VERSION` and a new
table in `docs/spec/vm.md`, never an edit of an existing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from ccoin.vm.values import (
    KEY_INT_BITS,
    WORD_BITS,
    WalkRefused,
    byte_words,
    deep_units,
    int_words,
    key_units,
    scalar_units,
)

SCHEDULE_VERSION = 2

GAS_SCHEDULE_V2: Mapping[str, int] = MappingProxyType(
    {
        # control flow (charged by the instrumented AST)
        "statement": 1,
        "loop_iteration": 1,
        "call": 10,
        "builtin": 2,
        # arithmetic: one 64-bit word is the unit of integer size
        "arith": 1,
        "arith_per_word": 1,
        "mul_per_word_pair": 1,
        "decimal_op": 10,
        "decimal_per_digit": 1,
        # sizes of values produced, scanned, compared, hashed or encoded; a "unit" is an
        # item, a 64-bit word of an int or 8 bytes of text (`ccoin.vm.values.deep_units`)
        "per_item": 1,
        "per_byte_word": 1,
        "sort_per_comparison": 2,
        # storage, events and C sent (applied by the node with the call transaction)
        "storage_read": 400,
        "storage_read_per_byte": 1,
        "storage_write": 500,
        "storage_write_per_byte": 10,
        "event": 100,
        "event_per_byte": 2,
        "transfer": 500,
        "exception": 20,  # an exception caught by an except clause
    }
)
"""Version 2 (issue 11): every native operation priced from the deep size of its inputs
(comparisons, hashing, encoding, searching, sorting), `coins.send` priced as the account
write it is. Version 1 (shallow sizes) is retired: no chain of this version runs it."""

SCHEDULES: Mapping[int, Mapping[str, int]] = MappingProxyType({2: GAS_SCHEDULE_V2})

# Limits that go with schedule version 2 (consensus rules; calibration in docs/spec/vm.md).
# The slowest pattern measured runs ~2.7 M gas/s in process, so a capped call stays near a
# second and far inside the sandbox's wall timeout: a timeout must never be a contract's
# result, because it would depend on the machine.
CALL_GAS_CAP = 2_000_000  # the most a type-8 gasLimit (or a view) may ask for
INIT_GAS = 1_000_000  # what a deploy's `init` may use (paid by the deploy's minimum fee)
BLOCK_GAS_CAP = 8_000_000  # sum of gas limits (calls) and INIT_GAS (deploys) in one block
GAS_PER_FEE_UNIT = 100  # a call's fee must cover min fee + ceil(gasLimit / this)


def gas_fee(gas_limit: int) -> int:
    """Base units a call must pay on top of the type's minimum fee for `gas_limit`."""
    return -(-gas_limit // GAS_PER_FEE_UNIT)


__all__ = ["WORD_BITS", "byte_words", "int_words"]


class VmAbort(BaseException):
    """Ends a contract call; contract code cannot catch it.

    Deriving from `BaseException` is half of the guarantee: the linter only lets contracts
    catch a short list of `Exception` subclasses and bans bare `except:`, `except
    Exception` and `except BaseException`, so no handler in contract code can match this.
    """


class OutOfGas(VmAbort):
    """The next charge would pass the limit. `used` stays at what was actually charged."""

    def __init__(self, needed: int, used: int, limit: int) -> None:
        super().__init__(f"out of gas: needed {needed}, used {used} of {limit}")
        self.needed = needed
        self.used = used
        self.limit = limit


class CallDepthExceeded(VmAbort):
    """Contract calls nested deeper than the runtime allows (counted, not the C stack)."""


class Meter:
    """Counts gas against a limit. `charge` refuses before passing the limit."""

    __slots__ = ("limit", "schedule", "used")

    def __init__(self, limit: int, schedule: Mapping[str, int] = GAS_SCHEDULE_V2) -> None:
        if limit < 0:
            raise ValueError("gas limit must be >= 0")
        self.limit = limit
        self.used = 0
        self.schedule = schedule

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def charge(self, amount: int) -> None:
        if amount < 0:
            raise ValueError("gas charge must be >= 0")
        if amount > self.limit - self.used:
            # Nothing is added: the gas used is what was charged for work actually done.
            # The fee for the whole limit is the ledger's business, not the meter's.
            raise OutOfGas(amount, self.used, self.limit)
        self.used += amount

    def charge_op(self, op: str, count: int = 1) -> None:
        self.charge(self.schedule[op] * count)


# --- sizes ---------------------------------------------------------------------------


def size_units(value: object) -> int:
    """A shallow size of a value: words for ints, 8-byte words for text, items otherwise.

    Shallow on purpose, for work that copies references (concatenation, repetition,
    slicing); work over whole values is charged by `ccoin.vm.values.deep_units`.
    """
    if isinstance(value, list | tuple | dict | range):
        return max(1, len(value))
    return scalar_units(value)


def decimal_digits(value: Decimal) -> int:
    return max(1, len(value.as_tuple().digits) // 19 + 1)


# --- cost functions: each returns gas for the given input sizes ----------------------


def add_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    """+, -, comparisons, bitwise ops on ints: linear in the larger operand."""
    return schedule["arith"] + schedule["arith_per_word"] * max(int_words(a), int_words(b))


def mul_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    """*, //, %: schoolbook bound, words(a) × words(b)."""
    return schedule["arith"] + schedule["mul_per_word_pair"] * int_words(a) * int_words(b)


def pow_cost(schedule: Mapping[str, int], base: int, exponent: int) -> int:
    """`base ** exponent` for ints, from the result size estimated before computing.

    The result has about bits(base) × exponent bits; squaring up to it costs about the
    square of its word count (the last multiplication dominates).
    """
    if exponent <= 1 or base in (0, 1, -1):
        return schedule["arith"] + schedule["arith_per_word"] * int_words(base)
    result_bits = max(1, abs(base).bit_length()) * exponent
    words = (result_bits + WORD_BITS - 1) // WORD_BITS
    return schedule["arith"] + schedule["mul_per_word_pair"] * words * words


def shift_cost(schedule: Mapping[str, int], value: int, shift: int) -> int:
    """`value << shift`: linear in the result; `>>` is linear in the input (shift < 0)."""
    bits = value.bit_length() + (max(0, shift) if value else 0)
    return schedule["arith"] + schedule["arith_per_word"] * max(1, bits // WORD_BITS + 1)


def repeat_cost(schedule: Mapping[str, int], item_length: int, times: int, text: bool) -> int:
    """`seq * n`: by the length of the result, before it is built."""
    length = item_length * max(0, times)
    if text:
        return schedule["builtin"] + schedule["per_byte_word"] * byte_words(length)
    return schedule["builtin"] + schedule["per_item"] * max(1, length)


def concat_cost(schedule: Mapping[str, int], a: object, b: object) -> int:
    """`a + b` of str, bytes, list or tuple: by the length of the result."""
    return schedule["builtin"] + size_units(a) + size_units(b)


def sort_cost(schedule: Mapping[str, int], count: int, item_units: int = 1) -> int:
    """sorted/list.sort: n·⌈log2 n⌉ comparisons, each costing at most the size of the
    smaller item compared (`item_units`: the second largest item's deep size)."""
    comparisons = count * max(1, (count - 1).bit_length())
    return schedule["builtin"] + schedule["sort_per_comparison"] * comparisons * item_units


SEARCH_SPAN = 128
"""Needle length past which CPython's substring search (two-way) is linear in the text."""
SHORT_TEXT = 2500
"""Text length below which CPython's search is the simple one, up to len(text) × len(needle)."""


def search_cost(schedule: Mapping[str, int], text: int, needle: int) -> int:
    """Looking for a needle of `needle` characters in `text` characters (`in`, find, count,
    replace, split, strip with chars): CPython's search compares up to the needle's length
    at each position for short texts or short needles, and is linear beyond."""
    span = needle if text < SHORT_TEXT else min(needle, SEARCH_SPAN)
    return schedule["builtin"] + schedule["per_byte_word"] * byte_words(text) * byte_words(span + 1)


def scan_cost(schedule: Mapping[str, int], units: int) -> int:
    """Anything that touches `units` items or words once (min, max, sum, join, in, copy)."""
    return schedule["builtin"] + schedule["per_item"] * max(1, units)


def strip_cost(schedule: Mapping[str, int], text: int, chars: int) -> int:
    """strip/lstrip/rstrip with `chars`: each character looked at may be compared with
    every one of `chars`."""
    return schedule["builtin"] + schedule["per_byte_word"] * byte_words(text) * byte_words(
        chars + 1
    )


def compare_cost(schedule: Mapping[str, int], value: object) -> int:
    """A unary operation on a scalar: by its size."""
    return schedule["arith"] + scalar_units(value)


def units_cost(schedule: Mapping[str, int], units: int) -> int:
    """Native work over whole values of `units` deep units (compare, hash, encode, scan)."""
    return schedule["arith"] + schedule["per_item"] * units


def decimal_cost(schedule: Mapping[str, int], *values: object) -> int:
    digits = sum(size_units(v) for v in values)
    return schedule["decimal_op"] + schedule["decimal_per_digit"] * digits


def storage_read_cost(schedule: Mapping[str, int], key: bytes, value: bytes | None) -> int:
    size = len(key) + (len(value) if value is not None else 0)
    return schedule["storage_read"] + schedule["storage_read_per_byte"] * size


def storage_write_cost(schedule: Mapping[str, int], key: bytes, value: bytes | None) -> int:
    size = len(key) + (len(value) if value is not None else 0)
    return schedule["storage_write"] + schedule["storage_write_per_byte"] * size


def charge_key(meter: Meter, key: object) -> None:
    """A dict key about to be hashed and compared: `charge_deep(meter, key, keys=1)`, with
    the common scalar keys priced without the walk."""
    schedule = meter.schedule
    if isinstance(key, str | bytes):
        meter.charge(schedule["arith"] + 2 * schedule["per_item"] * byte_words(len(key)))
    elif type(key) is int and key.bit_length() <= KEY_INT_BITS:
        meter.charge(schedule["arith"] + 2 * schedule["per_item"])
    else:
        charge_deep(meter, key, keys=1)


def charge_deep(
    meter: Meter, *values: object, base: str = "arith", rate: str = "per_item", keys: int = 0
) -> int:
    """Charge `schedule[base] + schedule[rate] × units` for native work over whole values:
    the deep size of `values` (`ccoin.vm.values.deep_units`), of which the first `keys` are
    dict keys (checked by `key_units`, and counted twice: hashed, then compared). A walk
    refused part way (nesting, a bad key) is charged for what it walked before the refusal
    is raised. Returns the units charged."""
    schedule = meter.schedule
    per = schedule[rate]
    limit = meter.remaining // max(1, per) + 1
    total = 0
    try:
        for index, value in enumerate(values):
            if index < keys:
                total += 2 * key_units(value, limit - total)
            else:
                total += deep_units(value, limit - total)
            if total > limit:
                break  # the charge below fails
    except WalkRefused as refused:
        meter.charge(schedule[base] + per * (total + refused.units))
        raise
    meter.charge(schedule[base] + per * total)
    return total


def event_cost(schedule: Mapping[str, int], size: int) -> int:
    return schedule["event"] + schedule["event_per_byte"] * size
