"""Contract sandbox faults on demand, for the fault-policy tests (ADR 0017).

`FaultingEngine` is a `ContractEngine` whose calls of chosen contract functions fail the
way a dead, killed or hung sandbox does (`WorkerFault`, after the runner's retry), without
a real crash and without waiting for a timeout. Every other call runs in its real sandbox,
so a node using it agrees with its peers on everything but the faulting calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ccoin.modules.contracts.rules import ContractEngine
from ccoin.vm.runner import CallResult, ContractCall, ContractHost, SandboxRunner, WorkerFault

DEFAULT_REASON = "worker died: killed by SIGKILL"


class FaultingEngine(ContractEngine):
    """Raises `WorkerFault(reason)` for calls of the functions in `functions` (a deploy's
    `init` is a function too), at most `times` times in all (None: every time); `heal`
    stops it. `faults` counts the faults raised. Thread-safe, like the engine."""

    def __init__(
        self,
        functions: Iterable[str],
        *,
        reason: str = DEFAULT_REASON,
        times: int | None = None,
        runner: SandboxRunner | None = None,
    ) -> None:
        super().__init__(runner)
        self.functions = frozenset(functions)
        self.reason = reason
        self.times = times
        self.faults = 0
        self._count_lock = threading.Lock()

    def call(self, call: ContractCall, host: ContractHost) -> CallResult:
        with self._count_lock:
            fault = call.function in self.functions and (
                self.times is None or self.faults < self.times
            )
            if fault:
                self.faults += 1
        if fault:
            raise WorkerFault(self.reason)
        return super().call(call, host)

    def heal(self) -> None:
        """From now on every call runs in the real sandbox (the fault was transient)."""
        with self._count_lock:
            self.functions = frozenset()
