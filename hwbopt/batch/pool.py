"""Worker processes on this machine for a stress batch: a standard-library process pool.

A local Dask cluster takes 1.4-3 s to start (each worker a fresh interpreter importing hwbopt,
Pyomo and pandas) against a county batch of a few seconds, which ate most of what a second
worker gives. Here the workers are forked from this process when the run begins, before its
set-up solves the base plan, so they start in milliseconds with everything already imported
and are idle and ready when the first block is handed out.

Forking is safe only while this process has no other threads: a forked child has just the
thread that forked, and a lock or HiGHS task scheduler held by another thread is lost with it.
So the pool forks only when Python sees one thread and this process has not yet run HiGHS with
more than one (:func:`hwbopt.highs.threaded`); otherwise, and where fork is not the platform's
way (macOS, Windows), workers come from a fresh interpreter ("forkserver" or "spawn"), which
costs the Dask cluster's start-up but nothing else. A pool restarted after a worker died is
never forked: by then this process has run HiGHS and shows a progress bar.

Workers ignore Ctrl-C (this process stops them) and, on Linux, die with this process, so a
killed ``hwbopt stress`` leaves no orphan behind to hold memory. A pool may be given a
``rehearse`` function each worker runs when it starts: the stress run's loads the compiled
kernels there, while this process is still solving the base plan.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from hwbopt.errors import HwbError, UsageError

T = TypeVar("T")
R = TypeVar("R")

# a worker that dies takes its pool down; the pool is started again this many times (Dask's
# ``distributed.scheduler.allowed-failures`` default is 3) before the run fails
RESTARTS = 3
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def fork_is_safe() -> bool:
    """Whether a child forked now gets a sound copy of this process (see the module
    docstring)."""
    from hwbopt.highs import threaded

    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and not threaded())


def _context(fork: bool) -> multiprocessing.context.BaseContext:
    if fork:
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # the server imports the engine once; every worker is forked from it ready to solve
        ctx.set_forkserver_preload(["hwbopt.batch.engine"])
        return ctx
    return multiprocessing.get_context("spawn")


def _worker_setup() -> None:
    """In each worker: leave Ctrl-C to the process that started it, die with it, and start
    HiGHS's task scheduler afresh."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # HiGHS starts its task scheduler on its first run in a process, and a fork copies the
    # scheduler but not its threads: a MIP in the child may then wait forever for tasks they
    # hold (measured with plan's workers: a process that had solved one county MIP, forked,
    # hung in its child's first MIP). Dropped without waiting for threads that are not here,
    # the child's next run starts a scheduler of its own; in a fresh interpreter it is a no-op
    import highspy

    highspy.Highs.resetGlobalScheduler(False)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no glibc: an orphan then lives until its queue closes
            pass


def _worker_start(rehearse: Callable[[], object] | None) -> None:
    """:func:`_worker_setup`, then ``rehearse()`` (a worker's first task then starts warm)."""
    _worker_setup()
    if rehearse is not None:
        # a head start only: on an error the worker's first task meets the same trouble
        # itself, and reports it as the task's
        with contextlib.suppress(Exception):
            rehearse()


def _ready() -> bool:
    return True


class LocalPool:
    """``workers`` processes on this machine, started at once (:meth:`start`) and used for
    one batch (:meth:`run`); close it (or use it as a context manager) to stop them."""

    def __init__(self, workers: int, rehearse: Callable[[], object] | None = None):
        if workers < 1:
            raise UsageError("--workers must be at least 1")
        self.workers = workers
        self.rehearse = rehearse  # run by each worker as it starts (module docstring)
        self.forked = False
        self.restarts = 0
        self._executor: ProcessPoolExecutor | None = None

    def start(self, fork: bool | None = None) -> LocalPool:
        """Start the workers now: forked when that is safe (``fork`` None) or asked."""
        self.forked = fork_is_safe() if fork is None else fork
        self._executor = ProcessPoolExecutor(self.workers, mp_context=_context(self.forked),
                                             initializer=_worker_start,
                                             initargs=(self.rehearse,))
        # a fork pool starts every process on its first task: that is now, while this
        # process is still single-threaded (it does not wait for the answer)
        self._executor.submit(_ready)
        return self

    def run(self, task: Callable[..., R], jobs: Sequence[tuple[T, tuple[Any, ...]]]
            ) -> Iterator[tuple[T, R]]:
        """``task(*args)`` for each ``(name, args)`` of ``jobs`` on the workers, yielding
        ``(name, result)`` as each finishes. A job whose worker died is run again on a pool
        started afresh, up to ``RESTARTS`` times; an exception ``task`` raises is raised
        here."""
        pending = dict(jobs)
        while pending:
            executor = self._executor or self.start()._executor
            assert executor is not None
            futures: dict[Future[R], T] = {executor.submit(task, *args): name
                                           for name, args in pending.items()}
            try:
                while futures:
                    finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        name = futures.pop(fut)
                        result = fut.result()
                        del pending[name]
                        yield name, result
            except BrokenProcessPool:
                self.restarts += 1
                if self.restarts > RESTARTS:
                    raise HwbError(
                        f"the local workers died {self.restarts} times during the batch; "
                        f"{len(pending)} blocks were left unsolved (hwbopt stress --resume "
                        "solves them)") from None
                self.close()
                self.start(fork=False)

    def close(self, kill: bool = False) -> None:
        """Stop the workers: after their current task, or at once (``kill``)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if kill:
            # the pool has no public way to stop a worker mid-task; its process table is it
            for proc in list(getattr(executor, "_processes", {}).values()):
                proc.kill()
        executor.shutdown(wait=not kill, cancel_futures=True)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.close(kill=kind is not None)
