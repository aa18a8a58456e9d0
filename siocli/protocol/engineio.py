"""Engine.IO packets and polling payloads, revisions 3 and 4 (the engine.io-protocol spec: revision
4 on its main branch, 3 on its ``v3`` branch).

Bytes in, packets out; no I/O. Two framings exist for one packet:

* a WebSocket message (:func:`decode_packet`, :func:`encode_packet`): text ``<type><data>``,
  or binary. Binary is the raw bytes of a message in revision 4, and a type byte followed by
  the bytes in revision 3 (engine.io-protocol spec: "Packet encoding");
* an HTTP long-polling body of one or more packets (:func:`decode_payload`,
  :func:`encode_payload`, :func:`split_payload`): ``\\x1e``-separated in revision 4
  (engine.io-protocol spec: "HTTP long-polling"),
  ``<length>:<packet>`` with lengths in UTF-16 code units in revision 3 (engine.io-protocol spec,
  branch v3: "Payload"), or the XHR2
  binary framing of revision 3 (engine.io-parser 2.x ``decodePayloadAsBinary``).

Every decoder raises :class:`~siocli.protocol.errors.DecodeError` and nothing else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from . import _jsonlib
from ._js import js_integer, read_digits
from .errors import DecodeError, EncodeError
from .types import EnginePacket, EngineType, Handshake, Severity, Trace, Transport

__all__ = [
    "SEPARATOR",
    "decode_handshake",
    "decode_packet",
    "decode_payload",
    "encode_handshake",
    "encode_packet",
    "encode_payload",
    "ends_with_close",
    "opening_sid",
    "split_payload",
    "transport_of",
    "v3_framed",
]

SEPARATOR = "\x1e"
"""The record separator between packets of a revision 4 polling payload."""
_V3_LENGTH = re.compile(r"\d+:")

_TYPES = tuple(EngineType)
_TYPE_BY_CHAR = {str(t.value): t for t in EngineType}
_TYPE_CHAR = tuple(str(t.value) for t in EngineType)
_MESSAGE = EngineType.MESSAGE
_EXPECTED_TYPE = "a packet type digit 0-6"
_TYPE_MEANINGS = tuple(f'Engine.IO "{t.label}" packet type' for t in EngineType)
_BYTES_TYPES = (bytes, bytearray, memoryview)
_new = tuple.__new__


def _binary_message(data: bytes) -> str:
    return f"binary data ({len(data)} byte{'s' if len(data) != 1 else ''})"


# --- one packet --------------------------------------------------------------------------


def decode_packet(data: str | bytes, eio: int = 4, *, trace: Trace | None = None) -> EnginePacket:
    """Decode one Engine.IO packet as it travels in a WebSocket message.

    ``data`` is the text of a text frame or the bytes of a binary frame. Text starting with
    ``b`` is a base64-encoded binary packet (``b64=1`` sessions, and polling payloads).
    """
    if isinstance(data, str):
        if not data:
            raise DecodeError("empty Engine.IO packet", 0, _EXPECTED_TYPE)
        ptype = _TYPE_BY_CHAR.get(data[0])
        if ptype is None:
            if data[0] == "b":
                return _decode_base64_packet(data, eio, trace)
            raise DecodeError(
                f"unknown Engine.IO packet type {data[0]!r}",
                0,
                f"{_EXPECTED_TYPE}, or 'b' and base64 for binary",
            )
        if trace is not None and trace.explain:
            trace.span(0, 1, "eio_type", _TYPE_MEANINGS[ptype])
        return _new(EnginePacket, (ptype, data[1:]))
    if isinstance(data, _BYTES_TYPES):
        return _decode_binary_packet(bytes(data), eio, trace)
    raise DecodeError(f"expected text or bytes, got {type(data).__name__}", 0, "text or bytes")


def _decode_binary_packet(data: bytes, eio: int, trace: Trace | None) -> EnginePacket:
    if eio != 3:
        # Revision 4: a binary frame is the raw bytes of a message, no type byte
        # (engine.io-protocol spec: "Packet encoding").
        if trace is not None:
            trace.span(0, len(data), "binary", _binary_message(data))
        return EnginePacket(_MESSAGE, data)
    if not data:
        raise DecodeError("empty binary Engine.IO packet", 0, "a type byte 0x00-0x06")
    code = data[0]
    if code > 6:
        raise DecodeError(
            f"unknown Engine.IO packet type byte 0x{code:02x}", 0, "a type byte 0x00-0x06"
        )
    ptype = _TYPES[code]
    if trace is not None:
        trace.span(0, 1, "eio_type", _TYPE_MEANINGS[code] + " (type byte, revision 3)")
        trace.span(1, len(data), "binary", _binary_message(data[1:]))
        if ptype is not _MESSAGE:
            _note_binary_non_message(trace, ptype)
    return EnginePacket(ptype, data[1:])


def _note_binary_non_message(trace: Trace, ptype: EngineType) -> None:
    trace.finding(
        Severity.VIOLATION,
        "eio.binary-non-message",
        f'binary "{ptype.label}" packet: only message packets carry binary data '
        "(the reference decodes it; python-engineio refuses it)",
    )


def _decode_base64_packet(text: str, eio: int, trace: Trace | None) -> EnginePacket:
    if eio == 3:
        # Revision 3: b<type><base64> (engine.io-protocol spec: "Packet encoding").
        ptype = _TYPE_BY_CHAR.get(text[1:2])
        if ptype is None:
            raise DecodeError("base64 packet without a type digit after 'b'", 1, _EXPECTED_TYPE)
        start = 2
    else:
        # Revision 4: everything after 'b' is base64; the type is always message.
        ptype = _MESSAGE
        start = 1
    raw = _b64decode(text, start, trace)
    if trace is not None:
        trace.span(0, 1, "b64_marker", "binary data follows, base64-encoded")
        if eio == 3:
            trace.span(1, 2, "eio_type", _TYPE_MEANINGS[ptype])
            if ptype is not _MESSAGE:
                _note_binary_non_message(trace, ptype)
        trace.span(start, len(text), "binary", _binary_message(raw) + " in base64")
    return EnginePacket(ptype, raw)


def strict_b64decode(text: str) -> bytes:
    """Canonical base64 (padded, no stray characters) or ``ValueError``; Python 3.10 has
    no ``strict_mode``."""
    if not _b64_strict().match(text):
        raise ValueError("not canonical base64")
    import binascii  # a shared library: loaded with the first binary message, not at start-up

    return binascii.a2b_base64(text)


@functools.cache  # compiled on first use, not at import: most runs never need it (start-up)
def _b64_strict() -> re.Pattern[str]:
    return re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")


def _b64decode(text: str, start: int, trace: Trace | None) -> bytes:
    encoded = text[start:]
    try:
        return strict_b64decode(encoded)
    except ValueError:
        pass
    # Node's decoder accepts missing padding; say so, but decode like it does.
    stripped = encoded.rstrip("=")
    try:
        raw = strict_b64decode(stripped + "=" * (-len(stripped) % 4))
    except ValueError:
        bad = next((i for i, c in enumerate(encoded) if c not in _B64_ALPHABET), len(encoded))
        raise DecodeError(
            "invalid base64 in binary packet", start + bad, "base64 (A-Z a-z 0-9 + /, = padding)"
        ) from None
    if trace is not None:
        trace.finding(
            Severity.WARNING,
            "eio.base64-padding",
            "base64 with missing or extra '=' padding: Node accepts it, strict decoders do not",
        )
    return raw


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def encode_packet(packet: EnginePacket, eio: int = 4, *, b64: bool = False) -> str | bytes:
    """Encode one packet as a WebSocket message: text, or bytes for binary data.

    With ``b64`` (the client asked for ``b64=1``), binary goes as base64 text.
    """
    data = packet.data
    if isinstance(data, str):
        return _TYPE_CHAR[packet.type] + data
    if not isinstance(data, _BYTES_TYPES):
        raise EncodeError(f"Engine.IO packet data must be str or bytes, not {type(data).__name__}")
    if b64:
        return _encode_base64(packet.type, data, eio)
    if eio == 3:
        return bytes((packet.type,)) + bytes(data)
    if packet.type != 4:
        raise EncodeError("revision 4 carries binary data in message packets only")
    return bytes(data)


def _encode_base64(ptype: EngineType, data: bytes, eio: int) -> str:
    import binascii  # as in strict_b64decode

    encoded = binascii.b2a_base64(data, newline=False).decode("ascii")
    if eio == 3:
        return "b" + _TYPE_CHAR[ptype] + encoded
    if ptype != 4:
        raise EncodeError("revision 4 carries binary data in message packets only")
    return "b" + encoded


# --- polling payloads --------------------------------------------------------------------


def split_payload(
    body: str | bytes, eio: int = 4, *, trace: Trace | None = None
) -> Iterator[tuple[int, str | bytes]]:
    """Yield ``(offset, encoded packet)`` for each packet of a polling body.

    The framing only: decode each piece with :func:`decode_packet`. Pieces before a framing
    error are yielded before the error is raised, as the reference server processes them
    (engine.io-protocol spec: "HTTP long-polling"). A revision 3 ``bytes`` body starting with 0x00
    or 0x01 is an XHR2 binary
    payload; other bytes are UTF-8 text.
    """
    if not isinstance(body, str):
        if not isinstance(body, _BYTES_TYPES):
            raise DecodeError(f"expected text or bytes, got {type(body).__name__}", 0)
        body = bytes(body)
        if eio == 3 and body[:1] in (b"\x00", b"\x01"):
            yield from _split_binary_payload(body, trace)
            return
        if eio == 3 and not body:
            # Binary framing of nothing: the reference's decodePayloadAsBinary loops zero
            # times and reads zero packets, where an empty text payload is an error.
            if trace is not None:
                trace.finding(
                    Severity.WARNING,
                    "eio.empty-binary-payload",
                    "an empty binary payload (application/octet-stream): the reference reads "
                    "zero packets; a peer with nothing to send should send a noop",
                )
            return
        body = _utf8(body)
    if eio == 3:
        yield from _split_v3_text(body, trace)
    else:
        yield from _split_v4(body, trace)


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"payload is not valid UTF-8 ({exc.reason})", exc.start, "UTF-8 text"
        ) from None


def _split_v4(body: str, trace: Trace | None) -> Iterator[tuple[int, str]]:
    if not body:
        raise DecodeError("empty polling payload", 0, "at least one packet")
    # compiled here, not at import (start-up): annotation only; re caches it
    if trace is not None and re.match(r"\d+:[0-6b]", body):
        trace.finding(
            Severity.WARNING,
            "eio.looks-like-v3",
            f"this body looks like a revision 3 payload ({body[:12]!r}...: <length>:<packet>); "
            "read as revision 4 it means something else. Engine.IO 3? (--eio 3)",
        )
    if SEPARATOR not in body:
        yield 0, body
        return
    offset = 0
    for piece in body.split(SEPARATOR):
        if not piece:
            where = "leading" if offset == 0 else "trailing" if offset == len(body) else "doubled"
            raise DecodeError(
                f"empty packet in payload ({where} \\x1e separator)", offset, "a packet"
            )
        if offset and trace is not None:
            trace.span(offset - 1, offset, "separator", "separator")
        yield offset, piece
        offset += len(piece) + 1


def _split_v3_text(body: str, trace: Trace | None) -> Iterator[tuple[int, str]]:
    if not body:
        raise DecodeError("empty polling payload", 0, "<length>:<packet>")
    ascii_only = body.isascii()
    pos = 0
    end = len(body)
    while pos < end:
        colon = body.find(":", pos)
        if colon < 0:
            if pos:
                reason = f"{end - pos} character(s) after the last packet, without a length"
            elif body[:1] in _TYPE_BY_CHAR:
                reason = "no '<length>:' before the packet (a revision 4 payload? try --eio 4)"
            else:
                reason = "no ':' after the packet length"
            raise DecodeError(reason, pos, "<length>:<packet>")
        length_text = body[pos:colon]
        if length_text.isdigit() and length_text.isascii():
            length = read_digits(length_text, "packet length", pos, "engineio")
        else:
            length = _quirky_length(length_text, pos, trace)
        start = colon + 1
        if ascii_only:
            stop = start + length
            if stop > end:
                raise DecodeError(
                    f"packet length {length} runs past the end of the payload ({end - start} left)",
                    pos,
                    f"{length} UTF-16 code units after '{length_text}:'",
                )
        else:
            stop = _utf16_stop(body, start, length, pos, length_text)
        if trace is not None:
            trace.span(
                pos,
                start,
                "length",
                f"packet length ({length} UTF-16 code units)",
            )
        if length:
            yield start, body[start:stop]
        elif trace is not None:
            trace.finding(Severity.INFO, "eio.empty-entry", "an empty entry (0:), skipped")
        pos = stop


def _quirky_length(length_text: str, pos: int, trace: Trace | None) -> int:
    # The reference reads the length with Number(): "06", " 6" and "0x6" all pass
    # (engine.io-protocol spec, branch v3: "Payload").
    length = js_integer(length_text) if length_text else None
    if length is None:
        raise DecodeError(
            f"invalid packet length {length_text!r}", pos, "the decimal length of the packet"
        )
    if trace is not None:
        trace.finding(
            Severity.WARNING,
            "eio.length-form",
            f"packet length written as {length_text!r}: the reference reads it as {length}, "
            "the spec wants plain decimal digits",
        )
    return length


def _utf16_stop(body: str, start: int, length: int, pos: int, length_text: str) -> int:
    """The index where ``length`` UTF-16 code units starting at ``start`` end."""
    end = len(body)
    stop = min(start + length, end)
    units = len(body[start:stop].encode("utf-16-le", "surrogatepass")) // 2
    while units > length:  # astral characters count two: step back by the excess...
        stop -= units - length
        units = len(body[start:stop].encode("utf-16-le", "surrogatepass")) // 2
    while units < length and stop < end:  # ...then forward, one character at a time
        units += 2 if ord(body[stop]) > 0xFFFF else 1
        stop += 1
    if units == length:
        return stop
    if units > length:
        raise DecodeError(
            f"packet length {length} splits a surrogate pair (a character above U+FFFF "
            "counts 2 UTF-16 code units)",
            pos,
            "a length that ends between characters",
        )
    raise DecodeError(
        f"packet length {length} runs past the end of the payload ({units} UTF-16 code units left)",
        pos,
        f"{length} UTF-16 code units after '{length_text}:'",
    )


def _split_binary_payload(body: bytes, trace: Trace | None) -> Iterator[tuple[int, str | bytes]]:
    pos = 0
    end = len(body)
    while pos < end:
        marker = body[pos]
        if marker > 1:
            raise DecodeError(
                f"invalid entry marker 0x{marker:02x} in binary payload",
                pos,
                "0x00 (text entry) or 0x01 (binary entry)",
            )
        digits_start = pos + 1
        ff = body.find(b"\xff", digits_start)
        if ff < 0:
            raise DecodeError(
                "binary payload entry has no 0xff after its length", digits_start, "0xff"
            )
        digits = body[digits_start:ff]
        bad = next((i for i, d in enumerate(digits) if d > 9), None)
        if bad is not None or not digits:
            raise DecodeError(
                "invalid length digits in binary payload entry",
                digits_start + (bad or 0),
                "one byte per decimal digit, each 0x00-0x09, then 0xff",
            )
        length = read_digits("".join(map(str, digits)), "entry length", digits_start, "engineio")
        start = ff + 1
        stop = start + length
        if stop > end:
            raise DecodeError(
                f"binary payload entry of {length} bytes runs past the end ({end - start} left)",
                digits_start,
                f"{length} bytes",
            )
        if trace is not None:
            kind = "text" if marker == 0 else "binary"
            trace.span(pos, pos + 1, "marker", f"{kind} entry")
            trace.span(digits_start, ff, "length", f"length {length} bytes, one byte per digit")
            trace.span(ff, start, "length_end", "end of the length")
        chunk = body[start:stop]
        if marker == 0:
            try:
                yield start, chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"text entry is not valid UTF-8 ({exc.reason})", start + exc.start, "UTF-8"
                ) from None
        else:
            yield start, chunk
        pos = stop


def decode_payload(body: str | bytes, eio: int = 4) -> list[EnginePacket]:
    """Decode a polling body into its packets. Raises :class:`DecodeError` at the first
    bad packet; :func:`split_payload` gives the ones before it."""
    packets: list[EnginePacket] = []
    for offset, piece in split_payload(body, eio):
        try:
            packets.append(decode_packet(piece, eio))
        except DecodeError as exc:
            raise exc.shifted(offset) from None
    return packets


def encode_payload(
    packets: Iterable[EnginePacket], eio: int = 4, *, binary: bool = False
) -> str | bytes:
    """Encode packets as one polling body.

    Revision 4 always gives text (binary as ``b<base64>``). Revision 3 gives length-prefixed
    text, or with ``binary`` (a client that did not ask for ``b64``) the XHR2 binary
    framing when at least one packet carries bytes, as the reference does (engine.io-parser 2.x
    ``decodePayloadAsBinary``).
    """
    packets = list(packets)
    if eio != 3:
        return SEPARATOR.join(_as_text(p, eio) for p in packets)
    if binary and any(not isinstance(p.data, str) for p in packets):
        return b"".join(_binary_entry(p) for p in packets)
    if not packets:
        return "0:"
    parts = []
    for packet in packets:
        text = _as_text(packet, eio)
        units = len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2
        parts.append(f"{units}:{text}")
    return "".join(parts)


def _as_text(packet: EnginePacket, eio: int) -> str:
    data = packet.data
    if isinstance(data, str):
        return _TYPE_CHAR[packet.type] + data
    return _encode_base64(packet.type, data, eio)


def _binary_entry(packet: EnginePacket) -> bytes:
    if isinstance(packet.data, str):
        marker = 0
        # as the reference's UTF-8 encoder: a lone surrogate becomes U+FFFD
        # (compiled here, not at import: start-up; re caches it)
        text = re.sub("[\ud800-\udfff]", "\ufffd", _TYPE_CHAR[packet.type] + packet.data)
        entry = text.encode("utf-8")
    else:
        marker = 1
        entry = bytes((packet.type,)) + bytes(packet.data)
    return bytes((marker, *map(int, str(len(entry))), 0xFF)) + entry


# --- handshake ---------------------------------------------------------------------------


def decode_handshake(data: str) -> Handshake:
    """Parse the JSON data of an open packet (engine.io-protocol spec: "Handshake")."""
    if not isinstance(data, str):
        raise DecodeError("handshake is binary data: it must be JSON text", 0, "a JSON object")
    try:
        value: Any = _jsonlib.loads(data)
    except _jsonlib.JSONError as exc:
        raise DecodeError(
            f"handshake is not valid JSON ({exc.reason})", exc.pos, "a JSON object"
        ) from None
    if not isinstance(value, dict):
        raise DecodeError("handshake is not a JSON object", 0, '{"sid": ..., "pingInterval": ...}')
    sid = value.get("sid")
    if not isinstance(sid, str) or not sid:
        raise DecodeError('handshake has no "sid" string', 0, '"sid": "<session id>"')
    upgrades = value.get("upgrades", [])
    if not isinstance(upgrades, list) or not all(isinstance(u, str) for u in upgrades):
        raise DecodeError(
            'handshake "upgrades" is not a list of strings', 0, '"upgrades": ["websocket"]'
        )
    return Handshake(
        sid=sid,
        upgrades=tuple(upgrades),
        ping_interval=_handshake_ms(value, "pingInterval"),
        ping_timeout=_handshake_ms(value, "pingTimeout"),
        max_payload=_handshake_ms(value, "maxPayload") if "maxPayload" in value else None,
    )


def _handshake_ms(value: dict[str, Any], key: str) -> int:
    number = value.get(key)
    if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
        raise DecodeError(f'handshake has no valid "{key}" number', 0, f'"{key}": <milliseconds>')
    return int(number)


def encode_handshake(handshake: Handshake) -> str:
    """The JSON data of an open packet, keys in the reference server's order."""
    value: dict[str, Any] = {
        "sid": handshake.sid,
        "upgrades": list(handshake.upgrades),
        "pingInterval": handshake.ping_interval,
        "pingTimeout": handshake.ping_timeout,
    }
    if handshake.max_payload is not None:
        value["maxPayload"] = handshake.max_payload
    return _jsonlib.dumps(value)


