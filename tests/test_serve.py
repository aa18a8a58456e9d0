"""siocli serve: real clients (socket.io-client 4.x and 2.x, python-socketio) against it, and
the reference server's answers to bad requests (engine.io lib/server.ts,
``Server.errorMessages``)."""

from __future__ import annotations

import asyncio
import functools
import json
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import httpx
import pytest

from . import realservers
from .realservers import ROOT

AUTH = '{"token": "secret-token"}'


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, LiveView]]:
    """``siocli serve --json ARGS`` on a free port: its URL, and its live view."""
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "serve", "--port", "0", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    view = LiveView(process.stdout)  # read as it comes: a full pipe would stop the server
    try:
        yield view.wait_for(lambda r: r["type"] == "listening")["url"], view
    finally:
        process.terminate()
        process.wait(10)
        view.rest()
        process.stdout.close()


@contextmanager
def siocli_serve(*args: str) -> Iterator[str]:
    with serving(*args) as (url, _):
        yield url


class LiveView:
    """The JSON lines a ``serve --json`` prints, read as they come (a thread reads them),
    so that a test waits for the line it expects rather than for some time."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        """The first record (from the start) that is ``wanted``; fails after ``timeout``."""
        for record in self.seen:
            if wanted(record):
                return record
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                pytest.fail(f"no such record in {timeout} s; seen {self.seen}")
            if line is None:
                pytest.fail(f"the output ended; seen {self.seen}")
            self.seen.append(json.loads(line))
            if wanted(self.seen[-1]):
                return self.seen[-1]

    def rest(self) -> list[dict[str, Any]]:
        """Every record, once the process has ended."""
        self.thread.join(10)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(json.loads(line))
        return self.seen


@pytest.fixture(scope="module")
def serve4() -> Iterator[str]:
    with siocli_serve("-n", "/admin", "--auth", AUTH) as url:
        yield url


@pytest.fixture(scope="module")
def serve3() -> Iterator[str]:
    with siocli_serve("--eio", "3", "-n", "/admin", "--auth", AUTH) as url:
        yield url


def node_client(version: int, url: str, transports: list[str]) -> list[dict]:
    node = realservers.node()
    spec = json.dumps({"version": version, "url": url, "transports": transports})
    result = subprocess.run(
        [node, str(ROOT / "tests" / "clients" / "node_client.js"), spec],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


TRANSPORTS = [["polling"], ["websocket"], ["polling", "websocket"]]


@pytest.mark.parametrize("version", [4, 2])
@pytest.mark.parametrize("transports", TRANSPORTS, ids=["polling", "websocket", "upgrade"])
def test_the_node_clients(version: int, transports: list[str], serve4: str, serve3: str) -> None:
    records = node_client(version, serve4 if version == 4 else serve3, transports)
    by_type = {(r["type"], r.get("event") or r.get("nsp")): r for r in records}
    assert ("connect", "/") in by_type and ("connect", "/admin") in by_type
    assert by_type[("ack", "hello")]["args"] == [1, "two", {"three": [3]}]
    assert by_type[("ack", "admin-hello")]["args"] == ["admin"]
    assert by_type[("ack", "upload")]["args"] == [
        {"$binary": "010203"},
        {"nested": {"$binary": "0405"}},
    ]
    assert by_type[("event", "echo")]["args"] == ["text", {"$binary": "ff"}]
    refused = by_type[("connect_error", "/admin")]
    assert refused["message"] == "not authorized"
    if version == 4:
        assert refused["data"] == {"required": ["token"]}
    assert by_type[("transport", None)]["name"] == transports[-1]


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_the_python_socketio_client(transport: str, serve4: str) -> None:
    import socketio

    async def scenario() -> dict:
        got: dict = {}
        client = socketio.AsyncClient(reconnection=False)
        echoed = asyncio.get_running_loop().create_future()

        @client.on("echo")
        async def echo(*args: object) -> None:
            echoed.set_result(list(args))

        await client.connect(serve4, transports=[transport], namespaces=["/"])
        got["ack"] = await client.call("hello", (1, "two"), timeout=5)
        got["binary"] = await client.call("upload", (b"\x01\x02", {"n": b"\x03"}), timeout=5)
        await client.emit("echo", ("x", b"\xff"))
        got["echo"] = await asyncio.wait_for(echoed, 5)
        got["transport"] = client.transport()
        await client.disconnect()
        return got

    got = asyncio.run(scenario())
    assert list(got["ack"]) == [1, "two"]
    assert list(got["binary"]) == [b"\x01\x02", {"n": b"\x03"}]
    assert got["echo"] == ["x", b"\xff"]
    assert got["transport"] == transport


# --- bad requests: the reference server's answers --------------------------------------------


def get(url: str, **query: str) -> httpx.Response:
    return httpx.get(url + "/socket.io/", params=query, timeout=5)


@pytest.mark.parametrize(
    ("query", "method", "status", "body"),
    [
        ({"EIO": "4"}, "GET", 400, {"code": 0, "message": "Transport unknown"}),
        ({"EIO": "4", "transport": "abc"}, "GET", 400, {"code": 0, "message": "Transport unknown"}),
        (
            {"EIO": "4", "transport": "polling", "sid": "nope"},
            "GET",
            400,
            {"code": 1, "message": "Session ID unknown"},
        ),
        (
            {"EIO": "4", "transport": "polling"},
            "POST",
            400,
            {"code": 2, "message": "Bad handshake method"},
        ),
        ({"transport": "polling"}, "POST", 400, {"code": 2, "message": "Bad handshake method"}),
        ({"EIO": "4", "transport": "websocket"}, "GET", 400, {"code": 3, "message": "Bad request"}),
        (
            {"EIO": "3", "transport": "polling"},
            "GET",
            400,
            {"code": 5, "message": "Unsupported protocol version"},
        ),
        (
            {"transport": "polling"},
            "GET",
            400,
            {"code": 5, "message": "Unsupported protocol version"},
        ),
    ],
)
def test_bad_handshakes(serve4: str, query: dict, method: str, status: int, body: dict) -> None:
    response = httpx.request(method, serve4 + "/socket.io/", params=query, timeout=5)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


def handshake(url: str, eio: str = "4") -> str:
    response = get(url, EIO=eio, transport="polling")
    assert response.status_code == 200
    body = response.text
    return json.loads(body[body.index("{") : body.index("}") + 1])["sid"]


def test_post_answers_and_limits(serve4: str) -> None:
    sid = handshake(serve4)
    url = serve4 + "/socket.io/"
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    ok = httpx.post(url, params=params, content=b"40", timeout=5)
    assert (ok.status_code, ok.text, ok.headers["content-type"]) == (200, "ok", "text/html")
    binary = httpx.post(
        url,
        params=params,
        content=b"\x01",
        timeout=5,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert binary.status_code == 400  # no binary payloads in Engine.IO 4: the session is over
    assert get(serve4, **params).json() == {"code": 1, "message": "Session ID unknown"}


def test_a_poll_the_client_gives_up_ends_its_session_as_the_reference_does() -> None:
    """A client gives up a pending GET (closes its connection): engine.io ends the session
    ("poll connection closed prematurely"), and the next GET is "Session ID unknown". serve
    did not notice, and answered the next GET as an overlapping poll: an empty 400."""
    import socket
    from urllib.parse import urlsplit

    with serving() as (url, view):
        sid = handshake(url)
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        joined = httpx.post(url + "/socket.io/", params=params, content=b"40", timeout=5)
        assert joined.status_code == 200
        view.wait_for(lambda r: r["type"] == "join")
        assert "40" in get(url, **params).text  # the CONNECT's answer: now a poll waits
        target = urlsplit(url)
        with socket.create_connection((target.hostname, target.port), timeout=5) as poll:
            # "Expect: 100-continue": serve says when it holds the poll; then it is cut
            poll.sendall(
                f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                f"Host: {target.netloc}\r\nExpect: 100-continue\r\n\r\n".encode()
            )
            assert poll.recv(100).startswith(b"HTTP/1.1 100")
        left = view.wait_for(lambda r: r["type"] == "leave")
        assert left["reason"] == "transport error"
        assert get(url, **params).json() == {"code": 1, "message": "Session ID unknown"}


def test_long_polls_on_one_kept_alive_connection_are_each_answered() -> None:
    """A browser polls again on the same connection. While a poll is held, serve watches
    its connection for a close; that watch must let go of the connection when the poll is
    answered, or the next request's read fails ("read() called while another coroutine is
    already waiting"), and the connection is dropped with an internal error."""
    import socket
    from urllib.parse import urlsplit

    with serving() as (url, view):
        sid = handshake(url)
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        post = functools.partial(httpx.post, url + "/socket.io/", params=params, timeout=5)
        assert post(content=b"40").status_code == 200
        view.wait_for(lambda r: r["type"] == "join")
        target = urlsplit(url)
        request = (
            f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
            f"Host: {target.netloc}\r\nExpect: 100-continue\r\n\r\n"
        ).encode()
        with socket.create_connection((target.hostname, target.port), timeout=5) as kept:
            stream = kept.makefile("rb")
            for number in range(3):
                kept.sendall(request)
                status = stream.readline()
                if number == 0 and b" 200 " in status:  # the CONNECT's answer, at once
                    _read_rest(stream)
                    kept.sendall(request)
                    status = stream.readline()
                assert status.startswith(b"HTTP/1.1 100"), status  # held
                assert stream.readline() == b"\r\n"
                assert post(content=f'42["echo",{number}]'.encode()).status_code == 200
                assert stream.readline().startswith(b"HTTP/1.1 200"), number  # answered
                assert f'["echo",{number}]'.encode() in _read_rest(stream)


