"""Contract runner (vm): the contract language, deterministic gas and the sandbox.

The pure part, usable in any process: `lint` (the language: an AST whitelist that reports
every violation), `gas` (the versioned schedule, the meter, size-based cost functions and
the uncatchable `VmAbort` / `OutOfGas`), `operators` and `metered_builtins` (what the
instrumented code calls instead of Python's operators and builtins), `api` (`Var`, `Map`,
`ctx` and the `ContractApi` protocol the node fills), `runtime` (the namespace a contract
runs in) and `instrument` (lint, rewrite the AST to charge gas, compile).

The pure modules may import the standard library's `ast`, `decimal`, `operator`,
`dataclasses`, `types`, `typing`, `collections.abc`, plus `msgpack` and `ccoin.errors`.
Never trio, plyvel, `ccoin.storage`, `ccoin.node`, `ccoin.p2p`, the wall clock or
randomness: the same call must charge the same gas and give the same result on every
node. A test (`tests/unit/vm/test_purity.py`) enforces the imports.

`host` runs one transaction's call tree (calls between contracts, one meter, writes per
contract) over a backend: the sandbox child's pipe, or a dict in tests.

The sandbox side (`ipc`, `runner`, `worker`: seccomp-confined worker processes; `calls`:
what crosses between node and child and the checks on it; `compile_cache`: contracts
compiled once on the node) is the impure part, specified in `docs/spec/vm.md` section 3;
how types 5 and 8 use it on chain is section 4.
"""
