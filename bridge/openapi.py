"""The OpenAPI 3.1 document: one path per routed operation, typed bodies, every status declared."""

from __future__ import annotations

import re
from typing import Any

from ._version import __version__
from .auth import operation_security, security_schemes
from .codec import to_json_ready
from .examples import message_example
from .jsonschema import ABSENT, XML_CHARS, JsonSchema, SchemaBuilder
from .model import HEADERS_KEY, ComplexType, Element, Message, Operation, ServiceModel, unwrapped_part
from .names import xml_decode
from .portable_regex import portable_patterns
from .routing import BODY_METHODS, api_title
from .settings import Settings

PROBLEM = "application/problem+json"
# One component for "any string XML can carry", referenced instead of repeating its pattern.
XML_STRING = "XmlString"
XML_STRING_SCHEMA: JsonSchema = {
    "type": "string",
    "pattern": XML_CHARS,
    "description": "A string XML 1.0 can carry: no control characters but tab, line feed and carriage return.",
}


def problem_schemas() -> dict[str, JsonSchema]:
    """The problem+json component schemas every spec carries: ``Problem`` and its validation, SOAP fault and
    non-fault forms."""
    base: JsonSchema = {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "request_id": {"type": "string", "description": "The request's ID, as in its X-Request-ID response header and log line."},
        },
        "required": ["type", "title", "status"],
    }
    return {
        "Problem": base,
        "ValidationProblem": {
            "allOf": [{"$ref": "#/components/schemas/Problem"}],
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "description": "Every violation, with a JSON pointer into the request.",
                    "items": {
                        "type": "object",
                        "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
                        "required": ["pointer", "detail"],
                    },
                }
            },
            "required": ["errors"],
        },
        "SoapFaultProblem": {
            "allOf": [{"$ref": "#/components/schemas/Problem"}],
            "type": "object",
            "properties": {
                "type": {"type": "string", "pattern": "^urn:soapbridge:problem:soap-fault:"},
                "faultcode": {"type": "string", "description": "The SOAP fault code as {namespace}local."},
                "subcodes": {"type": "array", "items": {"type": "string"}},
                "faultactor": {"type": ["string", "null"]},
                "fault": {"type": ["string", "null"], "description": "The declared wsdl:fault name, if it matched."},
                "detail_data": {"description": "The fault detail, typed when the fault is declared."},
            },
            "required": ["faultcode"],
        },
        # Any failure but a SOAP fault (the service unreachable or slow, a reply that is not SOAP or
        # breaks the WSDL, the bridge itself): told apart by its type from a fault with the same status.
        "NonFaultProblem": {
            "allOf": [{"$ref": "#/components/schemas/Problem"}],
            "type": "object",
            "properties": {"type": {"type": "string", "not": {"pattern": "^urn:soapbridge:problem:soap-fault:"}}},
        },
    }


def message_schema(builder: SchemaBuilder, op: Operation, msg: Message) -> JsonSchema:
    """The JSON schema of one message's body: the wrapped element's content when there is one, else an object
    keyed by part name, and ``$headers`` for its SOAP header parts."""
    wrapped = unwrapped_part(op, msg)
    props: dict[str, JsonSchema] = {}
    required: list[str] = []
    base: JsonSchema
    if wrapped is not None:
        el = wrapped.element
        # Open when "$headers" sits beside the content: this schema closes the object itself.
        base = builder.type_use(el.type, builder.element_type_ref(el), closed=not msg.header_parts)
    else:
        for part in msg.body_parts:
            props[part.name] = builder.element_schema(part.element)
            if op.style == "rpc" or part.element.min_occurs > 0:
                required.append(part.name)
        base = {"type": "object"}
    if msg.header_parts:
        props[HEADERS_KEY] = {
            "type": "object",
            "description": "SOAP header blocks, by part name.",
            "properties": {p.name: builder.element_schema(p.element) for p in msg.header_parts},
            "additionalProperties": False,
        }
    if wrapped is not None and not props:
        return base
    s: JsonSchema = {"type": "object"}
    if wrapped is not None:
        s["allOf"] = [base]
    if props:
        s["properties"] = props
    if required:
        s["required"] = required
    s["unevaluatedProperties"] = False
    return s


