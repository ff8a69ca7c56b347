"""Read-only contract calls for the RPC (`ccoin_callContract`).

A view runs the contract at the head's state in its own sandbox (never the chain's, which
block production must not wait behind), one at a time on a worker thread; a bounded number
may wait, beyond which the caller is told the node is busy. Nothing a view does is applied.
"""

from __future__ import annotations

from ccoin.crypto.address import address_raw
from ccoin.ledger.chain import Chain
from ccoin.modules.contracts.records import Receipt
from ccoin.modules.contracts.rules import ContractEngine, view
from ccoin.node.bounded_work import BoundedWork
from ccoin.vm.api import CallContext


class ContractViews:
    def __init__(self, chain: Chain, max_waiting: int) -> None:
        self.chain = chain
        self.engine = ContractEngine()
        self.work = BoundedWork("contract views", max_waiting)

    async def call(
        self,
        contract: str,
        method: str,
        args: tuple[object, ...],
        *,
        sender: str,
        value: int,
        gas_limit: int,
    ) -> Receipt:
        return await self.work.run(self._run, contract, method, args, sender, value, gas_limit)

    def _run(
        self,
        contract: str,
        method: str,
        args: tuple[object, ...],
        sender: str,
        value: int,
        gas_limit: int,
    ) -> Receipt:
        chain = self.chain
        head = chain.head
        account = chain.account_raw(address_raw(contract))
        context = CallContext(
            sender=sender,
            contract=contract,
            height=head.height,
            timestamp=head.timestamp_seconds,
            tx_id="",
            value=value,
            balance=(0 if account is None else account.balance) + value,
        )
        return view(chain.store.get, self.engine, contract, method, args, context, gas_limit)

    def close(self) -> None:
        self.engine.close()
