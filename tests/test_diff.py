"""`soapbridge diff`: paired WSDL versions classified exactly, spec documents, the CLI's output and exit codes."""

from __future__ import annotations

import copy
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.cli import EXIT_CHECKS, main
from bridge.diff import BREAKING, NON_BREAKING, Change, diff_specs, load_spec
from tests.conftest import ROOT, SAMPLES, SAMPLES_CONFIG

DIFF = Path(__file__).parent / "diff"
B, NB = BREAKING, NON_BREAKING
GET, PUT, PING = "ShopService_GetItem", "ShopService_PutItem", "ShopService_Ping"
REQ = "request[application/json]"
RES = "response[200][application/json]"
FAULT = "response[422][application/problem+json]"
# 502 carries SOAP faults with a Server code (typed like 422) beside upstream errors: its fault alternative
FAULT502 = "response[502][application/problem+json](Problem)"

Row = tuple[str, str, str, str]  # kind, severity, operation, location


@cache
def shop(name: str) -> dict[str, Any]:
    return load_spec(DIFF / f"{name}.wsdl")


def rows(changes: list[Change]) -> set[Row]:
    return {(c.kind, c.severity, c.operation, c.location) for c in changes}


# Each fixture is base.wsdl with one change (its first comment says which); the request side of a shared
# type and its response side are classified in opposite directions.
PAIRS: dict[str, set[Row]] = {
    "optional-field": {
        ("property-added", NB, GET, f"{RES}/item/color"),
        ("property-added", NB, PUT, f"{REQ}/item/color"),
    },
    "required-request-field": {("required-property-added", B, GET, f"{REQ}/store")},
    "enum-value": {
        ("enum-values-added", B, GET, f"{RES}/item/status"),  # strict clients fail on an unknown value
        ("enum-values-added", NB, PUT, f"{REQ}/item/status"),
    },
    "request-enum-value": {("enum-values-added", NB, GET, f"{REQ}/detail")},
    "field-required": {
        ("property-became-required", NB, GET, f"{RES}/item/note"),
        ("property-became-required", B, PUT, f"{REQ}/item/note"),
    },
    "max-length": {
        ("max-length-decreased", NB, GET, f"{RES}/item/name"),
        ("max-length-decreased", B, PUT, f"{REQ}/item/name"),
    },
    "pattern": {
        ("pattern-changed", B, GET, f"{REQ}/sku"),
        ("pattern-changed", B, GET, f"{RES}/item/sku"),
        ("pattern-changed", B, PUT, f"{REQ}/item/sku"),
        ("pattern-changed", B, PUT, f"{RES}/sku"),
    },
    "narrow-type": {
        ("type-narrowed", NB, GET, f"{RES}/item/price"),
        ("type-narrowed", B, PUT, f"{REQ}/item/price"),
    },
    "remove-response-field": {("property-removed", B, GET, f"{RES}/updatedAt")},
    "widen-response-type": {
        ("format-widened", B, GET, f"{RES}/stock"),
        ("minimum-decreased", B, GET, f"{RES}/stock"),
        ("maximum-increased", B, GET, f"{RES}/stock"),
    },
    "nullable-response-field": {("nullable-added", B, GET, f"{RES}/updatedAt")},
    "remove-operation": {("operation-removed", B, PING, "")},
    "add-operation": {("operation-added", NB, "ShopService_DeleteItem", "")},
    "one-way": {
        ("response-status-removed", B, PING, "response[200]"),
        ("response-status-added", NB, PING, "response[204]"),
    },
    "add-fault": {("alternative-added", B, GET, FAULT), ("alternative-added", B, GET, FAULT502)},
    "remove-fault": {("alternatives-removed", B, GET, FAULT), ("alternatives-removed", B, GET, FAULT502)},
}

