"""P2P transport (DESIGN section 7): the network CA and node certificates, TLS 1.3 contexts
with mutual authentication, length-prefixed framing, the wire messages, peer scores and
bans, and the `Network` service that listens, dials, handshakes and moves frames.

No consensus logic: transaction, block and vote payloads are opaque bytes the node decodes.

May import: `ccoin.types.codec`, `ccoin.errors`, `ccoin.node.log` (structured log events
only), `trio`, `cryptography`. Never imports `ccoin.ledger` or the rest of `ccoin.node`.
"""
