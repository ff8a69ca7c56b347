"""Ledger: the state transition. Runs the common part of every transaction and dispatches
the rest to the type's module (`ccoin.modules`, ADR 0025), builds and checks blocks,
commits each block in one synced batch with its undo record, rolls back non-final blocks.

May import: `ccoin.types`, `ccoin.crypto`, `ccoin.storage`, `ccoin.errors`, `ccoin.modules`
(through the catalog and the few named cross-module calls), and the pure rules of
`ccoin.consensus`. `state`, `context` and `rounds` import no module: the modules' rules use
them. No trio, no wall clock: time arrives as block timestamps.
"""
