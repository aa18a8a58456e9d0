"""Every byte explained: the spans of a wire message and what each means.

This is the "Details" block of the Socket.IO docs' sample session, for any message::

    4           => Engine.IO "message" packet type
    2           => Socket.IO "EVENT" packet type
    ["hey",...] => event 'hey' with 1 argument

It runs the decoders themselves with a :class:`~siocli.protocol.types.Trace`, so annotation
and decoding cannot disagree, and it never raises: bad input gives the spans read before the
problem and the :class:`DecodeError`.

Annotation is stateless, one message at a time. Whether a binary message is an attachment,
and which packet it completes, is for the :mod:`~siocli.protocol.dissect` layer.
"""

from __future__ import annotations

from . import engineio, socketio
from ._tuples import NamedTuple  # typing's, without its per-field compile (start-up)
from .errors import DecodeError
from .types import (
    EnginePacket,
    EngineType,
    Finding,
    Handshake,
    Parser,
    Severity,
    SocketPacket,
    Span,
    Trace,
    Transport,
    socket_protocol,
)

__all__ = [
    "MessageBreakdown",
    "PacketBreakdown",
    "annotate_message",
    "annotate_packet",
    "common_spans",
]

_MESSAGE = EngineType.MESSAGE
_new = tuple.__new__
_OPEN = EngineType.OPEN


class PacketBreakdown(NamedTuple):
    """One Engine.IO packet of a message, explained.

    ``offset`` is where the packet starts in its message and ``raw`` the packet as framed
    (no length prefix, no separator). ``socket`` is the Socket.IO packet a text message
    carries (the header, for a binary packet); ``handshake`` the open packet's data.
    ``error`` is the first problem met; what was read before it is still here.
    """

    offset: int
    raw: str | bytes
    engine: EnginePacket | None
    socket: SocketPacket | None
    handshake: Handshake | None
    spans: tuple[Span, ...]
    findings: tuple[Finding, ...]
    error: DecodeError | None


class MessageBreakdown(NamedTuple):
    """A wire message (a WebSocket message or a polling body), explained: its packets, the
    framing spans between them (lengths, separators), and a framing error if any."""

    packets: tuple[PacketBreakdown, ...]
    spans: tuple[Span, ...]
    findings: tuple[Finding, ...]
    error: DecodeError | None


def annotate_packet(
    raw: str | bytes,
    eio: int = 4,
    *,
    offset: int = 0,
    socket_layer: bool = True,
    spans: bool = True,
    parser: Parser = Parser.DEFAULT,
) -> PacketBreakdown:
    """Explain one Engine.IO packet found at ``offset`` of its message. Without ``spans``,
    the breakdown has no spans (and costs less), but the same findings. Under the
    MessagePack ``parser``, a binary message is a whole Socket.IO packet, explained too."""
    trace = Trace(offset, explain=spans)
    packet = socket_packet = handshake = error = None
    try:
        packet = engineio.decode_packet(raw, eio, trace=trace)
        data = packet.data
        if isinstance(data, bytes):
            if parser is Parser.MSGPACK and packet.type is _MESSAGE and socket_layer:
                socket_packet = _msgpack_packet(raw, data, trace, socket_protocol(eio))
        # text data comes only from a text packet (binary and b<base64> give bytes)
        elif data and isinstance(raw, str):
            if packet.type is _MESSAGE and socket_layer:
                if parser is Parser.MSGPACK and eio == 3 and data[:1] == "{":
                    # socket.io-msgpack-parser 2.x: CONNECT, DISCONNECT, ERROR as JSON text
                    from . import msgpack_parser  # on use: MessagePack only (start-up)

                    socket_packet = msgpack_parser.decode_json(raw, 1, 4)
                    trace.span(1, len(raw), "payload", "the packet's map, as JSON text (2.x)")
                else:
                    if parser is Parser.MSGPACK:
                        _note_text_under_msgpack(trace)
                    # the Socket.IO packet starts after the '4': offset 1 of raw
                    socket_packet = socketio.read_packet(raw, 1, socket_protocol(eio), trace)
            elif packet.type is _OPEN:
                trace.span(1, len(raw), "handshake", "the Engine.IO handshake data")
                handshake = engineio.decode_handshake(data)
            elif spans:
                trace.span(1, len(raw), "eio_data", _data_meaning(packet))
        elif packet.type is _MESSAGE and socket_layer and parser is not Parser.MSGPACK:
            socketio.note_empty_packet(trace)  # "4" alone
    except DecodeError as exc:
        # offsets are in raw, but the handshake decoder counts from its data
        error = exc.shifted(offset + (packet is not None and packet.type is _OPEN))
    return _new(
        PacketBreakdown,
        (
            offset,
            raw,
            packet,
            socket_packet,
            handshake,
            tuple(trace.spans),
            tuple(trace.findings),
            error,
        ),
    )


