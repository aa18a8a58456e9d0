"""Check the capture fixtures against the raw TCP streams they were made from (not a test).

Run by capture.js after a capture, or by hand::

    .venv/bin/python tests/captures/verify.py --raw /tmp/siocli-captures-raw node4-upgrade ...

For every named session it re-parses the proxy's raw byte streams on its own (HTTP/1.1 with
h11, WebSocket frames and permessage-deflate here), independently of capture.js, and checks
that each fixture carries exactly those bytes:

- ``<name>.wire.json``: every POST body, GET response body and WebSocket message, byte for
  byte (the ``ok`` answering a POST is not a wire message; HTTP errors are listed apart);
- ``<name>.chrome.har``: valid JSON; headers, request bodies (Chrome's Latin-1 fallback for
  non-UTF-8), response bodies (base64 when ``encoding`` says so), ``_webSocketMessages``;
- ``<name>.firefox.har``: the same, except request bodies that are not UTF-8 (Firefox turns
  the invalid bytes into U+FFFD) and WebSocket messages (Firefox exports none);
- ``<name>.txt``: request lines, headers, bodies (``\\xNN`` escapes, ``<binary>`` hex) and
  WebSocket frames, and the order it tells the messages in: the order of ``wire.json``
  (by time: POSTs when sent, GETs when answered, frames interleaved).

Then, as a sanity check, it decodes every payload with siocli's protocol core. Exit status 1
when anything differs.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import h11

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "data" / "captures"
sys.path.insert(0, str(REPO))

from siocli.protocol import engineio, socketio  # noqa: E402
from siocli.protocol.errors import DecodeError  # noqa: E402
from siocli.protocol.types import EngineType, socket_protocol  # noqa: E402


@dataclass
class Exchange:
    method: str
    target: str
    request_headers: list[tuple[str, str]]
    request_body: bytes = b""
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    messages: list[tuple[str, int, bytes]] = field(default_factory=list)  # (dir, opcode, data)

    @property
    def websocket(self) -> bool:
        return self.status == 101


def _items(headers: h11._headers.Headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw_items()
    ]


def _events(conn: h11.Connection):
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return
        yield event
        if isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            return


def parse_connection(c2s: bytes, s2c: bytes) -> list[Exchange]:
    """The HTTP exchanges (and WebSocket messages) of one TCP connection, via h11."""
    server = h11.Connection(h11.SERVER)  # reads what the client sent
    client = h11.Connection(h11.CLIENT)  # reads what the server sent
    server.receive_data(c2s)
    server.receive_data(b"")
    client_fed = False
    exchanges: list[Exchange] = []
    while True:
        request_events = list(_events(server))
        if not request_events or isinstance(request_events[0], h11.ConnectionClosed):
            return exchanges
        request = request_events[0]
        assert isinstance(request, h11.Request), request
        ex = Exchange(request.method.decode(), request.target.decode(), _items(request.headers))
        ex.request_body = b"".join(e.data for e in request_events if isinstance(e, h11.Data))
        exchanges.append(ex)
        client.send(
            h11.Request(method=request.method, target=request.target, headers=request.headers)
        )
        if ex.request_body:
            client.send(h11.Data(data=ex.request_body))
        client.send(h11.EndOfMessage())
        if not client_fed:
            client.receive_data(s2c)
            client.receive_data(b"")
            client_fed = True
        response = client.next_event()
        assert isinstance(response, (h11.Response, h11.InformationalResponse)), response
        ex.status = response.status_code
        ex.response_headers = _items(response.headers)
        if ex.status == 101:
            rest_s2c, _ = client.trailing_data
            server.send(h11.InformationalResponse(status_code=101, headers=response.headers))
            rest_c2s, _ = server.trailing_data
            ex.messages = websocket_messages(rest_c2s, rest_s2c, ex.response_headers)
            return exchanges
        body = [e.data for e in _events(client) if isinstance(e, h11.Data)]
        ex.response_body = b"".join(body)
        server.send(
            h11.Response(status_code=ex.status, headers=response.headers, reason=response.reason)
        )
        if ex.response_body:
            server.send(h11.Data(data=ex.response_body))
        server.send(h11.EndOfMessage())
        if server.our_state is h11.MUST_CLOSE or client.our_state is h11.MUST_CLOSE:
            return exchanges
        server.start_next_cycle()
        client.start_next_cycle()


def websocket_frames(data: bytes):
    pos = 0
    while pos + 2 <= len(data):
        b0, b1 = data[pos], data[pos + 1]
        length = b1 & 0x7F
        pos += 2
        if length == 126:
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif length == 127:
            length = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
        key = data[pos : pos + 4] if b1 & 0x80 else None
        if key:
            pos += 4
        payload = data[pos : pos + length]
        if len(payload) < length:
            return  # cut off by the end of the capture
        pos += length
        if key:
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        yield bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F, payload


def websocket_messages(c2s: bytes, s2c: bytes, response_headers) -> list[tuple[str, int, bytes]]:
    """Data messages per direction (RFC 6455 §5), inflated per RFC 7692; ordered by
    direction here, by time in the fixtures (the caller compares per direction)."""
    extensions = ", ".join(
        v for n, v in response_headers if n.lower() == "sec-websocket-extensions"
    )
    deflate = "permessage-deflate" in extensions
    out: list[tuple[str, int, bytes]] = []
    for direction, data, takeover in (
        ("send", c2s, "client_no_context_takeover" not in extensions),
        ("receive", s2c, "server_no_context_takeover" not in extensions),
    ):
        inflater = zlib.decompressobj(-15)
        parts: list[bytes] = []
        opcode = compressed = None
        for fin, rsv1, op, payload in websocket_frames(data):
            if op >= 8:
                continue
            if op:
                opcode, compressed, parts = op, rsv1, []
            parts.append(payload)
            if not fin:
                continue
            message = b"".join(parts)
            if compressed:
                assert deflate, "RSV1 set without permessage-deflate"
                if not takeover:
                    inflater = zlib.decompressobj(-15)
                message = inflater.decompress(message + b"\x00\x00\xff\xff")
            out.append((direction, opcode, message))
    return out


def load_truth(raw_path: Path) -> tuple[dict, list[Exchange]]:
    raw = json.loads(raw_path.read_text())
    exchanges: list[Exchange] = []
    for conn in raw["connections"]:
        c2s = b"".join(base64.b64decode(c["b64"]) for c in conn["c2s"])
        s2c = b"".join(base64.b64decode(c["b64"]) for c in conn["s2c"])
        exchanges += parse_connection(c2s, s2c)
    return raw, exchanges


def content_body(ex: Exchange) -> bytes:
    encoding = next((v for n, v in ex.response_headers if n.lower() == "content-encoding"), "")
    if encoding == "gzip":
        return zlib.decompress(ex.response_body, 31)
    if encoding == "deflate":
        return zlib.decompress(ex.response_body)
    return ex.response_body


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Checker:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []

    def eq(self, what: str, got, want) -> None:
        if got != want:
            self.problems.append(f"{self.name}: {what}: got {got!r:.200}, want {want!r:.200}")


def key(method: str, url: str) -> tuple[str, str]:
    """An exchange is known by its method and path+query (``t`` or ``sid`` make it unique)."""
    return method, re.sub(r"^[a-z]+://[^/]+", "", url)


def per_direction(messages):
    return {d: [m for m in messages if m[0] == d] for d in ("send", "receive")}


def check_har(check: Checker, har: dict, exchanges: list[Exchange], flavour: str) -> None:
    entries = har["log"]["entries"]
    check.eq(f"{flavour} entry count", len(entries), len(exchanges))
    by_key = {key(e["request"]["method"], e["request"]["url"]): e for e in entries}
    for ex in exchanges:
        entry = by_key.get((ex.method, ex.target))
        if entry is None:
            check.problems.append(f"{check.name}: {flavour}: no entry for {ex.method} {ex.target}")
            continue
        what = f"{flavour} {ex.method} {ex.target[:60]}"
        req, res = entry["request"], entry["response"]
        check.eq(
            f"{what} request headers",
            [(h["name"], h["value"]) for h in req["headers"]],
            ex.request_headers,
        )
        check.eq(
            f"{what} response headers",
            [(h["name"], h["value"]) for h in res["headers"]],
            ex.response_headers,
        )
        check.eq(f"{what} status", res["status"], ex.status)
        if ex.request_body:
            text = req["postData"]["text"]
            if flavour == "chrome":
                got = text.encode("utf-8") if is_utf8(ex.request_body) else text.encode("latin-1")
                check.eq(f"{what} postData", got, ex.request_body)
            else:
                check.eq(f"{what} postData", text, ex.request_body.decode("utf-8", "replace"))
        else:
            check.eq(f"{what} postData", req.get("postData"), None)
        content = res["content"]
        if ex.websocket:
            if flavour == "chrome":
                check.eq(f"{what} _resourceType", entry["_resourceType"], "websocket")
                got = [
                    (
                        m["type"],
                        m["opcode"],
                        base64.b64decode(m["data"]) if m["opcode"] == 2 else m["data"].encode(),
                    )
                    for m in entry["_webSocketMessages"]
                ]
                check.eq(f"{what} messages", per_direction(got), per_direction(ex.messages))
                times = [m["time"] for m in entry["_webSocketMessages"]]
                check.eq(f"{what} message times ordered", times, sorted(times))
            else:
                check.eq(f"{what} has no WebSocket messages", "_webSocketMessages" in entry, False)
            continue
        if flavour == "chrome":
            check.eq(f"{what} _resourceType", entry["_resourceType"], "xhr")
        text = content.get("text", "")
        got = (
            base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
        )
        check.eq(f"{what} content", got, content_body(ex))


_ESCAPE = re.compile(r"\\(x[0-9a-f]{2}|\\)")


def unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), text)


def txt_bytes(line: str) -> bytes:
    if line.startswith("<binary>"):
        return bytes.fromhex(line[len("<binary>") :].replace(" ", ""))
    return unescape(line).encode("utf-8")


def parse_transcript(text: str) -> tuple[list[Exchange], list[tuple[str, bytes]]]:
    """The exchanges of a transcript, and its wire messages in the order it tells them.

    Frames (``> ...``/``< ...``) come after the blank line that ends a 101's headers, or after
    a ``WebSocket frames:`` heading where the session goes on over the WebSocket after an
    HTTP exchange printed in between; they belong to the last WebSocket exchange. The
    messages, as ``(dir, bytes)``: each POST's request body when its block comes, each
    successful GET's response body, each frame.
    """
    exchanges: list[Exchange] = []
    told: list[tuple[str, bytes]] = []
    ex: Exchange | None = None
    websocket: Exchange | None = None
    stage = ""

    def close() -> None:
        if ex is None or ex.websocket:
            return
        if ex.method == "POST" and ex.request_body:
            told.append(("c2s", ex.request_body))
        if ex.method == "GET" and ex.response_body and ex.status < 300:
            told.append(("s2c", ex.response_body))

    for line in text.split("\n"):
        if line.startswith("  • Request n°"):
            continue
        if line == "":
            if ex is not None and ex.websocket and stage == "response":
                stage = "frames"  # the blank line ends the 101's headers
            continue
        if line == "WebSocket frames:":
            if websocket is None:
                raise ValueError("WebSocket frames before any 101")
            close()
            ex, stage = None, "frames"
        elif stage == "frames" and line[:2] in ("> ", "< "):
            assert websocket is not None
            data = line[2:]
            opcode = 2 if data.startswith("<binary>") else 1
            direction = "send" if line[0] == ">" else "receive"
            websocket.messages.append((direction, opcode, txt_bytes(data)))
            told.append(("c2s" if direction == "send" else "s2c", txt_bytes(data)))
        elif re.match(r"^[A-Z]+ /", line):
            close()
            method, target = line.split(" ", 1)
            ex = Exchange(method, target, [])
            exchanges.append(ex)
            stage = "request"
        elif ex is None:
            raise ValueError(f"unexpected line {line!r}")
        elif line.startswith("> "):
            name, value = line[2:].split(": ", 1)
            ex.request_headers.append((name, value))
        elif line.startswith("< HTTP/"):
            ex.status = int(line.split(" ")[2])
            stage = "response"
            if ex.websocket:
                websocket = ex
        elif line.startswith("< "):
            name, value = line[2:].split(": ", 1)
            ex.response_headers.append((name, value))
        elif stage == "request":
            ex.request_body = txt_bytes(line)
        elif stage == "response":
            ex.response_body = txt_bytes(line)
        else:
            raise ValueError(f"unexpected line {line!r}")
    close()
    return exchanges, told


def check_transcript(check: Checker, text: str, exchanges: list[Exchange], wire: dict) -> None:
    parsed, told = parse_transcript(text)
    check.eq("txt exchange count", len(parsed), len(exchanges))
    by_key = {(e.method, e.target): e for e in parsed}
    for ex in exchanges:
        got = by_key.get((ex.method, ex.target))
        if got is None:
            check.problems.append(f"{check.name}: txt: no block for {ex.method} {ex.target}")
            continue
        what = f"txt {ex.method} {ex.target[:60]}"
        check.eq(f"{what} request headers", got.request_headers, ex.request_headers)
        check.eq(f"{what} response headers", got.response_headers, ex.response_headers)
        check.eq(f"{what} status", got.status, ex.status)
        check.eq(f"{what} request body", got.request_body, ex.request_body)
        check.eq(f"{what} response body", got.response_body, content_body(ex))
        check.eq(f"{what} frames", per_direction(got.messages), per_direction(ex.messages))
    # The transcript tells the messages in the order they happened: wire.json's (by time),
    # whose bytes check_wire compares with the raw streams.
    check.eq(
        "txt message order",
        told,
        [(m["dir"], wire_data(m)) for m in wire["messages"]],
    )


def wire_data(m: dict) -> bytes:
    return m["text"].encode("utf-8") if "text" in m else bytes.fromhex(m["hex"])


def check_wire(check: Checker, wire: dict, exchanges: list[Exchange]) -> None:
    messages = wire["messages"]
    times = [m["time"] for m in messages]
    check.eq("wire.json times ordered", times, sorted(times))

    got = sorted((m["dir"], m["transport"], wire_data(m)) for m in messages)
    want = []
    errors = []
    for ex in exchanges:
        if ex.websocket:
            want += [("c2s" if d == "send" else "s2c", "websocket", b) for d, _, b in ex.messages]
            continue
        if ex.request_body:
            want.append(("c2s", "polling", ex.request_body))
        if ex.status >= 300:
            errors.append((ex.method, ex.status, content_body(ex).decode("utf-8")))
        elif content_body(ex) and ex.method == "GET":
            want.append(("s2c", "polling", content_body(ex)))
    check.eq("wire.json messages", got, sorted(want))
    got_errors = [(e["method"], e["status"], e["body"]) for e in wire["http_errors"]]
    check.eq("wire.json http_errors", sorted(got_errors), sorted(errors))


def sanity_decode(wire: dict) -> tuple[int, int, list[str]]:
    """Decode every message of the session with siocli's core: Engine.IO, then Socket.IO."""
    eio = wire["eio"]
    protocol = socket_protocol(eio)
    engine = sio = 0
    errors: list[str] = []
    for m in wire["messages"]:
        body: str | bytes = m["text"] if "text" in m else bytes.fromhex(m["hex"])
        try:
            if m["transport"] == "polling":
                packets = engineio.decode_payload(body, eio)
            else:
                packets = [engineio.decode_packet(body, eio)]
        except DecodeError as exc:
            errors.append(f"engine.io {body!r:.80}: {exc}")
            continue
        engine += len(packets)
        for packet in packets:
            if packet.type is EngineType.MESSAGE and isinstance(packet.data, str):
                try:
                    socketio.decode_packet(packet.data, protocol)
                    sio += 1
                except DecodeError as exc:
                    errors.append(f"socket.io {packet.data!r:.80}: {exc}")
    return engine, sio, errors


