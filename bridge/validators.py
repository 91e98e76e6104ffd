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

# Expanded nodes above which a schema is not compiled by jsonschema_rs. The count is an upper bound:
# netsuite's 9.1 million took 2 GB, but chromedata-vehicleselection's 9.6 million only 21 MB (the
# compiler shares more than this model sees), and ms-ews' 1.7 million 83 MB. Above this budget are
# only netsuite's four largest and chromedata's four reply schemas (0.3 s to check a 216 KB reply).
EXPANDED_BUDGET = 5_000_000

_PREFIX = "#/components/schemas/"


def _refs(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(_PREFIX):
                    yield value[len(_PREFIX) :]
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _cyclic(components: dict[str, Any]) -> set[str]:
    """The components on a reference cycle (Tarjan's strongly connected components, iteratively)."""
    graph = {name: [r for r in set(_refs(schema)) if r in components] for name, schema in components.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cyclic: set[str] = set()
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                scc = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    scc.append(member)
                    if member == node:
                        break
                if len(scc) > 1 or node in graph[node]:
                    cyclic.update(scc)
    return cyclic


def expanded_size(doc: dict[str, Any], limit: int | None = None) -> int:
    """The number of schema objects jsonschema_rs compiles for ``doc``: every reference to a
    ``#/components/schemas/`` component replaced by the component, except references to components on
    a reference cycle, which it compiles lazily (they count one). Counting stops early past ``limit``."""
    components: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    lazy = _cyclic(components)
    sizes: dict[str, int] = {}

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
        if name in lazy or name not in components:
            return 1
        if name not in sizes:
            sizes[name] = size(components[name])
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
