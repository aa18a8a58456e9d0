"""The terminal view: one block per wire message, every span explained.

::

    #4 < polling  42["hey","Jude"]
         4                 Engine.IO "message" packet type
         2                 Socket.IO "EVENT" packet type
         ["hey","Jude"]    event 'hey' with 1 argument
       = EVENT 'hey' ["Jude"]

Lines are built as :data:`~.text.StyledLine` tuples and written in batches. Where the
console shows no styles (a file, a pipe, ``TERM=dumb``), the batch is written as the plain
text rich would write: rich costs ~80 µs a packet, more than decoding it, for output that
is only text. Elsewhere rich renders it, in colour.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, cast

from ..protocol.annotate import common_spans
from ..protocol.dissect import MessageReport, PacketReport, packet_spans
from ..protocol.errors import DecodeError
from ..protocol.types import Finding, Severity, SocketPacket, SocketType, Span, Transport
from ..wire import InputProblem
from .summary import Summary
from .text import StyledLine, escape_text, format_elided, format_value, hex_preview

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

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
_KIND_STYLE_GET = _KIND_STYLE.get
_SPAN_WIDTH = 24
_BYTE_KINDS = frozenset(("binary", "marker", "length", "length_end"))
_ELIDED_KINDS = frozenset(("payload", "handshake", "eio_data"))
_BATCH = 1000  # lines per write
_CACHED_KINDS = frozenset(("eio_type", "sio_type", "namespace", "separator"))
_CACHED_LINES = 4096
_TRANSPORTS = {t: f" {t.value:<9} " for t in Transport}
_SOCKET_NAMES = tuple(t.name for t in SocketType)
_EVENT, _BINARY_EVENT = SocketType.EVENT, SocketType.BINARY_EVENT
# What rich changes in text it prints: control codes it strips, tabs it expands.
_RICH_REWRITES = "\x07\x08\x0b\x0c\r\t"


def _elide(text: str, width: int, full: bool) -> str:
    if full or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def _plain_file(console: Console) -> IO[str] | None:
    """Where to write plain text for ``console``, when rich would write nothing else: no
    colour system, no recording, no notebook, not Windows (rich splits writes there)."""
    if (
        console.color_system is None
        and not console.record
        and not console.is_jupyter
        and not console.quiet
        and sys.platform != "win32"
    ):
        return console.file
    return None


def _as_rich_writes(text: str, tab_size: int) -> str:
    """``text`` as rich prints it: without the control codes it strips, tabs expanded."""
    if not any(char in text for char in _RICH_REWRITES):  # a scan each, fast: most text
        return text
    from rich.text import Text

    rich_text = Text(text)  # strips the control codes
    if "\t" in rich_text.plain:
        rich_text.expand_tabs(tab_size)
    return rich_text.plain


def _rich_text(line: StyledLine | str) -> Text:
    from rich.text import Text

    if isinstance(line, str):
        return Text(line)
    return Text.assemble(*zip(line[1::2], line[2::2], strict=True), style=line[0] or "")


class HumanRenderer:
    """Renders dissected messages to ``console``, batching output."""

    shows_spans = True
    spans_on_demand = True  # the common packet's spans are made here, as it is shown
    shows_summary = True

    def __init__(self, console: Console, *, full: bool = False, interactive: bool = False) -> None:
        self.console = console
        self.full = full
        self.interactive = interactive
        self._lines: list[StyledLine | str] = []
        # A narrow terminal (a split pane, a phone) gets each meaning under its span, and
        # what is longer than a line elided or wrapped to the terminal's width.
        self._columns = console.width
        self._narrow = console.width < 72
        self._width = max(20 if self._narrow else 40, console.width - 18)
        # where nothing is styled, lines may be plain text already (see flush)
        self._file = None if self._narrow else _plain_file(console)
        self._plain = self._file is not None
        self._span_lines: dict[tuple[str, str, str], StyledLine | str] = {}

    # --- blocks -------------------------------------------------------------------------

    def write_session(self, number: int, sid: str | None, eio: int) -> None:
        self._lines.append(
            (
                "bold",
                f"── session {number}",
                None,
                f" {sid}" if sid else "",
                "bold",
                f" · Engine.IO {eio} / Socket.IO protocol {4 if eio == 3 else 5}",
                "dim",
            )
        )

    def write_problem(self, problem: InputProblem, index: int) -> None:
        severity = problem.severity
        if severity is Severity.INFO:  # prose between messages, and such
            mark, style = "   · skipped ", "dim"
        else:
            mark, style = f"   {_SEVERITY_STYLE[severity][0]} input ", _SEVERITY_STYLE[severity][1]
        self._lines.append(
            (
                style,
                mark,
                None,
                f"({problem.source}) ",
                "dim",
                problem.message,
                None,
            )
        )
        if self.interactive:
            self.flush()

    def finish(self, findings: list[Finding], summary: Summary | None) -> None:
        self.write_findings("At the end:", findings)
        if summary is not None:
            self._lines.append((None, "", None))
            self._lines.extend(summary.lines())
        self.flush()

    def write_message(
        self, report: MessageReport, extra: Iterable[Finding] = (), eio: int = 4
    ) -> None:
        raw = report.raw
        if self._plain and not extra and raw.__class__ is str:
            block = self._plain_block(report, eio)
            if block is not None:
                lines = self._lines
                lines.append(block)
                if self.interactive or len(lines) >= _BATCH:
                    self.flush()
                return
        direction = report.direction
        header: StyledLine = (
            None,
            f"#{report.number} ",
            "dim",
            direction.arrow if direction else "?",
            "bold",
            _TRANSPORTS[report.transport],
            "dim",
        )
        if report.time is not None:
            header += (f"{report.time:10.3f}s ", "dim")
        if isinstance(raw, str):
            width = self._width
            if not self.full and len(raw) > width and raw[: width - 1].isprintable():
                header += (raw[: width - 1] + "…", None)  # longer escaped: only its start shown
            else:
                header += (_elide(escape_text(raw), width, self.full), None)
        else:
            header += (f"<binary {hex_preview(raw)}>", "cyan")
        lines = self._lines
        lines.append(header)
        framing = report.breakdown.spans  # of a polling body: lengths, separators
        for packet in report.packets:
            before: Sequence[Span] = ()
            if framing:
                before = [s for s in framing if s.end <= packet.breakdown.offset]
                framing = framing[len(before) :]
            self._packet_lines(report, packet, before, eio)
        if report.breakdown.error is not None:
            lines.append(self._error_line(report.breakdown.error))
        for finding in report.findings:
            lines.append(self._finding_line(finding))
        for finding in extra:
            lines.append(self._finding_line(finding))
        if self.interactive or len(lines) >= _BATCH:
            self.flush()

    def _packet_lines(
        self, report: MessageReport, packet: PacketReport, framing: Sequence[Span], eio: int
    ) -> None:
        breakdown = packet.breakdown
        source = report.raw
        lines = self._lines
        start = breakdown.offset
        stop = start + len(breakdown.raw)
        spans = packet_spans(packet, eio)
        if framing:
            spans = (*framing, *spans)
        if spans:
            if isinstance(source, str) and not self._narrow:
                self._text_span_lines(source, spans, lines)
            else:
                lines.extend([self._span_line(source, span) for span in spans])
        elif breakdown.error is None and stop > start:
            lines.append(self._span_line(source, Span(start, stop, "data", "data")))
        if packet.attachment is not None:
            of, num = packet.attachment
            lines.append(("cyan", f"   = attachment {num} of the packet in #{of}", None))
        socket = packet.complete
        if socket is not None:
            lines.append(self._summary_line(socket))
        elif breakdown.socket is not None and breakdown.socket.type >= 5 and packet.error is None:
            lines.append(
                ("dim", f"   … awaiting {breakdown.socket.attachments} binary attachment(s)", None)
            )
        if packet.error is not None:
            lines.append(self._error_line(packet.error))
        if packet.findings:
            for finding in packet.findings:
                lines.append(self._finding_line(finding))
        if packet.socket_findings:
            for finding in packet.socket_findings:
                lines.append(self._finding_line(finding))

    def _plain_block(self, report: MessageReport, eio: int) -> str | None:
        """The block of a message that is one common EVENT or ACK and nothing else to say,
        as the plain text of its lines in one string (the lines the general path makes,
        joined: tests hold the two together); ``None`` for any other message."""
        number, direction, transport, time, raw, message, packets, findings = report
        if findings or len(packets) != 1 or message.spans or message.error is not None:
            return None
        breakdown, complete, attachment, ours, socket_findings, error, recovery = packets[0]
        if (
            complete is None
            or breakdown.spans  # the dissector explained it: not the common packet
            or breakdown.socket is None
            or breakdown.offset
            or ours
            or socket_findings
            or attachment is not None
            or error is not None
            or recovery is not None
        ):
            return None
        assert isinstance(raw, str)
        header = f"#{number} {direction.arrow if direction else '?'}{_TRANSPORTS[transport]}"
        if time is not None:
            header += f"{time:10.3f}s "
        width = self._width
        if not self.full and len(raw) > width and raw[: width - 1].isprintable():
            header += raw[: width - 1] + "…"
        else:
            header += _elide(escape_text(raw), width, self.full)
        parts: list[StyledLine | str] = [header]
        self._text_span_lines(raw, common_spans(breakdown, eio), parts)
        parts.append("".join(self._summary_line(complete)[1::2]))
        return "\n".join(cast("list[str]", parts))  # plain: every line is text

    def _text_span_lines(
        self, text: str, spans: Sequence[Span], lines: list[StyledLine | str]
    ) -> None:
        """The lines of ``spans`` of ``text`` on a wide terminal or a file (most spans):
        _span_line, inlined, as a call per span costs more than the line's own work."""
        full = self.full
        cache = self._span_lines
        for start, end, kind, meaning in spans:
            if kind in _CACHED_KINDS:  # a type digit, a namespace: the same few lines
                key = (text[start:end], kind, meaning)
                line = cache.get(key)
                if line is None:
                    line = self._wide_span_line(key[0], kind, meaning)
                    if len(cache) < _CACHED_LINES:
                        cache[key] = line
                lines.append(line)
                continue
            if not full and end - start > _SPAN_WIDTH and kind in _ELIDED_KINDS:
                # elided: only its ends are shown, and only they need escaping
                head = text[start : start + _SPAN_WIDTH - 4]
                tail = text[end - 2 : end]
                if head.isprintable() and tail.isprintable():
                    lines.append(self._wide_span_line(head + "…" + tail, kind, meaning))
                    continue
            lines.append(self._wide_span_line(text[start:end], kind, meaning))

    def _wide_span_line(self, shown: str, kind: str, meaning: str) -> StyledLine | str:
        """A span of text on a wide terminal or a file: plain text where nothing is styled."""
        if not shown.isprintable():
            shown = escape_text(shown)
        full = self.full
        if not full and len(shown) > _SPAN_WIDTH and kind in _ELIDED_KINDS:
            shown = shown[: _SPAN_WIDTH - 4] + "…" + shown[-2:]
        if not full and len(meaning) > self._width:
            meaning = meaning[: self._width - 1] + "…"
        if self._plain:
            return "     " + shown.ljust(_SPAN_WIDTH) + " => " + meaning
        return (
            None,
            "     ",
            None,
            shown.ljust(_SPAN_WIDTH),
            _KIND_STYLE_GET(kind, "default"),
            " => ",
            "dim",
            meaning,
            None,
        )

    def _span_line(self, source: str | bytes, span: Span) -> StyledLine:
        if isinstance(source, str):
            shown = escape_text(source[span.start : span.end])
        else:
            shown = self._bytes_shown(source[span.start : span.end], span.kind)
        if self._narrow:
            return (
                None,
                "     ",
                _KIND_STYLE.get(span.kind, "default"),
                _elide(shown, max(10, self._columns - 5), self.full),
                "dim",
                "\n       => " + _elide(span.meaning, max(10, self._columns - 10), self.full),
                None,
            )
        if span.kind in _ELIDED_KINDS and not self.full and len(shown) > _SPAN_WIDTH:
            shown = shown[: _SPAN_WIDTH - 4] + "…" + shown[-2:]
        return (
            None,
            "     ",
            None,
            shown.ljust(_SPAN_WIDTH),
            _KIND_STYLE.get(span.kind, "default"),
            " => ",
            "dim",
            _elide(span.meaning, self._width, self.full),
            None,
        )

    @staticmethod
    def _bytes_shown(piece: bytes, kind: str) -> str:
        if kind not in _BYTE_KINDS:
            # text inside a binary payload (an Engine.IO 3 text entry): show it as text
            text = piece.decode("utf-8", "replace")
            if text.isprintable() and "\ufffd" not in text:  # else: bytes, not text
                return escape_text(text)
        return hex_preview(piece, 8) if kind == "binary" else piece.hex(" ")

    def _summary_line(self, packet: SocketPacket) -> StyledLine:
        ptype = packet.type
        line: StyledLine = ("bold", "   = ", None, _SOCKET_NAMES[ptype], "bold")
        if packet.namespace != "/":
            line += (f" {packet.namespace}", "green")
        if packet.id is not None:
            line += (f" id={packet.id}", "blue")
        data = packet.data
        if (ptype is _EVENT or ptype is _BINARY_EVENT) and data:
            name = format_value(data[0])
            args = data[1:] if data.__class__ is list else packet.args  # packet.args, inlined
            if self.full:
                return (*line, " " + name, "bold", " " + format_value(args), None)
            width = self._width
            if len(name) > width:
                name = name[: width - 1] + "…"
            return (*line, " " + name, "bold", " " + format_elided(args, width), None)
        if data is not None:
            shown = format_value(data) if self.full else format_elided(data, self._width)
            line += (" " + shown, None)
        return line

    def _finding_line(self, finding: Finding) -> StyledLine:
        mark, style = _SEVERITY_STYLE[finding.severity]
        message = finding.message
        if self._narrow:
            import textwrap

            lead = len(f"   {mark} {finding.severity.value} [{finding.code}] ")
            message = textwrap.fill(
                message,
                width=max(20, self._columns),
                initial_indent="x" * lead,
                subsequent_indent="       ",
                break_long_words=False,
                break_on_hyphens=False,
            )[lead:]
        return (
            style,
            f"   {mark} ",
            None,
            f"{finding.severity.value} ",
            style,
            f"[{finding.code}] ",
            "dim",
            message,
            None,
        )

    @staticmethod
    def _error_line(error: DecodeError) -> StyledLine:
        line: StyledLine = (
            "bold red",
            "   ✗ error ",
            None,
            f"({error.layer}, offset {error.offset}) ",
            "dim",
            error.reason,
            None,
        )
        if error.expected:
            line += (f"; expected {error.expected}", "dim")
        return line

    # --- free text ------------------------------------------------------------------------

    def write_findings(self, title: str, findings: Iterable[Finding]) -> None:
        findings = list(findings)
        if findings:
            self._lines.append(("bold", title, None))
            self._lines.extend(self._finding_line(f) for f in findings)

    def flush(self) -> None:
        lines = self._lines
        if not lines:
            return
        self._lines = []
        file = self._file
        if file is None:
            from rich.text import Text

            text = Text("\n").join([_rich_text(line) for line in lines])
            # narrow: rich wraps what is still too long at word boundaries
            self.console.print(text, soft_wrap=not self._narrow, highlight=False)
            return
        output = (
            "\n".join([line if line.__class__ is str else "".join(line[1::2]) for line in lines])
            + "\n"
        )
        file.write(_as_rich_writes(output, self.console.tab_size))
        file.flush()