def _problem(description: str, ref: str = "Problem", extra: JsonSchema | None = None) -> dict[str, Any]:
    schema: JsonSchema = {"$ref": f"#/components/schemas/{ref}"}
    if extra:
        schema = {"allOf": [schema, extra]}
    return {"description": description, "content": {PROBLEM: {"schema": schema}}}


_SF = "An RFC 9651 structured field, as draft-ietf-httpapi-ratelimit-headers-12 defines it"
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Policy": {
        "description": f'The quota policies this request counts against, e.g. "consumer-1s";q=100;w=1. {_SF}.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": f'What is left of each policy\'s quota (r) and the seconds until it resets (t), e.g. "consumer-1s";r=99;t=1. {_SF}.',
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds to wait before the next request.", "schema": {"type": "integer", "minimum": 1}},
}


def _rate_limit_responses(responses: dict[str, Any]) -> None:
    """Rate limits: the RateLimit headers on the success answer, and a 429."""
    refs = {name: {"$ref": f"#/components/headers/{name}"} for name in ("RateLimit-Policy", "RateLimit")}
    for status in ("200", "204"):
        if status in responses:
            responses[status]["headers"] = dict(refs)
    extra: JsonSchema = {
        "type": "object",
        "properties": {"violated-policies": {"type": "array", "items": {"type": "string"}, "description": "The policies over their quota."}},
        "required": ["violated-policies"],
    }
    responses["429"] = _problem("Too many requests: the consumer is over a rate limit; retry after Retry-After seconds.", extra=extra)
    responses["429"]["headers"] = {**refs, "Retry-After": {"$ref": "#/components/headers/Retry-After"}}


