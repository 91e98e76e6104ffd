"""The cluster packaging in deploy/ (docs/deploy.md): the Dockerfile, the kustomize manifests and the
Grafana dashboard.

Oracles we did not write: BuildKit's own Dockerfile parser (the ``dockerfile`` package), kustomize
(``kubectl kustomize``) renders the manifests, ``kubernetes-validate`` checks them strictly against the
Kubernetes OpenAPI schemas of a fixed version, and ``promql-parser`` (the Rust PromQL parser) reads the
dashboard's queries. Containers cannot run here (the OCI runtime is refused setrlimit), so the image's
entry point is run outside one: a wheel built from the files the builder stage copies, started with the
Dockerfile's ENTRYPOINT + CMD, its probe paths asked over HTTP.

Probes and metrics come with issue 16's observability work: a check of an endpoint that the bridge's
source does not name yet is skipped with that reason; once the source names it, the check runs and fails
if the endpoint does not answer as declared.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
import yaml

dockerfile = pytest.importorskip("dockerfile", reason="the test extra's dockerfile package (pip install -e '.[test]')")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="the test extra's kubernetes-validate package")
promql_parser = pytest.importorskip("promql_parser", reason="the test extra's promql-parser package")

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DASHBOARD = DEPLOY / "grafana" / "soapbridge.json"
# The Kubernetes version the manifests are checked against: the oldest minor still supported upstream
# when this was written; every field used exists there.
K8S_VERSION = "1.31.0"
CI = os.environ.get("CI") == "true"
# The entry-point tests build the wheel first (Cython and a C compile, a minute or more on a busy machine).
SLOW = pytest.mark.timeout(900)

# The metrics the bridge exports (issue 16's interface): name → (type, labels).
METRICS: dict[str, tuple[str, frozenset[str]]] = {
    "soapbridge_requests_total": ("counter", frozenset({"service", "operation", "status", "kind"})),
    "soapbridge_request_duration_seconds": ("histogram", frozenset({"service", "operation"})),
    "soapbridge_upstream_duration_seconds": ("histogram", frozenset({"service", "operation"})),
    "soapbridge_upstream_responses_total": ("counter", frozenset({"service", "operation", "status"})),
    "soapbridge_upstream_faults_total": ("counter", frozenset({"service", "operation", "kind"})),
    "soapbridge_in_flight_requests": ("gauge", frozenset({"service"})),
    "soapbridge_reply_size_bytes": ("histogram", frozenset({"service", "operation"})),
}
# Labels Prometheus adds at scrape time (the ServiceMonitor's target labels): a dashboard may use them.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "container", "service_name"})


def implemented(path: str) -> bool:
    """Whether the bridge's source names the route ``path`` (e.g. ``/livez``): until it does, the
    check of that endpoint is skipped as not merged yet."""
    needle = path.strip("/")
    return any(needle in f.read_text(encoding="utf-8") for f in (ROOT / "bridge").rglob("*.py"))


def require(path: str) -> None:
    if not implemented(path):
        pytest.skip(f"{path} is not in the bridge yet (issue 16's probes/metrics are not merged); this check runs once it is")


# --- the Dockerfile, read by BuildKit's parser ------------------------------------------------------


@dataclass
class Image:
    """What the Dockerfile declares about the runtime stage (the last one)."""

    entrypoint: list[str]
    cmd: list[str]
    healthcheck: list[str]
    expose: list[int]
    user: str
    env: dict[str, str]
    workdir: str
    builder_copies: list[tuple[str, ...]]
    builder_runs: list[str]


def _env_pairs(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    it = iter(values)
    for k in it:
        out[k] = next(it)
    return out


@pytest.fixture(scope="module")
def image() -> Image:
    cmds = dockerfile.parse_file(str(DEPLOY / "Dockerfile"))
    stages: list[list[Any]] = []
    for c in cmds:
        if c.cmd == "FROM":
            stages.append([])
        stages[-1].append(c)
    assert len(stages) >= 2, "a multi-stage build: a builder with the compiler, then the runtime"
    builder, runtime = stages[0], stages[-1]
    assert any(c.cmd == "COPY" and "--from=builder" in c.flags for c in runtime), "the runtime stage copies the builder's output"

    def last(stage: list[Any], name: str) -> Any:
        found = [c for c in stage if c.cmd == name]
        assert found, f"the runtime stage has no {name}"
        return found[-1]

    for name in ("ENTRYPOINT", "CMD"):
        assert last(runtime, name).json, f"{name} in exec (JSON) form: SIGTERM reaches soapbridge, not a shell"
    hc = last(runtime, "HEALTHCHECK")
    assert hc.json and hc.value[0] == "CMD", hc.original
    env: dict[str, str] = {}
    for c in runtime:
        if c.cmd == "ENV":
            env.update(_env_pairs(c.value))
    return Image(
        entrypoint=list(last(runtime, "ENTRYPOINT").value),
        cmd=list(last(runtime, "CMD").value),
        healthcheck=list(hc.value[1:]),
        expose=[int(p.split("/")[0]) for c in runtime if c.cmd == "EXPOSE" for p in c.value],
        user=last(runtime, "USER").value[0],
        env=env,
        workdir=last(runtime, "WORKDIR").value[0],
        builder_copies=[c.value for c in builder if c.cmd == "COPY"],
        builder_runs=[c.value[0] for c in builder if c.cmd == "RUN"],
    )


def _flag(argv: list[str], name: str) -> str:
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


def test_the_runtime_image_serves_as_non_root_on_its_exposed_port(image: Image) -> None:
    argv = image.entrypoint + image.cmd
    assert argv[:2] == ["soapbridge", "serve"], argv
    assert _flag(argv, "--host") == "0.0.0.0"
    assert int(_flag(argv, "--port")) in image.expose
    uid = image.user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric non-root UID (runAsNonRoot can check only a number)"
    script = image.healthcheck[image.healthcheck.index("-c") + 1]
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", script)
    assert url and int(url.group(1)) in image.expose and url.group(2) == "/livez", script


def test_the_builder_requires_the_c_loops(image: Image) -> None:
    runs = " ".join(image.builder_runs)
    assert "pip wheel" in runs
    assert 'grep -qx "C loops: yes"' in runs, "a build whose compiler failed must fail, not ship the slow loops"


# --- kustomize ------------------------------------------------------------------------------------


def kustomize(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if CI:
            pytest.fail("kubectl (with kustomize) is missing: the machine image ships it")
        pytest.skip("kubectl is not installed: kustomize cannot render deploy/k8s here")
    done = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


COMPONENTS = ("hpa", "servicemonitor", "redis")
COMBINATIONS = {
    "base": (),
    "hpa": ("hpa",),
    "servicemonitor": ("servicemonitor",),
    "redis": ("redis",),
    "all": COMPONENTS,
}


def combination(tmp: Path, components: tuple[str, ...]) -> Path:
    """A kustomization of the base with ``components``, as a user's overlay would be."""
    tmp.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(K8S, tmp)
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f"{rel}/base"],
        "components": [f"{rel}/components/{c}" for c in components],
    }
    (tmp / "kustomization.yaml").write_text(yaml.safe_dump(doc))
    return tmp


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def bridge_deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment", "soapbridge")


