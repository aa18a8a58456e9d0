"""Connection state recovery (socket.io >= 4.6), followed across the sessions of a capture.

With ``connectionStateRecovery`` on, a socket.io server answers CONNECT with a private
session id beside the socket id, ``40{"sid":"…","pid":"…"}``, and every EVENT it emits
without an ack ends with one more argument, an opaque offset (socket.io-adapter's
``SessionAwareAdapter`` pushes it onto the event's array; events that ask for an ack, and
volatile ones, are not stored and carry none). A client that lost its connection merges
``{"pid":…,"offset":…}`` (both strings) into its next CONNECT payload; the server then
sends the events emitted after that offset, *before* its CONNECT answer, and answers with
the same socket id and pid. Otherwise it answers as to anyone: a new sid and a new pid.
(Socket.IO documentation, "Connection state recovery"; socket.io-protocol v5, CONNECT.)

The server keeps a session only when its socket closed for a reason it deems recoverable
(a transport error or close, a ping timeout, a forced close), for
``maxDisconnectionDuration`` (default 2 minutes), and it finds the offset only among the
packets it stored in that time.

:class:`Recovery` follows each client's sockets across the Engine.IO sessions of a capture
or of a live run, by the pid a reconnecting client sends back (a capture may hold several
clients): which pid each socket was granted, the last offset the server sent it, how its
previous session ended. It explains the fields (:func:`explain`) and reports what
breaks recovery as findings. The rule that events before a CONNECT answer are a replay,
not a mistake, is the :class:`~siocli.protocol.checker.Checker`'s (one session is enough).
"""

from __future__ import annotations

import functools
import re
from collections import deque
from typing import Any

from ._tuples import NamedTuple  # typing's, without its per-field compile (start-up)
from .types import Direction, Finding, Severity, SocketPacket, SocketType, Span

__all__ = [
    "DEFAULT_MAX_DISCONNECTION",
    "Recovery",
    "RecoveryNote",
    "args_offset",
    "event_offset",
    "explain",
    "granted_pid",
    "recovery_request",
]

DEFAULT_MAX_DISCONNECTION = 120.0
"""socket.io's default ``maxDisconnectionDuration``, in seconds (2 * 60 * 1000 ms)."""

OFFSETS_KEPT = 4096
"""Offsets remembered per namespace, to tell whether the one a client sends back is one the
server sent: enough for any reconnection a capture shows, bounded for long captures."""

_REDACTED = "[redacted]"  # what recordings made before they kept pids show instead
_C2S = Direction.C2S
_S2C = Direction.S2C
_CONNECT = SocketType.CONNECT
_DISCONNECT = SocketType.DISCONNECT
_EVENTS = (SocketType.EVENT, SocketType.BINARY_EVENT)


def recovery_request(data: Any) -> tuple[str, str] | None:
    """``(pid, offset)`` when a client's CONNECT payload asks to recover: socket.io tries
    only when both are strings (``typeof pid === "string" && typeof offset === "string"``)."""
    if data.__class__ is dict:
        pid = data.get("pid")
        offset = data.get("offset")
        if pid.__class__ is str and offset.__class__ is str:
            return pid, offset
    return None


def granted_pid(data: Any) -> str | None:
    """The private session id of a server's CONNECT answer, if it has one."""
    if data.__class__ is dict and "sid" in data:
        pid = data.get("pid")
        if pid.__class__ is str:
            return pid
    return None


def event_offset(packet: SocketPacket) -> str | None:
    """The offset a recovery-enabled server put at the end of ``packet``, if it can carry
    one: an EVENT without ack id whose last element (after the name) is a string."""
    if packet.type not in _EVENTS:
        return None
    data = packet.data
    if data.__class__ is list and len(data) >= 2:
        return args_offset(data, packet.id)
    return None


def args_offset(args: list[Any], ack_id: int | None) -> str | None:
    """The offset ending an event's ``args`` (what follows its name): the last one, if a
    string, of an event that asks no ack (socket.io stores, and numbers, only those)."""
    if ack_id is None and args and args[-1].__class__ is str:
        return args[-1]
    return None


# Offsets are opaque, but the adapters' are ordered: socket.io's in-memory adapter uses
# yeast ids (milliseconds in a 64-letter alphabet, then ".<seed>" within one millisecond),
# the Redis streams adapter stream ids ("<ms>-<seq>").
_YEAST_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_YEAST_VALUE = {c: i for i, c in enumerate(_YEAST_ALPHABET)}


