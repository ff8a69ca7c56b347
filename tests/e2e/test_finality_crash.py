"""A node killed with SIGKILL the moment it reports a block final reports at least that
finality, with the same block, after the restart (issue 12: finality from votes is
persisted, with its certificate, before it is reported anywhere).

The report watched is the node's `block_finalized` log line, written after the synced
batch that records the finality; the kill follows the line at once, several times over."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.testing.ports import RPC_OFFSET, free_port_range
from tests.e2e.test_node_process import start, stop

pytestmark = pytest.mark.slow

KILLS = 3


def rpc(url: str, method: str, params: dict[str, object]) -> dict[str, object]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(
        url + "/rpc", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        reply = json.loads(answer.read())
    assert "result" in reply, reply
    result: dict[str, object] = reply["result"]
    return result


def test_sigkill_right_after_finality_never_loses_it(tmp_path: Path) -> None:
    port = free_port_range(1) + RPC_OFFSET
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(
        cli,
        [
            "node",
            "init",
            "--dir",
            str(tmp_path / "net"),
            "--test-accounts",
            "2",
            "--rpc",
            f"127.0.0.1:{port}",
        ],
    )
    assert result.exit_code == 0, result.output
    config = tmp_path / "net" / "node.json"
    reported: list[tuple[int, str]] = []  # (height, block id) of each finality seen before a kill
    for _ in range(KILLS):
        proc, log = start(config)
        try:
            started = log.wait_for(r"node_started .*finalized=(\d+)")
            if reported:
                height, block_id = reported[-1]
                assert int(started.group(1)) >= height  # never less than it reported
            # Wait for fresh finality from the votes, then kill at once.
            while True:
                line = log.wait_for(r"block_finalized height=(\d+) id=(\S+) .*by=(\w+)")
                if not reported or int(line.group(1)) > reported[-1][0]:
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            reported.append((int(line.group(1)), line.group(2)))
            assert line.group(3) == "votes"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    proc, log = start(config)
    try:
        log.wait_for(r"node_started ")
        log.wait_for(r"rpc_listening")
        status = rpc(url, "ccoin_status", {})
        assert isinstance(status["finalizedHeight"], int)
        assert status["finalizedHeight"] >= reported[-1][0]
        for height, block_id in reported:  # the same blocks, every one
            block = rpc(url, "ccoin_getBlock", {"block": height})
            assert block["id"] == block_id, (height, block)
    finally:
        stop(proc)
