"""`ccoin bench`: transactions per second, finalized, over RPC; optionally against anvil too.

The workload (`--workload`) is plain transfers (the default), token-contract transfer calls
(`contract`, also `--contract`) or carbon credit transfers and retirements (`carbon`); the
last two set up their state first, finalized and not timed. Without `--dir` it creates a
devnet in a temporary directory, starts it, and stops and removes it afterwards. With
`--anvil` it runs the same number of pre-signed value transfers against a local anvil
(`--chain-id 97`, 1 s blocks) in the same batch sizes, after the Carbon Coin run, and
reports the ratio.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
import trio

from ccoin.bench import carbon_load, ccoin_load, contract_load
from ccoin.cli.common import print_json, reports_errors
from ccoin.client.errors import BadResponse
from ccoin.devnet.layout import Devnet
from ccoin.devnet.processes import running_nodes
from ccoin.devnet.temporary import temporary_devnet
from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.transaction import Transaction

READY_TIMEOUT = 120.0
WORKLOADS = {
    "transfers": "transfers",
    "contract": "token-contract transfers",
    "carbon": "carbon transfers and retirements",
}


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr (stdout stays clean for --json) and the (sent, done) callback that
    moves it."""
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        shown = 0

        def progress(_sent: int, done: int) -> None:
            nonlocal shown
            bar.update(done - shown)
            shown = done

        yield progress


@click.command("bench")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="A running devnet (`ccoin devnet up`); default: start a new one for the run.",
)
@click.option("--nodes", default=4, show_default=True, type=click.IntRange(1, 21))
@click.option("--txs", default=20_000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 256))
@click.option(
    "--rate",
    "rate_text",
    metavar="TPS[,TPS...]",
    help="Offered load in transactions a second (open loop); default: as fast as taken. "
    "A comma-separated list is a sweep: one run of TXS per rate on the same devnet, then a "
    "latency table (offered, submitted and finalized TPS, p50/p95/p99).",
)
@click.option(
    "--submit",
    type=click.Choice(["raw", "json"]),
    default="raw",
    show_default=True,
    help="How transactions go to the node: canonical bytes (ccoin_sendRawTransactions) "
    "or their JSON forms (ccoin_sendTransactions).",
)
@click.option("--timeout", default=600.0, show_default=True, help="Seconds for each run.")
@click.option("--anvil", is_flag=True, help="Also run the same load against a local anvil.")
@click.option(
    "--workload",
    type=click.Choice(list(WORKLOADS)),
    help="transfers (type 0, the default); contract: token-contract transfer calls (type "
    "8); carbon: carbon credit transfers and retirements (types 14 and 15, four to one).",
)
@click.option("--contract", is_flag=True, help="The same as --workload contract.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="Also write the JSON here."
)
@reports_errors
def bench(
    directory: Path | None,
    nodes: int,
    txs: int,
    batch: int,
    concurrency: int,
    rate_text: str | None,
    submit: str,
    timeout: float,
    anvil: bool,
    workload: str | None,
    contract: bool,
    as_json: bool,
    out: Path | None,
) -> None:
    """Pre-sign TXS transactions, submit them over RPC in batches to every node, follow
    each to finality (as a WebSocket subscriber sees it), and report throughput, latency
    and every refusal (a run is `clean` when all TXS finalized)."""
    rates = parse_rates(rate_text)
    kind = choose_workload(workload, contract, rates, anvil)
    report: dict[str, Any] = {
        "txs": txs,
        "batch": batch,
        "concurrency": concurrency,
        "offered_tps": rates[0] if len(rates) == 1 else rates,
        "workload": WORKLOADS[kind],
        "submit": submit,
        "finality_seen": "WebSocket finalizedBlocks push, missed blocks read",
    }
    sweep: list[dict[str, Any]] = []
    with ExitStack() as stack:
        devnet = _devnet(stack, directory, nodes)
        report["nodes"] = len(devnet.nodes)
        if kind == "carbon":  # one setup for every rate of a sweep
            report["carbon"], sweep = trio.run(
                _carbon_runs, devnet, txs, batch, concurrency, rates, timeout, submit
            )
        for i, rate in enumerate(rates if kind != "carbon" else []):
            if kind == "contract":
                result = trio.run(_contract_run, devnet, txs, batch, concurrency, rate, timeout)
            else:
                result = trio.run(
                    _ccoin_run, devnet, txs, batch, concurrency, rate, timeout, submit, i * txs
                )
            sweep.append({"offered_tps": rate, **result})
    report.update(sweep[0] if len(sweep) == 1 else {"sweep": sweep})
    if anvil:
        from ccoin.cli.bench_anvil import ANVIL_MEASURED, run_anvil  # EVM libraries: asked

        anvil_report = run_anvil(txs, batch, concurrency, rates[0], timeout)
        report.update(anvil_report)
        report["anvil_measured"] = ANVIL_MEASURED
        tps = anvil_report["anvil_tps"]
        # Like for like: ours counts to finality, anvil's to inclusion (final at once);
        # both from the first submission to the last transaction seen.
        if len(sweep) == 1:
            report["ratio"] = round(report["finalized_tps"] / tps, 2) if tps else None
    if out is not None:
        out.write_text(json.dumps(report, indent=2) + "\n")
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        if key != "sweep":
            click.echo(f"{key:>18}: {value}")
    if len(sweep) > 1:
        click.echo(latency_table(sweep, report if anvil else None))


