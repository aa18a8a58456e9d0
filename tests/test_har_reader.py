"""The HAR reader's two ways of reading entries give the same messages and problems.

captures/har.py reads a seekable file with its scanner (each entry's bytes cut out and
handed to orjson) and falls back to ijson, from the start of the file, on anything the
scanner does not read as ijson would. A stream that cannot seek (a pipe) is read by ijson
alone: that is the reference here, on the repository's captures and on generated HARs of
every layout, with the damage real files have (cut short, not UTF-8, numbers ijson refuses).
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siocli.captures import har
from siocli.captures.har import read_har
from siocli.protocol.request import RequestQuery, urllib_query
from siocli.wire import InputProblem, WireMessage

CAPTURES = Path(__file__).parent / "data" / "captures"
HARS = sorted(CAPTURES.glob("*.har"))


class _Pipe(io.RawIOBase):
    """Bytes that can be read once, in order, as from a pipe: no seeking back."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def _read(stream: Any, eio: int | None = None) -> list[Any]:
    """What read_har gives, and how it ends: the type and text of what it raised, if it did
    (ijson itself raises on a few inputs, e.g. a lone low surrogate escape)."""
    out: list[Any] = []
    try:
        out.extend(read_har(stream, "t.har", eio=eio))
    except Exception as exc:  # compared below, not hidden
        out.append((type(exc).__name__, str(exc)))
    return out


def _fast(document: bytes, eio: int | None = None) -> list[Any]:
    return _read(io.BufferedReader(io.BytesIO(document)), eio)  # type: ignore[arg-type]


def _ijson(document: bytes, eio: int | None = None) -> list[Any]:
    return _read(io.BufferedReader(_Pipe(document)), eio)


def _scanned(document: bytes) -> bool:
    """Whether the scanner reads the whole document without leaving it to ijson."""
    try:
        for _ in har._Scanner(io.BytesIO(document)).entries():
            pass
    except har._Unusual:
        return False
    return True


# --- the repository's captures ---------------------------------------------------------------


@pytest.mark.parametrize("path", HARS, ids=[p.name for p in HARS])
def test_each_capture_reads_the_same_both_ways_and_fast(path: Path) -> None:
    document = path.read_bytes()
    assert _scanned(document), "the scanner should read the exports of Chrome and Firefox"
    got = _fast(document)
    assert got == _ijson(document)
    assert got  # messages, or the warning that Firefox keeps no WebSocket frames
    assert _fast(document, eio=3) == _ijson(document, eio=3)


@pytest.mark.parametrize("path", HARS[:4], ids=[p.name for p in HARS[:4]])
def test_each_capture_reread_in_another_layout_is_the_same(path: Path) -> None:
    value = json.loads(path.read_bytes())
    expected = _ijson(path.read_bytes())
    for layout in _LAYOUTS:
        document = layout(value)
        assert _scanned(document)
        assert _fast(document) == expected


# --- damaged files: what ijson said, said the same ---------------------------------------------

_ENTRY = {
    "startedDateTime": "2024-01-01T00:00:01.000Z",
    "request": {"method": "GET", "url": "http://h/socket.io/?EIO=4&transport=websocket&sid=s"},
    "_webSocketMessages": [{"type": "receive", "time": 1704067201.5, "opcode": 1, "data": "2"}],
}


def _har(*entries: Any, after: str = "") -> bytes:
    body = ",".join(json.dumps(entry) for entry in entries)
    return ('{"log":{"version":"1.2","entries":[' + body + "]" + after + "}}").encode()


def test_a_cut_file_gives_its_whole_entries_then_says_it_was_cut() -> None:
    document = _har(_ENTRY, _ENTRY, _ENTRY)
    cut = document[: document.rindex(b'"request"')]
    got = _fast(cut)
    assert got == _ijson(cut)
    # the messages held for the time merge come after: the problem ends the reading
    assert [type(item).__name__ for item in got] == ["InputProblem"] + ["WireMessage"] * 2
    problem = got[0]
    assert problem.message == (
        "t.har is not valid JSON (parse error: premature EOF); expected a HAR file "
        "(File > Save all as HAR), whole: was it cut short?"
    )
    assert not problem.fatal  # two entries were read


