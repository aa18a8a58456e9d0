"""``connect``, ``emit`` and ``listen``: a live client on the driver, with reconnection.

:class:`LiveClient` keeps one :class:`~siocli.transports.driver.Connection` up (and, if
asked, reconnects and joins its namespaces again), prints events, taps every wire message
to the ``-v`` view, and turns how a session ended into an :class:`ExitStatus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from .arguments import ArgumentError, parse_command_line, parse_value, split_arguments
from .exit import CommandError, ExitStatus, from_transport
from .protocol.errors import LocalProtocolError
from .protocol.recovery import granted_pid
from .protocol.session import (
    NEVER_PINGED,
    AckMessage,
    Closed,
    EventMessage,
    NamespaceConnected,
    NamespaceDisconnected,
    NamespaceRejected,
    NamespaceState,
    Opened,
    SessionEvent,
)
from .recording import RecordingWriter, secrets_of
from .render.events import EventPrinter
from .transports.config import ConnectOptions
from .transports.driver import Connection
from .transports.errors import (
    NO_NAMESPACE,
    STICKY_HINT,
    UNKNOWN_SESSION,
    Timeout,
    TransportError,
    says,
)
from .wire import WireMessage

__all__ = ["ListenSpec", "LiveOptions", "connect_main", "emit_main", "listen_main", "run_live"]


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

    @property
    def namespaces(self) -> list[str]:
        from .transports.config import parse_target

        main = parse_target(self.options.connect).namespace
        names = [main, *(n for n in self.options.namespaces if n != main)]
        return names

    @property
    def main_namespace(self) -> str:
        return self.namespaces[0]

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
                    _rejection_hint(event),
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
        if event.__class__ is NamespaceConnected:
            extra = self._granted(event)  # type: ignore[arg-type]
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
        name, _, args, ack_id = event  # type: ignore[misc]
        state = self.resume.get(name)
        # socket.io appends an offset to the events it stores: not to those asking an ack
        if state is None or ack_id is not None or not args or args[-1].__class__ is not str:
            return None
        state[1] = args[-1]
        if name in self.recovering:
            return {"offset": args[-1], "replayed": True}
        return {"offset": args[-1]}

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
                delay = self.options.delay * 2 ** (attempt - 1)
                self.printer.note(
                    "reconnect", attempt=attempt, of=self.options.attempts, delay=delay
                )
                await asyncio.sleep(delay)
                try:
                    await connection.close(grace=0)
                    await self.start()
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
        message = f"the session ended: {event.reason}" + (
            f" ({event.detail})" if event.detail else ""
        )
        hint = failure.hint if failure is not None else _close_hint(event)
        status = ExitStatus.TIMEOUT if event.reason == "ping timeout" else ExitStatus.SERVER_ERROR
        raise CommandError(status, message, hint)

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

    async def settle(self, timeout: float) -> None:
        """Wait (up to ``timeout``) for the answers the server still owes: acks, joins."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.session.awaiting() and loop.time() < deadline:
            await self.next_event(
                deadline - loop.time(), waiting=", ".join(self.session.awaited()), within=timeout
            )
        # The session saw the answers as they came; the events that carry them to the user
        # may still be queued.
        self.print_queued()

    async def finish_sending(self, timeout: float) -> None:
        """Wait until what was emitted has left, and print what came meanwhile;
        :class:`CommandError` if that ended the session (a POST refused with 413, say). Over
        WebSocket, a written frame is all a client can know without an ack."""
        assert self.connection is not None
        await self.connection.drain(timeout)
        self.print_queued()
        if self.held is not None:  # the session ended: said as next_event says it
            await self._next(0, waiting="")

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
    from .render.jsonl import dumps_line

    return dumps_line(value)


def _rejection_hint(event: NamespaceRejected) -> str | None:
    if event.message in NO_NAMESPACE:
        return (
            "the server has no such namespace (the URL's path is the namespace; the "
            "handshake path is --path)"
        )
    return "check --auth (Socket.IO 2.x servers read it from the namespace's query)"