def choose_workload(
    workload: str | None, contract: bool, rates: list[float | None], anvil: bool
) -> str:
    """The workload `--workload` and `--contract` name, refusing what they cannot run."""
    if contract and workload not in (None, "contract"):
        raise click.UsageError(f"--contract is --workload contract; it contradicts {workload}")
    kind = "contract" if contract else workload or "transfers"
    if kind == "contract" and len(rates) > 1:
        raise click.UsageError("a --rate sweep runs plain transfers or carbon; drop --contract")
    if kind == "carbon" and anvil:
        raise click.UsageError(
            "--anvil compares plain transfers with anvil's; it has no carbon credits to run"
        )
    return kind


def parse_rates(text: str | None) -> list[float | None]:
    """`--rate`: none (as fast as taken), one rate, or a comma-separated sweep."""
    if text is None:
        return [None]
    rates: list[float | None] = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise click.BadParameter(f"{part!r} is not a number", param_hint="--rate") from None
        if not 1.0 <= value <= 1e7 or value != value:
            raise click.BadParameter(f"{part}: between 1 and 10,000,000", param_hint="--rate")
        rates.append(value)
    return rates


def latency_table(sweep: list[dict[str, Any]], anvil: dict[str, Any] | None) -> str:
    """One row per offered rate (and anvil's flat-out run when measured)."""
    head = ("system", "offered", "submitted", "finalized", "p50 s", "p95 s", "p99 s", "rejected")
    # rejected: refused on submission plus dropped by a block builder
    rows: list[tuple[str, ...]] = [head]
    for run in sweep:
        latencies = (run[f"latency_{q}_s"] for q in ("p50", "p95", "p99"))
        refused = sum(run["rejected"].values()) + sum(run.get("dropped", {}).values())
        rows.append(
            _row("ccoin", run["offered_tps"], run["submitted_tps"], run["finalized_tps"],
                 latencies, refused)
        )  # fmt: skip
    if anvil is not None:
        latencies = (anvil[f"anvil_latency_{q}_s"] for q in ("p50", "p95", "p99"))
        rows.append(
            _row("anvil", None, anvil["anvil_submitted_tps"], anvil["anvil_tps"], latencies,
                 anvil["anvil_errors"])
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def _row(
    system: str,
    offered: float | None,
    submitted: float,
    finalized: float,
    latencies: Iterator[float],
    rejected: int,
) -> tuple[str, ...]:
    offer = f"{offered:g}" if offered else "max"
    return (system, offer, f"{submitted:g}", f"{finalized:g}", *(f"{x:.3f}" for x in latencies),
            str(rejected))  # fmt: skip


def _devnet(stack: ExitStack, directory: Path | None, nodes: int) -> Devnet:
    if directory is not None:
        devnet = Devnet.load(directory)
        if not running_nodes(devnet):
            raise ConfigError(
                ErrorCode.CONFIG_INVALID,
                f"no node of the devnet in {directory} is running; "
                f"start it with `ccoin devnet up --dir {directory} --detach`",
            )
        return devnet
    devnet = stack.enter_context(temporary_devnet(nodes, bridge=False, prefix="ccoin-bench-"))
    click.echo(f"started a {nodes}-node devnet in {devnet.root}", err=True)
    return devnet


async def _wait_ready(urls: list[str]) -> dict[str, Any]:
    """Every node answers, sees all its peers and has finalized a block."""
    deadline = trio.current_time() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            try:
                statuses = [await ccoin_load.rpc(client, u, "ccoin_status", []) for u in urls]
                if all(s["finalizedHeight"] >= 1 and s["peers"] >= len(urls) - 1 for s in statuses):
                    return statuses[0]  # type: ignore[no-any-return]
            except (httpx.HTTPError, ValueError, BadResponse):
                pass  # not listening yet
            if trio.current_time() > deadline:
                raise ConfigError(
                    ErrorCode.CONFIG_INVALID,
                    f"the devnet was not ready within {READY_TIMEOUT:.0f} s (see nodeI/node.log)",
                )
            await trio.sleep(0.2)


async def _ccoin_run(
    devnet: Devnet,
    txs: int,
    batch: int,
    concurrency: int,
    rate: float | None,
    timeout: float,
    submit: str = "raw",
    first: int = 0,
) -> dict[str, Any]:
    urls = ccoin_load.devnet_urls(devnet)
    click.echo("waiting for the devnet to finalize...", err=True)
    status = await _wait_ready(urls)
    network_id = bytes.fromhex(status["networkId"])
    async with httpx.AsyncClient(timeout=5.0) as client:
        fee = int((await ccoin_load.rpc(client, urls[0], "ccoin_estimateFee", [0]))["minFee"])
    accounts = devnet.test_accounts()
    started = time.monotonic()
    timestamp = int(time.time()) - status["genesisTime"]
    signed = ccoin_load.pre_sign(accounts, txs, network_id, timestamp, fee, first=first)
    batches = ccoin_load.make_batches(signed, network_id, batch, submit)
    click.echo(
        f"signed {txs} transfers from {len(accounts)} accounts in "
        f"{time.monotonic() - started:.1f} s",
        err=True,
    )
    with progress_bar(txs, "finalized") as progress:
        result = await ccoin_load.run_load(
            urls, batches, concurrency=concurrency, timeout=timeout, progress=progress, rate=rate
        )
    return result.to_json()


async def _contract_run(
    devnet: Devnet, txs: int, batch: int, concurrency: int, rate: float | None, timeout: float
) -> dict[str, Any]:
    """Deploy the example token and mint to every test account (finalized, not timed),
    then the measured load: TXS token `transfer` calls."""
    urls = ccoin_load.devnet_urls(devnet)
    click.echo("waiting for the devnet to finalize...", err=True)
    status = await _wait_ready(urls)
    network_id = bytes.fromhex(status["networkId"])
    async with httpx.AsyncClient(timeout=5.0) as client:
        fees = [
            int((await ccoin_load.rpc(client, urls[0], "ccoin_estimateFee", [t]))["minFee"])
            for t in (5, 8)
        ]
    accounts = devnet.test_accounts()
    timestamp = int(time.time()) - status["genesisTime"]
    deploy_tx, token = contract_load.deploy(accounts[0], network_id, timestamp, fees[0])
    for label, setup in (
        ("deploy", [deploy_tx]),
        ("mint", contract_load.mints(accounts, token, network_id, timestamp, fees[1])),
    ):
        await _setup_step(urls, label, setup, network_id, batch, timeout)
    started = time.monotonic()
    signed = contract_load.transfers(accounts, token, txs, network_id, timestamp, fees[1])
    batches = ccoin_load.make_batches(signed, network_id, batch)
    click.echo(f"signed {txs} token transfers in {time.monotonic() - started:.1f} s", err=True)
    with progress_bar(txs, "finalized") as progress:
        result = await ccoin_load.run_load(
            urls, batches, concurrency=concurrency, timeout=timeout, progress=progress, rate=rate
        )
    report = result.to_json()
    report["contract"] = token
    ids = [tx.id(network_id) for tx in signed]
    report.update(await contract_load.check_receipts(urls[0], ids, network_id))
    return report


async def _setup_step(
    urls: list[str],
    label: str,
    txs: list[Transaction],
    network_id: bytes,
    batch: int,
    timeout: float,
) -> None:
    """Submit a setup step's transactions and wait until every one is final."""
    batches = ccoin_load.make_batches(txs, network_id, batch)
    with progress_bar(len(txs), f"setup: {label}") as progress:
        done = await ccoin_load.run_load(urls, batches, timeout=timeout, progress=progress)
    if not done.clean:
        raise ConfigError(
            ErrorCode.CONFIG_INVALID,
            f"setup {label}: {done.finalized} of {len(txs)} finalized, rejected "
            f"{done.rejected or 'none'}, dropped {done.dropped or 'none'}"
            + (", timed out" if done.timed_out else ""),
        )


async def _carbon_runs(
    devnet: Devnet,
    txs: int,
    batch: int,
    concurrency: int,
    rates: list[float | None],
    timeout: float,
    submit: str,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Sign every run's carbon moves, set up what they need (class, issuer, project, one
    batch, each account's credits: finalized, not timed), then one measured run of TXS
    moves per rate. The setup's summary and one result per rate."""
    urls = ccoin_load.devnet_urls(devnet)
    click.echo("waiting for the devnet to finalize...", err=True)
    status = await _wait_ready(urls)
    network_id = bytes.fromhex(status["networkId"])
    async with httpx.AsyncClient(timeout=5.0) as client:
        fees = {
            t: int((await ccoin_load.rpc(client, urls[0], "ccoin_estimateFee", [t]))["minFee"])
            for t in carbon_load.CARBON_TYPES
        }
    accounts = devnet.test_accounts()
    committee = devnet.key("carbon-committee")
    registry = carbon_load.Registry.fresh()
    timestamp = int(time.time()) - status["genesisTime"]
    started = time.monotonic()
    load = carbon_load.moves(
        accounts, txs * len(rates), registry.batch_id, network_id, timestamp, fees
    )
    click.echo(
        f"signed {len(load)} carbon moves from {len(accounts)} accounts in "
        f"{time.monotonic() - started:.1f} s",
        err=True,
    )
    started = time.monotonic()
    steps = carbon_load.setup_steps(
        committee, accounts, registry, load, network_id, timestamp, fees
    )
    for label, setup in steps:
        await _setup_step(urls, label, setup, network_id, batch, timeout)
    summary = {
        **registry.to_json(),
        "issued": carbon_load.batch_size(load),
        "setup_txs": sum(len(setup) for _label, setup in steps),
        "setup_s": round(time.monotonic() - started, 1),
    }
    runs = []
    for i, rate in enumerate(rates):
        part = load[i * txs : (i + 1) * txs]
        batches = ccoin_load.make_batches(part, network_id, batch, submit)
        with progress_bar(txs, "finalized") as progress:
            result = await ccoin_load.run_load(
                urls, batches, concurrency=concurrency, timeout=timeout, progress=progress,
                rate=rate,
            )  # fmt: skip
        runs.append({"offered_tps": rate, **result.to_json(), "mix": carbon_load.mix(part)})
    return summary, runs
