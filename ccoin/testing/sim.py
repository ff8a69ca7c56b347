"""A deterministic network simulator around the real consensus state machine.

One process, one seed: `Simulation(seed, ...)` builds N delegate nodes, each running
`ccoin.consensus.machine.step`, over a simulated network with random delays (so reordering),
drops, duplicates, partitions and heals, crashes and restarts from the state a node persists
(the headers it accepted, its finalized checkpoint and its voter record), and optionally one
Byzantine delegate that signs two blocks for its slots and two votes for one height.

After every event the safety checks run: no two finalized blocks conflict (every finalized
checkpoint of every honest node lies on one chain). `run()` returns a `Report`; the tests
assert on it. Signatures are a keyed hash (the core takes sign/verify as functions), which
keeps hundreds of seeds fast; Ed25519 is tested where it is used.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ccoin.consensus import machine as m
from ccoin.consensus.schedule import threshold
from ccoin.consensus.tree import Checkpoint
from ccoin.consensus.votes import Vote, VoteData, VoterRecord
from ccoin.types.block import ZERO_HASH, BlockHeader

SLOT_MS = 1000
MAX_EVENTS = 200_000  # every run stops by itself; a message storm is a bug, not a hang
NETWORK_ID = hashlib.sha256(b"ccoin-sim").digest()


def sim_sign(key: bytes, message: bytes) -> bytes:
    return hashlib.sha512(b"sim-sig" + key + message).digest()


def sim_verify(key: bytes, message: bytes, signature: bytes) -> bool:
    return sim_sign(key, message) == signature


def genesis_header() -> BlockHeader:
    return BlockHeader(
        1, 0, ZERO_HASH, 0, bytes(32), ZERO_HASH, 0, 0, 0, 0, ZERO_HASH, ZERO_HASH, None
    )


@dataclass
class Persisted:
    """What survives a crash: written synchronously when the node acts (like an fsync)."""

    headers: dict[bytes, BlockHeader] = field(default_factory=dict)
    finalized: Checkpoint | None = None
    finalized_seed: bytes = b""
    finalized_justified: Checkpoint | None = None
    voter: VoterRecord = field(default_factory=VoterRecord)


@dataclass
class SimNode:
    index: int
    key: bytes
    config: m.Config
    state: m.State
    persisted: Persisted
    byzantine: bool = False
    up: bool = True
    finalized: list[Checkpoint] = field(default_factory=list)
    finalized_at: list[int] = field(default_factory=list)  # simulated ms of each report
    evidence: list[m.Evidence] = field(default_factory=list)
    rejected: int = 0
    fetching: set[bytes] = field(default_factory=set)


@dataclass
class Report:
    seed: int
    nodes: int
    finalized_heights: list[int]
    finalized_at_heal: int
    finalized_end: int
    evidence_kinds: set[str]
    events: int
    log: list[str]


class SafetyViolation(AssertionError):
    pass


class Simulation:
    def __init__(
        self,
        seed: int,
        *,
        nodes: int | None = None,
        byzantine: bool | int | None = None,
        slots: int = 60,
        heal_slots: int | None = None,
        script: list[tuple[int, str, Any]] | None = None,
        observe: Callable[[Simulation], None] | None = None,
    ) -> None:
        """`script`: (slot, kind, argument) faults to run instead of random ones; kinds are
        partition (argument: list of groups), heal-partition, crash, restart (argument: node
        index) and weather (drop, dup, max delay). `observe` is called at every tick.
        `byzantine`: how many Byzantine delegates (True is one); by default none, or in
        half the seeds between one and the most that safety and liveness both allow
        (fewer than 2q - N, at most N - q)."""
        self.seed = seed
        self.script = script
        self.observe = observe
        self.rng = random.Random(seed)
        self.n = nodes if nodes is not None else self.rng.randint(4, 7)
        q = threshold(self.n)
        most = min(2 * q - self.n - 1, self.n - q)
        if byzantine is None:
            byzantine = self.rng.randint(1, most) if self.rng.random() < 0.5 else 0
        self.byzantine = int(byzantine)
        self.slots = slots
        # Faults happen before `heal_at`; afterwards the network is healthy and every honest
        # node is up, so finality must resume.
        self.heal_slot = slots - (heal_slots if heal_slots is not None else 6 * self.n)
        keys = [hashlib.sha256(f"sim-key-{seed}-{i}".encode()).digest() for i in range(self.n)]
        self.keys = keys
        self.active = tuple(sorted(keys))
        self.genesis = genesis_header()
        self.genesis_hash = self.genesis.hash(NETWORK_ID)
        self.headers: dict[bytes, BlockHeader] = {self.genesis_hash: self.genesis}
        self.twins: dict[bytes, bytes] = {}  # a Byzantine block -> its equivocating twin
        self.produced_at: dict[bytes, int] = {}  # block hash -> simulated ms it was made
        self.nodes = [self._new_node(i) for i in range(self.n)]
        for index in self.rng.sample(range(self.n), self.byzantine):
            self.nodes[index].byzantine = True
        self.queue: list[tuple[int, int, str, int, Any]] = []
        self.seq = 0
        self.now = 0
        self.partition: list[set[int]] | None = None
        self.drop_rate = 0.0
        self.dup_rate = 0.0
        self.max_delay = 200
        self.events = 0
        self.log: list[str] = []
        self.highest_final = Checkpoint(0, self.genesis_hash)
        self.finalized_at_heal = 0

    # -- setup ----------------------------------------------------------------------------

    def _config(self, key: bytes) -> m.Config:
        return m.Config(
            NETWORK_ID, 1, self.active, sim_verify, key, functools.partial(sim_sign, key)
        )

    def _new_node(self, i: int) -> SimNode:
        key = self.keys[i]
        root = m.root_block(self.genesis, self.genesis_hash, 1)
        return SimNode(i, key, self._config(key), m.initial_state(root), Persisted())

    def honest(self) -> list[SimNode]:
        return [n for n in self.nodes if not n.byzantine]

    # -- event queue ----------------------------------------------------------------------

    def _push(self, at: int, kind: str, target: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, target, payload))

    def _send(self, src: int, dst: int, kind: str, payload: Any) -> None:
        if src == dst:
            return
        straddles = self.nodes[src].byzantine or self.nodes[dst].byzantine
        if (
            self.partition is not None
            and not straddles  # the adversary's delegates reach both sides of a cut
            and not any(src in group and dst in group for group in self.partition)
        ):
            return
        if self.rng.random() < self.drop_rate:
            return
        copies = 2 if self.rng.random() < self.dup_rate else 1
        for _ in range(copies):
            self._push(self.now + self.rng.randint(1, self.max_delay), kind, dst, (src, payload))

    def _broadcast(self, src: int, kind: str, payload: Any, only: set[int] | None = None) -> None:
        for dst in range(self.n):
            if only is None or dst in only:
                self._send(src, dst, kind, payload)

    # -- running --------------------------------------------------------------------------

    def run(self) -> Report:
        for slot in range(1, self.slots + 1):
            self._push(slot * SLOT_MS, "tick", -1, slot)
        if self.script is None:
            for slot in range(1, self.heal_slot):
                self._schedule_fault(slot)
        else:
            for slot, kind, arg in self.script:
                self._push(
                    slot * SLOT_MS + SLOT_MS // 2,
                    kind,
                    arg if kind in ("crash", "restart") else -1,
                    arg,
                )
        self._push(self.heal_slot * SLOT_MS - 1, "heal", -1, None)
        while self.queue:
            if self.events > MAX_EVENTS:
                raise AssertionError(f"seed {self.seed}: more than {MAX_EVENTS} events (a storm)")
            at, _seq, kind, target, payload = heapq.heappop(self.queue)
            self.now = at
            self.events += 1
            self._dispatch(kind, target, payload)
        finals = [n.state.finalized.height for n in self.honest()]
        return Report(
            self.seed,
            self.n,
            finals,
            self.finalized_at_heal,
            min(finals),
            {e.kind for n in self.nodes for e in n.evidence},
            self.events,
            self.log,
        )

    def _schedule_fault(self, slot: int) -> None:
        rng = self.rng
        at = slot * SLOT_MS + rng.randint(0, SLOT_MS - 1)
        roll = rng.random()
        if roll < 0.04:
            self._push(at, "partition", -1, None)
        elif roll < 0.08:
            self._push(at, "heal-partition", -1, None)
        elif roll < 0.12:
            self._push(at, "crash", rng.randrange(self.n), None)
        elif roll < 0.18:
            self._push(at, "restart", rng.randrange(self.n), None)
        elif roll < 0.22:
            self._push(
                at,
                "weather",
                -1,
                (
                    rng.choice([0.0, 0.05, 0.2]),
                    rng.choice([0.0, 0.05, 0.2]),
                    rng.choice([50, 200, 600]),
                ),
            )

    def _dispatch(self, kind: str, target: int, payload: Any) -> None:
        if kind == "tick":
            for node in self.nodes:
                if node.up:
                    self._step(node, m.Tick(payload))
            if self.observe is not None:
                self.observe(self)
        elif kind == "header":
            src, header = payload
            node = self.nodes[target]
            if node.up:
                self._step(node, m.HeaderReceived(header, str(src)))
        elif kind == "vote":
            src, vote = payload
            node = self.nodes[target]
            if node.up:
                self._step(node, m.VoteReceived(vote, str(src)))
        elif kind == "headers":
            src, headers = payload
            node = self.nodes[target]
            if node.up:
                for header in headers:
                    known = header.previous_block_hash in node.state.tree
                    self._step(node, m.HeaderReceived(header, str(src)))
                    if not known:
                        break  # the batch does not connect; the rest cannot either
        elif kind == "fetch":
            self._answer_fetch(target, payload)
        elif kind == "fetch-timeout":
            self.nodes[target].fetching.discard(payload)
        else:
            self._fault(kind, target, payload)

    def _fault(self, kind: str, target: int, payload: Any) -> None:
        if kind == "partition":
            if payload is not None:
                self.partition = [set(group) for group in payload]
            else:
                members = list(range(self.n))
                self.rng.shuffle(members)
                cut = self.rng.randint(1, self.n - 1)
                self.partition = [set(members[:cut]), set(members[cut:])]
            self.log.append(f"{self.now}ms partition {self.partition}")
        elif kind == "heal-partition":
            self.partition = None
            self.log.append(f"{self.now}ms heal partition")
        elif kind == "crash":
            self.nodes[target].up = False
            self.log.append(f"{self.now}ms crash {target}")
        elif kind == "restart":
            if not self.nodes[target].up:
                self._restart(target)
        elif kind == "weather":
            self.drop_rate, self.dup_rate, self.max_delay = payload
            self.log.append(
                f"{self.now}ms weather drop={payload[0]} dup={payload[1]} delay<={payload[2]}"
            )
        elif kind == "heal":
            self.partition = None
            self.drop_rate, self.dup_rate, self.max_delay = 0.0, 0.0, 200
            for node in self.nodes:
                if not node.up:
                    self._restart(node.index)
            self.finalized_at_heal = min(n.state.finalized.height for n in self.honest())
            self.log.append(f"{self.now}ms heal all; finalized {self.finalized_at_heal}")
            # A healed node asks its peers for what it missed, as a syncing node does.
            for node in self.nodes:
                for other in self.nodes:
                    if other.index != node.index:
                        head = other.state.tree.blocks[other.state.head].header
                        self._send(other.index, node.index, "header", head)

    def _restart(self, index: int) -> None:
        old = self.nodes[index]
        saved = old.persisted
        if saved.finalized is None:
            root = m.root_block(self.genesis, self.genesis_hash, 1)
        else:
            root = m.root_block(
                saved.headers[saved.finalized.hash],
                saved.finalized.hash,
                1,
                saved.finalized_seed,
                saved.finalized_justified,
            )
        node = SimNode(
            index,
            old.key,
            old.config,
            m.initial_state(root, saved.voter),
            saved,
            old.byzantine,
            up=True,
            finalized=old.finalized,
            finalized_at=old.finalized_at,
            evidence=old.evidence,
            rejected=old.rejected,
        )
        self.nodes[index] = node
        if old.finalized and node.state.finalized != old.finalized[-1]:
            raise SafetyViolation(
                f"seed {self.seed}: node {index} restarted below the finality it reported"
            )
        self.log.append(f"{self.now}ms restart {index} from finalized {root.height}")
        for header in sorted(saved.headers.values(), key=lambda h: h.height):
            if header.height > root.height:
                self._step(node, m.HeaderReceived(header, "disk"))

    # -- the node shell: carry out actions ------------------------------------------------

    def _step(self, node: SimNode, event: m.Event) -> None:
        node.state, actions = m.step(node.config, node.state, event)
        for action in actions:
            self._act(node, action)

    def _act(self, node: SimNode, action: m.Action) -> None:
        if isinstance(action, m.ProduceBlock):
            self._produce(node, action)
        elif isinstance(action, m.ApplyHead):
            for block_hash in action.path:
                header = node.state.tree.blocks[block_hash].header
                node.persisted.headers[block_hash] = header
            self._step(node, m.HeadApplied(action.hash))
        elif isinstance(action, m.CastVote):
            node.persisted.voter = action.record
            self._broadcast(node.index, "vote", action.vote)
            if node.byzantine:
                self._double_vote(node, action.vote)
        elif isinstance(action, m.Finalized):
            self._record_finality(node, action.checkpoint)
        elif isinstance(action, m.FetchAncestors):
            if action.origin.isdigit():
                self._send(
                    node.index,
                    int(action.origin),
                    "fetch",
                    (node.index, action.header, node.state.finalized.height),
                )
        elif isinstance(action, (m.RejectHeader, m.RejectVote)):
            node.rejected += 1
        elif isinstance(action, m.Evidence):
            node.evidence.append(action)

    def _produce(self, node: SimNode, action: m.ProduceBlock) -> None:
        parent = node.state.tree.blocks[action.parent].header
        variants = [self._make_header(node, parent, action, b"a")]
        if node.byzantine:
            variants.append(self._make_header(node, parent, action, b"b"))
        for header in variants:
            self.headers[header.hash(NETWORK_ID)] = header
            self.produced_at[header.hash(NETWORK_ID)] = self.now
        if len(variants) == 2:
            self.twins[variants[0].hash(NETWORK_ID)] = variants[1].hash(NETWORK_ID)
        self._step(node, m.HeaderReceived(variants[0], "self"))
        if len(variants) == 1:
            self._broadcast(node.index, "header", variants[0])
        else:
            even = {i for i in range(self.n) if i % 2 == 0}
            self._broadcast(node.index, "header", variants[0], even)
            self._broadcast(node.index, "header", variants[1], set(range(self.n)) - even)

    def _make_header(
        self, node: SimNode, parent: BlockHeader, action: m.ProduceBlock, variant: bytes
    ) -> BlockHeader:
        payload = hashlib.sha256(node.key + action.slot.to_bytes(8, "big") + variant).digest()
        header = BlockHeader(
            1,
            parent.height + 1,
            action.parent,
            action.slot,
            node.key,
            payload,
            0,
            0,
            0,
            0,
            ZERO_HASH,
            ZERO_HASH,
            action.attestation,
        )
        return replace(header, block_signature=sim_sign(node.key, header.signing_bytes(NETWORK_ID)))

    def _double_vote(self, node: SimNode, vote: Vote) -> None:
        """The Byzantine voter also votes for every other block it knows at the same
        height (and its own twin block), each with the source that block's branch needs:
        it helps every fork toward a supermajority, which is what would split finality if
        fewer than q votes counted."""
        target = vote.data.target_height
        others = [self.twins.get(vote.data.target_hash)]
        others += [b.hash for b in node.state.tree.blocks.values() if b.height == target]
        seen = {vote.data.target_hash}
        for other_hash in others:
            if other_hash is None or other_hash in seen:
                continue
            seen.add(other_hash)
            block = node.state.tree.get(other_hash)
            source = (
                block.justified
                if block is not None
                else Checkpoint(vote.data.source_height, vote.data.source_hash)
            )
            data = VoteData(source.height, source.hash, target, other_hash)
            other = Vote(data, node.key, sim_sign(node.key, data.signing_bytes(NETWORK_ID)))
            self._broadcast(node.index, "vote", other)

    def _answer_fetch(self, responder: int, payload: Any) -> None:
        _src, (requester, header, their_final) = payload
        node = self.nodes[responder]
        if not node.up:
            return
        chain = []
        current = node.persisted.headers.get(header.previous_block_hash) or (
            node.state.tree.blocks[header.previous_block_hash].header
            if header.previous_block_hash in node.state.tree
            else None
        )
        while current is not None and current.height > their_final:
            chain.append(current)
            parent_hash = current.previous_block_hash
            current = node.persisted.headers.get(parent_hash) or self._tree_header(
                node, parent_hash
            )
        self._send(responder, requester, "headers", [*reversed(chain), header])

    @staticmethod
    def _tree_header(node: SimNode, block_hash: bytes) -> BlockHeader | None:
        block = node.state.tree.get(block_hash)
        return None if block is None else block.header

    # -- safety ---------------------------------------------------------------------------

    def _record_finality(self, node: SimNode, checkpoint: Checkpoint) -> None:
        header = self.headers.get(checkpoint.hash) or node.persisted.headers.get(checkpoint.hash)
        if header is None:
            header = node.state.tree.blocks[checkpoint.hash].header
        if node.finalized and not node.byzantine:
            last = node.finalized[-1]
            if checkpoint.height <= last.height or not self._is_ancestor(last, checkpoint):
                raise SafetyViolation(
                    f"seed {self.seed}: node {node.index} reported "
                    f"{checkpoint.height}:{checkpoint.hash.hex()[:12]} final after "
                    f"{last.height}:{last.hash.hex()[:12]} (a finality it lost)"
                )
        node.persisted.finalized = checkpoint
        root = node.state.tree.blocks[checkpoint.hash]
        node.persisted.finalized_seed = root.seed
        node.persisted.finalized_justified = root.justified
        # Headers at or below the finalized height stay on disk for ancestors' sake.
        node.finalized.append(checkpoint)
        node.finalized_at.append(self.now)
        if node.byzantine:
            return
        low, high = sorted([checkpoint, self.highest_final], key=lambda c: c.height)
        if not self._is_ancestor(low, high):
            raise SafetyViolation(
                f"seed {self.seed}: conflicting finality: node {node.index} finalized "
                f"{checkpoint.height}:{checkpoint.hash.hex()[:12]}, network had "
                f"{self.highest_final.height}:{self.highest_final.hash.hex()[:12]}"
            )
        if checkpoint.height > self.highest_final.height:
            self.highest_final = checkpoint

    def _is_ancestor(self, low: Checkpoint, high: Checkpoint) -> bool:
        current = self.headers.get(high.hash)
        while current is not None and current.height > low.height:
            current = self.headers.get(current.previous_block_hash)
        if current is None:
            return False
        return current.hash(NETWORK_ID) == low.hash
