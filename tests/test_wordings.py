"""The reference servers' error wordings are written once (siocli/protocol/wordings.py):
what siocli serve answers with is what the client, the doctor and the hints recognise."""

from __future__ import annotations

import ast
from pathlib import Path

from siocli.protocol.wordings import (
    INVALID_NAMESPACE,
    NO_NAMESPACE,
    TRANSPORT_REFUSED,
    UNKNOWN_SESSION,
    UNSUPPORTED_PROTOCOL,
    EngineError,
)

SIOCLI = Path(__file__).resolve().parent.parent / "siocli"
WORDINGS = {
    *(e.message for e in EngineError if e not in (EngineError.BAD_REQUEST, EngineError.FORBIDDEN)),
    INVALID_NAMESPACE,
    *NO_NAMESPACE,
    *TRANSPORT_REFUSED,
    *UNKNOWN_SESSION,
    *UNSUPPORTED_PROTOCOL,
}


def test_engine_io_error_bodies() -> None:
    # engine.io lib/server.ts: Server.errors and Server.errorMessages
    assert [(e.code, e.message) for e in EngineError] == [
        (0, "Transport unknown"),
        (1, "Session ID unknown"),
        (2, "Bad handshake method"),
        (3, "Bad request"),
        (4, "Forbidden"),
        (5, "Unsupported protocol version"),
    ]
    assert EngineError.UNKNOWN_SID.body() == '{"code":1,"message":"Session ID unknown"}'


def test_each_wording_is_written_once() -> None:
    """No string in the code (docstrings aside) repeats a wording outside wordings.py."""
    offenders = []
    for path in sorted(SIOCLI.rglob("*.py")):
        if path.name == "wordings.py":
            continue
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                for wording in WORDINGS:
                    if wording in node.value:
                        offenders.append(f"{path.relative_to(SIOCLI)}:{node.lineno}: {wording}")
    assert not offenders, offenders
