"""The Python clients bench/live.py measures beside ``siocli listen``, one per process.

    python bench/live_clients.py psio URL N TRANSPORT   # python-socketio's AsyncClient
    python bench/live_clients.py bare URL N             # websockets, counting frames (floor)

Each connects to ``/``, counts ``tick`` events until the N-th, then disconnects; exit
status 1 if the session ended first. ``bare`` is the floor for a Python client: the
websockets library receiving frames, with no Engine.IO or Socket.IO decoding at all (it
answers the handshake with ``40`` and counts the frames that start with ``42``).
"""

from __future__ import annotations

import asyncio
import sys


async def psio(url: str, wanted: int, transport: str) -> int:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    seen = 0
    done = asyncio.Event()

    @client.on("tick")
    async def tick(*args: object) -> None:
        nonlocal seen
        seen += 1
        if seen == wanted:
            done.set()

    @client.on("disconnect")
    async def disconnect(*args: object) -> None:
        done.set()

    await client.connect(url, transports=[transport])
    await done.wait()
    if client.connected:
        await client.disconnect()
    if seen < wanted:
        print(f"the session ended after {seen} events", file=sys.stderr)
        return 1
    return 0


async def bare(url: str, wanted: int) -> int:
    from websockets.asyncio.client import connect

    ws_url = (
        url.replace("http://", "ws://", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
    )
    seen = 0
    async with connect(ws_url, ping_interval=None, max_size=None, max_queue=None) as ws:
        await ws.recv()  # the open packet
        await ws.send("40")
        async for message in ws:
            if message[:2] == "42":
                seen += 1
                if seen == wanted:
                    await ws.send("41")
                    break
    if seen < wanted:
        print(f"the session ended after {seen} events", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    kind, url, wanted = argv[0], argv[1], int(argv[2])
    if kind == "psio":
        return asyncio.run(psio(url, wanted, argv[3]))
    return asyncio.run(bare(url, wanted))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
