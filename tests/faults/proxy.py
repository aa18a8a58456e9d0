"""An HTTP/1.1 proxy with faults, for ``siocli doctor``'s tests. Binds 127.0.0.1 only.

Usage: ``python proxy.py '{"port": 0, "backends": [3001, 3002], ...}'`` -> prints
``{"port": N}`` when ready. Options:

- ``backends``: ports on 127.0.0.1; each *request* goes to the next one in turn, with no
  affinity of any kind (the sticky-session fault when there are two).
- ``affinity``: the fix, as load balancers do it: answers set the cookie ``SERVERID=<n>``
  and a request that sends it back goes to backend ``n``.
- ``strip_upgrade``: remove the ``Upgrade`` and ``Connection`` headers and send
  ``Connection: close``, as nginx does without ``proxy_http_version 1.1`` and
  ``proxy_set_header Upgrade/Connection``: the server sees WebSocket requests as plain GETs.
- ``tls``: ``{"cert": PATH, "key": PATH}``: terminate TLS in front of the backends.
- ``forward``: a forward proxy instead (``CONNECT host:port`` tunnels and absolute-URI
  requests, to 127.0.0.1 only); ``refuse_connect``: answer CONNECT with 403.

One request per client connection is forwarded (each answer says ``Connection: close``),
then the two sides are piped, which also carries an upgraded WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import ssl
import sys
from urllib.parse import urlsplit

options = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
turn = itertools.count()
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"upgrade"}


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    line, *lines = head[:-4].split(b"\r\n")
    headers = [
        tuple(part.strip() for part in item.split(b":", 1)) for item in lines if b":" in item
    ]
    length = next((int(v) for k, v in headers if k.lower() == b"content-length"), 0)
    body = await reader.readexactly(length) if length else b""
    return line, headers, body  # type: ignore[return-value]


def affinity_of(headers: list[tuple[bytes, bytes]]) -> int | None:
    if not options.get("affinity"):
        return None
    for name, value in headers:
        if name.lower() == b"cookie":
            for pair in value.split(b";"):
                key, _, number = pair.strip().partition(b"=")
                if key == b"SERVERID" and number.isdigit():
                    return int(number)
    return None


def rewrite(line: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    upgrade = any(k.lower() == b"upgrade" for k, _ in headers)
    if upgrade and not options.get("strip_upgrade"):
        kept = headers  # a WebSocket handshake passes whole; the pipe carries the frames
    else:
        kept = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        kept.append((b"Connection", b"close"))
    return line + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in kept) + b"\r\n"


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    upstream: asyncio.StreamWriter | None = None
    try:
        line, headers, body = await read_request(reader)
        method, target, version = line.split(b" ", 2)
        if options.get("forward"):
            if method == b"CONNECT":
                if options.get("refuse_connect"):
                    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    return
                port = target.decode().rsplit(":", 1)[1]
                up_reader, upstream = await asyncio.open_connection("127.0.0.1", int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(pipe(reader, upstream), pipe(up_reader, writer))
                return
            url = urlsplit(target.decode())
            port = url.port or 80
            line = b" ".join(
                (method, (url.path + ("?" + url.query if url.query else "")).encode(), version)
            )
        else:
            backends = options["backends"]
            chosen = affinity_of(headers)
            if chosen is None or chosen >= len(backends):
                chosen = next(turn) % len(backends)
            port = backends[chosen]
        up_reader, upstream = await asyncio.open_connection("127.0.0.1", port)
        upstream.write(rewrite(line, headers) + body)
        await upstream.drain()
        if options.get("affinity"):
            head = await up_reader.readuntil(b"\r\n\r\n")
            cookie = b"Set-Cookie: SERVERID=%d; Path=/; HttpOnly\r\n" % chosen
            writer.write(head[:-2] + cookie + b"\r\n")
        await asyncio.gather(pipe(reader, upstream), pipe(up_reader, writer))
    except (
        asyncio.IncompleteReadError,
        asyncio.LimitOverrunError,
        ConnectionError,
        OSError,
        ValueError,
    ):
        pass
    finally:
        for each in (writer, upstream):
            if each is not None:
                with contextlib.suppress(Exception):
                    each.close()


async def main() -> None:
    context = None
    if options.get("tls"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options["tls"]["cert"], options["tls"]["key"])
    server = await asyncio.start_server(handle, "127.0.0.1", options.get("port", 0), ssl=context)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
