"""`ccoin devnet compose`: the docker-compose file for a devnet, rendered deterministically.

The committed `docker-compose.yml` is `render_compose()` for the default devnet; a unit test
checks that it still is, and that it matches what `ccoin devnet init` lays out. The file
holds no secrets: keys and certificates are created inside the `devnet` volume by the
`init` service on first start.

The services share one bridge network (ADR 0024) and reach each other by service name:
`init` runs `ccoin devnet init --compose`, whose configs listen on 0.0.0.0 and dial
`nodeJ:PORT` and `bsc:PORT`, while devnet.json names 127.0.0.1, where each node's RPC,
anvil and the relayer's metrics are published on the host at the ports `devnet up` uses.
The bridge services are built from the functions the local launcher (`devnet up`) uses:
`bsc` runs anvil with `anvil_args` of the devnet's planned BSC, `deploy` runs
`ccoin devnet deploy-bsc`, and `relayer` runs `ccoin relay` on the relay.json init wrote.
Healthchecks (`ccoin.devnet.probe`) let dependents wait for `service_healthy`, and
`docker compose up --wait` return once the devnet serves.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ccoin.devnet import bsc as devbsc
from ccoin.devnet.bsc import DevnetBsc, anvil_args
from ccoin.devnet.layout import (
    ANY,
    CHAIN_NAME,
    CONFIG_FILE,
    DEFAULT_BASE_PORT,
    DEFAULT_NODES,
    HOST,
    Placement,
    check_shape,
    node_name,
    p2p_port,
    rpc_port,
)

IMAGE = "ccoin:devnet"
VOLUME = "devnet"
NETWORK = "devnet"
MOUNT = "/devnet"
BSC_SERVICE = "bsc"
STOP_GRACE = "15s"  # the node needs a moment to close its database on SIGTERM
LINE_LIMIT = 100
# Probed every 2 s; failures in the first 120 s (a node loading its genesis, anvil its
# state) do not count, a success marks the service healthy at once.
HEALTH_TIMING = {"interval": "2s", "timeout": "5s", "retries": 5, "start_period": "120s"}


def compose_placement(nodes: int) -> Placement:
    """What `devnet init --compose` lays out: nodes and anvil reached by service name,
    the user reaching all of them on the host's loopback (the published ports)."""
    return Placement(
        hosts=tuple(node_name(i) for i in range(nodes)), bsc_host=BSC_SERVICE, client_host=HOST
    )


def init_command(nodes: int, base_port: int) -> list[str]:
    return [
        "devnet",
        "init",
        "--compose",
        "--nodes",
        str(nodes),
        "--dir",
        MOUNT,
        "--base-port",
        str(base_port),
        "--if-missing",
    ]


def node_command(name: str) -> list[str]:
    return ["node", "start", "--config", f"{MOUNT}/{name}/{CONFIG_FILE}"]


def bsc_command(base_port: int) -> list[str]:
    """anvil's flags, exactly as `devnet up` starts it, but listening on every interface of
    its container, with the state in the volume."""
    state = f"{MOUNT}/{devbsc.BSC_DIR}/{devbsc.STATE_FILE}"
    return anvil_args(DevnetBsc.plan(base_port), state, listen=ANY)


def deploy_command(base_port: int) -> list[str]:
    url = devbsc.bsc_url(BSC_SERVICE, DevnetBsc.plan(base_port).port)
    return ["devnet", "deploy-bsc", "--dir", MOUNT, "--bsc", url]


def relay_command() -> list[str]:
    return ["relay", "--config", f"{MOUNT}/{devbsc.RELAY_DIR}/{devbsc.RELAY_CONFIG}"]


def probe(kind: str, url: str) -> dict[str, Any]:
    """A healthcheck run inside the container (no curl in slim images: Python's stdlib)."""
    return {"test": ["CMD", "python3", "-m", "ccoin.devnet.probe", kind, url], **HEALTH_TIMING}


def published(port: int) -> list[str]:
    """The container's `port` on the host's loopback at the same number."""
    return [f"{HOST}:{port}:{port}"]


def _after(**conditions: str) -> dict[str, Any]:
    return {name: {"condition": condition} for name, condition in conditions.items()}


COMPLETED = "service_completed_successfully"
HEALTHY = "service_healthy"


