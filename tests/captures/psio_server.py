"""The python-socketio server that tests/captures/capture.js records (not a test).

Run by capture.js as ``.venv/bin/python tests/captures/psio_server.py PORT``: an ASGI app
under uvicorn on 127.0.0.1:PORT playing the same scenario as the Node servers in capture.js:

- ``/``: emits ``welcome`` with the socket id on connect; acks ``hello(a, b)`` with 2 values.
- ``/admin``: refuses a connect without ``auth == {"token": "secret-token"}``; acks
  ``upload(buf, obj)`` with a binary ack, then emits the binary event ``server-bin`` and
  ``question``, which asks the client for an ack.
- ``/private``: always refused with message "not authorized" and data ``{"code": 42}``.
"""

from __future__ import annotations

import sys

import socketio
import uvicorn

# Whole seconds: python-engineio advertises int(ping_interval) * 1000, so 0.3 s would be
# announced as "pingInterval":0 (and the JS client would then time out after pingTimeout).
sio = socketio.AsyncServer(
    async_mode="asgi",
    ping_interval=1,
    ping_timeout=0.5,
    cors_allowed_origins=[],
)
app = socketio.ASGIApp(sio)


@sio.event
async def connect(sid, environ, auth):
    await sio.emit("welcome", sid, to=sid)


@sio.event
async def hello(sid, a, b):
    return "hi", {"got": [a, b]}


@sio.on("connect", namespace="/admin")
async def admin_connect(sid, environ, auth):
    if not isinstance(auth, dict) or auth.get("token") != "secret-token":
        raise socketio.exceptions.ConnectionRefusedError("bad token")


@sio.on("upload", namespace="/admin")
async def admin_upload(sid, buf, meta):
    async def answered(*args):
        await sio.emit("answer-received", list(args), to=sid, namespace="/admin")

    await sio.emit(
        "server-bin",
        (b"\x04\x05\x06", {"thumb": b"\x07\x08", "label": "from server"}),
        to=sid,
        namespace="/admin",
    )
    await sio.emit("question", "ready?", to=sid, namespace="/admin", callback=answered)
    return {"ok": True, "size": len(buf), "echo": buf}, meta["name"]


@sio.on("connect", namespace="/private")
async def private_connect(sid, environ, auth):
    raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 42})


def main() -> None:
    port = int(sys.argv[1])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