def _read_rest(stream: IO[bytes]) -> bytes:
    """The headers after the status line, then the body (Content-Length)."""
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return stream.read(length)


@pytest.mark.parametrize("eio", ["4", "3"])
def test_a_post_over_max_payload_closes_the_session(eio: str, serve4: str, serve3: str) -> None:
    """413, and the session is closed: engine.io 3.x closes it (it destroys the connection,
    see the next test), and the JS client closes on the failed POST; engine.io >= 6.2
    answers 413 but leaves the session open on its side. siocli kept it open."""
    url = serve4 if eio == "4" else serve3
    sid = handshake(url, eio)
    params = {"EIO": eio, "transport": "polling", "sid": sid}
    body = b"4" + b"x" * 1_000_000 if eio == "4" else b"1000001:4" + b"x" * 1_000_000
    too_big = httpx.post(url + "/socket.io/", params=params, content=body, timeout=5)
    assert too_big.status_code == 413
    assert get(url, **params).json() == {"code": 1, "message": "Session ID unknown"}


def test_the_reference_2x_closes_the_session_on_a_post_over_max_payload() -> None:
    with realservers.run_server("node2", maxHttpBufferSize=1000) as server:
        sid = handshake(server.url, "3")
        params = {"EIO": "3", "transport": "polling", "sid": sid}
        with pytest.raises(httpx.TransportError):  # the connection is destroyed
            httpx.post(server.url + "/socket.io/", params=params, content=b"x" * 2000, timeout=5)
        assert get(server.url, **params).json() == {"code": 1, "message": "Session ID unknown"}


