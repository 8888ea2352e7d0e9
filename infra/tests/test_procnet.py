"""Listening sockets from /proc: addresses decoded, attributed to the right process group."""

from __future__ import annotations

import os
import socket

from tributary.procnet import Listener, _decode_address, listeners


def test_decode_ipv4_and_ipv6() -> None:
    """The kernel's little-endian hex words decode to the usual notation."""
    assert _decode_address("0100007F:1F90") == ("127.0.0.1", 8080)
    assert _decode_address("00000000:0050") == ("0.0.0.0", 80)  # noqa: S104 - decoded, not bound
    assert _decode_address("00000000000000000000000001000000:0016") == ("::1", 22)
    assert _decode_address("0000000000000000FFFF00000100007F:0016") == ("127.0.0.1", 22)


def test_listeners_finds_this_process_socket() -> None:
    """A socket this process listens on shows up under its own process group, with its address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        found = listeners({os.getpgrp()})
    assert Listener(pid=os.getpid(), host="127.0.0.1", port=port) in found
    assert all(listener.is_loopback for listener in found if listener.port == port)


def test_listeners_ignores_other_groups() -> None:
    """Process groups that do not exist hold no sockets."""
    assert listeners({2**22 + 12345}) == []
