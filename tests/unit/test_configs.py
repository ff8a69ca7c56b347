"""configs/: each sample loads with the loader that reads it in production and says what
configs/README.md says; no field a loader accepts is missing from a sample or from the
README; the README's bounds and defaults are the loaders'; the genesis presets are exactly
what configs/regenerate.py builds from the public seeds, and a node starts on them."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ccoin.bridge.relay_config import RelayConfig
from ccoin.cli.node import DEFAULT_RPC
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import (
    DEFAULT_BASE_PORT,
    DEFAULT_BLOCK_TIME_MS,
    DEFAULT_NODES,
    HOST,
    node_name,
    p2p_port,
    rpc_port,
)
from ccoin.errors import CcoinError
from ccoin.ledger.chain import Chain
from ccoin.ledger.genesis import network_id_of
from ccoin.node.config import NodeConfig
from ccoin.p2p.certs import NetworkCA, check_issued_by, fingerprint
from ccoin.p2p.peer import PeerAddress
from ccoin.storage.memory import MemoryStore
from ccoin.types import codec
from ccoin.types.codec import UNIT
from ccoin.types.genesis import GenesisConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
README = CONFIGS / "README.md"
DEVNET = "genesis/devnet.json"
WHITEPAPER = "genesis/whitepaper.json"
GENESIS_FILES = (DEVNET, WHITEPAPER)
LOADERS: dict[str, Callable[[Any], object]] = {
    "node.json": lambda obj: NodeConfig.from_json(obj, CONFIGS),
    "relay.json": lambda obj: RelayConfig.from_json(obj, CONFIGS),
    DEVNET: GenesisConfig.from_json,
    WHITEPAPER: GenesisConfig.from_json,
}
SAMPLES = tuple(LOADERS)
# The README section documenting each file: both presets share the genesis table.
SECTION = {"node.json": "node.json", "relay.json": "relay.json", DEVNET: "genesis/*.json"}
SECTION[WHITEPAPER] = SECTION[DEVNET]
TRILLION_C = 10**12 * UNIT
# The whitepaper's chapter 6.1, in trillions of C, and which funds it locks: written out
# here rather than read from ccoin.ledger.presets, which builds the preset under test.
WHITEPAPER_ALLOCATION = {
    "NFT mining reserve": (100, False),
    "ecological fund": (50, True),
    "community fund": (25, True),
    "reward fund": (10, False),
    "environmental organisations": (20, False),
    "liquidity": (295, False),
}
_BOUNDS = re.compile(r"`(-?\d+)` to `(-?\d+)`")
_LITERAL = re.compile(r"`(.+)`")


def _regenerate() -> ModuleType:
    """configs/regenerate.py as a module (registered first: its dataclasses look it up)."""
    name = "configs_regenerate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, CONFIGS / "regenerate.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _sample(file: str) -> Any:
    return json.loads((CONFIGS / file).read_text())


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _objects(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in `value` with its path (`accounts[]` for any list item)."""
    if type(value) is dict:
        yield path, value
        for key, item in value.items():
            yield from _objects(item, _join(path, key))
    elif type(value) is list:
        for item in value:
            yield from _objects(item, path + "[]")


@contextmanager
def _accepted_fields(sample: Any) -> Iterator[dict[str, frozenset[str]]]:
    """While loading `sample`: each of its objects the loader reads, by path, with the
    fields the loader accepts there. Every loader checks an object's fields with
    `codec.json_object`, so watching that one function finds them all, including the sets
    written inline in the loaders and those of modules added later."""
    paths = {id(obj): path for path, obj in _objects(sample)}
    accepted: dict[str, frozenset[str]] = {}
    real = codec.json_object

    def recording(value: Any, name: str, allowed: frozenset[str]) -> dict[str, Any]:
        path = paths.get(id(value))
        if path is not None:
            accepted[path] = accepted.get(path, frozenset()) | allowed
        return real(value, name, allowed)

    with pytest.MonkeyPatch.context() as patch:
        for module_name, module in list(sys.modules.items()):
            if module_name.startswith("ccoin") and getattr(module, "json_object", None) is real:
                patch.setattr(module, "json_object", recording)
        yield accepted


