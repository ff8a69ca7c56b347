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

The sandbox side (`ipc`, `runner`, `worker`: a seccomp-confined worker process) is the
impure part and is specified separately; see issue 5.
"""
