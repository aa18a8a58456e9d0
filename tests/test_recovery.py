"""Connection state recovery in the core: pids, offsets, replays, and what breaks recovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siocli.protocol.dissect import Dissector, MessageReport
from siocli.protocol.recovery import (
    RECOVERABLE,
    Recovery,
    RecoveryStore,
    Restored,
    event_offset,
    offset_order,
    recovery_request,
)
from siocli.protocol.socketio import decode_packet
from siocli.protocol.types import Direction, Transport

C2S, S2C = Direction.C2S, Direction.S2C
OPEN = '0{"sid":"SID","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100}'


class Capture:
    """What decode shares between the clients of one capture: one Recovery, one clock."""

    def __init__(self) -> None:
        self.recovery = Recovery()
        self.time = 0.0


class Client:
    """One client's Engine.IO sessions, dissected as decode does: one Recovery for all the
    sessions of its capture, which may hold other clients' (:func:`two_clients`)."""

    def __init__(self, capture: Capture | None = None) -> None:
        self.capture = Capture() if capture is None else capture
        self.dissector: Dissector | None = None

    def session(self, sid: str) -> MessageReport:
        self.dissector = Dissector(4, recovery=self.capture.recovery)
        return self.send(S2C, OPEN.replace("SID", sid))

    def send(self, direction: Direction, raw: str, after: float = 0.1) -> MessageReport:
        assert self.dissector is not None
        self.capture.time += after
        return self.dissector.receive(direction, Transport.WEBSOCKET, raw, self.capture.time)


def two_clients() -> tuple[Client, Client]:
    """Two clients in one capture (a HAR, a pcap, a proxy log)."""
    capture = Capture()
    return Client(capture), Client(capture)


def codes(report: MessageReport) -> list[str]:
    return [
        f.code
        for packet in report.packets
        for f in (*packet.findings, *packet.socket_findings)
        if not f.code.startswith("eio.")
    ]


def messages(report: MessageReport) -> str:
    return " ".join(
        f.message for packet in report.packets for f in (*packet.findings, *packet.socket_findings)
    )


def spans(report: MessageReport) -> list[tuple[str, str, str]]:
    raw = report.raw
    assert isinstance(raw, str)
    return [(raw[s.start : s.end], s.kind, s.meaning) for s in report.packets[0].breakdown.spans]


def connected(client: Client, pid: str = "P1", sid: str = "S1") -> None:
    client.session("e1")
    client.send(C2S, '40{"token":"t"}')
    client.send(S2C, json.dumps({"sid": sid, "pid": pid}, separators=(",", ":")).join(["40", ""]))


def test_the_fields_are_read_as_socket_io_reads_them() -> None:
    assert recovery_request({"pid": "p", "offset": "o", "token": 1}) == ("p", "o")
    assert recovery_request({"pid": "p"}) is None  # both must be strings, or no attempt
    assert recovery_request({"pid": "p", "offset": 3}) is None
    # events that ask for an ack carry no offset: socket.io does not store them
    assert event_offset(decode_packet('2["tick",1,"OeKf2Lk"]')) == "OeKf2Lk"
    assert event_offset(decode_packet('21["tick",1,"OeKf2Lk"]')) is None
    assert event_offset(decode_packet('2["tick"]')) is None
    # yeast ids order by time, then seed; Redis stream ids by time, then sequence
    assert offset_order("OeKf2Lk") < offset_order("OeKf2Lk.0") < offset_order("OeKf2Lm")  # type: ignore[operator]
    assert offset_order("1700000000000-1") < offset_order("1700000000001-0")  # type: ignore[operator]
    assert offset_order("not an id!") is None


def test_pid_and_offset_are_named_apart_from_auth_and_args() -> None:
    client = Client()
    client.session("e1")
    request = client.send(C2S, '40{"token":"t"}')
    assert "connection payload (auth)" in spans(request)[-1][2]  # no pid: plain auth
    answer = client.send(S2C, '40{"sid":"S1","pid":"P1"}')
    assert "socket id 'S1' and pid 'P1'" in spans(answer)[-1][2]
    event = client.send(S2C, '42["tick",8,"Q9HS8lu"]')
    assert spans(event)[-2:] == [
        ('["tick",8,"Q9HS8lu"]', "payload", "event 'tick' with 1 argument, then its offset"),
        (
            '"Q9HS8lu"',
            "offset",
            "offset of this event (connection state recovery): the client sends back the "
            "last one it got when it reconnects",
        ),
    ]
    assert event.packets[0].recovery.offset == "Q9HS8lu"  # type: ignore[union-attr]
    # the args stay what the wire says
    assert event.packets[0].complete.args == [8, "Q9HS8lu"]  # type: ignore[union-attr]
    acked = client.send(S2C, '421["ask","x"]')
    assert acked.packets[0].recovery is None


