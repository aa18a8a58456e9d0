"""Text captures: pasted messages, one per line, and transcripts like the docs' sample session.

A transcript has HTTP exchanges (``GET /socket.io/?EIO=4&transport=polling...``, ``<``/``>``
header lines, bodies) and WebSocket frames by arrow (``> 40``: client to server, ``< 40``:
server to client, as in the docs and in curl, wscat and websocat). Around them: prose,
bullets, ``Details:`` blocks whose lines explain bytes with ``=>``, ``...`` for elided time.
Everything else is skipped, not guessed at.

The reader is a line-by-line state machine, so it streams: a capture of any size, or a
terminal where lines arrive as they are pasted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..protocol import engineio
from ..protocol.errors import DecodeError
from ..protocol.request import CacheBusters, RequestQuery
from ..protocol.types import Direction, Finding, Severity, Transport
from ..protocol.wordings import describe_error_answer
from ..wire import (
    InputProblem,
    WireMessage,
    parse_argument,
    parse_hex,
    unescape_body,
)

__all__ = ["read_text"]

_REQUEST = re.compile(
    r"^(?:> )?(GET|POST|PUT|DELETE|OPTIONS|HEAD|PATCH) (\S+)(?: HTTP/[\d.]+)?\s*$"
)
_STATUS = re.compile(r"^(?:< )?HTTP/[\d.]+ (\d{3})(?: (.*))?$")
_HEADER = re.compile(r"^([<>]) ([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*): ?(.*)$")
_ARROW = re.compile(r"^([<>])(?: (.*))?$")
_WS_SECTION = re.compile(r"^\s*WebSocket frames:?\s*$", re.IGNORECASE)
_BINARY_MARK = re.compile(r"^<binary>\s*(.*)$", re.IGNORECASE)

_DIGITS = frozenset("0123456789")
_new = tuple.__new__

C2S, S2C = Direction.C2S, Direction.S2C
POLLING, WEBSOCKET = Transport.POLLING, Transport.WEBSOCKET


def strip_comment(line: str) -> tuple[str, bool]:
    """``42["x"]      => a comment`` -> ``42["x"]``: the docs explain bytes after ``=>``.

    An ``=>`` inside a JSON string is data, not a comment: only one outside quotes counts.
    """
    index = line.find("=>")
    while index > 0:
        before = line[:index]
        if before[-1:].isspace() and _outside_string(before):
            return before.rstrip(), True
        index = line.find("=>", index + 2)
    return line, False


def _outside_string(text: str) -> bool:
    quotes = len(re.findall(r'(?<!\\)"', text))
    return quotes % 2 == 0


def plausible_message(text: str) -> bool:
    """Could this be a wire message rather than prose? (A packet starts with a type digit,
    a polling body with a length or a type digit, a base64 packet with ``b``.)"""
    if not text:
        return False
    first = text[0]
    if first.isdigit() or text.startswith(("<binary>", "\\x00", "\\x01", "hex:", "b64:")):
        return True
    return first == "b" and len(text) > 1 and (text[1].isalnum() or text[1] in "+/=")


@dataclass(slots=True)
class _Exchange:
    """One HTTP request/response pair of a transcript."""

    number: int
    method: str
    url: str
    line: int
    query: RequestQuery
    status: int | None = None
    status_line: int = 0
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    request_body: tuple[int, str] | None = None
    response_body: tuple[int, str] | None = None
    open_for_body: bool = True  # a body may still come (no blank line after one yet)


@dataclass(slots=True)
class _Reader:
    name: str
    eio: int | None
    transport: Transport | None
    transcript: bool  # prose is expected: skip it quietly
    exchanges: int = 0
    exchange: _Exchange | None = None
    websocket: tuple[str | None, int | None] | None = None  # (sid, eio) of the frames
    cache_busters: CacheBusters = field(default_factory=CacheBusters)
    notes: list[Finding] = field(default_factory=list)  # for the next message

    def message(
        self,
        data: str | bytes,
        direction: Direction | None,
        transport: Transport,
        eio: int | None,
        session: str | None,
        where: str,
        extra: tuple[Finding, ...] = (),
    ) -> WireMessage:
        notes, self.notes = (*self.notes, *extra), []
        return WireMessage(data, direction, transport, None, eio, session, where, notes)

    def feed(self, number: int, raw_line: str) -> Iterator[WireMessage | InputProblem]:
        line = raw_line.rstrip("\r\n")
        stripped = line.strip()
        where = f"{self.name}:{number}"
        request = _REQUEST.match(stripped)
        if request:
            yield from self.close_exchange()
            yield from self._start_exchange(number, request.group(1), request.group(2))
            return
        status = _STATUS.match(stripped)
        if status and self.exchange is not None:
            self.exchange.status = int(status.group(1))
            self.exchange.status_line = number
            if self.exchange.status == 101:
                self.websocket = (self.exchange.query.sid, self.exchange.query.revision)
            return
        if _WS_SECTION.match(stripped):
            yield from self.close_exchange()
            if self.websocket is None:
                self.websocket = (None, None)
            return
        header = _HEADER.match(stripped)
        if header and self.exchange is not None and not self._frames_only():
            side = (
                self.exchange.request_headers
                if header.group(1) == ">"
                else self.exchange.response_headers
            )
            side[header.group(2).lower()] = header.group(3)
            return
        arrow = _ARROW.match(stripped)
        if arrow:
            yield from self._frame(number, where, arrow.group(1), arrow.group(2) or "")
            return
        if not stripped or stripped in ("...", "…") or stripped.startswith(("...", "…")):
            exchange = self.exchange
            if exchange is not None and (
                exchange.request_body or exchange.response_body or exchange.status == 101
            ):
                exchange.open_for_body = False
            return
        text, commented = strip_comment(stripped)
        if commented:
            return  # a Details line: "4   => Engine.IO message packet type"
        if self.exchange is not None and self.exchange.open_for_body and plausible_message(text):
            self._body(number, text)
            return
        if self.exchange is not None and text == "ok" and self.exchange.method == "POST":
            self._body(number, text)
            return
        if plausible_message(text) and not self.transcript:
            yield self._bare(number, where, text)
            return
        if not self.transcript:
            yield InputProblem(
                f"line {number} skipped: {stripped[:40]!r} is not a wire message (a packet "
                "starts with a type digit 0-6; use hex:... or b64:... for binary)",
                where,
            )
        if self.exchange is not None:
            self.exchange.open_for_body = False

    def frame(self, number: int, raw_line: str) -> WireMessage | None:
        """The common line of a WebSocket capture, ``> 42[...]`` or ``< <binary> 01 02``,
        outside any HTTP exchange, as :meth:`feed` reads it but in a few string operations
        (``feed`` tries six patterns first); ``None`` for any other line: ``feed`` it."""
        if self.exchange is not None or self.notes or raw_line[1:2] != " ":
            return None
        arrow = raw_line[0]
        if arrow != ">" and arrow != "<":
            return None
        # No request, status, heading or header line starts with an arrow then a digit or
        # '<' (headers are only read inside an exchange), so this is a frame.
        text = raw_line[2:].strip()
        first = text[:1]
        if "=>" in text:
            return None  # perhaps a Details comment: strip_comment decides
        if first in _DIGITS:
            data: str | bytes = unescape_body(text)
        elif text[:8] == "<binary>" and len(text) > 8:
            try:
                data = parse_hex(text[8:].lstrip())
            except DecodeError:
                return None  # feed reports it
        else:
            return None
        sid, eio = self.websocket or (None, None)
        return _new(
            WireMessage,
            (
                data,
                C2S if arrow == ">" else S2C,
                WEBSOCKET if self.transport is None else self.transport,
                None,
                self.eio or eio,
                sid,
                f"{self.name}:{number}",
                (),
                None,
            ),
        )

    def _frames_only(self) -> bool:
        """Once a 101's headers are over (a blank line), arrows are frames, not headers."""
        exchange = self.exchange
        return exchange is not None and exchange.status == 101 and not exchange.open_for_body

    def _start_exchange(self, number: int, method: str, url: str) -> Iterator[InputProblem]:
        self.transcript = True
        self.exchanges += 1
        query = RequestQuery.of(url)
        self.exchange = _Exchange(self.exchanges, method, url, number, query)
        if query.transport == "polling":
            reused = self.cache_busters.reused(query.t, self.exchanges)
            if reused is not None:
                self.notes.append(reused)
        if query.transport == "websocket":
            self.websocket = None  # frames follow its 101
        return iter(())

    def _body(self, number: int, text: str) -> None:
        exchange = self.exchange
        assert exchange is not None
        if exchange.status is None and exchange.request_body is None:
            exchange.request_body = (number, text)
        elif exchange.response_body is None:
            exchange.response_body = (number, text)
        else:
            exchange.open_for_body = False

    def close_exchange(self) -> Iterator[WireMessage]:
        exchange, self.exchange = self.exchange, None
        if exchange is None or exchange.query.transport != "polling":
            return  # a WebSocket's request carries no data: its frames do
        sid = exchange.query.sid
        eio = self.eio or exchange.query.revision
        request_body = exchange.request_body
        response_body = exchange.response_body
        label = f"request n°{exchange.number}"
        if exchange.method == "POST":
            if request_body is None and response_body is not None and response_body[1] != "ok":
                # The docs' request n°2: the POST body printed after the response headers.
                request_body, response_body = response_body, None
                self.notes.append(
                    Finding(
                        Severity.WARNING,
                        "transcript.post-body-after-response",
                        f"{label}: the body printed after the response headers is the POST's "
                        "request body (client to server); a POST is answered 'ok'",
                    )
                )
            content_type = exchange.response_headers.get("content-type", "")
            if exchange.status == 200 and content_type and "text/html" not in content_type:
                self.notes.append(
                    Finding(
                        Severity.INFO,
                        "http.post-content-type",
                        f"{label}: the answer to a POST is shown as {content_type!r}; the Node "
                        "reference answers 'ok' with text/html (python-engineio with "
                        "text/plain): harmless, but not what the Node server sends",
                    )
                )
        if exchange.status is not None and exchange.status >= 400:
            body = response_body[1] if response_body else ""
            self.notes.append(
                Finding(
                    Severity.VIOLATION,
                    "http.error",
                    f"{label}: {describe_error_answer(exchange.status, body)}",
                )
            )
            response_body = None
        if exchange.method == "POST" and request_body is not None:
            yield self.message(
                _body_data(request_body[1]),
                C2S,
                POLLING,
                eio,
                sid,
                f"{self.name}:{request_body[0]}",
            )
        if exchange.method == "GET" and response_body is not None:
            yield self.message(
                _body_data(response_body[1]),
                S2C,
                POLLING,
                eio,
                sid,
                f"{self.name}:{response_body[0]}",
            )

    def _frame(
        self, number: int, where: str, arrow: str, text: str
    ) -> Iterator[WireMessage | InputProblem]:
        if self.exchange is not None and self.exchange.status != 101:
            yield from self.close_exchange()
        elif self.exchange is not None:
            self.exchange = None
        text, _ = strip_comment(text.strip())
        if not text:
            return  # curl's bare '<' after the headers
        direction = C2S if arrow == ">" else S2C
        sid, eio = self.websocket or (None, None)
        try:
            data = _message_data(text)
        except DecodeError as exc:
            yield InputProblem(f"line {number}: {exc.reason}", where, exc.offset)
            return
        notes: tuple[Finding, ...] = ()
        if data == b"" and _BINARY_MARK.match(text):
            notes = (
                Finding(
                    Severity.INFO,
                    "transcript.binary-unknown",
                    "binary frame whose bytes the transcript does not show",
                ),
            )
        transport = WEBSOCKET if self.transport is None else self.transport
        yield self.message(data, direction, transport, self.eio or eio, sid, where, notes)

    def _bare(self, number: int, where: str, text: str) -> WireMessage | InputProblem:
        try:
            data = _message_data(text)
        except DecodeError as exc:
            return InputProblem(f"line {number}: {exc.reason}", where, exc.offset)
        return self.message(
            data, None, self.transport or engineio.transport_of(data), self.eio, None, where
        )


