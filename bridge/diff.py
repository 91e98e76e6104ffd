"""Breaking-change detection between two OpenAPI 3.x documents (a WSDL is first turned into its spec).

Direction decides what breaks. A request schema is what consumers send: a value the old schema accepted
and the new one rejects (a narrowing) breaks them. A response schema is what consumers receive: a value
the new schema allows and the old one did not (a widening) breaks them. The usual REST convention is kept
on one point: a new field in a response, or a response object that is no longer closed, does not break
(clients ignore unknown fields). A new enum value or alternative in a response does: strict clients
(generated enums, exhaustive switches) fail on a value they do not know.

Schemas are compared through a flattened view of each node ($ref and allOf merged, anyOf/oneOf kept as
alternatives matched by their discriminating constant, component or type), breadth first, so a change is
reported at the shortest path where it shows. Each use site of a component (the same $ref with the same
sibling keywords) is walked once per operation and direction: a component used in many places is reported
once there, and recursive schemas end. ``Change.schema`` names the component a change belongs to.
"""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import SpecError
from .jsonschema import FRACTION_DIGITS, XML_CHARS

Severity = Literal["breaking", "non-breaking"]
Direction = Literal["request", "response"]
# What a change does to the set of valid values: fewer, more, or some of each (neither contains the other).
Effect = Literal["narrowed", "widened", "changed"]

BREAKING: Severity = "breaking"
NON_BREAKING: Severity = "non-breaking"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# soapbridge's pattern for any XML string: as good as no pattern for what a REST client can send.
UNIVERSAL_PATTERNS = frozenset({XML_CHARS})
FORMAT_LADDERS = ({"int32": 0, "int64": 1}, {"float": 0, "double": 1})

Schema = Any  # a dict, or a boolean schema
Conj = tuple[Schema, ...]  # schemas that all apply to one value (allOf)


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new document."""

    kind: str
    severity: Severity
    operation: str  # operationId, or "METHOD /path" when there is none
    method: str
    path: str
    location: str  # inside the operation: "request[application/json]/order/total", "response[200]", "" for the operation
    message: str
    schema: str | None = None  # the component the changed keyword belongs to, when there is one

    @property
    def breaking(self) -> bool:
        """Whether the change can break an existing REST client."""
        return self.severity == BREAKING

    def as_dict(self) -> dict[str, Any]:
        """The change as plain data, as ``soapbridge diff --json`` prints it."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "location": self.location,
            "schema": self.schema,
            "message": self.message,
        }


@dataclass
class DiffResult:
    """Every change between two specs, in the order found."""

    changes: list[Change]

    @property
    def breaking(self) -> list[Change]:
        """The changes that can break an existing REST client."""
        return [c for c in self.changes if c.breaking]

    @property
    def non_breaking(self) -> list[Change]:
        """The changes that cannot."""
        return [c for c in self.changes if not c.breaking]

    def as_dict(self, old: str | None = None, new: str | None = None) -> dict[str, Any]:
        """The result as plain data with counts by severity, as ``soapbridge diff --json`` prints it."""
        return {
            "old": old,
            "new": new,
            "summary": {BREAKING: len(self.breaking), NON_BREAKING: len(self.non_breaking)},
            "changes": [c.as_dict() for c in self.changes],
        }


# --------------------------------------------------------------------------------------------------
# Loading


def load_spec(source: str | Path, **load_options: Any) -> dict[str, Any]:
    """An OpenAPI document from a JSON or YAML file, from a WSDL (via ``bridge.load``, given
    ``load_options``), or from stdin ("-")."""
    if str(source) == "-":
        return parse_spec(sys.stdin.buffer.read(), "stdin")
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{source}: is a directory") from None
    except OSError as exc:
        raise SpecError(f"{source}: cannot read ({exc.strerror})") from None
    if path.suffix.lower() in (".wsdl", ".xml") or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        from .facade import load  # the facade sits beside this module; imported late to keep the layering flat

        b = load(path, **load_options)
        if load_options.get("progress") is not None:  # the CLI's spinner (bridge.console.Stages)
            load_options["progress"]("building the OpenAPI spec")
        return b.openapi()
    return parse_spec(data, str(source))