def test_no_pid_no_offset() -> None:
    """Without a pid in the CONNECT answer, a last string argument is only an argument."""
    client = Client()
    client.session("e1")
    client.send(C2S, "40")
    client.send(S2C, '40{"sid":"S1"}')
    event = client.send(S2C, '42["tick",8,"Q9HS8lu"]')
    assert event.packets[0].recovery is None
    assert spans(event)[-1][2] == "event 'tick' with 2 arguments"


def test_a_recovered_session_replays_before_the_answer() -> None:
    client = Client()
    connected(client)
    client.send(S2C, '42["tick",1,"OeKf2Lk"]')
    client.session("e2")
    request = client.send(C2S, '40{"pid":"P1","offset":"OeKf2Lk","token":"t"}')
    assert spans(request)[-1][2] == (
        "recovery request: pid 'P1' and offset 'OeKf2Lk' of the session to recover "
        "(connection state recovery), and auth fields token"
    )
    replay = client.send(S2C, '42["tick",2,"OeKf2Lm"]')
    assert codes(replay) == ["sio.recovery-replay"]  # not sio.event-before-connect
    assert "replay of missed packets" in messages(replay)
    assert replay.packets[0].recovery.replayed  # type: ignore[union-attr]
    answer = client.send(S2C, '40{"sid":"S1","pid":"P1"}')
    assert codes(answer) == ["sio.recovered"]
    assert "same socket id 'S1', 1 missed packet replayed" in messages(answer)
    assert answer.packets[0].recovery.recovered is True  # type: ignore[union-attr]
    after = client.send(S2C, '42["tick",3,"OeKf2Ln"]')
    assert codes(after) == [] and not after.packets[0].recovery.replayed  # type: ignore[union-attr]


def test_an_event_without_offset_before_the_answer_is_no_replay() -> None:
    """python-socketio emits from its connect handler before answering: not a replay."""
    client = Client()
    connected(client)
    client.session("e2")
    client.send(C2S, '40{"pid":"P1","offset":"OeKf2Lk"}')
    welcome = client.send(S2C, '42["welcome",{"sid":"S2"}]')
    assert codes(welcome) == ["sio.event-before-connect"]
    answer = client.send(S2C, '40{"sid":"S2"}')
    assert codes(answer) == ["sio.recovery-failed"]
    assert "new socket id 'S2' (was 'S1')" in messages(answer)
    assert "It could not: its answer has no pid" in messages(answer)


@pytest.mark.parametrize(
    ("before", "offset", "away", "said"),
    [
        # the client left on purpose: nothing is kept
        (["> 41"], "OeKf2Lk", 0.1, "the client left with a DISCONNECT packet"),
        # the offset is the last argument of an event that asked for an ack
        (['< 423["ask","yes"]'], "yes", 0.1, "event that asked for an ack, which carries no"),
        # away for longer than the default maxDisconnectionDuration
        ([], "OeKf2Lk", 300, "away 300 s, more than socket.io's default"),
        # back sooner than the server could tell the client was gone (pingInterval 25 s +
        # pingTimeout 20 s): the previous session was probably still open on the server
        (
            [],
            "OeKf2Lk",
            2,
            "Probably not yet: the client came back 2.1 s after its previous session's last "
            "packet, within the server's pingInterval + pingTimeout (45 s)",
        ),
        # nothing in the capture prevents it
        (
            [],
            "OeKf2Lk",
            60,
            "It could have, from what the capture shows: the pid and the offset are ones the "
            "server sent, and the client came back 60.1 s after its previous session's last "
            "packet",
        ),
    ],
)
def test_why_recovery_failed_is_read_from_the_capture(
    before: list[str], offset: str, away: float, said: str
) -> None:
    client = Client()
    connected(client)
    client.send(S2C, '42["tick",1,"OeKf2Lk"]')
    for line in before:
        client.send(C2S if line[0] == ">" else S2C, line[2:])
    client.session("e2")
    client.send(C2S, json.dumps({"pid": "P1", "offset": offset}).join(["40", ""]), after=away)
    answer = client.send(S2C, '40{"sid":"S2","pid":"P2"}')
    assert codes(answer) == ["sio.recovery-failed"]
    assert said in " ".join(messages(answer).split())


