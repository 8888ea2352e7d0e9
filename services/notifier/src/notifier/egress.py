"""Where a webhook may post: the address policy checked when a rule is loaded and again at every send.

- **Never**: link-local (169.254.0.0/16, fe80::/10; cloud metadata lives there: 169.254.169.254,
  fd00:ec2::254 on EC2's IPv6), unspecified, multicast, reserved and broadcast addresses, whatever a rule
  says.
- **Only with** ``allow_private: true`` on the webhook: loopback, private (RFC 1918, fc00::/7), shared
  (100.64.0.0/10) and other non-global ranges (the local stack's and the tests' receivers).
- Everything else (public addresses) always.

A host name is resolved at send time and every address it resolves to must pass; the request then goes to
the checked address (see :mod:`notifier.adapters.webhook`), so a second lookup cannot swap in another one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))


class AddressRefused(ValueError):
    """The webhook's host is, or resolves to, an address it may not post to; the message says why."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why a webhook may not post to ``address``, or ``None`` if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA or address.is_link_local:
        return f"{address} is a link-local or cloud metadata address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return f"{address} is not a unicast host address"
    if not address.is_global and not allow_private:
        return (
            f"{address} is a loopback or private address (set allow_private: true on the webhook to allow it)"
        )
    return None


def literal(host: str) -> Address | None:
    """``host`` as an IP address, if it is one."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def checked_addresses(host: str, port: int, *, allow_private: bool, resolve: Resolver) -> list[Address]:
    """The addresses ``host`` resolves to, all of them allowed.

    Raises:
        AddressRefused: one of them is not allowed, or there are none.
        OSError: the name cannot be resolved now (retry later).
    """
    fixed = literal(host)
    addresses = (
        [fixed] if fixed is not None else [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    )
    if not addresses:
        raise AddressRefused(f"{host} resolves to no address")
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why is not None:
            raise AddressRefused(why if fixed is not None else f"{host} resolves to {why}")
    return addresses
