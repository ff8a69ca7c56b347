"""The consensus state machine: `step(config, state, event) -> (state, actions)`.

Inputs are clock ticks (slots), headers, the node's confirmation that it applied a head,
the ledger's verdict that a block is invalid, and votes. Outputs are what the node must do:
produce a block, apply a head (rolling back and re-applying as needed), broadcast a vote
(after persisting the voter record it carries), record finality (from the headers, or from
the votes held, with their certificate: `ccoin.consensus.finality`), fetch missing ancestors,
penalize a bad header's sender, or publish equivocation evidence. Nothing here does I/O,
reads a clock or keeps hidden state; signing and signature checks are passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ccoin.consensus.finality import FinalityCertificate, final_by_votes, held_link
from ccoin.consensus.schedule import producer_for, round_of, round_order, slot_of, threshold
from ccoin.consensus.tree import Checkpoint, ForkTree, TreeBlock, fork_choice_key
from ccoin.consensus.votes import Vote, VoteData, VoterRecord, conflicting
from ccoin.types.block import Attestation, BlockHeader

Verify = Callable[[bytes, bytes, bytes], bool]
Sign = Callable[[bytes], bytes]
MAX_VOTES_KEPT_PER_VOTER = 64


@dataclass(frozen=True)
class Config:
    network_id: bytes
    block_time_ms: int
    active: tuple[bytes, ...]  # the active set (membership); the order is per round
    verify: Verify
    key: bytes | None = None  # this node's delegate key, if it is one
    sign: Sign | None = None
    # Slots per round (genesis activeDelegates); 0 means len(active).
    round_length: int = 0
    # (first round, active set) pairs, ascending: the set elected for a round applies from
    # that round on. Empty: `active` for every round.
    round_sets: tuple[tuple[int, tuple[bytes, ...]], ...] = ()

    @property
    def slots_per_round(self) -> int:
        return self.round_length or len(self.active)

    def active_for_slot(self, slot: int) -> tuple[bytes, ...]:
        """The active set of the round `slot` belongs to."""
        current = round_of(slot, self.slots_per_round)
        chosen = self.active
        for first_round, members in self.round_sets:
            if first_round <= current:
                chosen = members
        return chosen


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    slot: int
    # An early tick (at the slot's start) produces only on top of the previous slot's
    # block; if that block is not in yet it may just be late, so production waits for the
    # slot's second, patient tick rather than fork it off.
    early: bool = False


@dataclass(frozen=True)
class HeaderReceived:
    header: BlockHeader
    origin: str = ""  # who sent it (opaque to consensus; echoed in actions)


@dataclass(frozen=True)
class HeadApplied:
    hash: bytes


@dataclass(frozen=True)
class BlockInvalid:
    hash: bytes


@dataclass(frozen=True)
class VoteReceived:
    vote: Vote
    origin: str = ""


Event = Tick | HeaderReceived | HeadApplied | BlockInvalid | VoteReceived


# -- actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProduceBlock:
    slot: int
    parent: bytes
    attestation: Attestation | None


@dataclass(frozen=True)
class ApplyHead:
    """Make `hash` the ledger head: roll back to the common ancestor, apply `path`."""

    hash: bytes
    path: tuple[bytes, ...]  # block hashes from the root's child down to `hash`


@dataclass(frozen=True)
class CastVote:
    """Persist `record` first, then broadcast `vote`."""

    vote: Vote
    record: VoterRecord


@dataclass(frozen=True)
class Finalized:
    """Persist `checkpoint` as final, with `certificate` when the votes held (rather than
    the headers) prove it, before reporting it anywhere."""

    checkpoint: Checkpoint
    certificate: FinalityCertificate | None = None


@dataclass(frozen=True)
class FetchAncestors:
    header: BlockHeader
    origin: str


@dataclass(frozen=True)
class RejectHeader:
    hash: bytes
    origin: str
    reason: str


@dataclass(frozen=True)
class RejectVote:
    origin: str
    reason: str


@dataclass(frozen=True)
class Evidence:
    """Two signed messages by one delegate that no honest delegate signs: two headers for
    one slot, or two conflicting votes."""

    kind: str  # "double-block" or "double-vote"
    offender: bytes
    first: BlockHeader | Vote
    second: BlockHeader | Vote


Action = (
    ProduceBlock
    | ApplyHead
    | CastVote
    | Finalized
    | FetchAncestors
    | RejectHeader
    | RejectVote
    | Evidence
)


# -- state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    tree: ForkTree
    head: bytes
    finalized: Checkpoint
    voter: VoterRecord = field(default_factory=VoterRecord)
    # vote data -> {voter: signature}
    votes: dict[VoteData, dict[bytes, bytes]] = field(default_factory=dict)
    # voter -> recent vote data it signed (for evidence)
    history: dict[bytes, tuple[VoteData, ...]] = field(default_factory=dict)
    produced_slot: int = -1
    clock_slot: int = -1  # the latest slot a tick announced; -1 until the first tick
    reported: frozenset[tuple[str, bytes]] = frozenset()  # (kind, offender) already reported


def root_block(
    header: BlockHeader,
    block_hash: bytes,
    block_time_ms: int,
    seed: bytes | None = None,
    justified: Checkpoint | None = None,
) -> TreeBlock:
    """The tree root: genesis, or on restart the last finalized block. For the latter the
    node persists what the block knew on its branch, its round seed and its latest justified
    checkpoint, since the next attestation's source must equal that checkpoint."""
    cp = Checkpoint(header.height, block_hash)
    slot = slot_of(header.timestamp_ms, block_time_ms)
    return TreeBlock(
        header, block_hash, slot, justified or cp, cp, seed if seed is not None else block_hash
    )


