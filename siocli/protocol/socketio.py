"""Socket.IO packets, protocols 4 (Socket.IO 2.x) and 5 (3.x/4.x) (the socket.io-protocol spec:
protocol 5 on its main branch, 4 on its ``v4`` branch).

The grammar is the same in both (socket.io-protocol spec: "Packet encoding")::

    packet    = type [ count "-" ] [ namespace "," ] [ ack-id ] [ json ]

:func:`decode_packet` reads it the way the reference parser does (socket.io-parser 4.2.7
for protocol 5, 3.4.5 for protocol 4): it accepts what the reference accepts and raises
:class:`DecodeError` where the reference throws. Where the reference is more lenient than the
written spec (socket.io-parser ``decodeString`` and ``isPayloadValid``), it accepts and, when given
a :class:`Trace`, says so in a finding.

Binary attachments (socket.io-protocol spec: "Packet encoding"; socket.io-parser lib/binary.ts):
:func:`deconstruct` and :func:`encode` for sending,
:func:`reconstruct` and :class:`PacketAssembler` for receiving.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from . import _jsonlib, engineio
from ._js import JS_BLANK, MAX_SAFE_INTEGER, js_number, read_digits
from .errors import DecodeError, EncodeError
from .types import (
    EnginePacket,
    EngineType,
    Parser,
    Severity,
    SocketPacket,
    SocketType,
    Span,
    Trace,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "RESERVED_EVENTS",
    "PacketAssembler",
    "connect_error_fields",
    "decode_packet",
    "encode",
    "encode_message",
    "encode_packet",
    "encoder",
    "placeholder_nums",
    "read_common",
    "read_packet",
    "reconstruct",
    "unasked_connect",
]

MAX_ATTACHMENTS = 10
"""The reference decoder's ``maxAttachments`` default (socket.io-parser >= 4.2.6, 3.4.4)."""

RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)
"""Event names a protocol 5 parser refuses (socket.io-parser >= 4.2.4, socket.io-parser
``isPayloadValid``)."""


def connect_error_fields(data: Any) -> tuple[str | None, Any]:
    """A CONNECT_ERROR's payload as ``(message, data)``: protocol 5 sends ``{"message",
    "data"}`` (socket.io-client reads ``packet.data.message`` and ``.data``), protocol 4 a
    bare string."""
    if isinstance(data, dict):
        message = data.get("message")
        return (None if message is None else str(message)), data.get("data")
    return (None if data is None else str(data)), None


_TYPES = tuple(SocketType)
_TYPE_BY_CHAR = {str(t.value): t for t in SocketType}
_TYPE_CHAR = tuple(str(t.value) for t in SocketType)
_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR, _BINARY_EVENT, _BINARY_ACK = _TYPES
_TYPE_MEANINGS = tuple(
    tuple(f'Socket.IO "{t.label(protocol)}" packet type' for t in SocketType) for protocol in (5, 4)
)
_DIGITS = frozenset("0123456789")
# The reference reads an ack id while `Number(c) == c`: digits, and JavaScript blanks
# (socket.io-parser ``decodeString``).
_ID_CHARS = _DIGITS | JS_BLANK
_EXPECTED_TYPE = "a packet type digit 0-6"


def _layer_error(reason: str, offset: int, expected: str | None = None) -> DecodeError:
    return DecodeError(reason, offset, expected, layer="socketio")


# --- decoding ----------------------------------------------------------------------------


def decode_packet(text: str, protocol: int = 5, *, trace: Trace | None = None) -> SocketPacket:
    """Decode the text of one Socket.IO packet (the data of an Engine.IO message).

    For BINARY_EVENT and BINARY_ACK this is the header, with placeholders in ``data``: feed
    it and its attachments to a :class:`PacketAssembler` to get the complete packet.
    """
    return read_packet(text, 0, protocol, trace)


