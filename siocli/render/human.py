"""The terminal view: one block per wire message, every span explained.

::

    #4 < polling  42["hey","Jude"]
         4                 Engine.IO "message" packet type
         2                 Socket.IO "EVENT" packet type
         ["hey","Jude"]    event 'hey' with 1 argument
       = EVENT 'hey' ["Jude"]

Lines are built as rich ``Text`` and printed in batches: one ``console.print`` per packet
costs ~80 µs, more than decoding it.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from ..protocol.dissect import MessageReport, PacketReport
from ..protocol.errors import DecodeError
from ..protocol.types import Finding, Severity, SocketPacket, SocketType, Span
from ..wire import InputProblem
from .summary import Summary
from .text import escape_text, format_value, hex_preview

__all__ = ["HumanRenderer"]

_SEVERITY_STYLE = {
    Severity.VIOLATION: ("✗", "bold red"),
    Severity.WARNING: ("!", "yellow"),
    Severity.INFO: ("i", "cyan"),
}
_KIND_STYLE = {
    "eio_type": "magenta",
    "sio_type": "bright_magenta",
    "attachments": "cyan",
    "namespace": "green",
    "ack_id": "blue",
    "payload": "default",
    "separator": "dim",
    "length": "dim",
}
_SPAN_WIDTH = 24
_BYTE_KINDS = frozenset(("binary", "marker", "length", "length_end"))
_BATCH = 200


def _elide(text: str, width: int, full: bool) -> str:
    if full or len(text) <= width:
        return text
    return text[: width - 1] + "…"


class HumanRenderer:
    """Renders dissected messages to ``console``, batching output."""

    def __init__(self, console: Console, *, full: bool = False, interactive: bool = False) -> None:
        self.console = console
        self.full = full
        self.interactive = interactive
        self._lines: list[Text] = []
        self._width = max(40, console.width - 18)

    # --- blocks -------------------------------------------------------------------------

    def write_session(self, number: int, sid: str | None, eio: int) -> None:
        line = Text(f"── session {number}", style="bold")
        if sid:
            line.append(f" {sid}", style="bold")
        line.append(f" · Engine.IO {eio} / Socket.IO protocol {4 if eio == 3 else 5}", style="dim")
        self._lines.append(line)

    def write_problem(self, problem: InputProblem, index: int) -> None:
        style = "bold red" if problem.severity is Severity.VIOLATION else "dim"
        mark = "✗ input" if problem.severity is Severity.VIOLATION else "· skipped"
        line = Text(f"   {mark} ", style=style)
        line.append(f"({problem.source}) ", style="dim")
        line.append(problem.message)
        self._lines.append(line)
        if self.interactive:
            self.flush()

    def finish(self, findings: list[Finding], summary: Summary | None) -> None:
        self.write_findings("At the end:", findings)
        if summary is not None:
            self._lines.append(Text(""))
            self._lines.extend(summary.lines())
        self.flush()

    def write_message(
        self, report: MessageReport, extra: Iterable[Finding] = (), eio: int = 4
    ) -> None:
        raw = report.raw
        header = Text()
        header.append(f"#{report.number} ", style="dim")
        direction = report.direction
        header.append(direction.arrow if direction else "?", style="bold")
        header.append(f" {report.transport.value:<9} ", style="dim")
        if report.time is not None:
            header.append(f"{report.time:10.3f}s ", style="dim")
        if isinstance(raw, str):
            header.append(_elide(escape_text(raw), self._width, self.full))
        else:
            header.append(f"<binary {hex_preview(raw)}>", style="cyan")
        lines = self._lines
        lines.append(header)
        framing = list(report.breakdown.spans)
        for packet in report.packets:
            # the framing (lengths, separators) that comes before this packet
            before = [s for s in framing if s.end <= packet.breakdown.offset]
            framing = framing[len(before) :]
            self._packet_lines(report, packet, before)
        if report.breakdown.error is not None:
            lines.append(self._error_line(report.breakdown.error))
        for finding in (*report.findings, *extra):
            lines.append(self._finding_line(finding))
        if self.interactive or len(lines) >= _BATCH:
            self.flush()

    def _packet_lines(
        self, report: MessageReport, packet: PacketReport, framing: list[Span]
    ) -> None:
        breakdown = packet.breakdown
        source = report.raw
        lines = self._lines
        start = breakdown.offset
        stop = start + len(breakdown.raw)
        spans = [*framing, *breakdown.spans]
        for span in spans:
            lines.append(self._span_line(source, span))
        if breakdown.error is None and not spans and stop > start:
            lines.append(self._span_line(source, Span(start, stop, "data", "data")))
        if packet.attachment is not None:
            of, num = packet.attachment
            lines.append(Text(f"   = attachment {num} of the packet in #{of}", style="cyan"))
        socket = packet.complete
        if socket is not None:
            lines.append(self._summary_line(socket))
        elif breakdown.socket is not None and breakdown.socket.type >= 5 and packet.error is None:
            lines.append(
                Text(
                    f"   … awaiting {breakdown.socket.attachments} binary attachment(s)",
                    style="dim",
                )
            )
        if packet.error is not None:
            lines.append(self._error_line(packet.error))
        for finding in (*packet.findings, *packet.socket_findings):
            lines.append(self._finding_line(finding))

    def _span_line(self, source: str | bytes, span: Span) -> Text:
        piece = source[span.start : span.end]
        if isinstance(piece, bytes) and span.kind not in _BYTE_KINDS:
            # text inside a binary payload (an Engine.IO 3 text entry): show it as text
            text = piece.decode("utf-8", "replace")
            piece = text if text.isprintable() else piece
        if isinstance(piece, str):
            shown = escape_text(piece)
        else:
            shown = hex_preview(piece, 8) if span.kind == "binary" else piece.hex(" ")
        if (
            span.kind in ("payload", "handshake", "eio_data")
            and not self.full
            and len(shown) > _SPAN_WIDTH
        ):
            shown = shown[: _SPAN_WIDTH - 4] + "…" + shown[-2:]
        line = Text("     ")
        line.append(f"{shown:<{_SPAN_WIDTH}}", style=_KIND_STYLE.get(span.kind, "default"))
        line.append(" => ", style="dim")
        line.append(span.meaning)
        return line

    def _summary_line(self, packet: SocketPacket) -> Text:
        line = Text("   = ", style="bold")
        line.append(packet.type.name, style="bold")
        if packet.namespace != "/":
            line.append(f" {packet.namespace}", style="green")
        if packet.id is not None:
            line.append(f" id={packet.id}", style="blue")
        if packet.type in (SocketType.EVENT, SocketType.BINARY_EVENT) and packet.data:
            line.append(f" {format_value(packet.event)}", style="bold")
            line.append(" " + _elide(format_value(packet.args), self._width, self.full))
        elif packet.data is not None:
            line.append(" " + _elide(format_value(packet.data), self._width, self.full))
        return line

    def _finding_line(self, finding: Finding) -> Text:
        mark, style = _SEVERITY_STYLE[finding.severity]
        line = Text(f"   {mark} ", style=style)
        line.append(f"{finding.severity.value} ", style=style)
        line.append(f"[{finding.code}] ", style="dim")
        line.append(finding.message)
        return line

    def _error_line(self, error: DecodeError) -> Text:
        line = Text("   ✗ error ", style="bold red")
        line.append(f"({error.layer}, offset {error.offset}) ", style="dim")
        line.append(error.reason)
        if error.expected:
            line.append(f"; expected {error.expected}", style="dim")
        return line

    # --- free text ------------------------------------------------------------------------

    def write_findings(self, title: str, findings: Iterable[Finding]) -> None:
        findings = list(findings)
        if findings:
            self._lines.append(Text(title, style="bold"))
            self._lines.extend(self._finding_line(f) for f in findings)

    def flush(self) -> None:
        if self._lines:
            self.console.print(Text("\n").join(self._lines), soft_wrap=True, highlight=False)
            self._lines = []
