"""The contracts module: types 5 (deploy, upgrade) and 8 (call), run in the seccomp sandbox
(`ccoin.vm`). Files: `wire` (the two assets), `records` (contract records and receipts),
`rules` (the state rules, the stateless checks the pool shares, the engine), `module`.

May import what `ccoin.modules` may; `wire` and `records` only the wire layer."""
