"""Hints that point the right way: each failure named for what it is, against real servers
(python-socketio, socket.io 4 and 2), and only for the case it fits."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .command import siocli
from .realservers import ROOT, run_server
from .test_scripts import Lines

BIG = 1_200_000  # past the test servers' maxHttpBufferSize (1e6)


@pytest.fixture
def big(tmp_path: Path) -> str:
    path = tmp_path / "big.json"
    path.write_text(json.dumps("x" * BIG), encoding="utf-8")
    return f"@{path}"


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_an_origin_refusal_is_named(transport: str) -> None:
    with run_server("psio", origins=["http://good.example"]) as server:
        refused = siocli(
            "emit", server.url, "x", "--transport", transport, "-H", "Origin: http://evil.example"
        )
        allowed = siocli("emit", server.url, "x", "-H", "Origin: http://good.example")
    assert refused.returncode == 3
    assert "Origin" in refused.stderr.partition("hint:")[2]
    assert "load balancer" not in refused.stderr
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize(("kind", "says_2x"), [("node4", False), ("node2", True)])
def test_a_refusal_mentions_query_auth_only_to_a_2x_server(kind: str, says_2x: bool) -> None:
    with run_server(kind) as server:
        result = siocli("emit", server.url + "/admin", "x", "--auth", '{"token": "nope"}')
    assert result.returncode == 4
    hint = result.stderr.partition("hint:")[2]
    assert "--auth" in hint and ("2.x" in hint) is says_2x


def test_a_stopped_socketio_4_server_is_not_taken_for_a_2x_one() -> None:
    # paused before its first ping: the client's ping timeout comes with no ping ever seen,
    # which a Socket.IO 2.x server would explain; this one's handshake had a maxPayload
    with run_server("node4", pingInterval=1500, pingTimeout=500) as server:
        child = subprocess.Popen(
            [sys.executable, "-m", "siocli", "listen", server.url, "--json", "--no-reconnect"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            Lines(child).wait_for(lambda r: r["type"] == "connect")
            server.pause()
            assert child.wait(20) == 5
            assert child.stderr is not None
            said = child.stderr.read()
        finally:
            server.resume()
            child.kill()
            child.wait()
            for stream in (child.stdout, child.stderr):
                assert stream is not None
                stream.close()
    assert "ping timeout" in said
    assert "--eio 3" not in said and "stopped answering heartbeats" in said


# --- payloads over maxPayload ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "transport"), [("node2", "polling"), ("psio", "polling"), ("psio", "websocket")]
)
def test_a_payload_over_max_payload_is_explained(kind: str, transport: str, big: str) -> None:
    with run_server(kind) as server:
        result = siocli("emit", server.url, "big", "-d", big, "--transport", transport, "--ack")
    assert result.returncode == 7, result.stderr
    hint = result.stderr.partition("hint:")[2]
    assert "maxPayload" in hint and f"{BIG}" in hint.replace(",", "")


# --- replay ----------------------------------------------------------------------------------


def test_replay_eio_auto_follows_a_2x_server() -> None:
    with run_server("node2") as server:
        result = siocli(
            "replay",
            str(ROOT / "recordings" / "node4-upgrade.jsonl"),
            "--url",
            server.url,
            "--fast",
            "--auth",
            '{"token": "secret-token"}',
        )
    assert "could not replay" not in result.stdout, result.stdout
    assert "welcome" in result.stdout and "--eio auto" not in result.stdout


def test_replay_takes_query_and_says_what_was_redacted(tmp_path: Path) -> None:
    recording = tmp_path / "q.jsonl"
    with run_server("node4") as server:
        recorded = subprocess.run(
            [
                *(sys.executable, "-m", "siocli", "connect", server.url),
                *("--record", str(recording), "--query", "token=abc", "--query", "room=a"),
            ],
            input="emit --ack hello 1\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert recorded.returncode == 0, recorded.stderr
        assert "abc" not in recording.read_text(encoding="utf-8")
        missing = siocli("replay", str(recording), "--url", server.url, "--fast")
        given = siocli(
            "replay", str(recording), "--url", server.url, "--fast", "--query", "token=abc"
        )
    assert missing.returncode == 2
    assert "query parameter(s) token were redacted" in missing.stderr
    assert "--query" in missing.stderr
    assert given.returncode == 0, given.stdout


# --- URL mistakes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "meant"),
    [("http//127.0.0.1:9", "http://127.0.0.1:9"), ("https:/example.com", "https://example.com")],
)
def test_a_url_that_lost_its_colon_gets_a_did_you_mean(url: str, meant: str) -> None:
    result = siocli("emit", url, "x")
    assert result.returncode == 2
    assert f"did you mean {meant!r}" in result.stderr and "DNS" not in result.stderr


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_recorded(
    tmp_path: Path,
) -> None:
    # a listener that keeps the first request and answers 404: enough to see the headers
    requests: list[bytes] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                requests.append(data)
                connection.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        recording = tmp_path / "r.jsonl"
        result = siocli(
            "emit", f"http://user:s3cret@127.0.0.1:{port}", "x", "--record", str(recording)
        )
        thread.join(10)
    assert result.returncode == 3
    expected = base64.b64encode(b"user:s3cret").decode()
    assert f"authorization: basic {expected}".lower() in requests[0].decode().lower()
    assert "s3cret" not in result.stderr + result.stdout
    assert "s3cret" not in recording.read_text(encoding="utf-8")


# --- doctor --------------------------------------------------------------------------------


def test_doctor_does_not_blame_the_event_loop_of_a_server_that_was_killed() -> None:
    with run_server("node4", pingInterval=3000, pingTimeout=1000) as server:
        child = subprocess.Popen(
            [sys.executable, "-m", "siocli", "doctor", server.url, "--json", "--timeout", "8"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            lines = Lines(child)
            lines.wait_for(lambda r: r["check"] == "namespaces")
            server.kill()  # while the heartbeat check waits for its ping
            heartbeat = lines.wait_for(lambda r: r["check"] == "heartbeat")
            child.wait(20)
        finally:
            child.kill()
            child.wait()
            assert child.stdout is not None
            child.stdout.close()
    assert heartbeat["status"] == "fail"
    assert "event loop" not in (heartbeat["fix"] or "")
    assert "exit" in (heartbeat["fix"] or "") or "refused" in (heartbeat["fix"] or "")


def test_doctor_checks_as_a_page_of_an_origin_would_connect() -> None:
    with run_server("psio", origins=["http://good.example"]) as server:
        checks = {}
        for origin in ("http://evil.example", "http://good.example"):
            result = siocli("doctor", server.url, "--origin", origin, "--json", "--timeout", "3")
            checks[origin] = [json.loads(line) for line in result.stdout.splitlines()]
    refused = next(r for r in checks["http://evil.example"] if r["status"] == "fail")
    assert "Origin" in (refused["fix"] or "")
    allowed = {r["check"]: r["status"] for r in checks["http://good.example"]}
    assert allowed["websocket"] == "pass" and allowed["polling"] == "pass"


# --- serve ---------------------------------------------------------------------------------


def emit_as_eio_4_over_websocket(
    url: str, event: str, *more: str
) -> subprocess.CompletedProcess[str]:
    """``siocli emit URL EVENT ... --ack`` forced to Engine.IO 4 over WebSocket, as a user
    who took a Socket.IO 2.x server for a 4.x one would run it."""
    return siocli(
        *("emit", url, event, *more, "--ack"),
        *("--eio", "4", "--transport", "websocket", "--timeout", "5"),
    )


def test_serve_eio_3_says_a_client_asked_for_eio_4() -> None:
    from .test_serve import serving

    with serving("--eio", "3") as (url, view):
        client = siocli("emit", url, "x", "--eio", "4", "--transport", "polling", "--timeout", "3")
        joined = view.wait_for(lambda r: r["type"] == "join")
    assert client.returncode != 0  # a 4.x client cannot use an Engine.IO 3 session
    assert joined["eio"] == 3 and joined["asked_eio"] == "4"
    assert "asked for EIO=4" in joined["note"] and "--eio 4" in joined["note"]


def test_eio_4_against_a_2x_server_over_websocket_gets_its_ack() -> None:
    # Over WebSocket a 2.x server joins '/' by itself; a client forced to --eio 4 once
    # waited for a CONNECT answer that never came, then for its ack, until the timeout.
    with run_server("node2") as server:
        result = emit_as_eio_4_over_websocket(server.url, "hello", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert '< ack    / id=0 "hi", 1' in result.stdout


def test_a_refusal_by_a_2x_server_forced_to_eio_4_is_named_as_2x() -> None:
    # Over WebSocket, a 2.x server refuses the auth a 4.x-style CONNECT carries (it reads
    # the namespace's query); its sid-less CONNECT answer to '/' says what it is.
    with run_server("node2") as server:
        result = emit_as_eio_4_over_websocket(
            f"{server.url}/admin", "whoami", "--auth", '{"token": "secret-token"}'
        )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "as a Socket.IO 2.x server does: use --eio 3" in result.stderr
    assert "middleware" not in result.stderr


def test_the_session_says_a_sidless_connect_answer_on_eio_4_is_protocol_4() -> None:
    # What the hint above rests on, decided in the core: only an Engine.IO 4 session whose
    # CONNECT answer lacks a sid talks to a protocol 4 (Socket.IO 2.x) server.
    from siocli.protocol.session import ClientSession

    opened = '0{"sid":"S","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
    for answer, protocol_4 in (('40{"sid":"x"}', False), ("40", True)):
        session = ClientSession(eio=4, transport="websocket")
        session.receive_websocket_open(0.0)
        session.receive_websocket_message(opened, 0.0)
        session.connect("/")
        assert session.answers_as_protocol_4 is False
        session.receive_websocket_message(answer, 0.0)
        assert session.answers_as_protocol_4 is protocol_4, answer
    session = ClientSession(eio=3, transport="websocket")
    session.receive_websocket_open(0.0)
    session.receive_websocket_message(opened, 0.0)
    session.receive_websocket_message("40", 0.0)
    assert session.answers_as_protocol_4 is False  # Engine.IO 3: protocol 4 is no news


def test_the_hints_read_the_close_code_the_session_keeps() -> None:
    # RFC 6455 §7.4.1: 1009 too big, 1007/1002 unreadable; the hints read the code the
    # session took from the close frame, not the words of its detail.
    from siocli.live.hints import refused_payload, too_big_hint
    from siocli.protocol.session import ClientSession, Closed

    opened = '0{"sid":"S","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
    for code, refused in ((1009, True), (1007, True), (1002, True), (1000, False), (1006, False)):
        session = ClientSession(eio=4, transport="websocket")
        session.receive_websocket_open(0.0)
        session.receive_websocket_message(opened, 0.0)
        session.receive_websocket_closed(code, "", 0.0)
        closed = session.events_received()[-1]
        assert isinstance(closed, Closed) and closed.code == code
        assert refused_payload(closed) is refused, code
        hint = too_big_hint(closed, 10, None) or ""
        assert ("closed the WebSocket with 1009" in hint) is (code == 1009), code
