"""The HTTP API against its own OpenAPI document, on a real node server (Hypercorn on
loopback, real clock, funded accounts) running in a background thread.

Schemathesis generates requests for every documented operation (valid and invalid data);
each answer must not be a 5xx and must conform to the document: status, content type and
body schema. A second property test fuzzes /rpc bodies with real method names and
transaction-shaped parameters, where a crash would hide behind HTTP 200 as RPC_INTERNAL.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import msgpack
import pytest
import requests
import schemathesis
import trio
from httpx_ws import WebSocketSession, connect_ws
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ccoin.errors import CcoinError, ErrorCode
from ccoin.ledger.genesis import network_id_of
from ccoin.node.config import NodeConfig, RpcConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.p2p.peer import PeerAddress
from ccoin.rpc.methods import METHODS
from ccoin.rpc.openapi import openapi_document
from ccoin.testing import factories as f
from ccoin.types.transaction import Transaction, body_from_json

START_SECONDS = 30  # the server thread must report its URL within this (real) time
EXAMPLES = 50  # per operation: keeps the whole file well under a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NET = f.make_testnet(accounts=4, delegates=1, genesis_time=int(time.time()) - 5)


def _msgpack_bodies() -> st.SearchStrategy[bytes]:
    """Bodies for POST /v1/transactions: random bytes, msgpack arrays of random entries,
    and arrays holding real transactions' bytes (signed for this network) among them."""
    nid = network_id_of(NET.genesis)
    real = [
        f.transfer(NET.accounts[i], NET.accounts[i + 1].address, 5 + i, nid, timestamp=t).encode()
        for i in range(3)
        for t in (0, 25)
    ]
    entry = st.binary(max_size=300) | st.sampled_from(real) | st.integers(-(2**63), 2**64 - 1)
    entry |= st.text(max_size=8)
    return st.binary(max_size=200) | st.lists(entry, max_size=4).map(msgpack.packb)


schemathesis.openapi.media_type("application/msgpack", _msgpack_bodies())
schema = schemathesis.openapi.from_dict(openapi_document())
RPC = schema["/rpc"]["POST"]


class ServerThread:
    """A node with its RPC server in `trio.run` on a thread; `stop()` cancels it."""

    def __init__(self, data: Path) -> None:
        rpc = RpcConfig(
            PeerAddress("127.0.0.1", 0), rate_per_second=1_000_000, rate_burst=1_000_000
        )
        self.config = NodeConfig(
            "schema", data / "data", data / "g.json", None, None, PoolLimits(), rpc=rpc
        )
        self.started: queue.Queue[str | BaseException] = queue.Queue()
        self.token: trio.lowlevel.TrioToken | None = None
        self.scope: trio.CancelScope | None = None
        self.thread = threading.Thread(target=self._main, name="rpc-schema-node", daemon=True)

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as exc:  # reported to the test thread, never lost
            self.started.put(exc)

    async def _serve(self) -> None:
        node = Node(self.config, NET.genesis, NET.delegates[0])
        try:
            with trio.CancelScope() as scope:
                self.scope, self.token = scope, trio.lowlevel.current_trio_token()
                async with trio.open_nursery() as nursery:
                    await nursery.start(node.run)
                    assert node.rpc_url is not None
                    self.started.put(node.rpc_url)
        finally:
            node.close()

    def start(self) -> str:
        self.thread.start()
        started = self.started.get(timeout=START_SECONDS)
        if isinstance(started, BaseException):
            raise started
        return started

    def stop(self) -> None:
        if self.token is not None and self.scope is not None:
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self.scope.cancel, trio_token=self.token)
        self.thread.join(timeout=START_SECONDS)
        assert not self.thread.is_alive(), "the node thread did not stop"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    node = ServerThread(tmp_path_factory.mktemp("rpc-schema"))
    url = node.start()
    assert url.startswith("http://127.0.0.1:")
    try:
        yield url
    finally:
        node.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def chain_state(url: str, session: requests.Session) -> dict[str, Any]:
    response = session.get(f"{url}/v1/status", timeout=10)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms(
    case: schemathesis.Case[Any], server: str, http: requests.Session
) -> None:
    response = case.call(base_url=server, session=http, timeout=10)
    case.validate_response(response, checks=CHECKS)
    if case.path == "/rpc" and response.status_code == 200:
        for answer in _answers(response.json()):
            assert answer.get("error", {}).get("code") != ErrorCode.RPC_INTERNAL.number, answer


def _answers(payload: Any) -> list[dict[str, Any]]:
    return payload if isinstance(payload, list) else [payload]


