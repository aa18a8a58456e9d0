"""The live client: one session kept up (reconnected when asked), its namespaces joined,
every event printed; how a session ends becomes a :class:`~siocli.exit.CommandError`."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..exit import CommandError, ExitStatus, from_transport
from ..protocol.recovery import args_offset, granted_pid
from ..protocol.session import (
    AckMessage,
    Closed,
    EventMessage,
    NamespaceConnected,
    NamespaceDisconnected,
    NamespaceRejected,
    Opened,
    SessionEvent,
    awaited_ack,
)
from ..protocol.states import EngineState, NamespaceState
from ..recording import RecordingWriter
from ..render.events import EventPrinter
from ..transports.config import ConnectOptions
from ..transports.driver import Connection
from ..transports.errors import (
    Timeout,
    TransportError,
)
from ..wire import WireMessage
from .hints import (
    close_hint,
    parser_mismatch,
    payload_size,
    refused_payload,
    rejection_hint,
    silence_hint,
    too_big_hint,
)

__all__ = ["LiveClient", "LiveOptions", "backoff"]

BACKOFF_MAX = 5.0
"""socket.io-client's ``reconnectionDelayMax`` default (5000 ms): no wait is longer."""


def backoff(attempt: int, delay: float) -> float:
    """The wait before reconnection ``attempt`` (from 1): ``delay`` doubled each time,
    capped at :data:`BACKOFF_MAX` as socket.io-client caps it."""
    return min(delay * 2 ** (attempt - 1), max(BACKOFF_MAX, delay))


@dataclass(frozen=True, slots=True)
class LiveOptions:
    connect: ConnectOptions
    namespaces: tuple[str, ...] = ()  # besides the URL's
    auth: dict[str, Any] | None = None
    as_json: bool = False
    verbose: bool = False
    quiet: bool = False
    reconnect: bool = False
    attempts: int = 5
    delay: float = 1.0
    recover: bool = True  # connection state recovery on reconnection
    record: str | None = None  # a recording file
    redact: bool = True
    no_color: bool = False  # --no-color: the -v view without colours


def unanswerable(ack_id: int, namespace: str) -> str:
    """Why an ack will not come: the server disconnected its namespace (socket.io sends
    nothing more on that socket, and socket.io-client drops the ack callbacks)."""
    return f"the server disconnected {namespace} before it answered ack {ack_id}: none can come"


