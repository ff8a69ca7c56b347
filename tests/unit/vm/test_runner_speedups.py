"""What makes a sandboxed call cheap, and that it keeps the sandbox's properties.

The node compiles each contract source once (`CompileCache`); the zygote forks children
ahead of their jobs, each on its own pipes; a child's exit is checked off the call's path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccoin.testing.vm import TOKEN, make_context
from ccoin.vm import ipc, worker
from ccoin.vm.runner import (
    CompileCache,
    ContractCall,
    Job,
    RootStorage,
    SandboxRunner,
    WorkerFault,
    _Session,
)

OK_JOB = Job("def f(a):\n    return a + 1\n", "f", (41,))


def full(body: str) -> Job:
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return Job(f"def f():\n{lines}", "f", builtins="full")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _zygote_pid(runner: SandboxRunner) -> int:
    zygote = runner._zygote
    assert zygote is not None
    return zygote.process.pid


@pytest.fixture
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=2.0, memory_limit=256 * 1024 * 1024) as sandbox:
        yield sandbox


# --- the compile cache -------------------------------------------------------------------


def source(n: int) -> str:
    return f"@export\ndef f():\n    return {n}\n"


def test_compile_cache_is_keyed_by_source_and_bounded() -> None:
    cache = CompileCache(max_entries=2)
    first = cache.get(source(1))
    assert first.code is not None and first.exports == ("f",) and first.error is None
    assert cache.get(source(1)) is first
    assert (cache.hits, cache.misses) == (1, 1)
    cache.get(source(2))
    cache.get(source(1))  # now the most recently used
    cache.get(source(3))  # evicts source(2), the least recently used
    assert len(cache) == 2
    assert cache.get(source(1)) is first
    misses = cache.misses
    cache.get(source(2))
    assert cache.misses == misses + 1


def test_compile_cache_is_bounded_in_bytes() -> None:
    one = CompileCache().get(source(1)).size
    cache = CompileCache(max_entries=100, max_bytes=one * 3)
    for n in range(10):
        cache.get(source(n))
    assert 1 <= len(cache) <= 3 and cache.bytes <= one * 3


def test_a_rejected_source_is_a_cached_result_without_a_child() -> None:
    cache = CompileCache()
    rejected = cache.get("import os\n")
    assert rejected.code is None and rejected.error is not None
    assert rejected.error.startswith("ContractRejected: 1:0: no-import")
    with SandboxRunner(compile_cache=cache) as sandbox:
        call = ContractCall("import os\n", "f", (), 1000, make_context())
        result = sandbox.call(call)
        assert not result.ok and result.gas_used == 0 and result.error == rejected.error
        assert sandbox._zygote is None  # nothing was started for it
    assert cache.hits == 1


def test_calls_compile_each_source_once(runner: SandboxRunner) -> None:
    call = ContractCall(TOKEN, "mint", ("alice", 5), 200_000, make_context())
    assert runner.call(call).ok and runner.call(call).ok
    assert (runner.compile_cache.misses, runner.compile_cache.hits) == (1, 1)


def test_a_runner_can_share_a_cache() -> None:
    cache = CompileCache()
    call = ContractCall(TOKEN, "total", (), 200_000, make_context())
    with SandboxRunner(compile_cache=cache) as one, SandboxRunner(compile_cache=cache) as two:
        assert one.call(call) == two.call(call)
    assert (cache.misses, cache.hits) == (1, 1)


def test_a_malformed_call_frame_is_a_fault(runner: SandboxRunner) -> None:
    zygote_call = runner._run  # the frame as a buggy node would send it
    frame = ContractCall(TOKEN, "total", (), 1000, make_context()).to_frame(b"\x00", ("f",))
    with pytest.raises(WorkerFault, match="malformed call frame"):
        session = _Session(RootStorage(lambda key: None), "token", runner.compile_cache)
        zygote_call(frame, lambda reply: reply, session)
    assert runner.faults == 2
    assert runner.run(OK_JOB).value == 42


# --- children forked ahead ---------------------------------------------------------------


def test_no_call_sees_another_calls_state_with_children_forked_ahead(
    runner: SandboxRunner,
) -> None:
    poison = full(
        "import builtins, sys\n"
        "builtins.leak = 1\n"
        "sys.modules['__main__'].LEAK = 2\n"
        "globals()['leak'] = 3\n"
        "return 0"
    )
    probe = full(
        "import builtins, sys\n"
        "return [hasattr(builtins, 'leak'), hasattr(sys.modules['__main__'], 'LEAK'),"
        " 'leak' in globals()]"
    )
    for _ in range(5):  # every child, whichever was forked ahead of which call
        assert runner.run(poison).ok
        assert runner.run(probe).value == [False, False, False]
    assert runner.faults == 0


def _confined(pid: int) -> bool:
    """Seccomp in filter mode, no new privileges, only fds 0 and 1, blocked (in read)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = sorted(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False
    flags = ("\nSeccomp:\t2\n", "\nNoNewPrivs:\t1\n", "\nState:\tS")
    return all(flag in status for flag in flags) and fds == ["0", "1"]


def test_children_wait_confined_ahead_of_their_jobs(runner: SandboxRunner) -> None:
    assert runner.run(OK_JOB).ok
    zygote = _zygote_pid(runner)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        waiting = _children(zygote)
        if len(waiting) == worker.CHILDREN and all(_confined(pid) for pid in waiting):
            break
        time.sleep(0.01)
    else:
        raise AssertionError(f"children of the zygote not waiting confined: {waiting}")


def test_a_waiting_child_killed_before_its_job_is_a_retried_fault(
    runner: SandboxRunner,
) -> None:
    assert runner.run(OK_JOB).ok
    zygote = _zygote_pid(runner)
    deadline = time.monotonic() + 5
    while len(_children(zygote)) < worker.CHILDREN and time.monotonic() < deadline:
        time.sleep(0.01)
    for pid in _children(zygote):
        os.kill(pid, signal.SIGKILL)  # our grandchildren, not yet reaped: pids are safe
    assert runner.run(OK_JOB).value == 42
    assert runner.faults == 1
    assert _zygote_pid(runner) != zygote
    assert runner.run(OK_JOB).value == 42 and runner.faults == 1


def test_close_leaves_no_zygote_and_no_children() -> None:
    sandbox = SandboxRunner()
    assert sandbox.run(OK_JOB).ok
    zygote = _zygote_pid(sandbox)
    sandbox.close()
    assert not Path(f"/proc/{zygote}").exists()
    assert zygote not in _children(os.getpid())


def test_the_compiled_filter_is_libseccomps_program() -> None:
    compiled = worker.CompiledFilter(worker.build_filter())
    again = worker.CompiledFilter(worker.build_filter())
    assert compiled.program == again.program
    assert len(compiled.program) % 8 == 0 and len(compiled.program) > 8


# --- the exit check ------------------------------------------------------------------------

FORGE = (
    "from ccoin.vm import ipc\n"
    "ipc.write_frame(1, {'t': 'result', 'ok': True, 'value': 7, 'writes': []})\n"
)


def later_calls(runner: SandboxRunner) -> None:
    """Enough calls that the exit check of the call before them must have run."""
    for _ in range(runner.unchecked_exits + 1):
        assert runner.run(OK_JOB).value == 42


def test_death_after_a_complete_result_is_a_fault_of_a_later_call(
    runner: SandboxRunner,
) -> None:
    # A job that writes a well-formed result itself, then is killed by seccomp.
    forged = runner.run(full(FORGE + "open('/etc/hostname')"))
    assert forged.ok and forged.value == 7  # complete before the death: it stands
    assert runner.faults == 0
    later_calls(runner)  # one of them fails the exit check, is retried and succeeds
    assert runner.faults == 1


def test_data_after_the_result_is_a_fault_of_a_later_call(runner: SandboxRunner) -> None:
    twice = FORGE + FORGE.splitlines()[1] + "\nimport os\nos._exit(0)"
    assert runner.run(full(twice)).value == 7
    later_calls(runner)
    assert runner.faults == 1


def test_strict_exit_checks_make_a_death_after_the_result_that_calls_fault() -> None:
    with SandboxRunner(unchecked_exits=0) as sandbox:
        with pytest.raises(WorkerFault, match="after its result: killed by SIGSYS"):
            sandbox.run(full(FORGE + "open('/etc/hostname')"))
        assert sandbox.faults == 2
        assert sandbox.run(OK_JOB).value == 42 and sandbox.faults == 2


def test_exit_without_a_result_is_still_that_calls_fault(runner: SandboxRunner) -> None:
    with pytest.raises(WorkerFault, match="exit code 0 without a result"):
        runner.run(full("import os\nos._exit(0)"))
    assert runner.faults == 2
    assert runner.run(OK_JOB).value == 42


# --- batched frame reads ---------------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_frame_reader_cuts_several_frames_from_one_read(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    frames = [{"t": "a", "n": n} for n in range(3)]
    os.write(write_fd, b"".join(ipc.encode_frame(frame) for frame in frames))
    reader = ipc.FrameReader(read_fd)
    deadline = time.monotonic() + 1
    assert [reader.read(deadline) for _ in frames] == frames
    with pytest.raises(ipc.FrameTimeout):
        reader.read(time.monotonic() + 0.05)
    os.close(write_fd)
    with pytest.raises(ipc.EndOfStream):
        reader.read(time.monotonic() + 1)
    assert reader.at_eof()


def test_frame_reader_reports_a_cut_frame_and_an_oversized_one(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    os.write(write_fd, ipc.encode_frame({"t": "x", "v": b"abc"})[:-1])
    os.close(write_fd)
    with pytest.raises(ipc.TruncatedFrame) as info:
        ipc.FrameReader(read_fd).read(time.monotonic() + 1)
    assert not isinstance(info.value, ipc.EndOfStream)


def test_frame_reader_limit_and_deadline(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    os.write(write_fd, ipc.encode_frame({"t": "x", "v": b"a" * 100}))
    with pytest.raises(ipc.FrameTooLarge):
        ipc.FrameReader(read_fd, max_size=64).read(time.monotonic() + 1)
    with pytest.raises(ipc.FrameTimeout):  # a passed deadline, even with data waiting
        ipc.FrameReader(read_fd).read(time.monotonic() - 1)


def test_write_frame_with_a_deadline_does_not_block(pipe: tuple[int, int]) -> None:
    _, write_fd = pipe
    os.set_blocking(write_fd, False)
    with pytest.raises(ipc.FrameTimeout):  # nobody reads: the pipe fills up
        ipc.write_frame(write_fd, {"t": "x", "v": b"a" * (1 << 20)}, deadline=time.monotonic())