# -- /rpc bodies with real methods ---------------------------------------------------------

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
_SAMPLE: Transaction = f.transfer(NET.accounts[0], NET.accounts[1].address, 5, b"\0" * 32)
TX_FIELDS = sorted(_SAMPLE.to_json(b"\0" * 32))
# Each type's JSON asset fields (docs/spec/transactions.md section 6).
ASSET_FIELDS: dict[int, tuple[str, ...]] = {
    0: ("data",),
    1: ("publicKey",),
    2: ("username", "bridgeAddress", "certFingerprint"),
    3: ("votes",),
    4: ("min", "lifetime", "keysgroup"),
    5: ("name", "code", "initArgs"),
    6: ("bscChainId", "bridgeAddress", "depositNonce", "bscTxHash"),
    7: ("bscRecipient",),
    8: ("contract", "method", "args", "gasLimit"),
    9: ("action", "kind", "subject"),
    10: ("kind", "first", "second"),
}
PUBLIC_KEY = NET.delegates[0].public_key.hex()


def _hex(size: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=size, max_size=size).map(bytes.hex)


# Values that get past the first type check as often as they fail it.
ASSET_VALUES = (
    JSON
    | _hex(20)
    | _hex(32)
    | st.binary(max_size=80).map(bytes.hex)
    | st.integers(0, 2**63 - 1)
    | st.integers(0, 10**6).map(str)
    | st.lists(_hex(32), max_size=3)
    | st.sampled_from(
        [
            "+" + PUBLIC_KEY,
            f"+{PUBLIC_KEY},-{PUBLIC_KEY}",
            "admit",
            "account",
            "node",
            "double_vote",
            NET.accounts[1].address,
            "main",
        ]
    )
)


@st.composite
def transaction_like(draw: st.DrawFn) -> dict[str, Any]:
    """A transaction's JSON form for any type, with an asset of that type's field names
    and plausible or random values, then some fields replaced, dropped or added."""
    tx = dict(_SAMPLE.to_json(b"\0" * 32))
    del tx["id"]  # usually; a foreign id (BAD_ID) would stop parsing early
    kind = draw(st.integers(0, 11))
    tx["type"] = kind
    tx["fee"] = str(10**6)  # above every type's minimum: the fee check is not the point
    if kind not in (0, 6):
        tx["recipientId"] = None
        tx["amount"] = draw(st.sampled_from(["0", "5"]))
    names = ASSET_FIELDS.get(kind, ("data",))
    tx["asset"] = {name: draw(ASSET_VALUES) for name in names if draw(st.integers(0, 5))}
    for name in draw(st.lists(st.sampled_from([*TX_FIELDS, "asset"]), max_size=3)):
        if draw(st.booleans()):
            tx.pop(name, None)
        else:
            tx[name] = draw(JSON)
    return tx


