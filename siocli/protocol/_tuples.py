"""``typing.NamedTuple``'s class syntax, without its check of each field's annotation.

Under ``from __future__ import annotations`` every annotation is a string, and
``typing.NamedTuple`` makes each a ``typing.ForwardRef``, which compiles it: on Python 3.11
~100,000 instructions a field, ~8 M for the ~80 fields of the tuples a one-packet
``siocli decode`` imports (~2.5% of its start-up, callgrind). This builds the same
``collections.namedtuple`` class, with the defaults, methods and docstring of the class body
as typing does, and keeps the annotations as written (``typing.get_type_hints`` resolves
them the same). mypy is given ``typing.NamedTuple`` itself.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

__all__ = ["NamedTuple"]

# as typing's NamedTupleMeta: what a class body may not set, and what it does not copy
_PROHIBITED = frozenset(
    {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
    | {"_make", "_replace", "_asdict", "_source"}
)
_SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})
_namedtuple: Any = collections.namedtuple  # called with a name and fields mypy cannot see


class _NamedTupleMeta(type):
    def __new__(mcs, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        if not bases:  # the NamedTuple base below
            return super().__new__(mcs, typename, bases, ns)
        if bases != (_NamedTuple,):
            raise TypeError("can only inherit from NamedTuple")
        annotations = ns.get("__annotations__", {})
        defaults = []
        for name in annotations:
            if name in ns:
                defaults.append(ns[name])
            elif defaults:
                raise TypeError(f"non-default field {name!r} follows a default field")
        cls = _namedtuple(typename, list(annotations), defaults=defaults, module=ns["__module__"])
        cls.__annotations__ = dict(annotations)
        for key, value in ns.items():
            if key in _PROHIBITED:
                raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in annotations:
                setattr(cls, key, value)
        return cls


class _NamedTuple(metaclass=_NamedTupleMeta):
    pass


if TYPE_CHECKING:
    from typing import NamedTuple
else:
    NamedTuple = _NamedTuple
