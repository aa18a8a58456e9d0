"""Long-polling over HTTP/1.1, and what its failures mean for a Socket.IO user.

Plain ``http://`` without a proxy goes over :class:`PlainClient`, a small keep-alive client
of siocli's own over h11 (which frames HTTP/1.1 under httpx too); TLS and proxies over httpx.
Both answer the same calls (``get``, ``post``, ``cookies``, ``aclose``) with responses of the
same shape (``status_code``, ``headers``, ``content``, ``text``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import ConnectOptions, Target
from .errors import (
    ConnectError,
    Timeout,
    TransportError,
    error_message,
    hint_for_http,
    root_cause,
    ssl_cause,
    tls_error,
)

if TYPE_CHECKING:
    import h11
    import httpx

__all__ = [
    "ConnectTimeout",
    "PlainClient",
    "PlainResponse",
    "ReadTimeout",
    "describe_http_failure",
    "goes_direct",
    "http_error",
    "poll",
    "post",
]

_OCTET_STREAM = "application/octet-stream"


KEPT_HEADERS = ("content-type", "set-cookie")
"""The response headers a recording keeps (set-cookie redacted): the rest is noise."""


async def poll(
    client: PlainClient | httpx.AsyncClient, url: str, timeout: float
) -> tuple[int, str | bytes, str, dict[str, str]]:
    """GET a polling URL: ``(status, body, text, kept headers)``. The body is bytes for an
    Engine.IO 3 binary payload, text otherwise."""
    response = await client.get(url, timeout=timeout)
    content = response.content
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    if response.headers.get("content-type", "").startswith(_OCTET_STREAM):
        return response.status_code, content, "", headers
    text = content.decode("utf-8", "replace")
    return response.status_code, text, text, headers


async def post(
    client: PlainClient | httpx.AsyncClient,
    url: str,
    body: str | bytes,
    content_type: str,
    timeout: float,
) -> tuple[int, str]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = await client.post(
        url, content=data, headers={"Content-Type": content_type}, timeout=timeout
    )
    return response.status_code, response.text


def http_error(status: int, text: str, target: Target) -> TransportError:
    """An HTTP error answer, with the server's JSON body read (engine.io lib/server.ts,
    ``Server.errorMessages``)."""
    message, code = error_message(text)
    what = f"HTTP {status}"
    if message:
        what += f" {message}" + (f" (code {code})" if code is not None else "")
    elif status == 404:
        what += f": nothing at {target.path} on {target.authority}"
    elif text:
        what += f": {text[:200]}"
    return ConnectError(what, hint_for_http(status, message, code))


def describe_http_failure(
    exc: BaseException, target: Target, proxy: str | None = None
) -> TransportError:
    """Translate a failed request into siocli's words (once, at the boundary): an exception
    of :class:`PlainClient` or of httpx. ``proxy``: the proxy the request went through."""
    where = target.authority
    if isinstance(exc, _PlainTimeout):
        return Timeout(f"{where} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, _CannotConnect):
        return ConnectError(f"cannot connect to {where}: {root_cause(exc)}", _connect_hint(exc))
    if isinstance(exc, _PlainFailure):
        return ConnectError(f"HTTP request to {where} failed: {root_cause(exc)}")
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"{where} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ProxyError):
        return ConnectError(f"the proxy failed: {exc}", "check --proxy and the *_proxy variables")
    tls = ssl_cause(exc)
    if tls is not None:
        return tls_error(tls, where)
    if isinstance(exc, httpx.ConnectError) and proxy is not None:
        # through a proxy, the connection that failed is the proxy's (an unreachable
        # server is the proxy's 502, an answer)
        shown = urlsplit(proxy)._replace(netloc=urlsplit(proxy).netloc.rpartition("@")[2])
        return ConnectError(
            f"cannot connect to the proxy {shown.geturl()}: {root_cause(exc)}",
            "check --proxy and the *_proxy variables (no_proxy lists hosts to reach directly)",
        )
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"cannot connect to {where}: {root_cause(exc)}", _connect_hint(exc))
    if isinstance(exc, httpx.HTTPError):
        return ConnectError(f"HTTP request to {where} failed: {root_cause(exc)}")
    return ConnectError(f"request to {where} failed: {type(exc).__name__}: {exc}")


def _connect_hint(exc: BaseException) -> str | None:
    text = root_cause(exc)
    if text == "connection refused":
        return "is the server running on that port?"
    if text.startswith("DNS"):
        return "check the host name"
    return None


# --- plain HTTP/1.1 ----------------------------------------------------------------------------


def proxy_of(options: ConnectOptions, target: Target) -> str | None:
    """The proxy long-polling to ``target`` goes through, as far as can be said: --proxy, or
    the proxy variable httpx reads (``no_proxy`` aside); ``None``: direct."""
    if options.proxy:
        return options.proxy
    names = ("https_proxy", "HTTPS_PROXY") if target.secure else ("http_proxy", "HTTP_PROXY")
    return next(
        (os.environ[n] for n in (*names, "all_proxy", "ALL_PROXY") if os.environ.get(n)), None
    )


def goes_direct(options: ConnectOptions, target: Target) -> bool:
    """Whether long-polling to ``target`` can use :class:`PlainClient`: plain ``http://``
    and no proxy to go through (with one, httpx decides, ``no_proxy`` included)."""
    return not target.secure and proxy_of(options, target) is None


class _PlainFailure(OSError):
    """The request failed after the connection was made (the server closed it, or answered
    something that is not HTTP/1.1)."""


class _CannotConnect(_PlainFailure):
    """No TCP connection (refused, DNS...): the cause is chained."""


class _PlainTimeout(_PlainFailure, TimeoutError):
    pass


# Named as httpx names them: the words of a timeout's message are the same either way.
class ConnectTimeout(_PlainTimeout):
    pass


class ReadTimeout(_PlainTimeout):
    pass


@dataclass(slots=True)
class PlainResponse:
    """What the polling code reads of a response (the names httpx's responses use)."""

    status_code: int
    headers: dict[str, str]  # lower-case names; a repeated field's values joined by ", "
    content: bytes
    set_cookies: list[str]  # each Set-Cookie field (joined, their dates' commas would mislead)

    @property
    def text(self) -> str:
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, "replace")
        except LookupError:  # an unknown charset: as httpx, fall back to UTF-8
            return self.content.decode("utf-8", "replace")