def read_packet(text: str, start: int, protocol: int, trace: Trace | None) -> SocketPacket:
    """Decode the Socket.IO packet that starts at ``start`` of ``text``.

    Offsets (errors, spans) count from the start of ``text``: a caller holding a whole
    Engine.IO message passes ``start=1`` rather than slicing off the ``4``. This is the one
    reader behind every decode and every annotation; it is written for speed, with the
    common shapes (``42[...]``, ``43<id>[...]``) on the straight path.
    """
    try:
        ptype = _TYPE_BY_CHAR.get(text[start])
    except IndexError:
        return _decode_empty(trace)
    if ptype is None:
        ptype = _quirky_type(text, start, protocol, trace)
    if trace is not None and trace.explain:
        trace.span(start, start + 1, "sio_type", _TYPE_MEANINGS[protocol == 4][ptype])
    pos = start + 1
    end = len(text)
    attachments = 0
    if ptype >= 5:
        attachments, pos = _read_attachments(text, pos, trace)
    namespace = "/"
    ack_id = None
    data = None
    if pos < end:
        char = text[pos]
        if char == "[":  # the common case: the payload follows the type
            pass
        elif char == "/":
            namespace, pos = _read_namespace(text, pos, trace)
            char = text[pos] if pos < end else ""
        if char in _ID_CHARS:
            id_start = pos
            pos += 1
            while pos < end and text[pos] in _DIGITS:
                pos += 1
            if char in JS_BLANK or (pos < end and text[pos] in _ID_CHARS):  # blanks: odd path
                ack_id, pos = _read_quirky_ack_id(text, id_start, trace)
            else:
                ack_id = read_digits(text[id_start:pos], "ack id", id_start, "socketio")
                if trace is not None:
                    _note_ack_id(text, id_start, pos, ack_id, trace)
        if pos < end:
            try:
                data = _fast_loads(text[pos:])
            except _FastJSONError:
                data = _slow_loads(text, pos)
            if ptype is _EVENT:  # the common case, inline: a name, not reserved, then args
                ok = (
                    data.__class__ is list
                    and data
                    and (
                        (
                            (name := data[0]).__class__ is str
                            and (protocol == 4 or name not in RESERVED_EVENTS)
                        )
                        or name.__class__ in _NUMBERS
                    )
                )
            elif ptype is _ACK:
                ok = data.__class__ is list
            else:
                ok = _PAYLOAD_RULES[protocol == 4][ptype](data)
            if not ok:
                raise _invalid_payload(ptype, protocol, data, pos)
            if trace is not None and trace.explain:
                trace.span(pos, end, "payload", _payload_meaning(ptype, data))
        elif trace is not None:
            _note_missing_payload(ptype, ack_id, trace)
    elif trace is not None:
        _note_missing_payload(ptype, ack_id, trace)
    if trace is not None:
        note_ids(ptype, ack_id, protocol, trace)
        if ptype >= 5:
            _note_placeholders(data, attachments, trace)
        elif ptype is _CONNECT and protocol == 4 and data is not None:
            _note_connect_payload_v4(trace)
    return _new(SocketPacket, (ptype, namespace, data, ack_id, attachments))


def read_common(message: str, protocol: int) -> SocketPacket | None:
    """The EVENT or ACK that an Engine.IO message ``4...`` carries, when it has the common
    shape on which :func:`read_packet` has nothing to say: ``42[...]``, ``43<id>[...]``, a
    namespace before either, an id of at most 15 digits without a leading zero, JSON that
    orjson reads, a string event name that no protocol reserves, an ACK with an id.
    ``None`` for anything else, and for every input that :func:`read_packet` would refuse
    or remark upon: it decides those.

    This is ``decode --json``'s straight path (most traffic has this shape); it accepts a
    subset of what :func:`read_packet` accepts and gives the same packet for it, with no
    :class:`Trace` to fill (``tests/test_decode_speed_paths.py`` holds the two together).
    """
    kind = message[1:2]
    if kind == "2":
        ptype = _EVENT
    elif kind == "3":
        ptype = _ACK
    else:
        return None
    pos = 2
    namespace = "/"
    if message[2:3] == "/":
        comma = message.find(",", 3)
        if comma < 0:
            return None
        namespace = message[2:comma]
        if namespace == "/":
            return None  # written out: read_packet remarks on it
        pos = comma + 1
    ack_id = None
    start = pos
    end = len(message)
    while pos < end and message[pos] in _DIGITS:
        pos += 1
    if pos > start:
        if pos - start > 15 or (message[start] == "0" and pos - start > 1):
            return None
        ack_id = int(message[start:pos])
    elif ptype is _ACK:
        return None  # an ACK without id: read_packet says so
    if message[pos : pos + 1] != "[":
        return None
    try:
        data = _fast_loads(message[pos:])
    except _FastJSONError:
        return None
    if ptype is _EVENT and (
        not data or (name := data[0]).__class__ is not str or name in RESERVED_EVENTS
    ):
        return None
    return _new(SocketPacket, (ptype, namespace, data, ack_id, 0))


def explain_common(message: str, packet: SocketPacket, protocol: int) -> list[Span]:
    """The spans :func:`read_packet` records for a packet that :func:`read_common` read
    from ``message``: the type, the namespace, the id, the payload. A view that shows the
    spans of only some packets asks for them afterwards (``tests/test_decode_speed_paths.py``
    holds the two together)."""
    ptype = packet.type
    spans = [_new(Span, (1, 2, "sio_type", _TYPE_MEANINGS[protocol == 4][ptype]))]
    pos = 2
    if packet.namespace != "/":
        pos = message.index(",", 3) + 1
        spans.append(_new(Span, (2, pos, "namespace", "namespace")))
    if packet.id is not None:
        start = pos
        pos = message.index("[", pos)
        spans.append(_new(Span, (start, pos, "ack_id", "acknowledgement id")))
    spans.append(_new(Span, (pos, len(message), "payload", _payload_meaning(ptype, packet.data))))
    return spans


