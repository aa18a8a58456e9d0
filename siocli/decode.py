"""``siocli decode``: wire messages in, explanations out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from .exit import ExitStatus
from .protocol.dissect import Dissector, MessageReport
from .protocol.errors import DecodeError
from .protocol.types import Finding, Severity, Transport
from .wire import parse_argument

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["DecodeOptions", "run_decode"]


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    messages: tuple[str, ...]
    eio: int | None = None
    transport: str | None = None
    as_json: bool = False
    full: bool = False
    strict: bool = False


def run_decode(options: DecodeOptions, console: Console, stdout: IO[str]) -> ExitStatus:
    eio = options.eio or 4
    transport = Transport(options.transport or "websocket")
    dissector = Dissector(eio, expect_handshake=False)
    if options.as_json:
        from .render.jsonl import JsonLinesWriter

        sink: JsonLinesWriter | HumanRenderer = JsonLinesWriter(stdout, eio)
    else:
        from .render.human import HumanRenderer

        sink = HumanRenderer(console, full=options.full)
    violations = 0
    for number, argument in enumerate(options.messages):
        try:
            data = parse_argument(argument)
        except DecodeError as exc:
            data = argument
            report = dissector.receive(None, transport, argument)
            extra = [
                Finding(Severity.VIOLATION, "input.unreadable", f"argument {number + 1}: {exc}")
            ]
            sink.write_message(report, extra)
            violations += 1
            continue
        report = dissector.receive(None, transport, data)
        violations += _count_violations(report)
        sink.write_message(report)
    ending = dissector.end()
    violations += sum(f.severity is Severity.VIOLATION for f in ending)
    if options.as_json:
        sink.flush_incomplete(ending)  # type: ignore[union-attr]
    else:
        sink.write_findings("At the end:", ending)  # type: ignore[union-attr]
        sink.flush()  # type: ignore[union-attr]
    if options.strict and violations:
        return ExitStatus.FINDINGS
    return ExitStatus.OK


def _count_violations(report: MessageReport) -> int:
    count = sum(f.severity is Severity.VIOLATION for f in report.findings)
    for packet in report.packets:
        count += packet.error is not None
        count += sum(
            f.severity is Severity.VIOLATION for f in (*packet.findings, *packet.socket_findings)
        )
    count += report.breakdown.error is not None
    return count


if TYPE_CHECKING:
    from .render.human import HumanRenderer
    from .render.jsonl import JsonLinesWriter
