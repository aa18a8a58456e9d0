"""The asyncio driver: runs the core's :class:`ClientSession` over real sockets.

The session decides every packet; the driver only performs the requests it asks for
(``data_to_send``), feeds back what happened (``receive_*``, with the time), keeps its
timer (``next_deadline``), and hands the session's events to the application. Every wire
message in either direction goes to the optional ``tap`` (the ``-v`` view, recordings).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .. import __version__
from ..protocol.session import (
    ClientSession,
    Closed,
    HttpGet,
    HttpPost,
    Request,
    SessionEvent,
    WebSocketClose,
    WebSocketConnect,
    WebSocketSend,
)
from ..protocol.states import EngineState
from ..protocol.types import Direction, Transport
from ..wire import WireMessage
from .config import ConnectOptions, parse_target, transport_of
from .errors import ConnectError, Timeout, TransportError

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

    from .http import PlainClient

__all__ = ["Connection"]

Tap = Callable[[WireMessage], None]
T = TypeVar("T")
_USER_AGENT = f"siocli/{__version__}"


class Connection:
    """One Engine.IO session with a server, driven by a :class:`ClientSession`."""

    def __init__(self, options: ConnectOptions, *, tap: Tap | None = None) -> None:
        self.options = options
        self.target = parse_target(options)
        transport = transport_of(options, self.target)
        self.session = ClientSession(
            eio=options.eio,
            transport=Transport.WEBSOCKET if transport == "websocket" else Transport.POLLING,
            upgrade=transport == "auto",
            query=dict(self.target.query),
            parser=options.parser,
        )
        self.failure: TransportError | None = None  # the first transport failure, if any
        self._tap = tap
        # Events for the application, and the futures of next_event() calls waiting for one:
        # a deque rather than an asyncio.Queue, which costs a few µs per event in a flood.
        self._events: deque[SessionEvent] = deque()
        self._waiters: list[asyncio.Future[Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: PlainClient | httpx.AsyncClient | None = None
        self._ws: ClientConnection | None = None
        self._ws_out: asyncio.Queue[str | bytes | WebSocketClose] = asyncio.Queue()
        self._polling = False  # a GET's task is pumping the session as it ends
        self._next_get: HttpGet | None = None  # what that GET's task polls next
        self._wake = asyncio.Event()  # the session's deadline moved: the timer recomputes
        self._deadline: float | None = None  # the deadline the timer last saw
        self._settled = asyncio.Event()  # the handshake arrived, or the session is over
        self._timer: asyncio.Task[None] | None = None

    # --- the application's side -------------------------------------------------------------

    async def open(self) -> None:
        """Start the session and wait for the handshake. Raises :class:`ConnectError`
        (:class:`TLSError`) or :class:`Timeout` if there is none."""
        self._timer = asyncio.get_running_loop().create_task(self._run_timer())
        self._timer.add_done_callback(self._task_done)
        self._pump()
        try:
            await asyncio.wait_for(self._settled.wait(), self.options.timeout)
        except asyncio.TimeoutError:
            raise Timeout(
                f"no handshake from {self.target.authority} within {self.options.timeout:g} s",
                "is the server up and is it a Socket.IO server? (--timeout to wait longer)",
            ) from None
        if self.session.internal_error is not None:
            raise self.session.internal_error
        if self.session.handshake is None:
            closed = self.session.close_reason
            dropped = closed is None or closed.reason.startswith("transport")
            raise self.failure or ConnectError(
                self._closed_detail() or "the session closed",
                "the server dropped the connection before its open packet: a socket.io 3/4 "
                "server does that to EIO=3 over WebSocket without allowEIO3 (try --eio auto), "
                "and a proxy can too (--transport polling shows the server's answer)"
                if dropped and self.session.transport is Transport.WEBSOCKET
                else None,
            )

    async def next_event(self, timeout: float | None = None) -> SessionEvent:
        """The next session event; :class:`Timeout` after ``timeout`` seconds."""
        events = self._events
        if events:
            return events.popleft()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not events:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            timer = None if deadline is None else loop.call_at(deadline, _expire, waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)
                if timer is not None:
                    timer.cancel()
            if waiter.result() is _EXPIRED and not events:
                raise Timeout(f"nothing from the server for {timeout:g} s")
        return events.popleft()

    def event_nowait(self) -> SessionEvent | None:
        """The next session event if there is one already, without waiting."""
        return self._events.popleft() if self._events else None

    def pending_events(self) -> list[SessionEvent]:
        """The events already received and not yet taken, without waiting."""
        events = list(self._events)
        self._events.clear()
        return events

    def act(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a session method (``session.connect``, ``session.emit``...) and send what it
        produced."""
        result = method(*args, **kwargs)
        self._pump()
        return result

    async def close(self, grace: float = 1.0) -> None:
        """Leave cleanly (DISCONNECT, close packet or frame), then release everything."""
        if self.session.state is not EngineState.CLOSED:
            self.session.close()
            self._pump()
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace)
        for task in [*self._tasks, self._timer]:
            if task is not None and not task.done():
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), grace)
            self._ws.transport.abort()  # a frozen peer never finishes the close handshake
        if self._http is not None:
            await self._http.aclose()

    async def drain(self, timeout: float) -> None:
        """Wait (up to ``timeout``) until what was sent so far has left: POSTs answered (a
        refusal, such as 413 past maxPayload, is then a failure of the session rather than
        lost in the close), WebSocket frames written."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (
            (self.session.sending or not self._ws_out.empty())
            and self.session.state is not EngineState.CLOSED
            and loop.time() < deadline
        ):
            await asyncio.sleep(0.005)  # the end of a command: a few ms of polling is cheap

    def _closed_detail(self) -> str | None:
        closed = self.session.close_reason
        if closed is None:
            return None
        return f"{closed.reason}: {closed.detail}" if closed.detail else closed.reason

    # --- pumping the session ---------------------------------------------------------------

    def _pump(self) -> None:
        session = self.session
        for request in session.data_to_send():
            self._perform(request)
        events = session.events_received()
        if events:
            self._events.extend(events)
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
        if not self._settled.is_set() and (
            session.handshake is not None or session.state is EngineState.CLOSED
        ):
            self._settled.set()
        deadline = session.next_deadline()
        if deadline != self._deadline:  # most messages leave it alone: no wake-up then
            self._deadline = deadline
            self._wake.set()

    def _perform(self, request: Request) -> None:
        if isinstance(request, WebSocketSend):
            self._ws_out.put_nowait(request.data)
        elif isinstance(request, WebSocketClose):
            self._ws_out.put_nowait(request)
        elif isinstance(request, HttpGet):
            if self._polling:  # asked for as a GET ends: that GET's task goes on with it
                self._next_get = request
            else:
                self._spawn(self._get(request))
        elif isinstance(request, HttpPost):
            self._spawn(self._post(request))
        elif isinstance(request, WebSocketConnect):
            self._spawn(self._websocket(request))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        """Every task the driver starts ends here: an exception it raised (a bug: network
        failures are handled inside) is taken, never left for asyncio to print as "Task
        exception was never retrieved", and ends the session as an internal error that
        the application sees (a :class:`Closed` event, :attr:`internal_error`)."""
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self.session.receive_driver_failure(exc, time.monotonic())
        try:
            self._pump()
        except Exception:  # the session is closed: its events are out; nothing to send
            self._settled.set()

    @property
    def internal_error(self) -> BaseException | None:
        """The bug that ended the session, if one did (see :meth:`_task_done`)."""
        return self.session.internal_error

    async def _run_timer(self) -> None:
        while True:
            deadline = self._deadline = self.session.next_deadline()
            self._wake.clear()
            if deadline is None:
                await self._wake.wait()
                continue
            delay = deadline - time.monotonic()
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            self.session.receive_timeout(time.monotonic())
            self._pump()

    def _emit_tap(
        self,
        data: str | bytes,
        direction: Direction,
        transport: Transport,
        http: dict[str, Any] | None = None,
    ) -> None:
        if self._tap is not None:
            session = self.session
            self._tap(
                WireMessage(
                    data, direction, transport, time.time(), session.eio, session.sid, http=http
                )
            )

    def _fail(self, failure: TransportError) -> str:
        if self.failure is None:
            self.failure = failure
        return str(failure)

    # --- long-polling ----------------------------------------------------------------------

    def _client(self) -> PlainClient | httpx.AsyncClient:
        if self._http is None:
            from .http import PlainClient, goes_direct

            headers = {"User-Agent": _USER_AGENT, **dict(self.options.headers)}
            if goes_direct(self.options, self.target):
                self._http = PlainClient(self.target, headers)
                return self._http
            import httpx

            from .config import ssl_context

            # Plain http:// (through a proxy) never does TLS (redirects are not followed):
            # skip loading the CA bundle, ~50 ms of start-up.
            verify: Any = ssl_context(self.options) if self.target.secure else False
            self._http = httpx.AsyncClient(
                headers=headers,
                verify=verify,
                proxy=self.options.proxy,
                trust_env=True,
                timeout=httpx.Timeout(self.options.timeout),
            )
        return self._http

    def _poll_timeout(self) -> float:
        handshake = self.session.handshake
        if handshake is None:
            return self.options.timeout
        # the server holds a poll up to pingInterval; a little more is a dead server
        return (handshake.ping_interval + handshake.ping_timeout) / 1000 + 5

    async def _get(self, request: HttpGet) -> None:
        """Poll; and poll again, in the same task, as long as the session asks as each GET
        ends (a task and a turn of the event loop less a poll)."""
        from .http import describe_http_failure, poll, proxy_of

        while True:
            try:
                status, body, text, headers = await poll(
                    self._client(), self.target.http_url(request.query), self._poll_timeout()
                )
            except Exception as exc:  # translated once, here
                reason = self._fail(
                    describe_http_failure(exc, self.target, proxy_of(self.options, self.target))
                )
                self.session.receive_http_failure(request, reason, time.monotonic())
            else:
                if status == 200:
                    self.session.receive_poll(body, time.monotonic())
                    if self._tap is not None:  # after: the revision is known from the answer
                        http = {"method": "GET", "status": status, "headers": headers}
                        self._emit_tap(body, Direction.S2C, Transport.POLLING, http)
                else:
                    self._http_error(request, status, text)
            self._polling = True
            try:
                self._pump()
            finally:
                self._polling = False
            if self._next_get is None:
                return
            request, self._next_get = self._next_get, None

    async def _post(self, request: HttpPost) -> None:
        from .http import describe_http_failure, post, proxy_of

        http = {"method": "POST", "headers": {"content-type": request.content_type}}
        self._emit_tap(request.body, Direction.C2S, Transport.POLLING, http)
        try:
            status, text = await post(
                self._client(),
                self.target.http_url(request.query),
                request.body,
                request.content_type,
                self.options.timeout,
            )
        except Exception as exc:
            reason = self._fail(
                describe_http_failure(exc, self.target, proxy_of(self.options, self.target))
            )
            self.session.receive_http_failure(request, reason, time.monotonic())
        else:
            if status == 200:
                self.session.receive_post_done(time.monotonic())
            else:
                self._http_error(request, status, text)
        self._pump()

    def _http_error(self, request: HttpGet | HttpPost, status: int, text: str) -> None:
        from .http import http_error

        self._fail(http_error(status, text, self.target))
        self.session.receive_http_error(request, status, text, time.monotonic())

    # --- WebSocket -------------------------------------------------------------------------

    async def _websocket(self, request: WebSocketConnect) -> None:
        from .websocket import describe_ws_failure, open_websocket

        cookies = self._cookie_header()
        try:
            ws = await open_websocket(
                self.target.ws_url(request.query), self.options, self.target, cookies, batches=True
            )
        except Exception as exc:
            failure = describe_ws_failure(exc, self.target, eio=request.query.get("EIO"))
            if self.session.transport is Transport.WEBSOCKET:
                self._fail(failure)
            self.session.receive_websocket_closed(None, str(failure), time.monotonic())
            self._pump()
            return
        self._ws = ws
        self.session.receive_websocket_open(time.monotonic())
        self._pump()
        sender = asyncio.get_running_loop().create_task(self._send_loop(ws))
        sender.add_done_callback(self._task_done)
        try:
            await self._receive_loop(ws)
        finally:
            sender.cancel()

    def _cookie_header(self) -> str | None:
        # Sticky-session cookies set on the polling requests must reach the upgrade too.
        if self._http is None or not self._http.cookies:
            return None
        return "; ".join(f"{name}={value}" for name, value in self._http.cookies.items())

    async def _receive_loop(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        session = self.session
        tap = self._tap is not None
        try:
            while True:
                # Every message of a read at once: one pump, one wake-up of the application.
                messages = await ws.receive_batch()
                now = time.monotonic()
                for message in messages:
                    if tap:
                        self._emit_tap(message, Direction.S2C, Transport.WEBSOCKET)
                    session.receive_websocket_message(message, now)
                self._pump()
        except ConnectionClosed:
            pass
        code = ws.close_code if ws.close_code is not None else 1006
        reason = ws.close_reason or ("connection lost" if ws.close_code is None else "")
        session.receive_websocket_closed(code, reason, time.monotonic())
        self._pump()

    async def _send_loop(self, ws: ClientConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            item = await self._ws_out.get()
            try:
                if isinstance(item, WebSocketClose):
                    await ws.close(item.code)
                    return
                await ws.send(item)
            except ConnectionClosed:
                return
            self._emit_tap(item, Direction.C2S, Transport.WEBSOCKET)


_EXPIRED = object()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(_EXPIRED)


def closed_reason(event: Closed) -> str:
    """``ping timeout: no ping from the server within ...``."""
    return f"{event.reason}: {event.detail}" if event.detail else event.reason
