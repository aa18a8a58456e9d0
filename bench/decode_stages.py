"""Where each microsecond of ``siocli decode`` goes, per packet: its stages timed one by one.

    python bench/decode_stages.py FILE [--repeat R]     # a JSON report on stdout

Run by bench/decode_cli.py (the BREAKDOWN section) in a child process. Each stage runs over
the whole capture, in this process, and is timed by CPU time (user + system,
``time.process_time``), best of R runs: the machine may be busy, and CPU time is what a stage costs.
A stage that needs the one before gets its input prepared beforehand (the messages read,
the reports dissected), so that each figure is that stage alone:

- *read*: the capture reader (``read_stream``): bytes to wire messages;
- *decode*: the dissector without checker and recovery: Engine.IO and Socket.IO decoding,
  JSON parsing included, the reports, binary reassembly (the common EVENT or ACK of a
  WebSocket message is read on the dissector's straight path, not by ``annotate_message``);
- *checker* and *recovery*: what turning each on adds;
- *spans*: what explaining the bytes adds (the terminal view only): the dissector's spans
  of all but the common EVENT or ACK, whose spans the view makes as it shows them (in
  *terminal view*);
- *summary*: counting (findings only for ``--json``; everything for the terminal view);
- *JSON writer* / *terminal view*: the sink, writing to /dev/null, timed inside the real
  run: the whole decode with the sink, minus the same decode with a sink that declares the
  same needs and writes nothing. (Timed alone over kept reports, a sink costs about a third
  less per packet than it adds to the real run, where the reports it reads were just made
  among everything else: the figure a user waits for is the one in the run.)
- *glue*: the decode with that null sink, minus the stages before the sink: routing
  messages to sessions, generators, the garbage collector.

Start-up (imports, the command line) is not here: bench/decode_cli.py times it apart.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

SINK = "sink in the run (writer / view)"  # the view's includes the common packet's spans


def cpu() -> float:
    return time.process_time()


def best(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = cpu()
        run()
        times.append(cpu() - start)
    return min(times)


def measure(path: str, repeats: int) -> dict[str, Any]:
    from rich.console import Console

    from siocli.captures import read_stream
    from siocli.decode import DecodeOptions, _messages, _Pipeline, run_decode
    from siocli.protocol.dissect import Dissector, MessageReport
    from siocli.protocol.recovery import Recovery
    from siocli.render.human import HumanRenderer
    from siocli.render.jsonl import JsonLinesWriter
    from siocli.render.summary import Summary
    from siocli.wire import WireMessage

    messages: list[WireMessage] = []

    def read() -> None:
        messages.clear()
        with open(path, "rb") as stream:
            messages.extend(m for m in read_stream(stream, path) if isinstance(m, WireMessage))

    t_read = best(read, repeats)

    reports: list[MessageReport] = []

    def dissect(spans: bool, check: bool, recovery: bool, keep: bool = False) -> None:
        dissectors: dict[Any, Dissector] = {}
        shared = Recovery() if recovery else None
        reports.clear()
        for number, m in enumerate(messages):
            dissector = dissectors.get(m.session)
            if dissector is None:
                dissector = dissectors[m.session] = Dissector(
                    m.eio or 4,
                    spans=spans,
                    check=check,
                    recovery=shared,
                    parser=None,
                    common_spans=False,  # as the view asks: it makes those itself
                )
            report = dissector.receive(m.direction, m.transport, m.data, m.time, number)
            if keep:
                reports.append(report)
        for dissector in dissectors.values():
            dissector.end()

    def summary(detailed: bool) -> None:
        counts = Summary(detailed=detailed)
        for report in reports:
            counts.add(1, 4, report, ())

    def devnull() -> io.TextIOWrapper:
        return io.TextIOWrapper(open(os.devnull, "wb"), encoding="utf-8")

    def null_sink(like: Any) -> Any:
        """A sink that asks the pipeline for what ``like`` asks, and writes nothing."""

        class Null:
            shows_spans = like.shows_spans
            spans_on_demand = like.spans_on_demand
            shows_summary = like.shows_summary

            def write_session(self, *args: object) -> None:
                pass

            write_message = write_problem = finish = write_session

        return Null()

    def without_sink(as_json: bool) -> None:
        """``run_decode``'s pipeline as it runs, with the null sink of its sink."""
        options = DecodeOptions(inputs=(path,), as_json=as_json)
        with devnull() as out:
            real = JsonLinesWriter(out) if as_json else HumanRenderer(Console(file=out))
            pipeline = _Pipeline(options, null_sink(real), io.StringIO())
            for item in _messages(options, io.BytesIO(), None):
                pipeline.take(item)
            pipeline.finish()

    def whole(as_json: bool) -> None:
        with devnull() as out:
            run_decode(
                DecodeOptions(inputs=(path,), as_json=as_json),
                stdout=out,
                stderr=io.StringIO(),
                stdin=io.BytesIO(),
                stdin_is_tty=False,
                console=lambda: Console(file=out, width=120),
            )

    t_bare = best(lambda: dissect(False, False, False), repeats)
    t_checked = best(lambda: dissect(False, True, False), repeats)
    t_recovered = best(lambda: dissect(False, True, True), repeats)
    t_spans = best(lambda: dissect(True, True, True), repeats)
    dissect(False, True, True, keep=True)
    count = sum(len(report.packets) for report in reports)  # Engine.IO packets
    t_count = best(lambda: summary(False), repeats)
    dissect(True, True, True, keep=True)
    t_count_all = best(lambda: summary(True), repeats)
    reports.clear()
    t_whole_json = best(lambda: whole(True), repeats)
    t_whole_human = best(lambda: whole(False), repeats)
    t_null_json = best(lambda: without_sink(True), repeats)
    t_null_human = best(lambda: without_sink(False), repeats)
    common = [
        ("read the capture", t_read),
        ("decode (JSON, reports, reassembly)", t_bare),
        ("checker", t_checked - t_bare),
        ("recovery", t_recovered - t_checked),
    ]
    json_rows = [
        *common,
        ("summary (findings only)", t_count),
    ]
    human_rows = [
        *common,
        ("spans (but the common packet's)", t_spans - t_recovered),
        ("summary (all counts)", t_count_all),
    ]
    json_rows += [
        ("glue (routing, GC)", t_null_json - sum(t for _, t in json_rows)),
        (SINK, t_whole_json - t_null_json),
    ]
    human_rows += [
        ("glue (routing, GC)", t_null_human - sum(t for _, t in human_rows)),
        (SINK, t_whole_human - t_null_human),
    ]

    def per_packet(rows: list[tuple[str, float]]) -> list[dict[str, Any]]:
        return [{"stage": s, "seconds": t, "us_per_packet": t / count * 1e6} for s, t in rows]

    return {
        "file": os.path.basename(path),
        "messages": len(messages),
        "packets": count,
        "repeats": repeats,
        "json": per_packet(json_rows),
        "json_total_us": t_whole_json / count * 1e6,
        "human": per_packet(human_rows),
        "human_total_us": t_whole_human / count * 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    json.dump(measure(args.file, args.repeat), sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
