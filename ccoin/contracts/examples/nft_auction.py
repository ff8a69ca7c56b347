# ruff: noqa: F821
# Contract source in the restricted language of docs/spec/vm.md, not an importable module:
# `Map`, `Var`, `export`, `ctx`, `require`, `emit` and `coins` come from the runtime.
"""Non-fungible in-game carbon and environmental assets, sold by English auction.

Whoever deploys the contract (`init`) is the minter, the only account that mints. Every
token has a unique id and a short metadata text. The owner hands a token on with
`transfer`.

The owner of a token may put it up for auction with a reserve, an end time and a minimum
increment; until the auction is settled the token is held by it and cannot move. A bid
is the C attached to the call: the first must reach the reserve, each later one the
highest bid plus the increment, and the bid it beats is refunded at once. Bids are taken
while `ctx.timestamp < end_time`; from `end_time` on anyone may settle, once: the token goes
to the highest bidder and the seller is paid, or, with no bids, the token stays with the
seller. Only `bid` takes C; every other function refuses attached value, so no C is ever
stranded in the contract.
"""

MAX_TOKEN_ID = 64
MAX_METADATA = 256
MAX_ACCOUNT = 128

minter = Var(None)
owners = Map(None)
descriptions = Map(None)
on_sale = Map(None)
auctions = Map(None)
last_auction = Var(0)


def check_text(value, limit, what):
    require(isinstance(value, str), what + " must be text")
    require(len(value.strip()) > 0, what + " must not be empty")
    require(len(value) <= limit, what + " is longer than " + str(limit) + " characters")


def check_int(value, what):
    require(isinstance(value, int) and not isinstance(value, bool), what + " must be an int")


def check_positive(value, what):
    check_int(value, what)
    require(value > 0, what + " must be positive")


def refuse_value():
    require(ctx.value == 0, "this function does not take C")


def owner_of_known(token_id):
    require(isinstance(token_id, str), "token id must be text")
    owner = owners[token_id]
    require(owner is not None, "unknown token " + token_id)
    return owner


def owned_by_sender(token_id):
    owner = owner_of_known(token_id)
    require(owner == ctx.sender, "token " + token_id + " is not owned by the sender")
    sale = on_sale[token_id]
    require(sale is None, "token " + token_id + " is in auction " + str(sale))


def find_auction(auction_id):
    check_int(auction_id, "auction id")
    sale = auctions[auction_id]
    require(sale is not None, "unknown auction " + str(auction_id))
    require(not sale["settled"], "auction " + str(auction_id) + " is already settled")
    return sale


def minimum_bid(sale):
    if sale["bidder"] is None:
        return sale["reserve"]
    return sale["bid"] + sale["min_increment"]


@export
def init() -> str:
    refuse_value()
    require(minter.get() is None, "already initialized")
    minter.set(ctx.sender)
    return ctx.sender


@export
def mint(to: str, token_id: str, metadata: str) -> str:
    refuse_value()
    require(minter.get() is not None, "not initialized")
    require(ctx.sender == minter.get(), "only the minter may mint")
    check_text(to, MAX_ACCOUNT, "owner")
    check_text(token_id, MAX_TOKEN_ID, "token id")
    require(isinstance(metadata, str), "metadata must be text")
    require(len(metadata) <= MAX_METADATA, "metadata is longer than 256 characters")
    require(token_id not in owners, "token " + token_id + " already exists")
    owners[token_id] = to
    descriptions[token_id] = metadata
    emit("Mint", to=to, token_id=token_id, metadata=metadata)
    return token_id


@export
def transfer(to: str, token_id: str) -> str:
    refuse_value()
    check_text(to, MAX_ACCOUNT, "recipient")
    owned_by_sender(token_id)
    require(to != ctx.sender, "cannot transfer to yourself")
    owners[token_id] = to
    emit("Transfer", sender=ctx.sender, to=to, token_id=token_id)
    return to


@export
def start_auction(token_id: str, reserve: int, end_time: int, min_increment: int) -> int:
    refuse_value()
    owned_by_sender(token_id)
    check_positive(reserve, "reserve")
    check_positive(min_increment, "minimum increment")
    check_int(end_time, "end time")
    require(end_time > ctx.timestamp, "end time must be in the future")
    auction_id = last_auction.get() + 1
    last_auction.set(auction_id)
    auctions[auction_id] = {
        "token_id": token_id,
        "seller": ctx.sender,
        "reserve": reserve,
        "end_time": end_time,
        "min_increment": min_increment,
        "bidder": None,
        "bid": 0,
        "settled": False,
    }
    on_sale[token_id] = auction_id
    emit(
        "AuctionStarted",
        auction_id=auction_id,
        token_id=token_id,
        seller=ctx.sender,
        reserve=reserve,
        end_time=end_time,
        min_increment=min_increment,
    )
    return auction_id


@export
def bid(auction_id: int) -> int:
    sale = find_auction(auction_id)
    require(ctx.timestamp < sale["end_time"], "auction " + str(auction_id) + " has ended")
    require(ctx.sender != sale["seller"], "the seller may not bid")
    least = minimum_bid(sale)
    require(ctx.value >= least, "bid must be at least " + str(least))
    outbid = sale["bidder"]
    if outbid is not None:
        coins.send(outbid, sale["bid"])
    sale["bidder"] = ctx.sender
    sale["bid"] = ctx.value
    auctions[auction_id] = sale
    emit("Bid", auction_id=auction_id, bidder=ctx.sender, amount=ctx.value, refunded=outbid)
    return ctx.value


@export
def settle(auction_id: int) -> dict:
    refuse_value()
    sale = find_auction(auction_id)
    require(ctx.timestamp >= sale["end_time"], "auction " + str(auction_id) + " has not ended")
    token_id = sale["token_id"]
    winner = sale["bidder"]
    if winner is not None:
        owners[token_id] = winner
        coins.send(sale["seller"], sale["bid"])
    del on_sale[token_id]
    sale["settled"] = True
    auctions[auction_id] = sale
    emit(
        "AuctionSettled", auction_id=auction_id, token_id=token_id, winner=winner, price=sale["bid"]
    )
    owner = sale["seller"] if winner is None else winner
    return {"auction_id": auction_id, "token_id": token_id, "owner": owner, "price": sale["bid"]}


@export
def owner_of(token_id: str) -> str:
    refuse_value()
    return owner_of_known(token_id)


@export
def token(token_id: str) -> dict:
    refuse_value()
    owner = owner_of_known(token_id)
    metadata = descriptions[token_id]
    return {
        "token_id": token_id,
        "owner": owner,
        "metadata": metadata,
        "auction": on_sale[token_id],
    }


@export
def auction(auction_id: int) -> dict:
    refuse_value()
    check_int(auction_id, "auction id")
    sale = auctions[auction_id]
    require(sale is not None, "unknown auction " + str(auction_id))
    if sale["settled"]:
        status = "settled"
    elif ctx.timestamp >= sale["end_time"]:
        status = "ended"
    else:
        status = "open"
    sale["auction_id"] = auction_id
    sale["status"] = status
    sale["minimum_bid"] = minimum_bid(sale) if status == "open" else None
    return sale


@export
def minter_account() -> str:
    refuse_value()
    return minter.get()
