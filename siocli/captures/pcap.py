"""Packet captures (pcap, pcapng: tcpdump, Wireshark): the Engine.IO traffic in them.

Frames (:mod:`.pcapfile`) become TCP segments and, per connection and direction, ordered
byte streams (:mod:`.tcp`); those are read as HTTP/1.1 exchanges and, after a ``101``,
WebSocket messages (:mod:`.streams`). Engine.IO requests (``EIO`` and ``transport`` in the
query) give wire messages as a HAR's entries do: a POST's body client to server, a GET's
answer server to client, keyed by ``sid`` so that the polling connections and the WebSocket
of one session merge into one; the handshake's answer is keyed by its connection until the
session's ``open`` packet names it. Messages come out when their last byte was captured:
in capture time order.

Direction is who opened the TCP connection (its SYN), ``server_port`` when the capture
missed that, or who spoke HTTP which way. A connection is dropped once both directions
have ended: a capture of any size decodes in flat memory.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import IO

from ..protocol.engineio import decode_packet, v3_framed
from ..protocol.errors import DecodeError
from ..protocol.request import CacheBusters, RequestQuery
from ..protocol.socketio import unasked_connect
from ..protocol.types import Direction, Finding, Severity, Transport
from ..protocol.wordings import describe_error_answer
from ..wire import InputProblem, WireMessage
from .pcapfile import CaptureError, read_frames
from .streams import (
    Deflate,
    HttpMessage,
    HttpParser,
    Problem,
    WebSocketParser,
    WsMessage,
    deflate_of,
    looks_like_request,
)
from .tcp import ACK, FIN, RST, SYN, Gap, Segment, Stream, segment_of

__all__ = ["read_pcap"]

C2S, S2C = Direction.C2S, Direction.S2C
_new = tuple.__new__
POLLING, WEBSOCKET = Transport.POLLING, Transport.WEBSOCKET
_Out = list[WireMessage | InputProblem]
_CLOSE_CODES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status",
    1006: "abnormal closure",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1011: "internal error",
}


def read_pcap(
    stream: IO[bytes], name: str, *, eio: int | None = None, server_port: int | None = None
) -> Iterator[WireMessage | InputProblem]:
    """The wire messages of a capture file, in capture time order."""
    capture = _Capture(name, eio, server_port)
    frames = 0
    time = 0.0
    try:
        for frame in read_frames(stream):
            frames += 1
            time = frame.time
            segment = segment_of(frame.linktype, frame.data)
            if segment is None:
                continue
            if isinstance(segment, str):
                capture.unread(segment)
                continue
            out = capture.segment(segment, time)
            if out:
                yield from out
    except CaptureError as exc:
        yield InputProblem(
            f"{name}: {exc.message} (file offset {exc.offset})"
            + (f"; the {frames} frame(s) before it are decoded" if frames else ""),
            f"{name} offset {exc.offset}",
            exc.offset,
            fatal=frames == 0,
        )
    yield from capture.finish(time)
    if frames and not capture.connections_seen:
        yield InputProblem(f"{name}: no TCP connection in {frames} frame(s)", name, fatal=True)


class _Capture:
    def __init__(self, name: str, eio: int | None, server_port: int | None) -> None:
        self.name = name
        self.eio = eio
        self.server_port = server_port
        self.connections: dict[tuple[tuple[bytes, int], tuple[bytes, int]], _Connection] = {}
        self.connections_seen = 0
        self.unread_said: dict[str, int] = {}
        self.requests = 0  # Engine.IO polling requests so far: the http.t-reused note's n°
        self.cache_busters = CacheBusters()

    def unread(self, reason: str) -> None:
        """A frame that should hold TCP but cannot be read: counted, said at the end."""
        self.unread_said[reason] = self.unread_said.get(reason, 0) + 1

    def segment(self, segment: Segment, time: float) -> _Out:
        key = (segment.source, segment.destination)
        connection = self.connections.get(key)
        flags = segment.flags
        if flags & SYN and not flags & ACK and connection is not None and connection.used:
            self._drop(connection, time)  # the port pair is used again: a new connection
            connection = None
        if connection is None:
            if not flags & SYN and not segment.payload and not segment.missing:
                return []  # an ACK, FIN or RST of a connection gone (or never seen)
            self.connections_seen += 1
            connection = _Connection(self, self.connections_seen, segment)
            self.connections[key] = connection
            self.connections[(segment.destination, segment.source)] = connection
        out = connection.segment(segment, time)
        if connection.ended:
            out.extend(self._drop(connection, time))
        return out

    def _drop(self, connection: _Connection, time: float) -> _Out:
        ends = (connection.client, connection.server)
        for key in ((ends[0], ends[1]), (ends[1], ends[0])):
            if self.connections.get(key) is connection:
                del self.connections[key]
        return connection.finish(time)

    def finish(self, time: float) -> Iterator[WireMessage | InputProblem]:
        for connection in list(dict.fromkeys(self.connections.values())):
            yield from self._drop(connection, time)
        for reason, count in self.unread_said.items():
            yield InputProblem(
                f"{count} frame(s) not read: {reason}",
                self.name,
                severity=Severity.WARNING,
                code="capture.frames-not-read",
            )


def _endpoint(end: tuple[bytes, int]) -> str:
    address, port = end
    text = str(ipaddress.ip_address(address))
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


class _Connection:
    """One TCP connection: who is the client, its two streams, and what they carry."""

    def __init__(self, capture: _Capture, number: int, first: Segment) -> None:
        self.capture = capture
        self.number = number
        self.where = f"{capture.name} connection {number}"
        self.used = False
        self.ended = False
        self.kind = ""  # "http", "websocket", "tls", "other"; "" until the first byte
        self.midstream = not first.flags & SYN
        source, destination = first.source, first.destination
        server_port = capture.server_port
        if first.flags & SYN:  # the SYN's sender opens it; a SYN-ACK's sender answers
            client_first = not first.flags & ACK
        elif server_port is not None and server_port in (source[1], destination[1]):
            client_first = destination[1] == server_port
        else:
            client_first = looks_like_request(first.payload) or (
                not first.payload.startswith(b"HTTP/") and source[1] > destination[1]
            )
        self.client, self.server = (source, destination) if client_first else (destination, source)
        self.streams = {self.client: Stream(), self.server: Stream()}
        self.requests: list[tuple[str, RequestQuery, str]] = []  # method, query, target
        self.session: str | None = None  # the WebSocket's session key
        self.eio: int | None = None
        self.engineio = False  # the WebSocket is an Engine.IO one
        self.deciding: list[WireMessage] | None = None  # held until the revision is known
        self.c2s: HttpParser | WebSocketParser = HttpParser(True)
        self.s2c: HttpParser | WebSocketParser = HttpParser(False, self._method)

    def _method(self) -> str:
        return self.requests[0][0] if self.requests else "GET"

    def describe(self) -> str:
        return f"{_endpoint(self.client)} -> {_endpoint(self.server)}"

    def segment(self, segment: Segment, time: float) -> _Out:
        out: _Out = []
        sender = segment.source
        outgoing = self.streams[sender]
        incoming = self.streams[segment.destination]
        flags = segment.flags
        if flags & SYN:
            outgoing.syn(segment.seq)
        if flags & ACK and segment.ack != incoming.next and incoming.next is not None:
            for chunk in incoming.acked(segment.ack):
                self._chunk(segment.destination == self.client, chunk, time, out)
        payload = segment.payload
        if payload or segment.missing:
            self.used = True
            seq = (segment.seq + 1) % (1 << 32) if flags & SYN else segment.seq
            for chunk in outgoing.add(seq, payload, segment.missing):
                self._chunk(sender == self.client, chunk, time, out)
        if flags & FIN:
            outgoing.syn(segment.seq - 1)  # a FIN-only connection start: it ends at once
            outgoing.fin = (segment.seq + len(payload) + segment.missing) % (1 << 32)
        if flags & RST or (outgoing.fin is not None and outgoing.complete and incoming.complete):
            self.ended = True
        return out

    def finish(self, time: float) -> _Out:
        out: _Out = []
        for sender in (self.client, self.server):
            for chunk in self.streams[sender].finish():
                self._chunk(sender == self.client, chunk, time, out)
        for from_client in (True, False):
            parser = self.c2s if from_client else self.s2c
            if isinstance(parser, HttpParser):
                self._take(from_client, parser.finish(time), out)
            else:
                self._take(from_client, parser.finish(), out)
        if self.deciding is not None:
            self._decided(False, out)
        return out

    # --- bytes in order ------------------------------------------------------------------

    def _chunk(self, from_client: bool, chunk: bytes | Gap, time: float, out: _Out) -> None:
        if not self.kind:
            if isinstance(chunk, Gap):
                return  # nothing known yet: the next bytes decide
            self._classify(from_client, chunk, out)
        if self.kind in ("tls", "other"):
            return
        parser = self.c2s if from_client else self.s2c
        self._take(from_client, parser.feed(chunk, time), out)
        if from_client or parser is self.s2c or not isinstance(parser, HttpParser):
            return
        if isinstance(self.s2c, WebSocketParser):  # a 101: the rest is WebSocket frames
            rest = bytes(parser.buffer)
            parser.buffer = bytearray()
            self._take(False, self.s2c.feed(rest, time), out)
            self._take(True, self.c2s.feed(b"", time), out)

    def _take(
        self,
        from_client: bool,
        items: list[HttpMessage | Problem] | list[WsMessage | Problem],
        out: _Out,
    ) -> None:
        for item in items:
            if isinstance(item, HttpMessage) or (
                isinstance(item, Problem) and self.kind != "websocket"
            ):
                self._http(from_client, item, out)
            else:
                self._websocket(from_client, item, out)

    def _classify(self, from_client: bool, data: bytes, out: _Out) -> None:
        if data[:1] == b"\x16" and data[1:2] == b"\x03":  # a TLS handshake record
            self.kind = "tls"
            out.append(
                InputProblem(
                    f"connection {self.number} ({self.describe()}) is encrypted (TLS): siocli "
                    "does not decrypt it; capture between the TLS terminator and the "
                    "Socket.IO server, or put `siocli proxy` in front of the server",
                    self.where,
                    severity=Severity.WARNING,
                    code="capture.tls",
                )
            )
            return
        if looks_like_request(data) or data.startswith(b"HTTP/"):
            self.kind = "http"
            if self.midstream:  # each side starts at its first request or status line
                for parser in (self.c2s, self.s2c):
                    if isinstance(parser, HttpParser):
                        parser.resync()
            return
        if self.midstream:  # a WebSocket whose handshake the capture missed, perhaps
            self.kind = "websocket"
            self.engineio = True
            self.session = f"#{self.where}"
            self.c2s = WebSocketParser(None)
            self.s2c = WebSocketParser(None)
            out.append(
                InputProblem(
                    f"the capture starts inside connection {self.number} ({self.describe()}): "
                    "its bytes are read as WebSocket frames; the handshake (session id, "
                    "compression) is not in the capture"
                    + ("" if self.capture.server_port else "; --server-port names the server"),
                    self.where,
                    severity=Severity.INFO,
                    code="capture.midstream",
                )
            )
            return
        self.kind = "other"

    # --- HTTP ----------------------------------------------------------------------------

    def _unreadable(self, from_client: bool, offset: int, message: str) -> InputProblem:
        """What could not be read, and where: the connection, its direction, the offset
        in that direction's byte stream."""
        side = "client to server" if from_client else "server to client"
        websocket = "WebSocket " if self.kind == "websocket" else ""
        return InputProblem(
            f"connection {self.number} ({self.describe()}), {websocket}{side} at offset "
            f"{offset}: {message}",
            self.where,
            offset,
        )

    def _http(self, from_client: bool, item: HttpMessage | Problem, out: _Out) -> None:
        if isinstance(item, Problem):
            out.append(self._unreadable(from_client, item.offset, item.message))
            return
        if from_client:
            self._request(item, out)
        else:
            self._response(item, out)

    def _request(self, request: HttpMessage, out: _Out) -> None:
        query = RequestQuery.of(request.target)
        self.requests.append((request.method, query, request.target))
        if query.transport != "polling" or query.eio is None:
            return
        capture = self.capture
        capture.requests += 1
        reused = capture.cache_busters.reused(query.t, capture.requests)
        if reused is not None:
            out.append(
                InputProblem(reused.message, self.where, severity=reused.severity, code=reused.code)
            )
        if request.method != "POST":
            return
        if request.damaged:
            out.append(self._damaged("the body of the POST", request, True))
            return
        out.append(
            WireMessage(
                _body(request),
                C2S,
                POLLING,
                request.time,
                self._revision(query),
                query.sid or f"#{self.where}",
                f"{self.where} offset {request.offset}",
            )
        )

    def _response(self, response: HttpMessage, out: _Out) -> None:
        if 100 <= response.status < 200 and response.status != 101:
            return  # an interim answer (100 Continue): the final one follows
        if not self.requests:
            out.append(
                InputProblem(
                    f"connection {self.number}: an HTTP {response.status} response to a request "
                    "the capture does not hold",
                    self.where,
                    response.offset,
                    severity=Severity.INFO,
                    code="capture.midstream",
                )
            )
            return
        method, query, target = self.requests.pop(0)
        if isinstance(self.c2s, HttpParser):
            self.c2s.resume()
        if response.status == 101:
            self._upgrade(response, query)
            return
        if not query.engineio:
            return
        if response.status >= 400:
            answer = describe_error_answer(
                response.status, response.body.decode("utf-8", "replace").strip()
            )
            if response.damaged:
                answer += f" ({response.damaged})"
            out.append(
                InputProblem(
                    f"the {method} {target} was answered {answer}",
                    f"{self.where} offset {response.offset}",
                    response.offset,
                    code="http.error",
                )
            )
            return
        if method != "GET" or query.transport != "polling" or response.status != 200:
            return
        if response.damaged:
            out.append(self._damaged("the answer to the GET", response, False))
            return
        sid = query.sid
        data = _body(response)
        revision = self._revision(query)
        notes: tuple[Finding, ...] = ()
        if sid is None and revision == 4 and self.capture.eio is None and v3_framed(data):
            # a Socket.IO 2.x server answers EIO=4 in its own revision; clients that
            # follow it (siocli --eio auto) ask EIO=3 from then on
            revision = 3
            notes = (
                Finding(
                    Severity.INFO,
                    "capture.eio-answered-3",
                    "the handshake asked EIO=4 and was answered in Engine.IO 3 framing (a "
                    "Socket.IO 2.x server): decoded as Engine.IO 3",
                ),
            )
        out.append(
            WireMessage(
                data,
                S2C,
                POLLING,
                response.time,
                revision,
                sid or f"#{self.where}",
                f"{self.where} offset {response.offset}",
                notes,
            )
        )

    def _damaged(self, what: str, message: HttpMessage, from_client: bool) -> InputProblem:
        return self._unreadable(
            from_client, message.offset, f"{what} cannot be decoded: {message.damaged}"
        )

    def _revision(self, query: RequestQuery) -> int | None:
        return self.capture.eio if self.capture.eio is not None else query.revision

    def _upgrade(self, response: HttpMessage, query: RequestQuery) -> None:
        self.kind = "websocket"
        engineio = query.engineio and query.transport == "websocket"
        self.engineio = engineio
        self.eio = self._revision(query)
        self.session = query.sid or f"#{self.where}"
        if engineio and query.sid is None and self.eio == 4 and self.capture.eio is None:
            self.deciding = []  # perhaps a Socket.IO 2.x server: its second message tells
        deflate = deflate_of(response.headers.get("sec-websocket-extensions", ""))
        client_deflate: Deflate | None = deflate[0] if deflate else None
        server_deflate: Deflate | None = deflate[1] if deflate else None
        old = self.c2s
        assert isinstance(old, HttpParser)
        self.c2s = WebSocketParser(client_deflate, bytes(old.buffer), old.offset)
        old_s2c = self.s2c
        assert isinstance(old_s2c, HttpParser)
        self.s2c = WebSocketParser(server_deflate, b"", old_s2c.offset)
        # the server's bytes after the 101, and the client's sent before it was read, are
        # read by _chunk

    # --- WebSocket -----------------------------------------------------------------------

    def _websocket(self, from_client: bool, item: WsMessage | Problem, out: _Out) -> None:
        if isinstance(item, Problem):
            out.append(self._unreadable(from_client, item.offset, item.message))
            return
        if not self.engineio:
            return
        where = f"{self.where} offset {item.offset}"
        if item.damaged:
            message = f"the message cannot be decoded: {item.damaged}"
            out.append(self._unreadable(from_client, item.offset, message))
            return
        opcode = item.opcode
        if opcode == 8:
            code = int.from_bytes(item.data[:2], "big") if len(item.data) >= 2 else 1005
            reason = item.data[2:].decode("utf-8", "replace")
            who = "client" if from_client else "server"
            out.append(
                InputProblem(
                    f"the {who} closed the WebSocket: {code} "
                    f"({_CLOSE_CODES.get(code, 'application code')})"
                    + (f", reason {reason!r}" if reason else ""),
                    where,
                    item.offset,
                    severity=Severity.INFO,
                    code="websocket.close",
                )
            )
            return
        if opcode > 8:
            return  # WebSocket ping/pong: below Engine.IO, which has its own heartbeat
        if item.masked != from_client:
            side = "client to server" if from_client else "server to client"
            out.append(
                InputProblem(
                    f"a {'un' if from_client else ''}masked frame {side} (RFC 6455 §5.1: a "
                    "client masks every frame, a server none)",
                    where,
                    item.offset,
                    code="websocket.masking",
                )
            )
        data: str | bytes = item.data
        if opcode == 1:
            data = item.data.decode("utf-8", "replace")
        direction = C2S if from_client else S2C
        wire = _new(  # WireMessage(...) costs 4x more: see siocli.wire.WireMessage
            WireMessage,
            (data, direction, WEBSOCKET, item.time, self.eio, self.session, where, (), None),
        )
        if self.deciding is None:
            out.append(wire)
            return
        self.deciding.append(wire)
        answers = [m for m in self.deciding if m.direction is S2C]
        if len(answers) >= 2 or len(self.deciding) > 8:
            self._decided(len(answers) >= 2 and _unasked_connect(answers[1].data), out)

    def _decided(self, v3: bool, out: _Out) -> None:
        """A WebSocket-only session that asked EIO=4 is Engine.IO 3 if the server grants
        '/' unasked right after the handshake: how a Socket.IO 2.x server, which ignores
        EIO=4, behaves (and how siocli's client tells it, with --eio auto)."""
        held, self.deciding = self.deciding or [], None
        if not v3:
            out.extend(held)
            return
        self.eio = 3
        note = Finding(
            Severity.INFO,
            "capture.eio-answered-3",
            "the WebSocket asked EIO=4 and the server granted '/' unasked, as Socket.IO 2.x "
            "servers do: decoded as Engine.IO 3",
        )
        for number, message in enumerate(held):
            notes = (note,) if number == 0 else ()
            out.append(message._replace(eio=3, notes=notes))


def _body(message: HttpMessage) -> str | bytes:
    """A polling body: bytes for Engine.IO 3's binary payloads, else text."""
    if "octet-stream" in message.headers.get("content-type", ""):
        return message.body
    return message.body.decode("utf-8", "replace")


def _unasked_connect(data: str | bytes) -> bool:
    """The WebSocket message is Socket.IO 2.x's CONNECT to '/' (``40``)."""
    try:
        return unasked_connect(decode_packet(data, 4))
    except DecodeError:
        return False
