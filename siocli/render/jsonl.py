"""``--json``: one JSON object per Engine.IO packet, in wire order (keys in the README).

A binary packet is written once complete: its line with the reassembled data, then one line
per attachment. Binary values are ``{"$binary": "<base64>"}``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import IO, Any

from ..protocol.dissect import MessageReport, PacketReport
from ..protocol.errors import DecodeError
from ..protocol.types import Finding, SocketType
from ..wire import InputProblem

__all__ = ["JsonLinesWriter", "binary_json", "dumps_line"]


def binary_json(value: bytes) -> dict[str, str]:
    return {"$binary": base64.b64encode(value).decode("ascii")}


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return binary_json(bytes(value))
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _make_dumps() -> Callable[[Any], str]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib still works
        import json

        def dumps_std(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)

        return dumps_std
    option = orjson.OPT_NON_STR_KEYS

    def dumps_fast(value: Any) -> str:
        try:
            return orjson.dumps(value, default=_default, option=option).decode()
        except TypeError:  # integers beyond 64 bits, lone surrogates
            import json

            return json.dumps(value, separators=(",", ":"), default=_default)

    return dumps_fast


dumps_line = _make_dumps()


def _findings(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [{"severity": f.severity.value, "code": f.code, "message": f.message} for f in findings]


def error_json(error: DecodeError) -> dict[str, Any]:
    return {"layer": error.layer, "message": error.reason, "offset": error.offset}


class JsonLinesWriter:
    """Writes the records of dissected messages to ``out``."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._eio = 4
        # records held back until their binary packet completes: [header, *attachments]
        self._held: dict[Any, list[dict[str, Any]]] = {}

    def write_session(self, number: int, sid: str | None, eio: int) -> None:
        """A new session: nothing to write, every line says its revision."""

    def write_problem(self, problem: InputProblem, index: int) -> None:
        """Input that could not be read: a line with ``error`` (layer ``input``)."""
        record: dict[str, Any] = {
            "index": index,
            "dir": None,
            "transport": None,
            "eio": None,
            "time": None,
            "eio_type": None,
            "raw": None,
            "findings": [],
            "error": {
                "layer": "input",
                "message": problem.message,
                "offset": problem.offset,
                "source": problem.source,
            },
        }
        self._out.write(dumps_line(record) + "\n")

    def write_message(
        self, report: MessageReport, extra: Iterable[Finding] = (), eio: int = 4
    ) -> None:
        self._eio = eio
        lines: list[str] = []
        message_findings = [*report.findings, *extra]
        for i, packet in enumerate(report.packets):
            record = self._record(report, packet, message_findings if i == 0 else ())
            lines.extend(self._route(report, packet, record))
        if not report.packets:  # a framing error before any packet
            record = self._base(report, report.raw, message_findings)
            if report.breakdown.error is not None:
                record["error"] = error_json(report.breakdown.error)
            lines.append(dumps_line(record))
        elif report.breakdown.error is not None:
            record = self._base(report, report.raw, ())
            record["error"] = error_json(report.breakdown.error)
            lines.append(dumps_line(record))
        if lines:
            self._out.write("\n".join(lines) + "\n")

    def _route(
        self, report: MessageReport, packet: PacketReport, record: dict[str, Any]
    ) -> list[str]:
        direction = report.direction
        held = self._held.get(direction)
        if packet.attachment is not None and held is not None:
            record["attachment"] = {"of": packet.attachment[0], "num": packet.attachment[1]}
            held.append(record)
            if packet.complete is None and packet.error is None:
                return []
            del self._held[direction]
            header = held[0]
            if packet.complete is not None:
                header.update(_socket_fields(packet.complete))
                header["findings"] += _findings(packet.socket_findings)
            return [dumps_line(r) for r in held]
        lines = []
        if held is not None:  # its attachments will not come: write it as it is
            lines = [dumps_line(r) for r in self._held.pop(direction)]
        socket = packet.breakdown.socket
        awaiting = socket is not None and socket.type >= 5 and packet.complete is None
        if awaiting and packet.error is None:
            self._held[direction] = [record]
            return lines
        record["findings"] += _findings(packet.socket_findings)
        lines.append(dumps_line(record))
        return lines

    def finish(self, findings: Iterable[Finding], summary: object = None) -> None:
        """The end: write the binary packets whose attachments never all arrived."""
        extra = _findings(findings)
        for held in self._held.values():  # attachments never came: written as they are
            self._out.write("\n".join(dumps_line(r) for r in held) + "\n")
        self._held.clear()
        if extra:  # about the capture as a whole (a CONNECT never answered...)
            record: dict[str, Any] = dict.fromkeys(
                ("index", "dir", "transport", "eio", "time", "eio_type", "raw")
            )
            record["findings"] = extra
            self._out.write(dumps_line(record) + "\n")

    def _base(
        self, report: MessageReport, raw: str | bytes, findings: Iterable[Finding]
    ) -> dict[str, Any]:
        return {
            "index": report.number,
            "dir": report.direction.value if report.direction else None,
            "transport": report.transport.value,
            "eio": self._eio,
            "time": report.time,
            "eio_type": None,
            "raw": raw if isinstance(raw, str) else binary_json(raw),
            "findings": _findings(findings),
        }

    def _record(
        self, report: MessageReport, packet: PacketReport, findings: Iterable[Finding]
    ) -> dict[str, Any]:
        breakdown = packet.breakdown
        record = self._base(report, breakdown.raw, [*findings, *packet.findings])
        if breakdown.engine is not None:
            record["eio_type"] = breakdown.engine.type.label
        socket = packet.complete or breakdown.socket
        if socket is not None and packet.attachment is None:
            record.update(_socket_fields(socket))
        if packet.error is not None:
            record["error"] = error_json(packet.error)
        return record


def _socket_fields(packet: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "sio_type": packet.type.name,
        "nsp": packet.namespace,
        "id": packet.id,
        "attachments": packet.attachments,
        "data": packet.data,
    }
    if packet.type in (SocketType.EVENT, SocketType.BINARY_EVENT):
        fields["event"] = packet.event
        fields["args"] = packet.args
    return fields
