"""WebSocket frames as they cross the proxy: split, unmasked and inflated for the side view,
relayed as the very bytes that came (RFC 6455 §5.2 base framing; RFC 7692 for
permessage-deflate).

The relay never re-frames: a frame kept goes out as its original bytes, mask included, so
the peer receives exactly what was sent. Reading a frame here is only to know where it ends
and what it says.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

from websockets.utils import apply_mask

from ..captures.streams import Deflate

__all__ = ["FrameReader", "MessageAssembler", "RawFrame", "WsMessage"]

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class RawFrame(NamedTuple):
    opcode: int
    fin: bool
    rsv1: bool
    payload: bytes  # unmasked
    raw: bytes | None  # the frame's bytes on the wire (when the reader keeps them)


class WsMessage(NamedTuple):
    """A whole data message: text or bytes, and the raw frames it came in."""

    data: str | bytes
    frames: list[bytes]


class FrameReader:
    """Splits a byte stream into frames. ``keep_raw``: each frame also carries its bytes."""

    def __init__(self, keep_raw: bool = False) -> None:
        self.keep_raw = keep_raw
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[RawFrame]:
        buffer = self._buffer
        buffer += data
        frames = []
        pos = 0
        size = len(buffer)
        while size - pos >= 2:
            b0 = buffer[pos]
            b1 = buffer[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                head = 10
            masked = b1 & 0x80
            start = pos + head + (4 if masked else 0)
            end = start + length
            if end > size:
                break
            payload = bytes(buffer[start:end])
            if masked:
                payload = apply_mask(payload, bytes(buffer[start - 4 : start]))
            raw = bytes(buffer[pos:end]) if self.keep_raw else None
            frames.append(RawFrame(b0 & 0x0F, bool(b0 & 0x80), bool(b0 & 0x40), payload, raw))
            pos = end
        if pos:
            del buffer[:pos]
        return frames

    @property
    def pending(self) -> bytes:
        """The bytes of a frame not yet complete."""
        return bytes(self._buffer)


class MessageAssembler:
    """Data frames of one direction into messages: fragments joined, compressed messages
    inflated by ``deflate``, that direction's half of the permessage-deflate the 101 agreed
    on (:func:`siocli.captures.streams.deflate_of`, which the capture reader uses too)."""

    def __init__(self, deflate: Deflate | None = None) -> None:
        self.deflate = deflate
        self._parts: list[bytes] = []
        self._raw: list[bytes] = []
        self._text = False
        self._compressed = False

    def receive(self, frame: RawFrame) -> WsMessage | None:
        """A data frame in (not a control frame); the whole message once its last frame came."""
        if frame.opcode != CONT:
            self._parts = [frame.payload]
            self._raw = [frame.raw] if frame.raw is not None else []
            self._text = frame.opcode == TEXT
            self._compressed = frame.rsv1 and self.deflate is not None
        else:
            self._parts.append(frame.payload)
            if frame.raw is not None:
                self._raw.append(frame.raw)
        if not frame.fin:
            return None
        payload = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        if self._compressed:
            payload = self._inflate(payload)
        data: str | bytes = payload.decode("utf-8", "replace") if self._text else payload
        raw, self._raw, self._parts = self._raw, [], []
        return WsMessage(data, raw)

    def _inflate(self, payload: bytes) -> bytes:
        assert self.deflate is not None
        try:
            return self.deflate.inflate(payload)
        except zlib.error:
            return payload  # shown as it came; the peer will say what it makes of it
