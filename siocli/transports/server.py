"""The asyncio front end of ``siocli serve``: HTTP/1.1 with h11, WebSocket with websockets'
sans-I/O protocol, both on one port.

It only moves bytes: requests go to the sans-I/O server of the path they are for (an
:class:`~siocli.protocol.server.SocketServer`, or a bare Engine.IO server), and what that
server answers (``data_to_send``) goes back out. h11 comes with httpx; websockets' protocol
layer is the one the client side uses. Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from .. import __version__
from ..exit import CommandError, ExitStatus, report
from ..protocol.engine_server import (
    HttpAbort,
    HttpRequest,
    HttpResponse,
    Output,
    WsAccept,
    WsClose,
    WsReject,
    WsSend,
)
from .cors import CorsPolicy, CorsSeen, CorsVerdict

__all__ = ["Endpoint", "FrontEnd", "SansServer"]

_SERVER = f"siocli/{__version__}"
_CLOSE_TIMEOUT = 2.0  # seconds a WebSocket peer has to close after the closing handshake


class SansServer(Protocol):
    """What the front end drives (EngineServer and SocketServer both are)."""

    def receive_request(self, request: HttpRequest, now: float) -> None: ...
    def receive_body(self, request: int, data: bytes, now: float) -> None: ...
    def receive_body_end(self, request: int, now: float) -> None: ...
    def receive_request_closed(self, request: int, now: float) -> None: ...
    def receive_ws_message(self, conn: int, data: str | bytes, now: float) -> None: ...
    def receive_ws_closed(self, conn: int, now: float, *, failed: bool = False) -> None: ...
    def receive_timeout(self, now: float) -> None: ...
    def next_deadline(self) -> float | None: ...
    def data_to_send(self) -> list[Output]: ...
    def has_events(self) -> bool: ...


@dataclass
class Endpoint:
    """A handshake path, the server behind it, and the application that handles what the
    server reports (``after`` is called after every input, before the outputs are sent)."""

    path: str
    server: SansServer
    after: Callable[[], None] = lambda: None
    max_payload: int = 1_000_000
    # Seconds between two WebSocket frames: 0, except for clients that read one message
    # per socket read (the official test suite); the reference's write pacing gives them one.
    frame_gap: float = 0.0
    _waiting: dict[int, asyncio.Future[Output]] = field(default_factory=dict)
    _sockets: dict[int, _WebSocket] = field(default_factory=dict)
    _early: dict[int, list[WsSend | WsClose]] = field(default_factory=dict)  # before the 101
    _timer: asyncio.TimerHandle | None = None  # calls receive_timeout at _deadline
    _deadline: float | None = None

    def matches(self, path: str) -> bool:
        # the reference requires the trailing slash: /socket.io?EIO=4 is not the engine
        return path.startswith(self.path)


class FrontEnd:
    """Serves :class:`Endpoint` values on ``host:port``."""

    def __init__(
        self,
        endpoints: list[Endpoint],
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        errors: IO[str] | None = None,
        traceback: bool = False,
        cors: CorsPolicy | None = None,
        cors_seen: Callable[[CorsSeen], None] | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.cors = cors or CorsPolicy()  # default: any origin, for local testing
        self.cors_seen = cors_seen  # told every preflight, and every origin refused
        self.host = host
        self.port = port
        self.errors = errors  # where a bug in serving one client is told (the rest go on)
        self.traceback = traceback
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        # What every WebSocket connection reads into (asyncio.BufferedProtocol): one for
        # all, since each read is consumed before the next one starts.
        self.read_buffer = memoryview(bytearray(65536))

    async def start(self) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
        if self.errors is not None:
            asyncio.get_running_loop().set_exception_handler(self._internal_error)
        # asyncio's default backlog (100) drops connections when many clients (re)connect
        # at once (bench/serve_load.py opens 1,000); Node's listen() uses 511.
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=511
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        for endpoint in self.endpoints:
            if endpoint._timer is not None:
                endpoint._timer.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    # --- the sans-I/O server's outputs ---------------------------------------------------

    def pump(self, endpoint: Endpoint) -> None:
        """Call after every input: the application's ``after``, then the server's outputs
        go out (the frames of one call in one write per connection), then the timer. What
        sending produced (the wire seen going out, for -v) reaches ``after`` at once."""
        server = endpoint.server
        endpoint.after()
        outputs = server.data_to_send()
        while outputs:
            self._write(endpoint, outputs)
            outputs = []
            if server.has_events():
                endpoint.after()
                outputs = server.data_to_send()
        self._arm(endpoint)  # the deadline may have moved

    def _write(self, endpoint: Endpoint, outputs: list[Any]) -> None:
        written: dict[int, _WebSocket] = {}
        for output in outputs:
            if isinstance(output, (HttpResponse, HttpAbort, WsAccept, WsReject)):
                future = endpoint._waiting.pop(output.request, None)
                if future is not None and not future.done():
                    future.set_result(output)
            else:
                socket = endpoint._sockets.get(output.conn)
                if socket is None:  # accepted, but the handshake is not written yet
                    endpoint._early.setdefault(output.conn, []).append(output)
                elif isinstance(output, WsSend):
                    socket.send(output.data)
                    written[output.conn] = socket
                else:
                    socket.close(output.code)
        for socket in written.values():
            socket.flush()

    def _arm(self, endpoint: Endpoint) -> None:
        """Plan ``receive_timeout`` at the server's next deadline, if that changed: a timer
        handle, not a task, since this runs after every input."""
        deadline = endpoint.server.next_deadline()
        if deadline == endpoint._deadline and endpoint._timer is not None:
            return
        if endpoint._timer is not None:
            endpoint._timer.cancel()
        endpoint._deadline = deadline
        endpoint._timer = (
            None
            if deadline is None
            else asyncio.get_running_loop().call_at(deadline, self._expire, endpoint)
        )

    def _expire(self, endpoint: Endpoint) -> None:
        endpoint._timer = None
        # the loop's clock is time.monotonic, the server's too
        endpoint.server.receive_timeout(time.monotonic())
        self.pump(endpoint)

    def _internal_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """A bug met while serving one client: one line (the traceback if asked for); the
        connection concerned is dropped by asyncio, the others are served on."""
        if self.traceback:
            loop.default_exception_handler(context)
            return
        exc = context.get("exception")
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else context.get("message")
        assert self.errors is not None
        message = (
            f"internal error while serving a client: {detail} "
            "(a bug: please report it; --traceback shows where)"
        )
        report(CommandError(ExitStatus.INTERNAL, message), self.errors)  # and serve on

    # --- HTTP ----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import h11

        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                request = await _next_request(connection, reader)
                if request is None:
                    return
                method, target, headers = request
                upgrade = "websocket" in headers.get("upgrade", "").lower()
                streamed = method == "POST" and not upgrade  # its body goes to the server
                if not upgrade and not streamed:
                    await _discard_body(connection, reader)  # no other request has one
                switched = await self._handle(
                    connection, reader, writer, method, target, headers, upgrade, streamed
                )
                if switched or connection.our_state is not h11.DONE:
                    return
                if connection.their_state is h11.SEND_BODY and "expect" in headers:
                    return  # answered before its body, which may never come (RFC 9110 §10.1.1)
                # answered before the end of its body (a 400 or 413): the rest is read
                # and dropped, as Node does, and the connection serves on
                await _discard_body(connection, reader)
                connection.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # The server is stopping (Ctrl-C) with this client connected. Ending normally:
            # Python 3.11's start_server prints a traceback for a handler task cancelled.
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(
        self,
        connection: Any,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: dict[str, str],
        upgrade: bool,
        streamed: bool,
    ) -> bool:
        import h11

        parts = urlsplit(target)
        endpoint = next((e for e in self.endpoints if e.matches(parts.path)), None)
        if endpoint is None:
            await _write(connection, writer, 404, (("Content-Type", "text/plain"),), b"Not Found")
            return False
        if method == "OPTIONS":
            verdict = self.cors.preflight(headers)
            self._tell_cors(method, headers, verdict)
            await _write(connection, writer, 204, verdict.headers, b"")
            return False
        cors = self.cors.answer(headers) if not upgrade else None  # WebSocket: no CORS
        if cors is not None and cors.refused is not None:
            self._tell_cors(method, headers, cors)
        request = HttpRequest(
            next(self._ids),
            method,
            dict(parse_qsl(parts.query)),
            headers,
            upgrade=upgrade,
            body_follows=streamed,
        )
        future: asyncio.Future[Output] = asyncio.get_running_loop().create_future()
        endpoint._waiting[request.id] = future
        server = endpoint.server
        server.receive_request(request, time.monotonic())
        self.pump(endpoint)
        if not future.done() and "100-continue" in headers.get("expect", "").lower():
            # RFC 9110 §10.1.1: the request is taken and waits for its body (or, a poll,
            # for data to answer with), as Node's HTTP server says it too
            writer.write(connection.send(h11.InformationalResponse(status_code=100, headers=[])))
        try:
            if streamed:
                await self._receive_body(endpoint, request.id, connection, reader, future)
            output = await _answer_unless_closed(future, connection, reader)
        except asyncio.CancelledError:
            endpoint._waiting.pop(request.id, None)
            raise
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
            endpoint._waiting.pop(request.id, None)
            server.receive_request_closed(request.id, time.monotonic())
            self.pump(endpoint)
            raise
        if isinstance(output, HttpAbort):
            return True  # dropped with no answer: the connection closes
        if isinstance(output, HttpResponse):
            extra = cors.headers if cors is not None else ()
            await _write(connection, writer, output.status, (*output.headers, *extra), output.body)
            return False
        if isinstance(output, WsReject):
            await _write(
                connection,
                writer,
                output.status,
                (("Content-Type", "text/html"), ("Connection", "close")),
                output.body,
            )
            return True
        assert isinstance(output, WsAccept)
        await _WebSocket(self, endpoint, output.conn, connection, writer).run(target, headers)
        return True

    def _tell_cors(self, method: str, headers: dict[str, str], verdict: CorsVerdict) -> None:
        origin = headers.get("origin")
        if self.cors_seen is None or origin is None:
            return
        if method == "OPTIONS":  # a preflight: what it asks for
            asked = headers.get("access-control-request-method", "")
            wanted = headers.get("access-control-request-headers", "")
            self.cors_seen(CorsSeen(origin, asked, True, wanted, verdict.refused))
        else:
            self.cors_seen(CorsSeen(origin, method, False, "", verdict.refused))

    async def _receive_body(
        self,
        endpoint: Endpoint,
        request: int,
        connection: Any,
        reader: asyncio.StreamReader,
        answered: asyncio.Future[Output],
    ) -> None:
        """Hand a POST's body to the server as it comes, until its end or until the server
        answers (a second POST, a body over maxPayload: the reference answers at once)."""
        import h11

        server = endpoint.server
        while not answered.done():
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await _read_unless(answered, reader)
                if data is None:
                    return
                if not data:
                    raise ConnectionError("closed in the middle of a request")
                connection.receive_data(data)
            elif isinstance(event, h11.Data):
                server.receive_body(request, bytes(event.data), time.monotonic())
                self.pump(endpoint)
            elif isinstance(event, h11.EndOfMessage):
                server.receive_body_end(request, time.monotonic())
                self.pump(endpoint)
            else:  # h11.ConnectionClosed
                raise ConnectionError("closed in the middle of a request")


async def _read_unless(
    answered: asyncio.Future[Output], reader: asyncio.StreamReader
) -> bytes | None:
    """The next bytes from the client (``b""``: it closed), or ``None`` once ``answered``
    is done first. The read is then cancelled, and waited for until it has let go of the
    reader: a StreamReader takes one reader at a time, and the next request's read would
    otherwise meet this one still waiting ("read() called while another coroutine is
    already waiting for incoming data"). Bytes that came meanwhile stay in its buffer."""
    read = asyncio.ensure_future(reader.read(65536))
    await asyncio.wait((read, answered), return_when=asyncio.FIRST_COMPLETED)
    if read.done():
        return read.result()
    read.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await read
    return None


async def _answer_unless_closed(
    answered: asyncio.Future[Output], connection: Any, reader: asyncio.StreamReader
) -> Output:
    """The server's answer to a request; :class:`ConnectionError` if the client closes the
    connection first. Node's HTTP server tells a request's 'close', and engine.io ends the
    session of a poll cut short ("poll connection closed prematurely"): its next GET is
    "Session ID unknown". Bytes that come meanwhile (a request pipelined behind this one)
    are kept by h11 for the next cycle."""
    while not answered.done():
        data = await _read_unless(answered, reader)
        if data is None:
            break
        if not data:
            raise ConnectionError("closed before the answer")
        connection.receive_data(data)
    return await answered


async def _next_request(
    connection: Any, reader: asyncio.StreamReader
) -> tuple[str, str, dict[str, str]] | None:
    import h11

    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            connection.receive_data(data)
            if not data and connection.their_state is h11.IDLE:
                return None
            continue
        if isinstance(event, h11.Request):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
            return event.method.decode(), event.target.decode("latin-1"), headers
        if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


async def _discard_body(connection: Any, reader: asyncio.StreamReader) -> None:
    """Read what is left of the request's body, and drop it."""
    import h11

    while connection.their_state is h11.SEND_BODY:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("closed in the middle of a request")
            connection.receive_data(data)
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionError("closed in the middle of a request")


_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


async def _write(
    connection: Any,
    writer: asyncio.StreamWriter,
    status: int,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
) -> None:
    import h11

    all_headers = [("Server", _SERVER), *headers, ("Content-Length", str(len(body)))]
    reason = _REASONS.get(status, "")  # as Node writes them: "400 Bad Request"
    data = connection.send(h11.Response(status_code=status, headers=all_headers, reason=reason))
    if body:
        data += connection.send(h11.Data(data=body))
    data += connection.send(h11.EndOfMessage())
    writer.write(data)
    await writer.drain()


class _WebSocket(asyncio.BufferedProtocol):
    """One upgraded connection, framed by websockets' sans-I/O protocol.

    After the 101 it is the transport's protocol: bytes come in through ``buffer_updated``,
    with no stream reader between (a read then costs no future and no task switch, which
    is most of the front end's cost with many clients sending small messages). Reading into
    the front end's buffer spares each read the 256 KiB bytes object that asyncio's plain
    protocols get (an allocation that costs more than the recv itself).
    """

    def __init__(
        self,
        front: FrontEnd,
        endpoint: Endpoint,
        conn: int,
        connection: Any,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.front = front
        self.endpoint = endpoint
        self.conn = conn
        self.transport = writer.transport
        self.protocol = ServerProtocol(max_size=endpoint.max_payload)
        self.trailing = connection.trailing_data[0]
        self._parts: list[bytes | bytearray | memoryview] = []
        self._text = False
        loop = asyncio.get_running_loop()
        self._lost: asyncio.Future[None] = loop.create_future()
        self._writable: asyncio.Future[None] | None = None  # while the transport is full
        self._closing = False  # the peer has been given _CLOSE_TIMEOUT to close
        # paced (frame_gap): frames wait here for the sender task; otherwise they are
        # framed at once and written together when the front end flushes
        self._queue: asyncio.Queue[str | bytes | int] | None = (
            asyncio.Queue() if endpoint.frame_gap else None
        )

    async def run(self, target: str, headers: dict[str, str]) -> None:
        # h11 read the request; websockets' protocol parses it again from its bytes, so
        # that its own parser moves on to frames (its documented use).
        head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.protocol.receive_data((head + "\r\n").encode("latin-1"))
        request = next(e for e in self.protocol.events_received() if isinstance(e, Request))
        response = self.protocol.accept(request)
        response.headers["Server"] = _SERVER
        self.protocol.send_response(response)
        if response.status_code != 101:
            self.flush()
            return
        # Taken over before the 101 goes out: the stream reader holds nothing beyond the
        # request (h11 has what came with it: ``trailing``), since a client sends no frame
        # before the 101 (RFC 6455 §4.1), and nothing awaited since the request was read.
        self.transport.set_protocol(self)
        self.flush()
        endpoint = self.endpoint
        endpoint._sockets[self.conn] = self
        sender = None
        if self._queue is not None:
            sender = asyncio.get_running_loop().create_task(self._send_loop())
        for output in endpoint._early.pop(self.conn, []):
            if isinstance(output, WsSend):
                self.send(output.data)
            else:
                self.close(output.code)
        self.flush()
        try:
            if self.trailing:
                self._receive(self.trailing)
            await self._lost
        finally:
            if sender is not None:
                sender.cancel()
            endpoint._sockets.pop(self.conn, None)
            # we failed the connection (RFC 6455 §7.1.7: invalid UTF-8, a message over
            # maxPayload...): the session ends on a transport error, as the reference's
            sent = self.protocol.close_sent
            failed = sent is not None and sent.code not in (1000, 1001)
            endpoint.server.receive_ws_closed(self.conn, time.monotonic(), failed=failed)
            self.front.pump(endpoint)

    # --- asyncio.BufferedProtocol --------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.front.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._receive(bytes(self.front.read_buffer[:nbytes]))

    def eof_received(self) -> bool:
        self.protocol.receive_eof()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(None)
        self.resume_writing()  # no one waits for a transport that is gone

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None:
            self._writable.set_result(None)
            self._writable = None

    # --- frames ----------------------------------------------------------------------------

    def _receive(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        server = self.endpoint.server
        received = False
        for frame in self.protocol.events_received():
            if not isinstance(frame, Frame):
                continue
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                self._parts = [frame.data]
                self._text = frame.opcode is Opcode.TEXT
            elif frame.opcode is Opcode.CONT:
                self._parts.append(frame.data)
            else:
                continue  # ping/pong/close: the protocol object answers them
            if frame.fin:
                payload = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
                try:
                    message = str(payload, "utf-8") if self._text else bytes(payload)
                except UnicodeDecodeError:
                    # RFC 6455 §8.1: a text message that is not UTF-8 fails the connection
                    # with 1007 (the reference's ws does; nothing of it reaches the session)
                    self.protocol.fail(CloseCode.INVALID_DATA, "invalid UTF-8 in a text frame")
                    break
                server.receive_ws_message(self.conn, message, time.monotonic())
                received = True
        if received:
            # once for all the messages of this read: their answers go out in one write
            self.front.pump(self.endpoint)
        self.flush()

    def send(self, data: str | bytes) -> None:
        """Frame ``data``; :meth:`flush` writes it (paced: the sender does, one by one)."""
        if self._queue is not None:
            self._queue.put_nowait(data)
        elif self.protocol.state is not State.OPEN:
            return  # closing: the peer will not read it (the protocol would raise)
        elif isinstance(data, str):
            self.protocol.send_text(data.encode("utf-8"))
        else:
            self.protocol.send_binary(data)

    def close(self, code: int) -> None:
        if self._queue is not None:
            self._queue.put_nowait(code)
            return
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code)
            self.flush()
        self.transport.close()

    async def _send_loop(self) -> None:
        """With ``frame_gap``: one frame per write, as the reference server writes them, so
        that a client that reads one message per read (the official test suite does) sees
        them one by one."""
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, int):
                    self.protocol.send_close(item)
                    self.flush()
                    self.transport.close()
                    return
                if isinstance(item, str):
                    self.protocol.send_text(item.encode("utf-8"))
                else:
                    self.protocol.send_binary(item)
                self.flush()
                if self._writable is not None:
                    await self._writable
            except Exception:  # the peer is gone: nothing left to write to
                return
            await asyncio.sleep(self.endpoint.frame_gap)

    def flush(self) -> None:
        """Write what the protocol has framed, in one write; close the connection when the
        protocol says it is over (an empty chunk), or expects the peer to close it."""
        data = self.protocol.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(b"".join(data))
            if data[-1] == b"":  # websockets' end of stream: the closing handshake is done
                self.transport.close()
                return
        if self.protocol.close_expected() and not self._closing:
            # the peer should close now; a peer that does not is not waited for forever
            self._closing = True
            asyncio.get_running_loop().call_later(_CLOSE_TIMEOUT, self.transport.close)