def initial_state(root: TreeBlock, voter: VoterRecord | None = None) -> State:
    return State(ForkTree.from_root(root), root.hash, root.checkpoint, voter or VoterRecord())


def step(config: Config, state: State, event: Event) -> tuple[State, list[Action]]:
    if isinstance(event, Tick):
        return _on_tick(config, state, event)
    if isinstance(event, HeaderReceived):
        return _on_header(config, state, event)
    if isinstance(event, HeadApplied):
        return _on_head_applied(config, state, event)
    if isinstance(event, BlockInvalid):
        return _choose_head(replace(state, tree=state.tree.remove_subtree(event.hash)), [])
    return _on_vote(config, state, event)


# -- production -----------------------------------------------------------------------------


def _seed_for(parent: TreeBlock, slot: int, size: int) -> bytes:
    same_round = parent.height > 0 and round_of(parent.slot, size) == round_of(slot, size)
    return parent.seed if same_round else parent.hash


def scheduled(config: Config, parent: TreeBlock, slot: int) -> bytes:
    """Who may produce at `slot` on top of `parent`."""
    active = config.active_for_slot(slot)
    return producer_for(round_order(active, _seed_for(parent, slot, config.slots_per_round)), slot)


def _on_tick(config: Config, state: State, event: Tick) -> tuple[State, list[Action]]:
    head = state.tree.blocks[state.head]
    slot = event.slot
    if slot > state.clock_slot:
        state = replace(state, clock_slot=slot)
    if config.key is None or slot <= head.slot or slot <= state.produced_slot:
        return state, []
    if scheduled(config, head, slot) != config.key:
        return state, []
    if event.early and head.slot != slot - 1 and head.height > 0:
        return state, []
    return replace(state, produced_slot=slot), [
        ProduceBlock(slot, head.hash, best_attestation(config, state, head))
    ]


def best_attestation(config: Config, state: State, head: TreeBlock) -> Attestation | None:
    if head.hash == state.tree.root and head.height == 0:
        return None
    data = VoteData(head.justified.height, head.justified.hash, head.height, head.hash)
    return held_link(state.votes, config.active_for_slot(head.slot), data)


# -- headers --------------------------------------------------------------------------------


