"""Types of bridge/_cdecode.pyx, the compiled decoder's inner loop in C."""

from collections.abc import Callable
from typing import Any

from lxml import etree

TEXT: int
INTEGER: int
BOOLEAN: int
NUMBER: int
CONVERT: int
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

class Attr:
    def __init__(self, key: str, ns: bytes | None, local: bytes, unqualified_too: bool, simple: Simple) -> None: ...

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
