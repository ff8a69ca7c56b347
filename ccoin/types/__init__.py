"""Wire types: the whitepaper's records and the chain's blocks, each a frozen dataclass with
one canonical `encode()` / `decode()` (DESIGN section 3), plus their JSON forms for RPC.

May import: `ccoin.errors`, `ccoin.crypto`. Pure: no I/O, no trio, no storage.
"""