def test_stale_pid_and_offsets_going_backwards() -> None:
    client = Client()
    connected(client)
    client.send(S2C, '42["tick",1,"OeKf2Lk"]')
    client.session("e2")
    client.send(C2S, '40{"pid":"P1","offset":"OeKf2Lk"}')
    client.send(S2C, '40{"sid":"S2","pid":"P2"}')  # a fresh session: P2 now
    back = client.send(S2C, '42["tick",2,"OeKf2Lj"]')
    assert codes(back) == ["sio.offset-backwards"]
    client.session("e3")
    stale = client.send(C2S, '40{"pid":"P1","offset":"OeKf2Lj"}')
    assert codes(stale) == ["sio.recovery-stale-pid"]
    assert "was granted pid 'P2'" in messages(stale)
    # a replay of what the client already had: it would get it twice
    client = Client()
    connected(client)
    client.send(S2C, '42["tick",1,"OeKf2Lk"]')
    client.session("e2")
    client.send(C2S, '40{"pid":"P1","offset":"OeKf2Lk"}')
    twice = client.send(S2C, '42["tick",1,"OeKf2Lk"]')
    assert sorted(codes(twice)) == ["sio.offset-backwards", "sio.recovery-replay"]
    assert "gets this packet twice" in messages(twice)
    # recordings made before they kept pids show "[redacted]": one client, followed through
    client = Client()
    connected(client)
    client.send(S2C, '42["tick",1,"OeKf2Lk"]')
    client.session("e2")
    assert codes(client.send(C2S, '40{"pid":"[redacted]","offset":"[redacted]"}')) == []
    answer = client.send(S2C, '40{"sid":"S2","pid":"P2"}')
    assert "The recording redacted the pid asked for" in messages(answer)
    client.session("e3")
    stale = client.send(C2S, '40{"pid":"P1","offset":"OeKf2Lk"}')
    assert "was granted pid 'P2'" in messages(stale)
    # loose messages are one Engine.IO session, so one client: a pid never granted is stale
    loose = Dissector(4, recovery=Recovery())
    loose.receive(None, Transport.WEBSOCKET, '40{"sid":"S1","pid":"P1"}', None)
    stale = loose.receive(None, Transport.WEBSOCKET, '40{"pid":"P0","offset":"OeKf2Lk"}', None)
    assert codes(stale) == ["sio.recovery-stale-pid"]
    assert "was granted pid 'P1'" in messages(stale)


# --- several clients in one capture: each followed by its pids ----------------------------


def test_two_clients_in_one_capture_each_recover_their_own_pid() -> None:
    """decode follows all the clients of a capture with one Recovery: a reconnecting client
    is found by the pid it sends, not by the namespace it shares with the others."""
    a, b = two_clients()
    connected(a, "PA", "SA")
    a.send(S2C, '42["tick",1,"OeKf2Lk"]')
    connected(b, "PB", "SB")  # granted after A's
    b.send(S2C, '42["tick",1,"OeKf2Lk"]')  # the same broadcast, stored once
    a.session("a2")
    b.session("b2")
    asked = a.send(C2S, '40{"pid":"PA","offset":"OeKf2Lk"}')
    assert codes(asked) == []  # A's own latest pid, though B was granted one since
    assert codes(b.send(C2S, '40{"pid":"PB","offset":"OeKf2Lk"}', after=30)) == []
    b.send(S2C, '42["tick",2,"OeKf2Lm"]')
    answer = b.send(S2C, '40{"sid":"SB","pid":"PB"}')
    assert codes(answer) == ["sio.recovered"]
    assert "same socket id 'SB', 1 missed packet replayed" in messages(answer)
    answer = a.send(S2C, '40{"sid":"SA2","pid":"PA2"}')
    assert codes(answer) == ["sio.recovery-failed"]
    said = " ".join(messages(answer).split())
    assert "new socket id 'SA2' (was 'SA')" in said
    # away since A's own last packet (its tick), not since B's
    assert "the client came back 0.7 s after its previous session's last packet" in said


