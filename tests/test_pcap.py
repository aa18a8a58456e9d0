"""Packet captures: file formats, link layers, TCP reassembly, HTTP and WebSocket, built
byte by byte here (the captures of real sessions are in test_pcap_live.py)."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siocli.captures.pcap import read_pcap
from siocli.captures.tcp import Gap, Stream
from siocli.protocol.types import Direction, Transport
from siocli.wire import InputProblem, WireMessage

from .pcapbuild import (
    ETHERNET,
    LINUX_SLL,
    LINUX_SLL2,
    NULL,
    RAW,
    Conversation,
    deflate_message,
    http_request,
    http_response,
    write_pcap,
    write_pcapng,
    ws_frame,
)

C2S, S2C = Direction.C2S, Direction.S2C
SID = "AbCdEfGhIjKlMnOp"
UP = '451-["up",{"_placeholder":true,"num":0}]'
OPEN = '0{"sid":"' + SID + '","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}'


def session_packets(
    linktype: int = ETHERNET, *, ipv6: bool = False, vlan: bool = False, mss: int = 1400
) -> list[tuple[float, bytes]]:
    """A polling handshake, a POST, a long-poll GET answered chunked and gzipped, then the
    upgrade to a WebSocket with permessage-deflate: every feature of the readers once."""
    loopback = b"\x00" * 15 + b"\x01" if ipv6 else bytes([127, 0, 0, 1])
    base = "/socket.io/?EIO=4&transport="

    def conversation(port: int, time: float) -> Conversation:
        return Conversation(
            client=(loopback, port),
            server=(loopback, 3000),
            linktype=linktype,
            vlan=vlan,
            time=time,
            mss=mss,
        ).open()

    first = conversation(40001, 1_700_000_000.0)
    first.send(True, http_request("GET", base + "polling&t=a"))
    first.send(False, http_response(200, OPEN.encode(), Content_Type="text/plain"))
    first.send(True, http_request("GET", base + f"polling&t=b&sid={SID}"))  # keep-alive
    second = conversation(40002, first.time + 0.01)
    second.send(True, http_request("POST", base + f"polling&t=c&sid={SID}", b"40"))
    second.send(False, http_response(200, b"ok", Content_Type="text/html")).close()
    body = gzip.compress(b'40{"sid":"x1"}\x1e42["welcome",{"n":1}]')
    first.time = second.time + 0.01
    first.send(False, http_response(200, body, chunked=True, Content_Encoding="gzip"))
    third = conversation(40003, first.time + 0.01)
    third.send(True, http_request("GET", base + f"websocket&sid={SID}", Upgrade="websocket"))
    third.send(
        False,
        http_response(
            101,
            Upgrade="websocket",
            Sec_WebSocket_Extensions="permessage-deflate; client_no_context_takeover",
        ),
    )
    third.send(True, ws_frame(b"2probe", mask=True))
    compressor = zlib.compressobj(wbits=-15)  # the server keeps its context
    third.send(False, ws_frame(deflate_message(b"3probe", compressor), rsv1=True))
    first.time = third.time + 0.01
    first.send(True, http_request("GET", base + f"polling&t=d&sid={SID}"))
    first.send(False, http_response(200, b"6", Content_Type="text/plain")).close()
    third.time = first.time
    third.send(True, ws_frame(b"5", mask=True))
    third.send(True, ws_frame(deflate_message(UP.encode()), mask=True, rsv1=True))
    third.send(False, ws_frame(b"\x03\xe8", 9))  # a WebSocket ping between the messages
    message = deflate_message(b'42["down","' + "é".encode() * 3000 + b'"]', compressor)
    third.send(False, ws_frame(message[:100], rsv1=True, fin=False))
    third.send(False, ws_frame(message[100:], 0))
    third.send(True, ws_frame(b"\x01\x02", 2, mask=True))  # its attachment
    third.send(False, ws_frame(b"\x03\xe8bye", 8))  # close: 1000 "bye"
    third.close()
    return sorted(first.packets + second.packets + third.packets)


EXPECTED = [
    (S2C, Transport.POLLING, OPEN),
    (C2S, Transport.POLLING, "40"),
    (S2C, Transport.POLLING, '40{"sid":"x1"}\x1e42["welcome",{"n":1}]'),
    (C2S, Transport.WEBSOCKET, "2probe"),
    (S2C, Transport.WEBSOCKET, "3probe"),
    (S2C, Transport.POLLING, "6"),
    (C2S, Transport.WEBSOCKET, "5"),
    (C2S, Transport.WEBSOCKET, UP),
    (S2C, Transport.WEBSOCKET, '42["down","' + "é" * 3000 + '"]'),
    (C2S, Transport.WEBSOCKET, b"\x01\x02"),
]


def items(data: bytes, **options: object) -> list[WireMessage | InputProblem]:
    return list(read_pcap(io.BytesIO(data), "t.pcap", **options))  # type: ignore[arg-type]


def messages(found: list[WireMessage | InputProblem]) -> list[tuple[object, ...]]:
    return [(m.direction, m.transport, m.data) for m in found if isinstance(m, WireMessage)]


def problems(
    found: list[WireMessage | InputProblem], code: str | None = None
) -> list[InputProblem]:
    return [p for p in found if isinstance(p, InputProblem) and (code is None or p.code == code)]


Packets = list[tuple[float, bytes]]


def pcap_bytes(packets: Packets, linktype: int = ETHERNET, **options: object) -> bytes:
    out = io.BytesIO()
    write_pcap(out, packets, linktype, **options)  # type: ignore[arg-type]
    return out.getvalue()


def pcapng_bytes(packets: Packets, linktype: int = ETHERNET, **options: object) -> bytes:
    out = io.BytesIO()
    write_pcapng(out, packets, linktype, **options)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize(
    ("linktype", "ipv6", "vlan"),
    [(ETHERNET, False, False), (ETHERNET, True, True), (LINUX_SLL, False, False),
     (LINUX_SLL2, True, False), (NULL, False, False), (RAW, True, False)],
)  # fmt: skip
@pytest.mark.parametrize(
    "container",
    ["pcap", "pcap-ns", "pcap-big-endian", "pcapng", "pcapng-us-big-endian"],
)
def test_every_format_and_link_layer_gives_the_session(
    linktype: int, ipv6: bool, vlan: bool, container: str
) -> None:
    packets = session_packets(linktype, ipv6=ipv6, vlan=vlan)
    if container.startswith("pcapng"):
        data = pcapng_bytes(
            packets, linktype, tsresol=6 if "us" in container else 9, big_endian="big" in container
        )
    else:
        data = pcap_bytes(
            packets, linktype, nanoseconds=container == "pcap-ns", big_endian="big" in container
        )
    found = items(data)
    assert messages(found) == EXPECTED
    first = next(m for m in found if isinstance(m, WireMessage))
    assert first.time == pytest.approx(packets[5][0], abs=1e-6)  # the answer's segment
    assert first.eio == 4
    closes = problems(found, "websocket.close")
    assert [p.message for p in closes] == [
        "the server closed the WebSocket: 1000 (normal closure), reason 'bye'"
    ]
    assert not problems(found, "input.unreadable")


def test_simple_packet_blocks_and_unknown_blocks_are_read() -> None:
    data = pcapng_bytes(session_packets(), simple=True, junk_block=True)
    assert messages(items(data)) == EXPECTED


def test_the_cli_detects_a_capture_and_decodes_it_as_one_session(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"  # no telling extension: the magic number decides
    path.write_bytes(pcapng_bytes(session_packets()))
    result = run_cli("decode", "--json", str(path))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    packets = [r for r in records if r["index"] is not None]
    assert [r["raw"] for r in packets][:3] == [OPEN, "40", '40{"sid":"x1"}']
    assert {r["transport"] for r in packets} == {"polling", "websocket"}
    assert not any(r.get("error") for r in packets)
    # one session: the handshake's connection and the WebSocket are merged by sid
    human = run_cli("decode", str(path))
    assert human.stdout.count("── session") == 1, human.stdout


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "siocli", "--no-color", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_decoding_a_transcript_imports_no_capture_reader(tmp_path: Path) -> None:
    """Telling a transcript from a capture reads a magic number: the pcap modules are
    imported only for a capture."""
    path = tmp_path / "session.txt"
    path.write_text('> 40\n< 40{"sid":"x1"}\n')
    probe = (
        "import sys\n"
        "from siocli.cli import main\n"
        f"sys.argv = ['siocli', 'decode', '--json', {str(path)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "names = ('pcap', 'pcapfile', 'tcp', 'streams')\n"
        "bad = sorted(n for n in names if 'siocli.captures.' + n in sys.modules)\n"
        "print('LOADED', bad, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert "LOADED []" in result.stderr, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["raw"] == "40"


# --- damage ------------------------------------------------------------------------------


def _data_packets(packets: list[tuple[float, bytes]]) -> list[int]:
    """Indices of the packets that carry TCP payload (Ethernet, IPv4, no options)."""
    return [i for i, (_, frame) in enumerate(packets) if len(frame) > 14 + 20 + 20]


def test_reordered_and_retransmitted_segments_change_nothing() -> None:
    packets = session_packets(mss=7)
    data_indices = _data_packets(packets)
    shuffled = list(packets)
    # segments overtake each other on the way (only within one direction of a connection:
    # the capture point still sees data before the acknowledgement of it), and some come
    # twice
    swapped = 0
    for i in data_indices:
        same_flow = shuffled[i][1][26:38] == shuffled[i + 1][1][26:38]
        if i + 1 in data_indices and same_flow and i % 3 == 0:
            shuffled[i], shuffled[i + 1] = shuffled[i + 1], shuffled[i]
            swapped += 1
    shuffled[20:20] = [packets[i] for i in data_indices[:12]]
    assert swapped > 20
    assert messages(items(pcap_bytes(shuffled))) == EXPECTED


def test_a_lost_segment_damages_its_message_only_and_says_where() -> None:
    conversation = Conversation(mss=100).open()
    conversation.send(True, http_request("GET", f"/socket.io/?EIO=4&transport=websocket&sid={SID}"))
    conversation.send(False, http_response(101, Upgrade="websocket"))
    conversation.send(False, ws_frame(b'42["a"]'))
    conversation.send(False, ws_frame(b'42["' + b"x" * 300 + b'"]'))  # 4 segments
    conversation.send(False, ws_frame(b'42["c"]'))
    packets = conversation.packets
    lost = next(i for i, (_, f) in enumerate(packets) if b"x" * 100 in f)
    del packets[lost + 1]  # the second segment of the long frame: its ACK still comes
    found = items(pcap_bytes(packets))
    assert messages(found) == [
        (S2C, Transport.WEBSOCKET, '42["a"]'),
        (S2C, Transport.WEBSOCKET, '42["c"]'),
    ]
    [damage] = problems(found, "input.unreadable")
    assert "cannot be decoded: 100 bytes at offset" in damage.message
    assert "not captured (the peer acknowledged it)" in damage.message


def test_a_lost_header_stops_the_websocket_direction_and_says_so() -> None:
    conversation = Conversation().open()
    conversation.send(True, http_request("GET", f"/socket.io/?EIO=4&transport=websocket&sid={SID}"))
    conversation.send(False, http_response(101, Upgrade="websocket"))
    for text in (b'42["a"]', b'42["b"]', b'42["c"]'):
        conversation.send(False, ws_frame(text))
    packets = conversation.packets
    lost = next(i for i, (_, f) in enumerate(packets) if f.endswith(ws_frame(b'42["b"]')))
    del packets[lost]
    found = items(pcap_bytes(packets))
    assert messages(found) == [(S2C, Transport.WEBSOCKET, '42["a"]')]
    [damage] = problems(found, "input.unreadable")
    assert "9 bytes missing at offset" in damage.message
    assert "frames after it cannot be told apart" in damage.message


def test_a_lost_request_resynchronises_http_at_the_next_request() -> None:
    conversation = Conversation(mss=30).open()
    post = f"/socket.io/?EIO=4&transport=polling&sid={SID}"
    conversation.send(True, http_request("POST", post, b'42["lost"]'))
    conversation.send(True, http_request("POST", post, b'42["kept"]'))
    packets = conversation.packets
    del packets[4]  # inside the first request's header
    found = items(pcap_bytes(packets))
    assert messages(found) == [(C2S, Transport.POLLING, '42["kept"]')]
    [damage] = problems(found, "input.unreadable")
    assert "the HTTP framing resumes at the next request" in damage.message


def test_snaplen_truncated_packets_are_named() -> None:
    conversation = Conversation().open()
    conversation.send(True, http_request("GET", f"/socket.io/?EIO=4&transport=websocket&sid={SID}"))
    conversation.send(False, http_response(101, Upgrade="websocket"))
    conversation.send(False, ws_frame(b'42["' + b"y" * 200 + b'"]'))
    conversation.send(False, ws_frame(b'42["short"]'))
    found = items(pcap_bytes(conversation.packets, snaplen=200))
    damage = problems(found, "input.unreadable")
    assert damage and "snaplen" in damage[0].message, damage
    # the 101's answer is cut by the snaplen too: the frames cannot be read, and that is said


def test_a_truncated_file_decodes_what_it_holds_then_says_where_it_ends() -> None:
    data = pcap_bytes(session_packets())
    found = items(data[:-30])
    assert messages(found)[:7] == EXPECTED[:7]
    said = [p.message for p in problems(found) if "the file ends inside a record" in p.message]
    assert said and "file offset" in said[0]


def test_a_damaged_pcapng_block_is_an_error_with_its_offset_not_a_traceback() -> None:
    data = bytearray(pcapng_bytes(session_packets()))
    position = 28 + 32  # after the section and interface blocks: the first packet block
    data[position + 4 : position + 8] = b"\x07\x00\x00\x00"  # a length that is no multiple of 4
    found = items(bytes(data))
    [error] = problems(found)
    assert error.fatal and f"file offset {position}" in error.message
    assert "multiple of 4" in error.message


def test_not_a_capture_is_said(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(b"hello, this is text\n")
    result = run_cli("decode", "--from", "pcap", str(path))
    assert result.returncode == 2
    assert "not a pcap or pcapng file" in result.stderr and "Traceback" not in result.stderr


def test_a_connection_whose_start_is_missing_is_read_with_server_port() -> None:
    conversation = Conversation(server=(bytes([10, 0, 0, 2]), 8080)).open()
    conversation.send(True, http_request("GET", f"/socket.io/?EIO=4&transport=websocket&sid={SID}"))
    conversation.send(False, http_response(101, Upgrade="websocket"))
    conversation.send(False, ws_frame(b"2"))
    conversation.send(True, ws_frame(b"3", mask=True))
    conversation.send(False, ws_frame(b'42["tick",1]'))
    packets = conversation.packets[7:]  # from the server's ping on
    found = items(pcap_bytes(packets), server_port=8080)
    assert messages(found) == [
        (S2C, Transport.WEBSOCKET, "2"),
        (C2S, Transport.WEBSOCKET, "3"),
        (S2C, Transport.WEBSOCKET, '42["tick",1]'),
    ]
    assert problems(found, "capture.midstream")


def test_tls_is_named_with_its_endpoints() -> None:
    conversation = Conversation(server=(bytes([10, 0, 0, 2]), 443)).open()
    conversation.send(True, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40))
    conversation.send(False, b"\x16\x03\x03\x00\x7a\x02" + bytes(40))
    found = items(pcap_bytes(conversation.packets))
    [tls] = problems(found, "capture.tls")
    assert "127.0.0.1:40000 -> 10.0.0.2:443" in tls.message
    assert "does not decrypt" in tls.message and "siocli proxy" in tls.message


def test_an_engineio_error_answer_is_a_finding() -> None:
    """Said with engine.io's error message and code (lib/server.ts, Server.errorMessages),
    as the HAR reader and the client say it."""
    from siocli.captures.har import read_har

    target = "/socket.io/?EIO=4&transport=polling&sid=nope"
    conversation = Conversation().open()
    conversation.send(True, http_request("GET", target))
    body = b'{"code":1,"message":"Session ID unknown"}'
    conversation.send(False, http_response(400, body, Content_Type="application/json")).close()
    [error] = problems(items(pcap_bytes(conversation.packets)), "http.error")
    assert error.message == f"the GET {target} was answered HTTP 400: Session ID unknown (code 1)"
    entry = {
        "startedDateTime": "2024-01-01T00:00:00.000Z",
        "request": {"method": "GET", "url": f"http://127.0.0.1{target}"},
        "response": {"status": 400, "content": {"text": body.decode()}},
    }
    document = json.dumps({"log": {"entries": [entry]}}).encode()
    [har] = problems(list(read_har(io.BytesIO(document), "e.har")), "http.error")
    assert har.message == "the GET was answered HTTP 400: Session ID unknown (code 1)"


@pytest.mark.parametrize("host", ["[::1", "[zz]:3000"])
def test_a_request_url_with_a_host_urllib_refuses_is_read_for_its_query(host: str) -> None:
    """``urlsplit`` raises on "[::1" (unclosed) and "[zz]": every reader took the request
    through it and ended with an internal error. The query is what a capture's request is
    read for: the messages are decoded."""
    from siocli.captures.har import read_har
    from siocli.captures.text import read_text

    url = f"http://{host}/socket.io/?EIO=4&transport=polling"
    conversation = Conversation().open()
    conversation.send(True, http_request("GET", url))
    conversation.send(False, http_response(200, b'0{"sid":"a"}')).close()
    entry = {
        "startedDateTime": "2024-01-01T00:00:00.000Z",
        "request": {"method": "GET", "url": url},
        "response": {"status": 200, "content": {"text": '0{"sid":"a"}'}},
    }
    har = json.dumps({"log": {"entries": [entry]}}).encode()
    transcript = [f"GET {url}\n", "HTTP/1.1 200 OK\n", "\n", '0{"sid":"a"}\n']
    for found in (
        items(pcap_bytes(conversation.packets)),
        list(read_har(io.BytesIO(har), "e.har")),
        list(read_text(transcript, "t.txt", transcript=True)),
    ):
        [message] = [m for m in found if isinstance(m, WireMessage)]
        assert (message.data, message.direction, message.transport, message.eio) == (
            '0{"sid":"a"}',
            Direction.S2C,
            Transport.POLLING,
            4,
        )


# --- properties --------------------------------------------------------------------------


@st.composite
def _segments(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, int]], list[tuple[int, int]]]:
    data = draw(st.binary(min_size=1, max_size=300))
    cuts = draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=12)) - {len(data)}
    bounds = [0, *sorted(cuts), len(data)]
    pieces = list(itertools.pairwise(bounds))
    extra = draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(1, 60)), max_size=4))
    pieces += [(a, min(len(data), a + n)) for a, n in extra]  # overlaps, retransmissions
    kept = draw(st.lists(st.sampled_from(pieces), min_size=0, max_size=len(pieces) + 4))
    order = draw(st.permutations(kept))
    return data, pieces, list(order)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_segments(), st.integers(0, 2**32 - 1))
def test_reassembly_gives_every_captured_byte_once_in_order_and_names_the_rest(
    case: tuple[bytes, list[tuple[int, int]], list[tuple[int, int]]], isn: int
) -> None:
    data, _, order = case
    stream = Stream()
    stream.syn(isn)
    out: list[bytes | Gap] = []
    for start, end in order:
        out += stream.add((isn + 1 + start) % 2**32, data[start:end])
    out += stream.finish()
    captured = set()
    for start, end in order:
        captured.update(range(start, end))
    offset = 0
    for chunk in out:
        if isinstance(chunk, Gap):
            assert chunk.offset == offset and chunk.length > 0
            assert not captured & set(range(offset, offset + chunk.length))
            offset += chunk.length
        else:
            assert chunk == data[offset : offset + len(chunk)]
            offset += len(chunk)
    assert offset == (max(end for _, end in order) if order else 0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1 << 16), st.binary(max_size=8)), max_size=6),
    st.sampled_from(["pcap", "pcapng"]),
    st.integers(0, 200),
)
def test_damaged_captures_give_messages_and_problems_never_an_exception(
    edits: list[tuple[int, bytes]], container: str, cut: int
) -> None:
    packets = session_packets()
    data = bytearray(pcap_bytes(packets) if container == "pcap" else pcapng_bytes(packets))
    for position, junk in edits:
        position %= len(data)
        data[position : position + len(junk)] = junk
    if cut:
        del data[-cut:]
    for item in items(bytes(data)):
        assert isinstance(item, (WireMessage, InputProblem))


def test_connections_are_dropped_once_both_sides_have_closed() -> None:
    from siocli.captures.pcap import _Capture
    from siocli.captures.tcp import segment_of

    capture = _Capture("t.pcap", None, None)
    largest = 0
    said = []
    for number in range(300):
        conversation = Conversation(client=(bytes([127, 0, 0, 1]), 20000 + number)).open()
        query = f"/socket.io/?EIO=4&transport=polling&sid={SID}"
        conversation.send(True, http_request("POST", query, b'42["n",%d]' % number))
        conversation.send(False, http_response(200, b"ok")).close()
        for _, frame in conversation.packets:
            segment = segment_of(ETHERNET, frame)
            assert isinstance(segment, tuple)
            said += capture.segment(segment, 0.0)
            largest = max(largest, len(capture.connections))
    assert largest == 2  # one connection, under its two keys, at a time
    assert not capture.connections
    assert len([m for m in said if isinstance(m, WireMessage)]) == 300


def test_frames_that_cannot_be_read_are_counted_and_said_once() -> None:
    packets = session_packets()
    data = pcap_bytes(packets, 147)  # LINKTYPE_USER0: not read
    found = items(data)
    [said] = problems(found, "capture.frames-not-read")
    assert said.message.startswith(f"{len(packets)} frame(s) not read: link type 147")
    assert found[-1].fatal  # type: ignore[union-attr]  # and nothing else was there


def test_a_reused_cache_buster_is_said_as_the_transcript_reader_says_it() -> None:
    conversation = Conversation().open()
    for t in ("a", "b", "a"):
        query = f"/socket.io/?EIO=4&transport=polling&t={t}&sid={SID}"
        conversation.send(True, http_request("POST", query, b"3"))
        conversation.send(False, http_response(200, b"ok"))
    [said] = problems(items(pcap_bytes(conversation.packets)), "http.t-reused")
    assert said.message.startswith("request n°3 reuses t=a of request n°1")
