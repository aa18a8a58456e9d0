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


# The slowest test takes about 30 s on a loaded machine; one that hangs fails after this,
# by name. Set here rather than as an ini option, which a venv without pytest-timeout (the
# test extras before it joined them) would refuse outright; --timeout N still wins.
TEST_TIMEOUT = 120


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("timeout") or config.getoption("timeout", None):
        return
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))
