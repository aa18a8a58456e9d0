"""python-socketio doing ``siocli decode --json``'s job: the baseline of bench/decode_cli.py.

    python bench/psio_decode_json.py FILE > out.jsonl

Reads a HAR (its Socket.IO entries: polling bodies and WebSocket messages), or a capture of
WebSocket frames, one per line, as bench/decode_cli.py writes them (and as ``siocli decode``
reads them): ``> `` (client to server) or ``< `` (server to client),
then the message; a binary frame as ``<binary> 01 02 03`` or ``hex:01 02 03``. A transcript's
lead-in (``GET ...``, status and header lines, up to a ``WebSocket frames:`` heading) is
skipped. Every frame is decoded with python-socketio's packet classes, as its server does
(``socketio.Server._handle_eio_message``): ``engineio.packet.Packet(encoded_packet=...)``,
then ``socketio.packet.Packet(encoded_packet=...)`` for a message, and ``add_attachment`` on
the pending binary packet of that direction until it is complete.

It prints one JSON line per Engine.IO packet, in wire order, like ``siocli decode --json``:
a binary packet once complete (its line with the reassembled data, then a line per
attachment). A line is ``json.dumps`` of ``{"index", "dir", "eio_type"}`` plus, for a
Socket.IO packet, ``"sio_type", "nsp", "id", "data"``, or ``"data"`` for the other Engine.IO
packets; bytes are written ``{"$binary": "<base64>"}``. It does less than siocli (no raw
message, no spans, no findings): a lower bound of the job's cost with these classes.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

from engineio.packet import MESSAGE
from engineio.packet import Packet as EnginePacket
from engineio.packet import packet_names as engine_names
from socketio.packet import Packet as SocketPacket
from socketio.packet import packet_names as socket_names

DIRECTIONS = {">": "c2s", "<": "s2c"}


def _binary(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"$binary": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def frames(lines: Any) -> Any:
    """``(direction, message)`` of each frame line; direction is ``None`` without an arrow."""
    lead_in = None  # a transcript: skip its request until the frames heading
    for line in lines:
        line = line.rstrip("\r\n")
        if lead_in is None:
            lead_in = line.startswith(("GET ", "> GET "))
        if lead_in:
            lead_in = line.strip().rstrip(":").lower() != "websocket frames"
            continue
        if not line:
            continue
        direction = None
        if line[:2] in ("> ", "< "):
            direction = DIRECTIONS[line[0]]
            line = line[2:]
        if line.startswith("<binary>"):
            yield direction, bytes.fromhex(line[8:])
        elif line[:4].lower() == "hex:":
            yield direction, bytes.fromhex(line[4:])
        else:
            yield direction, line


def har_frames(path: str) -> Any:
    """``(direction, message)`` of each Engine.IO packet of a HAR's Socket.IO entries, in
    entry order: polling bodies split at ``\x1e`` (``b<base64>`` stays text: engineio's
    ``Packet`` decodes it), WebSocket messages as sent (opcode 2: base64 of the bytes)."""
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)["log"]["entries"]
    for entry in entries:
        request = entry["request"]
        if "/socket.io/" not in request["url"]:
            continue
        frames_ = entry.get("_webSocketMessages")
        if frames_ is not None:
            for frame in frames_:
                direction = "c2s" if frame["type"] == "send" else "s2c"
                data = frame["data"]
                yield direction, base64.b64decode(data) if frame["opcode"] == 2 else data
            continue
        if request["method"] == "POST":
            body = request.get("postData", {}).get("text", "")
            direction = "c2s"
        else:
            body = entry["response"]["content"].get("text", "")
            direction = "s2c"
        if body and body != "ok":
            for packet in body.split("\x1e"):
                yield direction, packet


def main(path: str) -> int:
    dumps = json.dumps
    write = sys.stdout.write
    pending: dict[str | None, tuple[SocketPacket, list[dict[str, Any]]]] = {}
    with open(path, encoding="utf-8") as f:
        har = f.read(1).startswith("{")
        f.seek(0)
        source = har_frames(path) if har else frames(f)
        for index, (direction, message) in enumerate(source):
            record: dict[str, Any] = {"index": index, "dir": direction}
            try:
                packet = EnginePacket(encoded_packet=message)
            except Exception as exc:
                record["error"] = str(exc)
                write(dumps(record, ensure_ascii=False) + "\n")
                continue
            record["eio_type"] = engine_names[packet.packet_type]
            if packet.packet_type != MESSAGE:
                record["data"] = packet.data
                write(dumps(record, ensure_ascii=False, default=_binary) + "\n")
                continue
            waiting = pending.get(direction)
            if waiting is not None and packet.binary:
                header, held = waiting
                record["attachment"] = len(held) - 1
                record["data"] = packet.data
                held.append(record)
                if header.add_attachment(packet.data):
                    del pending[direction]
                    held[0]["data"] = header.data
                    for line in held:
                        write(dumps(line, ensure_ascii=False, default=_binary) + "\n")
                continue
            if waiting is not None:  # a text message while attachments are awaited
                del pending[direction]
                for line in waiting[1]:
                    write(dumps(line, ensure_ascii=False, default=_binary) + "\n")
            try:
                socket = SocketPacket(encoded_packet=packet.data)
            except Exception as exc:
                record["error"] = str(exc)
                write(dumps(record, ensure_ascii=False, default=_binary) + "\n")
                continue
            record["sio_type"] = socket_names[socket.packet_type]
            record["nsp"] = socket.namespace
            record["id"] = socket.id
            record["data"] = socket.data
            if socket.attachment_count > len(socket.attachments):
                pending[direction] = (socket, [record])
                continue
            write(dumps(record, ensure_ascii=False, default=_binary) + "\n")
    for _, held in pending.values():  # attachments that never came
        for line in held:
            write(dumps(line, ensure_ascii=False, default=_binary) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/psio_decode_json.py FILE")
    sys.exit(main(sys.argv[1]))
