"""``siocli doctor`` against real faults on 127.0.0.1: each diagnosis is proven on a real
server with the fault set up in front of it (tests/faults/), and asserted by its words.

The doctor runs in-process through :func:`siocli.doctor.run_doctor` (what the CLI calls),
with ``--json`` output parsed line by line; two tests run the real command line.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from siocli.doctor import CHECKS, run_doctor
from siocli.exit import ExitStatus
from siocli.live import LiveOptions
from siocli.transports.config import ConnectOptions

from .faults import make_certificate, run_proxy
from .realservers import RunningServer, run_server

AUTH = {"token": "secret-token"}
HEARTBEAT = {"pingInterval": 300, "pingTimeout": 500}  # python-engineio: whole seconds
KEYS = {"check", "title", "status", "summary", "evidence", "fix", "data", "seconds"}
STICKY_WORDS = ("sticky sessions", "transports: ['websocket']")


@dataclass
class Run:
    status: ExitStatus
    checks: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    seconds: float

    def status_of(self, check: str) -> str:
        return str(self.checks[check]["status"])

    def words(self, check: str) -> str:
        """Everything a check said, in one line: summary, evidence, fix."""
        record = self.checks[check]
        return " ".join([record["summary"], *record["evidence"], record["fix"] or ""])

    def fix(self, check: str) -> str:
        return str(self.checks[check]["fix"] or "")

    def statuses(self) -> dict[str, str]:
        return {name: self.status_of(name) for name, _ in CHECKS}


class _Lines(io.StringIO):
    """stdout for the doctor: calls ``on_record`` with each JSON line as it is written."""

    def __init__(self, on_record: Callable[[dict[str, Any]], None] | None) -> None:
        super().__init__()
        self.on_record = on_record

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.on_record is not None:
            for line in text.splitlines():
                if line.strip():
                    self.on_record(json.loads(line))
        return written


def doctor(
    url: str,
    *,
    sessions: int = 3,
    namespaces: tuple[str, ...] = (),
    auth: dict[str, Any] | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    **connect: Any,
) -> Run:
    connect.setdefault("timeout", 5.0)
    options = LiveOptions(
        ConnectOptions(url, **connect), namespaces=namespaces, auth=auth, as_json=True
    )
    out, err = _Lines(on_record), io.StringIO()
    started = time.monotonic()
    status = run_doctor(options, sessions, out, err)
    seconds = time.monotonic() - started
    assert "Traceback" not in err.getvalue(), err.getvalue()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    *checks, summary = records
    assert [r["check"] for r in checks] == [name for name, _ in CHECKS]
    for record in checks:
        assert set(record) == KEYS, record
        assert record["status"] in ("pass", "warn", "fail", "skip")
        assert (record["fix"] is None) == (record["status"] in ("pass", "skip")), record
    assert summary["check"] == "summary" and summary["exit"] == int(status)
    return Run(status, {r["check"]: r for r in checks}, summary, seconds)


@pytest.fixture(scope="module")
def node4() -> Iterator[RunningServer]:
    """A socket.io 4 server with a short heartbeat, for the tests that need only one kind."""
    with run_server("node4", **HEARTBEAT) as server:
        yield server


# --- healthy servers ---------------------------------------------------------------------------


def test_healthy_server_passes_every_check_in_about_one_heartbeat(server: RunningServer) -> None:
    run = doctor(server.url)
    assert run.status is ExitStatus.OK
    assert set(run.statuses().values()) == {"pass"}, run.checks
    assert run.summary["counts"] == {"pass": 10, "warn": 0, "fail": 0, "skip": 0}
    expected = {
        "node4": "Socket.IO 3.x/4.x server (Engine.IO 4 only)",
        "node2": "Socket.IO 2.x server (Engine.IO 3; it ignores EIO=4)",
        "psio": "python-socketio",
    }[server.kind]
    assert expected in run.checks["protocol"]["summary"]
    hs = run.checks["handshake"]["data"]
    heartbeat = run.checks["heartbeat"]["data"]
    assert heartbeat["interval_ms"] == pytest.approx(hs["pingInterval"], abs=150)
    assert heartbeat["transport"] == "websocket"
    assert "session answers over the WebSocket" in run.words("websocket")
    # the cost of a healthy run is about one pingInterval
    assert run.seconds < hs["pingInterval"] / 1000 + 2


def test_allow_eio3_server_is_named() -> None:
    with run_server("node4", allowEIO3=True, **HEARTBEAT) as server:
        run = doctor(server.url, eio=3)
    assert run.status is ExitStatus.OK
    protocol = run.checks["protocol"]
    assert "allowEIO3" in protocol["summary"]
    assert protocol["data"]["eio"] == [4, 3] and protocol["data"]["using"] == 3
    assert "2.x clients can both connect" in run.words("protocol")


# --- protocol mismatches -----------------------------------------------------------------------


def test_v2_client_against_a_v4_server_without_allow_eio3(node4: RunningServer) -> None:
    run = doctor(node4.url, eio=3)
    assert run.status is ExitStatus.FINDINGS
    assert run.status_of("protocol") == "fail"
    assert "EIO=3" in run.checks["protocol"]["summary"]
    assert "Unsupported protocol version (code 5)" in run.words("protocol")
    assert "allowEIO3: true" in run.fix("protocol")
    assert "socket.io-client 3.x/4.x" in run.fix("protocol")
    # the later checks go on in the revision the server speaks
    assert run.checks["protocol"]["data"]["using"] == 4
    assert run.status_of("handshake") == run.status_of("heartbeat") == "pass"


def test_v4_client_against_a_v2_server() -> None:
    with run_server("node2", **HEARTBEAT) as server:
        run = doctor(server.url, eio=4)
    assert run.status_of("protocol") == "fail"
    assert "Socket.IO 2.x server" in run.checks["protocol"]["summary"]
    assert "Engine.IO 3 framing" in run.words("protocol")
    assert "socket.io-client 2.x" in run.fix("protocol")
    assert "upgrade the server to socket.io 4" in run.fix("protocol")


# --- path --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def custom_path_server() -> Iterator[RunningServer]:
    with run_server("node4", path="/custom/", **HEARTBEAT) as server:
        yield server


def test_path_without_its_trailing_slash(custom_path_server: RunningServer) -> None:
    run = doctor(custom_path_server.url, path="/custom")
    assert run.status_of("path") == "fail"
    words = run.words("path")
    assert "nothing answers Engine.IO at /custom (HTTP 404" in words
    assert "/custom/ does" in run.checks["path"]["summary"]
    assert "--path /custom/" in run.fix("path") and "trailing slash" in run.fix("path")
    # the rest is diagnosed on the path that works
    assert run.checks["path"]["data"]["path"] == "/custom/"
    assert all(run.status_of(c) == "pass" for c in ("protocol", "polling", "heartbeat"))


def test_path_given_in_the_url_is_a_namespace(custom_path_server: RunningServer) -> None:
    run = doctor(custom_path_server.url + "/custom")
    assert run.status_of("path") == "fail"
    fix = run.fix("path")
    assert "taken as a namespace" in fix
    assert f"siocli doctor {custom_path_server.url} --path /custom/" in fix
    assert run.status_of("namespaces") == "fail"
    assert "Invalid namespace" in run.words("namespaces")


def test_no_path_answers(custom_path_server: RunningServer) -> None:
    run = doctor(custom_path_server.url)
    assert run.status_of("path") == "fail"
    assert "nor at /socket.io, /engine.io/" in run.checks["path"]["summary"]
    assert "--path" in run.fix("path")
    later = [name for name, _ in CHECKS][2:]
    for check in later:
        assert run.status_of(check) == "skip"
        assert "no handshake path answers" in run.checks[check]["summary"]


# --- a proxy that strips the WebSocket upgrade -------------------------------------------------


def test_proxy_that_strips_the_upgrade_header() -> None:
    with (
        run_server("node4", **HEARTBEAT) as server,
        run_proxy(backends=[server.port], strip_upgrade=True) as port,
    ):
        run = doctor(f"http://127.0.0.1:{port}")
    assert run.status is ExitStatus.FINDINGS
    assert run.status_of("websocket") == "fail"
    summary = run.checks["websocket"]["summary"]
    assert "reached the server as plain HTTP" in summary
    assert "Upgrade and Connection headers were removed" in summary
    assert "upgrade from polling: fails the same way" in run.words("websocket")
    assert "proxy_set_header Upgrade $http_upgrade" in run.fix("websocket")
    # long-polling still works, and the session-level checks run over it
    assert run.status_of("polling") == run.status_of("sticky") == "pass"
    assert run.status_of("namespaces") == run.status_of("heartbeat") == "pass"
    assert run.checks["heartbeat"]["data"]["transport"] == "polling"


# --- two instances behind a round-robin balancer without affinity ------------------------------


@pytest.fixture(scope="module")
def instances() -> Iterator[list[int]]:
    """Two python-socketio processes: two instances of one app, sharing no sessions."""
    with (
        run_server("psio", pingInterval=1000, pingTimeout=1000) as one,
        run_server("psio", pingInterval=1000, pingTimeout=1000) as two,
    ):
        yield [one.port, two.port]


@pytest.fixture
def balancer(instances: list[int]) -> Iterator[int]:
    """A round-robin balancer in front of them, without affinity."""
    with run_proxy(backends=instances) as port:
        yield port


def test_the_live_client_names_the_missing_sticky_sessions_too(balancer: int) -> None:
    # python-engineio words it "Invalid session" in a bare JSON string, with no code
    runs = [
        _siocli("emit", f"http://127.0.0.1:{balancer}", "hello", "--transport", "polling")
        for _ in range(3)  # round robin: a session may land on one instance by chance
    ]
    failed = [run for run in runs if run.returncode != 0]
    assert failed, [run.stdout for run in runs]
    for run in failed:
        assert "Invalid session" in run.stderr
        assert "enable sticky sessions on the load balancer" in run.stderr
        assert "Traceback" not in run.stderr


def test_round_robin_without_sticky_sessions(balancer: int) -> None:
    run = doctor(f"http://127.0.0.1:{balancer}")
    assert run.status is ExitStatus.FINDINGS
    sticky = run.checks["sticky"]
    assert sticky["status"] == "fail"
    assert sticky["summary"].startswith("no sticky sessions")
    assert "does not know their session (Invalid session)" in sticky["summary"]
    assert sticky["data"]["unknown_session"] >= 1
    assert all(words in sticky["fix"] for words in STICKY_WORDS)
    # the same cause, seen by the polling round trip and by the upgrade
    assert "does not know the session" in run.checks["polling"]["summary"]
    assert "sticky sessions" in run.fix("polling")
    assert "does not know the session" in run.words("websocket")
    # WebSocket-only sessions live on one connection: namespaces and heartbeat pass
    assert run.status_of("namespaces") == run.status_of("heartbeat") == "pass"


def test_affinity_cookie_fixes_it(instances: list[int]) -> None:
    with run_proxy(backends=instances, affinity=True) as port:
        run = doctor(f"http://127.0.0.1:{port}")
    assert run.status is ExitStatus.OK, run.checks
    cookie = "cookie SERVERID (Path=/; HttpOnly): a load balancer's affinity cookie"
    assert cookie in run.words("handshake")
    assert run.checks["handshake"]["data"]["cookies"] == ["SERVERID"]
    assert "cookies sent back, as a browser does: SERVERID" in run.words("sticky")
    assert run.checks["sticky"]["data"]["unknown_session"] == 0


def test_websocket_only_clients_are_not_affected(balancer: int) -> None:
    run = doctor(f"http://127.0.0.1:{balancer}", transport="websocket", sessions=2)
    assert run.status_of("sticky") == "warn"
    assert "WebSocket-only: it is not affected" in run.fix("sticky")


# --- namespaces and auth -----------------------------------------------------------------------


def test_namespace_auth_and_unknown_namespace(server: RunningServer) -> None:
    run = doctor(server.url, namespaces=("/admin", "/nope"))
    assert run.status_of("namespaces") == "fail"
    record = run.checks["namespaces"]
    assert "2 of 3 namespaces refused" in record["summary"]
    assert "/admin (not authorized)" in record["summary"]
    unknown = "Unable to connect" if server.kind == "psio" else "Invalid namespace"
    assert f"/nope ({unknown})" in record["summary"]
    # the CONNECT_ERROR as the server sent it: protocol 5 has data, protocol 4 a string
    said = 'message "not authorized"' + (', data {"code":42}' if server.eio == 4 else "")
    assert any(
        line.startswith("/admin: refused in") and line.endswith(f": CONNECT_ERROR {said}")
        for line in record["evidence"]
    ), record["evidence"]
    assert "no --auth was given" in record["fix"] and "--auth JSON" in record["fix"]
    assert f"/nope does not exist on the server ({unknown})" in record["fix"]
    assert "--path /nope/" in record["fix"]
    assert record["data"]["namespaces"]["/"]["status"] == "connected"


def test_namespace_with_the_right_auth(server: RunningServer) -> None:
    run = doctor(server.url + "/admin", auth=AUTH)
    assert run.status is ExitStatus.OK
    assert run.checks["namespaces"]["summary"] == "joined /admin"


def test_namespace_with_the_wrong_auth(node4: RunningServer) -> None:
    run = doctor(node4.url, namespaces=("/admin",), auth={"token": "nope"})
    record = run.checks["namespaces"]
    assert record["status"] == "fail"
    assert "refused this --auth on /admin" in record["fix"]


# --- TLS ---------------------------------------------------------------------------------------


def _tls_front(backend: RunningServer, cert: Path, key: Path) -> Any:
    return run_proxy(backends=[backend.port], tls={"cert": str(cert), "key": str(key)})


def test_self_signed_certificate(node4: RunningServer, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    with _tls_front(node4, cert, key) as port:
        url = f"https://127.0.0.1:{port}"
        refused = doctor(url)
        insecure = doctor(url, insecure=True)
        trusted = doctor(url, cacert=str(cert))
    reach = refused.checks["reach"]
    assert reach["status"] == "fail"
    assert reach["summary"] == "TLS: the certificate is self-signed"
    assert "--cacert FILE" in reach["fix"] and "-k" in reach["fix"]
    assert refused.status is ExitStatus.FINDINGS
    assert all(refused.status_of(c) == "skip" for c, _ in CHECKS[1:])
    # -k gets through, and still says what it hides
    assert insecure.status is ExitStatus.OK
    assert insecure.status_of("reach") == "warn"
    assert "-k hides it: the certificate is self-signed" in insecure.checks["reach"]["summary"]
    assert all(insecure.status_of(c) == "pass" for c, _ in CHECKS[1:])
    # trusted with --cacert: verified, and the certificate shown
    assert trusted.status is ExitStatus.OK
    assert trusted.status_of("reach") == "pass"
    assert "certificate for 127.0.0.1" in trusted.words("reach")


def test_certificate_for_another_host_and_expired(node4: RunningServer, tmp_path: Path) -> None:
    other, other_key = make_certificate(tmp_path, "example.test")
    old, old_key = make_certificate(tmp_path, expired=True)
    with _tls_front(node4, other, other_key) as port:
        wrong_host = doctor(f"https://127.0.0.1:{port}", cacert=str(other))
    with _tls_front(node4, old, old_key) as port:
        expired = doctor(f"https://127.0.0.1:{port}", cacert=str(old))
    assert (
        wrong_host.checks["reach"]["summary"] == "TLS: the certificate is not for this IP address"
    )
    assert "subjectAltName" in wrong_host.fix("reach")
    assert expired.checks["reach"]["summary"] == "TLS: the certificate is expired"
    assert "renew" in expired.fix("reach")


def test_plain_http_port_asked_for_tls(node4: RunningServer) -> None:
    run = doctor(f"https://127.0.0.1:{node4.port}")
    assert run.checks["reach"]["summary"] == "the port does not speak TLS (plain HTTP?)"
    assert "use http://" in run.fix("reach")


# --- a server that stops answering heartbeats --------------------------------------------------


@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_server_that_stops_answering_pings(kind: str) -> None:
    with run_server(kind, pingInterval=1500, pingTimeout=700) as server:

        def freeze_after_namespaces(record: dict[str, Any]) -> None:
            # The heartbeat session is open by then and waits for its first ping (1.5 s
            # after its handshake): freeze the server now, so no heartbeat comes.
            if record["check"] == "namespaces":
                server.pause()

        run = doctor(server.url, on_record=freeze_after_namespaces)
        server.resume()
    heartbeat = run.checks["heartbeat"]
    assert run.status_of("namespaces") == "pass"
    assert heartbeat["status"] == "fail"
    if kind == "node4":  # Engine.IO 4: the server pings
        assert heartbeat["summary"] == (
            "no ping from the server within pingInterval + pingTimeout (1500 + 700 ms): "
            "clients disconnect with 'ping timeout'"
        )
    else:  # Engine.IO 3: the client pings, the server must answer
        assert heartbeat["summary"] == (
            "the server did not answer our ping within pingTimeout (700 ms)"
        )
    assert "event loop may be blocked" in heartbeat["fix"]
    assert "the session ended: ping timeout" in run.words("heartbeat")
    assert run.seconds < 6


# --- an HTTP proxy in use ----------------------------------------------------------------------


def test_forward_proxy_in_use(node4: RunningServer) -> None:
    with run_proxy(forward=True) as port:
        through = doctor(node4.url, proxy=f"http://127.0.0.1:{port}")
    with run_proxy(forward=True, refuse_connect=True) as port:
        refusing = doctor(node4.url, proxy=f"http://127.0.0.1:{port}")
    assert through.status is ExitStatus.OK
    assert "(from --proxy)" in through.words("reach")
    assert "CONNECT 127.0.0.1:" in through.words("reach") and "200" in through.words("reach")
    assert refusing.status_of("reach") == "warn"
    assert "the proxy refuses to tunnel" in refusing.checks["reach"]["summary"]
    assert refusing.status_of("websocket") == "fail"
    assert "the proxy refused to tunnel the WebSocket" in refusing.checks["websocket"]["summary"]
    assert refusing.status_of("polling") == "pass"


# --- the command line --------------------------------------------------------------------------


def _siocli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "siocli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_command_line_unreachable_server() -> None:
    result = _siocli("doctor", "http://127.0.0.1:9", "--json", "--timeout", "3")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["check"] == "reach" and records[0]["status"] == "fail"
    assert records[0]["summary"] == "connection refused to port 9"
    assert "is the server running" in records[0]["fix"]
    assert [r["status"] for r in records[1:-1]] == ["skip"] * 9
    assert records[-1] == {
        "check": "summary",
        "status": "fail",
        "counts": {"pass": 0, "warn": 0, "fail": 1, "skip": 9},
        "exit": 1,
        "seconds": records[-1]["seconds"],
    }


def test_command_line_human_output(node4: RunningServer) -> None:
    result = _siocli("doctor", node4.url)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # NO_COLOR
    assert out.startswith("✓ 1. Reach: 127.0.0.1:")
    for number, (_, title) in enumerate(CHECKS, 1):
        assert f"✓ {number}. {title}: " in out
    assert "10 checks in" in out and "10 passed (exit 0)" in out
