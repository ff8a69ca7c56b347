"""The bridge module's on-chain part: types 6 (a deposit from BSC, credited on delegates'
attestations) and 7 (a withdrawal to BSC, a leaf under the header's withdrawalRoot). The
relayer, the signers and the BSC contracts are `ccoin.bridge`. Files: `wire` (the two
assets), `rules`, `module`.

May import what `ccoin.modules` may; `wire` only the wire layer."""
