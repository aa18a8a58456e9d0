"""Connection state recovery against real peers, through a relay that cuts the connection.

socket.io 4.8 with ``connectionStateRecovery`` (tests/servers/recovery.js) broadcasts
``tick n`` and logs each one it sent; the relay (tests/faults/relay.py) cuts a WebSocket
frame or a polling response mid-way. ``siocli listen --reconnect`` must come back with the
same socket id and see every tick once, in order, as the server's log says it sent them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from siocli.protocol.recovery import offset_order

from .faults.relay import Relay, run_relay
from .realservers import RunningServer, node, run_server

CLIENTS = Path(__file__).parent / "clients"

TICKS = 40  # events the client waits for; the cut comes after CUT_AFTER of them
CUT_AFTER = 8


class Log:
    """A process's JSON lines, read as they come, waited for by content (never by sleep)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.records: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            try:
                line = stream.readline()
            except (OSError, ValueError):  # closed under us: the process is gone
                break
            if not line:
                break
            try:
                record = json.loads(line)
            except ValueError:
                continue
            with self._changed:
                self.records.append(record)
                self._changed.notify_all()
        with self._changed:
            self.records.append({"eof": True})
            self._changed.notify_all()

    def wait(self, predicate: Any, timeout: float = 20) -> list[dict[str, Any]]:
        with self._changed:
            assert self._changed.wait_for(
                lambda: any(predicate(r) for r in self.records) or {"eof": True} in self.records,
                timeout,
            ), f"not seen within {timeout} s: {self.records[-5:]}"
            return list(self.records)


@contextmanager
def recovery_server() -> Iterator[tuple[RunningServer, Log]]:
    # A server notices a cut polling answer it had flushed only when the client's next poll
    # never comes (its ping timeout): it keeps a session for recovery once it closed it.
    with run_server("recovery", tickEvery=40, pingInterval=200, pingTimeout=200) as server:
        assert server.process.stdout is not None
        yield server, Log(server.process.stdout)


def listen(url: str, *extra: str) -> tuple[subprocess.Popen[bytes], Log]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siocli",
            "listen",
            url,
            "tick",
            "--count",
            str(TICKS),
            "--json",
            "--reconnect",
            "--reconnect-delay",
            "1",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    return process, Log(process.stdout)


def events(records: list[dict[str, Any]]) -> list[int]:
    return [r["args"][0] for r in records if r.get("type") == "event" and r["event"] == "tick"]


def cut_and_finish(relay: Relay, process: subprocess.Popen[bytes], out: Log) -> list[dict]:
    out.wait(lambda r: r.get("type") == "event" and len(events(out.records)) >= CUT_AFTER)
    relay.arm()
    assert relay.wait_cut(10), "the relay never cut"
    try:
        status = process.wait(30)
        records = out.wait(lambda r: "eof" in r)
        assert status == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return records


@pytest.mark.parametrize(
    ("transport", "whole"), [("websocket", False), ("polling", False), ("polling", True)]
)
def test_listen_recovers_what_a_cut_lost(transport: str, whole: bool) -> None:
    """``whole``: the poll's answer is lost before its first byte, on a kept-alive
    connection: not a stale connection to retry on (that lost the events silently), a
    transport error."""
    with recovery_server() as (server, log), run_relay(server.port, b"tick", whole) as relay:
        url = f"http://127.0.0.1:{relay.port}"
        process, out = listen(url, "--transport", transport)
        records = cut_and_finish(relay, process, out)
    got = events(records)
    sent = [r["tick"] for r in log.records if "tick" in r]
    # every tick once, in order, with none missing between the first and the last
    assert got == list(range(got[0], got[0] + TICKS))
    assert set(got) <= set(sent)
    connects = [r for r in records if r.get("type") == "connect"]
    assert len(connects) == 2 and connects[0]["sid"] == connects[1]["sid"]
    assert connects[1]["recovered"] is True
    reconnect = [r for r in records if r.get("type") == "reconnect" and "recovered" in r]
    assert reconnect and reconnect[0]["recovered"] is True
    replayed = [r for r in records if r.get("replayed")]
    assert replayed, "a cut mid-event loses at least that event: it comes back replayed"
    # the server agrees: a second connection of the same socket, recovered
    server_connects = [r["connect"] for r in log.records if "connect" in r]
    assert [c["recovered"] for c in server_connects] == [False, True]
    assert server_connects[0]["sid"] == server_connects[1]["sid"] == connects[0]["sid"]


def test_no_recover_sends_a_bare_connect() -> None:
    with recovery_server() as (server, log), run_relay(server.port, b"tick") as relay:
        url = f"http://127.0.0.1:{relay.port}"
        process, out = listen(url, "--transport", "websocket", "--no-recover")
        records = cut_and_finish(relay, process, out)
    connects = [r for r in records if r.get("type") == "connect"]
    assert len(connects) == 2 and connects[0]["sid"] != connects[1]["sid"]
    assert connects[1]["recovered"] is False
    server_connects = [r["connect"] for r in log.records if "connect" in r]
    assert [c["recovered"] for c in server_connects] == [False, False]


