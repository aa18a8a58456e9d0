"""The Engine.IO server, sans I/O: many sessions, polling and WebSocket, revisions 3 and 4.

A front end (``siocli.serve``) parses HTTP and WebSocket, and feeds :class:`EngineServer`:
``receive_request`` for each HTTP request, ``receive_ws_*`` for each WebSocket connection's
life, ``receive_timeout`` when ``next_deadline`` comes. The server answers through
``data_to_send`` (responses, frames, closes) and reports what the sessions did through
``events_received`` (opened, message, closed). The layer above sends with :meth:`send`.

Call order after every input: ``events_received()`` first (the layer above may answer at
once: a Socket.IO 2.x server's implicit ``40`` then travels in the handshake response, as
the reference does), then ``data_to_send()``.

The HTTP answers follow the reference server (engine.io lib/server.ts, ``verify`` and
``Server.errors``): the order of the checks,
the codes and messages of the JSON error bodies, 400/413/500 statuses.
"""

from __future__ import annotations

import heapq
import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from . import engineio
from .errors import DecodeError
from .states import EngineState, Event, step
from .types import Direction, EnginePacket, EngineType, Handshake, Transport
from .wordings import EngineError

__all__ = [
    "EngineServer",
    "HttpAbort",
    "HttpRequest",
    "HttpResponse",
    "MessageReceived",
    "SessionClosed",
    "SessionOpened",
    "SessionUpgraded",
    "WireSeen",
    "WsAccept",
    "WsClose",
    "WsReject",
    "WsSend",
]

# --- values in and out ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request on the handshake path; ``id`` names it for the response."""

    id: int
    method: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    upgrade: bool = False  # a WebSocket upgrade request (answered with WsAccept/WsReject)
    # a POST whose body comes next, in receive_body calls, then receive_body_end (as it
    # is received: a second POST meanwhile, or a body over maxPayload, is answered at once)
    body_follows: bool = False


@dataclass(frozen=True, slots=True)
class HttpResponse:
    request: int
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HttpAbort:
    """Drop the connection of request ``request`` with no answer (the reference destroys
    the POST it was receiving when the session ends)."""

    request: int


@dataclass(frozen=True, slots=True)
class WsAccept:
    """Accept the upgrade request ``request``; its connection is now ``conn``."""

    request: int
    conn: int


@dataclass(frozen=True, slots=True)
class WsReject:
    request: int
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class WsSend:
    conn: int
    data: str | bytes


@dataclass(frozen=True, slots=True)
class WsClose:
    conn: int
    code: int = 1000


Output = HttpResponse | HttpAbort | WsAccept | WsReject | WsSend | WsClose


@dataclass(frozen=True, slots=True)
class SessionOpened:
    sid: str
    eio: int
    transport: Transport
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class MessageReceived:
    sid: str
    data: str | bytes


@dataclass(frozen=True, slots=True)
class SessionUpgraded:
    sid: str


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """``reason``: ``transport close``, ``forced close``, ``ping timeout``, ``parse error``,
    ``transport error``... (the reference's words)."""

    sid: str
    reason: str


@dataclass(frozen=True, slots=True)
class WireSeen:
    """A wire message of session ``sid`` (only with ``wire=True``): a POST body, a poll's
    answer, a WebSocket message either way. For the live view and recordings."""

    sid: str
    direction: Direction
    transport: Transport
    data: str | bytes


EngineEvent = SessionOpened | MessageReceived | SessionUpgraded | SessionClosed | WireSeen


# --- the reference's error answers (engine.io lib/server.ts, Server.errorMessages) ------


_Error = EngineError  # its words are kept in protocol/wordings.py


_JSON = (("Content-Type", "application/json"),)
_TEXT = (("Content-Type", "text/plain; charset=UTF-8"), ("Cache-Control", "no-store"))
_BINARY = (("Content-Type", "application/octet-stream"), ("Cache-Control", "no-store"))
_OK = (("Content-Type", "text/html"), ("Cache-Control", "no-store"))


_OPEN = EngineState.OPEN
_PROBING = EngineState.PROBING
_PAUSING = EngineState.PAUSING
_CLOSED = EngineState.CLOSED


def _error_body(error: _Error) -> bytes:
    return error.body().encode()


