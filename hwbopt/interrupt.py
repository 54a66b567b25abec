"""Ctrl-C in the command line: a long solve need not be waited for, and the process leaves
without letting a solver thread meet the interpreter's shutdown.

HiGHS releases the GIL while it solves, but Python acts on a signal only between its main
thread's bytecodes, so a solve there held Ctrl-C until it ended (20 s, the base plan of a
generated 20k instance in ``hwbopt stress``; minutes at 100k). :func:`interruptible` runs such
a solve in a daemon thread that the main thread awaits interruptibly. Only a solve of an
instance nothing else holds may be left running so (:func:`hwbopt.highs.solve_compiled`): a
caller that changes its instance while unwinding from the Ctrl-C would change it under the
running solver (a segfault). And only in the command line (``CTRL_C_ENDS_PROCESS``, set by
:func:`hwbopt.cli.main`), which then ends: a script or notebook calling the API keeps its
solves on its own thread, as a solve left running there would go on using a core.

A daemon thread still inside HiGHS when Python finalises is ended, as it comes back, by an
unwind that C++ code does not let through: the process aborts (exit -6, "terminate called
without an active exception"). :func:`leave` therefore exits at once, its output flushed,
while such a thread lives (this one's, or the stress set-up's base solve,
:class:`hwbopt.batch.setup.Background`). Kept free of heavy imports: every command starts
here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

SOLVER_THREAD = "hwbopt-highs"  # the name of a thread :func:`interruptible` solves in
CTRL_C_ENDS_PROCESS = False  # the command line's (module docstring)


def interruptible(solve: Callable[[], None]) -> None:
    """``solve()`` (a HiGHS run of an instance nothing else holds): in the command line, on
    the main thread of a process that takes Ctrl-C, in a daemon thread awaited so that Ctrl-C
    raises here at once, leaving the solve to run until the process exits; elsewhere (the API,
    a worker, which ignores Ctrl-C, another thread) here. The answer is the same: HiGHS keeps
    its state in the instance."""
    if not CTRL_C_ENDS_PROCESS or threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        solve()
        return
    failed: list[BaseException] = []

    def run_it() -> None:
        try:
            solve()
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run_it, name=SOLVER_THREAD, daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def solver_left_running() -> bool:
    """Whether a daemon thread of hwbopt's (a solve) is still running."""
    return any(t.daemon and t.is_alive() and t.name.startswith("hwbopt-")
               for t in threading.enumerate())


def leave(code: int) -> NoReturn:
    """Exit with ``code`` once what the command must say is said: at once, output flushed,
    when the command line left a solve running (module docstring), else as Python does."""
    if CTRL_C_ENDS_PROCESS and solver_left_running():
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


__all__ = ["CTRL_C_ENDS_PROCESS", "SOLVER_THREAD", "interruptible", "leave",
           "solver_left_running"]
