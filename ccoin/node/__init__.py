"""Node: the services that run on trio (block production, the transaction pool, later P2P and
RPC) and the wiring between them. Each service owns its mutable state; the clock is passed in.

May import every other `ccoin` package except `cli`.
"""
