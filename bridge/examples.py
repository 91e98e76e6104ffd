"""Deterministic, schema-valid example values in soapbridge's JSON form.

Used by the mock service for replies and by the OpenAPI builder for examples. Every draw
comes from the ``random.Random`` passed in, and nothing depends on hash order, so the same
seed gives the same value in every process.

The JSON form is the one ``bridge.jsonschema`` documents and ``bridge.codec`` reads:
objects keyed by local name, arrays for maxOccurs > 1, ``@name`` for an attribute that
clashes with an element, ``$value`` for simpleContent, ``$type`` for a derived type standing
in for an abstract one, ``$sequence``/``$choice``/``$all`` for repeating model groups, and
``Decimal`` for xs:decimal. xs:any content is generic: a required wildcard (or one picked
as a choice branch) yields ``{"$any": [{"item": "text"}]}`` (``{"item": {"@xmlns": ..., "#text":
"text"}}`` where the wildcard wants a namespace), an optional one is left out.
"""

from __future__ import annotations

import base64
import functools
import math
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from . import regexgen
from .errors import ValidationError
from .jsonschema import all_derived, attribute_key, element_keys
from .model import (
    HEADERS_KEY,
    ComplexType,
    Element,
    Facets,
    Group,
    Message,
    Operation,
    Particle,
    SimpleType,
    XsdType,
    unwrapped_part,
)
from .model import Any as AnyParticle
from .xsd.lexical import INT_RANGES, LIST_BUILTINS, in_lexical_space, json_kind, lexical_value, to_lexical

__all__ = ["example_for_element", "example_for_type", "example_simple", "message_example"]

_WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
)  # fmt: skip
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HARD_STOP_EXTRA = 4  # levels past max_depth at which unavoidable recursion is cut to {}
_NATURAL_TRIES = 8  # natural draws tried against a pattern before generating from it


# --- public API ----------------------------------------------------------------------


def example_for_element(element: Element, rng: random.Random, *, max_depth: int = 6) -> Any:
    """The JSON value of one element declaration, occurrence included: a list for arrays."""
    return _Builder(rng, max_depth).element(element, 0)


def example_for_type(t: XsdType, rng: random.Random, *, max_depth: int = 6) -> Any:
    """The JSON value of one occurrence of a value of type ``t``."""
    return _Builder(rng, max_depth).value(t, 0)


def example_simple(t: SimpleType, rng: random.Random) -> Any:
    """A JSON value of simple type ``t`` that satisfies its facets (best effort when the
    facets contradict each other or a pattern defeats the generator)."""
    return _simple(t, rng, set())[0]


# --- simple types ---------------------------------------------------------------------


def _simple(t: SimpleType, rng: random.Random, ids: set[str]) -> tuple[Any, bool]:
    """(value, ok): ok is False when the facets could not all be met."""
    if t.variety == "list":
        item = _item_type(t)
        if item is not None:
            return _list_value(t, item, rng, ids)
    if t.variety == "union":
        members = _member_types(t)
        if members:
            return _union_value(t, members, rng, ids)
    return _atomic_value(t, rng, ids)


def _item_type(t: SimpleType) -> SimpleType | None:
    s: SimpleType | None = t
    while s is not None:  # a restricted list may leave item_type on its base
        if s.item_type is not None:
            return s.item_type
        s = s.base
    return None


def _member_types(t: SimpleType) -> list[SimpleType]:
    s: SimpleType | None = t
    while s is not None:
        if s.member_types:
            return s.member_types
        s = s.base
    return []


def _patterns(f: Facets) -> list[list[str]]:
    steps = [[p for p in step if regexgen.is_usable(p)] for step in f.patterns]
    return [s for s in steps if s]


def _lexical(t: SimpleType, value: Any) -> str | None:
    """The wire form the codec will write, which is what patterns must match."""
    try:
        return to_lexical(t, value, "")
    except (ValidationError, ValueError, TypeError):
        return None


def _lexical_matches(t: SimpleType, value: Any, patterns: Sequence[Sequence[str]]) -> bool:
    text = _lexical(t, value)
    return text is not None and regexgen.matches_all(patterns, text)


def _len_bounds(f: Facets) -> tuple[int, int | None]:
    if f.length is not None:
        return f.length, f.length
    return f.min_length or 0, f.max_length


def _len_ok(n: int, lo: int, hi: int | None) -> bool:
    return n >= lo and (hi is None or n <= hi)


def _convert(t: SimpleType, text: str) -> Any:
    """A lexical value (enumeration, fixed, default) as the JSON value the codec decodes it to."""
    return lexical_value(t, text)


