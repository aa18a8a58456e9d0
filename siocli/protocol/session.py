"""The Socket.IO client, sans I/O.

:class:`ClientSession` decides every packet a client sends: the handshake request, CONNECT
per namespace with auth, pongs (Engine.IO 4) or pings (Engine.IO 3), the probe and upgrade
from polling to WebSocket, acks. It never opens a socket, sleeps or reads a clock: a driver
(``siocli.transports``) performs the requests it asks for and feeds back what happened.

The vocabulary (as in websockets' protocol layer):

* what to do on the network: :meth:`ClientSession.data_to_send` returns requests
  (:class:`HttpGet`, :class:`HttpPost`, :class:`WebSocketConnect`, :class:`WebSocketSend`,
  :class:`WebSocketClose`);
* what happened: ``receive_*`` methods, each taking ``now`` (seconds, any monotonic clock);
* what it means: :meth:`ClientSession.events_received` returns :class:`Opened`,
  :class:`NamespaceConnected`, :class:`EventMessage`, :class:`AckMessage`, :class:`Closed`...;
* when to come back: :meth:`ClientSession.next_deadline`, then
  :meth:`ClientSession.receive_timeout`.

Every state change goes through the one table of :mod:`.states`, which the checker and the
server walk too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast
from urllib.parse import urlencode

from . import _jsonlib, engineio, socketio
from .errors import DecodeError, LocalProtocolError
from .states import EngineState, Event, NamespaceState, step
from .types import (
    EnginePacket,
    EngineType,
    Handshake,
    Parser,
    SocketPacket,
    SocketType,
    Transport,
    socket_protocol,
)
from .wordings import describe_error_answer

__all__ = [
    "AckMessage",
    "ClientSession",
    "Closed",
    "EventMessage",
    "HttpGet",
    "HttpPost",
    "NamespaceConnected",
    "NamespaceDisconnected",
    "NamespaceRejected",
    "Opened",
    "Request",
    "SessionEvent",
    "UpgradeFailed",
    "Upgraded",
    "WebSocketClose",
    "WebSocketConnect",
    "WebSocketSend",
    "awaited_ack",
]


NEVER_PINGED = "not one ping came in this session"
"""In a ping timeout's detail when the server never pinged (an Engine.IO 3 server?)."""

DETECT_GRACE = 0.5
"""Seconds to wait, over WebSocket with ``eio=None``, for a Socket.IO 2.x server to speak."""

_E = EngineState
_N = NamespaceState


# --- requests to the driver ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpGet:
    """A long-polling GET (the handshake when ``query`` has no ``sid``)."""

    query: dict[str, str]


@dataclass(frozen=True, slots=True)
class HttpPost:
    """A long-polling POST of a payload."""

    query: dict[str, str]
    body: str | bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class WebSocketConnect:
    """Open the WebSocket: the session's transport, or an upgrade candidate (``sid`` in
    ``query``)."""

    query: dict[str, str]


@dataclass(frozen=True, slots=True)
class WebSocketSend:
    data: str | bytes


@dataclass(frozen=True, slots=True)
class WebSocketClose:
    code: int = 1000


Request = HttpGet | HttpPost | WebSocketConnect | WebSocketSend | WebSocketClose


# --- events for the application --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """The handshake arrived. ``eio`` is the revision the server speaks."""

    handshake: Handshake
    transport: Transport
    eio: int


@dataclass(frozen=True, slots=True)
class Upgraded:
    """The session moved from polling to ``transport``."""

    transport: Transport


@dataclass(frozen=True, slots=True)
class UpgradeFailed:
    """The upgrade did not happen; the session goes on over polling."""

    reason: str


@dataclass(frozen=True, slots=True)
class NamespaceConnected:
    namespace: str
    sid: str | None
    data: Any = None


@dataclass(frozen=True, slots=True)
class NamespaceRejected:
    """CONNECT_ERROR: ``message`` (and ``data``) as the server sent them."""

    namespace: str
    message: str | None
    data: Any = None


@dataclass(frozen=True, slots=True)
class NamespaceDisconnected:
    """``reason``: ``io server disconnect`` or ``io client disconnect``."""

    namespace: str
    reason: str


class EventMessage(NamedTuple):
    """An event from the server; answer ``ack_id`` with :meth:`ClientSession.ack`.

    This and :class:`AckMessage` are tuples, not frozen dataclasses as the other events:
    the session makes one per packet, and a frozen dataclass costs 0.7 µs to build (one
    ``object.__setattr__`` a field), a tenth of all that ``listen`` does with an event.
    """

    namespace: str
    name: Any
    args: list[Any]
    ack_id: int | None = None


