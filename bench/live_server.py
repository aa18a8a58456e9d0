"""The blaster: a minimal Engine.IO 4 / Socket.IO 5 server that floods one client with events.

    python bench/live_server.py '{"events": 100000, "batch": 16}'   -> prints {"port": N}

It speaks just enough of the protocol for a client to connect to ``/`` (the polling
handshake or a WebSocket one, the ``/`` CONNECT and its answer), then sends ``events``
pre-encoded ``42["tick",{...}]`` packets as fast as the transport takes them: over
WebSocket, every frame built before the client connects and written at once; over
long-polling, ``batch`` packets per GET response (each answer built beforehand, head
included: a GET costs one write). The server's own work per event is therefore nil: the
client is what limits. For each session it prints
one JSON line on stdout: when the client's CONNECT was answered and when the client said
it was done (DISCONNECT, close packet or frame, or end of connection), from which the
benchmark takes the client's steady-state rate. Python (asyncio protocols, no framework)
rather than Node: pre-encoded bytes need no JIT, and the frames are written straight from
memory by the event loop. Binds 127.0.0.1 only. Not a Socket.IO server for anything else:
no heartbeat (pingInterval is long), no upgrade, no binary, no namespaces but ``/``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field

# Long enough that no heartbeat is due during a run (python-socketio's slowest runs last
# tens of seconds); a client that waits for pings would otherwise stall the measure.
PING_INTERVAL = 300_000
PING_TIMEOUT = 300_000
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


def tick(n: int) -> str:
    """The n-th event: small, as price ticks are; the same bytes for every client."""
    price = f"{100 + n % 997 / 100:.2f}"
    return f'42["tick",{{"n":{n},"sym":"AAPL","px":{price},"up":{str(n % 2 == 0).lower()}}}]'


def http_answer(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def ws_frame(text: str) -> bytes:
    """An unmasked text frame (RFC 6455 §5.2: servers do not mask)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 65536:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + data


@dataclass
class Session:
    sid: str
    transport: str
    connected: float | None = None  # when the CONNECT answer went out
    done: float | None = None  # when the client said it was done
    sent: int = 0  # events
    responses: int = 0  # polling GET responses carrying events
    answers: deque[bytes] = field(default_factory=deque)  # polling: what is left to send
    held: Connection | None = None  # the connection whose GET waits for something to send


class Blaster:
    def __init__(self, events: int, batch: int) -> None:
        self.events = events
        self.batch = batch
        packets = [tick(n) for n in range(events)]
        self.ws_blob = b"".join(ws_frame(p) for p in packets)
        # Whole HTTP answers, head included: a poll costs the server one write.
        self.poll_answers = [
            http_answer("200 OK", "\x1e".join(packets[i : i + batch]).encode())
            for i in range(0, events, batch)
        ]
        self.sessions: dict[str, Session] = {}
        self.ids = itertools.count(1)

    def open_packet(self, sid: str) -> str:
        handshake = {
            "sid": sid,
            "upgrades": [],
            "pingInterval": PING_INTERVAL,
            "pingTimeout": PING_TIMEOUT,
            "maxPayload": 1_000_000,
        }
        return "0" + json.dumps(handshake, separators=(",", ":"))

    def new_session(self, transport: str) -> Session:
        session = Session(f"blaster{next(self.ids):06d}", transport)
        self.sessions[session.sid] = session
        return session

    def finish(self, session: Session, how: str) -> None:
        if session.done is not None:
            return
        session.done = time.perf_counter()
        self.release(session)
        self.sessions.pop(session.sid, None)
        record = {
            "sid": session.sid,
            "transport": session.transport,
            "batch": self.batch if session.transport == "polling" else None,
            "sent": session.sent,
            "responses": session.responses,
            "seconds": (session.done - session.connected) if session.connected else None,
            "end": how,
        }
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()

    def release(self, session: Session) -> None:
        """Answer the GET held for ``session``, if there is one."""
        connection, session.held = session.held, None
        if connection is not None:
            connection.answer_poll(session)

    def packets_in(self, session: Session, body: str) -> None:
        """What a client sent (a POST body, or one WebSocket message)."""
        for packet in body.split("\x1e"):
            if packet.startswith("40") and session.connected is None:
                session.connected = time.perf_counter()
                session.answers = deque(self.poll_answers)
                connect = f'40{{"sid":"{session.sid}-io"}}'.encode()
                session.answers.appendleft(http_answer("200 OK", connect))
                self.release(session)
            elif packet.startswith("41"):
                self.finish(session, "disconnect")
            elif packet == "1":
                self.finish(session, "close packet")