def _pick_enumeration(t: SimpleType, rng: random.Random) -> tuple[Any, bool]:
    values = list(t.facets.enumeration or [])
    patterns = _patterns(t.facets)
    if patterns:
        values = [v for v in values if regexgen.matches_all(patterns, v)] or values
    if t.variety == "atomic" and json_kind(t.builtin) == "number":
        # INF and NaN have no JSON form; keep them only if nothing else is allowed.
        finite = [v for v in values if v.strip() not in ("INF", "-INF", "NaN", "+INF")]
        values = finite or values
    return _convert(t, rng.choice(values)), True


def _list_value(t: SimpleType, item: SimpleType, rng: random.Random, ids: set[str]) -> tuple[Any, bool]:
    f = t.facets
    if f.enumeration:
        return _pick_enumeration(t, rng)
    lo, hi = _len_bounds(f)  # list length facets count items
    patterns = _patterns(f)
    best: tuple[list[Any], bool] = ([], False)
    for attempt in range(_NATURAL_TRIES if patterns else 1):
        count = _pick_int(rng, lo, hi, (1, 3))
        values: list[Any] = []
        ok = _len_ok(count, lo, hi)
        for _ in range(count):
            v, item_ok = _simple(item, rng, ids)
            values.append(v)
            ok = ok and item_ok
        if not patterns or _lexical_matches(t, values, patterns):
            return values, ok
        if attempt == 0:
            best = (values, False)

    def accept(s: str) -> bool:
        parts = s.split()
        return _len_ok(len(parts), lo, hi) and all(_parse_atomic(item, p) is not None for p in parts)

    text = regexgen.generate_matching(patterns, rng, accept=accept)
    if accept(text) and regexgen.matches_all(patterns, text):
        return [_parse_atomic(item, p) for p in text.split()], True
    return best


def _union_value(t: SimpleType, members: list[SimpleType], rng: random.Random, ids: set[str]) -> tuple[Any, bool]:
    if t.facets.enumeration:
        return _pick_enumeration(t, rng)
    patterns = _patterns(t.facets)
    first: tuple[Any, bool] | None = None
    for m in members:
        for _ in range(_NATURAL_TRIES if patterns else 1):
            v, ok = _simple(m, rng, ids)
            if first is None:
                first = (v, False)
            if ok and (not patterns or _lexical_matches(t, v, patterns)):
                return v, True
    if patterns:
        text = regexgen.generate_matching(patterns, rng)
        return _convert(t, text), regexgen.matches_all(patterns, text)
    assert first is not None
    return first


# --- atomic values --------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """How to make and check values of one atomic type under its facets."""

    natural: Callable[[random.Random, set[str]], tuple[Any, bool]]
    # Lexical text -> value when the text is a valid, in-facet, canonical value; else None.
    parse: Callable[[str], Any]
    # Other lexical spellings of the same kind of value, tried against patterns first.
    variants: Callable[[Any], list[Any]]
    # Character-length bounds handed to the regex generator.
    lengths: tuple[int, int | None]


def _atomic_value(t: SimpleType, rng: random.Random, ids: set[str]) -> tuple[Any, bool]:
    if t.facets.enumeration:
        return _pick_enumeration(t, rng)
    spec = _spec(t)
    patterns = _patterns(t.facets)
    if not patterns:
        return spec.natural(rng, ids)
    # Free text hardly ever matches a pattern by chance; typed values (dates, numbers) often do.
    for _ in range(1 if json_kind(t.builtin) == "string" and t.builtin not in _ORDERED else _NATURAL_TRIES):
        value, ok = spec.natural(rng, ids)
        if ok:
            for v in spec.variants(value):
                if _lexical_matches(t, v, patterns):
                    return v, True
    lo, hi = spec.lengths
    text = regexgen.generate_matching(patterns, rng, min_length=lo, max_length=hi, accept=lambda s: spec.parse(s) is not None)
    value = spec.parse(text)
    if value is not None and regexgen.matches_all(patterns, text):
        if isinstance(value, str) and t.builtin == "ID":
            ids.add(value)
        return value, True
    return spec.natural(rng, ids)[0], False


def _parse_atomic(t: SimpleType, text: str) -> Any:
    """Lexical -> value if ``text`` is a valid value of atomic type ``t``, else None."""
    if t.variety != "atomic":
        value = _convert(t, text)
        return value if _lexical(t, value) is not None else None
    if t.facets.enumeration is not None:
        return _convert(t, text) if text in t.facets.enumeration else None
    value = _spec(t).parse(text)
    if value is not None and not regexgen.matches_all(_patterns(t.facets), text):
        return None
    return value


