"""``siocli decode``: captures in, every byte explained, every protocol mistake found.

Inputs become :class:`~siocli.wire.WireMessage` streams (:mod:`siocli.captures`), each
Engine.IO session gets its own :class:`~siocli.protocol.dissect.Dissector`, and the reports
go to one sink: the terminal view or JSON Lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Protocol

from .exit import CommandError, ExitStatus
from .protocol import engineio
from .protocol._tuples import NamedTuple  # typing's, without its per-field compile (start-up)
from .protocol.dissect import Dissector
from .protocol.errors import DecodeError
from .protocol.recovery import Recovery
from .protocol.types import Direction, Finding, Parser, Severity, Transport
from .wire import (
    InputProblem,
    WireMessage,
    may_be_a_message,
    parse_argument,
    unescape_body,
)

if TYPE_CHECKING:
    from rich.console import Console

    from .protocol.dissect import MessageReport
    from .render.summary import Summary

__all__ = ["DecodeOptions", "Sink", "run_decode"]

# A path as text: pathlib (with fnmatch, urllib.parse, ipaddress) is not needed to decode an
# argument, and importing it is a tenth of the command's start-up.
SAMPLE = os.path.join(os.path.dirname(__file__), "data", "sample-session.txt")


class DecodeOptions(NamedTuple):
    """What ``siocli decode`` was asked. A tuple rather than a frozen dataclass: a frozen
    dataclass of ten fields costs ~1 ms to create at import, on every start-up."""

    inputs: tuple[str, ...] = ()
    sample: bool = False
    source_format: str | None = None
    eio: int | None = None
    transport: str | None = None
    as_json: bool = False
    full: bool = False
    strict: bool = False
    server_port: int | None = None  # captures: the server's TCP port, when the SYN is missing
    parser: Parser | None = None  # the Socket.IO packet encoding; None: detected per session


class Sink(Protocol):
    """Where the reports go. A sink declares what it shows, and the pipeline computes no
    more than that: the findings are the same whatever a sink shows (tests hold them to it).
    """

    shows_spans: bool
    """Whether it explains the bytes of each packet (the dissector's spans and meanings)."""
    spans_on_demand: bool
    """With ``shows_spans``: whether it asks for the spans of the common EVENT or ACK only
    when it shows them (:func:`~siocli.protocol.dissect.packet_spans`), so that the
    dissector reads those on its quick path, without spans."""
    shows_summary: bool
    """Whether it prints the summary (sessions, packet and event counts, heartbeats); the
    findings and errors are counted in any case: ``--strict`` needs them."""

    def write_session(self, number: int, sid: str | None, eio: int) -> None: ...

    def write_message(
        self, report: MessageReport, extra: tuple[Finding, ...] = (), eio: int = 4
    ) -> None: ...

    def write_problem(self, problem: InputProblem, index: int) -> None: ...

    def finish(self, findings: list[Finding], summary: Summary | None) -> None: ...


class Unreadable(Exception):
    """No message at all could be read from an input: exit 2 with this reason."""


def run_decode(
    options: DecodeOptions,
    *,
    stdout: IO[str],
    stderr: IO[str],
    stdin: IO[bytes],
    stdin_is_tty: bool,
    console: Callable[[], Console],
) -> ExitStatus:
    """Decode the inputs of ``options``; ``console`` makes the terminal view's console
    (only called for it: ``--json`` never imports rich). Diagnostics go to ``stderr``;
    input that cannot be read at all raises :class:`CommandError` (exit 2)."""
    transport = Transport(options.transport) if options.transport else None
    interactive = not options.inputs and not options.sample and stdin_is_tty
    if interactive:
        stderr.write("Paste wire messages or a transcript, one per line; Ctrl-D to finish.\n")
        stderr.flush()
    sink: Sink
    if options.as_json:
        from .render.jsonl import JsonLinesWriter

        sink = JsonLinesWriter(stdout)
    else:
        from .render.human import HumanRenderer

        sink = HumanRenderer(console(), full=options.full, interactive=interactive)
    pipeline = _Pipeline(options, sink, stderr)
    try:
        for item in _messages(options, stdin, transport):
            pipeline.take(item)
    finally:
        pipeline.finish()
    if pipeline.unreadable:  # one line per input that could not be read at all
        raise CommandError(ExitStatus.USAGE, "\n".join(pipeline.unreadable))
    if not pipeline.read_any:  # nothing could be decoded: say so, as for unreadable input
        if pipeline.problems_said:
            raise CommandError(ExitStatus.USAGE, "no wire message in the input (see above)")
        raise CommandError(
            ExitStatus.USAGE,
            "no wire message found in the input",
            "a message starts with its packet type digit, a transcript has '>'/'<' frames or "
            "HTTP exchanges; for bytes, use hex:/b64: or --from payload",
        )
    if options.strict and pipeline.summary.violations():
        return ExitStatus.FINDINGS
    return ExitStatus.OK


def _messages(
    options: DecodeOptions, stdin: IO[bytes], transport: Transport | None
) -> Iterator[WireMessage | InputProblem]:
    sources = list(options.inputs)
    if options.sample:
        sources.insert(0, SAMPLE)
    if not sources:
        sources = ["-"]
    for number, source in enumerate(sources, 1):
        # any path that opens (a FIFO, /dev/stdin, a shell's <(...)), not only regular files
        if source != "-" and (not os.path.exists(source) or os.path.isdir(source)):
            if os.path.isdir(source):
                yield InputProblem(f"{source} is a directory: name the files", source, fatal=True)
            # (a pattern compiled on first use, not at import: start-up; re caches it)
            elif not may_be_a_message(source) and re.match(_PATH_LIKE, source):
                yield InputProblem(f"no such file: {source}", source, fatal=True)
            else:
                yield from _argument(source, number, options.eio, transport)
            continue
        from .captures import read_stream  # only for files and stdin: arguments are quicker

        if source == "-":
            yield from read_stream(
                stdin,
                "stdin",
                source_format=options.source_format,
                eio=options.eio,
                transport=transport,
                server_port=options.server_port,
            )
            continue
        name = "sample-session.txt" if options.sample and source == SAMPLE else source
        try:
            with open(source, "rb") as stream:
                yield from read_stream(
                    stream,
                    name,
                    source_format=options.source_format,
                    eio=options.eio,
                    transport=transport,
                    server_port=options.server_port,
                )
        except OSError as exc:
            yield InputProblem(f"cannot read {source}: {exc.strerror}", source, fatal=True)


_PATH_LIKE = r"(?s).*[/\\]|.*\.[A-Za-z][A-Za-z0-9]{0,4}\Z"  # a path, a name.ext


def _argument(
    text: str, number: int, eio: int | None, transport: Transport | None
) -> Iterator[WireMessage | InputProblem]:
    where = f"argument {number}"
    try:
        data = parse_argument(text)
    except DecodeError as exc:  # said "(argument N) ...": the reason, where, what was expected
        expected = f"; expected {exc.expected}" if exc.expected else ""
        yield InputProblem(f"{exc.reason} at offset {exc.offset}{expected}", where, exc.offset)
        return
    if isinstance(data, str):
        data = unescape_body(data)
    yield WireMessage(data, None, transport or engineio.transport_of(data), None, eio, None, where)


class _Session(NamedTuple):  # not a dataclass: ~0.4 ms to create at import (start-up)
    number: int
    eio: int
    dissector: Dissector


class _Pipeline:
    """Routes messages to their session's dissector, and the reports to the sink."""

    def __init__(self, options: DecodeOptions, sink: Sink, stderr: IO[str]) -> None:
        from .render.summary import Summary

        self.options = options
        self.sink = sink
        self.stderr = stderr
        self.summary = Summary(detailed=sink.shows_summary)
        self.by_key: dict[str, _Session] = {}  # reader keys and sids
        self.anonymous: _Session | None = None  # messages whose session no one named
        self.all: list[_Session] = []
        self.count = 0
        self.start: float | None = None
        self.unreadable: list[str] = []
        self.read_any = False
        self.problems_said = False  # the input's problems were shown
        self.guess_said = False
        self.pending: list[Finding] = []  # capture findings for the next JSON record
        # one for the run: it follows each client across its Engine.IO sessions (its
        # reconnections) by the pids it sends back, and tells clients apart
        self.recovery = Recovery()

    def take(self, item: WireMessage | InputProblem) -> None:
        if isinstance(item, InputProblem):
            self._problem(item)
            return
        self.read_any = True
        # one unpacking, not seven attribute reads: a message a packet
        data, direction, transport, time, _, key, _, extra, _ = item
        session = self.by_key.get(key) if key is not None else self.anonymous
        if session is None:
            session, notes = self._new_session(item)
            extra += notes
        if self.pending:
            extra = (*self.pending, *extra)
            self.pending = []
        if time is not None:
            if self.start is None:
                self.start = time
            time = round(time - self.start, 6)
        report = session.dissector.receive(direction, transport, data, time, self.count)
        self.count += 1
        for packet in report.packets:
            handshake = packet.breakdown.handshake
            if handshake is not None:  # now the session has a name
                self.by_key.setdefault(handshake.sid, session)
        self.summary.add(session.number, session.eio, report, extra)
        self.sink.write_message(report, extra, session.eio)

    def _new_session(self, item: WireMessage) -> tuple[_Session, tuple[Finding, ...]]:
        key = item.session
        eio, guess = self._revision(item)
        notes: tuple[Finding, ...] = ()
        if guess and not self.guess_said:
            self.guess_said = True
            notes = (Finding(Severity.INFO, "input.guessed-revision", guess),)
        # A capture with directions starts with the handshake; loose messages need not.
        dissector = Dissector(
            eio,
            expect_handshake=item.direction is not None,
            spans=self.sink.shows_spans,
            common_spans=not self.sink.spans_on_demand,
            recovery=self.recovery,
            parser=self.options.parser,
        )
        session = _Session(len(self.all) + 1, eio, dissector)
        self.all.append(session)
        if key is None:
            self.anonymous = session
        else:
            self.by_key[key] = session
        self.sink.write_session(session.number, key if key and key[0] != "#" else None, eio)
        return session, notes

    def _revision(self, item: WireMessage) -> tuple[int, str | None]:
        """The session's Engine.IO revision: given, in the capture, or guessed (and said)."""
        if self.options.eio is not None:
            return self.options.eio, None
        if item.eio is not None:
            return item.eio, None
        data = item.data
        if item.transport is Transport.POLLING and engineio.v3_framed(data):
            if isinstance(data, bytes):
                return 3, "guessed Engine.IO 3: binary polling payloads exist only in revision 3"
            return 3, (
                "guessed Engine.IO 3: the polling body has <length>: prefixes (use --eio 4 if not)"
            )
        return 4, (
            "assumed Engine.IO 4 (Socket.IO 3.x/4.x): nothing in the input says which; "
            "use --eio 3 for Socket.IO 2.x captures"
        )

    def _problem(self, problem: InputProblem) -> None:
        self.problems_said = True
        if problem.fatal:
            self.unreadable.append(problem.message)
            return
        if problem.unreadable:
            self.summary.errors += 1
            self.sink.write_problem(problem, self.count)
            if problem.lost is not None:
                self._lost(problem, problem.lost)
            return
        # A fact about the capture: a finding, shown where it happened (JSON: on the next
        # record; at the end if none comes).
        finding = problem.finding()
        self.summary.add_findings([finding])
        if self.options.as_json:
            self.pending.append(finding)
        else:
            self.sink.write_problem(problem, self.count)

    def _lost(self, problem: InputProblem, direction: Direction) -> None:
        """A message the capture could not keep: its session's dissector is told, and says
        what it makes of the loss (on the next message, as the capture's own findings)."""
        key = problem.session
        session = self.by_key.get(key) if key is not None else self.anonymous
        if session is not None:
            found = session.dissector.lost(direction)
            self.summary.add_findings(found)
            self.pending += found

    def finish(self) -> None:
        ending = [finding for session in self.all for finding in session.dissector.end()]
        self.summary.add_findings(ending)
        # capture findings no record carried (already counted) go at the end
        self.sink.finish(
            [*self.pending, *ending], self.summary if self.count > 1 or ending else None
        )