def bridge_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = bridge_deployment(docs)["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "soapbridge")


def check_service_monitor(sm: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    """The ServiceMonitor CRD's schema is not among Kubernetes' own, and vendoring the operator's CRD
    would commit fetched code: a structural check of the fields Prometheus Operator reads, and that
    they point at the bridge's Service, its named port and the metrics path."""
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(sm) <= {"apiVersion", "kind", "metadata", "spec"}, set(sm)
    assert set(sm["spec"]) <= {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels", "sampleLimit"}
    selector = sm["spec"]["selector"]["matchLabels"]
    services = [s for s in docs if s["kind"] == "Service" and selector.items() <= s["metadata"].get("labels", {}).items()]
    assert [s["metadata"]["name"] for s in services] == ["soapbridge"], "the selector picks the bridge's Service alone"
    ports = {p["name"] for p in services[0]["spec"]["ports"]}
    allowed = {"port", "path", "interval", "scrapeTimeout", "scheme", "honorLabels", "relabelings", "metricRelabelings", "tlsConfig"}
    for ep in sm["spec"]["endpoints"]:
        assert set(ep) <= allowed, set(ep)
        assert ep["port"] in ports
        assert ep["path"] == "/metrics"
        for key in ("interval", "scrapeTimeout"):
            assert re.fullmatch(r"\d+(ms|s|m|h)", ep[key]), ep[key]


def validate(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            check_service_monitor(doc, docs)
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc.message[:300]} at {list(exc.path)}")


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_manifests_validate_strictly(name: str, tmp_path: Path) -> None:
    docs = kustomize(combination(tmp_path / name, COMBINATIONS[name]))
    validate(docs)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceAccount"} <= kinds
    dep = bridge_deployment(docs)
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    service = one(docs, "Service", "soapbridge")
    assert service["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    env = {e["name"]: e.get("value") for e in bridge_container(docs).get("env", [])}
    if "hpa" in COMBINATIONS[name]:
        hpa = one(docs, "HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "soapbridge"}
        assert "replicas" not in dep["spec"], "the autoscaler owns the replica count"
        assert hpa["spec"]["minReplicas"] >= 2, "a PodDisruptionBudget of maxUnavailable 1 needs two pods to keep one"
    else:
        assert "HorizontalPodAutoscaler" not in kinds and dep["spec"]["replicas"] >= 2
    if "servicemonitor" not in COMBINATIONS[name]:
        assert "ServiceMonitor" not in kinds
    if "redis" in COMBINATIONS[name]:
        url = re.fullmatch(r"redis://([\w-]+):(\d+)/\d+", env["RATE_LIMIT_STORAGE"])
        assert url, env
        redis = one(docs, "Service", url.group(1))
        assert int(url.group(2)) in {p["port"] for p in redis["spec"]["ports"]}
        policy = one(docs, "NetworkPolicy")
        peers = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
        assert peers.items() <= dep["spec"]["template"]["metadata"]["labels"].items(), "Redis admits the bridge pods"
    else:
        assert "RATE_LIMIT_STORAGE" not in env


def test_the_production_overlay_validates() -> None:
    docs = kustomize(K8S / "overlays" / "production")
    validate(docs)
    assert {d["metadata"].get("namespace") for d in docs} == {"soapbridge"}
    assert {"HorizontalPodAutoscaler", "ServiceMonitor", "NetworkPolicy"} <= {d["kind"] for d in docs}
    config = yaml.safe_load(one(docs, "ConfigMap")["data"]["soapbridge.yaml"])
    assert config["rate_limits"]["storage"] == "${RATE_LIMIT_STORAGE}", "the overlay's own config replaced the base's"
    # More than one pod counts rate limits in the shared Redis, never in each pod's memory.
    env = {e["name"]: e.get("value") for e in bridge_container(docs)["env"]}
    assert env["RATE_LIMIT_STORAGE"].startswith("redis://soapbridge-redis:")
    assert one(docs, "HorizontalPodAutoscaler")["spec"]["minReplicas"] > 1


def test_every_container_runs_locked_down(tmp_path: Path, image: Image) -> None:
    docs = kustomize(combination(tmp_path, COMPONENTS))
    for dep in (d for d in docs if d["kind"] == "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod.get("automountServiceAccountToken") is False
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"]
            assert "memory" in c["resources"]["limits"] and c["resources"]["requests"]
    pod = bridge_deployment(docs)["spec"]["template"]["spec"]
    assert str(pod["securityContext"]["runAsUser"]) == image.user.split(":")[0], "the manifests run the image's own user"


def test_probes_ports_and_paths_agree_with_the_image(tmp_path: Path, image: Image) -> None:
    docs = kustomize(K8S / "base")
    c = bridge_container(docs)
    (port,) = c["ports"]
    assert [port["containerPort"]] == image.expose
    assert port["containerPort"] == int(_flag(image.cmd, "--port"))
    for probe, path in (("startupProbe", "/livez"), ("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        get = c[probe]["httpGet"]
        assert (get["path"], get["port"]) == (path, port["name"]), probe
    service = one(docs, "Service", "soapbridge")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [port["name"]]
    # The config and WSDL the CMD names are the ConfigMap's files, mounted where the CMD looks.
    wsdl, config = Path(image.cmd[1]), Path(_flag(image.cmd, "--config"))
    assert wsdl.parent == config.parent
    mount = next(m for m in c["volumeMounts"] if m["name"] == "config")
    assert (mount["mountPath"], mount.get("readOnly")) == (str(config.parent), True)
    volume = next(v for v in bridge_deployment(docs)["spec"]["template"]["spec"]["volumes"] if v["name"] == "config")
    cm = one(docs, "ConfigMap", volume["configMap"]["name"])
    assert {wsdl.name, config.name} <= set(cm["data"])
    # Writable places on a read-only root: the WSDL cache the image points at, and /tmp.
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert image.env["SOAPBRIDGE_CACHE_DIR"] in mounts and "/tmp" in mounts
    assert {e["name"]: e["value"] for e in c["env"]}["SOAPBRIDGE_CACHE_DIR"] == image.env["SOAPBRIDGE_CACHE_DIR"]
    # Secrets reach ${VAR} through the environment from a Secret, never through the ConfigMap.
    assert {"secretRef": {"name": "soapbridge-secrets"}} in c["envFrom"]
    for name in re.findall(r"\$\{(\w+)\}", cm["data"][config.name]):
        assert name not in {e["name"] for e in c["env"]}, f"{name} is a secret: it comes from the Secret"


def test_the_example_wsdl_is_the_bundled_sample_and_the_image_tag_the_version() -> None:
    from bridge import __version__

    assert (K8S / "base" / "config" / "service.wsdl").read_bytes() == (ROOT / "wsdl" / "calculator.wsdl").read_bytes()
    images = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["images"]
    assert [i["newTag"] for i in images if i["name"] == "soapbridge"] == [__version__]


def test_a_config_change_rolls_the_pods(tmp_path: Path) -> None:
    """kustomize names the generated ConfigMap after a hash of its files and the Deployment refers to it
    by that name: a changed config (or WSDL) changes the pod template, which rolls the pods."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)

    def rendered() -> tuple[str, str, dict[str, Any]]:
        docs = kustomize(copy / "base")
        cm = one(docs, "ConfigMap")["metadata"]["name"]
        template = bridge_deployment(docs)["spec"]["template"]
        (volume,) = [v for v in template["spec"]["volumes"] if v["name"] == "config"]
        return cm, volume["configMap"]["name"], template

    first = rendered()
    assert first[0] == first[1] and first[0].startswith("soapbridge-config-")
    assert rendered() == first, "the same files render the same template: no roll without a change"
    config = copy / "base" / "config" / "soapbridge.yaml"
    config.write_text(config.read_text().replace("read_timeout: 30", "read_timeout: 31"))
    second = rendered()
    assert second[0] == second[1] and second[0] != first[0] and second[2] != first[2]
    wsdl = copy / "base" / "config" / "service.wsdl"
    wsdl.write_text(wsdl.read_text().replace("Basic arithmetic", "Arithmetic"))
    assert rendered()[0] not in (first[0], second[0])


def test_the_grace_period_covers_the_bridges_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.settings import Settings, make_settings

    docs = kustomize(K8S / "base")
    pod = bridge_deployment(docs)["spec"]["template"]["spec"]
    c = bridge_container(docs)
    pre_stop = " ".join(c["lifecycle"]["preStop"]["exec"]["command"])
    sleep = float(re.search(r"sleep\((\d+(?:\.\d+)?)\)", pre_stop).group(1))  # type: ignore[union-attr]
    assert sleep > 0, "the endpoints drop the pod before SIGTERM"
    if "shutdown" not in {f.name for f in fields(Settings)}:
        pytest.skip("the bridge's shutdown grace (shutdown.grace_seconds) is not merged yet")
    monkeypatch.setenv("BACKEND_PASSWORD", "x")
    s = getattr(make_settings(K8S / "base" / "config" / "soapbridge.yaml"), "shutdown")  # noqa: B009 (not on main yet)
    needed = sleep + getattr(s, "drain_seconds", 0) + s.grace_seconds
    assert pod["terminationGracePeriodSeconds"] > needed, f"Kubernetes kills at {pod['terminationGracePeriodSeconds']} s; the bridge may need {needed} s"


def test_the_shipped_configs_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configs in the ConfigMaps are ones the bridge accepts, with their ${VAR} from the Secret."""
    from bridge.errors import ConfigError
    from bridge.settings import Settings, make_settings

    monkeypatch.delenv("BACKEND_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="BACKEND_PASSWORD"):
        make_settings(K8S / "base" / "config" / "soapbridge.yaml")
    monkeypatch.setenv("BACKEND_PASSWORD", "from-the-secret")
    s = make_settings(K8S / "base" / "config" / "soapbridge.yaml")
    assert s.backend_auth is not None and s.backend_auth.password == "from-the-secret"
    if "rate_limits" not in {f.name for f in fields(Settings)}:
        pytest.skip("rate_limits (issue 15) is not merged yet: the production overlay's config waits for it")
    monkeypatch.setenv("RATE_LIMIT_STORAGE", "redis://soapbridge-redis:6379/0")
    make_settings(K8S / "overlays" / "production" / "soapbridge.yaml")


# --- the Grafana dashboard --------------------------------------------------------------------------


def dashboard_queries() -> list[tuple[str, str]]:
    dash = json.loads(DASHBOARD.read_text())
    out: list[tuple[str, str]] = []

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", v["query"]["query"])
            assert m, v["query"]
            out.append((f"variable {v['name']}", m.group(1)))
    return out


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, labels it is matched on or grouped by) of each series selector in ``expr``,
    read with promql-parser once Grafana's variables are given values."""
    concrete = expr.replace("$__rate_interval", "5m").replace("$service", "orders").replace("$operation", ".*")
    assert "$" not in concrete, f"an unknown Grafana variable in {expr}"
    ast = promql_parser.parse(concrete)
    found: list[tuple[str, set[str]]] = []
    grouping: list[set[str]] = []

    def visit(node: Any, groups: set[str]) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name in {expr}"
            found.append((node.name, {m.name for m in node.matchers.matchers} | groups))
        elif isinstance(node, promql_parser.MatrixSelector):
            visit(node.vector_selector, groups)
        elif isinstance(node, promql_parser.AggregateExpr):
            inner = groups | set(node.modifier.labels if node.modifier else [])
            grouping.append(inner)
            visit(node.expr, inner)
        elif isinstance(node, promql_parser.BinaryExpr):
            visit(node.lhs, groups)
            visit(node.rhs, groups)
        elif isinstance(node, promql_parser.Call):
            for a in node.args:
                visit(a, groups)
        elif isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr):
            visit(node.expr, groups)

    visit(ast, set())
    assert found, f"no metric in {expr}"
    return found


def family(sample: str) -> tuple[str, str]:
    """The metric a sample name belongs to, and the suffix (``_bucket``...) of a histogram's series."""
    if sample in METRICS:
        return sample, ""
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample.removesuffix(suffix)
        if base != sample and METRICS.get(base, ("",))[0] == "histogram":
            return base, suffix
    raise AssertionError(f"{sample} is not a metric the bridge exports")


def test_the_dashboard_queries_only_the_bridges_metrics() -> None:
    used = set()
    for title, expr in dashboard_queries():
        for name, labels in selectors(expr):
            base, suffix = family(name)
            allowed = METRICS[base][1] | TARGET_LABELS | ({"le"} if suffix == "_bucket" else set())
            assert labels <= allowed, f"{title}: {name} has no label {sorted(labels - allowed)}"
            if METRICS[base][0] == "histogram":
                assert suffix, f"{title}: a histogram is queried through _bucket, _sum or _count"
            used.add(base)
    assert used == set(METRICS), f"every exported metric has a panel; none for {sorted(set(METRICS) - used)}"


def test_the_dashboard_is_importable_grafana_json() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and isinstance(dash["schemaVersion"], int)
    names = [v["name"] for v in dash["templating"]["list"]]
    assert names == ["datasource", "service", "operation"]
    ids = []
    for p in dash["panels"]:
        ids.append(p["id"])
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
            refs = [t["refId"] for t in p["targets"]]
            assert len(refs) == len(set(refs)) and refs, p["title"]
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
    assert len(ids) == len(set(ids))
    titles = " ".join(p["title"] for p in dash["panels"])
    for wanted in ("outcome", "Error ratio", "whole call vs upstream", "In-flight", "Reply size"):
        assert wanted in titles


def test_a_query_naming_another_metric_is_caught() -> None:
    """The checker above is no rubber stamp: it refuses a made-up metric, a label the metric lacks and a
    histogram read without its series suffix."""
    with pytest.raises(AssertionError, match="not a metric"):
        family("soapbridge_requests")
    (name, labels), = selectors('sum by (consumer) (rate(soapbridge_in_flight_requests{service=~"$service"}[$__rate_interval]))')
    assert "consumer" in labels - METRICS[name][1]
    assert family("soapbridge_reply_size_bytes") == ("soapbridge_reply_size_bytes", "")


# --- the entry point, run outside a container ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ignored(image_root: Path) -> list[str]:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _context_copy(dest: Path, copies: list[tuple[str, ...]]) -> None:
    """The builder stage's COPY lines applied to the repository filtered by Dockerfile.dockerignore
    (patterns in order, the last match wins, ``!`` re-includes), into ``dest``."""
    patterns = _ignored(ROOT)

    def excluded(rel: str) -> bool:
        out = False
        for p in patterns:
            neg = p.startswith("!")
            pat = p[1:].rstrip("/") if neg else p.rstrip("/")
            if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat + "/*") or (pat.startswith("**/") and fnmatch.fnmatch(rel, "*/" + pat[3:])):
                out = not neg
        return out

    for value in copies:
        *sources, target = value
        for src in sources:
            path = ROOT / src
            files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            for f in files:
                rel = f.relative_to(ROOT).as_posix()
                if excluded(rel):
                    continue
                to = dest / (rel if path.is_dir() or target.endswith("/") else target)
                to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, to)


@pytest.fixture(scope="module")
def installed(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The soapbridge wheel built as the builder stage builds it (its ``pip wheel`` on the files it
    copies, with pip's build isolation: Cython and lxml's headers compile the C loops), installed into
    a directory of its own; the interpreter brings the runtime dependencies."""
    base = tmp_path_factory.mktemp("image")
    src, wheels, target = base / "src", base / "wheels", base / "opt"
    _context_copy(src, image.builder_copies)
    (cmd,) = [shlex.split(r) for r in image.builder_runs if "pip wheel" in r]
    assert cmd[:2] == ["pip", "wheel"] and cmd[-1] == "."
    argv = [sys.executable, "-m", *cmd[:-1], str(src)]
    argv[argv.index("--wheel-dir") + 1] = str(wheels)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheels.glob("soapbridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(re.fullmatch(r"bridge/_ccodec\..*\.so", n) for n in names), "the wheel carries the compiled C loops"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return target


def _run_env(image: Image, target: Path, root: Path) -> dict[str, str]:
    """The image's ENV with its paths moved under ``root`` (the stand-in for the container's file
    system), the wheel's install directory first on the paths, and the Secret's variable set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOAPBRIDGE_", "PYTHON"))}
    for k, v in image.env.items():
        if k == "PATH":
            continue
        env[k] = str(root / v.lstrip("/")) if v.startswith("/") else v
    Path(env["SOAPBRIDGE_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    env["PATH"] = f"{target / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env["PYTHONPATH"] = str(target)
    env["BACKEND_PASSWORD"] = "from-the-secret"
    return env


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    cwd: Path

    def get(self, path: str) -> tuple[int, bytes, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read(), r.headers.get("content-type", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("content-type", "")


def _start(image: Image, target: Path, root: Path) -> Running:
    """The ENTRYPOINT + CMD as the Dockerfile declares them, the only changes: the container's paths
    under ``root``, where the ConfigMap's files (rendered by kustomize) are written, and a free port
    for 8080 (this machine is shared)."""
    docs = kustomize(K8S / "base")
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap"]
    declared = int(_flag(image.cmd, "--port"))
    port = _free_port()
    argv = []
    for a in image.entrypoint + image.cmd:
        if a == str(declared):
            a = str(port)
        elif a.startswith("/"):
            a = str(root / a.lstrip("/"))
        argv.append(a)
    config_dir = Path(argv[2]).parent
    config_dir.mkdir(parents=True, exist_ok=True)
    for name, text in cm["data"].items():
        (config_dir / name).write_text(text)
    env = _run_env(image, target, root)
    exe = shutil.which(argv[0], path=env["PATH"])
    assert exe == str(target / "bin" / "soapbridge"), exe
    cwd = root / image.workdir.lstrip("/")
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([exe, *argv[1:]], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                break
        except OSError:
            assert time.monotonic() < deadline, "the bridge did not answer in 120 s"
            time.sleep(0.2)
    return Running(proc, port, env, cwd)


def _stop(r: Running) -> int:
    r.proc.send_signal(signal.SIGTERM)
    try:
        return r.proc.wait(timeout=60)
    finally:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()


@pytest.fixture(scope="module")
def running(image: Image, installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    r = _start(image, installed, tmp_path_factory.mktemp("container"))
    yield r
    _stop(r)


@pytest.mark.slow
@SLOW
def test_the_entry_point_runs_the_wheel_with_the_c_loops(running: Running, installed: Path) -> None:
    probe = "import bridge, bridge.compiled as c; print(bridge.__file__); print(c.c_loops())"
    done = subprocess.run(["python", "-c", probe], env=running.env, cwd=running.cwd, capture_output=True, text=True, timeout=60)
    where, loops = done.stdout.split()
    assert Path(where).is_relative_to(installed) and loops == "yes", done.stdout + done.stderr
    status, body, _ = running.get("/healthz")
    assert status == 200, body
    status, body, _ = running.get("/openapi.json")
    assert status == 200 and b"/CalculatorService/Add" in body, "the ConfigMap's WSDL is served"


@pytest.mark.slow
@SLOW
@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_the_declared_probe_paths_answer_200(running: Running, path: str, tmp_path: Path) -> None:
    docs = kustomize(K8S / "base")
    c = bridge_container(docs)
    declared = {c[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert path in declared
    require(path)
    status, body, _ = running.get(path)
    assert status == 200, f"{path}: {status} {body[:300]!r}"


@pytest.mark.slow
@SLOW
def test_the_healthcheck_command_passes(running: Running, image: Image) -> None:
    """The Dockerfile's HEALTHCHECK itself, run with the port it names swapped for the test's."""
    script = image.healthcheck[image.healthcheck.index("-c") + 1]
    path = re.search(r"127\.0\.0\.1:\d+(/\w+)", script).group(1)  # type: ignore[union-attr]
    require(path)
    declared = _flag(image.cmd, "--port")
    argv = [a.replace(f"127.0.0.1:{declared}/", f"127.0.0.1:{running.port}/") for a in image.healthcheck]
    done = subprocess.run(argv, env=running.env, cwd=running.cwd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@SLOW
def test_metrics_are_scraped_as_the_dashboard_reads_them(running: Running) -> None:
    """The scrape declares (# TYPE) every metric of the interface the dashboard was checked against,
    with its type; no request is needed for a labelled metric's family to be declared."""
    require("/metrics")
    status, body, ctype = running.get("/metrics")
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
    declared: dict[str, str] = {}
    for line in body.decode().splitlines():
        m = re.match(r"# TYPE (soapbridge_\w+) (\w+)", line)
        if m:
            declared[m.group(1)] = m.group(2)
    for name, (kind, _) in METRICS.items():
        assert declared.get(name) == kind, f"{name}: the scrape declares {declared.get(name)}"
    for title, expr in dashboard_queries():
        for name, _ in selectors(expr):
            base, _suffix = family(name)
            assert base in declared, f"{title}: {name} is not in the scrape"


@pytest.mark.slow
@SLOW
def test_sigterm_ends_the_entry_point_cleanly(image: Image, installed: Path, tmp_path: Path) -> None:
    """What Kubernetes and Docker send to stop a container: the bridge shuts down by itself, without
    a traceback. uvicorn re-raises the SIGTERM it handled once it has shut down, so the exit status
    is that signal's (or 0)."""
    r = _start(image, installed, tmp_path)
    code = _stop(r)
    err = r.proc.stderr.read().decode() if r.proc.stderr else ""
    assert code in (0, -signal.SIGTERM), (code, err)
    assert "Traceback" not in err, err
