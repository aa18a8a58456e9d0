from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
SHARED_SAMPLE = Path(__file__).parent.parent / "siocli" / "data" / "sample-session.txt"


def load_cases(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def unhex(value: Any) -> Any:
    """Test data writes bytes as {"$hex": "..."}."""
    if isinstance(value, dict) and set(value) == {"$hex"}:
        return bytes.fromhex(value["$hex"])
    return value


@pytest.fixture
def data_dir() -> Path:
    return DATA


# --- real servers -----------------------------------------------------------------------------

from .realservers import KINDS, RunningServer, run_server  # noqa: E402


@pytest.fixture(scope="session", params=KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """Each reference server, with a short heartbeat (so tests see a few)."""
    interval = 1000 if request.param == "psio" else 300  # python-engineio counts seconds
    with run_server(request.param, pingInterval=interval, pingTimeout=500) as running:
        yield running