class AckMessage(NamedTuple):
    """The server's answer to an event we emitted with an ack; ``expected`` is false for an
    id we never asked for (the reference client ignores those)."""

    namespace: str
    ack_id: int
    args: list[Any]
    expected: bool = True


@dataclass(frozen=True, slots=True)
class Closed:
    """The Engine.IO session ended. ``reason`` is the Socket.IO client's word for it
    (``io client disconnect``, ``transport close``, ``transport error``, ``ping timeout``,
    ``parse error``), or ``internal error`` for a bug of siocli's (see
    :attr:`ClientSession.internal_error`); ``detail`` says more when there is more;
    ``code``: the close code of the server's WebSocket close frame (RFC 6455 §7.4.1), when
    that ended it."""

    reason: str
    detail: str | None = None
    code: int | None = None


SessionEvent = (
    Opened
    | Upgraded
    | UpgradeFailed
    | NamespaceConnected
    | NamespaceRejected
    | NamespaceDisconnected
    | EventMessage
    | AckMessage
    | Closed
)


# --- the session -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Socket:
    """One namespace on the connection: a Socket.IO socket."""

    state: NamespaceState = NamespaceState.DISCONNECTED
    sid: str | None = None
    next_ack_id: int = 0
    acks_asked: set[int] = field(default_factory=set)  # our events awaiting the server's ack
    acks_owed: dict[int, None] = field(default_factory=dict)  # server events awaiting our ack


def awaited_ack(ack_id: int, namespace: str) -> str:
    """How :meth:`ClientSession.awaited` names an ack the server owes."""
    return f"ack {ack_id} on {namespace}"


