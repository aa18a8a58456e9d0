from __future__ import annotations

import json
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
