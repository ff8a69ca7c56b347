"""Test factories shared by the tests, the benchmarks and the crash harness: deterministic
keys, small genesis files and signed transactions, network namespaces standing in for
separate hosts (`netns`). Not used by the node itself.

May import anything in `ccoin` except `ccoin.cli`.
"""