def test_a_lone_surrogate_escape_is_said_where_it_is_not_raised() -> None:
    """yajl raises UnicodeDecodeError on a lone low surrogate escape: JSON's grammar allows
    it, so the file is not called cut short; the entries before it are decoded."""
    broken = json.loads(json.dumps(_ENTRY))
    broken["_webSocketMessages"][0]["data"] = "SURROGATE"
    document = _har(_ENTRY, broken).replace(b"SURROGATE", b"\\udc00")
    got = _fast(document)
    assert got == _ijson(document)
    assert [type(item).__name__ for item in got] == ["InputProblem", "WireMessage"]
    problem = got[0]
    assert problem.message.startswith("t.har: entry 1 holds a \\u escape of a lone surrogate")
    assert "cut short" not in problem.message
    assert not problem.fatal  # the first entry was read
    assert _fast(_har(broken).replace(b"SURROGATE", b"\\udc00"))[0].fatal


def test_a_file_that_is_not_json_is_said_so_and_nothing_else() -> None:
    got = _fast(b'{"log": nope')
    assert got == _ijson(b'{"log": nope')
    assert got == [
        InputProblem(
            "t.har is not valid JSON (lexical error: invalid string in json text, near "
            "'{\"log\": nope'); expected a HAR file (File > Save all as HAR)",
            "t.har",
            fatal=True,
        )
    ]


def test_bytes_that_are_not_utf8_are_said_as_text_with_where() -> None:
    """yajl gives its complaint as bytes when the text there is not UTF-8: it was shown as a
    Python bytes literal, newlines and all; and it is no cut file."""
    document = _har(_ENTRY).replace(b'"entries"', b'"entr\xa7es"')
    [problem] = _fast(document)
    assert problem.message == (
        "t.har is not valid JSON (lexical error: invalid bytes in UTF8 string, near "
        '\'{"log":{"version":"1.2","entr\\xa7es":[{"startedDateTime": "2024\'); expected a '
        "HAR file (File > Save all as HAR)"
    )
    assert problem.fatal


@pytest.mark.parametrize(
    "document",
    [b'{"log":{"entries":{"a":1}}}', b'{"log":{"entries":[]}}', b'{"log":{}}', b"[1, 2]"],
)
def test_entries_that_are_not_a_list_are_no_entries(document: bytes) -> None:
    got = _fast(document)
    assert got == _ijson(document)
    assert got == [InputProblem("t.har: no entries in log.entries", "t.har", fatal=True)]


def test_an_entry_that_is_not_an_object_is_said_at_its_index() -> None:
    document = _har(_ENTRY, [1, 2], _ENTRY)
    got = _fast(document)
    assert got == _ijson(document)
    assert InputProblem("entry 1 is not an object", "t.har entry 1") in got


@pytest.mark.parametrize(
    "number",
    ["9223372036854775808", "-9223372036854775808", "18446744073709551616", "1" * 40],
)
def test_an_integer_ijson_refuses_is_refused_where_ijson_refuses_it(number: str) -> None:
    """orjson reads integers beyond 64 bits (as floats past 2**64); ijson refuses them."""
    big = {**_ENTRY, "time": "@"}
    document = _har(_ENTRY, big).replace(b'"@"', number.encode())
    got = _fast(document)
    assert got == _ijson(document)
    [problem] = [item for item in got if isinstance(item, InputProblem)]
    assert "(parse error: integer overflow, near " in problem.message and not problem.fatal
    assert sum(isinstance(item, WireMessage) for item in got) == 1  # the entry before it


