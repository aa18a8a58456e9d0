"""The side view of what crosses the proxy: one :class:`ClientSession` per Engine.IO
session, labelled ``c1``, ``c2``..., whose wire messages go through the core's
:class:`~siocli.protocol.dissect.Dissector` (both directions, so the checker judges client
and server alike), then to the live view and the recording.

Nothing here changes a relayed byte: the relay hands over copies of what it forwarded.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ..protocol.dissect import Dissector, MessageReport
from ..protocol.types import Direction, EngineType, SocketPacket, SocketType, Transport
from ..render.text import escape_text, format_value
from ..wire import WireMessage
from .options import ProxyOptions

if TYPE_CHECKING:
    from ..recording import RecordingWriter
    from ..render.human import HumanRenderer
    from ..render.jsonl import JsonLinesWriter

__all__ = ["ClientSession", "LiveView"]

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
    ended: bool = False
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
    """Shows and records the sessions' wire messages. ``out`` gets the live view."""

    def __init__(self, options: ProxyOptions, out: IO[str], *, color: bool = False) -> None:
        self.options = options
        self.out = out
        self.started = time.time()
        self.sessions: dict[str, ClientSession] = {}  # by sid
        self._numbers = 0
        self._last: ClientSession | None = None  # the session of the last message shown
        self._renderer: HumanRenderer | None = None
        self._filtered = bool(options.events or options.namespaces)
        if not options.as_json and not options.quiet:
            from rich.console import Console

            from ..render.human import HumanRenderer

            console = Console(
                file=out,
                highlight=False,
                soft_wrap=True,
                no_color=not color or "NO_COLOR" in os.environ,
                force_terminal=color or None,
            )
            self._renderer = HumanRenderer(console, full=options.full)

    # --- sessions ------------------------------------------------------------------------

    def new_session(self, eio: int, transport: Transport, sid: str | None = None) -> ClientSession:
        """A session the proxy saw begin (``sid`` known: one already under way)."""
        self._numbers += 1
        session = ClientSession(self._numbers, eio, transport=transport)
        session.dissector = Dissector(
            eio, expect_handshake=sid is None, spans=self._renderer is not None
        )
        if sid is not None:
            self.bind(session, sid)
        return session

    def find(self, sid: str) -> ClientSession | None:
        return self.sessions.get(sid)

    def bind(self, session: ClientSession, sid: str) -> None:
        session.sid = sid
        self.sessions[sid] = session
        if self.options.as_json:
            from ..render.jsonl import JsonLinesWriter

            session.json = JsonLinesWriter(self.out, {"session": session.label, "sid": sid})
        if self.options.record:
            self._start_recording(session)
        self.note(
            session,
            "open",
            f"sid {sid}, Engine.IO {session.eio} over {session.transport.value}",
            transport=session.transport.value,
            eio=session.eio,
        )

    def end(self, session: ClientSession, reason: str, detail: str | None = None) -> None:
        """The session is over: the checker's loose ends, the recording closed."""
        if session.ended:
            return
        session.ended = True
        if session.timer is not None:
            session.timer.cancel()
        findings = session.dissector.end() if session.dissector is not None else []
        if findings and self._renderer is not None:
            self._header(session)
            self._renderer.write_findings(f"{session.label}: at the end:", findings)
        elif findings and session.json is not None:
            session.json.finish(findings)
        self.note(session, "close", reason + (f": {detail}" if detail else ""), reason=reason)
        if session.recorder is not None:
            session.recorder.event("close", time.time(), reason=reason, detail=detail)
            session.recorder.close()
            session.recorder = None
        if session.recording_file is not None:
            session.recording_file.close()
            session.recording_file = None
        if session.sid is not None:
            self.sessions.pop(session.sid, None)

    def close(self) -> None:
        """The proxy stops: every session still open ends here."""
        for session in list(self.sessions.values()):
            self.end(session, "proxy stopped")
        self.flush()

    # --- messages ------------------------------------------------------------------------

    def message(
        self,
        session: ClientSession,
        direction: Direction,
        transport: Transport,
        data: str | bytes,
        http: dict[str, Any] | None = None,
    ) -> MessageReport:
        """A wire message relayed (or kept back by a fault, then shown as such)."""
        now = time.time()
        session.messages += 1
        dissector = session.dissector
        assert dissector is not None
        report = dissector.receive(direction, transport, data, round(now - self.started, 6))
        if session.sid is None:
            for piece in report.packets:
                if piece.breakdown.handshake is not None:
                    self.bind(session, piece.breakdown.handshake.sid)
                    break
        if session.recorder is not None:
            session.recorder.message(
                WireMessage(data, direction, transport, now, session.eio, session.sid, http=http)
            )
        if not session.ended:
            for piece in report.packets:
                engine = piece.breakdown.engine
                if engine is not None and engine.type is EngineType.CLOSE:
                    closer = (
                        "io client disconnect" if direction is Direction.C2S else "transport close"
                    )
                    self._show(session, direction, report)
                    self.end(session, closer, f"close packet from the {direction.peer}")
                    return report
        self._show(session, direction, report)
        return report

    def _show(self, session: ClientSession, direction: Direction, report: MessageReport) -> None:
        packets = [p.complete for p in report.packets if p.complete is not None]
        for packet in packets:
            if packet.type in _EVENTS and packet.id is not None and packet.data:
                session.asked[(direction, packet.namespace, packet.id)] = packet.data[0]
        if self._filtered and not any(self._wanted(session, direction, p) for p in packets):
            return
        if session.json is not None:
            session.json.write_message(report, eio=session.eio)
        elif self._renderer is not None:
            self._header(session)
            self._renderer.write_message(report, eio=session.eio)
        elif self.options.quiet:
            for packet in packets:
                if self._wanted(session, direction, packet):
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
        elif packet.type in _ACKS and packet.id is not None:
            other = Direction.S2C if direction is Direction.C2S else Direction.C2S
            name = session.asked.get((other, packet.namespace, packet.id))
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

    def note(self, session: ClientSession | None, kind: str, text: str, **fields: Any) -> None:
        """A line about the relay itself: a session opening or ending, a fault firing, an
        HTTP answer that is not Engine.IO, the proxy failing to reach the server."""
        if self.options.as_json:
            from ..render.jsonl import dumps_line

            record: dict[str, Any] = {"type": kind, "time": round(time.time() - self.started, 6)}
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
        self._line(session, f"{_MARKS.get(kind, '·')} {kind}: {escape_text(text)}")

    def _line(self, session: ClientSession | None, text: str) -> None:
        if self._renderer is not None:
            self._renderer.flush()
        t = time.time() - self.started
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

    def flush(self) -> None:
        """Write what is batched: called once per read the relay makes."""
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
            stream, options.target.url, recorded, redact=options.redact
        )
        session.recorder.opened(session.eio)
        session.recorder.event("session", time.time(), number=1)


_MARKS = {"fault": "✂", "error": "✗", "open": "◆", "close": "◇", "upgrade": "⇧", "http": "·"}
