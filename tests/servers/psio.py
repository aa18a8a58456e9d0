"""A python-socketio server for siocli's tests (ASGI under uvicorn; Engine.IO 4, protocol 5).

Usage: python psio.py '{"port":0,"pingInterval":300,...}' -> prints {"port": N} when ready.
Binds 127.0.0.1 only. The behaviour is shared with node4.js and node2.js (README.md).
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time

import socketio
import uvicorn

options = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins=options.get("origins", "*"),  # a list: only those Origins
    ping_interval=options.get("pingInterval", 25000) / 1000,
    ping_timeout=options.get("pingTimeout", 20000) / 1000,
    max_http_buffer_size=options.get("maxHttpBufferSize", 1_000_000),
    transports=options.get("transports", ["polling", "websocket"]),
    serializer=options.get("parser", "default"),  # "msgpack": python-socketio's MsgPackPacket
)
app = socketio.ASGIApp(sio, socketio_path=options.get("path", "/socket.io/").strip("/"))


tasks: set[asyncio.Future[None]] = set()  # keep references: the loop holds only weak ones


def register(namespace: str) -> None:
    @sio.on("connect", namespace=namespace)
    async def connect(sid: str, environ: dict, auth: object = None) -> None:
        if namespace == "/admin" and (
            not isinstance(auth, dict) or auth.get("token") != "secret-token"
        ):
            raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 42})
        if namespace == "/private":
            raise socketio.exceptions.ConnectionRefusedError("not authorized")
        await sio.save_session(sid, {"auth": auth}, namespace=namespace)
        await sio.emit("welcome", {"sid": sid, "nsp": namespace}, to=sid, namespace=namespace)

    @sio.on("hello", namespace=namespace)
    async def hello(sid: str, *args: object) -> tuple:
        return ("hello" if options.get("changed") else "hi", *args)

    @sio.on("what-time", namespace=namespace)
    async def what_time(sid: str, *args: object) -> None:
        clock = {"time": int(time.time() * 1000), "zone": "UTC"}
        await sio.emit("clock", clock, to=sid, namespace=namespace)

    @sio.on("echo", namespace=namespace)
    async def echo(sid: str, *args: object) -> None:
        await sio.emit("echo", args if len(args) != 1 else args[0], to=sid, namespace=namespace)

    @sio.on("ask", namespace=namespace)
    async def ask(sid: str, payload: object = None) -> None:
        async def answered(*answers: object) -> None:
            await sio.emit(
                "answered",
                answers if len(answers) != 1 else answers[0],
                to=sid,
                namespace=namespace,
            )

        def callback(*answers: object) -> None:
            tasks.add(asyncio.ensure_future(answered(*answers)))

        await sio.emit("question", payload, to=sid, namespace=namespace, callback=callback)

    @sio.on("binary", namespace=namespace)
    async def binary(sid: str, *args: object) -> tuple:
        return (b"\x01\x02\x03", {"nested": b"\x04\x05"})

    @sio.on("kick", namespace=namespace)
    async def kick(sid: str, *args: object) -> None:
        # as Node's socket.disconnect(true): leave the namespace, then close the connection
        eio_sid = sio.manager.eio_sid_from_sid(sid, namespace)
        await sio.disconnect(sid, namespace=namespace)
        await sio.eio.disconnect(eio_sid)

    @sio.on("burst", namespace=namespace)
    async def burst(sid: str, spec: dict | None = None) -> None:
        for i in range((spec or {}).get("n", 10)):
            await sio.emit("tick", i, to=sid, namespace=namespace)

    @sio.on("whoami", namespace=namespace)
    async def whoami(sid: str, *args: object) -> object:
        return (await sio.get_session(sid, namespace=namespace)).get("auth")


for name in ("/", "/admin", "/private"):
    register(name)


async def main() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", options.get("port", 0)))
    listener.listen(128)  # ready before we say so
    # "certfile"/"keyfile": HTTPS (the proxy's tests of a TLS target)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ssl_certfile=options.get("certfile"),
        ssl_keyfile=options.get("keyfile"),
        # a long-poll a client left pending must not hold the shutdown (SIGTERM) for 25 s
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    await server.serve(sockets=[listener])


if __name__ == "__main__":
    asyncio.run(main())