_new = tuple.__new__
_fast_loads = _jsonlib.fast_loads
_FastJSONError = _jsonlib.FastJSONError
_NUMBERS = (int, float)
_PLAIN_WITH_ID = frozenset(f"{kind}{digit}" for kind in "23" for digit in "0123456789")


def _slow_loads(text: str, pos: int) -> Any:
    """What orjson refused: the standard library decides (and says where it failed)."""
    try:
        return _jsonlib.loads(text[pos:])
    except _jsonlib.JSONError as exc:
        raise _layer_error(
            f"invalid payload: not JSON ({exc.reason})", pos + exc.pos, "a JSON value"
        ) from None


def note_ids(ptype: SocketType, ack_id: int | None, protocol: int, trace: Trace) -> None:
    """An ACK without id, an id on a packet that cannot carry one: the same rule for the
    default and the MessagePack parser (socket.io-protocol spec: "Packet encoding")."""
    if ack_id is None and ptype in (_ACK, _BINARY_ACK):
        trace.finding(
            Severity.WARNING,
            "sio.ack-without-id",
            "ACK without id: the spec requires one; nothing can be acknowledged",
        )
    if ack_id is not None and ptype not in _ACK_CARRIERS:
        trace.finding(
            Severity.WARNING,
            "sio.id-on-non-event",
            f"ack id on a {ptype.label(protocol)} packet: the spec allows ids on events and "
            "acks only; the reference parsers accept it",
        )


def _decode_empty(trace: Trace | None) -> SocketPacket:
    # Number("") is 0 in JavaScript: the reference parser reads "" as CONNECT to "/".
    if trace is not None:
        note_empty_packet(trace)
    return SocketPacket(_CONNECT)


def note_empty_packet(trace: Trace) -> None:
    """A message packet with nothing after its ``4``."""
    trace.finding(
        Severity.VIOLATION,
        "sio.empty-packet",
        "empty Socket.IO packet: socket.io-parser reads it as a CONNECT to '/', but "
        "engine.io-parser hands the message over with no data at all, and the reference "
        "server and client then close the session (parse error)",
    )


def _note_placeholders(data: Any, attachments: int, trace: Trace) -> None:
    """The placeholders of a binary header against the attachments it announces
    (socket.io-parser lib/binary.ts):
    the reference matches them only when they agree, and says nothing when they do not."""
    nums: list[Any] = []
    strings: list[Any] = []
    _walk_placeholders(data, nums, strings)
    if strings:
        trace.finding(
            Severity.VIOLATION,
            "sio.placeholder-not-true",
            f'a placeholder with "_placeholder": {_jsonlib.dumps(strings[0])} rather than '
            "true: the reference (_placeholder === true) leaves it a plain object, so the "
            "event gets that object where the bytes were meant to be",
        )
    referenced = {n for n in nums if n.__class__ is int and 0 <= n < attachments}
    unreferenced = [n for n in range(attachments) if n not in referenced]
    if unreferenced:
        which = ", ".join(map(str, unreferenced[:5])) + ("..." if len(unreferenced) > 5 else "")
        trace.finding(
            Severity.WARNING,
            "sio.attachment-without-placeholder",
            f"{attachments} attachment(s) announced, but no placeholder refers to attachment "
            f"{which}: the reference waits for every attachment, then drops the unreferenced "
            "ones without a word",
        )


def _walk_placeholders(value: Any, nums: list[Any], strings: list[Any]) -> None:
    if value.__class__ is dict:
        mark = value.get("_placeholder", _ABSENT)
        if mark is True:
            nums.append(value.get("num"))
            return
        if mark is not _ABSENT and "num" in value:
            strings.append(mark)
        for item in value.values():
            _walk_placeholders(item, nums, strings)
    elif value.__class__ is list:
        for item in value:
            _walk_placeholders(item, nums, strings)


_ABSENT = object()


def _note_connect_payload_v4(trace: Trace) -> None:
    trace.finding(
        Severity.WARNING,
        "sio.connect-payload-v4",
        "CONNECT with a payload under Socket.IO protocol 4: Socket.IO 2.x ignores it (the "
        "classic mistake of sending auth to a 2.x server). 2.x reads the namespace's query "
        "instead: 40/chat?token=...; for '/', the handshake's query",
    )


