"""Native modules: each capability of the chain in one folder (ADR 0025).

A module (`ccoin.modules.base.Module`) owns its transaction types (each a `TxTypeSpec`: the
asset class, its asset table, its state rule, its pool check), its state tables (keys still
built in `ccoin.storage.schema`), its genesis section, its end-of-block hook, its RPC methods
and its CLI group. `ccoin.modules.catalog` lists the modules; the ledger, the pool, the RPC
server and the CLI ask the catalog and know nothing else of a module's insides.

Numbers that must never collide stay in one place each: type numbers in
`ccoin.types.asset_base.TxType`, table prefixes in `ccoin.storage.schema`, error codes in
`ccoin.errors`.

May import: `ccoin.types`, `ccoin.crypto`, `ccoin.storage`, `ccoin.errors`, `ccoin.vm`,
`ccoin.consensus` (pure rules), and from `ccoin.ledger` only `state`, `context` and `rounds`
(never the executor or the chain, which import the modules).
"""
