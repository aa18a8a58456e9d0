"""decode on captures of real sessions (tests/data/captures, made by tests/captures/capture.js
from python-socketio, socket.io 4.x and 2.x servers driven by the real clients)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from siocli.captures.har import read_har
from siocli.cli import cli
from siocli.exit import CommandError, ExitStatus
from siocli.protocol import engineio
from siocli.wire import InputProblem, WireMessage

from .strategies import any_json, or_junk

CAPTURES = Path(__file__).parent / "data" / "captures"
GOLDEN = Path(__file__).parent / "golden"
NAMES = sorted(p.name.removesuffix(".wire.json") for p in CAPTURES.glob("*.wire.json"))
EXPECTED_FINDINGS = {  # what the real servers do that siocli reports (beyond test settings)
    "psio": {"sio.event-before-connect"},  # python-socketio emits before answering CONNECT
}


def decode_json(path: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["decode", "--json", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def truth(name: str) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    """(wire.json, [(dir, transport, raw Engine.IO packet)]) from the raw TCP streams."""
    wire = json.loads((CAPTURES / f"{name}.wire.json").read_text(encoding="utf-8"))
    packets = []
    for message in wire["messages"]:
        data: str | bytes = message["text"] if "text" in message else bytes.fromhex(message["hex"])
        if message["transport"] == "polling":
            pieces = [piece for _, piece in engineio.split_payload(data, wire["eio"])]
        else:
            pieces = [data]
        for piece in pieces:
            raw = piece if isinstance(piece, str) else {"$binary": base64.b64encode(piece).decode()}
            packets.append((message["dir"], message["transport"], raw))
    return wire, packets


def assert_same_streams(
    got: list[tuple[str, str, Any]], packets: list[tuple[str, str, Any]]
) -> None:
    """Each stream (a direction on a transport) in exact order; across streams a HAR's
    millisecond clock cannot order what happened within the same millisecond."""
    for stream in {(d, t) for d, t, _ in packets}:
        assert [p for p in got if p[:2] == stream] == [p for p in packets if p[:2] == stream]
    assert len(got) == len(packets)


@pytest.mark.parametrize("name", NAMES)
def test_chrome_har_gives_every_packet_in_order(name: str) -> None:
    wire, packets = truth(name)
    records = decode_json(CAPTURES / f"{name}.chrome.har")
    messages = [r for r in records if r["index"] is not None]
    assert_same_streams([(r["dir"], r["transport"], r["raw"]) for r in messages], packets)
    assert all("error" not in r for r in records)
    assert {r["eio"] for r in messages} == {wire["eio"]}
    times = [r["time"] for r in messages]
    assert times == sorted(times) and times[0] == 0


@pytest.mark.parametrize("name", NAMES)
def test_findings_on_real_sessions_are_the_known_ones(name: str) -> None:
    records = decode_json(CAPTURES / f"{name}.chrome.har")
    codes = {f["code"] for r in records for f in r["findings"]}
    codes.discard("eio.ping-timeout-not-default")  # the servers run with short heartbeats
    wire = json.loads((CAPTURES / f"{name}.wire.json").read_text(encoding="utf-8"))
    expected = set(EXPECTED_FINDINGS.get(name.split("-")[0], set()))
    if wire["http_errors"]:
        expected.add("http.error")  # python-engineio answers the GET pending at close 400
    if name == "psio-upgrade":
        expected.add("eio.noop-over-websocket")  # python-engineio sends 6 after the upgrade
    assert codes == expected


@pytest.mark.parametrize("name", [n for n in NAMES if "websocket" not in n])
def test_firefox_har_same_polling_packets(name: str) -> None:
    _, packets = truth(name)
    records = decode_json(CAPTURES / f"{name}.firefox.har")
    polling = [(r["dir"], r["transport"], r["raw"]) for r in records if r["transport"] == "polling"]
    expected = [p for p in packets if p[1] == "polling"]
    if name == "node2-polling":  # Firefox replaced the binary POST's bytes with U+FFFD
        assert any(r.get("error", {}).get("layer") == "input" for r in records)
        # the attachments were in that POST: the export lost them, the peers did not; the
        # server's BINARY_ACK answers the event the client sent (the Chrome HAR's checks)
        codes = [f["code"] for r in records for f in r["findings"]]
        assert "input.attachments-lost" in codes
        assert not {"sio.attachments-missing", "sio.ack-unknown"} & set(codes), codes
        return
    assert_same_streams(polling, expected)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if "websocket" not in n and n != "node2-polling"]
)
def test_firefox_har_orders_the_polling_packets_as_chrome_does(name: str) -> None:
    """Firefox writes whole milliseconds: a poll's answer and a POST started in the same
    one tie. An answer may be caused by that POST (its ACK, the noop that releases the
    poll at a close), never the reverse within one instant: the POST goes first, as
    Chrome's finer times show. (node2-polling: Firefox damaged its binary POST.)"""

    def polling(path: Path) -> list[tuple[str, object]]:
        return [(r["dir"], r["raw"]) for r in decode_json(path) if r["transport"] == "polling"]

    firefox = CAPTURES / f"{name}.firefox.har"
    assert polling(firefox) == polling(CAPTURES / f"{name}.chrome.har")
    codes = {f["code"] for r in decode_json(firefox) for f in r["findings"]}
    assert not {"sio.ack-unknown", "sio.ack-unanswered"} & codes