def _quirky_type(text: str, start: int, protocol: int, trace: Trace | None) -> SocketType:
    first = text[start]
    if first in JS_BLANK:
        # Number(" ") is 0: the reference reads a leading blank as CONNECT.
        if trace is not None:
            trace.finding(
                Severity.VIOLATION,
                "sio.blank-type",
                f"packet starts with {first!r}: the reference parser reads it as type 0 "
                "(CONNECT); the spec wants a type digit",
            )
        return _CONNECT
    reason = f"unknown Socket.IO packet type {first!r}"
    if first == "{":  # {"type":0,"nsp":"/"}
        reason += (
            " (a JSON object: socket.io-msgpack-parser 2.x sends CONNECT, DISCONNECT and "
            "ERROR so, the other packets as MessagePack)"
        )
    elif protocol == 4:
        reason += " (socket.io 2.x ignores such packets; 3.x/4.x close the session)"
    raise _layer_error(reason, start, _EXPECTED_TYPE)


def _read_attachments(text: str, pos: int, trace: Trace | None) -> tuple[int, int]:
    dash = text.find("-", pos)
    if dash < 0:
        raise _layer_error(
            "Illegal attachments: no '-' after the attachment count",
            len(text),
            "<count>- after the type of a binary packet",
        )
    count_text = text[pos:dash]
    if count_text.isdigit() and count_text.isascii():
        count = read_digits(count_text, "attachment count", pos, "socketio")
    else:
        value = js_number(count_text)
        if not (math.isfinite(value) and value == int(value)):
            raise _layer_error(
                f"Illegal attachments: count {count_text!r} is not a number",
                pos,
                "the number of binary attachments, then '-'",
            )
        count = int(value)
        if trace is not None and count >= 1:
            trace.finding(
                Severity.WARNING,
                "sio.count-form",
                f"attachment count written as {count_text!r}: the reference reads it as "
                f"{count}, the spec wants decimal digits",
            )
    if count < 1:
        raise _layer_error(
            f"Illegal attachments: count {count_text!r} (a binary packet announces at least "
            "one attachment; socket.io-parser >= 4.2.7 rejects 0)",
            pos,
            "an attachment count of 1 or more",
        )
    if count > MAX_ATTACHMENTS:
        raise _layer_error(
            f"too many attachments: {count} (the reference decoder allows {MAX_ATTACHMENTS})",
            pos,
            f"at most {MAX_ATTACHMENTS} attachments",
        )
    if trace is not None:
        trace.span(
            pos, dash + 1, "attachments", f"{count} binary attachment" + ("s" if count != 1 else "")
        )
    return count, dash + 1


def _read_namespace(text: str, pos: int, trace: Trace | None) -> tuple[str, int]:
    comma = text.find(",", pos)
    if comma < 0:
        namespace = text[pos:]
        if trace is not None:
            trace.span(pos, len(text), "namespace", "namespace (no comma: it runs to the end)")
            if any(c in namespace for c in '[{"'):
                trace.finding(
                    Severity.WARNING,
                    "sio.namespace-swallows-payload",
                    f"no ',' after the namespace: everything after the type, {namespace!r}, "
                    "is the namespace and the packet has no payload. Write '/nsp,' before "
                    "the payload",
                )
        return namespace, len(text)
    namespace = text[pos:comma]
    if trace is not None:
        trace.span(pos, comma + 1, "namespace", "namespace")
    if namespace == "/" and trace is not None:
        trace.finding(
            Severity.INFO,
            "sio.explicit-main-namespace",
            "'/,' names the main namespace explicitly; encoders omit it",
        )
    return namespace, comma + 1


def _read_quirky_ack_id(text: str, pos: int, trace: Trace | None) -> tuple[int, int]:
    # The reference reads the id while `Number(c) == c`, blanks included, then Number()s it.
    stop = pos + 1
    end = len(text)
    while stop < end and text[stop] in _ID_CHARS:
        stop += 1
    id_text = text[pos:stop]
    value = js_number(id_text)
    if not (math.isfinite(value) and value == int(value)):
        raise _layer_error(
            f"invalid ack id {id_text!r} (the reference parser would make it NaN)",
            pos,
            "decimal digits",
        )
    ack_id = int(value)
    if trace is not None:
        trace.finding(
            Severity.VIOLATION,
            "sio.blank-in-ack-id",
            f"ack id written as {id_text!r}: the reference parser reads blanks as digits "
            f"(id {ack_id}); the spec wants decimal digits",
        )
        _note_ack_id(text, pos, stop, ack_id, trace)
    return ack_id, stop


def _note_ack_id(text: str, start: int, stop: int, ack_id: int, trace: Trace) -> None:
    trace.span(start, stop, "ack_id", "acknowledgement id")
    if ack_id > MAX_SAFE_INTEGER:
        trace.finding(
            Severity.WARNING,
            "sio.ack-id-precision",
            f"ack id {ack_id} is above 2^53-1: JavaScript peers lose its precision",
        )


def _is_number(value: Any) -> bool:
    return value.__class__ is int or value.__class__ is float


def _event_v5(data: Any) -> bool:
    if data.__class__ is not list or not data:
        return False
    name = data[0]
    if name.__class__ is str:
        return name not in RESERVED_EVENTS
    return _is_number(name)


