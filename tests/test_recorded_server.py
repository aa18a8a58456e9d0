"""``siocli replay RECORDING --serve``: the recorded server, played to real clients.

The sans-I/O :class:`~siocli.recorded_server.Playback` is checked step by step on the example
recordings; the command is checked with the real clients — socket.io-client 4.x and 2.x
(Node) and python-socketio — over polling, WebSocket and the upgrade, including a session
recorded against python-socketio and played to the Node client.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from siocli.protocol.server import Refusal
from siocli.protocol.types import Direction
from siocli.recorded_server import Playback, Script
from siocli.recording import Recording, load_recording
from siocli.replay import Step, StepResult

from . import realservers
from .realservers import ROOT, python_client, run_server

RECORDINGS = ROOT / "recordings"
CLIENTS = ROOT / "tests" / "clients"
TRANSPORTS = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": None}


def load(name: str) -> Recording:
    return load_recording(str(RECORDINGS / f"{name}.jsonl"))


def results(playback: Playback) -> list[tuple[int, bool, str]]:
    return [(r.step.number, r.ok, r.message) for r in playback.take_new_results()]


def played(plays: list[Any]) -> list[tuple[int, str, Any]]:
    return [(p.step.number, p.step.kind, p.step.name) for p in plays]


# --- the playback, sans I/O ------------------------------------------------------------------


def as_recorded_node4(playback: Playback) -> None:
    """What the recorded client of node4-upgrade did, done again."""
    refusal, plays = playback.connect("/", None)
    assert refusal is None
    assert played(plays) == [(3, "event", "welcome")]
    playback.joined("/", "socket-1")
    assert played(playback.event("/", "hello", [1, "two", {"three": [3]}], 0)) == [(5, "ack", None)]
    assert played(playback.event("/", "binary", [b"\x01\x02"], 1)) == [(7, "ack", None)]
    assert played(playback.event("/", "echo", [b"\x01\x02\x03", "text"], None)) == [
        (9, "event", "echo")
    ]
    (question,) = playback.event("/", "ask", [7], None)
    assert (question.step.name, question.step.ack_id) == ("question", 0)
    playback.asked_ack(question.step, "/", 3)  # the mock asked with its own id
    assert played(playback.ack("/", 3, ["yes", b"\x07"])) == [(13, "event", "answered")]


def test_a_client_doing_what_was_recorded_passes_every_step() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    as_recorded_node4(playback)
    refusal, plays = playback.connect("/admin", {"token": "secret-token"})
    assert refusal is None
    assert played(plays) == [(16, "event", "welcome")]
    playback.joined("/admin", "socket-2")
    assert played(playback.event("/admin", "whoami", [], 0)) == [(18, "ack", None)]
    assert played(playback.event("/admin", "what-time", [], None)) == [(20, "event", "clock")]
    playback.left("/admin")
    playback.left("/")
    report = playback.end()
    assert report.ok, [r.message for r in report.results if not r.ok]
    assert [r.step.number for r in report.results] == [1, 4, 6, 8, 10, 12, 14, 17, 19, 21, 22]


def test_server_acks_answer_the_clients_own_ack_ids() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    playback.connect("/", None)
    (ack,) = playback.event("/", "hello", [1, "two", {"three": [3]}], 41)
    assert playback.client_ack_id(ack.step) == 41  # recorded with id 0


def test_recorded_session_ids_are_replaced_by_the_actual_ones() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    _, (welcome,) = playback.connect("/", None)
    playback.joined("/", "the-new-socket-id")
    assert playback.outgoing(welcome.step.args) == [{"sid": "the-new-socket-id", "nsp": "/"}]
    # Socket.IO 2.x socket ids are '/nsp#<engine sid>': the engine sid is replaced inside
    v2 = Playback(Script(load("node2-polling")), 1, "ENGINE", fast=True)
    v2.connect("/", {})
    welcome = next(s for s in v2.script.steps if s.namespace == "/admin" and s.name == "welcome")
    assert v2.outgoing(welcome.args)[0]["sid"] == "/admin#ENGINE"


def test_an_ack_recorded_after_the_next_event_still_answers_its_event() -> None:
    # node2-polling: the client sent 'binary' and 'echo' in one POST; the server's ACK to
    # 'binary' was recorded after 'echo'. A client that waits for the ACK must still get it.
    playback = Playback(Script(load("node2-polling")), 1, "engine-1", fast=True)
    _, plays = playback.connect("/", {})
    assert played(plays) == [(2, "event", "welcome")]
    playback.event("/", "hello", [1, "two", {"three": [3]}], 0)
    assert played(playback.event("/", "binary", [b"\x01\x02"], 1)) == [(7, "ack", None)]
    assert played(playback.event("/", "echo", [b"\x01\x02\x03", "text"], None)) == [
        (8, "event", "echo")
    ]


def test_other_args_are_a_divergence_with_what_differs() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    playback.connect("/", None)
    playback.take_new_results()
    plays = playback.event("/", "hello", [1, "two", {"three": [4]}], 0)
    assert played(plays) == [(5, "ack", None)]  # still answered: the client can go on
    ((number, ok, message),) = results(playback)
    assert (number, ok, message) == (4, False, "differs from the recording")
    diff = playback.results[-1].diff()
    assert "-        3" in diff and "+        4" in diff


def test_an_event_without_the_recorded_ack_request_differs() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    playback.connect("/", None)
    playback.event("/", "hello", [1, "two", {"three": [3]}], None)
    result = playback.results[-1]
    assert not result.ok
    assert (result.expected["ack"], result.actual["ack"]) == (True, False)


def test_another_order_within_a_namespace_is_reported() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    playback.connect("/", None)
    playback.event("/", "binary", [b"\x01\x02"], 0)
    result = playback.results[-1]
    assert (result.step.number, result.ok) == (6, False)
    assert result.message.startswith("out of order: the recorded client did step 4")


def test_what_the_recording_never_had_is_unexpected() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    playback.connect("/", None)
    assert playback.event("/", "surprise", [1], None) == []
    (unexpected,) = playback.unexpected
    assert unexpected.step.label() == '> event / "surprise"'
    assert unexpected.message == "not in the recording"
    with pytest.raises(KeyError):  # answered "Invalid namespace", as the reference does
        playback.connect("/elsewhere", None)
    assert playback.unexpected[-1].step.label() == "> connect /elsewhere"


def test_steps_never_done_fail_at_the_end() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    playback.connect("/", None)
    report = playback.end(left=False)  # the mock was stopped with the session open
    assert not report.ok
    missing = [r.step.number for r in report.results if r.message == "the client never did this"]
    assert missing == [4, 6, 8, 10, 12, 14, 17, 19, 21, 22]


def test_closing_the_connection_stands_for_the_last_disconnects() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    as_recorded_node4(playback)
    report = playback.end(left=True)  # the client closed without DISCONNECT packets
    by_number = {r.step.number: (r.ok, r.message) for r in report.results}
    assert by_number[22] == (True, "left by closing the connection")
    # /admin was never joined: closing leaves nothing there, its disconnect was never done
    assert by_number[21] == (False, "the client never did this")
    assert by_number[14] == (False, "the client never did this")


def test_a_redacted_auth_accepts_any_value_and_hides_it() -> None:
    playback = Playback(Script(load("node4-upgrade")), 1, "engine-1", fast=True)
    as_recorded_node4(playback)
    playback.connect("/admin", {"token": "whatever-the-client-has"})
    assert playback.results[-1].ok
    # the same secret in args later is shown redacted, as the recording has it
    (ack,) = playback.event("/admin", "whoami", ["whatever-the-client-has"], 0)
    assert playback.results[-1].actual["args"] == ["[redacted]"]
    # what the server echoed of it is played back with the client's value, not the marker
    assert ack.step.args == [{"token": "[redacted]"}]
    assert playback.outgoing(ack.step.args) == [{"token": "whatever-the-client-has"}]


def recording_file(tmp_path: Path, frames: list[tuple[str, str]], eio: int = 4) -> Recording:
    """A recording of WebSocket frames (direction, text), as siocli writes them."""
    header = {"format": "siocli-recording", "version": 1, "url": "http://127.0.0.1:1", "eio": eio}
    lines = [json.dumps(header)]
    lines += [
        json.dumps({"t": i / 100, "dir": d, "transport": "websocket", "text": text})
        for i, (d, text) in enumerate(frames)
    ]
    path = tmp_path / "made.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return load_recording(str(path))


def test_a_recorded_connect_error_is_given_again(tmp_path: Path) -> None:
    recording = recording_file(
        tmp_path,
        [
            ("s2c", '0{"sid":"E","upgrades":[],"pingInterval":300,"pingTimeout":200}'),
            ("c2s", "40"),
            ("s2c", '40{"sid":"S"}'),
            ("c2s", '40/admin,{"token":"wrong"}'),
            ("s2c", '44/admin,{"message":"not authorized","data":{"code":42}}'),
            ("c2s", '40/admin,{"token":"right"}'),
            ("s2c", '40/admin,{"sid":"A"}'),
        ],
    )
    script = Script(recording)
    assert script.handshake is not None and script.handshake.ping_interval == 300
    playback = Playback(script, 1, "engine-1", fast=True)
    assert playback.connect("/", None) == (None, [])
    refusal, _ = playback.connect("/admin", {"token": "wrong"})
    assert refusal == Refusal("not authorized", {"code": 42})
    assert playback.connect("/admin", {"token": "right"}) == (None, [])
    assert all(r.ok for r in playback.results)


def test_recorded_pacing_is_kept_unless_fast(tmp_path: Path) -> None:
    recording = recording_file(
        tmp_path,
        [
            ("s2c", '0{"sid":"E","upgrades":[],"pingInterval":300,"pingTimeout":200}'),
            ("c2s", "40"),
            ("s2c", '40{"sid":"S"}'),
            ("c2s", '42["subscribe"]'),
            ("s2c", '42["tick",1]'),
            ("s2c", '42["tick",2]'),
        ],
    )
    paced = Playback(Script(recording), 1, "e")
    paced.connect("/", None)
    assert [round(p.delay, 2) for p in paced.event("/", "subscribe", [], None)] == [0.01, 0.02]
    fast = Playback(Script(recording), 1, "e", fast=True)
    fast.connect("/", None)
    assert [p.delay for p in fast.event("/", "subscribe", [], None)] == [0.0, 0.0]


# --- the command, with real clients -----------------------------------------------------------


@contextmanager
def mock(recording: Path | str, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``siocli replay RECORDING --serve`` on a free port: (its URL, the process)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siocli",
            "replay",
            str(recording),
            "--serve",
            "--port",
            "0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        stream = process.stderr if "--json" in options else process.stdout
        assert stream is not None
        first = stream.readline()
        match = re.search(r'"?url"?[=:] ?"?(http://[0-9.:]+)', first)
        assert match, first + (process.stderr.read() if process.stderr else "")
        yield match.group(1), process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = process.communicate(timeout=20)
    return process.returncode, out


def node_client(version: int, url: str, **spec: Any) -> list[dict[str, Any]]:
    node = realservers.node()
    done = subprocess.run(
        [
            node,
            str(CLIENTS / "node_recorded_client.js"),
            json.dumps({**spec, "version": version, "url": url}),
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"type": "timeout"} not in records, records
    return records


def by_event(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['type']} {r.get('nsp', '/')} {r.get('event', '')}": r for r in records}


def sees_the_recorded_session(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Assert that a Node client (tests/clients) saw the session of recordings/record.sh
    played back; its records by event."""
    seen = by_event(records)
    connect = seen["connect / "]
    # the recorded welcome, carrying this session's socket id, not the recorded one
    assert seen["event / welcome"]["args"] == [{"sid": connect["id"], "nsp": "/"}]
    assert seen["ack / hello"]["args"] == ["hi", 1, "two", {"three": [3]}]
    assert seen["ack / binary"]["args"] == [{"$binary": "010203"}, {"nested": {"$binary": "0405"}}]
    assert seen["event / echo"]["args"] == [{"$binary": "010203"}, "text"]
    assert seen["event / answered"]["args"] == ["yes", {"$binary": "07"}]
    # recorded redacted; played back as the client's own token, which it sent
    assert seen["ack / whoami"]["args"] == [{"token": "secret-token"}]
    return seen


