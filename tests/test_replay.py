"""siocli replay against real servers: a faithful server passes, a changed one fails with
the right diff; normalisation of sids, ack ids and --ignore'd fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from siocli.recording import load_recording
from siocli.replay import parse_ignore, script_of

from .realservers import run_server

RECORDINGS = Path(__file__).parent.parent / "recordings"
AUTH = '{"token": "secret-token"}'
KIND_OF = {"node4": "node4", "node2": "node2"}


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "siocli", "replay", "--fast", "--auth", AUTH, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in RECORDINGS.glob("*.jsonl")))
def test_the_example_recordings_replay_cleanly(name: str, tmp_path: Path) -> None:
    kind = name.split("-")[0]
    with run_server(kind) as server:
        result = replay(
            str(RECORDINGS / f"{name}.jsonl"),
            "--url",
            server.url,
            "--ignore",
            "clock[0].time",
            "--junit",
            str(tmp_path / "r.xml"),
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout
    suite = ElementTree.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests", 0)) > 10


def test_a_changed_server_fails_with_the_right_diff() -> None:
    with run_server("node4", changed=True) as server:
        result = replay(
            str(RECORDINGS / "node4-upgrade.jsonl"),
            "--url",
            server.url,
            "--ignore",
            "clock[0].time",
        )
    assert result.returncode == 6, result.stdout
    lines = result.stdout.splitlines()
    failed = [line for line in lines if "✗" in line]
    assert len(failed) == 1 and 'ack / (answer to "hello")' in failed[0]
    diff = "\n".join(lines)
    assert '-    "hi",' in diff and '+    "hello",' in diff


def test_volatile_fields_fail_unless_ignored() -> None:
    with run_server("node2") as server:
        strict = replay(str(RECORDINGS / "node2-upgrade.jsonl"), "--url", server.url, "--json")
    assert strict.returncode == 6
    records = [json.loads(line) for line in strict.stdout.splitlines()]
    [clock] = [r for r in records if r.get("event") == "clock"]
    assert not clock["ok"]
    assert clock["expected"]["args"][0]["zone"] == clock["actual"]["args"][0]["zone"] == "UTC"
    assert clock["expected"]["args"][0]["time"] != clock["actual"]["args"][0]["time"]


def test_socket_ids_in_payloads_are_normalised() -> None:
    """The welcome event carries the socket id: it differs every time, and must replay."""
    recording = load_recording(str(RECORDINGS / "node4-websocket.jsonl"))
    welcome = [s for s in script_of(recording) if s.name == "welcome"]
    assert welcome and all("sid" in s.args[0] for s in welcome)
    with run_server("node4") as server:
        result = replay(
            str(RECORDINGS / "node4-websocket.jsonl"),
            "--url",
            server.url,
            "--ignore",
            "clock[0].time",
            "--json",
        )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    matched = [r for r in records if r.get("event") == "welcome"]
    assert matched and all(r["ok"] for r in matched)


def test_several_recordings_run_concurrently() -> None:
    with run_server("node4") as server:
        names = [str(RECORDINGS / "node4-upgrade.jsonl"), str(RECORDINGS / "node4-websocket.jsonl")]
        result = replay(*names, "--url", server.url, "--ignore", "clock[0].time")
    assert result.returncode == 0
    assert result.stdout.count("PASS") == 2


def test_unreachable_server_and_bad_recordings(tmp_path: Path) -> None:
    unreachable = replay(str(RECORDINGS / "node4-upgrade.jsonl"), "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 3 and "connection refused" in unreachable.stdout
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    bad = replay(str(broken))
    assert bad.returncode == 2 and "broken.jsonl:1" in bad.stderr
    no_auth = subprocess.run(
        [sys.executable, "-m", "siocli", "replay", str(RECORDINGS / "node4-upgrade.jsonl")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": "/usr/bin"},
    )
    assert no_auth.returncode == 2 and "redacted" in no_auth.stderr


def test_a_recording_with_nothing_to_replay_or_a_damaged_step_is_refused(tmp_path: Path) -> None:
    """Nothing to replay is not a pass, and a step that cannot be read is not skipped: both
    exit 2, before connecting, naming the file (and the line)."""
    header, *body = (RECORDINGS / "node4-upgrade.jsonl").read_text().splitlines()
    empty = tmp_path / "empty.jsonl"
    empty.write_text(header + "\n", encoding="utf-8")
    array = tmp_path / "array.jsonl"
    array.write_text("\n".join([header, *body[:3], "[1, 2]", *body[3:]]) + "\n")
    sideways = tmp_path / "sideways.jsonl"
    turned = json.loads(body[2])
    turned["dir"] = "sideways"
    sideways.write_text("\n".join([header, *body[:2], json.dumps(turned), *body[3:]]) + "\n")
    with run_server("node4") as server:
        results = {
            path.name: replay(str(path), "--url", server.url, "--ignore", "clock[0].time")
            for path in (empty, array, sideways)
        }
    assert {name: r.returncode for name, r in results.items()} == dict.fromkeys(results, 2)
    assert f"{empty}: nothing to replay" in results["empty.jsonl"].stderr
    assert f"{array}:5: line 5 is not a JSON object" in results["array.jsonl"].stderr
    assert f'{sideways}:4: line 4: "dir" is "sideways"; expected "c2s" or "s2c"' in (
        results["sideways.jsonl"].stderr
    )
    assert all("PASS" not in r.stdout for r in results.values())


def test_a_junit_report_gets_its_directories_or_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    recording = str(RECORDINGS / "node4-upgrade.jsonl")
    with run_server("node4") as server:
        passed = replay(
            recording,
            "--url",
            server.url,
            "--ignore",
            "clock[0].time",
            "--junit",
            str(tmp_path / "reports" / "out.xml"),
        )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    suite = ElementTree.parse(tmp_path / "reports" / "out.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    unreachable = replay(
        recording, "--url", "http://127.0.0.1:9", "--junit", str(tmp_path / "a" / "b.xml")
    )
    assert unreachable.returncode == 3, unreachable.stdout + unreachable.stderr
    case = ElementTree.parse(tmp_path / "a" / "b.xml").getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == "connect"
    # a path under a file: said before connecting (nothing replayed), with or without --serve
    (tmp_path / "file").write_text("", encoding="utf-8")
    under_a_file = str(tmp_path / "file" / "out.xml")
    serving = [sys.executable, "-m", "siocli", "replay", recording, "--serve", "--port", "0"]
    for refused in (
        replay(recording, "--url", "http://127.0.0.1:9", "--junit", under_a_file),
        subprocess.run(
            [*serving, "--clients", "1", "--junit", under_a_file],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ),
    ):
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stdout == ""
        assert f"siocli: cannot write {under_a_file}: a file stands" in refused.stderr


def test_the_sessions_after_the_first_are_said_not_replayed_never_passed(tmp_path: Path) -> None:
    """A reconnection's session is not replayed: the verdict says it covers session 1 and
    how many steps were left, --json counts them and the JUnit report marks them skipped;
    the steps of both sessions are all the recording's."""
    lines = (RECORDINGS / "node4-upgrade.jsonl").read_text().splitlines()
    whole = len(script_of(load_recording(str(RECORDINGS / "node4-upgrade.jsonl"))))
    path = tmp_path / "two.jsonl"
    lines.insert(4, json.dumps({"t": 0.02, "type": "session", "number": 2}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "r.xml"
    with run_server("node4") as server:
        # clock is only in session 2: an --ignore naming it is no mistake
        human = replay(
            str(path), "--url", server.url, "--junit", str(report), "--ignore", "clock[0].time"
        )
        as_json = replay(str(path), "--url", server.url, "--json")
    [verdict] = [line for line in human.stdout.splitlines() if "PASS" in line or "FAIL" in line]
    replayed = len(script_of(load_recording(str(path))))
    left = whole - replayed
    assert left > 0
    assert f"PASS: {replayed}/{replayed} steps of session 1 as recorded; " in verdict
    assert f"session 2 not replayed ({left} steps)" in verdict
    assert human.returncode == 0, human.stdout
    assert json.loads(as_json.stdout.splitlines()[-1])["not_replayed"] == left
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == str(left)
    skipped = [case for case in suite if case.find("skipped") is not None]
    assert len(skipped) == left and int(suite.get("tests", 0)) == replayed + left


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("tick[0].time", ("tick", [0, "time"])),
        ("clock", ("clock", [])),
        ("a[1][2].b.c", ("a", [1, 2, "b", "c"])),
    ],
)
def test_ignore_paths(spec: str, parsed: tuple[str, list]) -> None:
    assert parse_ignore(spec) == parsed


