"""What to tell a user whose live session was refused or ended: the fix that usually helps."""

from __future__ import annotations

from ..protocol.session import (
    NEVER_PINGED,
    Closed,
    NamespaceRejected,
)
from ..transports.errors import (
    NO_NAMESPACE,
    STICKY_HINT,
    UNKNOWN_SESSION,
    says,
)

__all__ = ["close_hint", "rejection_hint"]


def rejection_hint(event: NamespaceRejected) -> str | None:
    if event.message in NO_NAMESPACE:
        return (
            "the server has no such namespace (the URL's path is the namespace; the "
            "handshake path is --path)"
        )
    return "check --auth (Socket.IO 2.x servers read it from the namespace's query)"


def close_hint(event: Closed) -> str | None:
    detail = event.detail or ""
    if event.reason == "ping timeout" and NEVER_PINGED in detail:
        return (
            "a Socket.IO 2.x server? It speaks Engine.IO 3, where the client pings: use "
            "--eio 3, or --eio auto (the default) to follow the server"
        )
    if event.reason == "ping timeout":
        return (
            "the server stopped answering heartbeats (overloaded, paused, or a proxy "
            "that buffers WebSocket frames)"
        )
    if says(detail, UNKNOWN_SESSION):
        return STICKY_HINT
    return None
