"""Check 5, Parser: the Socket.IO packet encoding the server speaks (the "custom parser" of
the Socket.IO docs): the default one, or MessagePack (socket.io-msgpack-parser,
python-socketio's ``serializer="msgpack"``). A CONNECT in the encoding asked (``--parser``),
then, if the server does not answer it, in the other one."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass

from ..protocol import engineio
from ..protocol.errors import DecodeError
from ..protocol.socketio import PacketAssembler
from ..protocol.types import EngineType, Parser, SocketType
from .answer import answers_probe, probe_packet
from .evidence import preview
from .findings import Findings
from .probe import Prober
from .results import CheckResult, Report, Status, skipped

__all__ = ["check_parser"]

_NAMES = {
    Parser.DEFAULT: "the default parser (socket.io-parser)",
    Parser.MSGPACK: "the MessagePack parser (socket.io-msgpack-parser)",
}
_WAIT = 3.0  # seconds a GET may hold for an answer: a silent server holds it a pingInterval
# Socket.IO 2.x: what its CONNECT to '/' looks like under each parser, what a client asking
# the other one must change
_V3_CONNECT = {
    Parser.DEFAULT: "the default parser (its CONNECT to '/' is text)",
    Parser.MSGPACK: "socket.io-msgpack-parser 2.x (its CONNECT is a JSON object)",
}
_V3_FIX = {
    Parser.DEFAULT: "drop --parser msgpack: the server uses the default parser",
    Parser.MSGPACK: "add --parser msgpack (socket.io-client 2.x: the parser option, "
    'require("socket.io-msgpack-parser") 2.x)',
}


@dataclass(slots=True)
class _Try:
    answered: bool
    line: str


async def check_parser(probe: Prober, found: Findings) -> CheckResult:
    report = Report("parser")
    path, eio = found.endpoint()
    if found.polling_disabled:
        return skipped("parser", "long-polling is off (the Namespaces check shows the parser)")
    if eio == 3:
        return await _v3(probe, path, report, found)
    asked = probe.connect.parser
    other = Parser.MSGPACK if asked is Parser.DEFAULT else Parser.DEFAULT
    first = await _connect(probe, path, asked)
    report.note(f"CONNECT with {_NAMES[asked]}: {first.line}")
    report.data["parser"] = asked.value
    if first.answered:
        report.passed(f"the server speaks {_NAMES[asked]}")
        return report.result()
    second = await _connect(probe, path, other)
    report.note(f"CONNECT with {_NAMES[other]}: {second.line}")
    if second.answered:
        _speak(probe, found, report, other)
        report.data["parser"] = other.value
        fix = (
            "add --parser msgpack (socket.io-client: the parser option, "
            'require("socket.io-msgpack-parser"); python-socketio: serializer="msgpack")'
            if other is Parser.MSGPACK
            else "drop --parser msgpack: the server uses the default parser"
        )
        report.flag(Status.FAIL, f"the server uses {_NAMES[other]}, not {_NAMES[asked]}", fix)
        return report.result()
    report.data["parser"] = None
    report.flag(
        Status.WARN,
        "the server answered a CONNECT in neither encoding",
        "a middleware that never calls next(), or another custom parser",
    )
    return report.result()


def _speak(probe: Prober, found: Findings, report: Report, parser: Parser) -> None:
    """The server speaks ``parser``, not the one asked: the later checks speak it too."""
    found.parser_spoken = parser
    probe.connect = dataclasses.replace(probe.connect, parser=parser)
    report.note(f"the checks below speak {_NAMES[parser]}, as the server does")


async def _connect(probe: Prober, path: str, parser: Parser) -> _Try:
    """A new session, a CONNECT to '/' encoded by ``parser``, the GETs that follow."""
    hs = await probe.handshake(path, 4, keep=True)
    if hs.handshake is None:
        return _Try(False, f"no session: {hs.describe()}")
    sid = hs.handshake.sid
    body = str(engineio.encode_payload([probe_packet(4, parser)], 4))
    post = await probe.request("POST", path, probe.query(4, sid), body=body)
    if post.status != 200:
        return _Try(False, f"POST {preview(body)} → {post.describe()}")
    deadline = time.monotonic() + min(probe.timeout, _WAIT)
    seen: list[str] = []
    try:
        for _ in range(3):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            get = await probe.request("GET", path, probe.query(4, sid), timeout=remaining)
            if get.status is None:  # a GET held: the server said nothing
                return _Try(False, ", ".join([*seen, f"no answer ({get.describe()})"]))
            if get.status != 200:
                seen.append(get.describe())
                return _Try(False, ", ".join([*seen, "the session is gone"]))
            received = engineio.decode_payload(get.payload, 4)
            seen.append(preview(get.body))
            if answers_probe(received, 4, parser):
                return _Try(True, f"answered ({', '.join(seen)})")
            if any(p.type is EngineType.CLOSE for p in received):
                return _Try(False, f"the server closed the session ({', '.join(seen)})")
    except DecodeError as exc:
        return _Try(False, f"an answer that is not Engine.IO: {exc}")
    finally:
        await probe.close_session(path, 4, sid)
    return _Try(False, f"no answer within {min(probe.timeout, _WAIT):g} s")


async def _v3(probe: Prober, path: str, report: Report, found: Findings) -> CheckResult:
    """Socket.IO 2.x joins '/' unasked: its CONNECT, with the handshake's answer or in the
    first GET, says the parser."""
    hs = await probe.handshake(path, 3, keep=True)
    if hs.handshake is None:
        report.flag(Status.WARN, f"no session: {hs.describe()}", None)
        return report.result()
    sid = hs.handshake.sid
    try:
        received = engineio.decode_payload(hs.payload, 3)
        if not any(p.type is EngineType.MESSAGE for p in received):
            get = await probe.request(
                "GET", path, probe.query(3, sid), timeout=min(probe.timeout, _WAIT)
            )
            received = engineio.decode_payload(get.payload, 3) if get.status == 200 else []
    except DecodeError:
        received = []
    finally:
        await probe.close_session(path, 3, sid)
    texts = [p.data for p in received if p.type is EngineType.MESSAGE and isinstance(p.data, str)]
    shown = ", ".join(preview(t) for t in texts) or "no message"
    report.note(f"the server's first messages: {shown}")
    asked = probe.connect.parser
    speaks = _v3_parser(texts)
    if speaks is None:
        report.data["parser"] = None
        report.passed("no CONNECT in the first GET to tell the parser by")
        return report.result()
    report.data["parser"] = speaks.value
    if speaks is not asked:
        _speak(probe, found, report, speaks)
        report.flag(Status.FAIL, f"the server uses {_V3_CONNECT[speaks]}", _V3_FIX[speaks])
    report.passed(f"the server speaks {_V3_CONNECT[speaks]}")
    return report.result()


def _v3_parser(texts: list[str]) -> Parser | None:
    """The parser that reads one of ``texts`` as a CONNECT, as the core decodes them: text
    packets for the default parser, the JSON-object CONNECT of socket.io-msgpack-parser 2.x
    for MessagePack; no text reads as a packet under both."""
    for parser in Parser:
        for text in texts:
            with contextlib.suppress(DecodeError):
                packet = PacketAssembler(4, parser).receive_text(text)
                if packet is not None and packet.type is SocketType.CONNECT:
                    return parser
    return None
