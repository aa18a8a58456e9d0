"""HAR files exported by browser devtools (Chrome, Edge, Firefox).

Long-polling requests are ordinary entries (a POST's ``postData``, a GET's response
``content``, base64 when ``encoding`` says so); a WebSocket is one entry whose
``_webSocketMessages`` hold every frame (``send``/``receive``, opcode 1 text, 2 binary in
base64, ``time`` in epoch seconds). Entries that are not Engine.IO requests are skipped.

The file is read one entry at a time (bounded memory, whatever its size), and each Engine.IO
session's messages are merged in time order with a small heap: entries come in the order
their requests started, so a message older than the next entry's start can be released.

Two ways of reading the entries give the same ones: ijson, which streams any JSON document,
and a faster one that cuts each entry's bytes out of the file and hands them to orjson
(:class:`_Scanner`). The fast one reads what exporters write; anything else (a file cut
short, bytes that are not UTF-8, a number ijson refuses, a layout it does not expect) sends
the file back to ijson from its start, which says what today's reader said. A stream that
cannot seek back (a pipe) is read by ijson alone.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

import orjson

from ..protocol.request import RequestQuery
from ..protocol.types import Direction, Finding, Severity, Transport
from ..protocol.wordings import describe_error_answer
from ..wire import InputProblem, WireMessage

__all__ = ["read_har"]

_C2S, _S2C, _WEBSOCKET = Direction.C2S, Direction.S2C, Transport.WEBSOCKET


def read_har(
    stream: IO[bytes], name: str, *, eio: int | None = None
) -> Iterator[WireMessage | InputProblem]:
    """The wire messages of a HAR file, in time order."""
    merge = _TimeMerge()
    entries = 0
    broken = False
    try:
        for index, entry in enumerate(_entries(stream)):
            entries += 1
            if not isinstance(entry, dict):
                yield InputProblem(f"entry {index} is not an object", f"{name} entry {index}")
                continue
            # Entries come in the order their requests started: what happened before this
            # one started can no longer be preceded by anything, so it goes out.
            started = _epoch(entry.get("startedDateTime"))
            if started is not None:
                yield from merge.until(started)
            messages, problems = _entry(entry, index, name, eio, started)
            yield from problems
            merge.add(messages)
    except _NotJson as exc:
        broken = True
        if isinstance(exc, _LoneSurrogate):
            said = f"{name}: {exc}"
        elif "premature EOF" in str(exc):
            said = (
                f"{name} is not valid JSON ({exc}); expected a HAR file "
                "(File > Save all as HAR), whole: was it cut short?"
            )
        else:
            said = f"{name} is not valid JSON ({exc}); expected a HAR file (File > Save all as HAR)"
        yield InputProblem(said, name, fatal=entries == 0)
    yield from merge.until(None)
    if entries == 0 and not broken:  # a cut file was said to be one: that is all
        yield InputProblem(f"{name}: no entries in log.entries", name, fatal=True)


class _NotJson(Exception):
    """ijson's complaint about the file (the first line of its message)."""


class _LoneSurrogate(_NotJson):
    """A string ijson cannot read, in a file that is JSON: not a cut file."""


def _entries(stream: IO[bytes]) -> Iterator[Any]:
    """The elements of ``log.entries``, one at a time, as ijson reads them. The scanner
    gives them first where the stream can seek back: when it meets what it does not read,
    ijson reads the file again from its start and takes over after the entries given."""
    given = 0
    if stream.seekable():
        start = stream.tell()
        try:
            for entry in _Scanner(stream).entries():
                given += 1
                yield entry
            return
        except _Unusual:
            stream.seek(start)
    import ijson  # streaming JSON: a HAR of any size in bounded memory

    read = 0  # entries read by ijson: the next one is where it fails, if it does
    try:
        for entry in ijson.items(stream, "log.entries.item", use_float=True):
            read += 1
            if read > given:
                yield entry
    except ijson.JSONError as exc:
        raise _NotJson(_complaint(exc)) from None
    except UnicodeDecodeError:
        # yajl turns a \u escape of a lone low surrogate into bytes that are not UTF-8, then
        # fails to decode them: JSON's grammar allows the escape, UTF-8 cannot hold it
        # (RFC 8259, section 8.2)
        raise _LoneSurrogate(
            f"entry {read} holds a \\u escape of a lone "
            "surrogate (\\udc00-\\udfff) in a string: JSON allows it, but no UTF-8 text can hold "
            "it, and the HAR reader stops there (what came before it is decoded)"
        ) from None


