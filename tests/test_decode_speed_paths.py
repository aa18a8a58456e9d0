"""The fast paths of ``decode`` say exactly what the general paths say.

``decode`` takes shortcuts for speed: no spans when ``--json`` prints none, a quick read of
the common transcript line, ``bytes.fromhex`` before the tolerant hex reader, plain text
rather than rich when the output shows no styles, C JSON for values people read. Each test
here holds a shortcut to its general path, on the captures and on input made to hit the
corners.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from siocli.captures import read_stream
from siocli.captures.text import _Reader
from siocli.decode import DecodeOptions, run_decode
from siocli.protocol import socketio
from siocli.protocol.annotate import common_spans
from siocli.protocol.checker import ANSWERED_KEPT, UNANSWERED_LISTED, Checker
from siocli.protocol.dissect import Dissector, MessageReport
from siocli.protocol.errors import DecodeError
from siocli.protocol.recovery import Recovery
from siocli.protocol.types import Direction, SocketPacket, SocketType, Trace, Transport
from siocli.render import jsonl
from siocli.render.human import HumanRenderer
from siocli.render.jsonl import JsonLinesWriter
from siocli.render.text import escape_text, format_elided, format_value, hex_preview
from siocli.wire import InputProblem, WireMessage, parse_hex

from .strategies import any_json

CAPTURES = Path(__file__).parent / "data" / "captures"
SAMPLE = Path(__file__).parent.parent / "siocli" / "data" / "sample-session.txt"
FILES = sorted([*CAPTURES.glob("*.txt"), *CAPTURES.glob("*.har"), SAMPLE], key=str)
C2S, S2C = Direction.C2S, Direction.S2C


def messages(path: Path) -> list[WireMessage]:
    with path.open("rb") as stream:
        return [m for m in read_stream(stream, path.name) if isinstance(m, WireMessage)]


def dissect(path: Path, *, spans: bool) -> list[MessageReport]:
    sessions: dict[str | None, Dissector] = {}
    reports = []
    for number, m in enumerate(messages(path)):
        eio = m.eio or (3 if "node2" in path.name else 4)
        dissector = sessions.setdefault(m.session, Dissector(eio, spans=spans))
        reports.append(dissector.receive(m.direction, m.transport, m.data, m.time, number))
    return reports


# --- --json: no spans, the same findings -----------------------------------------------------


def all_but_spans(report: MessageReport) -> list[object]:
    """Everything a report says but its spans; errors as text (they do not compare equal)."""
    said: list[object] = [report.findings, report.breakdown.findings, repr(report.breakdown.error)]
    for p in report.packets:
        b = p.breakdown
        said += [b.offset, b.raw, b.engine, b.socket, b.handshake, b.findings, repr(b.error)]
        said += [p.complete, p.attachment, p.findings, p.socket_findings, repr(p.error)]
    return said


def no_spans(report: MessageReport) -> bool:
    return report.breakdown.spans == () and all(p.breakdown.spans == () for p in report.packets)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_without_spans_the_reports_are_the_same_but_the_spans(path: Path) -> None:
    full = dissect(path, spans=True)
    lean = dissect(path, spans=False)
    assert [all_but_spans(r) for r in full] == [all_but_spans(r) for r in lean]
    assert all(no_spans(r) for r in lean)


@pytest.mark.parametrize(
    "raw",
    [
        "4",  # empty Socket.IO packet
        "4 ",  # blank type
        '42/admin["x"]',  # the namespace swallows the payload
        '42/,["x"]',  # the main namespace written out
        '4212345678901234567["x"]',  # an ack id past 2^53
        "42",  # event without payload
        "431",  # ack without payload
        '43["x"]',  # ack without id
        "401",  # id on a CONNECT
        '42 1["x"]',  # blank in the ack id
        "45a-[]",  # attachment count not a number
        "45 1-[]",  # ... written oddly
        "b4AQI",  # base64 without padding (revision 3: a type after the b)
        '42["reserved"',  # not JSON
    ],
)
def test_decoder_findings_without_spans(raw: str) -> None:
    for eio in (3, 4):
        for transport in Transport:
            full, lean = (
                Dissector(eio, expect_handshake=False, spans=spans).receive(None, transport, raw)
                for spans in (True, False)
            )
            assert all_but_spans(full) == all_but_spans(lean) and no_spans(lean)


# --- the common EVENT/ACK, read without a trace ----------------------------------------------


def _json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


common_messages = st.builds(
    lambda kind, nsp, ack_id, payload: f"4{kind}{nsp}{ack_id}{payload}",
    st.sampled_from("0123456") | st.text(max_size=1),
    st.sampled_from(["", "/admin,", "/,", "/", "/a b,", "/x?y=1,", "/admin"]),
    st.sampled_from(["", "0", "7", "012", "999999999999999", "9999999999999999", " 1", "1 "]),
    st.builds(
        lambda name, args: _json_text([name, *args]),
        st.sampled_from(["hey", "connect", "newListener", 1, None]) | any_json,
        st.lists(any_json, max_size=2),
    )
    | st.sampled_from(["[]", '["a" ]', '[ "a"]', '["a"', '["\\ud800"]', "[1e400]", "{}", ""])
    | st.text(max_size=6),
)


@settings(max_examples=1000)
@given(common_messages, st.sampled_from([4, 5]))
def test_the_common_event_reads_as_the_general_reader_reads_it(message: str, protocol: int) -> None:
    """read_common takes a message only where read_packet gives the same packet and has
    nothing to remark: no finding, no error."""
    common = socketio.read_common(message, protocol)
    if common is None:
        return
    trace = Trace(1, explain=False)
    assert socketio.read_packet(message, 1, protocol, trace) == common
    assert trace.findings == []


@settings(max_examples=1000)
@given(common_messages, st.sampled_from([3, 4]))
def test_the_common_event_is_explained_as_the_general_reader_explains_it(
    message: str, eio: int
) -> None:
    """Its spans, made afterwards for a view that shows them (``common_spans=False``), are
    the ones the general reader records; the rest of the breakdown is the same."""
    full, quick = (
        Dissector(eio, expect_handshake=False, common_spans=common)
        .receive(None, Transport.WEBSOCKET, message)
        .packets[0]
        .breakdown
        for common in (True, False)
    )
    if quick.spans:  # not the common shape: both went the general way
        assert repr(quick) == repr(full)
        return
    assert tuple(common_spans(quick, eio)) == full.spans
    assert quick._replace(spans=full.spans) == full


@pytest.mark.parametrize(
    "message",
    ['42["hey","Jude"]', '4217["typing",{"room":"dev"}]', '43123[{"ok":true}]', '42/admin,5["x"]'],
)
def test_the_common_shapes_take_the_straight_path(message: str) -> None:
    assert socketio.read_common(message, 5) is not None


def _json_lines(reports: list[MessageReport], *, quick: bool) -> str:
    """The writer's lines for ``reports``; ``quick``: with its line of the common packet."""
    out = io.StringIO()
    writer = JsonLinesWriter(out)
    common_line = jsonl._common_line
    if not quick:
        jsonl._common_line = None
    try:
        for report in reports:
            writer.write_message(report, (), 4)
        writer.finish([], None)
    finally:
        jsonl._common_line = common_line
    return out.getvalue()