def _event_v4(data: Any) -> bool:
    if data.__class__ is not list or not data:
        return False
    name = data[0]
    return name.__class__ is str or _is_number(name)


def _is_list(data: Any) -> bool:
    return data.__class__ is list


def _is_dict(data: Any) -> bool:
    return data.__class__ is dict


def _is_object_typed(data: Any) -> bool:  # typeof data === "object": object, array, null
    return data is None or data.__class__ in (dict, list)


def _never(data: Any) -> bool:
    return False


# Payload validity by protocol, then type (socket.io-parser ``isPayloadValid``): [v5 rules, v4
# rules][type](data).
_PAYLOAD_RULES: tuple[tuple[Any, ...], tuple[Any, ...]] = (
    (
        _is_dict,  # CONNECT: plain object
        _never,  # DISCONNECT: none
        _event_v5,
        _is_list,  # ACK: array
        lambda d: d.__class__ is str or d.__class__ is dict,  # CONNECT_ERROR
        _event_v5,
        _is_list,
    ),
    (
        _is_object_typed,
        _never,
        _event_v4,
        _is_list,
        lambda d: d.__class__ is str or _is_object_typed(d),  # ERROR
        _event_v4,
        _is_list,
    ),
)

_ACK_CARRIERS = frozenset((_EVENT, _ACK, _BINARY_EVENT, _BINARY_ACK))

_PAYLOAD_EXPECTED = {
    _CONNECT: ("a JSON object (the auth payload, or the server's sid)", "a JSON object or array"),
    _DISCONNECT: ("no payload", "no payload"),
    _EVENT: (
        "an array whose first element is the event name (a string, not reserved, or a number)",
        "an array whose first element is the event name (a string or a number)",
    ),
    _ACK: ("a JSON array", "a JSON array"),
    _CONNECT_ERROR: ('a string or an object like {"message": ...}', "a string or an object"),
}
_PAYLOAD_EXPECTED[_BINARY_EVENT] = _PAYLOAD_EXPECTED[_EVENT]
_PAYLOAD_EXPECTED[_BINARY_ACK] = _PAYLOAD_EXPECTED[_ACK]


def _invalid_payload(ptype: SocketType, protocol: int, data: Any, pos: int) -> DecodeError:
    expected = _PAYLOAD_EXPECTED[ptype][protocol == 4]
    reason = f"invalid payload for {ptype.label(protocol)}"
    if (
        ptype in (_EVENT, _BINARY_EVENT)
        and protocol != 4
        and isinstance(data, list)
        and data
        and isinstance(data[0], str)
        and data[0] in RESERVED_EVENTS
    ):
        reason += f": {data[0]!r} is a reserved event name"
    return _layer_error(reason, pos, expected)


def _payload_meaning(ptype: SocketType, data: Any) -> str:
    if ptype in (_EVENT, _BINARY_EVENT):
        count = len(data) - 1
        return f"event {data[0]!r} with {count} argument{'s' if count != 1 else ''}"
    if ptype in (_ACK, _BINARY_ACK):
        return f"acknowledgement with {len(data)} argument{'s' if len(data) != 1 else ''}"
    if ptype is _CONNECT:
        if isinstance(data, dict) and set(data) <= {"sid", "pid"} and "sid" in data:
            return "connection granted, with the socket id"
        return "connection payload (auth)"
    return "error payload"


def _note_missing_payload(ptype: SocketType, ack_id: int | None, trace: Trace) -> None:
    if ptype in (_EVENT, _BINARY_EVENT):
        trace.finding(
            Severity.WARNING,
            "sio.event-without-payload",
            "EVENT without payload: the spec requires a non-empty array; the reference "
            "parser accepts it and the server ignores it",
        )
    elif ptype in (_ACK, _BINARY_ACK) and ack_id is not None:
        trace.finding(
            Severity.WARNING,
            "sio.ack-without-payload",
            "ACK without payload: the spec requires an array (may be empty, '[]')",
        )


# --- encoding ----------------------------------------------------------------------------


def encode_packet(packet: SocketPacket) -> str:
    """Encode a packet as text, exactly as socket.io-parser does (socket.io-protocol spec: "Packet
    encoding").

    ``data`` must be JSON-serialisable: binary values belong in attachments (see
    :func:`encode`, which does that for you).
    """
    payload = "" if packet.data is None else _payload_text(packet.data, None)
    return _header(packet.type, packet.attachments, packet.namespace, packet.id) + payload