def parse_spec(data: bytes | str, name: str) -> dict[str, Any]:
    """Parse and sanity-check JSON or YAML text as an OpenAPI 3.x document."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise SpecError(f"{name}: not UTF-8 text") from None
    head = text.lstrip()
    if head.startswith("<"):
        raise SpecError(f"{name}: looks like XML; give a WSDL as a file path")
    try:
        doc = json.loads(text) if head.startswith(("{", "[")) else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{name}: not valid JSON ({exc})") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{name}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(doc, dict):
        raise SpecError(f"{name}: not an OpenAPI document (the top level is not an object)")
    if "openapi" not in doc:
        what = "Swagger 2.0 is not supported, only OpenAPI 3.x" if "swagger" in doc else "not an OpenAPI document (no 'openapi' field)"
        raise SpecError(f"{name}: {what}")
    if not str(doc["openapi"]).startswith("3."):
        raise SpecError(f"{name}: OpenAPI {doc['openapi']} is not supported, only 3.x")
    if not isinstance(doc.get("paths", {}), dict):
        raise SpecError(f"{name}: 'paths' is not an object")
    return doc


class _Doc:
    """One document, with its local $refs resolved."""

    def __init__(self, doc: dict[str, Any], name: str) -> None:
        self.doc = doc
        self.name = name

    def resolve(self, ref: str) -> tuple[Any, str] | None:
        """The target of a local ref and its last token (a component's name); None for other documents."""
        if not ref.startswith("#"):
            return None
        node: Any = self.doc
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in ref[1:].split("/")[1:]] if ref != "#" else []
        for token in tokens:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SpecError(f"{self.name}: cannot resolve $ref {ref}")
        return node, (tokens[-1] if tokens else "#")

    def deref(self, obj: Any) -> Any:
        """Follow a chain of $refs to a non-schema object (response, parameter, request body, path item)."""
        seen: set[str] = set()
        while isinstance(obj, dict) and isinstance(obj.get("$ref"), str):
            ref = obj["$ref"]
            if ref in seen:
                raise SpecError(f"{self.name}: $ref cycle at {ref}")
            seen.add(ref)
            target = self.resolve(ref)
            if target is None:
                return {}
            obj = target[0]
        return obj


# --------------------------------------------------------------------------------------------------
# Flattened schema views

Bound = tuple[Decimal, bool]  # value, exclusive