def check_header(
    config: Config, parent: TreeBlock, header: BlockHeader, block_hash: bytes
) -> tuple[TreeBlock | None, str]:
    """The consensus rules of a header on top of `parent`: slot order, the scheduled
    producer, its signature and its attestation. Returns (block, "") or (None, reason)."""
    slot = slot_of(header.timestamp_ms, config.block_time_ms)
    if header.height != parent.height + 1:
        return None, "height is not parent + 1"
    if slot <= parent.slot:
        return None, "slot not after the parent's"
    if header.generator_public_key != scheduled(config, parent, slot):
        return None, "generator is not scheduled for this slot"
    if not config.verify(
        header.generator_public_key, header.signing_bytes(config.network_id), header.block_signature
    ):
        return None, "bad block signature"
    justified, finalized = parent.justified, parent.finalized
    att = header.attestation
    if att is not None:
        reason = _check_attestation(config, parent, att)
        if reason:
            return None, reason
        justified = parent.checkpoint
        if parent.justified.height == parent.height - 1 and parent.justified.hash == parent.parent:
            finalized = parent.justified
    size = config.slots_per_round
    return TreeBlock(
        header, block_hash, slot, justified, finalized, _seed_for(parent, slot, size)
    ), ""


def _check_attestation(config: Config, parent: TreeBlock, att: Attestation) -> str:
    if (att.target_height, att.target_hash) != (parent.height, parent.hash):
        return "attestation does not target the parent"
    if (att.source_height, att.source_hash) != (parent.justified.height, parent.justified.hash):
        return "attestation source is not the parent's justified checkpoint"
    # The target (the parent) was voted on by the active set of its own round.
    members = config.active_for_slot(parent.slot)
    active = set(members)
    if len(att.votes) < threshold(len(members)):
        return "attestation below the supermajority"
    data = VoteData(att.source_height, att.source_hash, att.target_height, att.target_hash)
    message = data.signing_bytes(config.network_id)
    for vote in att.votes:
        if vote.public_key not in active:
            return "attestation signer outside the active set"
        if not config.verify(vote.public_key, message, vote.signature):
            return "attestation signature does not verify"
    return ""


def _on_header(config: Config, state: State, event: HeaderReceived) -> tuple[State, list[Action]]:
    header = event.header
    block_hash = header.hash(config.network_id)
    if block_hash in state.tree or header.height <= state.finalized.height:
        return state, []
    parent = state.tree.get(header.previous_block_hash)
    if parent is None:
        if header.height <= state.finalized.height + 1:
            # Its parent would be at or below our finalized height, yet it is not our
            # finalized block: the header is on a branch that conflicts with finality.
            return state, [RejectHeader(block_hash, event.origin, "conflicts with finality")]
        return state, [FetchAncestors(header, event.origin)]
    block, reason = check_header(config, parent, header, block_hash)
    if block is None:
        return state, [RejectHeader(block_hash, event.origin, reason)]
    if state.clock_slot >= 0 and block.slot > state.clock_slot + 1:
        # One slot of clock skew is tolerated; a block from further ahead is refused (it
        # may come back once its slot arrives).
        return state, [RejectHeader(block_hash, event.origin, "slot is in the future")]
    actions: list[Action] = []
    twin = state.tree.same_slot_sibling(block)
    offender = block.header.generator_public_key
    if twin is not None and ("double-block", offender) not in state.reported:
        actions.append(Evidence("double-block", offender, twin.header, header))
        state = replace(state, reported=state.reported | {("double-block", offender)})
    state = replace(state, tree=state.tree.add(block))
    return _choose_head(state, actions)


def _choose_head(state: State, actions: list[Action]) -> tuple[State, list[Action]]:
    best = state.tree.best_leaf()
    current = state.tree.blocks.get(state.head)
    if current is None:  # the head was removed as invalid: fall back to the best leaf
        state = replace(state, head=state.tree.root)
        current = state.tree.root_block
    if best.hash != current.hash and _better(best, current):
        path = tuple(b.hash for b in state.tree.path_from_root(best.hash))
        actions.append(ApplyHead(best.hash, path))
    return state, actions


def _better(a: TreeBlock, b: TreeBlock) -> bool:
    return fork_choice_key(a) < fork_choice_key(b)


