"""The curated public surface (``bridge.__all__``): documented, typed, and typed for users too."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

from starlette.applications import Starlette

import bridge


def _own_doc(obj: object) -> str:
    doc = getattr(obj, "__doc__", None) or ""
    # A dataclass without a docstring gets its signature as one: that documents nothing.
    return "" if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(") else doc.strip()


def test_every_export_and_its_public_methods_have_a_docstring() -> None:
    missing = []
    for name in bridge.__all__:
        obj = getattr(bridge, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not _own_doc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                target = value.fget if isinstance(value, property) else getattr(value, "func", value)
                if not attr.startswith("_") and callable(target) and not (target.__doc__ or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_the_package_is_typed_and_asgi_is_the_starlette_app() -> None:
    assert (Path(bridge.__file__).parent / "py.typed").is_file()  # PEP 561 (the wheel test checks it ships)
    # The annotation names the TYPE_CHECKING import of starlette.applications.Starlette (mypy checks it is what create_app returns).
    assert inspect.signature(bridge.Bridge.asgi).return_annotation == "Starlette"
    assert typing.get_type_hints(bridge.Bridge.asgi, localns={"Starlette": Starlette})["return"] is Starlette
