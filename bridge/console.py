"""Progress bars, spinners and tables for long command-line work (loading WSDLs, ``contract``, ``record``),
with ``rich``, and only on a terminal: a pipe or a CI log gets no escape codes. Progress goes to stderr, so
what a command writes to stdout (a spec, JSON) is the same on a terminal and in a pipe."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any


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


class Stages:
    """A spinner on stderr naming the stage a long piece of work is in ("parsing the WSDL and its imports
    (12 documents)", "building the OpenAPI spec"), with a bar once ``count`` gives a total (``bar=True``);
    silent when stderr is not a terminal, and under ``-v`` (an INFO log): the log lines tell the story then,
    and would break the spinner's line.

    Use it as a context manager and pass it (it is callable with the stage's text) as the ``progress``
    callback of ``bridge.load`` and the loaders under it. It leaves nothing on screen when done."""

    def __init__(self, label: str, enabled: bool | None = None, *, bar: bool = False) -> None:
        self.label = label
        self.enabled = enabled if enabled is not None else sys.stderr.isatty() and not logging.getLogger().isEnabledFor(logging.INFO)
        self.bar = bar
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Stages:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

            columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
            if self.bar:  # the bar pulses until a total is known; the count is blank until then
                columns[1:1] = [BarColumn(), TextColumn("{task.fields[count]}", markup=False)]
            # no redirection: stdout is the command's output, and a log handler made meanwhile must keep the real stderr
            self._progress = Progress(
                *columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(f"{self.label}: starting", total=None, count="")
        return self

    def __call__(self, text: str) -> None:
        """Shows ``text`` as the current stage, drawn at once (a line: cheap next to any stage's work)."""
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self.label}: {text}", refresh=True)

    def count(self, done: int, total: int, text: str) -> None:
        """Moves the bar to ``done`` of ``total`` and shows ``text`` (what was just done)."""
        if self._progress is not None:
            self._progress.update(
                self._task, completed=done, total=total, count=f"{done}/{total}", description=f"{self.label}: {text}", refresh=True
            )

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, exc, tb)
            self._progress = None


def print_table(stream: IO[str], columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None) -> None:
    """A rich table of ``rows`` on ``stream`` (which must be a terminal: callers keep their plain form for pipes)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, title=title, title_justify="left", box=None, header_style="bold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # as text: a name in [brackets] is not rich markup
    Console(file=stream).print(table)
