"""The live client against real servers: python-socketio, Node socket.io 4.x and 2.x.

Every scenario runs on each server, over polling only, WebSocket only, and the upgrade.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from siocli.protocol.session import (
    AckMessage,
    Closed,
    EventMessage,
    NamespaceConnected,
    NamespaceDisconnected,
    NamespaceRejected,
    Opened,
    SessionEvent,
    Upgraded,
)
from siocli.protocol.types import Direction, Transport
from siocli.transports.config import ConnectOptions
from siocli.transports.driver import Connection
from siocli.transports.errors import ConnectError
from siocli.wire import WireMessage

from .command import siocli
from .realservers import RunningServer, run_server

TRANSPORTS = ("polling", "websocket", "auto")
AUTH = {"token": "secret-token"}


async def until(connection: Connection, predicate: Any, timeout: float = 5.0) -> list[SessionEvent]:
    """Events up to and including the first one ``predicate`` accepts."""
    seen: list[SessionEvent] = []
    deadline = time.monotonic() + timeout
    while True:
        event = await connection.next_event(max(0.01, deadline - time.monotonic()))
        seen.append(event)
        if predicate(event):
            return seen


def joined(namespace: str) -> Any:
    return lambda e: (
        isinstance(e, (NamespaceConnected, NamespaceRejected)) and e.namespace == namespace
    )


async def open_session(
    server: RunningServer, transport: str, tap: list[WireMessage] | None = None, **options: Any
) -> Connection:
    connection = Connection(
        ConnectOptions(server.url, transport=transport, timeout=5, **options),
        tap=tap.append if tap is not None else None,
    )
    await connection.open()
    return connection


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_namespaces_acks_and_binary_both_ways(server: RunningServer, transport: str) -> None:
    async def scenario() -> tuple[list[SessionEvent], list[WireMessage], Connection]:
        wire: list[WireMessage] = []
        connection = await open_session(server, transport, wire)
        session = connection.session
        connection.act(session.connect, "/")
        connection.act(session.connect, "/admin", AUTH)
        connection.act(session.connect, "/private")
        events = await until(connection, joined("/admin"))
        events += await until(connection, joined("/private"))
        ids = [
            connection.act(
                session.emit, "hello", 1, "two", {"three": [3]}, namespace="/admin", ack=True
            ),
            connection.act(session.emit, "binary", b"\x01\x02", {"deep": [b"\x03"]}, ack=True),
        ]
        connection.act(session.emit, "echo", b"\xff\x00", "text")
        connection.act(session.emit, "ask", {"q": 1})
        events += await until(
            connection, lambda e: isinstance(e, EventMessage) and e.name == "question"
        )
        question = events[-1]
        assert isinstance(question, EventMessage) and question.ack_id is not None
        connection.act(session.ack, question.ack_id, "yes", b"\x07", namespace="/")
        events += await until(
            connection, lambda e: isinstance(e, EventMessage) and e.name == "answered"
        )
        if transport == "auto" and not any(isinstance(e, Upgraded) for e in events):
            events += await until(connection, lambda e: isinstance(e, Upgraded))
        await connection.close()
        assert ids == [0, 0]
        return events, wire, connection

    events, wire, connection = asyncio.run(scenario())
    assert isinstance(events[0], Opened) and events[0].eio == server.eio
    rejected = [e for e in events if isinstance(e, NamespaceRejected)]
    assert [(e.namespace, e.message) for e in rejected] == [("/private", "not authorized")]
    acks = {e.namespace: e for e in events if isinstance(e, AckMessage)}
    assert acks["/admin"].args == ["hi", 1, "two", {"three": [3]}]
    assert acks["/"].args == [b"\x01\x02\x03", {"nested": b"\x04\x05"}]
    echo = next(e for e in events if isinstance(e, EventMessage) and e.name == "echo")
    assert echo.args == [b"\xff\x00", "text"]
    answered = next(e for e in events if isinstance(e, EventMessage) and e.name == "answered")
    assert answered.args == ["yes", b"\x07"]
    transports = {m.transport for m in wire}
    expected = {
        "polling": {Transport.POLLING},
        "websocket": {Transport.WEBSOCKET},
        "auto": {Transport.POLLING, Transport.WEBSOCKET},
    }[transport]
    assert transports == expected
    assert connection.session.eio == server.eio
    if server.kind == "node2":  # Socket.IO 2.x: '/' is joined by the server, auth in the query
        assert any(
            m.data == "40/admin?token=secret-token,"
            or (isinstance(m.data, str) and "40/admin?token=secret-token," in m.data)
            for m in wire
            if m.direction is Direction.C2S
        )


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_heartbeats_keep_the_session_alive(server: RunningServer, transport: str) -> None:
    async def scenario() -> list[WireMessage]:
        wire: list[WireMessage] = []
        connection = await open_session(server, transport, wire)
        connection.act(connection.session.connect, "/")
        await until(connection, joined("/"))
        interval = connection.session.handshake.ping_interval / 1000
        await asyncio.sleep(interval * 3.5)
        assert connection.session.close_reason is None
        await connection.close()
        return wire

    wire = asyncio.run(scenario())
    pings = [m for m in wire if isinstance(m.data, str) and m.data.endswith("2")]
    pongs = [m for m in wire if isinstance(m.data, str) and m.data.endswith("3")]
    pinger = Direction.S2C if server.eio == 4 else Direction.C2S
    assert len([m for m in pings if m.direction is pinger]) >= 2
    assert len([m for m in pongs if m.direction is not pinger]) >= 2


def test_server_disconnect(server: RunningServer) -> None:
    async def scenario() -> list[SessionEvent]:
        connection = await open_session(server, "websocket")
        connection.act(connection.session.connect, "/")
        await until(connection, joined("/"))
        connection.act(connection.session.emit, "kick")
        events = await until(connection, lambda e: isinstance(e, Closed))
        await connection.close()
        return events

    events = asyncio.run(scenario())
    assert NamespaceDisconnected("/", "io server disconnect") in events
    assert isinstance(events[-1], Closed) and events[-1].reason == "transport close"


@pytest.mark.parametrize("kind", ["node4", "node2", "psio"])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_server_killed_mid_session(kind: str, transport: str) -> None:
    with run_server(kind, pingInterval=1000, pingTimeout=500) as server:

        async def scenario() -> Closed:
            connection = await open_session(server, transport)
            connection.act(connection.session.connect, "/")
            await until(connection, joined("/"))
            server.kill()
            events = await until(connection, lambda e: isinstance(e, Closed), timeout=8)
            await connection.close()
            return events[-1]

        closed = asyncio.run(scenario())
    assert closed.reason in ("transport close", "transport error")


@pytest.mark.parametrize("kind", ["node4", "node2", "psio"])
def test_ping_timeout_when_the_server_stops_answering(kind: str) -> None:
    with run_server(kind, pingInterval=1000, pingTimeout=500) as server:

        async def scenario() -> tuple[Closed, float]:
            connection = await open_session(server, "websocket")
            connection.act(connection.session.connect, "/")
            await until(connection, joined("/"))
            server.pause()
            started = time.monotonic()
            events = await until(connection, lambda e: isinstance(e, Closed), timeout=8)
            await connection.close(grace=0.1)
            return events[-1], time.monotonic() - started

        closed, waited = asyncio.run(scenario())
        server.resume()
    assert closed.reason == "ping timeout"
    assert waited < 4


def test_connection_refused_is_named() -> None:
    async def scenario() -> None:
        connection = Connection(ConnectOptions("http://127.0.0.1:9", timeout=3))
        try:
            await connection.open()
        finally:
            await connection.close(grace=0)

    with pytest.raises(ConnectError) as info:
        asyncio.run(scenario())
    assert "connection refused" in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    ("kind", "eio", "words"),
    [("node4", 3, "Unsupported protocol version"), ("node4", 4, None)],
)
def test_revision_mismatch_is_explained(kind: str, eio: int, words: str | None) -> None:
    with run_server(kind) as server:

        async def scenario() -> None:
            connection = Connection(ConnectOptions(server.url, eio=eio, timeout=3))
            try:
                await connection.open()
            finally:
                await connection.close(grace=0)

        if words is None:
            asyncio.run(scenario())
            return
        with pytest.raises(ConnectError) as info:
            asyncio.run(scenario())
    assert words in info.value.message
    assert info.value.hint and "allowEIO3" in info.value.hint


def test_wrong_path_gets_a_path_hint() -> None:
    with run_server("node4") as server:

        async def scenario() -> None:
            connection = Connection(ConnectOptions(server.url, path="/wrong/", timeout=3))
            try:
                await connection.open()
            finally:
                await connection.close(grace=0)

        with pytest.raises(ConnectError) as info:
            asyncio.run(scenario())
    assert "404" in info.value.message
    assert "--path" in (info.value.hint or "")


# --- the commands, as users run them ---------------------------------------------------------


def test_emit_with_ack_prints_every_ack_arg(server: RunningServer) -> None:
    result = siocli(
        "emit",
        server.url + "/admin",
        "hello",
        "1",
        '{"a": [2]}',
        "word",
        "--ack",
        "--json",
        "--auth",
        json.dumps(AUTH),
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    ack = next(r for r in records if r["type"] == "ack")
    assert ack == {
        "t": ack["t"],
        "type": "ack",
        "nsp": "/admin",
        "id": 0,
        "args": ["hi", 1, {"a": [2]}, "word"],
    }


def test_emit_exit_codes(server: RunningServer) -> None:
    refused = siocli("emit", server.url + "/admin", "x", "--auth", '{"token":"nope"}')
    assert refused.returncode == 4
    assert "not authorized" in refused.stderr
    nowhere = siocli("emit", "http://127.0.0.1:9", "x", "--timeout", "3")
    assert nowhere.returncode == 3 and "connection refused" in nowhere.stderr
    assert "Traceback" not in refused.stderr + nowhere.stderr


def test_listen_counts_filters_and_answers_acks(server: RunningServer) -> None:
    result = siocli(
        "listen", server.url, "tick", "--count", "5", "--json", "--emit", 'burst {"n": 8}'
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    ticks = [e["args"] for e in events if e["type"] == "event"]
    assert ticks == [[0], [1], [2], [3], [4]]
    answered = siocli(
        "listen",
        server.url,
        "answered",
        "--count",
        "1",
        "--json",
        "--emit",
        "ask 1",
        "--auto-ack",
        '["auto", 2]',
    )
    assert answered.returncode == 0, answered.stderr
    records = [json.loads(x) for x in answered.stdout.splitlines()]
    [event] = [r for r in records if r["type"] == "event"]
    assert event["args"] == ["auto", 2]


def test_listen_counts_what_comes_while_joining(server: RunningServer) -> None:
    # The '/' welcome arrives while /admin is still being joined: it counts all the same.
    result = siocli(
        "listen",
        server.url,
        "welcome",
        "-n",
        "/admin",
        "--auth",
        '{"token": "secret-token"}',
        "--count",
        "2",
        "--json",
        "--timeout",
        "5",
    )
    assert result.returncode == 0, result.stderr
    welcomes = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(w["nsp"] for w in welcomes if w["type"] == "event") == ["/", "/admin"]


def test_settle_prints_answers_the_session_has_seen_but_not_yet_handed_out(
    server: RunningServer,
) -> None:
    # A piped script's EOF waits for what the server owes (settle). The session sees an
    # ack as soon as it comes; the event that carries it to the user waits in a queue. A
    # client that left on the session's word alone lost that ack (half the runs of
    # `connect --record` with the script below on a fast server), though it was recorded.
    from siocli.live import LiveClient, LiveOptions
    from siocli.render.events import EventPrinter

    async def scenario() -> list[dict[str, Any]]:
        out = io.StringIO()
        options = LiveOptions(ConnectOptions(server.url, transport="websocket", timeout=5))
        client = LiveClient(options, EventPrinter(out, as_json=True))
        await client.start()
        try:
            client.emit("hello", [1], ack=True)
            while client.session.awaiting():  # the ack has reached the session...
                await asyncio.sleep(0.01)
            await client.settle(5)  # ...but not the printer yet
        finally:
            await client.stop()
        client.printer.flush()
        return [json.loads(line) for line in out.getvalue().splitlines()]

    records = asyncio.run(scenario())
    assert [r["args"] for r in records if r["type"] == "ack"] == [["hi", 1]]


def test_connect_reads_commands_from_a_pipe(server: RunningServer) -> None:
    script = "\n".join(
        [
            'emit --ack hello 1 "two"',
            'join /admin {"token": "secret-token"}',
            "emit --ack whoami",
            "use /",
            "emit ask 7",
            "bogus",
            "use /nowhere",
            'emit hello {"a": 1',
            "emit after 1",
            "",
        ]
    )
    result = siocli("connect", server.url, "--json", stdin=script)
    # a failed command is explained and the script goes on; its exit code says so
    assert result.returncode == 2, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [r["message"] for r in records if r["type"] == "error"]
    assert errors == [
        "unknown command 'bogus' (try 'help')",
        "not joined to /nowhere: 'join /nowhere' first",
        """{"a": 1: not valid JSON (no closing '}')""",
    ]
    assert any(r["type"] == "connect" and r["nsp"] == "/admin" for r in records)
    assert any(r["type"] == "emit" and r["event"] == "after" for r in records)
    clean = siocli("connect", server.url, stdin="emit --ack hello 1\n")
    assert clean.returncode == 0, clean.stderr


def test_forcing_eio_4_on_a_socketio_2_server_is_explained_and_survives_reconnection() -> None:
    # Over WebSocket nothing in a 2.x server's answer says "Engine.IO 3": it just never
    # pings (the client should), and it joins '/' by itself, before the client asks.
    with run_server("node2", pingInterval=300, pingTimeout=300) as server:
        once = siocli(
            "listen", server.url, "--eio", "4", "--transport", "websocket", "--no-reconnect"
        )
        assert once.returncode == 5, once.stderr
        assert "not one ping came" in once.stdout + once.stderr
        assert "--eio 3" in once.stderr
        # Reconnecting: the new session is already on '/' when the client would join it.
        again = siocli(
            "listen", server.url, "--eio", "4", "--transport", "websocket", "--duration", "2.5"
        )
        assert again.returncode == 0, again.stderr
        assert "internal error" not in again.stderr
        assert again.stdout.count("reconnect") >= 2


def test_bad_options_are_usage_errors_before_any_connection(tmp_path: Path) -> None:
    nowhere = "http://127.0.0.1:1"
    for args, says in [
        (["listen", nowhere, "--count", "0"], "--count"),
        (["emit", nowhere, "x", "--timeout", "0"], "--timeout"),
        (["listen", nowhere, "--duration", "-1"], "--duration"),
        (["emit", nowhere, "x", "-d", "[1]", "extra"], "not both"),
        (["emit", nowhere, "x", "--record", str(tmp_path / "no" / "dir.jsonl")], "cannot write"),
    ]:
        result = siocli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert says in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_emit_words_timeouts_and_recorded_query(server: RunningServer, tmp_path: Path) -> None:
    recording = tmp_path / "r.jsonl"
    sent = siocli(
        "emit",
        server.url,
        "hello",
        "NaN",
        "--ack",
        "--json",
        "--query",
        "apikey=zzz",
        "--record",
        str(recording),
    )
    assert sent.returncode == 0, sent.stderr
    ack = next(r for r in map(json.loads, sent.stdout.splitlines()) if r["type"] == "ack")
    assert ack["args"] == ["hi", "NaN"]  # a bare word: JSON has no NaN
    header = json.loads(recording.read_text().splitlines()[0])
    assert header["options"]["query"] == {"apikey": "[redacted]"}
    assert "zzz" not in recording.read_text()
    silent = siocli("emit", server.url, "nothing", "--ack", "--timeout", "1")
    assert silent.returncode == 5
    assert "no answer for ack 0 within 1 s" in silent.stderr


def test_a_client_the_server_disconnects_does_not_reconnect(server: RunningServer) -> None:
    # socket.io-client brings back a session that dropped, not one the server ended.
    result = siocli("listen", server.url, "--emit", "kick", "--json", timeout=15)
    assert result.returncode == 7, result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert "disconnect" in types and "reconnect" not in types
    assert "io server disconnect" in result.stderr


def test_a_refused_namespace_ends_the_run_after_printing_what_came_with_it(
    tmp_path: Path,
) -> None:
    # One poll can carry a refusal and other namespaces' answers: all are printed, then
    # exit 4. Invariant: every event the recording holds is in the output.
    recording = tmp_path / "refused.jsonl"
    with run_server("node4") as server:
        result = siocli(
            "listen",
            server.url + "/admin",
            "-n",
            "/",
            "-n",
            "/other",
            "--auth",
            json.dumps(AUTH),
            "--transport",
            "polling",
            "--json",
            "--record",
            str(recording),
        )
    assert result.returncode == 4, result.stderr
    printed = [r for r in map(json.loads, result.stdout.splitlines()) if r["type"] == "event"]
    recorded = [
        line
        for line in map(json.loads, recording.read_text().splitlines()[1:])
        if line.get("dir") == "s2c" and "42" in line.get("text", "")
    ]
    welcomes = sum(
        part.startswith("42") for line in recorded for part in line["text"].split("\x1e")
    )
    assert len(printed) == welcomes >= 1, (result.stdout, recorded)


def test_emit_without_ack_waits_for_the_post_and_says_when_it_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 5000)  # 1.28 MB: past socket.io 4's 1 MB maxPayload
    with run_server("node4") as server:
        refused = siocli("emit", server.url, "echo", f"@{big}", "--transport", "polling")
        assert refused.returncode == 7, refused.stderr  # was 0: the 413 came during the close
        assert "HTTP 413" in refused.stderr and "maxPayload" in refused.stderr
        fine = siocli("emit", server.url, "echo", "small", "--transport", "polling")
        assert fine.returncode == 0, fine.stderr
        plain = siocli("emit", server.url.replace("http://", "https://"), "echo")
        assert plain.returncode == 3
        assert "use http://" in plain.stderr


def test_a_json_stream_ends_with_why_the_run_failed(server: RunningServer) -> None:
    refused = siocli("listen", "http://127.0.0.1:1", "--json")
    last = json.loads(refused.stdout.splitlines()[-1])
    assert refused.returncode == 3 and last["type"] == "error" and last["status"] == 3
    silent = siocli("emit", server.url, "nothing", "--ack", "--timeout", "1", "--json")
    last = json.loads(silent.stdout.splitlines()[-1])
    assert silent.returncode == 5 and last == {
        "t": last["t"],
        "type": "error",
        "status": 5,
        "message": "no answer for ack 0 within 1 s",
    }


def test_websocket_only_mistakes_get_their_hint() -> None:
    with run_server("node4") as server:
        wrong_path = siocli("emit", server.url, "x", "--path", "/foo/", "--transport", "websocket")
        assert wrong_path.returncode == 3
        assert "is --path right (/foo/ now)?" in wrong_path.stderr
        # socket.io 4 without allowEIO3 accepts the upgrade, then breaks the connection
        old = siocli("emit", server.url, "x", "--eio", "3", "--transport", "websocket")
        assert old.returncode == 3
        assert "allowEIO3" in old.stderr and "--eio auto" in old.stderr


def test_a_proxy_that_refuses_is_named_without_its_password() -> None:
    result = siocli("emit", "http://127.0.0.1:2", "x", "--proxy", "http://bob:s3cret@127.0.0.1:1")
    assert result.returncode == 3
    assert "cannot connect to the proxy http://127.0.0.1:1: connection refused" in result.stderr
    assert "s3cret" not in result.stderr


def test_listen_says_what_it_emitted_and_gives_no_prompt_advice(server: RunningServer) -> None:
    result = siocli("listen", server.url, "--emit", "ask 7", "--until", "question")
    assert result.returncode == 0, result.stderr
    assert "emit     nsp=/ event=ask args=[7]" in result.stdout
    question = next(line for line in result.stdout.splitlines() if '"question"' in line)
    assert re.search(r"\(asks ack \d+\)$", question)  # listen has no prompt to 'ack N' at
    prompt = siocli("connect", server.url, stdin="emit ask 7\nwait question\n")
    assert re.search(r"\(asks ack (\d+): answer with 'ack \1 \.\.\.'\)", prompt.stdout)


def test_connect_reads_a_script_from_a_file_or_dev_null(
    server: RunningServer, tmp_path: Path
) -> None:
    # CI and cron redirect from files; the event loop cannot watch a regular file.
    script = tmp_path / "script.txt"
    script.write_text("emit --ack hello 1\n")
    for path in (script, Path(os.devnull)):
        with path.open("rb") as stdin:
            result = subprocess.run(
                [sys.executable, "-m", "siocli", "connect", server.url, "--json"],
                stdin=stdin,
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        assert result.returncode == 0, result.stderr
        acks = [r for r in map(json.loads, result.stdout.splitlines()) if r["type"] == "ack"]
        assert len(acks) == (1 if path == script else 0)


def test_against_socketio_2_the_log_and_the_wire_view_follow_the_wire() -> None:
    with run_server("node2") as server:
        result = siocli("emit", server.url, "hello", "--ack", "-v", "--json")
    assert result.returncode == 0, result.stderr
    # -v dissects the 2.x open payload (96:0{...}) as Engine.IO 3, from the first message
    assert "✗" not in result.stderr and "eio.no-handshake" not in result.stderr
    assert 'Engine.IO "open" packet type' in result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert types[:3] == ["open", "connect", "emit"], types


def test_ctrl_c_says_so_and_ends_the_json_stream_with_its_status(server: RunningServer) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "listen", server.url, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert json.loads(process.stdout.readline())["type"] == "open"  # connected: now Ctrl-C
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 130
    assert json.loads(out.splitlines()[-1]) == {
        "t": json.loads(out.splitlines()[-1])["t"],
        "type": "error",
        "status": 130,
        "message": "interrupted",
    }
    assert err.strip().endswith("siocli: interrupted")


def test_the_wire_view_and_the_event_lines_share_one_clock(server: RunningServer) -> None:
    result = siocli("emit", server.url, "hello", "--ack", "-v", "--json")
    assert result.returncode == 0, result.stderr
    first_frame = float(re.findall(r"^#0 < \w+\s+([\d.]+)s", result.stderr, re.M)[0])
    opened = next(r for r in map(json.loads, result.stdout.splitlines()) if r["type"] == "open")
    # the handshake arrives before the open event is printed, on the command's clock (it
    # was 0.000s: counted from the first wire message)
    assert 0 < first_frame <= opened["t"] + 0.002, (first_frame, opened["t"])


def test_python_socketio_refusing_engineio_3_over_websocket_is_named() -> None:
    # a bare 403, where the same mistake over polling gets a 400 that says why
    with run_server("psio") as server:
        result = siocli("emit", server.url, "x", "--eio", "3", "--transport", "websocket")
    assert result.returncode == 3
    assert "HTTP 403" in result.stderr
    assert "does not speak this Engine.IO revision" in result.stderr
