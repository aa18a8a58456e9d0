"""Protocol rules across packets: what a single packet cannot tell.

A :class:`Checker` follows one Engine.IO session, both directions, in wire order, and
reports :class:`~siocli.protocol.types.Finding` values: handshake first, the upgrade order
(``2probe`` → ``3probe`` → ``5``), heartbeat direction per revision and its timing against
the handshake, CONNECT answered by CONNECT or CONNECT_ERROR, ack ids answered once and by the
right namespace, attachment counts, maxPayload, packets after close, and signs that the two
peers speak different revisions.

Feed it, in order: :meth:`Checker.message` for each wire message (sizes),
:meth:`Checker.engine_packet` for each Engine.IO packet, :meth:`Checker.socket_packet` for each
complete Socket.IO packet, and :meth:`Checker.end` when the capture ends. Each returns the
findings about what it was given. Times are seconds on any clock, or ``None`` when unknown.
"""

from __future__ import annotations

from .recovery import event_offset, recovery_request
from .states import EngineState, Event, NamespaceState, allowed, observed, step
from .types import (
    Direction,
    EnginePacket,
    EngineType,
    Finding,
    Handshake,
    Severity,
    SocketPacket,
    SocketType,
    Transport,
    heartbeat_pinger,
    socket_protocol,
)
from .wordings import EngineError

__all__ = ["Checker"]

C2S = Direction.C2S
S2C = Direction.S2C
VIOLATION = Severity.VIOLATION
WARNING = Severity.WARNING
INFO = Severity.INFO

# The default pingTimeout of the reference server changed twice in each line, and people
# run every release: 5000 in engine.io 3.2-3.5 (socket.io 2.1-2.4) and 4.x (socket.io 3.x);
# 20000 from engine.io 3.6.0 (socket.io 2.5) and 5.0.0 (socket.io 4.x), per engine.io's
# changelog ("increase the default value of pingTimeout") and lib/server.js of 3.6.2 and
# 6.6. A handshake with maxPayload comes from engine.io >= 6.2: only 20000 is its default.
_DEFAULT_PING_TIMEOUTS: tuple[int, ...] = (20000, 5000)  # the same pair in both revisions
_DEFAULTS_SAID = {
    3: "engine.io 3.6 (socket.io 2.5) defaults to 20000, engine.io 3.2-3.5 (socket.io 2.1-2.4) "
    "to 5000",
    4: "engine.io >= 5 (socket.io 4.x) defaults to 20000, engine.io 4.x (socket.io 3.x) to 5000",
}

_MESSAGE = EngineType.MESSAGE
_UPGRADED = EngineState.UPGRADED
_PROBED = (EngineState.PROBING, EngineState.PAUSING)  # a WebSocket beside polling, not yet 5
_CONNECTED = NamespaceState.CONNECTED
_CONNECTING = NamespaceState.CONNECTING
_DISCONNECTED = NamespaceState.DISCONNECTED

_AckSocket = tuple[Direction, str]  # (asker, namespace): ack ids are counted per socket
ANSWERED_KEPT = 2048
"""Answered ack ids remembered per session, to tell an ack answered twice: at least the
latest this many, at most twice as many, so that a long capture does not grow the checker
(an id answered again after that many other answers may be reported as unknown rather
than twice)."""
UNANSWERED_LISTED = 5
"""At the end, acks never answered are reported one by one up to this many per asker and
namespace, and beyond as one finding with the count and the first ids."""


class _Namespace:  # a plain class, as Checker below
    __slots__ = ("recovering", "since", "state")

    def __init__(
        self, state: NamespaceState, since: float | None = None, recovering: bool = False
    ) -> None:
        self.state = state
        self.since = since
        self.recovering = recovering  # its CONNECT asked to recover a session (pid and offset)


