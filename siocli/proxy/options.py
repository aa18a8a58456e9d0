"""What ``siocli proxy`` is asked to do: the target, where to listen, the live view, the
recording, and the faults to inject. Parsed from the command line by :mod:`siocli.cli`."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from ..protocol.types import Direction
from ..transports.config import split_url

__all__ = ["DropRule", "Faults", "OptionError", "ProxyOptions", "Target", "parse_cut_after"]


class OptionError(ValueError):
    """An option that cannot be understood: what, and what was expected."""


@dataclass(frozen=True, slots=True)
class Target:
    """The server the proxy relays to."""

    scheme: str  # "http" or "https"
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Target:
        try:
            parts = split_url(url if "://" in url else "http://" + url)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
        scheme = {"http": "http", "ws": "http", "https": "https", "wss": "https"}.get(
            parts.scheme.lower()
        )
        if scheme is None:
            raise OptionError(f"{url!r}: the target must be an http(s):// or ws(s):// URL")
        try:
            port = parts.port
        except ValueError:
            raise OptionError(f"{url!r}: bad port") from None
        if not parts.hostname:
            raise OptionError(f"{url!r}: no host")
        return cls(scheme, parts.hostname, port or (443 if scheme == "https" else 80))

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def netloc(self) -> str:
        """``host[:port]`` as a Host header says it (the default port left out)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}"


@dataclass(frozen=True, slots=True)
class DropRule:
    """``--drop [c2s:|s2c:]GLOB``: events whose name matches, in one direction or both."""

    glob: str
    direction: Direction | None = None

    @classmethod
    def parse(cls, spec: str) -> DropRule:
        head, sep, rest = spec.partition(":")
        if sep and head.lower() in ("c2s", "s2c"):
            if not rest:
                raise OptionError(f"{spec!r}: no event name glob after '{head}:'")
            return cls(rest, Direction(head.lower()))
        return cls(spec)

    def matches(self, direction: Direction, name: object) -> bool:
        if self.direction is not None and self.direction is not direction:
            return False
        return isinstance(name, str) and fnmatch.fnmatchcase(name, self.glob)


_CUT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|ms)?\s*$")
_LATENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:(?:±|\+-|\+/-|~)\s*(\d+(?:\.\d+)?))?\s*$")


def parse_cut_after(spec: str) -> tuple[int | None, float | None]:
    """``20`` (wire messages) or ``2s`` / ``500ms`` (time): ``(messages, seconds)``."""
    match = _CUT.match(spec)
    if match is None:
        raise OptionError(f"{spec!r}: expected a number of wire messages (20) or a time (2s)")
    number, unit = match.groups()
    if unit is None:
        if "." in number or int(number) < 1:
            raise OptionError(f"{spec!r}: the number of wire messages must be a whole number >= 1")
        return int(number), None
    return None, float(number) / (1000 if unit == "ms" else 1)


def parse_latency(spec: str) -> tuple[float, float]:
    """``100`` or ``100±20`` (also ``100+-20``, ``100~20``) milliseconds: seconds."""
    match = _LATENCY.match(spec)
    if match is None:
        raise OptionError(f"{spec!r}: expected MS or MS±JITTER (milliseconds), e.g. 100±20")
    delay, jitter = match.groups()
    return float(delay) / 1000, float(jitter or 0) / 1000


@dataclass(frozen=True, slots=True)
class Faults:
    """The faults to inject; all off by default."""

    latency: float = 0.0  # seconds, each direction
    jitter: float = 0.0  # seconds, ± uniformly
    drop: tuple[DropRule, ...] = ()
    cut_messages: int | None = None
    cut_seconds: float | None = None
    no_upgrade: bool = False
    stall_heartbeat: bool = False

    @property
    def rewrites(self) -> bool:
        """Whether some message may be kept from its peer (then WebSocket frames are relayed
        one by one, and permessage-deflate is not offered upstream: a compressed stream
        cannot lose a message without breaking the peer's inflater)."""
        return bool(self.drop) or self.stall_heartbeat

    @property
    def any(self) -> bool:
        return (
            self.rewrites
            or self.latency > 0
            or self.cut_messages is not None
            or self.cut_seconds is not None
            or self.no_upgrade
        )


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    target: Target
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/socket.io/"
    headers: tuple[tuple[str, str], ...] = ()  # added upstream (-H)
    preserve_host: bool = False
    insecure: bool = False
    cacert: str | None = None
    cert: str | None = None  # listen with TLS
    key: str | None = None
    connect_timeout: float = 10.0
    # the live view
    as_json: bool = False
    quiet: bool = False
    events: tuple[str, ...] = ()  # event-name globs
    namespaces: tuple[str, ...] = ()
    full: bool = False
    # the recording
    record: str | None = None
    redact: bool = True
    faults: Faults = field(default_factory=Faults)
    traceback: bool = False

    @property
    def listen_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.cert else 'http'}://{host}:{self.port}"
