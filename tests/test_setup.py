"""Set-up a newcomer meets (issue 11): the licence, `make demo`, `make test` without the peers,
and the bundled samples in an installed wheel."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]


def _words(text: str) -> list[str]:
    return text.split()


def test_license_is_the_full_apache_2_text_pyproject_names() -> None:
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert _words(text)[:4] == ["Apache", "License", "Version", "2.0,"]
    for section in ("1. Definitions.", "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"):
        assert section in text
    reference = Path("/usr/share/common-licenses/Apache-2.0")  # the distribution's copy, not ours
    if not reference.is_file():
        pytest.skip(f"{reference} is absent: the text is checked by its sections only")
    terms = "END OF TERMS AND CONDITIONS"
    assert _words(text.split(terms)[0]) == _words(reference.read_text().split(terms)[0])


def _dry_run(target: str, venv: Path) -> str:
    r = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True)
    return r.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_installs_only_the_runtime_and_says_what_it_does(tmp_path: Path) -> None:
    plan = _dry_run("demo", tmp_path / "venv")
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert installs, plan
    assert all("[test]" not in line for line in installs), installs  # pytest, mypy, spyne... are not the demo's
    for step in ("creating the virtual environment", "installing soapbridge and its runtime dependencies", "starting the mock SOAP service"):
        assert step in plan
    assert "Python 3.11 or newer" in plan
    assert "[test]" in _dry_run("setup", tmp_path / "venv")


def _fake_bin(tmp_path: Path, tools: dict[str, str]) -> Path:
    """A PATH with the basic tools only (no php, gSOAP, Java, node), plus fake ones."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("bash", "tr", "id", "mktemp", "rm", "cat", "env", "dirname"):
        real = shutil.which(name)
        assert real, name
        (bin_dir / name).symlink_to(real)
    for name, script in tools.items():
        (bin_dir / name).unlink(missing_ok=True)
        (bin_dir / name).write_text(f"#!{shutil.which('bash')}\n{script}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _install_peers(bin_dir: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "HOME": str(bin_dir.parent)} | ({"CI": "true"} if ci else {})
    return subprocess.run([str(bin_dir / "bash"), str(ROOT / ".ci" / "install-peers")], env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("tools", "why"),
    [
        ({}, "apt-get is unavailable"),
        ({"id": 'echo 1000', "apt-get": "exit 0", "sudo": "exit 1"}, "not root and sudo asks for a password"),
        ({"id": 'echo 1000', "apt-get": "exit 0"}, "not root and sudo is unavailable"),
        ({"id": 'echo 0', "apt-get": "exit 100"}, "apt-get could not install"),
    ],
    ids=["no-apt", "sudo-password", "no-sudo", "apt-fails"],
)
def test_install_peers_without_apt_or_root_leaves_peers_out_except_in_ci(tmp_path: Path, tools: dict[str, str], why: str) -> None:
    bin_dir = _fake_bin(tmp_path, tools)
    r = _install_peers(bin_dir, ci=False)
    assert r.returncode == 0, r.stderr  # `make test` goes on with everything that does not need the peers
    line = r.stdout.strip()
    assert line.startswith("install-peers: left out PHP SoapServer, gSOAP, JAX-WS RI, Axis 1.4, SOAP::Lite, xmlsec1, redis-server, chromium (") and why in line, line
    assert "their tests skip" in line and "node-soap left out" in line
    r = _install_peers(bin_dir, ci=True)
    assert r.returncode == 1 and r.stderr.startswith("install-peers: "), (r.stdout, r.stderr)  # CI must not lose interop coverage


@pytest.mark.slow
def test_samples_by_name_from_an_installed_wheel(tmp_path: Path) -> None:
    """`soapbridge demo calculator` works from a wheel: the samples ship inside the package. The
    wheel is built from a copy of the tree (the build hook compiles in place), with no C compiler
    (CC=false), which is also the compiler-optional install the README promises."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    src = tmp_path / "src"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    env = dict(os.environ, CC="false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(tmp_path / "dist")], env=env, check=True)
    wheel = next((tmp_path / "dist").glob("soapbridge-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bridge/py.typed" in names  # PEP 561: users' type checkers read our annotations
    assert not [n for n in names if "hatch_build" in n or "_ccodec_build" in n or (n.startswith("bridge/_ccodec.") and not n.endswith((".pyx", ".pyi")))], names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], env=env, check=True)
    work = tmp_path / "elsewhere"  # no wsdl/ directory here or above
    work.mkdir()
    run_env = dict(os.environ, PYTHONPATH=str(site))
    where = subprocess.run(
        [sys.executable, "-c", "import bridge.cli as c; print(c.__file__); print(c._samples_dir())"],
        cwd=work, env=run_env, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert where[0].startswith(str(site)) and where[1] == str(site / "bridge" / "samples")
    for argv, expected in ((["inspect", "calculator"], "service CalculatorService"), (["inspect", "orders.wsdl"], "service OrderService")):
        r = subprocess.run([sys.executable, "-m", "bridge", *argv], cwd=work, env=run_env, capture_output=True, text=True, check=False)
        assert r.returncode == 0 and expected in r.stdout, r.stderr
    assert re.search(r"orders", subprocess.run([sys.executable, "-m", "bridge", "serve", "--help"], cwd=work, env=run_env,
                                               capture_output=True, text=True, check=True).stdout)
    # No compiler, so no C loops: both commands say so, and the Python loops convert both ways.
    version = subprocess.run([sys.executable, "-m", "bridge", "--version"], cwd=work, env=run_env, capture_output=True, text=True, check=True)
    assert version.stdout.splitlines()[1].startswith("C loops: no (bridge._ccodec is not built"), version.stdout
    r = subprocess.run([sys.executable, "-m", "bridge", "inspect", "calculator"], cwd=work, env=run_env, capture_output=True, text=True, check=True)
    assert r.stdout.splitlines()[-1].startswith("C loops: no (bridge._ccodec is not built"), r.stdout
    reply = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<c:AddResponse xmlns:c="http://soapbridge.dev/samples/calculator"><c:result>5</c:result></c:AddResponse>'
        "</soap:Body></soap:Envelope>"
    )
    script = (
        "import bridge\n"
        "from bridge import cli, compiled\n"
        "assert compiled._ccodec is None\n"
        "b = bridge.load(cli._samples_dir() / 'calculator.wsdl')\n"
        "print(b.encode_request('Add', {'a': 2, 'b': 3}).hex())\n"
        f"print(b.decode_response('Add', {reply.encode()!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=work, env=run_env, capture_output=True, check=True).stdout.decode().splitlines()
    sent = etree.fromstring(bytes.fromhex(out[0]))
    assert [(etree.QName(e).localname, e.text) for e in sent.iter() if e.text and e.text.strip()] == [("a", "2"), ("b", "3")]
    assert out[1] == "{'result': 5}"