@functools.cache  # compiled on first use, not at import: most runs never need it (start-up)
def _redis_id() -> re.Pattern[str]:
    return re.compile(r"(\d{10,})-(\d+)\Z")


@functools.cache  # compiled on first use, not at import: most runs never need it (start-up)
def _yeast_id() -> re.Pattern[str]:
    return re.compile(r"([0-9A-Za-z_-]{1,11})(?:\.([0-9A-Za-z_-]{1,11}))?\Z")


def _yeast(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + _YEAST_VALUE[char]
    return value


def offset_order(offset: str) -> tuple[int, int] | None:
    """A key that orders the offsets of one adapter, or ``None`` for an unknown format."""
    match = _redis_id().match(offset)
    if match:
        return int(match[1]), int(match[2])
    match = _yeast_id().match(offset)
    if match:
        # a first id in a millisecond has no seed; the next ones count from 0
        return _yeast(match[1]), -1 if match[2] is None else _yeast(match[2])
    return None


class RecoveryNote(NamedTuple):
    """What recovery makes of one Socket.IO packet: the ``offset`` a server event carries;
    ``replayed`` for an event sent before the CONNECT answer to a recovery request;
    ``request`` (pid, offset) for a client's recovery CONNECT; ``pid`` for an answer that
    grants one; ``recovered`` for the answer to a recovery request."""

    offset: str | None = None
    replayed: bool = False
    request: tuple[str, str] | None = None
    pid: str | None = None
    recovered: bool | None = None


# The working state below is in plain slotted classes, not dataclasses: Python 3.11 compiles
# a dataclass's methods when its module is imported, ~0.5 ms each of every start-up.


class _Socket:
    """One client's socket on one namespace, followed through the Engine.IO sessions that
    recover it: the pids it was granted, in turn, are its chain."""

    __slots__ = (
        "acked_strings",
        "ended",
        "grants",
        "heartbeat",
        "last_time",
        "offset",
        "pid",
        "sent",
        "sid",
    )

    def __init__(self) -> None:
        self.pid: str | None = None  # the latest pid granted
        self.sid: str | None = None  # the socket id granted with it
        self.grants: dict[str, str | None] = {}  # pid -> sid, every grant seen
        # the last offset the server sent (or the client asked from)
        self.offset: str | None = None
        # read only to explain a failed recovery: a deque's scan is cheap enough there
        self.sent: deque[str] = deque(maxlen=OFFSETS_KEPT)
        self.acked_strings: deque[str] = deque(maxlen=64)
        self.ended: str | None = None  # how the latest session on it ended, when a packet said so
        self.last_time: float | None = None  # of the latest packet on it
        # pingInterval + pingTimeout of the latest session it was in (s)
        self.heartbeat: float | None = None


class _Attempt:
    __slots__ = ("away", "heartbeat", "offset", "pid", "replayed")

    def __init__(self, pid: str, offset: str, away: float | None, heartbeat: float | None) -> None:
        self.pid = pid
        self.offset = offset
        self.away = away  # seconds since the latest packet of that socket, when known
        self.heartbeat = heartbeat  # the previous session's pingInterval + pingTimeout (s)
        self.replayed = 0


class _Session:
    """One Engine.IO session: the socket of each namespace connected in it, and its recovery
    requests awaiting their answer."""

    __slots__ = ("attempts", "heartbeat", "sockets")

    def __init__(self, heartbeat: float | None = None) -> None:
        self.sockets: dict[str, _Socket] = {}
        self.attempts: dict[str, _Attempt] = {}
        self.heartbeat = heartbeat  # its pingInterval + pingTimeout (s), from its handshake


_NOWHERE = _Session()  # the session of packets before any handshake or CONNECT: nothing in it


class Recovery:
    """Connection state recovery across the Engine.IO sessions of a capture or a live run.

    Feed :meth:`packet` every text Socket.IO packet in wire order, with the Engine.IO
    session it belongs to (any object that identifies it); it returns the findings about
    it and a :class:`RecoveryNote` (``None`` when recovery has nothing to say).

    A capture may hold several clients, and only the pid a reconnecting client sends back
    tells which earlier session was its own: a socket's state belongs to the session where
    it connected, and follows the client to the session whose CONNECT asks to recover a pid
    it was granted. A CONNECT that asks nothing is a new socket in another session (another
    client, or one starting over), the same one again in the same session.
    """

    def __init__(self, max_disconnection: float = DEFAULT_MAX_DISCONNECTION) -> None:
        self.max_disconnection = max_disconnection
        self._sessions: dict[int, _Session] = {}  # id(session) ->
        self._pids: dict[tuple[str, str], _Socket] = {}  # (namespace, pid) -> granted to
        # namespace -> the socket that connected last: a recording is one client, so its
        # redacted pids (recordings before they kept them) are that socket's
        self._latest: dict[str, _Socket] = {}

    def handshake(self, session: object, ping_interval: int, ping_timeout: int) -> None:
        """The open packet of ``session``: how long its server waits before it deems a
        silent client gone (pingInterval + pingTimeout, in ms)."""
        # a session starts here: what an earlier object with the same id left is not its own
        self._sessions[id(session)] = _Session((ping_interval + ping_timeout) / 1000)

    def packet(
        self,
        session: object,
        direction: Direction | None,
        packet: SocketPacket,
        time: float | None = None,
    ) -> tuple[tuple[Finding, ...], RecoveryNote | None]:
        name = packet.namespace
        here = self._sessions.get(id(session), _NOWHERE)
        socket = here.sockets.get(name)
        ptype = packet.type
        result: tuple[tuple[Finding, ...], RecoveryNote | None] = ((), None)
        if ptype is _CONNECT:
            if here is _NOWHERE:  # a session without handshake (loose messages)
                here = self._sessions[id(session)] = _Session()
            if direction is None:  # loose messages: the payload tells which side spoke
                direction = _S2C if granted_pid(packet.data) is not None else _C2S
            if direction is _C2S:
                socket, result = self._request(here, socket, packet, time)
            else:
                if socket is None:  # the capture starts between a CONNECT and its answer
                    socket = self._bind(here, name, _Socket())
                result = self._answer(here, socket, packet)
        elif socket is None:
            return result  # a socket whose CONNECT the capture does not show: nothing known
        elif ptype is _DISCONNECT:
            socket.ended = "client" if direction is _C2S else "server"
        elif ptype in _EVENTS and direction is not _C2S and (socket.pid or here.attempts):
            # (without a pid granted or a recovery asked, an event says nothing: most events)
            result = self._event(here, socket, packet)
        if time is not None:
            socket.last_time = time
        return result

    def _bind(self, here: _Session, name: str, socket: _Socket) -> _Socket:
        """``socket`` is now the one of namespace ``name`` in session ``here``."""
        here.sockets[name] = socket
        socket.heartbeat = here.heartbeat
        self._latest[name] = socket
        return socket

    def _request(
        self, here: _Session, socket: _Socket | None, packet: SocketPacket, time: float | None
    ) -> tuple[_Socket, tuple[tuple[Finding, ...], RecoveryNote | None]]:
        """A client's CONNECT; ``socket`` is the namespace's in this session, if any."""
        name = packet.namespace
        request = recovery_request(packet.data)
        if request is None:
            if socket is None:
                socket = self._bind(here, name, _Socket())
            # else the same Engine.IO session, so the same client, joins again
            socket.ended = None
            return socket, ((), None)
        pid, offset = request
        if pid == _REDACTED:
            chain = socket or self._latest.get(name)
        else:
            # a pid the capture does not show granted is this session's socket's, if any: the
            # same client (the pid may predate the capture; another client's would be known)
            chain = self._pids.get((name, pid), socket)
        if chain is None:
            chain = _Socket()
        findings = []
        if chain.pid is not None and pid != chain.pid and pid != _REDACTED:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "sio.recovery-stale-pid",
                    f"the client asks to recover pid {pid!r}, but its latest session on "
                    f"{name!r} was granted pid {chain.pid!r}: the client must send the pid of "
                    "its latest CONNECT answer (socket.io-client does)",
                )
            )
        away = None if time is None or chain.last_time is None else time - chain.last_time
        here.attempts[name] = _Attempt(pid, offset, away, chain.heartbeat)
        # what the server replays must come after the offset the client asks from
        chain.offset = offset
        return self._bind(here, name, chain), (tuple(findings), RecoveryNote(request=request))

    def _answer(
        self, here: _Session, socket: _Socket, packet: SocketPacket
    ) -> tuple[tuple[Finding, ...], RecoveryNote | None]:
        data = packet.data
        sid = data.get("sid") if data.__class__ is dict else None
        pid = granted_pid(data)
        name = packet.namespace
        attempt = here.attempts.pop(name, None)
        findings: tuple[Finding, ...] = ()
        recovered = None
        if attempt is not None:
            recovered = pid is not None and pid == attempt.pid  # socket.io-client's test
            findings = (self._outcome(socket, name, attempt, sid, pid, recovered),)
        socket.pid = pid  # None: the server does not offer recovery (any more)
        socket.sid = sid if sid.__class__ is str else None
        if pid is not None:
            socket.grants[pid] = socket.sid
            self._pids[(name, pid)] = socket
        socket.ended = None
        if pid is None and attempt is None:
            return (), None
        return findings, RecoveryNote(pid=pid, recovered=recovered)

    def _outcome(
        self,
        socket: _Socket,
        name: str,
        attempt: _Attempt,
        sid: Any,
        pid: str | None,
        recovered: bool,
    ) -> Finding:
        before = socket.grants.get(attempt.pid)
        if recovered:
            same = "same socket id" if before is None or before == sid else "socket id"
            missed = attempt.replayed
            return Finding(
                Severity.INFO,
                "sio.recovered",
                f"connection state recovered on {name!r}: {same} {sid!r}, "
                f"{missed} missed packet{'s' if missed != 1 else ''} replayed before this "
                "answer",
            )
        was = f" (was {before!r})" if before is not None else ""
        return Finding(
            Severity.WARNING,
            "sio.recovery-failed",
            f"the server did not recover {name!r}: new socket id {sid!r}{was}, and "
            f"whatever was sent meanwhile is lost. {self._could_it(socket, name, attempt, pid)}",
        )

    def _could_it(self, socket: _Socket, name: str, attempt: _Attempt, pid: str | None) -> str:
        """Whether the server could have recovered, from what the capture shows."""
        if pid is None:
            return (
                "It could not: its answer has no pid, so connection state recovery is off "
                "(python-socketio has none; socket.io needs the connectionStateRecovery "
                "option)"
            )
        if attempt.pid == _REDACTED:
            return "The recording redacted the pid asked for, so whether it could have is unknown"
        if attempt.pid not in socket.grants:
            return (
                f"The capture does not show pid {attempt.pid!r} granted, so whether it could "
                "have is unknown"
            )
        if socket.ended == "client":
            return (
                "It could not: the client left with a DISCONNECT packet, and the server keeps "
                "no state for a socket that left on purpose"
            )
        if socket.ended == "server":
            return (
                "It could not: the server disconnected that socket itself (a DISCONNECT "
                "packet), which it does not keep for recovery"
            )
        if attempt.offset not in socket.sent:
            if attempt.offset in socket.acked_strings:
                return (
                    f"It could not: the offset {attempt.offset!r} is the last argument of an "
                    "event that asked for an ack, which carries no offset (socket.io-client "
                    "takes any last string argument); the server finds no packet with it"
                )
            # (the scan of every client's offsets comes last: this path is rare)
            if socket.sent and not self._sent(name, attempt.offset):
                return (
                    f"It could not: the server never sent offset {attempt.offset!r} in this "
                    "capture, and finds no packet with it"
                )
        away = attempt.away
        if away is not None and away > self.max_disconnection:
            return (
                f"Probably not: the client was away {away:.0f} s, more than socket.io's "
                f"default maxDisconnectionDuration ({self.max_disconnection:.0f} s)"
            )
        window = attempt.heartbeat
        if away is not None and window is not None and away < window:
            return (
                f"Probably not yet: the client came back {away:.1f} s after its previous "
                "session's last packet, within the server's pingInterval + pingTimeout "
                f"({window:g} s). Unless the server saw that connection close, it still held "
                "the previous session, and socket.io keeps a session for recovery only once "
                "it closed it (a poll cut after the server answered it is noticed only then)"
            )
        gone = f" {away:.1f} s after its previous session's last packet" if away is not None else ""
        return (
            "It could have, from what the capture shows: the pid and the offset are ones the "
            f"server sent, and the client came back{gone}. The server had lost the state (a "
            "restart, another node without a shared adapter, a shorter "
            "maxDisconnectionDuration), or had not closed the previous session yet (a poll cut "
            "after the server answered it is noticed only at its ping timeout)"
        )

    def _sent(self, name: str, offset: str) -> bool:
        """Whether the capture shows ``offset`` sent to any client on namespace ``name``:
        socket.io looks it up among every packet it stored for the namespace, whoever got
        it (socket.io-adapter's ``SessionAwareAdapter.restoreSession``)."""
        return any(offset in socket.sent for (on, _), socket in self._pids.items() if on == name)

    def _event(
        self, here: _Session, socket: _Socket, packet: SocketPacket
    ) -> tuple[tuple[Finding, ...], RecoveryNote | None]:
        attempt = here.attempts.get(packet.namespace)
        if socket.pid is None and attempt is None:
            return (), None
        offset = event_offset(packet)
        if offset is None:
            if packet.id is not None:
                data = packet.data
                if data.__class__ is list and len(data) >= 2 and data[-1].__class__ is str:
                    socket.acked_strings.append(data[-1])
            return (), None
        findings: tuple[Finding, ...] = ()
        if attempt is not None:  # before the CONNECT answer: what the client missed
            attempt.replayed += 1
        order = offset_order(offset)
        previous = socket.offset
        before = None if order is None or previous is None else offset_order(previous)
        if order is not None and before is not None and order <= before:
            if attempt is not None and previous == attempt.offset:
                why = "the client asked for what came after it, and gets this packet twice"
            else:
                why = "a client that recovers from one of them gets packets twice or misses some"
            findings = (
                Finding(
                    Severity.WARNING,
                    "sio.offset-backwards",
                    f"offset {offset!r} is not after {previous!r}, sent before on "
                    f"{packet.namespace!r}: {why}",
                ),
            )
        socket.offset = offset
        socket.sent.append(offset)
        return findings, RecoveryNote(offset=offset, replayed=attempt is not None)


