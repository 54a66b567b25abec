"""The expected results of the shipped instances, ``instances/NAME/expected.json``.

Every expected number is one of two kinds, each in its own section of the file:

``derived``
    Worked out without hwbopt: by hand (the instance's README shows the working; each entry's
    ``how`` names where) and recomputed from the instance's files by plain arithmetic in
    ``tests/test_instances.py``. Asserted tightly (the section's ``tolerance``, relative): a
    miss means the model, or the derivation, is wrong.
``regression``
    What hwbopt and HiGHS gave when the value was recorded (the section's ``about`` says which
    versions, and how stable the value is). Asserted to the section's ``tolerance``: a miss
    still fails the test, and its message says the value is a regression value that may
    legitimately move with a solver version.

The layout::

    {"instance": NAME, "status": ..., "objective_kind": ...,
     "derived":    {"about": ..., "tolerance": REL,
                    "solve": {KEY: ENTRY, ...},
                    "compare": {"tolerance": REL, "about": ..., "value_of_pooling": ENTRY,
                                "options": {OPTION: ENTRY, ...}}},
     "regression": {... the same ...}}

An ENTRY is ``{"value": ..., "how": ...}``: ``how`` says where a derived value is derived (a
regression entry may carry a ``note`` instead). A value is a number, a string, a boolean, a
list (compared as a set) or an object of such values, compared key by key: only the keys it
records (an option's ``{"status", "objective", ...}`` records no objective where none was
recorded). A key is in one section only; ``status`` and ``objective_kind`` are facts of the
run, checked exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from hwbopt.shipped import shipped_instance

KINDS = ("derived", "regression")


@dataclass(frozen=True)
class Expected:
    """One expected value, with what a failure should say about it."""

    instance: str
    part: str  # "solve" or "compare"
    key: str
    kind: str  # "derived" or "regression"
    value: Any
    tolerance: float
    how: str  # where it is derived, or how it was recorded

    def check(self, got: Any) -> None:
        """Assert ``got`` (shaped like :attr:`value`) matches, with a message for its kind."""
        problems = _differences(got, self.value, self.tolerance, self.key)
        if not problems:
            return
        where = f"{self.instance} expected.json, {self.kind}.{self.part}.{self.key}"
        if self.kind == "derived":
            raise AssertionError(
                f"{where}: {'; '.join(problems)}. This value is DERIVED ({self.how}), so the "
                "model or the derivation is wrong.")
        raise AssertionError(
            f"{where}: {'; '.join(problems)} (relative tolerance {self.tolerance:g}). This is a "
            f"REGRESSION value ({self.how}), not derived: it may legitimately move with a "
            "solver version (a mixed-integer optimum anywhere within the MIP gap, or an "
            "alternative optimum). If that is why, record the new value; if not, the model's "
            "results have changed.")


@cache
def load(name: str) -> dict[str, Any]:
    data = json.loads((shipped_instance(name) / "expected.json").read_text())
    assert set(data) >= {"status", "objective_kind", *KINDS}, sorted(data)
    return data


def entries(name: str, part: str = "solve") -> dict[str, Expected]:
    """Every expected value of ``part`` (``solve``; ``compare``: ``value_of_pooling`` and
    ``option:NAME`` per option), derived and regression together."""
    data = load(name)
    found: dict[str, Expected] = {}
    for kind in KINDS:
        section = data[kind]
        values = section.get(part, {})
        tol = float(values.get("tolerance", section["tolerance"]))
        about = values.get("about", section.get("about", ""))
        items = [(k, e) for k, e in values.items() if k not in ("tolerance", "about", "options")]
        items += [(f"option:{k}", e) for k, e in values.get("options", {}).items()]
        for key, entry in items:
            assert key not in found, f"{name}: {part}.{key} is both derived and regression"
            how = entry.get("how") or entry.get("note") or about
            assert kind != "derived" or entry.get("how"), f"{name}: derived {key} says no how"
            found[key] = Expected(name, part, key, kind, entry["value"], tol, how)
    return found


def value(name: str, key: str, part: str = "solve") -> Any:
    """An expected value, whichever its kind (for tests that only need the number)."""
    return entries(name, part)[key].value


def _differences(got: Any, want: Any, tol: float, label: str) -> list[str]:
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{label}: got {got!r}, expected an object {want!r}"]
        out = [f"{label}[{k}] missing" for k in want if k not in got]
        for k in want:
            if k in got:
                out += _differences(got[k], want[k], tol, f"{label}[{k}]")
        return out
    if isinstance(want, list):
        return [] if set(got) == set(want) else [f"{label}: got {sorted(got)}, expected "
                                                 f"{sorted(want)}"]
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return [] if got == want else [f"{label}: got {got!r}, expected {want!r}"]
    if got is None or not math.isclose(float(got), float(want), rel_tol=tol, abs_tol=1e-9):
        return [f"{label}: got {got!r}, expected {want!r}"]
    return []
