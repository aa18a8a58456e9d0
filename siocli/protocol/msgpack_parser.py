"""The MessagePack parser: Socket.IO packets as socket.io-msgpack-parser and python-socketio's
``serializer="msgpack"`` put them on the wire.

Each Socket.IO packet is one binary Engine.IO message holding a MessagePack map::

    {"type": 2, "nsp": "/admin", "data": ["hello", <bin 3 bytes>], "id": 13}

Binary travels inline (MessagePack ``bin``), so there are no BINARY_EVENT/BINARY_ACK types
and no attachments; the types are CONNECT to CONNECT_ERROR (0-4) of the Socket.IO protocol
(https://github.com/socketio/socket.io-protocol, "Packet types"), and the map keys are the
fields of the reference's packet object.

:func:`decode_packet` accepts what the reference decoder (socket.io-msgpack-parser 3.0.2,
``Decoder.checkPacket``) accepts and raises :class:`DecodeError` where it throws; what it
accepts but the protocol does not mean (unknown keys, ids JavaScript cannot hold exactly...)
becomes a finding when a :class:`Trace` is given. The ``msgpack`` library is imported on
first use: ``siocli.protocol`` itself needs only the standard library.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

from . import socketio
from ._js import MAX_SAFE_INTEGER
from .errors import DecodeError, EncodeError
from .types import Severity, SocketPacket, SocketType, Trace

__all__ = [
    "decode_json",
    "decode_packet",
    "encode",
    "encode_packet",
    "encode_v4",
    "looks_like_packet",
    "read_packet",
]

_KEYS = ("type", "nsp", "data", "id")
_TYPES = tuple(SocketType)[:5]  # no BINARY_* types: binary is inline
_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR = _TYPES


class _Undefined:
    """JavaScript's ``undefined``: notepack.io writes it as fixext 1 of type 0 (d4 00 00)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()


def _error(reason: str, offset: int = 0, expected: str | None = None) -> DecodeError:
    return DecodeError(reason, offset, expected, layer="socketio")


# --- the msgpack library, loaded on first use --------------------------------------------

_unpackb: Any = None
_packb: Any = None
_ext_seen = [False]


def _ext_hook(code: int, data: bytes) -> Any:
    # Extension types as notepack.io (socket.io-msgpack-parser's codec) decodes them.
    _ext_seen[0] = True
    if code == 0:
        if len(data) == 1:  # d4 00 00
            return UNDEFINED
        if len(data) == 8:  # d7 00: a Date, milliseconds since the epoch
            millis = int.from_bytes(data, "big", signed=True)
            try:
                moment = datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc)
            except (OverflowError, OSError, ValueError):
                return millis
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return data  # an ArrayBuffer
    return [code, data]  # notepack.io gives [type, Buffer]


def _library() -> None:
    global _unpackb, _packb
    try:
        import msgpack
    except ImportError as exc:  # a broken install: say what is missing
        raise DecodeError(
            "the MessagePack parser needs the 'msgpack' package (pip install msgpack)",
            0,
            layer="input",
        ) from exc
    _unpackb = msgpack.unpackb
    _packb = msgpack.packb


_bad_utf8 = [False]


def _unpack(data: bytes) -> Any:
    if _unpackb is None:
        _library()
    _bad_utf8[0] = False
    try:
        # strict_map_key: string (or bin) keys on the fast path; other keys take the slow
        # one, which turns them into the strings JavaScript makes of them
        return _unpackb(data, raw=False, ext_hook=_ext_hook)
    except UnicodeDecodeError:
        # notepack.io decodes strings as Buffer#toString does: bad UTF-8 becomes U+FFFD
        _bad_utf8[0] = True
        return _unpack_replacing(data)
    except RecursionError:
        raise _error("MessagePack nested too deeply", 0) from None
    except ValueError as exc:
        if "is not allowed for map key" not in str(exc):
            raise _unpack_error(data, exc) from None
        _ext_seen[0] = True  # the value needs _plain: its keys become strings
        return _unpack_replacing(data)
    except Exception as exc:  # the library's errors (ExtraData, FormatError...)
        raise _unpack_error(data, exc) from None


def _unpack_replacing(data: bytes) -> Any:
    try:
        return _unpackb(
            data, raw=False, strict_map_key=False, ext_hook=_ext_hook, unicode_errors="replace"
        )
    except RecursionError:
        raise _error("MessagePack nested too deeply", 0) from None
    except Exception as exc:
        raise _unpack_error(data, exc) from None


