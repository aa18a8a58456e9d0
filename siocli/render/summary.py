"""The summary after a decode: sessions, namespaces, events, packet counts, heartbeats,
findings. It counts what the core reported; it decodes nothing itself."""

from __future__ import annotations

from collections import Counter

from ..protocol.dissect import MessageReport
from ..protocol.types import EngineType, Finding, Severity, SocketType, Transport
from .text import StyledLine, escape_text

__all__ = ["Summary"]


# Names by enum member, looked up rather than computed per packet (``.label`` and
# ``.value`` are Python-level descriptors, ~0.2 µs each).
_ENGINE_LABELS = tuple(t.label for t in EngineType)
_SOCKET_NAMES = tuple(t.name for t in SocketType)
_TRANSPORTS = {t: t.value for t in Transport}
_PING = EngineType.PING
_EVENT, _BINARY_EVENT = SocketType.EVENT, SocketType.BINARY_EVENT


# Plain slotted classes, not dataclasses: Python 3.11 compiles a dataclass's methods when its
# module is imported, ~0.5 ms each of every start-up.


class _Heartbeat:
    """The gaps between a session's pings, as running figures: a long capture has many."""

    __slots__ = ("last", "longest", "pings", "shortest", "total")

    def __init__(self) -> None:
        self.pings = 0
        self.last = 0.0
        self.shortest = float("inf")
        self.longest = 0.0
        self.total = 0.0

    def ping(self, time: float) -> None:
        if self.pings:
            gap = time - self.last
            self.shortest = min(self.shortest, gap)
            self.longest = max(self.longest, gap)
            self.total += gap
        self.pings += 1
        self.last = time


class _Session:
    __slots__ = ("eio", "heartbeat", "key", "messages", "sid", "transports")

    def __init__(self, key: str, eio: int) -> None:
        self.key = key
        self.eio = eio
        self.sid: str | None = None
        self.transports: set[str] = set()
        self.messages = 0
        self.heartbeat = _Heartbeat()


class Summary:
    """What :meth:`lines` shows. Without ``detailed``, only what :meth:`violations` needs
    (findings and errors) is counted: ``--json`` prints no summary."""

    __slots__ = (
        "detailed",
        "engine_types",
        "errors",
        "events",
        "findings",
        "messages",
        "namespaces",
        "sessions",
        "socket_types",
    )

    def __init__(self, detailed: bool = True) -> None:
        self.detailed = detailed
        self.sessions: dict[int, _Session] = {}
        self.namespaces: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.engine_types: Counter[str] = Counter()
        self.socket_types: Counter[str] = Counter()
        self.findings: Counter[tuple[Severity, str]] = Counter()
        self.errors = 0
        self.messages = 0

    def add(
        self, session_id: int, eio: int, report: MessageReport, extra: tuple[Finding, ...] = ()
    ) -> None:
        if report.findings:
            self._count_findings(report.findings)
        if extra:
            self._count_findings(extra)
        if report.breakdown.error is not None:
            self.errors += 1
        for packet in report.packets:
            if packet.error is not None:
                self.errors += 1
            if packet.findings:
                self._count_findings(packet.findings)
            if packet.socket_findings:
                self._count_findings(packet.socket_findings)
        if self.detailed:
            self._describe(session_id, eio, report)

    def _describe(self, session_id: int, eio: int, report: MessageReport) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            session = self.sessions[session_id] = _Session(str(session_id), eio)
        session.messages += 1
        session.transports.add(_TRANSPORTS[report.transport])
        self.messages += 1
        for packet in report.packets:
            breakdown = packet.breakdown
            if breakdown.handshake is not None and session.sid is None:
                session.sid = breakdown.handshake.sid
            engine = breakdown.engine
            if engine is not None:
                self.engine_types[_ENGINE_LABELS[engine.type]] += 1
                heartbeat = engine.type is _PING and engine.data != "probe"
                if heartbeat and report.time is not None:
                    session.heartbeat.ping(report.time)
            complete = packet.complete
            if complete is not None:
                ptype = complete.type
                self.socket_types[_SOCKET_NAMES[ptype]] += 1
                self.namespaces[complete.namespace] += 1
                if (ptype is _EVENT or ptype is _BINARY_EVENT) and complete.data:
                    self.events[str(complete.data[0])] += 1  # the event's name

    def add_findings(self, findings: tuple[Finding, ...] | list[Finding]) -> None:
        self._count_findings(findings)

    def _count_findings(self, findings: tuple[Finding, ...] | list[Finding]) -> None:
        for finding in findings:
            self.findings[(finding.severity, finding.code)] += 1

    def violations(self) -> int:
        count = self.errors
        for (severity, _), n in self.findings.items():
            count += n if severity is Severity.VIOLATION else 0
        return count

    def lines(self) -> list[StyledLine]:
        out: list[StyledLine] = [("bold underline", "Summary", None)]
        for session in self.sessions.values():
            out.append(
                (
                    None,
                    "  session ",
                    None,
                    session.sid or "(sid unknown)",
                    "bold",
                    f"  Engine.IO {session.eio}, {', '.join(sorted(session.transports))}, "
                    f"{session.messages} messages",
                    None,
                )
            )
            beat = session.heartbeat
            if beat.pings > 1:
                out.append(
                    (
                        "dim",
                        f"    heartbeat: {beat.pings} pings, every {beat.shortest:.3f}-"
                        f"{beat.longest:.3f} s (mean {beat.total / (beat.pings - 1):.3f} s)",
                        None,
                    )
                )
        out.append(_counts("  Engine.IO packets: ", self.engine_types))
        if self.socket_types:
            out.append(_counts("  Socket.IO packets: ", self.socket_types))
        if self.namespaces:
            out.append(_counts("  namespaces: ", _redacted(self.namespaces)))
        if self.events:
            out.append(_counts("  events: ", self.events))
        by_severity: Counter[Severity] = Counter()
        for (severity, _), n in self.findings.items():
            by_severity[severity] += n
        line: StyledLine = (None, "  findings: ", None)
        if not by_severity and not self.errors:
            line += ("none", "green")
        parts = []
        if self.errors:
            parts.append((f"{self.errors} decoding error(s)", "bold red"))
        for severity, style in (
            (Severity.VIOLATION, "bold red"),
            (Severity.WARNING, "yellow"),
            (Severity.INFO, "cyan"),
        ):
            if by_severity[severity]:
                parts.append((f"{by_severity[severity]} {severity.value}(s)", style))
        for i, (text, style) in enumerate(parts):
            line += (("" if i == 0 else ", ") + text, style)
        out.append(line)
        if self.findings:
            codes = ", ".join(
                f"{code} ×{n}" if n > 1 else code
                for (_, code), n in sorted(self.findings.items(), key=lambda i: -i[1])
            )
            out.append(("dim", f"    {codes}", None))
        return out


def _counts(title: str, counter: Counter[str]) -> StyledLine:
    # names come from the wire (events, namespaces): escaped, as payloads are
    counts = ", ".join(f"{escape_text(name)} {n}" for name, n in counter.most_common())
    return (None, title, None, counts, None)


def _redacted(namespaces: Counter[str]) -> Counter[str]:
    """Socket.IO 2.x sends auth as the namespace's query: its values are redacted, as a
    recording redacts them."""
    if not any("?" in name for name in namespaces):
        return namespaces
    from ..recording import redact_namespace

    out: Counter[str] = Counter()
    for name, count in namespaces.items():
        out[redact_namespace(name)] += count
    return out
