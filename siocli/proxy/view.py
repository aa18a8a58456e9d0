"""The side view of what crosses the proxy: one :class:`ClientSession` per Engine.IO
session, labelled ``c1``, ``c2``..., whose wire messages go through the core's
:class:`~siocli.protocol.dissect.Dissector` (both directions, so the checker judges client
and server alike), then to the live view and the recording.

Nothing here changes a relayed byte: the relay hands over copies of what it forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ..protocol import engineio
from ..protocol.dissect import Dissector, MessageReport
from ..protocol.types import Direction, SocketPacket, SocketType, Transport
from ..render.text import escape_text, format_value
from ..wire import WireMessage
from .options import ProxyOptions

if TYPE_CHECKING:
    from ..recording import RecordingWriter
    from ..render.human import HumanRenderer
    from ..render.jsonl import JsonLinesWriter

__all__ = ["ClientSession", "LiveView"]

BACKLOG = 4 * 2**20
"""Bytes of wire messages the view may lag behind the relay (the view in the relay's
process)."""
PIPE_BACKLOG = 16 * 2**20
"""Bytes of handed-over work (pickled: messages and what goes with them) the worker may lag
behind the relay."""
_SLICE = 16  # pieces of work between two turns of the loop (a ms or two at most)
_EVENTS = (SocketType.EVENT, SocketType.BINARY_EVENT)
_ACKS = (SocketType.ACK, SocketType.BINARY_ACK)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(eq=False)
class ClientSession:
    """One client's Engine.IO session, as the proxy sees it."""

    number: int
    eio: int
    sid: str | None = None
    transport: Transport = Transport.POLLING
    dissector: Dissector | None = None
    recorder: RecordingWriter | None = None
    recording_file: IO[str] | None = None
    json: JsonLinesWriter | None = None
    messages: int = 0  # wire messages seen, both directions
    cut: bool = False
    ended: bool = False  # for the relay
    finished: bool = False  # for the view: its end shown, its recording closed
    # the connections carrying it (client and upstream transports), cut together
    connections: set[Any] = field(default_factory=set)
    # what an ack answers: (direction of the event, namespace, id) -> event name
    asked: dict[tuple[Direction, str, int], Any] = field(default_factory=dict)
    # --drop: binary attachments still to drop after a dropped binary event, per direction
    skip: dict[Direction, int] = field(default_factory=dict)
    timer: Any = None  # --cut-after Ns

    @property
    def label(self) -> str:
        return f"c{self.number}"


