"""siocli's protocol core: Engine.IO 3/4 and Socket.IO 4/5, sans I/O, standard library only.

Modules (import what you need; nothing here opens a socket, reads a clock or prints):

* :mod:`.engineio` - Engine.IO packets, polling payloads, the handshake;
* :mod:`.socketio` - Socket.IO packets and binary attachments (the default parser);
* :mod:`.msgpack_parser` - Socket.IO packets as MessagePack maps (loads ``msgpack`` on use);
* :mod:`.annotate` - the spans of a wire message and what each means;
* :mod:`.checker` - protocol rules across the packets of a session;
* :mod:`.dissect` - a session's wire messages in, all of the above out;
* :mod:`.states` - the states of a session and a namespace, and their one table;
* :mod:`.session` - the client state machine;
* :mod:`.request` - what a captured Engine.IO request's URL says (``EIO``, ``transport``, ``sid``,
  ``t``);
* :mod:`.types`, :mod:`.errors` - the values and the errors.
"""

from .errors import DecodeError, EncodeError, LocalProtocolError, ProtocolError, SiocliError
from .types import (
    Direction,
    EnginePacket,
    EngineType,
    Parser,
    SocketPacket,
    SocketType,
    Transport,
)

__all__ = [
    "DecodeError",
    "Direction",
    "EncodeError",
    "EnginePacket",
    "EngineType",
    "LocalProtocolError",
    "Parser",
    "ProtocolError",
    "SiocliError",
    "SocketPacket",
    "SocketType",
    "Transport",
]