def test_a_client_ping_breaks_the_heartbeat_direction(serve4: str) -> None:
    sid = handshake(serve4)
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    assert httpx.post(serve4 + "/socket.io/", params=params, content=b"2", timeout=5).text == "ok"
    assert get(serve4, **params).json()["code"] == 1  # closed: invalid heartbeat direction


def test_overlapping_polls(either: str) -> None:
    sid = handshake(either)
    params = {"EIO": "4", "transport": "polling", "sid": sid}

    async def both() -> tuple[tuple[int, bytes] | None, httpx.Response]:
        first = await held_poll(either, sid)
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                second = await client.get(either + "/socket.io/", params=params)
            return await first.response(), second
        finally:
            first.close()

    first, second = asyncio.run(both())
    assert second.status_code == 400
    assert first == (200, b"1")  # the pending poll ends: close
    assert get(either, **params).json()["code"] == 1


def test_revision_3_framing_and_the_implicit_main_namespace(serve3: str) -> None:
    body = get(serve3, EIO="3", transport="polling").text
    length, _, rest = body.partition(":")
    assert rest.startswith("0{") and int(length) == len(rest[: int(length)])
    assert rest[int(length) :] == "2:40"  # Socket.IO 2.x joins '/' in the handshake answer
    assert "maxPayload" not in rest


def test_not_found_outside_the_path(serve4: str) -> None:
    assert httpx.get(serve4 + "/other", timeout=5).status_code == 404


