"""Captures of real sessions: tcpdump on the loopback interface around `siocli connect
--record` talking to socket.io 4, socket.io 2 and python-socketio. Each capture must
decode to the same Engine.IO and Socket.IO packets as the recording of the same session.

The capture tells the wire's order and the recording the client's: a POST recorded when it
was handed to the client's HTTP stack crosses the wire after the WebSocket probe if its
connection had to be opened first. So the packets are compared per channel (direction and
transport), where both orders are the wire's, packet by packet.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .realservers import RunningServer, run_server

SCRIPT = "\n".join(
    [
        "emit --ack hello 1",
        'emit echo hex:0102 {"n":1}',  # binary client to server, echoed back
        "emit --ack binary",  # a binary ack
        'join /admin {"token": "secret-token"}',
        "emit --ack whoami",
        "join /private",  # refused
        "use /",
        "emit kick",  # the server disconnects the socket
        "",
    ]
)
MODES = {
    "upgrade": [],
    "websocket": ["--transport", "websocket"],
    "polling": ["--transport", "polling"],
}


FILTER = ("tcp", "port")
CONNECT = (sys.executable, "-m", "siocli", "connect", "--timeout", "10")


@contextmanager
def tcpdump(port: int, path: Path, interface: str = "lo") -> Iterator[dict[str, int]]:
    """Capture the port's traffic into ``path`` (``interface``: tcpdump's ``-i`` and what
    follows it): started when tcpdump says it is listening, stopped with SIGINT and waited
    for, every packet written as it comes. The dict gets ``dropped``: the packets tcpdump
    says the kernel dropped."""
    command = shutil.which("tcpdump")
    if command is None:
        pytest.fail("tcpdump is needed: .ci/run installs it")
    process = subprocess.Popen(
        [
            command,
            "-i",
            *interface.split(),
            "-U",
            "--immediate-mode",
            "-s",
            "0",
            "-w",
            str(path),
            *FILTER,
            str(port),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        assert process.stderr is not None
        line = b""
        for _ in range(4):  # "data link type ..." may come first
            line = process.stderr.readline()
            if b"listening on" in line or not line:
                break
        if b"listening on" not in line:
            process.kill()
            pytest.fail(f"tcpdump did not start: {line!r} {process.stderr.read()!r}")
        stats: dict[str, int] = {}
        yield stats
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    dropped = re.search(rb"(\d+) packets? dropped by kernel", errors)
    stats["dropped"] = int(dropped.group(1)) if dropped else 0


def decode(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "siocli", "--no-color", "decode", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def decode_json(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in decode("--json", str(path)).splitlines()]


_COMPARED = ("eio_type", "raw", "sio_type", "nsp", "id", "data", "attachment", "error")


def channels(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        if record["index"] is None:
            continue
        packet = {key: record.get(key) for key in _COMPARED}
        if packet["attachment"]:  # "of" counts messages of every channel: not comparable
            packet["attachment"] = packet["attachment"]["num"]
        out.setdefault((record["dir"], record["transport"]), []).append(packet)
    return out


@pytest.mark.parametrize("mode", list(MODES))
def test_a_capture_decodes_to_the_packets_of_the_recording(
    server: RunningServer, mode: str, tmp_path: Path
) -> None:
    check_capture(server, mode, tmp_path, "lo")


@pytest.mark.parametrize(("link", "linktype"), [("LINUX_SLL", 113), ("LINUX_SLL2", 276)])
def test_a_capture_on_any_interface(tmp_path: Path, link: str, linktype: int) -> None:
    """``tcpdump -i any`` writes Linux cooked frames (SLL, or SLL2 with ``-y``); on this
    device the kernel drops packets more often, which the capture must name."""
    with run_server("node4", pingInterval=300, pingTimeout=500) as server:
        capture = check_capture(server, "upgrade", tmp_path, f"any -y {link}")
    assert int.from_bytes(capture.read_bytes()[20:24], "little") == linktype


def check_capture(server: RunningServer, mode: str, tmp_path: Path, interface: str) -> Path:
    """Capture the scripted session and compare; a capture tcpdump says lost packets is
    taken again (up to three times): the last one must at least name what it lacks."""
    for attempt in range(3):
        capture = tmp_path / f"session{attempt}.pcap"
        recording = tmp_path / f"session{attempt}.jsonl"
        with tcpdump(server.port, capture, interface) as stats:
            session = subprocess.run(
                [*CONNECT, server.url, *MODES[mode], "--record", str(recording), "--no-redact"],
                input=SCRIPT,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        if not stats["dropped"]:
            break
    captured = decode_json(capture)
    errors = [r["error"]["message"] for r in captured if r.get("error")]
    if stats["dropped"] and errors:
        assert all("not captured" in error for error in errors), errors
        return capture
    assert "refused /private" in session.stdout + session.stderr, session.stderr
    recorded = decode_json(recording)
    assert len({(r["dir"], r["transport"]) for r in recorded if r["index"] is not None}) >= 2
    expected = channels(recorded)
    found = channels(captured)
    assert found.keys() == expected.keys()
    for channel, packets in expected.items():
        for number, (seen, wanted) in enumerate(zip(found[channel], packets, strict=False)):
            assert seen == wanted, f"{channel} packet {number}"
        assert len(found[channel]) == len(packets), channel
    # the whole session is one: the polling connections and the WebSocket merged by sid
    human = decode(str(capture))
    assert human.count("── session") == 1, human
    if server.kind == "psio" and mode != "polling":  # uvicorn compresses its frames
        data = capture.read_bytes().lower()
        assert b"sec-websocket-extensions: permessage-deflate" in data
    if mode != "polling":
        closes = [
            f["message"] for r in captured for f in r["findings"] if f["code"] == "websocket.close"
        ]
        assert closes, "the WebSocket's close frame is named"
    return capture
