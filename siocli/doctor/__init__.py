"""``siocli doctor URL``: the checks an expert runs, in order, each with its evidence and fix.

The order follows the road a connection takes (the engine.io-protocol spec: "Handshake",
"Heartbeat", "Upgrade"), a module each:

==========  ==============================================================================
reach       DNS, TCP (every address), TLS (the certificate problem named), HTTP proxy
path        the handshake path answers; else which variant does (slash, /socket.io/...)
protocol    EIO=4 and EIO=3 handshakes: which server this is, which clients it refuses
handshake   sid, upgrades, pingInterval/pingTimeout, maxPayload, CORS, cookies
parser      the packet encoding: the default parser, or MessagePack (a CONNECT in each)
polling     a POST and a GET on a session, with their latency
websocket   a direct WebSocket, and the upgrade from polling (2probe, 3probe, 5)
sticky      several sessions, every request on a new connection: "Session ID unknown"?
namespaces  CONNECT to the URL's namespace and each -n, with --auth
heartbeat   one heartbeat cycle, timed against pingInterval and pingTimeout
==========  ==============================================================================

The low-level probes (:mod:`.probe`) use httpx and websockets directly, because they must
see what a client library hides (status codes, headers, the exact body); every body is
still read by the protocol core (:mod:`.answer`). Full sessions (namespaces, heartbeat) run
on the driver's :class:`Connection` (:mod:`.session`). What a check learns for the later
ones is in :class:`~.findings.Findings`; :mod:`.runner` runs the checks in order, and skips
those that cannot run because an earlier one failed, with the reason.
"""

from __future__ import annotations

from .results import CHECKS, CheckResult, Status
from .runner import run_doctor

__all__ = ["CHECKS", "CheckResult", "Status", "run_doctor"]