# The same pairs read backwards: undoing a change is classified by its own direction.
REVERSED: dict[str, set[Row]] = {
    "optional-field": {
        ("property-removed", B, GET, f"{RES}/item/color"),
        ("property-removed", B, PUT, f"{REQ}/item/color"),  # the object is closed: sending it is now a 400
    },
    "field-required": {
        ("property-became-optional", B, GET, f"{RES}/item/note"),
        ("property-became-optional", NB, PUT, f"{REQ}/item/note"),
    },
    "enum-value": {
        ("enum-values-removed", NB, GET, f"{RES}/item/status"),
        ("enum-values-removed", B, PUT, f"{REQ}/item/status"),
    },
    "narrow-type": {
        ("type-widened", B, GET, f"{RES}/item/price"),
        ("type-widened", NB, PUT, f"{REQ}/item/price"),
    },
    "remove-response-field": {("property-added", NB, GET, f"{RES}/updatedAt")},
    "nullable-response-field": {("nullable-removed", NB, GET, f"{RES}/updatedAt")},
    "add-operation": {("operation-removed", B, "ShopService_DeleteItem", "")},
    "add-fault": {("alternative-removed", NB, GET, FAULT), ("alternative-removed", NB, GET, FAULT502)},
    "remove-fault": {("alternatives-added", NB, GET, FAULT), ("alternatives-added", NB, GET, FAULT502)},
}


def test_every_fixture_is_paired() -> None:
    assert {p.stem for p in DIFF.glob("*.wsdl")} == {"base", *PAIRS}


@pytest.mark.parametrize("variant", sorted(PAIRS))
def test_wsdl_pair(variant: str) -> None:
    changes = diff_specs(shop("base"), shop(variant)).changes
    assert rows(changes) == PAIRS[variant]
    assert len(changes) == len(PAIRS[variant]), "each change is reported once"
    assert all(c.message for c in changes)


@pytest.mark.parametrize("variant", sorted(REVERSED))
def test_wsdl_pair_reversed(variant: str) -> None:
    assert rows(diff_specs(shop(variant), shop("base")).changes) == REVERSED[variant]


def test_messages_and_schema_name_the_change() -> None:
    (c,) = [c for c in diff_specs(shop("base"), shop("max-length")).changes if c.breaking]
    assert c.message == "maxLength of field item/name decreased from 40 to 20"
    assert (c.schema, c.method, c.path) == ("Item", "POST", "/ShopService/PutItem")
    f422, f502 = sorted(diff_specs(shop("base"), shop("add-fault")).changes, key=lambda c: c.location)
    assert f422.message == "the body has a new alternative fault=ItemLocked"
    assert f502.message == "field (Problem) has a new alternative fault=ItemLocked"  # the fault alternative of 502


@pytest.mark.parametrize("wsdl", SAMPLES, ids=lambda p: p.name)
def test_committed_spec_equals_its_wsdl(wsdl: Path) -> None:
    """A WSDL and the JSON spec generated from it (with the config `make openapi` uses) are the same
    API: nothing to report, across formats."""
    assert diff_specs(load_spec(ROOT / "openapi" / f"{wsdl.stem}.json"), load_spec(wsdl, config=SAMPLES_CONFIG)).changes == []


# ---------------------------------------------------------------------------------------------------
# Spec documents: constructs a WSDL cannot produce


def doc(schemas: dict[str, Any], *, params: list[Any] | None = None, media: tuple[str, ...] = ("application/json",), version: str = "3.1.0") -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": "walk",
        "requestBody": {"required": True, "content": {m: {"schema": {"$ref": "#/components/schemas/In"}} for m in media}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}},
    }
    if params is not None:
        op["parameters"] = params
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": {"/walk": {"post": op}}, "components": {"schemas": schemas}}


NODE = {
    "type": "object",
    "properties": {
        "value": {"type": "string", "maxLength": 10},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        "parent": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
    },
    "required": ["value"],
    "unevaluatedProperties": False,
}


