"""Where webhooks may post: public addresses only, unless the operator allows a network.

A webhook URL is chosen by an agent, so without a check the gateway could be made to post to
itself, to the private network behind it or to a cloud metadata address. The host is resolved
and every address checked at registration and again at each delivery; the delivery then
connects to the address that was checked (the TLS name stays the host's), so a DNS answer
that changes between the check and the connection cannot redirect it."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from service.errors import WebhookDestinationRefused

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses the host resolves to.
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for host:port (TCP)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


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
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not ip.is_global and not any(ip in network for network in self._allowed):
                raise WebhookDestinationRefused(
                    "the webhook host resolves to a loopback, private, link-local or other "
                    "non-public address; an operator may allow a network with "
                    "SLUICEGATE_WEBHOOK_ALLOWED_NETWORKS"
                )
        return addresses[0]

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
