"""What can go wrong between siocli and a server, in words a user can act on.

::

    SiocliError (siocli.protocol.errors)
    └── TransportError            the network or the server's HTTP layer failed
        ├── ConnectError          could not reach or open a session (DNS, refused, HTTP status)
        │   └── TLSError          the certificate or the TLS handshake failed
        └── Timeout         no answer in time

Each carries a ``hint``: the option or server setting that usually fixes it.
"""

from __future__ import annotations

import ssl

from ..protocol.errors import SiocliError

__all__ = [
    "ConnectError",
    "TLSError",
    "Timeout",
    "TransportError",
    "hint_for_http",
    "root_cause",
    "ssl_cause",
    "tls_error",
]


class TransportError(SiocliError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f" (hint: {self.hint})" if self.hint else "")


class ConnectError(TransportError):
    """The server could not be reached, or refused to open a session."""


class TLSError(ConnectError):
    """Certificate verification or the TLS handshake failed."""


class Timeout(TransportError):
    """No answer within the time allowed."""


def hint_for_http(status: int, message: str | None, code: object) -> str | None:
    """The fix people need for the reference server's error answers (PROTOCOL.md §2.11)."""
    if status == 404:
        return "wrong handshake path? the default is /socket.io/; set it with --path"
    if code == 5 or (message and "Unsupported protocol version" in message):
        return (
            "the server speaks Engine.IO 4 only; a Socket.IO 2.x client needs allowEIO3 on "
            "the server, or use --eio 4"
        )
    if code == 1 or (message and "Session ID unknown" in message):
        return (
            "requests of one session reached different server instances: enable sticky "
            "sessions on the load balancer, or use --transport websocket"
        )
    if code == 0:
        return "the server does not offer this transport; try --transport polling or websocket"
    if status == 403:
        return "the server's allowRequest refused the request (origin, headers, auth?)"
    return None


def tls_error(error: ssl.SSLError, where: str) -> TLSError:
    """Name the certificate problem, and the options that fix it."""
    detail = getattr(error, "verify_message", None) or getattr(error, "reason", None) or str(error)
    hint = "trust the server's CA with --cacert FILE, or skip verification with -k/--insecure"
    if "hostname" in str(detail).lower() or "doesn't match" in str(error):
        hint = "the certificate is for another host name; connect by that name, or -k/--insecure"
    return TLSError(f"TLS failed with {where}: {detail}", hint)


def ssl_cause(exc: BaseException | None) -> ssl.SSLError | None:
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, ssl.SSLError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "Connect call failed" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "DNS lookup failed (no such host)"
    return text