def test_recursive_schema_terminates_and_reports_each_use_site_once() -> None:
    schemas = {"Node": NODE, "In": {"$ref": "#/components/schemas/Node"}, "Out": {"$ref": "#/components/schemas/Node"}}
    old = doc(schemas)
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Node"]["properties"]["value"]["maxLength"] = 5
    # Three use sites (the body through In, Node in /children/*, Node or null in /parent), each walked once:
    # the levels below them repeat one of them and are not walked again.
    assert rows(diff_specs(old, new).changes) == {
        (kind, severity, "walk", f"{section}{ptr}/value")
        for kind, severity, section in (("max-length-decreased", B, "request[application/json]"), ("max-length-decreased", NB, "response[200][application/json]"))
        for ptr in ("", "/children/*", "/parent")
    }
    new["components"]["schemas"]["Node"]["properties"]["parent"] = {"$ref": "#/components/schemas/Node"}
    assert ("nullable-removed", B, "walk", "request[application/json]/parent") in rows(diff_specs(old, new).changes)


def test_parameters_media_types_and_request_body() -> None:
    shape = {"In": {"type": "object"}, "Out": {"type": "object"}}
    old = doc(shape, params=[{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}], media=("application/json", "application/xml"))
    new = doc(shape, params=[{"name": "limit", "in": "query", "required": True, "schema": {"type": "integer", "maximum": 50}}, {"name": "trace", "in": "header", "schema": {"type": "string"}}, {"name": "tenant", "in": "query", "required": True, "schema": {"type": "string"}}])
    new["paths"]["/walk"]["post"]["responses"]["200"]["content"] = {"application/xml": {"schema": {"type": "object"}}}
    assert rows(diff_specs(old, new).changes) == {
        ("parameter-became-required", B, "walk", "parameter[query][limit]"),
        ("maximum-decreased", B, "walk", "parameter[query][limit]"),
        ("parameter-added", NB, "walk", "parameter[header][trace]"),
        ("required-parameter-added", B, "walk", "parameter[query][tenant]"),
        ("request-media-type-removed", B, "walk", "request[application/xml]"),
        ("response-media-type-removed", B, "walk", "response[200][application/json]"),
        ("response-media-type-added", NB, "walk", "response[200][application/xml]"),
    }
    optional = copy.deepcopy(old)
    optional["paths"]["/walk"]["post"]["requestBody"]["required"] = False
    assert rows(diff_specs(optional, old).changes) == {("request-body-became-required", B, "walk", "request")}
    assert rows(diff_specs(old, optional).changes) == {("request-body-became-optional", NB, "walk", "request")}


def test_operation_moved_keeps_comparing_its_contents() -> None:
    old = doc({"In": {"type": "object"}, "Out": {"type": "object"}})
    new = copy.deepcopy(old)
    new["paths"] = {"/v2/walk": new["paths"]["/walk"]}
    new["components"]["schemas"]["In"]["required"] = ["id"]
    assert rows(diff_specs(old, new).changes) == {
        ("operation-moved", B, "walk", ""),
        ("required-property-added", B, "walk", "request[application/json]/id"),
    }


