"""What the client raises: the node's typed refusals, and its own transport and wait failures.

`NodeError` is an error the node answered with (JSON-RPC `{code, message, data: {name,
retryable}}`, or the `error` of a rejected transaction's status). Its `code` is the
`ErrorCode` of that name when this client knows it; a newer node's unknown name still gives
a usable error with its number, name, message and `retryable`.
"""

from __future__ import annotations

from typing import Any

from ccoin.errors import ErrorCode


class ClientError(Exception):
    """Base of everything the client raises on its own account."""

    retryable = False


class NodeError(ClientError):
    """The node refused a request or a transaction."""

    def __init__(
        self,
        number: int,
        name: str,
        message: str,
        *,
        retryable: bool | None = None,
        attempts: int = 1,
    ) -> None:
        self.code: ErrorCode | None = ErrorCode.__members__.get(name)
        self.number = number
        self.name = name
        self.message = message
        if retryable is None:
            retryable = self.code.retryable if self.code is not None else False
        self.retryable = retryable
        self.attempts = attempts  # > 1 when the client retried before giving up
        super().__init__(f"{name} ({number}): {message}")

    @classmethod
    def from_rpc(cls, error: Any) -> NodeError:
        """From a JSON-RPC error object."""
        if type(error) is not dict:
            return cls(ErrorCode.RPC_INTERNAL.number, "UNKNOWN", f"malformed error: {error!r}")
        data = error.get("data")
        if type(data) is not dict:
            data = {}
        return cls._build(error.get("code"), data.get("name"), error.get("message"), data)

    @classmethod
    def from_status(cls, error: Any) -> NodeError:
        """From the `{code, name, message, retryable}` object of a transaction status or a
        `ccoin_sendTransactions` entry."""
        if type(error) is not dict:
            return cls(ErrorCode.RPC_INTERNAL.number, "UNKNOWN", f"malformed error: {error!r}")
        return cls._build(error.get("code"), error.get("name"), error.get("message"), error)

    @classmethod
    def _build(cls, number: Any, name: Any, message: Any, flags: dict[str, Any]) -> NodeError:
        retryable = flags.get("retryable")
        return cls(
            number if type(number) is int else 0,
            name if type(name) is str and name else "UNKNOWN",
            message if type(message) is str else "",
            retryable=retryable if type(retryable) is bool else None,
        )


class TransactionRejected(NodeError):
    """A submitted transaction that the node rejected after accepting it (its status became
    `rejected`), with the node's error code."""

    def __init__(self, tx_id: str, error: NodeError) -> None:
        super().__init__(error.number, error.name, error.message, retryable=error.retryable)
        self.tx_id = tx_id

    def __str__(self) -> str:
        return f"transaction {self.tx_id} rejected: {super().__str__()}"


class WaitTimeout(ClientError):
    """`wait_for` reached its deadline before the transaction reached the wanted status."""

    def __init__(self, tx_id: str, wanted: str, timeout: float, last: str | None) -> None:
        self.tx_id = tx_id
        self.wanted = wanted
        self.timeout = timeout
        self.last = last  # the last status seen, None if the node never knew the id
        seen = "the node did not know it" if last is None else f"last status {last}"
        super().__init__(f"transaction {tx_id} not {wanted} after {timeout:g} s ({seen})")


class NodeUnreachable(ClientError):
    """No answer from the node: connection refused, DNS, timeout, connection dropped."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"could not reach {url}: {reason}")


class BadResponse(ClientError):
    """The node answered, but not with a JSON-RPC response this client understands (a wrong
    URL, a proxy's error page, a mismatched answer)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"unexpected answer from {url}: {reason}")
