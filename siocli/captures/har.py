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
import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from ..protocol.types import Direction, Finding, Severity, Transport
from ..wire import InputProblem, WireMessage

__all__ = ["read_har"]

_Item = tuple[float, int, WireMessage]


def read_har(
    stream: IO[bytes], name: str, *, eio: int | None = None
) -> Iterator[WireMessage | InputProblem]:
    """The wire messages of a HAR file, per session in time order."""
    import ijson  # streaming JSON: a HAR of any size in bounded memory

    heaps: dict[str, list[_Item]] = {}
    counter = itertools.count()
    entries = 0
    try:
        for index, entry in enumerate(ijson.items(stream, "log.entries.item", use_float=True)):
            entries += 1
            if not isinstance(entry, dict):
                yield InputProblem(f"entry {index} is not an object", f"{name} entry {index}")
                continue
            yield from _entry(entry, index, name, eio, heaps, counter)
    except ijson.JSONError as exc:
        yield InputProblem(
            f"{name} is not valid JSON ({exc}); expected a HAR file (File > Save all as HAR)",
            name,
            fatal=entries == 0,
        )
    except (ijson.IncompleteJSONError, ValueError) as exc:  # pragma: no cover - ijson variants
        yield InputProblem(f"{name}: truncated or invalid HAR ({exc})", name, fatal=entries == 0)
    for heap in heaps.values():
        while heap:
            yield heapq.heappop(heap)[2]
    if entries == 0:
        yield InputProblem(f"{name}: no entries in log.entries", name, fatal=True)


def _entry(
    entry: dict[str, Any],
    index: int,
    name: str,
    eio: int | None,
    heaps: dict[str, list[_Item]],
    counter: Iterator[int],
) -> Iterator[WireMessage | InputProblem]:
    request = entry.get("request") or {}
    url = str(request.get("url", ""))
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    transport = query.get("transport")
    if transport not in ("polling", "websocket") or "EIO" not in query:
        return  # not an Engine.IO request (a page, a script, an image...)
    where = f"{name} entry {index}"
    started = _epoch(entry.get("startedDateTime"))
    revision = eio or (int(query["EIO"]) if query["EIO"] in ("3", "4") else None)
    sid = query.get("sid")
    session = sid or f"#{index}"  # a new session: the handshake will tell its sid
    heap = heaps.setdefault(session, [])
    if started is not None:
        while heap and heap[0][0] <= started:
            yield heapq.heappop(heap)[2]
    if transport == "websocket":
        for message in _websocket_messages(entry, where, revision, sid or session):
            if message.time is not None:
                while heap and heap[0][0] <= message.time:
                    yield heapq.heappop(heap)[2]
            yield message
        return
    for item in _polling_messages(entry, request, where, revision, sid or session, started):
        if isinstance(item, InputProblem):
            yield item
        else:
            heapq.heappush(heap, (item.time or 0.0, next(counter), item))


def _polling_messages(
    entry: dict[str, Any],
    request: dict[str, Any],
    where: str,
    eio: int | None,
    session: str,
    started: float | None,
) -> Iterator[WireMessage | InputProblem]:
    method = str(request.get("method", "GET")).upper()
    response = entry.get("response") or {}
    status = response.get("status")
    notes: tuple[Finding, ...] = ()
    if isinstance(status, (int, float)) and status >= 400:
        body = _content_text(response.get("content") or {}, where)
        shown = body if isinstance(body, str) else ""
        notes = (
            Finding(
                Severity.VIOLATION,
                "http.error",
                f"{method} answered HTTP {int(status)}" + (f" {shown[:200]}" if shown else ""),
            ),
        )
    ended = started + float(entry.get("time") or 0) / 1000 if started is not None else None
    if method == "POST":
        post = request.get("postData") or {}
        data = _content_text(post, where)
        if isinstance(data, InputProblem):
            yield data
        elif data is not None:
            yield WireMessage(
                data, Direction.C2S, Transport.POLLING, started, eio, session, where, notes
            )
            notes = ()
    elif method == "GET" and not notes:
        content = response.get("content") or {}
        data = _content_text(content, where)
        if isinstance(data, InputProblem):
            yield data
        elif data is None:
            if status == 200:
                yield InputProblem(
                    "the HAR does not hold this response's body (devtools may drop bodies)",
                    where,
                    severity=Severity.WARNING,
                )
        else:
            yield WireMessage(data, Direction.S2C, Transport.POLLING, ended, eio, session, where)
    if notes:
        yield InputProblem(notes[0].message, where)


def _content_text(content: dict[str, Any], where: str) -> str | bytes | InputProblem | None:
    text = content.get("text")
    if text is None:
        return None
    if not isinstance(text, str):
        return InputProblem("a body that is not a string", where)
    if content.get("encoding") == "base64":
        try:
            return binascii.a2b_base64(text)
        except (binascii.Error, ValueError):
            return InputProblem("a base64 body that is not valid base64", where)
    return text


def _websocket_messages(
    entry: dict[str, Any], where: str, eio: int | None, session: str
) -> Iterator[WireMessage]:
    messages = entry.get("_webSocketMessages")
    if not isinstance(messages, list):
        return
    for number, frame in enumerate(messages):
        if not isinstance(frame, dict):
            continue
        opcode = frame.get("opcode", 1)
        if opcode not in (1, 2):
            continue  # control frames (close, ping) are not Engine.IO messages
        text = str(frame.get("data", ""))
        data: str | bytes = text
        if opcode == 2:
            try:
                data = base64.b64decode(text)
            except (binascii.Error, ValueError):
                data = text.encode("utf-8", "replace")
        direction = Direction.C2S if frame.get("type") == "send" else Direction.S2C
        time = frame.get("time")
        yield WireMessage(
            data,
            direction,
            Transport.WEBSOCKET,
            float(time) if isinstance(time, (int, float)) else None,
            eio,
            session,
            f"{where} frame {number}",
        )


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
