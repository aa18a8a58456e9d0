"""What to tell a user whose live session was refused or ended: the fix that usually helps."""

from __future__ import annotations

from ..protocol.session import (
    NEVER_PINGED,
    Closed,
    NamespaceRejected,
)
from ..protocol.types import Parser
from ..protocol.wordings import NO_NAMESPACE, UNKNOWN_SESSION
from ..transports.errors import STICKY_HINT, says

__all__ = [
    "USES_DEFAULT",
    "USES_MSGPACK",
    "close_hint",
    "parser_mismatch",
    "payload_size",
    "refused_payload",
    "rejection_hint",
    "silence_hint",
    "too_big_hint",
]

USES_MSGPACK = "this server looks like it uses the MessagePack parser: add --parser msgpack"
USES_DEFAULT = (
    "this server looks like it uses the default parser, not MessagePack: drop --parser msgpack"
)


def rejection_hint(
    event: NamespaceRejected, eio: int | None = None, *, protocol_4: bool = False
) -> str | None:
    """``eio``: the session's revision; only a Socket.IO 2.x server (Engine.IO 3) reads
    the auth from the namespace's query, so only to one is that said. ``protocol_4``: an
    Engine.IO 4 session whose CONNECT answers lacked a sid, as a 2.x server's do."""
    if protocol_4:
        return (
            "this server answered CONNECT without a sid, as a Socket.IO 2.x server does: "
            "use --eio 3 (or --eio auto); 2.x reads --auth from the namespace's query, not "
            "from the CONNECT payload this client sent"
        )
    if event.message in NO_NAMESPACE:
        return (
            "the server has no such namespace (the URL's path is the namespace; the "
            "handshake path is --path)"
        )
    if eio == 3:
        return "check --auth (a Socket.IO 2.x server reads it from the namespace's query)"
    return "check --auth (the CONNECT payload the server's middleware reads)"


def refused_payload(event: Closed) -> bool:
    """Did the server close because of what we sent: a WebSocket message too big (RFC
    6455 §7.4.1: 1009) or not readable (1007, 1002)?"""
    return event.code in (1002, 1007, 1009)


def payload_size(args: list[object]) -> int:
    """About how many bytes ``args`` take on the wire (binary counted as its length)."""
    size = 0
    for arg in args:
        if isinstance(arg, (bytes, bytearray)):
            size += len(arg)
        elif isinstance(arg, str):
            size += len(arg.encode("utf-8"))
        elif isinstance(arg, (list, dict)):
            import json

            size += len(json.dumps(arg, default=lambda b: "x" * len(b)))
        else:
            size += 8
    return size


_LIKELY_LIMIT = 1_000_000
"""socket.io 3+/python-socketio's default maxHttpBufferSize: sent past it, a failure is
likely the limit (socket.io 2.x's default is 100 MB, often lowered to this)."""


def too_big_hint(event: Closed, sent: int, max_payload: int | None) -> str | None:
    """The session ended the way servers end one whose message was over their maxPayload:
    a WebSocket closed with 1009 (RFC 6455 §7.4.1: too big; socket.io 2.x's ws), or
    python-socketio's plain close; socket.io 2.x resets the connection of a POST over
    maxHttpBufferSize, python-socketio answers it 400; socket.io 4's 413 has its own hint."""
    limit = max_payload or _LIKELY_LIMIT
    if event.code == 1009:
        return (
            f"the server closed the WebSocket with 1009 (message too big): an emit of about "
            f"{sent} bytes is over its maxPayload ({limit} bytes here; python-socketio: "
            "max_http_buffer_size, socket.io: maxHttpBufferSize): send less per message, or "
            "raise it on the server"
        )
    if event.reason in ("transport error", "transport close") and sent >= limit:
        return (
            f"an emit of about {sent} bytes may be over the server's maxPayload: socket.io 2.x "
            "resets the connection of a POST over maxHttpBufferSize; python-socketio "
            "(max_http_buffer_size) answers such a POST with HTTP 400 and closes such a "
            "WebSocket: send less per message, or raise it on the server"
        )
    return None


def close_hint(event: Closed, max_payload: int | None = None) -> str | None:
    """``max_payload``: the handshake's; only Engine.IO 4 servers (socket.io >= 4.0.0's
    engine.io 6.2) send it, so with one the server is no Socket.IO 2.x."""
    detail = event.detail or ""
    if event.reason == "ping timeout" and NEVER_PINGED in detail and max_payload is None:
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