class LiveView:
    """Shows and records the sessions' wire messages. ``out`` gets the live view.

    The relay hands over each message as it forwards it (:meth:`message`, :meth:`note`,
    :meth:`end`: cheap, in relay order) and goes on; the view does its work (dissecting,
    rendering, recording) in slices between the relay's reads, so that relaying never
    waits for it. It may lag behind by up to :data:`BACKLOG` bytes; beyond, the relay waits
    (:meth:`wait`) for it to catch up: memory stays bounded.
    """

    def __init__(self, options: ProxyOptions, out: IO[str], *, color: bool = False) -> None:
        self.options = options
        self.out = out
        self.started = time.time()
        self.sessions: dict[str, ClientSession] = {}  # by sid
        self.backlog = 0  # bytes of messages handed over, not yet shown
        self._numbers = 0
        self._last: ClientSession | None = None  # the session of the last message shown
        self._renderer: HumanRenderer | None = None
        self._filtered = bool(options.events or options.namespaces)
        self._work: deque[tuple[str, tuple[Any, ...], int]] = deque()
        self._pipe: _Pipe | None = None  # set by hand_over(): the work goes to a worker
        self._batch: list[tuple[str, tuple[Any, ...]]] = []
        self._by_number: dict[int, ClientSession] = {}  # the worker's sessions
        self._scheduled = False
        self._caught_up: asyncio.Event | None = None
        if not options.as_json and not options.quiet:
            from ..render.console import make_console
            from ..render.human import HumanRenderer

            # the worker process writes to the terminal the command was started on
            console = make_console(out, no_color=not color, force_terminal=color or None)
            self._renderer = HumanRenderer(console, full=options.full)

    # --- sessions (the relay's side: at once) --------------------------------------------

    def new_session(self, eio: int, transport: Transport, sid: str | None = None) -> ClientSession:
        """A session the proxy saw begin (``sid`` known: one already under way)."""
        self._numbers += 1
        session = ClientSession(self._numbers, eio, transport=transport)
        self._push("_created", (session, sid is None, eio))
        if sid is not None:
            self.bind(session, sid)
        return session

    def find(self, sid: str) -> ClientSession | None:
        return self.sessions.get(sid)

    def bind(self, session: ClientSession, sid: str) -> None:
        """The session's sid is known (from its open packet): its next requests name it."""
        session.sid = sid
        self.sessions[sid] = session
        self._push("_opened", (session, sid, session.transport))

    def end(self, session: ClientSession, reason: str, detail: str | None = None) -> None:
        """The session is over: the checker's loose ends, the recording closed."""
        if session.ended:
            return
        session.ended = True
        if session.timer is not None:
            session.timer.cancel()
        if session.sid is not None:
            self.sessions.pop(session.sid, None)
        self._push("_ended", (session, reason, detail))

    def close(self) -> None:
        """The proxy stops: what is handed over is shown, every session still open ends."""
        for session in list(self.sessions.values()):
            self.end(session, "proxy stopped")
        if self._pipe is not None:
            self._send()
            self._pipe.close()
            return
        while self._work:
            self._run(len(self._work))
        self.flush()

    def message(
        self,
        session: ClientSession,
        direction: Direction,
        transport: Transport,
        data: str | bytes,
        http: dict[str, Any] | None = None,
    ) -> None:
        """A wire message relayed (what a fault kept back is a :meth:`note`)."""
        session.messages += 1
        if session.sid is None and direction is Direction.S2C:
            sid = engineio.opening_sid(data, session.eio, transport)
            if sid is not None:
                self.bind(session, sid)
        self._push("_message", (session, direction, transport, data, http, time.time()), len(data))
        if engineio.ends_with_close(data, session.eio, transport):
            # the relay forgets it now; the view says so in its turn
            self.end(session, _CLOSER[direction], f"close packet from the {direction.peer}")

    def note(self, session: ClientSession | None, kind: str, text: str, **fields: Any) -> None:
        """A line about the relay itself: a session opening or ending, a fault firing, an
        HTTP answer that is not Engine.IO, the proxy failing to reach the server."""
        self._push("_note", (session, kind, text, fields, time.time()))

    def flush(self) -> None:
        """Called once per read the relay makes: the view catches up from the next turn of
        the loop (and writes what it has)."""
        if self._pipe is None and not self._work and not self._scheduled:
            self._flush_out()

    async def wait(self) -> None:
        """The relay's pause while the view is :data:`BACKLOG` bytes behind."""
        if self._pipe is not None:
            await self._pipe.wait()
            return
        if self.backlog <= BACKLOG:
            return
        if self._caught_up is None:
            self._caught_up = asyncio.Event()
        self._caught_up.clear()
        await self._caught_up.wait()

    async def closed(self) -> None:
        """After :meth:`close`: the worker has everything (it then finishes on its own)."""
        if self._pipe is not None:
            await self._pipe.closed

    def hand_over(self, fd: int) -> None:
        """From now on the work goes to the worker process reading ``fd`` (:func:`serve`):
        the relay's process only relays, and answers at once."""
        self._pipe = _Pipe(fd)

    # --- the view's work, in slices (or in the worker) ---------------------------------------

    def _push(self, work: str, args: tuple[Any, ...], size: int = 0) -> None:
        if self._pipe is not None:
            # sessions by number; enums by value (pickled as a name lookup, they cost more)
            self._batch.append((work, tuple(map(_portable, args))))
            if not self._scheduled:
                asyncio.get_running_loop().call_soon(self._send)
                self._scheduled = True
            return
        self._work.append((work, args, size))
        self.backlog += size
        if not self._scheduled:
            with contextlib.suppress(RuntimeError):  # no loop: close() runs what is left
                asyncio.get_running_loop().call_soon(self._slice)
                self._scheduled = True

    def _send(self) -> None:
        self._scheduled = False
        if self._batch and self._pipe is not None:
            batch, self._batch = self._batch, []
            self._pipe.send(batch)

    def _slice(self) -> None:
        self._scheduled = False
        self._run(_SLICE)
        if self._work:
            asyncio.get_running_loop().call_soon(self._slice)
            self._scheduled = True
        else:
            self._flush_out()
        if self._caught_up is not None and self.backlog <= BACKLOG // 2:
            self._caught_up.set()

    def _run(self, count: int) -> None:
        work = self._work
        for _ in range(min(count, len(work))):
            name, args, size = work.popleft()
            self.backlog -= size
            getattr(self, name)(*args)

    def apply(self, batch: list[tuple[str, tuple[Any, ...]]]) -> None:
        """The worker's side: run a batch of work the relay handed over."""
        for name, args in batch:
            getattr(self, name)(*(self._restore(a) for a in args))
        self._flush_out()

    def _restore(self, value: Any) -> Any:
        if isinstance(value, _Ref):
            return self._session(value)
        if value.__class__ is _Enum:
            return _ENUMS[value[0]](value[1])
        return value

    def _session(self, ref: _Ref) -> ClientSession:
        session = self._by_number.get(ref.number)
        if session is None:
            session = self._by_number[ref.number] = ClientSession(ref.number, 4)
        return session

    def finish(self) -> None:
        """The worker's side, at the end: every session not finished ends here."""
        for session in self._by_number.values():
            self._ended(session, "proxy stopped", None)
        self._flush_out()

    def _created(self, session: ClientSession, handshake: bool, eio: int) -> None:
        session.eio = eio
        session.dissector = Dissector(
            eio,
            expect_handshake=handshake,
            spans=self._renderer is not None,
            parser=None,  # detected: a MessagePack session is shown as one
        )

    def _opened(self, session: ClientSession, sid: str, transport: Transport) -> None:
        session.sid = sid
        session.transport = transport
        if self.options.as_json:
            from ..render.jsonl import JsonLinesWriter

            session.json = JsonLinesWriter(self.out, {"session": session.label, "sid": sid})
        if self.options.record:
            self._start_recording(session)
        self._note(
            session,
            "open",
            f"sid {sid}, Engine.IO {session.eio} over {session.transport.value}",
            {"transport": session.transport.value, "eio": session.eio},
            time.time(),
        )

    def _ended(self, session: ClientSession, reason: str, detail: str | None) -> None:
        if session.finished:
            return
        session.finished = True
        findings = session.dissector.end() if session.dissector is not None else []
        if findings and self._renderer is not None:
            self._header(session)
            self._renderer.write_findings(f"{session.label}: at the end:", findings)
        elif findings and session.json is not None:
            session.json.finish(findings)
        text = reason + (f": {detail}" if detail else "")
        self._note(session, "close", text, {"reason": reason}, time.time())
        if session.recorder is not None:
            session.recorder.event("close", time.time(), reason=reason, detail=detail)
            session.recorder.close()
            session.recorder = None
        if session.recording_file is not None:
            session.recording_file.close()
            session.recording_file = None

    def _message(
        self,
        session: ClientSession,
        direction: Direction,
        transport: Transport,
        data: str | bytes,
        http: dict[str, Any] | None,
        now: float,
    ) -> None:
        dissector = session.dissector
        assert dissector is not None
        report = dissector.receive(direction, transport, data, round(now - self.started, 6))
        if session.recorder is not None:
            if dissector.parser_known:  # detected (a MessagePack session is recorded as one)
                session.recorder.decided(dissector.parser)
            session.recorder.message(
                WireMessage(data, direction, transport, now, session.eio, session.sid, http=http)
            )
        self._show(session, direction, report)

    def _show(self, session: ClientSession, direction: Direction, report: MessageReport) -> None:
        packets = [p.complete for p in report.packets if p.complete is not None]
        if self._filtered:
            wanted = [self._wanted(session, direction, p) for p in packets]
            if not any(wanted):
                return
            packets = [p for p, keep in zip(packets, wanted, strict=True) if keep]
        if session.json is not None:
            session.json.write_message(report, eio=session.eio)
        elif self._renderer is not None:
            self._header(session)
            self._renderer.write_message(report, eio=session.eio)
        elif self.options.quiet:
            for packet in packets:
                self._quiet_line(session, direction, packet)

    def _wanted(self, session: ClientSession, direction: Direction, packet: SocketPacket) -> bool:
        options = self.options
        if options.namespaces and packet.namespace not in options.namespaces:
            return False
        if not options.events:
            return True
        name: Any = None
        if packet.type in _EVENTS and packet.data:
            name = packet.data[0]
            if packet.id is not None:  # its ack is shown with it (forgotten once answered)
                session.asked[(direction, packet.namespace, packet.id)] = name
        elif packet.type in _ACKS and packet.id is not None:
            other = Direction.S2C if direction is Direction.C2S else Direction.C2S
            name = session.asked.pop((other, packet.namespace, packet.id), None)
        else:
            return False
        return isinstance(name, str) and any(fnmatch.fnmatchcase(name, g) for g in options.events)

    def _quiet_line(
        self, session: ClientSession, direction: Direction, packet: SocketPacket
    ) -> None:
        ptype = packet.type
        nsp = packet.namespace
        if ptype in _EVENTS:
            data = packet.data or [None]
            text = f"event {nsp} {format_value(data[0])}"
            if len(data) > 1:
                text += " " + ", ".join(format_value(a) for a in data[1:])
            if packet.id is not None:
                text += f"  (asks ack {packet.id})"
        elif ptype in _ACKS:
            args = ", ".join(format_value(a) for a in packet.data or [])
            text = f"ack   {nsp} id={packet.id} {args}"
        elif ptype is SocketType.CONNECT:
            text = f"connect {nsp}"
            if direction is Direction.S2C and isinstance(packet.data, dict):
                text += f" sid={packet.data.get('sid')}"
        elif ptype is SocketType.CONNECT_ERROR:
            text = f"✗ refused {nsp}: {format_value(packet.data)}"
        else:
            text = f"disconnect {nsp}"
        self._line(session, f"{direction.arrow} {text}")

    # --- notes: lifecycle, faults, proxy errors --------------------------------------------

    def _note(
        self,
        session: ClientSession | None,
        kind: str,
        text: str,
        fields: dict[str, Any],
        now: float,
    ) -> None:
        if self.options.as_json:
            from ..render.jsonl import dumps_line

            record: dict[str, Any] = {"type": kind, "time": round(now - self.started, 6)}
            if session is not None:
                record["session"] = session.label
                record["sid"] = session.sid
            record["message"] = text
            record.update(fields)
            if session is not None and session.json is not None:
                session.json.flush()
            self.out.write(dumps_line(record) + "\n")
            return
        if self.options.quiet and kind == "http":
            return
        self._line(session, f"{_MARKS.get(kind, '·')} {kind}: {escape_text(text)}", now)

    def _line(self, session: ClientSession | None, text: str, now: float | None = None) -> None:
        if self._renderer is not None:
            self._renderer.flush()
        t = (now or time.time()) - self.started
        label = session.label if session is not None else "--"
        sid = f" {session.sid}" if session is not None and session.sid else ""
        if self._renderer is not None:
            self._last = None  # the next message block says its session again
            self.out.write(f"{t:9.3f}s {label}{sid} {text}\n")
        else:
            self.out.write(f"{t:9.3f}s {label} {text}\n")

    def _header(self, session: ClientSession) -> None:
        assert self._renderer is not None
        if session is self._last:
            return
        self._last = session
        self._renderer.flush()
        self.out.write(f"── {session.label} {session.sid or '(handshake)'}\n")

    def _flush_out(self) -> None:
        """Write what the renderers batched."""
        if self._renderer is not None:
            self._renderer.flush()
        for session in self.sessions.values():
            if session.json is not None:
                session.json.flush()
        self.out.flush()

    # --- recordings ----------------------------------------------------------------------

    def _start_recording(self, session: ClientSession) -> None:
        from ..recording import RecordingWriter

        options = self.options
        assert options.record is not None and session.sid is not None
        name = f"{session.label}-{_UNSAFE.sub('_', session.sid)}.jsonl"
        path = os.path.join(options.record, name)
        try:
            stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by end()
        except OSError as exc:
            self.note(session, "error", f"cannot write the recording {path}: {exc.strerror}")
            return
        session.recording_file = stream
        headers = dict(options.headers)
        if options.redact:
            from ..recording import redact_headers

            headers = redact_headers(headers)
        recorded: dict[str, Any] = {
            "path": options.path,
            "transport": "websocket" if session.transport is Transport.WEBSOCKET else "auto",
            "namespaces": [],
            "auth": None,
            "headers": headers,
            "query": {},
        }
        session.recorder = RecordingWriter(
            stream, options.target.url, recorded, redact=options.redact, parser=None
        )
        session.recorder.opened(session.eio)
        session.recorder.event("session", time.time(), number=1)


