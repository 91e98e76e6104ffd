"""What consumers' own tools make of the spec (issue 11): Spectral's spectral:oas and Redocly's
recommended ruleset report nothing, and fractionDigits does not trip validators that divide floats.

The linters and AJV come from tests/lint (package.json + lock, installed by .ci/install-peers with
npm ci); without them these tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import bridge
from bridge.errors import ValidationError
from bridge.jsonschema import XML_CHARS
from bridge.openapi import XML_STRING, XML_STRING_SCHEMA, _tidy
from tests.conftest import ROOT, SAMPLES, sample

LINT = ROOT / "tests" / "lint"
BIN = LINT / "node_modules" / ".bin"
TWO_DECIMALS = [float(f"{i / 100:.2f}") for i in range(100_000)]  # 0.00 .. 999.99


def _need(tool: str) -> Path:
    path = BIN / tool
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{path} is missing: .ci/install-peers installs it (npm ci in tests/lint)")
        pytest.skip(f"{tool} is not installed in tests/lint (run .ci/install-peers)")
    return path


def _specs() -> list[Path]:
    """The committed specs (generated with wsdl/samples.yaml, which sets license and contact; the
    drift test keeps them what the generator writes), one for each sample."""
    out = [ROOT / "openapi" / f"{wsdl.stem}.json" for wsdl in SAMPLES]
    assert all(p.exists() for p in out), "run `make openapi`"
    return out


def test_spectral_oas_reports_nothing_on_the_samples(tmp_path: Path) -> None:
    spectral = _need("spectral")
    specs = _specs()
    out = tmp_path / "spectral.json"
    subprocess.run(
        [str(spectral), "lint", "-r", str(LINT / ".spectral.yaml"), "-f", "json", "-o", str(out), *map(str, specs)],
        capture_output=True, text=True, timeout=300, cwd=LINT,
    )  # fmt: skip
    found = json.loads(out.read_text())
    assert found == [], [(Path(f["source"]).name, f["code"], f["message"], f["path"]) for f in found]


def test_redocly_recommended_reports_nothing_on_the_samples(tmp_path: Path) -> None:
    redocly = _need("redocly")
    specs = _specs()
    r = subprocess.run(
        [str(redocly), "lint", "--config", str(LINT / "redocly.yaml"), "--format", "json", *map(str, specs)],
        capture_output=True, text=True, timeout=300, cwd=LINT, env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )  # fmt: skip
    report, _ = json.JSONDecoder().raw_decode(r.stdout)  # a status line may follow the report
    problems = [(p["ruleId"], p["severity"], p["message"], p["location"][0]["source"]["ref"]) for p in report["problems"]]
    assert problems == []
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}


def _amount() -> dict[str, Any]:
    spec = bridge.load(sample("orders.wsdl")).openapi()
    return {"$ref": "#/components/schemas/Amount", "components": spec["components"]}


def test_two_decimal_amounts_all_pass_python_jsonschema() -> None:
    """Amount is xs:decimal with fractionDigits 2: python-jsonschema (which divides floats) accepts
    every two-decimal value; with multipleOf 0.01 it rejected 11,426 of these 100,000, 647.81 among them."""
    validator = jsonschema.Draft202012Validator(_amount())
    assert [v for v in TWO_DECIMALS if not validator.is_valid(v)] == []


def test_two_decimal_amounts_all_pass_ajv(tmp_path: Path) -> None:
    _need("spectral")  # tests/lint installed: ajv is there too
    schema = tmp_path / "amount.json"
    schema.write_text(json.dumps(_amount()))
    r = subprocess.run(["node", str(LINT / "multipleof.js"), str(schema)], capture_output=True, text=True, timeout=120, cwd=LINT, check=True)
    assert json.loads(r.stdout) == {"checked": 100_000, "rejected": 0, "first": []}


def test_the_bridge_still_checks_fraction_digits() -> None:
    b = bridge.load(sample("orders.wsdl"))
    op = next(o for o in b.model.operations if o.name == "CreateOrder")
    example = b.openapi()["paths"][op.path]["post"]["requestBody"]["content"]["application/json"]["example"]
    example["order"]["total"]["$value"] = 647.81
    b.validate_input(op, example)
    example["order"]["total"]["$value"] = 647.815
    with pytest.raises(ValidationError) as err:
        b.validate_input(op, example)
    assert any(v.pointer == "/order/total/$value" and "multiple of 0.01" in v.detail for v in err.value.violations)


# What the lint-driven rewrites of bridge.openapi._tidy do to a schema must not change what validates:
# each case is checked with python-jsonschema before and after, on instances that tell the forms apart.
REF = {"T": {"type": "object", "properties": {"a": {"type": "integer"}}}}
TIDY_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    # one-element allOf beside properties, closed: the wrapper of a message with $headers
    (
        {"type": "object", "allOf": [{"$ref": "#/$defs/T"}], "properties": {"h": {"type": "string"}}, "unevaluatedProperties": False},
        [{"a": 1}, {"a": 1, "h": "x"}, {"a": 1, "z": 0}, {"h": 1}, {"a": "1"}, [], {}],
    ),
    # a $ref with assertions beside it: a derived type's use site
    (
        {"$ref": "#/$defs/T", "properties": {"$type": {"const": "T"}}, "unevaluatedProperties": False},
        [{"a": 1}, {"a": 1, "$type": "T"}, {"$type": "U"}, {"a": 1, "b": 2}],
    ),
    # a choice of exactly one of two keys: "not present" as not/required and not/anyOf/required
    (
        {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}, "z": {"type": "integer"}},
            "oneOf": [{"required": ["x"], "not": {"anyOf": [{"required": ["y"]}, {"required": ["z"]}]}}, {"required": ["y"], "not": {"required": ["x"]}}],
        },
        [{"x": 1}, {"y": 1}, {"x": 1, "y": 1}, {"x": 1, "z": 1}, {"y": 1, "z": 1}, {}, {"z": 1}],
    ),
    # a one-branch oneOf that only adds to required
    ({"type": "object", "required": ["a"], "oneOf": [{"required": ["b"]}]}, [{"a": 1, "b": 2}, {"a": 1}, {"b": 1}, {}]),
    # "not both" must stay as it is
    ({"not": {"required": ["x", "y"]}}, [{"x": 1}, {"x": 1, "y": 1}, {}]),  # unchanged
    # the XML-character pattern: plain string, nullable string, string with a length
    ({"type": "string", "pattern": XML_CHARS}, ["ok", "bad\x01", 1, None]),
    ({"type": ["string", "null"], "pattern": XML_CHARS}, ["ok", "bad\x01", None, 1]),  # unchanged
    ({"type": "string", "pattern": XML_CHARS, "maxLength": 2}, ["ok", "long", "\x02"]),  # unchanged
]


@pytest.mark.parametrize(("schema", "instances"), TIDY_CASES)
def test_lint_rewrites_keep_what_validates(schema: dict[str, Any], instances: list[Any]) -> None:
    defs = {**REF, XML_STRING: XML_STRING_SCHEMA}
    before = jsonschema.Draft202012Validator({**copy.deepcopy(schema), "$defs": defs})
    tidied = copy.deepcopy(schema)
    _tidy(tidied)
    tidied = json.loads(json.dumps(tidied).replace("#/components/schemas/", "#/$defs/"))
    after = jsonschema.Draft202012Validator({**tidied, "$defs": defs})
    assert [after.is_valid(i) for i in instances] == [before.is_valid(i) for i in instances]
