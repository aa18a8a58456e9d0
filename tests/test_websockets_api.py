"""The websockets internals the WebSocket fast path (siocli/transports/websocket.py) relies
on are still there. pyproject.toml bounds websockets to the releases the tests ran on, and
.ci/run runs this file and tests/test_live_fastpath.py against the newest release too: when
a release moves these internals, this says which one moved, by name."""

from __future__ import annotations

import inspect

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.frames import DATA_OPCODES, Frame, Opcode
from websockets.protocol import Protocol, State


def test_the_hooks_the_fast_path_overrides() -> None:
    for name, arguments in (
        ("data_received", ["self", "data"]),
        ("eof_received", ["self"]),
        ("connection_lost", ["self", "exc"]),
        ("process_event", ["self", "event"]),
    ):
        method = getattr(ClientConnection, name, None)
        assert callable(method), f"websockets {websockets.__version__}: no {name}"
        assert list(inspect.signature(method).parameters) == arguments, name


def test_the_state_and_frames_it_reads() -> None:
    assert {Opcode.TEXT, Opcode.BINARY, Opcode.CONT} <= set(DATA_OPCODES)
    assert Opcode.TEXT.value == 0x1 and Opcode.BINARY.value == 0x2  # RFC 6455 §5.2
    assert State.OPEN in State
    assert "state" in dir(Protocol)
    fields = {f for f in Frame.__dataclass_fields__}
    assert {"opcode", "data", "fin"} <= fields
    connection_attributes = inspect.getsource(ClientConnection.__init__) + inspect.getsource(
        ClientConnection.__mro__[1].__init__
    )
    # what the fast path reads on a connection: the handshake's answer, the protocol, the loop
    for attribute in ("self.response", "self.protocol", "self.loop"):
        assert attribute in connection_attributes, attribute