class _Unusual(Exception):
    """The scanner met something it does not read as ijson would: ijson reads the file."""


# JSON's whitespace (RFC 8259 §2); ijson (yajl) also takes \f and \v, which are left to it.
_WS = re.compile(rb"[ \t\n\r]*+")
_STRING = rb'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"'
_PLAIN = rb'[^"{}\[\]]*+'  # neither a string nor a bracket
_FLAT = _PLAIN + rb"(?:" + _STRING + _PLAIN + rb")*+"  # inside a container with none in it
# Everything up to the next bracket outside strings: one match per bracket, not per byte,
# and containers without containers in them (a header, a WebSocket frame) skipped whole.
_BRACKET = re.compile(
    _PLAIN
    + rb"(?:(?:"
    + _STRING
    + rb"|\{"
    + _FLAT
    + rb"\}|\["
    + _FLAT
    + rb"\])"
    + _PLAIN
    + rb")*+[{}\[\]]"
)
# A token of the document before log.entries: a string, a punctuation mark, or a scalar.
_TOKEN = re.compile(rb"[ \t\n\r]*+(?:(" + _STRING + rb")|([{}\[\]:,])|[^ \t\n\r\"{}\[\]:,]++)")
# The end of one entry and the start of the next, up to its first key: the separator this
# exporter writes between entries, learnt from the file. It cannot occur inside a string
# (its last quote would close it, and a key cannot follow a string), so the first one after
# an entry's start ends that entry or an object inside it, whose key and layout happen to be
# the same; orjson tells which, since only the whole entry parses.
_BETWEEN = re.compile(rb'\}[ \t\n\r]*+,[ \t\n\r]*+(\{)[ \t\n\r]*+"[^"\\]*+"')
# ijson (yajl) refuses integers beyond 64-bit ones, orjson reads them (as floats beyond
# 2**64): a run of 19 digits in an entry has its numbers checked.
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 19
_INT64 = 2**63

_CHUNK = 1 << 18  # bytes read at a time
_AHEAD = 8 << 20  # how far past an entry's start the separator is looked for
_EDGES = 4 << 20  # the most read before log.entries, or after it, before ijson is left to it


