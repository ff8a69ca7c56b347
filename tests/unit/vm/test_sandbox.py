"""The seccomp sandbox: escapes, resource limits, storage over the pipe, isolation.

Escape jobs get FULL builtins, as if the contract linter had a hole. An escape ends one of
two ways: the kernel kills the child (SIGSYS from seccomp), which the runner reports as a
`WorkerFault` after one retry on a fresh worker; or, where the attempt never reaches the
kernel (importing a module that is not pre-loaded, a codec that would need importing), a
deterministic job error, the same on every node. Either way the next call succeeds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccoin.vm.runner import Job, SandboxRunner, WorkerFault

OK_JOB = Job("def f(a):\n    return a + 1\n", "f", (41,))


def _worker_children() -> set[int]:
    """Live or zombie children of this test process that run the sandbox worker."""
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (task / "children").read_text()
        children.update(int(pid) for pid in text.split())
    return {pid for pid in children if _is_worker(pid)}


def _is_worker(pid: int) -> bool:
    try:
        return b"ccoin.vm.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=2.0, memory_limit=256 * 1024 * 1024) as sandbox:
        yield sandbox
    assert _worker_children() == set()


def full(body: str, *args: object) -> Job:
    """A job whose entry `f` runs `body` (one statement per line) with every builtin."""
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return Job(f"def f(*args):\n{lines}", "f", tuple(args), builtins="full")


def assert_fault_then_recovers(runner: SandboxRunner, job: Job, reason: str) -> None:
    faults = runner.faults
    with pytest.raises(WorkerFault, match=reason):
        runner.run(job)
    assert runner.faults == faults + 2  # tried, retried on a fresh worker, raised
    assert runner.run(OK_JOB).value == 42


def assert_job_error_then_recovers(runner: SandboxRunner, job: Job, error: str) -> None:
    result = runner.run(job)
    assert not result.ok and result.error is not None and result.writes == ()
    assert result.error.startswith(error)
    assert runner.run(OK_JOB).value == 42


def test_ordinary_call(runner: SandboxRunner) -> None:
    assert runner.run(OK_JOB).value == 42
    assert runner.run(Job("def f():\n    return 1\n", "f")).ok


ESCAPES_KILLED = {
    "open_file": "return open('/etc/hostname').read()",
    "read_proc": "return open('/proc/self/maps').read()",
    "socket_through_ctypes": "import ctypes\nreturn ctypes.CDLL(None).socket(2, 1, 0)",
    "fork": "import os\nreturn os.fork()",
    "exec": "import os\nos.execv('/bin/true', ['true'])",
    "thread": "import threading\nthreading.Thread(target=len, args=((),)).start()",
    "syscall_through_ctypes": "import ctypes\nreturn ctypes.CDLL(None).getpid()",
    "signal_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)",
    "signal_node": "import os, signal\nos.kill(args[0], signal.SIGTERM)",
    "import_through_file_finder": "import sys\n"
    "machinery = sys.modules['_frozen_importlib_external']\n"
    "return machinery.FileFinder('/usr/lib').find_spec('json')",
}


@pytest.mark.parametrize("name", sorted(ESCAPES_KILLED))
def test_escape_is_killed_by_seccomp(runner: SandboxRunner, name: str) -> None:
    job = full(ESCAPES_KILLED[name], os.getpid())
    assert_fault_then_recovers(runner, job, "killed by SIGSYS")


ESCAPES_REFUSED = {
    "import_socket": ("import socket\nreturn 1", "ModuleNotFoundError"),
    "import_new_module": ("import json\nreturn 1", "ModuleNotFoundError"),
    "lazy_codec_encode": ("return 'x'.encode('cp1252')", "LookupError"),
    "lazy_codec_lookup": ("import codecs\nreturn codecs.lookup('cp037').name", "LookupError"),
}


@pytest.mark.parametrize("name", sorted(ESCAPES_REFUSED))
def test_escape_fails_deterministically(runner: SandboxRunner, name: str) -> None:
    body, error = ESCAPES_REFUSED[name]
    assert_job_error_then_recovers(runner, full(body), error)


def test_no_builtins_means_no_open(runner: SandboxRunner) -> None:
    job = Job("def f():\n    return open('/etc/hostname')\n", "f")
    assert_job_error_then_recovers(runner, job, "NameError")


def test_memory_bomb_is_a_fault(runner: SandboxRunner) -> None:
    assert_fault_then_recovers(runner, full("return len(b'x' * 10**9)"), "memory")
    assert_fault_then_recovers(runner, full("return len(bytearray(2**40))"), "memory")


def test_infinite_loop_hits_the_wall_timeout() -> None:
    before = _worker_children()
    with SandboxRunner(timeout=0.3) as sandbox:
        started = time.monotonic()
        with pytest.raises(WorkerFault, match="timeout"):
            sandbox.run(full("while True:\n    pass"))
        assert time.monotonic() - started < 5
        assert sandbox.run(OK_JOB).value == 42
    assert _worker_children() == before


def test_malformed_frames_from_the_worker_are_faults(runner: SandboxRunner) -> None:
    garbage = "import os\nos.write(1, b'\\x00\\x00\\x00\\x02\\xc1\\xc1')\nreturn 1"
    assert_fault_then_recovers(runner, full(garbage), "bad frame")
    huge = "import os\nos.write(1, b'\\xff\\xff\\xff\\xff')\nreturn 1"
    assert_fault_then_recovers(runner, full(huge), "bad frame")


def test_exit_without_result_is_a_fault(runner: SandboxRunner) -> None:
    assert_fault_then_recovers(runner, full("import os\nos._exit(0)"), "without a result")


STORAGE_JOB = """
def f(key, out):
    seen = storage_get(key)
    storage_set(out, seen + b"!")
    storage_set(b"gone", None)
    return [seen, storage_get(out)]
