"""Benchmark tools behind `ccoin bench`: starting reference nodes and driving load at them.

`anvil` starts a real local EVM node (anvil from the `@foundry-rs/anvil` npm package) and
`evm_load` pre-signs transfers and measures how fast such a node takes them in, so our
node's figures can be compared with a real EVM node's on the same machine.

This package may import `ccoin.*` and third-party client libraries; the node itself never
imports it, so its dependencies (eth-account, httpx) stay out of the node's path.
"""