@dataclass(frozen=True)
class Row:
    path: str
    default: str
    bounds: str


def _documented(section: str) -> dict[str, Row]:
    """The field table under README's `## \\`section\\``: field path -> its row."""
    text = README.read_text()
    heading = f"\n## `{section}`\n"
    assert heading in text, f"README has no section {section}"
    body = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, Row] = {}
    for line in body.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not re.fullmatch(r"`[^`]+`", cells[0]):
            continue  # the header, the rule under it, prose, other tables
        path = cells[0][1:-1]
        assert path not in rows, f"README {section}: {path} has two rows"
        rows[path] = Row(path, cells[3], cells[4])
    return rows


def _holder(obj: Any, path: str) -> tuple[dict[str, Any], str]:
    """The object that holds `path`'s last field (for `x[]`, the first item of x)."""
    *parents, field = path.split(".")
    for part in parents:
        obj = obj[part[:-2]][0] if part.endswith("[]") else obj[part]
    return obj, field


@dataclass(frozen=True)
class Refused:
    message: str


def _outcome(file: str, obj: Any) -> object:
    try:
        return LOADERS[file](obj)
    except CcoinError as exc:
        return Refused(exc.message)


def _with(sample: Any, path: str, value: Any) -> Any:
    changed = copy.deepcopy(sample)
    holder, field = _holder(changed, path)
    holder[field] = value
    return changed


def _without(sample: Any, path: str) -> Any:
    changed = copy.deepcopy(sample)
    holder, field = _holder(changed, path)
    holder.pop(field, None)
    return changed


# -- what every sample must do -----------------------------------------------------------


@pytest.mark.parametrize("file", SAMPLES)
def test_every_field_a_loader_accepts_is_in_the_sample_and_the_readme(file: str) -> None:
    sample = _sample(file)
    with _accepted_fields(sample) as accepted:
        LOADERS[file](sample)
    assert "" in accepted, "the loader's top-level check was not seen"
    fields = {_join(path, f) for path, allowed in accepted.items() for f in allowed}
    present = {_join(path, key) for path, obj in _objects(sample) for key in obj}

    assert sorted(fields - present) == [], f"{file} leaves out fields its loader accepts"
    documented = set(_documented(SECTION[file]))
    assert sorted(fields - documented) == [], f"README does not document these of {file}"
    assert sorted(documented - fields) == [], f"README documents fields {file}'s loader refuses"


@pytest.mark.parametrize("file", SAMPLES)
def test_documented_bounds_are_the_loaders(file: str) -> None:
    """Each `lo` to `hi` in the README is accepted at both ends and refused one step out."""
    sample = _sample(file)
    probed = 0
    for row in _documented(SECTION[file]).values():
        bounds = _BOUNDS.fullmatch(row.bounds)
        if bounds is None:
            continue
        lo, hi = int(bounds[1]), int(bounds[2])
        holder, field = _holder(sample, row.path)
        as_text = type(holder[field]) is str  # amounts are decimal strings in a genesis
        for value, accepted in ((lo, True), (hi, True), (lo - 1, False), (hi + 1, False)):
            given = str(value) if as_text else value
            result = _outcome(file, _with(sample, row.path, given))
            assert (not isinstance(result, Refused)) == accepted, (
                f"{file}: {row.path} = {given!r}: {result}"
            )
        probed += 1
    assert probed > 0