class Checker:
    """Protocol checks for one Engine.IO session of revision ``eio`` (3 or 4).

    ``expect_handshake``: the capture starts at the beginning of the session, so the first
    packet must be the server's open packet. Leave it off for loose packets.

    A plain slotted class, not a dataclass: Python 3.11 compiles a dataclass's methods when
    its module is imported, ~1 ms of every start-up; a checker is never compared or printed.
    """

    __slots__ = (
        "_after_upgrade",
        "_answered",
        "_answered_before",
        "_answered_count",
        "_asked",
        "_engine",
        "_last_ping",
        "_namespaces",
        "_open_acks",
        "_polled_c2s",
        "_seen_packet",
        "_unanswered_pings",
        "closed",
        "eio",
        "expect_handshake",
        "handshake",
        "transport",
    )

    def __init__(self, eio: int = 4, expect_handshake: bool = True) -> None:
        self.eio = eio
        self.expect_handshake = expect_handshake
        self.handshake: Handshake | None = None
        self.transport: Transport | None = None
        self.closed = False
        self._seen_packet = False
        # The session's way through the upgrade, as the capture shows it (protocol/states.py;
        # ``closed`` is kept apart: a capture goes on after a close, and so do its checks).
        self._engine = EngineState.OPENING
        self._last_ping: dict[Direction, float | None] = {}
        self._unanswered_pings: dict[Direction, list[float | None]] = {}
        self._namespaces: dict[str, _Namespace] = {}
        # Acks asked and not answered yet, by socket: id -> when it was asked (a count). An
        # unknown answer looks for its id on the asker's other sockets, not through every ack
        # of the capture; ints grouped by socket rather than (asker, namespace, id) keys take
        # half the memory, and a capture of many sessions keeps them all.
        self._open_acks: dict[_AckSocket, dict[int, int]] = {}
        self._asked = 0
        # Answered ack ids in two generations: the current one, and the one before it
        # (dropped when the current one is full): a bounded memory of recent answers, in O(1).
        self._answered: dict[_AckSocket, set[int]] = {}
        self._answered_before: dict[_AckSocket, set[int]] = {}
        self._answered_count = 0
        self._polled_c2s: list[str] = []
        self._after_upgrade: list[str] | None = None

    @property
    def protocol(self) -> int:
        return socket_protocol(self.eio)

    # --- wire messages -------------------------------------------------------------------

    def message(
        self, direction: Direction, transport: Transport, size: int, time: float | None = None
    ) -> list[Finding]:
        """A wire message of ``size`` bytes was seen."""
        findings: list[Finding] = []
        limit = self.handshake.max_payload if self.handshake else None
        if limit is not None and size > limit and direction is C2S:
            if transport is Transport.POLLING:
                consequence = "the reference server answers 413 and drops the data"
            else:
                consequence = "the reference server closes the WebSocket with code 1009"
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.max-payload",
                    f"{size} bytes is more than the server's maxPayload ({limit}): {consequence}",
                )
            )
        if transport is Transport.POLLING and self._engine is _UPGRADED:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.polling-after-upgrade",
                    "polling request after the upgrade completed: the server answers 400 "
                    + EngineError.BAD_REQUEST.body(),
                )
            )
        return findings

    # --- Engine.IO -----------------------------------------------------------------------

    def engine_packet(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport = Transport.WEBSOCKET,
        time: float | None = None,
        handshake: Handshake | None = None,
    ) -> list[Finding]:
        """An Engine.IO packet; ``handshake`` is the decoded data of an open packet."""
        findings: list[Finding] = []
        ptype = packet.type
        if self.closed or not self._seen_packet:
            self._first_or_after_close(direction, ptype, transport, findings)
        if self.transport is None:
            self.transport = transport
        if ptype is _MESSAGE:  # most packets: the one rule set that is not in the table
            self._message(direction, packet, transport, findings)
        else:
            _ENGINE_RULES[ptype](self, direction, packet, transport, time, handshake, findings)
        return findings

    def _first_or_after_close(
        self,
        direction: Direction,
        ptype: EngineType,
        transport: Transport,
        findings: list[Finding],
    ) -> None:
        first = not self._seen_packet
        self._seen_packet = True
        # After a client's close over polling, the server releases the pending GET with a
        # noop (engine.io lib/transports/polling.ts, ``onClose``): that one is expected.
        released = ptype is EngineType.NOOP and direction is S2C and transport is Transport.POLLING
        if self.closed and not released:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.after-close",
                    f"{ptype.label} packet after the session was closed",
                )
            )
        if first and ptype is not EngineType.OPEN and self.expect_handshake:
            findings.append(
                Finding(
                    WARNING,
                    "eio.no-handshake",
                    "the session does not start with the server's open packet (0{...}): "
                    "the capture may start mid-session",
                )
            )

    def _open(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        time: float | None,
        handshake: Handshake | None,
        findings: list[Finding],
    ) -> None:
        if direction is C2S:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.open-from-client",
                    "open packet sent by the client: only the server opens a session",
                )
            )
            return
        if self.handshake is not None:
            findings.append(
                Finding(VIOLATION, "eio.second-open", "a second open packet in one session")
            )
            return
        if handshake is None:
            return  # the decoder reported why
        self.handshake = handshake
        self.transport = transport
        if allowed(self._engine, Event.HANDSHAKE):  # not after packets of a later state
            self._engine = step(self._engine, Event.HANDSHAKE)
        defaults = _DEFAULT_PING_TIMEOUTS
        if handshake.max_payload is not None:
            defaults = defaults[:1]  # engine.io >= 6.2
        if handshake.ping_timeout not in defaults:
            said = (
                "engine.io >= 6.2 (it sends maxPayload) defaults to 20000; 5000 was the default "
                "of engine.io 4.x (socket.io 3.x)"
                if handshake.max_payload is not None
                else _DEFAULTS_SAID[self.eio]
            )
            findings.append(
                Finding(
                    INFO,
                    "eio.ping-timeout-not-default",
                    f"pingTimeout is {handshake.ping_timeout} ms, not a default: {said}",
                )
            )
        if self.eio == 4 and handshake.max_payload is None:
            findings.append(
                Finding(
                    INFO,
                    "eio.no-max-payload",
                    "no maxPayload in the handshake: the server runs engine.io older than 6.2 "
                    "(socket.io < 4.5)",
                )
            )
        if transport is Transport.WEBSOCKET and handshake.upgrades:
            findings.append(
                Finding(
                    WARNING,
                    "eio.upgrades-on-websocket",
                    f"a session opened over WebSocket offers upgrades {list(handshake.upgrades)}:"
                    " there is nothing to upgrade to",
                )
            )

    def _close(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        time: float | None,
        handshake: Handshake | None,
        findings: list[Finding],
    ) -> None:
        if transport is Transport.WEBSOCKET:
            findings.append(
                Finding(
                    WARNING,
                    "eio.close-over-websocket",
                    "close packet over WebSocket: the JS peers never send it and the reference "
                    "server ignores it; a WebSocket session ends with the WebSocket close frame",
                )
            )
            return
        self.closed = True

    def _ping(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        time: float | None,
        handshake: Handshake | None,
        findings: list[Finding],
    ) -> None:
        if packet.data == "probe":
            if direction is S2C:
                findings.append(
                    Finding(
                        VIOLATION,
                        "eio.probe-direction",
                        "ping with data 'probe' sent by the server: probes are "
                        "client-initiated; expected the client to send 2probe",
                    )
                )
            elif transport is Transport.POLLING:
                findings.append(
                    Finding(
                        VIOLATION,
                        "eio.probe-on-polling",
                        "2probe over polling: the probe goes on the new WebSocket",
                    )
                )
            else:
                self._engine = observed(self._engine, Event.PROBE)
            return
        pinger = heartbeat_pinger(self.eio)
        if direction is not pinger:
            findings.append(self._heartbeat_direction("ping", direction))
        self._check_ping_interval(direction, time, findings)
        self._unanswered_pings.setdefault(direction, []).append(time)

    def _pong(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        time: float | None,
        handshake: Handshake | None,
        findings: list[Finding],
    ) -> None:
        if packet.data == "probe":
            if direction is C2S:
                findings.append(
                    Finding(
                        VIOLATION,
                        "eio.probe-direction",
                        "pong with data 'probe' sent by the client: only the server answers a "
                        "probe (3probe)",
                    )
                )
            elif not allowed(self._engine, Event.PROBE_ANSWERED):
                findings.append(
                    Finding(
                        VIOLATION, "eio.probe-unasked", "3probe without a 2probe from the client"
                    )
                )
            else:
                self._engine = step(self._engine, Event.PROBE_ANSWERED)
            return
        pinger = heartbeat_pinger(self.eio)
        answerer = C2S if pinger is S2C else S2C
        if direction is not answerer:
            findings.append(self._heartbeat_direction("pong", direction))
        pending = self._unanswered_pings.get(_other(direction), [])
        if not pending:
            findings.append(
                Finding(
                    WARNING,
                    "eio.pong-without-ping",
                    f"pong from the {direction.peer} without a ping from the "
                    f"{_other(direction).peer} to answer",
                )
            )
            return
        ping_time = pending.pop(0)
        timeout = self.handshake.ping_timeout if self.handshake else None
        if timeout is not None and time is not None and ping_time is not None:
            delay_ms = (time - ping_time) * 1000
            if delay_ms > timeout:
                findings.append(
                    Finding(
                        VIOLATION,
                        "eio.pong-late",
                        f"pong {delay_ms:.0f} ms after the ping, past pingTimeout ({timeout} ms): "
                        f"the {_other(direction).peer} has closed the session by then",
                    )
                )

    def _heartbeat_direction(self, kind: str, direction: Direction) -> Finding:
        if self.eio == 4:
            rule = "in Engine.IO 4 the server pings and the client answers"
            other = 3
        else:
            rule = "in Engine.IO 3 the client pings and the server answers"
            other = 4
        consequence = (
            "; the reference server closes the session ('invalid heartbeat direction')"
            if direction is C2S
            else ""
        )
        return Finding(
            VIOLATION,
            "eio.heartbeat-direction",
            f"heartbeat {kind} sent by the {direction.peer}: {rule}{consequence}. "
            f"This is the Engine.IO {other} direction: do the peers speak different revisions?",
        )

    def _check_ping_interval(
        self, direction: Direction, time: float | None, findings: list[Finding]
    ) -> None:
        last = self._last_ping.get(direction)
        self._last_ping[direction] = time
        hs = self.handshake
        if hs is None or time is None or last is None:
            return
        gap_ms = (time - last) * 1000
        if gap_ms > hs.ping_interval + hs.ping_timeout:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.ping-gap",
                    f"{gap_ms:.0f} ms since the previous ping, more than pingInterval + "
                    f"pingTimeout ({hs.ping_interval} + {hs.ping_timeout} ms): the other side "
                    "has timed out by then",
                )
            )

    def _message(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        findings: list[Finding],
    ) -> None:
        if (
            transport is Transport.WEBSOCKET
            and self._engine in _PROBED
            and self.transport is Transport.POLLING
        ):
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.message-before-upgrade",
                    "message on the new WebSocket before the upgrade (5) completed: only "
                    "2probe and 5 are allowed there; the server closes the candidate transport",
                )
            )
        if direction is C2S and (transport is Transport.POLLING or self._after_upgrade is not None):
            self._note_repeat(packet, transport, findings)

    def _upgrade(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        time: float | None,
        handshake: Handshake | None,
        findings: list[Finding],
    ) -> None:
        if direction is S2C:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.upgrade-from-server",
                    "upgrade packet sent by the server: only the client sends 5",
                )
            )
            return
        if transport is Transport.POLLING:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.upgrade-on-polling",
                    "upgrade packet over polling: 5 goes on the new WebSocket",
                )
            )
            return
        if not allowed(self._engine, Event.UPGRADE):
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.upgrade-without-probe",
                    "upgrade (5) before a completed probe: the client sends 2probe, the server "
                    "answers 3probe, then the client sends 5",
                )
            )
        self._engine = observed(self._engine, Event.UPGRADE)
        self.transport = Transport.WEBSOCKET
        # what the client POSTed moves over: kept for a second upgrade, it would only
        # hold a finished session's messages in memory
        self._after_upgrade, self._polled_c2s = self._polled_c2s, []

    def _noop(
        self,
        direction: Direction,
        packet: EnginePacket,
        transport: Transport,
        time: float | None,
        handshake: Handshake | None,
        findings: list[Finding],
    ) -> None:
        if direction is C2S:
            findings.append(
                Finding(
                    VIOLATION,
                    "eio.noop-from-client",
                    "noop sent by the client: "
                    "only the server sends noop, to release a pending poll",
                )
            )
        elif transport is Transport.WEBSOCKET:
            findings.append(
                Finding(
                    WARNING,
                    "eio.noop-over-websocket",
                    "noop over WebSocket: it only releases a pending polling request",
                )
            )

    def _note_repeat(
        self, packet: EnginePacket, transport: Transport, findings: list[Finding]
    ) -> None:
        """Messages POSTed before an upgrade and sent again on the WebSocket right after it
        would be delivered twice (the docs' sample session does this). Called for the
        client's messages while that can happen: over polling, or right after the upgrade."""
        text = packet.data if isinstance(packet.data, str) else None
        if transport is Transport.POLLING and text is not None:
            self._polled_c2s = [*self._polled_c2s[-15:], text]
            return
        expected = self._after_upgrade
        if not expected or text is None:
            self._after_upgrade = None
            return
        if text in expected:
            findings.append(
                Finding(
                    WARNING,
                    "eio.repeated-after-upgrade",
                    f"the client already POSTed 4{text} before the upgrade: sent again, it is "
                    "delivered twice",
                )
            )
            expected.remove(text)
        else:
            self._after_upgrade = None

    def steady_packet(
        self,
        direction: Direction,
        transport: Transport,
        size: int,
        packet: SocketPacket,
        time: float | None = None,
    ) -> list[Finding] | None:
        """:meth:`message`, :meth:`engine_packet` and :meth:`socket_packet` at once, for a
        WebSocket message of ``size`` bytes whose one Engine.IO packet carries the complete
        Socket.IO ``packet`` (not binary): the socket findings, when the Engine.IO rules
        have nothing to say or to change, as in the steady state of a session; ``None``
        when they may (a first packet, a close, an upgrade under way, a message over
        maxPayload...): then call the three in turn."""
        if (
            self.closed
            or not self._seen_packet  # (which also sets self.transport)
            or transport is not Transport.WEBSOCKET
            or self._engine in _PROBED
        ):
            return None
        if direction is C2S:
            if self._after_upgrade is not None:
                return None  # perhaps a message POSTed before the upgrade, sent again
            limit = self.handshake.max_payload if self.handshake else None
            if limit is not None and size > limit:
                return None
        findings: list[Finding] = []
        _SOCKET_RULES[packet.type](self, direction, packet, time, findings)
        return findings

    # --- Socket.IO -----------------------------------------------------------------------

    def socket_packet(
        self, direction: Direction, packet: SocketPacket, time: float | None = None
    ) -> list[Finding]:
        """A complete Socket.IO packet (binary ones with their attachments re-attached)."""
        findings: list[Finding] = []
        _SOCKET_RULES[packet.type](self, direction, packet, time, findings)
        return findings

    def _connect(
        self,
        direction: Direction,
        packet: SocketPacket,
        time: float | None,
        findings: list[Finding],
    ) -> None:
        name = packet.namespace
        v4 = self.protocol == 4
        key = name.split("?", 1)[0] if v4 else name
        ns = self._namespaces.get(key)
        before = _DISCONNECTED if ns is None else ns.state
        if direction is C2S:
            if before is _CONNECTED:
                findings.append(
                    Finding(
                        VIOLATION,
                        "sio.connect-twice",
                        f"CONNECT for {key!r}, which is already connected: a Socket.IO 3/4 "
                        "server closes the session",
                    )
                )
            if v4 and key == "/":
                findings.append(
                    Finding(
                        WARNING,
                        "sio.v4-connect-main",
                        "CONNECT for '/' from a protocol 4 client: socket.io 2.x connects "
                        "every client to '/' by itself",
                    )
                )
            recovering = recovery_request(packet.data) is not None
            self._namespaces[key] = _Namespace(observed(before, Event.CONNECT), time, recovering)
            return
        if not v4:
            if not isinstance(packet.data, dict) or "sid" not in packet.data:
                findings.append(
                    Finding(
                        VIOLATION,
                        "sio.connect-without-sid",
                        "CONNECT answer without a sid: this is how a Socket.IO 2.x (protocol 4) "
                        "server answers; a 3.x/4.x client refuses it. Are the peers on "
                        "different versions (try --eio 3)?",
                    )
                )
            if not allowed(before, Event.GRANTED):
                findings.append(
                    Finding(
                        VIOLATION,
                        "sio.connect-unrequested",
                        f"the server granted {key!r} without a CONNECT from the client"
                        + (" (Socket.IO 2.x servers do this for '/')" if key == "/" else ""),
                    )
                )
        elif packet.data is not None:
            findings.append(
                Finding(
                    WARNING,
                    "sio.v4-connect-payload",
                    "CONNECT answer with a payload: protocol 4 servers send none",
                )
            )
        self._namespaces[key] = _Namespace(observed(before, Event.GRANTED), time)

    def _disconnect(
        self,
        direction: Direction,
        packet: SocketPacket,
        time: float | None,
        findings: list[Finding],
    ) -> None:
        name = packet.namespace
        ns = self._namespaces.get(name)
        if not self._connected(name):
            findings.append(
                Finding(
                    WARNING,
                    "sio.disconnect-unconnected",
                    f"DISCONNECT for {name!r}, which is not connected",
                )
            )
        event = Event.DISCONNECT if direction is C2S else Event.SERVER_DISCONNECT
        if ns is not None:
            ns.state = observed(ns.state, event)
        else:
            self._namespaces[name] = _Namespace(observed(_DISCONNECTED, event), time)

    def _connected(self, name: str) -> bool:
        ns = self._namespaces.get(name)
        if ns is None:
            return self.protocol == 4 and name == "/"
        return ns.state is _CONNECTED

    def _connect_error(
        self,
        direction: Direction,
        packet: SocketPacket,
        time: float | None,
        findings: list[Finding],
    ) -> None:
        name = packet.namespace
        if direction is C2S:
            findings.append(
                Finding(
                    VIOLATION,
                    "sio.connect-error-from-client",
                    f"{packet.type.label(self.protocol)} sent by the client: a Socket.IO "
                    "3/4 server closes the session",
                )
            )
            return
        if self.protocol == 5 and isinstance(packet.data, str):
            findings.append(
                Finding(
                    WARNING,
                    "sio.connect-error-string",
                    "CONNECT_ERROR with a string payload: protocol 5 servers send "
                    '{"message": ..., "data": ...}; a string is the protocol 4 form',
                )
            )
        ns = self._namespaces.get(name)
        before = _DISCONNECTED if ns is None else ns.state
        unrequested = not allowed(before, Event.REFUSED)
        # a protocol 4 server may refuse '/' that the client never asks for (it is implicit)
        if unrequested and (self.protocol == 5 or ns is not None):
            findings.append(
                Finding(
                    WARNING,
                    "sio.connect-error-unrequested",
                    f"connection refused for {name!r}, which the client did not ask for",
                )
            )
        self._namespaces[name] = _Namespace(observed(before, Event.REFUSED), time)

    def _event(
        self,
        direction: Direction,
        packet: SocketPacket,
        time: float | None,
        findings: list[Finding],
    ) -> None:
        name = packet.namespace
        ns = self._namespaces.get(name)
        if (ns is None or ns.state is not _CONNECTED) and not self._connected(name):
            findings.append(self._not_connected(direction, packet))
        if packet.id is not None:
            # Ack ids are counted per socket (namespace) by the sender (socket.io-protocol spec:
            # "Acknowledgement").
            asked = self._open_acks.get((direction, name))
            if asked is None:
                asked = self._open_acks[(direction, name)] = {}
            if packet.id in asked:
                findings.append(
                    Finding(
                        WARNING,
                        "sio.ack-id-reused",
                        f"ack id {packet.id} reused on {name!r} while the first one is "
                        "still unanswered",
                    )
                )
            else:
                asked[packet.id] = self._asked
                self._asked += 1

    def _not_connected(self, direction: Direction, packet: SocketPacket) -> Finding:
        name = packet.namespace
        what = f"{packet.type.label(self.protocol)} on {name!r}"
        ns = self._namespaces.get(name)
        if direction is S2C and ns is not None and ns.state is _CONNECTING:
            if ns.recovering and event_offset(packet) is not None:
                # connection state recovery: the server sends what the client missed
                # before its CONNECT answer (Socket.IO docs, "Connection state recovery")
                return Finding(
                    INFO,
                    "sio.recovery-replay",
                    f"replay of missed packets: {what} before the CONNECT answer to a "
                    "recovery request, as socket.io sends what the client missed",
                )
            # python-socketio sends what its connect handler emits before the answer.
            return Finding(
                WARNING,
                "sio.event-before-connect",
                f"{what} before the CONNECT answer: the JS client buffers it until the "
                "namespace is connected; stricter clients may drop it",
            )
        if direction is C2S:
            consequence = (
                "a Socket.IO 3/4 server closes the session"
                if self.protocol == 5
                else "a Socket.IO 2.x server ignores it"
            )
        else:
            consequence = "the client ignores it"
        return Finding(
            VIOLATION,
            "sio.not-connected",
            f"{what} before that namespace is connected: {consequence}",
        )

    def _ack(
        self,
        direction: Direction,
        packet: SocketPacket,
        time: float | None,
        findings: list[Finding],
    ) -> None:
        if packet.id is None:
            findings.append(
                Finding(VIOLATION, "sio.ack-without-id", "ACK without an id: nothing to answer")
            )
            return
        asker = _other(direction)
        ack_id = packet.id
        socket = (asker, packet.namespace)
        asked = self._open_acks.get(socket)
        if asked is not None and asked.pop(ack_id, None) is not None:
            if self._answered_count >= ANSWERED_KEPT:
                self._answered_before, self._answered = self._answered, {}
                self._answered_count = 0
            self._answered.setdefault(socket, set()).add(ack_id)
            self._answered_count += 1
            return
        if ack_id in self._answered.get(socket, ()) or ack_id in self._answered_before.get(
            socket, ()
        ):
            findings.append(
                Finding(
                    VIOLATION,
                    "sio.ack-twice",
                    f"ack id {packet.id} answered twice: callbacks fire at most once",
                )
            )
            return
        elsewhere = [
            (ids[ack_id], ns)
            for (who, ns), ids in self._open_acks.items()
            if who is asker and ack_id in ids
        ]
        if elsewhere:
            findings.append(
                Finding(
                    VIOLATION,
                    "sio.ack-namespace",
                    f"ack id {packet.id} was asked on {min(elsewhere)[1]!r} but answered on "
                    f"{packet.namespace!r}: the asker never sees it",
                )
            )
        else:
            findings.append(
                Finding(
                    WARNING,
                    "sio.ack-unknown",
                    f"ACK {packet.id} answers no event the {asker.peer} sent with that id "
                    f"on {packet.namespace!r} (the reference ignores it)",
                )
            )

    # --- end -----------------------------------------------------------------------------

    def end(self) -> list[Finding]:
        """The capture ended: what was left hanging."""
        findings = []
        for name, ns in self._namespaces.items():
            if ns.state is _CONNECTING:
                findings.append(
                    Finding(
                        WARNING,
                        "sio.connect-unanswered",
                        f"CONNECT for {name!r} was never answered",
                    )
                )
        findings += self._unanswered_acks()
        return findings

    def _unanswered_acks(self) -> list[Finding]:
        """One finding per ack never answered, in the order asked; past
        :data:`UNANSWERED_LISTED` for one asker and namespace, one finding for all of them
        (where the first was), so that a long capture does not end with thousands."""
        ids = {socket: list(asked) for socket, asked in self._open_acks.items()}
        in_order = sorted(
            (when, socket, ack_id)
            for socket, asked in self._open_acks.items()
            for ack_id, when in asked.items()
        )
        findings = []
        for _, (asker, name), ack_id in in_order:
            group = ids[(asker, name)]
            if len(group) <= UNANSWERED_LISTED:
                message = (
                    f"ack id {ack_id} asked by the {asker.peer} on {name!r} was never "
                    "answered in this capture"
                )
            elif ack_id == group[0]:
                message = (
                    f"{len(group)} ack ids asked by the {asker.peer} on {name!r} were never "
                    "answered in this capture: "
                    + ", ".join(map(str, group[:UNANSWERED_LISTED]))
                    + ", ..."
                )
            else:
                continue
            findings.append(Finding(INFO, "sio.ack-unanswered", message))
        return findings


def _other(direction: Direction) -> Direction:
    return S2C if direction is C2S else C2S


_ENGINE_RULES = {
    EngineType.OPEN: Checker._open,
    EngineType.CLOSE: Checker._close,
    EngineType.PING: Checker._ping,
    EngineType.PONG: Checker._pong,
    EngineType.UPGRADE: Checker._upgrade,
    EngineType.NOOP: Checker._noop,
}

_SOCKET_RULES = {
    SocketType.CONNECT: Checker._connect,
    SocketType.DISCONNECT: Checker._disconnect,
    SocketType.EVENT: Checker._event,
    SocketType.BINARY_EVENT: Checker._event,
    SocketType.ACK: Checker._ack,
    SocketType.BINARY_ACK: Checker._ack,
    SocketType.CONNECT_ERROR: Checker._connect_error,
}
