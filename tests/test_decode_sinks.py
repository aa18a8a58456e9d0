"""Each sink of ``decode`` gets only the work it needs, and the same findings.

The terminal view shows spans and a summary; ``--json`` shows neither, so the pipeline
computes neither for it (``Sink.shows_spans``, ``Sink.shows_summary``); the view makes the
spans of the common packet itself, as it shows it (``Sink.spans_on_demand``). Whatever a sink
shows, what the core finds must not change: these tests run generated sessions through the
pipeline with each sink and compare every finding and error, message by message.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from siocli.decode import DecodeOptions, _Pipeline
from siocli.protocol.dissect import MessageReport
from siocli.protocol.types import Direction, Finding, Transport
from siocli.render.human import HumanRenderer
from siocli.render.jsonl import JsonLinesWriter
from siocli.wire import WireMessage

from .strategies import any_json

C2S, S2C = Direction.C2S, Direction.S2C
NAMESPACES = ["/", "/admin", "/chat"]


def _prefix(namespace: str) -> str:
    return "" if namespace == "/" else namespace + ","


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@st.composite
def packets(draw: st.DrawFn) -> list[tuple[Direction, str | bytes]]:
    """One step of a session: a few frames, in wire order (a binary packet's attachments
    follow it), mostly well-formed, sometimes not."""
    direction = draw(st.sampled_from([C2S, S2C]))
    nsp = _prefix(draw(st.sampled_from(NAMESPACES)))
    ack = draw(st.none() | st.integers(0, 5))
    ack_text = "" if ack is None else str(ack)
    kind = draw(
        st.sampled_from(
            ["connect", "answer", "event", "ack", "binary", "ping", "disconnect", "recovered"]
        )
        | st.sampled_from(["junk", "upgrade", "close"])
    )
    if kind == "connect":
        return [(C2S, f"40{nsp}")]
    if kind == "answer":
        return [(S2C, f'40{nsp}{{"sid":"{draw(st.sampled_from(["a", "b"]))}"}}')]
    if kind == "event":
        name = draw(st.sampled_from(["hey", "chat", "connect"]))
        args = draw(st.lists(any_json, max_size=2))
        return [(direction, f"42{nsp}{ack_text}{_json([name, *args])}")]
    if kind == "ack":
        return [(direction, f"43{nsp}{ack_text}{_json(draw(st.lists(any_json, max_size=2)))}")]
    if kind == "binary":
        count = draw(st.integers(1, 2))
        sent = draw(st.integers(0, count))  # some never come
        holders = [{"_placeholder": True, "num": n} for n in range(count)]
        head = f"45{count}-{nsp}{ack_text}{_json(['upload', *holders])}"
        blobs: list[tuple[Direction, str | bytes]] = [
            (direction, draw(st.binary(max_size=6))) for _ in range(sent)
        ]
        return [(direction, head), *blobs]
    if kind == "ping":
        return [(S2C, "2"), (C2S, "3")] if draw(st.booleans()) else [(C2S, "2")]
    if kind == "recovered":  # a pid granted, then events with their offset
        offset = draw(st.sampled_from(["o1", "o2"]))
        return [
            (S2C, f'40{nsp}{{"sid":"a","pid":"p1"}}'),
            (S2C, f'42{nsp}{ack_text}["tick",{ack or 0},"{offset}"]'),
        ]
    if kind == "disconnect":
        return [(direction, f"41{nsp}")]
    if kind == "upgrade":  # the upgrade, or a part of it (what the checker follows)
        steps: list[tuple[Direction, str | bytes]] = [(C2S, "2probe"), (S2C, "3probe"), (C2S, "5")]
        return steps[: draw(st.integers(1, 3))]
    if kind == "close":
        return [(direction, "1")]
    return [(direction, draw(st.text(max_size=8) | st.binary(max_size=4)))]


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[Direction, str | bytes]]:
    """Frames of a session over WebSocket, or over polling then (perhaps) upgraded: each
    ``(direction, data, transport)``."""
    frames: list[tuple[Direction, str | bytes, Transport]] = []
    transport = draw(st.sampled_from(Transport))
    if draw(st.booleans()):
        # a small maxPayload, sometimes: some events exceed it
        limit = draw(st.sampled_from(["", ',"maxPayload":12', ',"maxPayload":1000000']))
        handshake = f'0{{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000{limit}}}'
        frames.append((S2C, handshake, transport))
    for step in draw(st.lists(packets(), max_size=12)):
        if draw(st.booleans()):  # polling moves to WebSocket: the probe and 5 go there
            transport = Transport.WEBSOCKET
        for direction, data in step:
            on = Transport.WEBSOCKET if data in ("2probe", "3probe", "5") else transport
            frames.append((direction, data, on))
    return frames


class _Recording:
    """Keeps what the pipeline handed the sink, findings and errors only."""

    said: list[Any]

    def write_message(
        self, report: MessageReport, extra: tuple[Finding, ...] = (), eio: int = 4
    ) -> None:
        self.said.append(
            (
                report.number,
                report.findings,
                tuple(extra),
                repr(report.breakdown.error),
                [
                    (p.findings, p.socket_findings, repr(p.error), p.complete, p.attachment)
                    for p in report.packets
                ],
            )
        )
        super().write_message(report, extra, eio)  # type: ignore[misc]

    def finish(self, findings: list[Finding], summary: Any) -> None:
        self.said.append(("end", list(findings)))
        super().finish(findings, summary)  # type: ignore[misc]


class _Json(_Recording, JsonLinesWriter):
    pass


class _Human(_Recording, HumanRenderer):
    pass


def _run(
    frames: list[tuple[Direction, str | bytes, Transport]], as_json: bool
) -> tuple[Any, Any, Any]:
    out = io.StringIO()
    sink: _Json | _Human
    sink = _Json(out) if as_json else _Human(Console(file=out, width=100))
    sink.said = []
    pipeline = _Pipeline(DecodeOptions(as_json=as_json, eio=4), sink, io.StringIO())
    for number, (direction, data, transport) in enumerate(frames):
        pipeline.take(WireMessage(data, direction, transport, float(number), 4, None, "t"))
    pipeline.finish()
    summary = pipeline.summary
    return sink.said, dict(summary.findings), (summary.errors, summary.violations())


@settings(max_examples=300, deadline=None)
@given(sessions())
def test_findings_are_the_same_whichever_sink_runs(
    frames: list[tuple[Direction, Any, Transport]],
) -> None:
    assert _run(frames, as_json=True) == _run(frames, as_json=False)


class _AllSpans(HumanRenderer):
    spans_on_demand = False


def _view(frames: list[tuple[Direction, str | bytes, Transport]], sink: type[HumanRenderer]) -> str:
    out = io.StringIO()
    pipeline = _Pipeline(DecodeOptions(eio=4), sink(Console(file=out, width=100)), io.StringIO())
    for number, (direction, data, transport) in enumerate(frames):
        pipeline.take(WireMessage(data, direction, transport, float(number), 4, None, "t"))
    pipeline.finish()
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_the_view_shows_the_same_with_spans_on_demand(
    frames: list[tuple[Direction, Any, Transport]],
) -> None:
    """The view asks for the common packet's spans as it shows it; what it shows is what
    it shows when the dissector explains every packet."""
    assert _view(frames, HumanRenderer) == _view(frames, _AllSpans)


def test_each_sink_gets_only_what_it_shows() -> None:
    frames: list[tuple[Direction, str | bytes]] = [
        (S2C, '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'),
        (C2S, "40"),
        (S2C, '40{"sid":"x"}'),
        (C2S, '42["hey","Jude"]'),
    ]
    for as_json in (True, False):
        out = io.StringIO()
        sink = JsonLinesWriter(out) if as_json else HumanRenderer(Console(file=out, width=100))
        pipeline = _Pipeline(DecodeOptions(as_json=as_json), sink, io.StringIO())
        for direction, data in frames:
            pipeline.take(WireMessage(data, direction, Transport.WEBSOCKET, None, 4, None, "t"))
        dissector = pipeline.all[0].dissector
        assert dissector.spans is sink.shows_spans is (not as_json)
        assert dissector.common_spans is (not sink.spans_on_demand) is as_json
        assert pipeline.summary.detailed is sink.shows_summary is (not as_json)
        pipeline.finish()
        # the summary of --json counts no events: it is never shown
        assert bool(pipeline.summary.events) is (not as_json)


_OPEN = '0{"sid":"s1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000'
W, P = Transport.WEBSOCKET, Transport.POLLING


@pytest.mark.parametrize(
    "frames",
    [
        # the first packet: no handshake
        [(C2S, '42["hey"]', W)],
        # over maxPayload
        [(S2C, _OPEN + ',"maxPayload":12}', W), (C2S, "40", W), (C2S, '42["hey","Jude"]', W)],
        # on the new WebSocket before the upgrade completed
        [(S2C, _OPEN + "}", P), (C2S, "40", P), (C2S, "2probe", W), (C2S, '42["hey"]', W)],
        [(S2C, _OPEN + "}", P), (C2S, "2probe", W), (S2C, "3probe", W), (S2C, '42["x"]', W)],
        # POSTed before the upgrade, sent again after it
        [
            (S2C, _OPEN + "}", P),
            (C2S, '42["hey"]', P),
            (C2S, "2probe", W),
            (S2C, "3probe", W),
            (C2S, "5", W),
            (C2S, '42["hey"]', W),
        ],
        # after a close
        [(S2C, _OPEN + "}", P), (C2S, "1", P), (C2S, '42["hey"]', W)],
    ],
    ids=["first", "max-payload", "probing", "probed", "repeated", "closed"],
)
def test_the_straight_path_gives_way_where_the_engine_rules_speak(
    frames: list[tuple[Direction, str, Transport]],
) -> None:
    """``--json`` takes a straight path for the common event (``Checker.steady_packet``);
    where an Engine.IO rule has something to say, it must take the general one."""
    said, findings, _ = _run(frames, as_json=True)
    assert (said, findings) == _run(frames, as_json=False)[:2]
    assert any(code.startswith("eio.") for _, code in findings)