def verify(name: str, raw_dir: Path) -> list[str]:
    check = Checker(name)
    _, exchanges = load_truth(raw_dir / f"{name}.raw.json")
    for flavour in ("chrome", "firefox"):
        har = json.loads((FIXTURES / f"{name}.{flavour}.har").read_text(encoding="utf-8"))
        check.eq(f"{flavour} version", har["log"]["version"], "1.2")
        check_har(check, har, exchanges, flavour)
    wire = json.loads((FIXTURES / f"{name}.wire.json").read_text(encoding="utf-8"))
    check_transcript(check, (FIXTURES / f"{name}.txt").read_text(encoding="utf-8"), exchanges, wire)
    check_wire(check, wire, exchanges)
    entries = json.loads((FIXTURES / f"{name}.chrome.har").read_text(encoding="utf-8"))["log"]
    for m in wire["messages"] + wire["http_errors"]:
        entry = entries["entries"][m["entry"]]
        kind = "websocket" if entry["_resourceType"] == "websocket" else "polling"
        check.eq(
            "wire.json entry",
            (m.get("transport", "polling"), m.get("method")),
            (kind, entry["request"]["method"] if kind == "polling" else None),
        )
    engine, sio, errors = sanity_decode(wire)
    check.problems += [f"{name}: siocli: {e}" for e in errors]
    ws = sum(len(ex.messages) for ex in exchanges)
    print(
        f"  {name}: {len(exchanges)} exchanges, {ws} WebSocket messages; "
        f"siocli decoded {engine} Engine.IO / {sio} Socket.IO packets; "
        + ("OK" if not check.problems else f"{len(check.problems)} problem(s)")
    )
    return check.problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="directory of <name>.raw.json")
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    print("verifying fixtures against the raw TCP streams")
    problems: list[str] = []
    for name in args.names:
        problems += verify(name, args.raw)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
