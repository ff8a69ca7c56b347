"""The BSC contracts on a real anvil (chain id 97, a block per transaction): anchors need
floor(2n/3)+1 distinct sorted signatures of the current set over the domain-tagged digest;
sets hand over only when the old set signs; deposits lock and number; withdrawals release
once on a proof under an anchored range; the guardian only pauses."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge import digests
from ccoin.bridge.anchors import block_leaf, range_root
from ccoin.bridge.attester import DepositAttester
from ccoin.bridge.digests import ordered, sign_digest, sorted_members
from ccoin.bridge.evm import Contract, EvmClient, EvmReverted, create_address, deploy, new_account
from ccoin.bridge.proofs import withdrawal_proof
from ccoin.bridge.relayer import Relayer
from ccoin.bridge.signer import BridgeRefusal, BridgeSigner
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.main import cli
from ccoin.crypto.address import address_raw
from ccoin.errors import ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.modules.bridge.rules import withdrawal_leaf
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.bridge import LocalDelegate, LocalSidechain, bridged_testnet, sole_producer
from ccoin.types.merkle import inclusion_proof, merkle_root
from ccoin.types.transaction import Transaction

NETWORK_ID = keccak(b"ccoin-bridge-test-network")
SUPPLY = 10**12
FIRST_HEIGHT = 1


def bridge_keys(label: str, count: int) -> list[LocalAccount]:
    keys = [new_account(keccak(f"{label}-{i}".encode())) for i in range(count)]
    return sorted(keys, key=lambda k: int(k.address, 16))


@dataclass
class Deployed:
    client: EvmClient
    owner: LocalAccount
    user: LocalAccount
    guardian: LocalAccount
    token: Contract
    anchor: Contract
    bridge: Contract
    keys: list[LocalAccount]


@pytest.fixture(scope="module")
def chain() -> Iterator[EvmClient]:
    with start_anvil(chain_id=97, block_time=0, accounts=4) as node, EvmClient(node.url) as client:
        yield client


@pytest.fixture
def env(chain: EvmClient) -> Deployed:
    owner, user, guardian = (new_account(a.key) for a in dev_accounts(3))
    keys = bridge_keys("set0", 4)
    token = deploy(chain, owner, load_artifact("CarbonCoin"), SUPPLY)
    anchor = deploy(
        chain, owner, load_artifact("Anchor"), NETWORK_ID, [k.address for k in keys], FIRST_HEIGHT
    )
    bridge = deploy(
        chain, owner, load_artifact("Bridge"), token.address, anchor.address, guardian.address
    )
    token.send(chain, owner, "transfer", user.address, 10**9)
    return Deployed(chain, owner, user, guardian, token, anchor, bridge, keys)


def sign(digest: bytes, signers: list[LocalAccount]) -> list[bytes]:
    """In the order given (tests pass unsorted and duplicate lists on purpose)."""
    return [sign_digest(k, digest) for k in signers]


def anchor_digest(env: Deployed, start: int, end: int, root: bytes, *, chain_id: int = 97) -> bytes:
    set_id = env.anchor.read(env.client, "setId")
    return digests.anchor_digest(chain_id, env.anchor.address, NETWORK_ID, set_id, start, end, root)


def submit(env: Deployed, start: int, end: int, root: bytes, signatures: list[bytes]) -> Any:
    return env.anchor.send(env.client, env.owner, "submitAnchor", start, end, root, signatures)


def reverted(reason: str) -> Any:
    return pytest.raises(EvmReverted, match=reason)


def block_leaves(start: int, roots: list[bytes]) -> list[bytes]:
    """Per-block leaf data (height, block hash, withdrawalRoot, retirementRoot), as the
    sidechain makes it, for blocks that retire nothing."""
    return [
        block_leaf(start + i, keccak(b"block-%d" % (start + i)), roots[i], bytes(32))
        for i in range(len(roots))
    ]


def test_the_digest_is_what_the_contract_computes(env: Deployed) -> None:
    root = keccak(b"root")
    assert env.anchor.read(env.client, "anchorDigest", 1, 4, root) == anchor_digest(env, 1, 4, root)
    assert env.anchor.read(env.client, "quorum") == 3


def test_anchors_need_a_sorted_quorum_of_the_current_set(env: Deployed) -> None:
    keys, root = env.keys, keccak(b"root-1")
    digest = anchor_digest(env, 1, 4, root)
    with reverted("too few signatures"):
        submit(env, 1, 4, root, sign(digest, keys[:2]))
    with reverted("not sorted or duplicated"):
        submit(env, 1, 4, root, sign(digest, [keys[0], keys[0], keys[1]]))
    with reverted("not sorted or duplicated"):
        submit(env, 1, 4, root, sign(digest, [keys[1], keys[0], keys[2]]))
    outsider = bridge_keys("outsider", 1)[0]
    strangers = sorted([keys[0], keys[1], outsider], key=lambda k: int(k.address, 16))
    with reverted("not in the current set"):
        submit(env, 1, 4, root, sign(digest, strangers))
    wrong_chain = anchor_digest(env, 1, 4, root, chain_id=56)
    with reverted("not in the current set"):
        submit(env, 1, 4, root, sign(wrong_chain, keys[:3]))
    zero = bytes(32)
    with reverted("zero root"):
        submit(env, 1, 4, zero, sign(anchor_digest(env, 1, 4, zero), keys[:3]))
    with reverted("not the next range"):
        submit(env, 2, 4, root, sign(anchor_digest(env, 2, 4, root), keys[:3]))
    gathered = [(k.address, sign_digest(k, digest)) for k in reversed(keys[1:])]
    submit(env, 1, 4, root, ordered(gathered))  # any quorum, put in the contract's order
    assert env.anchor.read(env.client, "nextHeight") == 5
    assert env.anchor.read(env.client, "rangeCount") == 1
    with reverted("not the next range"):  # the same range again: a duplicate
        submit(env, 1, 4, root, sign(digest, keys[:3]))
    with reverted("not the next range"):  # a gap
        submit(env, 6, 9, root, sign(anchor_digest(env, 6, 9, root), keys[:3]))


def test_a_new_set_needs_the_old_one_and_the_old_one_is_done(env: Deployed) -> None:
    client, old = env.client, env.keys
    new = bridge_keys("set1", 7)
    members = [k.address for k in new]
    digest = env.anchor.read(client, "setDigest", members)
    assert digest == digests.set_digest(97, env.anchor.address, NETWORK_ID, 0, members)
    with reverted("not in the current set"):
        env.anchor.send(client, env.owner, "changeSet", members, sign(digest, new[:5]))
    env.anchor.send(client, env.owner, "changeSet", members, sign(digest, old[:3]))
    assert env.anchor.read(client, "setId") == 1
    assert [a.lower() for a in env.anchor.read(client, "members")] == [m.lower() for m in members]
    root = keccak(b"after")
    with reverted("too few signatures"):
        submit(env, 1, 2, root, sign(anchor_digest(env, 1, 2, root), old[:3]))
    mixed = sorted([*old, new[0]], key=lambda k: int(k.address, 16))  # five, four of them old
    with reverted("not in the current set"):
        submit(env, 1, 2, root, sign(anchor_digest(env, 1, 2, root), mixed))
    submit(env, 1, 2, root, sign(anchor_digest(env, 1, 2, root), new[:5]))  # quorum of 7


def test_deposits_lock_and_withdrawals_release_once(env: Deployed) -> None:
    client, user = env.client, env.user
    env.token.send(client, user, "approve", env.bridge.address, 5_001)
    recipient = address_raw(f.key("bsc-depositor").address)  # 12 bytes + checksum
    env.bridge.send(client, user, "deposit", recipient, 5_000)
    env.bridge.send(client, user, "deposit", recipient, 1)
    with reverted("allowance too low"):
        env.bridge.send(client, user, "deposit", recipient, 1)
    assert env.bridge.read(client, "depositCount") == 2
    assert env.token.read(client, "balanceOf", env.bridge.address) == 5_001
    with reverted("14 bytes"):
        env.bridge.send(client, user, "deposit", bytes(13), 1)
    with reverted("recipient checksum"):  # a typo would lock the C for good
        env.bridge.send(client, user, "deposit", recipient[:13] + bytes([recipient[13] ^ 1]), 1)

    # Block 2 of a 3-block range carries two withdrawals; the range is anchored.
    payee = new_account(keccak(b"payee"))
    withdrawals = [
        (keccak(b"w-1"), payee.address, 1_200),
        (keccak(b"w-2"), user.address, 300),
    ]
    leaves = [
        withdrawal_leaf(wid, bytes.fromhex(to[2:]), amount) for wid, to, amount in withdrawals
    ]
    withdrawal_root = merkle_root(leaves)
    blocks = block_leaves(1, [bytes(32), withdrawal_root, bytes(32)])
    range_root = merkle_root(blocks)
    submit(env, 1, 3, range_root, sign(anchor_digest(env, 1, 3, range_root), env.keys[:3]))

    block = (0, 2, keccak(b"block-2"), withdrawal_root, bytes(32), inclusion_proof(blocks, 1))
    first = (*withdrawals[0], 0, 2, inclusion_proof(leaves, 0))
    env.bridge.send(client, user, "withdraw", block, first)
    assert env.token.read(client, "balanceOf", payee.address) == 1_200
    with reverted("already withdrawn"):
        env.bridge.send(client, user, "withdraw", block, first)
    forged = (keccak(b"w-3"), user.address, 4_000, 0, 2, inclusion_proof(leaves, 0))
    with reverted("withdrawal not in the block"):
        env.bridge.send(client, user, "withdraw", block, forged)
    unanchored = (1, 2, keccak(b"block-2"), withdrawal_root, bytes(32), inclusion_proof(blocks, 1))
    second = (*withdrawals[1], 1, 2, inclusion_proof(leaves, 1))
    with reverted("block not anchored"):
        env.bridge.send(client, user, "withdraw", unanchored, second)
    env.bridge.send(client, user, "withdraw", block, second)
    assert env.token.read(client, "balanceOf", env.bridge.address) == 5_001 - 1_500

    with reverted("only the guardian"):
        env.bridge.send(client, user, "pause")
    env.bridge.send(client, env.guardian, "pause")
    with reverted("paused"):
        env.bridge.send(client, user, "deposit", recipient, 1)


def test_the_token_is_a_plain_bep20(env: Deployed) -> None:
    client = env.client
    assert env.token.read(client, "decimals") == 4
    assert env.token.read(client, "symbol") == "C"
    assert env.token.read(client, "totalSupply") == SUPPLY
    assert env.token.read(client, "getOwner").lower() == env.owner.address.lower()
    with reverted("balance too low"):
        env.token.send(client, env.guardian, "transfer", env.user.address, 1)


def test_no_account_is_special(env: Deployed) -> None:
    """Nothing in the ABIs lets anyone set roots or sets but the two signed paths."""
    anchor_writes = {
        e["name"]
        for e in env.anchor.abi
        if e.get("type") == "function" and e.get("stateMutability") not in ("view", "pure")
    }
    assert anchor_writes == {"submitAnchor", "changeSet"}
    bridge_writes = {
        e["name"]
        for e in env.bridge.abi
        if e.get("type") == "function" and e.get("stateMutability") not in ("view", "pure")
    }
    assert bridge_writes == {"deposit", "withdraw", "pause"}


def test_a_sidechain_withdrawal_is_released_once_on_bsc(env: Deployed) -> None:
    """A real chain (bridge configured, one delegate) finalizes two withdrawals among other
    blocks; the node's proof releases one on BSC after its range is anchored, once."""
    client, user = env.client, env.user
    net = f.make_testnet(accounts=8, delegates=1)
    config = BridgeConfig(net.accounts[6].address, 97, bytes.fromhex(env.bridge.address[2:]), 0)
    genesis = dataclasses.replace(net.genesis, bridge=config)
    chain = Chain(MemoryStore(), genesis)
    nid = chain.network_id
    payee = new_account(keccak(b"sidechain-payee"))
    to = bytes.fromhex(payee.address[2:])
    txs = [f.withdraw(net.accounts[1], to, 700, nid), f.withdraw(net.accounts[2], to, 50, nid)]
    for batch in ([], txs, []):
        chain.build_block(batch, chain.head.timestamp_ms + 1000, net.delegates[0])
    chain.set_finalized(chain.height)
    proof = withdrawal_proof(chain, txs[0].id(nid), 1, 3)
    assert (proof.block.height, proof.leaf_index, proof.leaf_count) == (2, 0, 2)

    # The Bridge holds C (a deposit), the range 1-3 is anchored by the delegate set.
    env.token.send(client, user, "approve", env.bridge.address, 1_000)
    env.bridge.send(client, user, "deposit", address_raw(f.key("someone").address), 1_000)
    root = proof.block.range_root
    submit(env, 1, 3, root, sign(anchor_digest(env, 1, 3, root), env.keys[:3]))
    block, withdrawal = proof.bridge_arguments(range_index=0)
    env.bridge.send(client, user, "withdraw", block, withdrawal)
    assert env.token.read(client, "balanceOf", payee.address) == 700
    with reverted("already withdrawn"):
        env.bridge.send(client, user, "withdraw", block, withdrawal)
    second = withdrawal_proof(chain, txs[1].id(nid), 1, 3)
    env.bridge.send(client, user, "withdraw", *second.bridge_arguments(range_index=0))
    assert env.token.read(client, "balanceOf", env.bridge.address) == 1_000 - 750