def test_a_long_number_in_a_string_or_in_range_stays_on_the_fast_path() -> None:
    entry = {**_ENTRY, "time": 9223372036854775807, "comment": "1" * 40}
    document = _har(_ENTRY, entry)
    assert _scanned(document)
    assert _fast(document) == _ijson(document)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.replace(b'"2"', b'"\xe9"'),  # not UTF-8
        lambda d: d.replace(b'"2"', b'"\\ud800"'),  # a lone surrogate (ijson: "?")
        lambda d: d.replace(b'"2"', b'"\\udc00"'),  # ijson raises UnicodeDecodeError
        lambda d: d.replace(b'"2"', b'"\x01"'),  # a control character in a string
        lambda d: d.replace(b"1704067201.5", b"1e400"),  # beyond a double
        lambda d: d.replace(b'"opcode"', b'\x0c"opcode"'),  # a blank only yajl takes
        lambda d: d + b"xx",  # something after the document
        lambda d: b"\xef\xbb\xbf" + d,  # a byte order mark
        lambda d: d.replace(b"]}}", b'], "entries": [' + json.dumps(_ENTRY).encode() + b"]}}"),
        lambda d: d.replace(b"]}}", b'], "pages": [{"a": 1}]}, "log": {"entr\\u0069es": [1]}}'),
    ],
)
def test_damage_the_scanner_leaves_to_ijson_is_said_as_ijson_says_it(damage: Any) -> None:
    document = damage(_har(_ENTRY, _ENTRY, _ENTRY))
    assert not _scanned(document)
    assert _fast(document) == _ijson(document)


# --- generated HARs: any layout, any key order, any strings -----------------------------------

_NASTY = st.text(st.sampled_from([*'{}[]",:\\/ \n\tab0é€😀\x00\x1f', "\u2028"]), max_size=12)
_TEXT = _NASTY | st.text(max_size=12)


