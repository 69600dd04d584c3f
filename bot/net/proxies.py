"""The real client behind trusted reverse proxies (``KEPU_TRUSTED_PROXIES``).

Only when the direct peer is a trusted proxy are ``X-Forwarded-For`` and
``X-Forwarded-Proto`` believed. The client is the right-most address in
``X-Forwarded-For`` that is not a trusted proxy: everything left of it was
written by the client itself and may be forged. The request is cloned with that
address as ``request.remote`` (and the scheme the proxy saw), so every limiter
and log line sees the real client. Without trusted proxies the headers are
ignored and the peer is the client. The channels in the Rasa process (REST,
WeChat, WeCom) read their clients with the same ``client_of``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import hdrs, web

from bot.settings import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
MAX_HOPS = 20  # a longer chain is not a real proxy chain: only its right end is read


def parse_address(text: str) -> IPAddress | None:
    """An address from a header or the socket: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def trusted(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    """Whether ``address`` is one of the trusted proxies' ``networks``."""
    return address is not None and any(address in network for network in networks)


def client_of(peer: str | None, forwarded_for: list[str], networks: tuple[IPNetwork, ...]) -> str:
    """The client's address: the peer, or the right-most untrusted hop it forwards for."""
    address = parse_address(peer or "")
    if not trusted(address, networks):
        return peer or "unknown"
    hops = [hop for header in forwarded_for for hop in header.split(",")][-MAX_HOPS:]
    for hop in reversed(hops):
        hop_address = parse_address(hop)
        if hop_address is None:  # garbage a trusted hop passed on: stop at that hop
            break
        address = hop_address
        if not trusted(address, networks):
            break
    return str(address)


def scheme_of(request: web.Request) -> str:
    """http or https as the client used it: the last proxy's X-Forwarded-Proto, else ours."""
    proto = request.headers.get(hdrs.X_FORWARDED_PROTO, "").split(",")[-1].strip().lower()
    return proto if proto in ("http", "https") else request.scheme


def real_client(networks: tuple[IPNetwork, ...]) -> Middleware:
    """Middleware: ``request.remote`` (and ``scheme``) as the trusted proxies saw them."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not networks or not trusted(parse_address(request.remote or ""), networks):
            return await handler(request)
        forwarded = request.headers.getall(hdrs.X_FORWARDED_FOR, [])
        return await handler(
            request.clone(
                remote=client_of(request.remote, forwarded, networks), scheme=scheme_of(request)
            )
        )

    return middleware