@pytest.mark.parametrize(
    ("old_field", "new_field", "expected"),
    [
        ({"type": "number", "minimum": 0}, {"type": "number", "exclusiveMinimum": 0}, "minimum-increased"),
        ({"type": "number", "multipleOf": 0.01}, {"type": "number", "multipleOf": 0.1}, "multiple-of-changed"),
        # the annotation the bridge checks as multipleOf
        ({"type": "number", "x-xsd-fractionDigits": 2}, {"type": "number", "x-xsd-fractionDigits": 1}, "multiple-of-changed"),
        ({"type": "integer", "format": "int64"}, {"type": "integer", "format": "int32"}, "format-narrowed"),
        ({"type": "string"}, {"type": "string", "format": "date"}, "format-added"),
        ({"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "unique-items-added"),
        ({"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "string"}, "maxItems": 3}, "max-items-added"),
        ({"type": "string"}, {"type": "string", "pattern": "^[a-z]+$"}, "pattern-added"),
        ({"type": "string"}, {"type": "integer"}, "type-changed"),
        ({"type": "string", "enum": ["a", "b"]}, {"type": "string", "const": "a"}, "enum-values-removed"),
        ({"type": "object"}, {"type": "object", "additionalProperties": False}, "additional-properties-disallowed"),
        ({"type": "array", "prefixItems": [{"type": "string"}]}, {"type": "array", "prefixItems": [{"type": "string", "minLength": 2}]}, "min-length-added"),
    ],
)
def test_narrowing_breaks_requests_only(old_field: dict[str, Any], new_field: dict[str, Any], expected: str) -> None:
    old = doc({"In": {"type": "object", "properties": {"f": old_field}}, "Out": {"type": "object", "properties": {"f": old_field}}})
    new = doc({"In": {"type": "object", "properties": {"f": new_field}}, "Out": {"type": "object", "properties": {"f": new_field}}})
    found = {(c.kind, c.severity, c.location.split("]")[0] + "]") for c in diff_specs(old, new).changes}
    request_severity = B
    response_severity = B if expected == "type-changed" else NB  # neither contains the other: breaks both ways
    assert {k for k, _, _ in found} == {expected}
    assert (expected, request_severity, "request[application/json]") in found
    assert (expected, response_severity, "response[200]") in found


def test_fraction_digits_annotation_equals_the_multiple_of_it_replaced() -> None:
    old = doc({"In": {"type": "number", "multipleOf": 0.01}, "Out": {"type": "number", "multipleOf": 0.01}})
    new = doc({"In": {"type": "number", "x-xsd-fractionDigits": 2}, "Out": {"type": "number", "x-xsd-fractionDigits": 2}})
    assert diff_specs(old, new).changes == []


def test_removed_request_field_breaks_only_closed_objects() -> None:
    def pair(closed: bool) -> set[Row]:
        old_in: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
        new_in: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "string"}}}
        if closed:
            old_in["additionalProperties"] = new_in["additionalProperties"] = False
        return rows(diff_specs(doc({"In": old_in, "Out": {}}), doc({"In": new_in, "Out": {}})).changes)

    assert pair(closed=False) == {("property-removed", NB, "walk", "request[application/json]/b")}
    assert pair(closed=True) == {("property-removed", B, "walk", "request[application/json]/b")}


def test_openapi_30_nullable_and_boolean_exclusive_minimum() -> None:
    old = doc({"In": {"type": "object"}, "Out": {"type": "object", "properties": {"n": {"type": "number", "minimum": 0}}}}, version="3.0.3")
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Out"]["properties"]["n"].update(nullable=True, exclusiveMinimum=True)
    assert rows(diff_specs(old, new).changes) == {
        ("nullable-added", B, "walk", "response[200][application/json]/n"),
        ("minimum-increased", NB, "walk", "response[200][application/json]/n"),
    }


def test_alternative_removed_from_committed_orders_spec() -> None:
    """Order.customer is Customer or BusinessCustomer (by $type): dropping one is an alternative removed, nothing else."""
    old = load_spec(ROOT / "openapi" / "orders.json")
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Customer_or_derived"]["anyOf"].pop()
    assert rows(diff_specs(old, new).changes) == {
        ("alternative-removed", B, "OrderService_CreateOrder", "request[application/json]/order/customer"),
        ("alternative-removed", NB, "OrderService_GetOrder", "response[200][application/json]/order/customer"),
        ("alternative-removed", NB, "OrderService_ListOrders", "response[200][application/json]/order/*/customer"),
    }


# ---------------------------------------------------------------------------------------------------
# CLI


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_text_output_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    base, variant = str(DIFF / "base.wsdl"), str(DIFF / "field-required.wsdl")
    code, out, _ = run(capsys, base, variant)
    assert code == EXIT_CHECKS == 4
    assert out.splitlines() == [
        f"{base} -> {variant}",
        "breaking (1):",
        f"  {PUT}  {REQ}/item/note",
        "    property-became-required: field item/note is now required (schema Item)",
        "non-breaking (1):",
        f"  {GET}  {RES}/item/note",
        "    property-became-required: field item/note is now required (schema Item)",
        "1 breaking, 1 non-breaking change(s)",
    ]
    assert run(capsys, base, variant, "--fail-on", "none")[0] == 0
    optional = str(DIFF / "optional-field.wsdl")
    assert run(capsys, base, optional)[0] == 0
    assert run(capsys, base, optional, "--fail-on", "any")[0] == EXIT_CHECKS
    code, out, _ = run(capsys, base, base, "--fail-on", "any")
    assert code == 0 and out.splitlines()[-1] == "no changes"


def test_cli_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(DIFF / "base.wsdl"), str(DIFF / "remove-operation.wsdl"), "--json")
    data = json.loads(out)
    assert code == EXIT_CHECKS
    assert data["summary"] == {"breaking": 1, "non-breaking": 0}
    assert data["changes"] == [
        {
            "kind": "operation-removed",
            "severity": "breaking",
            "operation": PING,
            "method": "POST",
            "path": "/ShopService/Ping",
            "location": "",
            "schema": None,
            "message": "the operation POST /ShopService/Ping was removed",
        }
    ]
    assert data["old"].endswith("base.wsdl") and data["new"].endswith("remove-operation.wsdl")