def _layout_compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _layout_spaced(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _layout_pretty(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode()


def _layout_tabs(value: Any) -> bytes:
    return json.dumps(value, indent="\t").replace("\n", "\r\n").encode()


_LAYOUTS = [_layout_compact, _layout_spaced, _layout_pretty, _layout_tabs]


def _shuffled(draw: st.DrawFn, value: dict[str, Any]) -> dict[str, Any]:
    keys = draw(st.permutations(list(value)))
    return {key: value[key] for key in keys}


@st.composite
def _frames(draw: st.DrawFn) -> list[Any]:
    frames = []
    for _ in range(draw(st.integers(0, 5))):
        opcode = draw(st.sampled_from([1, 1, 1, 2, 8, 1.0]))
        data: Any = draw(_TEXT) if opcode != 2 else draw(st.sampled_from(["AQI=", "%%", ""]))
        frame = {
            "type": draw(st.sampled_from(["send", "receive"])),
            "time": draw(st.sampled_from([1.0, 1.0, 2.5, 0.5, 3, None])),
            "opcode": opcode,
            "data": data if draw(st.integers(0, 9)) else draw(st.integers(-5, 5)),
        }
        frames.append(_shuffled(draw, frame))
    return frames


@st.composite
def _entries(draw: st.DrawFn, shuffle: bool) -> Any:
    kind = draw(st.sampled_from(["websocket", "polling", "page"] * 3 + ["odd"]))
    if kind == "odd":
        return draw(st.sampled_from([1, "x", None, [], {}, {"request": []}]))
    sid = draw(st.sampled_from(["", "&sid=a", "&sid=b"]))
    transport = "websocket" if kind == "websocket" else "polling"
    query = f"EIO={draw(st.sampled_from(['3', '4']))}&transport={transport}{sid}"
    url = "http://h/page" if kind == "page" else f"http://h/socket.io/?{query}"
    text = draw(_TEXT)
    request = {
        "method": draw(st.sampled_from(["GET", "POST", "get"])),
        "url": url,
        "headers": [{"name": draw(_TEXT), "value": draw(_TEXT)}],
        "postData": {"mimeType": "text/plain", "text": text},
    }
    response = {
        "status": draw(st.sampled_from([200, 400, 500.0, "200"])),
        "content": {"mimeType": "text/plain", "text": draw(_TEXT), "size": 3},
    }
    entry = {
        "startedDateTime": draw(
            st.sampled_from(["2024-01-01T00:00:01.000Z", "2024-01-01T00:00:02.5Z", "x"])
        ),
        "time": draw(st.sampled_from([1.5, 0, 2000])),
        "_initiator": {"type": "script", "stack": {"callFrames": [{"url": draw(_TEXT)}]}},
        "request": _shuffled(draw, request),
        "response": _shuffled(draw, response),
        "comment": draw(_TEXT),
    }
    if draw(st.booleans()):  # objects laid out as entries are, inside an entry
        entry["_like"] = [{"startedDateTime": draw(_TEXT)}, {"startedDateTime": "}]},{"}]
    if kind == "websocket":
        entry["_webSocketMessages"] = draw(_frames())
    return _shuffled(draw, entry) if shuffle else entry


@st.composite
def _documents(draw: st.DrawFn) -> bytes:
    log: dict[str, Any] = {
        "version": "1.2",
        "creator": {"name": draw(_TEXT), "version": "1"},
        "pages": [{"id": "page_1", "title": draw(_TEXT), "pageTimings": {}}],
        "entries": draw(st.lists(_entries(shuffle=draw(st.booleans())), min_size=1, max_size=8)),
    }
    document = {"log": _shuffled(draw, log)}
    if draw(st.booleans()):  # entries elsewhere are not log.entries
        document = _shuffled(draw, {**document, "comment": {"entries": [draw(_TEXT)]}})
    return draw(st.sampled_from(_LAYOUTS))(document)


@given(_documents())
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_generated_har_reads_the_same_both_ways(document: bytes) -> None:
    assert _fast(document) == _ijson(document)


@given(_documents(), st.randoms(use_true_random=False))
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_generated_har_reads_the_same_both_ways(
    document: bytes, rng: random.Random
) -> None:
    at = rng.randrange(len(document))
    damage = rng.choice(
        [
            document[:at],  # cut short
            document[:at] + b"\xff" + document[at:],  # not UTF-8
            document[:at] + document[at + 1 :],  # a byte lost
            document[:at] + b"12345678901234567890" + document[at:],  # a long number
            document[:at] + b'"' + document[at:],  # a quote too many
            document[:at] + b"}" + document[at:],
            document.replace(b"2000", b"99999999999999999999"),  # an integer beyond 64 bits
        ]
    )
    assert _fast(damage) == _ijson(damage)


# --- the parts the scanner's speed rests on ---------------------------------------------------

_QUERY_KEYS = ("transport", "EIO", "sid", "t")
_URL_CHARS = st.sampled_from(list("?&=#%+/:;[]@.~ \t\nEIOtransportsidwebsocketpolling34é"))


@given(st.text(_URL_CHARS, max_size=40) | st.text(max_size=20))
@settings(max_examples=500)
def test_the_quick_query_reading_is_urllibs(url: str) -> None:
    try:
        expected: Any = RequestQuery(*(urllib_query(url).get(k) for k in _QUERY_KEYS))
    except ValueError as exc:  # urlsplit refuses some URLs (IPv6 brackets): so does it
        expected = type(exc)
    try:
        got: Any = RequestQuery.of(url)
    except ValueError as exc:
        got = type(exc)
    assert got == expected


@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from([None, 0.0, 1.0, 1.5, 2.0, 3.0]), max_size=6),
            st.sampled_from([None, 0.0, 1.0, 1.5, 2.0, 2.5]),
        ),
        max_size=8,
    )
)
@settings(max_examples=300)
def test_the_time_merge_releases_what_a_plain_sort_would(steps: list[Any]) -> None:
    """At each step, the messages held up to the time given, by time, ties in file order
    (the order messages were added): a sort of what is held, which the heap of runs must
    give without sorting everything each time."""
    merge = har._TimeMerge()
    held: list[tuple[float, int, WireMessage]] = []
    added = 0
    for times, time in steps:
        expected = sorted(item for item in held if time is None or item[0] <= time)
        held = [item for item in held if not (time is None or item[0] <= time)]
        assert merge.until(time) == [message for _, _, message in expected]
        messages = [WireMessage(str(added + n), time=t) for n, t in enumerate(times)]
        held += [(m.time or 0.0, added + n, m) for n, m in enumerate(messages)]
        added += len(messages)
        merge.add(messages)
    assert merge.until(None) == [message for _, _, message in sorted(held)]