def _spec(t: SimpleType) -> _Spec:
    b, f = t.builtin, t.facets
    kind = json_kind(b)
    if kind == "boolean":
        return _Spec(
            natural=lambda rng, ids: (rng.random() < 0.5, True),
            parse=lambda s: {"true": True, "false": False}.get(s),
            variants=lambda v: [v],
            lengths=(0, None),
        )
    if kind == "integer":
        return _integer_spec(b, f)
    if b == "decimal":
        return _decimal_spec(f)
    if kind == "number":
        return _float_spec(f)
    if b in _ORDERED:
        return _ordered_spec(b, f)
    return _string_spec(b, f)


def _no_variants(v: Any) -> list[Any]:
    return [v]


# integers ------------------------------------------------------------------------------


def _dec(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _int_bounds(
    f: Facets, parse: Callable[[str], Decimal | float | None], lo: int | None, hi: int | None
) -> tuple[int | None, int | None]:
    """Integer bounds (in the unit ``parse`` measures) from the range facets."""

    def tighter(cur: int | None, new: int, pick: Callable[[int, int], int]) -> int:
        return new if cur is None else pick(cur, new)

    for text, is_lo, exclusive in (
        (f.min_inclusive, True, False),
        (f.min_exclusive, True, True),
        (f.max_inclusive, False, False),
        (f.max_exclusive, False, True),
    ):
        v = parse(text) if text is not None else None
        if v is None:
            continue
        if is_lo:
            lo = tighter(lo, math.floor(v) + 1 if exclusive else math.ceil(v), max)
        else:
            hi = tighter(hi, math.ceil(v) - 1 if exclusive else math.floor(v), min)
    return lo, hi


def _pick_int(rng: random.Random, lo: int | None, hi: int | None, window: tuple[int, int]) -> int:
    """A random int in [lo, hi], taken from ``window`` when that overlaps, so examples stay
    small and readable; otherwise from a window-sized stretch at the nearer bound."""
    wlo, whi = window
    if lo is not None:
        wlo = max(wlo, lo)
    if hi is not None:
        whi = min(whi, hi)
    if wlo <= whi:
        return rng.randint(wlo, whi)
    if lo is not None and hi is not None and lo > hi:
        return lo  # contradictory facets: callers report the failure
    span = window[1] - window[0]
    if lo is not None and lo > window[1]:
        return rng.randint(lo, lo + span if hi is None else min(hi, lo + span))
    assert hi is not None
    return rng.randint(hi - span if lo is None else max(lo, hi - span), hi)


def _integer_spec(b: str, f: Facets) -> _Spec:
    lo, hi = _int_bounds(f, _dec, *INT_RANGES.get(b, (None, None)))
    if f.total_digits is not None:
        cap = 10**f.total_digits - 1
        lo, hi = max(-cap, lo) if lo is not None else -cap, min(cap, hi) if hi is not None else cap
    feasible = lo is None or hi is None or lo <= hi

    def parse(s: str) -> int | None:
        if not re.fullmatch(r"-?\d+", s) or str(int(s)) != s:
            return None  # the codec writes str(int): other spellings would not survive
        n = int(s)
        return n if (lo is None or n >= lo) and (hi is None or n <= hi) else None

    return _Spec(
        natural=lambda rng, ids: (_pick_int(rng, lo, hi, (1, 999)), feasible),
        parse=parse,
        variants=_no_variants,
        lengths=(0, None),
    )


# decimals and floats ------------------------------------------------------------------


def _total_digits(d: Decimal) -> int:
    _, digits, exp = d.normalize().as_tuple()
    assert isinstance(exp, int)
    if digits == (0,):
        return 1
    return len(digits) + exp if exp > 0 else max(len(digits), -exp)


def _fraction_digits(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    return max(0, -exp)


def _decimal_in_facets(d: Decimal, f: Facets) -> bool:
    for text, ok in (
        (f.min_inclusive, lambda b: d >= b),
        (f.min_exclusive, lambda b: d > b),
        (f.max_inclusive, lambda b: d <= b),
        (f.max_exclusive, lambda b: d < b),
    ):
        bound = _dec(text) if text is not None else None
        if bound is not None and not ok(bound):
            return False
    if f.total_digits is not None and _total_digits(d) > f.total_digits:
        return False
    return f.fraction_digits is None or _fraction_digits(d) <= f.fraction_digits


def _decimal_draw(f: Facets, rng: random.Random, *, fraction_pref: int = 2) -> tuple[Decimal, bool]:
    """n x 10^-scale with n drawn in integer bounds derived from every facet."""
    td, fd = f.total_digits, f.fraction_digits
    max_scale = fd if fd is not None else 30  # enough for any sensible narrow range
    if td is not None:
        max_scale = min(max_scale, td)
    pref = min(fraction_pref, max_scale)
    with localcontext() as ctx:
        ctx.prec = 400  # bounds may be far larger than the default 28 digits

        def scaled(text: str, scale: int) -> Decimal | None:
            d = _dec(text)
            return d.scaleb(scale) if d is not None else None

        for scale in (pref, *range(pref + 1, max_scale + 1), *range(pref - 1, -1, -1)):
            lo, hi = _int_bounds(f, functools.partial(scaled, scale=scale), None, None)
            if td is not None:
                # |n| < 10^td keeps totalDigits; the integer-part cap matches the JSON Schema,
                # which allows only totalDigits - fractionDigits digits before the point.
                cap = 10**td - 1
                if fd is not None:
                    cap = min(cap, 10 ** (td - fd + scale) - 1)
                lo = -cap if lo is None else max(lo, -cap)
                hi = cap if hi is None else min(hi, cap)
            if lo is None or hi is None or lo <= hi:
                n = _pick_int(rng, lo, hi, (10**scale, 1000 * 10**scale - 1))
                return Decimal(n).scaleb(-scale), True
        fallback = next((d for d in map(_dec, (f.min_inclusive or "", f.max_inclusive or "")) if d is not None), None)
        return (fallback if fallback is not None else Decimal(0)), False


def _decimal_spec(f: Facets) -> _Spec:
    def parse(s: str) -> Decimal | None:
        if not re.fullmatch(r"-?\d+(\.\d+)?", s):
            return None
        d = Decimal(s)
        if format(d, "f") != s or not _decimal_in_facets(d, f):
            return None
        return d

    return _Spec(
        natural=lambda rng, ids: _decimal_draw(f, rng),
        parse=parse,
        variants=_no_variants,
        lengths=(0, None),
    )


def _float_in_facets(v: float, f: Facets) -> bool:
    if not math.isfinite(v):
        return False
    for text, ok in (
        (f.min_inclusive, lambda b: v >= b),
        (f.min_exclusive, lambda b: v > b),
        (f.max_inclusive, lambda b: v <= b),
        (f.max_exclusive, lambda b: v < b),
    ):
        if text is None:
            continue
        try:
            bound = float(text.strip())
        except ValueError:
            continue
        if not math.isnan(bound) and not ok(bound):
            return False
    return True


def _float_spec(f: Facets) -> _Spec:
    def natural(rng: random.Random, ids: set[str]) -> tuple[float, bool]:
        d, ok = _decimal_draw(f, rng)
        v = float(d)
        if not _float_in_facets(v, f):
            # Rounding to binary landed on an exclusive bound: step off it.
            for candidate in (math.nextafter(v, math.inf), math.nextafter(v, -math.inf)):
                if _float_in_facets(candidate, f):
                    return candidate, ok
            return v, False
        return v, ok

    def parse(s: str) -> float | None:
        try:
            v = float(s)
        except ValueError:
            return None
        return v if repr(v) == s and _float_in_facets(v, f) else None

    return _Spec(natural=natural, parse=parse, variants=_no_variants, lengths=(0, None))


# dates, times and Gregorian fragments -----------------------------------------------------


_TZ = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _strip_tz(s: str) -> str:
    return _TZ.sub("", s.strip())


_DATETIME_LEXICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def _parse_datetime(s: str) -> float | None:
    s = s.strip()
    if not _DATETIME_LEXICAL.fullmatch(s):
        return None  # fromisoformat alone also takes ISO forms that XSD does not
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # no timezone: compare as if UTC
    return (dt - _EPOCH).total_seconds()


def _format_datetime(n: int) -> str:
    dt = _EPOCH + timedelta(seconds=n)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"


def _parse_date(s: str) -> int | None:
    core = _strip_tz(s)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", core):
        return None
    try:
        return date.fromisoformat(core).toordinal()
    except ValueError:
        return None


def _parse_time(s: str) -> float | None:
    m = re.fullmatch(r"(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)", _strip_tz(s))
    if not m or int(m[1]) > 23 or int(m[2]) > 59 or float(m[3]) >= 60:
        return None
    return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])


