"""The live client's fast paths give what the general paths give.

- :class:`ClientSession` decodes the text message packets of an open session in one step;
  its events and its parse errors (offsets included) are those of the general path.
- The WebSocket connection reads plain frames itself and hands websockets everything else
  (ping, compressed messages, fragments); long-polling to plain ``http://`` goes over
  siocli's own HTTP/1.1 client (gzip bodies, cookies, kept-alive connections, timeouts).
  A scripted socket.io server (tests/servers/scripted.js) sends all of that, and
  ``siocli listen --json`` prints the same events over both transports, in the script's
  order. The expected lines are the script's; siocli printed exactly these before it had
  the fast paths.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import subprocess
import sys
from typing import Any

import pytest

from siocli.protocol import engineio
from siocli.protocol.session import ClientSession
from siocli.protocol.states import EngineState
from siocli.protocol.types import Transport
from siocli.transports.config import ConnectOptions, parse_target
from siocli.transports.errors import Timeout
from siocli.transports.http import PlainClient, ReadTimeout, describe_http_failure

from .realservers import run_server

OPEN_WS = '0{"sid":"S","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'

# Message packets of an open session, as a server may send them: the common shapes, and
# what the decoders refuse (each of those ends the session with a parse error).
GOOD: list[str | bytes] = [
    '42["a",1]',
    '42/admin,["b",{"c":[1,2]}]',
    '4217["asks",null]',
    '42/admin,3["asks too"]',
    "42[7]",
    '43/admin,0["ack",true]',
    '43/admin,9["nobody asked"]',
    '451-["bin",{"_placeholder":true,"num":0}]',
    b"\x01\x02",
    '452-/admin,5["two",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
    b"\x03",
    b"",
    '44/nope,{"message":"refused","data":{"code":1}}',
    "41/admin,",
    '40/later,{"sid":"L"}',
    '42["é ✓ \\u2028",{"x":"\\ud83d\\ude00"}]',
]
BAD = [
    '42["connect"]',
    '42{"a":1}',
    "42[",
    '42["a"]x',
    "42[]",
    "47",
    '45-["x"]',
    "4/admin",
    '43/admin,x["a"]',
    '42/admin,1 2["a"]',
]


def open_session(transport: Transport) -> ClientSession:
    session = ClientSession(eio=4, transport=transport)
    if transport is Transport.WEBSOCKET:
        session.receive_websocket_message(OPEN_WS, 0.0)
    else:
        session.receive_poll(OPEN_WS, 0.0)
    session.connect("/")
    session.connect("/admin")
    for answer in ('40{"sid":"A"}', '40/admin,{"sid":"B"}'):
        general(session, answer)
    session.emit("ask", namespace="/admin", ack=True)  # id 0: the ack above is expected
    session.data_to_send()
    session.events_received()
    return session


def general(session: ClientSession, data: str | bytes) -> None:
    """What the session did with every message before the fast path: the Engine.IO packet
    first, then its handling."""
    if session.state is not EngineState.CLOSED:
        session._receive_engine(engineio.decode_packet(data, 4), 0.0, session.transport)


def outcome(session: ClientSession) -> tuple[Any, ...]:
    session.data_to_send()  # the next GET, when polling: the transport's, not the packet's
    return session.events_received(), session.state, session.close_reason


@pytest.mark.parametrize("transport", [Transport.WEBSOCKET, Transport.POLLING])
def test_message_packets_give_the_general_paths_events(transport: Transport) -> None:
    fast, slow = open_session(transport), open_session(transport)
    for message in GOOD:
        if transport is Transport.WEBSOCKET:
            fast.receive_websocket_message(message, 0.0)
        elif isinstance(message, str):  # a polling body of one packet
            fast.receive_poll(message, 0.0)
        else:
            fast.receive_poll("b" + base64.b64encode(message).decode(), 0.0)
        general(slow, message)
        assert outcome(fast) == outcome(slow), message
    assert fast.close_reason is None


@pytest.mark.parametrize("transport", [Transport.WEBSOCKET, Transport.POLLING])
@pytest.mark.parametrize("message", BAD)
def test_parse_errors_say_what_the_general_path_says(transport: Transport, message: str) -> None:
    fast, slow = open_session(transport), open_session(transport)
    if transport is Transport.WEBSOCKET:
        fast.receive_websocket_message(message, 0.0)
    else:
        fast.receive_poll(message, 0.0)
    general(slow, message)
    assert outcome(fast) == outcome(slow)
    assert fast.close_reason is not None and fast.close_reason.reason == "parse error"
    assert fast.close_reason.detail == slow.close_reason.detail  # type: ignore[union-attr]


def test_text_while_an_attachment_is_awaited_takes_the_general_path() -> None:
    fast, slow = open_session(Transport.WEBSOCKET), open_session(Transport.WEBSOCKET)
    for message in ('451-["bin",{"_placeholder":true,"num":0}]', '42["too soon"]'):
        fast.receive_websocket_message(message, 0.0)
        general(slow, message)
    assert outcome(fast) == outcome(slow)
    assert "binary attachment(s)" in (fast.close_reason.detail or "")  # type: ignore[union-attr]


# --- the scripted server ---------------------------------------------------------------------

TICKS = 300


def expected(transport: str) -> list[dict[str, Any]]:
    """The lines of ``listen URL -n /admin --auto-ack '["ok", 1]' --until end --json``
    against scripted.js, per namespace in order, without ``t``, sids as ``<sid>``."""

    def script(nsp: str) -> list[dict[str, Any]]:
        def event(name: str, *args: Any, ack: int | None = None) -> dict[str, Any]:
            return {"type": "event", "nsp": nsp, "event": name, "args": list(args), "id": ack}

        admin = nsp == "/admin"
        lines = [
            {"type": "connect", "nsp": nsp, "sid": "<sid>"},
            event("text", "héllo ✓ \u2028", 1, -2.5, True, None, {"a": [1, {"b": "c"}]}),
            event(
                "bin",
                {"$binary": "AQID"},
                {"nested": [{"$binary": ""}, {"$binary": "/w=="}]},
            ),
            *([event("ask", nsp, ack=0)] if admin else []),
            event("long", "x" * 300),
            *(event("tick", {"n": n, "nsp": nsp}) for n in range(TICKS)),
        ]
        if admin:
            lines.append(event("ask-binary", {"$binary": "YWI="}, ack=1))
            lines += [event("answered", nsp, "ok", 1)] * 2
        else:
            if transport == "websocket":
                lines.append(event("fragmented", "in two pieces"))
                lines.append(event("after-fragments", "still in order"))
            lines.append(event("end"))
        return lines

    return script("/") + script("/admin")


LISTEN = ("--auto-ack", '["ok", 1]', "--until", "end", "--json")


def listen(url: str, *extra: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "siocli", "listen", url, *extra, "-n", "/admin", *LISTEN],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # not splitlines(): it also splits at U+2028, which JSON lines carry unescaped
    return [json.loads(line) for line in result.stdout.split("\n") if line]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_listen_prints_the_scripts_events_over_both_transports(transport: str) -> None:
    with run_server("scripted", ticks=TICKS) as server:
        if transport == "websocket":
            records = listen(server.url.replace("http://", "ws://") + "/")
        else:
            records = listen(server.url + "/", "--transport", "polling")
    opened = records[0]
    assert opened["type"] == "open" and opened["transport"] == transport
    got = []
    for record in records[1:]:
        record.pop("t")
        if "sid" in record:
            record["sid"] = "<sid>"
        got.append(record)
    by_namespace = sorted(got, key=lambda r: r["nsp"] != "/")  # stable: order kept within
    assert by_namespace == expected(transport)


def test_plain_http_gzip_cookies_and_kept_alive_connections() -> None:
    async def scenario(url: str) -> None:
        target = parse_target(ConnectOptions(url))
        client = PlainClient(target, {"User-Agent": "test"})
        query = {"EIO": "4", "transport": "polling"}
        first = await client.get(target.http_url(query), timeout=5)
        assert first.status_code == 200
        assert first.headers["content-encoding"] == "gzip"  # the open packet is > 64 bytes
        sid = json.loads(first.text[1:])["sid"]
        assert client.cookies == {"io": sid}
        await asyncio.sleep(0.4)  # longer than the server keeps an idle connection
        answer = await client.post(
            target.http_url({**query, "sid": sid}),
            content=b"40",
            headers={"Content-Type": "text/plain;charset=UTF-8"},
            timeout=5,
        )
        assert (answer.status_code, answer.text) == (200, "ok")
        connect = await client.get(target.http_url({**query, "sid": sid}), timeout=5)
        assert connect.text.startswith("40{")
        await client.aclose()

    with run_server("scripted", ticks=1, keepAlive=200) as server:
        asyncio.run(scenario(server.url))


def test_plain_http_read_timeout_is_a_timeout() -> None:
    async def scenario(url: str) -> BaseException:
        target = parse_target(ConnectOptions(url))
        client = PlainClient(target, {})
        try:
            await client.get(target.http_url({"EIO": "4", "transport": "polling"}), timeout=0.3)
        except ReadTimeout as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("no timeout")

    with run_server("node4") as server:
        server.pause()
        try:
            exc = asyncio.run(scenario(server.url))
        finally:
            server.resume()
    failure = describe_http_failure(exc, parse_target(ConnectOptions(server.url)))
    assert isinstance(failure, Timeout)
    assert failure.message == f"127.0.0.1:{server.port} did not answer in time (ReadTimeout)"


# --- HTTP/1.1 framing (h11's): a server that writes raw bytes ----------------------------------


class RawServer:
    """Answers each request with the next of ``answers``, written in the pieces given (a
    short pause between them, so the client reads a response in parts); a ``None`` next
    closes the connection. Records each request head and counts connections."""

    def __init__(self, answers: list[list[bytes] | None]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0
        self.handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await asyncio.wait_for(asyncio.gather(*self.handlers), 5)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while self.answers:
                self.requests.append(await reader.readuntil(b"\r\n\r\n"))
                for piece in self.answers.pop(0) or ():
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.01)
                if self.answers and self.answers[0] is None:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def test_plain_http_chunked_bodies_on_a_kept_alive_connection() -> None:
    text = "hello, wörld".encode()
    gzipped = gzip.compress(b"x" * 1000)
    first = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: text/plain; charset=UTF-8\r\nSet-Cookie: io=abc; Path=/\r\n\r\n",
        b"5;ext=1\r\n" + text[:5] + b"\r\n%x\r\n" % (len(text) - 5) + text[5:8],
        text[8:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n",
    ]
    second = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        + b"%x\r\n" % 10
        + gzipped[:10]
        + b"\r\n%x\r\n" % (len(gzipped) - 10)
        + gzipped[10:]
        + b"\r\n0\r\n\r\n"
    ]

    async def scenario() -> None:
        async with RawServer([first, second]) as server:
            target = parse_target(ConnectOptions(f"http://127.0.0.1:{server.port}"))
            client = PlainClient(target, {"User-Agent": "test"})
            url = target.http_url({"EIO": "4", "transport": "polling"})
            answer = await client.get(url, timeout=5)
            assert (answer.status_code, answer.text) == (200, "hello, wörld")
            assert client.cookies == {"io": "abc"}
            answer = await client.get(url, timeout=5)
            assert answer.content == b"x" * 1000
            await client.aclose()
        assert server.connections == 1  # the second GET went on the first's connection
        head = (
            f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{server.port}"
            "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
            "User-Agent: test\r\n"
        ).encode()
        assert server.requests == [head + b"\r\n", head + b"Cookie: io=abc\r\n\r\n"]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("answer", "failure"),
    [
        ([b"SSH-2.0-OpenSSH_9.6\r\n\r\n"], "not an HTTP/1.1 answer: "),
        ([b"HTTP/1.1 2OO OK\r\n\r\n"], "not an HTTP/1.1 answer: "),
        ([b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n"], "not an HTTP/1.1 answer: "),
        ([b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n"], "not an HTTP/1.1 answer: "),
        (
            [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"],
            "not an HTTP/1.1 answer: ",
        ),
        (
            [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"],
            "the connection was cut in the middle of the answer",
        ),
        ([b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc"], "the "),
    ],
)
def test_plain_http_malformed_answers_fail_the_request(answer: list[bytes], failure: str) -> None:
    async def scenario() -> tuple[BaseException, int]:
        # A cut-short answer is one the server closes the connection on.
        answers: list[list[bytes] | None] = [answer, None]
        async with RawServer(answers) as server:
            target = parse_target(ConnectOptions(f"http://127.0.0.1:{server.port}"))
            client = PlainClient(target, {})
            url = target.http_url({"EIO": "4", "transport": "polling"})
            with pytest.raises(OSError) as caught:
                await client.get(url, timeout=5)
            await asyncio.sleep(0.05)
            assert not client._open  # the connection is not used again
            await client.aclose()
            return caught.value, server.port

    exc, port = asyncio.run(scenario())
    what = describe_http_failure(exc, parse_target(ConnectOptions(f"http://127.0.0.1:{port}")))
    assert what.message.startswith(f"HTTP request to 127.0.0.1:{port} failed: {failure}")
