"""Output that fits: what decode, doctor, replay and serve print, on a pipe, a narrow
terminal, without colour; and the words that describe them."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from siocli.protocol.session import AckMessage
from siocli.render.events import EventPrinter

from .command import siocli
from .realservers import ROOT, run_server
from .test_serve import siocli_serve

RECORDINGS = ROOT / "recordings"


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """What siocli prints to a pseudo-terminal (stdout and stderr both)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**os.environ, **(env or {})},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child is gone: EIO on Linux
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


# --- decode --------------------------------------------------------------------------------


def test_a_binary_file_that_is_no_capture_is_said_so_and_exits_2(tmp_path: Path) -> None:
    binary = tmp_path / "program"
    binary.write_bytes(Path(sys.executable).read_bytes()[:20000])
    result = siocli("decode", str(binary))
    assert result.returncode == 2
    assert f"{binary} is not a capture: binary data" in result.stderr
    assert len(result.stdout.splitlines()) + len(result.stderr.splitlines()) <= 2


def test_a_truncated_har_gets_one_error(tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [{"request": {"url": "http://h/"}}] * 3}}
    text = json.dumps(har)
    cut = tmp_path / "cut.har"
    cut.write_text(text[:40], encoding="utf-8")  # cut in its first entry
    result = siocli("decode", str(cut))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "is not valid JSON" in line and "cut short" in line


@pytest.mark.parametrize(
    ("flag", "env"), [((), {"NO_COLOR": "1"}), (("--no-color",), {})], ids=["NO_COLOR", "flag"]
)
def test_no_color_means_no_escape_sequence_at_all(flag: tuple[str, ...], env: dict) -> None:
    coloured = on_a_terminal("decode", '42["a",1]')
    assert "\x1b[" in coloured  # a terminal gets styles...
    plain = on_a_terminal(*flag, "decode", '42["a",1]', env=env)
    assert "\x1b[" not in plain and 'EVENT "a" [1]' in plain  # ...not bold nor dim either


def test_decode_fits_a_40_column_terminal() -> None:
    shown = on_a_terminal(
        "decode",
        '451-/admin,1["file",{"_placeholder":true,"num":0}]',
        "hex:01 02 03",
        env={"COLUMNS": "40", "NO_COLOR": "1"},
    )
    lines = shown.replace("\r\n", "\n").splitlines()
    assert any("=> namespace" in line for line in lines)
    assert [line for line in lines if len(line) > 40] == []


def test_summaries_redact_a_namespace_query_as_recordings_do() -> None:
    result = siocli("decode", "--eio", "3", "40/admin?token=secret,", '42/admin,["a"]')
    summary = result.stdout[result.stdout.index("Summary") :]
    assert "/admin?token=[redacted]" in summary and "secret" not in summary


# --- the live view -------------------------------------------------------------------------


def test_an_ack_without_arguments_is_not_a_blank() -> None:
    out = io.StringIO()
    printer = EventPrinter(out)
    printer.event(AckMessage("/", 3, []))
    printer.flush()
    assert out.getvalue().rstrip().endswith("< ack    / id=3 (no arguments)")


# --- doctor --------------------------------------------------------------------------------


def test_doctor_help_offers_only_what_doctor_accepts() -> None:
    shown = siocli("doctor", "--help").stdout
    for refused in ("--record", "--no-redact", "--reconnect", "-q, --quiet", "--recover"):
        assert refused not in shown
    assert "--sessions" in shown and "--timeout" in shown


def test_doctor_says_each_result_once() -> None:
    with run_server("node4") as server:
        shown = on_a_terminal("doctor", server.url, env={"COLUMNS": "60", "NO_COLOR": "1"})
    assert "Reach: 127.0.0.1" in shown
    summary = "is reachable"  # the first check's summary: with it, not again in the table
    assert shown.count(summary) == 1, shown


# --- replay --------------------------------------------------------------------------------


def test_ignore_must_name_something_in_the_recording_and_can_name_an_ack() -> None:
    recording = str(RECORDINGS / "node4-upgrade.jsonl")
    common = ("replay", recording, "--fast", "--auth", '{"token": "secret-token"}')
    garbage = siocli(*common, "--url", "http://127.0.0.1:9", "--ignore", "garbage!!")
    assert garbage.returncode == 2 and "nothing named 'garbage!!'" in garbage.stderr
    with run_server("node4", changed=True) as server:  # its hello ack says "hello", not "hi"
        ignored = siocli(
            *common, "--url", server.url, "--ignore", "clock[0].time", "--ignore", "ack:hello[0]"
        )
    assert ignored.returncode == 0, ignored.stdout


# --- serve ---------------------------------------------------------------------------------


def test_serve_does_what_its_readme_says_of_acked_events() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Every event is echoed back, except one that asks for an ack" in readme
    with siocli_serve() as url:
        script = "emit --ack with-ack 1\nemit without 2\nwait without\n"
        result = subprocess.run(
            [sys.executable, "-m", "siocli", "connect", url, "--json"],
            input=script,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    events = [r["event"] for r in records if r["type"] == "event"]
    acks = [r["args"] for r in records if r["type"] == "ack"]
    assert events == ["without"] and acks == [[1]]


# --- CI ------------------------------------------------------------------------------------


def test_the_ci_servers_take_free_ports() -> None:
    script = 'source recordings/servers.sh && start_servers && echo "$NODE4_URL $NODE2_URL"'
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    urls = result.stdout.split()
    assert len(urls) == 2 and all(u.startswith("http://127.0.0.1:") for u in urls)
    assert not {u.rsplit(":", 1)[1] for u in urls} & {"3400", "3402"}
    assert "3400" not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# --- a reader that left ----------------------------------------------------------------------


def with_reader_gone(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """siocli writing to a pipe nobody reads any more (`siocli ... | head -1` once head
    has its line): the read end is closed before siocli writes, so every write fails."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "siocli", *args],
            input=stdin,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["decode", "--sample", "--json"], ""),
        (["emit", "{url}", "hello", "--json"], ""),
        (["listen", "{url}", "--json", "--count", "50"], ""),
        (["connect", "{url}", "--json"], "emit hello\nwait tick\n"),
        (["doctor", "{url}", "--json"], ""),
        (["serve", "--port", "0", "--json"], ""),
        (["replay", str(RECORDINGS / "node4-websocket.jsonl"), "--serve", "--port", "0"], ""),
    ],
)
def test_a_reader_that_left_is_no_error(args: list[str], stdin: str) -> None:
    """click catches EPIPE itself and exits 1, "--strict found violations" in the exit
    table: `siocli listen ... | head -1` exited 1."""
    with siocli_serve("--emit-every", "0.05 tick") as url:
        result = with_reader_gone(*(a.format(url=url) for a in args), stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Broken pipe" not in result.stderr


def test_a_proxy_whose_reader_left_stops() -> None:
    """The view's worker died with a traceback and the relay went on relaying, unseen."""
    read, write = os.pipe()
    os.close(read)
    with siocli_serve() as url:
        proxy = subprocess.Popen(
            [sys.executable, "-m", "siocli", "proxy", url, "--listen", "127.0.0.1:0", "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(write)
        try:
            assert proxy.stderr is not None
            listening = proxy.stderr.readline().split()[2]  # siocli proxy: URL → TARGET
            # the proxy stops at the first line it shows: the session through it may fail
            siocli("emit", listening, "hello", "--timeout", "10")
            assert proxy.wait(30) == 0
            assert "Traceback" not in proxy.stderr.read()
        finally:
            if proxy.poll() is None:
                proxy.kill()
            proxy.wait()
            if proxy.stderr is not None:
                proxy.stderr.close()
