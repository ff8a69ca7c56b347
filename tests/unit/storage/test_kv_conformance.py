"""Conformance suite for `KeyValueStore`: every backend must pass the same tests.

This module owns the behavioural contract of `ccoin.storage.kv` (ordering, prefixes, bounds,
snapshots, batch atomicity, typing, closing), run against both the memory and LevelDB
backends, plus a few clearly marked LevelDB-only persistence tests and a hypothesis
property test comparing both backends to a plain dict model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccoin.storage.backends import open_store
from ccoin.storage.kv import KeyValueStore, StorageError
from ccoin.storage.leveldb import LevelDBStore
from ccoin.storage.memory import MemoryStore

BACKENDS = ["memory", "leveldb"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyValueStore]:
    kind: str = request.param
    kv = open_store(kind, str(tmp_path / "db") if kind == "leveldb" else None)
    yield kv
    kv.close()


def _fill(kv: KeyValueStore, keys: list[bytes]) -> None:
    """Store each key with a value derived from it, so values can be checked too."""
    kv.commit({k: b"v" + k for k in keys})


def _keys(kv: KeyValueStore, *args: Any, **kwargs: Any) -> list[bytes]:
    return [k for k, _ in kv.iterate(*args, **kwargs)]


# --------------------------------------------------------------------------------------------
# Point reads and writes
# --------------------------------------------------------------------------------------------


def test_get_missing_returns_none(store: KeyValueStore) -> None:
    assert store.get(b"nope") is None
    assert store.get(b"") is None


def test_put_then_get(store: KeyValueStore) -> None:
    store.commit({b"a": b"1", b"\x00\xff": b"\x00\x01\x02"})
    assert store.get(b"a") == b"1"
    assert store.get(b"\x00\xff") == b"\x00\x01\x02"


def test_delete(store: KeyValueStore) -> None:
    store.commit({b"a": b"1", b"b": b"2"})
    with store.atomic_batch() as batch:
        batch.delete(b"a")
        batch.delete(b"never-existed")
    assert store.get(b"a") is None
    assert store.get(b"b") == b"2"


def test_overwrite(store: KeyValueStore) -> None:
    store.commit({b"a": b"1"})
    store.commit({b"a": b"2"})
    assert store.get(b"a") == b"2"
    assert list(store.iterate()) == [(b"a", b"2")]


def test_empty_value_is_distinct_from_missing(store: KeyValueStore) -> None:
    store.commit({b"empty": b""})
    assert store.get(b"empty") == b""
    assert store.get(b"empty") is not None
    assert list(store.iterate()) == [(b"empty", b"")]


def test_empty_key_is_a_valid_key(store: KeyValueStore) -> None:
    store.commit({b"": b"root", b"a": b"1"})
    assert store.get(b"") == b"root"
    assert _keys(store) == [b"", b"a"]


def test_commit_none_deletes(store: KeyValueStore) -> None:
    store.commit({b"a": b"1", b"b": b"2"})
    store.commit({b"a": None, b"c": b"3", b"missing": None})
    assert store.get(b"a") is None
    assert list(store.iterate()) == [(b"b", b"2"), (b"c", b"3")]


def test_commit_with_sync_false(store: KeyValueStore) -> None:
    store.commit({b"a": b"1"}, sync=False)
    assert store.get(b"a") == b"1"


# --------------------------------------------------------------------------------------------
# Atomic batches
# --------------------------------------------------------------------------------------------


def test_batch_applies_on_clean_exit(store: KeyValueStore) -> None:
    store.commit({b"old": b"x"})
    with store.atomic_batch(sync=False) as batch:
        batch.put(b"a", b"1")
        batch.put(b"b", b"2")
        batch.delete(b"old")
    assert list(store.iterate()) == [(b"a", b"1"), (b"b", b"2")]


def test_batch_writes_invisible_until_exit(store: KeyValueStore) -> None:
    with store.atomic_batch() as batch:
        batch.put(b"a", b"1")
        assert store.get(b"a") is None
        assert list(store.iterate()) == []
    assert store.get(b"a") == b"1"


def test_batch_is_atomic_on_exception(store: KeyValueStore) -> None:
    store.commit({b"keep": b"1", b"doomed": b"2"})

    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.atomic_batch() as batch:
        batch.put(b"new", b"x")
        batch.put(b"keep", b"changed")
        batch.delete(b"doomed")
        raise Boom

    assert list(store.iterate()) == [(b"doomed", b"2"), (b"keep", b"1")]


@pytest.mark.parametrize(
    ("initial", "ops", "expected"),
    [
        pytest.param(None, [("put", b"1"), ("put", b"2")], b"2", id="put-put"),
        pytest.param(None, [("put", b"1"), ("delete", None)], None, id="put-delete-missing"),
        pytest.param(b"0", [("put", b"1"), ("delete", None)], None, id="put-delete-existing"),
        pytest.param(b"0", [("delete", None), ("put", b"1")], b"1", id="delete-put-existing"),
        pytest.param(None, [("delete", None), ("put", b"1")], b"1", id="delete-put-missing"),
        pytest.param(
            b"0",
            [("put", b"1"), ("delete", None), ("put", b"")],
            b"",
            id="put-delete-put-empty",
        ),
    ],
)
def test_batch_last_write_wins(
    store: KeyValueStore,
    initial: bytes | None,
    ops: list[tuple[str, bytes | None]],
    expected: bytes | None,
) -> None:
    if initial is not None:
        store.commit({b"k": initial})
    with store.atomic_batch() as batch:
        for op, value in ops:
            if op == "put":
                assert value is not None
                batch.put(b"k", value)
            else:
                batch.delete(b"k")
    assert store.get(b"k") == expected


def test_batch_unusable_after_exit(store: KeyValueStore) -> None:
    with store.atomic_batch() as batch:
        batch.put(b"a", b"1")
    with pytest.raises(StorageError):
        batch.put(b"b", b"2")
    with pytest.raises(StorageError):
        batch.delete(b"a")
    assert list(store.iterate()) == [(b"a", b"1")]


# --------------------------------------------------------------------------------------------
# Iteration: order, prefixes, bounds, snapshots
# --------------------------------------------------------------------------------------------

# Deliberately inserted out of order; includes 0x00/0xff edges and prefix-of-prefix keys.
ORDER_KEYS = [b"b", b"\xff", b"a", b"\x00", b"ab", b"a\x00", b"\xff\xff", b"aa", b"\x01"]


def test_iterate_ascending_bytewise(store: KeyValueStore) -> None:
    _fill(store, ORDER_KEYS)
    assert list(store.iterate()) == [(k, b"v" + k) for k in sorted(ORDER_KEYS)]
    # Bytewise means unsigned: 0xff sorts after everything, a shorter prefix first.
    assert _keys(store) == [
        b"\x00",
        b"\x01",
        b"a",
        b"a\x00",
        b"aa",
        b"ab",
        b"b",
        b"\xff",
        b"\xff\xff",
    ]


def test_iterate_descending(store: KeyValueStore) -> None:
    _fill(store, ORDER_KEYS)
    assert list(store.iterate(reverse=True)) == [
        (k, b"v" + k) for k in sorted(ORDER_KEYS, reverse=True)
    ]


def test_iterate_empty_store(store: KeyValueStore) -> None:
    assert list(store.iterate()) == []
    assert list(store.iterate(b"a", reverse=True)) == []


PREFIX_KEYS = [
    b"\x01",
    b"\x01\xfe",
    b"\x01\xfe\xff",
    b"\x01\xff",
    b"\x01\xff\x00",
    b"\x01\xff\xff",
    b"\x01\xff\xff\xff",
    b"\x02",
    b"\x02\x00",
    b"\xfe",
    b"\xff",
    b"\xff\x00",
    b"\xff\xff",
    b"\xff\xff\x01",
]


@pytest.mark.parametrize(
    "prefix",
    [
        b"",
        b"\x01",
        b"\x01\xfe",
        b"\x01\xff",
        b"\x01\xff\xff",
        b"\x02",
        b"\xfe",
        b"\xff",
        b"\xff\xff",
        b"\xff\xff\xff",
        b"\x03",
    ],
    ids=lambda p: p.hex() or "empty",
)
@pytest.mark.parametrize("reverse", [False, True], ids=["asc", "desc"])
def test_iterate_prefix_filtering(store: KeyValueStore, prefix: bytes, reverse: bool) -> None:
    _fill(store, PREFIX_KEYS)
    expected = sorted((k for k in PREFIX_KEYS if k.startswith(prefix)), reverse=reverse)
    assert _keys(store, prefix, reverse=reverse) == expected


def test_prefix_with_trailing_ff_does_not_leak_next_prefix(store: KeyValueStore) -> None:
    _fill(store, PREFIX_KEYS)
    assert _keys(store, b"\x01\xff") == [
        b"\x01\xff",
        b"\x01\xff\x00",
        b"\x01\xff\xff",
        b"\x01\xff\xff\xff",
    ]
    assert _keys(store, b"\x01\xff", reverse=True)[0] == b"\x01\xff\xff\xff"
    assert _keys(store, b"\xff") == [b"\xff", b"\xff\x00", b"\xff\xff", b"\xff\xff\x01"]


BOUND_KEYS = [bytes([c]) for c in b"abcdefg"]


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        (b"c", None, b"cdefg"),
        (None, b"c", b"ab"),
        (b"b", b"e", b"bcd"),
        (b"bb", b"e\x00", b"cde"),  # bounds need not be existing keys
        (b"c", b"c", b""),  # empty: stop is exclusive
        (b"e", b"b", b""),  # inverted range is empty, not an error
        (b"", b"\xff", b"abcdefg"),
        (b"h", None, b""),
    ],
)
@pytest.mark.parametrize("reverse", [False, True], ids=["asc", "desc"])
def test_iterate_start_stop_bounds(
    store: KeyValueStore,
    start: bytes | None,
    stop: bytes | None,
    expected: bytes,
    reverse: bool,
) -> None:
    _fill(store, BOUND_KEYS)
    want = [bytes([c]) for c in expected]
    if reverse:
        want.reverse()
    assert _keys(store, start=start, stop=stop, reverse=reverse) == want


@pytest.mark.parametrize("reverse", [False, True], ids=["asc", "desc"])
def test_iterate_range_whose_only_key_is_its_lower_bound(
    store: KeyValueStore, reverse: bool
) -> None:
    # Regression: plyvel 1.5.1 reverse iterators drop a key equal to `start` when it is the
    # first one they would yield, so these came back empty on LevelDB.
    _fill(store, BOUND_KEYS)
    assert _keys(store, start=b"d", stop=b"e", reverse=reverse) == [b"d"]
    assert _keys(store, start=b"g", reverse=reverse) == [b"g"]
    assert _keys(store, b"d", reverse=reverse) == [b"d"]
    assert _keys(store, b"c", start=b"c", stop=b"c\x00", reverse=reverse) == [b"c"]


def test_iterate_bounds_combined_with_prefix(store: KeyValueStore) -> None:
    keys = [b"p1", b"p2", b"p3", b"p4", b"q1", b"o9"]
    _fill(store, keys)
    assert _keys(store, b"p", start=b"p2") == [b"p2", b"p3", b"p4"]
    assert _keys(store, b"p", stop=b"p3") == [b"p1", b"p2"]
    assert _keys(store, b"p", start=b"p2", stop=b"p4", reverse=True) == [b"p3", b"p2"]
    # Bounds outside the prefix never widen it.
    assert _keys(store, b"p", start=b"a", stop=b"z") == [b"p1", b"p2", b"p3", b"p4"]
    assert _keys(store, b"p", start=b"q") == []
    assert _keys(store, b"p", stop=b"o") == []


def test_iterate_is_a_snapshot_while_modifying(store: KeyValueStore) -> None:
    _fill(store, [b"k1", b"k2", b"k3", b"k4"])
    seen = []
    for key, value in store.iterate(b"k"):
        seen.append((key, value))
        if key == b"k1":
            store.commit({b"k2": None, b"k3": b"changed", b"k5": b"new", b"k0": b"new"})
    assert seen == [(b"k1", b"vk1"), (b"k2", b"vk2"), (b"k3", b"vk3"), (b"k4", b"vk4")]
    assert list(store.iterate(b"k")) == [
        (b"k0", b"new"),
        (b"k1", b"vk1"),
        (b"k3", b"changed"),
        (b"k4", b"vk4"),
        (b"k5", b"new"),
    ]


def test_iterate_snapshot_taken_at_call_time(store: KeyValueStore) -> None:
    _fill(store, [b"a", b"b"])
    it = store.iterate(reverse=True)
    with store.atomic_batch() as batch:
        batch.put(b"c", b"late")
        batch.delete(b"a")
    assert list(it) == [(b"b", b"vb"), (b"a", b"va")]


def test_iterate_abandoned_midway_does_not_block_writes(store: KeyValueStore) -> None:
    _fill(store, [b"a", b"b", b"c"])
    it = store.iterate()
    assert next(it) == (b"a", b"va")
    del it
    store.commit({b"d": b"4"})
    assert _keys(store) == [b"a", b"b", b"c", b"d"]


# --------------------------------------------------------------------------------------------
# Type validation
# --------------------------------------------------------------------------------------------

NOT_BYTES: list[Any] = ["a", bytearray(b"a"), memoryview(b"a"), 1, None]
_ids = ["str", "bytearray", "memoryview", "int", "None"]


@pytest.mark.parametrize("bad", NOT_BYTES, ids=_ids)
def test_non_bytes_key_raises_type_error(store: KeyValueStore, bad: Any) -> None:
    with pytest.raises(TypeError):
        store.get(bad)
    if not isinstance(bad, bytearray):  # unhashable: cannot even be a Mapping key
        changes = {bad: b"v"}
        with pytest.raises(TypeError):
            store.commit(changes)
    with pytest.raises(TypeError), store.atomic_batch() as batch:
        batch.put(bad, b"v")
    with pytest.raises(TypeError), store.atomic_batch() as batch:
        batch.delete(bad)
    if bad is not None:  # None is a legal value for start/stop (unbounded)
        with pytest.raises(TypeError):
            store.iterate(bad)
        with pytest.raises(TypeError):
            store.iterate(start=bad)
        with pytest.raises(TypeError):
            store.iterate(stop=bad)
    assert list(store.iterate()) == []


@pytest.mark.parametrize("bad", NOT_BYTES[:-1], ids=_ids[:-1])
def test_non_bytes_value_raises_type_error(store: KeyValueStore, bad: Any) -> None:
    with pytest.raises(TypeError):
        store.commit({b"k": bad})
    with pytest.raises(TypeError), store.atomic_batch() as batch:
        batch.put(b"k", bad)
    assert store.get(b"k") is None


def test_batch_put_none_value_raises_type_error(store: KeyValueStore) -> None:
    with pytest.raises(TypeError), store.atomic_batch() as batch:
        batch.put(b"k", None)  # type: ignore[arg-type]
    assert store.get(b"k") is None


def test_commit_with_bad_entry_applies_nothing(store: KeyValueStore) -> None:
    store.commit({b"a": b"1"})
    with pytest.raises(TypeError):
        store.commit({b"a": None, b"b": b"2", b"c": "three", b"d": b"4"})  # type: ignore[dict-item]
    assert list(store.iterate()) == [(b"a", b"1")]


# --------------------------------------------------------------------------------------------
# Closing
# --------------------------------------------------------------------------------------------


def test_closed_store_raises_storage_error(store: KeyValueStore) -> None:
    store.commit({b"a": b"1"})
    store.close()
    ops: list[Callable[[], object]] = [
        lambda: store.get(b"a"),
        lambda: store.iterate(),
        lambda: store.iterate(b"a", reverse=True),
        lambda: store.commit({b"a": b"2"}),
        lambda: store.atomic_batch(),
    ]
    for op in ops:
        with pytest.raises(StorageError, match="store is closed"):
            op()
    store.close()  # idempotent


def test_batch_exiting_after_close_raises_storage_error(store: KeyValueStore) -> None:
    with pytest.raises(StorageError, match="store is closed"), store.atomic_batch() as batch:
        batch.put(b"a", b"1")
        store.close()


# --------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------


def test_open_store_returns_named_backends(tmp_path: Path) -> None:
    mem = open_store("memory", None)
    assert isinstance(mem, MemoryStore)
    mem.close()
    ldb = open_store("leveldb", str(tmp_path / "nested" / "deeper" / "db"))
    assert isinstance(ldb, LevelDBStore)
    assert (tmp_path / "nested" / "deeper" / "db").is_dir()
    ldb.close()


def test_open_store_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        open_store("leveldb", None)
    with pytest.raises(ValueError):
        open_store("rocksdb", "/tmp/x")


# --------------------------------------------------------------------------------------------
# LevelDB-only: persistence and on-disk behaviour (no memory equivalent)
# --------------------------------------------------------------------------------------------


def test_leveldb_only_reopen_keeps_data(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    first = LevelDBStore(path)
    first.commit({b"a": b"1", b"b": b"", b"gone": b"x"})
    with first.atomic_batch() as batch:
        batch.put(b"c", b"3")
        batch.delete(b"gone")
    first.close()

    second = LevelDBStore(path, create_if_missing=False)
    try:
        assert list(second.iterate()) == [(b"a", b"1"), (b"b", b""), (b"c", b"3")]
        assert second.get(b"gone") is None
    finally:
        second.close()


def test_leveldb_only_missing_dir_without_create_raises(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        LevelDBStore(str(tmp_path / "absent"), create_if_missing=False)
    assert not (tmp_path / "absent").exists()


def test_leveldb_only_second_open_of_locked_dir_raises(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    first = LevelDBStore(path)
    try:
        with pytest.raises(StorageError, match="lock"):
            LevelDBStore(path)
    finally:
        first.close()
    LevelDBStore(path).close()  # lock released by close()


def test_leveldb_only_close_ends_inflight_iterator(tmp_path: Path) -> None:
    kv = LevelDBStore(str(tmp_path / "db"))
    kv.commit({b"a": b"1", b"b": b"2"})
    it = kv.iterate()
    assert next(it) == (b"a", b"1")
    kv.close()
    with pytest.raises(StorageError, match="store is closed"):
        next(it)


# --------------------------------------------------------------------------------------------
# Property: both backends behave like a dict model under random commit sequences
# --------------------------------------------------------------------------------------------

# A tiny alphabet with 0x00/0xff edges so keys collide, nest as prefixes and hit carry cases.
_key_bytes = st.lists(st.sampled_from([0x00, 0x01, 0x7F, 0xFE, 0xFF]), max_size=4).map(bytes)
_value = st.binary(max_size=3)
_changes = st.dictionaries(_key_bytes, st.none() | _value, max_size=8)


@settings(max_examples=100, deadline=None)
@given(
    commits=st.lists(_changes, max_size=8),
    prefix=st.lists(st.sampled_from([0x00, 0x01, 0xFE, 0xFF]), max_size=2).map(bytes),
    start=st.none() | _key_bytes,
    stop=st.none() | _key_bytes,
)
def test_property_commits_match_dict_model(
    commits: list[dict[bytes, bytes | None]],
    prefix: bytes,
    start: bytes | None,
    stop: bytes | None,
) -> None:
    model: dict[bytes, bytes] = {}
    for changes in commits:
        for key, value in changes.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value

    with tempfile.TemporaryDirectory() as tmp:
        stores = [
            open_store(kind, f"{tmp}/{kind}" if kind == "leveldb" else None) for kind in BACKENDS
        ]
        try:
            for kv in stores:
                for changes in commits:
                    kv.commit(changes, sync=False)

            everything = sorted(model.items())
            in_prefix = [(k, v) for k, v in everything if k.startswith(prefix)]
            bounded = [
                (k, v)
                for k, v in in_prefix
                if (start is None or k >= start) and (stop is None or k < stop)
            ]
            for kv in stores:
                assert list(kv.iterate()) == everything
                assert list(kv.iterate(prefix)) == in_prefix
                assert list(kv.iterate(prefix, reverse=True)) == in_prefix[::-1]
                assert list(kv.iterate(prefix, start=start, stop=stop)) == bounded
                backwards = kv.iterate(prefix, start=start, stop=stop, reverse=True)
                assert list(backwards) == bounded[::-1]
                for key in {*model, *(k for c in commits for k in c)}:
                    assert kv.get(key) == model.get(key)
        finally:
            for kv in stores:
                kv.close()