_MAX_HEAD = 64 * 1024  # bytes of status line and headers: more is not a Socket.IO server


class PlainClient:
    """HTTP/1.1 over asyncio for long-polling to a plain ``http://`` server, no proxy.

    What polling needs of httpx, without its cost: keep-alive connections (a held GET and a
    POST at once), cookies (sticky sessions; they also go with the WebSocket upgrade),
    gzip and deflate bodies, timeouts. httpx costs ~50 ms to import (it loads its CA bundle
    even for http://) and about 0.3 ms a request, more than decoding a poll of 16 packets.
    The HTTP/1.1 itself (framing, keep-alive rules) is h11's, as under httpx: ~60 µs a
    request and its response on a slow 2-core box, a third of the time of a 16-packet poll.
    """

    def __init__(self, target: Target, headers: dict[str, str]) -> None:
        self._host = target.host
        self._port = target.port
        self._origin = f"http://{target.authority}"
        # The request headers httpx sends, in its order; the caller's replace them by name.
        fields = {
            "host": ("Host", target.authority),
            "accept": ("Accept", "*/*"),
            "accept-encoding": ("Accept-Encoding", "gzip, deflate"),
            "connection": ("Connection", "keep-alive"),
        }
        for name, value in headers.items():
            fields[name.lower()] = (name, value)
        self._fields = [_field(name, value) for name, value in fields.values()]
        # A session polls one URL with the same cookies over and over: its GET is built
        # (and checked by h11) once. h11's events are frozen: the same ones serve each time.
        self._get_key: tuple[str, str] | None = None
        self._get: tuple[h11.Request, h11.EndOfMessage] | None = None
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self.cookies: dict[str, str] = {}

    async def get(self, url: str, *, timeout: float) -> PlainResponse:
        return await self._request("GET", url, b"", None, timeout)

    async def post(
        self, url: str, *, content: bytes, headers: dict[str, str], timeout: float
    ) -> PlainResponse:
        return await self._request("POST", url, content, headers, timeout)

    async def aclose(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()

    async def _request(
        self, method: str, url: str, body: bytes, headers: dict[str, str] | None, timeout: float
    ) -> PlainResponse:
        if not url.startswith(self._origin):
            raise ValueError(f"{url} is not on {self._origin}")
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items()) if self.cookies else ""
        events: Sequence[h11.Request | h11.Data | h11.EndOfMessage]
        if method == "GET":
            if self._get is None or self._get_key != (url, cookie):
                self._get = (self._build(method, url, cookie, []), _end_of_message())
                self._get_key = (url, cookie)
            events = self._get
        else:
            import h11

            extra = [_field(name, value) for name, value in (headers or {}).items()]
            extra.append((b"Content-Length", b"%d" % len(body)))
            request = self._build(method, url, cookie, extra)
            events = (request, h11.Data(data=body), _end_of_message())
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                try:
                    return self._done(connection, await connection.exchange(events, timeout))
                except _Stale:  # the server closed it while idle: a new connection
                    if method == "GET":
                        # ...or cut a poll it had answered: asking again would lose what
                        # it sent (Engine.IO polls are not idempotent): a transport error
                        raise _PlainFailure(
                            "the connection was cut before the poll's answer came: what the "
                            "server sent in it, if anything, is lost"
                        ) from None
                    break
        connection = await self._connect(timeout)
        return self._done(connection, await connection.exchange(events, timeout))

    def _build(
        self, method: str, url: str, cookie: str, extra: list[tuple[bytes, bytes]]
    ) -> h11.Request:
        import h11

        fields = self._fields + ([_field("Cookie", cookie)] if cookie else []) + extra
        try:
            return h11.Request(
                method=method, target=url[len(self._origin) :] or "/", headers=fields
            )
        except h11.LocalProtocolError as exc:  # a header of the user's, say
            raise _PlainFailure(f"not a valid HTTP/1.1 request: {exc}") from None

    async def _connect(self, timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(_Connection, self._host, self._port), timeout
            )
        except (asyncio.TimeoutError, TimeoutError):
            raise ConnectTimeout(f"no connection within {timeout:g} s") from None
        except OSError as exc:
            raise _CannotConnect(str(exc)) from exc
        self._open.add(connection)
        connection.on_close = self._open.discard
        return connection

    def _done(self, connection: _Connection, response: PlainResponse) -> PlainResponse:
        if connection.usable():
            self._idle.append(connection)
        for cookie in response.set_cookies:  # RFC 6265 §5.2: the pair before the first ";"
            name, sep, value = cookie.split(";", 1)[0].partition("=")
            if sep and name.strip():
                self.cookies[name.strip()] = value.strip()
        return response