def _format_time(n: int) -> str:
    return f"{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}"


def _parse_gyear(s: str) -> int | None:
    core = _strip_tz(s)
    return int(core) if re.fullmatch(r"\d{4}", core) and int(core) > 0 else None


def _parse_gyearmonth(s: str) -> int | None:
    m = re.fullmatch(r"(\d{4})-(\d{2})", _strip_tz(s))
    if not m or int(m[1]) == 0 or not 1 <= int(m[2]) <= 12:
        return None
    return int(m[1]) * 12 + int(m[2]) - 1


def _parse_gmonthday(s: str) -> int | None:
    m = re.fullmatch(r"--(\d{2})-(\d{2})", _strip_tz(s))
    if not m:
        return None
    try:
        return date(2000, int(m[1]), int(m[2])).toordinal()  # a leap year: --02-29 is legal
    except ValueError:
        return None


def _format_gmonthday(n: int) -> str:
    d = date.fromordinal(n)
    return f"--{d.month:02d}-{d.day:02d}"


def _parse_gday(s: str) -> int | None:
    m = re.fullmatch(r"---(\d{2})", _strip_tz(s))
    return int(m[1]) if m and 1 <= int(m[1]) <= 31 else None


def _parse_gmonth(s: str) -> int | None:
    m = re.fullmatch(r"--(\d{2})(?:--)?", _strip_tz(s))
    return int(m[1]) if m and 1 <= int(m[1]) <= 12 else None


