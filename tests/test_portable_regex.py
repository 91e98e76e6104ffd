"""Every emitted pattern compiles in a real JS engine (node, ``new RegExp(p, 'u')`` as AJV does, and
without ``u`` as Spectral does) and in Python ``re``, and both match what the XSD pattern means
(xmlschema is the oracle) on characters of the Basic Multilingual Plane."""

from __future__ import annotations

import csv
import functools
import json
import re
import shutil
import subprocess
from html import escape
from typing import Any

import pytest
import xmlschema

import bridge
from bridge.jsonschema import xsd_pattern
from bridge.portable_regex import portable_pattern
from tests.conftest import ROOT, SHARED

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (the JS engine is the oracle)")
# One node process for a whole batch: compile each pattern with "u" and test it on every sample.
JS = """
const data = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(data.patterns.map(p => {
  let re;
  try { new RegExp(p); re = new RegExp(p, 'u'); } catch (e) { return {error: String(e.message)}; }
  return {matches: data.samples.map(s => re.test(s))};
})));
"""


def run_js(patterns: list[str], samples: list[str] = []) -> list[dict[str, Any]]:  # noqa: B006 (read only)
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", JS], input=json.dumps({"patterns": patterns, "samples": samples}), capture_output=True, text=True, check=True, timeout=120
    )
    out: list[dict[str, Any]] = json.loads(done.stdout)
    return out


def spec_patterns(spec: Any) -> set[str]:
    found: set[str] = set()
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    found.add(value)
                if key == "patternProperties" and isinstance(value, dict):
                    found.update(value)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def assert_compile_everywhere(patterns: set[str]) -> None:
    ordered = sorted(patterns)
    for p in ordered:
        re.compile(p)
    failures = [(p, r["error"]) for p, r in zip(ordered, run_js(ordered), strict=True) if "error" in r]
    assert not failures


@needs_node
def test_committed_specs_compile_under_ecma_u_and_python() -> None:
    patterns: set[str] = set()
    for path in sorted((ROOT / "openapi").glob("*.json")):
        patterns |= spec_patterns(json.loads(path.read_text(encoding="utf-8")))
    assert len(patterns) >= 3
    assert_compile_everywhere(patterns)


# XSD patterns: the two real ones from issue 11 (a region code and a US ZIP list), then the
# constructs whose meaning differs between the engines or that "u" rejects.
XSD_PATTERNS = [
    r"[A-Z]{2}\-[1-9][0-9]?",
    r"\d{5}(\-\d{4})?( \d{5}(\-\d{4})?)*",
    r"\d+",
    r"\w+",
    r"\s?x",
    r"\S+",
    r"\D\W",
    r"[\w\s]+",
    r"a.c",
    r"[^a]+",
    r"[\-a-c]+",
    r"[a-z-[aeiou]]+",
    r"\i\c*",
    r"\p{Lu}\P{Lu}",
    r"\{\}\[\]\(\)\|\^\$\.\?\*\+\\",
    r"x{2,3}",
    r"#&~:;@='!%<>,` \/",
]
# No sample ends in a newline: Python's "$" also matches before one (see bridge/portable_regex.py).
SAMPLES = [
    "", "AB-12", "AB-1", "AB-0", "ab-1", "AB-\n1", "12345", "12345-6789", "12345 67890-1234", "1234\n5",
    "\u0661\u0662\u0663\u0664\u0665", "\uff11\uff12", "abc", "ab_c", "a-b", "$", "x", " x", "\tx", "\u00a0x", "\u2003x",
    "abc def", "a\u00a0b", "\u00e9", "a\u2028c", "abc", "a\rc", "b", "bcd", "-", "e", "f", "_x1", ":a.b", "1a", "\u00c9a",
    "Aa", "AB", "{}[]()|^$.?*+\\", "xx", "xxx", "xxxx", "#&~:;@='!%<>,` /",
]
# Astral digits and letters: XSD's \d and \w take them, the spec's expanded classes do not (a JS
# engine without "u" cannot read an astral range in a class).
ASTRAL = ["\U0001d7ce", "a\U0001d7cec", "\U000104a0", "\U00020000"]


