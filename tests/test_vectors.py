"""siocli against the curated reference vectors (tests/vectors/*.json).

The vectors hold what the Node reference parsers do with each input of
tests/vectors/inputs.json (regenerate with ``node tests/vectors/generate.js``). For every
vector siocli must agree with the reference in both directions: the verdict and the decoded
fields, and the text its encoder writes for the decoded packets.

A vector with a ``"siocli"`` entry is a documented, deliberate deviation of the verdict:
siocli must do what the entry says (with its ``"why"``), the reference must still do
something else (else the entry is stale), and the deviation must be one of those the core
documents. The other documented deviations (fewer packets before an error, other text for
the same values) need no entry: the comparison grants them only where they explain the
whole difference, and every one of them must show up in some vector.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .reference_check import (
    DEVIATIONS,
    VECTORS_DIR,
    VERDICT_KINDS,
    describe,
    deviation_problems,
    disagreements,
    documented_deviation,
    from_json,
    load_vectors,
    siocli_verdict,
)

ENGINE_VECTORS = load_vectors("engineio.json")
SOCKET_VECTORS = load_vectors("socketio.json")
ALL_VECTORS = ENGINE_VECTORS + SOCKET_VECTORS


def _id(vector: dict[str, Any]) -> str:
    return vector["id"]


def check_vector(vector: dict[str, Any]) -> set[str]:
    """The one assertion helper: decoding and encoding agree, or the override holds.
    Returns the documented deviations the vector shows."""
    override = vector.get("siocli")
    if override is None:
        applied: set[str] = set()
        problems = disagreements(vector, applied=applied)
        assert not problems, f"{describe(vector)} ({vector.get('note', '')}):\n  " + "\n  ".join(
            problems
        )
        return applied
    assert override["verdict"] != vector["verdict"], (
        f"stale override: the reference now {vector['verdict']}s {describe(vector)}"
    )
    assert siocli_verdict(vector) == override["verdict"], (
        f"siocli should {override['verdict']} {describe(vector)}: {override['why']}"
    )
    deviation = documented_deviation(vector)
    if deviation is not None and override["verdict"] == "reject":
        problems = deviation_problems(vector, deviation)
        assert not problems, f"{describe(vector)}:\n  " + "\n  ".join(problems)
    return {deviation} if deviation is not None else set()


@pytest.mark.parametrize("vector", ENGINE_VECTORS, ids=_id)
def test_engineio_vector(vector: dict[str, Any]) -> None:
    check_vector(vector)


@pytest.mark.parametrize("vector", SOCKET_VECTORS, ids=_id)
def test_socketio_vector(vector: dict[str, Any]) -> None:
    check_vector(vector)


def test_overrides_are_documented_deviations() -> None:
    """Every override is one of the verdict deviations the core documents, and says why."""
    for vector in ALL_VECTORS:
        if "siocli" not in vector:
            continue
        deviation = documented_deviation(vector)
        assert deviation in DEVIATIONS, (
            f"{vector['id']} overrides the reference but is no documented deviation"
        )
        assert DEVIATIONS[deviation][0] in VERDICT_KINDS, (vector["id"], deviation)
        assert vector["siocli"]["why"].startswith(f"{deviation}: "), vector["id"]


def test_every_deviation_has_a_vector() -> None:
    """Each documented deviation shows in some curated vector, and nothing else does."""
    seen: set[str] = set()
    for vector in ALL_VECTORS:
        try:
            seen |= check_vector(vector)
        except AssertionError:
            continue  # that vector's own test reports it
    assert seen == set(DEVIATIONS), sorted(set(DEVIATIONS) ^ seen)


def test_overrides_are_few() -> None:
    overridden = [v["id"] for v in ALL_VECTORS if "siocli" in v]
    assert len(overridden) <= len(ALL_VECTORS) // 10, overridden


def test_vectors_match_inputs() -> None:
    """The vector files were regenerated after the last change to inputs.json."""
    with open(VECTORS_DIR / "inputs.json", encoding="utf-8") as f:
        inputs = json.load(f)
    engine = [
        (
            group["eio"],
            group["kind"],
            case if not isinstance(case, dict) or "$binary" in case else case["input"],
        )
        for group in inputs["engineio"]
        for case in group["cases"]
    ]
    assert engine == [(v["eio"], v["kind"], v["input"]) for v in ENGINE_VECTORS]

    def messages(case: Any) -> list[Any]:
        if isinstance(case, str):
            return [case]
        return case.get("messages") or [case["input"], *case.get("attachments", [])]

    socket = [
        (group["protocol"], messages(case))
        for group in inputs["socketio"]
        for case in group["cases"]
    ]
    assert socket == [(v["protocol"], v["messages"]) for v in SOCKET_VECTORS]


def test_vectors_cover_the_protocol() -> None:
    """Every packet type of both layers and revisions is accepted somewhere, and rejected
    input is present for each."""
    seen: set[tuple[Any, ...]] = set()
    for v in ENGINE_VECTORS:
        for packet in v["packets"] if v["verdict"] == "accept" else []:
            seen.add(("eio", v["eio"], v["kind"], packet["type"]))
        seen.add(("eio-verdict", v["eio"], v["kind"], v["verdict"]))
        if isinstance(from_json(v["input"]), bytes):
            seen.add(("eio-binary", v["eio"], v["kind"]))
    for v in SOCKET_VECTORS:
        for packet in v["packets"] if v["verdict"] == "accept" else []:
            seen.add(("sio", v["protocol"], packet["type"]))
        seen.add(("sio-verdict", v["protocol"], v["verdict"]))
    names = ("open", "close", "ping", "pong", "message", "upgrade", "noop")
    wanted = {("eio", e, "packet", n) for e in (3, 4) for n in names}
    wanted |= {("eio", e, "payload", "message") for e in (3, 4)}
    wanted |= {
        ("eio-verdict", e, k, v)
        for e in (3, 4)
        for k in ("packet", "payload")
        for v in ("accept", "reject")
    }
    wanted |= {
        ("eio-binary", 3, "packet"),
        ("eio-binary", 4, "packet"),
        ("eio-binary", 3, "payload"),
    }
    wanted |= {("sio", p, t) for p in (4, 5) for t in range(7)}
    wanted |= {("sio-verdict", p, v) for p in (4, 5) for v in ("accept", "reject", "incomplete")}
    assert wanted <= seen, sorted(wanted - seen)
