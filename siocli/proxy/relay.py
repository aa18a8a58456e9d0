"""The relay: HTTP/1.1 both ways with h11 (sans-I/O), WebSocket frames passed through as
the bytes that came, and a copy of every Engine.IO message handed to the side view.

Each client connection gets its own upstream connection, used for its requests one after
another and closed with it: what a load balancer pins to a connection stays pinned.
Requests under the handshake path are read whole (a polling body is one wire message);
other paths (the app's page, scripts, API) stream through untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
import weakref
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import h11
from websockets.utils import apply_mask

from .. import __version__
from ..captures.streams import Deflate, deflate_of
from ..protocol import engineio
from ..protocol.types import Direction, EnginePacket, EngineType, Transport
from .faults import Kept, filter_body, message_verdict
from .frames import CLOSE, FrameReader, MessageAssembler
from .options import ProxyOptions
from .view import ClientSession, LiveView

__all__ = ["Proxy", "ProxyError"]

_READ = 262144
_C2S, _S2C = Direction.C2S, Direction.S2C
_POLLING, _WEBSOCKET = Transport.POLLING, Transport.WEBSOCKET
_KEPT_HEADERS = ("content-type", "set-cookie")  # of a polling exchange, in the recording


class ProxyError(Exception):
    """What the proxy itself could not do, as the HTTP answer a proxy gives (502, 504)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Upstream:
    """The connection to the target that serves one client connection."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.conn: Any = None
        self.reused = False  # the connection served a request before this one

    async def ready(self) -> None:
        """Connected, and ready for a request (a new connection when the last one ended)."""
        conn = self.conn
        self.reused = False
        # A kept-alive connection the server has since closed (Node closes them after 5 s
        # idle) is not reused.
        alive = (
            conn is not None
            and self.reader is not None
            and not self.reader.at_eof()
            and self.writer is not None
            and not self.writer.is_closing()
        )
        if alive and conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self.reused = True
            return
        if alive and conn.our_state is h11.IDLE and conn.their_state is h11.IDLE:
            self.reused = True
            return
        self.close()
        target = self.proxy.options.target
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(
                    target.host,
                    target.port,
                    ssl=self.proxy.upstream_tls,
                    server_hostname=target.host if target.tls else None,
                    limit=_READ,
                ),
                self.proxy.options.connect_timeout,
            )
        except asyncio.TimeoutError:
            raise ProxyError(
                504,
                f"no answer from {target.url} within "
                f"{self.proxy.options.connect_timeout:g} s (connecting)",
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise ProxyError(
                502,
                f"TLS verification of {target.url} failed: {exc.verify_message} "
                "(--cacert FILE trusts its CA; -k skips verification)",
            ) from None
        except ssl.SSLError as exc:
            raise ProxyError(502, f"TLS with {target.url} failed: {exc.reason}") from None
        except OSError as exc:
            raise ProxyError(502, f"cannot reach {target.url}: {exc.strerror or exc}") from None
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=256 * 1024)

    async def send(self, *events: Any) -> None:
        assert self.writer is not None
        self.writer.write(b"".join(self.conn.send(e) or b"" for e in events))
        await self.writer.drain()

    async def next_event(self) -> Any:
        conn = self.conn
        assert self.reader is not None
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise ProxyError(502, f"the server's answer is not HTTP/1.1: {exc}") from None
            if event is h11.NEED_DATA:
                try:
                    data = await self.reader.read(_READ)
                except OSError as exc:
                    raise ProxyError(502, f"the server's connection failed: {exc}") from None
                conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                raise ProxyError(502, "the server closed the connection without answering")
            return event

    @property
    def transport(self) -> asyncio.BaseTransport | None:
        return self.writer.transport if self.writer is not None else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = self.conn = None


class Proxy:
    """Listens on ``options.host:options.port`` and relays to ``options.target``."""

    def __init__(self, options: ProxyOptions, view: LiveView, err: IO[str]) -> None:
        self.options = options
        self.view = view
        self.err = err
        self.faults = options.faults
        self.upstream_tls = _client_tls(options) if options.target.tls else None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # --latency over WebSocket: when the last write of each direction is due
        self._last_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._cut_sids: set[str] = set()  # sessions --cut-after cut: refused from then on

    async def start(self) -> int:
        listen_tls = None
        if self.options.cert:
            listen_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            listen_tls.load_cert_chain(self.options.cert, self.options.key)
        self._server = await asyncio.start_server(
            self._client, self.options.host, self.options.port, ssl=listen_tls, backlog=511
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.view.close()
        await self.view.closed()

    # --- a client connection -------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=256 * 1024)
        upstream = _Upstream(self)
        try:
            while True:
                request = await _next_request(conn, reader)
                if request is None:
                    return
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                body = await _read_body(conn, reader)
                if body is None:
                    return
                headers = {k.lower(): v for k, v in request.headers}
                upgrade = b"websocket" in headers.get(b"upgrade", b"").lower()
                try:
                    if upgrade:
                        await self._websocket(conn, reader, writer, upstream, request)
                        return
                    keep = await self._http(conn, writer, upstream, request, body)
                except ProxyError as exc:
                    await self._fail(conn, writer, request, exc)
                    return
                if not keep or conn.our_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a bug: said in one line, the other clients relayed on
            if self.options.traceback:
                raise
            self.err.write(
                f"siocli: internal error while relaying: {type(exc).__name__}: {exc} "
                "(a bug: please report it; --traceback shows where)\n"
            )
            self.err.flush()
        finally:
            self._tasks.discard(task)
            upstream.close()
            with contextlib.suppress(Exception):
                writer.close()

    async def _fail(
        self, conn: Any, writer: asyncio.StreamWriter, request: Any, exc: ProxyError
    ) -> None:
        """The answer a proxy gives when it cannot do its part, and a line in the view."""
        target = request.target.decode("latin-1")
        self.view.note(
            None,
            "error",
            f"{request.method.decode()} {target}: {exc} ({exc.status} sent to the client)",
            status=exc.status,
        )
        self.view.flush()
        if conn.our_state is not h11.SEND_RESPONSE:
            return  # an answer was already under way: the connection just ends
        body = f"siocli proxy: {exc}\n".encode()
        reason = b"Bad Gateway" if exc.status == 502 else b"Gateway Timeout"
        with contextlib.suppress(Exception):
            await _answer(conn, writer, exc.status, _own_headers(body), body, reason)

    def _headers_up(self, request: Any, *, websocket: bool = False) -> list[tuple[bytes, bytes]]:
        """The client's headers as they go upstream: Host rewritten (unless
        --preserve-host), -H added (replacing the client's of that name)."""
        options = self.options
        added = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in options.headers]
        replaced = {k.lower() for k, _ in added}
        out = []
        for name, value in request.headers.raw_items():
            lower = name.lower()
            if lower in replaced:
                continue
            if lower == b"host" and not options.preserve_host:
                value = options.target.netloc.encode("latin-1")
            if websocket and lower == b"sec-websocket-extensions" and self.faults.rewrites:
                continue  # see Faults.rewrites
            out.append((name, value))
        out.extend(added)
        return out

    async def _delay(self) -> None:
        faults = self.faults
        if faults.latency or faults.jitter:
            await asyncio.sleep(_latency(faults.latency, faults.jitter))

    # --- HTTP ----------------------------------------------------------------------------

    async def _http(
        self,
        conn: Any,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
        request: Any,
        body: bytes,
    ) -> bool:
        """Relay one request and its answer; whether the client connection goes on."""
        target = request.target.decode("latin-1")
        parts = urlsplit(target)
        method = request.method.decode("latin-1")
        if not parts.path.startswith(self.options.path):
            return await self._plain(conn, writer, upstream, request, body, method, target)
        query = dict(parse_qsl(parts.query))
        eio = 3 if query.get("EIO") == "3" else 4
        sid = query.get("sid")
        if sid in self._cut_sids:
            _abort(writer.transport)  # --cut-after: this session's transport is gone
            return False
        session = self.view.find(sid) if sid else None
        if sid and session is None:  # under way before the proxy saw it
            session = self._new_session(eio, _POLLING, sid)
        headers = self._headers_up(request)
        request_type = _header(request.headers, b"content-type")
        if session is not None and method == "POST" and body:
            data = _as_message(body, request_type)
            if self.faults.rewrites:
                kept, reasons = filter_body(self.faults, session, _C2S, data)
                self._fired(session, _C2S, reasons)
                if reasons:
                    data = kept
                    body = data.encode("utf-8") if isinstance(data, str) else data
                    headers = _with_length(headers, len(body))
                    if not body:  # nothing left to send: answered here, as the server would
                        await self._answer_ok(conn, writer)
                        return True
            self.view.message(
                session, _C2S, _POLLING, data, _http_record(method, None, request.headers)
            )
            self._check_cut(session)
        up_request = h11.Request(method=request.method, target=request.target, headers=headers)
        connections = (writer.transport, upstream)
        if session is not None:
            session.connections.add(connections)
        try:
            await self._delay()
            while True:
                response, answer = await _exchange(upstream, up_request, body)
                status = response.status_code
                if status == 200 and method == "GET" and answer:
                    data = _as_message(answer, _header(response.headers, b"content-type"))
                    if session is None:  # the handshake: the open packet names the session
                        session = self._new_session(eio, _POLLING)
                        session.connections.add(connections)
                    if self.faults.rewrites:
                        kept, reasons = filter_body(self.faults, session, _S2C, data)
                        self._fired(session, _S2C, reasons)
                        if any(why.ping for why in reasons):
                            self._spawn(self._post_pong(request, headers))
                            self.view.note(session, "fault", _PONG_NOTE, fault="stall-heartbeat")
                        if reasons and not kept:
                            self.view.flush()
                            continue  # nothing left for the client: poll again
                        if reasons:
                            data = kept
                            answer = data.encode("utf-8") if isinstance(data, str) else data
                    self.view.message(
                        session,
                        _S2C,
                        _POLLING,
                        data,
                        _http_record(method, status, response.headers),
                    )
                elif status != 200:
                    self.view.note(
                        session,
                        "http",
                        f"{method} {target} → {status} {_preview(answer)}",
                        status=status,
                    )
                break
            await self._delay()
            response_headers = list(response.headers.raw_items())
            if _header(response.headers, b"content-length"):
                response_headers = _with_length(response_headers, len(answer))
            await _answer(conn, writer, status, response_headers, answer, response.reason)
        finally:
            if session is not None:
                session.connections.discard(connections)
                self.view.flush()
        if session is not None:
            self._check_cut(session)
            if session.cut:
                return False
        return True

    async def _answer_ok(self, conn: Any, writer: asyncio.StreamWriter) -> None:
        body = b"ok"  # what Engine.IO servers answer a POST (engine.io's polling transport)
        headers = [(b"Content-Type", b"text/html"), (b"Content-Length", b"2")]
        await _answer(conn, writer, 200, headers, body)

    async def _plain(
        self,
        conn: Any,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
        request: Any,
        body: bytes,
        method: str,
        target: str,
    ) -> bool:
        """A request outside the handshake path: relayed, its answer streamed back."""
        await self._delay()
        event = await _answer_head(
            upstream,
            h11.Request(
                method=request.method, target=request.target, headers=self._headers_up(request)
            ),
            h11.Data(data=body),
            h11.EndOfMessage(),
        )
        self.view.note(
            None, "http", f"{method} {target} → {event.status_code}", status=event.status_code
        )
        self.view.flush()
        writer.write(
            conn.send(
                h11.Response(
                    status_code=event.status_code,
                    headers=list(event.headers.raw_items()),
                    reason=event.reason,
                )
            )
        )
        while True:
            event = await upstream.next_event()
            if isinstance(event, h11.Data):
                writer.write(conn.send(h11.Data(data=event.data)))
                await writer.drain()
            elif isinstance(event, h11.EndOfMessage):
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                return True

    # --- WebSocket -----------------------------------------------------------------------

    async def _websocket(
        self,
        conn: Any,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
        request: Any,
    ) -> None:
        target = request.target.decode("latin-1")
        parts = urlsplit(target)
        sio = parts.path.startswith(self.options.path)
        query = dict(parse_qsl(parts.query))
        eio = 3 if query.get("EIO") == "3" else 4
        sid = query.get("sid") if sio else None
        session = self.view.find(sid) if sid else None
        if sio and self.faults.no_upgrade:
            self.view.note(
                session,
                "fault",
                "WebSocket refused with 403 (--no-upgrade)",
                fault="no-upgrade",
            )
            self.view.flush()
            body = b"siocli proxy: WebSocket refused (--no-upgrade)\n"
            await _answer(conn, writer, 403, _own_headers(body), body)
            return
        if sid in self._cut_sids:
            _abort(writer.transport)
            return
        await self._delay()
        await upstream.ready()
        await upstream.send(
            h11.Request(
                method=request.method,
                target=request.target,
                headers=self._headers_up(request, websocket=True),
            ),
            h11.EndOfMessage(),
        )
        while True:
            event = await upstream.next_event()
            if isinstance(event, h11.InformationalResponse) and event.status_code != 101:
                continue
            break
        if not isinstance(event, h11.InformationalResponse):  # refused: relayed as it is
            answer = await _read_body_of(upstream)
            self.view.note(
                session,
                "http",
                f"WebSocket {target} → {event.status_code} {_preview(answer)}",
                status=event.status_code,
            )
            self.view.flush()
            headers = list(event.headers.raw_items())
            await _answer(conn, writer, event.status_code, headers, answer, event.reason)
            return
        writer.write(
            conn.send(
                h11.InformationalResponse(
                    status_code=101, headers=list(event.headers.raw_items()), reason=event.reason
                )
            )
        )
        await writer.drain()
        client_early = bytes(conn.trailing_data[0])
        server_early = bytes(upstream.conn.trailing_data[0])
        assert upstream.reader is not None and upstream.writer is not None
        if not sio:  # an app's own WebSocket: relayed blind
            await _splice(
                reader, writer, upstream.reader, upstream.writer, client_early, server_early
            )
            return
        if session is None:
            session = self._new_session(eio, _WEBSOCKET, sid)
        deflate = deflate_of(_header(event.headers, b"sec-websocket-extensions"))
        await self._frames(
            session, reader, writer, upstream, client_early, server_early, deflate, sid is None
        )

    async def _frames(
        self,
        session: ClientSession,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
        client_early: bytes,
        server_early: bytes,
        deflate: tuple[Deflate, Deflate] | None,
        direct: bool,
    ) -> None:
        """Both directions of a WebSocket of the session, until either side ends it."""
        assert upstream.reader is not None and upstream.writer is not None
        connections = (writer.transport, upstream)
        session.connections.add(connections)
        closes: dict[Direction, str] = {}
        flows = [
            asyncio.ensure_future(
                self._flow(
                    session,
                    _C2S,
                    reader,
                    upstream.writer,
                    client_early,
                    MessageAssembler(deflate[0] if deflate else None),
                    closes,
                )
            ),
            asyncio.ensure_future(
                self._flow(
                    session,
                    _S2C,
                    upstream.reader,
                    writer,
                    server_early,
                    MessageAssembler(deflate[1] if deflate else None),
                    closes,
                    upstream.writer,
                )
            ),
        ]
        first: Direction | None = None
        try:
            done, _ = await asyncio.wait(flows, return_when=asyncio.FIRST_COMPLETED)
            first = _C2S if flows[0] in done else _S2C
        finally:
            # one side is done: the other is told by its connection closing
            for closing in (writer, upstream.writer):
                with contextlib.suppress(Exception):
                    closing.close()
            await asyncio.gather(*flows, return_exceptions=True)
            session.connections.discard(connections)
            if session.transport is _WEBSOCKET or direct:
                # who ended it: the first to send a close frame, else the first to hang up
                closer = next(iter(closes), first)
                if session.cut:
                    reason = "cut by the proxy (--cut-after)"
                elif closer is _C2S:
                    reason = "io client disconnect"
                else:
                    reason = "transport close"
                detail = "; ".join(f"{d.peer} sent close {c}" for d, c in closes.items())
                self.view.end(session, reason, detail or None)
            self.view.flush()

    async def _flow(
        self,
        session: ClientSession,
        direction: Direction,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        early: bytes,
        assembler: MessageAssembler,
        closes: dict[Direction, str],
        answer: asyncio.StreamWriter | None = None,
    ) -> None:
        """One direction of a WebSocket: bytes relayed as they came (frame by frame, when a
        fault may keep one back), and each message shown."""
        rewrites = self.faults.rewrites
        reader = FrameReader(keep_raw=rewrites)
        view = self.view
        faults = self.faults
        delayed = self.faults.latency > 0 or self.faults.jitter > 0
        queue: asyncio.Queue[tuple[float, bytes]] | None = None
        sender = None
        if delayed:
            queue = asyncio.Queue()
            sender = asyncio.ensure_future(_send_later(queue, sink))
        data = early
        try:
            while True:
                if not data:
                    try:
                        data = await source.read(_READ)
                    except (ConnectionError, OSError):
                        data = b""
                    if not data:
                        return
                if rewrites:
                    out: list[bytes] = []
                else:  # relayed first, looked at after
                    out = [data]
                    self._send(sink, queue, data)
                for frame in reader.feed(data):
                    if frame.opcode >= CLOSE:
                        if rewrites and frame.raw is not None:
                            out.append(frame.raw)
                        if frame.opcode == CLOSE:
                            closes[direction] = _close_text(frame.payload)
                        continue
                    message = assembler.receive(frame)
                    if message is None:
                        continue
                    if rewrites:
                        why = message_verdict(faults, session, direction, message.data)
                        if why is not None:
                            self._fired(session, direction, [why])
                            if answer is not None and why.ping:
                                answer.write(_masked_pong())
                                view.note(session, "fault", _PONG_NOTE, fault="stall-heartbeat")
                            continue
                        out.extend(message.frames)
                    view.message(session, direction, _WEBSOCKET, message.data)
                    if direction is _C2S and message.data in ("5", b"5"):
                        session.transport = _WEBSOCKET
                        view.note(session, "upgrade", "now over websocket")
                    self._check_cut(session)
                data = b""
                view.flush()
                if rewrites and out:
                    self._send(sink, queue, out[0] if len(out) == 1 else b"".join(out))
                if queue is None:
                    await sink.drain()
                await view.wait()
        finally:
            if sender is not None:
                sender.cancel()

    def _send(
        self,
        sink: asyncio.StreamWriter,
        queue: asyncio.Queue[tuple[float, bytes]] | None,
        payload: bytes,
    ) -> None:
        """Write ``payload`` now, or with --latency at its time (in order)."""
        if queue is None:
            sink.write(payload)
            return
        faults = self.faults
        at = max(
            self._last_at.get(queue, 0.0),
            time.monotonic() + _latency(faults.latency, faults.jitter),
        )
        self._last_at[queue] = at
        queue.put_nowait((at, payload))

    # --- faults --------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_pong(self, request: Any, headers: list[tuple[bytes, bytes]]) -> None:
        """--stall-heartbeat over polling: the pong the client would have sent, POSTed to
        the server on the client's session (its cookies and headers kept)."""
        upstream = _Upstream(self)
        headers = [
            (k, v)
            for k, v in headers
            if k.lower() not in (b"content-length", b"content-type", b"transfer-encoding")
        ]
        length = str(len(_PONG)).encode()
        headers += [(b"Content-Type", b"text/plain;charset=UTF-8"), (b"Content-Length", length)]
        try:
            await _exchange(
                upstream, h11.Request(method=b"POST", target=request.target, headers=headers), _PONG
            )
        except (ProxyError, OSError, h11.ProtocolError):
            pass  # the session is gone: its ping timeout will say so
        finally:
            upstream.close()

    def _new_session(self, eio: int, transport: Transport, sid: str | None = None) -> ClientSession:
        session = self.view.new_session(eio, transport, sid)
        seconds = self.faults.cut_seconds
        if seconds is not None:
            session.timer = asyncio.get_running_loop().call_later(
                seconds, self._cut, session, f"{seconds:g} s"
            )
        return session

    def _check_cut(self, session: ClientSession) -> None:
        limit = self.faults.cut_messages
        if limit is not None and not session.cut and session.messages >= limit:
            self._cut(session, f"{limit} wire messages")

    def _cut(self, session: ClientSession, why: str) -> None:
        """--cut-after: the session's transport, every connection of it, gone at once."""
        if session.cut or session.ended:
            return
        session.cut = True
        if session.sid is not None:
            self._cut_sids.add(session.sid)
        self.view.note(session, "fault", f"transport cut after {why} (--cut-after)", fault="cut")
        self.view.flush()
        for client, upstream in list(session.connections):
            _abort(client)
            _abort(upstream.transport)
        if session.transport is _POLLING:
            self.view.end(session, "cut by the proxy (--cut-after)")

    def _fired(self, session: ClientSession, direction: Direction, reasons: Iterable[Kept]) -> None:
        for why in reasons:
            self.view.note(
                session,
                "fault",
                f"{direction.arrow} {why.reason}",
                fault=why.fault,
                dir=direction.value,
            )


