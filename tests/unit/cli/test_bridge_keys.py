"""Genesis creation gives every delegate a real secp256k1 bridge key (an Ethereum v3
keystore under the same passphrase) and registers its address; no placeholders."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from eth_account import Account

from ccoin.cli.genesis import write_genesis


def test_every_delegate_gets_its_own_bridge_key(tmp_path: Path) -> None:
    out = write_genesis(
        out=tmp_path / "genesis.json",
        keys_dir=tmp_path / "keys",
        passphrase="pw",
        delegates=3,
        test_accounts=0,
        chain_name="bridge-keys",
        genesis_time=1_800_000_000,
        block_time_ms=1000,
        kdf="fast",
    )
    registered = [d.asset.bridge_address for d in out.genesis.delegates]
    assert len(set(registered)) == 3
    for path, address in zip(out.bridge_keystores, registered, strict=True):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        key = Account.from_key(Account.decrypt(json.loads(path.read_text()), "pw"))
        assert bytes.fromhex(key.address[2:]) == address
