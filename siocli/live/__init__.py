"""``connect``, ``emit`` and ``listen``: a live client on the driver, with reconnection.

:class:`LiveClient` keeps one :class:`~siocli.transports.driver.Connection` up (and, if
asked, reconnects and joins its namespaces again), prints events, taps every wire message
to the ``-v`` view, and turns how a session ended into an :class:`ExitStatus`.

The package, one job per module: :mod:`.client` (the reconnecting client), :mod:`.hints`
(what to tell the user), :mod:`.record` (``--record``), :mod:`.commands` (``emit``,
``listen``, running a command) and :mod:`.prompt` (``connect``). The ``-v`` view is
:mod:`siocli.render.tap`.
"""

from __future__ import annotations

from .client import LiveClient, LiveOptions
from .commands import ListenSpec, emit_main, listen_main, run_live
from .prompt import connect_main

__all__ = [
    "ListenSpec",
    "LiveClient",
    "LiveOptions",
    "connect_main",
    "emit_main",
    "listen_main",
    "run_live",
]
