"""Contract testing: schemathesis positive and negative data against the REST API of a WSDL.

Three targets: the bridge in-process with the generated mock behind it (offline, the default),
the bridge in-process in front of a live SOAP endpoint, or a bridge already running at a URL.
Each operation runs once per generation mode; every example is checked with ``CHECKS`` and the
failures are collected (not raised), so one report says what passed and what broke.

When schemathesis cannot generate data for an operation (a schema its canonicaliser cannot model,
an unsatisfiable strategy), the run falls back to the bridge's own example generator for that
operation and mode, sends those cases through the same target and checks, and reports which
generator ran: a generator limit never ends an operation as failed or skipped.
"""

from __future__ import annotations

import gc
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import HypothesisException
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NOT_SET
from schemathesis.core.errors import SchemathesisError
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.generation.meta import CaseMetadata, ComponentInfo, ExamplesPhaseData, GenerationInfo, PhaseInfo, TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from .codec import to_json_ready
from .errors import BridgeError
from .facade import Bridge
from .jsonschema import exact_decimals
from .mock import MockService
from .model import Operation
from .openapi import message_example
from .settings import make_settings
from .wsdl.loader import load_model

# The checks the issue names: no 5xx, declared statuses, content types and response schemas,
# negative data rejected and positive data accepted.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
MOCK_ENDPOINT = "http://mock.invalid/soap"
DEFAULT_MAX_EXAMPLES = 50
MESSAGE_LIMIT = 2000
SCHEMATHESIS = "schemathesis"
BRIDGE = "bridge"  # the bridge's own example generator (bridge/examples.py), the fallback
# What schemathesis and hypothesis raise when they cannot produce data for a schema.
GENERATOR_LIMITS = (SchemathesisError, HypothesisException)


@dataclass
class ModeResult:
    """One operation run in one generation mode."""

    mode: str  # positive | negative
    examples: int = 0
    failed: int = 0  # examples that broke at least one check
    failure: str | None = None  # the first failure, readable
    error: str | None = None  # the run itself broke (the target is unreachable, no generator could produce data)
    duration: float = 0.0
    generator: str = SCHEMATHESIS  # who produced the cases: schemathesis, or the bridge's fallback
    fallback_reason: str | None = None  # why schemathesis could not generate, when the bridge did

    @property
    def ok(self) -> bool:
        """No example failed and the run did not break."""
        return not self.failed and self.error is None


