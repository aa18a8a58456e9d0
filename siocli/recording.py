"""Recordings: a session's wire messages as JSON Lines, written as they happen.

Format version 1 (documented in ``recordings/README.md``)::

    {"format": "siocli-recording", "version": 1, "siocli": "0.1.0", "start": "2026-...Z",
     "url": "http://127.0.0.1:3000/admin", "eio": 4, "options": {...}, "redacted": true}
    {"t": 0.0041, "dir": "s2c", "transport": "polling", "text": "0{...}",
     "http": {"method": "GET", "status": 200, "headers": {"content-type": "text/plain..."}}}
    {"t": 0.0093, "dir": "c2s", "transport": "websocket", "b64": "AQID"}
    {"t": 1.5, "type": "close", "reason": "io client disconnect", "detail": null}

Every line is written and flushed when it happens, so an interrupted session loses nothing
already seen; a reader reports a cut last line and goes on. Secrets are redacted by default
(auth payloads, credentials in headers and query strings), visibly: ``"[redacted]"``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import __version__
from .protocol import engineio, msgpack_parser, socketio
from .protocol.errors import DecodeError
from .protocol.types import (
    Direction,
    EnginePacket,
    EngineType,
    Parser,
    Severity,
    SocketType,
    Transport,
)
from .wire import InputProblem, WireMessage

__all__ = [
    "FORMAT",
    "VERSION",
    "Recording",
    "RecordingError",
    "RecordingWriter",
    "load_recording",
    "read_recording",
    "redact_message",
    "redact_namespace",
    "secrets_of",
]

FORMAT = "siocli-recording"
VERSION = 1
REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset(
    ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token")
)
_SECRET_KEY = re.compile(
    r"token|auth|secret|passw|pwd|api[-_]?key|^key$|sig(nature)?$|session|jwt|credential",
    re.IGNORECASE,
)


class RecordingError(ValueError):
    """A recording that cannot be read: which file, which line, why."""


# --- redaction ---------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """Token-like query parameters get ``[redacted]`` values."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = redact_query(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]")))


