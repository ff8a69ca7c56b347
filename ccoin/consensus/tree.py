"""The fork tree of unfinalized headers: justification, finality and fork choice.

Each block records, for its own branch, the latest justified and finalized checkpoints and
its round seed. A block's attestation targets its parent; it justifies the parent, and when
the attestation's source is the parent's own parent (the parent was justified by the block
before it), that source is finalized: h is final once h+1 and h+2 carry attestations.

Fork choice (DESIGN section 6): the leaf with the highest justified checkpoint, then the
highest height, then the lowest hash, among descendants of the finalized block only, so a
finalized block is never reverted. The tree is an immutable value: `add` and `prune` return
new trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ccoin.types.block import BlockHeader


@dataclass(frozen=True, order=True)
class Checkpoint:
    height: int
    hash: bytes


def fork_choice_key(block: TreeBlock) -> tuple[int, int, int, bytes]:
    """Smaller is better: highest justified, then highest, then earliest slot (a block
    that came late for its height loses to the one already built on in time: fewer nodes
    roll back), then lowest hash (deterministic)."""
    return (-block.justified.height, -block.height, block.slot, block.hash)


@dataclass(frozen=True)
class TreeBlock:
    header: BlockHeader
    hash: bytes
    slot: int
    justified: Checkpoint
    finalized: Checkpoint
    seed: bytes  # the round seed on this block's branch

    @property
    def height(self) -> int:
        return self.header.height

    @property
    def parent(self) -> bytes:
        return self.header.previous_block_hash

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.header.height, self.hash)


@dataclass(frozen=True)
class ForkTree:
    root: bytes
    blocks: dict[bytes, TreeBlock] = field(default_factory=dict)
    children: dict[bytes, tuple[bytes, ...]] = field(default_factory=dict)

    @classmethod
    def from_root(cls, root: TreeBlock) -> ForkTree:
        return cls(root.hash, {root.hash: root}, {root.hash: ()})

    def __contains__(self, block_hash: bytes) -> bool:
        return block_hash in self.blocks

    def get(self, block_hash: bytes) -> TreeBlock | None:
        return self.blocks.get(block_hash)

    @property
    def root_block(self) -> TreeBlock:
        return self.blocks[self.root]

    def add(self, block: TreeBlock) -> ForkTree:
        blocks = dict(self.blocks)
        blocks[block.hash] = block
        children = dict(self.children)
        children[block.parent] = (*children.get(block.parent, ()), block.hash)
        children[block.hash] = ()
        return ForkTree(self.root, blocks, children)

    def descendants(self, block_hash: bytes) -> list[bytes]:
        out: list[bytes] = []
        stack = [block_hash]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(self.children.get(current, ()))
        return out

    def remove_subtree(self, block_hash: bytes) -> ForkTree:
        """Drop a block (found invalid) and everything built on it."""
        if block_hash == self.root or block_hash not in self.blocks:
            return self
        gone = set(self.descendants(block_hash))
        parent = self.blocks[block_hash].parent
        blocks = {h: b for h, b in self.blocks.items() if h not in gone}
        children = {h: c for h, c in self.children.items() if h not in gone}
        children[parent] = tuple(c for c in children.get(parent, ()) if c != block_hash)
        return ForkTree(self.root, blocks, children)

    def prune(self, new_root: bytes) -> ForkTree:
        """Keep `new_root` (a finalized block) and its descendants only."""
        if new_root == self.root:
            return self
        keep = set(self.descendants(new_root))
        blocks = {h: b for h, b in self.blocks.items() if h in keep}
        children = {h: c for h, c in self.children.items() if h in keep}
        return ForkTree(new_root, blocks, children)

    def leaves(self) -> list[TreeBlock]:
        return [self.blocks[h] for h, kids in self.children.items() if not kids]

    def best_leaf(self) -> TreeBlock:
        """Highest justified, then highest, then earliest slot, then lowest hash."""
        return min(self.leaves(), key=fork_choice_key)

    def path_from_root(self, block_hash: bytes) -> list[TreeBlock]:
        """Blocks from the root (exclusive) down to `block_hash` (inclusive)."""
        path = []
        current = self.blocks[block_hash]
        while current.hash != self.root:
            path.append(current)
            current = self.blocks[current.parent]
        path.reverse()
        return path

    def is_ancestor(self, ancestor: bytes, block_hash: bytes) -> bool:
        current = self.blocks.get(block_hash)
        while current is not None:
            if current.hash == ancestor:
                return True
            if current.hash == self.root:
                return False
            current = self.blocks.get(current.parent)
        return False

    def same_slot_sibling(self, block: TreeBlock) -> TreeBlock | None:
        """Another block by the same generator for the same slot (equivocation), if any."""
        for other in self.blocks.values():
            if (
                other.slot == block.slot
                and other.hash != block.hash
                and other.header.generator_public_key == block.header.generator_public_key
            ):
                return other
        return None