@pytest.mark.parametrize("file", SAMPLES)
def test_documented_defaults_are_the_loaders(file: str) -> None:
    """A field documented as required cannot be left out; one whose default is a JSON value
    loads the same left out as set to that value."""
    sample = _sample(file)
    checked = 0
    for row in _documented(SECTION[file]).values():
        literal = _LITERAL.fullmatch(row.default)
        if row.default == "required":
            result = _outcome(file, _without(sample, row.path))
            assert isinstance(result, Refused), f"{file}: loads without {row.path}"
        elif literal is not None:
            default = json.loads(literal[1])
            left_out = _outcome(file, _without(sample, row.path))
            assert left_out == _outcome(file, _with(sample, row.path, default)), row.path
        else:
            continue  # a default told in words ("absent: ...")
        checked += 1
    assert checked > 0


# -- node.json and relay.json ------------------------------------------------------------


def test_node_sample_is_devnet_node0_with_paths_beside_it() -> None:
    config = NodeConfig.load(CONFIGS / "node.json")
    sample = _sample("node.json")
    genesis = GenesisConfig.load(config.genesis)
    assert config.p2p is not None and config.rpc is not None
    assert config.bridge is not None and config.log is not None
    assert config.keystore is not None and config.passphrase_file is not None

    # The form `ccoin node init` and `devnet init` write (NodeConfig.to_json), and every
    # relative path taken from the config's own directory.
    assert config.to_json(CONFIGS) == sample
    assert config.genesis == CONFIGS / DEVNET
    paths = [config.data_dir, config.keystore, config.passphrase_file, config.log.file]
    paths += [config.p2p.cert, config.p2p.key, config.bridge.key, config.bridge.passphrase_file]
    assert all(p.is_relative_to(CONFIGS) for p in paths)

    nodes = len(genesis.delegates)
    assert config.p2p.listen == PeerAddress(HOST, p2p_port(DEFAULT_BASE_PORT, 0))
    others = {PeerAddress(HOST, p2p_port(DEFAULT_BASE_PORT, i)) for i in range(1, nodes)}
    assert set(config.p2p.peers) == others and len(config.p2p.peers) == nodes - 1
    assert str(config.rpc.listen) == DEFAULT_RPC == f"{HOST}:{rpc_port(DEFAULT_BASE_PORT, 0)}"
    plan = devbsc.DevnetBsc.plan(DEFAULT_BASE_PORT)
    assert (config.bridge.bsc, config.bridge.anchor) == (plan.url, plan.anchor)


def test_node_sample_writes_every_limit_at_its_documented_default() -> None:
    sample = _sample("node.json")
    rows = _documented("node.json")
    limits = [
        (f"{section}.{key}", value)
        for section in ("log", "pool", "rpc")
        for key, value in sample[section].items()
        if type(value) is int
    ]
    assert len(limits) == 2 + 6 + 14  # log, pool, rpc
    for path, value in limits:
        assert rows[path].default == f"`{value}`", path
    config = NodeConfig.load(CONFIGS / "node.json")
    assert config.rpc is not None
    rpc = config.rpc
    timeouts = (rpc.read_timeout_seconds, rpc.idle_timeout_seconds)
    assert timeouts == (10, 30)
    assert (rpc.max_connections, rpc.max_connections_per_client) == (512, 128)
    assert config.log is not None and (config.log.max_bytes, config.log.backups) == (10 << 20, 3)


def test_relay_sample_is_what_devnet_init_writes_beside_its_keys() -> None:
    config = RelayConfig.load(CONFIGS / "relay.json")
    sample = _sample("relay.json")
    genesis = GenesisConfig.load(CONFIGS / DEVNET)
    node = NodeConfig.load(CONFIGS / "node.json")
    assert genesis.bridge is not None and node.bridge is not None and node.rpc is not None

    nodes = len(genesis.delegates)
    rpc = [f"{HOST}:{rpc_port(DEFAULT_BASE_PORT, i)}" for i in range(nodes)]
    plan = devbsc.DevnetBsc.plan(DEFAULT_BASE_PORT)
    written = devbsc.relay_config(plan, rpc, DEFAULT_BASE_PORT + devbsc.RELAY_METRICS_OFFSET)
    # devnet init's relay.json sits in relay/ and names ../keys/X; the sample, keys/X.
    key_fields = ("payerKey", "payerPassphraseFile", "relayerKeystore", "relayerPassphraseFile")
    assert all(written[k].startswith("../keys/") for k in key_fields)
    rebased = {**written, **{k: written[k].removeprefix("../") for k in key_fields}}
    assert {k: v for k, v in sample.items() if k != "maxRange"} == rebased

    assert config.bsc_chain_id == genesis.bridge.bsc_chain_id == devbsc.BSC_CHAIN_ID
    assert bytes.fromhex(config.bridge[2:]) == genesis.bridge.contract
    assert config.anchor == node.bridge.anchor
    assert config.sidechain == f"http://{node.rpc.listen}" and config.sidechain in config.signers
    assert len(config.signers) == nodes
    assert all(p.is_relative_to(CONFIGS) for p in (config.payer_key, config.relayer_keystore))


