"""Where in a config file a key is: line numbers from the YAML loader's marks, so that an error says
``file:line: key.path: problem`` (bridge.gateway and ``make_settings`` use it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass
class Marks:
    """Line numbers of the config's keys, by key path (from the YAML loader's marks)."""

    file: str
    lines: dict[tuple[str, ...], int]

    def at(self, path: tuple[str, ...]) -> str:
        """``file:line`` of the longest prefix of ``path`` that has a line."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return f"{self.file}:{line}"
        return self.file


def marks(file: str, text: str) -> Marks:
    """Lines of the keys of a YAML (or JSON: YAML reads it) config file."""
    lines: dict[tuple[str, ...], int] = {}
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return Marks(file, lines)

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, str(k.value))
                lines[key] = k.start_mark.line + 1
                walk(v, key)

    if root is not None:
        lines[()] = root.start_mark.line + 1
        walk(root, ())
    return Marks(file, lines)


_WHERE = re.compile(r"^([A-Za-z_][\w.\-\[\]]*?)(?::| \(|$)")


def locate(marks: Marks, prefix: tuple[str, ...], message: str) -> str:
    """``file:line: key.path: problem`` for a ``ConfigError`` message that starts with a key path
    relative to ``prefix`` (as the settings' messages do: ``routes.X: expected ...``)."""
    m = _WHERE.match(message)
    rel: tuple[str, ...] = ()
    unknown = re.match(r"unknown setting\(s\): ([\w-]+)", message)
    if unknown:  # Settings.merged names the keys, not a path: the line is the first unknown key's
        return f"{marks.at((*prefix, unknown.group(1)))}: {'.'.join(prefix) + ': ' if prefix else ''}{message}"
    if m and ("." in m.group(1) or (*prefix, m.group(1)) in marks.lines or m.group(1) in ("endpoint", "wsdl", "backend")):
        rel = tuple(m.group(1).split("."))
    path = tuple(re.sub(r"\[\d+\]$", "", p) for p in (*prefix, *rel))  # list items: the line of the list's key
    where = ".".join(prefix)
    text = f"{where}.{message}" if where and rel else f"{where}: {message}" if where else message
    return f"{marks.at(path)}: {text}"