def test_a_cut_recording_is_said_to_be_cut_before_it_is_replayed(tmp_path: Path) -> None:
    whole = (RECORDINGS / "node4-upgrade.jsonl").read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(whole[: whole.rindex(b"\n", 0, len(whole) - 1) + 20])  # mid last line
    result = replay(str(cut), "--url", "http://127.0.0.1:1")
    assert result.returncode == 3  # nothing listens there
    assert f"{cut}:" in result.stderr and "cut short" in result.stderr


def test_ids_in_a_diff_are_named_by_what_they_are() -> None:
    # A Socket.IO 3+ recording against a 2.x server: there the socket id on '/' is the
    # Engine.IO sid, and the diff says which id is which.
    with run_server("node2") as server:
        result = replay(str(RECORDINGS / "node4-upgrade.jsonl"), "--url", server.url, "--eio", "3")
    assert result.returncode == 6
    assert '-      "sid": "<socket id on />"' in result.stdout
    assert '+      "sid": "<engine sid>"' in result.stdout


# --- causality: what the recorded client did not wait for is a race, not the contract ----------

RACE_SCRIPT = """emit --ack hello 1
emit --ack binary
join /admin {"token": "secret-token"}
emit --ack whoami
leave /admin
emit --ack hello bye
"""


def record(url: str, script: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "siocli",
            "connect",
            url,
            "--record",
            str(path),
            "-q",
            "--timeout",
            "3",
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_a_fresh_recording_replays_twenty_times_in_twenty(kind: str, tmp_path: Path) -> None:
    """The issue's script (acks, a join with auth, leave), recorded and replayed 20 times
    in a row against the same server: every replay passes, and says no `None`."""
    with run_server(kind) as server:
        for run in range(20):
            path = tmp_path / f"{run}.jsonl"
            recorded = record(server.url, RACE_SCRIPT, path)
            assert recorded.returncode == 0, recorded.stdout + recorded.stderr
            result = replay(str(path), "--url", server.url)
            assert result.returncode == 0, f"run {run}:\n{result.stdout}{result.stderr}"
            assert "None" not in result.stdout + result.stderr


def _recording(
    path: Path, eio: int, frames: list[tuple[str, str]], close: str | None, gap: float = 0.001
) -> None:
    """A WebSocket-only recording of ``frames`` ((dir, text)), ``gap`` seconds apart."""
    lines: list[dict[str, object]] = [
        {
            "format": "siocli-recording",
            "version": 1,
            "start": "2026-01-01T00:00:00.000Z",
            "url": "http://127.0.0.1:1",
            "eio": eio,
            "options": {"path": "/socket.io/", "transport": "websocket"},
        },
        {"t": 0.0, "type": "session", "number": 1},
    ]
    lines += [
        {"t": n * gap, "dir": d, "transport": "websocket", "text": text}
        for n, (d, text) in enumerate(frames)
    ]
    if close is not None:
        lines.append({"t": len(frames) * gap, "type": "close", "reason": close, "detail": None})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


OPEN4 = '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1e6}'
ADMIN = [
    ("s2c", OPEN4),
    ("c2s", "40"),
    ("s2c", '40{"sid":"s1"}'),
    ("s2c", '42["welcome",{"sid":"s1","nsp":"/"}]'),
    ("c2s", '40/admin,{"token":"secret-token"}'),
    ("s2c", '40/admin,{"sid":"s2"}'),
    ("s2c", '42/admin,["welcome",{"sid":"s2","nsp":"/admin"}]'),
]


def test_what_python_socketio_sends_before_its_connect_answer_replays(tmp_path: Path) -> None:
    """python-socketio sends what its connect handler emits before the CONNECT answer (here
    a welcome carrying the socket id): it is compared once the answer has told the socket
    id, and its result stays where it came."""
    with run_server("psio") as server:
        path = tmp_path / "psio.jsonl"
        recorded = record(server.url, "emit --ack hello 1\n", path)
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        result = replay(str(path), "--url", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [line.split()[1:3] for line in result.stdout.splitlines() if line.strip()[:1] == "✓"]
    assert [number for number, _ in steps] == sorted([number for number, _ in steps], key=int)
    assert ["2", "<"] in steps  # the welcome, before the CONNECT answer (step 3)


def test_an_answer_recorded_after_the_client_left_is_a_race_not_a_mismatch(
    tmp_path: Path,
) -> None:
    # The recorded client asked, left without waiting, and the answer came after: the
    # server never owed it. Replayed, no answer comes: said as a race, and the replay passes.
    path = tmp_path / "race.jsonl"
    _recording(
        path,
        4,
        [
            *ADMIN,
            ("c2s", '42/admin,0["nobody-acks-this"]'),
            ("c2s", "41/admin,"),
            ("s2c", '43/admin,0["late"]'),
        ],
        None,
    )
    with run_server("node4") as server:
        human = replay(str(path), "--url", server.url, "--timeout", "1")
        as_json = replay(str(path), "--url", server.url, "--timeout", "1", "--json")
    assert human.returncode == 0, human.stdout
    assert "~   9 < ack /admin" in human.stdout and "race in the recording" in human.stdout
    assert "1 race(s) in the recording" in human.stdout
    [race] = [json.loads(line) for line in as_json.stdout.splitlines() if '"race": true' in line]
    assert race["ok"] and race["step"] == 9 and race["expected"] == {"args": ["late"]}


def test_an_answer_the_recording_never_got_is_a_race_when_it_comes(tmp_path: Path) -> None:
    # The reverse outcome: the recorded client left before its ack came, and the recording
    # has no answer. Replayed at the recorded pace, the answer comes before the leave: a
    # race, not "unexpected".
    path = tmp_path / "never.jsonl"
    frames = [*ADMIN, ("c2s", '42/admin,0["whoami"]'), ("c2s", "41/admin,")]
    _recording(path, 4, frames, None, gap=0.05)
    with run_server("node4") as server:
        result = subprocess.run(
            [sys.executable, "-m", "siocli", "replay", str(path), "--url", server.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stdout
    assert "~  +  < ack /admin" in result.stdout and "never got it" in result.stdout


def test_a_session_the_server_ends_is_said_with_its_reason_never_none(tmp_path: Path) -> None:
    path = tmp_path / "kick.jsonl"
    frames = [*ADMIN[:4], ("c2s", '42["kick"]'), ("s2c", '42["never"]')]
    _recording(path, 4, frames, None)
    with run_server("node4") as server:
        result = replay(str(path), "--url", server.url, "--timeout", "1")
    assert result.returncode == 6
    assert "None" not in result.stdout
    assert "the server ended the session: transport close" in result.stdout
