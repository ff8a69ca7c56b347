"""Typed errors with stable codes.

Every rejection the node makes (a malformed byte string, an invalid transaction, a bad
block, a bad config) carries an `ErrorCode`: a stable name, a stable number (what JSON-RPC
callers get) and a message a person understands. The table is documented in
`docs/spec/transactions.md`; numbers are never reused.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(Enum):
    """Stable error codes. The value is (number, short description)."""

    # 1xxx: bytes and encoding
    DECODE_ERROR = (1000, "bytes are not valid msgpack for this type")
    NON_CANONICAL = (1001, "bytes are not in canonical form")
    TRAILING_BYTES = (1002, "trailing bytes after the encoded value")
    WRONG_TYPE = (1003, "a field has the wrong type")
    OUT_OF_RANGE = (1004, "an integer field is out of range")
    TOO_LONG = (1005, "a field or message is longer than allowed")
    BAD_FIELD = (1006, "a field has an invalid value")
    BAD_ADDRESS = (1007, "invalid address")
    BAD_ID = (1008, "invalid id")
    BAD_JSON = (1009, "invalid JSON form")

    # 2xxx: transaction, stateless
    TX_UNKNOWN_TYPE = (2000, "unknown transaction type")
    TX_BAD_SIGNATURE = (2001, "signature does not verify")
    TX_BAD_SECOND_SIGNATURE = (2002, "second signature does not verify")
    TX_BAD_COSIGNATURE = (2003, "a multisignature co-signature does not verify")
    TX_UNEXPECTED_SECOND_SIGNATURE = (2004, "second signature given but none registered")
    TX_MISSING_SECOND_SIGNATURE = (2005, "second signature required")
    TX_RECIPIENT_REQUIRED = (2006, "recipientId is required for this type")
    TX_RECIPIENT_FORBIDDEN = (2007, "recipientId must be absent for this type")
    TX_AMOUNT_FORBIDDEN = (2008, "amount must be 0 for this type")
    TX_BAD_ASSET = (2009, "invalid asset for this type")
    TX_FEE_TOO_LOW = (2010, "fee below the minimum for this type")
    TX_TIMESTAMP_IN_FUTURE = (2011, "timestamp too far ahead of the block")
    TX_EXPIRED = (2012, "transaction older than the pool's time to live")
    TX_UNEXPECTED_COSIGNATURES = (2013, "co-signatures given but the sender is not multisig")
    TX_NOT_ENOUGH_COSIGNATURES = (2014, "not enough valid co-signatures")
    TX_TYPE_NOT_ENABLED = (2015, "transaction type not enabled on this network yet")
    TX_GAS_LIMIT_TOO_HIGH = (2016, "gasLimit above the per-call cap")
    TX_CONTRACT_REJECTED = (2017, "contract code breaks the contract language's rules")
    TX_BAD_JURISDICTION = (2018, "not an ISO 3166-2 jurisdiction code")

    # 3xxx: transaction, against state
    TX_ALREADY_INCLUDED = (3000, "transaction id already included (replay)")
    TX_INSUFFICIENT_BALANCE = (3001, "insufficient balance for amount + fee")
    TX_BALANCE_OVERFLOW = (3002, "balance would leave the BIGINT range")
    TX_SENDER_KEY_MISMATCH = (3003, "senderPublicKey does not match the key bound to the address")
    TX_ACCOUNT_LOCKED = (3004, "account is locked and cannot send")
    TX_SECOND_KEY_EXISTS = (3005, "second public key already registered")
    TX_DELEGATE_EXISTS = (3006, "account is already a delegate")
    TX_USERNAME_TAKEN = (3007, "delegate username already taken")
    TX_NOT_A_DELEGATE = (3008, "voted key is not a registered delegate")
    TX_ALREADY_VOTED = (3009, "already voting for this delegate")
    TX_NOT_VOTED = (3010, "not voting for this delegate")
    TX_TOO_MANY_VOTES = (3011, "more votes than the active-set size")
    TX_MULTISIG_EXISTS = (3012, "account already has a multisignature group")
    TX_SENDER_UNKNOWN = (3013, "sender account does not exist")
    TX_BRIDGE_ADDRESS_TAKEN = (3014, "bridge address already registered by another delegate")
    TX_NOT_GOVERNANCE = (3015, "only the network's governance account may admit or revoke")
    TX_GOVERNANCE_NO_CHANGE = (3016, "the account or certificate is already in that state")
    TX_NOT_ADMITTED = (3017, "the account is not admitted to this permissioned network")
    TX_CERT_REVOKED = (3018, "the node certificate is revoked")
    TX_BAD_EVIDENCE = (3019, "the evidence does not prove an equivocation")
    TX_ALREADY_JAILED = (3020, "the delegate is already jailed")
    TX_CONTRACT_UNKNOWN = (3021, "no contract at that address")
    TX_NOT_CONTRACT_OWNER = (3022, "only the contract's owner may upgrade it")
    TX_DEPOSIT_CONSUMED = (3023, "this BSC deposit was already credited")
    TX_NOT_ENOUGH_ATTESTATIONS = (3024, "too few active delegates attest the deposit")
    TX_ESCROW_EMPTY = (3025, "the bridge escrow holds less than the deposit")
    TX_WRONG_BRIDGE = (3026, "the deposit is not from this network's BSC bridge")
    TX_SANDBOX_FAULT = (
        3027,
        "the contract sandbox faulted on this transaction (a node fault, never a result): "
        "it was dropped, not included",
    )

    # 31xx: the carbon module's state rules (ccoin.modules.carbon)
    TX_CARBON_NOT_COMMITTEE = (
        3100,
        "only the carbon committee may admit or remove credit classes and issuers",
    )
    TX_CARBON_NO_CHANGE = (3101, "the credit class or issuer is already in that state")
    TX_CARBON_CLASS_UNKNOWN = (3102, "no admitted credit class with that id")
    TX_CARBON_NOT_ISSUER = (3103, "the sender is not an admitted issuer for this credit class")
    TX_CARBON_PROJECT_EXISTS = (3104, "a project with that id exists")
    TX_CARBON_PROJECT_UNKNOWN = (3105, "no project with that id")
    TX_CARBON_SERIALS_OVERLAP = (
        3106,
        "the serial block overlaps a batch already issued in this credit class",
    )
    TX_CARBON_ORIGIN_USED = (
        3107,
        "this origin reference came on chain before: a source serial block comes on chain once",
    )
    TX_CARBON_BATCH_UNKNOWN = (3108, "no batch with that id")
    TX_CARBON_INSUFFICIENT = (3109, "the sender holds fewer tradable credits of the batch")
    TX_CARBON_NOT_HELD = (
        3110,
        "the serials are not all the sender's tradable credits (retired, cancelled or "
        "another holder's serials never move)",
    )
    TX_CARBON_TOO_FRAGMENTED = (
        3111,
        "a holding would have more serial ranges than the network allows",
    )
    TX_CARBON_SELF_TRANSFER = (3112, "a carbon transfer to the sender itself")

    # 4xxx: blocks and chain
    BLOCK_INVALID = (4000, "invalid block")
    BLOCK_BAD_SIGNATURE = (4001, "block signature does not verify")
    BLOCK_BAD_PAYLOAD = (4002, "payloadHash, counts or totals do not match the transactions")
    BLOCK_BAD_STATE_ROOT = (4003, "stateRoot does not match the state after applying the block")
    BLOCK_BAD_PARENT = (4004, "block does not extend the current head")
    BLOCK_TOO_LARGE = (4005, "block has too many transactions or bytes")
    CHAIN_FINALIZED = (4006, "cannot roll back a finalized block")
    CHAIN_CORRUPT = (4007, "database is inconsistent")
    GENESIS_INVALID = (4008, "invalid genesis file")
    GENESIS_MISMATCH = (4009, "database was created from a different genesis")

    # 5xxx: node, pool, config
    POOL_FULL = (5000, "transaction pool is full, retry later")
    POOL_SENDER_LIMIT = (5001, "too many pending transactions from this sender")
    POOL_DUPLICATE = (5002, "transaction already in the pool")
    CONFIG_INVALID = (5003, "invalid configuration")
    KEYSTORE_INVALID = (5004, "invalid keystore")
    STORAGE_FAILURE = (5005, "the database could not be opened or written")
    LISTEN_FAILED = (5006, "cannot listen on the configured address")
    SANDBOX_FAULT = (5007, "the contract sandbox failed (a node fault, never a contract's result)")
    BRIDGE_REFUSED = (5008, "this node will not sign that for the bridge")
    BRIDGE_NOT_FINAL = (5009, "not finalized on this node yet: ask again later")
    POOL_SENDER_SUSPENDED = (
        5010,
        "a contract transaction from this sender faulted the sandbox: its contract "
        "transactions are refused for a while",
    )

    # 6xxx: RPC
    NOT_FOUND = (6000, "no such transaction, block or account")
    RPC_BUSY = (6001, "the node is busy, retry later")
    RPC_RATE_LIMITED = (6002, "too many requests from this client, retry later")
    RPC_BODY_TOO_LARGE = (6003, "request body larger than this node accepts")
    RPC_BATCH_TOO_LARGE = (6004, "batch larger than this node accepts")
    RPC_UNSUPPORTED_MEDIA_TYPE = (6005, "request body of a content type this route does not take")
    MODULE_NOT_ENABLED = (6006, "this network's genesis does not enable the module asked for")

    # 7xxx: contract outcomes (a receipt's errorCode; the transaction is included, fee paid)
    CONTRACT_FAILED = (7000, "the contract raised an error; its writes were reverted")
    CONTRACT_OUT_OF_GAS = (7001, "the call ran out of gas; its writes were reverted")
    CONTRACT_CALL_DEPTH = (7002, "calls nested deeper than allowed; writes reverted")
    CONTRACT_BAD_TRANSFER = (7003, "the contract sent C to an invalid address; reverted")

    # JSON-RPC 2.0's own codes, for requests that do not reach a method
    RPC_PARSE_ERROR = (-32700, "request body is not valid JSON")
    RPC_INVALID_REQUEST = (-32600, "not a valid JSON-RPC 2.0 request")
    RPC_METHOD_NOT_FOUND = (-32601, "no such method")
    RPC_INVALID_PARAMS = (-32602, "invalid method parameters")
    RPC_INTERNAL = (-32603, "internal error")

    @property
    def number(self) -> int:
        return self.value[0]

    @property
    def description(self) -> str:
        return self.value[1]

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later unchanged (load, not validity)."""
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        ErrorCode.POOL_FULL,
        ErrorCode.POOL_SENDER_LIMIT,
        ErrorCode.RPC_BUSY,
        ErrorCode.RPC_RATE_LIMITED,
        ErrorCode.BRIDGE_NOT_FINAL,
        ErrorCode.POOL_SENDER_SUSPENDED,
    }
)


class CcoinError(Exception):
    """Base of every typed error: a stable `code` plus a human message."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        self.code = code
        self.message = message or code.description
        super().__init__(f"{code.name}: {self.message}")

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code.number,
            "name": self.code.name,
            "message": self.message,
            "retryable": self.code.retryable,
        }


class DecodeError(CcoinError):
    """Bytes or JSON that do not form a valid value of the expected type."""


class InvalidTransaction(CcoinError):
    """A transaction that must not enter the pool or a block."""


class InvalidBlock(CcoinError):
    """A block that must not be applied."""


class ChainError(CcoinError):
    """A chain-level refusal or inconsistency (rollback past finality, corrupt database)."""


class ConfigError(CcoinError):
    """An invalid genesis file or node configuration."""


class PoolError(CcoinError):
    """The transaction pool refused a transaction for a reason other than its validity."""


class RpcError(CcoinError):
    """A request the RPC server refuses before or instead of running it."""
