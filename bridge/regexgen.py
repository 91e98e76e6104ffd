"""Deterministic generation of strings matching XSD regular expressions.

An XSD pattern is translated to a Python regex by elementpath (which knows the XSD
dialect: implicit anchoring, ``\\i``/``\\c``, ``\\p{..}``, class subtraction), parsed with
the stdlib regex parser, and the parse tree is walked to build a string. The walk is
steered towards a target length, so length facets can usually be met in one draw; callers
that need certainty use :func:`generate_matching`, which verifies with ``re.fullmatch``
and retries with fresh draws from the same ``random.Random``.
"""

from __future__ import annotations

import functools
import math
import random
import re
import re._constants as sre_c
import re._parser as sre_parse
import string
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from elementpath.regex import RegexError, translate_pattern

__all__ = ["compile_xsd", "generate", "generate_matching", "is_usable", "matches_all", "translate", "xsd_fullmatch"]

Width = tuple[int, float]  # (min, max) length of what a node can produce; max may be inf

# Readable characters first: examples are read by people, and ASCII survives every transport.
_TIER1 = string.ascii_letters + string.digits
_TIER2 = " -_.:+/()*,;=!?@#%'$~[]{}|^`\"\\<>&"
_CATEGORY_RE = {
    sre_c.CATEGORY_DIGIT: re.compile(r"\d"),
    sre_c.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    sre_c.CATEGORY_SPACE: re.compile(r"\s"),
    sre_c.CATEGORY_NOT_SPACE: re.compile(r"\S"),
    sre_c.CATEGORY_WORD: re.compile(r"\w"),
    sre_c.CATEGORY_NOT_WORD: re.compile(r"\W"),
}
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT)
_DEFAULT_SPREAD = 8  # how far past its minimum an unbounded pattern may grow by default


@functools.lru_cache(maxsize=2048)
def translate(pattern: str) -> str:
    """An XSD pattern as an anchored Python regex (raises ``RegexError`` if invalid)."""
    # XSD patterns have no back-references, lazy quantifiers or anchors.
    return translate_pattern(pattern, back_references=False, lazy_quantifiers=False, anchors=False)


@functools.lru_cache(maxsize=2048)
def compile_xsd(pattern: str) -> re.Pattern[str]:
    """An XSD pattern compiled as an anchored Python regex (cached); raises as ``translate`` does."""
    return re.compile(translate(pattern))


def is_usable(pattern: str) -> bool:
    """Whether the pattern translates and compiles; unusable ones are ignored by callers."""
    try:
        compile_xsd(pattern)
    except (RegexError, re.error, IndexError, ValueError):
        return False
    return True