_MARKS = {"fault": "✂", "error": "✗", "open": "◆", "close": "◇", "upgrade": "⇧", "http": "·"}


_CLOSER = {Direction.C2S: "io client disconnect", Direction.S2C: "transport close"}


class _Enum(tuple[str, str]):
    """A Direction or Transport on its way to the worker: (which, value)."""


_ENUMS: dict[str, Any] = {"d": Direction, "t": Transport}


def _portable(value: Any) -> Any:
    if isinstance(value, ClientSession):
        return _Ref(value.number)
    if isinstance(value, Direction):
        return _Enum(("d", value.value))
    if isinstance(value, Transport):
        return _Enum(("t", value.value))
    return value


@dataclass(frozen=True, slots=True)
class _Ref:
    """A session, as the relay names it to the worker."""

    number: int


class _Pipe(asyncio.Protocol):
    """The relay's end of the pipe to the worker: batches of work, pickled, length-first;
    the relay waits while the worker is :data:`BACKLOG` bytes behind."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.transport: asyncio.WriteTransport | None = None
        self._paused: asyncio.Future[None] | None = None
        self._pending: list[bytes] = []
        loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._ready = loop.create_task(loop.connect_write_pipe(lambda: self, self._file))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport
        transport.set_write_buffer_limits(high=PIPE_BACKLOG)
        for data in self._pending:
            transport.write(data)
        self._pending = []

    def send(self, batch: list[Any]) -> None:
        import pickle

        data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        data = len(data).to_bytes(4, "big") + data
        if self.transport is None:
            self._pending.append(data)
        else:
            self.transport.write(data)

    def pause_writing(self) -> None:
        if self._paused is None:
            self._paused = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._paused is not None:
            self._paused.set_result(None)
            self._paused = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.resume_writing()
        if not self.closed.done():
            self.closed.set_result(None)

    async def wait(self) -> None:
        if self._paused is not None:
            await self._paused

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()  # written out first: the worker reads to the end
        elif not self.closed.done():
            self._ready.cancel()
            self._file.close()
            self.closed.set_result(None)


def serve(options: ProxyOptions, fd: int, relay_end: int, color: bool) -> None:
    """The worker process: the view's work, as the relay hands it over, until the pipe
    closes (the relay stopped); then every session still open ends."""
    import pickle
    import signal
    import sys

    from ..exit import silence_stdout

    os.close(relay_end)  # else this process would hold its own input open

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the relay; this follows
    view = LiveView(options, sys.stdout, color=color)
    try:
        with os.fdopen(fd, "rb") as pipe:
            while True:
                head = pipe.read(4)
                if len(head) < 4:
                    break
                view.apply(pickle.loads(pipe.read(int.from_bytes(head, "big"))))
        view.finish()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of stdout left (`| head`): this process ends, its pipe closes, and the
        # relay (waiting on that) stops.
        silence_stdout()