class _Scanner:
    """The entries of a HAR file: each one's bytes found and handed to orjson, one entry in
    memory at a time. Raises :class:`_Unusual` where ijson might read the file otherwise
    (and nothing of what it gave would differ from what ijson gives up to there)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buffer = b""
        self._offset = 0  # where the buffer starts in the stream (from where it was given)
        self._eof = False
        self._long_numbers: list[tuple[int, int]] = []  # spans of the stream with 19 digits

    def entries(self) -> Iterator[dict[str, Any]]:
        at = self._open_entries()
        between = b""  # what this exporter writes between entries, once learnt
        opens = 0  # where the next entry's "{" is in it
        while True:
            if self._buffer[at] != 0x7B:  # "{": an entry that is not an object
                raise _Unusual
            if at >= _CHUNK:  # keep what is left to read only
                self._buffer = self._buffer[at:]
                self._offset += at
                at = 0
                self._long_numbers = [s for s in self._long_numbers if s[1] > self._offset]
            if between and (end := self._find(between, at)) != -1:
                try:
                    entry = self._parse(at, end)
                except orjson.JSONDecodeError:
                    pass  # an object inside the entry looks like the separator
                else:
                    yield entry
                    at = end - 1 + opens
                    continue
            end = self._end_of_value(at)
            try:
                entry = self._parse(at, end)
            except orjson.JSONDecodeError:
                raise _Unusual from None
            yield entry
            at = self._skip_blanks(end)
            mark = self._buffer[at]
            if mark == 0x5D:  # "]": the last entry
                break
            if mark != 0x2C:  # ","
                raise _Unusual
            found = _BETWEEN.match(self._buffer, end - 1)
            if found is not None:  # learnt, or learnt again: the layout changed
                between, opens = found.group(), found.start(1) - found.start()
            at = self._skip_blanks(at + 1)
            if self._buffer[at] == 0x5D:  # "]" after ",": not JSON
                raise _Unusual
        self._close_entries(at + 1)

    def _read(self) -> bool:
        """Appends the next bytes of the stream (half as many as are held, at least a chunk,
        so that a large entry costs a linear number of copies); ``False`` at its end."""
        if self._eof:
            return False
        more = self._stream.read(max(_CHUNK, len(self._buffer) // 2))
        if not more:
            self._eof = True
            return False
        # The digits are looked at as they come, with the end of what was held before:
        # a number may straddle two reads.
        held = self._offset + len(self._buffer)
        if _LONG_NUMBER in more.translate(_DIGITS) or _LONG_NUMBER in (
            self._buffer[-18:] + more[:18]
        ).translate(_DIGITS):
            self._long_numbers.append((held - 18, held + len(more)))
        self._buffer += more
        return True

    def _find(self, between: bytes, at: int) -> int:
        """Where the first separator after the entry at ``at`` ends the entry, or -1 when
        there is none within ``_AHEAD`` bytes (the last entry, or another layout)."""
        start = at + 1
        while True:
            found = self._buffer.find(between, start)
            if found != -1:
                return found + 1
            start = max(start, len(self._buffer) - len(between) + 1)
            if len(self._buffer) - at > _AHEAD or not self._read():
                return -1

    def _parse(self, start: int, end: int, before: bytes = b"", after: bytes = b"") -> Any:
        """The JSON value in the buffer from ``start`` to ``end`` (between ``before`` and
        ``after``), as ijson reads it: :class:`_Unusual` where ijson may refuse a number."""
        text = before + self._buffer[start:end] + after if before or after else None
        value = orjson.loads(text or self._buffer[start:end])
        if self._long_numbers:
            begin, until = self._offset + start, self._offset + end
            near = any(a < until and begin < b for a, b in self._long_numbers)
            if near and _beyond_int64(value):
                raise _Unusual
        return value

    def _skip_blanks(self, at: int) -> int:
        while True:
            at = _WS.match(self._buffer, at).end()  # type: ignore[union-attr]
            if at < len(self._buffer):
                return at
            if not self._read():
                raise _Unusual  # the file ends inside the document

    def _open_entries(self) -> int:
        """Where the elements of the top-level object's "log" object's "entries" array
        start; the document up to there is checked to be JSON."""
        at = self._next_entries(0, [])
        if at == -1:
            raise _Unusual  # the document ends without log.entries
        self._checked(0, at, after=b"]}}")
        return self._skip_blanks(at)

    def _next_entries(self, at: int, keys: list[str | None]) -> int:
        """Where the next log.entries array opens (the offset past its "["), read token by
        token from ``at`` inside the containers ``keys`` (an object's key, or None for an
        array) after a value; -1 where the document ends first."""
        key_next = False
        while True:
            token = _TOKEN.match(self._buffer, at)
            if token is None or (token.end() == len(self._buffer) and not self._eof):
                if len(self._buffer) > _EDGES or not self._read():
                    raise _Unusual  # no log.entries near the start: ijson looks further
                continue
            at = token.end()
            string, mark = token.group(1), token.group(2)
            if string is not None:
                if key_next:
                    keys[-1] = _key(string)
                    key_next = False
            elif mark == b"[":
                if len(keys) == 2 and keys[0] == "log" and keys[1] == "entries":
                    return at
                keys.append(None)
            elif mark == b"{":
                keys.append("")
                key_next = True
            elif mark == b",":
                key_next = bool(keys) and keys[-1] is not None
            elif mark in (b"}", b"]"):
                if len(keys) <= 1:
                    return -1
                keys.pop()

    def _end_of_value(self, at: int) -> int:
        """Where the object or array that opens at ``at`` ends, bracket by bracket (from
        the next byte: the opening bracket is not to be skipped as a container)."""
        depth = 1
        at += 1
        while True:
            found = _BRACKET.match(self._buffer, at)
            if found is None:  # a string, or the file, ends in what is held
                if not self._read():
                    raise _Unusual
                continue
            at = found.end()
            depth += 1 if self._buffer[at - 1] in b"{[" else -1
            if depth == 0:
                return at

    def _close_entries(self, at: int) -> None:
        """Checks what follows log.entries: JSON, and no other log.entries for ijson."""
        while self._read():
            if len(self._buffer) - at > _EDGES:
                raise _Unusual
        if self._buffer[at:].translate(None, b" \t\n\r") == b"}}":
            return
        if self._next_entries(at, ["log", "entries"]) != -1:
            raise _Unusual  # another "entries" in "log", whose elements ijson gives too
        self._checked(at, len(self._buffer), before=b'{"log":{"entries":[]')

    def _checked(self, start: int, end: int, before: bytes = b"", after: bytes = b"") -> Any:
        """:meth:`_parse`, for a text that must be JSON."""
        try:
            return self._parse(start, end, before, after)
        except orjson.JSONDecodeError:
            raise _Unusual from None


def _key(string: bytes) -> str:
    try:
        key = orjson.loads(string)
    except orjson.JSONDecodeError:
        raise _Unusual from None
    return key if isinstance(key, str) else ""


def _beyond_int64(value: object) -> bool:
    """Whether a value holds a number that may have been an integer ijson refuses: beyond
    64 bits, which orjson reads as a float past 2**64 (such a float written as one sends the
    file to ijson too: which it was is not known here)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, (int, float)) and not -_INT64 < item < _INT64:
            return True  # (a bool is within)
    return False


