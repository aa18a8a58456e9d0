"""WebSocket over the websockets library, and what its exceptions mean."""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import TYPE_CHECKING, Any

from .. import __version__
from .config import ConnectOptions, Target, ssl_context
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
    from websockets.asyncio.client import ClientConnection

__all__ = ["describe_ws_failure", "open_websocket"]


async def open_websocket(
    url: str, options: ConnectOptions, target: Target, cookie: str | None, *, batches: bool = False
) -> ClientConnection:
    """Open the WebSocket. With ``batches``, the connection is read with
    ``receive_batch()`` (see :func:`_batching_connection`) instead of ``recv()``."""
    from websockets.asyncio.client import connect

    headers = list(options.headers)
    if cookie:
        headers.append(("Cookie", cookie))
    return await connect(
        url,
        create_connection=_batching_connection() if batches else None,
        additional_headers=headers,
        user_agent_header=f"siocli/{__version__}",
        ssl=ssl_context(options) if target.secure else None,
        proxy=options.proxy if options.proxy else True,  # True: the *_proxy variables
        open_timeout=options.timeout,
        ping_interval=None,  # Engine.IO has its own heartbeat
        close_timeout=2,  # a frozen server must not hold a Ctrl-C for long
        max_size=None,  # the server decides (maxPayload); a debugger shows what it gets
        max_queue=None,
    )