def redact_query(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Query parameters, the token-like ones with ``[redacted]`` values."""
    return [(k, REDACTED if _SECRET_KEY.search(k) else v) for k, v in pairs]


def redact_namespace(namespace: str) -> str:
    """A namespace with a query (Socket.IO 2.x's auth: ``/admin?token=t``), every value
    ``[redacted]``, as a recording keeps it."""
    path, mark, query = namespace.partition("?")
    if not mark:
        return namespace
    pairs = parse_qsl(query, keep_blank_values=True)
    return path + "?" + urlencode([(k, REDACTED) for k, _ in pairs], safe="[]")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if name.lower() == "set-cookie":
            cookie, _, attributes = value.partition(";")
            cookie_name = cookie.split("=", 1)[0]
            value = f"{cookie_name}={REDACTED}" + (f";{attributes}" if attributes else "")
        elif name.lower() in _SECRET_HEADERS:
            value = REDACTED
        out[name] = value
    return out


def redact_message(
    data: str | bytes,
    direction: Direction | None,
    transport: Transport,
    eio: int,
    secrets: set[str] | None = None,
    parser: Parser = Parser.DEFAULT,
) -> tuple[str | bytes, bool]:
    """The message with secrets redacted, and whether anything changed: the values of the
    client's CONNECT payloads (in protocol 4, of the namespace's query), and wherever else
    they appear later (a server echoing a token back), in either direction. ``secrets``
    collects what the CONNECT payloads held, for the messages after this one. Only what
    decodes is touched: the rest stays byte for byte."""
    secrets = set() if secrets is None else secrets
    msgpack = parser is Parser.MSGPACK
    text = data if isinstance(data, str) else data.decode("latin-1")
    mentions = any(secret in text for secret in secrets)
    if direction is not Direction.C2S and not mentions:
        return data, False
    # a MessagePack CONNECT is binary (type 0x00): in a binary frame or payload, or in
    # base64 in a text payload (b<base64>, Engine.IO 3: <length>:b4<base64>)
    binary = msgpack or isinstance(data, bytes) or text[:1] == "b" or "\x1eb" in text
    if direction is Direction.C2S and "0" not in text and not mentions and not binary:
        return data, False  # no CONNECT in there
    try:
        if transport is Transport.POLLING:
            packets = engineio.decode_payload(data, eio)
        else:
            packets = [engineio.decode_packet(data, eio)]
    except DecodeError:
        return data, False
    changed = False
    out = []
    for packet in packets:
        redacted = _redact_packet(packet, eio, direction is Direction.C2S, secrets, parser)
        changed |= redacted is not packet
        out.append(redacted)
    if not changed:
        return data, False
    if transport is Transport.POLLING:
        return engineio.encode_payload(out, eio, binary=isinstance(data, bytes)), True
    return engineio.encode_packet(out[0], eio), True


def _redact_packet(
    packet: EnginePacket,
    eio: int,
    from_client: bool,
    secrets: set[str],
    parser: Parser = Parser.DEFAULT,
) -> EnginePacket:
    text = packet.data
    if packet.type is not EngineType.MESSAGE:
        return packet
    binary = isinstance(text, bytes)
    # Without --parser msgpack (the proxy, which cannot know), a binary message that is a
    # MessagePack Socket.IO packet is redacted as one all the same.
    if (
        isinstance(text, bytes)
        and parser is not Parser.MSGPACK
        and not msgpack_parser.looks_like_packet(text)
    ):
        return packet  # an attachment of the default parser
    try:
        if isinstance(text, bytes):
            sio = msgpack_parser.decode_packet(text)
        else:
            sio = socketio.decode_packet(text, 4 if eio == 3 else 5)
    except DecodeError:
        return packet
    namespace = sio.namespace
    data = _scrub(sio.data, secrets)
    if from_client and sio.type is SocketType.CONNECT:
        if "?" in namespace:
            _, _, query = namespace.partition("?")
            secrets.update(secrets_of(dict(parse_qsl(query, keep_blank_values=True))))
            namespace = redact_namespace(namespace)
        if isinstance(data, dict):
            # Connection state recovery's pid and offset are the protocol's state, not the
            # user's secrets: the server's CONNECT answer and events hold them in the clear
            # already (and the pid expires with maxDisconnectionDuration).
            auth = {k: v for k, v in sio.data.items() if k not in _RECOVERY_KEYS}
            secrets.update(secrets_of(auth))
            data = {k: v if k in _RECOVERY_KEYS else REDACTED for k, v in data.items()}
    if namespace == sio.namespace and data == sio.data:
        return packet
    redacted = sio._replace(namespace=namespace, data=data)
    if binary:
        return EnginePacket(EngineType.MESSAGE, msgpack_parser.encode_packet(redacted))
    return EnginePacket(EngineType.MESSAGE, socketio.encode_packet(redacted))


_RECOVERY_KEYS = frozenset(("pid", "offset"))


def _scrub(value: Any, secrets: set[str]) -> Any:
    """``value`` with every occurrence of a secret in its strings replaced."""
    return replace_in_strings(value, dict.fromkeys(secrets, REDACTED)) if secrets else value


def replace_in_strings(value: Any, replacements: dict[str, str]) -> Any:
    """A copy of a JSON-like ``value`` (bytes kept) where every string has each key of
    ``replacements`` replaced by its value, wherever it occurs (object keys are kept)."""
    if isinstance(value, str):
        for old, new in replacements.items():
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [replace_in_strings(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: replace_in_strings(v, replacements) for k, v in value.items()}
    return value


def secrets_of(auth: Any) -> frozenset[str]:
    """The strings of an auth payload worth hiding everywhere (long enough not to clobber
    ordinary words)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 6:
            found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(auth)
    return frozenset(found)


# --- writing -----------------------------------------------------------------------------------


class RecordingWriter:
    """Writes a recording to ``out``, a line per message, flushed as it happens.

    The header waits for the session's Engine.IO revision (:meth:`opened`): a reader needs
    it to read the first message. Until then (a fraction of a second) lines are held.
    """

    def __init__(
        self,
        out: IO[str],
        url: str,
        options: dict[str, Any],
        *,
        redact: bool = True,
        secrets: frozenset[str] = frozenset(),
        parser: Parser | None = Parser.DEFAULT,
    ) -> None:
        self.out = out
        # None: the session will say (the proxy's sessions: see decided)
        self.parser = parser or Parser.DEFAULT
        self._parser_known = parser is not None
        self.redact = redact
        self.secrets = set(secrets)  # grows with every auth payload the client sends
        self.url = redact_url(url) if redact else url
        self.options = options
        self.start: float | None = None
        self._header_written = False
        self._held: list[str] = []
        self.eio: int | None = None

    def opened(self, eio: int) -> None:
        """The session's revision is known: write the header and what waited for it
        (unless the parser is still to be :meth:`decided`)."""
        if self._header_written:
            return
        self.eio = eio
        if self._parser_known:
            self._write_header(eio)

    def decided(self, parser: Parser) -> None:
        """The session's Socket.IO packet encoding is known (for a writer made with
        ``parser=None``): what follows is redacted as that parser reads it, and the header
        says it. Call it before :meth:`message` with the message that decided it."""
        if self._parser_known:
            return
        self.parser = parser
        self._parser_known = True
        if self.eio is not None:
            self._write_header(self.eio)

    def _write_header(self, eio: int) -> None:
        header = {
            "format": FORMAT,
            "version": VERSION,
            "siocli": __version__,
            "start": datetime.now(timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "url": self.url,
            "eio": eio,
            "parser": self.parser.value,
            "options": self.options,
            "redacted": self.redact,
        }
        self._header_written = True
        self._write_line(json.dumps(header, ensure_ascii=False))
        held, self._held = self._held, []
        for line in held:
            self._write_line(line)

    def message(self, message: WireMessage) -> None:
        if self.start is None:
            self.start = message.time
        data = message.data
        eio = message.eio or self.eio or 4
        if self.redact:
            data, _ = redact_message(
                data, message.direction, message.transport, eio, self.secrets, self.parser
            )
        record: dict[str, Any] = {
            "t": round((message.time or 0.0) - (self.start or 0.0), 6),
            "dir": message.direction.value if message.direction else None,
            "transport": message.transport.value,
        }
        if isinstance(data, str):
            record["text"] = data
        else:
            record["b64"] = base64.b64encode(data).decode("ascii")
        if message.http:
            http = dict(message.http)
            if self.redact and "headers" in http:
                http["headers"] = redact_headers(http["headers"])
            record["http"] = http
        self._line(json.dumps(record, ensure_ascii=False))

    def event(self, kind: str, time: float | None = None, **fields: Any) -> None:
        """A lifecycle step that is not a message (the session's end, mostly)."""
        t = round((time or 0.0) - (self.start or time or 0.0), 6) if time is not None else None
        self._line(json.dumps({"t": t, "type": kind, **fields}, ensure_ascii=False, default=str))

    def close(self) -> None:
        if not self._header_written and self._held:  # no packet ever said the parser
            self._write_header(self.eio or 4)
        self.out.flush()

    def _line(self, line: str) -> None:
        if self._header_written:
            self._write_line(line)
        else:
            self._held.append(line)

    def _write_line(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


# --- reading -----------------------------------------------------------------------------------


@dataclass
class Recording:
    """A recording in memory (for replay): its header and its lines."""

    name: str
    header: dict[str, Any]
    messages: list[WireMessage] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def eio(self) -> int:
        return int(self.header.get("eio") or 4)

    @property
    def parser(self) -> Parser:
        """The Socket.IO packet encoding recorded (recordings before it say none: default)."""
        return Parser(self.header.get("parser") or "default")

    def second_session_line(self) -> int | None:
        """The line where a second Engine.IO session (a reconnection) begins, after the
        first one's messages; None when the recording holds one session."""
        markers = [e["line"] for e in self.events if e.get("type") == "session"]
        first = line_of(self.messages[0].source) if self.messages else min(markers, default=0)
        return next((line for line in markers if line > first), None)


def line_of(source: str | None) -> int:
    """The line number of a recording's ``name:line`` source (0 if it names none)."""
    _, _, number = (source or "").rpartition(":")
    return int(number) if number.isdigit() else 0


def read_recording(lines: Iterator[str], name: str) -> Iterator[WireMessage | InputProblem]:
    """The wire messages of a recording (for ``decode``), streaming."""
    header: dict[str, Any] | None = None
    pending: tuple[int, str] | None = None
    segment = 0
    for number, line in enumerate(lines, 1):
        if pending is not None:  # the line before was cut short, and was not the last
            if header is None:  # that was the header: nothing here is a recording
                yield InputProblem(
                    f"{name}:{pending[0]} is not a siocli recording header: not JSON "
                    f"({pending[1]}); expected {_HEADER_SHAPE}",
                    f"{name}:{pending[0]}",
                    fatal=True,
                )
                return
            yield InputProblem(
                f"line {pending[0]}: not JSON ({pending[1]})", f"{name}:{pending[0]}"
            )
            pending = None
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            pending = (number, str(exc))
            continue
        if header is None:
            try:
                header = _check_header(record, name)
            except RecordingError as exc:
                yield InputProblem(str(exc), f"{name}:1", fatal=True)
                return
            continue
        if isinstance(record, dict) and record.get("type") == "session":
            segment += 1  # a reconnection: a new Engine.IO session
            continue
        item = _line_item(record, header, name, number, segment)
        if item is not None:
            yield item
    if pending is not None and header is None:
        yield InputProblem(
            f"{name}: its header (line {pending[0]}) is cut short, and nothing follows it: "
            "the recording was interrupted as it started",
            f"{name}:{pending[0]}",
            fatal=True,
        )
        return
    if pending is not None:
        yield InputProblem(
            f"the last line ({pending[0]}) is cut short: the recording was interrupted; "
            "everything before it is read",
            f"{name}:{pending[0]}",
            code="recording.truncated",
            severity=Severity.WARNING,
        )
    if header is None:
        yield InputProblem(f"{name} is empty", name, fatal=True)


_HEADER_SHAPE = f'{{"format": "{FORMAT}", "version": {VERSION}, ...}}'


def _check_header(record: Any, name: str) -> dict[str, Any]:
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise RecordingError(
            f"{name}:1 is not a siocli recording header (expected {_HEADER_SHAPE})"
        )
    version = record.get("version")
    if not isinstance(version, int) or version < 1:
        raise RecordingError(f"{name}:1: bad format version {version!r}")
    if version > VERSION:
        raise RecordingError(
            f"{name}:1: format version {version} is newer than this siocli reads ({VERSION}); "
            "upgrade siocli"
        )
    _check_fields(record, _HEADER_FIELDS, f"{name}:1")
    _check_fields(record.get("options") or {}, _OPTION_FIELDS, f'{name}:1 "options"')
    if record.get("eio") not in (None, 3, 4):
        raise RecordingError(f'{name}:1: "eio" is {record["eio"]!r}; expected 3 or 4')
    if record.get("parser") not in (None, "default", "msgpack"):
        raise RecordingError(
            f'{name}:1: "parser" is {record["parser"]!r}; expected "default" or "msgpack"'
        )
    headers = (record.get("options") or {}).get("headers") or {}
    if not all(isinstance(value, str) for value in headers.values()):
        raise RecordingError(f'{name}:1: "options" "headers" values must be strings')
    return record


# The header's fields, where present, as siocli writes them: a hand-edited header that says
# otherwise is refused at line 1 rather than failing later, mid-replay.
_HEADER_FIELDS: dict[str, type] = {
    "url": str,
    "eio": int,
    "options": dict,
    "start": str,
    "siocli": str,
}
_OPTION_FIELDS: dict[str, type] = {
    "path": str,
    "transport": str,
    "namespaces": list,
    "headers": dict,
    "query": dict,
}


def _check_fields(record: dict[str, Any], fields: dict[str, type], where: str) -> None:
    for key, kind in fields.items():
        value = record.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise RecordingError(
                f'{where}: "{key}" is {json.dumps(value)[:60]}; expected {_KIND_NAMES[kind]}'
            )


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "a number",
    dict: "an object",
    list: "an array",
}


def _line_item(
    record: Any, header: dict[str, Any], name: str, number: int, segment: int
) -> WireMessage | InputProblem | None:
    where = f"{name}:{number}"
    if not isinstance(record, dict):
        return InputProblem(f"line {number} is not a JSON object", where)
    if "type" in record:
        return None  # a lifecycle line: replay reads them, decode needs only messages
    # a null direction is what a writer without one writes; a transport is always written
    bad = (None if record.get("dir") is None else _bad_value(record, "dir", Direction)) or (
        _bad_value(record, "transport", Transport)
    )
    if bad is not None:
        return InputProblem(f"line {number}: {bad}", where)
    direction = Direction(record["dir"]) if record.get("dir") is not None else None
    transport = Transport(record.get("transport", "websocket"))
    if "text" in record and isinstance(record["text"], str):
        data: str | bytes = record["text"]
    elif "b64" in record:
        try:
            data = base64.b64decode(record["b64"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            return InputProblem(f'line {number}: bad base64 in "b64"', where)
    else:
        return InputProblem(f'line {number}: a message needs "text" or "b64"', where)
    time = record.get("t")
    return WireMessage(
        data,
        direction,
        transport,
        float(time) if isinstance(time, (int, float)) else None,
        int(header.get("eio") or 4),
        f"{name}#{segment}",
        where,
        http=record.get("http") if isinstance(record.get("http"), dict) else None,
    )


def _bad_value(record: dict[str, Any], key: str, kind: type[Enum]) -> str | None:
    """What is wrong with ``record[key]`` (where present) as a value of ``kind``, with the
    values accepted; None if nothing."""
    value = record.get(key)
    if key not in record or any(value == member.value for member in kind):
        return None
    accepted = " or ".join(f'"{member.value}"' for member in kind)
    return f'"{key}" is {json.dumps(value)[:60]}; expected {accepted}'


def load_recording(path: str) -> Recording:
    """Read a whole recording for replay; :class:`RecordingError` if it is not one."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{path} is not UTF-8 text: not a recording") from None
    if not lines:
        raise RecordingError(f"{path} is empty")
    try:
        header = json.loads(lines[0])
    except ValueError:
        raise RecordingError(f"{path}:1 is not JSON: not a recording") from None
    header = _check_header(header, path)
    recording = Recording(path, header)
    for item in read_recording(iter(lines), path):
        if isinstance(item, InputProblem):
            recording.problems.append(item)
        else:
            recording.messages.append(item)
    for number, line in enumerate(lines[1:], 2):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "type" in record:
            t = record.get("t")  # lifecycle lines are read for their time, as messages are
            t = float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else None
            recording.events.append({**record, "t": t, "line": number})
    return recording