class Connection(asyncio.Protocol):
    """One TCP connection: HTTP/1.1 requests (keep-alive), or a WebSocket after a 101."""

    def __init__(self, blaster: Blaster) -> None:
        self.blaster = blaster
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.websocket: Session | None = None
        self.busy = False  # a polling GET is held: pipelined requests wait
        self.closing = False  # the request asked for Connection: close
        self.fragments: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.websocket is not None:
            self.blaster.finish(self.websocket, "end of connection")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.websocket is not None:
            self.read_frames()
        elif not self.busy:
            self.read_requests()

    # --- HTTP ------------------------------------------------------------------------------

    def read_requests(self) -> None:
        while not self.busy and self.websocket is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, target, _ = head[0].split(" ", 2)
            self.closing = headers.get("connection", "").lower() == "close"
            self.request(method, target, headers, body)

    def respond(self, status: str, body: bytes) -> None:
        self.send(http_answer(status, body))

    def send(self, answer: bytes) -> None:
        assert self.transport is not None
        self.transport.write(answer)
        if self.closing:  # the client asked (Node's XMLHttpRequest does, every request)
            self.transport.close()

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        path, _, query_string = target.partition("?")
        # The parameters are plain words (EIO, transport, sid, t): nothing to unquote.
        query = dict(pair.partition("=")[::2] for pair in query_string.split("&"))
        blaster = self.blaster
        if not path.startswith("/socket.io/") or query.get("EIO") != "4":
            self.respond("404 Not Found", b"Not Found")
            return
        if query.get("transport") == "websocket":
            if "websocket" not in headers.get("upgrade", "").lower() or "sid" in query:
                self.respond("400 Bad Request", b"this server does not upgrade")
                return
            self.accept_websocket(headers)
            return
        session = blaster.sessions.get(query.get("sid", ""))
        if "sid" not in query:
            if method != "GET":
                self.respond("400 Bad Request", b"no session")
                return
            session = blaster.new_session("polling")
            self.respond("200 OK", blaster.open_packet(session.sid).encode())
        elif session is None:
            self.respond("400 Bad Request", b'{"code":1,"message":"Session ID unknown"}')
        elif method == "POST":
            self.respond("200 OK", b"ok")
            blaster.packets_in(session, body.decode())
        elif session.answers or session.done is not None:
            self.answer_poll(session)  # at once: a task per GET would be the server's cost
        else:  # nothing to send yet (the CONNECT has not come): held
            self.busy = True
            session.held = self

    def answer_poll(self, session: Session) -> None:
        """Answer a GET: the next body, or a noop once the session is over."""
        if session.answers:
            answer = session.answers.popleft()
            if len(session.answers) < len(self.blaster.poll_answers):  # events, not CONNECT
                session.sent += answer.count(b"\x1e") + 1
                session.responses += 1
        else:
            answer = http_answer("200 OK", b"6")  # noop: the session is over
        if self.transport is not None and not self.transport.is_closing():
            self.send(answer)
        if self.busy:  # it was held: requests that came meanwhile are read now
            self.busy = False
            self.read_requests()

    # --- WebSocket -------------------------------------------------------------------------

    def accept_websocket(self, headers: dict[str, str]) -> None:
        assert self.transport is not None
        key = headers.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.transport.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        session = self.blaster.new_session("websocket")
        self.websocket = session
        self.transport.write(ws_frame(self.blaster.open_packet(session.sid)))
        if self.buffer:
            self.read_frames()

    def read_frames(self) -> None:
        """Client frames (masked, RFC 6455 §5.3); a text message is Engine.IO packets."""
        session = self.websocket
        assert session is not None and self.transport is not None
        while len(self.buffer) >= 2:
            first, second = self.buffer[0], self.buffer[1]
            size, offset = second & 0x7F, 2
            if size == 126:
                size, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif size == 127:
                size, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            masked = second & 0x80
            end = offset + (4 if masked else 0) + size
            if len(self.buffer) < end:
                return
            payload = self.buffer[end - size : end]
            if masked:
                mask = self.buffer[offset : offset + 4]
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            self.buffer = self.buffer[end:]
            opcode = first & 0x0F
            if opcode == 0x8:  # close: answer it and end
                self.blaster.finish(session, "close frame")
                self.transport.write(bytes((0x88, len(payload))) + payload)
                self.transport.close()
                return
            if opcode in (0x1, 0x0):
                self.fragments.append(payload)
                if first & 0x80:  # FIN
                    text = b"".join(self.fragments).decode()
                    self.fragments = []
                    self.websocket_message(session, text)

    def websocket_message(self, session: Session, text: str) -> None:
        assert self.transport is not None
        if text.startswith("40") and session.connected is None:
            session.connected = time.perf_counter()
            session.sent = self.blaster.events
            self.transport.write(ws_frame(f'40{{"sid":"{session.sid}-io"}}') + self.blaster.ws_blob)
            return
        self.blaster.packets_in(session, text)


async def main() -> None:
    options = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
    blaster = Blaster(options.get("events", 100_000), options.get("batch", 16))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Connection(blaster), "127.0.0.1", options.get("port", 0)
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
