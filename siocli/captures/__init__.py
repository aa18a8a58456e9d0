"""Sources of wire messages: command-line arguments, text (pasted lines or transcripts),
HAR files. Each reader yields :class:`~siocli.wire.WireMessage` values and
:class:`~siocli.wire.InputProblem` values, streaming, and never raises on bad input.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import IO

from ..protocol.types import Severity, Transport
from ..wire import InputProblem, WireMessage

__all__ = ["FORMATS", "PCAP_MAGICS", "detect_format", "read_stream"]

FORMATS = ("text", "transcript", "har", "payload", "recording", "pcap")
"""``--from`` values: ``text`` (one message per line), ``transcript`` (the docs' sample
session style, HTTP exchanges and frames by arrow), ``har``, ``payload`` (the whole input
is one polling body, e.g. an Engine.IO 3 binary payload), ``recording`` (siocli's own),
``pcap`` (pcap or pcapng packet captures: tcpdump, Wireshark)."""

_HEAD = 64 * 1024
_TRANSCRIPT_HINT = re.compile(
    rb"^(?:> )?(?:GET|POST) \S*transport=|^\s*WebSocket frames", re.MULTILINE | re.IGNORECASE
)


PCAP_MAGICS = (
    b"\xd4\xc3\xb2\xa1",  # pcap, little-endian, microseconds
    b"\xa1\xb2\xc3\xd4",  # pcap, big-endian, microseconds
    b"\x4d\x3c\xb2\xa1",  # pcap, little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d",  # pcap, big-endian, nanoseconds
    b"\x0a\x0d\x0d\x0a",  # pcapng Section Header Block
)
"""The first four bytes of a capture file (here, not in :mod:`.pcapfile`: telling a
transcript from a capture must not import the capture readers)."""


def detect_format(head: bytes) -> tuple[str, str]:
    """The format of an input from its first bytes, and why."""
    if head[:4] in PCAP_MAGICS:
        return "pcap", "the magic number of a pcap or pcapng file"
    stripped = head.lstrip()
    if stripped.startswith(b"{") and b'"format": "siocli-recording"' in head[:512]:
        return "recording", "a siocli recording header"
    if stripped.startswith(b"{") and b'"log"' in head[:4096]:
        return "har", 'JSON with a "log" object'
    if head[:1] in (b"\x00", b"\x01") and b"\xff" in head[:12]:
        return "payload", "starts like an Engine.IO 3 binary payload (0x00/0x01, digits, 0xff)"
    if _TRANSCRIPT_HINT.search(head):
        return "transcript", "HTTP requests and WebSocket frames"
    return "text", "one message per line"


def read_stream(
    stream: IO[bytes],
    name: str,
    *,
    source_format: str | None = None,
    eio: int | None = None,
    transport: Transport | None = None,
    server_port: int | None = None,
) -> Iterator[WireMessage | InputProblem]:
    """The messages of one input (a file or stdin), in its format, detected or given."""
    # typeshed wants a raw stream here; any binary file with readinto() serves (BytesIO too)
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[type-var]
    head = buffered.peek(_HEAD)[:_HEAD]
    if not head:
        yield InputProblem(f"{name} is empty", name, fatal=True)
        return
    detected = source_format or detect_format(head)[0]
    if source_format is None and detected == "text" and (offset := _binary_at(head)) is not None:
        yield InputProblem(
            f"{name} is not a capture: binary data (offset {offset}), and none of the formats "
            "decode reads (pcap/pcapng, HAR, a recording, a transcript, lines of messages, an "
            "Engine.IO 3 binary payload); --from forces one",
            name,
            fatal=True,
        )
        return
    if detected == "pcap":
        from .pcap import read_pcap

        yield from read_pcap(buffered, name, eio=eio, server_port=server_port)
        return
    if detected == "har":
        from .har import read_har

        yield from read_har(buffered, name, eio=eio)
        return
    if detected == "payload":
        body = buffered.read()
        yield WireMessage(body, None, Transport.POLLING, None, eio or 3, None, name)
        return
    _not_utf8[0] = 0
    lines = io.TextIOWrapper(buffered, encoding="utf-8", errors=_COUNTED, newline="")
    try:
        if detected == "recording":
            from ..recording import read_recording

            yield from read_recording(lines, name)
        else:
            from .text import read_text

            yield from read_text(
                lines, name, eio=eio, transport=transport, transcript=detected == "transcript"
            )
    finally:
        lines.detach()  # the caller owns the stream and closes it
    if _not_utf8[0]:
        yield InputProblem(
            f"{_not_utf8[0]} byte(s) that are not UTF-8 were read as U+FFFD (\ufffd): this is "
            "not UTF-8 text (binary? --from payload, or hex:/b64: messages)",
            name,
            severity=Severity.WARNING,
            code="input.not-utf8",
        )


def _binary_at(head: bytes) -> int | None:
    """Where ``head`` shows it is binary data rather than text: a NUL byte (never in
    text), or bytes that are mostly not UTF-8; ``None`` for text."""
    nul = head.find(b"\x00")
    if nul >= 0:
        return nul
    text = head.decode("utf-8", "replace")
    if text.count("\ufffd") * 10 > len(text):  # over 10%: not text with a stray byte
        return text.index("\ufffd")
    return None


# Text input is read with invalid UTF-8 replaced, as a browser shows it, and counted: the
# reader says how much it replaced. (Readers run one at a time: one counter.)
_not_utf8 = [0]


def _replace_and_count(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    _not_utf8[0] += error.end - error.start
    return "\ufffd", error.end


_COUNTED = "siocli.replace-and-count"
codecs.register_error(_COUNTED, _replace_and_count)