def _unpack_error(data: bytes, exc: Exception) -> DecodeError:
    name = type(exc).__name__
    if name == "ExtraData":
        extra = getattr(exc, "extra", b"")  # msgpack.ExtraData: what follows the value
        end = len(data) - len(extra)
        return _error(
            f"{len(extra)} trailing byte(s) after the MessagePack map",
            end,
            "one MessagePack value per message",
        )
    if not data:
        return _error("empty binary message", 0, "a MessagePack map")
    if isinstance(exc, TypeError):  # an array or map used as a map key
        return _error(f"not valid MessagePack: {exc}", 0, "string or number map keys")
    # The library's own words name its internals (max_map_len, Unpack failed): say what
    # they mean for the message instead.
    # compiled here, not at import (start-up): an error path; re caches it
    announced = re.match(r"(\d+) exceeds max_(map|array|str|bin|ext)_len", str(exc))
    if announced is not None:  # its limits are the message's size: the value runs past it
        size, kind = announced.groups()
        return _error(
            f"the message ends inside a MessagePack {kind} announced with {size} "
            f"{'bytes' if kind in ('str', 'bin', 'ext') else 'entries'} "
            f"({len(data)} bytes in all)",
            len(data),
            "a complete MessagePack map",
        )
    if "incomplete input" in str(exc):
        return _error(
            "the message ends before its MessagePack value does", len(data), "a complete map"
        )
    if name == "FormatError":  # 0xc1, the one type byte MessagePack never uses
        return _error("not valid MessagePack: a value starts with the reserved byte 0xc1", 0)
    return _error(f"not valid MessagePack: {exc or name}", 0, "a MessagePack map")


def _plain(value: Any) -> Any:
    """``undefined`` inside data becomes ``None`` (JSON has no undefined), keys strings."""
    cls = value.__class__
    if cls is list:
        return [_plain(v) for v in value]
    if cls is dict:
        return {k if k.__class__ is str else _key_text(k): _plain(v) for k, v in value.items()}
    if value is UNDEFINED:
        return None
    return value


def _key_text(key: Any) -> str:
    # JavaScript property names are strings: String(1) is "1", String(true) "true".
    if key is True or key is False:
        return "true" if key else "false"
    if key is None:
        return "null"
    if key.__class__ is bytes:
        return key.decode("utf-8", "replace")
    if key.__class__ is float and key == int(key):
        return str(int(key))
    return str(key)


# --- decoding ----------------------------------------------------------------------------


def decode_packet(data: bytes, *, trace: Trace | None = None, protocol: int = 5) -> SocketPacket:
    """Decode one MessagePack Socket.IO packet (the data of a binary Engine.IO message).

    Raises :class:`DecodeError` for anything the reference decoder throws on. ``protocol``
    4 applies the rules of socket.io-msgpack-parser 2.x (Socket.IO 2.x).
    """
    _ext_seen[0] = False
    value = _unpack(data)
    if value.__class__ is not dict:
        what = "nil" if value is None else type(value).__name__
        raise _error(
            f"invalid packet type: the message holds a MessagePack {what}, not a map",
            0,
            "a map with type, nsp, data (and id)",
        )
    return _packet(value, trace, protocol)


def decode_json(text: str, start: int = 0, protocol: int = 4) -> SocketPacket:
    """socket.io-msgpack-parser 2.x sends CONNECT, DISCONNECT and ERROR as the JSON text of
    the same map (``{"type":0,"nsp":"/"}``): decode ``text[start:]`` by the same rules."""
    try:
        value = json.loads(text[start:])
    except ValueError as exc:
        raise _error(f"not JSON: {exc}", start, "a JSON object") from None
    if value.__class__ is not dict:
        raise _error("invalid packet type: not a JSON object", start, "a JSON object")
    _ext_seen[0] = False
    try:
        return _packet(value, None, protocol)
    except DecodeError as exc:
        raise exc.shifted(start) from None


def read_packet(data: bytes, trace: Trace | None, protocol: int = 5) -> SocketPacket:
    """:func:`decode_packet`, explaining every byte of ``data`` into ``trace``."""
    packet = decode_packet(data, trace=trace, protocol=protocol)
    if trace is not None and trace.explain:
        _explain(data, trace)
    return packet