def compose_document(
    nodes: int = DEFAULT_NODES, base_port: int = DEFAULT_BASE_PORT
) -> dict[str, Any]:
    """The compose file as data (what `yaml.safe_load` of `render_compose` gives)."""
    check_shape(nodes, base_port, bridge=True)
    volumes = [f"{VOLUME}:{MOUNT}"]
    image = {"build": ".", "image": IMAGE}
    networked = {"networks": [NETWORK], "volumes": volumes}
    running = {"restart": "unless-stopped", "stop_signal": "SIGTERM"}
    bsc_port = DevnetBsc.plan(base_port).port
    metrics = base_port + devbsc.RELAY_METRICS_OFFSET
    services: dict[str, Any] = {
        "init": {
            **image,
            "command": init_command(nodes, base_port),
            "network_mode": "none",  # it only writes files into the volume
            "volumes": volumes,
        },
        BSC_SERVICE: {
            **image,
            "entrypoint": ["anvil"],
            "command": bsc_command(base_port),
            "depends_on": _after(init=COMPLETED),
            "ports": published(bsc_port),
            "healthcheck": probe("anvil", devbsc.bsc_url(HOST, bsc_port)),
            **running,  # anvil writes its state file on SIGTERM
            "stop_grace_period": STOP_GRACE,
            **networked,
        },
        "deploy": {
            **image,
            "command": deploy_command(base_port),
            "depends_on": _after(init=COMPLETED, **{BSC_SERVICE: HEALTHY}),
            **networked,
        },
    }
    names = [node_name(i) for i in range(nodes)]
    for i, name in enumerate(names):
        rpc = rpc_port(base_port, i)
        services[name] = {
            **image,
            "command": node_command(name),
            "depends_on": _after(init=COMPLETED, deploy=COMPLETED),
            "ports": published(rpc),
            "healthcheck": probe("node", f"http://{HOST}:{rpc}"),
            **running,
            "stop_grace_period": STOP_GRACE,
            **networked,
        }
    services["relayer"] = {
        **image,
        "command": relay_command(),
        "depends_on": _after(deploy=COMPLETED, **dict.fromkeys(names, HEALTHY)),
        "ports": published(metrics),
        "healthcheck": probe("http", f"http://{HOST}:{metrics}/metrics"),
        **running,
        **networked,
    }
    return {
        "name": CHAIN_NAME,
        "services": services,
        "networks": {NETWORK: {"driver": "bridge"}},
        "volumes": {VOLUME: {}},
    }


def render_compose(nodes: int = DEFAULT_NODES, base_port: int = DEFAULT_BASE_PORT) -> str:
    last = p2p_port(base_port, nodes - 1)
    first_rpc, last_rpc = rpc_port(base_port, 0), rpc_port(base_port, nodes - 1)
    bsc_port = DevnetBsc.plan(base_port).port
    metrics = base_port + devbsc.RELAY_METRICS_OFFSET
    chain = devbsc.BSC_CHAIN_ID
    state = f"{MOUNT}/{devbsc.BSC_DIR}/{devbsc.STATE_FILE}"
    header = [
        f"# Generated by `ccoin devnet compose --nodes {nodes} --base-port {base_port}`;",
        "# edit ccoin/devnet/compose.py and regenerate rather than editing this file.",
        "#",
        f"# A {nodes}-node Carbon Coin devnet bridged to a local BSC. The `init` service creates",
        "# the network once (CA, node certificates, genesis, one node.json per node, the",
        f"# relayer's relay.json) in the `{VOLUME}` volume, mounted at {MOUNT}; it holds every",
        "# key, so this file holds no secret.",
        "#",
        f"# The bridge: `{BSC_SERVICE}` runs anvil, standing in for BNB Smart Chain (chain id"
        f" {chain});",
        f"# it keeps its state in {state}, written every few seconds and on",
        "# SIGTERM. `deploy` runs `ccoin devnet deploy-bsc`, which deploys the contracts where",
        "# init planned them (only once: it does nothing when they are there). The nodes start",
        "# after it, and `relayer` (`ccoin relay`) once every node is healthy.",
        "#",
        f"# Networking: one bridge network, `{NETWORK}`; no host networking, so it runs on Docker",
        "# Desktop too. The configs `devnet init --compose` writes listen on 0.0.0.0 and dial",
        f"# nodeJ:{base_port}..{last} (p2p), nodeJ:{first_rpc}..{last_rpc} (RPC) and"
        f" {BSC_SERVICE}:{bsc_port};",
        f"# each node's RPC ({first_rpc}..{last_rpc}), anvil ({bsc_port}) and the relayer's"
        f" metrics ({metrics})",
        "# are published on the host's 127.0.0.1 at those ports, as `scripts/start-devnet`",
        "# serves them, and devnet.json names 127.0.0.1. Healthchecks (python3 -m",
        "# ccoin.devnet.probe) gate the dependents, so `docker compose up --wait` returns once",
        "# the devnet serves.",
    ]
    body = _emit(compose_document(nodes, base_port), 0)
    return "\n".join([*header, *body]) + "\n"


# -- a minimal, deterministic YAML emitter for str/int/bool/list/dict ----------------------

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar
    raise TypeError(f"cannot render {type(value).__name__} as YAML")


def _item(value: Any) -> str:
    """A sequence item: strings always quoted, so a command's words read alike."""
    return json.dumps(value) if isinstance(value, str) else _scalar(value)


def _emit(value: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for key, item in value.items():
        head = f"{pad}{_scalar(key)}:"
        if isinstance(item, dict):
            if item:
                lines.append(head)
                lines.extend(_emit(item, indent + 2))
            else:
                lines.append(f"{head} {{}}")
        elif isinstance(item, list):
            flow = f"{head} [{', '.join(_item(v) for v in item)}]"
            if all(isinstance(v, str) for v in item) and len(flow) <= LINE_LIMIT:
                lines.append(flow)
            else:
                lines.append(head)
                lines.extend(f"{pad}  - {_item(v)}" for v in item)
        else:
            lines.append(f"{head} {_scalar(item)}")
    return lines
