"""The fixes that several checks give, written once so that they say the same."""

from __future__ import annotations

from .answer import Answer

__all__ = ["PARSER_SEE_ABOVE", "PROXY_WEBSOCKET_FIX", "STICKY_SEE_BELOW", "unknown_session"]

PARSER_SEE_ABOVE = (
    "a server closes a session when it cannot decode a packet, as a CONNECT in another "
    "parser's encoding: see Parser"
)

PROXY_WEBSOCKET_FIX = (
    "let the proxy pass WebSocket upgrades: nginx `proxy_http_version 1.1; "
    'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";` in the '
    "location of the handshake path; Apache mod_proxy_wstunnel (`ProxyPass /socket.io/ "
    "ws://backend/socket.io/`); HAProxy and cloud load balancers: enable WebSocket and a "
    "tunnel/idle timeout above pingInterval + pingTimeout. Until then clients stay on "
    "long-polling (--transport polling)"
)
STICKY_SEE_BELOW = (
    "requests of one session reach different server instances: enable sticky sessions on the "
    "load balancer (an affinity cookie, or ip hash), or use WebSocket-only clients; the "
    "details under Sticky sessions"
)


def unknown_session(what: str, answer: Answer) -> tuple[str, str]:
    """The problem and its fix when ``what`` (a request of a session) was answered by a
    server instance that does not know the session."""
    problem = (
        f"{what} reached a server instance that does not know the session ({answer.describe()})"
    )
    return problem, STICKY_SEE_BELOW
