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
from ..protocol.wordings import UNKNOWN_SESSION, UNSUPPORTED_PROTOCOL

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


# How servers word what people run into, the reference (engine.io, socket.io) first, then
# python-engineio and python-socketio, which send other words and no codes.
# (in protocol/wordings.py, beside the words siocli serve answers with)


def says(message: str | None, wordings: tuple[str, ...]) -> bool:
    """Whether a server's error message is one of ``wordings``."""
    return message is not None and any(w in message for w in wordings)


def error_message(body: str) -> tuple[str | None, object]:
    """The message and code of an error answer: the reference's ``{"code", "message"}``,
    or python-engineio's bare JSON string."""
    import json

    try:
        value = json.loads(body) if body else None
    except ValueError:
        return None, None
    if isinstance(value, dict):
        message = value.get("message")
        return (str(message) if message is not None else None), value.get("code")
    if isinstance(value, str):
        return value, None
    return None, None


def hint_for_http(
    status: int, message: str | None, code: object, eio: str | None = None
) -> str | None:
    """The fix people need for the reference server's error answers (engine.io lib/server.ts,
    ``Server.errorMessages``);
    ``eio``: the revision the request asked for."""
    if status == 404:
        return "wrong handshake path? the default is /socket.io/; set it with --path"
    # python-socketio answers EIO=3 with a 400 that says so over polling, a bare 403 over
    # WebSocket
    if code == 5 or says(message, UNSUPPORTED_PROTOCOL) or (status, message, eio) == (403, "", "3"):
        return (
            "the server does not speak this Engine.IO revision: a Socket.IO 2.x client needs "
            "allowEIO3 on a socket.io 3/4 server; try --eio 4 (or --eio 3 for a 2.x server)"
        )
    if code == 1 or says(message, UNKNOWN_SESSION):
        return STICKY_HINT
    if says(message, NOT_AN_ACCEPTED_ORIGIN):
        return ORIGIN_HINT
    if code == 0:
        return "the server does not offer this transport; try --transport polling or websocket"
    if status == 413:
        return (
            "the POST was over the server's maxPayload (the handshake says how much; "
            "socket.io: maxHttpBufferSize): send less per message, or raise it on the server"
        )
    if status == 403:
        return (
            "the server refused the request: its Origin check (an -H 'Origin: ...' its "
            "cors_allowed_origins / cors.origin does not allow; python-socketio answers a "
            "refused WebSocket Origin with a bare 403), its allowRequest or auth check; "
            "python-socketio also answers 403 to an upgrade that reached an instance that "
            "does not know the session: sticky sessions?"
        )
    return None


NOT_AN_ACCEPTED_ORIGIN = ("not an accepted origin", "Not an accepted origin")
"""python-engineio's 400 to a request whose Origin its cors_allowed_origins refuses (older
releases: "Not an accepted origin.", newer: "ORIGIN is not an accepted origin.")."""

ORIGIN_HINT = (
    "the server refused the request's Origin header (its CORS check: python-socketio's "
    "cors_allowed_origins, socket.io's cors.origin or allowRequest): send an allowed origin "
    "with -H 'Origin: https://...', or allow this one on the server"
)

STICKY_HINT = (
    "requests of one session reached different server instances: enable sticky sessions "
    "on the load balancer, or use --transport websocket"
)


def tls_error(error: ssl.SSLError, where: str) -> TLSError:
    """Name the certificate problem, and the options that fix it."""
    detail = getattr(error, "verify_message", None) or getattr(error, "reason", None) or str(error)
    hint = "trust the server's CA with --cacert FILE, or skip verification with -k/--insecure"
    if "hostname" in str(detail).lower() or "doesn't match" in str(error):
        hint = "the certificate is for another host name; connect by that name, or -k/--insecure"
    elif getattr(error, "reason", None) == "WRONG_VERSION_NUMBER":
        hint = "the server answered in plain text, not TLS: use http:// (or ws://)"
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
    cause: BaseException | None = exc
    while cause is not None:
        exc, cause = cause, cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "Connect call failed" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "DNS lookup failed (no such host)"
    return text
