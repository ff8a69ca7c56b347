"""Network namespaces standing in for separate hosts (tests of `devnet init --hosts`).

`HostsLab` (root and iproute2 needed) creates one namespace per host plus a `switch`
namespace holding two Linux bridges, `left` and `right`, joined by a veth trunk. Host I's
`eth0` is on the left bridge for the first half of the hosts and on the right one for the
rest, at 10.201.N.(I+1)/24 (N random per lab), so traffic between hosts crosses veth pairs
and bridges rather than loopback; `split()` sets the trunk down (a partition into the two
halves) and `heal()` up again. Each host also has a point-to-point management link to the
caller's namespace (10.202.N.4I+1 here, .4I+2 there) on which the caller reaches its RPC
without using the P2P path. Every name carries a random tag, and `close()` (or leaving the
`with` block) deletes the namespaces and the links with them. All addresses are private.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

P2P_NET = "10.201"
MGMT_NET = "10.202"
IP_TIMEOUT = 20.0


class LabError(RuntimeError):
    pass


def require_root() -> None:
    """Raise with the reason when this process cannot build namespaces."""
    if os.geteuid() != 0:
        raise LabError("network namespaces need root (ip netns add); run the test as root")
    if shutil.which("ip") is None:
        raise LabError("the `ip` command (iproute2) is not installed")


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT)
    if done.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class Host:
    index: int
    namespace: str
    address: str  # on the P2P network
    management: str  # this host's end of its management link


@dataclass
class HostsLab:
    count: int
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    octet: int = field(default_factory=lambda: secrets.randbelow(250) + 1)
    hosts: list[Host] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # namespaces added by add_host
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _added: int = 0

    @property
    def switch(self) -> str:
        return f"ccsw-{self.tag}"

    def __enter__(self) -> HostsLab:
        require_root()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _build(self) -> None:
        sw = self.switch
        _ip("netns", "add", sw)
        self.extra.append(sw)
        for bridge in ("left", "right"):
            _ip("-n", sw, "link", "add", bridge, "type", "bridge")
            _ip("-n", sw, "link", "set", bridge, "up")
        _ip("-n", sw, "link", "add", "trunkl", "type", "veth", "peer", "name", "trunkr")
        _ip("-n", sw, "link", "set", "trunkl", "master", "left", "up")
        _ip("-n", sw, "link", "set", "trunkr", "master", "right", "up")
        for i in range(self.count):
            self.hosts.append(self._host(i, "left" if i < (self.count + 1) // 2 else "right"))

    def _host(self, n: int, bridge: str) -> Host:
        if n >= 63:
            raise LabError("at most 63 hosts (management /30 links in one /24)")
        ns = f"cch{n}-{self.tag}"
        _ip("netns", "add", ns)
        self.extra.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")
        here, there = f"cc{self.tag}s{n}", f"cc{self.tag}h{n}"
        _ip("link", "add", here, "type", "veth", "peer", "name", there)
        _ip("link", "set", there, "netns", ns)
        _ip("-n", ns, "link", "set", there, "name", "eth0")
        _ip("link", "set", here, "netns", self.switch)
        _ip("-n", self.switch, "link", "set", here, "master", bridge, "up")
        address = f"{P2P_NET}.{self.octet}.{n + 1}"
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        mine, theirs = f"cc{self.tag}m{n}", f"cc{self.tag}n{n}"
        _ip("link", "add", mine, "type", "veth", "peer", "name", theirs)
        _ip("link", "set", theirs, "netns", ns)
        _ip("addr", "add", f"{MGMT_NET}.{self.octet}.{4 * n + 1}/30", "dev", mine)
        _ip("link", "set", mine, "up")
        management = f"{MGMT_NET}.{self.octet}.{4 * n + 2}"
        _ip("-n", ns, "addr", "add", f"{management}/30", "dev", theirs)
        _ip("-n", ns, "link", "set", theirs, "up")
        return Host(n, ns, address, management)

    def add_host(self, bridge: str = "left") -> Host:
        """One more host (not among `hosts`), e.g. an intruder, on `bridge`."""
        self._added += 1
        return self._host(self.count + self._added - 1, bridge)

    def split(self) -> None:
        _ip("-n", self.switch, "link", "set", "trunkl", "down")

    def heal(self) -> None:
        _ip("-n", self.switch, "link", "set", "trunkl", "up")

    def run(
        self, host: Host, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `argv` inside `host`'s namespace, its output appended to `log`."""
        out: IO[bytes] = log.open("ab")
        try:
            process = subprocess.Popen(
                ["ip", "netns", "exec", host.namespace, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        finally:
            out.close()
        self._processes.append(process)
        return process

    def close(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        self._processes.clear()
        for ns in reversed(self.extra):  # a namespace's links go with it
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=IP_TIMEOUT)
        self.extra.clear()
        self.hosts.clear()
