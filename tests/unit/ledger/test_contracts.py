"""Types 5 and 8 against state: deploys, upgrades and calls run in the real sandbox, their
outcomes land in receipts, failures revert everything but the fee."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode, InvalidBlock
from ccoin.ledger.chain import Chain
from ccoin.modules.contracts.records import ContractRecord, Receipt
from ccoin.modules.contracts.rules import ContractEngine, deploy_address
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.testing.vm import SHOP, TOKEN
from ccoin.types.assets import TxType
from ccoin.types.genesis import DEFAULT_MIN_FEES, UNIT
from ccoin.types.transaction import Transaction
from ccoin.vm import gas
from ccoin.vm.api import decode_value, encode_value
from ccoin.vm.runner import SandboxRunner
from tests.unit.ledger.chain_helpers import balance, block_with, rejected_code, snapshot

DEPLOY_FEE = DEFAULT_MIN_FEES[TxType.CONTRACT_DEPLOY]
CALL_FEE = DEFAULT_MIN_FEES[TxType.CONTRACT_CALL]

VAULT = """
owner = Var(None)
paid = Map(0)


@export
def init(greeting):
    owner.set(ctx.sender)
    return greeting


@export
def deposit():
    paid[ctx.sender] += ctx.value
    return coins.balance()


@export
def pay(to, amount):
    require(ctx.sender == owner.get(), "only the owner pays out")
    coins.send(to, amount)
    return coins.balance()


@export
def keep_and_fail(to, amount):
    paid[to] = 1
    coins.send(to, amount)
    raise ContractError("changed my mind")


@export
def spin():
    while True:
        pass