def _polling_order(message: WireMessage) -> float:
    """Where a polling body goes in time: at the same instant, what a request sent at its
    start before what a response brought at its end. Firefox writes whole milliseconds: a
    poll's answer and a POST started in the same millisecond tie, and the answer may be
    caused by the POST (its ACK), never the other way within one instant. To the
    microsecond, as a start plus a duration misses the same instant written as a start by
    a float's last bits (1.758 + 0.001 != 1.759); an answer one float step later, which
    is less than a microsecond at any time a HAR holds."""
    time = round(message[3] or 0.0, 6)
    return math.nextafter(time, math.inf) if message[1] is _S2C else time


class _TimeMerge:
    """The messages of the entries so far, merged in time order (a polling body's, as
    :func:`_polling_order` says; then ties in the order the file has them). Each entry's
    messages are sorted once; a small heap holds the next message of each entry, and the
    entry at its top gives its messages in one run, up to the next message of another
    entry: a WebSocket entry of thousands of frames costs a few operations a run, not a
    heap operation a frame."""

    def __init__(self) -> None:
        # (time of the next message, entry number, [messages, their times, next index])
        self._heap: list[tuple[float, int, list[Any]]] = []
        self._entries = 0  # entries added: ties go in file order

    def add(self, messages: list[WireMessage]) -> None:
        if not messages:
            return
        if messages[0][2] is _WEBSOCKET:  # an entry is one WebSocket, or one request
            times = [message[3] or 0.0 for message in messages]
        else:
            times = [_polling_order(message) for message in messages]
        ordered = sorted(times)
        if ordered != times:  # sorted by time, ties in file order
            order = sorted(range(len(times)), key=times.__getitem__)
            messages = [messages[number] for number in order]
        heapq.heappush(self._heap, (ordered[0], self._entries, [messages, ordered, 0]))
        self._entries += 1

    def until(self, time: float | None) -> list[WireMessage]:
        """The messages that no entry starting at ``time`` can precede (not the answers
        that end then: :func:`_polling_order`), or all of them (``None``), taken out."""
        heap = self._heap
        out: list[WireMessage] = []
        limit = None if time is None else round(time, 6)
        while heap:
            first, number, state = heap[0]
            if limit is not None and first > limit:
                break
            messages, times, start = state
            end = len(times)
            if len(heap) > 1:  # up to the next message of another entry
                other = heap[1] if len(heap) == 2 or heap[1] < heap[2] else heap[2]
                if number < other[1]:  # on a tie, the earlier entry's message goes first
                    end = bisect_right(times, other[0], start)
                else:
                    end = bisect_left(times, other[0], start)
            if limit is not None:
                end = min(end, bisect_right(times, limit, start))
            if end == len(times):
                heapq.heappop(heap)
            else:
                state[2] = end
                heapq.heapreplace(heap, (times[end], number, state))
            if end == start + 1:
                out.append(messages[start])
            else:
                out += messages[start:end]
        return out


