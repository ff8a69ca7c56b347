"""The relayer's rounds (ADR 0015): it carries signatures, it decides nothing.

Each round reads what to do from the two chains, so a relayer that restarts (or a second
one running beside it) neither repeats nor skips anything:

- **anchor**: the next range starts at `Anchor.nextHeight` and ends at the sidechain's
  finalized height (at most `max_range` heights); the delegates' signers sign it, and with
  a quorum (in the contract's order) it goes to BSC;
- **hand-over**: when the set the sidechain elected differs from `Anchor.members`, the
  current set's delegates sign the new one (each from its own chain) and it goes to BSC;
- **deposits**: every deposit nonce up to `Bridge.depositCount` the sidechain has not
  credited is built into a type-6 transaction from the BSC event, attested by the
  delegates (each checks BSC itself) and, with a quorum, submitted to the sidechain.

The delegates and the sidechain are ports (`Signer`, `Sidechain`), so the same rounds run
against nodes over RPC or, in tests, against chains in this process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from eth_account.signers.local import LocalAccount

from ccoin.bridge.deposits import deposit_data, deposit_event
from ccoin.bridge.digests import ordered
from ccoin.bridge.evm import Contract, EvmClient, EvmError
from ccoin.bridge.signer import SignedAnchor, SignedSet
from ccoin.crypto.address import address_from_raw
from ccoin.crypto.keys import KeyPair
from ccoin.errors import CcoinError
from ccoin.modules.bridge.rules import attestation_quorum
from ccoin.types.assets import InTransferAsset
from ccoin.types.transaction import CoSignature, Transaction, TxBody

DEFAULT_MAX_RANGE = 256
MAX_BACKOFF = 60.0  # seconds
_LOG = logging.getLogger("ccoin.bridge.relayer")


class Signer(Protocol):
    """One delegate node, as the relayer asks it."""

    def sign_anchor(
        self, bsc_chain_id: int, anchor: str, set_id: int, from_height: int, to_height: int
    ) -> SignedAnchor: ...

    def sign_set(self, bsc_chain_id: int, anchor: str, set_id: int) -> SignedSet: ...

    def attest(self, tx: Transaction) -> CoSignature: ...


class Sidechain(Protocol):
    network_id: bytes

    def finalized_height(self) -> int: ...

    def chain_time(self) -> int: ...

    def deposit_credited(self, bsc_chain_id: int, bridge: bytes, nonce: int) -> bool: ...

    def active_set_size(self) -> int: ...

    def submit(self, tx: Transaction) -> None:
        """Send `tx` to the pool (a refusal raises)."""

    def wait_included(self) -> None:
        """Until every transaction submitted since the last call is in a block."""


@dataclass
class RoundReport:
    anchored_to: int | None = None
    handed_over: bool = False
    credited: list[int] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # what a delegate would not sign
    errors: list[str] = field(default_factory=list)  # a chain that failed to answer or take


@dataclass
class Relayer:
    bsc: EvmClient
    payer: LocalAccount  # pays BSC gas; no other power
    anchor: Contract
    bridge: Contract
    sidechain: Sidechain
    signers: Sequence[Signer]
    key: KeyPair  # the sidechain account that sends type-6 credits (fee 0)
    bsc_chain_id: int
    max_range: int = DEFAULT_MAX_RANGE
    # Every nonce below this one is credited: a memo of what the chains say, so a round does
    # not ask about old deposits again. A restarted relayer starts at 1 and catches up.
    credited_below: int = 1
    # Seconds between anchors while fewer than `max_range` heights wait (each anchor is a
    # BSC transaction); 0: every round. A restarted relayer anchors at once.
    anchor_every: float = 0.0
    clock: Callable[[], float] = time.monotonic
    last_anchor: float | None = None

    def run_round(self) -> RoundReport:
        """The three duties, each on its own: a failure of one (a BSC or node error) is
        recorded in the report and does not keep the others from running."""
        report = RoundReport()
        for duty in (self.hand_over, self.anchor_next, self.credit_deposits):
            try:
                duty(report)
            except (EvmError, CcoinError) as exc:
                report.errors.append(f"{duty.__name__}: {str(exc)[:300]}")
        return report

    # -- anchors and sets -------------------------------------------------------------------

    def anchor_next(self, report: RoundReport) -> None:
        start = self.anchor.read(self.bsc, "nextHeight")
        finalized = self.sidechain.finalized_height()
        if finalized < start:
            return
        end = min(finalized, start + self.max_range - 1)
        now = self.clock()
        if (
            end - start + 1 < self.max_range
            and self.last_anchor is not None
            and now - self.last_anchor < self.anchor_every
        ):
            return  # not due yet: fewer BSC transactions, at the cost of a later anchor
        set_id = self.anchor.read(self.bsc, "setId")
        signed: list[SignedAnchor] = []
        for signer in self.signers:
            try:
                signed.append(
                    signer.sign_anchor(self.bsc_chain_id, self.anchor.address, set_id, start, end)
                )
            except CcoinError as exc:
                report.refusals.append(f"anchor {start}-{end}: {exc}")
        roots = {s.root for s in signed}
        if len(roots) != 1:  # disagreeing roots: nobody's chain is anchored this round
            report.refusals.append(f"anchor {start}-{end}: {len(roots)} roots")
            return
        members = {m.lower() for m in self.anchor.read(self.bsc, "members")}
        votes = [(s.signer, s.signature) for s in signed if s.signer.lower() in members]
        if len(votes) < self.anchor.read(self.bsc, "quorum"):
            report.refusals.append(f"anchor {start}-{end}: {len(votes)} signatures")
            return
        root = roots.pop()
        self.anchor.send(self.bsc, self.payer, "submitAnchor", start, end, root, ordered(votes))
        report.anchored_to = end
        self.last_anchor = now

    def hand_over(self, report: RoundReport) -> None:
        set_id = self.anchor.read(self.bsc, "setId")
        current = [m.lower() for m in self.anchor.read(self.bsc, "members")]
        signed: list[SignedSet] = []
        for signer in self.signers:
            try:
                signed.append(signer.sign_set(self.bsc_chain_id, self.anchor.address, set_id))
            except CcoinError as exc:
                report.refusals.append(f"set: {exc}")
        elected = {s.members for s in signed}
        if len(elected) != 1:
            return
        members = list(elected.pop())
        if [m.lower() for m in members] == current:
            return
        votes = [(s.signer, s.signature) for s in signed if s.signer.lower() in set(current)]
        if len(votes) < self.anchor.read(self.bsc, "quorum"):
            report.refusals.append(f"set: {len(votes)} signatures of the current set")
            return
        self.anchor.send(self.bsc, self.payer, "changeSet", members, ordered(votes))
        report.handed_over = True

    # -- deposits ---------------------------------------------------------------------------

    def credit_deposits(self, report: RoundReport) -> None:
        count = self.bridge.read(self.bsc, "depositCount")
        contract = bytes.fromhex(self.bridge.address[2:])
        settled = True  # so far every nonce is credited
        for nonce in range(self.credited_below, count + 1):
            if self.sidechain.deposit_credited(self.bsc_chain_id, contract, nonce):
                if settled:
                    self.credited_below = nonce + 1
                continue
            settled = False
            try:
                claim = self._claim(nonce, contract)
            except CcoinError as exc:  # the event cannot make a valid credit: never will
                report.refusals.append(f"deposit {nonce}: {exc}")
                continue
            if claim is None:
                continue
            attestations = []
            for signer in self.signers:
                try:
                    attestations.append(signer.attest(claim))
                except (CcoinError, EvmError) as exc:
                    report.refusals.append(f"deposit {nonce}: {exc}")
            if len(attestations) < attestation_quorum(self.sidechain.active_set_size()):
                continue  # not buried deep enough yet, or not enough delegates answer
            self.sidechain.submit(claim.with_signatures(attestations))
            report.credited.append(nonce)
        # All of the round's credits go into the pool before it waits for any, so they
        # share blocks; the wait keeps the next round from building a credit again.
        self.sidechain.wait_included()

    def _claim(self, nonce: int, contract: bytes) -> Transaction | None:
        event = deposit_event(self.bsc, self.bridge.address, nonce)
        if event is None:
            return None
        recipient, amount = deposit_data(event)
        tx_hash = bytes.fromhex(event["transactionHash"][2:])
        asset = InTransferAsset(self.bsc_chain_id, contract, nonce, tx_hash)
        body = TxBody(
            6,
            self.sidechain.chain_time(),
            self.key.public_key,
            address_from_raw(recipient),
            amount,
            0,
            asset,
        )
        return body.sign(self.key, self.sidechain.network_id)


def backoff_delay(interval: float, failures: int, ceiling: float = MAX_BACKOFF) -> float:
    """The pause after a round: `interval`, doubled for each failed round in a row, at most
    `ceiling` (a chain that is down is not hammered; one that is back is used at once)."""
    return min(interval * 2**failures, max(ceiling, interval)) if failures else interval


def run_forever(
    relayer: Relayer,
    interval: float,
    rounds: int | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    observe: Callable[[RoundReport, float], None] | None = None,
) -> None:
    """Rounds until stopped (`rounds` bounds them, for tests and tools). A BSC or node
    error ends its duty for the round, not the relayer: the next round reads the chains
    again, after a pause that backs off while rounds keep failing."""
    done = failures = 0
    last_refusals: dict[str, int] = {}
    while rounds is None or done < rounds:
        started = time.monotonic()
        report = relayer.run_round()
        if observe is not None:
            observe(report, time.monotonic() - started)
        refusals = summarize(report.refusals)
        fields = {**report.__dict__, "refusals": refusals}
        if report.errors:
            failures += 1
            _LOG.warning("relay_round_failed", extra={"fields": fields})
        else:
            failures = 0
            acted = report.anchored_to is not None or report.handed_over or report.credited
            # Quiet rounds are not logged, nor the same refusals round after round (a
            # deposit waiting for its confirmations is refused by every delegate each round).
            if acted or refusals != last_refusals:
                _LOG.info("relay_round", extra={"fields": fields})
        last_refusals = refusals
        done += 1
        sleep(backoff_delay(interval, failures))


def summarize(refusals: list[str]) -> dict[str, int]:
    """Each distinct refusal once, with how many delegates gave it."""
    counted: dict[str, int] = {}
    for refusal in refusals:
        counted[refusal] = counted.get(refusal, 0) + 1
    return counted
