"""Types of bridge/_ccodec.pyx, the compiled codec's inner loops in C (bridge/_pycodec.py has the same interface)."""

from collections.abc import Callable
from typing import Any

from lxml import etree

TEXT: int
INTEGER: int
BOOLEAN: int
NUMBER: int
CONVERT: int
COLLAPSE: int
ELEMENT: int
NODE: int

class Unhandled(Exception): ...

class Simple:
    def __init__(
        self,
        kind: int,
        conv: Callable[[str], Any] | None = None,
        lo: int | None = None,
        hi: int | None = None,
        is_decimal: bool = False,
        whole: bool = False,
    ) -> None: ...
    def convert(self, s: str) -> Any: ...

class Attr:
    def __init__(self, key: str, namespace: str, name: str, simple: Simple) -> None: ...

class Particle:
    def __init__(
        self,
        name: str,
        is_array: bool,
        nillable: bool,
        index: int,
        simple: Simple | None = None,
        plan: TypePlan | None = None,
        decoder: Callable[[etree._Element], Any] | None = None,
    ) -> None: ...

class TypePlan:
    def fill(
        self,
        attrs: list[Attr],
        value: Simple | None,
        particles: list[Particle],
        keys: tuple[str, ...],
        subtypes: Callable[[etree._Element], Any] | None,
    ) -> None: ...
    def decode(self, el: etree._Element) -> dict[str, Any]: ...

class ElementPlan:
    def __init__(self, plan: TypePlan, nillable: bool) -> None: ...
    def __call__(self, el: etree._Element) -> dict[str, Any] | None: ...

L_TEXT: int
L_INT: int
L_OTHER: int
L_ATTR: int
L_DECIMAL: int
L_DOUBLE: int
W_STRING: int
W_SIMPLE: int
W_COMPLEX: int
W_WRITER: int

class Lexical:
    kind: int
    def __init__(self, kind: int, fn: Callable[[Any], str]) -> None: ...

class Child:
    def __init__(
        self,
        key: str,
        mode: int,
        opened: str,
        closed: str,
        nil: str,
        nillable: bool,
        lexical: Lexical | None = None,
        fn: Any = None,
    ) -> None: ...

class TypeWriter:
    def fill(self, attrs: list[tuple[str, str, Lexical]], value: Lexical | None, children: list[Child]) -> None: ...
    def __call__(self, out: list[str], start: str, close: str, v: Any) -> None: ...

class ElementWriter:
    def __init__(
        self, start: str, close: str, nil: bool, is_array: bool, lexical: Lexical | None = None, tw: Any = None
    ) -> None: ...
    def __call__(self, out: list[str], v: Any) -> None: ...
