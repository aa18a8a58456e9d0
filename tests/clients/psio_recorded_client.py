"""python-socketio's client doing what recordings/record.sh did (without /admin: this client
joins namespaces only when it connects), against ``siocli replay RECORDING --serve``.

Usage: python psio_recorded_client.py URL TRANSPORT -> one JSON line per thing observed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import socketio


def show(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"$binary": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [show(v) for v in value]
    if isinstance(value, dict):
        return {k: show(v) for k, v in value.items()}
    return value


def out(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


async def main(url: str, transport: str) -> None:
    sio = socketio.AsyncClient(reconnection=False)
    seen: dict[str, asyncio.Queue[Any]] = {
        name: asyncio.Queue() for name in ("welcome", "echo", "question", "answered")
    }

    for name in ("welcome", "echo", "answered"):
        sio.on(name, lambda *args, name=name: seen[name].put_nowait(list(args)))

    @sio.on("question")
    async def question(*args: Any) -> tuple[Any, ...]:
        seen["question"].put_nowait(list(args))
        return ("yes", b"\x07")

    transports = ["polling", "websocket"] if transport == "auto" else [transport]
    await sio.connect(url, transports=transports)
    out({"type": "connect", "nsp": "/", "id": sio.get_sid()})
    wait = lambda name: asyncio.wait_for(seen[name].get(), 5)  # noqa: E731
    out({"type": "event", "event": "welcome", "args": show(await wait("welcome"))})
    hello = await sio.call("hello", (1, "two", {"three": [3]}), timeout=5)
    out({"type": "ack", "event": "hello", "args": show(hello)})
    binary = await sio.call("binary", b"\x01\x02", timeout=5)
    out({"type": "ack", "event": "binary", "args": show(binary)})
    await sio.emit("echo", (b"\x01\x02\x03", "text"))
    out({"type": "event", "event": "echo", "args": show(await wait("echo"))})
    await sio.emit("ask", 7)
    out({"type": "event", "event": "question", "args": show(await wait("question"))})
    out({"type": "event", "event": "answered", "args": show(await wait("answered"))})
    out({"type": "transport", "name": sio.transport()})
    await sio.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