def _close_hint(event: Closed) -> str | None:
    detail = event.detail or ""
    if event.reason == "ping timeout" and NEVER_PINGED in detail:
        return (
            "a Socket.IO 2.x server? It speaks Engine.IO 3, where the client pings: use "
            "--eio 3, or --eio auto (the default) to follow the server"
        )
    if event.reason == "ping timeout":
        return (
            "the server stopped answering heartbeats (overloaded, paused, or a proxy "
            "that buffers WebSocket frames)"
        )
    if says(detail, UNKNOWN_SESSION):
        return STICKY_HINT
    return None


# --- wiring the -v view ----------------------------------------------------------------------


def make_tap(
    verbose: bool, out: IO[str], started: float | None = None
) -> Callable[[WireMessage], None] | None:
    """``-v``: every wire message, dissected and rendered as ``decode`` shows it; times
    count from ``started`` (epoch seconds: the command's start, the clock of its event
    lines), else from the first message."""
    if not verbose:
        return None
    from rich.console import Console

    from .protocol.dissect import Dissector
    from .protocol.recovery import Recovery
    from .render.human import HumanRenderer

    console = Console(file=out, highlight=False, soft_wrap=True, no_color="NO_COLOR" in os.environ)
    renderer = HumanRenderer(console, interactive=True)
    state: dict[str, Any] = {"dissector": None, "eio": None, "sid": None, "count": 0}
    state["start"] = started
    recovery = Recovery()  # a reconnection is a new session of the same client

    def tap(message: WireMessage) -> None:
        # A new Engine.IO session (a reconnection) starts with a message tapped before its
        # sid is known (the open packet), or at least with another sid.
        sid = message.session
        new_sid = state["sid"] is not None and sid != state["sid"]
        if state["dissector"] is None or state["eio"] != message.eio or new_sid:
            state["dissector"] = Dissector(message.eio or 4, recovery=recovery)
            state["eio"] = message.eio
            state["sid"] = None
        if sid is not None:
            state["sid"] = sid
        if state["start"] is None:
            state["start"] = message.time
        time = message.time - state["start"] if message.time is not None else None
        report = state["dissector"].receive(
            message.direction, message.transport, message.data, time, state["count"]
        )
        state["count"] += 1
        renderer.write_message(report)

    return tap


# --- the commands ----------------------------------------------------------------------------


