"""Hypothesis strategies shared by the tests that feed readers input of any shape."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value, small."""


def or_junk(value: Any) -> st.SearchStrategy[Any]:
    """``value`` as a well-formed file has it, or any JSON value in its place."""
    return st.just(value) | any_json
