"""`ccoin relay --config relay.json`: the bridge relayer (ADR 0015). It asks the delegate
nodes for signatures and carries them to BSC and to the sidechain, round after round, until
stopped (or for `--rounds N`). It keeps no state: a restart picks up where the chains say."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click

from ccoin.bridge.evm import Contract, EvmClient, EvmError, load_account
from ccoin.bridge.relay_config import RelayConfig
from ccoin.bridge.relay_metrics import RelayMetrics
from ccoin.bridge.relayer import Relayer, run_forever
from ccoin.bridge.remote import RemoteSidechain, RemoteSigner
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.common import reports_errors
from ccoin.client.errors import ClientError
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import setup_logging

_LOG = logging.getLogger("ccoin.bridge.relayer")


def _read(path: Path) -> str:
    try:
        return path.read_text().rstrip("\n")
    except OSError as exc:
        raise ConfigError(ErrorCode.CONFIG_INVALID, f"{path}: {exc.strerror}") from None


def _connect(urls: list[str], interval: float) -> RemoteSidechain:
    """The sidechain, once one of its nodes answers: a relayer started beside its nodes (as
    `devnet up` does) waits for them rather than exit."""
    while True:
        try:
            return RemoteSidechain(urls)
        except ClientError as exc:
            _LOG.warning("relay_waiting_for_sidechain", extra={"fields": {"error": str(exc)}})
            time.sleep(interval)


def _check_chain(bsc: EvmClient, chain_id: int) -> None:
    """A BSC endpoint of another chain is a configuration error; one that does not answer
    yet is not (the rounds retry it)."""
    try:
        found = bsc.chain_id()
    except EvmError as exc:
        _LOG.warning("relay_bsc_unreachable", extra={"fields": {"error": str(exc)[:300]}})
        return
    if found != chain_id:
        raise ConfigError(
            ErrorCode.CONFIG_INVALID, f"bsc: {bsc.url} is chain {found}, not bscChainId {chain_id}"
        )


@click.command("relay")
@click.option("--config", "config_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False))  # fmt: skip
@click.option("--rounds", type=click.IntRange(1), help="Stop after this many rounds.")
@reports_errors
def relay(config_path: Path, rounds: int | None) -> None:
    """Run the bridge relayer described by CONFIG (see ccoin/bridge/relay_config.py)."""
    config = RelayConfig.load(config_path)
    setup_logging("info", config.log)
    payer = load_account(config.payer_key, config.payer_passphrase_file, "payerKey")
    relayer_key = KeyPair(
        decrypt_seed(load_keystore(config.relayer_keystore), _read(config.relayer_passphrase_file))
    )
    metrics = RelayMetrics()
    if config.metrics_listen is not None:
        try:
            metrics.serve(config.metrics_listen)
        except OSError as exc:
            raise ConfigError(
                ErrorCode.LISTEN_FAILED,
                f"metrics: cannot listen on {config.metrics_listen}: {exc.strerror}",
            ) from None
    bsc = EvmClient(config.bsc)
    _check_chain(bsc, config.bsc_chain_id)
    # The delegates' nodes are sidechain nodes too: the relayer falls back on them.
    sidechain = _connect([config.sidechain, *config.signers], config.interval_seconds)
    signers = [RemoteSigner(url) for url in config.signers]
    try:
        relayer = Relayer(
            bsc=bsc,
            payer=payer,
            anchor=Contract(config.anchor, tuple(load_artifact("Anchor")["abi"])),
            bridge=Contract(config.bridge, tuple(load_artifact("Bridge")["abi"])),
            sidechain=sidechain,
            signers=signers,
            key=relayer_key,
            bsc_chain_id=config.bsc_chain_id,
            max_range=config.max_range,
            anchor_every=config.anchor_every_seconds,
        )
        run_forever(relayer, config.interval_seconds, rounds, observe=metrics.observe)
    finally:
        for signer in signers:
            signer.close()
        sidechain.close()
        bsc.close()