@settings(max_examples=500)
@given(
    st.lists(
        st.tuples(
            common_messages,
            st.sampled_from([C2S, S2C, None]),
            st.none() | st.floats(0, 1e9, allow_nan=False),
            st.sampled_from([Transport.WEBSOCKET, Transport.POLLING]),
        ),
        max_size=6,
    )
)
def test_the_common_line_is_the_record_written_out(
    messages: list[tuple[str, Direction | None, float | None, Transport]],
) -> None:
    dissector = Dissector(4, expect_handshake=False, spans=False)
    reports = [
        dissector.receive(direction, transport, raw, time)
        for raw, direction, time, transport in messages
    ]
    assert _json_lines(reports, quick=True) == _json_lines(reports, quick=False)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_common_lines_of_the_captures_are_their_records(path: Path) -> None:
    reports = dissect(path, spans=False)
    quick = _json_lines(reports, quick=True)
    assert quick == _json_lines(reports, quick=False)
    assert quick.count('"sio_type":"EVENT"') > 0 or "EVENT" not in quick


def test_json_output_is_the_same_through_a_text_stream() -> None:
    """The writer hands UTF-8 bytes to a text stream's buffer; without one, text."""
    outputs = []
    for out in (io.StringIO(), io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
        run_decode(
            DecodeOptions(sample=True, as_json=True),
            stdout=out,
            stderr=io.StringIO(),
            stdin=io.BytesIO(),
            stdin_is_tty=False,
            console=Console,
        )
        if isinstance(out, io.TextIOWrapper):
            out.flush()
            outputs.append(out.buffer.getvalue().decode("utf-8"))  # type: ignore[attr-defined]
        else:
            outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert all(json.loads(line) for line in outputs[0].splitlines())


# --- transcripts: the quick frame line -------------------------------------------------------

FRAME_LINES = [
    '> 42["hey","Jude"]',
    '< 42["a => b"]',  # '=>' inside JSON: data
    '> 42["x"]      => a comment',
    '> 42["x"]\\x1e',
    "< 3probe",
    "<  40",
    "> <binary> 01 02 03",
    "> <binary>01:02",
    "> <BINARY> 01",
    "> <binary>",
    "> <binary> zz",
    "> hex:01 02",
    "< b64:AQI=",
    "> b64:A",
    "> GET /socket.io/?EIO=4&transport=websocket",
    "< HTTP/1.1 101 Switching Protocols",
    "< Upgrade: websocket",
    ">",
    "> 2",
    "> 2\t",
]


def read_line_by_line(lines: list[str], *, quick: bool) -> list[object]:
    reader = _Reader("t.txt", None, None, True)
    reader.websocket = ("sid", 4)
    out: list[object] = []
    for number, line in enumerate(lines, 1):
        message = reader.frame(number, line + "\n") if quick else None
        if message is None:
            out += reader.feed(number, line + "\n")
        else:
            out.append(message)
    return out


@pytest.mark.parametrize("line", FRAME_LINES)
def test_the_quick_frame_line_reads_as_the_general_one(line: str) -> None:
    assert read_line_by_line([line], quick=True) == read_line_by_line([line], quick=False)


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix == ".txt"], ids=lambda p: p.name)
def test_transcripts_read_the_same_line_by_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert read_line_by_line(lines, quick=True) == read_line_by_line(lines, quick=False)


