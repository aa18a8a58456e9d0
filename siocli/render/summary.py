"""The summary after a decode: sessions, namespaces, events, packet counts, heartbeats,
findings. It counts what the core reported; it decodes nothing itself."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..protocol.dissect import MessageReport
from ..protocol.types import EngineType, Finding, Severity, SocketType

__all__ = ["Summary"]

if TYPE_CHECKING:
    from rich.text import Text


@dataclass(slots=True)
class _Session:
    key: str
    eio: int
    sid: str | None = None
    transports: set[str] = field(default_factory=set)
    messages: int = 0
    pings: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Summary:
    sessions: dict[int, _Session] = field(default_factory=dict)
    namespaces: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    engine_types: Counter[str] = field(default_factory=Counter)
    socket_types: Counter[str] = field(default_factory=Counter)
    findings: Counter[tuple[Severity, str]] = field(default_factory=Counter)
    errors: int = 0
    messages: int = 0

    def add(
        self, session_id: int, eio: int, report: MessageReport, extra: tuple[Finding, ...] = ()
    ) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            session = self.sessions[session_id] = _Session(str(session_id), eio)
        session.messages += 1
        session.transports.add(report.transport.value)
        self.messages += 1
        self._count_findings((*report.findings, *extra))
        self.errors += report.breakdown.error is not None
        for packet in report.packets:
            breakdown = packet.breakdown
            if breakdown.handshake is not None and session.sid is None:
                session.sid = breakdown.handshake.sid
            engine = breakdown.engine
            if engine is not None:
                self.engine_types[engine.type.label] += 1
                heartbeat = engine.type is EngineType.PING and engine.data != "probe"
                if heartbeat and report.time is not None:
                    session.pings.append(report.time)
            complete = packet.complete
            if complete is not None:
                self.socket_types[complete.type.name] += 1
                self.namespaces[complete.namespace] += 1
                if complete.type in (SocketType.EVENT, SocketType.BINARY_EVENT) and complete.data:
                    self.events[str(complete.event)] += 1
            self.errors += packet.error is not None
            self._count_findings((*packet.findings, *packet.socket_findings))

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

    def lines(self) -> list[Text]:
        from rich.text import Text

        out = [Text("Summary", style="bold underline")]
        for session in self.sessions.values():
            line = Text("  session ")
            line.append(session.sid or "(sid unknown)", style="bold")
            line.append(
                f"  Engine.IO {session.eio}, {', '.join(sorted(session.transports))}, "
                f"{session.messages} messages"
            )
            out.append(line)
            if len(session.pings) > 1:
                gaps = [b - a for a, b in zip(session.pings, session.pings[1:], strict=False)]
                out.append(
                    Text(
                        f"    heartbeat: {len(session.pings)} pings, every "
                        f"{min(gaps):.3f}-{max(gaps):.3f} s (mean {sum(gaps) / len(gaps):.3f} s)",
                        style="dim",
                    )
                )
        out.append(_counts("  Engine.IO packets: ", self.engine_types))
        if self.socket_types:
            out.append(_counts("  Socket.IO packets: ", self.socket_types))
        if self.namespaces:
            out.append(_counts("  namespaces: ", self.namespaces))
        if self.events:
            out.append(_counts("  events: ", self.events))
        by_severity: Counter[Severity] = Counter()
        for (severity, _), n in self.findings.items():
            by_severity[severity] += n
        line = Text("  findings: ")
        if not by_severity and not self.errors:
            line.append("none", style="green")
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
            line.append(("" if i == 0 else ", ") + text, style=style)
        out.append(line)
        if self.findings:
            codes = ", ".join(
                f"{code} ×{n}" if n > 1 else code
                for (_, code), n in sorted(self.findings.items(), key=lambda i: -i[1])
            )
            out.append(Text(f"    {codes}", style="dim"))
        return out


def _counts(title: str, counter: Counter[str]) -> Text:
    from rich.text import Text

    line = Text(title)
    line.append(", ".join(f"{name} {n}" for name, n in counter.most_common()))
    return line