def build_openapi(
    model: ServiceModel, routed: list[Operation], settings: Settings, *, title: str | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the routed operations: paths, message and type components, and
    problem responses at the statuses ``settings.status`` gives faults and upstream failures."""
    builder = SchemaBuilder()
    # The message and problem components: no type may take their names, whatever the case.
    builder.reserve([*problem_schemas(), *(f"{op.operation_id}{which}" for op in routed for which in ("Request", "Response"))])
    paths: dict[str, Any] = {}
    messages: dict[str, JsonSchema] = {}
    st = settings.status
    for op in sorted(routed, key=lambda o: (o.path, o.http_method)):
        req_name = f"{op.operation_id}Request"
        messages[req_name] = message_schema(builder, op, op.input)
        responses: dict[str, Any] = {}
        if op.output is not None:
            res_name = f"{op.operation_id}Response"
            messages[res_name] = message_schema(builder, op, op.output)
            responses["200"] = {
                "description": f"The {op.output.name} message.",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{res_name}"},
                        "example": to_json_ready(message_example(op, op.output)),
                    }
                },
            }
        else:
            responses["204"] = {"description": "One-way operation: the message was sent."}
        responses["400"] = _problem("Malformed JSON, or JSON that breaks the schema; lists every violation.", "ValidationProblem")
        security = operation_security(settings.auth, op)
        if security:
            responses["401"] = _problem("No credentials, or credentials that are not valid.")
            responses["401"]["headers"] = {"WWW-Authenticate": {"description": "The schemes that are accepted (RFC 9110).", "schema": {"type": "string"}}}
            responses["403"] = _problem("The credentials are valid but do not allow this operation (or lack a scope it needs).")
        responses["413"] = _problem("The request body is larger than the configured limit.")
        responses["415"] = _problem("The request is not application/json.")
        if settings.rate_limits is not None:
            _rate_limit_responses(responses)
        fault_extra: JsonSchema | None = None
        typed = [f for f in op.faults if f.element is not None]
        if typed:
            variants = [
                {
                    "type": "object",
                    "properties": {"fault": {"const": f.name}, "detail_data": builder.element_schema(f.element)},  # type: ignore[arg-type]
                    "required": ["fault"],
                }
                for f in typed
            ]
            variants.append({"type": "object", "properties": {"fault": {"type": "null"}}})
            # one component, referenced from every status a fault can come back with
            messages[f"{op.operation_id}Fault"] = {"anyOf": variants}
            fault_extra = {"$ref": f"#/components/schemas/{op.operation_id}Fault"}
        names = ", ".join(f.name for f in op.faults) or "none declared"
        # Every status a SOAP fault can come back with carries the typed fault bodies: Java stacks
        # send declared exceptions with a Server code, so they arrive under server_fault too.
        texts: dict[int, list[str]] = {}
        for status, text in (
            (st.client_fault, f"A SOAP fault with a Client/Sender code (declared faults: {names})."),
            (st.server_fault, f"A SOAP fault with a Server/Receiver code (declared faults: {names}; stacks such as Axis send declared faults with a Server code)."),
            (st.bad_reply, "The service's reply is not SOAP, or does not match the WSDL."),
            (st.unavailable, "The SOAP service cannot be reached."),
            (st.timeout, "The SOAP service did not answer in time."),
        ):
            texts.setdefault(status, []).append(text)
        fault_statuses = {st.client_fault, st.server_fault}
        for status, parts in sorted(texts.items()):
            key = str(status)
            if key in responses:
                continue
            description = " Or: ".join(parts) if len(parts) > 1 else parts[0]
            if status not in fault_statuses:
                responses[key] = _problem(description)
                continue
            fault = _problem(description, "SoapFaultProblem", fault_extra)
            if len(parts) > 1 and status in {st.bad_reply, st.unavailable, st.timeout}:
                # A status shared by a fault and an upstream error takes either body, told apart by
                # their problem types, so the fault's typed detail still binds.
                # (the typed part first: alternatives keep one name whether or not faults are typed)
                typed_part = [fault_extra] if fault_extra else []
                fault["content"][PROBLEM]["schema"] = {
                    "oneOf": [
                        {"allOf": [*typed_part, {"$ref": "#/components/schemas/SoapFaultProblem"}]},
                        {"$ref": "#/components/schemas/NonFaultProblem"},
                    ]
                }
            responses[key] = fault
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.name,
            "tags": [xml_decode(op.service)],  # a label: "WSF Schedule" for WSF_x0020_Schedule
            "responses": responses,
            "x-soap": {
                "service": op.service,
                "port": op.port,
                "binding": str(op.binding),
                "soapVersion": op.soap_version,
                "style": op.style,
                "use": op.use,
                "soapAction": op.soap_action,
            },
        }
        if security:
            operation["security"] = security
        # Lint rules (and documentation renderers) want a description: say what is called when the WSDL does not.
        operation["description"] = op.doc or f"Calls the SOAP operation {op.name} of the service {op.service} (port {op.port})."
        params, body_ok = _parameters(builder, op)
        if params:
            operation["parameters"] = params
        if body_ok:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{req_name}"},
                        "example": to_json_ready(message_example(op, op.input)),
                    }
                },
            }
        paths.setdefault(op.path, {})[op.http_method.lower()] = operation
    schemas = dict(sorted(builder.components.items()))
    schemas.update(problem_schemas())
    schemas.update(messages)
    for schema in schemas.values():
        portable_patterns(schema)  # ECMA-262 with "u" and Python re alike
    services = sorted({op.service for op in routed})
    info: dict[str, Any] = {
        "title": title or api_title(routed),
        "version": "1.0.0",
        "description": f"REST API generated by soapbridge {__version__} from the WSDL of {', '.join(services)}.",
    }
    if settings.license:
        info["license"] = dict(settings.license)
    if settings.contact:
        info["contact"] = dict(settings.contact)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": info,
        # Paths carry the configured base_path already: the server is the bridge's root.
        "servers": [{"url": "/", "description": "This bridge."}],
        # Any one configured scheme; none (authentication off) said explicitly, so tools do not assume one.
        "security": [{name: []} for name in security_schemes(settings.auth)],
        "tags": [{"name": xml_decode(s), "description": f"The operations of the SOAP service {s}."} for s in services],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas},
    }
    if schemes := security_schemes(settings.auth):
        doc["components"]["securitySchemes"] = schemes
    if settings.rate_limits is not None:
        doc["components"]["headers"] = RATE_LIMIT_HEADERS
    used = [_tidy(schema) for schema in schemas.values()]
    for name in _composed(doc) & set(schemas):
        _wrap_dynamic(schemas[name])
    for item in paths.values():
        for operation in item.values():
            used += [_tidy(p["schema"]) for p in operation.get("parameters", ())]
            for body in [operation.get("requestBody", {}), *operation["responses"].values()]:
                used += [_tidy(media["schema"]) for media in body.get("content", {}).values()]
    if any(used):
        schemas[XML_STRING] = dict(XML_STRING_SCHEMA)  # after _tidy, which would point it at itself
    _drop_unreachable(doc, {*messages, *problem_schemas()})
    return doc


_REF = "#/components/schemas/"


# Keys whose values map names (of properties, statuses, media types, headers...) to objects: a key
# in such a map is a name, so a property called "example" is still walked.
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "responses",
                        "content", "headers", "encoding", "securitySchemes", "callbacks", "links"})  # fmt: skip
# Keywords whose values are data (an operation's example messages are most of a large spec): no $ref there counts.
_EXAMPLES = frozenset({"example", "examples"})


def _drop_unreachable(doc: dict[str, Any], roots: set[str]) -> None:
    """Type components that neither an operation nor a message or problem component (``roots``:
    the app validates with those by name) reaches, left out: a type the WSDL declares but only uses
    where the spec writes a value alone (a fixed enumeration value as ``const``) would be a
    component nobody references, which linters flag (Redocly's no-unused-components)."""
    schemas = doc["components"]["schemas"]
    seen: set[str] = {r for r in roots if r in schemas}
    # (a dict or list, whether its keys are names rather than keywords)
    others = {k: v for k, v in doc["components"].items() if k != "schemas"}
    todo: list[tuple[Any, bool]] = [(doc["paths"], True), (others, False), *((schemas[r], False) for r in seen)]
    while todo:
        node, names = todo.pop()
        if isinstance(node, list):
            todo.extend((v, False) for v in node if isinstance(v, (dict, list)))
            continue
        if not names:
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF) and ref[len(_REF):] not in seen:
                name = ref[len(_REF):]
                seen.add(name)
                if name in schemas:
                    todo.append((schemas[name], False))
        for k, v in node.items():
            if isinstance(v, (dict, list)) and (names or k not in _EXAMPLES):
                todo.append((v, not names and k in _NAME_MAPS))
    for name in [n for n in schemas if n not in seen]:
        del schemas[name]


# Keywords whose values are schemas, lists of schemas, or maps of names to schemas; anything else
# (enum, const, examples, defaults) is data and left alone.
_SUBSCHEMA = ("items", "not", "if", "then", "else", "contains", "additionalProperties", "unevaluatedProperties",
              "unevaluatedItems", "propertyNames")  # fmt: skip
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_KEPT_BESIDE = ("unevaluatedProperties", "unevaluatedItems", "title", "description", "xml", "deprecated", "readOnly", "writeOnly", "default", "examples")


def _absent_keys(s: Any) -> list[str] | None:
    """The keys of a {"required": [k]} or {"anyOf": [{"required": [k]}, ...]} schema (any of them present)."""
    if not isinstance(s, dict):
        return None
    if set(s) == {"required"} and isinstance(s["required"], list) and len(s["required"]) == 1:
        return list(s["required"])
    if set(s) == {"anyOf"} and isinstance(s["anyOf"], list):
        keys = [_absent_keys(b) for b in s["anyOf"]]
        if all(k is not None for k in keys):
            return [k for ks in keys for k in ks or ()]
    return None


def _tidy(s: Any) -> bool:
    """What lint rules ask of every schema, in place: the XML-character pattern through its one
    component, and a one-element allOf/anyOf/oneOf written directly when nothing beside it clashes.
    True when the XmlString component is referenced."""
    if not isinstance(s, dict):
        return False
    used = False
    for key in _SUBSCHEMA:
        used |= _tidy(s.get(key))
    for key in _SUBSCHEMA_LISTS:
        for sub in s.get(key, ()):
            used |= _tidy(sub)
    for key in _SUBSCHEMA_MAPS:
        for sub in (s.get(key) or {}).values():
            used |= _tidy(sub)
    # "None of these keys" as properties that must be absent: linters look for every required key
    # among a schema's properties, also under not; the meaning is the same. {"not": {}}, not false:
    # openapi-python-client rejects the whole document over a boolean schema. (Not dependentSchemas:
    # hypothesis-jsonschema, under schemathesis, ignores it and generates both keys.)
    absent = _absent_keys(s.get("not"))
    if absent and not set(absent) & set(s.get("properties", {})):
        del s["not"]
        s["properties"] = {**s.get("properties", {}), **{k: dict(ABSENT) for k in absent}}
    # Only a plain string: the component is a string (a nullable one keeps its pattern), and tools
    # that resolve a $ref by replacing its object would lose a maxLength beside it.
    if s.get("pattern") == XML_CHARS and s.get("type") == "string" and set(s) <= {"type", "pattern", *_KEPT_BESIDE}:
        del s["pattern"], s["type"]
        s["$ref"] = f"#/components/schemas/{XML_STRING}"
        used = True
    for key in ("allOf", "anyOf", "oneOf"):
        branches = s.get(key)
        if not (isinstance(branches, list) and len(branches) == 1 and isinstance(branches[0], dict)):
            continue
        only, clash = branches[0], (set(s) - {key}) & set(branches[0])
        if key == "allOf" and "properties" in s and {"oneOf", "anyOf"} & set(only):
            continue  # a choice kept apart from the properties, for generators (bridge.jsonschema.merge_extras)
        if clash <= {"required"}:  # required lists add up
            del s[key]
            required = [*s.get("required", []), *only.get("required", [])]
            s.update(only)
            if clash:
                s["required"] = list(dict.fromkeys(required))
    if "$ref" in s and "allOf" not in s:
        # Tools resolve a $ref by replacing its object, losing (or, as Redocly's validator does,
        # misreading) the assertions beside it: those go to a second branch (the same meaning;
        # unevaluated* and the annotations stay, and see both branches).
        moved = {k: s.pop(k) for k in list(s) if k not in _KEPT_BESIDE and k != "$ref"}
        if moved:
            s["allOf"] = [{"$ref": s.pop("$ref")}, moved]
    return used


# Keywords whose evaluated keys depend on the instance (as AJV tracks them).
_DYNAMIC = ("patternProperties", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas")


def _evaluates_dynamically(s: Any, *, here: bool = True) -> bool:
    """Whether which keys a schema evaluates depends on the instance: through patternProperties, or
    a conditional branch (anyOf, oneOf, if, dependentSchemas) that evaluates keys."""
    if not isinstance(s, dict):
        return False
    if "additionalProperties" in s or "unevaluatedProperties" in s:
        return not here  # every key is evaluated, whatever the instance (here), or only when a branch holds
    if s.get("patternProperties") or (not here and ("properties" in s or "$ref" in s)):
        return True
    branches = [*s.get("anyOf", ()), *s.get("oneOf", ()), *(s[k] for k in ("if", "then", "else") if k in s),
                *(s.get("dependentSchemas") or {}).values()]  # fmt: skip
    return any(_evaluates_dynamically(b, here=False) for b in branches) or any(
        _evaluates_dynamically(b, here=here) for b in s.get("allOf", ())
    )


def _composed(s: Any, out: set[str] | None = None) -> set[str]:
    """The components referenced as one allOf branch beside others (or beside properties): a
    derived type's base, a message's body beside "$headers", a member's type beside "$element"."""
    out = set() if out is None else out
    if isinstance(s, dict):
        branches = s.get("allOf")
        if isinstance(branches, list) and (len(branches) > 1 or "properties" in s or "patternProperties" in s):
            for b in branches:
                ref = b.get("$ref") if isinstance(b, dict) else None
                if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                    out.add(ref.rsplit("/", 1)[-1])
        for v in s.values():
            _composed(v, out)
    elif isinstance(s, list):
        for v in s:
            _composed(v, out)
    return out


def _wrap_dynamic(s: dict[str, Any]) -> None:
    """A component with properties whose evaluated keys are dynamic is written as an allOf of its
    fixed part and its dynamic part. Redocly's example check (its AJV fork, with the rule's default
    allowAdditionalProperties false) closes such a schema, reached by $ref, to its own keys even as
    one allOf branch among others, so it rejects what the other branches declare (a derived type's
    keys beside a base with xs:anyAttribute, "$headers" beside a body whose choice says
    properties {k: false}); it never closes an allOf branch written in place. The
    meaning is the same under JSON Schema 2020-12: allOf applies each part in place, and no keyword
    of one part reads another (additionalProperties, which does, makes the keys fixed)."""
    if not ("properties" in s or "patternProperties" in s) or not _evaluates_dynamically(s):
        return
    fixed = {k: s.pop(k) for k in list(s) if k not in _KEPT_BESIDE and k not in _DYNAMIC and k != "allOf"}
    dynamic = {k: s.pop(k) for k in _DYNAMIC if k in s}
    s["allOf"] = [fixed, *s.get("allOf", ()), *([dynamic] if dynamic else [])]


def _parameters(builder: SchemaBuilder, op: Operation) -> tuple[list[dict[str, Any]], bool]:
    """Path and query parameters of operations given a custom route in the config."""
    names = re.findall(r"\{([^}]+)\}", op.path)
    body_ok = op.http_method in BODY_METHODS
    if not names and not op.query:
        return [], body_ok
    props = _top_fields(builder, op)
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": props.get(n, {"type": "string"})} for n in names
    ]
    params += [{"name": n, "in": "query", "required": False, "schema": props.get(n, {"type": "string"})} for n in op.query]
    return params, body_ok


def _top_fields(builder: SchemaBuilder, op: Operation) -> dict[str, JsonSchema]:
    part = unwrapped_part(op, op.input)
    out: dict[str, JsonSchema] = {}
    if part is not None and isinstance(part.element.type, ComplexType):
        for g in part.element.type.content_chain():
            for p in g.particles:
                if isinstance(p, Element) and not p.is_array:
                    out[p.qname.name] = builder.type_schema(p.type)
    else:
        for prt in op.input.body_parts:
            out[prt.name] = builder.type_schema(prt.element.type)
    return out


# --- a gateway's combined document --------------------------------------------------------------

# Components every spec carries with the same content: kept under their own names when the services agree.
_SHARED = (*problem_schemas(), XML_STRING)


def combine(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One OpenAPI document of several services' (``name -> spec``, each with its paths under its base
    path): component names and operationIds prefixed with ``name_`` (the shared problem schemas kept
    when identical), one tag per service, each operation's security its service's."""
    first = next(iter(specs.values()))
    shared = {n for n in _SHARED if all(s["components"]["schemas"].get(n) == first["components"]["schemas"].get(n) for s in specs.values())}
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    tags = []
    for name, spec in specs.items():
        renames: dict[str, str] = {}
        for section, items in spec.get("components", {}).items():
            for key in items:
                if not (section == "schemas" and key in shared):
                    renames[f"#/components/{section}/{key}"] = f"#/components/{section}/{name}_{key}"
        spec = _rename_refs(spec, renames)
        for section, items in spec.get("components", {}).items():
            target = components.setdefault(section, {})
            for key, value in items.items():
                new = key if section == "schemas" and key in shared else f"{name}_{key}"
                target[new] = value
        security = [{f"{name}_{k}": v for k, v in req.items()} for req in spec.get("security", [])]
        wsdl_services = ", ".join(t["name"] for t in spec.get("tags", []))
        tags.append({"name": name, "description": f"The operations of the service {name} (WSDL service {wsdl_services})."})
        for path, item in spec["paths"].items():
            for operation in item.values():
                operation["operationId"] = f"{name}_{operation['operationId']}"
                operation["tags"] = [name]
                if "security" in operation:
                    operation["security"] = [{f"{name}_{k}": v for k, v in req.items()} for req in operation["security"]]
                else:
                    operation["security"] = security
            paths[path] = item
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            **{k: v for k, v in first["info"].items() if k in ("license", "contact")},
            "title": "soapbridge gateway",
            "version": "1.0.0",
            "description": f"REST APIs generated by soapbridge {__version__} from the WSDLs of the services {', '.join(specs)}; "
            "each service's own document is at its base path's /openapi.json.",
        },
        "servers": [{"url": "/", "description": "This gateway."}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {section: dict(sorted(items.items())) for section, items in components.items()},
    }
    return doc


def _rename_refs(value: Any, renames: dict[str, str]) -> Any:
    """A copy of ``value`` with each ``$ref`` in ``renames`` replaced (data under examples too: a "$ref"
    key there is rare and renaming it is harmless)."""
    if isinstance(value, dict):
        out = {k: _rename_refs(v, renames) for k, v in value.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref in renames:
            out["$ref"] = renames[ref]
        return out
    if isinstance(value, list):
        return [_rename_refs(v, renames) for v in value]
    return value