@pytest.mark.parametrize(
    ("line", "data"),
    [("> hex:01 02", b"\x01\x02"), ("< b64:AQI=", b"\x01\x02"), ("> HEX:ff", b"\xff")],
)
def test_hex_and_b64_frames_are_binary(line: str, data: bytes) -> None:
    text = f"GET /socket.io/?EIO=4&transport=websocket\nWebSocket frames:\n{line}\n"
    [message] = read_stream(io.BytesIO(text.encode()), "t.txt")
    assert isinstance(message, WireMessage) and message.data == data


def test_a_bad_hex_frame_is_reported_where_it_is() -> None:
    text = "GET /socket.io/?EIO=4&transport=websocket\nWebSocket frames:\n> hex:0g\n"
    [problem] = read_stream(io.BytesIO(text.encode()), "t.txt")
    assert not isinstance(problem, WireMessage)
    assert problem.message == "line 3: invalid hex" and problem.offset == 5


# --- hex -------------------------------------------------------------------------------------


@given(st.text(alphabet="0123456789abcdefABCDEF \t:-\n\x0b\x0cgé", max_size=24))
def test_parse_hex_fast_or_not_reads_the_same(text: str) -> None:
    digits = "".join(c for c in text if c not in " \t:-")
    try:
        got: bytes | DecodeError = parse_hex(text, 4)
    except DecodeError as exc:
        got = exc
    if len(digits) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in digits):
        assert got == bytes.fromhex(digits)
    else:
        assert isinstance(got, DecodeError)
        bad = next((i for i, c in enumerate(text) if c not in "0123456789abcdefABCDEF \t:-"), None)
        assert got.offset == 4 + (len(text) if bad is None else bad)


