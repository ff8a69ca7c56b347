"""The core module: types 0-4, 9 and 10 (transfers, second signatures, delegates, votes,
multisignature groups, governance, equivocation evidence), declared in the shape every
module has. Their assets stay in `ccoin.types.assets` (the envelope's own, DESIGN section
4's fixed bytes); a new type never goes there (ADR 0025)."""
