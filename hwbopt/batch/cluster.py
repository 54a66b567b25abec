"""The Dask workers a batch runs on: an existing cluster (``--scheduler``) or local processes.

The stress engine's blocks and a plan's scenario subproblems both run here; HiGHS is never
given more than one thread in a worker.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from hwbopt.errors import UsageError

M_TRIM_THRESHOLD = -1  # mallopt parameter number in glibc
TRIM_BYTES = 256 * 1024 * 1024


def relax_malloc_trim() -> bool:
    """Undo a small ``MALLOC_TRIM_THRESHOLD_`` (Dask's nanny sets 64 kB) in this process: with
    it glibc hands memory back after nearly every free, and each warm HiGHS solve pays to get
    it again. Returns whether the call took effect (glibc only)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES))
    except (OSError, AttributeError):
        return False


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None, trim: bool = True) -> Iterator[Any]:
    """A Dask client: on the cluster at ``scheduler``, or on ``workers`` local processes of one
    thread each (closed on exit). ``trim``: relax glibc's trimming in every worker
    (:func:`relax_malloc_trim`)."""
    import distributed  # before dask.config.set: importing it resets the nanny environment
    from dask import config

    # distributed's Client and LocalCluster carry no annotations: held as Any
    client: Any
    if scheduler is not None:
        try:
            client = distributed.Client(  # type: ignore[no-untyped-call]
                scheduler, timeout="10s")
        except OSError as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                             f"({exc})") from None
        try:
            if trim:
                client.run(relax_malloc_trim)
            yield client
        finally:
            client.close()
        return
    environ = dict(config.get("distributed.nanny.pre-spawn-environ", {}))
    if trim:
        environ["MALLOC_TRIM_THRESHOLD_"] = str(TRIM_BYTES)
    with config.set({"distributed.nanny.pre-spawn-environ": environ,
                     "distributed.worker.daemon": False}):
        cluster: Any = distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.ERROR)
    client = distributed.Client(cluster)  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.close()
        cluster.close()