async def _with_client(
    options: LiveOptions,
    out: IO[str],
    err: IO[str],
    body: Callable[[LiveClient], Any],
    show: Callable[[SessionEvent], bool] | None = None,
) -> ExitStatus:
    printer = EventPrinter(out, as_json=options.as_json, quiet=options.quiet)
    taps = [make_tap(options.verbose, err, started=time.time())]
    recording: IO[str] | None = None
    recorder = None
    if options.record:
        try:
            recording = open(options.record, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(
                ExitStatus.USAGE, f"cannot write the recording {options.record}: {exc.strerror}"
            ) from None
        recorder = RecordingWriter(
            recording,
            options.connect.url,
            _recorded_options(options),
            redact=options.redact,
            secrets=secrets_of(options.auth),
        )
        taps.append(recorder.message)
    client = LiveClient(options, printer, _fan_out([t for t in taps if t is not None]))
    client.recorder = recorder
    if show is not None:
        client.show = show
    try:
        await client.start()
        status = await body(client)
    except CommandError as exc:
        if options.as_json:  # a script reading the stream learns why it ended
            fields = {"status": int(exc.status), "message": exc.message, "hint": exc.hint}
            printer.note("error", **{k: v for k, v in fields.items() if v is not None})
        raise
    except asyncio.CancelledError:  # Ctrl-C
        if options.as_json:
            printer.note("error", status=int(ExitStatus.INTERRUPTED), message="interrupted")
        raise
    finally:
        await client.stop()
        printer.flush()
        if recorder is not None and recording is not None:
            recorder.close()
            recording.close()
    return status if isinstance(status, ExitStatus) else ExitStatus.OK


def _fan_out(taps: list[Callable[[WireMessage], None]]) -> Callable[[WireMessage], None] | None:
    if not taps:
        return None
    if len(taps) == 1:
        return taps[0]

    def tap(message: WireMessage) -> None:
        for each in taps:
            each(message)

    return tap


def _recorded_options(options: LiveOptions) -> dict[str, Any]:
    """What a replay needs to connect the same way (secrets redacted on request)."""
    from .recording import REDACTED, redact_headers, redact_query

    connect = options.connect
    headers = dict(connect.headers)
    query = list(connect.query)
    auth = options.auth
    if options.redact:
        headers = redact_headers(headers)
        query = redact_query(query)
        auth = {k: REDACTED for k in auth} if isinstance(auth, dict) else auth
    return {
        "path": connect.path,
        "transport": connect.transport,
        "namespaces": list(options.namespaces),
        "auth": auth,
        "headers": headers,
        "query": dict(query),
    }


async def emit_main(
    options: LiveOptions, event: str, args: list[Any], ack: bool, out: IO[str], err: IO[str]
) -> ExitStatus:
    async def body(client: LiveClient) -> ExitStatus:
        namespace = client.main_namespace
        ack_id = client.emit(event, args, namespace, ack)
        client.printer.note("emit", nsp=namespace, event=event, args=args, id=ack_id)
        if ack_id is not None:
            await client.wait_ack(namespace, ack_id, options.connect.timeout)
        else:
            await client.finish_sending(options.connect.timeout)
        return ExitStatus.OK

    return await _with_client(options, out, err, body)


@dataclass(frozen=True, slots=True)
class ListenSpec:
    patterns: tuple[str, ...] = ()
    count: int | None = None
    until: str | None = None
    duration: float | None = None
    emits: tuple[str, ...] = ()
    auto_ack: Any = None  # answer every ack request with this (a list: the args)


async def listen_main(
    options: LiveOptions, spec: ListenSpec, out: IO[str], err: IO[str]
) -> ExitStatus:
    def matches(event: SessionEvent) -> bool:
        return (
            not spec.patterns
            or not isinstance(event, EventMessage)
            or any(fnmatch.fnmatchcase(str(event.name), p) for p in spec.patterns)
        )

    async def body(client: LiveClient) -> ExitStatus:
        for line in spec.emits:
            name, args = parse_command_line(line)
            namespace = client.main_namespace
            client.emit(name, args, namespace)
            client.printer.note("emit", nsp=namespace, event=name, args=args, id=None)
        seen = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec.duration if spec.duration is not None else None
        while spec.count is None or seen < spec.count:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            event = client.ready_event()
            if event is None:
                try:
                    event = await client.next_event(remaining)
                except CommandError as exc:
                    if exc.status is ExitStatus.TIMEOUT and deadline is not None:
                        break
                    raise
            if not isinstance(event, EventMessage):
                if (
                    isinstance(event, NamespaceDisconnected)
                    and event.reason == "io server disconnect"
                    and not any(client.joined.values())
                ):
                    raise CommandError(
                        ExitStatus.SERVER_ERROR,
                        f"the server disconnected the client from {event.namespace}, "
                        "its last namespace (io server disconnect)",
                    )
                continue
            if event.ack_id is not None and spec.auto_ack is not None:
                answer = spec.auto_ack if isinstance(spec.auto_ack, list) else [spec.auto_ack]
                client.act(client.session.ack, event.ack_id, *answer, namespace=event.namespace)
            if not matches(event):
                continue
            seen += 1
            if spec.until is not None and event.name == spec.until:
                break
        return ExitStatus.OK

    return await _with_client(options, out, err, body, matches)


HELP = """commands:
  emit EVENT [ARGS...]        send an event (args: JSON, bare words, hex:.., b64:.., @file)
  emit --ack EVENT [ARGS...]  send it asking for an ack; the ack prints when it comes
  ack ID|last [ARGS...]       answer the server's event ID (or the last one asking)
  join NSP [AUTH]             connect another namespace (AUTH: a JSON object)
  leave NSP                   leave a namespace
  use NSP                     the namespace emit and ack use (now: {nsp})
  wait EVENT                  wait until the server sends EVENT (for scripts)
  disconnect                  leave everything and quit (also: quit, exit, Ctrl-D)
  help                        this text"""


async def connect_main(
    options: LiveOptions, out: IO[str], err: IO[str], stdin: IO[bytes], interactive: bool
) -> ExitStatus:
    async def body(client: LiveClient) -> ExitStatus:
        return await _Prompt(client, options, stdin, interactive).run()

    return await _with_client(options, out, err, body)


class _Prompt:
    """``connect``'s command loop: commands from stdin, events from the server, at once."""

    def __init__(
        self,
        client: LiveClient,
        options: LiveOptions,
        stdin: IO[bytes],
        interactive: bool,
    ) -> None:
        self.client = client
        self.options = options
        client.printer.ack_advice = True
        self.lines = _stdin_lines(stdin)
        self.interactive = interactive
        self.show_prompt = interactive and not options.as_json
        self.failed = False  # a command failed (a script then exits 2)
        self.current = [client.main_namespace]
        self.events: asyncio.Future[SessionEvent] = asyncio.ensure_future(client.next_event())

    async def run(self) -> ExitStatus:
        printer = self.client.printer
        if self.show_prompt:
            printer.prompt = "› "
            printer.write_text("type 'help' for commands\n" + printer.prompt)
        reading = asyncio.ensure_future(self.lines.__anext__())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {self.events, reading}, return_when=asyncio.FIRST_COMPLETED
                )
                if self.events in done:
                    self._next_event()
                if reading not in done:
                    continue
                try:
                    line = reading.result()
                except StopAsyncIteration:  # EOF: let the server answer, then leave
                    self.events.cancel()
                    await self.client.settle(self.options.connect.timeout)
                    return self._status()
                verb, argument = _command(self.client, line.strip(), self.current, printer)
                self.failed |= verb == "error"
                if verb == "quit":
                    return self._status()
                # A join completes before the next command, and 'wait EVENT' waits for the
                # event: scripts depend on both.
                await self._block(argument if verb == "wait" else None)
                if self.show_prompt:
                    printer.write_text(printer.prompt)
                reading = asyncio.ensure_future(self.lines.__anext__())
        finally:
            for task in (self.events, reading):
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(self.events, reading, return_exceptions=True)

    def _status(self) -> ExitStatus:
        # A script whose commands failed (explained as they failed) says so at the end.
        return ExitStatus.USAGE if self.failed and not self.interactive else ExitStatus.OK

    def _next_event(self) -> SessionEvent:
        event = self.events.result()  # printed by next_event; raises CommandError at the end
        self.events = asyncio.ensure_future(self.client.next_event())
        return event

    async def _block(self, awaited: str | None) -> None:
        """Wait for a join's answer, or for ``wait EVENT``'s event; the --timeout at most."""
        session = self.client.session
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.connect.timeout
        namespace = self.current[0]
        while (awaited is not None) or (
            session.namespace_state(namespace) is NamespaceState.CONNECTING
        ):
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = f"'{awaited}'" if awaited is not None else f"answer to join {namespace}"
                self.client.printer.note("error", message=f"no {what} within the --timeout")
                self.failed = True
                return
            await asyncio.wait({self.events}, timeout=remaining)
            if self.events.done():
                event = self._next_event()
                if isinstance(event, EventMessage) and str(event.name) == awaited:
                    return


