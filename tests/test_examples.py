"""Example generation: deterministic, in soapbridge's JSON form, and valid for the schema.

Simple values are checked against xmlschema (an independent XSD implementation) built from
the same facets; patterns also against elementpath's translation used as the brief states.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from elementpath.regex import translate_pattern
from lxml import etree

from bridge import regexgen
from bridge.examples import example_for_element, example_for_type, example_simple
from bridge.model import Any as AnyParticle
from bridge.model import (
    Attribute,
    ComplexType,
    Element,
    Facets,
    Group,
    QName,
    ServiceModel,
    SimpleType,
)

XS = "http://www.w3.org/2001/XMLSchema"
TNS = "urn:examples"
SEEDS = range(40)

INT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-32768, 32767),
    "byte": (-128, 127),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 65535),
    "unsignedByte": (0, 255),
}


def st(builtin: str, **facets: Any) -> SimpleType:
    return SimpleType(None, builtin, Facets(**facets))


def el(name: str, t: ComplexType | SimpleType, min_occurs: int = 1, max_occurs: int | None = 1, **kw: Any) -> Element:
    return Element(QName("", name), t, min_occurs, max_occurs, **kw)


def seq(*particles: Any, **kw: Any) -> Group:
    return Group("sequence", list(particles), **kw)


def choice(*particles: Any, **kw: Any) -> Group:
    return Group("choice", list(particles), **kw)


def lexical(value: Any) -> str:
    """The XML text of a JSON-form simple value (what the codec writes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return " ".join(lexical(v) for v in value)
    return str(value)


# --- an independent oracle: xmlschema, from the same facets ----------------------------


_FACET_TAGS = {
    "length": "length",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_inclusive": "minInclusive",
    "max_inclusive": "maxInclusive",
    "min_exclusive": "minExclusive",
    "max_exclusive": "maxExclusive",
    "total_digits": "totalDigits",
    "fraction_digits": "fractionDigits",
}


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def oracle(builtin: str, f: Facets) -> Any:
    """An xmlschema simple type with these facets; each pattern step is one derivation."""
    facets = "".join(f'<xs:{tag} value="{getattr(f, key)}"/>' for key, tag in _FACET_TAGS.items() if getattr(f, key) is not None)
    facets += "".join(f'<xs:enumeration value="{_attr(v)}"/>' for v in f.enumeration or [])
    steps = f.patterns or [[]]
    types = []
    base = f"xs:{builtin}"
    for i, step in enumerate(steps):
        body = "".join(f'<xs:pattern value="{_attr(p)}"/>' for p in step) + (facets if i == 0 else "")
        types.append(f'<xs:simpleType name="T{i}"><xs:restriction base="{base}">{body}</xs:restriction></xs:simpleType>')
        base = f"T{i}"
    schema = xmlschema.XMLSchema(f'<xs:schema xmlns:xs="{XS}">{"".join(types)}</xs:schema>')
    return schema.types[base]


SIMPLE_CASES: list[tuple[str, dict[str, Any]]] = [
    *[(b, {}) for b in INT_RANGES],
    ("int", {"min_inclusive": "-5", "max_exclusive": "3"}),
    ("unsignedLong", {"min_inclusive": "18446744073709551610"}),
    ("positiveInteger", {"max_exclusive": "2"}),
    ("long", {"total_digits": 2}),
    ("short", {"min_inclusive": "30000"}),
    ("integer", {"max_inclusive": "-2000"}),
    ("decimal", {}),
    ("decimal", {"total_digits": 4, "fraction_digits": 2}),
    ("decimal", {"min_exclusive": "0", "max_exclusive": "0.05", "fraction_digits": 3}),
    ("decimal", {"total_digits": 3, "min_inclusive": "100"}),
    ("decimal", {"fraction_digits": 0, "min_inclusive": "-10", "max_inclusive": "-1"}),
    ("decimal", {"min_inclusive": "12345678901234567890123456789012.5"}),
    ("decimal", {"total_digits": 1}),
    ("float", {"min_inclusive": "0.5", "max_exclusive": "0.6"}),
    ("double", {"min_exclusive": "-1", "max_inclusive": "-0.99"}),
    ("double", {}),
    ("boolean", {}),
    ("string", {}),
    ("string", {"length": 7}),
    ("string", {"min_length": 40}),
    ("token", {"max_length": 3}),
    ("token", {"length": 1}),
    ("normalizedString", {}),
    ("NCName", {"length": 12}),
    ("NMTOKEN", {}),
    ("NMTOKENS", {}),
    ("Name", {}),
    ("ID", {}),
    ("IDREF", {}),
    ("QName", {}),
    ("language", {}),
    ("language", {"min_length": 12}),
    ("anyURI", {}),
    ("anyURI", {"max_length": 8}),
    ("anyURI", {"min_length": 40}),
    ("hexBinary", {}),
    ("hexBinary", {"length": 3}),
    ("base64Binary", {"min_length": 5, "max_length": 6}),
    ("dateTime", {}),
    ("dateTime", {"min_inclusive": "2030-01-01T00:00:00Z"}),
    ("date", {"max_exclusive": "1999-01-01"}),
    ("time", {"min_inclusive": "20:00:00"}),
    ("gYear", {"min_inclusive": "2100"}),
    ("gYearMonth", {}),
    ("gMonthDay", {}),
    ("gDay", {}),
    ("gMonth", {}),
    ("duration", {}),
    # patterns, alone and with other facets
    ("string", {"patterns": [[r"\d{3}-[A-Z]{2}"]]}),
    ("string", {"patterns": [[r"[A-Z]{3}"]]}),
    ("string", {"patterns": [[r"(\+|-)?\d{1,5}(\.\d{1,2})?"]]}),
    ("string", {"patterns": [[r"\i\c*"]]}),
    ("string", {"patterns": [[r"[^<>&]{1,10}"]]}),
    ("string", {"patterns": [[r"\p{Lu}{2}"]]}),
    ("string", {"patterns": [[r"[A-Z]+"]], "length": 4}),
    ("string", {"patterns": [[r"\d{5}", r"[A-Z]{5}"]]}),
    ("string", {"patterns": [[r"[a-z]{2,8}"], [r"a.*"]]}),
    ("token", {"patterns": [[r"[a-z ]{5,9}"]]}),
    ("NCName", {"patterns": [[r"[A-Z][a-z]+"]], "max_length": 6}),
    ("int", {"patterns": [[r"\d{4}"]]}),
    ("decimal", {"patterns": [[r"\d+\.\d{2}"]]}),
    ("dateTime", {"patterns": [[r".*Z"]]}),
    ("dateTime", {"patterns": [[r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"]]}),
    ("date", {"patterns": [[r"\d{4}-\d{2}-\d{2}"]]}),
    ("hexBinary", {"patterns": [[r"[0-9a-f]*"]], "length": 2}),
    # enumerations
    ("string", {"enumeration": ["red", "green", "blue"]}),
    ("string", {"enumeration": ["A1", "b2", "C3"], "patterns": [[r"[A-Z]\d"]]}),
    ("int", {"enumeration": ["1", "20", "300"]}),
    ("decimal", {"enumeration": ["1.5", "2.25"]}),
    ("boolean", {"patterns": [["false"]]}),
]


@pytest.mark.parametrize(("builtin", "facets"), SIMPLE_CASES, ids=[f"{b}-{i}" for i, (b, _) in enumerate(SIMPLE_CASES)])
def test_simple_values_are_valid_for_xmlschema(builtin: str, facets: dict[str, Any]) -> None:
    t = st(builtin, **facets)
    xsd_type = oracle(builtin, t.facets)
    for seed in SEEDS:
        value = example_simple(t, random.Random(seed))
        assert xsd_type.is_valid(lexical(value)), (seed, value)


@pytest.mark.parametrize(
    ("builtin", "python_type"),
    [
        ("boolean", bool),
        ("int", int),
        ("unsignedByte", int),
        ("decimal", Decimal),
        ("float", float),
        ("double", float),
        ("string", str),
        ("dateTime", str),
        ("base64Binary", str),
    ],
)
def test_simple_values_have_their_json_type(builtin: str, python_type: type) -> None:
    for seed in SEEDS:
        assert type(example_simple(st(builtin), random.Random(seed))) is python_type


def test_lexical_forms() -> None:
    rng = random.Random(7)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", example_simple(st("dateTime"), rng))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", example_simple(st("date"), rng))
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}Z", example_simple(st("time"), rng))  # RFC 3339 wants the offset
    assert re.fullmatch(r"P\d+DT\d+H", example_simple(st("duration"), rng))
    assert re.fullmatch(r"\d{4}", example_simple(st("gYear"), rng))
    assert re.fullmatch(r"\d{4}-\d{2}", example_simple(st("gYearMonth"), rng))
    assert re.fullmatch(r"--\d{2}-\d{2}", example_simple(st("gMonthDay"), rng))
    assert re.fullmatch(r"---\d{2}", example_simple(st("gDay"), rng))
    assert re.fullmatch(r"--\d{2}", example_simple(st("gMonth"), rng))
    assert re.fullmatch(r"([0-9A-F]{2})+", example_simple(st("hexBinary"), rng))
    assert example_simple(st("anyURI"), rng).startswith("https://example.com/")
    assert example_simple(st("language"), rng) == "en"
    for seed in range(100):
        token = example_simple(st("token"), random.Random(seed))
        assert token == " ".join(token.split()) and token


def test_binary_length_facets_count_octets() -> None:
    import base64

    for seed in SEEDS:
        assert len(bytes.fromhex(example_simple(st("hexBinary", length=5), random.Random(seed)))) == 5
        decoded = base64.b64decode(example_simple(st("base64Binary", min_length=2, max_length=3), random.Random(seed)))
        assert 2 <= len(decoded) <= 3


# --- patterns ------------------------------------------------------------------------


TRICKY_PATTERNS = [
    r"\d{3}-[A-Z]{2}",
    r"[A-Z]{3}",
    r"(\+|-)?\d{1,5}(\.\d{1,2})?",
    r"\i\c*",
    r"[^<>&]{1,10}",
    r"\p{Lu}{2}",
    r"[\i-[:]][\c-[:]]*",
    r"\p{IsGreek}{1,4}",
    r"[\w-[a-z]]+",
    r"(0[1-9]|1[0-2])/\d{2}",
    r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}",
    r"\$\^.?",
    r"(ab|c){2,3}d?",
    r"\P{L}{3}",
    r"[^\p{L}\p{N}\s]{2,4}",
    r".{0}x",
]


@pytest.mark.parametrize("pattern", TRICKY_PATTERNS)
def test_pattern_facet_values_match_for_200_seeds(pattern: str) -> None:
    python_regex = re.compile(translate_pattern(pattern, anchors=False))
    t = st("string", patterns=[[pattern]])
    seen = set()
    for seed in range(200):
        value = example_simple(t, random.Random(seed))
        assert python_regex.fullmatch(value), (seed, value)
        seen.add(value)
    if pattern != r".{0}x":
        assert len(seen) > 1  # the rng really steers the walk


@pytest.mark.parametrize(
    ("pattern", "lo", "hi"), [(r"[a-z]+( [a-z]+)*", 5, 5), (r"\d*", 100, 100), (r"(ab)+", 8, 10), ("[A-Z]{2,}", 0, 3)]
)
def test_regexgen_meets_length_bounds(pattern: str, lo: int, hi: int) -> None:
    for seed in range(50):
        s = regexgen.generate_matching([[pattern]], random.Random(seed), min_length=lo, max_length=hi)
        assert regexgen.xsd_fullmatch(pattern, s) and lo <= len(s) <= hi, s


def test_regexgen_anded_and_ored_steps() -> None:
    patterns = [[r"[a-z]{3}", r"\d{3}"], [r".*[05]"]]
    for seed in range(50):
        s = regexgen.generate_matching(patterns, random.Random(seed))
        assert regexgen.matches_all(patterns, s), s


def test_regexgen_gives_best_effort_for_impossible_lengths_and_ignores_bad_patterns() -> None:
    s = regexgen.generate_matching([["(ab)+"]], random.Random(1), min_length=7, max_length=7)
    assert regexgen.xsd_fullmatch("(ab)+", s)  # length 7 is impossible: still a match
    assert not regexgen.is_usable("[a-")
    assert regexgen.matches_all([["[a-"]], "anything")
    assert example_simple(st("string", patterns=[["[a-"]]), random.Random(1))


# --- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("builtin", sorted(INT_RANGES))
def test_integers_stay_in_their_builtin_range(builtin: str) -> None:
    lo, hi = INT_RANGES[builtin]
    for seed in range(300):
        v = example_simple(st(builtin), random.Random(seed))
        assert type(v) is int
        assert (lo is None or v >= lo) and (hi is None or v <= hi)


@pytest.mark.parametrize(
    ("builtin", "facets", "lo", "hi"),
    [
        ("byte", {"min_exclusive": "125"}, 126, 127),
        ("unsignedLong", {"min_inclusive": "18446744073709551614"}, 2**64 - 2, 2**64 - 1),
        ("negativeInteger", {"min_inclusive": "-3"}, -3, -1),
        ("int", {"total_digits": 1}, -9, 9),
        ("nonNegativeInteger", {"max_exclusive": "1"}, 0, 0),
    ],
)
def test_integer_facets_at_the_edges(builtin: str, facets: dict[str, Any], lo: int, hi: int) -> None:
    for seed in range(100):
        assert lo <= example_simple(st(builtin, **facets), random.Random(seed)) <= hi


def _digits(d: Decimal) -> tuple[int, int]:
    _, digits, exp = d.normalize().as_tuple()
    assert isinstance(exp, int)
    fraction = max(0, -exp)
    total = len(digits) + exp if exp > 0 else max(len(digits), fraction)
    return total, fraction


@pytest.mark.parametrize(
    ("facets", "lo", "hi"),
    [
        ({"total_digits": 5, "fraction_digits": 2}, Decimal("-999.99"), Decimal("999.99")),
        ({"total_digits": 3, "min_inclusive": "100"}, Decimal(100), Decimal(999)),
        ({"fraction_digits": 1, "min_exclusive": "0.1", "max_exclusive": "0.3"}, Decimal("0.2"), Decimal("0.2")),
        ({"fraction_digits": 4, "min_exclusive": "1.0001", "max_inclusive": "1.0003"}, Decimal("1.0002"), Decimal("1.0003")),
        ({"total_digits": 2, "fraction_digits": 2}, Decimal("-0.99"), Decimal("0.99")),
        ({"max_inclusive": "-5000.5"}, None, Decimal("-5000.5")),
    ],
)
def test_decimals_respect_digits_and_ranges(facets: dict[str, Any], lo: Decimal | None, hi: Decimal) -> None:
    t = st("decimal", **facets)
    for seed in range(100):
        v = example_simple(t, random.Random(seed))
        assert isinstance(v, Decimal)
        total, fraction = _digits(v)
        if t.facets.total_digits is not None:
            assert total <= t.facets.total_digits, v
            if t.facets.fraction_digits is not None:
                # The JSON Schema allows totalDigits - fractionDigits digits before the point.
                assert abs(v) < 10 ** (t.facets.total_digits - t.facets.fraction_digits)
        if t.facets.fraction_digits is not None:
            assert fraction <= t.facets.fraction_digits, v
        assert (lo is None or v >= lo) and v <= hi, v


def test_floats_are_finite_and_in_range() -> None:
    t = st("float", min_exclusive="-0.001", max_exclusive="0.001")
    for seed in range(100):
        v = example_simple(t, random.Random(seed))
        assert isinstance(v, float) and -0.001 < v < 0.001
    inf_only = st("double", enumeration=["INF", "1.5", "NaN"])
    assert {example_simple(inf_only, random.Random(s)) for s in range(30)} == {1.5}


# --- list and union types ----------------------------------------------------------------


def test_list_types_are_python_lists_with_item_count_facets() -> None:
    t = SimpleType(None, "string", Facets(min_length=2, max_length=4), variety="list", item_type=st("int", max_inclusive="9"))
    for seed in SEEDS:
        v = example_simple(t, random.Random(seed))
        assert isinstance(v, list) and 2 <= len(v) <= 4 and all(type(i) is int and i <= 9 for i in v)
    fixed = SimpleType(None, "string", Facets(length=5), variety="list", item_type=st("date"))
    assert len(example_simple(fixed, random.Random(1))) == 5
    enum = SimpleType(None, "string", Facets(enumeration=["1 2", "3"]), variety="list", item_type=st("int"))
    assert {tuple(example_simple(enum, random.Random(s))) for s in range(30)} == {(1, 2), (3,)}


def test_union_uses_the_first_member_that_can_produce_a_value() -> None:
    impossible = st("int", min_inclusive="5", max_inclusive="1")
    t = SimpleType(None, "string", variety="union", member_types=[impossible, st("date"), st("int")])
    for seed in SEEDS:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", example_simple(t, random.Random(seed)))
    plain = SimpleType(None, "string", variety="union", member_types=[st("boolean"), st("string")])
    assert isinstance(example_simple(plain, random.Random(1)), bool)
    enum = SimpleType(None, "string", Facets(enumeration=["7", "seven"]), variety="union", member_types=[st("int"), st("string")])
    assert {example_simple(enum, random.Random(s)) for s in range(30)} == {7, "seven"}


# --- complex types -----------------------------------------------------------------------


def _rich_types() -> ComplexType:
    colour = st("string", enumeration=["red", "green", "blue", "cyan", "magenta"])
    shape = ComplexType(QName(TNS, "Shape"), seq(el("label", st("string"))), abstract=True)
    circle = ComplexType(QName(TNS, "Circle"), seq(el("radius", st("double"))), base=shape, derivation="extension")
    square = ComplexType(QName(TNS, "Square"), seq(el("side", st("int"))), base=shape, derivation="extension")
    shape.derived = [circle, square]
    return ComplexType(
        QName(TNS, "Order"),
        seq(
            el("id", st("int")),
            el("colour", colour),
            choice(el("email", st("string")), el("phone", st("string", patterns=[[r"\+\d{7,12}"]]))),
            el("shape", shape),
            el("lines", ComplexType(None, seq(el("sku", st("string")), el("qty", st("positiveInteger")))), 1, None),
            el("note", st("string"), 0),
        ),
        attributes=[Attribute(QName("", "version"), st("int"), required=True)],
    )


def rich_json(seed: int) -> str:
    """Used by the cross-process test too, so it must stay importable without pytest fixtures."""
    return json.dumps(example_for_type(_rich_types(), random.Random(seed)), default=str, sort_keys=False)


def test_same_seed_same_output_and_seeds_differ() -> None:
    assert rich_json(3) == rich_json(3)
    outputs = {rich_json(seed) for seed in range(10)}
    assert len(outputs) == 10
    colours = {json.loads(rich_json(seed))["colour"] for seed in range(30)}
    assert len(colours) > 1


def test_same_seed_same_output_across_processes() -> None:
    tests_dir = Path(__file__).resolve().parent
    script = f"import sys; sys.path.insert(0, {str(tests_dir)!r}); import test_examples as t; print(t.rich_json(11))"
    outputs = set()
    for hash_seed in ("1", "2", "random"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=tests_dir.parent,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
        )
        outputs.add(done.stdout.strip())
    assert outputs == {rich_json(11)}


def test_choice_picks_exactly_one_branch() -> None:
    t = ComplexType(
        QName(TNS, "Contact"),
        seq(
            el("name", st("string")),
            choice(
                el("email", st("string")), seq(el("street", st("string")), el("city", st("string"))), el("fax", st("string"), 0)
            ),
        ),
    )
    picked = set()
    for seed in range(60):
        v = example_for_type(t, random.Random(seed))
        branches = [k for k in (("email",), ("street", "city"), ("fax",)) if any(name in v for name in k)]
        assert len(branches) == 1, v
        assert all(name in v for name in branches[0]), v  # a picked branch shows up whole
        picked.add(branches[0])
    assert len(picked) == 3
    optional = ComplexType(None, seq(choice(el("a", st("int")), el("b", st("int")), min_occurs=0)))
    assert all(len(example_for_type(optional, random.Random(s))) == 1 for s in range(20))


def _depth(v: Any) -> int:
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return max((_depth(x) for x in v), default=0)
    return 0


def test_recursion_terminates() -> None:
    node = ComplexType(QName(TNS, "Node"))
    node.content = seq(el("value", st("int")), el("child", node, 0), el("children", node, 0, None))
    for seed in range(10):
        assert _depth(example_for_type(node, random.Random(seed), max_depth=3)) <= 4

    expr = ComplexType(QName(TNS, "Expr"))
    add = ComplexType(QName(TNS, "Add"), seq(el("left", expr), el("right", expr)))
    expr.content = choice(el("add", add), el("literal", st("int")))
    for seed in range(30):
        v = example_for_type(expr, random.Random(seed), max_depth=4)
        assert _depth(v) <= 4 * 2 + 2

    # Recursion that no legal value can end: past max_depth + 4 the value is {}.
    loop = ComplexType(QName(TNS, "Loop"))
    loop.content = seq(el("next", loop), el("n", st("int")))
    v = example_for_type(loop, random.Random(1), max_depth=1)
    assert _depth(v) == 1 + 4 + 2  # objects at depths 0..6, the last one empty
    inner = v
    while inner:
        inner = inner["next"]
    assert inner == {}

    # ...unless the element is nillable: then nil ends it just past the limit.
    nloop = ComplexType(QName(TNS, "NLoop"))
    nloop.content = seq(el("next", nloop, nillable=True), el("n", st("int")))
    v = example_for_type(nloop, random.Random(1), max_depth=1)
    assert v["next"]["next"] is None and isinstance(v["n"], int)


def test_optional_elements_are_included_until_the_depth_limit() -> None:
    leaf = ComplexType(None, seq(el("opt", st("int"), 0), el("req", st("int"))))
    t = ComplexType(None, seq(el("inner", leaf), el("maybe", st("string"), 0)))
    v = example_for_type(t, random.Random(1), max_depth=2)
    assert set(v) == {"inner", "maybe"} and set(v["inner"]) == {"opt", "req"}
    v = example_for_type(t, random.Random(1), max_depth=1)
    assert set(v) == {"inner", "maybe"} and set(v["inner"]) == {"req"}


def test_nillable_elements_get_values() -> None:
    t = ComplexType(
        None, seq(el("a", st("int"), nillable=True), el("b", ComplexType(None, seq(el("c", st("int")))), nillable=True))
    )
    v = example_for_type(t, random.Random(1))
    assert isinstance(v["a"], int) and isinstance(v["b"]["c"], int)


def test_abstract_type_uses_first_concrete_derived_with_type_key() -> None:
    base = ComplexType(QName(TNS, "Base"), seq(el("id", st("int"))), abstract=True)
    middle = ComplexType(QName(TNS, "Middle"), seq(el("m", st("int"))), base=base, derivation="extension", abstract=True)
    leaf = ComplexType(QName(TNS, "Leaf"), seq(el("x", st("int"))), base=middle, derivation="extension")
    base.derived = [middle]
    middle.derived = [leaf]
    v = example_for_type(base, random.Random(1))
    assert v["$type"] == "Leaf" and list(v) == ["$type", "id", "m", "x"]  # base content first
    lonely = ComplexType(QName(TNS, "Lonely"), seq(el("id", st("int"))), abstract=True)
    assert example_for_type(lonely, random.Random(1)) == {}
    concrete_base = ComplexType(QName(TNS, "Concrete"), seq(el("id", st("int"))), derived=[leaf])
    assert "$type" not in example_for_type(concrete_base, random.Random(1))


def test_simple_content_goes_under_value_with_attributes() -> None:
    price = ComplexType(
        QName(TNS, "Price"),
        simple_content=st("decimal", fraction_digits=2, min_inclusive="0"),
        attributes=[Attribute(QName("", "currency"), st("string", enumeration=["EUR", "USD"]), required=True)],
    )
    v = example_for_type(price, random.Random(1))
    assert set(v) == {"$value", "currency"} and isinstance(v["$value"], Decimal) and v["currency"] in ("EUR", "USD")
    taxed = ComplexType(
        QName(TNS, "Taxed"), base=price, derivation="extension", attributes=[Attribute(QName("", "rate"), st("int"))]
    )
    assert set(example_for_type(taxed, random.Random(1))) == {"$value", "currency", "rate"}


def test_attributes_keys_fixed_default_and_collisions() -> None:
    t = ComplexType(
        None,
        seq(el("id", st("int")), choice(el("kind", st("string")), el("other", st("string")))),
        attributes=[
            Attribute(QName("", "id"), st("string"), required=True),
            Attribute(QName("", "kind"), st("string")),  # clashes with an element of an unpicked branch too
            Attribute(QName("", "version"), st("string"), fixed="2.0"),
            Attribute(QName("", "count"), st("int"), default="3"),
            Attribute(QName("", "gone"), st("string"), prohibited=True),
            Attribute(QName("urn:x", "lang"), st("language")),
            Attribute(QName("", "$odd"), st("string")),
        ],
    )
    for seed in range(10):
        v = example_for_type(t, random.Random(seed))
        assert isinstance(v["id"], int) and isinstance(v["@id"], str)
        assert "@kind" in v  # the clash counts even when the choice left the element out
        assert v["version"] == "2.0" and v["count"] == 3 and "gone" not in v and v["lang"] == "en" and "@$odd" in v


def test_element_arrays_respect_occurs() -> None:
    for min_occurs, max_occurs in ((0, None), (1, 2), (3, 10), (2, 2), (0, 5)):
        e = el("item", st("int"), min_occurs, max_occurs)
        cap = min_occurs + 2 if max_occurs is None else min(max_occurs, min_occurs + 2)
        lengths = {len(example_for_element(e, random.Random(s))) for s in range(40)}
        assert lengths <= set(range(max(min_occurs, 1), cap + 1)), (min_occurs, max_occurs, lengths)
    assert example_for_element(el("one", st("int")), random.Random(1)) == example_simple(st("int"), random.Random(1))
    # Past the depth limit an array has exactly min_occurs items.
    t = ComplexType(None, seq(el("xs", st("int"), 2, None)))
    assert len(example_for_type(t, random.Random(1), max_depth=0)["xs"]) == 2


def test_extension_content_wildcards_repeating_groups_and_soapenc_arrays() -> None:
    base = ComplexType(QName(TNS, "B"), seq(el("first", st("int"))), attributes=[Attribute(QName("", "a"), st("int"))])
    ext = ComplexType(QName(TNS, "E"), seq(el("second", st("int")), AnyParticle(min_occurs=0)), base=base, derivation="extension")
    assert list(example_for_type(ext, random.Random(1))) == ["first", "second", "a"]
    required_any = ComplexType(None, seq(AnyParticle()))
    assert example_for_type(required_any, random.Random(1)) == {"$any": [{"item": "text"}]}
    repeating = ComplexType(
        None, seq(el("head", st("int")), seq(el("k", st("string")), el("v", st("int")), min_occurs=1, max_occurs=None))
    )
    v = example_for_type(repeating, random.Random(1))
    assert 1 <= len(v["$sequence"]) <= 3 and all(set(i) == {"k", "v"} for i in v["$sequence"])
    nested = ComplexType(None, seq(el("a", st("int")), seq(el("b", st("int")), Group("all", [el("c", st("int"))]))))
    assert set(example_for_type(nested, random.Random(1))) == {"a", "b", "c"}
    soapenc = ComplexType(QName(TNS, "ArrayOfInt"), soapenc_array_item=st("int"))
    for seed in range(20):
        v = example_for_type(soapenc, random.Random(seed))
        assert isinstance(v, list) and 1 <= len(v) <= 2 and all(type(i) is int for i in v)


def test_fixed_element_values_and_ids_are_unique() -> None:
    t = ComplexType(None, seq(el("v", st("decimal"), fixed="1.50"), el("ids", st("ID", max_length=3), 3, 3)))
    for seed in range(20):
        v = example_for_type(t, random.Random(seed))
        assert v["v"] == Decimal("1.50") and len(set(v["ids"])) == 3


# --- end to end: the codec writes the example, xmlschema validates the XML ----------------


ORDER_XSD = f"""<xs:schema xmlns:xs="{XS}" xmlns:t="{TNS}" targetNamespace="{TNS}" elementFormDefault="qualified">
  <xs:complexType name="Shape" abstract="true"><xs:sequence><xs:element name="label" type="xs:string"/></xs:sequence></xs:complexType>
  <xs:complexType name="Circle"><xs:complexContent><xs:extension base="t:Shape"><xs:sequence>
    <xs:element name="radius" type="xs:double"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
  <xs:complexType name="Price"><xs:simpleContent><xs:extension base="t:Money">
    <xs:attribute name="currency" type="t:Currency" use="required"/></xs:extension></xs:simpleContent></xs:complexType>
  <xs:simpleType name="Money"><xs:restriction base="xs:decimal"><xs:totalDigits value="6"/><xs:fractionDigits value="2"/>
    <xs:minExclusive value="0"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Currency"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{{3}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Sku"><xs:restriction base="xs:token"><xs:pattern value="\\d{{3}}-[A-Z]{{2}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Ints"><xs:list itemType="xs:unsignedByte"/></xs:simpleType>
  <xs:complexType name="Node"><xs:sequence><xs:element name="n" type="xs:int"/>
    <xs:element name="node" type="t:Node" minOccurs="0" maxOccurs="2"/></xs:sequence></xs:complexType>
  <xs:element name="order"><xs:complexType><xs:sequence>
    <xs:element name="id" type="xs:long"/>
    <xs:choice><xs:element name="email" type="xs:string"/><xs:element name="phone" type="t:Sku"/></xs:choice>
    <xs:element name="shape" type="t:Shape"/>
    <xs:element name="price" type="t:Price" maxOccurs="unbounded"/>
    <xs:element name="when" type="xs:dateTime" nillable="true"/>
    <xs:element name="tags" type="t:Ints" minOccurs="0"/>
    <xs:element name="tree" type="t:Node"/>
    <xs:sequence maxOccurs="3"><xs:element name="k" type="xs:NCName"/><xs:element name="v" type="xs:boolean"/></xs:sequence>
    <xs:any processContents="lax" namespace="##other" minOccurs="0"/>
  </xs:sequence><xs:attribute name="id" type="xs:ID"/></xs:complexType></xs:element>
</xs:schema>"""


def _order_model() -> Element:
    def q(name: str) -> QName:
        return QName(TNS, name)

    def e(name: str, t: Any, lo: int = 1, hi: int | None = 1, **kw: Any) -> Element:
        return Element(q(name), t, lo, hi, **kw)

    shape = ComplexType(q("Shape"), seq(e("label", st("string"))), abstract=True)
    circle = ComplexType(q("Circle"), seq(e("radius", st("double"))), base=shape, derivation="extension")
    shape.derived = [circle]
    money = SimpleType(q("Money"), "decimal", Facets(total_digits=6, fraction_digits=2, min_exclusive="0"))
    currency = SimpleType(q("Currency"), "string", Facets(patterns=[["[A-Z]{3}"]]))
    price = ComplexType(q("Price"), simple_content=money, attributes=[Attribute(QName("", "currency"), currency, required=True)])
    sku = SimpleType(q("Sku"), "token", Facets(patterns=[[r"\d{3}-[A-Z]{2}"]]))
    ints = SimpleType(q("Ints"), "string", variety="list", item_type=st("unsignedByte"))
    node = ComplexType(q("Node"))
    node.content = seq(e("n", st("int")), e("node", node, 0, 2))
    order = ComplexType(
        None,
        seq(
            e("id", st("long")),
            choice(e("email", st("string")), e("phone", sku)),
            e("shape", shape),
            e("price", price, 1, None),
            e("when", st("dateTime"), nillable=True),
            e("tags", ints, 0),
            e("tree", node),
            Group("sequence", [e("k", st("NCName")), e("v", st("boolean"))], 1, 3),
            AnyParticle(namespace="##other", process_contents="lax", min_occurs=0),
        ),
        attributes=[Attribute(QName("", "id"), st("ID"))],
    )
    return Element(q("order"), order, is_global=True)


def test_examples_encode_to_schema_valid_xml() -> None:
    from bridge.codec import Codec

    schema = xmlschema.XMLSchema(ORDER_XSD)
    codec = Codec(ServiceModel(location="memory", target_namespace=TNS))
    order = _order_model()
    for seed in range(25):
        value = example_for_element(order, random.Random(seed), max_depth=3)
        assert "@id" in value and "$sequence" in value and value["shape"]["$type"] == "Circle"
        (node,) = codec.encode_element(None, order, value, "")
        xml = etree.tostring(node)
        errors = list(schema.iter_errors(xml))
        assert not errors, (seed, xml, errors[0])


# --- the JSON Schema describes the same JSON form -------------------------------------------


def _json_validator(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator({**schema, "components": {"schemas": components}}, validate_formats=True)


@pytest.mark.parametrize(("builtin", "facets"), SIMPLE_CASES, ids=[f"{b}-{i}" for i, (b, _) in enumerate(SIMPLE_CASES)])
def test_simple_values_pass_the_json_schema(builtin: str, facets: dict[str, Any]) -> None:
    from bridge.codec import to_json_ready
    from bridge.jsonschema import SchemaBuilder

    t = st(builtin, **facets)
    builder = SchemaBuilder()
    validator = _json_validator(builder.type_schema(t), builder.components)
    for seed in SEEDS:
        value = to_json_ready(example_simple(t, random.Random(seed)))
        assert validator.is_valid(value), (seed, value, next(validator.iter_errors(value)).message)


def test_complex_values_pass_the_json_schema() -> None:
    from bridge.codec import to_json_ready
    from bridge.jsonschema import SchemaBuilder

    order = _order_model()
    builder = SchemaBuilder()
    validator = _json_validator(builder.element_schema(order), builder.components)
    rich = _rich_types()
    rich_validator = _json_validator(builder.type_use(rich), builder.components)
    for seed in range(25):
        for v, value in (
            (validator, example_for_element(order, random.Random(seed), max_depth=3)),
            (rich_validator, example_for_type(rich, random.Random(seed))),
        ):
            data = to_json_ready(value)
            assert v.is_valid(data), (seed, data, next(v.iter_errors(data)).message)
