"""Which TCP addresses a stack's processes listen on, read from ``/proc`` (Linux only).

The stack promises to bind only the loopback address; tests check that promise for every process group
the stack started (the emulator and each service replica lead one).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_LISTEN = "0A"


@dataclass(frozen=True, order=True)
class Listener:
    """A listening TCP socket and the process holding it."""

    pid: int
    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        return ipaddress.ip_address(self.host).is_loopback


def _decode_address(hex_addr: str) -> tuple[str, int]:
    host_hex, port_hex = hex_addr.split(":")
    raw = bytes.fromhex(host_hex)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    host = ipaddress.ip_address(words)
    if isinstance(host, ipaddress.IPv6Address) and host.ipv4_mapped:
        host = host.ipv4_mapped
    return str(host), int(port_hex, 16)


def _listening_inodes() -> dict[int, tuple[str, int]]:
    inodes: dict[int, tuple[str, int]] = {}
    for table in ("tcp", "tcp6"):
        path = _PROC / "net" / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == _LISTEN:
                inodes[int(fields[9])] = _decode_address(fields[1])
    return inodes


def _process_group(pid: int) -> int | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may hold spaces: state ppid pgrp ...
    return int(stat.rsplit(")", 1)[1].split()[2])


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        fds = list((_PROC / str(pid) / "fd").iterdir())
    except OSError:
        return set()
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listeners(process_groups: set[int]) -> list[Listener]:
    """Every listening TCP socket held by a process in one of ``process_groups`` (sorted)."""
    listening = _listening_inodes()
    found: set[Listener] = set()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if _process_group(pid) not in process_groups:
            continue
        for inode in _socket_inodes(pid) & listening.keys():
            host, port = listening[inode]
            found.add(Listener(pid=pid, host=host, port=port))
    return sorted(found)