def test_delegate_signers_anchor_their_finalized_chain(chain: EvmClient) -> None:
    owner = new_account(dev_accounts(1)[0].key)
    keys = [new_account(keccak(b"delegate-bridge-%d" % i)) for i in range(3)]
    net, sidechain = bridged_testnet(keys)
    for _ in range(4):
        sidechain.build_block([], sidechain.head.timestamp_ms + 1000, net.delegates[0])
    early = BridgeSigner(sidechain, keys[0], 97, "0x" + "00" * 20)
    with pytest.raises(BridgeRefusal) as refused:
        early.elected_members()  # nothing final yet
    assert refused.value.code is ErrorCode.BRIDGE_NOT_FINAL
    sidechain.set_finalized(3)
    members = early.elected_members()
    assert list(members) == sorted_members(k.address for k in keys)
    anchor = deploy(chain, owner, load_artifact("Anchor"), sidechain.network_id, list(members), 1)
    signers = [BridgeSigner(sidechain, k, 97, anchor.address) for k in keys]

    with pytest.raises(BridgeRefusal) as refused:
        signers[0].sign_anchor(97, anchor.address, 0, 1, 4)  # height 4 is not final
    assert refused.value.code is ErrorCode.BRIDGE_NOT_FINAL
    with pytest.raises(BridgeRefusal):
        signers[0].sign_anchor(56, anchor.address, 0, 1, 3)  # another chain
    signed = [s.sign_anchor(97, anchor.address, 0, 1, 3) for s in signers]
    assert len({s.root for s in signed}) == 1
    root = signed[0].root
    headers = [h for h in (sidechain.header_at(i) for i in (1, 2, 3)) if h is not None]
    assert root == range_root(headers, sidechain.network_id)
    ordered_sigs = ordered((s.signer, s.signature) for s in signed)
    anchor.send(chain, owner, "submitAnchor", 1, 3, root, ordered_sigs)
    assert anchor.read(chain, "nextHeight") == 4
    # The set they sign is the one their chain elected: here, unchanged, a valid hand-over.
    set_sigs = [s.sign_set(97, anchor.address, 0) for s in signers]
    handover = ordered((s.signer, s.signature) for s in set_sigs)
    anchor.send(chain, owner, "changeSet", list(members), handover)
    assert anchor.read(chain, "setId") == 1


