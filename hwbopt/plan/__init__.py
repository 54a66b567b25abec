"""``hwbopt plan``: one set of commitments that holds up across the futures a stress set draws.

Two-stage stochastic programming (see ``models/plan.md``): the **first stage** (every integer
decision, recruitment and release, the first year's money and activity; declared per
component as ``stage`` in the part modules, read by :mod:`hwbopt.plan.stages`) takes one value
shared by every scenario; the **second stage** (everything else) adapts to each scenario's
numbers. Scenarios are drawn from a stress set exactly as ``hwbopt stress`` draws them
(:mod:`hwbopt.plan.scenarios`); the deterministic equivalent ("extensive form") is one HiGHS
MIP over all of them (:mod:`hwbopt.plan.extensive`), with elastic slack so that no commitment
can make a scenario impossible (complete recourse); :mod:`hwbopt.plan.measures` computes RP,
EV, EEV, VSS, WS and EVPI, the outcome distributions and the commitments in words, and
:mod:`hwbopt.plan.run` puts them together (each plan re-evaluated scenario by scenario).

Every number reported is computed from decision values: a scenario's value ``f_s`` is its own
objective of its own plan (``c_s · x_s + offset``) with the penalties of any elastic slack it
uses (subtracted for ``outcome``, added for ``cost``); outcomes come from activity through the
response curves. Nothing is read from an auxiliary variable the objective leaves free.

Python API::

    from hwbopt.plan import Risk, plan
    result = plan(instance, scenarios=20, seed=7, risk=Risk("cvar", alpha=0.9, weight=0.5))
    result.summary()  # the JSON of ``hwbopt plan --json``
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.results import Result
from hwbopt.schema import Instance
from hwbopt.status import Status

EXPECTATION, CVAR = "expectation", "cvar"
RISK_MEASURES = (EXPECTATION, CVAR)


@dataclass(frozen=True)
class Risk:
    """The measure the hedged plan optimises: ``expectation`` (weight 0), or mean-risk
    ``(1 − weight)·E[f] + weight·CVaR_alpha[f]`` with CVaR the mean of the worst ``1 − alpha``
    of the probability (the lowest values of a maximised objective, the costliest of ``cost``)
    in the Rockafellar–Uryasev linear form.

    With ``measure="expectation"`` the ``weight`` is 0 whatever is given; ``cvar`` with
    weight 1 is pure CVaR. Checked on construction: ``0 < alpha < 1``, ``0 <= weight <= 1``
    (``ValueError``; the CLI turns it into a usage error).
    """

    measure: str = EXPECTATION
    alpha: float = 0.9
    weight: float = 0.0

    def __post_init__(self) -> None:
        if self.measure not in RISK_MEASURES:
            raise ValueError(f"unknown risk measure {self.measure!r}: expected "
                             f"{' or '.join(RISK_MEASURES)}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {self.alpha!r}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"the CVaR weight must lie in 0..1, got {self.weight!r}")

    @property
    def lam(self) -> float:
        """The weight on CVaR actually used: 0 for ``expectation``."""
        return self.weight if self.measure == CVAR else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "alpha": self.alpha, "weight": self.lam}


DEFAULT_RISK = Risk()  # the expectation

# the keys of ``PlanResult.summary()``, in the order (the JSON contract)
SUMMARY_KEYS = (
    "status", "message", "method", "scenarios", "seed", "stress_set", "risk", "objective_kind",
    "rp", "ev", "eev", "vss", "ws", "evpi", "bound", "gap", "first_stage",
    "differs_from_deterministic", "hedged", "deterministic", "elastic", "out_of_sample",
    "seconds", "kind", "provenance", "labels", "decomposition",
)


def _num(value: float | None) -> float | None:
    """JSON has no infinity or NaN: an unknown number is null."""
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass
class PlanResult:
    """What ``hwbopt plan`` found: the JSON contract's fields, typed, plus the arrays behind
    them.

    - ``rp``: the hedged plan's value under the risk measure (the extensive form's objective);
      ``bound``/``gap``: HiGHS's proven bound on it and the relative gap;
    - ``ev``: the mean-value problem's optimum; ``eev``: the mean-value plan's first stage on
      the scenarios with its own recourse; ``vss = rp − eev`` (``eev − rp`` for ``cost``);
      ``ws``: the scenarios' own optima under the same risk measure; ``evpi = ws − rp``
      (``rp − ws`` for ``cost``). VSS and EVPI are >= 0 up to the gap.
    - ``first_stage``: [{decision, text, value}], the hedged plan's commitments;
      ``differs_from_deterministic``: [{decision, text, hedged, deterministic, needed_share}]
      where ``needed_share`` is the probability of the scenarios whose own optimum takes the
      hedged value;
    - ``hedged``/``deterministic``: each plan's {mean, cvar, p5, p50, p95,
      target_probability: {priority: share}} over the scenarios;
    - ``elastic``: [{scenario, rule, text, amount}] for every slack the hedged plan uses;
    - ``result``: the hedged plan's tables, its first stage fixed and the recourse re-solved
      on the instance itself (``tables_scenario`` = "instance"), from the normal pipeline,
      checked; what ``--out`` writes beside ``summary.json``.

    Per-scenario arrays (probability order = scenario order 0..S−1 of the stress set):
    ``probability``, ``values`` (input values, S × inputs), ``f_hedged``,
    ``f_deterministic``, ``f_ws``, and ``x_hedged`` (S × columns of the instance's compiled
    model: each scenario's whole plan, first stage included) for checking each scenario's
    plan independently (:func:`hwbopt.plan.scenarios.scenario_instance`).
    """

    status: Status
    message: str
    scenarios: int
    seed: int
    stress_set: str
    risk: Risk
    objective_kind: str
    method: str = "extensive"
    rp: float | None = None
    ev: float | None = None
    eev: float | None = None
    vss: float | None = None
    ws: float | None = None
    evpi: float | None = None
    bound: float | None = None
    gap: float | None = None
    first_stage: list[dict[str, Any]] = field(default_factory=list)
    differs_from_deterministic: list[dict[str, Any]] = field(default_factory=list)
    hedged: dict[str, Any] = field(default_factory=dict)
    deterministic: dict[str, Any] = field(default_factory=dict)
    elastic: list[dict[str, Any]] = field(default_factory=list)
    out_of_sample: dict[str, Any] | None = None  # with --evaluate
    # the decomposition's rounds and where its time went (None for the extensive form)
    decomposition: dict[str, Any] | None = None
    seconds: float = 0.0
    provenance: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    result: Result | None = None
    tables_scenario: str = "instance"
    probability: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    f_hedged: np.ndarray | None = field(default=None, repr=False)
    f_deterministic: np.ndarray | None = field(default=None, repr=False)
    f_ws: np.ndarray | None = field(default=None, repr=False)
    x_hedged: np.ndarray | None = field(default=None, repr=False)
    # the hedged plan's commitments (whole columns, second stage 0): x_hedged[s] reads a site
    # scenario s takes away as closed
    z_hedged: np.ndarray | None = field(default=None, repr=False)
    inputs: list[str] = field(default_factory=list)  # the stress set's input names

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import plan_repr

        return plan_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import plan_html

        return plan_html(self)

    @property
    def optimal(self) -> bool:
        return self.status == Status.OPTIMAL

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The hedged plan's tables on the instance (as ``solve --out`` writes them; empty
        without a plan) and the plan's own (:mod:`hwbopt.plan.tables`)."""
        from hwbopt.plan.tables import plan_tables
        from hwbopt.results import empty_tables

        own = self.result.tables if self.result is not None else empty_tables()
        return {**own, **plan_tables(self)}

    def summary(self) -> dict[str, Any]:
        """The JSON of ``hwbopt plan --json`` (``summary.json`` of ``--out``): exactly the
        issue's keys, ``kind`` = "plan"; unknown numbers are null."""
        out: dict[str, Any] = {
            "status": str(self.status), "message": self.message, "method": self.method,
            "scenarios": self.scenarios, "seed": self.seed, "stress_set": self.stress_set,
            "risk": self.risk.as_dict(), "objective_kind": self.objective_kind,
            **{k: _num(getattr(self, k)) for k in ("rp", "ev", "eev", "vss", "ws", "evpi",
                                                    "bound", "gap")},
            "first_stage": self.first_stage,
            "differs_from_deterministic": self.differs_from_deterministic,
            "hedged": self.hedged, "deterministic": self.deterministic,
            "elastic": self.elastic, "out_of_sample": self.out_of_sample,
            "seconds": round(self.seconds, 6), "kind": "plan",
            "provenance": self.provenance, "labels": self.labels,
            "decomposition": self.decomposition,
        }
        return {k: out[k] for k in SUMMARY_KEYS}


def plan(
    instance: Instance,
    *,
    stress_set: str | None = None,
    scenarios: int | None = None,
    seed: int | None = None,
    risk: Risk = DEFAULT_RISK,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    method: str = "auto",
    workers: int = 1,
    scheduler: str | None = None,
    evaluate: int | None = None,
    on_round: Callable[[Any], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> PlanResult:
    """Choose the first stage that does best across the first ``scenarios`` scenarios of
    ``stress_set`` (drawn with ``seed``, default the set's), under ``risk``.

    Raises :class:`hwbopt.errors.UsageError` (exit 2) for a request no run can honour (no
    stress set, too many table rows, a bad limit); a solve that ends without a proven optimum
    comes back with its status (``time_limit``, ``infeasible``, …) and message, as ``solve``
    does. ``status`` is ``optimal`` only when the chosen method proves the hedged plan within
    ``mip_gap`` of its bound (default the instance's ``settings.mip_gap``).

    ``method``: ``extensive``, ``decomposed`` or ``auto`` (by size; models/plan.md).
    ``workers``/``scheduler``: where the scenario subproblems run (local processes, or an
    existing Dask cluster). ``evaluate``: test both plans on that many fresh futures
    (:mod:`hwbopt.plan.evaluate`). ``on_round``: called with each round of the decomposition
    (:class:`hwbopt.plan.decomposed.Round`: phase, bound, incumbent, cuts, seconds).
    ``on_step``: told, in words, of each stage as it starts (the mean-value problem, the
    hedged plan, each plan on the scenarios, perfect information, the fresh futures).
    """
    from hwbopt.plan.run import run_plan

    return run_plan(instance, stress_set=stress_set, scenarios=scenarios, seed=seed, risk=risk,
                    objective=objective, time_limit=time_limit, mip_gap=mip_gap,
                    method=method, workers=workers, scheduler=scheduler, evaluate=evaluate,
                    on_round=on_round, on_step=on_step)


__all__ = ["CVAR", "DEFAULT_RISK", "EXPECTATION", "RISK_MEASURES", "SUMMARY_KEYS", "PlanResult",
           "Risk", "plan"]
