"""HTTP/1.1 and WebSocket, read from one direction of a reassembled TCP stream.

A passive observer's parsers: they see both sides of a connection and never answer, so
they are fed bytes and :class:`~siocli.captures.tcp.Gap` values (bytes the capture lacks)
and return what they completed. A gap inside a body whose length is known (Content-Length,
a chunk, a WebSocket frame) damages that message only: the parser skips it and goes on. A
gap in a header loses the framing: HTTP finds the next request or status line, a WebSocket
direction stops there; both say so, with the offset.

h11 and websockets are not used here: h11 is one party of a conversation (it must send a
request before it accepts a response, and stops at the first error), websockets' frame
parser wants an asyncio-free generator protocol and ``decode`` must not import it (DESIGN:
a command imports only what it uses); a gap or a garbled byte must not end the stream.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .tcp import Gap

__all__ = ["HttpMessage", "HttpParser", "Problem", "WebSocketParser", "WsMessage"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 256 << 20  # nobody polls a body this large: a garbled length, not data


class Problem(NamedTuple):
    message: str
    offset: int


class HttpMessage(NamedTuple):
    """A request (``method``, ``target``) or a response (``status``), complete."""

    method: str
    target: str
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header's last value
    body: bytes
    damaged: str | None  # why the body is not whole
    offset: int  # of the start line in the stream
    time: float  # of the byte that completed it


class WsMessage(NamedTuple):
    opcode: int  # 1 text, 2 binary, 8 close, 9 ping, 10 pong
    data: bytes
    damaged: str | None
    offset: int
    time: float
    masked: bool


_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _PAUSED, _LOST = range(
    9
)
_START = re.compile(
    rb"(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP/1\.[01]\r\n"
    rb"|HTTP/1\.[01] \d{3}"
)
_METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ", b"OPTIONS ", b"PATCH ")


def looks_like_request(data: bytes) -> bool:
    return data.startswith(_METHODS)


class HttpParser:
    """One direction of an HTTP/1.1 connection: requests (client to server) or responses.

    ``method_of`` tells a response parser which request it answers (a HEAD's response has
    no body); after a request that asks to upgrade, a request parser waits (paused) until
    the response says whether the connection switched protocols (:meth:`resume`).
    """

    def __init__(self, requests: bool, method_of: Callable[[], str] | None = None) -> None:
        self.requests = requests
        self.method_of = method_of
        self.buffer = bytearray()
        self.offset = 0  # stream offset of buffer[0]
        self.state = _HEAD
        self.remaining = 0
        self.head: tuple[str, str, int, dict[str, str], int] | None = None
        self.body: list[bytes] = []
        self.body_size = 0
        self.damaged: str | None = None
        self.gzip: str | None = None

    def resync(self) -> None:
        """Start at the next start line (a stream whose beginning the capture missed)."""
        self.state = _LOST

    def resume(self) -> None:
        if self.state == _PAUSED:
            self.state = _HEAD

    def feed(self, chunk: bytes | Gap, time: float) -> list[HttpMessage | Problem]:
        out: list[HttpMessage | Problem] = []
        if isinstance(chunk, Gap):
            self._gap(chunk, time, out)
        else:
            self.buffer += chunk
        self._run(time, out)
        return out

    def finish(self, time: float) -> list[HttpMessage | Problem]:
        """The stream ended: a body read until close is complete; anything else is cut."""
        out: list[HttpMessage | Problem] = []
        if self.state == _UNTIL_CLOSE:
            self.body.append(bytes(self.buffer))
            self._consume(len(self.buffer))
            self._complete(time, out)
        elif self.state in (_BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER):
            # what came of the body, said to be cut: an error answer is still one
            self.damaged = self.damaged or "the stream ends inside its body"
            self._complete(time, out)
        elif self.state == _HEAD and self.buffer.strip():
            out.append(Problem("the stream ends inside an HTTP header", self.offset))
        return out

    def _what(self) -> str:
        assert self.head is not None
        method, target, status, _, _ = self.head
        return f"the {method} {target}" if self.requests else f"an HTTP {status} response"

    def _gap(self, gap: Gap, time: float, out: list[HttpMessage | Problem]) -> None:
        self._run(time, out)  # what is before the gap first
        length = gap.length
        state = self.state
        if state in (_BODY, _CHUNK_DATA) and length <= self.remaining and not self.buffer:
            self.remaining -= length
            self.body_size += length
            self.damaged = self.damaged or f"{length} bytes at offset {gap.offset} {gap.why}"
            self.offset += length
            if self.remaining == 0:
                if state == _BODY:
                    self._complete(time, out)
                else:
                    self.state = _CHUNK_END
            return
        if state == _UNTIL_CLOSE:
            self.damaged = self.damaged or f"{length} bytes at offset {gap.offset} {gap.why}"
            self.offset += len(self.buffer) + length
            self.body.append(bytes(self.buffer))
            self.buffer.clear()
            return
        if state != _LOST:
            what = f"in {self._what()}" if self.head is not None else "in the HTTP stream"
            out.append(
                Problem(
                    f"{length} bytes missing {what} at offset {gap.offset} ({gap.why}): "
                    "the HTTP framing resumes at the next request or status line",
                    gap.offset,
                )
            )
        self.state = _LOST
        self.head = None
        self.body = []
        self.offset += len(self.buffer) + length
        self.buffer.clear()

    def _consume(self, count: int) -> None:
        del self.buffer[:count]
        self.offset += count

    def _run(self, time: float, out: list[HttpMessage | Problem]) -> None:
        buffer = self.buffer
        while buffer:
            state = self.state
            if state == _HEAD:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > _MAX_HEAD:
                        out.append(Problem("an HTTP header longer than 64 KiB", self.offset))
                        self.state = _LOST
                        continue
                    return
                self._start(bytes(buffer[:end]), out)
                self._consume(end + 4)
                if self.state == _HEAD:  # no body
                    self._complete(time, out)
            elif state in (_BODY, _CHUNK_DATA):
                take = min(self.remaining, len(buffer))
                self.body.append(bytes(buffer[:take]))
                self._consume(take)
                self.remaining -= take
                if self.remaining == 0:
                    if state == _BODY:
                        self._complete(time, out)
                    else:
                        self.state = _CHUNK_END
            elif state == _CHUNK_SIZE:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > 1024:
                        self._lose("a chunk size line longer than 1 KiB", out)
                    return
                line = bytes(buffer[:end]).split(b";")[0].strip()
                try:
                    size = int(line, 16)
                except ValueError:
                    self._lose(f"a chunk size that is not hexadecimal: {line[:20]!r}", out)
                    continue
                self._consume(end + 2)
                self.remaining = size
                self.body_size += size
                self.state = _CHUNK_DATA if size else _TRAILER
            elif state == _CHUNK_END:
                if len(buffer) < 2:
                    return
                if buffer[:2] != b"\r\n":
                    self._lose("a chunk not followed by CRLF", out)
                    continue
                self._consume(2)
                self.state = _CHUNK_SIZE
            elif state == _TRAILER:
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                self._consume(end + 2)
                if end == 0:
                    self._complete(time, out)
            elif state == _UNTIL_CLOSE:
                self.body.append(bytes(buffer))
                self._consume(len(buffer))
            elif state == _LOST:
                found = _START.search(buffer)
                if found is None:  # a start line begins a line: keep the last one
                    end = buffer.rfind(b"\n")
                    if end >= 0 or len(buffer) > _MAX_HEAD:
                        self._consume(end + 1 if end >= 0 else len(buffer))
                    return
                self._consume(found.start())
                self.state = _HEAD
            else:  # _PAUSED: the bytes after an upgrade request wait for the response
                return

    def _lose(self, why: str, out: list[HttpMessage | Problem]) -> None:
        out.append(Problem(f"{why}: the HTTP framing is lost here", self.offset))
        self.state = _LOST
        self.head = None
        self.body = []

    def _start(self, head: bytes, out: list[HttpMessage | Problem]) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        method = target = ""
        status = 0
        if self.requests:
            if len(parts) < 2:
                self._lose(f"not an HTTP request line: {lines[0][:40]!r}", out)
                return
            method, target = parts[0], parts[1]
        else:
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                self._lose(f"not an HTTP status line: {lines[0][:40]!r}", out)
                return
            status = int(parts[1])
            method = self.method_of() if self.method_of else "GET"
        self.head = (method, target, status, headers, self.offset)
        self.body = []
        self.body_size = 0
        self.damaged = None
        if self.requests:
            no_body = False
        else:
            no_body = method == "HEAD" or status < 200 or status in (204, 304)
        if no_body:
            self.state = _HEAD
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self.state = _CHUNK_SIZE
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit() or int(length) > _MAX_BODY:
                self._lose(f"a Content-Length of {length[:20]!r}", out)
                return
            self.remaining = int(length)
            self.body_size = self.remaining
            self.state = _BODY if self.remaining else _HEAD
        elif self.requests:
            self.state = _HEAD
        else:
            self.state = _UNTIL_CLOSE

    def _complete(self, time: float, out: list[HttpMessage | Problem]) -> None:
        assert self.head is not None
        method, target, status, headers, offset = self.head
        body = b"".join(self.body)
        damaged = self.damaged
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "x-gzip", "deflate") and not damaged:
            try:
                body = _inflate(body, encoding)
            except zlib.error as exc:
                damaged = f"its {encoding} body does not inflate ({exc})"
        out.append(HttpMessage(method, target, status, headers, body, damaged, offset, time))
        self.head = None
        self.body = []
        self.damaged = None
        self.state = _HEAD
        if self.requests and headers.get("upgrade", "").lower() == "websocket":
            self.state = _PAUSED  # what follows is frames if the answer is a 101
        elif status == 101:
            self.state = _PAUSED  # the connection is no longer HTTP


def _inflate(body: bytes, encoding: str) -> bytes:
    if encoding != "deflate":
        return zlib.decompress(body, 31)  # gzip
    try:
        return zlib.decompress(body)  # RFC 9110: deflate is the zlib format...
    except zlib.error:
        return zlib.decompress(body, -15)  # ...which some servers send raw


@dataclass(slots=True)
class Deflate:
    """permessage-deflate (RFC 7692) for one direction: ``takeover`` keeps the LZ77 window
    from one message to the next."""

    takeover: bool
    inflater: zlib._Decompress | None = None
    broken: bool = False  # a damaged message broke the shared window

    def inflate(self, data: bytes) -> bytes:
        if self.inflater is None or not self.takeover:
            self.inflater = zlib.decompressobj(-15)
        return self.inflater.decompress(data + b"\x00\x00\xff\xff")


def deflate_of(extensions: str) -> tuple[Deflate, Deflate] | None:
    """The (client to server, server to client) inflaters a 101's
    ``Sec-WebSocket-Extensions`` agreed on; ``None`` without permessage-deflate."""
    for offer in extensions.split(","):
        parameters = [part.strip().lower() for part in offer.split(";")]
        if parameters[0] == "permessage-deflate":
            return (
                Deflate("client_no_context_takeover" not in parameters),
                Deflate("server_no_context_takeover" not in parameters),
            )
    return None


class WebSocketParser:
    """One direction of a WebSocket (RFC 6455 §5): frames to messages, unmasked,
    reassembled from fragments, inflated; control frames are returned as they come."""

    def __init__(self, deflate: Deflate | None, buffer: bytes = b"", offset: int = 0) -> None:
        self.deflate = deflate
        self.buffer = bytearray(buffer)
        self.offset = offset
        self.lost = False
        # the frame being read
        self.header: tuple[int, int, bytes | None, int] | None = None  # b0, length, mask, offset
        self.payload: list[bytes] = []
        self.remaining = 0
        self.frame_damaged: str | None = None
        # the message being reassembled from fragments
        self.message: list[bytes] = []
        self.message_opcode = 0
        self.message_compressed = False
        self.message_offset = 0
        self.message_damaged: str | None = None
        self.masked = True

    def feed(self, chunk: bytes | Gap, time: float) -> list[WsMessage | Problem]:
        out: list[WsMessage | Problem] = []
        if self.lost:
            return out
        if isinstance(chunk, Gap):
            if self.header is not None and not self.buffer and chunk.length <= self.remaining:
                self.remaining -= chunk.length
                self.offset += chunk.length
                self.frame_damaged = self.frame_damaged or (
                    f"{chunk.length} bytes at offset {chunk.offset} {chunk.why}"
                )
                self.payload.append(bytes(chunk.length))
                if self.remaining == 0:
                    self._frame_done(time, out)
                return out
            out.append(
                Problem(
                    f"{chunk.length} bytes missing at offset {chunk.offset} ({chunk.why}) where "
                    "a WebSocket frame header was: the frames after it cannot be told apart",
                    chunk.offset,
                )
            )
            self.lost = True
            return out
        if self.buffer:
            chunk = bytes(self.buffer) + chunk
            self.buffer.clear()
        self._run(chunk, time, out)
        return out

    def finish(self) -> list[WsMessage | Problem]:
        if self.lost or (not self.buffer and self.header is None and not self.message):
            return []
        return [Problem("the stream ends inside a WebSocket message", self.message_offset)]

    def _run(self, data: bytes, time: float, out: list[WsMessage | Problem]) -> None:
        """Read ``data`` from its start; what does not make a whole header waits."""
        position = 0
        end = len(data)
        base = self.offset
        while position < end:
            if self.header is None:
                if end - position < 2:
                    break
                b0 = data[position]
                b1 = data[position + 1]
                length = b1 & 0x7F
                start = position + 2
                if length == 126:
                    if end < start + 2:
                        break
                    length = int.from_bytes(data[start : start + 2], "big")
                    start += 2
                elif length == 127:
                    if end < start + 8:
                        break
                    length = int.from_bytes(data[start : start + 8], "big")
                    start += 8
                    if length > _MAX_BODY:
                        self._lose(f"a frame length of {length} bytes", base + position, out)
                        return
                mask = None
                if b1 & 0x80:
                    if end < start + 4:
                        break
                    mask = data[start : start + 4]
                    start += 4
                opcode = b0 & 0x0F
                if opcode not in (0, 1, 2, 8, 9, 10):
                    self._lose(f"a frame with the reserved opcode {opcode}", base + position, out)
                    return
                stop = start + length
                if stop <= end and b0 & 0xC0 == 0x80 and 0 < opcode < 3 and not self.message:
                    # the common case: a whole, final, uncompressed data frame
                    payload = data[start:stop]
                    if mask is not None and payload:
                        payload = unmask(payload, mask)
                    out.append(WsMessage(opcode, payload, None, base + position, time, bool(mask)))
                    position = stop
                    continue
                self.header = (b0, length, mask, base + position)
                self.remaining = length
                self.payload = []
                self.frame_damaged = None
                position = start
            take = min(self.remaining, end - position)
            if take:
                self.payload.append(data[position : position + take])
                position += take
                self.remaining -= take
            if self.remaining:
                break
            self._frame_done(time, out)
        self.offset = base + position
        if position < end:
            self.buffer += data[position:]

    def _lose(self, why: str, offset: int, out: list[WsMessage | Problem]) -> None:
        out.append(Problem(f"{why}: the WebSocket framing is lost from here", offset))
        self.lost = True

    def _frame_done(self, time: float, out: list[WsMessage | Problem]) -> None:
        assert self.header is not None
        b0, _length, mask, offset = self.header
        self.header = None
        payload = b"".join(self.payload) if len(self.payload) != 1 else self.payload[0]
        self.payload = []
        if mask is not None and payload:
            payload = unmask(payload, mask)
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode >= 8:  # control frames may come between fragments (RFC 6455 §5.4)
            out.append(WsMessage(opcode, payload, self.frame_damaged, offset, time, bool(mask)))
            return
        if opcode:
            if self.message:
                out.append(Problem("a new message before the last one's final fragment", offset))
            self.message = []
            self.message_opcode = opcode
            self.message_compressed = bool(b0 & 0x40)
            self.message_offset = offset
            self.message_damaged = None
            self.masked = mask is not None
        elif not self.message_opcode:
            out.append(Problem("a continuation frame without a message to continue", offset))
            return
        self.message.append(payload)
        self.message_damaged = self.message_damaged or self.frame_damaged
        if not fin:
            return
        data = b"".join(self.message)
        self.message = []
        opcode, self.message_opcode = self.message_opcode, 0
        damaged = self.message_damaged
        if self.message_compressed:
            data, damaged = self._inflate(data, damaged)
        out.append(WsMessage(opcode, data, damaged, self.message_offset, time, self.masked))

    def _inflate(self, data: bytes, damaged: str | None) -> tuple[bytes, str | None]:
        deflate = self.deflate
        if deflate is None:
            return data, "compressed (RSV1) without permessage-deflate agreed"
        if deflate.broken:
            return data, "compressed with a window that an earlier damaged message broke"
        if damaged:
            deflate.broken = deflate.takeover
            deflate.inflater = None
            return data, damaged
        try:
            return deflate.inflate(data), None
        except zlib.error as exc:
            deflate.broken = deflate.takeover
            deflate.inflater = None
            return data, f"it does not inflate ({exc})"


def unmask(data: bytes, mask: bytes) -> bytes:
    """RFC 6455 §5.3, as one big-integer XOR (much faster than a byte loop in Python)."""
    size = len(data)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