def _entry(
    entry: dict[str, Any], index: int, name: str, eio: int | None, started: float | None
) -> tuple[list[WireMessage], list[InputProblem]]:
    """The messages of an entry, and the problems met in it (in the order met)."""
    messages: list[WireMessage] = []
    problems: list[InputProblem] = []
    request = _object(entry.get("request"))
    query = RequestQuery.of(str(request.get("url", "")))
    if not query.engineio:
        return messages, problems  # not an Engine.IO request (a page, a script, an image...)
    where = f"{name} entry {index}"
    said = query.revision
    revision = eio or said
    if eio is not None and said is not None and eio != said and query.sid is None:
        problems.append(
            InputProblem(  # once per session: at its handshake request
                f"the URL says EIO={said}; --eio {eio} decodes this session as Engine.IO {eio}",
                where,
                severity=Severity.WARNING,
                code="input.eio-forced",
            )
        )
    session = query.sid or f"#{index}"  # a new session: its handshake tells its sid
    if query.transport == "websocket":
        frames = entry.get("_webSocketMessages")
        if not isinstance(frames, list):
            problems.append(
                InputProblem(
                    "a WebSocket whose frames this HAR does not hold (Firefox exports none: "
                    "use Chrome or Edge, or siocli listen -v)",
                    where,
                    severity=Severity.WARNING,
                    code="har.no-websocket-frames",
                )
            )
        else:
            _websocket_messages(frames, where, revision, session, messages, problems)
        return messages, problems
    for item in _polling_messages(entry, request, where, revision, session, started):
        if isinstance(item, InputProblem):
            problems.append(item)
        else:
            messages.append(item)
    return messages, problems


def _polling_messages(
    entry: dict[str, Any],
    request: dict[str, Any],
    where: str,
    eio: int | None,
    session: str,
    started: float | None,
) -> Iterator[WireMessage | InputProblem]:
    method = str(request.get("method", "GET")).upper()
    response = _object(entry.get("response"))
    status = response.get("status")
    notes: tuple[Finding, ...] = ()
    if isinstance(status, (int, float)) and status >= 400:
        body = _content_text(_object(response.get("content")), where)
        shown = body if isinstance(body, str) else ""
        notes = (
            Finding(
                Severity.VIOLATION,
                "http.error",
                f"the {method} was answered {describe_error_answer(int(status), shown)}",
            ),
        )
    ended = started + _number(entry.get("time")) / 1000 if started is not None else None
    if method == "POST":
        post = _object(request.get("postData"))
        data = _content_text(post, where)
        if isinstance(data, str) and str(post.get("mimeType", "")).startswith(_OCTET_STREAM):
            data = _binary_post(data, where)
            if isinstance(data, InputProblem):  # a message the session had: it lost it
                data = data._replace(lost=Direction.C2S, session=session)
        if isinstance(data, InputProblem):
            yield data
        elif data is not None:
            yield WireMessage(
                data, Direction.C2S, Transport.POLLING, started, eio, session, where, notes
            )
            notes = ()
    elif method == "GET" and not notes:
        content = _object(response.get("content"))
        data = _content_text(content, where)
        if isinstance(data, InputProblem):
            yield data
        elif data is None:
            if status == 200:
                yield InputProblem(
                    "the HAR does not hold this response's body (devtools may drop bodies)",
                    where,
                    severity=Severity.WARNING,
                    code="har.no-body",
                )
        else:
            yield WireMessage(data, Direction.S2C, Transport.POLLING, ended, eio, session, where)
    if notes:
        yield InputProblem(notes[0].message, where, code="http.error")


