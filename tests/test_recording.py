"""Recordings: written as they happen, secrets redacted, read back by decode and replay."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siocli.protocol.types import Direction, Transport
from siocli.recording import (
    FORMAT,
    REDACTED,
    RecordingError,
    RecordingWriter,
    load_recording,
    read_recording,
    redact_headers,
    redact_message,
    redact_url,
)
from siocli.wire import InputProblem, WireMessage

from .realservers import RunningServer
from .strategies import any_json, or_junk

C2S, S2C = Direction.C2S, Direction.S2C
WS, POLL = Transport.WEBSOCKET, Transport.POLLING


@pytest.mark.parametrize(
    ("data", "transport", "eio", "expected"),
    [
        ('40{"token":"abc123456"}', WS, 4, '40{"token":"[redacted]"}'),
        (
            '40/admin,{"token":"abc","n":1}',
            WS,
            4,
            '40/admin,{"token":"[redacted]","n":"[redacted]"}',
        ),
        ("40/admin?token=abc&x=1,", WS, 3, "40/admin?token=[redacted]&x=[redacted],"),
        ('42["hi"]\x1e40{"k":"v"}', POLL, 4, '42["hi"]\x1e40{"k":"[redacted]"}'),
        ("28:40/admin?token=secret-token,", POLL, 3, "26:40/admin?token=[redacted],"),
        ('42["hi",{"token":"x"}]', WS, 4, '42["hi",{"token":"x"}]'),  # only CONNECT payloads
    ],
)
def test_client_auth_payloads_are_redacted(
    data: str, transport: Transport, eio: int, expected: str
) -> None:
    assert redact_message(data, C2S, transport, eio)[0] == expected


def test_a_secret_the_server_echoes_is_redacted_too() -> None:
    secrets: set[str] = set()
    redact_message('40/admin,{"token":"secret-token"}', C2S, WS, 4, secrets)
    echoed, changed = redact_message('43/admin,0[{"token":"secret-token"}]', S2C, WS, 4, secrets)
    assert changed and echoed == '43/admin,0[{"token":"[redacted]"}]'
    untouched = '42["secret"]'
    assert redact_message(untouched, S2C, WS, 4, secrets) == (untouched, False)


def test_headers_and_urls() -> None:
    assert redact_headers({"Cookie": "a=b", "Set-Cookie": "io=abc; Path=/", "X-Trace": "1"}) == {
        "Cookie": REDACTED,
        "Set-Cookie": "io=[redacted]; Path=/",
        "X-Trace": "1",
    }
    assert redact_url("http://h/x?access_token=s3cr3t&room=a") == (
        "http://h/x?access_token=[redacted]&room=a"
    )


def test_writer_holds_lines_until_the_revision_is_known_then_flushes_each() -> None:
    out = io.StringIO()
    writer = RecordingWriter(out, "http://h", {"path": "/socket.io/"})
    writer.message(WireMessage('96:0{"sid":"s"}', S2C, POLL, 100.0))
    assert out.getvalue() == ""
    writer.opened(3)
    writer.message(WireMessage(b"\x01\x02", C2S, WS, 100.5))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["format"] == "siocli-recording" and lines[0]["eio"] == 3
    assert lines[1] == {"t": 0.0, "dir": "s2c", "transport": "polling", "text": '96:0{"sid":"s"}'}
    assert lines[2] == {"t": 0.5, "dir": "c2s", "transport": "websocket", "b64": "AQI="}


def write(path: Path, *lines: object) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


HEADER = {"format": "siocli-recording", "version": 1, "eio": 4, "url": "http://h"}


def test_a_cut_last_line_is_reported_not_fatal(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.jsonl",
        HEADER,
        {"t": 0, "dir": "s2c", "text": "40"},
        '{"t": 0.1, "dir": "c2s", "te',
    )
    items = list(read_recording(iter(path.read_text().splitlines()), "r.jsonl"))
    assert isinstance(items[0], WireMessage) and items[0].data == "40"
    assert isinstance(items[1], InputProblem) and items[1].code == "recording.truncated"
    assert "last line (3)" in items[1].message and not items[1].fatal


@given(
    st.sampled_from([("dir", ("c2s", "s2c")), ("transport", ("polling", "websocket"))]),
    any_json,
)
def test_a_bad_direction_or_transport_names_the_line_and_what_is_accepted(
    field: tuple[str, tuple[str, ...]], value: Any
) -> None:
    key, accepted = field
    line = {"t": 0, "dir": "s2c", "transport": "websocket", "text": "40", key: value}
    [item] = read_recording(iter([json.dumps(HEADER), json.dumps(line)]), "r.jsonl")
    if value in accepted or (key == "dir" and value is None):  # null: no direction known
        assert isinstance(item, WireMessage)
        return
    assert isinstance(item, InputProblem) and item.source == "r.jsonl:2"
    expected = " or ".join(f'"{v}"' for v in accepted)
    shown = json.dumps(value)[:60]
    assert item.message == f'line 2: "{key}" is {shown}; expected {expected}'


@pytest.mark.parametrize(
    ("first", "words"),
    [
        ({"format": "siocli-recording", "version": 9}, "newer than this siocli reads"),
        ({"format": "other"}, "not a siocli recording"),
        ("not json", "not JSON"),
    ],
)
def test_unreadable_recordings_name_file_and_line(
    tmp_path: Path, first: object, words: str
) -> None:
    path = write(tmp_path / "bad.jsonl", first)
    with pytest.raises(RecordingError) as info:
        load_recording(str(path))
    assert words in str(info.value) and "bad.jsonl" in str(info.value)


def test_record_then_decode(server: RunningServer, tmp_path: Path) -> None:
    record = tmp_path / "s.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "siocli",
            "emit",
            server.url + "/admin",
            "hello",
            "1",
            "--ack",
            "--auth",
            '{"token": "secret-token"}',
            "--record",
            str(record),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = record.read_text(encoding="utf-8")
    assert "secret-token" not in text and REDACTED in text
    recording = load_recording(str(record))
    assert recording.eio == server.eio
    assert recording.events[-1]["type"] == "close"
    decoded = subprocess.run(
        [sys.executable, "-m", "siocli", "decode", "--json", str(record)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    records = [json.loads(line) for line in decoded.stdout.splitlines()]
    assert any(r.get("event") == "hello" and r["dir"] == "c2s" for r in records)
    assert all("error" not in r for r in records)


def test_a_killed_recorder_loses_nothing_it_saw(tmp_path: Path) -> None:
    from .realservers import run_server

    record = tmp_path / "killed.jsonl"
    with run_server("node4", pingInterval=300, pingTimeout=500) as server:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "siocli",
                "listen",
                server.url,
                "--record",
                str(record),
                "--emit",
                'burst {"n": 5}',
                "-q",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if record.exists() and record.read_text(encoding="utf-8").count('\\"tick\\"') >= 5:
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(5)
    recording = load_recording(str(record))
    texts = [m.data for m in recording.messages if isinstance(m.data, str)]
    assert sum(text.count('["tick",') for text in texts) == 5
    assert recording.problems == []


# --- a hand-edited recording is refused or read, never crashed on -----------------------------

_HANDSHAKE = '0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1}'


@st.composite
def _headers(draw: st.DrawFn) -> dict[str, Any]:
    options = {
        "path": draw(or_junk("/socket.io/")),
        "transport": draw(or_junk("websocket")),
        "namespaces": draw(or_junk([])),
        "auth": draw(any_json),
        "headers": draw(or_junk({"X-Team": "a"})),
        "query": draw(or_junk({})),
    }
    return {
        "format": FORMAT,
        "version": 1,
        "url": draw(or_junk("http://127.0.0.1:1")),
        "eio": draw(or_junk(4)),
        "options": draw(or_junk(options)),
    }


def _messages(direction: str, texts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda t, way, text: {"t": t, "dir": way, "transport": "websocket", "text": text},
        or_junk(0.1),
        or_junk(direction),
        st.sampled_from(texts),
    )


_lines = st.one_of(
    _messages(
        "s2c", [_HANDSHAKE, "40", '40{"sid":"x"}', '42["a",1]', "431[2]", '44{"message":"no"}']
    ),
    _messages("c2s", ["40", '40{"token":"x"}', '421["b"]', "41"]),
    st.builds(lambda t, reason: {"t": t, "type": "close", "reason": reason}, any_json, any_json),
    any_json,
)


@given(_headers(), st.lists(_lines, max_size=8))
@settings(deadline=None)
def test_a_recording_of_any_shape_is_refused_or_ready_to_replay(
    header: dict[str, Any], lines: list[Any]
) -> None:
    from siocli.recorded_server import Script
    from siocli.replay import ReplayRun, _options_for

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "edited.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in [header, *lines]))
        try:
            recording = load_recording(str(path))
        except RecordingError as exc:
            assert str(exc).startswith(f"{path}:1")  # a header problem names its line
            return
        options = _options_for(recording, ReplayRun((str(path),)))
        # a revision 4 recording replays with --eio auto (None: follow a 2.x server down)
        assert options.connect.eio == (None if recording.eio == 4 else 3)
        assert all(isinstance(v, str) for _, v in options.connect.headers)
        Script(recording)  # what replay --serve plays