# --- helpers -------------------------------------------------------------------------------------


async def _answer(
    conn: Any,
    writer: asyncio.StreamWriter,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    reason: bytes = b"",
) -> None:
    """A whole response to the client."""
    data = conn.send(h11.Response(status_code=status, headers=headers, reason=reason))
    if body:
        data += conn.send(h11.Data(data=body))
    writer.write(data + conn.send(h11.EndOfMessage()))
    await writer.drain()


def _own_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """The headers of an answer the proxy gives itself (it closes the connection after)."""
    return [
        (b"Content-Type", b"text/plain; charset=utf-8"),
        (b"Content-Length", str(len(body)).encode()),
        (b"Connection", b"close"),
        (b"Via", f"1.1 siocli/{__version__}".encode()),
    ]


def _client_tls(options: ProxyOptions) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.cacert)
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _latency(delay: float, jitter: float) -> float:
    return max(0.0, delay + (random.uniform(-jitter, jitter) if jitter else 0.0))


def _abort(transport: asyncio.BaseTransport | None) -> None:
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()


def _header(headers: Any, name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    return [(k, str(length).encode() if k.lower() == b"content-length" else v) for k, v in headers]


def _as_message(body: bytes, content_type: str) -> str | bytes:
    """A polling body as the core reads it: text, or bytes for Engine.IO 3's binary framing."""
    if "octet-stream" in content_type:
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _http_record(method: str, status: int | None, headers: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"method": method}
    if status is not None:
        record["status"] = status
    kept = {}
    for key, value in headers:
        name = key.decode("latin-1").lower()
        if name in _KEPT_HEADERS:
            kept[name] = value.decode("latin-1")
    record["headers"] = kept
    return record


def _preview(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return text + ("…" if len(body) > limit else "")


def _close_text(payload: bytes) -> str:
    if len(payload) < 2:
        return "(no code)"
    code = int.from_bytes(payload[:2], "big")
    reason = payload[2:].decode("utf-8", "replace")
    return f"{code}" + (f" {reason!r}" if reason else "")


_PONG_NOTE = "the proxy answered the server's ping for the client (--stall-heartbeat)"
_PONG = str(engineio.encode_packet(EnginePacket(EngineType.PONG), 4)).encode()
"""The pong a revision 4 client answers the server's ping with."""


def _masked_pong() -> bytes:
    """The Engine.IO pong as a client frames it: a final text frame, masked (RFC 6455 §5.3:
    every client frame is masked)."""
    import os

    mask = os.urandom(4)
    return bytes((0x81, 0x80 | len(_PONG))) + mask + apply_mask(_PONG, mask)


async def _send_later(
    queue: asyncio.Queue[tuple[float, bytes]], sink: asyncio.StreamWriter
) -> None:
    """--latency over WebSocket: each read goes out at its time, in order."""
    loop = asyncio.get_running_loop()
    while True:
        at, payload = await queue.get()
        wait = at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        sink.write(payload)
        await sink.drain()


async def _next_request(conn: Any, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(_READ)
            conn.receive_data(data)
            if not data and conn.their_state is h11.IDLE:
                return None
            continue
        if isinstance(event, h11.Request):
            return event
        return None  # closed, or paused


async def _read_body(conn: Any, reader: asyncio.StreamReader) -> bytes | None:
    chunks = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(_READ)
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)
        else:
            return None


async def _exchange(upstream: _Upstream, request: Any, body: bytes) -> tuple[Any, bytes]:
    """A request and its whole answer (see :func:`_answer_head`)."""
    response = await _answer_head(upstream, request, h11.Data(data=body), h11.EndOfMessage())
    return response, await _read_body_of(upstream)


async def _answer_head(upstream: _Upstream, *request: Any) -> Any:
    """Send ``request`` (its h11 events) and return the head of its answer. Sent on a
    kept-alive connection that the server closed meanwhile (before answering), it is sent
    again once, on a new connection, as HTTP clients do (RFC 9112 §9.3.1: retrying after a
    connection closed early)."""
    for attempt in (1, 2):
        await upstream.ready()
        reused = upstream.reused
        try:
            await upstream.send(*request)
            while True:
                event = await upstream.next_event()
                if isinstance(event, h11.Response):
                    return event
        except (ProxyError, ConnectionError) as exc:
            if not reused or attempt == 2 or getattr(exc, "status", 502) != 502:
                raise
            upstream.close()
    raise AssertionError("unreachable")


async def _read_body_of(upstream: _Upstream) -> bytes:
    chunks = []
    while True:
        event = await upstream.next_event()
        if isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)


async def _splice(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    client_early: bytes,
    server_early: bytes,
) -> None:
    """Bytes both ways, unseen: a WebSocket outside the handshake path."""

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter, early: bytes) -> None:
        if early:
            sink.write(early)
        while data := await source.read(_READ):
            sink.write(data)
            await sink.drain()

    flows = [
        asyncio.ensure_future(copy(reader, up_writer, client_early)),
        asyncio.ensure_future(copy(up_reader, writer, server_early)),
    ]
    await asyncio.wait(flows, return_when=asyncio.FIRST_COMPLETED)
    for closing in (writer, up_writer):
        closing.close()
    await asyncio.gather(*flows, return_exceptions=True)