def _serve_and_emit(*options: str) -> tuple[list[dict], str]:
    """Run ``siocli serve --json OPTIONS``, emit one event with an ack at it, stop it: its
    JSON lines after 'listening', and its stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "serve", "--port", "0", "--json", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    emitted = subprocess.run(
        [sys.executable, "-m", "siocli", "emit", ready["url"], "hello", "1", "--ack"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert emitted.returncode == 0, emitted.stderr
    process.terminate()
    out, err = process.communicate(timeout=10)
    return [json.loads(line) for line in out.splitlines()], err


def test_the_live_view_quiet_and_verbose() -> None:
    records, _ = _serve_and_emit()
    assert [r["type"] for r in records] == ["join", "event", "leave"]
    assert (records[1]["event"], records[1]["args"], records[1]["id"]) == ("hello", [1], 0)
    quiet, _ = _serve_and_emit("-q")
    assert quiet == []  # no line per client action (the listening line came first)
    _, wire = _serve_and_emit("-v")
    # every wire message, annotated as decode shows it, on stderr
    assert '=> Engine.IO "open" packet type' in wire
    assert '420["hello",1]' in wire and "430[1]" in wire
    policy, first = wire.splitlines()[:2]
    assert policy == "── CORS: any origin (reflected, with credentials; --cors ORIGIN restricts it)"
    assert first.startswith("── client ")  # whose messages follow (sessions interleave)


def test_a_bug_while_serving_a_client_is_one_line_not_a_traceback() -> None:
    import io

    from siocli.transports.server import FrontEnd

    errors = io.StringIO()
    front = FrontEnd([], errors=errors)
    loop = asyncio.new_event_loop()
    try:
        front._internal_error(loop, {"message": "task failed", "exception": KeyError("nsp")})
    finally:
        loop.close()
    assert errors.getvalue() == (
        "siocli: internal error while serving a client: KeyError: 'nsp' "
        "(a bug: please report it; --traceback shows where)\n"
    )


def test_the_wire_view_shows_what_goes_out_when_it_goes_out() -> None:
    # A WebSocket frame the server sends was shown only at the client's next input (here:
    # a second later, its disconnect), stamped with that later time.
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "serve", "--port", "0", "--json", "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    subprocess.run(
        [
            *(sys.executable, "-m", "siocli", "connect", ready["url"]),
            *("--transport", "websocket", "--timeout", "1"),
        ],
        input="emit echo x\nwait never\n",  # 'wait' gives up after --timeout: 1 s later
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    process.terminate()
    _, wire = process.communicate(timeout=10)
    times = dict(re.findall(r'#\d+ ([<>]) websocket\s+([\d.]+)s\s+42\["echo","x"\]', wire))
    assert set(times) == {">", "<"}, wire
    assert float(times["<"]) - float(times[">"]) < 0.5, times


def test_the_live_view_tells_refusals_and_protocol_errors() -> None:
    with serving("-n", "/admin", "--auth", AUTH) as (url, view):
        for namespace, auth in (("/nope", "{}"), ("/admin", '{"token": "wrong"}')):
            refused = subprocess.run(
                [sys.executable, "-m", "siocli", "emit", url + namespace, "x", "--auth", auth],
                capture_output=True,
                timeout=20,
                check=False,
            )
            assert refused.returncode == 4
        sid = handshake(url)
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        # the CONNECT after the invalid packet is dropped: no join follows the error
        body = b"4zzz\x1e40"
        assert httpx.post(url + "/socket.io/", params=params, content=body, timeout=5).text == "ok"
        broke = view.wait_for(lambda r: r["type"] == "protocol_error")
    records = view.seen
    refusals = [(r["nsp"], r["message"]) for r in records if r["type"] == "refuse"]
    assert refusals == [("/nope", "Invalid namespace"), ("/admin", "not authorized")]
    assert broke["sid"] == sid and "unknown Socket.IO packet type 'z'" in broke["reason"]
    assert [r for r in records if r["type"] == "join"] == []  # every other CONNECT was refused


def test_status_lines_carry_nodes_reason_phrases(serve4: str) -> None:
    unknown = get(serve4, EIO="4", transport="polling", sid="nope")
    assert (unknown.status_code, unknown.reason_phrase) == (400, "Bad Request")
    assert get(serve4, EIO="4", transport="polling").reason_phrase == "OK"


# --- the MUSTs of the specs, as the reference server keeps them ----------------------------
# Each runs against siocli serve and against the reference (socket.io 4.8, engine.io 6.x),
# with raw requests: what a real client would not send.


@pytest.fixture(scope="module")
def reference4() -> Iterator[str]:
    with realservers.run_server("node4") as server:
        yield server.url


@pytest.fixture(params=["siocli", "reference"])
def either(request: pytest.FixtureRequest, serve4: str) -> str:
    """siocli serve, then the reference: the same assertions hold for both."""
    if request.param == "siocli":
        return serve4
    url: str = request.getfixturevalue("reference4")
    return url


class RawWebSocket:
    """A WebSocket client that sends what it is told, valid or not (websockets' sans-I/O
    client protocol does the framing, and does not check what it is given to send)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from websockets.client import ClientProtocol

        self.reader = reader
        self.writer = writer
        self.protocol: Any = ClientProtocol
        self.pending: list[Any] = []

    @classmethod
    async def open(cls, url: str, query: str = "EIO=4&transport=websocket") -> RawWebSocket:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        ws = cls(reader, writer)
        ws.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/socket.io/?{query}"))
        ws.protocol.send_request(ws.protocol.connect())
        ws._flush()
        await ws._next()  # the 101
        return ws

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.writer.write(data)

    async def _next(self) -> Any:
        while not self.pending:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            self.pending.extend(self.protocol.events_received())
            self._flush()
            if not data and not self.pending:
                raise ConnectionError("closed")
        return self.pending.pop(0)

    def send_text(self, data: bytes) -> None:
        """A text frame with ``data`` as it is (UTF-8 or not)."""
        self.protocol.send_text(data)
        self._flush()

    async def messages_until_close(self) -> tuple[list[str], int | None]:
        """The text messages, then the close code the server sent (``None``: none)."""
        from websockets.frames import Frame, Opcode

        texts = []
        while True:
            try:
                event = await self._next()
            except ConnectionError:
                return texts, None
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                texts.append(event.data.decode())
            elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                return texts, self.protocol.close_rcvd.code

    def close(self) -> None:
        self.writer.close()