def test_delegates_attest_a_buried_deposit_and_the_sidechain_credits_it(env: Deployed) -> None:
    client, user = env.client, env.user
    net = f.make_testnet(accounts=8, delegates=3)
    contract = bytes.fromhex(env.bridge.address[2:])
    config = BridgeConfig(net.accounts[6].address, 97, contract, 2)
    sidechain = Chain(MemoryStore(), dataclasses.replace(net.genesis, bridge=config))
    nid = sidechain.network_id
    fresh = f.key("deposit-recipient")
    env.token.send(client, user, "approve", env.bridge.address, 500)
    receipt = env.bridge.send(client, user, "deposit", address_raw(fresh.address), 500)
    bsc_tx = bytes.fromhex(receipt["transactionHash"][2:])
    relayer = net.accounts[1]

    def claim_of(amount: int, nonce: int = 1) -> Transaction:
        return f.deposit(
            relayer, fresh.address, amount, nonce, nid, [], bridge=contract, bsc_tx_hash=bsc_tx
        )

    claim = claim_of(500)
    attesters = [DepositAttester(d, config, nid, client) for d in net.delegates]

    with pytest.raises(BridgeRefusal) as early:
        attesters[0].attest(claim)
    assert early.value.code is ErrorCode.BRIDGE_NOT_FINAL  # 0 of 2 confirmations
    client.rpc("anvil_mine", "0x2")
    inflated = f.deposit(
        relayer, fresh.address, 501, 1, nid, [], bridge=contract, bsc_tx_hash=bsc_tx
    )
    with pytest.raises(BridgeRefusal) as lied:
        attesters[0].attest(inflated)
    assert lied.value.code is ErrorCode.BRIDGE_REFUSED
    with pytest.raises(BridgeRefusal):
        attesters[0].attest(claim_of(500, nonce=2))  # no such deposit

    credited = claim.with_signatures([a.attest(claim) for a in attesters])
    execution = sidechain.build_block([credited], 1000, net.delegates[0])[1]
    assert execution.included == [credited]
    account = sidechain.account(fresh.address)
    assert account is not None and account.balance == 500


