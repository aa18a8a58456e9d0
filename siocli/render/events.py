"""Live events for people (one line each, with time and namespace) and for machines (JSON
Lines with the keys documented in the README: ``t``, ``type``, ``nsp``, ``event``, ``args``,
``id``, ``reason``...)."""

from __future__ import annotations

import time
from typing import IO, Any

from ..protocol.session import (
    AckMessage,
    Closed,
    EventMessage,
    NamespaceConnected,
    NamespaceDisconnected,
    NamespaceRejected,
    Opened,
    SessionEvent,
    Upgraded,
    UpgradeFailed,
)
from .jsonl import dumps_line
from .text import escape_text, format_value

__all__ = ["EventPrinter"]


class EventPrinter:
    """Prints session events to ``out``: human lines, or JSON with ``as_json``."""

    def __init__(
        self, out: IO[str], *, as_json: bool = False, quiet: bool = False, color: bool = False
    ) -> None:
        self.out = out
        self.as_json = as_json
        self.quiet = quiet
        self.color = color
        self.start = time.monotonic()
        self.prompt = ""  # re-printed after each line when a prompt is showing
        self.ack_advice = False  # connect's prompt: how to answer an event that asks an ack
        # Lines printed but not yet written: one write per batch of events, even when the
        # stream writes through (PYTHONUNBUFFERED, a terminal) and a write is a system call.
        self._lines: list[str] = []

    def elapsed(self) -> float:
        return round(time.monotonic() - self.start, 3)

    def event(self, event: SessionEvent, extra: dict[str, Any] | None = None) -> None:
        """Print a session event (with the ``extra`` keys the client adds: an event's
        ``offset``...). It reaches ``out`` at the next :meth:`flush`, which the caller makes
        before waiting for more (a flood of events then costs a few writes)."""
        record = _record(event, self.elapsed())
        if record is None:
            return
        if extra:
            record.update(extra)
        if self.quiet and record["type"] not in ("event", "ack", "connect_error", "disconnect"):
            return
        self._print(record)

    def write(self, record: dict[str, Any]) -> None:
        """Print a record now (flushed)."""
        self._print(record)
        self.flush()

    def write_text(self, text: str) -> None:
        """Write ``text`` as it is (help, a prompt) after what was printed, flushed."""
        self._lines.append(text)
        self.flush()

    def flush(self) -> None:
        if self._lines:
            self._write()
        self.out.flush()

    def _print(self, record: dict[str, Any]) -> None:
        line = dumps_line(record) if self.as_json else _human(record, self.ack_advice)
        lines = self._lines
        lines.append("\r\x1b[K" + line + "\n" + self.prompt if self.prompt else line + "\n")
        if len(lines) >= 1024:  # a long flood: written (not flushed) as it goes
            self._write()

    def _write(self) -> None:
        text = "".join(self._lines)
        self._lines = []
        self.out.write(text)

    def note(self, kind: str, **fields: Any) -> None:
        """A lifecycle step that is not a session event (reconnecting, emitted...)."""
        if self.quiet and kind not in ("error",):
            return
        self.write({"t": self.elapsed(), "type": kind, **fields})


def _record(event: SessionEvent, t: float) -> dict[str, Any] | None:
    """The record of ``event`` at ``t`` seconds (``None``: not printed)."""
    if isinstance(event, EventMessage):
        return {
            "t": t,
            "type": "event",
            "nsp": event.namespace,
            "event": event.name,
            "args": event.args,
            "id": event.ack_id,
        }
    if isinstance(event, AckMessage):
        record = {
            "t": t,
            "type": "ack",
            "nsp": event.namespace,
            "id": event.ack_id,
            "args": event.args,
        }
        if not event.expected:
            record["unexpected"] = True
        return record
    if isinstance(event, Opened):
        hs = event.handshake
        return {
            "t": t,
            "type": "open",
            "sid": hs.sid,
            "transport": event.transport.value,
            "eio": event.eio,
            "upgrades": list(hs.upgrades),
            "pingInterval": hs.ping_interval,
            "pingTimeout": hs.ping_timeout,
            "maxPayload": hs.max_payload,
        }
    if isinstance(event, Upgraded):
        return {"t": t, "type": "upgrade", "transport": event.transport.value}
    if isinstance(event, UpgradeFailed):
        return {"t": t, "type": "upgrade_failed", "reason": event.reason}
    if isinstance(event, NamespaceConnected):
        return {"t": t, "type": "connect", "nsp": event.namespace, "sid": event.sid}
    if isinstance(event, NamespaceRejected):
        return {
            "t": t,
            "type": "connect_error",
            "nsp": event.namespace,
            "message": event.message,
            "data": event.data,
        }
    if isinstance(event, NamespaceDisconnected):
        return {"t": t, "type": "disconnect", "nsp": event.namespace, "reason": event.reason}
    if isinstance(event, Closed):
        return {"t": t, "type": "close", "reason": event.reason, "detail": event.detail}
    return None


def _human(record: dict[str, Any], ack_advice: bool = False) -> str:
    kind = record["type"]
    head = f"{record['t']:9.3f}s  "
    nsp = record.get("nsp")
    # A server's records name the client (sid) and what came in is client -> server ('>').
    peer = f"sid={record['sid']} " if "sid" in record else ""
    arrow = ">" if peer else "<"
    if kind == "event":
        text = f"{arrow} event  {peer}{nsp} {format_value(record['event'])}"
        if record["args"]:
            text += " " + ", ".join(format_value(a) for a in record["args"])
        if record.get("id") is not None:
            text += (
                f"  (asks ack {record['id']}: answer with 'ack {record['id']} ...')"
                if ack_advice
                else f"  (asks ack {record['id']})"
            )
        if record.get("replayed"):
            text += "  (replayed: missed while disconnected)"
        return head + text
    if kind == "ack":
        args = ", ".join(format_value(a) for a in record["args"]) or "(no arguments)"
        extra = "  (no event of ours has this id)" if record.get("unexpected") else ""
        return head + f"{arrow} ack    {peer}{nsp} id={record['id']} {args}{extra}"
    if kind == "open":
        return head + (
            f"open     sid={record['sid']} Engine.IO {record['eio']} over {record['transport']}"
            f" (pingInterval {record['pingInterval']} ms, pingTimeout {record['pingTimeout']} ms"
            + (f", maxPayload {record['maxPayload']}" if record["maxPayload"] else "")
            + ")"
        )
    if kind == "connect":
        text = f"connect  {nsp}" + (f" sid={record['sid']}" if record.get("sid") else "")
        if "recovered" in record:
            text += " (recovered)" if record["recovered"] else " (not recovered)"
        return head + text
    if kind == "connect_error":
        text = f"✗ refused {nsp}: {record['message']}"
        if record.get("data") is not None:
            text += f" data={format_value(record['data'])}"
        return head + text
    if kind == "disconnect":
        return head + f"disconnect {nsp} ({record['reason']})"
    if kind == "close":
        detail = f": {record['detail']}" if record.get("detail") else ""
        return head + f"closed   {record['reason']}{detail}"
    if kind == "cors_refused":  # serve: the browser will keep the answer from the page
        asked = "a preflight for " if record["preflight"] else "a "
        headers = f" with headers {record['headers']}" if record.get("headers") else ""
        return head + (
            f"✗ CORS   {asked}{record['method']}{headers} from {record['origin']}"
            f" refused: {record['reason']}"
        )
    rest = " ".join(
        f"{k}={format_value(v) if not isinstance(v, str) else escape_text(v)}"
        for k, v in record.items()
        if k not in ("t", "type")
    )
    return head + f"{kind:<8} {rest}"