def test_a_text_frame_that_is_not_utf8_fails_the_connection(either: str) -> None:
    """RFC 6455 §8.1: an invalid UTF-8 text message fails the connection, close code 1007
    (siocli echoed it with U+FFFD in place of the bad bytes)."""

    async def scenario() -> tuple[list[str], int | None]:
        ws = await RawWebSocket.open(either)
        try:
            handshake = await ws._next()
            assert handshake.data.startswith(b"0{")
            ws.send_text(b"40")
            ws.send_text(b'42["echo","\xff\xfe"]')
            return await ws.messages_until_close()
        finally:
            ws.close()

    texts, code = asyncio.run(scenario())
    assert code == 1007
    assert not [t for t in texts if t.startswith("42")]  # nothing was echoed


def test_nothing_follows_the_close_packet(either: str) -> None:
    """An invalid packet ends the session; the CONNECT and the event after it in the same
    POST are dropped (siocli answered them: the next poll carried ``1``, then ``40{...}``
    and the echo)."""
    sid = handshake(either)
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    body = '4zzz\x1e40\x1e42["echo",1]'
    assert httpx.post(either + "/socket.io/", params=params, content=body, timeout=5).text == "ok"
    packets = get(either, **params).text.split("\x1e")
    assert packets[-1] == "1"
    assert set(packets[:-1]) <= {"6"}  # the reference sends a noop before the close
    assert get(either, **params).json() == {"code": 1, "message": "Session ID unknown"}


