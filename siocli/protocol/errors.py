"""Errors raised by the protocol core.

The tree::

    SiocliError                     anything siocli raises on purpose
    ├── DecodeError                 bad input to a codec: what, where (offset), what was expected
    ├── EncodeError                 a value that cannot be put on the wire (caller's mistake)
    └── ProtocolError               a step that breaks the protocol's state machine
        ├── LocalProtocolError      we were asked to do something illegal ("can't emit on
        │                           '/chat': namespace not connected")
        └── RemoteProtocolError     the peer did something illegal

Codecs raise :class:`DecodeError` and nothing else, for any input; a property test holds them
to it. Offsets count characters for text input and bytes for binary input, from the start of
what was passed to the decoder.
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "EncodeError",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "SiocliError",
]


class SiocliError(Exception):
    """Base class of every error siocli raises on purpose."""


class DecodeError(SiocliError, ValueError):
    """Input that does not decode.

    :param reason: what is wrong, in words a user can act on.
    :param offset: where, from the start of the decoder's input (characters for text,
        bytes for binary).
    :param expected: what the protocol wants at that offset, if that can be said.
    :param layer: ``"engineio"``, ``"socketio"`` or ``"input"`` (the capture around them).
    """

    def __init__(
        self, reason: str, offset: int = 0, expected: str | None = None, layer: str = "engineio"
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.expected = expected
        self.layer = layer

    def shifted(self, base: int) -> DecodeError:
        """The same error with its offset counted from ``base`` characters earlier."""
        return DecodeError(self.reason, self.offset + base, self.expected, self.layer)

    def __str__(self) -> str:
        text = f"{self.reason} (at offset {self.offset}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text + ")"

    def __repr__(self) -> str:
        return (
            f"DecodeError({self.reason!r}, offset={self.offset}, "
            f"expected={self.expected!r}, layer={self.layer!r})"
        )


class EncodeError(SiocliError, ValueError):
    """A value that cannot be encoded (not JSON-serialisable, bad namespace, ...)."""


class ProtocolError(SiocliError):
    """A step that the protocol's state machine does not allow."""


class LocalProtocolError(ProtocolError):
    """We were asked to do something the protocol forbids in the current state."""


class RemoteProtocolError(ProtocolError):
    """The peer did something the protocol forbids."""