PARAMS = (
    JSON
    | st.lists(JSON, max_size=3)
    | st.builds(lambda tx: [tx], transaction_like())
    | st.builds(lambda txs: [txs], st.lists(transaction_like(), max_size=3))
)
REQUESTS = st.fixed_dictionaries(
    {
        "jsonrpc": st.just("2.0"),
        "id": st.integers(0, 10**6),
        "method": st.sampled_from(sorted(METHODS)),
        "params": PARAMS,
    }
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(body=REQUESTS | st.lists(REQUESTS, min_size=1, max_size=3))
def test_rpc_bodies_never_crash_a_method(body: Any, server: str, http: requests.Session) -> None:
    case = RPC.Case(body=body, media_type="application/json")
    response = case.call(base_url=server, session=http, timeout=10)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 200, response.text
    answers = _answers(response.json())
    assert len(answers) == (len(body) if isinstance(body, list) else 1)
    for answer in answers:
        error = answer.get("error")
        assert error is None or error["code"] != ErrorCode.RPC_INTERNAL.number, (body, answer)


@settings(
    max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(tx=transaction_like())
def test_signed_transactions_of_every_type_are_answered(
    tx: dict[str, Any], server: str, http: requests.Session
) -> None:
    """What parses is signed for real, so the pool's and the ledger's checks run on it too
    (whatever they admit goes into blocks: the last test checks the chain still grows)."""
    network_id = bytes.fromhex(chain_state(server, http)["networkId"])
    with contextlib.suppress(CcoinError):
        body = body_from_json(tx)
        tx = body.sign(NET.accounts[0], network_id).to_json(network_id)
    case = RPC.Case(
        body={"jsonrpc": "2.0", "id": 1, "method": "ccoin_sendTransaction", "params": [tx]},
        media_type="application/json",
    )
    response = case.call(base_url=server, session=http, timeout=10)
    case.validate_response(response, checks=CHECKS)
    answer = response.json()
    assert answer.get("error", {}).get("code") != ErrorCode.RPC_INTERNAL.number, (tx, answer)


def test_real_data_conforms(server: str, http: requests.Session) -> None:
    """The fuzzing mostly meets refusals; here every read answers about real records (a
    finalized transfer with a memo and a vote), each checked against the document."""
    network_id = bytes.fromhex(chain_state(server, http)["networkId"])
    now = int(time.time()) - NET.genesis.genesis_time
    sender, voter = NET.accounts[1], NET.accounts[2]
    transfer = f.transfer(sender, voter.address, 5, network_id, timestamp=now, data=b"memo")
    vote = f.vote(voter, [(True, NET.delegates[0].public_key)], network_id, timestamp=now)
    txs = [tx.to_json(network_id) for tx in (transfer, vote)]
    sent = http.post(
        f"{server}/rpc",
        json={"jsonrpc": "2.0", "id": 1, "method": "ccoin_sendTransactions", "params": [txs]},
        timeout=10,
    ).json()
    assert sent["result"] == [{"id": tx["id"]} for tx in txs], sent
    deadline = time.monotonic() + START_SECONDS
    for tx in txs:  # bounded polling: the node runs in another thread
        while http.get(f"{server}/v1/transactions/{tx['id']}").json()["status"] != "finalized":
            assert time.monotonic() < deadline, f"{tx['id']} not finalized"
            time.sleep(0.05)
    height = http.get(f"{server}/v1/transactions/{txs[0]['id']}").json()["height"]
    reads: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("/v1/status", {}, {}),
        ("/v1/transactions/{id}", {"id": txs[0]["id"]}, {}),
        ("/v1/transactions/{id}", {"id": txs[1]["id"]}, {}),
        ("/v1/blocks/{block}", {"block": str(height)}, {"transactions": "true"}),
        ("/v1/blocks/{block}", {"block": "head"}, {}),
        ("/v1/blocks/{block}", {"block": "finalized"}, {"transactions": "true"}),
        ("/v1/accounts/{address}", {"address": voter.address}, {}),
        ("/v1/accounts/{address}", {"address": NET.delegates[0].address}, {}),
        ("/v1/accounts/{address}/votes", {"address": voter.address}, {"limit": "10"}),
        ("/v1/delegates", {}, {}),
        ("/v1/fees/{type}", {"type": "3"}, {"size": "300"}),
    ]
    for path, path_parameters, query in reads:
        case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
        response = case.call(base_url=server, session=http, timeout=10)
        case.validate_response(response, checks=CHECKS)
        assert response.status_code == 200, (path, response.text)
    votes = http.get(f"{server}/v1/accounts/{voter.address}/votes").json()
    assert [r["transactionId"] for r in votes["records"]] == [txs[1]["id"]]


def test_websocket_through_the_real_server(server: str) -> None:
    """Hypercorn's WebSocket path: subscribe, get blocks in order, call, close cleanly."""
    url = server.replace("http://", "ws://") + "/ws"
    ws: WebSocketSession
    with httpx.Client() as client, connect_ws(url, client) as ws:
        ws.send_json(
            {"jsonrpc": "2.0", "id": 1, "method": "ccoin_subscribe", "params": ["newBlocks"]}
        )
        assert ws.receive_json(timeout=START_SECONDS) == {"jsonrpc": "2.0", "id": 1, "result": "s1"}
        heights: list[int] = []
        note: dict[str, Any]
        while len(heights) < 2:  # blocks come each second on the real clock
            note = ws.receive_json(timeout=START_SECONDS)
            assert note["params"]["subscription"] == "s1"
            heights.append(note["params"]["result"]["height"])
        assert heights[1] == heights[0] + 1
        ws.send_json({"jsonrpc": "2.0", "id": 2, "method": "ccoin_status"})
        answer: dict[str, Any]
        while (answer := ws.receive_json(timeout=START_SECONDS)).get("id") != 2:
            assert answer["method"] == "ccoin_subscription"
        assert answer["result"]["height"] >= heights[1]
    again: WebSocketSession
    with httpx.Client() as client, connect_ws(url, client) as again:  # still accepting
        again.send_json(
            {"jsonrpc": "2.0", "id": 3, "method": "ccoin_unsubscribe", "params": ["s1"]}
        )
        assert again.receive_json(timeout=START_SECONDS)["result"] is False  # not its own


def test_the_node_kept_producing(server: str, http: requests.Session) -> None:
    """Whatever the fuzzing sent, the node still serves and its chain still grows."""
    first = chain_state(server, http)["height"]
    deadline = time.monotonic() + START_SECONDS
    while chain_state(server, http)["height"] <= first:  # bounded: across a thread
        assert time.monotonic() < deadline, "no new block"
        time.sleep(0.05)