def test_firefox_har_without_websocket_frames_says_so() -> None:
    result = CliRunner().invoke(cli, ["decode", str(CAPTURES / "node4-websocket.firefox.har")])
    # nothing in it could be decoded (exit 2, as siocli.cli.main reports it)...
    assert isinstance(result.exception, CommandError), result.exception
    assert result.exception.status is ExitStatus.USAGE
    assert "Firefox exports none" in result.stdout  # ...and why


@pytest.mark.parametrize("name", NAMES)
def test_transcript_gives_every_packet(name: str) -> None:
    _, packets = truth(name)
    records = decode_json(CAPTURES / f"{name}.txt")
    assert all("error" not in r for r in records)
    got = sorted(
        (r["dir"], r["transport"], json.dumps(r["raw"])) for r in records if r["index"] is not None
    )
    assert got == sorted((d, t, json.dumps(raw)) for d, t, raw in packets)


@pytest.mark.parametrize("name", ["node4-upgrade", "node2-polling", "psio-websocket"])
def test_terminal_view_of_real_sessions_is_pinned(name: str) -> None:
    from .test_decode_cli import assert_golden, run

    code, out, _ = run(str(CAPTURES / f"{name}.chrome.har"))
    assert code == 0
    assert_golden(f"{name}.chrome.txt", out.replace(str(CAPTURES) + "/", ""))


# --- a HAR of any shape is read, never crashed on ---------------------------------------------


@st.composite
def _har_entries(draw: st.DrawFn) -> Any:
    transport = draw(st.sampled_from(["polling", "websocket"]))
    url = f"http://h/socket.io/?EIO={draw(st.sampled_from(['3', '4']))}&transport={transport}"
    content = {"text": draw(or_junk("0{}")), "encoding": draw(or_junk("base64"))}
    frame = {
        "type": draw(or_junk("send")),
        "opcode": draw(or_junk(1)),
        "data": draw(or_junk('42["a"]')),
        "time": draw(or_junk(1.5)),
    }
    return {
        "startedDateTime": draw(or_junk("2024-01-01T00:00:00.000Z")),
        "time": draw(or_junk(12.5)),
        "request": draw(
            or_junk({"method": draw(or_junk("POST")), "url": url, "postData": content})
        ),
        "response": draw(or_junk({"status": draw(or_junk(200)), "content": content})),
        "_webSocketMessages": draw(or_junk([frame])),
    }


@given(st.lists(_har_entries() | any_json, max_size=4))
@settings(deadline=None)
def test_a_har_of_any_shape_gives_messages_or_problems(entries: list[Any]) -> None:
    document = json.dumps({"log": {"entries": entries}}).encode()
    for item in read_har(io.BytesIO(document), "fuzz.har"):
        assert isinstance(item, (WireMessage, InputProblem))


