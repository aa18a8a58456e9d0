"""`siocli decode`: every input form, both outputs, bad input, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from siocli.cli import cli
from siocli.exit import CommandError, ExitStatus, report

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SIOCLI_UPDATE_GOLDEN") == "1"


def run(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["decode", *args],
        input=stdin,
        env={"COLUMNS": "100", "NO_COLOR": "1"},
        catch_exceptions=True,
    )
    if isinstance(result.exception, CommandError):  # as siocli.cli.main reports it
        said = io.StringIO()
        status = report(result.exception, said)
        return int(status), result.stdout, result.stderr + said.getvalue()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def records(*args: str, stdin: str | bytes | None = None) -> list[dict]:
    code, out, _ = run("--json", *args, stdin=stdin)
    assert code == 0, out
    return [json.loads(line) for line in out.splitlines()]


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"golden {name} differs (SIOCLI_UPDATE_GOLDEN=1)"
    )


# --- the docs' sample session, as it is ------------------------------------------------------


def test_sample_session_terminal_view_is_pinned() -> None:
    code, out, _ = run("--sample")
    assert code == 0
    assert_golden("sample-session.txt", out)


def test_sample_session_known_mistakes_one_by_one() -> None:
    lines = records("--sample")
    by_index = {r["index"]: r for r in lines}
    codes = {i: [f["code"] for f in r["findings"]] for i, r in by_index.items()}
    raws = {i: r["raw"] for i, r in by_index.items()}
    # every packet of the transcript, in order, with its direction as the protocol allows
    assert [(r["dir"], r["transport"], r["raw"]) for r in lines][:6] == [
        ("s2c", "polling", raws[0]),
        ("c2s", "polling", "40"),  # request n°2's body is the POST's (item 4)
        ("s2c", "polling", '40{"sid":"wZX3oN0bSVIhsaknAAAI"}'),
        ("s2c", "polling", '42["hey","Jude"]'),
        ("c2s", "polling", '42["hello"]'),
        ("c2s", "polling", '42["world"]'),
    ]
    assert "eio.ping-timeout-not-default" in codes[0]  # item 8
    assert "transcript.post-body-after-response" in codes[1]  # item 4
    assert "http.post-content-type" in codes[1]  # item 5
    assert "http.t-reused" in codes[2]  # item 7
    assert codes[5] == ["eio.probe-direction"] and raws[5] == "2probe"  # item 1
    assert codes[6] == ["eio.probe-direction"] and raws[6] == "3probe"
    assert codes[8] == ["eio.repeated-after-upgrade"]  # item 6
    assert codes[9] == ["eio.repeated-after-upgrade"]
    assert codes[15] == ["eio.heartbeat-direction"] and raws[15] == "2"  # item 2
    assert codes[16] == ["eio.heartbeat-direction"] and raws[16] == "3"
    assert codes[17] == ["eio.close-over-websocket"]  # item 3
    ack = by_index[13]
    assert ack["sio_type"] == "BINARY_ACK" and ack["nsp"] == "/admin" and ack["id"] == 1
    assert ack["data"] == [{"$binary": ""}]
    assert by_index[14]["attachment"] == {"of": 13, "num": 0}


def test_sample_session_strict_fails() -> None:
    code, _, _ = run("--sample", "--strict")
    assert code == 1


# --- argument forms ----------------------------------------------------------------------------


def test_binary_packet_from_arguments_is_reassembled() -> None:
    header, attachment = records('461-/admin,1[{"_placeholder":true,"num":0}]', "hex:01 02 03")
    assert header["data"] == [{"$binary": "AQID"}]
    assert header["attachments"] == 1 and header["id"] == 1 and header["nsp"] == "/admin"
    assert attachment["raw"] == {"$binary": "AQID"}
    assert attachment["attachment"] == {"of": 0, "num": 0}
    assert "sio_type" not in attachment


def test_b64_argument_and_event_fields() -> None:
    [event] = records('42["hey","Jude"]')
    assert (event["event"], event["args"], event["eio_type"], event["sio_type"]) == (
        "hey",
        ["Jude"],
        "message",
        "EVENT",
    )
    [binary] = records("b64:AQID")
    assert binary["raw"] == {"$binary": "AQID"}
    assert binary["error"]["layer"] == "socketio"  # no binary packet awaits it


@pytest.mark.parametrize("body", ['42["hello"]\x1e42["world"]', '42["hello"]\\x1e42["world"]'])
def test_v4_polling_body_real_or_pasted_separator(body: str) -> None:
    lines = records(body)
    assert [r["raw"] for r in lines] == ['42["hello"]', '42["world"]']
    assert all(r["transport"] == "polling" for r in lines)


def test_v3_length_prefixed_body_is_guessed_and_said() -> None:
    lines = records(
        '96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40'
    )
    assert [r["eio"] for r in lines] == [3, 3]
    assert [r["eio_type"] for r in lines] == ["open", "message"]
    assert any(f["code"] == "input.guessed-revision" for f in lines[0]["findings"])


def test_v3_binary_payload_as_hex() -> None:
    lines = records(
        "--transport", "polling", "hex:00 06 ff 34 68 65 6c 6c 6f 01 05 ff 04 01 02 03 04"
    )
    assert [r["raw"] for r in lines] == ["4hello", {"$binary": "BAECAwQ="}]
    assert lines[0]["eio"] == 3


def test_forced_revision_and_transport() -> None:
    [noop] = records("--eio", "4", "--transport", "polling", "6:4hello")
    assert noop["eio_type"] == "noop"
    assert any(f["code"] == "eio.looks-like-v3" for f in noop["findings"])


# --- files and stdin ---------------------------------------------------------------------------


def test_lines_file_and_stdin(tmp_path: Path) -> None:
    capture = tmp_path / "frames.txt"
    capture.write_text('> 40\n< 40{"sid":"a"}\n> 42["x"]\n', encoding="utf-8")
    from_file = records(str(capture))
    assert [(r["dir"], r["raw"]) for r in from_file] == [
        ("c2s", "40"),
        ("s2c", '40{"sid":"a"}'),
        ("c2s", '42["x"]'),
    ]
    from_stdin = records("-", stdin=capture.read_text(encoding="utf-8"))
    assert [r["raw"] for r in from_stdin] == [r["raw"] for r in from_file]


def test_piped_stdin_without_arguments() -> None:
    lines = records(stdin='42["a"]\n43/x,1[]\n')
    assert [r["sio_type"] for r in lines] == ["EVENT", "ACK"]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "layer", "offset", "words"),
    [
        ('42["a"', "socketio", 6, "not JSON"),
        ("7", "engineio", 0, "unknown Engine.IO packet type"),
        ("bAQ*D", "engineio", 3, "invalid base64"),
        ('451-["a",{}', "socketio", 11, "not JSON"),
        ("hex:0g", "input", 5, "invalid hex"),
    ],
)
def test_bad_messages_say_what_and_where(message: str, layer: str, offset: int, words: str) -> None:
    code, out, err = run("--json", message)
    # a message that does not decode is still a message; input that is none at all is exit 2
    assert code == (2 if layer == "input" else 0), err
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["error"]["layer"] == layer
    assert record["error"]["offset"] == offset
    assert words in record["error"]["message"]


def test_v3_length_past_the_body() -> None:
    [record] = records("--eio", "3", "--transport", "polling", '10:42["x"]')
    assert "runs past the end" in record["error"]["message"]


def test_attachments_that_never_come() -> None:
    lines = records('451-["up",{"_placeholder":true,"num":0}]', '42["next"]')
    assert lines[0]["sio_type"] == "BINARY_EVENT"
    assert [f["code"] for f in lines[1]["findings"]] == ["sio.attachments-missing"]
    _code, out, _ = run('452-["up",{"_placeholder":true,"num":0}]', "hex:01")
    assert "awaiting 2 binary attachment(s)" in out
    assert "the capture ended" in out


def test_human_view_shows_errors_without_traceback() -> None:
    code, out, err = run('42["a"', "hex:zz")
    assert code == 0
    assert "✗ error (socketio, offset 6)" in out
    # where once, then what and what was expected
    assert "(argument 2) invalid hex at offset 4; expected pairs of hex digits" in out
    assert "Traceback" not in out + err


def test_unreadable_inputs_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.har"
    empty.write_bytes(b"")
    code, _, err = run(str(empty))
    assert code == 2 and "is empty" in err
    broken = tmp_path / "broken.har"
    broken.write_text('{"log": {"entries": [', encoding="utf-8")
    code, _, err = run(str(broken))
    assert code == 2 and "broken.har" in err


def test_a_fifo_dev_stdin_and_a_process_substitution_are_read(tmp_path: Path) -> None:
    """Any path that opens is read, not only a regular file: a FIFO (also one whose name
    has no slash, which was decoded as the message "fifo"), /dev/stdin, bash's <(...)."""
    import contextlib
    import os
    import subprocess
    import sys
    import threading

    sample = (Path(__file__).parent.parent / "siocli" / "data" / "sample-session.txt").read_bytes()
    command = [sys.executable, "-m", "siocli", "decode", "--json"]
    expected = subprocess.run(
        [*command, "-"], input=sample, capture_output=True, check=False
    ).stdout
    assert expected.count(b"\n") > 10
    os.mkfifo(tmp_path / "fifo")

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(tmp_path / "fifo", "wb") as fifo:
            fifo.write(sample)

    writer = threading.Thread(target=feed)
    writer.start()
    fifo = subprocess.run([*command, "fifo"], cwd=tmp_path, capture_output=True, check=False)
    if writer.is_alive():  # decode never opened it: open it, so that the writer ends
        os.close(os.open(tmp_path / "fifo", os.O_RDONLY | os.O_NONBLOCK))
    writer.join()
    assert (fifo.returncode, fifo.stdout) == (0, expected), fifo.stderr
    piped = subprocess.run([*command, "/dev/stdin"], input=sample, capture_output=True, check=False)
    assert (piped.returncode, piped.stdout) == (0, expected), piped.stderr
    (tmp_path / "s.txt").write_bytes(sample)
    substituted = subprocess.run(
        ["bash", "-c", 'exec "$@" <(cat "$0")', tmp_path / "s.txt", *command],
        capture_output=True,
        check=False,
    )
    assert (substituted.returncode, substituted.stdout) == (0, expected), substituted.stderr
    code, _, err = run("/dev/null")
    assert code == 2 and "/dev/null is empty" in err


