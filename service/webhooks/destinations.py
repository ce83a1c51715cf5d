"""Where webhooks may post: public addresses only, unless the operator allows a network.

A webhook URL is chosen by an agent, so without a check the gateway could be made to post to
itself, to the private network behind it or to a cloud metadata address. The host is resolved
and every address checked at registration and again at each delivery; the delivery then
connects to the address that was checked (the TLS name stays the host's), so a DNS answer
that changes between the check and the connection cannot redirect it.

An IPv6 address that carries an IPv4 one (mapped, compatible, translated, NAT64, 6to4,
Teredo, ISATAP) is judged by the IPv4 address it carries: on a network that routes it, a
NAT64 or 6to4 address reaches that IPv4 host, and `is_global` alone would call
`64:ff9b::7f00:1` (127.0.0.1 through NAT64) public."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from service.errors import WebhookDestinationRefused

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 ranges whose last 32 bits are an IPv4 address: IPv4-compatible (deprecated),
# IPv4-translated (RFC 2765) and NAT64's well-known and local-use prefixes (RFC 6052, 8215).
_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
)
# The interface identifiers of ISATAP (RFC 5214), followed by the IPv4 address.
_ISATAP = (b"\x00\x00\x5e\xfe", b"\x02\x00\x5e\xfe")
# host, port -> the addresses the host resolves to.
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for host:port (TCP)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (none for an ordinary one; a Teredo
    address carries its server's and its client's)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if any(ip in network for network in _LAST_32_BITS) and int(ip) > 1:  # not :: or ::1
        return [ipaddress.IPv4Address(ip.packed[-4:])]
    if ip.packed[8:12] in _ISATAP:
        return [ipaddress.IPv4Address(ip.packed[-4:])]
    return []


@dataclass(frozen=True)
class PinnedRequest:
    """A request to the checked address, carrying the original host for HTTP and TLS."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]


class Destinations:
    """Checks webhook URLs against the address rules."""

    def __init__(
        self, allowed_networks: Sequence[str] = (), resolver: Resolver = system_resolver
    ) -> None:
        self._allowed: tuple[IpNetwork, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in allowed_networks
        )
        self._resolve = resolver

    def check(self, url: str) -> str:
        """The address to connect to for `url`; WebhookDestinationRefused when the host does
        not resolve, or resolves to any address that is not public and not allowed."""
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise WebhookDestinationRefused("a webhook URL is http or https with a host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = self._resolve(parsed.host, port)
        except OSError:
            raise WebhookDestinationRefused("the webhook host does not resolve") from None
        if not addresses:
            raise WebhookDestinationRefused("the webhook host does not resolve")
        for address in addresses:
            if not self._may_reach(ipaddress.ip_address(address.split("%", 1)[0])):
                raise WebhookDestinationRefused(
                    "the webhook host resolves to a loopback, private, link-local or other "
                    "non-public address; an operator may allow a network with "
                    "SLUICEGATE_WEBHOOK_ALLOWED_NETWORKS"
                )
        return addresses[0]

    def _may_reach(self, ip: IpAddress) -> bool:
        """Public, or in a network the operator allowed; an IPv6 address that carries IPv4
        addresses only when each of those may be reached too."""
        if any(ip in network for network in self._allowed):
            return True
        carried = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else []
        if carried:
            return all(self._may_reach(inner) for inner in carried)
        return ip.is_global

    def pinned(self, url: str) -> PinnedRequest:
        """Check `url`, then aim the request at the address checked."""
        address = self.check(url)
        parsed = httpx.URL(url)
        host_header = parsed.netloc.decode("ascii")
        return PinnedRequest(
            url=parsed.copy_with(host=address),
            headers={"host": host_header},
            extensions={"sni_hostname": parsed.host},
        )