def test_the_relayer_anchors_credits_and_restarts_without_repeats(chain: EvmClient) -> None:
    owner, user = (new_account(a.key) for a in dev_accounts(2))
    keys = [new_account(keccak(b"relay-bridge-%d" % i)) for i in range(3)]
    nonce = int(chain.rpc("eth_getTransactionCount", owner.address, "pending"), 16)
    bridge_address = create_address(owner.address, nonce + 2)  # token, anchor, then bridge
    net, _ = bridged_testnet(keys)
    config = BridgeConfig(net.accounts[3].address, 97, bytes.fromhex(bridge_address[2:]), 1)
    genesis = dataclasses.replace(net.genesis, bridge=config)
    sidechain = Chain(MemoryStore(), genesis)
    nid = sidechain.network_id
    members = sorted_members(k.address for k in keys)
    token = deploy(chain, owner, load_artifact("CarbonCoin"), SUPPLY)
    anchor = deploy(chain, owner, load_artifact("Anchor"), nid, members, 1)
    bridge = deploy(
        chain, owner, load_artifact("Bridge"), token.address, anchor.address, owner.address
    )
    assert bridge.address == bridge_address
    token.send(chain, owner, "transfer", user.address, 10_000)

    delegates = [
        LocalDelegate(
            BridgeSigner(sidechain, k, 97, anchor.address), DepositAttester(d, config, nid, chain)
        )
        for k, d in zip(keys, net.delegates, strict=True)
    ]

    port = LocalSidechain(sidechain, sole_producer(sidechain, net.delegates[0]))

    def relayer() -> Relayer:  # a fresh one each time: it keeps no state of its own
        return Relayer(chain, owner, anchor, bridge, port, delegates, net.accounts[1], 97,
                       max_range=2)  # fmt: skip

    nothing = relayer().run_round()
    assert nothing.anchored_to is None and nothing.credited == []
    for _ in range(3):
        sidechain.build_block([], sidechain.head.timestamp_ms + 1000, net.delegates[0])
    sidechain.set_finalized(3)
    first = relayer().run_round()
    assert first.anchored_to == 2 and not first.handed_over  # ranges of at most 2 heights
    assert relayer().run_round().anchored_to == 3  # contiguous, following the final head

    fresh = f.key("relayed")
    token.send(chain, user, "approve", bridge.address, 400)
    bridge.send(chain, user, "deposit", address_raw(fresh.address), 400)
    waiting = relayer().run_round()
    assert waiting.credited == [] and any("confirmations" in r for r in waiting.refusals)
    chain.rpc("anvil_mine", "0x1")
    credited = relayer().run_round()
    assert credited.credited == [1]
    account = sidechain.account(fresh.address)
    assert account is not None and account.balance == 400
    again = relayer().run_round()  # a restarted relayer: nothing twice
    assert again.credited == [] and again.anchored_to is None
    assert anchor.read(chain, "rangeCount") == 2