def test_a_recording_cut_in_its_header_is_said_so_not_empty(tmp_path: Path) -> None:
    recording = Path(__file__).parent.parent / "recordings" / "node4-upgrade.jsonl"
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(recording.read_bytes()[:40])  # within its first line, the header
    code, _, err = run(str(cut))
    assert code == 2, err
    assert "its header (line 1) is cut short, and nothing follows it" in err
    assert "is empty" not in err
    har = Path(__file__).parent / "data" / "captures" / "node4-polling.chrome.har"
    code, _, err = run("--from", "recording", str(har))
    assert code == 2, err
    assert "is not a siocli recording header: not JSON" in err and "is empty" not in err


def test_strict_exit_codes() -> None:
    assert run('42["a"]', "--strict")[0] == 0
    assert run('42["connect"]', "--strict")[0] == 1


# --- start-up ---------------------------------------------------------------------------------


@pytest.mark.parametrize("view", [["--json"], []], ids=["json", "terminal"])
def test_decode_imports_no_network_stack(view: list[str]) -> None:
    har = str(Path(__file__).parent / "data" / "captures" / "node4-upgrade.chrome.har")
    probe = (
        "import sys\n"
        "from siocli.cli import main\n"
        f"sys.argv = ['siocli', 'decode', *{view!r}, '42[\"a\"]', {har!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in ('httpx', 'websockets', 'asyncio', 'ssl') if m in sys.modules)\n"
        "print('LOADED', bad, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert "LOADED []" in result.stderr, result.stderr
    if view:
        assert json.loads(result.stdout.splitlines()[0])["event"] == "a"


def test_wire_text_is_escaped_on_a_terminal() -> None:
    """A lone surrogate cannot be written, an escape sequence must not be obeyed: event
    names and arguments are escaped in the packet lines and in the summary."""
    code, out, _ = run('42["x\\ud800",1]', '42["\\u001b[31m"]')
    assert code == 0
    assert "events: x\\ud800 1, \\x1b[31m 1" in out
    assert '= EVENT "x\\ud800" [1]' in out and "\x1b" not in out


def test_broken_pipe_is_not_an_error() -> None:
    script = (
        f"{sys.executable} -m siocli decode --sample | head -1 > /dev/null; echo ${{PIPESTATUS[0]}}"
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "0"
    assert "Traceback" not in result.stderr


# --- any capture decodes or is refused, never crashes -----------------------------------------

_TRANSCRIPT_LINES = st.sampled_from(
    [
        "GET /socket.io/?EIO=4&transport=polling",
        "POST /socket.io/?EIO=3&transport=polling&sid=abc",
        "GET /socket.io/?EIO=4&transport=websocket&sid=abc",
        "< HTTP/1.1 200 OK",
        "< HTTP/1.1 101 Switching Protocols",
        "< HTTP/1.1 400 Bad Request",
        "> Content-Length: 99999999999999999999",
        '< 0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}',
        "> 40",
        '> 42["hey","Jude"]',
        '> 451-["a",{"_placeholder":true,"num":0}]',
        "< <binary> 01 02 03",
        "> 2probe",
        "=> a comment",
        "...",
        '96:0{"sid":"a"}2:40',
        '4\\x1e42["a"]',
        "hex: 04 01",
        "1" + "9" * 5000 + ":4",  # numbers past what int() reads
        "> 42" + "1" * 5000 + "[1]",
        "WebSocket frames:",
        "",
    ]
)


@given(
    st.lists(_TRANSCRIPT_LINES | st.text(max_size=30), max_size=12),
    st.booleans(),
    st.sampled_from([None, 3, 4]),
)
@settings(deadline=None)
def test_any_capture_decodes_or_is_refused_never_crashes(
    lines: list[str], as_json: bool, eio: int | None
) -> None:
    from rich.console import Console

    from siocli.decode import DecodeOptions, run_decode

    out, err = io.StringIO(), io.StringIO()
    try:
        status = run_decode(
            DecodeOptions(inputs=("-",), as_json=as_json, eio=eio),
            stdout=out,
            stderr=err,
            stdin=io.BytesIO("\n".join(lines).encode("utf-8", "surrogatepass")),
            stdin_is_tty=False,
            console=lambda: Console(file=out, width=100),
        )
    except CommandError as exc:  # nothing readable: refused, with the reason
        assert exc.status is ExitStatus.USAGE and exc.message, exc
        return
    assert status is ExitStatus.OK, err.getvalue()


def test_a_missing_file_or_a_directory_is_not_taken_for_a_wire_message(tmp_path: Path) -> None:
    for argument, says in [
        (str(tmp_path / "capture.har"), "no such file"),
        ("session.jsonl", "no such file"),
        (str(tmp_path), "is a directory"),
    ]:
        code, out, err = run(argument)
        assert code == 2 and says in err, (argument, out, err)
    # wire messages with dots or slashes stay messages (b<base64>: binary in a polling body)
    code, out, _ = run("--transport", "polling", '42["a.b"]', "4/chat.room,", "bAQ/+")
    assert code == 0 and out.count("#") == 3, out


def test_input_without_one_wire_message_is_exit_2_with_the_reason(tmp_path: Path) -> None:
    prose = tmp_path / "notes.txt"
    prose.write_text("we saw the client drop\nafter a deploy\n")
    code, out, err = run("--from", "transcript", str(prose))
    assert (code, out) == (2, "")  # was exit 0 and no output at all
    assert "no wire message found" in err and "--from payload" in err


def test_a_long_event_name_is_elided_like_long_args_unless_full() -> None:
    message = '42["' + "x" * 5000 + '",1]'
    code, out, _ = run(message)
    assert code == 0 and max(len(line) for line in out.splitlines()) < 200
    code, out, _ = run("--full", message)
    assert code == 0 and "x" * 5000 in out


def test_bytes_that_are_not_utf8_are_counted_not_silently_replaced(tmp_path: Path) -> None:
    capture = tmp_path / "latin1.txt"
    capture.write_bytes(b'42["caf\xe9"]\n42["ok"]\n')
    lines = records(str(capture))
    assert lines[0]["data"] == ["caf\ufffd"]
    findings = [f for line in lines for f in line["findings"] if f["code"] == "input.not-utf8"]
    assert len(findings) == 1 and findings[0]["message"].startswith("1 byte(s) that are not UTF-8")
    clean = tmp_path / "utf8.txt"
    clean.write_text('42["café"]\n', encoding="utf-8")
    assert not any(f["code"] == "input.not-utf8" for f in records(str(clean))[0]["findings"])