def _packet(value: dict[Any, Any], trace: Trace | None, protocol: int = 5) -> SocketPacket:
    undefined = _ext_seen[0]
    ptype_value = value.get("type")
    if ptype_value.__class__ is int and 0 <= ptype_value <= 4:
        ptype = _TYPES[ptype_value]
    elif ptype_value.__class__ is int and protocol == 4 and ptype_value in (5, 6):
        ptype = SocketType(ptype_value)  # 2.x: accepted, and no attachments follow
    elif ptype_value.__class__ is float and ptype_value in (0.0, 1.0, 2.0, 3.0, 4.0):
        ptype = _TYPES[int(ptype_value)]
        if trace is not None:
            trace.finding(
                Severity.WARNING,
                "msgpack.float-type",
                f"type written as the float {ptype_value!r}: the reference accepts it "
                "(Number.isInteger), the spec wants an integer",
            )
    else:
        reason = f"invalid packet type {_shown(ptype_value)}"
        if ptype_value.__class__ is int and ptype_value in (5, 6):
            reason += " (BINARY_EVENT/BINARY_ACK do not exist under MessagePack: binary is inline)"
        raise _error(reason, 0, "an integer type 0-4 under the key 'type'")
    namespace = value.get("nsp")
    if namespace.__class__ is not str:
        raise _error(f"invalid namespace {_shown(namespace)}", 0, "a string under the key 'nsp'")
    payload = value.get("data", UNDEFINED)
    if not (_PAYLOAD_RULES_V4 if protocol == 4 else _PAYLOAD_RULES)[ptype](payload):
        expected = _PAYLOAD_EXPECTED[min(ptype, 3) if ptype >= 5 else ptype]
        if protocol == 4 and ptype in (_CONNECT, _DISCONNECT, _CONNECT_ERROR):
            expected = "no 'data'" if ptype != _CONNECT_ERROR else "a string"
        reason = f"invalid payload for {ptype.name}: {_shown(payload)}"
        if payload is None and ptype in (_CONNECT, _DISCONNECT):
            reason += " (the reference wants the key absent; python-socketio writes nil)"
        raise _error(reason, 0, expected)
    ack_id = value.get("id", UNDEFINED)
    if ack_id is not UNDEFINED and ack_id.__class__ is not int:
        if ack_id.__class__ is float and math.isfinite(ack_id) and ack_id == int(ack_id):
            if trace is not None:
                trace.finding(
                    Severity.WARNING,
                    "msgpack.float-id",
                    f"id written as the float {ack_id!r}: the reference accepts it "
                    "(Number.isInteger), the spec wants an integer",
                )
            ack_id = int(ack_id)
        else:
            raise _error(f"invalid packet id {_shown(ack_id)}", 0, "an integer id")
    if payload is UNDEFINED:
        payload = None
    elif undefined or _ext_seen[0]:
        payload = _plain(payload)
    if trace is not None:
        if _bad_utf8[0]:
            trace.finding(
                Severity.WARNING,
                "msgpack.invalid-utf8",
                "a string that is not valid UTF-8: the reference decoder replaces the bad "
                "bytes with U+FFFD, as shown",
            )
        _note(value, ptype, namespace, payload, ack_id, protocol, trace)
    return _new(
        SocketPacket, (ptype, namespace, payload, None if ack_id is UNDEFINED else ack_id, 0)
    )


_new = tuple.__new__


def _shown(value: Any) -> str:
    if value is UNDEFINED:
        return "(missing)"
    if value is None:
        return "nil"
    if isinstance(value, bytes):
        return f"<binary {len(value)} bytes>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_object(data: Any) -> bool:  # Object.prototype.toString: "[object Object]"
    return data.__class__ is dict


_PAYLOAD_RULES = (
    lambda d: d is UNDEFINED or _is_object(d),  # CONNECT
    lambda d: d is UNDEFINED,  # DISCONNECT
    lambda d: d.__class__ is list,  # EVENT
    lambda d: d.__class__ is list,  # ACK
    lambda d: d.__class__ is str or _is_object(d),  # CONNECT_ERROR
)
# socket.io-msgpack-parser 2.x (isDataValid): CONNECT and DISCONNECT carry nothing, ERROR a
# string, the rest an array (the 2.x types 5 and 6 included)
_PAYLOAD_RULES_V4 = (
    lambda d: d is UNDEFINED,
    lambda d: d is UNDEFINED,
    lambda d: d.__class__ is list,
    lambda d: d.__class__ is list,
    lambda d: d.__class__ is str,
    lambda d: d.__class__ is list,
    lambda d: d.__class__ is list,
)
_PAYLOAD_EXPECTED = (
    "no 'data', or a map (the auth payload, or the server's sid)",
    "no 'data'",
    "an array: the event name, then the arguments",
    "an array of arguments",
    "a string or a map like {message: ...}",
)