# -- applied heads: finality and voting -------------------------------------------------------


def _on_head_applied(
    config: Config, state: State, event: HeadApplied
) -> tuple[State, list[Action]]:
    block = state.tree.get(event.hash)
    if block is None:
        return state, []
    state = replace(state, head=event.hash)
    actions: list[Action] = []
    active = config.active_for_slot(block.slot)
    if config.key is not None and config.sign is not None and config.key in active:
        data = VoteData(block.justified.height, block.justified.hash, block.height, block.hash)
        if block.height > 0 and state.voter.allows(data):
            record = state.voter.after(data)
            vote = Vote(data, config.key, config.sign(data.signing_bytes(config.network_id)))
            state = _add_vote(replace(state, voter=record), vote)
            actions.append(CastVote(vote, record))
    return _finality(config, state, block.finalized, actions)


def _finality(
    config: Config, state: State, by_headers: Checkpoint, actions: list[Action]
) -> tuple[State, list[Action]]:
    """Finalize the highest of what the head's headers say (`by_headers`) and what the
    votes held prove, once; a certificate goes with finality the headers do not show yet."""
    found = final_by_votes(
        state.tree, state.head, state.finalized.height, state.votes, config.active_for_slot
    )
    if found is not None and found[0].height > by_headers.height:
        block, certificate = found
        state = _finalize(state, block.checkpoint)
        actions.append(Finalized(block.checkpoint, certificate))
    elif by_headers.height > state.finalized.height:
        state = _finalize(state, by_headers)
        actions.append(Finalized(by_headers))
    return state, actions


def _finalize(state: State, checkpoint: Checkpoint) -> State:
    tree = state.tree.prune(checkpoint.hash)
    votes = {d: s for d, s in state.votes.items() if d.target_height > checkpoint.height}
    return replace(state, tree=tree, finalized=checkpoint, votes=votes)


# -- votes ----------------------------------------------------------------------------------


def _on_vote(config: Config, state: State, event: VoteReceived) -> tuple[State, list[Action]]:
    vote = event.vote
    data = vote.data
    target = state.tree.get(data.target_hash)
    members = config.active_for_slot(target.slot) if target is not None else _all_sets(config)
    if vote.voter not in members:
        return state, [RejectVote(event.origin, "voter outside the active set")]
    if data.target_height <= state.finalized.height:
        return state, []  # stale, harmless
    if vote.signature == state.votes.get(data, {}).get(vote.voter):
        return state, []  # duplicate
    if not config.verify(vote.voter, data.signing_bytes(config.network_id), vote.signature):
        return state, [RejectVote(event.origin, "vote signature does not verify")]
    actions: list[Action] = []
    for earlier in state.history.get(vote.voter, ()):
        signed = state.votes.get(earlier, {}).get(vote.voter)
        if signed is None:
            continue  # its signature was pruned with finality: no provable evidence left
        if conflicting(earlier, data) and ("double-vote", vote.voter) not in state.reported:
            first = Vote(earlier, vote.voter, signed)
            actions.append(Evidence("double-vote", vote.voter, first, vote))
            state = replace(state, reported=state.reported | {("double-vote", vote.voter)})
            break
    state = _add_vote(state, vote)
    if target is None or target.height <= state.finalized.height:
        return state, actions
    return _finality(config, state, state.finalized, actions)


def _all_sets(config: Config) -> tuple[bytes, ...]:
    """Members of any known round's set (a vote for a block we have not seen yet)."""
    members = set(config.active)
    for _round, keys in config.round_sets:
        members.update(keys)
    return tuple(members)


def _add_vote(state: State, vote: Vote) -> State:
    votes = dict(state.votes)
    signers = dict(votes.get(vote.data, {}))
    signers[vote.voter] = vote.signature
    votes[vote.data] = signers
    history = dict(state.history)
    history[vote.voter] = (*history.get(vote.voter, ()), vote.data)[-MAX_VOTES_KEPT_PER_VOTER:]
    return replace(state, votes=votes, history=history)
