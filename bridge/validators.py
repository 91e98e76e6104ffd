"""JSON Schema validators for message schemas, sized to the schema's real cost.

jsonschema_rs 0.60 compiles a ``$ref`` afresh at every place it is used, so its compiled validator
is the document with every reference expanded: a tree, not the graph the spec is. For most
schemas that is small. For a polymorphic WSDL it is not: netsuite's ``search`` request has 40,761
schema nodes in its components but expands to 20 million (an ``anyOf`` of 301 search types, each
joining dozens of shared row types), and the compiled validator took 3.5 GB. Above
``EXPANDED_BUDGET`` nodes the reference implementation, python-jsonschema, validates instead: it
follows references as the instance reaches them and holds the document once, at the price of
slower validation of those few schemas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Expanded nodes above which a schema is not compiled by jsonschema_rs. Measured on netsuite:
# 9.1 million nodes took 2 GB (about 220 bytes a node), so this is about 100 MB at most.
EXPANDED_BUDGET = 500_000

_PREFIX = "#/components/schemas/"


def expanded_size(doc: dict[str, Any], limit: int | None = None) -> int:
    """The number of schema objects in ``doc`` with every ``#/components/schemas/`` reference
    replaced by its target (a reference to a component being expanded counts once, as a cycle
    is compiled lazily). Counting stops early once past ``limit``."""
    components: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    sizes: dict[str, int] = {}
    expanding: set[str] = set()

    def size(node: Any) -> int:
        total = 0
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                total += 1
                for key, value in item.items():
                    if key == "$ref" and isinstance(value, str) and value.startswith(_PREFIX):
                        total += component(value[len(_PREFIX) :])
                    elif isinstance(value, (dict, list)):
                        stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
            if limit is not None and total > limit:
                return total
        return total

    def component(name: str) -> int:
        if name in sizes:
            return sizes[name]
        if name in expanding or name not in components:
            return 1
        expanding.add(name)
        sizes[name] = size(components[name])
        expanding.discard(name)
        return sizes[name]

    return size({k: v for k, v in doc.items() if k != "components"})


class _Kind:
    """What jsonschema_rs' ``error.kind`` offers the bridge: the branches of an anyOf/oneOf, and
    the missing property of a ``required``."""

    def __init__(self, error: Any) -> None:
        self.property: Any = None
        self.context: list[list[_Error]] | None = None
        if error.validator == "required":
            missing = [p for p in error.validator_value if isinstance(error.instance, dict) and p not in error.instance]
            self.property = missing[0] if missing else None
        if error.validator in ("anyOf", "oneOf") and error.context:
            branches: dict[Any, list[_Error]] = {}
            for sub in error.context:
                branches.setdefault(sub.relative_schema_path[0], []).append(_Error(sub))
            self.context = list(branches.values())


class _Error:
    """A python-jsonschema error read as the bridge reads jsonschema_rs' errors."""

    def __init__(self, error: Any) -> None:
        self.message: str = error.message
        self.instance_path = list(error.absolute_path)
        self.schema_path = list(error.absolute_schema_path)
        self.kind = _Kind(error)


class LazyValidator:
    """python-jsonschema (Draft 2020-12, formats checked) behind jsonschema_rs' ``is_valid`` and
    ``iter_errors``."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import jsonschema

        self._validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` is valid."""
        return bool(self._validator.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[_Error]:
        """Every error, with ``instance_path``, ``schema_path``, ``message`` and ``kind``."""
        for error in self._validator.iter_errors(instance):
            yield _Error(error)


def make_validator(schema: dict[str, Any], budget: int | None = None) -> Any:
    """A Draft 2020-12 validator with formats checked: jsonschema_rs, or ``LazyValidator`` when the
    compiled form would pass ``budget`` expanded nodes."""
    budget = EXPANDED_BUDGET if budget is None else budget
    if expanded_size(schema, budget) > budget:
        return LazyValidator(schema)
    import jsonschema_rs  # imported on first use (30 ms of a warm start); warm_up loads it early

    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