def test_a_stale_pid_is_one_of_the_clients_own() -> None:
    a, b = two_clients()
    connected(a, "PA1", "SA1")
    a.send(S2C, '42["tick",1,"OeKf2Lk"]')
    a.session("a2")
    a.send(C2S, '40{"pid":"PA1","offset":"OeKf2Lk"}')
    a.send(S2C, '40{"sid":"SA2","pid":"PA2"}')  # not recovered: PA2 now
    connected(b, "PB", "SB")  # another client, granted last
    a.session("a3")
    stale = a.send(C2S, '40{"pid":"PA1","offset":"OeKf2Lk"}')
    assert codes(stale) == ["sio.recovery-stale-pid"]
    assert "its latest session on '/' was granted pid 'PA2'" in messages(stale)
    # a pid the capture does not show granted: a client whose first session it missed
    c = Client(b.capture)
    c.session("c2")
    assert codes(c.send(C2S, '40{"pid":"PC","offset":"OeKf2Lk"}')) == []
    answer = c.send(S2C, '40{"sid":"SC2","pid":"PC2"}')
    assert "The capture does not show pid 'PC' granted" in " ".join(messages(answer).split())


def test_offsets_go_backwards_only_within_one_client() -> None:
    """Over polling, a client can get a broadcast later than another client gets a newer one:
    each client's offsets are judged on their own."""
    a, b = two_clients()
    connected(a, "PA", "SA")
    connected(b, "PB", "SB")
    a.send(S2C, '42["tick",2,"OeKf2Lm"]')
    assert codes(b.send(S2C, '42["tick",1,"OeKf2Lk"]')) == []
    back = a.send(S2C, '42["tick",1,"OeKf2Lk"]')
    assert codes(back) == ["sio.offset-backwards"]
    assert "offset 'OeKf2Lk' is not after 'OeKf2Lm'" in messages(back)


def test_why_a_recovery_failed_is_read_from_that_client_only() -> None:
    a, b = two_clients()
    connected(a, "PA", "SA")
    connected(b, "PB", "SB")
    a.send(S2C, '42["tick",1,"OeKf2Lk"]')
    b.send(S2C, '42["tick",2,"OeKf2Lm"]')
    a.send(C2S, "41")  # A leaves on purpose: B does not
    b.session("b2")
    b.send(C2S, '40{"pid":"PB","offset":"OeKf2Lm"}', after=60)
    answer = b.send(S2C, '40{"sid":"SB2","pid":"PB2"}')
    assert codes(answer) == ["sio.recovery-failed"]
    said = " ".join(messages(answer).split())
    assert "It could have, from what the capture shows" in said
    assert "came back 60.2 s after its previous session's last packet" in said
    # C asks from an offset only B got: socket.io finds it among all the packets it stored
    # for the namespace, whoever got them, so the capture cannot say it was never sent
    c = Client(b.capture)
    connected(c, "PC", "SC")
    c.send(S2C, '42["tick",1,"OeKf2Lk"]')
    c.session("c2")
    c.send(C2S, '40{"pid":"PC","offset":"OeKf2Lm"}', after=60)
    answer = c.send(S2C, '40{"sid":"SC2","pid":"PC2"}')
    said = " ".join(messages(answer).split())
    assert "It could have, from what the capture shows" in said


def _client_texts(c: str) -> list[str]:
    """Recovery traffic of client ``c``: its own pids, socket ids and offsets (two clients
    never share a pid; they may share offsets, which the property keeps apart)."""
    # yeast ids for one, Redis stream ids for the other: both ordered, one may go backwards
    if c == "A":
        o1, o2, o3 = "OeKf2Lk", "OeKf2Lj.3", "OeKf2Lm"
    else:
        o1, o2, o3 = "1700000000002-1", "1700000000001-5", "1700000000003-0"
    return [
        "40",
        f'40{{"pid":"{c}1","offset":"{o1}"}}',
        f'40{{"pid":"{c}2","offset":"{o2}"}}',
        f'40{{"pid":"{c}9","offset":"{o3}"}}',
        f'40{{"sid":"S{c}1","pid":"{c}1"}}',
        f'40{{"sid":"S{c}2","pid":"{c}2"}}',
        f'40{{"sid":"S{c}3"}}',
        f'40/a,{{"sid":"S{c}1","pid":"{c}1"}}',
        f'40/a,{{"pid":"{c}1","offset":"{o1}"}}',
        "41",
        "41/a,",
        f'42["tick",1,"{o1}"]',
        f'42["tick",2,"{o2}"]',
        f'42["tick",3,"{o3}"]',
        f'42/a,["tick","{o3}"]',
        f'421["ask","{o1}"]',
    ]