def siocli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "siocli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_replay_normalises_offsets_and_pids(tmp_path: Any) -> None:
    """A recording from a recovery-enabled server replays without --ignore: each run has
    its own offsets and pid; a diff's header says they were normalised."""
    recording = str(tmp_path / "session.jsonl")
    script = 'emit burst {"n": 3}\nemit ask 1\nemit --ack hello 1\n'
    with run_server("recovery") as server:
        made = siocli("connect", server.url, "--record", recording, "--json", stdin=script)
        assert made.returncode == 0, made.stderr
        ticks = [json.loads(line) for line in made.stdout.splitlines() if '"tick"' in line]
        assert [t["args"][0] for t in ticks] == [0, 1, 2] and all(t["offset"] for t in ticks)
        replayed = siocli("replay", recording, "--url", server.url)
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "PASS: 11/11 steps as recorded" in replayed.stdout
    with run_server("recovery", changed=True) as changed:
        replayed = siocli("replay", recording, "--url", changed.url)
    assert replayed.returncode == 6
    assert (
        "--- expected (recorded; normalised: <engine sid>, <pid on />, <socket id on />, "
        "event offsets as <offset>)" in replayed.stdout
    )
    assert replayed.stdout.count("differs from the recording") == 1  # the ack, not offsets


def node_client(url: str, transport: str) -> tuple[subprocess.Popen[bytes], Log]:
    process = subprocess.Popen(
        [
            node(),
            str(CLIENTS / "recovery_client.js"),
            json.dumps(
                {"url": url, "transports": [transport], "count": TICKS, "reconnectionDelay": 1000}
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    return process, Log(process.stdout)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_the_node_client_recovers_from_siocli_serve(transport: str) -> None:
    """socket.io-client 4.8 against ``siocli serve --recover 30``, through the same relay:
    it comes back with its socket id and gets what it missed, once, in order."""
    command = [
        *("serve", "--port", "0", "--recover", "30", "--emit-every", "0.04 tick", "--json"),
        *("--ping-interval", "200", "--ping-timeout", "200"),
    ]
    serve = subprocess.Popen(
        [sys.executable, "-m", "siocli", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert serve.stdout is not None
        port = int(json.loads(serve.stdout.readline())["url"].rsplit(":", 1)[1])
        log = Log(serve.stdout)
        with run_relay(port, b"tick") as relay:
            process, out = node_client(f"http://127.0.0.1:{relay.port}", transport)
            out.wait(lambda r: len([e for e in out.records if e.get("type") == "event"]) >= 8)
            relay.arm()
            assert relay.wait_cut(10), "the relay never cut"
            assert process.wait(30) == 0
            records = out.wait(lambda r: "eof" in r)
            for stream in (process.stdout, process.stderr):
                stream.close()  # type: ignore[union-attr]
        joins = log.wait(lambda r: r.get("type") == "join" and "recovered" in r)
    finally:
        serve.terminate()
        serve.wait(10)
        for stream in (serve.stdout, serve.stderr):
            if stream is not None:
                stream.close()
    connects = [r for r in records if r.get("type") == "connect"]
    assert [c["recovered"] for c in connects] == [False, True]
    assert connects[0]["id"] == connects[1]["id"]
    # the only argument is the offset: siocli's are a counter, so nothing missed or twice
    offsets = [offset_order(r["args"][-1]) for r in records if r.get("type") == "event"]
    assert len(offsets) == TICKS
    counts = [order[0] for order in offsets if order is not None]
    assert counts == list(range(counts[0], counts[0] + TICKS))
    left = [r for r in joins if r.get("type") == "leave"]
    assert left[0]["kept_for"] == 30
    join = next(r for r in joins if "recovered" in r)
    assert join["recovered"] is True and join["missed"] >= 1
    assert join["sid"] == connects[0]["id"]


def test_python_socketio_takes_a_recovery_request_as_auth() -> None:
    """python-socketio has no connection state recovery: a CONNECT with a pid and an offset
    is accepted as any auth (the app's connect handler gets them), with a new socket id, no
    pid, and events without offsets. -v says the server did not recover, and why."""
    auth = {"token": "secret-token", "pid": "P-from-before", "offset": "Q9HiqL3"}
    with run_server("psio") as server:
        result = siocli(
            "connect", server.url + "/admin", "--auth", json.dumps(auth), "--json", "-v",
            stdin="emit --ack whoami\n",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ack = next(json.loads(line) for line in result.stdout.splitlines() if '"ack"' in line)
    assert ack["args"] == [auth]  # the app saw pid and offset as auth fields
    err = " ".join(result.stderr.split())
    assert "recovery request: pid 'P-from-before' and offset 'Q9HiqL3'" in err
    assert "[sio.recovery-failed] the server did not recover '/admin'" in err
    assert "It could not: its answer has no pid" in err
    assert "python-socketio has none" in err