@pytest.mark.parametrize("transport", list(TRANSPORTS))
@pytest.mark.parametrize(
    ("version", "recording"),
    [(4, "node4-upgrade"), (4, "node4-websocket"), (2, "node2-polling"), (2, "node2-upgrade")],
)
def test_the_node_clients_get_the_recorded_server(
    version: int, recording: str, transport: str
) -> None:
    with mock(RECORDINGS / f"{recording}.jsonl", "--fast", "--strict", "--clients", "1") as (
        url,
        process,
    ):
        records = node_client(version, url, transports=TRANSPORTS[transport])
        status, out = finish(process)
    seen = sees_the_recorded_session(records)
    assert seen["event / clock"]["args"][0]["zone"] == "UTC"
    assert seen["transport / "]["name"] == ("polling" if transport == "polling" else "websocket")
    assert status == 0, out
    assert "PASS: 11/11 steps as recorded" in out or "PASS: 10/10 steps as recorded" in out


def test_a_client_that_diverges_is_reported_and_strict_fails() -> None:
    with mock(RECORDINGS / "node4-upgrade.jsonl", "--fast", "--strict", "--clients", "1") as (
        url,
        process,
    ):
        records = node_client(4, url, changed=True)
        status, out = finish(process)
    # a mock answers as recorded, whatever the question
    assert by_event(records)["ack / hello"]["args"] == ["hi", 1, "two", {"three": [3]}]
    assert status == 6, out
    assert '✗   4 > event / "hello": differs from the recording' in out
    assert "-        3" in out and "+        4" in out  # the diff of the args
    assert "FAIL: 10/11 steps as recorded" in out
    assert "1 client session(s): 0 as recorded, 1 diverged" in out