def test_escrow_plus_bridge_is_constant_through_the_relayer(chain: EvmClient) -> None:
    """A random sequence of deposits (BSC -> sidechain, carried by the relayer) and
    withdrawals (sidechain -> BSC, proven after the relayer anchors them): C in the
    sidechain escrow plus C locked in the Bridge never changes."""
    rng = random.Random(11)
    owner, user = (new_account(a.key) for a in dev_accounts(2))
    keys = [new_account(keccak(b"walk-bridge-%d" % i)) for i in range(3)]
    nonce = int(chain.rpc("eth_getTransactionCount", owner.address, "pending"), 16)
    bridge_address = create_address(owner.address, nonce + 2)
    net, _ = bridged_testnet(keys)
    config = BridgeConfig(net.accounts[3].address, 97, bytes.fromhex(bridge_address[2:]), 0)
    sidechain = Chain(MemoryStore(), dataclasses.replace(net.genesis, bridge=config))
    nid = sidechain.network_id
    token = deploy(chain, owner, load_artifact("CarbonCoin"), SUPPLY)
    members = sorted_members(k.address for k in keys)
    anchor = deploy(chain, owner, load_artifact("Anchor"), nid, members, 1)
    guardian = owner.address
    bridge = deploy(chain, owner, load_artifact("Bridge"), token.address, anchor.address, guardian)
    token.send(chain, owner, "transfer", user.address, 10**8)
    token.send(chain, user, "approve", bridge.address, 10**8)
    delegates = [
        LocalDelegate(
            BridgeSigner(sidechain, k, 97, anchor.address), DepositAttester(d, config, nid, chain)
        )
        for k, d in zip(keys, net.delegates, strict=True)
    ]
    port = LocalSidechain(sidechain, sole_producer(sidechain, net.delegates[0]))
    relayer = Relayer(chain, owner, anchor, bridge, port, delegates, net.accounts[1], 97)

    def total() -> int:
        escrow = sidechain.account(config.escrow)
        locked = token.read(chain, "balanceOf", bridge.address)
        return (0 if escrow is None else escrow.balance) + int(locked)

    start = total()
    holder = net.accounts[2]
    bsc_payee = new_account(keccak(b"walk-payee"))
    pending: list[Transaction] = []
    kinds = set()
    for step in range(8):
        amount = rng.randrange(1, 40) * 100
        locked = token.read(chain, "balanceOf", bridge.address)
        if rng.random() < 0.5 or locked < amount:
            bridge.send(chain, user, "deposit", address_raw(holder.address), amount)
            kinds.add("deposit")
        else:
            out = f.withdraw(
                holder, bytes.fromhex(bsc_payee.address[2:]), amount, nid, timestamp=step
            )
            port.submit(out)
            pending.append(out)
            kinds.add("withdraw")
        sidechain.build_block([], sidechain.head.timestamp_ms + 1000, net.delegates[0])
        sidechain.set_finalized(sidechain.height)
        relayer.run_round()  # credits deposits, anchors the finalized head
        for out in list(pending):  # withdrawals whose range is anchored are released
            height = sidechain.transaction(out.id(nid)).height  # type: ignore[union-attr]
            count = anchor.read(chain, "rangeCount")
            ranges = [anchor.read(chain, "range", i) for i in range(count)]
            index = next(i for i, r in enumerate(ranges) if r[0] <= height <= r[1])
            proof = withdrawal_proof(sidechain, out.id(nid), ranges[index][0], ranges[index][1])
            bridge.send(chain, user, "withdraw", *proof.bridge_arguments(range_index=index))
            pending.remove(out)
        assert total() == start, f"step {step}"
    assert kinds == {"deposit", "withdraw"}


def test_ccoin_bridge_deposit_locks_c_for_a_sidechain_address(
    env: Deployed, tmp_path: Path
) -> None:
    keystore = Account.encrypt(env.user.key, "pw", kdf="pbkdf2", iterations=2)
    (tmp_path / "payer.json").write_text(json.dumps(keystore))
    (tmp_path / "payer.pass").write_text("pw\n")
    recipient = f.key("cli-depositor").address
    base = ["bridge", "deposit", "--bsc", env.client.url, "--bridge", env.bridge.address]
    base += ["--token", env.token.address, "--payer-key", str(tmp_path / "payer.json")]
    base += ["--payer-passphrase-file", str(tmp_path / "payer.pass")]
    result = CliRunner().invoke(cli, [*base, "--to", recipient, "--amount", "250", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["nonce"] == env.bridge.read(env.client, "depositCount") == 1
    assert env.token.read(env.client, "balanceOf", env.bridge.address) == 250
    typo = CliRunner().invoke(cli, [*base, "--to", recipient[:-1] + "x", "--amount", "1"])
    assert typo.exit_code == 2 and "BAD_ADDRESS" in typo.output