# --- the checker: acks indexed, bounded, summed up -------------------------------------------


def event(ack_id: int, nsp: str = "/") -> SocketPacket:
    return SocketPacket(SocketType.EVENT, nsp, ["e"], ack_id)


def ack(ack_id: int, nsp: str = "/") -> SocketPacket:
    return SocketPacket(SocketType.ACK, nsp, [], ack_id)


def connected_checker() -> Checker:
    checker = Checker(4, expect_handshake=False)
    for nsp in ("/", "/a", "/b"):
        checker.socket_packet(C2S, SocketPacket(SocketType.CONNECT, nsp))
        checker.socket_packet(S2C, SocketPacket(SocketType.CONNECT, nsp, {"sid": "x"}))
    return checker


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.code for f in findings]


def test_an_ack_on_the_wrong_namespace_names_where_it_was_asked() -> None:
    checker = connected_checker()
    checker.socket_packet(C2S, event(7, "/b"))
    checker.socket_packet(C2S, event(7, "/a"))
    [finding] = checker.socket_packet(S2C, ack(7, "/"))
    assert finding.code == "sio.ack-namespace"
    assert "asked on '/b' but answered on '/'" in finding.message
    assert codes(checker.socket_packet(S2C, ack(8, "/"))) == ["sio.ack-unknown"]
    assert codes(checker.socket_packet(S2C, ack(7, "/a"))) == []
    assert codes(checker.socket_packet(S2C, ack(7, "/a"))) == ["sio.ack-twice"]


def test_answered_acks_are_remembered_in_bounded_memory() -> None:
    checker = connected_checker()
    for ack_id in range(5 * ANSWERED_KEPT):
        checker.socket_packet(C2S, event(ack_id))
        assert checker.socket_packet(S2C, ack(ack_id)) == []
    last = 5 * ANSWERED_KEPT - 1
    assert codes(checker.socket_packet(S2C, ack(last))) == ["sio.ack-twice"]
    assert codes(checker.socket_packet(S2C, ack(last - ANSWERED_KEPT + 1))) == ["sio.ack-twice"]
    remembered = [*checker._answered.values(), *checker._answered_before.values()]
    assert sum(map(len, remembered)) <= 2 * ANSWERED_KEPT
    assert not any(checker._open_acks.values())


def test_unanswered_acks_are_listed_then_summed_up() -> None:
    checker = connected_checker()
    checker.socket_packet(C2S, event(1, "/a"))
    for ack_id in range(100, 100 + UNANSWERED_LISTED + 3):
        checker.socket_packet(S2C, event(ack_id))
    checker.socket_packet(C2S, event(2, "/a"))
    ending = checker.end()
    assert [f.message for f in ending] == [
        "ack id 1 asked by the client on '/a' was never answered in this capture",
        f"{UNANSWERED_LISTED + 3} ack ids asked by the server on '/' were never answered in "
        "this capture: 100, 101, 102, 103, 104, ...",
        "ack id 2 asked by the client on '/a' was never answered in this capture",
    ]
    assert {f.code for f in ending} == {"sio.ack-unanswered"}


# --- the terminal view: plain text is what rich writes ---------------------------------------


def render(reports: list[MessageReport], *, rich: bool, eio: int = 4) -> str:
    out = io.StringIO()
    # recording makes the renderer go through rich; the text is the same
    console = Console(file=out, width=100, soft_wrap=True, highlight=False, record=rich)
    renderer = HumanRenderer(console)
    renderer.write_session(1, "sid\t1", 4)  # rich expands tabs and drops some controls
    renderer.write_problem(InputProblem("HTTP 400 {\t\x07\r\u6f22\t}", "t.har entry 1"), 0)
    for report in reports:
        renderer.write_message(report, (), eio)
    renderer.finish([], None)
    return out.getvalue()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_plain_terminal_view_is_what_rich_writes(path: Path) -> None:
    reports = dissect(path, spans=True)
    assert render(reports, rich=False) == render(reports, rich=True)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_view_shows_the_same_when_it_asks_for_the_common_spans(path: Path) -> None:
    """The view asks for the spans of the common EVENT or ACK as it shows it
    (``packet_spans``): what it shows is what it shows when the dissector made them all."""
    eio = 3 if "node2" in path.name else 4
    shown = []
    for common in (True, False):
        sessions: dict[str | None, Dissector] = {}
        recovery = Recovery()
        reports = [
            sessions.setdefault(
                m.session, Dissector(eio, recovery=recovery, common_spans=common)
            ).receive(m.direction, m.transport, m.data, m.time, number)
            for number, m in enumerate(messages(path))
        ]
        shown.append(render(reports, rich=False, eio=eio))
    assert shown[0] == shown[1]