@functools.cache
def _batching_connection() -> Any:
    """A ``ClientConnection`` whose ``receive_batch()`` returns every message of a read at
    once, parsed on the spot. In a flood, websockets' own path costs about 4 µs a message
    (its generator-based frame parser, then the assembler's queue and a future), as much as
    decoding and printing the event.

    websockets reads the handshake's answer, and is then given only whole frames, so that
    its parser is always between two frames: text and binary frames that are final, with no
    extension bit and not masked (nearly every Engine.IO message) are read here; any other
    frame (control, compressed, fragment, masked, not UTF-8) is passed to websockets, which
    handles it as usual. After a fragment, text that is not UTF-8, or the close frame,
    websockets takes everything that follows, and ``receive_batch()`` reads data with
    ``recv()``, which reassembles messages and fails the connection as websockets does.
    Defined on first use: websockets is imported only by the commands that connect.
    """
    from websockets.asyncio.client import ClientConnection
    from websockets.frames import DATA_OPCODES, Frame, Opcode
    from websockets.protocol import State

    text, binary, open_ = Opcode.TEXT, Opcode.BINARY, State.OPEN

    class BatchingConnection(ClientConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.batch: list[str | bytes] = []
            self.waiter: asyncio.Future[None] | None = None
            self.head: bytes | None = b""  # the answer's head so far; None once it is read
            self.rest = b""  # a frame not yet whole, at the end of the last read
            self.library_way = False  # from now on, websockets gets every byte
            self.lost = False

        def data_received(self, data: bytes) -> None:
            if self.head is not None:
                data = self.after_head(data)
            if self.library_way:
                if data:
                    super().data_received(data)
                return
            if self.rest:
                data = self.rest + data
            self.rest = self.take_frames(data)
            if self.batch:
                self.wake()

        def after_head(self, data: bytes) -> bytes:
            """Give websockets the handshake's answer, and no more: what follows it."""
            assert self.head is not None
            seen = self.head + data
            end = seen.find(b"\r\n\r\n")  # RFC 9112 §2.1: the head ends with an empty line
            if end < 0:
                self.head = seen
                super().data_received(data)
                return b""
            cut = end + 4 - len(self.head)
            self.head = None
            super().data_received(data[:cut])
            if self.response is None or self.response.status_code != 101:
                self.library_way = True  # a refusal: websockets reads its body
            return data[cut:]

        def take_frames(self, data: bytes) -> bytes:
            """Read the whole frames at the start of ``data`` (RFC 6455 §5.2); return the
            rest, the start of a frame."""
            batch = self.batch
            size = len(data)
            pos = 0
            while size - pos >= 2:
                first, second = data[pos], data[pos + 1]
                length = second & 0x7F
                start = pos + 2
                if length >= 126:
                    start += 2 if length == 126 else 8
                    if start > size:
                        break
                    length = int.from_bytes(data[pos + 2 : start], "big")
                if second & 0x80:  # masked: wrong from a server, websockets will say so
                    start += 4
                end = start + length
                if end > size:
                    break
                if first == 0x81:  # FIN, no extension bit, text
                    try:
                        batch.append(data[start:end].decode())
                    except UnicodeDecodeError:
                        self.hand_over(data[pos:])
                        return b""
                elif first == 0x82:  # FIN, no extension bit, binary
                    batch.append(data[start:end])
                else:
                    super().data_received(data[pos:end])
                    if self.library_way or self.protocol.state is not open_:
                        self.hand_over(data[end:])
                        return b""
                pos = end
            return data[pos:]

        def hand_over(self, data: bytes) -> None:
            self.library_way = True
            self.wake()
            if data:
                super().data_received(data)

        def eof_received(self) -> None:
            if self.rest:  # a frame cut short: websockets reports it as it would
                rest, self.rest = self.rest, b""
                self.hand_over(rest)
            return super().eof_received()

        def process_event(self, event: Any) -> None:
            # Frames websockets parsed after the handshake: a compressed frame's data is
            # whole once inflated; anything else takes the library's way from now on.
            if self.response is not None and event.__class__ is Frame:
                opcode = event.opcode
                if opcode in DATA_OPCODES:
                    if event.fin and not self.library_way and opcode is not Opcode.CONT:
                        data = bytes(event.data)
                        if opcode is binary:
                            self.batch.append(data)
                            return
                        if opcode is text:
                            try:
                                self.batch.append(data.decode())
                                return
                            except UnicodeDecodeError:
                                pass
                    self.library_way = True
                    self.wake()
            super().process_event(event)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            self.lost = True
            self.wake()

        def wake(self) -> None:
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        async def receive_batch(self) -> list[str | bytes]:
            """The messages received since the last call, in order (waiting for one).
            Raises ``ConnectionClosed`` at the end, as ``recv()`` does."""
            while not self.batch:
                if self.library_way or self.lost:
                    return [await self.recv()]
                self.waiter = self.loop.create_future()
                try:
                    await self.waiter
                finally:
                    self.waiter = None
            batch, self.batch = self.batch, []
            return batch

    return BatchingConnection


def describe_ws_failure(
    exc: BaseException, target: Target, eio: str | None = None
) -> TransportError:
    """Translate a websockets exception into siocli's words (once, at the boundary);
    ``eio``: the revision the request asked for."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    where = target.authority
    if isinstance(exc, InvalidStatus):
        response = exc.response
        body = response.body.decode("utf-8", "replace") if response.body else ""
        status = response.status_code
        message, code = error_message(body)
        return ConnectError(
            f"WebSocket refused by {where}: HTTP {status}"
            + (f" {body.strip()[:200]}" if body else ""),
            hint_for_http(status, message or body, code, eio)
            or (
                "a proxy or load balancer may be dropping the WebSocket upgrade; try "
                "--transport polling"
                if status in (400, 426)
                else None
            ),
        )
    if isinstance(exc, (TimeoutError,)) or type(exc).__name__ == "TimeoutError":
        return Timeout(f"the WebSocket to {where} did not open in time")
    tls = exc if isinstance(exc, ssl.SSLError) else ssl_cause(exc)
    if tls is not None:
        return tls_error(tls, where)
    if isinstance(exc, InvalidURI):
        return ConnectError(f"bad WebSocket URL: {exc}")
    if isinstance(exc, InvalidHandshake):
        return ConnectError(
            f"WebSocket handshake with {where} failed: {exc}",
            f"is --path right ({target.path} now)? A Node server hangs up on a WebSocket "
            "request for a path it does not serve; a proxy that strips the Upgrade/Connection "
            "headers can too (--transport polling tells which)",
        )
    if isinstance(exc, OSError):
        root = root_cause(exc)
        return ConnectError(
            f"cannot connect to {where}: {root}",
            "is the server running on that port?" if root == "connection refused" else None,
        )
    return ConnectError(f"WebSocket to {where} failed: {type(exc).__name__}: {exc}")