def _note(
    value: dict[Any, Any],
    ptype: SocketType,
    namespace: str,
    payload: Any,
    ack_id: Any,
    protocol: int,
    trace: Trace,
) -> None:
    unknown = [k for k in value if k not in _KEYS]
    if unknown:
        trace.finding(
            Severity.WARNING,
            "msgpack.unknown-key",
            f"unknown key(s) {', '.join(repr(k) for k in unknown)} in the packet map: the "
            "reference decoder keeps them on the packet, python-socketio ignores them",
        )
    if namespace[:1] != "/":
        trace.finding(
            Severity.WARNING,
            "msgpack.namespace-form",
            f"namespace {namespace!r} does not start with '/': the reference decoder accepts "
            "it, but no server namespace has that name",
        )
    if ptype is _EVENT:
        if not payload:
            trace.finding(
                Severity.WARNING,
                "msgpack.event-without-name",
                "EVENT with an empty array: no event name; the reference decoder accepts "
                "it and the server ignores it",
            )
        else:
            name = payload[0]
            if name.__class__ is str and name in socketio.RESERVED_EVENTS:
                trace.finding(
                    Severity.WARNING,
                    "msgpack.reserved-event",
                    f"event name {name!r} is reserved: socket.io-parser refuses it, the "
                    "MessagePack decoder lets it through",
                )
            elif name.__class__ not in (str, int, float):
                trace.finding(
                    Severity.WARNING,
                    "msgpack.event-name-type",
                    f"event name {_shown(name)} is neither a string nor a number: the "
                    "MessagePack decoder accepts it, socket.io-parser would not",
                )
    socketio.note_ids(ptype, None if ack_id is UNDEFINED else ack_id, protocol, trace)
    if ack_id is UNDEFINED:
        return
    if abs(ack_id) > MAX_SAFE_INTEGER:
        trace.finding(
            Severity.WARNING,
            "msgpack.id-precision",
            f"id {ack_id} is beyond 2^53-1: the reference decoder reads it as "
            f"{int(float(ack_id))}, and the ack goes to the wrong callback",
        )
    if ack_id < 0:
        trace.finding(
            Severity.WARNING,
            "msgpack.negative-id",
            f"negative id {ack_id}: the reference decoder accepts it (Number.isInteger), the "
            "spec wants a non-negative integer",
        )


def looks_like_packet(data: bytes) -> bool:
    """Does ``data`` decode as a MessagePack Socket.IO packet? (for detection: the library
    is loaded only for a map that holds the keys 'type' and 'nsp')"""
    if not data or not (0x80 <= data[0] <= 0x8F or data[0] in (0xDE, 0xDF)):
        return False
    if b"\xa4type" not in data or b"\xa3nsp" not in data:
        return False
    try:
        decode_packet(data)
    except DecodeError:
        return False
    return True


# --- encoding ----------------------------------------------------------------------------


def encode_packet(packet: SocketPacket) -> bytes:
    """The MessagePack map of ``packet`` (keys type, nsp, data, id; absent ones left out),
    ``bytes`` inline as ``bin``. BINARY_EVENT/BINARY_ACK go as EVENT/ACK."""
    ptype, namespace, data, ack_id, _ = packet
    if ptype >= 5:
        ptype = _EVENT if ptype is SocketType.BINARY_EVENT else _ACK
    if namespace.__class__ is not str:
        raise EncodeError(f"invalid namespace {namespace!r}: a string is needed")
    value: dict[str, Any] = {"type": int(ptype), "nsp": namespace}
    if data is not None:
        value["data"] = data
    if ack_id is not None:
        if ack_id.__class__ is not int or ack_id < 0:
            raise EncodeError(f"invalid ack id {ack_id!r}: a non-negative integer is needed")
        value["id"] = ack_id
    if _packb is None:
        try:
            _library()
        except DecodeError as exc:
            raise EncodeError(exc.reason) from None
    try:
        return _packb(value, use_bin_type=True, default=_default)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"payload cannot be written as MessagePack: {exc}") from None


def _default(value: Any) -> Any:
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{type(value).__name__} is not serialisable")


def encode(packet: SocketPacket) -> list[str | bytes]:
    """:func:`encode_packet` as the list of Engine.IO message data the default parser's
    ``encode`` returns: one binary message, no attachments."""
    return [encode_packet(packet)]