def _command(
    client: LiveClient, line: str, current: list[str], printer: EventPrinter
) -> tuple[str, str]:
    """Carry out one prompt command; returns what the loop must do next: ("quit", ""),
    ("wait", EVENT), ("error", "") when the command failed (it was explained), or ("", "")."""
    if not line or line.startswith("#"):
        return "", ""
    verb, _, rest = line.partition(" ")
    rest = rest.strip()
    try:
        if verb in ("quit", "exit", "disconnect"):
            return "quit", ""
        if verb == "wait":
            if not rest:
                raise ArgumentError("usage: wait EVENT")
            return "wait", rest
        if verb == "help":
            printer.write_text(HELP.format(nsp=current[0]) + "\n")
        elif verb == "emit":
            ack = rest.startswith("--ack")
            name, args = parse_command_line(rest[5:] if ack else rest)
            ack_id = client.emit(name, args, current[0], ack)
            printer.note("emit", nsp=current[0], event=name, args=args, id=ack_id)
        elif verb == "ack":
            tokens = split_arguments(rest)
            if not tokens or not (tokens[0].isdigit() or tokens[0] == "last"):
                raise ArgumentError("usage: ack ID|last [ARGS...]")
            if tokens[0] == "last":
                owed = client.session.acks_owed(current[0])
                if not owed:
                    raise ArgumentError(f"no event on {current[0]} awaits an ack")
                ack_id = owed[-1]
            else:
                ack_id = int(tokens[0])
            args = [parse_value(t) for t in tokens[1:]]
            client.act(client.session.ack, ack_id, *args, namespace=current[0])
            printer.note("ack_sent", nsp=current[0], id=ack_id, args=args)
        elif verb == "join":
            tokens = split_arguments(rest)
            if not tokens:
                raise ArgumentError("usage: join NSP [AUTH]")
            auth = parse_value(tokens[1]) if len(tokens) > 1 else client.options.auth
            if auth is not None and not isinstance(auth, dict):
                raise ArgumentError("AUTH must be a JSON object")
            client.act(client.session.connect, tokens[0], auth)
            current[0] = tokens[0]
        elif verb == "leave":
            client.act(client.session.disconnect, _joined(client, rest or current[0]))
        elif verb == "use":
            current[0] = _joined(client, rest or "/")
        else:
            raise ArgumentError(f"unknown command {verb!r} (try 'help')")
    except (ArgumentError, LocalProtocolError) as exc:
        printer.note("error", message=str(exc))
        return "error", ""
    return "", ""