# --- framing of a bare message ---------------------------------------------------------------


def v3_framed(data: str | bytes) -> bool:
    """Framed as only Engine.IO 3 polling payloads are: ``<length>:`` before a packet, or a
    binary payload's 0x00/0x01 entry marker first."""
    if isinstance(data, str):
        return _V3_LENGTH.match(data) is not None
    return data[:1] in (b"\x00", b"\x01")


def transport_of(data: str | bytes) -> Transport:
    """The transport a bare message came over, from its framing: a polling payload when it
    holds several packets or Engine.IO 3 framing, else one WebSocket message."""
    if isinstance(data, str):
        polling = SEPARATOR in data or v3_framed(data)
    else:
        polling = v3_framed(data) and b"\xff" in data[:12]  # markers, length digits, 0xff
    return Transport.POLLING if polling else Transport.WEBSOCKET


# --- what a relay must know at once ------------------------------------------------------------


def opening_sid(data: str | bytes, eio: int, transport: Transport) -> str | None:
    """The sid of the server's open packet at the start of a wire message (the client's next
    requests name it), else ``None``; cheap for every other message."""
    if not (data[:1] == "0" or data[:1] == b"0" or (eio == 3 and transport is Transport.POLLING)):
        return None
    try:
        if transport is Transport.POLLING:
            packets = decode_payload(data, eio)
            packet = packets[0] if packets else None
        else:
            packet = decode_packet(data, eio)
        if packet is None or packet.type is not EngineType.OPEN or not isinstance(packet.data, str):
            return None
        return decode_handshake(packet.data).sid
    except DecodeError:
        return None


def ends_with_close(data: str | bytes, eio: int, transport: Transport) -> bool:
    """Whether a wire message ends with a close packet (engine.io-protocol spec: "close"):
    the message itself over WebSocket (a revision 3 binary frame may carry it as type byte
    0x01; in revision 4 a binary frame is always a message), the last packet of a polling
    payload. Cheap: a payload is decoded only when its end reads like a close."""
    if transport is Transport.WEBSOCKET:
        return data == "1" or (eio == 3 and data == b"\x01")
    if data == "1":
        return True
    if isinstance(data, str):
        if eio != 3:
            return data.endswith(SEPARATOR + "1")  # the separator is in no text packet
        if not data.endswith("1:1"):
            return False
    elif eio != 3 or not data.endswith(b"\xff1"):  # revision 3's binary framing
        return False
    try:
        packets = decode_payload(data, eio)
    except DecodeError:
        return False
    return bool(packets) and packets[-1].type is EngineType.CLOSE