def _num(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _covered(t: str, types: frozenset[str] | None) -> bool:
    return types is None or t in types or (t == "integer" and "number" in types)


@dataclass
class _Prop:
    schemas: list[Schema]
    origin: str | None


@dataclass
class _Group:
    variants: list[Schema]
    nullable: bool
    origin: str | None


@dataclass
class _View:
    """What a schema node asserts, with $ref and allOf merged in (an intersection)."""

    origin: str | None = None
    types: frozenset[str] | None = None  # None: any type
    enum: list[Any] | None = None
    patterns: set[str] = field(default_factory=set)
    mins: dict[str, Decimal] = field(default_factory=dict)  # minLength, minItems, minProperties
    maxs: dict[str, Decimal] = field(default_factory=dict)  # maxLength, maxItems, maxProperties
    lower: Bound | None = None
    upper: Bound | None = None
    multiple_of: Decimal | None = None
    format: str | None = None
    unique: bool = False
    props: dict[str, _Prop] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    closed: bool = False
    additional: list[Schema] = field(default_factory=list)
    items: list[Schema] = field(default_factory=list)
    prefix: list[list[Schema]] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    external: set[str] = field(default_factory=set)  # $refs into other documents: not followed

    def merge(self, other: _View) -> None:
        if other.types is not None:
            if self.types is None:
                self.types = other.types
            else:
                both = {t for t in self.types if t in other.types}
                if ("integer" in self.types and "number" in other.types) or ("number" in self.types and "integer" in other.types):
                    both.add("integer")
                self.types = frozenset(both)
        if other.enum is not None:
            if self.enum is None:
                self.enum = other.enum
            else:
                keep = {_canon(v) for v in other.enum}
                self.enum = [v for v in self.enum if _canon(v) in keep]
        self.patterns |= other.patterns
        for k, v in other.mins.items():
            self.mins[k] = max(v, self.mins.get(k, v))
        for k, v in other.maxs.items():
            self.maxs[k] = min(v, self.maxs.get(k, v))
        self.lower = _tighter(self.lower, other.lower, lower=True)
        self.upper = _tighter(self.upper, other.upper, lower=False)
        self.multiple_of = self.multiple_of or other.multiple_of
        self.format = self.format or other.format
        self.unique = self.unique or other.unique
        for name, p in other.props.items():
            mine = self.props.get(name)
            if mine is None:
                self.props[name] = _Prop(list(p.schemas), p.origin)
            else:
                mine.schemas.extend(p.schemas)
        self.required |= other.required
        self.closed = self.closed or other.closed
        self.additional.extend(other.additional)
        self.items.extend(other.items)
        for i, members in enumerate(other.prefix):
            while len(self.prefix) <= i:
                self.prefix.append([])
            self.prefix[i].extend(members)
        self.groups.extend(other.groups)
        self.refs.extend(other.refs)
        self.external |= other.external
        self.origin = self.origin or other.origin

    def add_null(self) -> None:
        """This view or null (an anyOf with a {"type": "null"} member)."""
        if self.types is not None:
            self.types = self.types | {"null"}
        if self.enum is not None and None not in self.enum:
            self.enum = [*self.enum, None]


def _tighter(a: Bound | None, b: Bound | None, *, lower: bool) -> Bound | None:
    if a is None or b is None:
        return a or b
    if a[0] == b[0]:
        return (a[0], a[1] or b[1])
    return max(a, b) if lower else min(a, b)


def _is_null_schema(s: Schema) -> bool:
    return isinstance(s, dict) and s.get("type") == "null" and set(s) <= {"type", "description", "title"}


class _Flattener:
    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self._targets: dict[str, _View] = {}  # views of $ref targets; only ever merged from, never changed

    def view(self, conj: Iterable[Schema], origin: str | None) -> _View:
        v = _View(origin=None)
        for s in conj:
            v.merge(self._node(s, origin, frozenset()))
        v.origin = v.origin or origin
        return v

    def _node(self, s: Schema, origin: str | None, active: frozenset[str]) -> _View:
        v = _View()
        if s is False:
            v.types = frozenset()
            return v
        if not isinstance(s, dict):
            return v
        names: list[str] = []
        ref = s.get("$ref")
        if isinstance(ref, str) and ref not in active:
            v.refs.append(ref)
            tv = self._targets.get(ref)
            if tv is None:
                target = self.doc.resolve(ref)
                if target is None:
                    v.external.add(ref)
                else:
                    tv = self._node(target[0], target[1], active | {ref})
                    tv.origin = target[1]
                    self._targets[ref] = tv
            if tv is not None:
                names.append(tv.origin or "")
                v.merge(tv)
        self._own(v, s, origin)
        for sub in s.get("allOf") or []:
            sv = self._node(sub, origin, active)
            if isinstance(sub, dict) and isinstance(sub.get("$ref"), str) and sv.origin:
                names.append(sv.origin)
            v.merge(sv)
        for key in ("anyOf", "oneOf"):
            subs = s.get(key)
            if not isinstance(subs, list) or not subs:
                continue
            real = [x for x in subs if not _is_null_schema(x)]
            nullable = len(real) < len(subs)
            if len(real) == 1:
                sv = self._node(real[0], origin, active)
                if nullable:
                    sv.add_null()
                v.merge(sv)
            elif real:
                v.groups.append(_Group(real, nullable, origin))
            else:
                v.merge(_View(types=frozenset({"null"})))
        v.origin = names[0] if names else origin
        return v

    @staticmethod
    def _own(v: _View, s: dict[str, Any], origin: str | None) -> None:
        """The node's own keywords (v is fresh apart from what its $ref merged in)."""
        t = s.get("type")
        if isinstance(t, str | list):
            types = {t} if isinstance(t, str) else {x for x in t if isinstance(x, str)}
            if s.get("nullable") is True:  # OpenAPI 3.0
                types.add("null")
            v.merge(_View(types=frozenset(types)))
        if "const" in s:
            v.merge(_View(enum=[s["const"]]))
        if isinstance(s.get("enum"), list):
            v.merge(_View(enum=list(s["enum"])))
        pattern = s.get("pattern")
        if isinstance(pattern, str) and pattern not in UNIVERSAL_PATTERNS:
            v.patterns.add(pattern)
        for kw in ("minLength", "minItems", "minProperties"):
            if kw in s:
                n = _num(s[kw])
                if n is not None and n > 0:
                    v.mins[kw] = max(n, v.mins.get(kw, n))
        for kw in ("maxLength", "maxItems", "maxProperties"):
            if kw in s:
                n = _num(s[kw])
                if n is not None:
                    v.maxs[kw] = min(n, v.maxs.get(kw, n))
        xlo, xhi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if "minimum" in s and (lo := _num(s["minimum"])) is not None:
            v.lower = _tighter(v.lower, (lo, xlo is True), lower=True)  # True: OpenAPI 3.0's boolean form
        if "maximum" in s and (hi := _num(s["maximum"])) is not None:
            v.upper = _tighter(v.upper, (hi, xhi is True), lower=False)
        if (xl := _num(xlo)) is not None:
            v.lower = _tighter(v.lower, (xl, True), lower=True)
        if (xh := _num(xhi)) is not None:
            v.upper = _tighter(v.upper, (xh, True), lower=False)
        if "multipleOf" in s and (m := _num(s["multipleOf"])) is not None and m > 0:
            v.multiple_of = m
        elif isinstance(fd := s.get(FRACTION_DIGITS), int) and not isinstance(fd, bool) and fd > 0:
            v.multiple_of = Decimal(1).scaleb(-fd)  # the bridge checks the annotation as this multipleOf
        if isinstance(s.get("format"), str):
            v.format = s["format"]
        if s.get("uniqueItems") is True:
            v.unique = True
        props = s.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                mine = v.props.get(name)
                if mine is None:
                    v.props[name] = _Prop([sub], origin)
                else:
                    mine.schemas.append(sub)
        req = s.get("required")
        if isinstance(req, list):
            for r in req:
                if isinstance(r, str):
                    v.required.add(r)
                    v.props.setdefault(r, _Prop([True], origin))  # required but declared elsewhere, or nowhere
        for kw in ("additionalProperties", "unevaluatedProperties"):
            ap = s.get(kw)
            if ap is False:
                v.closed = True
            elif isinstance(ap, dict):
                v.additional.append(ap)
        items = s.get("items")
        if isinstance(items, dict | bool):
            v.items.append(items)
        if isinstance(s.get("prefixItems"), list):
            v.merge(_View(prefix=[[x] for x in s["prefixItems"]]))


# --------------------------------------------------------------------------------------------------
# Comparison


def _severity(effect: Effect, direction: Direction) -> Severity:
    if effect == "changed":
        return BREAKING
    if direction == "request":
        return BREAKING if effect == "narrowed" else NON_BREAKING
    return BREAKING if effect == "widened" else NON_BREAKING


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _field(ptr: str, root: str = "the body") -> str:
    return f"field {ptr.lstrip('/')}" if ptr else root


def _root(section: str) -> str:
    return "the value" if section.startswith("parameter") or ".header[" in section else "the body"


def _show(values: Iterable[Any]) -> str:
    return ", ".join(json.dumps(v, default=str) for v in values)


def _fmt_num(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else str(d)


def _fmt_bound(b: Bound | None, lower: bool) -> str:
    if b is None:
        return "none"
    op = (">" if b[1] else ">=") if lower else ("<" if b[1] else "<=")
    return f"{op} {_fmt_num(b[0])}"


@dataclass(frozen=True)
class _Op:
    name: str
    method: str
    path: str
    node: dict[str, Any]
    params: list[Any]  # the path item's, overridden by the operation's


@dataclass
class _Task:
    old: Conj
    new: Conj
    ptr: str
    origin: str | None


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any], old_name: str, new_name: str) -> None:
        self.old = _Doc(old, old_name)
        self.new = _Doc(new, new_name)
        self.fold = _Flattener(self.old)
        self.fnew = _Flattener(self.new)
        self.changes: list[Change] = []
        self._op: _Op | None = None
        self._memo: set[tuple[str, str, str]] = set()

    # -- operations --------------------------------------------------------------------------------

    def _operations(self, doc: _Doc) -> dict[tuple[str, str], _Op]:
        ops: dict[tuple[str, str], _Op] = {}
        for path, item in (doc.doc.get("paths") or {}).items():
            item = doc.deref(item)
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters") or []
            for m in HTTP_METHODS:
                node = item.get(m)
                if isinstance(node, dict):
                    name = node.get("operationId") or f"{m.upper()} {path}"
                    # /items/{id} and /items/{itemId} are the same route for a consumer
                    ops[(m.upper(), re.sub(r"\{[^}]*\}", "{}", str(path)))] = _Op(str(name), m.upper(), str(path), node, [*shared, *(node.get("parameters") or [])])
        return ops

    def run(self) -> list[Change]:
        old_ops, new_ops = self._operations(self.old), self._operations(self.new)
        by_id = {op.name: op for key, op in new_ops.items() if key not in old_ops}
        moved: set[tuple[str, str]] = set()
        for key, op in old_ops.items():
            self._op = op
            if key in new_ops:
                self._operation(op, new_ops[key])
                continue
            other = by_id.get(op.name)
            if other is not None and op.node.get("operationId"):
                moved.add((other.method, other.path))
                self._emit("operation-moved", BREAKING, "", f"{op.method} {op.path} moved to {other.method} {other.path}")
                self._operation(op, other)
            else:
                self._emit("operation-removed", BREAKING, "", f"the operation {op.method} {op.path} was removed")
        for key, op in new_ops.items():
            if key not in old_ops and key not in moved:
                self._op = op
                self._emit("operation-added", NON_BREAKING, "", f"the operation {op.method} {op.path} was added")
        return self.changes

    def _emit(self, kind: str, severity: Severity, location: str, message: str, schema: str | None = None) -> None:
        op = self._op
        assert op is not None
        self.changes.append(Change(kind, severity, op.name, op.method, op.path, location, message, schema))

    def _operation(self, old: _Op, new: _Op) -> None:
        if new.node.get("deprecated") and not old.node.get("deprecated"):
            self._emit("operation-deprecated", NON_BREAKING, "", "the operation is now deprecated")
        self._parameters(old, new)
        self._request_body(old.node.get("requestBody"), new.node.get("requestBody"))
        self._responses(old.node.get("responses") or {}, new.node.get("responses") or {})

    def _parameters(self, old: _Op, new: _Op) -> None:
        # Path parameters pair by their place in the template: renaming one does not change the URL.
        renamed = dict(zip(re.findall(r"\{([^}]*)\}", old.path), re.findall(r"\{([^}]*)\}", new.path), strict=False))

        def index(doc: _Doc, params: list[Any], rename: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
            out: dict[tuple[str, str], dict[str, Any]] = {}
            for p in params:
                p = doc.deref(p)
                if isinstance(p, dict) and "name" in p and "in" in p:
                    name = str(p["name"])
                    out[(str(p["in"]), rename.get(name, name) if p["in"] == "path" else name)] = p
            return out

        op_, np_ = index(self.old, old.params, renamed), index(self.new, new.params, {})
        for key, p in op_.items():
            loc = f"parameter[{key[0]}][{key[1]}]"
            q = np_.get(key)
            if q is None:
                self._emit("parameter-removed", BREAKING, loc, f"the {key[0]} parameter {key[1]} was removed")
                continue
            if q.get("required") and not p.get("required"):
                self._emit("parameter-became-required", BREAKING, loc, f"the {key[0]} parameter {key[1]} is now required")
            elif p.get("required") and not q.get("required"):
                self._emit("parameter-became-optional", NON_BREAKING, loc, f"the {key[0]} parameter {key[1]} is now optional")
            self._schema(loc, "request", _param_schema(p), _param_schema(q))
        for key, q in np_.items():
            if key not in op_:
                loc = f"parameter[{key[0]}][{key[1]}]"
                if q.get("required"):
                    self._emit("required-parameter-added", BREAKING, loc, f"a required {key[0]} parameter {key[1]} was added")
                else:
                    self._emit("parameter-added", NON_BREAKING, loc, f"an optional {key[0]} parameter {key[1]} was added")

    def _request_body(self, old: Any, new: Any) -> None:
        old, new = self.old.deref(old), self.new.deref(new)
        if not isinstance(old, dict) and not isinstance(new, dict):
            return
        if not isinstance(new, dict):
            self._emit("request-body-removed", BREAKING, "request", "the request body was removed")
            return
        if not isinstance(old, dict):
            if new.get("required"):
                self._emit("request-body-added", BREAKING, "request", "a required request body was added")
            else:
                self._emit("request-body-added", NON_BREAKING, "request", "an optional request body was added")
            return
        if new.get("required") and not old.get("required"):
            self._emit("request-body-became-required", BREAKING, "request", "the request body is now required")
        elif old.get("required") and not new.get("required"):
            self._emit("request-body-became-optional", NON_BREAKING, "request", "the request body is now optional")
        self._content(
            "request", "request", old, new,
            removed=lambda mt: f"the request media type {mt} was removed",
            added=lambda mt: f"the request media type {mt} was added",
        )  # fmt: skip

    def _content(
        self, direction: Literal["request", "response"], loc: str, old: dict[Any, Any], new: dict[Any, Any], *,
        removed: Callable[[str], str], added: Callable[[str], str],
    ) -> None:  # fmt: skip
        """Media types of a request body or response: removed ones break, shared ones compare schemas."""
        oc, nc = old.get("content") or {}, new.get("content") or {}
        for mt, media in oc.items():
            if mt not in nc:
                self._emit(f"{direction}-media-type-removed", BREAKING, f"{loc}[{mt}]", removed(mt))
            else:
                self._schema(f"{loc}[{mt}]", direction, _media_schema(media), _media_schema(nc[mt]))
        for mt in nc:
            if mt not in oc:
                self._emit(f"{direction}-media-type-added", NON_BREAKING, f"{loc}[{mt}]", added(mt))

    def _responses(self, old: dict[Any, Any], new: dict[Any, Any]) -> None:
        old = {str(k): self.old.deref(v) for k, v in old.items()}
        new = {str(k): self.new.deref(v) for k, v in new.items()}
        for status, o in old.items():
            loc = f"response[{status}]"
            n = new.get(status)
            if n is None:
                self._emit("response-status-removed", BREAKING, loc, f"the {status} response was removed")
                continue
            if not isinstance(o, dict) or not isinstance(n, dict):
                continue
            self._content(
                "response", loc, o, n,
                removed=lambda mt: f"the {status} response no longer has media type {mt}",  # noqa: B023 (called at once)
                added=lambda mt: f"the {status} response may now have media type {mt}",  # noqa: B023
            )  # fmt: skip
            oh, nh = o.get("headers") or {}, n.get("headers") or {}
            for name, h in oh.items():
                hloc = f"{loc}.header[{name}]"
                g = nh.get(name)
                if g is None:
                    self._emit("response-header-removed", BREAKING, hloc, f"the {status} response header {name} was removed")
                    continue
                h, g = self.old.deref(h), self.new.deref(g)
                if isinstance(h, dict) and isinstance(g, dict):
                    if h.get("required") and not g.get("required"):
                        self._emit("response-header-became-optional", BREAKING, hloc, f"the {status} response header {name} is now optional")
                    self._schema(hloc, "response", _param_schema(h), _param_schema(g))
            for name in nh:
                if name not in oh:
                    self._emit("response-header-added", NON_BREAKING, f"{loc}.header[{name}]", f"the {status} response has a new header {name}")
        for status in new:
            if status not in old:
                self._emit("response-status-added", NON_BREAKING, f"response[{status}]", f"a {status} response was added")

    # -- schemas -----------------------------------------------------------------------------------

    def _schema(self, section: str, direction: Direction, old: Schema, new: Schema) -> None:
        queue: deque[_Task] = deque([_Task((old,), (new,), "", None)])
        op = self._op
        assert op is not None
        while queue:
            task = queue.popleft()
            ov, nv = self.fold.view(task.old, task.origin), self.fnew.view(task.new, task.origin)
            if ov.refs or nv.refs:
                # Once per operation and direction for a pair of use sites of components: bounds recursion too.
                key = (f"{op.method} {op.path} {direction}", _canon(task.old), _canon(task.new))
                if key in self._memo:
                    continue
                self._memo.add(key)
            ov, nv = self._align(section, direction, task, ov, nv)
            queue.extend(self._compare(section, direction, task.ptr, ov, nv))

    def _compare(self, section: str, direction: Direction, ptr: str, ov: _View, nv: _View) -> list[_Task]:
        loc = section + ptr
        schema = nv.origin or ov.origin
        what = _field(ptr, _root(section))

        def emit(kind: str, effect: Effect, message: str, severity: Severity | None = None) -> None:
            self._emit(kind, severity or _severity(effect, direction), loc, message, schema)

        if ov.external != nv.external:
            gone, added = sorted(ov.external - nv.external), sorted(nv.external - ov.external)
            emit("external-reference-changed", "changed", f"{what} refers to {_show(added) or 'no other document'} instead of {_show(gone) or 'no other document'}; not compared")
            return []  # one side is unknown: anything more would be guesswork
        self._types(emit, what, ov.types, nv.types)

        def applies(t: str) -> bool:
            return _applies(t, ov.types) and _applies(t, nv.types)

        if ov.enum != nv.enum:
            if ov.enum is None:
                emit("enum-added", "narrowed", f"{what} is now limited to {_show(nv.enum or [])}")
            elif nv.enum is None:
                emit("enum-removed", "widened", f"{what} is no longer limited to {_show(ov.enum)}")
            else:
                nset, oset = {_canon(v) for v in nv.enum}, {_canon(v) for v in ov.enum}
                gone = [v for v in ov.enum if _canon(v) not in nset]
                new = [v for v in nv.enum if _canon(v) not in oset]
                if gone:
                    emit("enum-values-removed", "narrowed", f"{what} no longer allows {_show(gone)}")
                if new:
                    emit("enum-values-added", "widened", f"{what} now also allows {_show(new)}")
        if applies("string"):
            gone_p, new_p = ov.patterns - nv.patterns, nv.patterns - ov.patterns
            if gone_p and new_p:
                emit("pattern-changed", "changed", f"the pattern of {what} changed from {_show(sorted(gone_p))} to {_show(sorted(new_p))}")
            elif new_p:
                emit("pattern-added", "narrowed", f"{what} must now match {_show(sorted(new_p))}")
            elif gone_p:
                emit("pattern-removed", "widened", f"{what} no longer has to match {_show(sorted(gone_p))}")
            if nv.format != ov.format:
                self._format(emit, what, ov.format, nv.format)
        elif nv.format != ov.format and (applies("number") or applies("integer")):
            self._format(emit, what, ov.format, nv.format)
        for kw, t in (("minLength", "string"), ("minItems", "array"), ("minProperties", "object")):
            if applies(t):
                self._min_max(emit, what, kw, ov.mins.get(kw), nv.mins.get(kw), lower=True)
        for kw, t in (("maxLength", "string"), ("maxItems", "array"), ("maxProperties", "object")):
            if applies(t):
                self._min_max(emit, what, kw, ov.maxs.get(kw), nv.maxs.get(kw), lower=False)
        if applies("number") or applies("integer"):
            self._bound(emit, what, "minimum", ov.lower, nv.lower, lower=True)
            self._bound(emit, what, "maximum", ov.upper, nv.upper, lower=False)
            self._multiple(emit, what, ov.multiple_of, nv.multiple_of)
        tasks: list[_Task] = []
        if applies("array"):
            if ov.unique != nv.unique:
                if nv.unique:
                    emit("unique-items-added", "narrowed", f"the items of {what} must now be unique")
                else:
                    emit("unique-items-removed", "widened", f"the items of {what} no longer have to be unique")
            if ov.items or nv.items:
                tasks.append(_Task(tuple(ov.items) or (True,), tuple(nv.items) or (True,), f"{ptr}/*", schema))
            for i in range(max(len(ov.prefix), len(nv.prefix))):
                o = tuple(ov.prefix[i]) if i < len(ov.prefix) else (True,)
                n = tuple(nv.prefix[i]) if i < len(nv.prefix) else (True,)
                tasks.append(_Task(o, n, f"{ptr}/{i}", schema))
        if applies("object"):
            tasks += self._properties(emit, section, direction, ptr, ov, nv)
        tasks += self._groups(section, direction, ptr, ov, nv)
        return tasks

    @staticmethod
    def _types(emit: Any, what: str, ot: frozenset[str] | None, nt: frozenset[str] | None) -> None:
        if ot == nt:
            return
        if ot is not None and nt is not None:
            if "null" in nt and "null" not in ot:
                emit("nullable-added", "widened", f"{what} may now be null")
            elif "null" in ot and "null" not in nt:
                emit("nullable-removed", "narrowed", f"{what} may no longer be null")
            ot, nt = ot - {"null"}, nt - {"null"}
        wider = any(not _covered(t, ot) for t in nt) if nt is not None else ot is not None
        narrower = any(not _covered(t, nt) for t in ot) if ot is not None else nt is not None
        show = lambda ts: "any type" if ts is None else " or ".join(sorted(ts)) or "nothing"  # noqa: E731
        if wider and narrower:
            emit("type-changed", "changed", f"the type of {what} changed from {show(ot)} to {show(nt)}")
        elif wider:
            emit("type-widened", "widened", f"the type of {what} widened from {show(ot)} to {show(nt)}")
        elif narrower:
            emit("type-narrowed", "narrowed", f"the type of {what} narrowed from {show(ot)} to {show(nt)}")

    @staticmethod
    def _format(emit: Any, what: str, of: str | None, nf: str | None) -> None:
        if of is None:
            emit("format-added", "narrowed", f"{what} now has format {nf}")
        elif nf is None:
            emit("format-removed", "widened", f"{what} no longer has format {of}")
        else:
            ladder = next((lad for lad in FORMAT_LADDERS if of in lad and nf in lad), None)
            if ladder is None:
                emit("format-changed", "changed", f"the format of {what} changed from {of} to {nf}")
            elif ladder[nf] > ladder[of]:
                emit("format-widened", "widened", f"the format of {what} widened from {of} to {nf}")
            else:
                emit("format-narrowed", "narrowed", f"the format of {what} narrowed from {of} to {nf}")

    @staticmethod
    def _min_max(emit: Any, what: str, kw: str, o: Decimal | None, n: Decimal | None, *, lower: bool) -> None:
        if o == n:
            return
        name = "".join("-" + c.lower() if c.isupper() else c for c in kw)  # maxLength -> max-length
        if o is None:
            emit(f"{name}-added", "narrowed", f"{what} now has {kw} {_fmt_num(n)}")  # type: ignore[arg-type]
        elif n is None:
            emit(f"{name}-removed", "widened", f"{what} no longer has {kw} {_fmt_num(o)}")
        else:
            up = n > o
            emit(f"{name}-{'increased' if up else 'decreased'}", "narrowed" if up == lower else "widened", f"{kw} of {what} {'increased' if up else 'decreased'} from {_fmt_num(o)} to {_fmt_num(n)}")

    @staticmethod
    def _bound(emit: Any, what: str, kw: str, o: Bound | None, n: Bound | None, *, lower: bool) -> None:
        if o == n:
            return
        desc = f"{kw} of {what} changed from {_fmt_bound(o, lower)} to {_fmt_bound(n, lower)}"
        if o is None:
            emit(f"{kw}-added", "narrowed", desc)
        elif n is None:
            emit(f"{kw}-removed", "widened", desc)
        else:
            tighter = _tighter(o, n, lower=lower) == n
            up = n[0] > o[0] or (n[0] == o[0] and (n[1] if lower else o[1]))
            emit(f"{kw}-{'increased' if up else 'decreased'}", "narrowed" if tighter else "widened", desc)

    @staticmethod
    def _multiple(emit: Any, what: str, o: Decimal | None, n: Decimal | None) -> None:
        if o == n:
            return
        if o is None:
            emit("multiple-of-added", "narrowed", f"{what} must now be a multiple of {_fmt_num(n)}")  # type: ignore[arg-type]
        elif n is None:
            emit("multiple-of-removed", "widened", f"{what} no longer has to be a multiple of {_fmt_num(o)}")
        else:
            desc = f"multipleOf of {what} changed from {_fmt_num(o)} to {_fmt_num(n)}"
            if (n / o) == (n / o).to_integral_value():
                emit("multiple-of-changed", "narrowed", desc)
            elif (o / n) == (o / n).to_integral_value():
                emit("multiple-of-changed", "widened", desc)
            else:
                emit("multiple-of-changed", "changed", desc)

    def _properties(self, emit: Any, section: str, direction: Direction, ptr: str, ov: _View, nv: _View) -> list[_Task]:
        tasks: list[_Task] = []
        names = list(ov.props) + [n for n in nv.props if n not in ov.props]
        for name in names:
            cp = f"{ptr}/{_esc(name)}"
            what = _field(cp)
            o, n = ov.props.get(name), nv.props.get(name)
            o_req, n_req = name in ov.required, name in nv.required
            loc = section + cp

            if n is None:
                assert o is not None
                if direction == "response":
                    self._emit("property-removed", BREAKING, loc, f"{what} was removed from the response", o.origin)
                elif nv.closed and not nv.additional:
                    self._emit("property-removed", BREAKING, loc, f"{what} was removed and the object is closed: sending it is now rejected", o.origin)
                else:
                    self._emit("property-removed", NON_BREAKING, loc, f"{what} was removed (the object stays open, so sending it is still accepted)", o.origin)
                continue
            if o is None:
                if direction == "request" and n_req:
                    self._emit("required-property-added", BREAKING, loc, f"a required {what} was added", n.origin)
                else:
                    self._emit("property-added", NON_BREAKING, loc, f"{'an optional' if direction == 'request' else 'a'} {what} was added", n.origin)
                continue
            if n_req and not o_req:
                self._emit("property-became-required", _severity("narrowed", direction), loc, f"{what} is now required", n.origin)
            elif o_req and not n_req:
                self._emit("property-became-optional", _severity("widened", direction), loc, f"{what} is now optional", n.origin)
            tasks.append(_Task(tuple(o.schemas), tuple(n.schemas), cp, n.origin or o.origin))
        if ov.closed != nv.closed:
            if nv.closed:
                emit("additional-properties-disallowed", "narrowed", f"{_field(ptr, _root(section))} no longer accepts undeclared fields")
            else:
                # Widening, but clients ignore unknown response fields: never breaking.
                emit("additional-properties-allowed", "widened", f"{_field(ptr, _root(section))} now accepts undeclared fields", NON_BREAKING)
        if ov.additional and nv.additional:
            tasks.append(_Task(tuple(ov.additional), tuple(nv.additional), f"{ptr}/{{*}}", nv.origin or ov.origin))
        return tasks

    def _groups(self, section: str, direction: Direction, ptr: str, ov: _View, nv: _View) -> list[_Task]:
        tasks: list[_Task] = []
        what, loc = _field(ptr, _root(section)), section + ptr

        def emit(kind: str, effect: Effect, message: str, group: _Group) -> None:
            self._emit(kind, _severity(effect, direction), loc, message, group.origin)

        for i in range(max(len(ov.groups), len(nv.groups))):
            og = ov.groups[i] if i < len(ov.groups) else None
            ng = nv.groups[i] if i < len(nv.groups) else None
            if og is None or ng is None:
                g = og or ng
                assert g is not None
                labels = ", ".join(self._variant_keys(self.fold if og else self.fnew, g))
                if og is None:
                    emit("alternatives-added", "narrowed", f"{what} must now match one of: {labels}", g)
                else:
                    emit("alternatives-removed", "widened", f"{what} is no longer restricted to one of: {labels}", g)
                continue
            if ng.nullable and not og.nullable:
                emit("nullable-added", "widened", f"{what} may now be null", ng)
            elif og.nullable and not ng.nullable:
                emit("nullable-removed", "narrowed", f"{what} may no longer be null", ng)
            okeys, nkeys = self._variant_keys(self.fold, og), self._variant_keys(self.fnew, ng)
            for label, s in okeys.items():
                if label in nkeys:
                    tasks.append(_Task((s,), (nkeys[label],), f"{ptr}({label})", ng.origin or og.origin))
                else:
                    emit("alternative-removed", "narrowed", f"the alternative {label} of {what} was removed", og)
            for label in nkeys:
                if label not in okeys:
                    emit("alternative-added", "widened", f"{what} has a new alternative {label}", ng)
        return tasks

    @staticmethod
    def _label(flat: _Flattener, v: _View) -> str:
        """A name for one alternative: its discriminating constant, else its component, else its type."""
        for name, prop in v.props.items():
            pv = flat.view(prop.schemas, None)
            if pv.enum is not None and len(pv.enum) == 1:
                return f"{name}={pv.enum[0] if isinstance(pv.enum[0], str) else json.dumps(pv.enum[0])}"
            if pv.types == frozenset({"null"}):
                return f"{name}=null"
        if v.refs:
            return v.refs[-1].rsplit("/", 1)[-1]
        return " or ".join(sorted(v.types)) if v.types else "any"

    def _variant_keys(self, flat: _Flattener, group: _Group) -> dict[str, Schema]:
        out: dict[str, Schema] = {}
        for s in group.variants:
            label = base = self._label(flat, flat.view((s,), group.origin))
            k = 2
            while label in out:
                label, k = f"{base}#{k}", k + 1
            out[label] = s
        return out

    def _align(self, section: str, direction: Direction, task: _Task, ov: _View, nv: _View) -> tuple[_View, _View]:
        """anyOf [A, B] on one side and just A (or A or null) on the other: compare A with A, and report B."""
        if len(ov.groups) + len(nv.groups) != 1:
            return ov, nv
        widened = not ov.groups  # the new side has the alternatives
        flat, other_flat = (self.fnew, self.fold) if widened else (self.fold, self.fnew)
        view, other = (nv, ov) if widened else (ov, nv)
        group = view.groups[0]
        keys = self._variant_keys(flat, group)
        label = self._label(other_flat, other)
        if label not in keys:
            return ov, nv
        what = _field(task.ptr, _root(section))
        severity = _severity("widened" if widened else "narrowed", direction)
        for lab in keys:
            if lab == label:
                continue
            if widened:
                self._emit("alternative-added", severity, section + task.ptr, f"{what} has a new alternative {lab}", group.origin)
            else:
                self._emit("alternative-removed", severity, section + task.ptr, f"the alternative {lab} of {what} was removed", group.origin)
        conj = (task.new if widened else task.old) + (keys[label],)
        merged = flat.view(conj, task.origin)
        ids = [id(x) for x in group.variants]
        merged.groups = [g for g in merged.groups if [id(x) for x in g.variants] != ids]
        if group.nullable:
            merged.add_null()
        return (ov, merged) if widened else (merged, nv)

def _applies(t: str, types: frozenset[str] | None) -> bool:
    if types is None:
        return True
    return t in types or (t == "number" and "integer" in types) or (t == "integer" and "number" in types)


def _media_schema(media: Any) -> Schema:
    return media.get("schema", True) if isinstance(media, dict) else True


def _param_schema(param: dict[str, Any]) -> Schema:
    if "schema" in param:
        return param["schema"]
    content = param.get("content")
    if isinstance(content, dict) and content:
        return _media_schema(next(iter(content.values())))
    return True


def diff_specs(old: dict[str, Any], new: dict[str, Any], *, old_name: str = "old", new_name: str = "new") -> DiffResult:
    """Every change between two OpenAPI 3.x documents, classified for REST consumers."""
    return DiffResult(_Differ(old, new, old_name, new_name).run())


def diff_files(old: str | Path, new: str | Path, **load_options: Any) -> DiffResult:
    """Diff two WSDLs or specs (JSON or YAML; "-" reads stdin); ``load_options`` go to ``bridge.load`` for WSDLs."""
    return diff_specs(load_spec(old, **load_options), load_spec(new, **load_options), old_name=str(old), new_name=str(new))


def iter_grouped(changes: list[Change]) -> Iterator[tuple[str, str, list[Change]]]:
    """Changes grouped by (operation, location), in order of first appearance."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        groups.setdefault((c.operation, c.location), []).append(c)
    for (op, loc), cs in groups.items():
        yield op, loc, cs
