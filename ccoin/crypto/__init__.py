"""Crypto: Ed25519 keys, addresses and ids (DESIGN section 3), encrypted keystores.

May import: `ccoin.errors`. Pure functions over bytes; no I/O except the keystore file helpers.
"""
