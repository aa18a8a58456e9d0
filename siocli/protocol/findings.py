"""The catalogue of findings: every code siocli's decoders, checker and capture readers can
emit, with its severity, one line, where it comes from and the spec rule or reference
behaviour it rests on.

``tests/test_findings_catalogue.py`` reads the source and proves that every code emitted is
here, with the same severities and modules (and that nothing here is emitted nowhere);
``docs/findings.md`` is generated from this table (``python -m siocli.render.findings``)
and tested to be up to date; ``siocli decode --explain CODE`` prints one entry. A new
finding: add its entry here, then regenerate docs/findings.md.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .types import Severity

__all__ = ["CATALOGUE", "Entry", "close_matches", "markdown"]

VIOLATION, WARNING, INFO = Severity.VIOLATION, Severity.WARNING, Severity.INFO


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    severities: tuple[Severity, ...]  # a code some modules rate higher than others has two
    sources: tuple[str, ...]  # the modules that emit it, under siocli/
    summary: str  # one line
    basis: str  # the spec rule or the reference behaviour it rests on

    def explain(self) -> str:
        """The entry as ``decode --explain`` prints it."""
        severity = " or ".join(s.value for s in self.severities)
        return (
            f"{self.code} ({severity})\n"
            f"  {self.summary}\n"
            f"  rests on: {self.basis}\n"
            f"  emitted by: {', '.join('siocli/' + s for s in self.sources)}\n"
        )


_ENTRIES = (
    Entry(
        "capture.eio-answered-3",
        (INFO,),
        ("captures/pcap.py",),
        "A WebSocket asked for EIO=4 but the server answered as Socket.IO 2.x: decoded as "
        "Engine.IO 3.",
        "socket.io 2.x (engine.io 3) ignores EIO=4 over WebSocket and joins '/' unasked "
        "(socket.io 2.x lib/client.js, setup).",
    ),
    Entry(
        "capture.frames-not-read",
        (WARNING,),
        ("captures/pcap.py",),
        "Frames of a packet capture that could not be read (cut, garbled or out of order).",
        "RFC 6455 §5.2 framing; the capture reader's own limits.",
    ),
    Entry(
        "capture.midstream",
        (INFO,),
        ("captures/pcap.py",),
        "The capture starts inside a connection: its bytes are read as WebSocket frames without "
        "the handshake.",
        "RFC 6455 §4 (the opening handshake carries the session id and extensions).",
    ),
    Entry(
        "capture.tls",
        (WARNING,),
        ("captures/pcap.py",),
        "A TLS connection in the capture: siocli does not decrypt it.",
        "RFC 8446 (TLS 1.3): the payload is encrypted.",
    ),
    Entry(
        "eio.after-close",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An Engine.IO packet after the session was closed.",
        'engine.io-protocol spec: "Disconnection" (nothing follows the close).',
    ),
    Entry(
        "eio.base64-padding",
        (WARNING,),
        ("protocol/engineio.py",),
        "Base64 with missing or extra '=' padding: Node accepts it, strict decoders do not.",
        "RFC 4648 §3.2; Node's Buffer.from(s, 'base64') is lenient.",
    ),
    Entry(
        "eio.binary-non-message",
        (VIOLATION,),
        ("protocol/engineio.py",),
        "A binary packet of another type than message.",
        'engine.io-protocol spec: "Packet encoding" (only message packets carry binary data); '
        "python-engineio refuses others.",
    ),
    Entry(
        "eio.close-over-websocket",
        (WARNING,),
        ("protocol/checker.py",),
        "A close packet over WebSocket: the JS peers never send it and the reference server "
        "ignores it.",
        "engine.io lib/socket.ts, onPacket; a WebSocket session ends with the close frame (RFC "
        "6455 §5.5.1).",
    ),
    Entry(
        "eio.empty-binary-payload",
        (WARNING,),
        ("protocol/engineio.py",),
        "An empty Engine.IO 3 binary polling body: zero packets.",
        "engine.io-parser 2.x decodePayloadAsBinary reads an empty buffer as no packets.",
    ),
    Entry(
        "eio.empty-entry",
        (INFO,),
        ("protocol/engineio.py",),
        "An empty entry (0:) in an Engine.IO 3 polling payload, skipped.",
        'engine.io-protocol spec, branch v3: "Payload"; engine.io-parser 2.x decodePayload.',
    ),
    Entry(
        "eio.heartbeat-direction",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A heartbeat in the other revision's direction (revision 3: the client pings; 4: the "
        "server).",
        'engine.io-protocol spec: "Heartbeat" (main branch and v3).',
    ),
    Entry(
        "eio.length-form",
        (WARNING,),
        ("protocol/engineio.py",),
        "An Engine.IO 3 length not written as plain decimal digits, which the reference still "
        "reads.",
        'engine.io-protocol spec, branch v3: "Payload"; engine.io-parser 2.x reads it with '
        "Number().",
    ),
    Entry(
        "eio.looks-like-v3",
        (WARNING,),
        ("protocol/engineio.py",),
        "A polling body that looks like an Engine.IO 3 payload decoded as revision 4.",
        'engine.io-protocol spec: "HTTP long-polling" (revision 4: \\x1e separators; revision '
        "3: <length>:<packet>).",
    ),
    Entry(
        "eio.max-payload",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A client message larger than the server's maxPayload: 413 over polling, close 1009 "
        "over WebSocket.",
        'engine.io-protocol spec: "Handshake" (maxPayload); engine.io lib/server.ts '
        "(maxHttpBufferSize).",
    ),
    Entry(
        "eio.message-before-upgrade",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A message on the new WebSocket before the upgrade completed.",
        'engine.io-protocol spec: "Upgrade" (only 2probe and 5 before the switch).',
    ),
    Entry(
        "eio.no-handshake",
        (WARNING,),
        ("protocol/checker.py",),
        "The session does not start with the server's open packet: the capture may start "
        "mid-session.",
        'engine.io-protocol spec: "Handshake".',
    ),
    Entry(
        "eio.no-max-payload",
        (INFO,),
        ("protocol/checker.py",),
        "No maxPayload in the handshake: engine.io older than 6.2 (socket.io < 4.5).",
        'engine.io-protocol spec: "Handshake"; engine.io 6.2.0 changelog.',
    ),
    Entry(
        "eio.noop-from-client",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A noop sent by the client: only the server sends noop, to release a pending poll.",
        'engine.io-protocol spec: "Upgrade" (the server\'s noop ends the pending GET).',
    ),
    Entry(
        "eio.noop-over-websocket",
        (WARNING,),
        ("protocol/checker.py",),
        "A noop over WebSocket: it only releases a pending polling request.",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.open-from-client",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An open packet sent by the client: only the server opens a session.",
        'engine.io-protocol spec: "Handshake".',
    ),
    Entry(
        "eio.ping-gap",
        (VIOLATION,),
        ("protocol/checker.py",),
        "More than pingInterval + pingTimeout between two pings: the other side has timed out.",
        'engine.io-protocol spec: "Heartbeat".',
    ),
    Entry(
        "eio.ping-timeout-not-default",
        (INFO,),
        ("protocol/checker.py",),
        "A pingTimeout that is no release's default (named with the release ranges).",
        "engine.io lib/server.js defaults: 5000 ms in engine.io 3.2-3.5 and 4.x, 20000 ms from "
        "3.6.0 and 5.0.0 (engine.io changelog: 'increase the default value of pingTimeout').",
    ),
    Entry(
        "eio.polling-after-upgrade",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A polling request after the upgrade completed: the server answers 400 Bad request.",
        "engine.io lib/server.ts, verify (transport mismatch: code 3).",
    ),
    Entry(
        "eio.pong-late",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A pong after pingTimeout: the pinging side has closed the session by then.",
        'engine.io-protocol spec: "Heartbeat".',
    ),
    Entry(
        "eio.pong-without-ping",
        (WARNING,),
        ("protocol/checker.py",),
        "A pong that answers no ping.",
        'engine.io-protocol spec: "Heartbeat".',
    ),
    Entry(
        "eio.probe-direction",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A probe ping sent by the server: probes are client-initiated.",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.probe-on-polling",
        (VIOLATION,),
        ("protocol/checker.py",),
        "2probe over polling: the probe goes on the new WebSocket.",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.probe-unasked",
        (VIOLATION,),
        ("protocol/checker.py",),
        "3probe without a 2probe from the client.",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.repeated-after-upgrade",
        (WARNING,),
        ("protocol/checker.py",),
        "A message POSTed before the upgrade sent again on the WebSocket: delivered twice.",
        'engine.io-protocol spec: "Upgrade" (the client flushes its buffer once).',
    ),
    Entry(
        "eio.second-open",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A second open packet in one session.",
        'engine.io-protocol spec: "Handshake".',
    ),
    Entry(
        "eio.upgrade-from-server",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An upgrade packet sent by the server: only the client sends 5.",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.upgrade-on-polling",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An upgrade packet over polling: 5 goes on the new WebSocket.",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.upgrade-without-probe",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An upgrade (5) before a completed probe (2probe, 3probe).",
        'engine.io-protocol spec: "Upgrade".',
    ),
    Entry(
        "eio.upgrades-on-websocket",
        (WARNING,),
        ("protocol/checker.py",),
        "A session opened over WebSocket offers upgrades: there is nothing to upgrade to.",
        'engine.io-protocol spec: "Handshake" (upgrades); engine.io lib/server.ts, upgrades().',
    ),
    Entry(
        "har.no-body",
        (WARNING,),
        ("captures/har.py",),
        "The HAR does not hold a response's body (devtools may drop bodies).",
        "HAR 1.2 (content.text is optional).",
    ),
    Entry(
        "har.no-websocket-frames",
        (WARNING,),
        ("captures/har.py",),
        "A WebSocket whose frames the HAR does not hold (Firefox exports none).",
        "HAR 1.2 has no WebSocket frames; Chromium adds _webSocketMessages.",
    ),
    Entry(
        "http.error",
        (VIOLATION,),
        ("captures/har.py", "captures/pcap.py", "captures/text.py"),
        "An HTTP error answer in the capture (status, and the reference's error message when it "
        "has one).",
        "engine.io lib/server.ts, Server.errorMessages.",
    ),
    Entry(
        "http.post-content-type",
        (INFO,),
        ("captures/text.py",),
        "A POST answered with another content type than the Node reference's 'ok' (text/html).",
        "engine.io lib/transports/polling.ts, onDataRequest.",
    ),
    Entry(
        "http.t-reused",
        (INFO,),
        ("protocol/request.py",),
        "A request reuses the t= cache-buster of an earlier one.",
        "engine.io-client lib/transports/polling.ts (a fresh timestamp per request).",
    ),
    Entry(
        "input.detected-parser",
        (INFO,),
        ("protocol/dissect.py",),
        "The MessagePack parser was detected from the binary messages.",
        "socket.io-msgpack-parser; python-socketio serializer='msgpack'.",
    ),
    Entry(
        "input.attachments-lost",
        (INFO,),
        ("protocol/dissect.py",),
        "A binary packet's attachments were in a message the capture could not keep.",
        "siocli's own input handling (a HAR export that damaged a binary POST body).",
    ),
    Entry(
        "input.eio-forced",
        (WARNING,),
        ("captures/har.py",),
        "--eio decodes a session whose URL says another EIO.",
        'engine.io-protocol spec: "Transports" (the EIO query parameter).',
    ),
    Entry(
        "input.guessed-revision",
        (INFO,),
        ("decode.py",),
        "The Engine.IO revision of bare input was guessed (say it with --eio).",
        "siocli's own input handling.",
    ),
    Entry(
        "input.not-utf8",
        (WARNING,),
        ("captures/__init__.py",),
        "Bytes that are not UTF-8 were read as U+FFFD: this input is not UTF-8 text.",
        'engine.io-protocol spec: "Packet encoding" (text is UTF-8).',
    ),
    Entry(
        "input.unreadable",
        (VIOLATION,),
        ("wire.py",),
        "Input that cannot be read at all (what, and where).",
        "siocli's own input handling.",
    ),
    Entry(
        "msgpack.event-name-type",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack event name that is neither a string nor a number.",
        "socket.io-msgpack-parser accepts it; socket.io-parser isPayloadValid would not.",
    ),
    Entry(
        "msgpack.event-without-name",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack EVENT with an empty array: no event name.",
        "socket.io-msgpack-parser accepts it; socket.io lib/socket.ts ignores it.",
    ),
    Entry(
        "msgpack.float-id",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack id written as a float.",
        "socket.io-msgpack-parser (Number.isInteger); the spec wants an integer.",
    ),
    Entry(
        "msgpack.float-type",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack packet type written as a float.",
        "socket.io-msgpack-parser (Number.isInteger); the spec wants an integer.",
    ),
    Entry(
        "msgpack.id-precision",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack id beyond 2^53-1: the ack goes to the wrong callback.",
        "JavaScript numbers (IEEE 754 doubles); socket.io-msgpack-parser.",
    ),
    Entry(
        "msgpack.invalid-utf8",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack string that is not valid UTF-8 (the reference replaces the bad bytes).",
        "MessagePack spec (str is UTF-8); notepack.io decodes with replacement.",
    ),
    Entry(
        "msgpack.namespace-form",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A MessagePack namespace that does not start with '/'.",
        'socket.io-protocol spec: "Format" (nsp).',
    ),
    Entry(
        "msgpack.negative-id",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A negative MessagePack id.",
        "socket.io-msgpack-parser (Number.isInteger); the spec wants a non-negative integer.",
    ),
    Entry(
        "msgpack.reserved-event",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "A reserved event name under MessagePack, which socket.io-parser refuses.",
        "socket.io-parser isPayloadValid (RESERVED_EVENTS).",
    ),
    Entry(
        "msgpack.text-packet",
        (VIOLATION,),
        ("protocol/annotate.py",),
        "A text Socket.IO packet in a MessagePack session.",
        "socket.io-msgpack-parser decodes binary only.",
    ),
    Entry(
        "msgpack.unknown-key",
        (WARNING,),
        ("protocol/msgpack_parser.py",),
        "Unknown keys in a MessagePack packet map.",
        "socket.io-msgpack-parser keeps them; python-socketio ignores them.",
    ),
    Entry(
        "recording.truncated",
        (WARNING,),
        ("recording.py",),
        "The recording's last line is cut short (interrupted); everything before it is read.",
        'siocli\'s recording format (README.md, "Recordings").',
    ),
    Entry(
        "sio.ack-id-precision",
        (WARNING,),
        ("protocol/socketio.py",),
        "An ack id above 2^53-1: JavaScript peers lose its precision.",
        "JavaScript numbers (IEEE 754 doubles); socket.io-parser decodeString.",
    ),
    Entry(
        "sio.ack-id-reused",
        (WARNING,),
        ("protocol/checker.py",),
        "An ack id reused while the first one is still unanswered.",
        'socket.io-protocol spec: "Acknowledgement".',
    ),
    Entry(
        "sio.ack-namespace",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An ack answered on another namespace than it was asked on.",
        'socket.io-protocol spec: "Acknowledgement" (ids are per namespace).',
    ),
    Entry(
        "sio.ack-twice",
        (VIOLATION,),
        ("protocol/checker.py",),
        "An ack id answered twice: callbacks fire at most once.",
        'socket.io-protocol spec: "Acknowledgement"; socket.io lib/socket.ts, onack.',
    ),
    Entry(
        "sio.ack-unanswered",
        (INFO,),
        ("protocol/checker.py",),
        "Events that asked for an ack and got none by the end of the capture.",
        'socket.io-protocol spec: "Acknowledgement".',
    ),
    Entry(
        "sio.ack-unknown",
        (WARNING,),
        ("protocol/checker.py",),
        "An ACK that answers no event sent with that id (the reference ignores it).",
        "socket.io lib/socket.ts, onack.",
    ),
    Entry(
        "sio.ack-without-id",
        (VIOLATION, WARNING),
        ("protocol/checker.py", "protocol/socketio.py"),
        "An ACK without an id: nothing to answer.",
        'socket.io-protocol spec: "Format" (ACK carries an id).',
    ),
    Entry(
        "sio.ack-without-payload",
        (WARNING,),
        ("protocol/socketio.py",),
        "An ACK without payload: the spec requires an array.",
        'socket.io-protocol spec: "Format"; socket.io-parser isPayloadValid.',
    ),
    Entry(
        "sio.attachment-without-placeholder",
        (WARNING,),
        ("protocol/socketio.py",),
        "A binary packet announces an attachment that no placeholder refers to.",
        "socket.io-parser reconstructPacket: it waits for every announced attachment and "
        "drops the unreferenced ones silently.",
    ),
    Entry(
        "sio.attachments-missing",
        (VIOLATION,),
        ("protocol/dissect.py",),
        "A binary packet still waiting for attachments when the input ends.",
        'socket.io-protocol spec: "Packet encoding" (attachments follow the packet).',
    ),
    Entry(
        "sio.blank-in-ack-id",
        (VIOLATION,),
        ("protocol/socketio.py",),
        "An ack id with blanks, which the reference parser reads as digits.",
        "socket.io-parser decodeString (Number(c) == c).",
    ),
    Entry(
        "sio.blank-type",
        (VIOLATION,),
        ("protocol/socketio.py",),
        "A packet that starts with a blank, which the reference parser reads as type 0.",
        "socket.io-parser decodeString (Number()).",
    ),
    Entry(
        "sio.connect-error-from-client",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A CONNECT_ERROR sent by the client: a Socket.IO 3/4 server closes the session.",
        "socket.io lib/client.ts, ondecoded.",
    ),
    Entry(
        "sio.connect-error-string",
        (WARNING,),
        ("protocol/checker.py",),
        "A CONNECT_ERROR with a string payload (the protocol 4 form) under protocol 5.",
        'socket.io-protocol spec: "Connection to a namespace".',
    ),
    Entry(
        "sio.connect-error-unrequested",
        (WARNING,),
        ("protocol/checker.py",),
        "A connection refused for a namespace the client did not ask for.",
        'socket.io-protocol spec: "Connection to a namespace".',
    ),
    Entry(
        "sio.connect-payload-v4",
        (WARNING,),
        ("protocol/socketio.py",),
        "A CONNECT with a payload under protocol 4: Socket.IO 2.x ignores it; it reads the "
        "namespace's query.",
        "socket-io-protocol v4 (CONNECT has no payload); socket.io 2.x lib/client.js connect.",
    ),
    Entry(
        "sio.connect-twice",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A CONNECT for a namespace already connected: a Socket.IO 3/4 server closes the session.",
        "socket.io lib/client.ts, connect.",
    ),
    Entry(
        "sio.connect-unanswered",
        (WARNING,),
        ("protocol/checker.py",),
        "A CONNECT never answered.",
        'socket.io-protocol spec: "Connection to a namespace".',
    ),
    Entry(
        "sio.connect-unrequested",
        (VIOLATION,),
        ("protocol/checker.py",),
        "The server granted a namespace without a CONNECT from the client.",
        'socket.io-protocol spec: "Connection to a namespace" (protocol 5: the client asks).',
    ),
    Entry(
        "sio.connect-without-sid",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A CONNECT answer without a sid (the protocol 4 form) where protocol 5 is spoken.",
        'socket.io-protocol spec: "Connection to a namespace" (protocol 5 answers carry the sid).',
    ),
    Entry(
        "sio.count-form",
        (WARNING,),
        ("protocol/socketio.py",),
        "An attachment count not written as decimal digits, which the reference still reads.",
        "socket.io-parser decodeString (Number()).",
    ),
    Entry(
        "sio.disconnect-unconnected",
        (WARNING,),
        ("protocol/checker.py",),
        "A DISCONNECT for a namespace that is not connected.",
        'socket.io-protocol spec: "Disconnection from a namespace".',
    ),
    Entry(
        "sio.empty-packet",
        (VIOLATION,),
        ("protocol/socketio.py",),
        "An empty Socket.IO packet (4 alone): the reference parser reads a CONNECT to '/'.",
        "socket.io-parser decodeString; engine.io drops a message without data.",
    ),
    Entry(
        "sio.event-before-connect",
        (WARNING,),
        ("protocol/checker.py",),
        "An event before the CONNECT answer: the JS client buffers it, stricter clients may "
        "drop it.",
        "socket.io-client lib/socket.ts (sendBuffer).",
    ),
    Entry(
        "sio.event-without-payload",
        (WARNING,),
        ("protocol/socketio.py",),
        "An EVENT without payload: the spec requires a non-empty array.",
        'socket.io-protocol spec: "Format"; socket.io-parser isPayloadValid.',
    ),
    Entry(
        "sio.explicit-main-namespace",
        (INFO,),
        ("protocol/socketio.py",),
        "'/,' names the main namespace explicitly; encoders omit it.",
        'socket.io-protocol spec: "Packet encoding".',
    ),
    Entry(
        "sio.id-on-non-event",
        (WARNING,),
        ("protocol/socketio.py",),
        "An id on a packet other than an event or an ack.",
        'socket.io-protocol spec: "Format".',
    ),
    Entry(
        "sio.namespace-swallows-payload",
        (WARNING,),
        ("protocol/socketio.py",),
        "No ',' after the namespace: the payload was read as part of the namespace.",
        "socket.io-parser decodeString (the namespace runs to ',').",
    ),
    Entry(
        "sio.not-connected",
        (VIOLATION,),
        ("protocol/checker.py",),
        "A packet on a namespace that is not connected.",
        'socket.io-protocol spec: "Exchange protocol".',
    ),
    Entry(
        "sio.offset-backwards",
        (WARNING,),
        ("protocol/recovery.py",),
        "A recovery offset not after one sent before to that client on that namespace.",
        "socket.io connection state recovery (lib/socket.ts, offsets).",
    ),
    Entry(
        "sio.placeholder-not-true",
        (VIOLATION,),
        ("protocol/socketio.py",),
        'A placeholder whose _placeholder is not the boolean true ("true", 1...).',
        "socket.io-parser reconstructPacket tests _placeholder === true (3.4.x and 4.x).",
    ),
    Entry(
        "sio.recovered",
        (INFO,),
        ("protocol/recovery.py",),
        "Connection state recovered: same socket id, missed packets replayed.",
        "socket.io 4.6+ connectionStateRecovery (docs: Connection state recovery).",
    ),
    Entry(
        "sio.recovery-failed",
        (WARNING,),
        ("protocol/recovery.py",),
        "The server did not recover the session: new socket id, missed packets lost.",
        "socket.io 4.6+ connectionStateRecovery.",
    ),
    Entry(
        "sio.recovery-replay",
        (INFO,),
        ("protocol/checker.py",),
        "Missed packets replayed before the CONNECT answer to a recovery request.",
        "socket.io lib/socket.ts (replay on recovery).",
    ),
    Entry(
        "sio.recovery-stale-pid",
        (WARNING,),
        ("protocol/recovery.py",),
        "A recovery request with an older pid of that client, not its latest CONNECT answer's.",
        "socket.io-client lib/socket.ts (sends the latest pid).",
    ),
    Entry(
        "sio.v4-connect-main",
        (WARNING,),
        ("protocol/checker.py",),
        "A CONNECT for '/' from a protocol 4 client: socket.io 2.x connects '/' by itself.",
        "socket.io 2.x lib/client.js, setup.",
    ),
    Entry(
        "sio.v4-connect-payload",
        (WARNING,),
        ("protocol/checker.py",),
        "A payload on a protocol 4 CONNECT (Socket.IO 2.x ignores it: it reads the namespace's "
        "query).",
        'socket.io-protocol spec, branch v4: "Connection to a namespace".',
    ),
    Entry(
        "transcript.binary-unknown",
        (INFO,),
        ("captures/text.py",),
        "A binary frame whose bytes the transcript does not show.",
        'siocli\'s transcript format (README.md, "decode").',
    ),
    Entry(
        "transcript.post-body-after-response",
        (WARNING,),
        ("captures/text.py",),
        "A POST body printed after the response headers (the request's body).",
        "engine.io lib/transports/polling.ts, onDataRequest.",
    ),
    Entry(
        "websocket.close",
        (INFO,),
        ("captures/pcap.py",),
        "A WebSocket closed in the capture: who, the code and the reason.",
        "RFC 6455 §5.5.1 and RFC 6455 §7.4.",
    ),
    Entry(
        "websocket.masking",
        (VIOLATION,),
        ("captures/pcap.py",),
        "A frame masked the wrong way (a client masks every frame, a server none).",
        "RFC 6455 §5.1.",
    ),
)

CATALOGUE: dict[str, Entry] = {entry.code: entry for entry in _ENTRIES}


def close_matches(code: str) -> list[str]:
    """Catalogued codes that look like ``code`` (a typo, a missing prefix)."""
    codes = list(CATALOGUE)
    found = difflib.get_close_matches(code, codes, n=5, cutoff=0.6)
    if not found:
        found = [c for c in codes if code and code in c][:5]
    return found


def markdown() -> str:
    """docs/findings.md."""
    lines = [
        "# Findings",
        "",
        "Every finding `siocli decode` (and the live commands' `-v`) can report, generated from",
        "`siocli/protocol/findings.py` by `python -m siocli.render.findings > docs/findings.md`.",
        "`siocli decode --explain CODE` prints one entry. Severities: **violation** breaks the",
        "protocol as written or as the reference enforces it (`--strict` exits 1), **warning** is",
        "legal but suspicious or accepted only by a lenient reference, **info** is worth knowing.",
        "",
        "| code | severity | what | rests on | emitted by |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in _ENTRIES:
        severity = " or ".join(s.value for s in entry.severities)
        sources = ", ".join(f"`{s}`" for s in entry.sources)
        cells = (f"`{entry.code}`", severity, entry.summary, entry.basis, sources)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