def _field(name: str, value: str) -> tuple[bytes, bytes]:
    # Latin-1, as a header's bytes are read: h11 takes obs-text in a value, as RFC 9110 §5.5.
    return name.encode("latin-1"), value.encode("latin-1")


@cache
def _end_of_message() -> h11.EndOfMessage:
    import h11

    return h11.EndOfMessage()


class _Stale(_PlainFailure):
    """A kept-alive connection closed before any byte of the answer: send again."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: a request, then its response, in turn. h11 frames both
    and says whether the connection can carry another request; this class does the I/O,
    the timeout and the decoding of the body."""

    def __init__(self) -> None:
        import h11

        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.on_close: Any = None
        self.closed = False
        self.keep_alive = True
        self.used = False  # a response came on it before: a failure may be a stale one
        self._received = False  # a byte of the answer to the request in flight came
        self._waiter: asyncio.Future[PlainResponse] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last = 0.0  # when data last arrived (the timeout counts from there)
        self._timeout = 0.0
        self._response: h11.Response | None = None  # the head of the response being read
        self._chunks: list[bytes] = []

    def usable(self) -> bool:
        transport = self.transport
        return (
            not self.closed
            and self.keep_alive
            and self._waiter is None
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.abort()

    def exchange(
        self, events: Sequence[h11.Request | h11.Data | h11.EndOfMessage], timeout: float
    ) -> asyncio.Future[PlainResponse]:
        """Send a request (its h11 events, to the end of the message); the future is its
        response."""
        assert self.transport is not None and self._waiter is None
        send = self._h11.send
        data = b"".join([send(event) for event in events])
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._received = False
        self._timeout = timeout
        self._last = loop.time()
        deadline = self._last + timeout
        if self._timer is not None and self._timer.when() > deadline:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:  # else it fires first, and re-arms itself (see _expire)
            self._timer = loop.call_at(deadline, self._expire)
        waiter.add_done_callback(self._cancelled)
        self.transport.write(data)
        return waiter

    def _cancelled(self, waiter: asyncio.Future[PlainResponse]) -> None:
        if waiter.cancelled():  # the caller gave up: the answer would come unasked
            self._end()
            self._drop()

    def _end(self) -> None:
        self._waiter = None

    def _drop(self) -> None:
        self.keep_alive = False
        self.close()

    def _expire(self) -> None:
        # One timer a connection, not one a request: when it fires, it looks at the request
        # in flight, if any, and waits again for what is left of that one's timeout, which
        # runs from the last data received.
        self._timer = None
        if self._waiter is None:
            return
        loop = asyncio.get_running_loop()
        left = self._last + self._timeout - loop.time()
        if left > 0:
            self._timer = loop.call_later(left, self._expire)
            return
        self._fail(ReadTimeout(f"no answer within {self._timeout:g} s"))

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        self._end()
        self._drop()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_connection hands a stream protocol a full (read and write) transport
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        import h11

        self.closed = True
        if self.on_close is not None:
            self.on_close(self)
        if self._waiter is None:
            self._drop()
            return
        if self.used and not self._received:
            self._fail(_Stale("the server closed the kept-alive connection"))
            return
        # The end of the connection may be the end of the body (one without a length);
        # else h11 says the answer is cut short.
        self._h11.receive_data(b"")
        with contextlib.suppress(h11.RemoteProtocolError):
            self._read()
        why = f": {exc}" if exc else ""
        if self._response is not None or self._chunks:
            self._fail(
                _PlainFailure(
                    "the connection was cut in the middle of the answer: what the server sent "
                    f"in it is lost{why}"
                )
            )
            return
        self._fail(_PlainFailure(f"the server closed the connection before answering{why}"))

    def data_received(self, data: bytes) -> None:
        import h11

        if self._waiter is None:  # nothing was asked: not a server to keep talking to
            self._drop()
            return
        self._last = asyncio.get_running_loop().time()
        self._received = True
        self._h11.receive_data(data)
        try:
            self._read()
        except h11.RemoteProtocolError as exc:
            # Not chained: the words above h11's are what describe_http_failure shows.
            self._fail(_PlainFailure(f"not an HTTP/1.1 answer: {exc}"))

    def _read(self) -> None:
        """Take h11's events for the response until it needs more data or is complete."""
        import h11

        connection = self._h11
        while True:
            event = connection.next_event()
            if isinstance(event, h11.Data):
                self._chunks.append(event.data)
            elif isinstance(event, h11.Response):
                self._response = event
            elif isinstance(event, h11.EndOfMessage):
                self._complete()
                return
            elif not isinstance(event, h11.InformationalResponse):  # 1xx: the answer is to come
                return  # NEED_DATA (PAUSED and ConnectionClosed come after a response only)

    def _complete(self) -> None:
        """The whole response is here: decode it, and answer the request."""
        import h11

        connection, response = self._h11, self._response
        assert response is not None
        headers: dict[str, str] = {}
        set_cookies = []
        for raw_name, raw_value in response.headers.raw_items():
            name, value = raw_name.decode("ascii").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
            if name == "set-cookie":
                set_cookies.append(value)
        # bytes, as httpx gives: h11 hands out bytearray pieces, and the body travels on to
        # the taps and recordings, which take bytes (or str) only
        body = bytes(self._chunks[0]) if len(self._chunks) == 1 else b"".join(self._chunks)
        self._response = None
        self._chunks = []
        encoding = headers.get("content-encoding", "").lower()
        try:
            if encoding == "gzip":
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif encoding == "deflate":  # zlib-wrapped, as the RFC says, or raw, as some send
                try:
                    body = zlib.decompress(body)
                except zlib.error:
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
        except zlib.error as exc:
            self._fail(_PlainFailure(f"the {encoding} body does not inflate: {exc}"))
            return
        self.used = True
        # Keep-alive (RFC 9112 §9.3) is h11's call: both sides DONE, neither MUST_CLOSE.
        # Bytes after the response were not asked for: not a server to keep talking to.
        self.keep_alive = (
            connection.our_state is h11.DONE
            and connection.their_state is h11.DONE
            and not connection.trailing_data[0]
        )
        if self.keep_alive:
            connection.start_next_cycle()
        waiter = self._waiter
        self._end()
        if not self.keep_alive:
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(PlainResponse(response.status_code, headers, body, set_cookies))
