"""What the checks learn about the server, in order, for the checks after them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..protocol.types import Handshake, Parser
from .answer import Answer

__all__ = ["Findings"]


@dataclass(slots=True)
class Findings:
    """Each field is written by one check (named) and read by the later ones."""

    path: str | None = None  # path: the handshake path that answers
    answers: dict[int, Answer] = field(default_factory=dict)  # path, protocol: by EIO asked
    revision: int | None = None  # protocol: the Engine.IO revision the later checks speak
    handshake: Handshake | None = None  # handshake (protocol, for a WebSocket-only server)
    polling_disabled: bool = False  # protocol: the server takes WebSocket only
    polling_works: bool = False  # polling
    websocket_works: bool = False  # websocket (protocol, for a WebSocket-only server)
    # parser: the server speaks this one, not the one asked (--parser); the checks after
    # Parser speak it, so that they test the server rather than wait for answers that
    # cannot come, and the one failure says the one fix
    parser_spoken: Parser | None = None

    def endpoint(self) -> tuple[str, int]:
        """The handshake path and the Engine.IO revision: the checks after Protocol have
        both (it gates them)."""
        assert self.path is not None and self.revision is not None
        return self.path, self.revision
