"""The carbon credit module (issue 15, docs/spec/carbon.md): credit classes and issuers
admitted by the genesis's carbon committee, projects, batches held as serial ranges,
transfers, retirements (proven on BSC through the header's retirementRoot) and
cancellations.

Files: `ranges` (the serial-range algebra), `jurisdictions`, `wire` (assets and records),
`genesis` (the section), `state` (typed access to its tables), `rules` (types 11-16),
`queries` (the audit trail, read-only), `module` (its declaration).

May import what `ccoin.modules` may; `ranges`, `jurisdictions`, `wire` and `genesis` only
the wire layer (`ccoin.types.codec`, `ccoin.types.asset_base`, `ccoin.crypto`,
`ccoin.errors`), since the transaction envelope and the genesis decode them.
"""
