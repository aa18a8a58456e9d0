"""What a server sends that no reference server would: every such frame ends the session with
a reason that names it, never with a traceback, a stray task exception or a wrong timeout.

The servers here are real WebSocket servers on 127.0.0.1 (``tests/hostile.py``) scripted to
send one bad frame; the client is the real driver, and the real command line.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from siocli.protocol import session as session_module
from siocli.protocol.engine_server import EngineServer, HttpRequest, WsAccept
from siocli.protocol.server import ClientBroke, SocketServer
from siocli.protocol.session import ClientSession, Closed, WebSocketClose
from siocli.protocol.states import EngineState
from siocli.protocol.types import SocketPacket, SocketType
from siocli.transports.config import ConnectOptions
from siocli.transports.driver import Connection
from siocli.transports.errors import ConnectError

from .hostile import scripted_websocket_server

HANDSHAKE = '{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":5000}'

FIRST_FRAMES = [
    # Engine.IO 3 binary frame: type byte 0 (open), then bytes that are not UTF-8
    pytest.param(3, b"\x00\xff", "binary", id="binary-open-not-utf8"),
    # a well-formed handshake, but in a binary frame: the handshake is JSON text (the
    # reference client would JSON.parse an ArrayBuffer, and fail)
    pytest.param(3, b"\x00" + HANDSHAKE.encode(), "binary", id="binary-open-json"),
    # revision 4: a binary frame is always a message, never the open packet
    pytest.param(4, HANDSHAKE.encode(), "binary", id="v4-binary-first"),
    pytest.param(3, b"\x04\x01\x02", "expected the open packet first", id="binary-message-first"),
    pytest.param(3, b"\x09", "unknown Engine.IO packet type byte 0x09", id="bad-type-byte"),
    pytest.param(4, "0[1,2]", "handshake", id="open-not-an-object"),
]


@pytest.mark.parametrize(("eio", "frame", "words"), FIRST_FRAMES)
def test_a_bad_first_frame_is_named_at_once(eio: int, frame: str | bytes, words: str) -> None:
    async def scenario() -> None:
        connection = Connection(ConnectOptions(url, eio=eio, transport="websocket", timeout=5))
        try:
            await connection.open()
        finally:
            await connection.close(grace=0.1)

    with scripted_websocket_server([frame]) as url:
        started = time.monotonic()
        with pytest.raises(ConnectError) as info:
            asyncio.run(scenario())
    assert words in info.value.message
    assert "parse error" in info.value.message
    assert time.monotonic() - started < 4  # told at once, not after the handshake timeout


def test_listen_names_a_binary_first_frame_without_a_traceback() -> None:
    with scripted_websocket_server([b"\x00\xff"]) as url:
        result = subprocess.run(
            [sys.executable, "-m", "siocli", "listen", url, "--eio", "3", "--timeout", "5"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert "Traceback" not in result.stderr
    assert "Task exception was never retrieved" not in result.stderr
    assert "no handshake" not in result.stderr
    assert "the open packet came in a binary frame" in result.stderr
    assert result.returncode == 3, result.stderr


def test_a_binary_frame_while_no_attachment_is_awaited_closes_with_its_reason() -> None:
    frames: list[str | bytes] = ["0" + HANDSHAKE, "40", b"\x01\x02"]

    async def scenario() -> Closed:
        connection = Connection(ConnectOptions(url, eio=4, transport="websocket", timeout=5))
        try:
            await connection.open()
            while True:
                event = await connection.next_event(5)
                if isinstance(event, Closed):
                    return event
        finally:
            await connection.close(grace=0.1)

    with scripted_websocket_server(frames) as url:
        closed = asyncio.run(scenario())
    assert closed.reason == "parse error"
    assert closed.detail is not None and "no binary packet awaits attachments" in closed.detail


def test_a_task_that_fails_inside_the_driver_ends_the_session_and_is_reported() -> None:
    """A bug in a driver task (here, a tap that raises) is taken from the task, ends the
    session as an internal error, and reaches the application: never asyncio's "Task
    exception was never retrieved", never a handshake timeout."""
    unretrieved: list[dict[str, object]] = []

    def tap(message: object) -> None:
        raise RuntimeError("tap broke")

    async def scenario() -> BaseException | None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: unretrieved.append(context)
        )
        connection = Connection(
            ConnectOptions(url, eio=4, transport="websocket", timeout=5), tap=tap
        )
        try:
            with pytest.raises(RuntimeError, match="tap broke"):
                await connection.open()
            closed = connection.session.close_reason
            assert closed is not None and closed.reason == "internal error"
            assert closed.detail is not None and "RuntimeError: tap broke" in closed.detail
            return connection.internal_error
        finally:
            await connection.close(grace=0.1)

    with scripted_websocket_server(["0" + HANDSHAKE]) as url:
        started = time.monotonic()
        error = asyncio.run(scenario())
    assert isinstance(error, RuntimeError)
    assert time.monotonic() - started < 4
    assert unretrieved == []


def test_a_bug_met_on_input_closes_the_session_with_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """h11's rule: an unexpected failure inside the session moves it to its error state
    (closed, "internal error"), asks for the close, and keeps the exception."""

    def broken(self: ClientSession, packet: SocketPacket) -> None:
        raise KeyError("bug")

    monkeypatch.setitem(session_module._SOCKET_HANDLERS, SocketType.EVENT, broken)
    session = ClientSession(eio=4, transport="websocket")
    session.data_to_send()
    session.receive_websocket_open(0.0)
    session.receive_websocket_message("0" + HANDSHAKE, 0.0)
    session.receive_websocket_message("40", 0.0)
    session.receive_websocket_message('42["hello"]', 0.0)
    closed = session.events_received()[-1]
    assert closed == Closed("internal error", "KeyError: 'bug' (a bug in siocli)")
    assert session.state is EngineState.CLOSED
    assert isinstance(session.internal_error, KeyError)
    assert WebSocketClose(1000) in session.data_to_send()
    session.receive_websocket_message('42["more"]', 1.0)  # closed: taken, and nothing happens
    assert session.events_received() == []


def test_a_message_with_no_data_is_a_parse_error_on_both_sides() -> None:
    """'4' alone: engine.io-parser hands the message over with no data, and the reference
    client and server close the session (socket.io-parser throws on it). siocli's sessions
    did read it as a CONNECT to '/'."""
    client = ClientSession(eio=4, transport="websocket")
    client.receive_websocket_open(0.0)
    client.receive_websocket_message("0" + HANDSHAKE, 0.0)
    client.receive_websocket_message("40", 0.0)
    client.events_received()
    client.receive_websocket_message("4", 0.1)
    [closed] = client.events_received()
    assert isinstance(closed, Closed) and closed.reason == "parse error"
    assert closed.detail is not None and "no data" in closed.detail

    server = SocketServer(EngineServer(), lambda sid, namespace, auth: None)
    server.receive_request(
        HttpRequest(1, "GET", {"EIO": "4", "transport": "websocket"}, {}, upgrade=True), 0.0
    )
    [accept] = [o for o in server.data_to_send() if isinstance(o, WsAccept)]
    server.receive_ws_message(accept.conn, "40", 0.0)
    server.events_received()
    server.receive_ws_message(accept.conn, "4", 0.1)
    broke = [e for e in server.events_received() if isinstance(e, ClientBroke)]
    assert [e.reason for e in broke] == ["a message packet with no data"]
    assert not server.engine.sessions
