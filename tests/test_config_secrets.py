"""One secret reader for every config section that takes a password: the upstream credentials
(``backend_auth``), WS-Security (``wsse``) and authentication (``auth.consumers.*.upstream.basic``).
The same inputs give the same secret, or the same error, in each; no error or repr holds the secret.

The expected values are the inputs themselves (what the test writes to the environment and files).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.errors import ConfigError
from bridge.settings import Settings, make_settings

SECRET = "s3cret-Tidy-42"  # in every file and variable below that holds a secret
OTHER = "decoy-in-the-working-directory"
KEY_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@dataclass(frozen=True)
class Section:
    """Where a section keeps its password in a config file, and where the parsed settings have it."""

    where: str  # the key path errors name
    config: Callable[[dict[str, Any]], dict[str, Any]]  # the config file's data, around the password keys
    password: Callable[[Settings], str | None]


SECTIONS = {
    "upstream": Section(
        "backend_auth",
        lambda keys: {"backend_auth": {"type": "basic", "username": "svc", **keys}},
        lambda s: s.backend_auth.password if s.backend_auth else None,
    ),
    "wsse": Section(
        "wsse",
        lambda keys: {"wsse": {"username": "svc", **keys}},
        lambda s: s.wsse.password if s.wsse else None,
    ),
    "auth": Section(
        "auth.consumers.partner.upstream.basic",
        lambda keys: {"auth": {"api_keys": [{"consumer": "partner", "sha256": KEY_SHA256}],
                               "consumers": {"partner": {"upstream": {"basic": {"username": "svc", **keys}}}}}},
        lambda s: s.auth.consumers["partner"].upstream.basic.password,  # type: ignore[union-attr]
    ),
}


@dataclass(frozen=True)
class Case:
    keys: dict[str, Any]  # the section's password keys
    files: dict[str, bytes]  # files written beside the config file (folder "conf")
    expected: str  # the secret, or the error after the section's key path (CONF: the config file's folder)
    error: bool = False


CASES = {
    "literal": Case({"password": SECRET}, {}, SECRET),
    "env var": Case({"password": "${TIDY_SECRET}"}, {}, SECRET),
    "env var inside a value": Case({"password": "s3cret-${TIDY_PART}-42"}, {}, SECRET),
    "env var missing": Case({"password": "${TIDY_UNSET}"}, {}, ".password: the environment variable TIDY_UNSET is not set", True),
    "file relative to the config file": Case({"password_file": "secrets/pw"}, {"secrets/pw": SECRET.encode()}, SECRET),
    "file: trailing newline stripped": Case({"password_file": "secrets/pw"}, {"secrets/pw": SECRET.encode() + b"\n"}, SECRET),
    "file: CRLF stripped": Case({"password_file": "secrets/pw"}, {"secrets/pw": SECRET.encode() + b"\r\n"}, SECRET),
    "file: spaces kept": Case({"password_file": "secrets/pw"}, {"secrets/pw": b" " + SECRET.encode() + b" \n"}, f" {SECRET} "),
    "file path from an env var": Case({"password_file": "${TIDY_DIR}/pw"}, {"secrets/pw": SECRET.encode() + b"\n"}, SECRET),
    "file text not substituted": Case({"password_file": "secrets/pw"}, {"secrets/pw": b"${TIDY_SECRET}\n"}, "${TIDY_SECRET}"),
    "file missing": Case({"password_file": "secrets/missing"}, {}, ".password_file: cannot read CONF/secrets/missing: No such file or directory", True),
    "file is a folder": Case({"password_file": "secrets"}, {"secrets/pw": SECRET.encode()}, ".password_file: cannot read CONF/secrets: Is a directory", True),
    "file empty": Case({"password_file": "secrets/pw"}, {"secrets/pw": b"\n"}, ".password_file: CONF/secrets/pw is empty", True),
    "file of two lines": Case({"password_file": "secrets/pw"}, {"secrets/pw": SECRET.encode() + b"\n" + SECRET.encode() + b"\n"},
                              ".password_file: CONF/secrets/pw holds more than one line (the secret file must hold the secret alone)", True),
    "file not UTF-8": Case({"password_file": "secrets/pw"}, {"secrets/pw": b"\xff" + SECRET.encode()}, ".password_file: CONF/secrets/pw is not UTF-8 text", True),
    "both given": Case({"password": SECRET, "password_file": "secrets/pw"}, {"secrets/pw": SECRET.encode()}, ": give password or password_file, not both", True),
    "a number": Case({"password": 4242}, {}, ".password: expected a string (quote it, or use ${VAR} or password_file)", True),
    "file path empty": Case({"password_file": ""}, {}, ".password_file: expected a file path", True),
}


def _load(tmp_path: Path, section: Section, case: Case, monkeypatch: pytest.MonkeyPatch) -> Settings:
    conf = tmp_path / "conf"
    for rel, data in case.files.items():
        (conf / rel).parent.mkdir(parents=True, exist_ok=True)
        (conf / rel).write_bytes(data)
    config = conf / "bridge.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(section.config(case.keys)))
    # the working directory has a file at the same relative path: reading it would be the wrong secret
    cwd = tmp_path / "elsewhere"
    (cwd / "secrets").mkdir(parents=True)
    (cwd / "secrets" / "pw").write_text(OTHER + "\n")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TIDY_SECRET", SECRET)
    monkeypatch.setenv("TIDY_PART", "Tidy")
    monkeypatch.setenv("TIDY_DIR", str(conf / "secrets"))
    monkeypatch.delenv("TIDY_UNSET", raising=False)
    return make_settings(config)


def _outcome(tmp_path: Path, section: Section, case: Case, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """("ok", the secret) or ("error", the message without the config's file:line and the section's key path)."""
    try:
        s = _load(tmp_path, section, case, monkeypatch)
    except ConfigError as exc:
        message = str(exc)
        assert SECRET not in message and SECRET not in repr(exc), message
        assert OTHER not in message
        prefix = f"{tmp_path / 'conf' / 'bridge.yaml'}:"
        assert message.startswith(prefix), message  # located in the config file
        located = re.sub(r"^\d+: ", "", message[len(prefix):])
        assert located.startswith(section.where), message  # names the section's key
        return "error", located[len(section.where):].replace(str(tmp_path / "conf"), "CONF")
    password = section.password(s)
    assert password is not None
    if SECRET in password:
        assert SECRET not in repr(s)  # nor in the settings' repr
    return "ok", password


@pytest.mark.parametrize("name", CASES)
def test_every_section_reads_a_secret_the_same_way(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    outcomes = {}
    for key, section in SECTIONS.items():
        with monkeypatch.context() as m:
            outcomes[key] = _outcome(tmp_path / key, section, case, m)
    for key, (kind, text) in outcomes.items():
        assert kind == ("error" if case.error else "ok"), (key, text)
        assert text == case.expected, key
    assert len({text for _, text in outcomes.values()}) == 1, outcomes  # the same result, the same error shape


def test_the_sign_key_password_and_the_mock_read_it_the_same_way(tmp_path: Path) -> None:
    """wsse.sign.password and ``mock --require-wsse`` take their secret through the same reader."""
    from bridge.wsse import parse_mock_requirements, parse_settings

    (tmp_path / "pw").write_text(SECRET + "\n")
    req = parse_mock_requirements({"username": "u", "password_file": "pw"}, base=tmp_path)
    assert req.password == SECRET and SECRET not in repr(req)
    sign = parse_settings({"sign": {"key": "k.pem", "cert": "c.pem", "password_file": "pw"}}, base=tmp_path)
    assert sign is not None and sign.sign is not None and sign.sign.password == SECRET
    assert SECRET not in repr(sign)
    with pytest.raises(ConfigError, match=r"^wsse\.sign: give password or password_file, not both$"):
        parse_settings({"sign": {"key": "k.pem", "cert": "c.pem", "password_file": "pw", "password": SECRET}}, base=tmp_path)


def test_a_ca_bundle_is_found_beside_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_tls takes its path from the config file's folder, as every other file of the config."""
    conf = tmp_path / "conf"
    (conf / "keys").mkdir(parents=True)
    (conf / "keys" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (conf / "bridge.yaml").write_text("verify_tls: keys/ca.pem\n")
    monkeypatch.chdir(tmp_path)
    assert make_settings(conf / "bridge.yaml").verify_tls == str(conf / "keys" / "ca.pem")
