"""What every config section parser shares (the settings, WS-Security, authentication): ``${VAR}``
substitution for secrets, and the check of a section's keys."""

from __future__ import annotations

import os
import re
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


def section_keys(data: Any, where: str, known: set[str]) -> dict[str, Any]:
    """A copy of the config section ``data`` (a mapping) at ``where``; a key not in ``known`` is a
    ``ConfigError`` that names it and lists the known ones."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})")
    return dict(data)