_SCRIPT = st.lists(
    st.tuples(
        st.booleans(),  # a new Engine.IO session first
        st.sampled_from([C2S, S2C]),
        st.integers(0, len(_client_texts("A")) - 1),
        st.floats(min_value=0, max_value=200),
    ),
    max_size=15,
)


def _script(c: str, steps: list[tuple[bool, Direction, int, float]]) -> list[tuple]:
    texts = _client_texts(c)
    time = 0.0
    script: list[tuple] = []
    for n, (new, direction, text, after) in enumerate(steps):
        time += after
        if new or n == 0:
            script.append((time, True, S2C, OPEN.replace("SID", f"{c}{n}")))
        script.append((time, False, direction, texts[text]))
    return script


def _play(*scripts: list[tuple]) -> list[list[list[str]]]:
    """Each client's findings, message by message, when a capture holds ``scripts`` merged
    in time order (ties: the first script's first)."""
    recovery = Recovery()
    dissectors = [Dissector(4, recovery=recovery) for _ in scripts]
    said: list[list[list[str]]] = [[] for _ in scripts]
    merged = sorted(
        (step[0], who, n, step)
        for who, script in enumerate(scripts)
        for n, step in enumerate(script)
    )
    for time, who, _, (_, new, direction, raw) in merged:
        if new:
            dissectors[who] = Dissector(4, recovery=recovery)
        report = dissectors[who].receive(direction, Transport.WEBSOCKET, raw, time)
        said[who].append(
            [
                f"{f.code}: {f.message}"
                for packet in report.packets
                for f in (*packet.findings, *packet.socket_findings)
            ]
        )
    return said


@given(_SCRIPT, _SCRIPT)
def test_two_clients_in_one_capture_get_what_each_gets_alone(
    a: list[tuple[bool, Direction, int, float]], b: list[tuple[bool, Direction, int, float]]
) -> None:
    alone_a, alone_b = _script("A", a), _script("B", b)
    assert _play(alone_a, alone_b) == [*_play(alone_a), *_play(alone_b)]


def test_the_server_store_recovers_as_socket_io_does() -> None:
    ids = iter(f"id{n}" for n in range(100))
    store = RecoveryStore(30.0, lambda: next(ids), packets=3)
    pid = store.open("/", "S1")
    first = store.stamp(pid, ["tick", 1])
    assert first[:2] == ["tick", 1] and isinstance(first[2], str)
    # still connected: socket.io keeps a session only once it closed
    assert store.restore(pid, first[2], "/", 1.0) == "that session is still connected"
    assert store.left(pid, "transport close", 1.0)
    assert store.missed("/", ["tick", 2], 2.0) == 1
    assert store.missed("/admin", ["tick", 9], 2.0) == 0
    restored = store.restore(pid, first[2], "/", 3.0)
    assert isinstance(restored, Restored)
    assert restored.socket_id == "S1"
    assert [data[:2] for data in restored.missed] == [["tick", 2]]
    # offsets grow: decode orders them
    assert offset_order(first[2]) < offset_order(restored.missed[0][2])  # type: ignore[operator]
    # gone for good, too long away, an offset no longer kept, an unknown pid
    assert not store.left(pid, "client namespace disconnect", 4.0)
    assert store.restore(pid, first[2], "/", 5.0) == "unknown or expired pid"
    pid = store.open("/", "S2")
    offsets = [store.stamp(pid, ["tick", n])[-1] for n in range(5)]
    store.left(pid, "ping timeout", 10.0)
    assert "is not among the last 3 events kept" in str(store.restore(pid, offsets[0], "/", 11))
    assert isinstance(store.restore(pid, offsets[3], "/", 12.0), Restored)
    store.left(pid, "ping timeout", 20.0)
    assert store.restore(pid, offsets[4], "/", 51.0) == "unknown or expired pid"


# --- decode of real sessions (tests/captures/recovery.py made them) ---------------------------

CAPTURES = Path(__file__).parent / "data" / "captures"