class ClientSession:
    """A Socket.IO client session, sans I/O.

    :param eio: Engine.IO revision to ask for (3 or 4), or ``None`` to ask for 4 and follow
        a server that answers a polling handshake in revision 3 framing (socket.io 2.x
        servers ignore the ``EIO`` parameter).
    :param transport: ``polling`` (the official default: poll, then upgrade) or
        ``websocket`` (WebSocket only).
    :param upgrade: upgrade from polling to WebSocket when the server offers it.
    :param query: extra query parameters sent with every request.
    :param parser: the Socket.IO packet encoding the server uses (default, or MessagePack).
    """

    def __init__(
        self,
        *,
        eio: int | None = 4,
        transport: Transport | str = Transport.POLLING,
        upgrade: bool = True,
        query: dict[str, str] | None = None,
        parser: Parser = Parser.DEFAULT,
    ) -> None:
        if eio not in (None, 3, 4):
            raise ValueError("eio must be 3, 4 or None (detect)")
        self.eio: int = eio or 4
        self._detect = eio is None
        self.transport = Transport(transport)
        self.upgrade = upgrade and self.transport is Transport.POLLING
        self.state = EngineState.OPENING
        self.handshake: Handshake | None = None
        self.close_reason: Closed | None = None
        # A bug met on the way (ours, never the peer's: what a peer sends ends the session as
        # a protocol error); the session closed with "internal error" and keeps it here.
        self.internal_error: BaseException | None = None
        # Engine.IO 4, yet a CONNECT answer without a sid: a Socket.IO 2.x server (protocol
        # 4, whose answers carry none) that the client forced to Engine.IO 4; over
        # WebSocket nothing else the server sends says so.
        self.answers_as_protocol_4 = False
        self._query = dict(query or {})
        self._requests: list[Request] = []
        self._events: list[SessionEvent] = []
        self._sockets: dict[str, _Socket] = {}
        self._outbox: list[EnginePacket] = []  # awaiting a transport that can take them
        self.parser = parser
        self._encode = socketio.encoder(parser, socket_protocol(self.eio))
        self._assembler = socketio.PacketAssembler(socket_protocol(self.eio), parser)
        self._polling_get = False  # a GET is in flight
        self._polling_post = False  # a POST is in flight
        self._ping_deadline: float | None = None  # Engine.IO 4: server ping expected by then
        self._pinged = False  # Engine.IO 4: a ping came from the server in this session
        self._next_ping: float | None = None  # Engine.IO 3: our next ping
        self._pong_deadline: float | None = None  # Engine.IO 3: server pong expected by then
        self._decide_by: float | None = None  # deciding the revision until then (see _open)
        self._deferred: list[tuple[str, dict[str, Any] | None]] = []  # connects meanwhile
        if self.transport is Transport.POLLING:
            self._polling_get = True
            self._requests.append(HttpGet(self._base_query(Transport.POLLING)))
        else:
            self._requests.append(WebSocketConnect(self._base_query(Transport.WEBSOCKET)))

    # --- outputs -------------------------------------------------------------------------

    def data_to_send(self) -> list[Request]:
        """The requests to perform now, in order; each is returned once."""
        requests, self._requests = self._requests, []
        return requests

    def events_received(self) -> list[SessionEvent]:
        """What happened since the last call, in order."""
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> float | None:
        """When to call :meth:`receive_timeout` at the latest (``None``: no timer)."""
        if self.state is EngineState.CLOSED:
            return None
        times = [
            t
            for t in (self._ping_deadline, self._next_ping, self._pong_deadline, self._decide_by)
            if t
        ]
        return min(times) if times else None

    @property
    def sid(self) -> str | None:
        return self.handshake.sid if self.handshake else None

    @property
    def protocol(self) -> int:
        return socket_protocol(self.eio)

    @property
    def sending(self) -> bool:
        """Packets wait for a transport, or a POST awaits its answer: what was emitted has
        not all reached the server yet (over polling, the POST's 200 says it has)."""
        return bool(self._outbox) or self._polling_post

    def awaiting(self) -> int:
        """How many answers the server still owes us: acks of our events, and namespaces
        we asked to join (:meth:`awaited` says which)."""
        return len(self.awaited())

    def awaited(self) -> list[str]:
        """What :meth:`awaiting` counts, in words: ``ack 0 on /``, ``join /admin``."""
        words = [
            awaited_ack(ack_id, namespace)
            for namespace, socket in self._sockets.items()
            for ack_id in sorted(socket.acks_asked)
        ]
        words += [
            f"join {namespace}"
            for namespace, socket in self._sockets.items()
            if socket.state is NamespaceState.CONNECTING
        ]
        return words + [f"join {namespace}" for namespace, _ in self._deferred]

    def acks_owed(self, namespace: str = "/") -> list[int]:
        """The ids of the server's events on ``namespace`` that await our ack, in order."""
        socket = self._sockets.get(namespace)
        return list(socket.acks_owed) if socket else []

    def namespace_state(self, namespace: str = "/") -> NamespaceState:
        socket = self._sockets.get(namespace)
        return socket.state if socket else NamespaceState.DISCONNECTED

    # --- local actions -------------------------------------------------------------------

    def connect(self, namespace: str = "/", auth: dict[str, Any] | None = None) -> None:
        """Join ``namespace``, with ``auth`` as the CONNECT payload (protocol 5) or as the
        namespace's query string (protocol 4, where '/' is joined by the server itself)."""
        self._check_open("connect to", namespace)
        if not namespace.startswith("/") or "," in namespace or "?" in namespace:
            raise LocalProtocolError(
                f"can't connect to {namespace!r}: a namespace starts with '/' and holds no ',' "
                "or '?'"
            )
        if auth is not None and not isinstance(auth, dict):
            raise LocalProtocolError("auth must be a JSON object")
        if self.state is _E.DECIDING:  # the revision decides what CONNECT looks like
            # Refused now what would be refused then: the replay in _start must not raise.
            known = self._sockets.get(namespace)
            if any(asked == namespace for asked, _ in self._deferred) or (
                known is not None and known.state is not _N.DISCONNECTED
            ):
                state = known.state.value if known is not None else "connecting"
                raise LocalProtocolError(f"can't connect to {namespace!r}: namespace {state}")
            self._deferred.append((namespace, auth))
            return
        socket = self._sockets.setdefault(namespace, _Socket())
        if self.protocol == 4 and namespace == "/" and socket.state is not _N.DISCONNECTED:
            # the server connects every client to '/' by itself (socket.io 2.x lib/client.js,
            # ``setup``)
            return
        self._advance_namespace(socket, Event.CONNECT, namespace, "connect to")
        if self.protocol == 4:
            if namespace == "/":
                # the server connects every client to '/' (socket.io 2.x lib/client.js, ``setup``)
                return
            wire_name = namespace + ("?" + urlencode(_query_values(auth)) if auth else "")
            self._send_socket(SocketPacket(SocketType.CONNECT, wire_name))
        else:
            self._send_socket(SocketPacket(SocketType.CONNECT, namespace, auth))

    def emit(self, event: str, *args: Any, namespace: str = "/", ack: bool = False) -> int | None:
        """Send an event; with ``ack``, return the id the server's ACK will carry."""
        socket = self._socket_for("emit on", namespace)
        if self.protocol == 5 and event in socketio.RESERVED_EVENTS:
            raise LocalProtocolError(f"can't emit {event!r}: it is a reserved event name")
        ack_id = None
        if ack:
            ack_id = socket.next_ack_id
            socket.next_ack_id += 1
            socket.acks_asked.add(ack_id)
        self._send_socket(SocketPacket(SocketType.EVENT, namespace, [event, *args], ack_id))
        return ack_id

    def ack(self, ack_id: int, *args: Any, namespace: str = "/") -> None:
        """Answer the server's event ``ack_id`` (once)."""
        socket = self._socket_for("ack on", namespace)
        if ack_id not in socket.acks_owed:
            raise LocalProtocolError(
                f"can't ack {ack_id} on {namespace!r}: no event from the server awaits that ack"
            )
        socket.acks_owed.pop(ack_id, None)
        self._send_socket(SocketPacket(SocketType.ACK, namespace, list(args), ack_id))

    def disconnect(self, namespace: str = "/") -> None:
        """Leave ``namespace`` (the Engine.IO session stays up)."""
        socket = self._sockets.get(namespace)
        state = socket.state if socket else NamespaceState.DISCONNECTED
        if socket is None or state is NamespaceState.DISCONNECTED:
            raise LocalProtocolError(
                f"can't disconnect from {namespace!r}: namespace {state.value}"
            )
        self._advance_namespace(socket, Event.DISCONNECT, namespace, "disconnect from")
        socket.acks_asked.clear()  # socket.io-client clears them too: none will be read
        self._send_socket(SocketPacket(SocketType.DISCONNECT, namespace))
        self._events.append(NamespaceDisconnected(namespace, "io client disconnect"))

    def close(self) -> None:
        """Leave every namespace and end the Engine.IO session, as the JS client does."""
        if self.state is EngineState.CLOSED:
            return
        if self.state is not EngineState.OPENING:
            for namespace, socket in self._sockets.items():
                if socket.state is NamespaceState.CONNECTED:
                    self.disconnect(namespace)
        if self.transport is Transport.POLLING and self.state is not EngineState.OPENING:
            # Polling ends with a close packet; over WebSocket the close frame says it (engine.io
            # lib/socket.ts, ``onClose``).
            self._send_engine(EnginePacket(EngineType.CLOSE))
        elif self.transport is Transport.WEBSOCKET:
            self._requests.append(WebSocketClose(1000))
        self._close("io client disconnect")

    # --- inputs: polling -------------------------------------------------------------------

    def receive_poll(self, body: str | bytes, now: float) -> None:
        """A polling GET answered 200 with ``body`` (bytes only for an Engine.IO 3 binary
        payload). Next: :meth:`data_to_send` (the next GET is in it)."""
        self._polling_get = False
        if self.state is EngineState.CLOSED:
            return
        try:
            if self.state is EngineState.OPENING:
                self._follow_revision(body)
                if self.state is EngineState.CLOSED:
                    return
            for offset, piece in engineio.split_payload(body, self.eio):
                if not self._took_message(piece):
                    try:
                        packet = engineio.decode_packet(piece, self.eio)
                    except DecodeError as exc:
                        raise exc.shifted(offset) from None
                    self._receive_engine(packet, now, Transport.POLLING)
                if self.state is EngineState.CLOSED:
                    return
            self._after_poll()
        except DecodeError as exc:
            self._fail("parse error", f"polling payload: {exc}")
        except Exception as exc:
            self._crash(exc)

    def receive_post_done(self, now: float) -> None:
        """A POST was answered 200 ``ok``."""
        self._polling_post = False
        try:
            if self.state is EngineState.PAUSING:
                self._maybe_finish_upgrade()
            else:
                self._flush()
        except Exception as exc:
            self._crash(exc)

    def receive_http_error(
        self, request: HttpGet | HttpPost, status: int, body: str, now: float
    ) -> None:
        """A polling request failed with HTTP ``status`` (``body`` as received). The session
        is over, as for the JS client."""
        if isinstance(request, HttpGet):
            self._polling_get = False
        else:
            self._polling_post = False
        try:
            self._fail("transport error", describe_error_answer(status, body))
        except Exception as exc:
            self._crash(exc)

    def receive_http_failure(self, request: HttpGet | HttpPost, reason: str, now: float) -> None:
        """A polling request failed below HTTP (connection refused, reset, timeout...)."""
        try:
            self._fail("transport error", reason)
        except Exception as exc:
            self._crash(exc)

    # --- inputs: WebSocket ----------------------------------------------------------------

    def receive_websocket_open(self, now: float) -> None:
        """The WebSocket asked for by :class:`WebSocketConnect` is open."""
        try:
            if self.state is EngineState.OPEN and self.transport is Transport.POLLING:
                self.state = step(self.state, Event.PROBE)
                self._requests.append(WebSocketSend("2probe"))
        except Exception as exc:
            self._crash(exc)

    def receive_websocket_message(self, data: str | bytes, now: float) -> None:
        """A WebSocket message arrived: text, or bytes for a binary frame."""
        try:  # (a try costs nothing until something raises: this is the hot path)
            if self._took_message(data) or self.state is EngineState.CLOSED:
                return
            try:
                packet = engineio.decode_packet(data, self.eio)
            except DecodeError as exc:
                self._fail("parse error", f"WebSocket message: {exc}")
                return
            if self.state in (EngineState.PROBING, EngineState.PAUSING):
                self._receive_probe_answer(packet)
                return
            self._receive_engine(packet, now, Transport.WEBSOCKET)
        except Exception as exc:
            self._crash(exc)

    def receive_websocket_closed(self, code: int | None, reason: str, now: float) -> None:
        """The WebSocket closed (or could not open: ``code`` ``None``)."""
        try:
            self._websocket_closed(code, reason)
        except Exception as exc:
            self._crash(exc)

    def _websocket_closed(self, code: int | None, reason: str) -> None:
        if self.state is EngineState.CLOSED:
            return
        if self.transport is Transport.POLLING:  # the upgrade candidate: polling goes on
            why = f"WebSocket closed ({reason})" if code is not None else reason
            if self.state in (EngineState.PROBING, EngineState.PAUSING):
                self._abandon_upgrade(why)
            else:
                self._events.append(UpgradeFailed(why))
            return
        detail = f"WebSocket closed with code {code}" if code is not None else reason
        if reason and code is not None:
            detail += f" ({reason})"
        self._fail("transport close" if code is not None else "transport error", detail, code)

    # --- inputs: time ---------------------------------------------------------------------

    def receive_timeout(self, now: float) -> None:
        """Time passed: call when :meth:`next_deadline` is reached."""
        try:
            self._time_passed(now)
        except Exception as exc:
            self._crash(exc)

    def receive_driver_failure(self, exc: BaseException, now: float) -> None:
        """The driver met an unexpected failure (a bug, not the network): the session ends
        with ``internal error``, as when the session meets one itself."""
        self._crash(exc)

    def _time_passed(self, now: float) -> None:
        if self.state is EngineState.CLOSED:
            return
        if self._decide_by is not None and now >= self._decide_by:
            self._start(now, self.transport)  # the server said nothing: Engine.IO 4
        if self._ping_deadline is not None and now >= self._ping_deadline:
            hs = self.handshake
            assert hs is not None
            self._fail(
                "ping timeout",
                f"no ping from the server within pingInterval + pingTimeout "
                f"({hs.ping_interval} + {hs.ping_timeout} ms)"
                + (
                    ""
                    if self._pinged
                    else f"; {NEVER_PINGED}: Engine.IO 3 servers (Socket.IO 2.x) wait for the "
                    "client to ping"
                ),
            )
            return
        if self._pong_deadline is not None and now >= self._pong_deadline:
            assert self.handshake is not None
            self._fail(
                "ping timeout",
                f"no pong from the server within pingTimeout ({self.handshake.ping_timeout} ms)",
            )
            return
        if self._next_ping is not None and now >= self._next_ping:
            # Engine.IO 3: the client pings every pingInterval (engine.io-protocol spec, branch v3:
            # "Heartbeat").
            assert self.handshake is not None
            self._send_engine(EnginePacket(EngineType.PING))
            self._next_ping = now + self.handshake.ping_interval / 1000
            if self._pong_deadline is None:
                self._pong_deadline = now + self.handshake.ping_timeout / 1000

    # --- Engine.IO ------------------------------------------------------------------------

    def _receive_engine(self, packet: EnginePacket, now: float, transport: Transport) -> None:
        ptype = packet.type
        if self.state is _E.DECIDING:
            self._decide(packet, now, transport)
        if self.state is EngineState.OPENING:
            if ptype is not EngineType.OPEN:
                got = ptype.label
                if not isinstance(packet.data, str):
                    got = f"a binary {got} ({len(packet.data)} bytes)"
                self._fail("parse error", f"expected the open packet first, got {got}")
                return
            self._open(packet, now, transport)
        elif ptype is EngineType.MESSAGE:
            self._receive_message(packet.data)
        elif ptype is EngineType.PING:
            if self.eio == 4:
                self._send_engine(EnginePacket(EngineType.PONG, packet.data))
                self._arm_ping_deadline(now)
                self._pinged = True
        elif ptype is EngineType.PONG:
            if self.eio == 3:
                self._pong_deadline = None
        elif ptype is EngineType.CLOSE:
            self._fail("transport close", "the server closed the session")
        # noop releases a poll; open (again) and upgrade from a server are ignored

    def _open(self, packet: EnginePacket, now: float, transport: Transport) -> None:
        data = packet.data
        if not isinstance(data, str):
            # An Engine.IO 3 binary frame (type byte 0x00) or a b0<base64> packet: the
            # handshake is JSON text, and the reference client fails on it (JSON.parse of
            # an ArrayBuffer).
            self._fail(
                "parse error",
                f"the open packet came in a binary frame ({len(data)} bytes): the handshake "
                "is JSON text",
            )
            return
        try:
            handshake = engineio.decode_handshake(data)
        except DecodeError as exc:
            self._fail("parse error", f"handshake: {exc}")
            return
        self.handshake = handshake
        if self._detect and transport is Transport.WEBSOCKET and handshake.max_payload is None:
            # An engine.io 3 server ignores EIO=4 over WebSocket too, and its handshake looks
            # like an old engine.io 4's. Socket.IO 2.x speaks first: it connects '/' at once
            # ("40"). Wait a moment for that before choosing the revision.
            self.state = step(self.state, Event.HANDSHAKE_UNDECIDED)
            self._decide_by = now + DETECT_GRACE
            return
        self.state = step(self.state, Event.HANDSHAKE)
        self._start(now, transport)

    def _start(self, now: float, transport: Transport) -> None:
        """The revision is known: announce the session, start the heartbeat, send."""
        handshake = self.handshake
        assert handshake is not None
        self._decide_by = None
        if self.state is _E.DECIDING:
            self.state = step(self.state, Event.DECIDED)
        self._events.append(Opened(handshake, transport, self.eio))
        if self.eio == 4:
            self._arm_ping_deadline(now)
        else:
            self._next_ping = now + handshake.ping_interval / 1000
        for namespace, auth in self._deferred:
            self.connect(namespace, auth)
        self._deferred = []
        self._flush()
        if self.upgrade and "websocket" in handshake.upgrades:
            self._requests.append(WebSocketConnect(self._session_query(Transport.WEBSOCKET)))

    def _decide(self, packet: EnginePacket, now: float, transport: Transport) -> None:
        if socketio.unasked_connect(packet, self.parser):
            self._switch_to_v3()
        self._start(now, transport)

    def _switch_to_v3(self) -> None:
        self.eio = 3
        self._assembler = socketio.PacketAssembler(4, self.parser)
        self._encode = socketio.encoder(self.parser, 4)

    def _arm_ping_deadline(self, now: float) -> None:
        hs = self.handshake
        assert hs is not None
        self._ping_deadline = now + (hs.ping_interval + hs.ping_timeout) / 1000

    def _follow_revision(self, body: str | bytes) -> None:
        # A socket.io 2.x server ignores EIO=4 and answers `<length>:0{...}` (engine.io-protocol
        # spec, branch v3: "Payload").
        head = body[:8] if isinstance(body, str) else body[:8].decode("latin-1")
        digits = head.split(":", 1)[0]
        if self.eio == 4 and ":" in head and digits.isdigit():
            if self._detect:
                self._switch_to_v3()
            else:
                self._fail(
                    "parse error",
                    "the server answered in Engine.IO 3 framing (<length>:<packet>): it is a "
                    "Socket.IO 2.x server, which ignores EIO=4; use --eio 3 or --eio auto",
                )

    def _after_poll(self) -> None:
        if self.state is EngineState.PAUSING:
            self._maybe_finish_upgrade()
        elif self.state is EngineState.OPENING:
            # An Engine.IO 3 empty binary payload holds zero packets (engine.io-parser 2.x,
            # ``decodePayloadAsBinary``): the handshake answer came without the open packet.
            self._fail("parse error", "expected the open packet first, got no packet")
        elif self.state is EngineState.CLOSED or self.transport is not Transport.POLLING:
            return
        elif not self._polling_get:
            self._polling_get = True
            self._requests.append(HttpGet(self._session_query(Transport.POLLING)))

    # --- upgrade (engine.io-protocol spec: "Upgrade") -----------------------------------

    def _receive_probe_answer(self, packet: EnginePacket) -> None:
        if (
            self.state is EngineState.PROBING
            and packet.type is EngineType.PONG
            and (packet.data == "probe")
        ):
            self.state = step(self.state, Event.PROBE_ANSWERED)
            self._maybe_finish_upgrade()
            return
        self._abandon_upgrade(f"probe answered with {packet.type.label} {packet.data!r}")

    def _maybe_finish_upgrade(self) -> None:
        if self._polling_get or self._polling_post:
            return  # the server releases the pending GET with a noop
        self.state = step(self.state, Event.UPGRADE)
        self.transport = Transport.WEBSOCKET
        self._requests.append(WebSocketSend("5"))
        self._events.append(Upgraded(Transport.WEBSOCKET))
        self._flush()

    def _abandon_upgrade(self, reason: str) -> None:
        if self.state in (EngineState.PROBING, EngineState.PAUSING):
            self.state = step(self.state, Event.PROBE_FAILED)
            self._requests.append(WebSocketClose(1000))
            self._events.append(UpgradeFailed(reason))
            self._after_poll()
            self._flush()

    # --- Socket.IO ------------------------------------------------------------------------

    def _took_message(self, data: str | bytes) -> bool:
        """Take a text message packet of the open session in one step, without building its
        EnginePacket: what :meth:`_receive_engine` and :meth:`_receive_message` do with it.
        Most messages are such; for the others (False), the caller takes the general path."""
        assembler = self._assembler
        state = self.state
        if (
            (state is not _E.OPEN and state is not _E.UPGRADED)
            or data.__class__ is not str
            or data[:1] != "4"
            or data == "4"  # no data: the general path refuses it
            or assembler.pending is not None
        ):
            return False
        try:
            # text that starts with "4": a Socket.IO packet, or None (attachments awaited)
            packet = cast("SocketPacket | None", assembler.receive_message(data))
        except DecodeError as exc:  # offsets from the Socket.IO packet, as _receive_message's
            self._fail("parse error", f"Socket.IO packet: {exc.shifted(-1)}")
            return True
        if packet is not None:
            _SOCKET_HANDLERS[packet.type](self, packet)
        return True

    def _receive_message(self, data: str | bytes) -> None:
        if data == "":
            self._fail("parse error", _NO_DATA)
            return
        try:
            if isinstance(data, str):
                packet = self._assembler.receive_text(data)
            else:
                packet = self._assembler.receive_binary(data)
        except DecodeError as exc:
            self._fail("parse error", f"Socket.IO packet: {exc}")
            return
        if packet is not None:
            _SOCKET_HANDLERS[packet.type](self, packet)

    def _on_connect(self, packet: SocketPacket) -> None:
        namespace = packet.namespace
        socket = self._sockets.setdefault(namespace, _Socket())
        if socket.state is NamespaceState.CONNECTED:
            return
        if socket.state is NamespaceState.DISCONNECTED:
            # Unasked: protocol 4 servers connect '/' by themselves. Follow the server.
            self._advance_namespace(socket, Event.CONNECT, namespace)
        data = packet.data
        sid = data.get("sid") if isinstance(data, dict) else None
        socket.sid = sid if isinstance(sid, str) else None
        if socket.sid is None and self.eio == 4:
            self.answers_as_protocol_4 = True
        self._advance_namespace(socket, Event.GRANTED, namespace)
        self._events.append(NamespaceConnected(namespace, socket.sid, data))

    def _on_connect_error(self, packet: SocketPacket) -> None:
        namespace = packet.namespace
        socket = self._sockets.setdefault(namespace, _Socket())
        if socket.state is NamespaceState.CONNECTING:
            self._advance_namespace(socket, Event.REFUSED, namespace)
        message, data = socketio.connect_error_fields(packet.data)
        self._events.append(NamespaceRejected(namespace, message, data))

    def _on_disconnect(self, packet: SocketPacket) -> None:
        namespace = packet.namespace
        socket = self._sockets.get(namespace)
        if socket is not None and socket.state is NamespaceState.CONNECTED:
            self._advance_namespace(socket, Event.SERVER_DISCONNECT, namespace)
        if socket is not None:  # no ack can come on a socket the server disconnected
            socket.acks_asked.clear()
        self._events.append(NamespaceDisconnected(namespace, "io server disconnect"))

    def _on_event(self, packet: SocketPacket) -> None:
        data = packet.data or [None]
        if packet.id is not None:
            self._sockets.setdefault(packet.namespace, _Socket()).acks_owed[packet.id] = None
        self._events.append(_new(EventMessage, (packet.namespace, data[0], data[1:], packet.id)))

    def _on_ack(self, packet: SocketPacket) -> None:
        if packet.id is None:
            return  # nothing to match; the reference ignores it
        socket = self._sockets.get(packet.namespace)
        expected = socket is not None and packet.id in socket.acks_asked
        if socket is not None:
            socket.acks_asked.discard(packet.id)
        self._events.append(
            _new(AckMessage, (packet.namespace, packet.id, list(packet.data or []), expected))
        )

    # --- sending --------------------------------------------------------------------------

    def _socket_for(self, action: str, namespace: str) -> _Socket:
        self._check_open(action, namespace)
        socket = self._sockets.get(namespace)
        state = socket.state if socket else NamespaceState.DISCONNECTED
        if socket is None or state is not NamespaceState.CONNECTED:
            raise LocalProtocolError(f"can't {action} {namespace!r}: namespace {state.value}")
        return socket

    def _check_open(self, action: str, namespace: str) -> None:
        if self.state is EngineState.CLOSED:
            raise LocalProtocolError(f"can't {action} {namespace!r}: the session is closed")

    def _send_socket(self, packet: SocketPacket) -> None:
        # A binary packet and its attachments go together, in one POST when polling.
        self._send_engine(*(EnginePacket(EngineType.MESSAGE, p) for p in self._encode(packet)))

    def _send_engine(self, *packets: EnginePacket) -> None:
        self._outbox.extend(packets)
        self._flush()

    def _flush(self) -> None:
        """Send what waits in the outbox on the current transport, if it can take it.
        (After :meth:`close`, the last DISCONNECT and close packets still go out.)"""
        state = self.state
        if not self._outbox or state is _E.OPENING or state is _E.DECIDING:
            return
        if self.transport is Transport.WEBSOCKET:
            for packet in self._outbox:
                self._requests.append(WebSocketSend(engineio.encode_packet(packet, self.eio)))
            self._outbox = []
            return
        if self._polling_post or self.state is EngineState.PAUSING:
            return  # one POST at a time; the rest goes in the next one
        packets = self._take_batch()
        binary = self.eio == 3 and any(isinstance(p.data, bytes) for p in packets)
        body = engineio.encode_payload(packets, self.eio, binary=binary)
        content_type = "application/octet-stream" if binary else "text/plain;charset=UTF-8"
        self._polling_post = True
        self._requests.append(HttpPost(self._session_query(Transport.POLLING), body, content_type))

    def _take_batch(self) -> list[EnginePacket]:
        """As many queued packets as fit maxPayload, at least one (as the JS client does)."""
        limit = self.handshake.max_payload if self.handshake else None
        packets = self._outbox
        if limit is None or len(packets) == 1:
            self._outbox = []
            return packets
        size = 1
        for count, packet in enumerate(packets):
            data = packet.data
            size += (len(data) * 4 + 2) // 3 if isinstance(data, bytes) else len(data.encode())
            size += 2
            if size > limit and count:
                self._outbox = self._outbox[count:]
                return packets[:count]
        self._outbox = []
        return packets

    # --- state changes --------------------------------------------------------------------

    def _advance_namespace(
        self, socket: _Socket, event: Event, namespace: str, action: str | None = None
    ) -> None:
        socket.state = step(socket.state, event, f"{action or event.value} {namespace!r}")

    def _close(self, reason: str, detail: str | None = None, code: int | None = None) -> None:
        if self.state is EngineState.CLOSED:
            return
        self.state = step(self.state, Event.CLOSE)
        self.close_reason = Closed(reason, detail, code)
        self._ping_deadline = self._next_ping = self._pong_deadline = None
        for socket in self._sockets.values():
            if socket.state is not _N.DISCONNECTED:
                socket.state = step(socket.state, Event.CLOSE)
        self._events.append(self.close_reason)

    def _crash(self, exc: BaseException) -> None:
        """A bug met while taking an input: nothing the session holds can be trusted past
        it (h11's ERROR state). It ends, saying so; the exception stays in
        :attr:`internal_error` for whoever shows tracebacks."""
        if self.internal_error is None:
            self.internal_error = exc
        detail = f"{type(exc).__name__}: {exc} (a bug in siocli)"
        try:
            self._fail("internal error", detail)
        except Exception:  # the state itself is broken: end it by hand
            self.state = EngineState.CLOSED
            self.close_reason = Closed("internal error", detail)
            self._events.append(self.close_reason)

    def _fail(self, reason: str, detail: str, code: int | None = None) -> None:
        if self.state is EngineState.CLOSED:
            return
        if self.transport is Transport.WEBSOCKET and self.state is not EngineState.OPENING:
            self._requests.append(WebSocketClose(1000))
        self._outbox = []
        self._close(reason, detail, code)

    # --- queries --------------------------------------------------------------------------

    def _base_query(self, transport: Transport) -> dict[str, str]:
        return {**self._query, "EIO": str(self.eio), "transport": transport.value}

    def _session_query(self, transport: Transport) -> dict[str, str]:
        assert self.handshake is not None
        return {**self._base_query(transport), "sid": self.handshake.sid}


_new = tuple.__new__

_NO_DATA = (
    "a message packet with no data (4 alone): engine.io-parser hands it over as no data, "
    "and the reference client and server close the session on it"
)

_SOCKET_HANDLERS = {
    SocketType.CONNECT: ClientSession._on_connect,
    SocketType.DISCONNECT: ClientSession._on_disconnect,
    SocketType.EVENT: ClientSession._on_event,
    SocketType.BINARY_EVENT: ClientSession._on_event,
    SocketType.ACK: ClientSession._on_ack,
    SocketType.BINARY_ACK: ClientSession._on_ack,
    SocketType.CONNECT_ERROR: ClientSession._on_connect_error,
}


def _query_values(auth: dict[str, Any]) -> dict[str, str]:
    """Socket.IO 2.x sends auth as the namespace's query: its values as JavaScript writes
    them (``true``, ``null``, ``1.5``), objects and arrays as JSON rather than
    ``[object Object]``."""
    return {
        key: value if isinstance(value, str) else _jsonlib.dumps(value)
        for key, value in auth.items()
    }