def test_without_strict_a_divergence_is_reported_but_exits_0_and_ctrl_c_reports(
    tmp_path: Path,
) -> None:
    junit = tmp_path / "mock.xml"
    options = ("--fast", "--json", "--junit", str(junit))
    with mock(RECORDINGS / "node4-websocket.jsonl", *options) as (url, process):
        node_client(4, url, transports=["websocket"], changed=True)
        process.send_signal(signal.SIGINT)  # the user stops the mock
        status, out = finish(process)
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    steps = [r for r in records if r["type"] == "step"]
    failed = [r for r in steps if not r["ok"]]
    assert [(r["step"], r["event"], r["message"]) for r in failed] == [
        (4, "hello", "differs from the recording")
    ]
    assert failed[0]["expected"]["args"][2] == {"three": [3]}
    assert failed[0]["actual"]["args"][2] == {"three": [4]}
    played = [r["step"] for r in records if r["type"] == "played"]
    assert 5 in played and 20 in played
    (end,) = [r for r in records if r["type"] == "client_end"]
    assert (end["ok"], end["as_recorded"], end["steps"]) == (False, 10, 11)
    (suite,) = ElementTree.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("11", "1")
    (failure,) = suite.iter("failure")
    assert failure.get("message") == "differs from the recording"


# --- a session recorded against python-socketio ---------------------------------------------