class RawHttp:
    """One HTTP/1.1 connection that sends what it is told, when it is told (h11 frames
    it). ``Expect: 100-continue`` makes a server say when it has taken a request: Node's
    HTTP server and siocli serve answer ``100 Continue`` once the request reached the
    Engine.IO server and waits (for its body; a poll, for data to answer with)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import h11

        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, url: str) -> RawHttp:
        port = int(url.rsplit(":", 1)[1])
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def send_head(self, method: str, target: str, headers: dict[str, str]) -> None:
        import h11

        head = [("Host", "127.0.0.1"), *headers.items()]
        self.writer.write(self.h11.send(h11.Request(method=method, target=target, headers=head)))

    def send_body(self, data: bytes, *, end: bool = False) -> None:
        import h11

        out = self.h11.send(h11.Data(data=data)) or b""
        if end:
            out += self.h11.send(h11.EndOfMessage()) or b""
        self.writer.write(out)

    async def response(self) -> tuple[int, bytes] | None:
        """The next answer: (status, body), 100 included; ``None``: the server closed the
        connection without one."""
        import h11

        status, body = 0, b""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError:
                return None
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(self.reader.read(65536), 5)
                self.h11.receive_data(data)
                continue
            if isinstance(event, h11.InformationalResponse):
                return event.status_code, b""
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, body
            elif isinstance(event, h11.ConnectionClosed):
                return None

    def close(self) -> None:
        self.writer.close()


async def held_poll(url: str, sid: str, eio: str = "4", path: str = "/socket.io/") -> RawHttp:
    """A GET the server holds (it said so with ``100 Continue``): await ``response()``."""
    poll = await RawHttp.open(url)
    target = f"{path}?EIO={eio}&transport=polling&sid={sid}"
    poll.send_head("GET", target, {"Expect": "100-continue"})
    assert await poll.response() == (100, b"")
    return poll


def test_a_second_post_while_the_first_is_received_closes_the_session(either: str) -> None:
    """engine.io-protocol v4, Sending data: "a client MUST NOT have more than one active
    POST request. Should it happen, the server MUST return an HTTP 400 error status and
    close the session". The reference also drops the first POST, with no answer. (siocli
    answered both 200, and read their bodies in the order they ended.)"""
    sid = handshake(either)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"

    async def scenario() -> tuple[tuple[int, bytes] | None, int, tuple[int, bytes] | None]:
        poll = await held_poll(either, sid)
        first = await RawHttp.open(either)
        headers = {"Content-Type": "text/plain;charset=UTF-8", "Content-Length": "20"}
        first.send_head("POST", target, {**headers, "Expect": "100-continue"})
        assert await first.response() == (100, b"")  # taken: its body is awaited
        first.send_body(b"40")  # a part of it
        async with httpx.AsyncClient(timeout=5) as client:
            second = await client.post(either + target, content=b'42["b"]')
        try:
            return await first.response(), second.status_code, await poll.response()
        finally:
            first.close()
            poll.close()

    first, second, poll = asyncio.run(scenario())
    assert second == 400
    assert first is None  # dropped: the connection is closed with no answer
    assert poll == (200, b"1")  # the session ends: the pending poll gets the close packet
    assert get(either, EIO="4", transport="polling", sid=sid).json()["code"] == 1


def test_a_post_cut_short_closes_the_session(either: str) -> None:
    """A POST whose connection closes before the end of its body ends the session, as the
    reference's ("data request connection closed prematurely")."""
    sid = handshake(either)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"

    async def scenario() -> tuple[int, bytes] | None:
        poll = await held_poll(either, sid)
        post = await RawHttp.open(either)
        post.send_head("POST", target, {"Content-Length": "20", "Expect": "100-continue"})
        assert await post.response() == (100, b"")
        post.send_body(b"40")
        post.close()
        try:
            return await poll.response()
        finally:
            poll.close()

    assert asyncio.run(scenario()) == (200, b"1")
    assert get(either, EIO="4", transport="polling", sid=sid).json()["code"] == 1


def test_a_post_answered_before_its_body_is_not_waited_for(serve4: str) -> None:
    """``Expect: 100-continue`` and an answer at once (an unknown sid): the client need not
    send its body (RFC 9110 §10.1.1), so the connection closes instead of waiting for it."""

    async def scenario() -> tuple[tuple[int, bytes] | None, tuple[int, bytes] | None]:
        post = await RawHttp.open(serve4)
        target = "/socket.io/?EIO=4&transport=polling&sid=nope"
        post.send_head("POST", target, {"Content-Length": "5", "Expect": "100-continue"})
        try:
            return await post.response(), await post.response()
        finally:
            post.close()

    answer, after = asyncio.run(scenario())
    assert answer is not None and answer[0] == 400
    assert after is None  # closed