def _note_text_under_msgpack(trace: Trace) -> None:
    trace.finding(
        Severity.VIOLATION,
        "msgpack.text-packet",
        "a text Socket.IO packet in a MessagePack session: this peer speaks the default "
        "parser; a MessagePack peer fails to decode it and closes the session",
    )


def _msgpack_packet(raw: str | bytes, data: bytes, trace: Trace, protocol: int = 5) -> SocketPacket:
    """The MessagePack packet of a binary message: its bytes explained where they are on
    the wire (after the 0x04 of an Engine.IO 3 binary frame); inside base64 (``b4...``),
    one span for the whole and the packet's meaning."""
    from . import msgpack_parser  # on use: MessagePack only (start-up)

    start = len(raw) - len(data)  # where the data starts: after b, b4 or 0x04
    if trace.explain and trace.spans and trace.spans[-1].kind == "binary":
        # the Engine.IO layer's "binary data": explained below, byte by byte
        start = trace.spans.pop().start - trace.base
    if raw.__class__ is str:
        explain = trace.explain
        trace.explain = False
        try:
            packet = msgpack_parser.read_packet(data, trace, protocol)
        finally:
            trace.explain = explain
        trace.span(
            start, len(raw), "payload", f"base64 of a MessagePack packet: {packet.type.name}"
        )
        return packet
    skip = len(raw) - len(data)  # 1 for a v3 binary frame's packet type byte
    trace.base += skip
    try:
        return msgpack_parser.read_packet(data, trace, protocol)
    except DecodeError as exc:
        raise exc.shifted(skip) from None
    finally:
        trace.base -= skip


def _data_meaning(packet: EnginePacket) -> str:
    if packet.data == "probe" and packet.type in (EngineType.PING, EngineType.PONG):
        which = "request" if packet.type is EngineType.PING else "response"
        return f"Engine.IO probe {which} (upgrade check)"
    if packet.type is _MESSAGE:
        return "message data"
    return f"data of the {packet.type.label} packet"


def annotate_message(
    raw: str | bytes,
    eio: int = 4,
    transport: Transport | str = Transport.WEBSOCKET,
    *,
    socket_layer: bool = True,
    spans: bool = True,
    parser: Parser = Parser.DEFAULT,
) -> MessageBreakdown:
    """Explain a wire message: one WebSocket message, or one polling body. Without
    ``spans``, the breakdown has no spans, only the findings (see :func:`annotate_packet`)."""
    if transport != Transport.POLLING:
        packet = annotate_packet(raw, eio, socket_layer=socket_layer, spans=spans, parser=parser)
        return _new(MessageBreakdown, ((packet,), (), (), None))
    framing = Trace(explain=spans)
    packets = []
    error = None
    try:
        for offset, piece in engineio.split_payload(raw, eio, trace=framing):
            packets.append(
                annotate_packet(
                    piece,
                    eio,
                    offset=offset,
                    socket_layer=socket_layer,
                    spans=spans,
                    parser=parser,
                )
            )
    except DecodeError as exc:
        error = exc
    return MessageBreakdown(tuple(packets), tuple(framing.spans), tuple(framing.findings), error)


def common_spans(packet: PacketBreakdown, eio: int = 4) -> list[Span]:
    """The spans of a common EVENT or ACK that the dissector read on its straight path,
    without them (``Dissector(common_spans=False)``): the same as with them."""
    raw, socket = packet.raw, packet.socket
    assert isinstance(raw, str) and socket is not None
    return [_MESSAGE_SPAN, *socketio.explain_common(raw, socket, socket_protocol(eio))]


def _message_span() -> Span:
    trace = Trace()
    engineio.decode_packet("4", trace=trace)  # the Engine.IO layer's own words
    return trace.spans[0]


_MESSAGE_SPAN = _message_span()
