"""The blocking `Client`: against the in-process node (the client runs in a worker thread
and its requests cross into trio), against canned answers for the error and retry policy,
and its own `HttpTransport` against real sockets on loopback (refusal, timeout, a
connection the server closed while idle)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio
import trio.testing

from ccoin.client import BadResponse, Client, NodeError, NodeUnreachable
from ccoin.errors import ErrorCode
from ccoin.testing import factories as f
from tests.unit.client.conftest import NET, URL, asgi_app, make_node

ALICE, BOB = NET.accounts[:2]


class IntoTrio:
    """A blocking transport, called from a worker thread, that serves each request with
    the ASGI app in the trio thread."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        request = httpx.Request("POST", URL + path, content=body, headers=dict(headers))

        async def serve() -> tuple[int, bytes]:
            response = await self.inner.handle_async_request(request)
            return response.status_code, await response.aread()

        return trio.from_thread.run(serve)

    def close(self) -> None:
        pass


async def test_sync_client_transfers_and_waits_for_finality(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    node = make_node(tmp_path)

    def script() -> tuple[dict[str, Any], dict[str, Any]]:
        clock = lambda: trio.from_thread.run_sync(node.clock.now)  # noqa: E731
        with Client(URL, transport=IntoTrio(asgi_app(node)), clock=clock) as client:
            tx_id = client.transfer(ALICE, BOB.address, 4_321)
            found = client.wait_for(tx_id, "finalized", timeout=30)  # real seconds
            return found, client.get_account(BOB.address)

    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            found, account = await trio.to_thread.run_sync(script)
            nursery.cancel_scope.cancel()
        assert found["status"] == "finalized"
        assert node.chain.finalized_height >= found["height"]
        balance = NET.genesis.accounts[1].balance
        assert account["balance"] == str(balance + 4_321)
    finally:
        node.close()


# -- canned answers -----------------------------------------------------------------------


def rpc_error(name: str, number: int, retryable: bool) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": number,
            "message": f"{name} happened",
            "data": {"name": name, "retryable": retryable},
        },
    }


@dataclass
class Canned:
    """Answers in order: a callable answer gets the request's JSON; a (status, bytes)
    answer is sent as it is, anything else as JSON with status 200."""

    answers: list[Any]
    seen: list[dict[str, Any]]

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        assert path == "/rpc" and headers["content-type"] == "application/json"
        request = orjson.loads(body)
        self.seen.append(request)
        answer = self.answers.pop(0)
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, tuple):
            return answer
        return 200, orjson.dumps(answer)

    def close(self) -> None:
        pass


def canned(answers: list[Any], seen: list[dict[str, Any]]) -> Canned:
    return Canned(answers, seen)


def ok(result: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {"jsonrpc": "2.0", "id": body["id"], "result": result}


def test_requests_are_json_rpc_with_named_params() -> None:
    seen: list[dict[str, Any]] = []
    account = {"address": BOB.address, "balance": "5"}
    with Client(URL, transport=canned([ok(account)], seen)) as client:
        assert client.get_account(BOB.address) == account
    assert seen == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "ccoin_getAccount",
            "params": {"address": BOB.address},
        }
    ]


def test_retryable_errors_are_retried_only_when_asked_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    busy = rpc_error("RPC_BUSY", 6001, True)
    seen: list[dict[str, Any]] = []
    with (
        caplog.at_level(logging.WARNING, logger="ccoin.client"),
        Client(URL, transport=canned([busy, busy, ok({"x": 1})], seen), retries=2, backoff=0) as c,
    ):
        assert c.get_delegates() == {"x": 1}
    assert len(seen) == 3
    assert [r.getMessage().split()[0] for r in caplog.records] == ["rpc_retry", "rpc_retry"]

    seen.clear()
    with Client(URL, transport=canned([busy], seen)) as c, pytest.raises(NodeError) as info:
        c.get_delegates()  # retries default to 0: never silently
    assert len(seen) == 1
    assert info.value.code is ErrorCode.RPC_BUSY and info.value.retryable
    assert info.value.attempts == 1


def test_errors_that_are_not_retryable_are_never_retried() -> None:
    seen: list[dict[str, Any]] = []
    bad = rpc_error("BAD_ADDRESS", 1007, False)
    with (
        Client(URL, transport=canned([bad], seen), retries=5, backoff=0) as c,
        pytest.raises(NodeError) as info,
    ):
        c.get_account("nope")
    assert len(seen) == 1
    assert info.value.code is ErrorCode.BAD_ADDRESS
    assert str(info.value) == "BAD_ADDRESS (1007): BAD_ADDRESS happened"


def test_an_unknown_error_name_still_gives_a_usable_error() -> None:
    future = rpc_error("SOMETHING_NEW", 7777, True)
    with (
        Client(URL, transport=canned([future], []), retries=0) as c,
        pytest.raises(NodeError) as info,
    ):
        c.status()
    err = info.value
    assert err.code is None
    assert (err.name, err.number, err.retryable) == ("SOMETHING_NEW", 7777, True)
    assert "SOMETHING_NEW happened" in str(err)


def test_an_answer_that_is_not_json_rpc_is_a_bad_response() -> None:
    page = (404, b"<html>not here</html>")
    with Client(URL, transport=canned([page], [])) as c, pytest.raises(BadResponse) as info:
        c.status()
    assert "HTTP 404" in str(info.value) and URL in str(info.value)
    other_id = lambda body: {"jsonrpc": "2.0", "id": body["id"] + 1, "result": {}}  # noqa: E731
    with Client(URL, transport=canned([other_id], [])) as c, pytest.raises(BadResponse):
        c.status()


def test_a_status_without_chain_facts_is_a_bad_response() -> None:
    with (
        Client(URL, transport=canned([ok({"height": 3})], [])) as c,
        pytest.raises(BadResponse) as info,
    ):
        c.transfer(ALICE, BOB.address, 1)
    assert "ccoin_status" in str(info.value)


def test_a_refused_connection_names_the_url() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Client(f"127.0.0.1:{port}", timeout=5) as c, pytest.raises(NodeUnreachable) as info:
        c.status()
    assert info.value.url == f"http://127.0.0.1:{port}"
    assert f"could not reach http://127.0.0.1:{port}" in str(info.value)


def test_a_timeout_says_how_long_it_waited() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client(url, timeout=0.3) as c, pytest.raises(NodeUnreachable) as info:
            c.status()
    assert "no answer within 0.3 s" in str(info.value)


def test_send_transaction_checks_the_id_the_node_gives() -> None:
    nid = bytes(32)
    tx = f.transfer(ALICE, BOB.address, 1, nid)
    status = {"networkId": nid.hex(), "chainName": "x", "genesisTime": 0, "blockTimeMs": 1000}
    answers = [ok(status), ok([{"id": "2222222222222222"}])]
    with Client(URL, transport=canned(answers, [])) as c, pytest.raises(BadResponse) as info:
        c.send_transaction(tx)
    assert tx.id(nid) in str(info.value)
    json_form = tx.to_json(nid)  # a JSON form goes as JSON, and is checked the same way
    answer = [ok({"id": "2222222222222222"})]
    with Client(URL, transport=canned(answer, [])) as c, pytest.raises(BadResponse) as info:
        c.send_transaction(json_form)
    assert tx.id(nid) in str(info.value)
