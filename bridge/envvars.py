"""``${VAR}`` substitution for secrets in configuration (the settings and the WS-Security section)."""

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