def _message_data(text: str) -> str | bytes:
    """A message as transcripts and pastes write it: ``<binary> 01 02``, ``hex:01 02`` or
    ``b64:AQI=`` for bytes, else text (``\\x1e`` escapes as people paste them)."""
    if text[:4].lower() in ("hex:", "b64:"):
        return parse_argument(text)
    binary = _BINARY_MARK.match(text)
    if binary is None:
        return unescape_body(text)
    try:
        return parse_hex(binary.group(1))
    except DecodeError as exc:
        raise DecodeError(f"{exc.reason} after <binary>", 0, exc.expected, layer="input") from None


def _body_data(text: str) -> str | bytes:
    try:
        return _message_data(text)
    except DecodeError:
        return text  # decoded as text, it fails with a message that says where


def read_text(
    lines: Iterable[str],
    name: str,
    *,
    eio: int | None = None,
    transport: Transport | None = None,
    transcript: bool | None = None,
) -> Iterator[WireMessage | InputProblem]:
    """The wire messages of text ``lines``, as they come.

    ``transcript``: the text is a transcript (prose is skipped quietly); ``None`` decides
    at the first request line or ``WebSocket frames`` heading.
    """
    reader = _Reader(name, eio, transport, bool(transcript))
    frame = reader.frame
    for number, line in enumerate(lines, 1):
        message = frame(number, line)
        if message is None:
            yield from reader.feed(number, line)
        else:
            yield message
    yield from reader.close_exchange()
    for note in reader.notes:  # nothing came after them to carry them
        yield InputProblem(note.message, name, severity=note.severity, code=note.code)