class _LineByLine(HumanRenderer):
    def _plain_block(self, report: MessageReport, eio: int) -> str | None:
        return None


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_common_block_is_its_lines_joined(path: Path, full: bool) -> None:
    """A message that is one common EVENT or ACK is written as one string (_plain_block):
    the lines the general path makes for it, joined."""
    eio = 3 if "node2" in path.name else 4
    shown = []
    for view in (HumanRenderer, _LineByLine):
        sessions: dict[str | None, Dissector] = {}
        recovery = Recovery()
        out = io.StringIO()
        renderer = view(Console(file=out, width=100), full=full)
        for number, m in enumerate(messages(path)):
            dissector = sessions.setdefault(
                m.session, Dissector(eio, recovery=recovery, common_spans=False)
            )
            renderer.write_message(
                dissector.receive(m.direction, m.transport, m.data, m.time, number), (), eio
            )
        renderer.finish([], None)
        shown.append(out.getvalue())
    assert shown[0] == shown[1]


def test_plain_terminal_view_strips_and_expands_as_rich_does() -> None:
    weird = Dissector(4, expect_handshake=False).receive(
        None, Transport.WEBSOCKET, '4\t2["a\tb\x07",{"\u6f22":"\r"}]'
    )
    reports = [weird, Dissector(4).receive(S2C, Transport.WEBSOCKET, '0{"sid":"\u6f22\tx"}')]
    text = render(reports, rich=False)
    assert text == render(reports, rich=True)
    assert "\t" not in text and "\x07" not in text and "\r" not in text


# --- values for people -----------------------------------------------------------------------


def format_value_slowly(value: object) -> str:
    """format_value's definition, one value at a time."""
    if isinstance(value, bytes):
        return f"<binary {len(value)} bytes: {hex_preview(value, 8)}>"
    if isinstance(value, list):
        return "[" + ", ".join(format_value_slowly(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{format_value_slowly(k)}: {format_value_slowly(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, str):
        return '"' + escape_text(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return repr(value)


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.sampled_from(
    ['"', "\\", "\x00", "\x1f", "\x7f", "\x85", "\u2028", "\ufeff", "\xa0", "\t"]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT | st.binary(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)


@given(
    JSON
    | st.lists(
        st.floats(allow_nan=False, min_value=-1e-3, max_value=1e-3)
        | st.sampled_from(["a,b", "c:d", "e-", "null", "0.0000", "李", "\x7f", "é" * 30]),
        max_size=8,
    )
    # long values: what lies past the width and the lookahead, and a cut inside a character
    | st.lists(
        st.sampled_from(["é" * 17, "\U0001f600" * 9, "a\\b", "\x7f", "x" * 23, 1e-7, None])
        | st.floats(allow_nan=False, min_value=-1e-3, max_value=1e-3),
        min_size=4,
        max_size=40,
    ),
    st.integers(1, 120),
)
@example(["\U0001f600" * 200, "é"], 120)  # read only in part, cut inside a character
@example(["x" * 14, 1e-05], 21)  # orjson's 0.00001 starts at the width: json's 1e-05
@example(["x" * 140, "a\\b"], 100)  # an escape past the lookahead: the quick path
def test_format_elided_is_format_value_elided(value: object, width: int) -> None:
    """The view's long values: orjson's compact JSON, spaced out where it is shown."""
    text = format_value(value)
    assert format_elided(value, width) == (text if len(text) <= width else text[: width - 1] + "…")


@given(JSON)
def test_format_value_quick_or_not_says_the_same(value: object) -> None:
    assert format_value(value) == format_value_slowly(value)