def explain(
    spans: tuple[Span, ...], packet: SocketPacket, note: RecoveryNote, raw: str | bytes, base: int
) -> tuple[Span, ...]:
    """``spans`` of ``packet`` (``raw``, at ``base`` in its message), with the payload's
    meaning saying what recovery put there, and an event's offset as a span of its own."""
    index = next((i for i, span in enumerate(spans) if span.kind == "payload"), None)
    if index is None:
        return spans
    span = spans[index]
    data = packet.data
    extra: list[Span] = []
    if note.offset is not None:
        count = len(data) - 2
        meaning = (
            f"event {data[0]!r} with {count} argument{'s' if count != 1 else ''}, then its offset"
        )
        quoted = '"' + note.offset + '"'  # yeast and stream ids need no escapes
        end = span.end - 1 - base  # the closing bracket, in raw
        if raw[end : end + 1] == "]" and raw[end - len(quoted) : end] == quoted:
            end += base
            extra.append(
                Span(
                    end - len(quoted),
                    end,
                    "offset",
                    "offset of this event (connection state recovery): the client sends back "
                    "the last one it got when it reconnects",
                )
            )
    elif note.request is not None:
        others = [key for key in data if key not in ("pid", "offset")]
        auth = f", and auth fields {', '.join(others)}" if others else ", no auth fields"
        meaning = (
            f"recovery request: pid {note.request[0]!r} and offset {note.request[1]!r} of the "
            f"session to recover (connection state recovery){auth}"
        )
    elif note.pid is not None:
        meaning = (
            f"connection granted: socket id {data.get('sid')!r} and pid {note.pid!r}, the "
            "private session id a client sends back to recover this session"
        )
    else:
        return spans
    replaced = Span(span.start, span.end, span.kind, meaning)
    return (*spans[:index], replaced, *extra, *spans[index + 1 :])


