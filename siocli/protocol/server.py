"""The Socket.IO server, sans I/O, on top of :class:`EngineServer`.

:class:`SocketServer` is what a front end drives: the same ``receive_*`` inputs and
``data_to_send``/``next_deadline`` outputs as the Engine.IO server, and application events
out of ``events_received`` (:class:`ClientJoined`, :class:`ClientEvent`,
:class:`ClientAck`, :class:`ClientLeft`). The application answers with :meth:`emit`,
:meth:`ack` and :meth:`disconnect`; who may join which namespace is its ``authorize``.

It behaves as the reference servers do (socket.io lib/client.ts and lib/namespace.ts; socket.io 2.x
lib/client.js): protocol 5 with explicit
CONNECTs, a socket id per namespace, ``{"message", "data"}`` refusals, a session closed on
packets for namespaces not joined; protocol 4 (Engine.IO 3) with ``/`` joined at once, the
namespace's query as auth, string refusals, such packets ignored.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from . import socketio
from .engine_server import (
    EngineServer,
    HttpRequest,
    MessageReceived,
    Output,
    SessionClosed,
    SessionOpened,
    WireSeen,
)
from .errors import DecodeError
from .recovery import RecoveryStore, Restored, recovery_request
from .types import Parser, SocketPacket, SocketType, socket_protocol
from .wordings import INVALID_NAMESPACE

__all__ = [
    "ClientAck",
    "ClientBroke",
    "ClientEvent",
    "ClientJoined",
    "ClientLeft",
    "ClientRefused",
    "Refusal",
    "SocketServer",
]


@dataclass(frozen=True, slots=True)
class ClientJoined:
    """A socket joined. With connection state recovery, to a client that asked to recover:
    ``recovered``, then ``missed`` (the events sent again before the answer), or ``why`` it
    could not be."""

    sid: str  # the Engine.IO session
    namespace: str
    socket_id: str
    auth: Any
    eio: int
    query: dict[str, str]
    recovered: bool | None = None
    missed: int = 0
    why: str | None = None

    @property
    def asked_eio(self) -> str | None:
        """The revision the client asked for (its ``EIO=``) when its session is another:
        engine.io 3 never reads ``EIO``, so a Socket.IO 3.x/4.x client's ``EIO=4`` gets a
        revision 3 session it cannot use, and fails vaguely on its side. ``None`` when
        they agree, or when the client did not say."""
        asked = self.query.get("EIO")
        return asked if asked is not None and asked != str(self.eio) else None


@dataclass(frozen=True, slots=True)
class ClientEvent:
    sid: str
    namespace: str
    name: Any
    args: list[Any]
    ack_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClientAck:
    sid: str
    namespace: str
    ack_id: int
    args: list[Any]


@dataclass(frozen=True, slots=True)
class ClientLeft:
    """``reason``: ``client namespace disconnect``, ``server namespace disconnect``, or the
    Engine.IO session's end (``transport close``, ``ping timeout``...)."""

    sid: str
    namespace: str
    reason: str
    socket_id: str = ""
    kept: bool = False  # kept for connection state recovery


@dataclass(frozen=True, slots=True)
class ClientRefused:
    """A CONNECT was refused: the CONNECT_ERROR's message (and data) went to the client."""

    sid: str
    namespace: str
    message: str
    data: Any = None


@dataclass(frozen=True, slots=True)
class ClientBroke:
    """The client broke the protocol; its session is closed (``parse error``, as the
    reference server says). ``reason``: what it did."""

    sid: str
    reason: str


