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


class Client:
    """One client's Engine.IO sessions, dissected as decode does: one Recovery for all."""

    def __init__(self) -> None:
        self.recovery = Recovery()
        self.dissector: Dissector | None = None
        self.time = 0.0

    def session(self, sid: str) -> MessageReport:
        self.dissector = Dissector(4, recovery=self.recovery)
        return self.send(S2C, OPEN.replace("SID", sid))

    def send(self, direction: Direction, raw: str, after: float = 0.1) -> MessageReport:
        assert self.dissector is not None
        self.time += after
        return self.dissector.receive(direction, Transport.WEBSOCKET, raw, self.time)


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