@dataclass(frozen=True)
class _Ordered:
    """An ordered string-form type, mapped onto integers so range facets are arithmetic."""

    parse: Callable[[str], float | None]
    format: Callable[[int], str]
    bounds: tuple[int, int]
    window: tuple[int, int]  # where natural examples come from
    suffixes: tuple[str, ...]  # timezone spellings; the first is the default


_DT_MIN = int((datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
_DT_MAX = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds())
_DATETIME = _Ordered(
    _parse_datetime,
    _format_datetime,
    (_DT_MIN, _DT_MAX),
    (
        int((datetime(2024, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()),
        int((datetime(2026, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) - 1,
    ),
    ("Z", "", "+00:00"),
)
_ORDERED: dict[str, _Ordered] = {
    "dateTime": _DATETIME,
    "dateTimeStamp": _Ordered(_DATETIME.parse, _DATETIME.format, _DATETIME.bounds, _DATETIME.window, ("Z", "+00:00")),
    "date": _Ordered(
        _parse_date,
        lambda n: date.fromordinal(n).isoformat(),
        (1, date.max.toordinal()),
        (date(2024, 1, 1).toordinal(), date(2025, 12, 31).toordinal()),
        ("", "Z"),
    ),
    "time": _Ordered(_parse_time, _format_time, (0, 86399), (8 * 3600, 18 * 3600), ("Z", "", "+00:00")),
    "gYear": _Ordered(_parse_gyear, lambda n: f"{n:04d}", (1, 9999), (2020, 2030), ("", "Z")),
    "gYearMonth": _Ordered(
        _parse_gyearmonth,
        lambda n: f"{n // 12:04d}-{n % 12 + 1:02d}",
        (12, 9999 * 12 + 11),
        (2024 * 12, 2025 * 12 + 11),
        ("", "Z"),
    ),
    "gMonthDay": _Ordered(
        _parse_gmonthday,
        _format_gmonthday,
        (date(2000, 1, 1).toordinal(), date(2000, 12, 31).toordinal()),
        (date(2000, 1, 1).toordinal(), date(2000, 12, 31).toordinal()),
        ("", "Z"),
    ),
    "gDay": _Ordered(_parse_gday, lambda n: f"---{n:02d}", (1, 31), (1, 28), ("", "Z")),
    "gMonth": _Ordered(_parse_gmonth, lambda n: f"--{n:02d}", (1, 12), (1, 12), ("", "Z")),
}


def _ordered_spec(b: str, f: Facets) -> _Spec:
    o = _ORDERED[b]
    lo, hi = _int_bounds(f, o.parse, *o.bounds)
    assert lo is not None and hi is not None
    feasible = lo <= hi

    def natural(rng: random.Random, ids: set[str]) -> tuple[str, bool]:
        return o.format(_pick_int(rng, lo, hi, o.window)) + o.suffixes[0], feasible

    def variants(value: str) -> list[str]:
        core = _strip_tz(value) if o.suffixes[0] else value
        return [core + sfx for sfx in o.suffixes]

    def parse(s: str) -> str | None:
        n = o.parse(s)
        if n is None or not lo <= n <= hi or not _lexically_valid(b, s):
            return None
        return s

    return _Spec(natural=natural, parse=parse, variants=variants, lengths=(0, None))


# strings, names, binaries ---------------------------------------------------------------


_NAME_LIKE = {"NCName", "Name", "ID", "IDREF", "ENTITY", "NMTOKEN", "QName", "NOTATION"}
_NAME_LISTS = {"NMTOKENS", "IDREFS", "ENTITIES"}  # built-in list types, kept as one string
_DURATIONS = {"duration", "dayTimeDuration", "yearMonthDuration"}
_COLLAPSED_STRINGS = _NAME_LIKE | _NAME_LISTS | {"token", "language", "anyURI"}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _lexically_valid(b: str, s: str) -> bool:
    """Whether ``s`` is in the lexical space of built-in ``b`` as soapbridge writes it (the value
    already whitespace-processed, so that it round-trips)."""
    if _XML_ILLEGAL.search(s):
        return False
    if b in _NAME_LISTS:
        return bool(s) and all(in_lexical_space(LIST_BUILTINS[b], p) for p in s.split(" "))
    if b == "anyURI":
        return s == " ".join(s.split())
    return in_lexical_space(b, s)


def _b64_octets(s: str) -> int | None:
    try:
        return len(base64.b64decode("".join(s.split()), validate=True))
    except ValueError:
        return None


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _target(natural_len: int, lo: int, hi: int | None) -> int:
    target = max(natural_len, lo)
    return min(target, hi) if hi is not None else target


def _fit_text(text: str, lo: int, hi: int | None, rng: random.Random) -> str:
    """Words, lengthened or cut to fit; never leaves edge or double spaces."""
    target = _target(len(text), lo, hi)
    while len(text) < target:
        text += " " + rng.choice(_WORDS)
    text = text[:target]
    if text.endswith(" "):
        text = text[:-1] + "x"
    return text


def _fit_name(text: str, lo: int, hi: int | None, rng: random.Random) -> str:
    """A name (letter first, then letters and digits) fitted to the length bounds."""
    target = _target(len(text), lo, hi)
    while len(text) < target:
        text += rng.choice(_ALNUM)
    return text[:target]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)}{rng.randint(1, 99)}"


def _string_spec(b: str, f: Facets) -> _Spec:
    lo, hi = _len_bounds(f)
    binary = b in ("hexBinary", "base64Binary")

    def length_ok(s: str) -> bool:
        if b == "hexBinary":
            return _len_ok(len(s) // 2, lo, hi)
        if b == "base64Binary":
            n = _b64_octets(s)
            return n is not None and _len_ok(n, lo, hi)
        if b in _NAME_LISTS:
            return _len_ok(len(s.split()), lo, hi)
        return _len_ok(len(s), lo, hi)

    def parse(s: str) -> str | None:
        return s if _lexically_valid(b, s) and length_ok(s) else None

    def natural(rng: random.Random, ids: set[str]) -> tuple[str, bool]:
        value = _natural_string(b, lo, hi, rng, ids)
        return value, parse(value) is not None

    if b == "hexBinary":
        lengths: tuple[int, int | None] = (2 * lo, 2 * hi if hi is not None else None)
    elif binary or b in _NAME_LISTS or b in _DURATIONS:
        lengths = (0, None)
    else:
        lengths = (lo, hi)
    return _Spec(natural=natural, parse=parse, variants=_no_variants, lengths=lengths)


def _natural_string(b: str, lo: int, hi: int | None, rng: random.Random, ids: set[str]) -> str:
    if b in ("hexBinary", "base64Binary"):
        data = rng.randbytes(_pick_int(rng, lo, hi, (4, 8)))  # length facets count octets
        return data.hex().upper() if b == "hexBinary" else base64.b64encode(data).decode("ascii")
    if b == "duration" or b == "dayTimeDuration":
        return f"P{rng.randint(1, 30)}DT{rng.randint(1, 23)}H"
    if b == "yearMonthDuration":
        return f"P{rng.randint(1, 5)}Y{rng.randint(1, 11)}M"
    if b == "language":
        if _len_ok(2, lo, hi):
            return "en"
        return regexgen.generate_matching([[r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*"]], rng, min_length=lo, max_length=hi)
    if b in _NAME_LISTS:
        return " ".join(_name(rng) for _ in range(_pick_int(rng, lo, hi, (1, 2))))  # lengths count items
    if b in _NAME_LIKE:
        value = _fit_name(_name(rng), lo, hi, rng)
        if b == "ID":
            # IDs must be unique within a document.
            for _ in range(20):
                if value not in ids:
                    break
                value = _fit_name(_name(rng), lo, hi, rng)
            ids.add(value)
        return value
    if b == "anyURI":
        base = "https://example.com/"
        if hi is not None and hi <= len(base):
            return _fit_name(rng.choice(_WORDS), lo, hi, rng)  # a relative reference is a URI too
        return base + _fit_name(rng.choice(_WORDS), max(lo - len(base), 1), None if hi is None else hi - len(base), rng)
    return _fit_text(_words(rng, 2), lo, hi, rng)


# --- complex types ---------------------------------------------------------------------


_ANY_NAMESPACE = "urn:soapbridge:example"  # for wildcards that exclude no-namespace content


def _any_item(p: AnyParticle) -> dict[str, Any]:
    """One element of free content that the wildcard's namespace constraint admits."""
    tokens = p.namespace.split()
    uris = [t for t in tokens if not t.startswith("##")]
    if "##any" in tokens or "##local" in tokens or not tokens:
        return {"item": "text"}
    if uris:
        return {"item": {"@xmlns": uris[0], "#text": "text"}}
    return {"item": {"@xmlns": _ANY_NAMESPACE, "#text": "text"}}  # ##other (##targetNamespace: best effort)


def _has_required(p: Particle) -> bool:
    """Whether a particle must produce some key (so a choice branch is not emptiable)."""
    if p.min_occurs == 0 or p.max_occurs == 0:
        return False
    if isinstance(p, Group) and not p.is_array:
        if p.kind == "choice":
            return bool(p.particles) and all(_has_required(q) for q in p.particles)
        return any(_has_required(q) for q in p.particles)
    return True


class _Builder:
    """One example: the rng, the depth limit, and the IDs used so far."""

    def __init__(self, rng: random.Random, max_depth: int) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.ids: set[str] = set()
        self._need: dict[tuple[int, bool], float] = {}

    # depth: nesting level of the value being built; its children sit at depth + 1.

    def element(self, el: Element, depth: int) -> Any:
        if not el.is_array:
            return self.occurrence(el, depth)
        lo = el.min_occurs
        if depth > self.max_depth:
            count = lo
        else:
            hi = lo + 2 if el.max_occurs is None else min(el.max_occurs, lo + 2)
            count = self.rng.randint(min(max(lo, 1), hi), max(hi, 1))
        return [self.occurrence(el, depth) for _ in range(count)]

    def occurrence(self, el: Element, depth: int) -> Any:
        if not el.substitutes:
            return self.own(el, depth)
        # A substitution group: the head itself (unless abstract) or a member named by "$element".
        choices = ([] if el.abstract else [el]) + [m for m in el.substitutes if not m.abstract]
        if not choices:
            return self.own(el, depth)
        if depth > self.max_depth:
            pick = min(choices, key=lambda m: 0 if isinstance(m.type, SimpleType) else self.type_need(m.type, frozenset()))
        else:
            pick = choices[self.rng.randrange(len(choices))]
        value = self.own(pick, depth)
        if pick is el:
            return value
        if isinstance(value, dict) and isinstance(pick.type, ComplexType):
            return {"$element": pick.qname.name, **value}
        return {"$element": pick.qname.name, "$value": value}

    def own(self, el: Element, depth: int) -> Any:
        """One occurrence of exactly this element."""
        t = el.type
        if isinstance(t, SimpleType):
            if el.fixed is not None:
                return _convert(t, el.fixed)
            return self.simple(t)
        if el.nillable and depth > self.max_depth and self.type_need(t, frozenset(), nil_ends=False) > 0:
            return None  # past the limit, nil stops a type that would nest further
        return self.complex(t, depth)

    def simple(self, t: SimpleType) -> Any:
        return _simple(t, self.rng, self.ids)[0]

    def value(self, t: XsdType, depth: int) -> Any:
        return self.simple(t) if isinstance(t, SimpleType) else self.complex(t, depth)

    def complex(self, t: ComplexType, depth: int) -> Any:
        if depth > self.max_depth + _HARD_STOP_EXTRA:
            return {}
        if t.soapenc_array_item is not None:
            count = 0 if depth > self.max_depth else self.rng.randint(1, 2)
            return [self.value(t.soapenc_array_item, depth + 1) for _ in range(count)]
        if t.abstract:
            concrete = self.pick_concrete(t, depth)
            if concrete is None:
                return {}
            out: dict[str, Any] = {"$type": concrete.qname.name} if concrete.qname is not None else {}
            out.update(self.object(concrete, depth))
            return out
        return self.object(t, depth)

    def pick_concrete(self, t: ComplexType, depth: int) -> ComplexType | None:
        """The first concrete subtype; past the depth limit, one that can stop nesting."""
        concretes = [d for d in all_derived(t) if not d.abstract]
        if not concretes:
            return None
        if depth < self.max_depth:
            return concretes[0]
        return min(concretes, key=lambda d: self.type_need(d, frozenset()))

    def object(self, t: ComplexType, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        vt = t.value_type()
        if vt is not None:
            out["$value"] = self.simple(vt)
        else:
            for g in t.content_chain():
                self.group(g, depth + 1, out, force=False)
        ekeys = element_keys(t)
        for a in t.all_attributes():
            if a.prohibited:
                continue
            key = attribute_key(a, ekeys)
            if key in out:
                continue
            if a.fixed is not None:
                out[key] = _convert(a.type, a.fixed)
            elif a.default is not None:
                out[key] = _convert(a.type, a.default)
            else:
                out[key] = self.simple(a.type)
        return out

    def group(self, g: Group, depth: int, out: dict[str, Any], *, force: bool) -> None:
        """Fill ``out`` with one occurrence of ``g`` (elements at ``depth``); ``force``
        includes optional content, for a choice branch that must show up."""
        if g.max_occurs == 0:
            return
        limit = depth > self.max_depth
        if g.min_occurs == 0 and limit and not force:
            return
        if g.is_array:
            # Repeating groups keep one object per occurrence under $sequence/$choice/$all.
            key = f"${g.kind}"
            if key in out:
                return
            lo = g.min_occurs
            if limit:
                count = max(lo, 1 if force else 0)
            else:
                hi = lo + 2 if g.max_occurs is None else min(g.max_occurs, lo + 2)
                count = self.rng.randint(min(max(lo, 1), hi), max(hi, 1))
            items = []
            for _ in range(count):
                item: dict[str, Any] = {}
                self.group(Group(g.kind, g.particles), depth, item, force=force)
                items.append(item)
            out[key] = items
            return
        if g.kind == "choice":
            if not g.particles:
                return
            if limit:
                # Past the limit take the branch that nests least, so recursion ends.
                needs = [self.particle_need(p, frozenset()) for p in g.particles]
                branch = g.particles[needs.index(min(needs))]
            else:
                branch = g.particles[self.rng.randrange(len(g.particles))]
            # A branch with no required content must still show up to count as chosen.
            self.particle(branch, depth, out, force=not _has_required(branch))
            return
        for p in g.particles:
            self.particle(p, depth, out, force=force)

    def particle(self, p: Particle, depth: int, out: dict[str, Any], *, force: bool) -> None:
        if isinstance(p, Group):
            self.group(p, depth, out, force=force)
            return
        if p.max_occurs == 0:
            return
        if isinstance(p, AnyParticle):
            if p.min_occurs >= 1 or force:
                out.setdefault("$any", [_any_item(p) for _ in range(max(p.min_occurs, 1))])
            return
        if p.min_occurs == 0 and depth > self.max_depth and not force:
            return
        key = p.qname.name
        if key not in out:  # a repeated name: the codec only writes the first
            out[key] = self.element(p, depth)

    # --- how deep the smallest legal value must nest (inf: only through recursion) ---
    # nil_ends: whether a nillable element may end the nesting (it does past the limit).

    def particle_need(self, p: Particle, seen: frozenset[int], nil_ends: bool = True) -> float:
        if p.min_occurs == 0 or p.max_occurs == 0 or isinstance(p, AnyParticle):
            return 0
        if isinstance(p, Group):
            needs = [self.particle_need(q, seen, nil_ends) for q in p.particles]
            if not needs:
                return 0
            return min(needs) if p.kind == "choice" else max(needs)
        if isinstance(p.type, SimpleType) or (p.nillable and nil_ends):
            return 0
        return 1 + self.type_need(p.type, seen, nil_ends)

    def type_need(self, t: ComplexType, seen: frozenset[int], nil_ends: bool = True) -> float:
        key = (id(t), nil_ends)
        if key in self._need:
            return self._need[key]
        if id(t) in seen:
            return math.inf
        if t.abstract:
            concretes = [d for d in all_derived(t) if not d.abstract]
            if not concretes:
                return 0
            # The shallowest subtype bounds how deep this abstract type must nest.
            need = min(self.type_need(d, seen | {id(t)}, nil_ends) for d in concretes)
            self._need[key] = need
            return need
        if t.soapenc_array_item is not None or t.value_type() is not None:
            return 0
        inner = seen | {id(t)}
        need = max((self.particle_need(g, inner, nil_ends) for g in t.content_chain()), default=0)
        if need != math.inf:
            self._need[key] = need  # finite answers hold whatever else is in progress
        return need


EXAMPLE_DEPTH = 4  # deep enough to show the shape; deeper examples grow exponentially on big schemas


def message_example(op: Operation, msg: Message, seed: int = 0) -> dict[str, Any]:
    """An example of a whole message in the REST form (wrapper unwrapped, SOAP headers under
    ``"$headers"``): the same for the same seed, operation and message."""
    rng = random.Random(zlib.crc32(f"{seed}:{op.qualified_name}:{msg.name}".encode()))
    out: dict[str, Any] = {}
    wrapped = unwrapped_part(op, msg)
    if wrapped is not None:
        value = example_for_element(wrapped.element, rng, max_depth=EXAMPLE_DEPTH)
        out = dict(value) if isinstance(value, dict) else {}
    else:
        for part in msg.body_parts:
            out[part.name] = example_for_element(part.element, rng, max_depth=EXAMPLE_DEPTH)
    if msg.header_parts:
        out[HEADERS_KEY] = {p.name: example_for_element(p.element, rng, max_depth=EXAMPLE_DEPTH) for p in msg.header_parts}
    return out
