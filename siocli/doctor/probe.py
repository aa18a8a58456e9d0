"""The low-level probes: single HTTP requests and WebSockets to the server, with httpx and
websockets directly, because the checks must see what a client library hides (status
codes, headers, the exact body). Every body is still read by the protocol core."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from typing import IO, TYPE_CHECKING, Any

from ..protocol import engineio
from ..protocol.types import EnginePacket, EngineType
from ..transports.config import ConnectOptions, Target, parse_target, ssl_context
from .answer import Answer, read_open
from .evidence import ms, preview

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

__all__ = ["Prober", "close_websocket", "closed_words"]


class Prober:
    """Sends the checks' requests to one server: keeps the HTTP client, traces every
    request on ``-v``, and closes the sessions the probes open."""

    def __init__(self, connect: ConnectOptions, *, verbose: bool, err: IO[str]) -> None:
        self.connect = connect
        self.target = parse_target(connect)
        self.timeout = connect.timeout
        self.verbose = verbose
        self.err = err
        self._http: httpx.AsyncClient | None = None
        self._releases: set[asyncio.Task[Any]] = set()

    @property
    def asked(self) -> int:
        """The Engine.IO revision the probes ask for first."""
        return self.connect.eio or 4

    def trace(self, line: str) -> None:
        if self.verbose:
            self.err.write(f"  doctor {line}\n")
            self.err.flush()

    def client(self, *, fresh: bool = False) -> httpx.AsyncClient:
        """The probes' HTTP client (keep-alive, as a browser); ``fresh``: a new connection per
        request and an own cookie jar, for the sticky-session check."""
        import httpx

        from .. import __version__

        if self._http is not None and not fresh:
            return self._http
        verify: Any = ssl_context(self.connect) if self.target.secure else False
        client = httpx.AsyncClient(
            headers={"User-Agent": f"siocli/{__version__}", **dict(self.connect.headers)},
            verify=verify,
            proxy=self.connect.proxy,
            trust_env=True,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits(),
        )
        if not fresh:
            self._http = client
        return client

    def at(self, path: str) -> Target:
        """The target with the handshake path ``path``."""
        return dataclasses.replace(self.target, path=path)

    def query(self, eio: int, sid: str | None = None, transport: str = "polling") -> dict[str, str]:
        query = {**dict(self.target.query), "EIO": str(eio), "transport": transport}
        if sid is not None:
            query["sid"] = sid
        if transport == "polling":
            query["t"] = _cache_buster()
        return query

    async def request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        *,
        body: str | None = None,
        client: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """One HTTP request, never raising: a failure is in the answer, in siocli's words."""
        from ..transports.http import describe_http_failure

        target = self.at(path)
        url = target.http_url(query)
        self.trace(f"> {method} {url}" + (f"  {preview(body)}" if body else ""))
        extra = dict(headers or {})
        if body is not None:
            extra["Content-Type"] = "text/plain;charset=UTF-8"
        started = time.perf_counter()
        try:
            response = await (client or self.client()).request(
                method,
                url,
                content=body.encode("utf-8") if body is not None else None,
                headers=extra,
                timeout=timeout or self.timeout,
            )
        except Exception as exc:  # translated once, here (httpx's exception tree)
            failure = describe_http_failure(exc, target)
            self.trace(f"< {failure}")
            return Answer(method, failure=failure, seconds=time.perf_counter() - started)
        answer = Answer(
            method,
            response.status_code,
            response.text,
            response.headers.get("content-type", ""),
            response.headers,
            [(c.name, c.value or "") for c in response.cookies.jar],
            time.perf_counter() - started,
            response.content,
        )
        self.trace(f"< {response.status_code} in {ms(answer.seconds)}  {preview(answer.body)}")
        return answer

    async def handshake(
        self,
        path: str,
        eio: int,
        *,
        client: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
        keep: bool = False,
    ) -> Answer:
        """A polling handshake, read by the core. The session it opens is closed again in
        the background unless ``keep``."""
        answer = await self.request("GET", path, self.query(eio), client=client, headers=headers)
        read_open(answer, eio)
        if answer.handshake is not None and not keep:
            self.release(path, answer)
        return answer

    async def close_session(
        self, path: str, eio: int, sid: str, client: httpx.AsyncClient | None = None
    ) -> Answer:
        """POST a close packet on a polling session (engine.io lib/socket.ts, ``onClose``)."""
        body = str(engineio.encode_payload([EnginePacket(EngineType.CLOSE)], eio))
        return await self.request("POST", path, self.query(eio, sid), body=body, client=client)

    def release(self, path: str, answer: Answer) -> None:
        """Close a probe's session without waiting for it."""
        if answer.handshake is None or answer.eio is None:
            return
        task = asyncio.ensure_future(self.close_session(path, answer.eio, answer.handshake.sid))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def settle_releases(self, timeout: float = 2.0) -> None:
        """Wait (a little) for the sessions being closed: behind a balancer, the order of
        requests matters."""
        if self._releases:
            await asyncio.wait(set(self._releases), timeout=timeout)

    async def close(self) -> None:
        await self.settle_releases()
        for task in list(self._releases):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    async def open_websocket(
        self, path: str, eio: int, sid: str | None = None, cookie: str | None = None
    ) -> ClientConnection:
        from ..transports.websocket import open_websocket

        target = self.at(path)
        url = target.ws_url(self.query(eio, sid, transport="websocket"))
        self.trace(f"> WebSocket {url}")
        return await open_websocket(url, self.connect, target, cookie)


def _cache_buster() -> str:
    # as the JS client's `t`: a cache in front of the server must not answer a handshake
    return "".join(random.choices("0123456789abcdefghijklmnopqrstuvwxyz", k=7))


def closed_words(exc: BaseException) -> str:
    """How a WebSocket closed under us: its close code, else the exception."""
    code = getattr(getattr(exc, "rcvd", None), "code", None)
    return f"close code {code}" if code is not None else (str(exc) or type(exc).__name__)


async def close_websocket(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 1)
    ws.transport.abort()