AppEvent = (
    ClientJoined | ClientEvent | ClientAck | ClientLeft | ClientRefused | ClientBroke | WireSeen
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a CONNECT is refused: ``message`` (and ``data``, protocol 5 only)."""

    message: str
    data: Any = None


Authorize = Callable[[str, str, Any], "Refusal | None"]
"""``authorize(sid, namespace, auth) -> None`` to accept, a :class:`Refusal` to refuse;
raise ``KeyError`` for a namespace that does not exist ("Invalid namespace"). ``sid`` is
the Engine.IO session asking."""


@dataclass(slots=True)
class _Client:
    """One Engine.IO session, as Socket.IO sees it."""

    sid: str
    eio: int
    query: dict[str, str]
    assembler: socketio.PacketAssembler
    sockets: dict[str, str] = field(default_factory=dict)  # namespace -> socket id
    pids: dict[str, str] = field(default_factory=dict)  # namespace -> pid (recovery)
    next_ack: dict[str, int] = field(default_factory=dict)
    asked: set[tuple[str, int]] = field(default_factory=set)  # our acks awaited

    @property
    def protocol(self) -> int:
        return socket_protocol(self.eio)


class SocketServer:
    """A Socket.IO server: Engine.IO sessions, namespaces, acks, binary attachments."""

    def __init__(
        self,
        engine: EngineServer,
        authorize: Authorize,
        *,
        connect_timeout: float = 45.0,
        new_id: Callable[[], str] | None = None,
        parser: Parser = Parser.DEFAULT,
        recover: float | None = None,
    ) -> None:
        self.engine = engine
        self.parser = parser
        self._encoders = {p: socketio.encoder(parser, p) for p in (4, 5)}
        self.authorize = authorize
        self.connect_timeout = connect_timeout
        self.clients: dict[str, _Client] = {}
        # protocol 5: sid -> when its CONNECT is due; only the clients yet to join, so that
        # next_deadline, called after every input, does not visit every client
        self._join_by: dict[str, float] = {}
        self._events: list[AppEvent] = []
        self._now = 0.0  # the time of the latest input
        self._new_id = new_id or (lambda: _secrets.token_urlsafe(15))
        # connection state recovery (socket.io's connectionStateRecovery), protocol 5 only:
        # ``recover`` is its maxDisconnectionDuration, in seconds
        self.recovery = RecoveryStore(recover, self._new_id) if recover is not None else None

    # --- the front end's side: same as EngineServer, Socket.IO handled on the way --------

    def receive_request(self, request: HttpRequest, now: float) -> None:
        self.engine.receive_request(request, now)
        self._engine_events(now)

    def receive_body(self, request: int, data: bytes, now: float) -> None:
        self.engine.receive_body(request, data, now)
        self._engine_events(now)

    def receive_body_end(self, request: int, now: float) -> None:
        self.engine.receive_body_end(request, now)
        self._engine_events(now)

    def receive_request_closed(self, request: int, now: float) -> None:
        self.engine.receive_request_closed(request, now)
        self._engine_events(now)

    def receive_ws_message(self, conn: int, data: str | bytes, now: float) -> None:
        self.engine.receive_ws_message(conn, data, now)
        self._engine_events(now)

    def receive_ws_closed(self, conn: int, now: float, *, failed: bool = False) -> None:
        self.engine.receive_ws_closed(conn, now, failed=failed)
        self._engine_events(now)

    def receive_timeout(self, now: float) -> None:
        for sid, due in list(self._join_by.items()):
            if now >= due:
                # once: a polling session's close waits for its next GET
                del self._join_by[sid]
                self.engine.close(sid, "connect timeout")  # no CONNECT in time
        self.engine.receive_timeout(now)
        self._engine_events(now)

    def next_deadline(self) -> float | None:
        engine = self.engine.next_deadline()
        if not self._join_by:  # the usual case: every client has joined
            return engine
        joining = min(self._join_by.values())
        return joining if engine is None else min(joining, engine)

    def data_to_send(self) -> list[Output]:
        return self.engine.data_to_send()

    def has_events(self) -> bool:
        return bool(self._events) or self.engine.has_events()

    def events_received(self) -> list[AppEvent]:
        # Sending has consequences too (the wire seen going out, a session a flush ended):
        # they count from the latest input.
        self._engine_events(self._now)
        events, self._events = self._events, []
        return events

    # --- the application's side --------------------------------------------------------

    def emit(
        self, sid: str, namespace: str, event: str, *args: Any, ack: bool = False
    ) -> int | None:
        """Send an event to one socket; with ``ack``, the id the client's ACK will carry."""
        client = self.clients.get(sid)
        if client is None or namespace not in client.sockets:
            return None
        ack_id = None
        data = [event, *args]
        if ack:
            ack_id = client.next_ack.get(namespace, 0)
            client.next_ack[namespace] = ack_id + 1
            client.asked.add((namespace, ack_id))
        elif self.recovery is not None and namespace in client.pids:
            data = self.recovery.stamp(client.pids[namespace], data)  # its offset appended
        self._send(client, SocketPacket(SocketType.EVENT, namespace, data, ack_id))
        return ack_id

    def broadcast(self, namespace: str, event: str, *args: Any) -> None:
        """Send an event to every socket of ``namespace``; with recovery, sockets away
        keep it for when they come back."""
        for sid, client in self.clients.items():
            if namespace in client.sockets:
                self.emit(sid, namespace, event, *args)
        if self.recovery is not None:
            self.recovery.missed(namespace, [event, *args], self._now)

    def ack(self, sid: str, namespace: str, ack_id: int, *args: Any) -> None:
        client = self.clients.get(sid)
        if client is not None:
            self._send(client, SocketPacket(SocketType.ACK, namespace, list(args), ack_id))

    def disconnect(self, sid: str, namespace: str = "/", *, close: bool = False) -> None:
        """Leave ``namespace`` for the client; with ``close``, end the connection too."""
        client = self.clients.get(sid)
        if client is None:
            return
        if namespace in client.sockets:
            self._send(client, SocketPacket(SocketType.DISCONNECT, namespace))
            socket_id = client.sockets.pop(namespace)
            self._left(client, namespace, "server namespace disconnect")
            self._events.append(
                ClientLeft(sid, namespace, "server namespace disconnect", socket_id)
            )
        if close:
            self.engine.close(sid, "forced close")

    def joined(self, namespace: str | None = None) -> list[tuple[str, str]]:
        """(sid, namespace) of every joined socket (of ``namespace`` only, if given)."""
        return [
            (sid, name)
            for sid, client in self.clients.items()
            for name in client.sockets
            if namespace is None or name == namespace
        ]

    # --- Engine.IO events ----------------------------------------------------------------

    def _engine_events(self, now: float) -> None:
        self._now = now
        for event in self.engine.events_received():
            if isinstance(event, SessionOpened):
                self._opened(event, now)
            elif isinstance(event, MessageReceived):
                client = self.clients.get(event.sid)
                # not once the session is closing: a message after an invalid one in
                # the same POST, say (nothing may follow the close packet)
                if client is not None and self.engine.is_open(event.sid):
                    self._message(client, event.data)
            elif isinstance(event, SessionClosed):
                self._closed(event)
            elif isinstance(event, WireSeen):
                self._events.append(event)  # for the application's view of the wire

    def _opened(self, event: SessionOpened, now: float) -> None:
        protocol = socket_protocol(event.eio)
        client = _Client(
            event.sid, event.eio, event.query, socketio.PacketAssembler(protocol, self.parser)
        )
        self.clients[event.sid] = client
        if protocol == 4:
            # Socket.IO 2.x joins every client to '/' at once (socket.io 2.x lib/client.js,
            # ``setup``).
            self._connect(client, "/", self._query_auth(event.query))
        else:
            self._join_by[event.sid] = now + self.connect_timeout

    def _closed(self, event: SessionClosed) -> None:
        client = self.clients.pop(event.sid, None)
        self._join_by.pop(event.sid, None)
        if client is not None:
            for namespace, socket_id in client.sockets.items():
                kept = self._left(client, namespace, event.reason)
                self._events.append(
                    ClientLeft(client.sid, namespace, event.reason, socket_id, kept)
                )

    def _left(self, client: _Client, namespace: str, reason: str) -> bool:
        """The socket is gone; with recovery, kept if ``reason`` allows: whether it is."""
        pid = client.pids.pop(namespace, None)
        if pid is not None and self.recovery is not None:
            return self.recovery.left(pid, reason, self._now)
        return False

    def _message(self, client: _Client, data: str | bytes) -> None:
        if data == "":  # "4" alone: the reference's decoder throws on no data (parse error)
            self._broke(client, "a message packet with no data")
            return
        try:
            if isinstance(data, str):
                packet = client.assembler.receive_text(data)
            else:
                packet = client.assembler.receive_binary(data)
        except DecodeError as exc:
            # socket.io 2.x ignores unknown packet types; everything else closes (socket.io 2.x
            # lib/client.js)
            if client.protocol == 4 and "unknown Socket.IO packet type" in exc.reason:
                return
            client.assembler.reset()
            self._broke(client, exc.reason)
            return
        if packet is not None:
            self._packet(client, packet)

    def _packet(self, client: _Client, packet: SocketPacket) -> None:
        ptype = packet.type
        namespace = packet.namespace
        if ptype is SocketType.CONNECT:
            auth: Any = packet.data
            if client.protocol == 4 and "?" in namespace:
                namespace, _, query = namespace.partition("?")
                auth = dict(parse_qsl(query, keep_blank_values=True))
            if namespace in client.sockets:
                if client.protocol == 5:
                    self._broke(client, f"a second CONNECT to {namespace}")
                return
            self._connect(client, namespace, auth)
            return
        if namespace not in client.sockets:
            if client.protocol == 5:  # socket.io-protocol spec: "Connection to a namespace"
                self._broke(client, f"a {ptype.name} on {namespace}, a namespace it has not joined")
            return
        if ptype is SocketType.DISCONNECT:
            socket_id = client.sockets.pop(namespace)
            self._left(client, namespace, "client namespace disconnect")
            self._events.append(
                ClientLeft(client.sid, namespace, "client namespace disconnect", socket_id)
            )
        elif ptype in (SocketType.EVENT, SocketType.BINARY_EVENT):
            data = packet.data or [None]
            self._events.append(
                ClientEvent(client.sid, namespace, data[0], list(data[1:]), packet.id)
            )
        elif ptype in (SocketType.ACK, SocketType.BINARY_ACK):
            ack_id = packet.id
            if ack_id is not None and (namespace, ack_id) in client.asked:  # others: ignored
                client.asked.discard((namespace, ack_id))
                self._events.append(
                    ClientAck(client.sid, namespace, ack_id, list(packet.data or []))
                )
        elif ptype is SocketType.CONNECT_ERROR and client.protocol == 5:
            self._broke(client, "a CONNECT_ERROR, which only servers send")

    def _broke(self, client: _Client, reason: str) -> None:
        self._events.append(ClientBroke(client.sid, reason))
        self.engine.close(client.sid, "parse error")

    def _connect(self, client: _Client, namespace: str, auth: Any) -> None:
        recovery = self.recovery if client.protocol == 5 else None
        request = recovery_request(auth) if recovery is not None else None
        why = None
        if recovery is not None and request is not None:
            restored = recovery.restore(*request, namespace, self._now)
            if isinstance(restored, Restored):
                # As socket.io: the missed events first, then the answer with the same socket
                # id and pid; the authorization is not asked again (skipMiddlewares).
                for event in restored.missed:
                    self._send(client, SocketPacket(SocketType.EVENT, namespace, event))
                missed = len(restored.missed)
                self._joined(client, namespace, auth, restored.socket_id, request[0], True, missed)
                return
            why = restored
        try:
            refusal = self.authorize(client.sid, namespace, auth)
        except KeyError:
            refusal = Refusal(INVALID_NAMESPACE)
        if refusal is not None:
            data: Any = refusal.message
            if client.protocol == 5:
                data = {"message": refusal.message}
                if refusal.data is not None:
                    data["data"] = refusal.data
            self._send(client, SocketPacket(SocketType.CONNECT_ERROR, namespace, data))
            self._events.append(ClientRefused(client.sid, namespace, refusal.message, refusal.data))
            return
        pid = None
        if client.protocol == 5:
            socket_id = self._new_id()
            if recovery is not None:
                pid = recovery.open(namespace, socket_id)
        else:  # Socket.IO 2.x: the engine sid, '/nsp#sid' elsewhere
            socket_id = client.sid if namespace == "/" else f"{namespace}#{client.sid}"
        recovered = None if request is None else False
        self._joined(client, namespace, auth, socket_id, pid, recovered, 0, why)

    def _joined(
        self,
        client: _Client,
        namespace: str,
        auth: Any,
        socket_id: str,
        pid: str | None,
        recovered: bool | None,
        missed: int = 0,
        why: str | None = None,
    ) -> None:
        """The socket is in: the CONNECT answer (protocol 5: the socket id, and the pid with
        recovery; 2.x: nothing), then :class:`ClientJoined`."""
        client.sockets[namespace] = socket_id
        answer: dict[str, str] | None = None
        if client.protocol == 5:
            answer = {"sid": socket_id}
            if pid is not None:
                answer["pid"] = client.pids[namespace] = pid
        self._join_by.pop(client.sid, None)
        self._send(client, SocketPacket(SocketType.CONNECT, namespace, answer))
        self._events.append(
            ClientJoined(
                client.sid,
                namespace,
                socket_id,
                auth,
                client.eio,
                client.query,
                recovered,
                missed,
                why,
            )
        )

    @staticmethod
    def _query_auth(query: dict[str, str]) -> dict[str, str]:
        """Socket.IO 2.x: the handshake's own query is the main namespace's "auth"."""
        return {k: v for k, v in query.items() if k not in ("EIO", "transport", "t", "sid", "b64")}

    def _send(self, client: _Client, packet: SocketPacket) -> None:
        for piece in self._encoders[client.protocol](packet):
            self.engine.send(client.sid, piece)
