"""The carbon credit module (issue 15, docs/spec/carbon.md): credit classes and issuers
admitted by the genesis's carbon committee, projects, batches held as serial ranges,
transfers, retirements (proven on BSC through the header's retirementRoot) and
cancellations.

Files: `ranges` (the serial-range algebra), `jurisdictions`, `wire` (the assets), `records`,
`genesis` (the section), `state` (typed access to its tables), `rules` (types 11-16),
`queries` (the audit trail, read-only), `module` (its declaration). Its interfaces, loaded
only by what serves them: `rpc` (its API table: methods, REST routes, WebSocket topics;
`schemas` their OpenAPI schemas, `events` the topics' events), `metrics` (the node's
`ccoin_carbon_*`), `cli` and `cli_reads` (`ccoin carbon`), `registry` (`prove` on BSC).

May import what `ccoin.modules` may; `ranges`, `jurisdictions`, `wire`, `records`, `genesis` only
the wire layer (`ccoin.types.codec`, `ccoin.types.asset_base`, `ccoin.crypto`,
`ccoin.errors`), since the transaction envelope and the genesis decode them. The
interfaces may import what serves them as well: `rpc` `ccoin.rpc.table` and
`ccoin.bridge.proofs`, `metrics` prometheus_client, the CLI files `ccoin.cli`,
`ccoin.client` and (`registry` only) the BSC side of `ccoin.bridge` and `ccoin.devnet`.
"""
