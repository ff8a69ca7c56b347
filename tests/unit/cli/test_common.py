"""The CLI's shared error reporting."""

from __future__ import annotations

import pytest

from ccoin.cli.common import reports_errors
from ccoin.vm.runner import WorkerFault


def test_a_sandbox_fault_inside_the_node_is_one_loud_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @reports_errors
    def node_run() -> None:
        raise ExceptionGroup("node", [WorkerFault("worker died: killed by SIGSYS")])

    with pytest.raises(SystemExit) as info:
        node_run()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: SANDBOX_FAULT (5007): contract worker fault: worker died")