def test_a_text_body_stored_as_base64_stays_text() -> None:
    body = '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}\x1e40'
    content = {
        "mimeType": "text/plain; charset=UTF-8",
        "encoding": "base64",
        "text": base64.b64encode(body.encode()).decode(),
    }
    entry = {
        "startedDateTime": "2024-01-01T00:00:00.000Z",
        "request": {"method": "GET", "url": "http://h/socket.io/?EIO=4&transport=polling"},
        "response": {"status": 200, "content": content},
    }
    document = json.dumps({"log": {"entries": [entry]}}).encode()
    [message] = list(read_har(io.BytesIO(document), "b64.har"))
    assert isinstance(message, WireMessage) and message.data == body
    binary = {**content, "mimeType": "application/octet-stream"}  # an Engine.IO 3 payload
    entry["response"] = {"status": 200, "content": binary}
    document = json.dumps({"log": {"entries": [entry]}}).encode()
    [message] = list(read_har(io.BytesIO(document), "b64.har"))
    assert message.data == body.encode()


def test_forcing_another_revision_than_the_har_urls_say_is_said_once_per_session() -> None:
    def codes(eio: int | None) -> list[str]:
        with (CAPTURES / "node4-polling.chrome.har").open("rb") as har:
            return [i.code for i in read_har(har, "h.har", eio=eio) if isinstance(i, InputProblem)]

    assert codes(3).count("input.eio-forced") == 1
    assert "input.eio-forced" not in codes(None) + codes(4)


@settings(max_examples=200)
@given(
    st.lists(
        st.lists(st.integers(0, 6), min_size=1, max_size=5),  # one WebSocket entry's frame times
        min_size=1,
        max_size=4,
    )
)
def test_har_frames_come_in_time_order_ties_in_file_order(entries: list[list[int]]) -> None:
    """Without start times, nothing is released early: the messages of all entries are one
    list sorted by time, stably (frames out of order within an entry included)."""
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "method": "GET",
                        "url": f"http://h/socket.io/?EIO=4&transport=websocket&sid=s{n}",
                    },
                    "_webSocketMessages": [
                        {"type": "receive", "time": float(t), "opcode": 1, "data": f"42[{n},{i}]"}
                        for i, t in enumerate(times)
                    ],
                }
                for n, times in enumerate(entries)
            ]
        }
    }
    read = [m for m in read_har(io.BytesIO(json.dumps(har).encode()), "t.har")]
    assert all(isinstance(m, WireMessage) for m in read)
    in_file_order = [
        (float(t), f"42[{n},{i}]") for n, times in enumerate(entries) for i, t in enumerate(times)
    ]
    expected = sorted(in_file_order, key=lambda pair: pair[0])
    assert [(m.time, m.data) for m in read if isinstance(m, WireMessage)] == expected


def test_a_binary_har_frame_that_is_not_base64_is_said_not_guessed() -> None:
    """b64decode drops what is not base64 unless told to validate: junk must not become
    other bytes (here, none at all)."""
    har = {
        "log": {
            "entries": [
                {
                    "request": {"url": "http://h/socket.io/?EIO=4&transport=websocket&sid=s"},
                    "_webSocketMessages": [
                        {"type": "receive", "time": 1.0, "opcode": 2, "data": "%%%%"},
                        {"type": "receive", "time": 2.0, "opcode": 2, "data": "AQI="},
                    ],
                }
            ]
        }
    }
    read = list(read_har(io.BytesIO(json.dumps(har).encode()), "t.har"))
    assert [type(item).__name__ for item in read] == ["InputProblem", "WireMessage"]
    problem, message = read
    assert isinstance(problem, InputProblem) and "not base64" in problem.message
    assert problem.source == "t.har entry 0 frame 0"
    assert isinstance(message, WireMessage) and message.data == b"\x01\x02"