# --- the server's side -----------------------------------------------------------------------

RECOVERABLE = frozenset(
    (
        "transport error",
        "transport close",
        "forced close",
        "ping timeout",
        "server shutting down",
        "forced server close",
    )
)
"""The reasons a socket closes for which socket.io keeps its state for recovery; a client's
or the server's DISCONNECT of the namespace, or a parse error, end it for good."""

PACKETS_KEPT = 1000
"""Events remembered per socket for recovery (socket.io keeps every packet of
``maxDisconnectionDuration``; a debugging server keeps a bounded number, oldest dropped: an
offset older than that cannot be recovered from, as an expired one)."""

SESSIONS_KEPT = 10_000
"""Disconnected sessions kept for recovery at most, the oldest dropped first."""


class _Kept:  # a plain class, as _Socket
    __slots__ = ("disconnected_at", "history", "namespace", "socket_id")

    def __init__(self, namespace: str, socket_id: str, history: deque[list[Any]]) -> None:
        self.namespace = namespace
        self.socket_id = socket_id
        self.history = history  # the event data, its offset last, in order
        self.disconnected_at: float | None = None


class Restored(NamedTuple):
    """A recovered socket: its id, and the events it missed (their data, offset last)."""

    socket_id: str
    missed: list[list[Any]]