# --- sessions ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Session:
    sid: str
    eio: int
    transport: Transport
    b64: bool
    outbox: list[EnginePacket] = field(default_factory=list)
    poll: int | None = None  # the pending GET's request id
    conn: int | None = None  # the WebSocket, once upgraded or opened over it
    candidate: int | None = None  # a WebSocket probing for the upgrade
    # protocol/states.py: opening until the handshake, open, pausing once the candidate
    # answered 3probe (the server releases the pending GET), upgraded, closed once ended.
    state: EngineState = EngineState.OPENING
    # Closed by the server (why), the close packet waiting for the next GET: nothing more
    # is read or queued (the reference's socket is no longer "open": packets are dropped).
    closing: str | None = None
    next_ping: float | None = None  # revision 4: when we ping
    pong_by: float | None = None  # revision 4: the client's pong is due
    ping_by: float | None = None  # revision 3: the client's ping is due
    noop_due: bool = False  # answer the pending GET with a noop (upgrade, client close)
    receiving: int | None = None  # the POST whose body is coming in
    received: list[bytes] = field(default_factory=list)  # its body so far
    received_size: int = 0
    received_binary: bool = False


class EngineServer:
    """The Engine.IO side of a server.

    :param eio: the revisions accepted: ``4`` (EIO=4 only: anything else gets code 5, as a
        socket.io 4 server), ``3`` (everyone gets revision 3, as engine.io 3.x, which never
        reads ``EIO``), or ``None`` for both (``allowEIO3``).
    """

    def __init__(
        self,
        *,
        eio: int | None = 4,
        ping_interval: int = 25000,
        ping_timeout: int = 20000,
        max_payload: int = 1_000_000,
        transports: tuple[str, ...] = ("polling", "websocket"),
        new_sid: Callable[[], str] | None = None,
        wire: bool = False,
    ) -> None:
        self.eio = eio
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_payload = max_payload
        self.transports = transports
        self.sessions: dict[str, _Session] = {}
        self._by_conn: dict[int, _Session] = {}
        self._outputs: list[Output] = []
        self._events: list[EngineEvent] = []
        # Sessions that may have something to write: data_to_send visits only these, so
        # that its cost follows the traffic, not the number of sessions (bench/serve_load.py).
        self._pending: dict[str, _Session] = {}
        # (when, sid): one entry per session, a heap. A session's deadlines only move later
        # (each is now + a fixed interval), so its entry is never after them: when it comes
        # up early, it is put back at the session's real deadline. next_deadline, called
        # after every input, and receive_timeout then never visit every session.
        self._timers: list[tuple[float, str]] = []
        self._next_conn = 0
        self._receiving: dict[int, _Session] = {}  # POSTs whose body is coming in
        self._new_sid = new_sid or _new_sid
        self.wire = wire

    # --- outputs -------------------------------------------------------------------------

    def events_received(self) -> list[EngineEvent]:
        events, self._events = self._events, []
        return events

    def has_events(self) -> bool:
        """Events wait for :meth:`events_received` (sending can make some: the wire seen
        going out, a session a flush ended)."""
        return bool(self._events)

    def data_to_send(self) -> list[Output]:
        """What to write now: queued packets go out, pending polls with data are answered."""
        pending, self._pending = self._pending, {}
        for session in pending.values():
            if session.state is _CLOSED:
                continue  # ended since: nothing more goes out
            if session.conn is not None:
                self._send_frames(session)
            else:
                self._flush(session)
        outputs, self._outputs = self._outputs, []
        return outputs

    def next_deadline(self) -> float | None:
        """When to call :meth:`receive_timeout`. It may find nothing due then (a session's
        deadline moved on: a pong or a message came); this then tells the next time."""
        return self._timers[0][0] if self._timers else None

    def is_open(self, sid: str) -> bool:
        """Whether session ``sid`` still reads and sends (not ended, not closing)."""
        session = self.sessions.get(sid)
        return session is not None and session.closing is None

    def session_of(self, conn: int) -> str | None:
        """The session a WebSocket connection belongs to (or probes for)."""
        session = self._by_conn.get(conn)
        return session.sid if session is not None else None

    # --- actions from the layer above ------------------------------------------------------

    def send(self, sid: str, data: str | bytes) -> None:
        """Queue an Engine.IO message for session ``sid`` (gone sessions are ignored)."""
        session = self.sessions.get(sid)
        if session is not None:
            self._queue(session, EnginePacket(EngineType.MESSAGE, data))

    def _queue(self, session: _Session, packet: EnginePacket) -> None:
        if session.closing is not None:
            return  # nothing may follow the close packet
        session.outbox.append(packet)
        self._pending[session.sid] = session

    def close(self, sid: str, reason: str = "forced close") -> None:
        """End a session from the server's side (engine.io lib/socket.ts, ``close``)."""
        session = self.sessions.get(sid)
        if session is None:
            return
        if session.transport is Transport.POLLING:
            if session.closing is not None:
                return  # closing already
            self._queue(session, EnginePacket(EngineType.CLOSE))
            session.closing = reason
            self._flush(session)
            if session.poll is None and session.state is not _CLOSED:
                return  # the next GET gets the close packet
        self._end(session, reason)

    # --- HTTP ------------------------------------------------------------------------------

    def receive_request(self, request: HttpRequest, now: float) -> None:
        """An HTTP request on the handshake path. Next: :meth:`events_received`, then
        :meth:`data_to_send` (the answer may wait: a pending poll)."""
        if request.method == "OPTIONS":
            self._respond(request, 204, ())  # CORS preflights are the front end's
            return
        query = request.query
        transport = query.get("transport")
        sid = query.get("sid")
        session = self.sessions.get(sid) if sid is not None else None
        if transport not in ("polling", "websocket") or transport not in self.transports:
            self._refuse(request, _Error.TRANSPORT_UNKNOWN)
        elif sid is not None and session is None:
            self._refuse(request, _Error.UNKNOWN_SID)
        elif session is not None and not request.upgrade and transport != session.transport.value:
            self._refuse(request, _Error.BAD_REQUEST)
        elif sid is None and request.method != "GET":
            self._refuse(request, _Error.BAD_HANDSHAKE_METHOD)
        elif sid is None and transport == "websocket" and not request.upgrade:
            self._refuse(request, _Error.BAD_REQUEST)
        elif sid is None and self._revision(query) is None:
            self._refuse(request, _Error.UNSUPPORTED_PROTOCOL_VERSION)
        elif request.upgrade:
            self._upgrade_request(request, session, now)
        elif session is None:
            self._handshake(request, Transport.POLLING, now)
        elif request.method == "GET":
            self._poll(request, session)
        elif request.method == "POST":
            self._post(request, session, now)
        else:
            self._respond(request, 500, ())

    def _revision(self, query: dict[str, str]) -> int | None:
        asked = 4 if query.get("EIO") == "4" else 3  # engine.io >= 4 reads only "4"
        if self.eio == 3:
            return 3  # engine.io 3.x never reads EIO
        if self.eio == 4 and asked == 3:
            return None
        return asked

    def _refuse(self, request: HttpRequest, error: _Error) -> None:
        if request.upgrade:
            # a refused upgrade gets the plain message, always 400 (engine.io lib/server.ts,
            # ``handleUpgrade``)
            self._outputs.append(WsReject(request.id, 400, error.message.encode()))
            return
        status = 403 if error is _Error.FORBIDDEN else 400
        self._respond(request, status, _JSON, _error_body(error))

    def _respond(
        self,
        request: HttpRequest | int,
        status: int,
        headers: tuple[tuple[str, str], ...],
        body: bytes = b"",
    ) -> None:
        request_id = request if isinstance(request, int) else request.id
        self._outputs.append(HttpResponse(request_id, status, headers, body))

    def _handshake(self, request: HttpRequest, transport: Transport, now: float) -> _Session:
        eio = self._revision(request.query) or 4
        sid = self._new_sid()
        upgrades = (
            ["websocket"]
            if transport is Transport.POLLING and ("websocket" in self.transports)
            else []
        )
        session = _Session(sid, eio, transport, b64=bool(request.query.get("b64")))
        session.state = step(session.state, Event.HANDSHAKE)  # the open packet goes out now
        self.sessions[sid] = session
        handshake = Handshake(
            sid,
            tuple(upgrades),
            self.ping_interval,
            self.ping_timeout,
            self.max_payload if eio == 4 else None,
        )
        self._queue(session, EnginePacket(EngineType.OPEN, engineio.encode_handshake(handshake)))
        if eio == 4:
            session.next_ping = now + self.ping_interval / 1000
        else:
            session.ping_by = now + (self.ping_interval + self.ping_timeout) / 1000
        self._plan(session)
        if transport is Transport.POLLING:
            session.poll = request.id
        self._events.append(
            SessionOpened(sid, eio, transport, dict(request.query), dict(request.headers))
        )
        return session

    def _poll(self, request: HttpRequest, session: _Session) -> None:
        if session.poll is not None:
            # overlapping GETs: 400 for the new one, a close packet for the pending one
            self._respond(request, 400, ())
            session.outbox.append(EnginePacket(EngineType.CLOSE))
            self._flush(session)
            self._end(session, "transport error")
            return
        session.poll = request.id
        self._pending[session.sid] = session  # packets queued meanwhile answer it
        if session.state is _PAUSING:
            session.noop_due = True  # an upgrade is under way: release polls at once

    def _post(self, request: HttpRequest, session: _Session, now: float) -> None:
        if session.receiving is not None:
            # "a client MUST NOT have more than one active POST request. Should it happen,
            # the server MUST return an HTTP 400 error status and close the session"
            # (engine.io-protocol v4, Sending data); the POST being received is dropped
            self._respond(request, 400, ())
            self._end(session, "transport error")
            return
        content_type = request.headers.get("content-type", "")
        binary = content_type.startswith("application/octet-stream")
        if binary and session.eio == 4:
            self._respond(request, 400, ())  # no binary payloads in revision 4
            self._end(session, "transport error")
            return
        session.receiving = request.id
        session.received_binary = binary
        self._receiving[request.id] = session
        if not request.body_follows:
            self.receive_body(request.id, request.body, now)
            self.receive_body_end(request.id, now)

    def receive_body(self, request: int, data: bytes, now: float) -> None:
        """A piece of the body of POST ``request`` (one sent with ``body_follows``)."""
        session = self._receiving.get(request)
        if session is None:
            return  # answered already: the rest is not read
        session.received_size += len(data)
        if session.received_size > self.max_payload:
            # 413 as engine.io >= 6.2 answers; the session is closed, as engine.io 3.x closes
            # it (it destroys the connection) and as the JS client does on a failed POST
            self._stop_receiving(session)
            self._respond(request, 413, ())
            self._end(session, "transport error")
            return
        session.received.append(data)

    def receive_body_end(self, request: int, now: float) -> None:
        """The body of POST ``request`` is complete: its packets are read, then answered."""
        session = self._receiving.get(request)
        if session is None:
            return
        data = b"".join(session.received)
        binary = session.received_binary
        self._stop_receiving(session)
        if session.state is _CLOSED:
            return
        body: str | bytes = data if binary else data.decode("utf-8", "replace")
        self._respond(request, 200, _OK, b"ok")
        if self.wire:
            self._events.append(WireSeen(session.sid, Direction.C2S, Transport.POLLING, body))
        try:
            for offset, piece in engineio.split_payload(body, session.eio):
                try:
                    packet = engineio.decode_packet(piece, session.eio)
                except DecodeError as exc:
                    raise exc.shifted(offset) from None
                self._packet(session, packet, Transport.POLLING, now)
                if session.state is _CLOSED:
                    return
        except DecodeError:
            self._end(session, "parse error")

    def receive_request_closed(self, request: int, now: float) -> None:
        """The client closed the connection of ``request`` before it was answered: a POST
        cut short, or a poll, ends its session, as the reference's ("data request
        connection closed prematurely", "poll connection closed prematurely")."""
        session = self._receiving.get(request)
        if session is not None:
            self._stop_receiving(session)
            self._end(session, "transport error")
            return
        # (a scan: a request closed unanswered is rare, and a poll's id is kept nowhere else)
        polled = next((s for s in self.sessions.values() if s.poll == request), None)
        if polled is not None and polled.state is not _CLOSED:
            polled.poll = None  # nothing can answer it any more
            self._end(polled, "transport error")

    def _stop_receiving(self, session: _Session) -> None:
        if session.receiving is not None:
            self._receiving.pop(session.receiving, None)
        session.receiving = None
        session.received = []
        session.received_size = 0

    def _flush(self, session: _Session) -> None:
        """Answer the pending poll, if there is something to answer with."""
        if session.poll is None:
            return
        if session.noop_due and not session.outbox:
            session.outbox.append(EnginePacket(EngineType.NOOP))
        if not session.outbox:
            return
        session.noop_due = False
        packets, session.outbox = session.outbox, []
        binary = (
            not session.b64 and session.eio == 3 and any(isinstance(p.data, bytes) for p in packets)
        )
        body = engineio.encode_payload(packets, session.eio, binary=binary)
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        if self.wire:
            self._events.append(WireSeen(session.sid, Direction.S2C, Transport.POLLING, body))
        request, session.poll = session.poll, None
        self._respond(request, 200, _BINARY if binary else _TEXT, data)
        if session.closing is not None:
            self._end(session, session.closing)

    # --- WebSocket -------------------------------------------------------------------------

    def _upgrade_request(self, request: HttpRequest, session: _Session | None, now: float) -> None:
        conn = self._next_conn = self._next_conn + 1
        self._outputs.append(WsAccept(request.id, conn))
        if session is None:
            session = self._handshake(request, Transport.WEBSOCKET, now)
            session.conn = conn
            self._by_conn[conn] = session
            return
        if session.transport is Transport.WEBSOCKET or session.candidate is not None:
            self._outputs.append(WsClose(conn, 1000))  # already upgraded or upgrading
            return
        session.candidate = conn
        self._by_conn[conn] = session

    def receive_ws_message(self, conn: int, data: str | bytes, now: float) -> None:
        session = self._by_conn.get(conn)
        if session is None:
            return
        try:
            packet = engineio.decode_packet(data, session.eio)
        except DecodeError:
            self._drop_conn(conn, session, "parse error")
            return
        if self.wire:
            self._events.append(WireSeen(session.sid, Direction.C2S, Transport.WEBSOCKET, data))
        if conn == session.candidate:
            self._probe(session, conn, packet)
            return
        self._packet(session, packet, Transport.WEBSOCKET, now)

    def _probe(self, session: _Session, conn: int, packet: EnginePacket) -> None:
        # On the candidate, only 2probe and 5 are allowed (engine.io-protocol spec: "Upgrade").
        if packet.type is EngineType.PING and packet.data == "probe":
            if session.state is _OPEN:  # a second 2probe is answered again
                session.state = step(step(_OPEN, Event.PROBE), Event.PROBE_ANSWERED)
            self._outputs.append(WsSend(conn, "3probe"))
            if self.wire:
                self._events.append(
                    WireSeen(session.sid, Direction.S2C, Transport.WEBSOCKET, "3probe")
                )
            session.noop_due = True
            self._flush(session)
        elif packet.type is EngineType.UPGRADE and session.state is _PAUSING:
            session.state = step(session.state, Event.UPGRADE)
            session.candidate = None
            session.transport = Transport.WEBSOCKET
            session.conn = conn
            self._pending[session.sid] = session  # what waited for a poll goes out here
            session.noop_due = False
            if session.poll is not None:  # let the client's last poll go
                session.outbox.insert(0, EnginePacket(EngineType.NOOP))
                self._flush(session)
            self._events.append(SessionUpgraded(session.sid))
        else:
            self._lose_candidate(session)
            self._by_conn.pop(conn, None)
            self._outputs.append(WsClose(conn, 1000))

    def receive_ws_closed(self, conn: int, now: float, *, failed: bool = False) -> None:
        """The WebSocket ``conn`` is gone; ``failed``: the front end failed it for a
        protocol error (RFC 6455 §7.1.7), a transport error for the session."""
        session = self._by_conn.pop(conn, None)
        if session is None:
            return
        if conn == session.candidate:
            self._lose_candidate(session)
            session.noop_due = False
            return
        if session.conn == conn and session.state is not _CLOSED:
            self._end(session, "transport error" if failed else "transport close")

    def _send_frames(self, session: _Session) -> None:
        if session.conn is None:
            return
        packets, session.outbox = session.outbox, []
        for packet in packets:
            data = engineio.encode_packet(packet, session.eio, b64=session.b64)
            self._outputs.append(WsSend(session.conn, data))
            if self.wire:
                self._events.append(WireSeen(session.sid, Direction.S2C, Transport.WEBSOCKET, data))

    def _drop_conn(self, conn: int, session: _Session, reason: str) -> None:
        self._by_conn.pop(conn, None)
        self._outputs.append(WsClose(conn, 1000))
        if conn == session.candidate:
            self._lose_candidate(session)
        else:
            self._end(session, reason)

    def _lose_candidate(self, session: _Session) -> None:
        """The candidate WebSocket is gone: the session stays on polling, and a new one
        starts the upgrade over with its own 2probe."""
        session.candidate = None
        if session.state is _PROBING or session.state is _PAUSING:
            session.state = step(session.state, Event.PROBE_FAILED)

    # --- packets ---------------------------------------------------------------------------

    def _packet(
        self, session: _Session, packet: EnginePacket, transport: Transport, now: float
    ) -> None:
        ptype = packet.type
        if session.closing is not None:
            return  # closed by the server: what follows in the same payload is dropped
        if ptype is EngineType.MESSAGE:
            if session.eio == 3:
                session.ping_by = now + (self.ping_interval + self.ping_timeout) / 1000
            self._events.append(MessageReceived(session.sid, packet.data))
        elif ptype is EngineType.PING:
            if session.eio == 4:
                self._end(session, "transport error")  # invalid heartbeat direction
                return
            self._queue(session, EnginePacket(EngineType.PONG, packet.data))
            session.ping_by = now + (self.ping_interval + self.ping_timeout) / 1000
        elif ptype is EngineType.PONG:
            if session.eio == 3:
                self._end(session, "transport error")  # invalid heartbeat direction
                return
            session.pong_by = None
            session.next_ping = now + self.ping_interval / 1000
        elif ptype is EngineType.CLOSE:
            if transport is Transport.WEBSOCKET:
                # the reference ignores it over WebSocket (engine.io lib/socket.ts, ``onPacket``)
                return
            session.noop_due = True
            self._flush(session)
            self._end(session, "transport close")

    # --- time ------------------------------------------------------------------------------

    def receive_timeout(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, sid = heapq.heappop(timers)
            session = self.sessions.get(sid)
            if session is None:
                continue  # ended since
            # revision 4: no pong in time; revision 3: no ping in time
            due = session.pong_by if session.pong_by is not None else session.ping_by
            if due is not None and now >= due:
                self._end(session, "ping timeout")
                continue
            if session.next_ping is not None and now >= session.next_ping:
                session.next_ping = None
                session.pong_by = now + self.ping_timeout / 1000
                self._queue(session, EnginePacket(EngineType.PING))
            self._plan(session)  # or back, if it came up early: a pong or a message came

    def _plan(self, session: _Session) -> None:
        times = [t for t in (session.next_ping, session.pong_by, session.ping_by) if t is not None]
        if times:
            heapq.heappush(self._timers, (min(times), session.sid))

    # --- ending ------------------------------------------------------------------------------

    def _end(self, session: _Session, reason: str) -> None:
        if self.sessions.pop(session.sid, None) is None:
            return
        session.state = step(session.state, Event.CLOSE)
        if session.receiving is not None:  # the POST being received is dropped
            self._outputs.append(HttpAbort(session.receiving))
            self._stop_receiving(session)
        for conn in (session.conn, session.candidate):
            if conn is not None:
                self._by_conn.pop(conn, None)
                self._outputs.append(WsClose(conn, 1000))
        if session.poll is not None:  # a pending GET ends with the session
            packets = session.outbox or [
                EnginePacket(EngineType.NOOP if session.noop_due else EngineType.CLOSE)
            ]
            session.outbox = []
            body = engineio.encode_payload(packets, session.eio)
            data = body if isinstance(body, bytes) else body.encode("utf-8")
            self._respond(session.poll, 200, _TEXT, data)
            session.poll = None
        self._events.append(SessionClosed(session.sid, reason))


def _new_sid() -> str:
    """20 URL-safe characters, like the reference's ids."""
    return _secrets.token_urlsafe(15)