def encode(packet: SocketPacket) -> list[str | bytes]:
    """Encode a packet for sending: its text, then one ``bytes`` per binary attachment.

    ``bytes`` values anywhere in ``data`` become placeholders ``{"_placeholder":true,
    "num":N}`` (depth first, in order, as the reference numbers them), and EVENT/ACK become
    BINARY_EVENT/BINARY_ACK with the right count (socket.io-protocol spec: "Packet encoding";
    socket.io-parser lib/binary.ts).
    """
    ptype, namespace, data, ack_id, _ = packet
    if data is None:
        payload = ""
    elif _fast_dumps is not None:
        try:  # most packets hold no binary: plain JSON, no hook to call
            payload = _fast_dumps(data).decode()
        except TypeError:
            return _encode_with_attachments(packet)
    else:
        return _encode_with_attachments(packet)
    if ptype >= 5:
        # No binary (a decoded packet whose attachments nobody referenced, say): current
        # decoders refuse a count of 0, so it goes as the reference encoder sends it.
        ptype = _EVENT if ptype is _BINARY_EVENT else _ACK
    if namespace == "/" and ack_id is None:
        return [_TYPE_CHAR[ptype] + payload]
    return [_header(ptype, 0, namespace, ack_id) + payload]


_fast_dumps = _jsonlib.fast_dumps


def _encode_with_attachments(packet: SocketPacket) -> list[str | bytes]:
    ptype = packet.type
    attachments: list[bytes] = []
    payload = "" if packet.data is None else _payload_text(packet.data, attachments)
    if not attachments:
        if ptype >= 5:
            ptype = _EVENT if ptype is _BINARY_EVENT else _ACK
        return [_header(ptype, 0, packet.namespace, packet.id) + payload]
    if ptype is _EVENT or ptype is _ACK:
        ptype = _BINARY_EVENT if ptype is _EVENT else _BINARY_ACK
    elif ptype < 5:
        raise EncodeError(f"{ptype.name} packets cannot carry binary data")
    header = _header(ptype, len(attachments), packet.namespace, packet.id)
    return [header + payload, *attachments]


def encoder(parser: Parser, protocol: int = 5) -> Callable[[SocketPacket], list[str | bytes]]:
    """The ``encode`` of ``parser``: this module's for the default parser, one MessagePack
    message per packet for ``msgpack`` (protocol 4: socket.io-msgpack-parser 2.x's mix of
    JSON text and MessagePack)."""
    if parser is Parser.MSGPACK:
        from . import msgpack_parser  # on use: MessagePack only (start-up)

        return msgpack_parser.encode_v4 if protocol == 4 else msgpack_parser.encode
    return encode


def encode_message(
    packet: SocketPacket, eio: int = 4, parser: Parser = Parser.DEFAULT
) -> list[str | bytes]:
    """The packet's Engine.IO message data, framed as WebSocket messages of revision ``eio``."""
    if parser is Parser.MSGPACK:
        from . import msgpack_parser  # on use: MessagePack only (start-up)

        data = msgpack_parser.encode_packet(packet)
        return [data if eio != 3 else b"\x04" + data]
    header, *attachments = encode(packet)
    assert isinstance(header, str), "encode() gives the header as text, then bytes"
    messages: list[str | bytes] = ["4" + header]
    for attachment in attachments:
        assert isinstance(attachment, bytes)
        # Engine.IO 3 frames binary with a type byte; 4 sends the bytes alone (engine.io-protocol
        # spec: "Packet encoding").
        messages.append(attachment if eio != 3 else b"\x04" + attachment)
    return messages


def _header(ptype: SocketType, attachments: int, namespace: str, ack_id: int | None) -> str:
    text = _TYPE_CHAR[ptype]
    if ptype >= 5:
        text += f"{attachments}-"
    if namespace != "/":
        if namespace[:1] != "/" or "," in namespace:
            raise EncodeError(
                f"invalid namespace {namespace!r}: it must start with '/' and hold no ','"
            )
        text += namespace + ","
    if ack_id is not None:
        if ack_id.__class__ is not int or ack_id < 0:
            raise EncodeError(f"invalid ack id {ack_id!r}: a non-negative integer is needed")
        text += str(ack_id)
    return text


_BINARY = (bytes, bytearray, memoryview)


def _payload_text(data: Any, attachments: list[bytes] | None) -> str:
    """JSON text of ``data``; binary values go to ``attachments`` as the JSON is written."""

    def placeholder(value: Any) -> Any:
        if attachments is not None and isinstance(value, _BINARY):
            attachments.append(bytes(value))
            return {"_placeholder": True, "num": len(attachments) - 1}
        if value.__class__ is tuple:  # the stdlib path writes tuples as arrays too
            return list(value)
        raise TypeError(f"{type(value).__name__} is not JSON-serialisable")

    try:
        return _jsonlib.dumps(
            data, placeholder, attachments.clear if attachments is not None else None
        )
    except _jsonlib.JSONError as exc:
        raise EncodeError(f"payload is not JSON-serialisable: {exc.reason}") from None


