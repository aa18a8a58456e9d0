"""A WebSocket server that says exactly what a test scripts, on 127.0.0.1.

The reference servers never send the malformed or out-of-place frames that a broken proxy, a
wrong server or a bug does; this one does, so that the client's answer to them is tested over
a real socket and a real WebSocket handshake.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from websockets.asyncio.server import ServerConnection, serve


@contextmanager
def scripted_websocket_server(frames: Sequence[str | bytes]) -> Iterator[str]:
    """Run a server that sends ``frames`` (text or binary) to each client that connects, then
    waits for the client to close. Yields its ``ws://127.0.0.1:<port>`` URL."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[int] = loop.create_future()
    stop = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for frame in frames:
            await ws.send(frame)
        await ws.wait_closed()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0) as server:
            ready.set_result(server.sockets[0].getsockname()[1])
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    port = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(10)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


async def _wait(future: asyncio.Future[int]) -> int:
    return await future
