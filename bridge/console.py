"""Progress bars for long command-line work (loading many WSDLs, ``contract``), with ``rich``, on
stderr, and only when stderr is a terminal: a pipe or a CI log gets no escape codes."""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(label: str, enabled: bool | None = None) -> Any:
    """A ``rich.progress.Progress`` labelled ``label`` (use it as a context manager and add one task), or
    None when ``enabled`` is False, or None and stderr is not a terminal."""
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
