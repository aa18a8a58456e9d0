"""siocli proxy between real clients and real servers: through the proxy, every client sees
exactly what it sees on a direct connection; the live view, the recordings and the faults.

Servers: socket.io 4 and 2 (Node), python-socketio. Clients: socket.io-client 4 and 2
(Node), python-socketio's client (and headless Chromium, in test_proxy_browser.py).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import realservers
from .command import siocli
from .realservers import http_server, python_client, run_server

CLIENTS = Path(__file__).parent / "clients"
AUTH = '{"token": "secret-token"}'
VERSION = {"node4": 4, "node2": 2, "psio": 4}  # the Node client that speaks to each server
TRANSPORTS = {
    "upgrade": ["polling", "websocket"],
    "polling": ["polling"],
    "websocket": ["websocket"],
}


@dataclass
class RunningProxy:
    url: str
    process: subprocess.Popen[str]
    output: str = ""
    errors: str = ""

    def stop(self) -> str:
        """Ctrl-C; what the live view said."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.output, errors = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.output, errors = self.process.communicate()
        self.errors += errors
        return self.output


@contextmanager
def run_proxy(target: str, *options: str) -> Iterator[RunningProxy]:
    """``siocli proxy TARGET --listen 0 OPTIONS``; stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "proxy", target, "--listen", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    match = re.search(r"(https?://127\.0\.0\.1:\d+) →", first)
    if match is None:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the proxy did not start: {first}{err}{out}")
    running = RunningProxy(match.group(1), process, errors=first)
    try:
        yield running
    finally:
        running.stop()


def node_app(version: int, url: str, mode: str = "app", **spec: Any) -> list[dict[str, Any]]:
    """socket.io-client running tests/clients/proxy_app.js: what it observed."""
    done = subprocess.run(
        [
            realservers.node(),
            str(CLIENTS / "proxy_app.js"),
            json.dumps({"version": version, "url": url, "mode": mode, **spec}),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"type": "timeout"} not in records, (records, done.stderr)
    return records


def psio_app(url: str, transport: str) -> list[dict[str, Any]]:
    records = python_client(url, transport)
    for record in records:  # the socket ids: they differ on every connection
        record.pop("id", None)
        if record.get("event") == "welcome":
            record["args"][0]["sid"] = "<socket id>"
    return records


def unordered(records: list[dict[str, Any]]) -> list[str]:
    """Records of several sockets interleave freely: compare them as a sorted list."""
    return sorted(json.dumps(r, sort_keys=True) for r in records)


# --- transparent relay ---------------------------------------------------------------------------


@pytest.mark.node
@pytest.mark.parametrize("transport", list(TRANSPORTS))
@pytest.mark.parametrize("kind", ["node4", "node2", "psio"])
def test_the_node_client_sees_what_it_sees_directly(kind: str, transport: str) -> None:
    with run_server(kind) as server, run_proxy(server.url) as proxy:
        expect = "polling" if transport == "polling" else "websocket"
        spec = {"transports": TRANSPORTS[transport], "expect": expect}
        direct = node_app(VERSION[kind], server.url, **spec)
        relayed = node_app(VERSION[kind], proxy.url, **spec)
        view = proxy.stop()
    assert unordered(relayed) == unordered(direct)
    # the scenario really ran: acks, binary both ways, namespaces with auth, refusals
    assert {
        "type": "ack",
        "event": "binary",
        "args": [{"$binary": "010203"}, {"nested": {"$binary": "0405"}}],
    } in relayed
    assert {"type": "whoami", "auth": {"token": "secret-token"}} in relayed
    refused = [r for r in relayed if r["type"] == "connect_error"]
    assert len(refused) == 2
    assert {"type": "transport", "name": expect} in relayed
    # four client sessions, each labelled with its sid, and the messages shown annotated
    for label in ("c1", "c2", "c3", "c4"):
        assert re.search(rf"^── {label} \S+$", view, re.MULTILINE), view
    assert re.search(r'Socket.IO "(CONNECT_)?ERROR" packet type', view)
    assert "=> event 'hello' with 3 arguments" in view or "'hello' with 3" in view
    if transport == "upgrade":
        assert "⇧ upgrade: now over websocket" in view


@pytest.mark.parametrize("transport", ["auto", "polling", "websocket"])
@pytest.mark.parametrize("kind", ["node4", "psio"])
def test_the_python_socketio_client_sees_what_it_sees_directly(kind: str, transport: str) -> None:
    # a short heartbeat: the python client on polling waits for its last long-poll to end
    with run_server(kind, pingInterval=1000) as server, run_proxy(server.url, "-q") as proxy:
        direct = psio_app(server.url, transport)
        relayed = psio_app(proxy.url, transport)
        view = proxy.stop()
    assert relayed == direct
    assert {"type": "event", "event": "answered", "args": ["yes", {"$binary": "07"}]} in relayed
    assert re.search(r"c1 > event / \"hello\" 1, \"two\", \{\"three\": \[3\]\}  \(asks ack", view)


def test_the_server_refusing_a_client_refuses_it_the_same_way() -> None:
    """Engine.IO errors (an unknown sid, a bad revision) come back as the server said."""
    import httpx

    with run_server("node4") as server, run_proxy(server.url) as proxy:
        answers = []
        for base in (server.url, proxy.url):
            bad_sid = httpx.get(f"{base}/socket.io/?EIO=4&transport=polling&sid=nope")
            bad_eio = httpx.get(f"{base}/socket.io/?EIO=3&transport=polling")
            other = httpx.get(f"{base}/elsewhere")
            answers.append(
                [
                    (r.status_code, r.headers.get("content-type"), r.content)
                    for r in (bad_sid, bad_eio, other)
                ]
            )
        view = proxy.stop()
    assert answers[0] == answers[1]
    assert answers[1][0][0] == 400 and b"Session ID unknown" in answers[1][0][2]
    assert answers[1][2][0] == 404
    assert "GET /elsewhere → 404" in view


def test_a_target_that_is_down_gets_502_with_the_reason() -> None:
    import socket

    import httpx

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with run_proxy(f"http://127.0.0.1:{port}") as proxy:
        answer = httpx.get(f"{proxy.url}/socket.io/?EIO=4&transport=polling")
        view = proxy.stop()
    assert answer.status_code == 502
    assert answer.text.startswith(f"siocli proxy: cannot reach http://127.0.0.1:{port}")
    assert "502 sent to the client" in view


def test_a_target_that_accepts_no_connection_gets_504_after_the_timeout() -> None:
    """A listening socket whose accept queue is full: the kernel leaves further SYNs
    unanswered, as a host behind a silent firewall does."""
    import socket

    import httpx

    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        queued = []
        try:
            # fill the accept queue (one or two connections, by kernel): until one hangs
            for _ in range(8):
                waiting = socket.socket()
                waiting.setblocking(False)
                queued.append(waiting)
                if waiting.connect_ex(("127.0.0.1", port)) != 0:
                    break
            with run_proxy(f"http://127.0.0.1:{port}", "--timeout", "0.5") as proxy:
                answer = httpx.get(f"{proxy.url}/socket.io/?EIO=4&transport=polling", timeout=20)
                view = proxy.stop()
        finally:
            for waiting in queued:
                waiting.close()
    assert answer.status_code == 504
    assert answer.text.startswith(
        f"siocli proxy: no answer from http://127.0.0.1:{port} within 0.5 s (connecting)"
    ), answer.text
    assert "504 sent to the client" in view


def test_tls_upstream_is_verified_and_listening_with_tls_works(tmp_path: Path) -> None:
    """An https target with a self-signed certificate: 502 saying why; with --cacert it
    relays; and the proxy itself can listen with TLS (--cert/--key)."""
    import ssl

    import httpx

    cert, key = _self_signed(tmp_path)
    with run_server("psio", certfile=str(cert), keyfile=str(key)) as server:
        target = f"https://127.0.0.1:{server.port}"
        with run_proxy(target) as proxy:
            refused = httpx.get(f"{proxy.url}/socket.io/?EIO=4&transport=polling")
        with run_proxy(
            target, "--cacert", str(cert), "--cert", str(cert), "--key", str(key)
        ) as proxy:
            assert proxy.url.startswith("https://")
            relayed = httpx.get(
                f"{proxy.url}/socket.io/?EIO=4&transport=polling",
                verify=ssl.create_default_context(cafile=str(cert)),
            )
            view = proxy.stop()
    assert refused.status_code == 502
    assert "TLS verification of" in refused.text and "--cacert" in refused.text
    assert relayed.status_code == 200 and relayed.text.startswith("0{")
    assert "Engine.IO 4 over polling" in view


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# --- the live view -------------------------------------------------------------------------------


@pytest.mark.node
def test_json_gives_decode_json_lines_with_the_session_label() -> None:
    with run_server("node4") as server, run_proxy(server.url, "--json") as proxy:
        node_app(4, proxy.url)
        output = proxy.stop()
    lines = [json.loads(line) for line in output.splitlines()]
    messages = [line for line in lines if "type" not in line]
    notes = [line for line in lines if "type" in line]
    decode_keys = {"index", "dir", "transport", "eio", "time", "eio_type", "raw", "findings"}
    assert messages and all(decode_keys | {"session", "sid"} <= set(m) for m in messages)
    assert {m["session"] for m in messages} == {"c1", "c2", "c3", "c4"}
    # the same wire message decodes to the same object as `siocli decode --json` gives
    hello = next(m for m in messages if m.get("event") == "hello" and m["dir"] == "c2s")
    decoded = subprocess.run(
        [sys.executable, "-m", "siocli", "decode", "--json", "--eio", "4", hello["raw"]],
        capture_output=True,
        text=True,
        check=True,
    )
    alone = json.loads(decoded.stdout.splitlines()[0])
    for key in ("eio_type", "sio_type", "nsp", "id", "data", "event", "args"):
        assert hello[key] == alone[key]
    assert {"open", "close", "upgrade"} <= {n["type"] for n in notes}
    assert all(n["session"] in {"c1", "c2", "c3", "c4"} for n in notes if n["type"] == "open")


@pytest.mark.node
def test_quiet_with_a_glob_and_a_namespace_shows_only_those() -> None:
    with run_server("node4") as server:
        with run_proxy(server.url, "-q", "hel*") as proxy:
            node_app(4, proxy.url)
            globbed = proxy.stop()
        with run_proxy(server.url, "-q", "-n", "/admin") as proxy:
            node_app(4, proxy.url)
            admin = proxy.stop()
    shown = [line for line in globbed.splitlines() if " > " in line or " < " in line]
    assert shown and all('"hello"' in line or " ack " in line for line in shown), globbed
    assert any('> event / "hello" 1, "two"' in line for line in shown)
    assert any('< ack   / id=0 "hi", 1' in line for line in shown)  # the answer to hello
    assert "echo" not in globbed and "whoami" not in globbed
    shown = [line for line in admin.splitlines() if " > " in line or " < " in line]
    assert shown and all("/admin" in line for line in shown)
    assert any("✗ refused /admin" in line for line in shown)


# --- recordings ----------------------------------------------------------------------------------


def node_recorded(version: int, url: str, **spec: Any) -> list[dict[str, Any]]:
    """tests/clients/node_recorded_client.js (recordings/record.sh's scenario)."""
    done = subprocess.run(
        [
            realservers.node(),
            str(CLIENTS / "node_recorded_client.js"),
            json.dumps({"version": version, "url": url, **spec}),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records and {"type": "timeout"} not in records, (records, done.stderr)
    return records


@pytest.mark.node
@pytest.mark.parametrize("transport", ["upgrade", "websocket"])
@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_proxy_recordings_replay_and_serve_as_the_server(
    kind: str, transport: str, tmp_path: Path
) -> None:
    version = VERSION[kind]
    with run_server(kind) as server:
        with run_proxy(server.url, "--record", str(tmp_path), "-q") as proxy:
            node_recorded(version, proxy.url, transports=TRANSPORTS[transport])
            proxy.stop()
        [recording] = list(tmp_path.glob("c1-*.jsonl"))
        text = recording.read_text()
        assert "secret-token" not in text and "[redacted]" in text  # redacted by default
        replayed = subprocess.run(
            [
                sys.executable,
                "-m",
                "siocli",
                "replay",
                str(recording),
                "--fast",
                "--auth",
                AUTH,
                "--ignore",
                "clock[0].time",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert re.search(r"PASS: (\d+)/\1 steps as recorded", replayed.stdout)
    # the same recording, played as the server to the Node client
    mock = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siocli",
            "replay",
            str(recording),
            "--serve",
            "--port",
            "0",
            "--fast",
            "--strict",
            "--clients",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert mock.stdout is not None
        match = re.search(r"(http://127\.0\.0\.1:\d+)", mock.stdout.readline())
        assert match
        played = node_recorded(version, match.group(1), transports=TRANSPORTS[transport])
        out, err = mock.communicate(timeout=20)
    finally:
        if mock.poll() is None:
            mock.kill()
            mock.communicate()
    assert mock.returncode == 0, out + err
    assert re.search(r"PASS: (\d+)/\1 steps as recorded", out)
    seen = {f"{r['type']} {r.get('event', '')}": r for r in played}
    assert seen["ack hello"]["args"] == ["hi", 1, "two", {"three": [3]}]
    assert seen["ack whoami"]["args"] == [{"token": "secret-token"}]


# --- faults --------------------------------------------------------------------------------------

HEARTBEAT = {"pingInterval": 300, "pingTimeout": 300}


@pytest.mark.node
@pytest.mark.parametrize(
    ("cut", "transport"), [("6", "websocket"), ("6", "polling"), ("1s", "upgrade")]
)
@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_cut_after_makes_the_client_reconnect(kind: str, cut: str, transport: str) -> None:
    # A short heartbeat: a cut in the middle of the upgrade leaves socket.io-client's polling
    # paused (engine.io-client's probe gives up without resuming it), and then only the
    # ping timeout tells the client its transport is gone.
    with (
        run_server(kind, **HEARTBEAT) as server,
        run_proxy(server.url, "--cut-after", cut, "-q") as proxy,
    ):
        records = node_app(VERSION[kind], proxy.url, "reconnect", transports=TRANSPORTS[transport])
        view = proxy.stop()
    # (a slow machine may see a session cut even before its first connect: it retries too)
    types = [r["type"] for r in records]
    first = types.index("connect")
    assert types[first : first + 3] == ["connect", "disconnect", "connect"], records
    records = records[first:]
    reasons = ("transport close", "transport error")
    assert records[1]["reason"] in (
        reasons if transport != "upgrade" else (*reasons, "ping timeout")
    )
    assert "(--cut-after)" in view and "c2 ◆ open" in view  # a second session: it reconnected


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_no_upgrade_keeps_the_client_on_polling(kind: str) -> None:
    with run_server(kind) as server, run_proxy(server.url, "--no-upgrade", "-q") as proxy:
        records = node_app(VERSION[kind], proxy.url, "upgrade")
        view = proxy.stop()
    assert {"type": "upgrade_error", "transport": "polling"} in records
    assert records[-1]["type"] == "ack" and records[-1]["transport"] == "polling"
    assert "WebSocket refused with 403 (--no-upgrade)" in view


@pytest.mark.node
@pytest.mark.parametrize("transport", ["upgrade", "polling"])
@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_stall_heartbeat_makes_the_client_time_out(kind: str, transport: str) -> None:
    with (
        run_server(kind, **HEARTBEAT) as server,
        run_proxy(server.url, "--stall-heartbeat", "-q") as proxy,
    ):
        records = node_app(VERSION[kind], proxy.url, "heartbeat", transports=TRANSPORTS[transport])
        view = proxy.stop()
    assert records == [{"type": "connect"}, {"type": "disconnect", "reason": "ping timeout"}]
    assert "swallowed (--stall-heartbeat)" in view


@pytest.mark.node
@pytest.mark.parametrize("transport", ["polling", "websocket"])
@pytest.mark.parametrize("kind", ["node4", "node2"])
def test_dropped_events_never_reach_the_client(kind: str, transport: str) -> None:
    spec = {"transports": TRANSPORTS[transport]}
    with run_server(kind) as server:
        with run_proxy(server.url, "-q") as proxy:  # the same scenario, nothing dropped
            [kept] = node_app(VERSION[kind], proxy.url, "drop", **spec)
        with run_proxy(server.url, "--drop", "s2c:tick", "--drop", "c2s:ech*", "-q") as proxy:
            [dropped] = node_app(VERSION[kind], proxy.url, "drop", **spec)
            view = proxy.stop()
    assert kept["seen"] == {"tick": 3, "echo": 1}
    assert dropped["seen"] == {"tick": 0, "echo": 0}
    assert dropped["args"] == ["hi", "last"]  # the rest went through
    assert view.count("< event 'tick' dropped (--drop tick)") == 3
    assert view.count("> event 'echo' dropped (--drop ech*)") == 1


@pytest.mark.node
def test_latency_delays_each_direction_and_changes_nothing_else() -> None:
    with run_server("node4") as server, run_proxy(server.url, "--latency", "40±10") as proxy:
        direct = node_app(4, server.url)
        relayed = node_app(4, proxy.url)
        proxy.stop()
    assert unordered(relayed) == unordered(direct)
    assert "(latency 40±10 ms)" in proxy.errors


# --- headers -------------------------------------------------------------------------------------


@contextmanager
def header_echo() -> Iterator[str]:
    """An HTTP server that answers with the request's headers as JSON, setting two cookies
    (a load balancer's affinity cookie among them), chunked."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = json.dumps([[k, v] for k, v in self.headers.items()]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", "AWSALB=affinity-1; Path=/")
            self.send_header("Set-Cookie", "io=abc; Path=/; HttpOnly")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:7], body[7:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Handler) as url:
        yield url


def test_headers_host_and_cookies() -> None:
    import httpx

    with header_echo() as target:
        netloc = target.removeprefix("http://")
        sent = {"Cookie": "AWSALB=affinity-1", "X-App": "mine"}
        with run_proxy(target, "-H", "X-Added: 1", "-H", "x-app: replaced") as proxy:
            answer = httpx.get(f"{proxy.url}/anything?x=1", headers=sent)
        with run_proxy(target, "--preserve-host") as preserving:
            kept = httpx.get(f"{preserving.url}/anything", headers=sent)
    received = dict((k.lower(), v) for k, v in answer.json())
    assert received["host"] == netloc  # rewritten to the target's
    assert received["x-added"] == "1" and received["x-app"] == "replaced"
    assert received["cookie"] == "AWSALB=affinity-1"
    assert answer.headers.get_list("set-cookie") == [
        "AWSALB=affinity-1; Path=/",
        "io=abc; Path=/; HttpOnly",
    ]
    assert dict((k.lower(), v) for k, v in kept.json())["host"] == preserving.url.removeprefix(
        "http://"
    )


@pytest.mark.node
def test_a_msgpack_session_is_recorded_as_one_with_its_auth_redacted(tmp_path: Path) -> None:
    """The proxy learns the parser from the traffic: the recording says MessagePack (replay
    and replay --serve read it with that parser), and the auth inside the binary CONNECT
    stays redacted."""
    auth = json.dumps({"token": "secret-token"})
    with (
        run_server("node4", parser="msgpack") as server,
        run_proxy(server.url, "--record", str(tmp_path), "-q") as proxy,
    ):
        emitted = siocli(
            *("emit", proxy.url, "hello", "1", "--parser", "msgpack", "-n", "/admin"),
            *("--auth", auth),
        )
        assert emitted.returncode == 0, emitted.stderr
        proxy.stop()
    [recording] = list(tmp_path.glob("c1-*.jsonl"))
    assert json.loads(recording.read_text().splitlines()[0])["parser"] == "msgpack"
    decoded = siocli("decode", "--json", str(recording))  # the parser the recording says
    connects = [
        line["data"]
        for line in map(json.loads, decoded.stdout.splitlines())
        if line.get("sio_type") == "CONNECT" and line.get("dir") == "c2s"
    ]
    assert connects and all(data == {"token": "[redacted]"} for data in connects), decoded.stdout


def test_a_kept_alive_connection_the_server_closed_is_not_a_502() -> None:
    """Node closes idle kept-alive connections after 5 s: a request the proxy would send on
    such a connection goes on a new one."""
    import socketserver
    import threading

    import httpx

    class OneAnswer(socketserver.BaseRequestHandler):
        def handle(self) -> None:  # one answer per connection, closed without saying so
            data = b""
            while b"\r\n\r\n" not in data:
                data += self.request.recv(4096)
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), OneAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = f"http://127.0.0.1:{server.server_address[1]}"
        with run_proxy(target) as proxy, httpx.Client() as client:
            answers = [client.get(f"{proxy.url}/socket.io/?EIO=4&x={i}") for i in range(5)]
            answers += [client.get(f"{proxy.url}/page{i}") for i in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert [a.status_code for a in answers] == [200] * 8


def test_the_live_view_honours_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich's own no_color keeps bold and dim: NO_COLOR means no escape sequence at all
    monkeypatch.setenv("FORCE_COLOR", "1")  # as if on a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    with run_server("node4") as server, run_proxy(server.url) as proxy:
        node_app(4, proxy.url)
        output = proxy.stop()
    assert '"hello"' in output, output  # the view showed the session
    assert "\x1b[" not in output
