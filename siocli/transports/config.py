"""Connection options, and what a URL means to Socket.IO.

As in socket.io-client, the URL's path is the *namespace* and ``--path`` is the server's
handshake path (default ``/socket.io/``): ``http://host:3000/admin`` joins ``/admin`` through
``http://host:3000/socket.io/``. ``ws://`` and ``wss://`` URLs mean WebSocket only.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from ..protocol.types import Parser

__all__ = [
    "ConnectOptions",
    "Target",
    "parse_target",
    "split_url",
    "ssl_context",
    "transport_of",
]


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    url: str
    path: str = "/socket.io/"
    transport: str = "auto"  # auto (polling, then upgrade) | polling | websocket
    eio: int | None = None  # None: follow what the server speaks
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    timeout: float = 20.0  # seconds to connect and get the handshake
    insecure: bool = False
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    proxy: str | None = None
    parser: Parser = Parser.DEFAULT  # the server's Socket.IO packet encoding


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect, from the URL and ``--path``."""

    scheme: str  # http or https
    host: str
    port: int
    path: str
    namespace: str
    query: tuple[tuple[str, str], ...]
    websocket_only: bool

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"

    def http_url(self, query: dict[str, str]) -> str:
        return f"{self.scheme}://{self.authority}{self.path}?{_encode(tuple(query.items()))}"

    def ws_url(self, query: dict[str, str]) -> str:
        scheme = "wss" if self.secure else "ws"
        return f"{scheme}://{self.authority}{self.path}?{_encode(tuple(query.items()))}"


@lru_cache(maxsize=16)
def _encode(query: tuple[tuple[str, str], ...]) -> str:
    # A session asks with the same few queries over and over (every poll): encode them once.
    return urlencode(query)


def split_url(url: str) -> SplitResult:
    """``urlsplit(url)``, its ``ValueError`` for a bracketed host said for the user:
    urlsplit's own ("Invalid IPv6 URL") names neither the URL nor what a host in brackets
    must be (RFC 3986 §3.2.2: an IP literal)."""
    try:
        return urlsplit(url)
    except ValueError:
        netloc = url.partition("://")[2].partition("/")[0]
        if "[" in netloc and "]" not in netloc:
            raise ValueError(f"bad host in {url!r}: no ']' closes the IPv6 address") from None
        raise ValueError(
            f"bad host in {url!r}: a host in brackets is an IPv6 address, as in http://[::1]:3000"
        ) from None


def parse_target(options: ConnectOptions) -> Target:
    """The target of ``options.url``; ``ValueError`` with the reason for a bad URL."""
    url = options.url if "://" in options.url else "http://" + options.url
    parts = split_url(url)
    schemes = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
    scheme = schemes.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: use http, https, ws or wss")
    if not parts.hostname:
        raise ValueError(f"no host in {options.url!r}")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"bad port in {options.url!r}") from None
    path = options.path if options.path.startswith("/") else "/" + options.path
    namespace = parts.path.rstrip("/") or "/"
    query = tuple(parse_qsl(parts.query, keep_blank_values=True)) + options.query
    return Target(
        scheme,
        parts.hostname,
        port,
        path,
        namespace,
        query,
        parts.scheme.lower() in ("ws", "wss"),
    )


def transport_of(options: ConnectOptions, target: Target) -> str:
    """The client's transport choice: ``auto``, ``polling`` or ``websocket``; a ``ws://`` or
    ``wss://`` URL means WebSocket only, whatever ``--transport`` says."""
    return "websocket" if target.websocket_only else options.transport


def ssl_context(options: ConnectOptions) -> ssl.SSLContext:
    """The TLS context for https/wss: verification on unless ``--insecure``."""
    context = ssl.create_default_context(cafile=options.cacert)
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.cert:
        context.load_cert_chain(options.cert, options.key)
    return context
