"""HAR files exported by browser devtools (Chrome, Edge, Firefox).

Long-polling requests are ordinary entries (a POST's ``postData``, a GET's response
``content``, base64 when ``encoding`` says so); a WebSocket is one entry whose
``_webSocketMessages`` hold every frame (``send``/``receive``, opcode 1 text, 2 binary in
base64, ``time`` in epoch seconds). Entries that are not Engine.IO requests are skipped.

The file is streamed with ijson (one entry in memory at a time), and each Engine.IO
session's messages are merged in time order with a small heap: entries come in the order
their requests started, so a message older than the next entry's start can be released.
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

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
    import ijson  # streaming JSON: a HAR of any size in bounded memory

    merge = _TimeMerge()
    entries = 0
    broken = False
    try:
        for index, entry in enumerate(ijson.items(stream, "log.entries.item", use_float=True)):
            entries += 1
            if not isinstance(entry, dict):
                yield InputProblem(f"entry {index} is not an object", f"{name} entry {index}")
                continue
            # Entries come in the order their requests started: what happened before this
            # one started can no longer be preceded by anything, so it goes out.
            started = _epoch(entry.get("startedDateTime"))
            if started is not None:
                yield from merge.until(started)
            messages = []
            for item in _entry(entry, index, name, eio, started):
                if isinstance(item, InputProblem):
                    yield item
                else:
                    messages.append(item)
            merge.add(messages)
    except ijson.JSONError as exc:
        broken = True
        yield InputProblem(
            f"{name} is not valid JSON ({_first_line(exc)}); expected a HAR file "
            "(File > Save all as HAR), whole: was it cut short?",
            name,
            fatal=entries == 0,
        )
    yield from merge.until(None)
    if entries == 0 and not broken:  # a cut file was said to be one: that is all
        yield InputProblem(f"{name}: no entries in log.entries", name, fatal=True)


class _TimeMerge:
    """The messages of the entries so far, merged in time order (ties in the order the
    file has them). Each entry's messages are sorted once; a small heap holds the next
    message of each entry, so a WebSocket entry of thousands of frames costs a few
    comparisons a frame, not a heap of thousands."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, WireMessage, Iterator[tuple[int, WireMessage]]]] = []
        self._count = 0  # messages added: ties go in file order

    def add(self, messages: list[WireMessage]) -> None:
        if not messages:
            return
        base = self._count
        self._count += len(messages)
        ordered = iter(sorted(enumerate(messages, base), key=_time_of))
        number, first = next(ordered)
        heapq.heappush(self._heap, (first.time or 0.0, number, first, ordered))

    def until(self, time: float | None) -> Iterator[WireMessage]:
        """The messages up to ``time``, or all of them (``None``)."""
        heap = self._heap
        while heap and (time is None or heap[0][0] <= time):
            _, _, message, rest = heap[0]
            following = next(rest, None)
            if following is None:
                heapq.heappop(heap)
            else:
                number, after = following
                heapq.heapreplace(heap, (after.time or 0.0, number, after, rest))
            yield message


def _time_of(item: tuple[int, WireMessage]) -> float:
    return item[1].time or 0.0


def _entry(
    entry: dict[str, Any], index: int, name: str, eio: int | None, started: float | None
) -> Iterator[WireMessage | InputProblem]:
    request = _object(entry.get("request"))
    query = RequestQuery.of(str(request.get("url", "")))
    if not query.engineio:
        return  # not an Engine.IO request (a page, a script, an image...)
    where = f"{name} entry {index}"
    said = query.revision
    revision = eio or said
    if eio is not None and said is not None and eio != said and query.sid is None:
        yield InputProblem(  # once per session: at its handshake request
            f"the URL says EIO={said}; --eio {eio} decodes this session as Engine.IO {eio}",
            where,
            severity=Severity.WARNING,
            code="input.eio-forced",
        )
    session = query.sid or f"#{index}"  # a new session: its handshake tells its sid
    if query.transport == "websocket":
        if not isinstance(entry.get("_webSocketMessages"), list):
            yield InputProblem(
                "a WebSocket whose frames this HAR does not hold (Firefox exports none: use "
                "Chrome or Edge, or siocli listen -v)",
                where,
                severity=Severity.WARNING,
                code="har.no-websocket-frames",
            )
            return
        yield from _websocket_messages(entry, where, revision, session)
        return
    yield from _polling_messages(entry, request, where, revision, session, started)


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
    entry: dict[str, Any], where: str, eio: int | None, session: str
) -> Iterator[WireMessage | InputProblem]:
    messages = entry.get("_webSocketMessages")
    if not isinstance(messages, list):
        return
    new = tuple.__new__  # a WireMessage a frame: skip NamedTuple's Python-level __new__
    for number, frame in enumerate(messages):
        if frame.__class__ is not dict:
            continue
        opcode = frame.get("opcode", 1)
        if opcode != 1 and opcode != 2:
            continue  # control frames (close, ping) are not Engine.IO messages
        data = frame.get("data", "")
        if data.__class__ is not str:
            data = str(data)
        if opcode == 2:
            try:  # validated: junk would otherwise be dropped, leaving other bytes
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                yield InputProblem(
                    "a binary frame whose data is not base64 (devtools "
                    "write binary frames as base64): it cannot be decoded",
                    f"{where} frame {number}",
                )
                continue
        time = frame.get("time")
        yield new(
            WireMessage,
            (
                data,
                _C2S if frame.get("type") == "send" else _S2C,
                _WEBSOCKET,
                float(time) if isinstance(time, (int, float)) else None,
                eio,
                session,
                f"{where} frame {number}",
                (),
                None,
            ),
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


def _first_line(exc: Exception) -> str:
    """ijson's message, without the picture of the spot it draws on the lines after."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