def reconstruct(data: Any, attachments: Sequence[bytes], *, offset: int = 0) -> Any:
    """Replace placeholders by their attachments, matched by ``num`` (socket.io-protocol spec:
    "Packet encoding"; socket.io-parser lib/binary.ts).

    Returns new containers; ``data`` is left as it was. A placeholder whose ``num`` is not
    an attachment index raises :class:`DecodeError` ("illegal attachments"); ``offset`` is
    reported with it (the header's position, as the placeholder's own is not tracked).
    """
    return _reconstruct(data, attachments, offset)


def _reconstruct(value: Any, attachments: Sequence[bytes], offset: int) -> Any:
    cls = value.__class__
    if cls is dict:
        if value.get("_placeholder") is True:
            num = value.get("num")
            if num.__class__ in (int, float) and 0 <= num < len(attachments) and num == int(num):
                return attachments[int(num)]
            raise _layer_error(
                f"illegal attachments: placeholder num {num!r} with {len(attachments)} "
                "attachment" + ("s" if len(attachments) != 1 else ""),
                offset,
                f"num from 0 to {len(attachments) - 1}",
            )
        return {k: _reconstruct(v, attachments, offset) for k, v in value.items()}
    if cls is list:
        return [_reconstruct(v, attachments, offset) for v in value]
    return value


def placeholder_nums(data: Any) -> list[Any]:
    """The ``num`` of every placeholder in ``data``, in order (for checks)."""
    found: list[Any] = []
    _collect_nums(data, found)
    return found


def _collect_nums(value: Any, found: list[Any]) -> None:
    if value.__class__ is dict:
        if value.get("_placeholder") is True:
            found.append(value.get("num"))
            return
        for v in value.values():
            _collect_nums(v, found)
    elif value.__class__ is list:
        for v in value:
            _collect_nums(v, found)


def _text_under_msgpack(offset: int = 0) -> DecodeError:
    return _layer_error(
        "got a text message: under the MessagePack parser every Socket.IO packet is a binary "
        "message (the peer may use the default parser)",
        offset,
        "a binary message holding a MessagePack map",
    )


