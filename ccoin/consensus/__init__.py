"""Consensus: DPoS block production and BFT finality as pure rules and a state machine.

`schedule` (slots, rounds, the active set and its order), `votes` (finality votes and the
safety rules a voter keeps), `tree` (the fork tree of unfinalized headers: justification,
finality, fork choice) and `machine` (events in, new state and actions out).

May import: `ccoin.types`, `ccoin.errors`, `ccoin.crypto` (pure hashing and signature
checks passed in). Never trio, plyvel, storage, the wall clock or the network: that is what
lets `tests/sim` run hundreds of seeded networks in one process.
"""
