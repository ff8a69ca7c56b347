"""Free loopback ports: `ccoin.devnet.ports`, named here for the tests."""

from ccoin.devnet.ports import BSC_OFFSET as BSC_OFFSET
from ccoin.devnet.ports import RPC_OFFSET as RPC_OFFSET
from ccoin.devnet.ports import free_port_range as free_port_range