def _joined(client: LiveClient, namespace: str) -> str:
    if client.session.namespace_state(namespace) is NamespaceState.DISCONNECTED:
        raise ArgumentError(f"not joined to {namespace}: 'join {namespace}' first")
    return namespace


async def _stdin_lines(stdin: IO[bytes]) -> Any:
    """Lines of stdin without blocking the event loop (a terminal, a pipe, a file)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    fd = stdin.fileno()
    buffer = b""

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        queue.put_nowait(chunk or None)

    try:
        loop.add_reader(fd, readable)
    except PermissionError:  # a regular file or /dev/null (epoll refuses them): never blocks
        while data := os.read(fd, 65536):
            queue.put_nowait(data)
        queue.put_nowait(None)
    try:
        while True:
            chunk = await queue.get()
            if chunk is None:
                if buffer:
                    yield buffer.decode("utf-8", "replace")
                loop.remove_reader(fd)
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield line.decode("utf-8", "replace")
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(fd)


def run_live(main: Any) -> ExitStatus:
    """Run a command's coroutine: Ctrl-C disconnects cleanly and exits 130 (a
    :class:`CommandError`, as every other way a command fails)."""
    import signal

    async def guarded() -> ExitStatus:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            return await main
        except asyncio.CancelledError:
            raise CommandError(ExitStatus.INTERRUPTED, "interrupted") from None

    return asyncio.run(guarded())
