# ruff: noqa: F821
# Contract source in the restricted language of docs/spec/vm.md, not an importable module:
# `Map`, `Var`, `export`, `ctx`, `require` and `emit` come from the runtime.
"""A carbon-credit registry: every credit has a serial number that exists once, ever.

The owner (whoever calls `init`) authorizes verifiers. A verifier issues a batch of
credits for a project: serials `PROJECT-N` for N in `first .. first + count - 1`. Holders
transfer the serials they hold; a holder retires a serial once, naming a beneficiary, and
a retired serial can never move or be retired again: no credit is counted twice.
"""

MAX_BATCH = 100
MAX_NUMBER = 1_000_000_000_000
MAX_PROJECT = 64
MAX_HOLDER = 128
MAX_BENEFICIARY = 140

owner = Var(None)
verifiers = Map(False)
holders = Map(None)
retirements = Map(None)
balances = Map(0)
issued = Var(0)
retired = Var(0)


def check_text(value, limit, what):
    require(isinstance(value, str), what + " must be text")
    require(len(value.strip()) > 0, what + " must not be empty")
    require(len(value) <= limit, what + " is longer than " + str(limit) + " characters")


def check_count(value, what):
    require(isinstance(value, int) and not isinstance(value, bool), what + " must be an int")


def held_by_sender(serial):
    require(isinstance(serial, str), "serial must be text")
    holder = holders[serial]
    require(holder is not None, "unknown serial " + serial)
    require(retirements[serial] is None, "serial " + serial + " is retired")
    require(holder == ctx.sender, "serial " + serial + " is not held by the sender")


@export
def init() -> str:
    require(owner.get() is None, "already initialized")
    owner.set(ctx.sender)
    return ctx.sender


def only_owner():
    current = owner.get()
    require(current is not None, "not initialized")
    require(ctx.sender == current, "only the owner may do this")


@export
def add_verifier(verifier: str) -> None:
    only_owner()
    check_text(verifier, MAX_HOLDER, "verifier")
    require(not verifiers[verifier], "already a verifier")
    verifiers[verifier] = True
    emit("VerifierAdded", verifier=verifier)


@export
def remove_verifier(verifier: str) -> None:
    only_owner()
    check_text(verifier, MAX_HOLDER, "verifier")
    require(verifiers[verifier], "not a verifier")
    del verifiers[verifier]
    emit("VerifierRemoved", verifier=verifier)


@export
def issue(project: str, first: int, count: int, to: str) -> list:
    require(verifiers[ctx.sender], "only an authorized verifier may issue")
    check_text(project, MAX_PROJECT, "project")
    check_text(to, MAX_HOLDER, "holder")
    check_count(first, "first")
    check_count(count, "count")
    require(first >= 0, "first must not be negative")
    require(count > 0, "count must be positive")
    require(count <= MAX_BATCH, "at most " + str(MAX_BATCH) + " credits per batch")
    require(first + count <= MAX_NUMBER, "serial numbers end below " + str(MAX_NUMBER))
    serials = []
    for number in range(first, first + count):
        serial = project + "-" + str(number)
        require(serial not in holders, "serial " + serial + " already exists")
        serials.append(serial)
    for serial in serials:
        holders[serial] = to
    balances[to] += count
    issued.set(issued.get() + count)
    emit("Issue", verifier=ctx.sender, to=to, project=project, first=first, count=count)
    return serials


@export
def transfer(to: str, serials: list) -> int:
    check_text(to, MAX_HOLDER, "holder")
    require(to != ctx.sender, "cannot transfer to yourself")
    require(isinstance(serials, list) and len(serials) > 0, "serials must be a non-empty list")
    require(len(serials) <= MAX_BATCH, "at most " + str(MAX_BATCH) + " serials per transfer")
    seen = {}
    for serial in serials:
        held_by_sender(serial)
        require(serial not in seen, "serial " + serial + " is listed twice")
        seen[serial] = True
    for serial in serials:
        holders[serial] = to
    balances[ctx.sender] -= len(serials)
    balances[to] += len(serials)
    emit("Transfer", sender=ctx.sender, to=to, serials=serials)
    return balances[to]


@export
def retire(serial: str, beneficiary: str) -> dict:
    held_by_sender(serial)
    check_text(beneficiary, MAX_BENEFICIARY, "beneficiary")
    record = {"beneficiary": beneficiary, "by": ctx.sender, "height": ctx.height}
    retirements[serial] = record
    balances[ctx.sender] -= 1
    retired.set(retired.get() + 1)
    emit("Retire", holder=ctx.sender, serial=serial, beneficiary=beneficiary)
    return record


@export
def owner_of(serial: str) -> str:
    require(isinstance(serial, str), "serial must be text")
    holder = holders[serial]
    require(holder is not None, "unknown serial " + serial)
    return holder


@export
def status(serial: str) -> dict:
    holder = owner_of(serial)
    record = retirements[serial]
    if record is None:
        return {"serial": serial, "holder": holder, "status": "active", "beneficiary": None}
    return {
        "serial": serial,
        "holder": holder,
        "status": "retired",
        "beneficiary": record["beneficiary"],
        "retired_at": record["height"],
    }


@export
def balance(holder: str) -> int:
    return balances[holder]


@export
def is_verifier(account: str) -> bool:
    return verifiers[account]


@export
def totals() -> dict:
    return {"issued": issued.get(), "retired": retired.get(), "owner": owner.get()}
