"""The soak tool's own logic (bench/soak.py), so that `make soak` cannot rot: a short real run, and
the reply checks on replies recorded in contracts/orders/ (the oracle the soak compares with)."""

from __future__ import annotations

import json

import pytest
import yaml

from bench.soak import CONTRACTS, DECK, ERROR_KINDS, OPERATIONS, PROBLEM, Requests, failures, run_soak


def _recorded_reply(op: str, exchange: int = 0) -> bytes:
    rec = yaml.safe_load((CONTRACTS / f"OrderService_{op}.yaml").read_text())
    return json.dumps(rec["exchanges"][exchange]["rest_response"]["body"]).encode()


@pytest.mark.slow
def test_short_soak_injects_every_error_kind_and_sees_no_unexpected_reply() -> None:
    # mock, proxy and bridge as real processes; 2 clients, 5 s after 1 s of warm-up
    result = run_soak(clients=2, duration=5, warmup=1, upstream_timeout=0.5, log=lambda _: None)
    assert result["unexpected"] == {}, result["unexpected_samples"]
    assert set(result["injected"]) == set(DECK)  # every kind, good and bad, was sent
    assert result["expected"] == result["injected"]  # and each got the reply its kind calls for
    assert set(ERROR_KINDS) == {"soap_fault", "upstream_timeout", "malformed_json", "invalid_data", "oversize", "unknown_route"}
    assert result["calls"] > 0
    assert result["rss_kib"]["warmup"] > 0 and result["rss_kib"]["end"] > 0


@pytest.mark.parametrize("op", OPERATIONS)
def test_good_call_accepts_its_own_recorded_reply_only(op: str) -> None:
    call = Requests().make(f"ok:{op}", "t")
    assert call.check(200, "application/json", _recorded_reply(op)) is None
    for other in OPERATIONS:
        if other != op:  # another operation's reply (state leaking between requests) is caught
            assert call.check(200, "application/json", _recorded_reply(other)) is not None
    assert call.check(502, "application/json", _recorded_reply(op)) is not None


def test_good_call_rejects_a_reply_that_breaks_the_response_schema() -> None:
    call = Requests().make("ok:ListOrders", "t")
    reply = json.loads(_recorded_reply("ListOrders"))
    reply["unexpected"] = 1
    problem = call.check(200, "application/json", json.dumps(reply).encode())
    assert problem is not None and "schema" in problem


def test_error_kinds_want_their_own_problem() -> None:
    r = Requests()
    fault = r.make("soap_fault", "t")
    assert b"soak-fault" in fault.body
    assert fault.check(422, PROBLEM, _recorded_reply("GetOrder", 1)) is None
    assert fault.check(200, "application/json", _recorded_reply("GetOrder")) is not None
    timeout = r.make("upstream_timeout", "t")
    body = {"type": "urn:soapbridge:problem:upstream:timeout", "title": "t", "status": 504, "detail": "GetOrder timed out"}
    assert timeout.check(504, PROBLEM, json.dumps(body).encode()) is None
    assert timeout.check(502, PROBLEM, json.dumps({**body, "status": 502}).encode()) is not None
    assert r.make("oversize", "t").check(504, PROBLEM, json.dumps(body).encode()) is not None
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.make("malformed_json", "t").body)


def test_failures_gate_on_unexpected_errors_and_rss_growth() -> None:
    ok = {"unexpected": {}, "rss_growth_pct": 9.99}
    assert failures(ok, 10.0) == []
    assert len(failures({**ok, "rss_growth_pct": 10.0}, 10.0)) == 1
    assert len(failures({**ok, "unexpected": {"soap_fault": 1}}, 10.0)) == 1


def test_good_call_rejects_a_valid_reply_with_other_values() -> None:
    # schema-valid, but not what the mock answers this operation: another request's data
    call = Requests().make("ok:GetOrder", "t")
    reply = json.loads(_recorded_reply("GetOrder"))
    reply["order"]["orderId"] = "someone else's order"
    problem = call.check(200, "application/json", json.dumps(reply).encode())
    assert problem is not None and "differs" in problem


def test_fuzz_harness_runs_its_seed_corpus_clean() -> None:
    # bench/fuzz_codec.py (make soak): every seed reaches its target and none is a finding
    pytest.importorskip("atheris")
    from bench import fuzz_codec

    seeds = fuzz_codec.seeds()
    modes = {fuzz_codec.TARGETS[int.from_bytes(s[:2], "big") % len(fuzz_codec.TARGETS)][2] for s in seeds}
    assert modes == set(fuzz_codec.MODES)
    for s in seeds:
        fuzz_codec.test_one_input(s)
