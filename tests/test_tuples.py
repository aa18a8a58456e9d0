"""siocli.protocol._tuples.NamedTuple makes the classes typing.NamedTuple makes."""

from __future__ import annotations

import pickle
import typing

import pytest

from siocli.protocol import _tuples
from siocli.protocol.types import Span


def _make(base: typing.Any) -> type:
    class Point(base):
        """A point."""

        x: int
        y: str | None
        z: tuple[int, ...] = ()
        w: bool = False

        @property
        def both(self) -> tuple[int, str | None]:
            return self.x, self.y

        def moved(self, by: int) -> Point:
            return self._replace(x=self.x + by)

    return Point


def test_the_same_class_as_typing_makes() -> None:
    ours, theirs = _make(_tuples._NamedTuple), _make(typing.NamedTuple)
    for name in ("_fields", "_field_defaults", "__doc__", "__slots__", "__match_args__"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.__mro__[1:] == theirs.__mro__[1:] == (tuple, object)
    assert ours.__qualname__ == theirs.__qualname__
    a, b = ours(1, "a"), theirs(1, "a")
    assert tuple(a) == tuple(b) == (1, "a", (), False)
    assert repr(a) == repr(b)
    assert a.both == b.both and tuple(a.moved(2)) == tuple(b.moved(2))
    assert typing.get_type_hints(ours, localns={"Point": ours}) == typing.get_type_hints(
        theirs, localns={"Point": theirs}
    )


def test_the_same_errors_as_typing() -> None:
    with pytest.raises(TypeError):

        class Bad(_tuples._NamedTuple):
            x: int = 0
            y: int

    with pytest.raises(AttributeError):

        class Worse(_tuples._NamedTuple):
            x: int

            def _asdict(self) -> dict[str, int]:
                return {}


def test_a_protocol_tuple_pickles_and_compares_as_a_tuple() -> None:
    span = Span(0, 1, "eio_type", "message")
    assert pickle.loads(pickle.dumps(span)) == span == (0, 1, "eio_type", "message")