_OCTET_STREAM = "application/octet-stream"


def _binary_post(text: str, where: str) -> bytes | InputProblem:
    """An Engine.IO 3 binary POST body: devtools write each byte as one character (Chrome),
    or replace the bytes that are not UTF-8 by U+FFFD (Firefox, which loses them)."""
    if "\ufffd" in text:
        return InputProblem(
            "this binary POST body was damaged by the HAR export (bytes replaced by U+FFFD, "
            "as Firefox does): it cannot be decoded",
            where,
        )
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _content_text(content: dict[str, Any], where: str) -> str | bytes | InputProblem | None:
    text = content.get("text")
    if text is None:
        return None
    if not isinstance(text, str):
        return InputProblem("a body that is not a string", where)
    if content.get("encoding") == "base64":
        try:
            data = binascii.a2b_base64(text)
        except (binascii.Error, ValueError):
            return InputProblem("a base64 body that is not valid base64", where)
        if not str(content.get("mimeType", "")).startswith(_OCTET_STREAM):
            try:  # a text body the browser stored as base64: still text on the wire
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return data
    return text


def _websocket_messages(
    frames: list[Any],
    where: str,
    eio: int | None,
    session: str,
    messages: list[WireMessage],
    problems: list[InputProblem],
) -> None:
    keep = messages.append
    new = tuple.__new__  # a WireMessage a frame: skip NamedTuple's Python-level __new__
    for number, frame in enumerate(frames):
        if frame.__class__ is not dict:
            continue
        opcode = frame.get("opcode", 1)
        data = frame.get("data", "")
        time = frame.get("time")
        if opcode != 1 or data.__class__ is not str or time.__class__ is not float:  # seldom
            if opcode != 1 and opcode != 2:
                continue  # control frames (close, ping) are not Engine.IO messages
            if data.__class__ is not str:
                data = str(data)
            if opcode == 2:
                try:  # validated: junk would otherwise be dropped, leaving other bytes
                    data = base64.b64decode(data, validate=True)
                except (binascii.Error, ValueError):
                    problems.append(
                        InputProblem(
                            "a binary frame whose data is not base64 (devtools "
                            "write binary frames as base64): it cannot be decoded",
                            f"{where} frame {number}",
                        )
                    )
                    continue
            if time.__class__ is not float:
                time = float(time) if isinstance(time, (int, float)) else None
        keep(
            new(
                WireMessage,
                (
                    data,
                    _C2S if frame.get("type") == "send" else _S2C,
                    _WEBSOCKET,
                    time,
                    eio,
                    session,
                    f"{where} frame {number}",
                    (),
                    None,
                ),
            )
        )


def _object(value: object) -> dict[str, Any]:
    """A HAR object, or an empty one where the file has something else: a hand-edited or
    truncated export is read as far as it makes sense, never with a crash."""
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float:
    """A HAR number (a duration in ms, a time in s); 0 where it is not one."""
    return float(value) if isinstance(value, (int, float)) else 0.0


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _complaint(exc: Exception) -> str:
    """ijson's message, with the text where it stopped (yajl draws it on the next line,
    then an arrow under it), in one line. yajl gives bytes when the text is not UTF-8."""
    said = exc.args[0] if exc.args else ""
    if isinstance(said, bytes):
        said = said.decode("utf-8", "backslashreplace")
    lines = str(said).splitlines() or [type(exc).__name__]
    what = lines[0].strip().rstrip(".")
    near = lines[1].strip() if len(lines) > 1 else ""
    return f"{what}, near '{near}'" if near else what
