"""JSON as JavaScript's ``JSON.parse``/``JSON.stringify`` see it.

orjson is used when installed (it is a runtime dependency of the siocli package, and the
bulk of every decode's time); the standard library takes over for what orjson refuses and
JavaScript accepts (integers beyond 64 bits, lone surrogate escapes) and gives the error
position, so both paths agree on every input.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any

_orjson: Any
try:  # an accelerator, not a requirement: the core imports only the standard library
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised by the stdlib-only test in a subprocess
    _orjson = None

__all__ = ["FastJSONError", "JSONError", "dumps", "fast_dumps", "fast_loads", "loads"]


class JSONError(ValueError):
    def __init__(self, reason: str, pos: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pos = pos


def _reject_constant(name: str) -> Any:
    # JSON.parse has no NaN/Infinity; Python's json accepts them unless told otherwise.
    raise ValueError(f"{name} is not JSON")


_std_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def _std_loads(text: str) -> Any:
    try:
        return _std_decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise JSONError(exc.msg, exc.pos) from None
    except ValueError as exc:  # NaN / Infinity
        raise JSONError(str(exc), 0) from None
    except RecursionError:
        raise JSONError("nested too deeply", 0) from None


if _orjson is not None:
    fast_loads = _orjson.loads
    FastJSONError: type[ValueError] = _orjson.JSONDecodeError

    def loads(text: str) -> Any:
        """Parse JSON text; raise :class:`JSONError` with a position."""
        try:
            return fast_loads(text)
        except FastJSONError:
            return _std_loads(text)

else:  # pragma: no cover
    fast_loads = loads = _std_loads
    FastJSONError = JSONError

# ``fast_loads`` raises ``FastJSONError`` on anything it refuses: callers on a hot path try
# it first, then ``loads``, which accepts what JavaScript accepts and gives the position.


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


@functools.cache  # compiled on first use, not at import: most runs never need it (start-up)
def _lone_surrogate() -> re.Pattern[str]:
    return re.compile("[\ud800-\udfff]")


def _std_dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    try:
        text = json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=default
        )
    except ValueError:  # JSON.stringify writes NaN and Infinity as null
        return _std_dumps(_finite(value), default)
    except TypeError as exc:
        raise JSONError(str(exc), 0) from None
    except RecursionError:
        raise JSONError("nested too deeply", 0) from None
    # JSON.stringify escapes lone surrogates (they cannot travel as UTF-8) and nothing else.
    return _lone_surrogate().sub(lambda m: f"\\u{ord(m.group()):04x}", text)


fast_dumps: Callable[[Any], bytes] | None = _orjson.dumps if _orjson is not None else None
"""orjson's ``dumps`` when installed: UTF-8 bytes, ``TypeError`` on whatever it refuses."""


def dumps(
    value: Any,
    default: Callable[[Any], Any] | None = None,
    before_retry: Callable[[], Any] | None = None,
) -> str:
    """Compact JSON, as ``JSON.stringify`` writes it; :class:`JSONError` if impossible.

    ``default`` is called, in document order, for values JSON has no form for. When orjson
    refuses the value (integers beyond 64 bits, lone surrogates) the standard library
    writes it instead, after ``before_retry()`` (to undo what ``default`` collected).
    """
    if _orjson is not None:
        try:
            return _orjson.dumps(value, default=default).decode()
        except TypeError:
            if before_retry is not None:
                before_retry()
    return _std_dumps(value, default)
