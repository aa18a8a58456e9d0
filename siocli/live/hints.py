"""What to tell a user whose live session was refused or ended: the fix that usually helps."""

from __future__ import annotations

from ..protocol.session import (
    NEVER_PINGED,
    Closed,
    NamespaceRejected,
)
from ..protocol.types import Parser
from ..transports.errors import (
    NO_NAMESPACE,
    STICKY_HINT,
    UNKNOWN_SESSION,
    says,
)

__all__ = [
    "USES_DEFAULT",
    "USES_MSGPACK",
    "close_hint",
    "parser_mismatch",
    "refused_payload",
    "rejection_hint",
    "silence_hint",
]

USES_MSGPACK = "this server looks like it uses the MessagePack parser: add --parser msgpack"
USES_DEFAULT = (
    "this server looks like it uses the default parser, not MessagePack: drop --parser msgpack"
)


def rejection_hint(event: NamespaceRejected) -> str | None:
    if event.message in NO_NAMESPACE:
        return (
            "the server has no such namespace (the URL's path is the namespace; the "
            "handshake path is --path)"
        )
    return "check --auth (Socket.IO 2.x servers read it from the namespace's query)"


def refused_payload(event: Closed) -> bool:
    """Did the server close because of what we sent: a WebSocket message too big (RFC
    6455 §7.4.1: 1009) or not readable (1007, 1002)?"""
    detail = event.detail or ""
    return any(f"code {code}" in detail for code in (1002, 1007, 1009))


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


def parser_mismatch(event: Closed, parser: Parser, unanswered: bool) -> tuple[str, str] | None:
    """``(message, evidence)`` when a session ends as a parser mismatch ends: the server's
    packets undecodable here (a MessagePack map for the default parser, the JSON-object
    CONNECT of socket.io-msgpack-parser 2.x, text for MessagePack), or ours undecodable to
    the server, which then closes right after the first CONNECT, ``unanswered`` (socket.io
    4 does; call this for protocol 5 servers only, as 2.x join '/' unasked)."""
    detail = event.detail or ""
    if event.reason == "parse error":
        if parser is Parser.DEFAULT and (
            "MessagePack Socket.IO packet" in detail or "socket.io-msgpack-parser" in detail
        ):
            return USES_MSGPACK, detail
        if parser is Parser.MSGPACK and "under the MessagePack parser" in detail:
            return USES_DEFAULT, detail
        return None
    if event.reason != "transport close" or not unanswered:
        return None
    if parser is Parser.DEFAULT:
        return USES_MSGPACK, (
            "it closed the session right after our CONNECT, a text message, without "
            "answering it: a MessagePack server cannot decode text"
        )
    return USES_DEFAULT, (
        "it closed the session right after our CONNECT, a MessagePack binary message, "
        "without answering it: the default parser reads a binary message as an attachment"
    )


def silence_hint(parser: Parser) -> str:
    """No answer to CONNECT: python-socketio with serializer='msgpack' ignores a text
    CONNECT without closing (and its default parser a MessagePack one)."""
    if parser is Parser.DEFAULT:
        return (
            "a server that never answers CONNECT may use the MessagePack parser: "
            "try --parser msgpack"
        )
    return (
        "a server that never answers a MessagePack CONNECT may use the default parser: "
        "try without --parser msgpack"
    )
