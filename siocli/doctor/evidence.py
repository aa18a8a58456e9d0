"""How evidence lines write what a probe saw: durations, payloads, heartbeat settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..protocol.types import Handshake

__all__ = ["milliseconds", "ms", "ping_settings", "preview"]


def ms(seconds: float) -> str:
    """``3.2 ms``, ``45 ms``, ``1.20 s``."""
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def milliseconds(seconds: float) -> float:
    """A duration for ``--json`` data: milliseconds, to a tenth."""
    return round(seconds * 1000, 1)


def preview(data: str | bytes | None, limit: int = 100) -> str:
    """A payload as a terminal may show it: escaped, and cut at ``limit`` characters."""
    from ..render.text import escape_text, hex_preview

    if data is None:
        return ""
    if isinstance(data, bytes):
        return hex_preview(data)
    text = escape_text(data[:limit])
    return text + ("…" if len(data) > limit else "")


def ping_settings(hs: Handshake) -> str:
    """``pingInterval 25000 ms, pingTimeout 20000 ms``."""
    return f"pingInterval {hs.ping_interval} ms, pingTimeout {hs.ping_timeout} ms"