@dataclass
class OperationResult:
    """One operation's runs, one per generation mode."""

    operation_id: str
    label: str  # "POST /Service/Operation"
    modes: list[ModeResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every mode passed."""
        return all(m.ok for m in self.modes)

    @property
    def examples(self) -> int:
        """Examples run over all modes."""
        return sum(m.examples for m in self.modes)

    def mode(self, name: str) -> ModeResult | None:
        """The result of mode ``name`` (positive or negative), or None if it did not run."""
        return next((m for m in self.modes if m.mode == name), None)

    @property
    def generator(self) -> str:
        """schemathesis or bridge; "bridge/schemathesis" (positive/negative) when the modes differ."""
        names = [m.generator for m in self.modes]
        return names[0] if len(set(names)) == 1 else "/".join(names) if names else SCHEMATHESIS


@dataclass
class ContractReport:
    """A whole contract run: what was checked against what, and each operation's result."""

    wsdl: str
    target: str  # mock | backend URL | url URL
    seed: int
    max_examples: int
    available: int  # operations the spec has; `operations` may be a sample of them
    operations: list[OperationResult] = field(default_factory=list)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """Every operation checked passed."""
        return all(o.ok for o in self.operations)

    @property
    def examples(self) -> int:
        """Examples run over all operations."""
        return sum(o.examples for o in self.operations)

    @property
    def failed_operations(self) -> list[OperationResult]:
        """The operations with a failed mode."""
        return [o for o in self.operations if not o.ok]

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data, as ``--report json:FILE`` writes it."""
        return {
            "wsdl": self.wsdl,
            "target": self.target,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "operations_available": self.available,
            "operations_checked": len(self.operations),
            "examples": self.examples,
            "ok": self.ok,
            "duration": round(self.duration, 3),
            "operations": [
                {
                    "operation_id": o.operation_id,
                    "label": o.label,
                    "ok": o.ok,
                    "generator": o.generator,
                    "modes": [
                        {
                            "mode": m.mode,
                            "generator": m.generator,
                            "fallback_reason": m.fallback_reason,
                            "examples": m.examples,
                            "failed": m.failed,
                            "failure": m.failure,
                            "error": m.error,
                            "duration": round(m.duration, 3),
                        }
                        for m in o.modes
                    ],
                }
                for o in self.operations
            ],
        }


class _Stop(Exception):
    """The target failed in a way every further example would repeat (it is unreachable)."""


def sample_ids(ids: list[str], k: int | None, seed_value: int) -> list[str]:
    """A deterministic sample of k operation ids (all when k is None or not smaller), sorted."""
    ordered = sorted(ids)
    if k is None or k >= len(ordered):
        return ordered
    return sorted(random.Random(seed_value).sample(ordered, k))


def _describe(case: schemathesis.Case) -> str:
    body = "" if case.body is NOT_SET else " " + json.dumps(case.body, default=str)[:400]
    return f"{case.method} {case.formatted_path}{body}"


def _failure_text(exc: BaseException, case: schemathesis.Case, response: Any) -> str:
    failures = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else [exc]
    parts = []
    for f in failures:
        title = getattr(f, "title", None) or type(f).__name__
        message = (getattr(f, "message", None) or str(f)).strip()
        code = getattr(f, "code", "")
        parts.append(f"{code + ' ' if code else ''}{title}" + (f": {message}" if message and message != title else ""))
    parts.append(f"request: {_describe(case)}")
    if response is not None:
        media = response.headers.get("content-type", [""])
        media = media[0] if isinstance(media, list) and media else media
        body = response.content.decode("utf-8", "replace")[:600]
        parts.append(f"response: HTTP {response.status_code} {media} {body}".rstrip())
    return "\n".join(parts)[:MESSAGE_LIMIT]


# Sends a case and returns the response plus the transport arguments checks need to resend it.
Caller = Callable[[schemathesis.Case], tuple[Any, dict[str, Any]]]


def _check(case: schemathesis.Case, call: Caller, result: ModeResult) -> None:
    """Send one case and run every check on the reply; a failure is counted, the first one kept."""
    result.examples += 1
    try:
        response, kwargs = call(case)
    except (httpx.HTTPError, OSError) as exc:  # requests' errors are OSErrors too
        raise _Stop(f"cannot reach the bridge: {type(exc).__name__}: {exc}") from None
    if response.status_code in (401, 403) and result.mode == schemathesis.GenerationMode.POSITIVE.value:
        # schemathesis' positive_data_acceptance lets 401/403 pass, so a run without credentials
        # against an authenticated bridge would check nothing and say ok (negative cases may carry
        # a broken credential on purpose: there a 401 is right)
        result.failed += 1
        if result.failure is None:
            result.failure = (f"the bridge refused the credentials (HTTP {response.status_code}): nothing behind it was checked; "
                              f"give them with --header NAME:VALUE\nrequest: {_describe(case)}")  # fmt: skip
        return
    try:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
    except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis' Failure and FailureGroup
        result.failed += 1
        if result.failure is None:
            result.failure = _failure_text(exc, case, response)


def _redact(result: ModeResult, secrets: Iterable[str]) -> None:
    """The values of ``--header`` (keys, tokens) out of a result's texts, before anyone prints them."""
    for value in secrets:
        if len(value) >= 4:  # shorter ones would blank out ordinary text and protect nothing
            if result.failure:
                result.failure = result.failure.replace(value, "[redacted]")
            if result.error:
                result.error = result.error.replace(value, "[redacted]")


def _run_mode(
    operation: Any, mode: schemathesis.GenerationMode, call: Caller, max_examples: int, seed_value: int, model_op: Operation | None = None
) -> ModeResult:
    result = ModeResult(mode.value)

    @seed(seed_value)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every example runs once, the count is exact
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        _check(case, call, result)

    started = time.perf_counter()
    try:
        check()
    except _Stop as exc:
        result.error = str(exc)[:MESSAGE_LIMIT]
    except GENERATOR_LIMITS as exc:  # schemathesis could not produce data: the bridge's examples run instead
        reason = f"{type(exc).__name__}: {str(exc).strip()}"[:MESSAGE_LIMIT]
        if model_op is None:
            result.error = reason
        else:
            run_fallback(operation, model_op, mode, call, max_examples, seed_value, reason, result)
    except Exception as exc:  # anything else that stopped the run
        result.error = f"{type(exc).__name__}: {str(exc).strip()}"[:MESSAGE_LIMIT]
    result.duration = time.perf_counter() - started
    return result


def run_fallback(
    operation: Any,
    model_op: Operation,
    mode: schemathesis.GenerationMode,
    call: Caller,
    max_examples: int,
    seed_value: int,
    reason: str,
    result: ModeResult | None = None,
) -> ModeResult:
    """Run the bridge's example cases for ``model_op`` through ``call`` and ``CHECKS``, recorded as
    generated by the bridge because schemathesis could not (``reason``)."""
    result = result if result is not None else ModeResult(mode.value)
    result.generator, result.fallback_reason = BRIDGE, " ".join(line.strip() for line in reason.splitlines() if line.strip())[:500]
    try:
        cases = _fallback_cases(operation, model_op, mode, max_examples, seed_value)
        if not cases and operation.method.upper() != "GET":
            result.error = f"schemathesis: {reason}\nbridge examples: none produced"[:MESSAGE_LIMIT]
        for case in cases:
            _check(case, call, result)
    except _Stop as stop:
        result.error = str(stop)[:MESSAGE_LIMIT]
    except Exception as fallback_exc:  # the bridge's generator broke too: say so, never hide it
        result.error = f"schemathesis: {reason}\nbridge examples: {type(fallback_exc).__name__}: {fallback_exc}"[:MESSAGE_LIMIT]
    return result


def _meta(mode: schemathesis.GenerationMode, description: str) -> CaseMetadata:
    """Metadata as schemathesis gives its own cases: the mode decides which acceptance check applies."""
    return CaseMetadata(
        generation=GenerationInfo(time=0.0, mode=mode),
        components={ParameterLocation.BODY: ComponentInfo(mode=mode)},
        phase=PhaseInfo(name=TestPhase.EXAMPLES, data=ExamplesPhaseData(description=description, parameter=None, parameter_location=None, location=None)),
    )


def _fallback_cases(operation: Any, op: Operation, mode: schemathesis.GenerationMode, max_examples: int, seed_value: int) -> list[schemathesis.Case]:
    """Cases from the bridge's example generator: up to ``max_examples`` distinct valid messages
    (positive), or, for negative mode, those messages made invalid in ways every message schema
    forbids (a body that is not an object, an undeclared member)."""
    names = set(re.findall(r"\{([^}]+)\}", op.path))
    bodies: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n in range(max(max_examples * 3, 3)):  # a small message space repeats itself: stop at max_examples distinct
        body = to_json_ready(message_example(op, op.input, seed_value + n))
        key = json.dumps(body, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            bodies.append(body)
        if len(bodies) >= max_examples:
            break

    def case(body: Any, description: str) -> schemathesis.Case:
        path = {k: body.pop(k) for k in list(body) if k in names} if isinstance(body, dict) else {}
        query = {k: body.pop(k) for k in list(body) if k in op.query} if isinstance(body, dict) else {}
        payload = body if op.http_method != "GET" else NOT_SET
        return operation.Case(path_parameters=path, query=query, body=payload, media_type="application/json", _meta=_meta(mode, description))

    if mode == schemathesis.GenerationMode.POSITIVE:
        return [case(b, "soapbridge example") for b in bodies]
    if op.http_method == "GET":
        return []  # no body to break; path and query values are strings the bridge converts
    # Message schemas are closed objects: both variants break them whatever the operation.
    cases = [case([bodies[0]] if bodies else [], "soapbridge example made invalid: a body that is not an object")]
    for b in bodies[: max_examples - 1]:
        cases.append(case({**b, "soapbridge:undeclared": 1}, "soapbridge example made invalid: an undeclared member"))
    return cases


def _load_spec(url: str) -> tuple[dict[str, Any], str]:
    """The spec a running bridge serves, and the base URL its paths are relative to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BridgeError(f"--url expects an http(s) URL of a running bridge, got {url!r}")
    spec_url = url if parts.path.endswith(".json") else url.rstrip("/") + "/openapi.json"
    try:
        r = httpx.get(spec_url, timeout=10, trust_env=False)
    except httpx.HTTPError as exc:
        raise BridgeError(f"cannot fetch {spec_url}: {exc or type(exc).__name__}") from None
    if r.status_code != 200:
        raise BridgeError(f"cannot fetch {spec_url}: HTTP {r.status_code}")
    try:
        spec = r.json()
    except ValueError:
        raise BridgeError(f"{spec_url} is not JSON; is a soapbridge bridge running at {url}?") from None
    if not isinstance(spec, dict) or "paths" not in spec:
        raise BridgeError(f"{spec_url} is not an OpenAPI document")
    # Spec paths carry the bridge's base_path already, so calls go to the server's root.
    return spec, f"{parts.scheme}://{parts.netloc}"


def run_contract(
    wsdl: str | Path,
    *,
    url: str | None = None,
    backend: str | None = None,
    config: str | Path | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    sample: int | None = None,
    seed_value: int = 0,
    allow_network: bool = False,
    progress: Callable[[OperationResult, ModeResult, int, int], None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ContractReport:
    """Run the checks on every operation (or a seeded sample of ``sample``) and return the results.
    ``headers`` go with every request (the credentials of an authenticated bridge); their values
    never appear in the report."""
    sent = dict(headers or {})
    if url and backend:
        raise BridgeError("--url and --backend exclude each other")
    if url and config:
        raise BridgeError("--config configures an in-process bridge; it has no effect with --url")
    if max_examples < 1:
        raise BridgeError(f"--max-examples must be at least 1, got {max_examples}")
    if sample is not None and sample < 1:
        raise BridgeError(f"--sample must be at least 1, got {sample}")
    model = load_model(wsdl, allow_network=allow_network)
    started = time.perf_counter()
    call: Caller
    if url:
        spec, base_url = _load_spec(url)
        model_ops = {op.operation_id: op for op in Bridge(model, make_settings()).routed}
        wanted = set(model_ops)
        served = {o.get("operationId") for item in spec["paths"].values() for o in item.values() if isinstance(o, dict)}
        if not wanted & served:
            raise BridgeError(f"the bridge at {url} does not serve {Path(str(wsdl)).name} (none of its operations is in its spec)")
        target = f"url {url}"

        def call(case: schemathesis.Case) -> tuple[Any, dict[str, Any]]:
            return case.call(base_url=base_url, timeout=60, headers=sent), {"base_url": base_url, "timeout": 60, "headers": sent}

    else:
        if backend:
            b = Bridge(model, make_settings(config, endpoint=backend, allow_network=allow_network))
            target = f"backend {backend}"
        else:
            mock = MockService(model, seed=seed_value)
            transport = httpx.ASGITransport(app=mock.asgi())  # type: ignore[arg-type]
            b = Bridge(model, make_settings(config, endpoint=MOCK_ENDPOINT), transport=transport)
            target = "mock"
        spec = b.openapi()
        app = b.asgi()
        model_ops = {op.operation_id: op for op in b.routed}

        def call(case: schemathesis.Case) -> tuple[Any, dict[str, Any]]:
            return case.call(app=app, headers=sent), {"app": app, "headers": sent}

    # An explicit config: a schemathesis.toml in the working directory must not change the run.
    # Generate what the bridge accepts: fractionDigits (an annotation in the spec) as multipleOf.
    spec = exact_decimals(spec)
    schema = schemathesis.openapi.from_dict(spec, config=SchemathesisConfig())
    operations: dict[str, str] = {}  # id (or label) -> label
    invalid: dict[str, str] = {}  # operations schemathesis cannot read: reported as errors, never skipped
    for item in schema.get_all_operations():
        if isinstance(item, Ok):
            op = item.ok()
            operations[str(op.definition.raw.get("operationId") or op.label)] = op.label
        else:
            error = item.err()
            invalid[f"{(error.method or '?').upper()} {error.path or '?'}"] = error.message
    del schema
    chosen = sample_ids(list(operations) + list(invalid), sample, seed_value)
    report = ContractReport(str(wsdl), target, seed_value, max_examples, len(operations) + len(invalid))
    total = len(chosen) * len(MODES)
    done = 0
    for op_id in chosen:
        if op_id in invalid:
            result = OperationResult(op_id, op_id, [ModeResult(m.value, error=f"invalid operation: {invalid[op_id]}") for m in MODES])
            report.operations.append(result)
            for mode_result in result.modes:
                done += 1
                if progress is not None:
                    progress(result, mode_result, done, total)
            continue
        # A schema per operation: schemathesis keeps what it compiles for an operation (its response
        # validators: 1.9 GB for one netsuite reply schema) as long as the schema lives
        fresh = schemathesis.openapi.from_dict(spec, config=SchemathesisConfig())
        operation = fresh.find_operation_by_label(operations[op_id])
        result = OperationResult(op_id, operations[op_id])
        report.operations.append(result)
        for mode in MODES:
            mode_result = _run_mode(operation, mode, call, max_examples, seed_value, model_ops.get(op_id))
            _redact(mode_result, sent.values())
            result.modes.append(mode_result)
            done += 1
            if progress is not None:
                progress(result, mode_result, done, total)
        del fresh, operation
        gc.collect()  # a schema and its operations reference each other: only the collector frees them
    report.duration = time.perf_counter() - started
    return report


# --- reports --------------------------------------------------------------------------


SUMMARY_COLUMNS = ("operation", "examples", "positive", "negative", "generator", "result")


def summary_rows(report: ContractReport) -> list[tuple[str, ...]]:
    """The per-operation rows of the summary, in ``SUMMARY_COLUMNS`` order."""

    def cell(m: ModeResult | None) -> str:
        if m is None:
            return "-"
        if m.error is not None:
            return "ERROR"
        return "ok" if m.ok else f"FAIL {m.failed}/{m.examples}"

    return [
        (o.operation_id, str(o.examples), cell(o.mode("positive")), cell(o.mode("negative")), o.generator, "ok" if o.ok else "FAIL")
        for o in report.operations
    ]


def summary_table(report: ContractReport) -> str:
    """The per-operation table the CLI prints, then ``summary_footer``."""
    rows = [SUMMARY_COLUMNS, *summary_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.rjust(widths[i]) if i == 1 else c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n" + summary_footer(report)


def summary_footer(report: ContractReport) -> str:
    """What follows the table: the totals, the operations the bridge's examples ran for, and the first
    failure of each failing run."""
    lines = []
    failed = report.failed_operations
    sampled = f" (a sample of {report.available})" if len(report.operations) < report.available else ""
    lines.append(
        f"{len(report.operations)} operation(s){sampled}, {report.examples} examples, "
        f"{len(failed)} failed; target {report.target}; seed {report.seed}; {report.duration:.1f} s"
    )
    fallbacks = [(o, m) for o in report.operations for m in o.modes if m.generator == BRIDGE]
    if fallbacks:
        lines.append("")
        lines.append(f"schemathesis could not generate data for {len({o.operation_id for o, _ in fallbacks})} operation(s); the bridge's examples ran instead:")
        lines.extend(f"  {o.operation_id} [{m.mode}]: {m.fallback_reason}" for o, m in fallbacks)
    for o in failed:
        for m in o.modes:
            if not m.ok:
                lines.append("")
                lines.append(f"{o.operation_id} [{m.mode}] ({o.label}):")
                lines.extend("  " + line for line in (m.error or m.failure or "").splitlines())
    return "\n".join(lines) + "\n"


# Characters XML 1.0 cannot carry (controls, lone surrogates): fuzzed data and replies are full of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def junit_xml(report: ContractReport) -> bytes:
    """JUnit XML: one testsuite, one testcase per operation and generation mode."""
    cases = [(o, m) for o in report.operations for m in o.modes]
    failures = sum(1 for _, m in cases if m.error is None and m.failed)
    errors = sum(1 for _, m in cases if m.error is not None)
    name = f"soapbridge contract {Path(report.wsdl).name}"
    root = ET.Element("testsuites", name="soapbridge contract", tests=str(len(cases)), failures=str(failures), errors=str(errors), time=f"{report.duration:.3f}")
    suite = ET.SubElement(
        root, "testsuite", name=name, tests=str(len(cases)), failures=str(failures), errors=str(errors), skipped="0", time=f"{report.duration:.3f}"
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (("wsdl", _xml_text(report.wsdl)), ("target", report.target), ("seed", str(report.seed)), ("max_examples", str(report.max_examples))):
        ET.SubElement(props, "property", name=key, value=value)
    classname = f"soapbridge.contract.{Path(report.wsdl).stem}"
    for o, m in cases:
        tc = ET.SubElement(suite, "testcase", classname=classname, name=f"{o.operation_id} [{m.mode}]", time=f"{m.duration:.3f}")
        ET.SubElement(tc, "properties").append(ET.Element("property", name="generator", value=m.generator))
        fallback = f" (schemathesis could not generate: {_xml_text(m.fallback_reason or '')})" if m.generator == BRIDGE else ""
        ET.SubElement(tc, "system-out").text = f"{o.label}: {m.examples} examples, {m.failed} failed; generator {m.generator}{fallback}"
        if m.error is not None:
            error = _xml_text(m.error)
            ET.SubElement(tc, "error", message=error.splitlines()[0][:300], type="error").text = error
        elif m.failed:
            text = _xml_text(m.failure or "")
            ET.SubElement(tc, "failure", message=text.splitlines()[0][:300] if text else "check failed", type="check").text = (
                f"{m.failed} of {m.examples} examples failed; the first:\n{text}"
            )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


__all__ = ["CHECKS", "GENERATOR_LIMITS", "ContractReport", "ModeResult", "OperationResult", "junit_xml", "run_contract", "run_fallback", "sample_ids", "summary_table"]
