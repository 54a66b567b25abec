"""The solver's values of one model component, by its index: what every table starts from."""

from __future__ import annotations

from typing import Any

import numpy as np

from hwbopt.compile import Compiled


def values(comp: Compiled, x: np.ndarray, component: str) -> dict[Any, float]:
    """{index: value} of a variable component (its index tuple depends on the component)."""
    return {idx: float(x[j]) for idx, j in comp.cols(component).items()}


def is_on(v: float) -> bool:
    """A binary's value read as the decision it is (solver noise such as 9e-16 is off)."""
    return v > 0.5