"""


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=10.0) as sandbox:
        yield sandbox


@pytest.fixture
def chain(net: LocalNet, runner: SandboxRunner) -> Chain:
    return Chain(MemoryStore(), net.genesis, ContractEngine(runner))


def receipt(chain: Chain, tx: Transaction) -> Receipt:
    data = chain.store.get(schema.receipt(address_raw_id(chain, tx)))
    assert data is not None, "no receipt"
    return Receipt.decode(data)


def address_raw_id(chain: Chain, tx: Transaction) -> bytes:
    return tx.digest(chain.network_id)[1][:14]


def contract_storage(chain: Chain) -> dict[bytes, bytes]:
    return {k: v for k, v in snapshot(chain).items() if k[:1] == schema.CONTRACT_STORAGE}


def deployed(chain: Chain, net: LocalNet, code: str, *init_args: object) -> tuple[str, Receipt]:
    tx = f.deploy(net.accounts[1], "app", code, chain.network_id, init_args=tuple(init_args))
    assert block_with(chain, net, tx).included == [tx]
    return deploy_address(tx, chain.network_id), receipt(chain, tx)


def call(
    chain: Chain,
    net: LocalNet,
    contract: str,
    method: str,
    *args: object,
    sender: KeyPair | None = None,
    amount: int = 0,
    gas_limit: int = 100_000,
) -> Receipt:
    who = sender or net.accounts[1]
    tx = f.call_contract(
        who, contract, method, tuple(args), chain.network_id, amount=amount, gas_limit=gas_limit
    )
    assert block_with(chain, net, tx).included == [tx]
    return receipt(chain, tx)


def token_balance(chain: Chain, contract: str, holder: str) -> object:
    key = schema.contract_storage(address_raw(contract), b"m/balances/" + encode_value(holder))
    data = chain.store.get(key)
    return 0 if data is None else decode_value(data)


def test_deploy_stores_the_code_and_calls_change_its_storage(chain: Chain, net: LocalNet) -> None:
    alice, bob = net.accounts[1], net.accounts[2]
    before = balance(chain, alice.address)
    token, deploy_receipt = deployed(chain, net, TOKEN)
    assert deploy_receipt.ok and deploy_receipt.gas_used == 0  # no init to run
    record = ContractRecord.decode(chain.store.get(schema.contract(address_raw(token))) or b"")
    assert (record.owner, record.code, record.version) == (address_raw(alice.address), TOKEN, 1)
    assert balance(chain, alice.address) == before - DEPLOY_FEE

    minted = call(chain, net, token, "mint", alice.address, 1000)
    assert minted.ok and minted.gas_used > 0 and minted.error_code is None
    assert [(c, name, decode_value(fields)) for c, name, fields in minted.events] == [
        (token, "Mint", {"to": alice.address, "amount": 1000})
    ]
    sent = call(chain, net, token, "transfer", bob.address, 250)
    assert sent.ok and decode_value(sent.value or b"") == 250
    assert token_balance(chain, token, alice.address) == 750
    assert token_balance(chain, token, bob.address) == 250


def test_init_runs_once_at_deploy_with_the_deployer_as_sender(chain: Chain, net: LocalNet) -> None:
    vault, deploy_receipt = deployed(chain, net, VAULT, "hello")
    assert deploy_receipt.ok and decode_value(deploy_receipt.value or b"") == "hello"
    assert 0 < deploy_receipt.gas_used <= gas.INIT_GAS == deploy_receipt.gas_limit
    owner = chain.store.get(schema.contract_storage(address_raw(vault), b"v/owner"))
    assert owner is not None and decode_value(owner) == net.accounts[1].address


def test_failed_init_creates_no_contract(chain: Chain, net: LocalNet) -> None:
    code = "@export\ndef init():\n    raise ContractError('no')\n"
    address, failed = deployed(chain, net, code)
    assert not failed.ok and failed.error_code == ErrorCode.CONTRACT_FAILED.number
    assert chain.store.get(schema.contract(address_raw(address))) is None
    assert contract_storage(chain) == {}


def test_value_goes_to_the_contract_and_out_by_its_transfers(chain: Chain, net: LocalNet) -> None:
    alice, bob = net.accounts[1], net.accounts[2]
    vault, _ = deployed(chain, net, VAULT, "hi")
    alice_before = balance(chain, alice.address)
    paid = call(chain, net, vault, "deposit", amount=5 * UNIT)
    assert paid.ok and decode_value(paid.value or b"") == 5 * UNIT
    assert balance(chain, vault) == 5 * UNIT
    assert balance(chain, alice.address) == alice_before - 5 * UNIT - CALL_FEE - gas.gas_fee(
        100_000
    )
    bob_before = balance(chain, bob.address)
    out = call(chain, net, vault, "pay", bob.address, 2 * UNIT)
    assert out.ok and out.transfers == ((vault, bob.address, 2 * UNIT),)
    assert balance(chain, vault) == 3 * UNIT
    assert balance(chain, bob.address) == bob_before + 2 * UNIT
    refused = call(chain, net, vault, "pay", bob.address, 1, sender=bob)
    assert not refused.ok and refused.error == "ContractError: only the owner pays out"


def test_a_failing_call_reverts_all_but_the_fee(chain: Chain, net: LocalNet) -> None:
    alice, bob = net.accounts[1], net.accounts[2]
    vault, _ = deployed(chain, net, VAULT, "hi")
    call(chain, net, vault, "deposit", amount=UNIT)
    storage_before = contract_storage(chain)
    state_before = {k: v for k, v in snapshot(chain).items() if schema.is_state_key(k)}
    balances_before = {a: balance(chain, a) for a in (alice.address, bob.address, vault)}
    failed = call(chain, net, vault, "keep_and_fail", bob.address, 10, amount=7 * UNIT)
    state_after = {k: v for k, v in snapshot(chain).items() if schema.is_state_key(k)}
    changed = {
        k
        for k in state_before.keys() | state_after.keys()
        if state_before.get(k) != state_after.get(k)
    }
    receipts = {k for k in changed if k[:1] == schema.RECEIPT}
    assert len(receipts) == 1
    assert changed - receipts - {schema.ROUND} == {  # nothing else in state moved
        schema.account(address_raw(alice.address)),  # paid the fee
        schema.account(address_raw(net.delegates[0].address)),  # the producer, paid it
        schema.delegate_stats(net.delegates[0].public_key),  # blocks produced
    }
    assert not failed.ok and failed.error_code == ErrorCode.CONTRACT_FAILED.number
    assert failed.error == "ContractError: changed my mind"
    assert failed.events == () and failed.transfers == () and failed.gas_used > 0
    assert contract_storage(chain) == storage_before  # byte-identical contract state
    fee = CALL_FEE + gas.gas_fee(100_000)
    assert balance(chain, alice.address) == balances_before[alice.address] - fee  # value back
    assert balance(chain, bob.address) == balances_before[bob.address]
    assert balance(chain, vault) == balances_before[vault]


def test_out_of_gas_is_a_receipt_with_its_code(chain: Chain, net: LocalNet) -> None:
    vault, _ = deployed(chain, net, VAULT, "hi")
    spun = call(chain, net, vault, "spin", gas_limit=20_000)
    assert not spun.ok and spun.error_code == ErrorCode.CONTRACT_OUT_OF_GAS.number
    assert spun.gas_limit == 20_000 and spun.gas_used <= 20_000


def test_a_transfer_to_an_invalid_address_fails_the_call(chain: Chain, net: LocalNet) -> None:
    vault, _ = deployed(chain, net, VAULT, "hi")
    call(chain, net, vault, "deposit", amount=UNIT)
    bad = call(chain, net, vault, "pay", "Cnot-an-address", 5)
    assert not bad.ok and bad.error_code == ErrorCode.CONTRACT_BAD_TRANSFER.number
    assert balance(chain, vault) == UNIT


def test_refused_contract_transactions_change_nothing(chain: Chain, net: LocalNet) -> None:
    alice = net.accounts[1]
    nid = chain.network_id
    bad_code = f.deploy(alice, "bad", "import os\n", nid)
    assert rejected_code(chain, net, bad_code) is ErrorCode.TX_CONTRACT_REJECTED
    nowhere = f.call_contract(alice, f.key("nobody").address, "mint", (), nid)
    assert rejected_code(chain, net, nowhere) is ErrorCode.TX_CONTRACT_UNKNOWN
    token, _ = deployed(chain, net, TOKEN)
    greedy = f.call_contract(alice, token, "mint", (), nid, gas_limit=gas.CALL_GAS_CAP + 1)
    assert rejected_code(chain, net, greedy) is ErrorCode.TX_GAS_LIMIT_TOO_HIGH
    cheap = f.call_contract(alice, token, "mint", (), nid, gas_limit=100_000, fee=CALL_FEE)
    assert rejected_code(chain, net, cheap) is ErrorCode.TX_FEE_TOO_LOW


def test_only_the_owner_upgrades_and_storage_survives(chain: Chain, net: LocalNet) -> None:
    alice, bob = net.accounts[1], net.accounts[2]
    nid = chain.network_id
    token, _ = deployed(chain, net, TOKEN)
    call(chain, net, token, "mint", alice.address, 40)
    v2 = TOKEN + "\n\n@export\ndef version():\n    return 2\n"
    stranger = f.deploy(bob, "app", v2, nid, upgrade=token)
    assert rejected_code(chain, net, stranger) is ErrorCode.TX_NOT_CONTRACT_OWNER
    upgrade = f.deploy(alice, "app", v2, nid, upgrade=token)
    assert block_with(chain, net, upgrade).included == [upgrade]
    assert receipt(chain, upgrade).ok
    record = ContractRecord.decode(chain.store.get(schema.contract(address_raw(token))) or b"")
    assert (record.version, record.code) == (2, v2)
    assert decode_value(call(chain, net, token, "version").value or b"") == 2
    assert token_balance(chain, token, alice.address) == 40
    unknown = f.deploy(alice, "app", v2, nid, upgrade=f.key("nothing").address)
    assert rejected_code(chain, net, unknown) is ErrorCode.TX_CONTRACT_UNKNOWN


def test_a_multisignature_owner_upgrades_only_with_its_cosigners(
    chain: Chain, net: LocalNet
) -> None:
    owner, m1, m2 = net.accounts[3], f.key("member-1"), f.key("member-2")
    nid = chain.network_id
    block_with(chain, net, f.register_multisig(owner, [m1, m2], 2, nid))
    first = f.deploy(owner, "app", TOKEN, nid, cosigners=[m1, m2])
    assert block_with(chain, net, first).included == [first]
    token = deploy_address(first, nid)
    v2 = TOKEN + "\n\n@export\ndef version():\n    return 2\n"
    short = f.deploy(owner, "app", v2, nid, upgrade=token, cosigners=[m1])
    assert rejected_code(chain, net, short) is ErrorCode.TX_NOT_ENOUGH_COSIGNATURES
    agreed = f.deploy(owner, "app", v2, nid, upgrade=token, cosigners=[m1, m2], timestamp=1)
    assert block_with(chain, net, agreed).included == [agreed]
    record = ContractRecord.decode(chain.store.get(schema.contract(address_raw(token))) or b"")
    assert record.version == 2


def test_block_gas_cap_defers_calls_and_bounds_blocks(chain: Chain, net: LocalNet) -> None:
    token, _ = deployed(chain, net, TOKEN)
    per_call = gas.CALL_GAS_CAP
    fits = gas.BLOCK_GAS_CAP // per_call
    calls = [
        f.call_contract(a, token, "total", (), chain.network_id, gas_limit=per_call)
        for a in net.accounts[1 : fits + 3]
    ]
    execution = block_with(chain, net, *calls)
    assert execution.included == calls[:fits] and execution.rejected == []
    again = [
        f.call_contract(a, token, "total", (), chain.network_id, gas_limit=per_call, timestamp=1)
        for a in net.accounts[1 : fits + 2]
    ]
    ctx = chain.context(
        chain.height + 1, chain.head.timestamp_ms + 1000, net.delegates[0].public_key
    )
    with pytest.raises(InvalidBlock) as info:  # someone else's block over the cap
        chain.execute(again, ctx, strict=True)
    assert info.value.code is ErrorCode.BLOCK_TOO_LARGE


def test_a_second_node_reaches_the_same_state_root(
    chain: Chain, net: LocalNet, runner: SandboxRunner
) -> None:
    """Blocks with deploys, calls, failures and value, applied by another chain (another
    node's view): same receipts, same stateRoot on every block."""
    alice, bob = net.accounts[1], net.accounts[2]
    other = Chain(MemoryStore(), net.genesis, ContractEngine(runner))
    nid = chain.network_id
    deploy_tx = f.deploy(alice, "vault", VAULT, nid, init_args=("x",))
    vault = deploy_address(deploy_tx, nid)
    blocks = [
        [deploy_tx],
        [
            f.call_contract(alice, vault, "deposit", (), nid, amount=3 * UNIT),
            f.call_contract(bob, vault, "deposit", (), nid, amount=UNIT),
        ],
        [
            f.call_contract(alice, vault, "pay", (bob.address, UNIT), nid, timestamp=1),
            f.call_contract(bob, vault, "keep_and_fail", (bob.address, 1), nid, timestamp=1),
            f.call_contract(alice, vault, "spin", (), nid, gas_limit=5_000, timestamp=2),
        ],
    ]
    for txs in blocks:
        block, execution = chain.build_block(txs, chain.head.timestamp_ms + 1000, net.delegates[0])
        assert execution.included == txs
        other.apply_block(block)
        assert other.head.state_root == chain.head.state_root
    assert snapshot(other) == snapshot(chain)


def test_a_call_tree_is_applied_per_contract_and_agreed_by_another_node(
    chain: Chain, net: LocalNet, runner: SandboxRunner
) -> None:
    """The shop calls the token as itself: each contract's writes land under its own
    namespace, events carry their contract, a caught inner failure is undone; a second
    chain applying the same blocks reaches the same stateRoot."""
    alice = net.accounts[1]
    nid = chain.network_id
    other = Chain(MemoryStore(), net.genesis, ContractEngine(runner))
    token_tx = f.deploy(alice, "token", TOKEN, nid)
    shop_tx = f.deploy(alice, "shop", SHOP, nid, timestamp=1)
    token, shop = deploy_address(token_tx, nid), deploy_address(shop_tx, nid)
    calls = [
        [token_tx, shop_tx],
        [
            f.call_contract(alice, token, "mint", (shop, 25), nid),
            f.call_contract(alice, shop, "restock", ("tree", 2), nid),
        ],
        [
            f.call_contract(alice, shop, "buy", (token, "tree"), nid),
            f.call_contract(alice, shop, "buy_or_refuse", (token, "tree"), nid, timestamp=1),
        ],
    ]
    for txs in calls:
        block, execution = chain.build_block(txs, chain.head.timestamp_ms + 1000, net.delegates[0])
        assert execution.included == txs
        other.apply_block(block)
        assert other.head.state_root == chain.head.state_root
    bought, refused = (receipt(chain, tx) for tx in calls[2])
    assert bought.ok and [(c, name) for c, name, _ in bought.events] == [
        (token, "Transfer"),
        (shop, "Sold"),
    ]
    assert refused.ok and decode_value(refused.value or b"") == "refused"
    assert token_balance(chain, token, shop) == 15
    assert token_balance(chain, token, "treasury") == 10
    stock_key = b"m/stock/" + encode_value("tree")
    stock = chain.store.get(schema.contract_storage(address_raw(shop), stock_key))
    assert stock is not None and decode_value(stock) == 1
    assert snapshot(other) == snapshot(chain)


def test_every_receipt_the_node_writes_reads_back(chain: Chain, net: LocalNet) -> None:
    """The largest result a call can return (64 KiB encoded) still makes a receipt that
    decodes; one byte more, an over-long event name: the contract's failure, not a bad
    receipt."""
    code = (
        "@export\ndef big(n):\n    return 'x' * n\n\n\n"
        "@export\ndef shout():\n    emit('E' * 65, a=1)\n"
    )
    app, _ = deployed(chain, net, code)
    largest = 64 * 1024 - 3  # msgpack's str 16 header
    big = call(chain, net, app, "big", largest, gas_limit=1_000_000)
    assert big.ok and len(decode_value(big.value or b"")) == largest
    over = call(chain, net, app, "big", largest + 1, gas_limit=1_000_000)
    assert not over.ok and over.error == "ValueError: a return value of more than 65536 bytes"
    shout = call(chain, net, app, "shout")
    assert not shout.ok and shout.error is not None and "event name" in shout.error
