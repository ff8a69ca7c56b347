"""Storage: a small key-value interface with an atomic batch, its memory and LevelDB
backends, and the one module (`schema`) that builds every database key.

May import: `ccoin.types`, `ccoin.errors`. Never imports `ledger`, `node` or trio.
"""