def xsd_fullmatch(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the XSD pattern as a whole."""
    return compile_xsd(pattern).fullmatch(value) is not None


def matches_all(patterns: Sequence[Sequence[str]], value: str) -> bool:
    """XSD semantics: alternatives within one derivation step are ORed, steps are ANDed."""
    for step in patterns:
        usable = [p for p in step if is_usable(p)]
        if usable and not any(xsd_fullmatch(p, value) for p in usable):
            return False
    return True


class _Generator:
    """The parse tree of one translated pattern plus caches; holds no per-call state."""

    def __init__(self, regex: str) -> None:
        self.tree = sre_parse.parse(regex)
        self._widths: dict[int, Width] = {}
        self._pools: dict[int, list[str]] = {}
        self._layouts: dict[int, tuple[list[Any], list[Width], list[int], list[float]]] = {}

    # --- widths ------------------------------------------------------------------

    def seq_width(self, items: Any) -> Width:
        key = id(items)
        if key not in self._widths:
            lo, hi = 0, 0.0
            for op, av in items:
                a, b = self.item_width(op, av)
                lo, hi = lo + a, hi + b
            self._widths[key] = (lo, hi)
        return self._widths[key]

    def item_width(self, op: Any, av: Any) -> Width:
        if op in (sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.ANY, sre_c.IN):
            return (1, 1.0)
        if op == sre_c.BRANCH:
            widths = [self.seq_width(b) for b in av[1]]
            return (min(w[0] for w in widths), max(w[1] for w in widths))
        if op == sre_c.SUBPATTERN:
            return self.seq_width(av[3])
        if op == sre_c.ATOMIC_GROUP:
            return self.seq_width(av)
        if op in _REPEATS:
            m, n, sub = av
            a, b = self.seq_width(sub)
            top = math.inf if n == sre_c.MAXREPEAT else float(n)
            return (m * a, 0.0 if b == 0 else top * b)
        if op == sre_c.GROUPREF:
            return (0, math.inf)
        if op == sre_c.GROUPREF_EXISTS:
            widths = [self.seq_width(av[1])] + ([self.seq_width(av[2])] if av[2] else [(0, 0.0)])
            return (min(w[0] for w in widths), max(w[1] for w in widths))
        return (0, 0.0)  # anchors and lookarounds consume nothing

    # --- characters --------------------------------------------------------------

    def pool(self, items: Any) -> list[str]:
        """Characters a class accepts, readable ones first; cached per class node."""
        key = id(items)
        if key not in self._pools:
            self._pools[key] = _class_pool(items)
        return self._pools[key]

    # --- walking -----------------------------------------------------------------

    def gen_seq(self, items: Any, target: int, run: _Run) -> str:
        key = id(items)
        layout = self._layouts.get(key)
        if layout is None:
            widths = [self.item_width(op, av) for op, av in items]
            layout = self._layouts[key] = (list(items), widths, *_suffixes(widths))
        nodes, widths, suffix_lo, suffix_hi = layout

        def produce(i: int, share: int) -> str:
            op, av = nodes[i]
            return self.gen_item(op, av, share, run)

        return _allocate(widths, suffix_lo, suffix_hi, produce, target, run)

    def gen_item(self, op: Any, av: Any, target: int, run: _Run) -> str:
        rng = run.rng
        if op == sre_c.LITERAL:
            return chr(av)
        if op == sre_c.NOT_LITERAL:
            return rng.choice([c for c in _TIER1 if ord(c) != av])
        if op == sre_c.ANY:
            return rng.choice(_TIER1)
        if op == sre_c.IN:
            pool = self.pool(av)
            return rng.choice(pool) if pool else ""
        if op == sre_c.BRANCH:
            branches = av[1]
            fitting = [b for b in branches if _fits(self.seq_width(b), target)]
            return self.gen_seq(rng.choice(fitting or branches), target, run)
        if op == sre_c.SUBPATTERN:
            text = self.gen_seq(av[3], target, run)
            if av[0] is not None:
                run.groups[av[0]] = text
            return text
        if op == sre_c.ATOMIC_GROUP:
            return self.gen_seq(av, target, run)
        if op in _REPEATS:
            return self.gen_repeat(av, target, run)
        if op == sre_c.GROUPREF:
            return run.groups.get(av, "")
        if op == sre_c.GROUPREF_EXISTS:
            group, yes, no = av
            if group in run.groups:
                return self.gen_seq(yes, target, run)
            return self.gen_seq(no, target, run) if no else ""
        return ""

    def gen_repeat(self, av: Any, target: int, run: _Run) -> str:
        m, n, sub = av
        a, b = self.seq_width(sub)
        top = math.inf if n == sre_c.MAXREPEAT else n
        count = m
        if b > 0:
            # Counts c for which c copies can span exactly `target` characters.
            cmin = max(m, math.ceil(target / b) if b != math.inf else (1 if target > 0 else 0))
            cmax = min(top, target // a if a > 0 else max(m, target))
            if cmin <= cmax:
                count = run.rng.randint(cmin, int(cmax))
            elif target >= m * a:
                # Unreachable target: stay legal and as close as the bounds allow.
                count = int(min(top, max(m, cmin)))
        widths = [(a, b)] * count
        return _allocate(widths, *_suffixes(widths), lambda i, share: self.gen_seq(sub, share, run), target, run)


class _Run:
    """Per-call state: the rng and captured groups (for back-references)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.groups: dict[int, str] = {}


def _fits(width: Width, target: int) -> bool:
    return width[0] <= target <= width[1]


def _suffixes(widths: Sequence[Width]) -> tuple[list[int], list[float]]:
    """Total min and max width of parts i.. for every i (the last entry is 0)."""
    suffix_lo = [0] * (len(widths) + 1)
    suffix_hi = [0.0] * (len(widths) + 1)
    for i in range(len(widths) - 1, -1, -1):
        suffix_lo[i] = suffix_lo[i + 1] + widths[i][0]
        suffix_hi[i] = suffix_hi[i + 1] + widths[i][1]
    return suffix_lo, suffix_hi


def _allocate(
    widths: Sequence[Width],
    suffix_lo: Sequence[int],
    suffix_hi: Sequence[float],
    produce: Callable[[int, int], str],
    target: int,
    run: _Run,
) -> str:
    """Generate parts in order, giving each a share of ``target`` the rest can still absorb."""
    out: list[str] = []
    remaining = target
    for i, (a, b) in enumerate(widths):
        lo = max(a, remaining - suffix_hi[i + 1])
        hi = min(b, remaining - suffix_lo[i + 1])
        if lo == hi:
            share = int(lo)
        elif lo < hi:
            share = run.rng.randint(int(lo), int(hi))
        else:
            # No share fits exactly: give what the rest cannot absorb, within this part's width.
            share = int(min(b, max(a, remaining - suffix_lo[i + 1])))
        text = produce(i, share)
        out.append(text)
        remaining = max(0, remaining - len(text))
    return "".join(out)


def _good_char(ch: str) -> bool:
    """Characters an example may carry: no controls, surrogates, unassigned or separators."""
    cat = unicodedata.category(ch)
    return ch == " " or (not (cat.startswith("C") or cat.startswith("Z")) and ch not in "\ufffe\uffff")


def _class_pool(items: Any) -> list[str]:
    negate = bool(items) and items[0][0] == sre_c.NEGATE
    members = items[1:] if negate else items

    def hit(ch: str) -> bool:
        code = ord(ch)
        for op, av in members:
            if op == sre_c.LITERAL and code == av:
                return True
            if op == sre_c.RANGE and av[0] <= code <= av[1]:
                return True
            if op == sre_c.CATEGORY and av in _CATEGORY_RE and _CATEGORY_RE[av].match(ch):
                return True
        return False

    def accepts(ch: str) -> bool:
        return hit(ch) != negate

    for tier in (_TIER1, _TIER2):
        pool = [c for c in tier if accepts(c)]
        if pool:
            return pool
    # Only non-ASCII characters qualify (e.g. \p{IsGreek}): take the first few printable ones.
    found: list[str] = []
    if negate:
        candidates: Any = range(0xA1, 0x3000)
    else:
        spans = [(av, av) if op == sre_c.LITERAL else av for op, av in members if op in (sre_c.LITERAL, sre_c.RANGE)]
        candidates = (code for lo, hi in spans for code in range(lo, min(hi, lo + 64) + 1))
    for code in candidates:
        ch = chr(code)
        if 0xD800 <= code <= 0xDFFF or not _good_char(ch) or not accepts(ch):
            continue
        found.append(ch)
        if len(found) >= 32:
            break
    return found


@functools.lru_cache(maxsize=512)
def _generator(pattern: str) -> _Generator:
    return _Generator(translate(pattern))


def generate(pattern: str, rng: random.Random, *, min_length: int = 0, max_length: int | None = None) -> str:
    """One string built from the XSD ``pattern``, steered into the length bounds.

    The result matches the pattern by construction (the walk only emits what each node
    accepts); lengths are a best effort. Raises ``RegexError`` for an invalid pattern.
    """
    gen = _generator(pattern)
    lo, hi = gen.seq_width(gen.tree.data)
    tlo = max(lo, min_length)
    thi = min(hi, math.inf if max_length is None else max_length)
    if tlo == 0 and thi >= 1:
        tlo = 1  # prefer non-empty examples when empty is merely allowed
    if thi == math.inf:
        thi = tlo + _DEFAULT_SPREAD
    target = tlo if tlo > thi else rng.randint(int(tlo), int(thi))
    return gen.gen_seq(gen.tree.data, target, _Run(rng))


def generate_matching(
    patterns: Sequence[Sequence[str]],
    rng: random.Random,
    *,
    min_length: int = 0,
    max_length: int | None = None,
    accept: Callable[[str], bool] | None = None,
    attempts: int = 64,
) -> str:
    """A string matching every step of ``patterns`` (XSD facet semantics), within the
    length bounds and passing ``accept``; after ``attempts`` draws per step, the best
    candidate (most constraints met, patterns first).

    Patterns that cannot be translated are ignored. With none usable, the string is drawn
    from ``[A-Za-z0-9]*``.
    """
    steps = [[p for p in step if is_usable(p)] for step in patterns]
    steps = [s for s in steps if s] or [["[A-Za-z0-9]*"]]
    best = ""
    best_score = -1
    # Each extra step is a constraint the walk knows nothing about: give it more draws.
    for i in range(attempts * len(steps)):
        # Rotate the source step so a later step that is the tighter one gets its turn.
        source = rng.choice(steps[i % len(steps)])
        candidate = generate(source, rng, min_length=min_length, max_length=max_length)
        length_ok = len(candidate) >= min_length and (max_length is None or len(candidate) <= max_length)
        score = 4 * matches_all(steps, candidate) + 2 * length_ok + (accept(candidate) if accept is not None else True)
        if score == 7:
            return candidate
        if score > best_score:
            best, best_score = candidate, score
    return best
