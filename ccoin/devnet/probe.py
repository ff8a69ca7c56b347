"""`python -m ccoin.devnet.probe node|anvil|http URL`: the compose file's healthchecks.

Slim images have no curl, and a healthcheck runs every few seconds in every container, so
this uses only the standard library and imports nothing else of ccoin: it starts in tens
of milliseconds. Exit status 0 when the service answers as a ready one does, 1 otherwise
(with one line on stderr saying why).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

TIMEOUT = 2.0
BSC_CHAIN_ID = 97  # ccoin.devnet.bsc.BSC_CHAIN_ID (a test keeps them equal)


class NotReady(Exception):
    pass


def _fetch(url: str, body: dict[str, Any] | None = None, timeout: float = TIMEOUT) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise NotReady(f"{url}: {exc}") from None
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def node(url: str) -> None:
    """A node serving its API: GET /v1/status answers with a JSON object."""
    status = _fetch(url.rstrip("/") + "/v1/status")
    if type(status) is not dict:
        raise NotReady(f"{url}/v1/status: not a status document")


def anvil(url: str) -> None:
    """anvil answering eth_chainId with the devnet's chain id."""
    reply = _fetch(url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    result = reply.get("result") if type(reply) is dict else None
    if result != hex(BSC_CHAIN_ID):
        raise NotReady(f"{url}: eth_chainId answered {result!r}, not {hex(BSC_CHAIN_ID)}")


def http(url: str, timeout: float = TIMEOUT) -> None:
    """Any HTTP endpoint answering 2xx (the relayer's metrics)."""
    _fetch(url, timeout=timeout)


PROBES = {"node": node, "anvil": anvil, "http": http}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in PROBES:
        print(f"usage: python -m ccoin.devnet.probe {'|'.join(PROBES)} URL", file=sys.stderr)
        return 2
    try:
        PROBES[argv[0]](argv[1])
    except NotReady as exc:
        print(f"not ready: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