def encode_v4(packet: SocketPacket) -> list[str | bytes]:
    """As socket.io-msgpack-parser 2.x (Socket.IO 2.x) encodes: CONNECT, DISCONNECT and
    ERROR as the JSON text of the map, the other packets as MessagePack."""
    ptype = packet.type
    if ptype in (_CONNECT, _DISCONNECT, _CONNECT_ERROR):
        value: dict[str, Any] = {"type": int(ptype), "nsp": packet.namespace}
        if packet.data is not None:
            value["data"] = packet.data
        return [json.dumps(value, separators=(",", ":"), ensure_ascii=False)]
    return [encode_packet(packet)]


# --- every byte explained ----------------------------------------------------------------


def _explain(data: bytes, trace: Trace) -> None:
    """Spans for the map header, each key and each value (type byte and length, then the
    value). Called after a successful decode: the bytes are known to be a valid map."""
    reader = _Reader(data, trace)
    count, pos = reader.container_header(0)
    value = _unpack_quiet(data)
    trace.span(
        0, pos, "marker", f"map of {count} entr{'y' if count == 1 else 'ies'}: {_json_like(value)}"
    )
    for _ in range(count):
        key, pos = reader.value(pos, "key", None)
        pos = reader.value(pos, _FIELD_KINDS.get(key, "value"), key)[1]


_FIELD_KINDS = {"type": "sio_type", "nsp": "namespace", "data": "payload", "id": "ack_id"}


def _unpack_quiet(data: bytes) -> Any:
    try:
        return _unpack(data)
    except DecodeError:
        return None


