"""The python-socketio baseline of ``serve_load.py``: an ASGI server under uvicorn that
behaves as ``siocli serve`` does for the benchmark's load.

    python bench/psio_echo.py PORT     # serves http://127.0.0.1:PORT/socket.io/ until SIGINT

Every event that asks for an ack is acked with its args (the ``ping`` events of the load);
other events are echoed back to the sender (python-socketio does not tell a handler whether
an ack was asked for, so the echo is per event name; the load sends only ``ping``).
Engine.IO 4, pingInterval 25 s, pingTimeout 20 s, maxPayload 1e6: siocli serve's defaults.
uvicorn runs on the standard asyncio loop (as siocli serve does: no uvloop), with its own
WebSocket-level pings off, since siocli serve sends none (Engine.IO's heartbeat does that
job in both), and no access log.
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
import uvicorn

sio = socketio.AsyncServer(
    async_mode="asgi",
    ping_interval=25,
    ping_timeout=20,
    max_http_buffer_size=1_000_000,
    logger=False,
    engineio_logger=False,
)
app = socketio.ASGIApp(sio)


@sio.on("ping")
async def ping(sid: str, *args: Any) -> tuple[Any, ...]:
    return args  # the ack's args


@sio.on("*")
async def echo(event: str, sid: str, *args: Any) -> None:
    await sio.emit(event, args, to=sid)


def main() -> None:
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        access_log=False,
        ws_ping_interval=None,
    )


if __name__ == "__main__":
    main()
