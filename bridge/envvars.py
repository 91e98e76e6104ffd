"""What every config section parser shares (the settings, WS-Security, authentication): ``${VAR}``
substitution, file paths relative to the config file, secrets from the environment or a file, and
the check of a section's keys."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .errors import ConfigError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: Any, where: str) -> Any:
    """``${VAR}`` in a string replaced by the environment variable VAR; an unset one is an error
    (naming the variable, never a value)."""
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in os.environ:
            raise ConfigError(f"{where}: the environment variable {m.group(1)} is not set")
        return os.environ[m.group(1)]

    return _VAR.sub(sub, value)


def config_path(value: Any, where: str, base: Path | None) -> Path:
    """The file a config value names: ``${VAR}`` substituted, ``~`` expanded, and a relative path
    taken from ``base`` (the config file's folder; None: the working directory)."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a file path")
    p = Path(str(expand_env(value, where))).expanduser()
    return p if p.is_absolute() or base is None else base / p


def read_config_file(path: Path, where: str) -> bytes:
    """The bytes of a file the config names; unreadable is a ``ConfigError`` naming ``where`` and the path."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None


def read_secret(data: dict[str, Any], name: str, where: str, base: Path | None) -> str | None:
    """The secret the config section ``data`` (at ``where``) gives as ``name`` (a string, ``${VAR}``
    substituted) or as ``name_file`` (a file holding it alone, on one line: trailing line breaks are
    dropped; relative to ``base``), or None for neither. Both keys are popped from ``data``. Errors
    name the key and the file, never the secret."""
    value, file = data.pop(name, None), data.pop(f"{name}_file", None)
    if value is not None and file is not None:
        raise ConfigError(f"{where}: give {name} or {name}_file, not both")
    if file is not None:
        key = f"{where}.{name}_file"
        p = config_path(file, key, base)
        try:
            # the file's text is taken as it is: no ${VAR} in it, which would name part of the secret in an error
            text = read_config_file(p, key).decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise ConfigError(f"{key}: {p} is not UTF-8 text") from None
        if not text:
            raise ConfigError(f"{key}: {p} is empty")
        if "\n" in text or "\r" in text:
            raise ConfigError(f"{key}: {p} holds more than one line (the secret file must hold the secret alone)")
        return text
    if value is None:
        return None
    if not isinstance(value, str):  # a YAML number or list: quote it; the value itself is not echoed
        raise ConfigError(f"{where}.{name}: expected a string (quote it, or use ${{VAR}} or {name}_file)")
    return str(expand_env(value, f"{where}.{name}"))


def section_keys(data: Any, where: str, known: set[str]) -> dict[str, Any]:
    """A copy of the config section ``data`` (a mapping) at ``where``; a key not in ``known`` is a
    ``ConfigError`` that names it and lists the known ones."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})")
    return dict(data)
