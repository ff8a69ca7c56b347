"""A devnet in a temporary directory: `ccoin.devnet.temporary`, named here for the tests."""

from ccoin.devnet.temporary import temporary_devnet as temporary_devnet