# -- the genesis presets -----------------------------------------------------------------


def test_presets_are_a_fresh_generation_from_the_public_seeds() -> None:
    rendered = _regenerate().render()
    assert sorted(str(p) for p in rendered) == sorted(GENESIS_FILES)
    for relative, text in rendered.items():
        assert (CONFIGS / relative).read_text() == text, (
            f"configs/{relative} is stale: run python configs/regenerate.py"
        )


@pytest.mark.parametrize("file", GENESIS_FILES)
def test_every_key_comes_from_a_public_seed(file: str) -> None:
    regen = _regenerate()
    preset = Path(file).stem
    genesis = GenesisConfig.load(CONFIGS / file)
    for i, delegate in enumerate(genesis.delegates):
        assert delegate.public_key == regen.sample_key(preset, f"delegate-{i}").public_key
        bridge = regen.sample_bridge_key(preset, f"bridge-{i}").address
        assert delegate.asset.bridge_address.hex() == bridge[2:].lower()
    keyed = [a for a in genesis.accounts if a.public_key is not None]
    roles = {regen.sample_key(preset, role).public_key for role in _account_roles(genesis)}
    assert {a.public_key for a in keyed} == roles


def _account_roles(genesis: GenesisConfig) -> list[str]:
    funds = {
        "NFT mining reserve": "nft-mining-reserve",
        "ecological fund": "ecological-fund",
        "community fund": "community-fund",
        "reward fund": "reward-fund",
        "environmental organisations": "environmental-organisations",
        "liquidity": "liquidity",
    }
    roles = [f"fund-{funds[a.label]}" for a in genesis.accounts if a.label in funds]
    tests = sum(a.label.startswith("test account") for a in genesis.accounts)
    return [
        *roles,
        *(f"test-{i}" for i in range(tests)),
        "governance",
        "carbon-committee",
        "relayer",
    ]


@pytest.mark.parametrize("file", GENESIS_FILES)
def test_network_ca_issued_the_delegates_certificates(file: str) -> None:
    regen = _regenerate()
    preset = Path(file).stem
    genesis = GenesisConfig.load(CONFIGS / file)
    ca_pem = genesis.network_ca.encode()
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert check_issued_by(ca_cert.public_bytes(Encoding.DER), ca_pem)  # self-signed

    ca = regen.sample_ca(preset, genesis.chain_name)
    assert ca.cert_pem == genesis.network_ca
    for i, delegate in enumerate(genesis.delegates):
        der = regen.sample_node_cert(ca, preset, node_name(i)).public_bytes(Encoding.DER)
        assert check_issued_by(der, ca_pem)
        assert fingerprint(der) == delegate.asset.cert_fingerprint
    # The node's own issuing code takes the sample CA as it takes one of `devnet init`.
    issued = NetworkCA(ca.cert, ca.key).issue_node_cert("node-extra")
    assert check_issued_by(issued.cert_der, ca_pem)


def _extensions(cert: x509.Certificate) -> dict[str, tuple[bool, object]]:
    """Extension -> (critical, value), the key identifiers' values left out (they differ
    with the key)."""
    out: dict[str, tuple[bool, object]] = {}
    for ext in cert.extensions:
        ids = (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier)
        out[ext.oid.dotted_string] = (
            ext.critical,
            None if isinstance(ext.value, ids) else ext.value,
        )
    return out