class PacketAssembler:
    """Reassembles binary packets from the messages of one Engine.IO session (socket.io-protocol
    spec: "Packet encoding"; socket.io-parser lib/binary.ts).

    Feed every Socket.IO message in order: text to :meth:`receive_text`, binary to
    :meth:`receive_binary`. Each returns the complete packet when there is one, else
    ``None`` (an attachment is still awaited).

    With ``parser=Parser.MSGPACK`` every packet is one binary message (a MessagePack map,
    binary inline): :meth:`receive_binary` decodes it whole, and text is an error.
    """

    __slots__ = ("_attachments", "_header", "_msgpack", "_reserved", "parser", "protocol")

    def __init__(self, protocol: int = 5, parser: Parser = Parser.DEFAULT) -> None:
        self.protocol = protocol
        self.parser = parser
        self._msgpack = parser is Parser.MSGPACK
        # Protocol 4 (Socket.IO 2.x) lets an event take a reserved name (socket.io-parser
        # ``isPayloadValid``).
        self._reserved = RESERVED_EVENTS if protocol == 5 else frozenset()
        self._header: SocketPacket | None = None
        self._attachments: list[bytes] = []

    @property
    def pending(self) -> SocketPacket | None:
        """The header whose attachments are awaited, if any."""
        return self._header

    @property
    def received(self) -> int:
        """How many attachments of the pending packet have arrived."""
        return len(self._attachments)

    def receive_text(self, text: str, *, trace: Trace | None = None) -> SocketPacket | None:
        """Decode a text message and take it (see :meth:`receive_packet`)."""
        if self._header is not None:  # before decoding: the text is not what was awaited
            raise self._pending_error()
        if self._msgpack:
            if self.protocol == 4 and text[:1] == "{":  # socket.io-msgpack-parser 2.x
                from . import msgpack_parser  # on use: MessagePack only (start-up)

                return msgpack_parser.decode_json(text, 0, 4)
            raise _text_under_msgpack()
        return self.receive_packet(decode_packet(text, self.protocol, trace=trace))

    def receive_packet(self, packet: SocketPacket) -> SocketPacket | None:
        """Take a packet decoded from a text message: return it, or ``None`` when it is a
        binary header whose attachments are now awaited. Raises :class:`DecodeError` while
        attachments are awaited (call :meth:`reset` to drop the pending packet, then call
        again)."""
        if self._header is not None:
            raise self._pending_error()
        if packet.type >= 5:
            self._hold(packet)
            return None
        return packet

    def _hold(self, header: SocketPacket) -> None:
        """Keep a binary header until its attachments arrive."""
        self._header = header
        self._attachments = []

    def receive_message(self, data: str | bytes) -> SocketPacket | EnginePacket | None:
        """Take a whole WebSocket message, Engine.IO framing included, in one step.

        Returns the complete Socket.IO packet of a message packet, ``None`` while
        attachments are awaited, or the :class:`EnginePacket` of anything that is not a
        message (ping, pong, close...). Raises :class:`DecodeError` as the other methods do;
        offsets count from the start of ``data``.
        """
        if isinstance(data, str):
            if data[:1] == "4":  # a message: no EnginePacket to build
                if self._header is not None:
                    raise self._pending_error()
                if self._msgpack:
                    if self.protocol == 4 and data[1:2] == "{":  # socket.io-msgpack-parser 2.x
                        from . import msgpack_parser  # on use: MessagePack only (start-up)

                        return msgpack_parser.decode_json(data, 1, 4)
                    raise _text_under_msgpack(1)
                return self._receive_message_text(data)
        elif self.eio == 4:
            return self.receive_binary(data)
        engine = engineio.decode_packet(data, self.eio)
        payload = engine.data
        if engine.type is EngineType.MESSAGE and isinstance(payload, bytes):
            return self.receive_binary(payload)  # a raw v3 frame, or b<base64>
        return engine

    def _receive_message_text(self, data: str) -> SocketPacket | None:
        # The shapes most traffic has, 42[...], 42<id>[...] and 43<id>[...] on "/", take
        # less work than read_packet does; anything else, valid or not, falls through to
        # read_packet, which decides alike.
        kind = data[1:3]
        payload = 0  # where the JSON starts, on the short path
        ack_id = None
        if kind == "2[":
            payload = 2
        elif kind in _PLAIN_WITH_ID:  # "2" or "3", then a digit
            bracket = data.find("[", 3, 20)  # 16 digits at most: ids below 2^53
            if bracket > 0 and (digits := data[2:bracket]).isdigit() and digits.isascii():
                payload = bracket
                ack_id = int(digits)
        if payload:
            try:
                args = _fast_loads(data[payload:])
            except _FastJSONError:
                pass
            else:  # a list, as the JSON starts with "["
                if kind[0] == "3":
                    return _new(SocketPacket, (_ACK, "/", args, ack_id, 0))
                name = args[0] if args else None
                if (name.__class__ is str and name not in self._reserved) or (
                    name.__class__ in _NUMBERS
                ):
                    return _new(SocketPacket, (_EVENT, "/", args, ack_id, 0))
        packet = read_packet(data, 1, self.protocol, None)
        if packet.type >= 5:
            self._hold(packet)
            return None
        return packet

    @property
    def eio(self) -> int:
        return 3 if self.protocol == 4 else 4

    def _pending_error(self) -> DecodeError:
        header = self._header
        assert header is not None
        return _layer_error(
            f"got text while {header.attachments - len(self._attachments)} binary "
            f"attachment(s) of a {header.type.name} are awaited",
            0,
            "a binary message (attachment)",
        )

    def receive_binary(self, data: bytes) -> SocketPacket | None:
        """Take a binary message: the next attachment of the pending packet (or, under the
        MessagePack parser, a whole packet)."""
        if self._msgpack:
            from . import msgpack_parser  # on use: MessagePack only (start-up)

            return msgpack_parser.decode_packet(data, protocol=self.protocol)
        header = self._header
        if header is None:
            from . import msgpack_parser  # on use: no header pending (start-up)

            if msgpack_parser.looks_like_packet(data):
                raise _layer_error(
                    "got a binary message that is a MessagePack Socket.IO packet: the peer "
                    "uses the MessagePack parser (socket.io-msgpack-parser)",
                    0,
                    "a text Socket.IO packet (the default parser)",
                )
            raise _layer_error(
                "got binary data when no binary packet awaits attachments",
                0,
                "a text Socket.IO packet",
            )
        self._attachments.append(bytes(data))
        if len(self._attachments) < header.attachments:
            return None
        attachments = self._attachments
        self.reset()
        return header._replace(data=reconstruct(header.data, attachments))

    def reset(self) -> SocketPacket | None:
        """Drop the pending packet, if any, and return it."""
        header, self._header, self._attachments = self._header, None, []
        return header


def unasked_connect(packet: EnginePacket, parser: Parser | None = None) -> bool:
    """An Engine.IO packet that is a Socket.IO 2.x server's CONNECT to '/': sent unasked
    right after the handshake and without a payload (``40``), where a Socket.IO 3+ server
    sends CONNECT only in answer to the client's, with ``{"sid"}`` (socket.io-protocol spec,
    v4 and v5: "Connection to a namespace"). With socket.io-msgpack-parser 2.x it is a JSON
    object. A client or a capture that asked ``EIO=4`` tells a Socket.IO 2.x server by it
    (the server ignores ``EIO=4`` over WebSocket)."""
    if packet.type is not EngineType.MESSAGE:
        return False
    data = packet.data
    return data == "0" or (parser is Parser.MSGPACK and data.__class__ is str and data[:1] == "{")