@pytest.mark.parametrize(
    "name",
    [
        "recovery-websocket.jsonl",
        "recovery-polling.jsonl",
        "recovery-expired.jsonl",
        "serve-recovery-websocket.pcap",
        "serve-recovery-polling.pcap",
    ],
)
def test_decode_of_recovery_sessions_is_pinned(name: str) -> None:
    """siocli listen against socket.io 4.8 (recordings), and socket.io-client 4.8 against
    siocli serve --recover (tcpdump): the cut, the recovery request, the replay, the
    answer."""
    from .test_decode_cli import assert_golden, run

    code, out, _ = run(str(CAPTURES / name))
    assert code == 0
    assert_golden(name.rsplit(".", 1)[0] + ".txt", out.replace(str(CAPTURES) + "/", ""))


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_decode_of_the_node_client_recovering_from_serve(transport: str) -> None:
    from .test_decode_cli import records, run

    _, out, _ = run(str(CAPTURES / f"serve-recovery-{transport}.pcap"))
    assert "the stream ends inside" in out  # the cut, said by the capture reader
    lines = records(str(CAPTURES / f"serve-recovery-{transport}.pcap"))
    found = [f["code"] for r in lines for f in r["findings"]]
    assert found.count("sio.recovered") == 1 and "sio.event-before-connect" not in found
    offsets = [offset_order(r["offset"]) for r in lines if r.get("event") == "tick"]
    counts = [o[0] for o in offsets if o is not None]
    assert counts == list(range(counts[0], counts[0] + len(counts)))  # none lost, none twice


@pytest.mark.parametrize("name", ["recovery-websocket", "recovery-polling"])
def test_decode_of_a_recovered_session(name: str) -> None:
    from .test_decode_cli import records

    lines = records(str(CAPTURES / f"{name}.jsonl"))
    found = [f["code"] for r in lines for f in r["findings"]]
    assert "sio.event-before-connect" not in found
    assert found.count("sio.recovered") == 1 and "sio.recovery-failed" not in found
    answers = [r for r in lines if r.get("sio_type") == "CONNECT" and r["dir"] == "s2c"]
    assert len(answers) == 2 and answers[0]["data"] == answers[1]["data"]  # same sid and pid
    ticks = [r for r in lines if r.get("event") == "tick"]
    # decode --json: the args as on the wire, the offset beside them
    assert all(r["offset"] == r["args"][-1] for r in ticks)
    numbers = [r["args"][0] for r in ticks]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # none lost, none twice
    replayed = [r for r in ticks if any(f["code"] == "sio.recovery-replay" for f in r["findings"])]
    # before the answer: in earlier messages, or earlier in the same polling body
    assert replayed and all(r["index"] <= answers[1]["index"] for r in replayed)


def test_decode_of_an_expired_session() -> None:
    from .test_decode_cli import records

    lines = records(str(CAPTURES / "recovery-expired.jsonl"))
    failed = [f for r in lines for f in r["findings"] if f["code"] == "sio.recovery-failed"]
    assert len(failed) == 1
    assert "It could have, from what the capture shows" in failed[0]["message"]


def test_decode_of_a_capture_of_two_clients_recovering(tmp_path: Path) -> None:
    """A HAR of two browser tabs (one WebSocket entry a session), each recovering its own
    socket, their reconnections interleaved."""
    from .test_decode_cli import records

    def entry(*frames: tuple[float, str, str]) -> dict:
        return {
            "request": {"method": "GET", "url": "http://h/socket.io/?EIO=4&transport=websocket"},
            "_webSocketMessages": [
                {"type": "send" if side == ">" else "receive", "time": t, "opcode": 1, "data": d}
                for t, side, d in frames
            ],
        }

    def client(c: str, start: float, back: float) -> list[dict]:
        return [
            entry(
                (start, "<", OPEN.replace("SID", f"e{c}1")),
                (start + 0.1, ">", "40"),
                (start + 0.2, "<", f'40{{"sid":"S{c}","pid":"P{c}"}}'),
                (start + 0.3, "<", '42["tick",1,"OeKf2Lk"]'),
            ),
            entry(
                (back, "<", OPEN.replace("SID", f"e{c}2")),
                (back + 0.2, ">", f'40{{"pid":"P{c}","offset":"OeKf2Lk"}}'),
                (back + 0.4, "<", '42["tick",2,"OeKf2Lm"]'),
                (back + 0.6, "<", f'40{{"sid":"S{c}","pid":"P{c}"}}'),
            ),
        ]

    har = tmp_path / "two-tabs.har"
    entries = [*client("A", 1.0, 30.0), *client("B", 2.0, 30.1)]
    har.write_text(json.dumps({"log": {"entries": entries}}))
    found = [f for r in records(str(har)) for f in r["findings"]]
    assert sorted(f["code"] for f in found) == ["sio.recovered"] * 2 + ["sio.recovery-replay"] * 2
    recovered = [f["message"] for f in found if f["code"] == "sio.recovered"]
    assert "same socket id 'SA', 1 missed packet replayed" in recovered[0]
    assert "same socket id 'SB', 1 missed packet replayed" in recovered[1]


