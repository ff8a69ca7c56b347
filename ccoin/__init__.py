"""Carbon Coin: a permissioned DPoS sidechain node for BNB Smart Chain.

Subpackages own one concern each: `types` (wire records and their canonical bytes),
`crypto` (keys, addresses, keystores), `storage` (key-value backends and the key schema),
`ledger` (the state transition), `node` (services wired on trio), `cli` (the `ccoin`
command). `consensus`, `p2p`, `vm` are filled by later issues.
"""

__version__ = "0.1.0"