BASE_SCRIPT = """emit --ack hello 1 "two" {"three": [3]}
emit --ack binary hex:0102
emit echo b64:AQID text
wait echo
emit ask 7
wait question
ack last "yes" hex:07
wait answered
"""


@pytest.fixture(scope="module")
def psio_recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sessions recorded with siocli against python-socketio: without /admin, and with a
    refused /admin join."""
    folder = tmp_path_factory.mktemp("psio-recordings")
    made = {}
    with run_server("psio") as server:
        for name, script in (
            ("base", BASE_SCRIPT),
            ("refused", BASE_SCRIPT + 'join /admin {"token": "wrong"}\n'),
        ):
            path = folder / f"{name}.jsonl"
            done = subprocess.run(
                [sys.executable, "-m", "siocli", "connect", server.url, "--record", str(path)],
                input=script,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert done.returncode in (0, 4), done.stderr  # 4: the refused join
            made[name] = path
    return made


@pytest.mark.parametrize("transport", ["polling", "websocket", "auto"])
def test_the_python_client_gets_the_recorded_python_socketio_server(
    psio_recordings: dict[str, Path], transport: str
) -> None:
    with mock(psio_recordings["base"], "--fast", "--strict", "--clients", "1") as (url, process):
        records = python_client(url, transport)
        status, out = finish(process)
    seen = by_event(records)
    assert seen["event / welcome"]["args"] == [{"sid": seen["connect / "]["id"], "nsp": "/"}]
    assert seen["ack / hello"]["args"] == ["hi", 1, "two", {"three": [3]}]
    assert seen["ack / binary"]["args"] == [{"$binary": "010203"}, {"nested": {"$binary": "0405"}}]
    assert seen["event / answered"]["args"] == ["yes", {"$binary": "07"}]
    assert seen["transport / "]["name"] == ("polling" if transport == "polling" else "websocket")
    assert status == 0, out


def test_a_python_socketio_recording_played_to_the_node_client(
    psio_recordings: dict[str, Path],
) -> None:
    with mock(psio_recordings["refused"], "--fast", "--strict", "--clients", "1") as (
        url,
        process,
    ):
        records = node_client(4, url, adminToken="wrong")
        status, out = finish(process)
    seen = by_event(records)
    assert seen["ack / hello"]["args"] == ["hi", 1, "two", {"three": [3]}]
    # the recorded CONNECT_ERROR, message and data as python-socketio sent them
    refused = seen["connect_error /admin "]
    assert (refused["message"], refused["data"]) == ("not authorized", {"code": 42})
    assert status == 0, out


# --- bad use ----------------------------------------------------------------------------------


def siocli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "siocli", *args], capture_output=True, text=True, timeout=20
    )


def test_serve_takes_one_recording_and_no_url() -> None:
    rec = str(RECORDINGS / "node4-upgrade.jsonl")
    two = siocli("replay", rec, rec, "--serve")
    assert two.returncode == 2 and "--serve plays one recording" in two.stderr
    url = siocli("replay", rec, "--serve", "--url", "http://127.0.0.1:1")
    assert url.returncode == 2 and "siocli is the server" in url.stderr
    strict = siocli("replay", rec, "--strict", "--url", "http://127.0.0.1:1")
    assert strict.returncode == 2 and "--strict goes with --serve" in strict.stderr
    assert "Traceback" not in two.stderr + url.stderr + strict.stderr


def test_a_port_in_use_is_a_clear_error() -> None:
    with mock(RECORDINGS / "node4-upgrade.jsonl") as (url, _):
        port = url.rsplit(":", 1)[1]
        taken = siocli("replay", str(RECORDINGS / "node4-upgrade.jsonl"), "--serve", "--port", port)
    assert taken.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    assert "Traceback" not in taken.stderr


def test_step_results_render_like_replay() -> None:
    from siocli.render.replay import result_lines

    step = Step(4, Direction.C2S, 0.0, "event", "/", "hi")
    line = result_lines(StepResult(step, False, "differs", {"a": 1}, {"a": 2}), first="> ")
    assert line.startswith('> ✗   4 > event / "hi": differs\n')
    assert '-  "a": 1' in line


SIOCLI = (sys.executable, "-m", "siocli")


@pytest.mark.parametrize("as_json", [False, True])
def test_a_client_asking_for_eio_4_of_a_revision_3_recording_is_told(as_json: bool) -> None:
    # engine.io 3 never reads EIO: a Socket.IO 4 client gets a session it cannot use
    options = ("--fast", *(["--json"] if as_json else []))
    with mock(RECORDINGS / "node2-polling.jsonl", *options) as (url, process):
        client = subprocess.run(
            [*SIOCLI, "emit", url, "x", "--eio", "4", "--transport", "polling", "--timeout", "3"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        process.send_signal(signal.SIGINT)  # the client is gone: what was said is all
        out, _ = process.communicate(timeout=20)
    assert client.returncode != 0  # it cannot follow the recording
    if as_json:
        told = [json.loads(line) for line in out.splitlines() if '"eio_mismatch"' in line]
        assert len(told) == 1 and told[0]["asked_eio"] == "4" and told[0]["eio"] == 3
        note = told[0]["note"]
    else:
        note = next(line for line in out.splitlines() if "asked for EIO=" in line)
    assert "asked for EIO=4 (a Socket.IO 3.x/4.x client)" in note
    assert "Engine.IO 3" in note


def test_the_sessions_after_the_first_are_said_not_served(tmp_path: Path) -> None:
    """A recording with a reconnection: the client is checked against the first session
    only, and the command says so before serving, with how many steps are left out."""
    lines = (RECORDINGS / "node4-upgrade.jsonl").read_text().splitlines()
    lines.insert(4, json.dumps({"t": 0.02, "type": "session", "number": 2}))
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recording = load_recording(str(path))
    left = len(Script(load("node4-upgrade")).steps) - len(Script(recording).steps)
    with mock(path, "--fast") as (_, process):
        process.send_signal(signal.SIGINT)  # no client: what was said before serving is all
        _, err = process.communicate(timeout=20)
    assert left > 0
    assert (
        f"siocli: {path}: session 2 not served ({left} steps): replay --serve plays the "
        "recording's first session\n"
    ) in err