@functools.cache
def xsd_type(pattern: str) -> xmlschema.XMLSchema:
    # elementpath (under xmlschema) gives class escapes the spec's meaning inside brackets, but
    # leaves them to Python's re outside (where \w takes "_", which XSD's \w excludes as punctuation).
    pattern = re.sub(r"(?<!\\)(\\[dDsSwW])", r"[\1]", pattern) if "[" not in pattern else pattern
    return xmlschema.XMLSchema(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">'
        f'<xs:element name="v"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="{escape(pattern)}"/>'
        "</xs:restriction></xs:simpleType></xs:element></xs:schema>"
    )


def xsd_accepts(pattern: str, value: str) -> bool:
    text = escape(value).replace("\r", "&#13;").replace("\t", "&#9;").replace("\n", "&#10;")
    return bool(xsd_type(pattern).is_valid(f"<v>{text}</v>"))


@needs_node
def test_translated_patterns_mean_the_xsd_pattern_in_js_and_python() -> None:
    emitted = [portable_pattern(xsd_pattern(p)) for p in XSD_PATTERNS]
    js = run_js(emitted, SAMPLES)
    for xsd, p, result in zip(XSD_PATTERNS, emitted, js, strict=True):
        assert "error" not in result, (xsd, result)
        for sample, js_match in zip(SAMPLES, result["matches"], strict=True):
            expected = xsd_accepts(xsd, sample)
            assert (re.search(p, sample) is not None) == expected, (xsd, sample)
            assert js_match == expected, (xsd, sample)


@needs_node
def test_astral_digits_and_letters_are_left_out_in_both_engines() -> None:
    emitted = [portable_pattern(xsd_pattern(p)) for p in (r"\d+", r"\w+", r"a\wc")]
    for p, result in zip(emitted, run_js(emitted, ASTRAL), strict=True):
        assert "error" not in result and not any(result["matches"]), (p, result)
        assert not any(re.search(p, sample) for sample in ASTRAL), p
    assert xsd_accepts(r"[\d]+", "\U0001d7ce")  # XSD takes it: the spec is stricter here, as documented


def test_real_patterns_from_the_issue_become_legal() -> None:
    # The two patterns AJV could not compile; "\-" outside a class is illegal with "u".
    assert portable_pattern(r"^([A-Z]{2}\-[1-9][0-9]?)$") == r"^([A-Z]{2}-[1-9][0-9]?)$"
    zip_code = portable_pattern(xsd_pattern(r"\d{5}(\-\d{4})?"))
    assert r"\-" not in zip_code and "\\d" not in zip_code


CORPUS = SHARED / "wsdl-corpus"


@pytest.mark.corpus
@needs_node
def test_corpus_patterns_compile_under_ecma_u_and_python() -> None:
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip(f"the corpus is not at {CORPUS}")
    rows = list(csv.DictReader((CORPUS / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
    # The WSDLs with pattern facets (the lexical patterns are in every spec, so also in these).
    cases = [r for r in rows if "pattern:" in r["xsd_features"] and r["case"] != "wsdltophp-portaplusapi"]
    assert len(cases) >= 4
    patterns: set[str] = set()
    for row in cases:
        patterns |= spec_patterns(bridge.load(CORPUS / row["entry"]).openapi())
    assert {r"^([A-Z]{2}-[1-9][0-9]?)$"} <= patterns
    assert_compile_everywhere(patterns)


def test_only_schema_patterns_are_rewritten() -> None:
    from bridge.portable_regex import portable_patterns

    literal = {"pattern": r"a\-b"}
    schema = {
        "properties": {"pattern": {"type": "string", "pattern": r"x\-y"}, "enum": {"pattern": r"\:"}},
        "patternProperties": {r"^k\-": {"pattern": r"v\-"}},
        "enum": [literal],
        "default": literal,
        "allOf": [{"pattern": r"\d"}],
    }
    portable_patterns(schema)
    assert schema["properties"]["pattern"]["pattern"] == "x-y"  # a property named "pattern" is a schema
    assert schema["properties"]["enum"]["pattern"] == ":"
    assert schema["patternProperties"] == {"^k-": {"pattern": "v-"}}
    assert schema["enum"] == [{"pattern": r"a\-b"}] and schema["default"] == {"pattern": r"a\-b"}  # data
    assert schema["allOf"][0]["pattern"].startswith("[0-9")
