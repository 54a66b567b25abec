"""Progress on stderr for a person waiting at a terminal: one spinner (what is happening now)
or bar (done of a known total) per command, the same for every command.

The library stays free of terminal code: an analysis reports progress through plain callbacks
(:data:`Step`, :data:`Count`, :data:`CountedStep`, whose types are all it takes from here) and
a command hands it the methods of an :class:`Indicator`. The indicator is shown only when
stderr is a terminal and the user did not ask for ``--quiet``; it is never written into a file
or a pipe, and ``--json`` does not hide it (the JSON goes to stdout, the indicator to the
terminal's stderr). It appears only after a short delay (:data:`DELAY`; :data:`SOLVE_DELAY`
for ``solve``), so a quick run shows nothing, and it erases itself when the command finishes,
before any result is printed. ``HWBOPT_PROGRESS_DELAY`` (seconds) overrides the delay, e.g. 0
to see it at once.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported only when an indicator is shown
    from rich.progress import Progress, TaskID

Step = Callable[[str], None]  # what is happening now ("solving the plan LP")
Count = Callable[[int, int], None]  # done of total (coalitions, alternatives)
CountedStep = Callable[[int, int, str], None]  # done of total, and what is being done now

DELAY = 1.0  # seconds of silence before an analysis shows anything
SOLVE_DELAY = 2.0  # a single solve: most finish well within this
DELAY_ENV = "HWBOPT_PROGRESS_DELAY"


def shown(quiet: bool, stream: IO[str] | None = None) -> bool:
    """Whether to show an indicator: not ``--quiet``, and stderr is a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream is no terminal
        return False


def _delay(default: float) -> float:
    text = os.environ.get(DELAY_ENV)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 else default


class Indicator:
    """A spinner that becomes a bar when a total is known; does nothing when disabled.

    Use as a context manager; :meth:`step`, :meth:`count` and :meth:`counted` are the
    callbacks an analysis takes, :meth:`note` a line that stays above the indicator.
    """

    def __init__(self, enabled: bool, text: str, delay: float = DELAY) -> None:
        self.enabled = enabled
        self.text = text
        self.delay = _delay(delay)
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = False
        self._closed = False
        self._description = text

    def __enter__(self) -> Indicator:
        if not self.enabled:
            return self
        self._progress, self._task = _make_progress(self.text)
        if self.delay <= 0:
            self._start()
        else:
            self._timer = threading.Timer(self.delay, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._started and self._progress is not None:
                self._progress.stop()

    def _start(self) -> None:
        """Show the indicator (after the delay, on the timer's thread)."""
        with self._lock:
            if self._closed or self._progress is None:
                return
            self._started = True
            self._progress.start()

    def _update(self, description: str, done: int | None, total: int | None) -> None:
        if not self.enabled or self._progress is None or self._task is None:
            return
        with self._lock:
            if not self._closed:
                # the count lives in fields, not in rich's own total: a task rich thought
                # finished would stop its spinner and its clock. A new step is drawn at once
                # (a quick one would otherwise fall between two refreshes); counts wait
                # for the next refresh, however many come in between
                new = description != self._description
                self._description = description
                self._progress.update(self._task, description=description, done=done,
                                      of=total, refresh=new and self._started)

    def step(self, text: str) -> None:
        """What is happening now, with no count (a spinner)."""
        self._update(text, None, None)

    def count(self, done: int, total: int, text: str | None = None) -> None:
        """``done`` of ``total`` finished (a bar), optionally saying what is being done."""
        total = max(total, 1)
        self._update(self.text if text is None else text, min(max(done, 0), total), total)

    def counted(self, done: int, total: int, text: str) -> None:
        """:data:`CountedStep`: ``done`` of ``total`` finished, ``text`` being done now."""
        self.count(done, total, text)

    def counter(self, text: str) -> Count:
        """A :data:`Count` callback that keeps ``text`` as the description."""
        return lambda done, total: self.count(done, total, text)

    def note(self, line: str) -> None:
        """A line on stderr that stays (above the indicator while it shows); nothing when
        disabled."""
        if not self.enabled or self._progress is None:
            return
        with self._lock:
            self._progress.console.print(line, highlight=False, markup=False,
                                         soft_wrap=True)


@contextmanager
def indicator(quiet: bool, text: str, delay: float = DELAY) -> Iterator[Indicator]:
    """An :class:`Indicator` shown on stderr if :func:`shown` says so."""
    with Indicator(shown(quiet), text, delay) as ind:
        yield ind


def _make_progress(text: str) -> tuple[Progress, TaskID]:
    from rich.console import Console
    from rich.progress import (
        Progress,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress_bar import ProgressBar
    from rich.text import Text

    class _Bar(ProgressColumn):
        """A bar only where a total is known (no pulsing bar beside a spinner)."""

        def render(self, task: Task) -> Any:
            if task.fields.get("of") is None:
                return Text("")
            return ProgressBar(total=task.fields["of"], completed=task.fields["done"],
                               width=30)

    class _Count(ProgressColumn):
        def render(self, task: Task) -> Text:
            if task.fields.get("of") is None:
                return Text("")
            return Text(f"{task.fields['done']:,}/{task.fields['of']:,}",
                        style="progress.download")

    # transient: the indicator is erased when the command finishes, before results print;
    # stdout is never redirected (it may be a pipe or a file), stderr lines go above it
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), _Bar(), _Count(),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                        redirect_stdout=False, redirect_stderr=True)
    task = progress.add_task(text, total=None, done=None, of=None)
    return progress, task
