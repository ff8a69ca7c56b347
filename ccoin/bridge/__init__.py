"""The relay bridge to BNB Smart Chain (issue 6): the BSC contracts (Solidity sources in
`contracts/`, their compiled artifacts in `artifacts/`, both package data), anchoring,
deposits and withdrawals.

May import: `ccoin.types`, `ccoin.crypto`, `ccoin.errors`, `ccoin.ledger` (a node's chain,
for proofs). Not `ccoin.node` (the node wires the bridge in, not the other way round).
"""
