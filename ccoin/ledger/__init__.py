"""Ledger: the state transition. Applies transactions to accounts and delegates, builds and
checks blocks, commits each block in one synced batch with its undo record, rolls back
non-final blocks.

May import: `ccoin.types`, `ccoin.crypto`, `ccoin.storage`, `ccoin.errors`, and the pure
rules of `ccoin.consensus` (to check equivocation evidence). No trio, no wall clock: time
arrives as block timestamps.
"""