def _json_like(value: Any) -> str:
    """``value`` as people read it: JSON, binary as ``<binary N bytes: 01 02 …>``."""
    cls = value.__class__
    if cls is dict:
        items = (
            f"{_json_like(_key_text(k) if k.__class__ is not str else k)}: {_json_like(v)}"
            for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    if cls is list:
        return "[" + ", ".join(_json_like(v) for v in value) + "]"
    if cls is bytes:
        shown = value[:8].hex(" ") + (" …" if len(value) > 8 else "")
        return f"<binary {len(value)} bytes: {shown}>" if value else "<binary 0 bytes>"
    if value is UNDEFINED:
        return "undefined"
    if cls is float and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return json.dumps(value, ensure_ascii=False)


class _Reader:
    """Reads MessagePack headers (https://github.com/msgpack/msgpack/blob/master/spec.md,
    "Formats") to find where each value starts and ends."""

    __slots__ = ("data", "trace")

    def __init__(self, data: bytes, trace: Trace) -> None:
        self.data = data
        self.trace = trace

    def container_header(self, pos: int) -> tuple[int, int]:
        byte = self.data[pos]
        if 0x80 <= byte <= 0x8F or 0x90 <= byte <= 0x9F:
            return byte & 0x0F, pos + 1
        size = 2 if byte in (0xDC, 0xDE) else 4
        return int.from_bytes(self.data[pos + 1 : pos + 1 + size], "big"), pos + 1 + size

    def skip(self, pos: int) -> int:
        """The end of the value at ``pos``."""
        kind, header, length = _format(self.data, pos)
        end = pos + header + length
        if kind in ("map", "array"):
            count = length
            end = pos + header
            for _ in range(count * (2 if kind == "map" else 1)):
                end = self.skip(end)
        return end

    def value(self, pos: int, kind: str, field: Any) -> tuple[Any, int]:
        data = self.data
        end = self.skip(pos)
        fmt, header, length = _format(data, pos)
        decoded = _unpack_quiet(data[pos:end])
        trace = self.trace
        if field is None:  # a key
            if fmt == "str" and header:
                trace.span(
                    pos,
                    pos + header,
                    "marker",
                    f"{_format_name(data[pos])}, {length} byte{'s' if length != 1 else ''}",
                )
                trace.span(pos + header, end, "key", f"key {decoded!r}")
            else:
                trace.span(
                    pos, end, "marker", f"key {_json_like(decoded)} ({_format_name(data[pos])})"
                )
            return decoded, end
        meaning = _field_meaning(field, decoded)
        if fmt in ("str", "bin", "array", "map", "ext") and end > pos + header:
            unit = {"array": "element", "map": "entr"}.get(fmt, "byte")
            plural = (
                ("ies" if unit == "entr" else "s")
                if length != 1
                else ("y" if unit == "entr" else "")
            )
            trace.span(
                pos, pos + header, "marker", f"{_format_name(data[pos])}, {length} {unit}{plural}"
            )
            trace.span(pos + header, end, kind, meaning)
        else:
            # one span: a scalar's type byte is its value, or comes right before it
            trace.span(pos, end, "marker", f"{_format_name(data[pos])}: {meaning}")
        return decoded, end


def _field_meaning(field: Any, value: Any) -> str:
    shown = _json_like(value)
    if field == "type" and value.__class__ in (int, float) and value in (0, 1, 2, 3, 4):
        return f'Socket.IO "{_TYPES[int(value)].name}" packet type'
    if field == "nsp":
        return f"namespace {shown}"
    if field == "id":
        return f"acknowledgement id {shown}"
    if field == "data":
        return f"data: {shown}"
    return f"value of {field!r}: {shown}"


_FIXED = {
    0xC0: ("nil", 1, 0),
    0xC2: ("bool", 1, 0),
    0xC3: ("bool", 1, 0),
    0xCA: ("float", 1, 4),
    0xCB: ("float", 1, 8),
    0xCC: ("int", 1, 1),
    0xCD: ("int", 1, 2),
    0xCE: ("int", 1, 4),
    0xCF: ("int", 1, 8),
    0xD0: ("int", 1, 1),
    0xD1: ("int", 1, 2),
    0xD2: ("int", 1, 4),
    0xD3: ("int", 1, 8),
    0xD4: ("ext", 2, 1),
    0xD5: ("ext", 2, 2),
    0xD6: ("ext", 2, 4),
    0xD7: ("ext", 2, 8),
    0xD8: ("ext", 2, 16),
}
_SIZED = {  # type byte: (format, bytes of the length)
    0xC4: ("bin", 1),
    0xC5: ("bin", 2),
    0xC6: ("bin", 4),
    0xC7: ("ext", 1),
    0xC8: ("ext", 2),
    0xC9: ("ext", 4),
    0xD9: ("str", 1),
    0xDA: ("str", 2),
    0xDB: ("str", 4),
    0xDC: ("array", 2),
    0xDD: ("array", 4),
    0xDE: ("map", 2),
    0xDF: ("map", 4),
}


def _format(data: bytes, pos: int) -> tuple[str, int, int]:
    """(format, header bytes, length) of the value at ``pos``: ``length`` is the body's
    bytes, or the element (map: entry) count of a container."""
    byte = data[pos]
    if byte <= 0x7F or byte >= 0xE0:
        return "int", 1, 0
    if byte <= 0x8F:
        return "map", 1, byte & 0x0F
    if byte <= 0x9F:
        return "array", 1, byte & 0x0F
    if byte <= 0xBF:
        return "str", 1, byte & 0x1F
    fixed = _FIXED.get(byte)
    if fixed is not None:
        return fixed
    fmt, size = _SIZED[byte]
    length = int.from_bytes(data[pos + 1 : pos + 1 + size], "big")
    header = 1 + size + (fmt == "ext")
    return fmt, header, length


_NAMES = {
    0xC0: "nil",
    0xC2: "false",
    0xC3: "true",
    0xCA: "float 32",
    0xCB: "float 64",
    0xCC: "uint 8",
    0xCD: "uint 16",
    0xCE: "uint 32",
    0xCF: "uint 64",
    0xD0: "int 8",
    0xD1: "int 16",
    0xD2: "int 32",
    0xD3: "int 64",
    0xD4: "fixext 1",
    0xD5: "fixext 2",
    0xD6: "fixext 4",
    0xD7: "fixext 8",
    0xD8: "fixext 16",
    0xC4: "bin 8",
    0xC5: "bin 16",
    0xC6: "bin 32",
    0xC7: "ext 8",
    0xC8: "ext 16",
    0xC9: "ext 32",
    0xD9: "str 8",
    0xDA: "str 16",
    0xDB: "str 32",
    0xDC: "array 16",
    0xDD: "array 32",
    0xDE: "map 16",
    0xDF: "map 32",
}


def _format_name(byte: int) -> str:
    if byte <= 0x7F:
        return "positive fixint"
    if byte >= 0xE0:
        return "negative fixint"
    if byte <= 0x8F:
        return "fixmap"
    if byte <= 0x9F:
        return "fixarray"
    if byte <= 0xBF:
        return "fixstr"
    return _NAMES.get(byte, f"0x{byte:02x}")