class RecoveryStore:
    """Connection state recovery on a server, as socket.io does it (sans I/O: times are
    given). Each socket granted a pid keeps its latest events; when it disconnects for a
    recoverable reason, it is kept ``max_disconnection`` seconds, and events meant for its
    namespace meanwhile are kept for it (:meth:`broadcast`). A reconnecting client's pid and
    offset restore the socket id and give the events after that offset."""

    def __init__(
        self, max_disconnection: float, new_id: Any, *, packets: int = PACKETS_KEPT
    ) -> None:
        self.max_disconnection = max_disconnection
        self.packets = packets
        self._new_id = new_id
        self._kept: dict[str, _Kept] = {}  # pid -> its socket, connected or not
        self._away: dict[str, None] = {}  # pids of disconnected sockets, oldest first
        self._count = 0

    def open(self, namespace: str, socket_id: str) -> str:
        """A socket joined afresh: its pid."""
        pid: str = self._new_id()
        self._kept[pid] = _Kept(namespace, socket_id, deque(maxlen=self.packets))
        return pid

    def stamp(self, pid: str, data: list[Any]) -> list[Any]:
        """An event for the socket of ``pid`` (without an ack: those are not kept): its
        data with a new offset appended, remembered."""
        kept = self._kept.get(pid)
        if kept is None:
            return data
        stamped = [*data, self._offset()]
        kept.history.append(stamped)
        return stamped

    def missed(self, namespace: str, data: list[Any], now: float) -> int:
        """An event for every socket of ``namespace``: kept for those away (the connected
        ones get it through :meth:`stamp`). Returns how many keep it."""
        self.expire(now)
        count = 0
        for pid in self._away:
            kept = self._kept[pid]
            if kept.namespace == namespace:
                kept.history.append([*data, self._offset()])
                count += 1
        return count

    def left(self, pid: str, reason: str, now: float) -> bool:
        """The socket of ``pid`` is gone: kept for recovery if ``reason`` allows it."""
        kept = self._kept.get(pid)
        if kept is None:
            return False
        self._away.pop(pid, None)
        if reason not in RECOVERABLE:
            del self._kept[pid]
            return False
        kept.disconnected_at = now
        self._away[pid] = None  # the latest to leave last: expire() goes in this order
        if len(self._away) > SESSIONS_KEPT:
            self._drop(next(iter(self._away)))
        return True

    def restore(self, pid: str, offset: str, namespace: str, now: float) -> Restored | str:
        """The socket of ``pid`` again, with what it missed after ``offset``; or why not."""
        self.expire(now)
        kept = self._kept.get(pid)
        if kept is None or kept.namespace != namespace:
            return "unknown or expired pid"
        if kept.disconnected_at is None:
            # socket.io keeps a session only once it closed: a client faster than the
            # server's ping timeout finds none
            return "that session is still connected"
        offsets = [data[-1] for data in kept.history]
        if offset not in offsets:
            return f"offset {offset!r} is not among the last {self.packets} events kept"
        missed = list(kept.history)[offsets.index(offset) + 1 :]
        kept.disconnected_at = None
        del self._away[pid]
        return Restored(kept.socket_id, missed)

    def expire(self, now: float) -> None:
        threshold = now - self.max_disconnection
        while self._away:
            pid = next(iter(self._away))
            away_since = self._kept[pid].disconnected_at
            assert away_since is not None  # every socket in _away has left
            if away_since >= threshold:
                return
            self._drop(pid)

    def _drop(self, pid: str) -> None:
        del self._away[pid]
        del self._kept[pid]

    def _offset(self) -> str:
        # ordered as socket.io's are (see offset_order): a counter in yeast's alphabet
        self._count += 1
        value, text = self._count, ""
        while value:
            value, digit = divmod(value, 64)
            text = _YEAST_ALPHABET[digit] + text
        return text
