"""Dask worker preload for a local stress run: a Ctrl-C at the terminal reaches every process
of the group, and the driver alone handles it (it stops the cluster and says how much was
saved); a worker that took it too would print its own traceback as it died."""

from __future__ import annotations

import signal
from typing import Any


def dask_setup(worker: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
