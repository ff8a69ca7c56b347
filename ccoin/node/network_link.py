"""Between the node and the P2P network: what each inbound message means for the node
(transactions to the pool, blocks and votes to consensus, range requests served from the
chain) and the node's outbound gossip, fetches and periodic catch-up."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING

import trio

from ccoin.consensus import machine as m
from ccoin.consensus.votes import Vote
from ccoin.errors import CcoinError, ConfigError, ErrorCode
from ccoin.node.log import event
from ccoin.p2p.certs import load_identity
from ccoin.p2p.messages import (
    Blocks,
    GetBlocks,
    Message,
    NewBlock,
    Status,
    Transactions,
    Votes,
)
from ccoin.p2p.network import Network
from ccoin.storage import schema
from ccoin.types.block import Block
from ccoin.types.transaction import Transaction

if TYPE_CHECKING:
    from ccoin.node.service import Node

PROTOCOL_VERSION = 1
MAX_BLOCKS_PER_RESPONSE = 200
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
FETCH_TIMEOUT = 5.0
SYNC_INTERVAL = 1.0
MAX_CACHED_BLOCKS = 4096  # bodies kept for blocks not yet applied or final
# Gossip reaches a node from several peers; the bytes of recently seen transactions are
# remembered (by a 16-byte digest) so a copy is dropped before it is decoded or verified.
MAX_SEEN_TRANSACTIONS = 300_000
MAX_DECODED_TRANSACTIONS = 50_000  # decoded gossip kept for the blocks that carry it


class SeenTransactions:
    def __init__(
        self, capacity: int = MAX_SEEN_TRANSACTIONS, decoded: int = MAX_DECODED_TRANSACTIONS
    ) -> None:
        self.capacity = capacity
        self._digests: OrderedDict[bytes, None] = OrderedDict()
        self._decoded_capacity = decoded
        self._decoded: OrderedDict[bytes, Transaction] = OrderedDict()  # wire bytes -> tx

    def remember(self, tx: Transaction) -> None:
        self._decoded[tx.encode()] = tx
        if len(self._decoded) > self._decoded_capacity:
            self._decoded.popitem(last=False)

    def decoded(self, raw: bytes) -> Transaction | None:
        """The transaction these exact bytes decoded to, if gossip brought it lately."""
        return self._decoded.get(raw)

    def first_sighting(self, raw: bytes) -> bool:
        """True the first time these bytes are seen (and remembers them)."""
        digest = hashlib.blake2b(raw, digest_size=16).digest()
        if digest in self._digests:
            return False
        self._digests[digest] = None
        if len(self._digests) > self.capacity:
            self._digests.popitem(last=False)
        return True


class NetworkLink:
    def __init__(self, node: Node, network: Network) -> None:
        self.node = node
        self.network = network
        self._fetching: dict[bytes, float] = {}  # peer -> when a fetch was sent
        self._nursery: trio.Nursery | None = None
        self.seen = SeenTransactions()

    @classmethod
    def create(cls, node: Node) -> NetworkLink:
        p2p = node.config.p2p
        assert p2p is not None
        if not node.genesis.network_ca:
            raise ConfigError(ErrorCode.CONFIG_INVALID, "p2p needs networkCa in the genesis file")
        try:
            identity = load_identity(p2p.cert, p2p.key)
        except (OSError, ValueError) as exc:
            raise ConfigError(ErrorCode.CONFIG_INVALID, f"p2p certificate: {exc}") from None
        link: NetworkLink
        network = Network(
            identity,
            node.genesis.network_ca.encode(),
            network_id=node.network_id,
            listen=p2p.listen,
            peers=list(p2p.peers),
            status=lambda: link.status(),
            is_revoked=lambda fp: node.store.get(schema.revoked_cert(fp)) is not None,
        )
        link = cls(node, network)
        return link

    def status(self) -> Status:
        chain = self.node.chain
        final = chain.header_at(chain.finalized_height)
        assert final is not None
        return Status(
            PROTOCOL_VERSION,
            self.node.network_id,
            self.node.config.name,
            chain.height,
            chain.head.hash(self.node.network_id),
            chain.finalized_height,
            final.hash(self.node.network_id),
        )

    def peer_count(self) -> int:
        return len(self.network.peers())

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(self.network.run)
            nursery.start_soon(self._inbox_loop)
            nursery.start_soon(self._catch_up_loop)
            task_status.started()

    # -- outbound -------------------------------------------------------------------------

    def broadcast_block(self, block: Block) -> None:
        self.network.broadcast(NewBlock(block.encode()))

    def broadcast_vote(self, vote: Vote) -> None:
        self.network.broadcast(Votes((vote.encode(),)))

    def broadcast_transactions(self, txs: list[Transaction], exclude: bytes | None = None) -> None:
        for i in range(0, len(txs), 1000):
            batch = tuple(tx.encode() for tx in txs[i : i + 1000])
            for tx, raw in zip(txs[i : i + 1000], batch, strict=True):
                self.seen.first_sighting(raw)  # our own gossip echoing back is a copy
                self.seen.remember(tx)
            self.network.broadcast(Transactions(batch), exclude=exclude)

    def announce_status(self) -> None:
        self.network.broadcast(self.status())
        # A type-9 revocation in the new head takes effect on live connections too.
        self.network.disconnect_revoked()

    def penalize(self, origin: str, reason: str) -> None:
        peer = _peer(origin)
        if peer is not None:
            self.network.penalize(peer, reason)

    def fetch(self, origin: str, from_height: int) -> None:
        peer = _peer(origin)
        if peer is None:
            return
        now = trio.current_time()
        if now - self._fetching.get(peer, -FETCH_TIMEOUT) < FETCH_TIMEOUT:
            return
        self._fetching[peer] = now
        self._send_soon(peer, GetBlocks(from_height, MAX_BLOCKS_PER_RESPONSE))

    def _send_soon(self, peer: bytes, message: Message) -> None:
        """`Network.send` waits for queue space; the consensus task must never block on a
        peer, so the send runs in the link's own nursery."""
        if self._nursery is not None:
            self._nursery.start_soon(self.network.send, peer, message)

    # -- inbound --------------------------------------------------------------------------

    async def _inbox_loop(self) -> None:
        async for peer, message in self.network.inbox:
            try:
                await self._on_message(peer, message)
            except CcoinError as exc:
                event("bad_message", peer=peer.hex()[:16], code=exc.code.name)
                self.network.penalize(peer, "invalid_message")

    async def _on_message(self, peer: bytes, message: Message) -> None:
        origin = peer.hex()
        if isinstance(message, Transactions):
            txs = [
                Transaction.decode(raw) for raw in message.items if self.seen.first_sighting(raw)
            ]
            if not txs:
                return
            for tx in txs:
                self.seen.remember(tx)
            results = await self.node.submit(txs, gossip=False)
            admitted = [tx for tx, r in zip(txs, results, strict=True) if r.error is None]
            if admitted:
                self.broadcast_transactions(admitted, exclude=peer)
        elif isinstance(message, NewBlock):
            self._receive_block(Block.decode(message.block, self.seen.decoded), origin)
        elif isinstance(message, Blocks):
            self._fetching.pop(peer, None)
            for raw in message.items:
                self._receive_block(Block.decode(raw, self.seen.decoded), origin)
        elif isinstance(message, Votes):
            for raw in message.items:
                self.node.post(m.VoteReceived(Vote.decode(raw), origin))
        elif isinstance(message, GetBlocks):
            await self._serve_blocks(peer, message)

    def _receive_block(self, block: Block, origin: str) -> None:
        if block.payload_hash() != block.header.payload_hash:
            self.penalize(origin, "invalid_block")
            return
        block_hash = block.header.hash(self.node.network_id)
        cache = self.node.blocks
        if block_hash not in cache and len(cache) < MAX_CACHED_BLOCKS:
            cache[block_hash] = block
        self.node.post(m.HeaderReceived(block.header, origin))

    async def _serve_blocks(self, peer: bytes, request: GetBlocks) -> None:
        chain = self.node.chain
        last = min(chain.height, request.from_height + request.max_count - 1)
        items: list[bytes] = []
        size = 0
        for height in range(max(1, request.from_height), last + 1):
            header = chain.header_at(height)
            # Recent blocks are in memory with their encodings cached; older ones are read
            # back from the database.
            block = (
                None if header is None else self.node.blocks.get(header.hash(self.node.network_id))
            )
            block = block or chain.block_at(height)
            if block is None:
                break
            raw = block.encode()
            size += len(raw)
            if size > MAX_RESPONSE_BYTES and items:
                break
            items.append(raw)
        await self.network.send(peer, Blocks(tuple(items)))

    async def _catch_up_loop(self) -> None:
        """Ask a peer that is ahead for the blocks above our finalized height."""
        while True:
            await trio.sleep(SYNC_INTERVAL)
            chain = self.node.chain
            for info in self.network.peers():
                if info.status.head_height > chain.height + 1:
                    # From just below our head: blocks that do not connect start a
                    # windowed search for the fork point (`FetchAncestors`).
                    start = max(chain.finalized_height + 1, chain.height - 1)
                    self.fetch(info.fingerprint.hex(), start)
                    break


def _peer(origin: str) -> bytes | None:
    if len(origin) != 64:
        return None
    try:
        return bytes.fromhex(origin)
    except ValueError:
        return None