def test_cli_diffs_spec_files_json_yaml_and_stdin(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.yaml"
    old.write_text(json.dumps(shop("base")))
    new.write_text(yaml.safe_dump(shop("max-length"), sort_keys=False))
    code, out, _ = run(capsys, str(old), str(new), "--json")
    assert code == EXIT_CHECKS
    assert rows([Change(**c) for c in json.loads(out)["changes"]]) == PAIRS["max-length"]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(old.read_bytes())))
    code, out, _ = run(capsys, "-", str(DIFF / "base.wsdl"))
    assert code == 0 and out.splitlines()[-1] == "no changes"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("[1, 2]", "not an OpenAPI document (the top level is not an object)"),
        ('{"info": {}}', "not an OpenAPI document (no 'openapi' field)"),
        ('{"swagger": "2.0"}', "Swagger 2.0 is not supported, only OpenAPI 3.x"),
        ("{not json", "not valid JSON"),
        ("a: [b\n", "not valid YAML"),
        ('{"openapi": "3.1.0", "paths": {"/x": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Gone"}}}}}', "cannot resolve $ref #/components/requestBodies/Gone"),
    ],
)
def test_cli_unreadable_input_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    code, out, err = run(capsys, str(bad), str(bad))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"soapbridge: {bad}: ") and message in err


def test_cli_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(DIFF / "base.wsdl")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["diff", "a", "b", "--fail-on", "sometimes"])
    assert exc.value.code == 2


def test_annotations_are_not_changes_and_external_refs_are_not_followed() -> None:
    old = shop("base")
    new = copy.deepcopy(old)
    new["info"]["description"] = "another text"
    for path_item in new["paths"].values():
        for op in path_item.values():
            op["summary"] = "renamed"
            op["responses"]["200"]["content"]["application/json"]["example"] = {}
    new["components"]["schemas"]["Item"]["description"] = "an item"
    assert diff_specs(old, new).changes == []
    new["components"]["schemas"]["PutItem"]["properties"]["item"] = {"$ref": "items.yaml#/Item"}
    (c,) = diff_specs(old, new).changes
    assert (c.kind, c.severity, c.location) == ("external-reference-changed", B, f"{REQ}/item")
    assert c.message == 'field item refers to "items.yaml#/Item" instead of no other document; not compared'


def test_path_parameters_pair_by_place_not_name() -> None:
    def item(template: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        op = {"operationId": "get", "parameters": [{"name": name, "in": "path", "required": True, "schema": schema}], "responses": {"200": {"description": "ok"}}}
        return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {template: {"get": op}}}

    old = item("/items/{id}", "id", {"type": "string"})
    assert diff_specs(old, item("/items/{itemId}", "itemId", {"type": "string"})).changes == []
    assert rows(diff_specs(old, item("/items/{itemId}", "itemId", {"type": "integer"})).changes) == {("type-changed", B, "get", "parameter[path][itemId]")}