"""


def test_storage_round_trip_and_write_set(runner: SandboxRunner) -> None:
    asked: list[bytes] = []

    def storage_get(key: bytes) -> bytes | None:
        asked.append(key)
        return {b"a": b"value"}.get(key)

    result = runner.run(Job(STORAGE_JOB, "f", (b"a", b"z")), storage_get)
    assert result.ok
    assert result.value == [b"value", b"value!"]  # the second read is served from writes
    assert result.writes == ((b"gone", None), (b"z", b"value!"))
    assert asked == [b"a"]


def test_write_then_raise_returns_error_and_no_writes(runner: SandboxRunner) -> None:
    result = runner.run(full("storage_set(b'k', b'v')\nraise ValueError('boom')"))
    assert not result.ok
    assert result.error == "ValueError: boom"
    assert result.writes == ()


def test_bad_storage_arguments_are_job_errors(runner: SandboxRunner) -> None:
    job = Job("def f():\n    return storage_get('text')\n", "f")
    assert_job_error_then_recovers(runner, job, "TypeError")


def test_unpackable_return_value_is_a_job_error(runner: SandboxRunner) -> None:
    assert_job_error_then_recovers(runner, full("return object()"), "MalformedFrame")


def test_no_call_sees_another_calls_state(runner: SandboxRunner) -> None:
    poison = "import builtins, sys\nbuiltins.leak = 1\nsys.modules['ccoin.vm.ipc'].MAX_FRAME = 0"
    assert runner.run(full(poison + "\nreturn 0")).ok
    probe = (
        "import builtins, sys\n"
        "return [hasattr(builtins, 'leak'), sys.modules['ccoin.vm.ipc'].MAX_FRAME]"
    )
    assert runner.run(full(probe)).value == [False, 4 * 1024 * 1024]


def test_hash_seed_and_int_digits_are_pinned() -> None:
    job = full("return [hash('carbon'), hash(b'coin')]")
    before = _worker_children()
    with SandboxRunner() as first, SandboxRunner() as second:
        assert first.run(job).value == second.run(job).value
        too_long = first.run(full("return str(10**5000)"))
        assert not too_long.ok and too_long.error is not None
        assert too_long.error.startswith("ValueError: Exceeds the limit (4300 digits)")
    assert _worker_children() == before