def test_sample_certificates_are_made_as_the_node_makes_them() -> None:
    """regenerate.py builds its CA and node certificates itself (fixed serials and dates);
    the node's NetworkCA must still make the same kind, or the presets have drifted."""
    regen = _regenerate()
    ca = regen.sample_ca("devnet", "sample")
    node = regen.sample_node_cert(ca, "devnet", "node0")
    real_ca = NetworkCA.create("sample CA")
    real_node = x509.load_pem_x509_certificate(real_ca.issue_node_cert("node0").cert_pem)
    assert _extensions(ca.cert) == _extensions(real_ca.cert)
    assert _extensions(node) == _extensions(real_node)
    assert (ca.cert.subject, node.subject) == (real_ca.cert.subject, real_node.subject)
    validity = [c.not_valid_after_utc - c.not_valid_before_utc for c in (ca.cert, node)]
    real = [c.not_valid_after_utc - c.not_valid_before_utc for c in (real_ca.cert, real_node)]
    assert validity == real


@pytest.mark.parametrize("file", GENESIS_FILES)
def test_a_node_starts_on_the_preset(file: str) -> None:
    """What `ccoin node start` does with the genesis before anything else: the chain
    writes the genesis state and network id into an empty database, and a restart on the
    same database accepts the same file."""
    genesis = GenesisConfig.load(CONFIGS / file)
    store = MemoryStore()
    for _start in range(2):
        chain = Chain(store, genesis)
        try:
            assert chain.network_id == network_id_of(genesis)
            assert chain.head.height == 0 and chain.finalized_height == 0
            assert all(chain.delegate(d.public_key) is not None for d in genesis.delegates)
        finally:
            chain.close()


def test_devnet_preset_has_the_devnet_shape() -> None:
    genesis = GenesisConfig.load(CONFIGS / DEVNET)
    assert len(genesis.delegates) == genesis.active_delegates == DEFAULT_NODES == 4
    assert genesis.block_time_ms == DEFAULT_BLOCK_TIME_MS
    assert genesis.total_supply == 500 * TRILLION_C
    bridge = genesis.bridge
    assert bridge is not None
    assert (bridge.bsc_chain_id, bridge.confirmations) == (97, devbsc.CONFIRMATIONS)
    escrow = next(a for a in genesis.accounts if a.address == bridge.escrow)
    assert escrow.balance == devbsc.TOKEN_SUPPLY and escrow.locked and escrow.public_key is None
    tests = [a for a in genesis.accounts if a.label.startswith("test account")]
    assert len(tests) == 8 and all(a.balance == 1_000_000 * UNIT for a in tests)
    assert genesis.governance and genesis.network_ca


def test_whitepaper_preset_follows_the_whitepaper() -> None:
    genesis = GenesisConfig.load(CONFIGS / WHITEPAPER)
    assert genesis.total_supply == 500 * TRILLION_C == 5 * 10**18
    assert len(genesis.delegates) == genesis.active_delegates == 21
    bridge = genesis.bridge
    assert bridge is not None and (bridge.bsc_chain_id, bridge.confirmations) == (56, 15)
    escrow = next(a for a in genesis.accounts if a.address == bridge.escrow)
    assert escrow.balance == 25 * TRILLION_C and escrow.locked

    by_label = {a.label: a for a in genesis.accounts}
    for label, (trillions, locked) in WHITEPAPER_ALLOCATION.items():
        expected = trillions * TRILLION_C - (escrow.balance if label == "liquidity" else 0)
        assert (by_label[label].balance, by_label[label].locked) == (expected, locked), label
    assert not any(a.label.startswith("test account") for a in genesis.accounts)
    assert genesis.rewards.account == by_label["reward fund"].address
    assert genesis.rewards.at(1) == 5 * UNIT
    assert genesis.governance and genesis.network_ca