@dataclass(slots=True)
class LiveClient:
    options: LiveOptions
    printer: EventPrinter
    tap: Callable[[WireMessage], None] | None = None
    connection: Connection | None = None
    joined: dict[str, bool] = field(default_factory=dict)  # namespace -> connected
    closing: bool = False
    show: Callable[[SessionEvent], bool] = lambda event: True  # which events to print
    recorder: RecordingWriter | None = None
    sessions: int = 0
    held: Closed | None = None  # taken by ready_event, left to next_event (see there)
    kicked: bool = False  # the last namespace left was left by the server's will
    # what came while the namespaces were being joined: printed, but not yet seen by the
    # command (listen counts it, auto-acks it)
    early: deque[SessionEvent] = field(default_factory=deque)
    # Connection state recovery, as socket.io-client 4.6+ does it: per namespace, the pid
    # of the latest CONNECT answer and the offset of the latest event that carried one;
    # ``recovering``: the pid each namespace asked to recover on this session.
    resume: dict[str, list[str | None]] = field(default_factory=dict)
    recovering: dict[str, str] = field(default_factory=dict)
    recovered: dict[str, bool] = field(default_factory=dict)
    # called after a reconnection has joined the namespaces again (listen re-sends --emit)
    on_rejoined: Callable[[LiveClient], None] | None = None
    largest_sent: int = 0  # bytes (about) of the largest emit: was it over maxPayload?
    _given_up: set[str] = field(default_factory=set)  # acks said unanswered (give_up)

    @property
    def namespaces(self) -> list[str]:
        from ..transports.config import parse_target

        main = parse_target(self.options.connect).namespace
        names = [main, *(n for n in self.options.namespaces if n != main)]
        return names

    @property
    def main_namespace(self) -> str:
        return self.namespaces[0]

    async def start_retrying(self) -> None:
        """:meth:`start`; with ``--reconnect``, a first connection that fails is retried
        as a dropped one is (socket.io-client retries both)."""
        attempt = 0
        while True:
            try:
                await self.start()
                return
            except CommandError as exc:
                if (
                    not self.options.reconnect
                    or attempt >= self.options.attempts
                    or exc.status not in (ExitStatus.CONNECT_FAILED, ExitStatus.TIMEOUT)
                ):
                    raise
                self.printer.note("reconnect_failed", attempt=attempt, message=exc.message)
            attempt += 1
            delay = backoff(attempt, self.options.delay)
            self.printer.note("reconnect", attempt=attempt, of=self.options.attempts, delay=delay)
            await asyncio.sleep(delay)

    async def start(self) -> None:
        """Connect and join every namespace; :class:`CommandError` if that fails."""
        connection = Connection(self.options.connect, tap=self.tap)
        self.connection = connection
        self.sessions += 1
        if self.recorder is not None:
            self.recorder.event("session", time.time(), number=self.sessions)
        try:
            await connection.open()
        except TransportError as exc:
            await connection.close(grace=0)
            raise from_transport(exc) from None
        self.recovering.clear()
        self.recovered.clear()
        for namespace in self.namespaces:
            if connection.session.state is EngineState.CLOSED:
                break  # already (a first message it could not read): _wait_joined says why
            # A Socket.IO 2.x server joins '/' by itself, maybe already (a client that
            # forced --eio 4 on one does not know it): not asked twice.
            if connection.session.namespace_state(namespace) is NamespaceState.DISCONNECTED:
                auth = self._connect_payload(namespace)
                connection.act(connection.session.connect, namespace, auth)
        await self._wait_joined()

    def _connect_payload(self, namespace: str) -> dict[str, Any] | None:
        """The CONNECT payload: the auth, and on reconnection the pid and offset to recover
        from, merged under it (socket.io-client: ``Object.assign({pid, offset}, auth)``).
        socket.io tries to recover only when both are strings."""
        auth = self.options.auth
        pid, offset = self.resume.get(namespace) or (None, None)
        if not self.options.recover or pid is None or offset is None:
            return auth
        self.recovering[namespace] = pid
        return {"pid": pid, "offset": offset, **(auth or {})}

    async def _wait_joined(self) -> None:
        pending = set()
        for namespace in self.namespaces:
            if self.session.namespace_state(namespace) is NamespaceState.CONNECTED:
                self.joined[namespace] = True
            else:
                pending.add(namespace)
        while pending:
            event = await self._next(self.options.connect.timeout, waiting="the namespaces")
            if isinstance(event, (EventMessage, AckMessage)):
                self.early.append(event)
            elif isinstance(event, NamespaceConnected):
                pending.discard(event.namespace)
                self.joined[event.namespace] = True
            elif isinstance(event, NamespaceRejected) and event.namespace in pending:
                self.print_queued()  # what came with the refusal (other namespaces' answers)
                raise CommandError(
                    ExitStatus.NAMESPACE_REJECTED,
                    f"the server refused {event.namespace}: {event.message}"
                    + (f" (data: {_json(event.data)})" if event.data is not None else ""),
                    rejection_hint(
                        event, self.session.eio, protocol_4=self.session.answers_as_protocol_4
                    ),
                )
        self.print_queued()  # what came with the answers (the open, a welcome), now

    async def next_event(
        self, timeout: float | None = None, *, waiting: str = "", within: float | None = None
    ) -> SessionEvent:
        """The next event, printed; :class:`CommandError` when the session ends and cannot be
        brought back, or after ``timeout`` (the rest of ``within``, the user's --timeout, when
        waiting for ``waiting`` took several events)."""
        if self.early:
            return self.early.popleft()
        return await self._next(timeout, waiting=waiting, within=within)

    async def _next(
        self, timeout: float | None, *, waiting: str, within: float | None = None
    ) -> SessionEvent:
        connection = self.connection
        assert connection is not None
        event: SessionEvent | None = self.held or connection.event_nowait()
        self.held = None
        if event is None:
            self.printer.flush()  # about to wait: what was printed goes out now
            try:
                event = await connection.next_event(timeout)
            except Timeout:
                raise CommandError(
                    ExitStatus.TIMEOUT,
                    f"no answer for {waiting} within {within or timeout:g} s"
                    if waiting
                    else "timed out",
                    silence_hint(self.options.connect.parser)
                    if waiting == "the namespaces" and self._first_connect_unanswered()
                    else None,
                ) from None
        self._take(event)
        if isinstance(event, Closed) and not self.closing:
            await self._closed(event)
        return event

    def ready_event(self) -> SessionEvent | None:
        """What :meth:`next_event` would return, if it can without waiting: an event that
        is here already (printed) but not the end of the session (``None``: call
        :meth:`next_event`). A flood of events then costs no coroutine each."""
        if self.early:
            return self.early.popleft()
        assert self.connection is not None
        event = self.connection.event_nowait()
        if event is None or isinstance(event, Closed):
            self.held = event
            return None
        self._take(event)
        return event

    def _take(self, event: SessionEvent) -> None:
        extra = self._recovery(event) if self.resume or self.recovering else None
        if isinstance(event, NamespaceConnected):
            extra = self._granted(event)
        if self.show(event):
            self.printer.event(event, extra)
        if event.__class__ is NamespaceDisconnected:
            self.joined[event.namespace] = False
            self.kicked = event.reason == "io server disconnect"
        if self.recorder is not None:
            if isinstance(event, Opened):
                self.recorder.opened(event.eio)
            elif isinstance(event, Closed):
                self.recorder.event("close", time.time(), reason=event.reason, detail=event.detail)

    def _granted(self, event: NamespaceConnected) -> dict[str, Any] | None:
        """A CONNECT answer: remember its pid; on reconnection, say whether it recovered
        (socket.io-client's test: the answer carries the pid that was sent)."""
        name = event.namespace
        pid = granted_pid(event.data)
        asked = self.recovering.pop(name, None)
        recovered = asked is not None and pid == asked
        if pid is None:
            self.resume.pop(name, None)
        elif recovered:
            self.resume[name][0] = pid
        else:
            self.resume[name] = [pid, None]
        if self.sessions < 2:
            return None
        self.recovered[name] = recovered
        return {"recovered": recovered}

    def _recovery(self, event: SessionEvent) -> dict[str, Any] | None:
        """An event's offset (kept for the next reconnection) and, before the CONNECT answer
        to a recovery request, that it is the replay of a missed packet."""
        if event.__class__ is not EventMessage:
            return None
        name, _, args, ack_id = event
        state = self.resume.get(name)
        if state is None or (offset := args_offset(args, ack_id)) is None:
            return None
        state[1] = offset
        if name in self.recovering:
            return {"offset": offset, "replayed": True}
        return {"offset": offset}

    async def _closed(self, event: Closed) -> None:
        connection = self.connection
        assert connection is not None
        failure = connection.failure
        if connection.internal_error is not None:
            raise connection.internal_error  # a bug of siocli's: exit 70, --traceback shows it
        # As socket.io-client: a session that drops is brought back, but not one the server
        # ended by disconnecting every namespace (io server disconnect).
        if self.options.reconnect and any(self.joined.values()):
            for attempt in range(1, self.options.attempts + 1):
                delay = backoff(attempt, self.options.delay)
                self.printer.note(
                    "reconnect", attempt=attempt, of=self.options.attempts, delay=delay
                )
                await asyncio.sleep(delay)
                try:
                    await connection.close(grace=0)
                    await self.start()
                    if self.on_rejoined is not None:
                        self.on_rejoined(self)
                    if self.recovered:
                        self.printer.note(
                            "reconnect",
                            attempt=attempt,
                            of=self.options.attempts,
                            recovered=all(self.recovered.values()),
                        )
                    return
                except CommandError as exc:
                    self.printer.note("reconnect_failed", attempt=attempt, message=exc.message)
            raise CommandError(ExitStatus.CONNECT_FAILED, "could not reconnect")
        if self.kicked and not any(self.joined.values()):
            raise CommandError(
                ExitStatus.SERVER_ERROR, "the server disconnected the client (io server disconnect)"
            )
        mismatch = parser_mismatch(
            event, self.options.connect.parser, self._first_connect_unanswered()
        )
        if mismatch is not None:
            raise CommandError(ExitStatus.SERVER_ERROR, *mismatch)
        message = f"the session ended: {event.reason}" + (
            f" ({event.detail})" if event.detail else ""
        )
        handshake = self.session.handshake
        max_payload = handshake.max_payload if handshake is not None else None
        hint = too_big_hint(event, self.largest_sent, max_payload) or (
            failure.hint if failure is not None else close_hint(event, max_payload)
        )
        status = ExitStatus.TIMEOUT if event.reason == "ping timeout" else ExitStatus.SERVER_ERROR
        raise CommandError(status, message, hint)

    def _first_connect_unanswered(self) -> bool:
        """The first session of a protocol 5 server, no namespace answered yet."""
        return not self.joined and self.sessions == 1 and self.session.eio == 4

    @property
    def session(self) -> Any:
        assert self.connection is not None
        return self.connection.session

    def act(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert self.connection is not None
        return self.connection.act(method, *args, **kwargs)

    def emit(
        self, event: str, args: list[Any], namespace: str | None = None, ack: bool = False
    ) -> int | None:
        namespace = namespace or self.main_namespace
        self.largest_sent = max(self.largest_sent, payload_size(args))
        return self.act(self.session.emit, event, *args, namespace=namespace, ack=ack)

    async def wait_ack(self, namespace: str, ack_id: int, timeout: float) -> AckMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise CommandError(ExitStatus.TIMEOUT, f"no ack {ack_id} within {timeout:g} s")
            event = await self.next_event(remaining, waiting=f"ack {ack_id}", within=timeout)
            if (
                isinstance(event, AckMessage)
                and event.ack_id == ack_id
                and (event.namespace == namespace)
            ):
                return event
            if isinstance(event, NamespaceDisconnected) and event.namespace == namespace:
                raise CommandError(ExitStatus.SERVER_ERROR, unanswerable(ack_id, namespace))

    async def settle(self, timeout: float) -> None:
        """Wait (up to ``timeout``) for the answers the server still owes: acks, joins (but
        those :meth:`give_up` was told of: their wait was said to fail already)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (owed := self._owed()) and loop.time() < deadline:
            await self.next_event(deadline - loop.time(), waiting=", ".join(owed), within=timeout)
        # The session saw the answers as they came; the events that carry them to the user
        # may still be queued.
        self.print_queued()

    def give_up(self, ack_id: int, namespace: str) -> None:
        """A script's wait for this ack ended unanswered: the end of input does not wait
        for it again (it is still matched, and said, if it comes)."""
        self._given_up.add(awaited_ack(ack_id, namespace))

    def _owed(self) -> list[str]:
        return [what for what in self.session.awaited() if what not in self._given_up]

    async def finish_sending(self, timeout: float) -> None:
        """Wait until what was emitted has left, and print what came meanwhile;
        :class:`CommandError` if that ended the session (a POST refused with 413, say). Over
        WebSocket, a written frame is all a client can know without an ack."""
        assert self.connection is not None
        await self.connection.drain(timeout)
        self.print_queued()
        held = self.held
        if held is None:
            return
        if self.connection.failure is None and not refused_payload(held):
            # Sent, then the server closed (it may close at once, as 'kick' does): who
            # closed first is a race, and the emit was delivered either way.
            self.held = None
            self.closing = True
            self._take(held)
            return
        await self._next(0, waiting="")  # the session ended: said as next_event says it

    def print_queued(self) -> None:
        """Print the events that are here already, without waiting: before the command
        acts, or before it leaves, so that nothing received goes unsaid. Events and acks
        wait in ``early`` for the command to see them; the session's end is left to
        :meth:`next_event` to tell."""
        assert self.connection is not None
        while (queued := self.connection.event_nowait()) is not None:
            if isinstance(queued, Closed):
                self.held = queued
                break
            self._take(queued)
            if isinstance(queued, (EventMessage, AckMessage)):
                self.early.append(queued)

    async def stop(self) -> None:
        self.closing = True
        if self.connection is not None:
            await self.connection.close()
            if self.recorder is not None:  # how the session ended belongs in the recording
                for event in self.connection.pending_events():
                    if isinstance(event, Closed):
                        self.recorder.event(
                            "close", time.time(), reason=event.reason, detail=event.detail
                        )


def _json(value: Any) -> str:
    from ..render.jsonl import dumps_line

    return dumps_line(value)