def test_recordings_keep_pid_and_offset_and_redact_the_auth() -> None:
    """The pid and offset are the protocol's state (the server's answer and events show
    them anyway); the auth beside them is the user's secret."""
    from siocli.recording import redact_message

    secrets: set[str] = set()
    data, changed = redact_message(
        '40{"pid":"P1xxxxxx","offset":"Q9HiqL3","token":"secret-token"}',
        C2S,
        Transport.WEBSOCKET,
        4,
        secrets,
    )
    assert changed
    assert data == '40{"pid":"P1xxxxxx","offset":"Q9HiqL3","token":"[redacted]"}'
    assert secrets == {"secret-token"}


# --- any peer input: findings and notes, never an exception -----------------------------------

_RECOVERY_TEXT = st.sampled_from(
    [
        "0",
        '0{"token":"t"}',
        '0{"pid":"P1","offset":"OeKf2Lk"}',
        '0{"pid":"P2","offset":"1700000000000-1"}',
        '0{"pid":"[redacted]","offset":"x"}',
        '0{"sid":"S1","pid":"P1"}',
        '0{"sid":"S2","pid":"P2"}',
        '0{"sid":"S3"}',
        '0/a,{"sid":"S1","pid":"P1"}',
        "1",
        '2["tick",1,"OeKf2Lk"]',
        '2["tick",2,"OeKf2Lj.3"]',
        '2/a,["tick","é\\"]"]',
        '21["ask","OeKf2Lm"]',
        '2["tick"]',
        '51-["b",{"_placeholder":true,"num":0},"OeKf2Ln"]',
    ]
)


@given(
    st.lists(
        st.tuples(
            st.booleans(),  # a new Engine.IO session first
            st.sampled_from([Direction.C2S, Direction.S2C, None]),
            st.one_of(_RECOVERY_TEXT.map(lambda t: "4" + t), st.text(max_size=12)),
            st.floats(min_value=0, max_value=500),
        ),
        max_size=20,
    )
)
def test_recovery_takes_any_sequence_of_packets(
    messages: list[tuple[bool, Direction | None, str, float]],
) -> None:
    recovery = Recovery()
    dissector = Dissector(4, recovery=recovery)
    time = 0.0
    for new, direction, raw, after in messages:
        if new:
            dissector = Dissector(4, recovery=recovery)
        time += after
        report = dissector.receive(direction, Transport.WEBSOCKET, raw, time)
        for packet in report.packets:
            note = packet.recovery
            if note is not None and note.offset is not None:
                assert packet.breakdown.socket is not None
                assert packet.breakdown.socket.data[-1] == note.offset
    dissector.end()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["open", "stamp", "left", "missed", "restore"]),
            st.integers(0, 3),
            st.sampled_from([*sorted(RECOVERABLE), "client namespace disconnect"]),
            st.floats(min_value=0, max_value=40),
        ),
        max_size=30,
    )
)
def test_the_server_store_takes_any_sequence(steps: list[tuple[str, int, str, float]]) -> None:
    counter = iter(range(10_000))
    store = RecoveryStore(30.0, lambda: f"id{next(counter)}", packets=4)
    pids: list[str] = []
    offsets: list[str] = ["none"]
    now = 0.0
    for action, which, reason, after in steps:
        now += after
        pid = pids[which % len(pids)] if pids else "unknown"
        if action == "open":
            pids.append(store.open("/", f"S{len(pids)}"))
        elif action == "stamp":
            offsets.append(store.stamp(pid, ["tick"])[-1])
        elif action == "left":
            store.left(pid, reason, now)
        elif action == "missed":
            store.missed("/", ["tick"], now)
        else:
            restored = store.restore(pid, offsets[which % len(offsets)], "/", now)
            if isinstance(restored, Restored):
                assert len(restored.missed) < 4  # bounded
