"""``--json``: one JSON object per Engine.IO packet, in wire order (keys in the README).

A binary packet is written once complete: its line with the reassembled data, then one line
per attachment. Binary values are ``{"$binary": "<base64>"}``.
"""

from __future__ import annotations

import base64
import codecs
import os
from collections.abc import Callable, Iterable
from typing import IO, Any

from ..protocol.dissect import IncompleteFinding, MessageReport, PacketReport
from ..protocol.errors import DecodeError
from ..protocol.types import (
    Direction,
    EngineType,
    Finding,
    Severity,
    SocketPacket,
    SocketType,
    Transport,
)
from ..wire import InputProblem

__all__ = ["JsonLinesWriter", "binary_json", "dumps_line"]


def binary_json(value: bytes) -> dict[str, str]:
    return {"$binary": base64.b64encode(value).decode("ascii")}


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return binary_json(bytes(value))
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _make_dumps() -> tuple[Callable[[Any], str], Callable[[Any], bytes]]:
    """``dumps_line`` (compact JSON text) and its twin for the decode writer, a line of UTF-8
    bytes, newline included: orjson makes bytes, and the writer hands them to the stream's
    buffer rather than decoding them to re-encode them."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib still works
        import json

        def dumps_std(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)

        def line_std(value: Any) -> bytes:
            return (dumps_std(value) + "\n").encode()

        return dumps_std, line_std
    option = orjson.OPT_NON_STR_KEYS

    def dumps_fast(value: Any) -> str:
        try:
            return orjson.dumps(value, default=_default, option=option).decode()
        except TypeError:  # integers beyond 64 bits, lone surrogates
            import json

            return json.dumps(value, separators=(",", ":"), default=_default)

    line_option = orjson.OPT_APPEND_NEWLINE

    def line_fast(value: Any) -> bytes:
        # Without OPT_NON_STR_KEYS (0.4 µs a record): decoded JSON only has string keys.
        try:
            return orjson.dumps(value, default=_default, option=line_option)
        except TypeError:  # as dumps_fast, and keys that are not strings
            return (dumps_fast(value) + "\n").encode()

    return dumps_fast, line_fast


dumps_line, _dumps_line_bytes = _make_dumps()


def _findings(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [
        {"severity": _SEVERITIES[f.severity], "code": f.code, "message": f.message}
        for f in findings
    ]


def error_json(error: DecodeError) -> dict[str, Any]:
    return {"layer": error.layer, "message": error.reason, "offset": error.offset}


# Enum values by member: a dict lookup is ~20 ns, ``member.value`` ~150 ns (a descriptor).
_SEVERITIES = {s: s.value for s in Severity}
_DIRECTIONS: dict[Direction | None, str | None] = {None: None, **{d: d.value for d in Direction}}
_TRANSPORTS = {t: t.value for t in Transport}
_ENGINE_TYPES = tuple(t.label for t in EngineType)
_SOCKET_TYPES = tuple(t.name for t in SocketType)
_EVENT, _BINARY_EVENT = SocketType.EVENT, SocketType.BINARY_EVENT


# Bytes per write to the stream. The lines are appended to one buffer that stays in the CPU's
# cache (a list of 256 lines' bytes objects costs 2 µs a line more, in allocation alone).
_BATCH = 32 * 1024


def _utf8_buffer(out: IO[str]) -> IO[bytes] | None:
    """The binary buffer under ``out`` when writing UTF-8 bytes there is what writing text
    to ``out`` would do (UTF-8, no newline translation), else ``None``."""
    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is None or encoding is None or os.linesep != "\n":
        return None
    try:
        return buffer if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None


class JsonLinesWriter:
    """Writes the records of dissected messages to ``out``, in batches of lines (each line
    at once when ``out`` is line-buffered, as on a terminal)."""

    shows_spans = False  # the records hold packets and findings: no spans to compute
    spans_on_demand = False
    shows_summary = False

    def __init__(self, out: IO[str], fields: dict[str, Any] | None = None) -> None:
        self._out = out
        # keys added at the end of every line (the proxy's session label and sid)
        self.fields = fields
        self._buffer = _utf8_buffer(out)
        self._line_buffered = bool(getattr(out, "line_buffering", False))
        self._pending = bytearray()
        self._eio = 4
        # records held back until their binary packet completes: [header, *attachments]
        self._held: dict[Any, list[dict[str, Any]]] = {}

    def write_session(self, number: int, sid: str | None, eio: int) -> None:
        """A new session: nothing to write, every line says its revision."""

    def write_problem(self, problem: InputProblem, index: int) -> None:
        """Input that could not be read: a line with ``error`` (layer ``input``)."""
        record = self._record(index, None, None, None, None, ())
        record["error"] = {
            "layer": "input",
            "message": problem.message,
            "offset": problem.offset,
            "source": problem.source,
        }
        self._emit(record)

    def write_message(
        self, report: MessageReport, extra: Iterable[Finding] = (), eio: int = 4
    ) -> None:
        self._eio = eio
        packets = report.packets
        if (
            len(packets) == 1
            and not extra
            and not report.findings
            and not self._held
            and not self.fields
            and _common_line is not None
        ):
            line = _common_line(report, packets[0], eio)
            if line is not None:
                self._pending += line
                if self._line_buffered or len(self._pending) >= _BATCH:
                    self._flush()
                return
        message_findings = (*report.findings, *extra) if extra else report.findings
        if packets:
            self._packet(report, packets[0], message_findings)
            for packet in packets[1:]:  # a polling body's other packets
                self._packet(report, packet, ())
        error = report.breakdown.error
        if error is not None or not packets:  # a framing error (perhaps first)
            record = self._record(
                report.number,
                report.direction,
                report.transport,
                report.time,
                report.raw,
                () if packets else message_findings,
            )
            if error is not None:
                record["error"] = error_json(error)
            self._emit(record)
        if self._line_buffered or len(self._pending) >= _BATCH:
            self._flush()

    def _packet(
        self, report: MessageReport, packet: PacketReport, findings: tuple[Finding, ...]
    ) -> None:
        """Write ``packet``'s line, or hold it while its binary packet awaits attachments,
        then write the whole packet at once."""
        breakdown, complete, attachment, own, socket_findings, error, recovery = packet
        engine = breakdown.engine
        raw = breakdown.raw
        found = (*findings, *own) if findings else own
        # _record's keys, inline (a line per packet: the call costs as much as the dict)
        record: dict[str, Any] = {
            "index": report.number,
            "dir": _DIRECTIONS[report.direction],
            "transport": _TRANSPORTS[report.transport],
            "eio": self._eio,
            "time": report.time,
            "eio_type": None if engine is None else _ENGINE_TYPES[engine.type],
            "raw": raw if raw.__class__ is str else binary_json(raw),  # type: ignore[arg-type]
            "findings": _findings(found) if found else [],
        }
        if self.fields:
            record.update(self.fields)
        socket = complete or breakdown.socket
        if socket is not None and attachment is None:
            _socket_fields(record, socket)
        if error is not None:
            record["error"] = error_json(error)
        if recovery is not None and recovery.offset is not None:
            record["offset"] = recovery.offset  # the args keep it, as on the wire
        if self._held and self._held_packet(report.direction, record, packet):
            return
        socket = breakdown.socket
        if socket is not None and socket.type >= 5 and complete is None and error is None:
            self._held[report.direction] = [record]  # a binary packet's header: held until
            return  # its attachments come
        if socket_findings:
            record["findings"] += _findings(socket_findings)
        self._pending += _dumps_line_bytes(record)

    def _held_packet(
        self, direction: Direction | None, record: dict[str, Any], packet: PacketReport
    ) -> bool:
        """While a binary packet awaits attachments: ``True`` when ``record`` is one of them
        (held, and the whole packet written once complete); else ``False``, and in the same
        direction the wait is over: the held lines are written as they are."""
        held = self._held.get(direction)
        if packet.attachment is not None and held is not None:
            record["attachment"] = {"of": packet.attachment[0], "num": packet.attachment[1]}
            held.append(record)
            if packet.complete is None and packet.error is None:
                return True
            del self._held[direction]
            header = held[0]
            if packet.complete is not None:
                _socket_fields(header, packet.complete)
                header["findings"] += _findings(packet.socket_findings)
            for line in held:
                self._emit(line)
            return True
        if held is not None:  # its attachments will not come: write it as it is
            self._held.pop(direction)[0]["incomplete"] = True
            for line in held:
                self._emit(line)
        return False

    def finish(self, findings: Iterable[Finding], summary: object = None) -> None:
        """The end: write the binary packets whose attachments never all arrived, each
        marked incomplete and carrying the finding that says so."""
        findings = list(findings)
        for held in self._held.values():  # attachments never came: written as they are
            header = held[0]
            header["incomplete"] = True
            own = [
                f
                for f in findings
                if isinstance(f, IncompleteFinding) and f.index == header["index"]
            ]
            if own:
                header["findings"] = [*header["findings"], *_findings(own)]
                findings = [f for f in findings if f not in own]
            for line in held:
                self._emit(line)
        self._held.clear()
        extra = _findings(findings)
        if extra:  # about the capture as a whole (a CONNECT never answered...)
            record = self._record(None, None, None, None, None, ())
            record["findings"] = extra
            self._emit(record)
        self._flush()
        if self._buffer is not None:
            self._buffer.flush()

    def flush(self) -> None:
        """Write the lines batched so far (several writers share one stream: each writes
        its lines before another starts)."""
        self._flush()

    def _emit(self, record: dict[str, Any]) -> None:
        self._pending += _dumps_line_bytes(record)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = bytes(self._pending)
        self._pending.clear()
        if self._buffer is None:
            self._out.write(data.decode())
            return
        self._out.flush()  # whatever was written as text goes first
        self._buffer.write(data)
        if self._line_buffered:
            self._buffer.flush()

    def _record(
        self,
        index: int | None,
        direction: Direction | None,
        transport: Transport | None,
        time: float | None,
        raw: str | bytes | None,
        findings: tuple[Finding, ...],
    ) -> dict[str, Any]:
        """The keys every line has, in their order; ``raw`` ``None`` for a line about no
        message (then ``transport`` and ``eio`` are ``None`` too)."""
        record: dict[str, Any] = {
            "index": index,
            "dir": _DIRECTIONS[direction],
            "transport": None if transport is None else _TRANSPORTS[transport],
            "eio": None if raw is None else self._eio,
            "time": time,
            "eio_type": None,
            "raw": raw if raw is None or isinstance(raw, str) else binary_json(raw),
            "findings": _findings(findings) if findings else [],
        }
        if self.fields:
            record.update(self.fields)
        return record


def _make_common_line() -> Callable[[MessageReport, PacketReport, int], bytes | None] | None:
    """The line of a text EVENT or ACK with nothing to report (no finding, no error, no
    recovery offset): most lines of a capture. The same bytes as ``_dumps_line_bytes`` of
    the record :meth:`JsonLinesWriter._packet` builds (a property test holds them to it),
    without the record: each value is dumped once, the keys are written in place, and an
    event's ``args`` are cut from its ``data`` (orjson writes a list's items as it writes
    them alone, joined by commas), which is dumped once instead of twice. ``None``
    without orjson."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        return None
    dumps = orjson.dumps
    event_line = (
        b'{"index":%d,"dir":%b,"transport":%b,"eio":%d,"time":%b,"eio_type":"message",'
        b'"raw":%b,"findings":[],"sio_type":"EVENT","nsp":%b,"id":%b,"attachments":0,'
        b'"data":%b,"event":%b,"args":%b}\n'
    )
    ack_line = (
        b'{"index":%d,"dir":%b,"transport":%b,"eio":%d,"time":%b,"eio_type":"message",'
        b'"raw":%b,"findings":[],"sio_type":"ACK","nsp":%b,"id":%b,"attachments":0,'
        b'"data":%b}\n'
    )
    directions = {d: dumps(v) for d, v in _DIRECTIONS.items()}
    transports = {t: dumps(v) for t, v in _TRANSPORTS.items()}
    namespaces: dict[str, bytes] = {}  # a capture has a few: each dumped once
    event, ack, message = SocketType.EVENT, SocketType.ACK, EngineType.MESSAGE

    def common_line(report: MessageReport, packet: PacketReport, eio: int) -> bytes | None:
        breakdown, complete, attachment, own, socket_findings, error, recovery = packet
        if (
            complete is None
            or complete is not breakdown.socket  # a binary packet, reassembled
            or own
            or socket_findings
            or error is not None
            or attachment is not None
            or (recovery is not None and recovery.offset is not None)
            or report.breakdown.error is not None
        ):
            return None
        engine = breakdown.engine
        ptype = complete.type
        data = complete.data
        raw = breakdown.raw
        if (
            engine is None
            or engine.type is not message
            or raw.__class__ is not str
            or data.__class__ is not list
            or complete.attachments
        ):
            return None
        if (ptype is not event or not data) and ptype is not ack:
            return None
        namespace = complete.namespace
        nsp = namespaces.get(namespace)
        if nsp is None:
            nsp = namespaces[namespace] = dumps(namespace)
        number = complete.id
        time = report.time
        try:
            whole = dumps(data)
            keys = (  # the values of the keys both lines start with
                report.number,
                directions[report.direction],
                transports[report.transport],
                eio,
                b"null" if time is None else dumps(time),
                dumps(raw),
                nsp,
                b"null" if number is None else b"%d" % number,
                whole,
            )
            if ptype is ack:
                return ack_line % keys
            name = dumps(data[0])
            args = b"[" + whole[len(name) + 2 :] if len(data) > 1 else b"[]"
            return event_line % (*keys, name, args)
        except TypeError:  # integers beyond 64 bits, lone surrogates: the general path
            return None

    return common_line


_common_line = _make_common_line()


def _socket_fields(record: dict[str, Any], packet: SocketPacket) -> None:
    """Add (or, for a binary packet now complete, update) a Socket.IO packet's keys."""
    ptype = packet.type
    data = packet.data
    record["sio_type"] = _SOCKET_TYPES[ptype]
    record["nsp"] = packet.namespace
    record["id"] = packet.id
    record["attachments"] = packet.attachments
    record["data"] = data
    if ptype is _EVENT or ptype is _BINARY_EVENT:
        record["event"] = data[0] if data else None  # SocketPacket.event and .args, inline
        record["args"] = data[1:] if data.__class__ is list else []
