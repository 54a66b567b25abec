"""One solve's outcome: :class:`Result`, with its status, tables and the JSON summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.status import Status


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: an unknown bound or gap is null."""
    return value if value is not None and np.isfinite(value) else None


def min_attainment(outcomes: pd.DataFrame) -> float | None:
    """The lowest share of a target met: min of achieved / target over the rows of an outcomes
    table with a target above zero (None when there is none). The equity objective maximises
    it (models/equity.md)."""
    if not len(outcomes) or "target" not in outcomes:
        return None
    target = pd.to_numeric(outcomes["target"], errors="coerce")
    rows = target.notna() & (target > 0)
    if not rows.any():
        return None
    return float((outcomes["achieved"][rows].astype(float) / target[rows]).min())


@dataclass
class Result:
    """The outcome of one solve: status, objective, the tidy tables and the summary."""

    status: str
    objective: float | None
    objective_kind: str
    instance_name: str
    currency: str
    money_unit: str
    years: tuple[int, ...]
    tables: dict[str, pd.DataFrame]
    message: str = ""
    solve_seconds: float = 0.0
    build_seconds: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    n_integer: int = 0
    checked: bool = False
    warnings: list[str] = field(default_factory=list)
    solver: str = ""
    mip_gap: float | None = None  # relative gap of the reported plan (0 for an LP)
    bound: float | None = None  # best proven bound on the objective
    gap_tolerance: float | None = None  # the gap asked for (mixed-integer models only)
    solution: np.ndarray | None = field(default=None, repr=False)  # compiled columns' values
    provenance: dict[str, Any] = field(default_factory=dict)  # see hwbopt.provenance
    labels: dict[str, Any] = field(default_factory=dict)  # names and units of the ids
    scenario: str | None = None  # the named scenario applied (solve --scenario), if any
    option: str | None = None  # the named option applied (solve --option), if any

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import result_repr

        return result_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import result_html

        return result_html(self)

    @property
    def optimal(self) -> bool:
        return self.status == Status.OPTIMAL

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def spend_by_partner(self) -> dict[str, float]:
        alloc = self.tables["allocation"]
        by = alloc.groupby("partner")["money"].sum() if len(alloc) else {}
        return {p: float(by.get(p, 0.0)) for p in self._partners()}

    def _partners(self) -> list[str]:
        return list(dict.fromkeys(self.tables["budgets"]["partner"]))

    def _staff_used(self) -> dict[str, dict[str, float]]:
        """{role: {year: FTE deployed}} over every employer."""
        dep = self.tables["deployment"]
        out: dict[str, dict[str, float]] = {}
        for role in dict.fromkeys(self.tables["staff"]["role"]):
            rows = dep[dep.role == role]
            out[role] = {str(y): float(rows[rows.year == y].fte.sum()) for y in self.years}
        return out

    def _buildings(self) -> list[dict[str, Any]]:
        return [
            {"id": r.site, "year": int(r.year), "open": bool(r.open),
             "users": [u for u in str(r.users).split(";") if u]}
            for r in self.tables["sites"].itertuples(index=False)
        ]

    def summary(self) -> dict[str, Any]:
        """The JSON object of ``hwbopt solve --json``."""
        solved = self.objective is not None
        outcomes = self.tables["outcomes"]
        targets = [
            {"priority": r.priority, "year": int(r.year), "target": float(r.target),
             "achieved": float(r.achieved), "shortfall": float(r.shortfall), "met": bool(r.met),
             "hard": bool(r.hard)}
            for r in outcomes.itertuples() if not pd.isna(r.target)
        ] if solved else []
        by_priority = outcomes.groupby("priority", sort=False)["achieved"].sum() if solved else {}
        return {
            "status": self.status,
            "message": self.message,
            "objective": self.objective,
            "objective_kind": self.objective_kind,
            "total_spend": float(self.tables["allocation"]["money"].sum()) if solved else None,
            "total_cost": float(self.tables["budgets"]["spent"].sum()) if solved else None,
            "spend_by_partner": self.spend_by_partner if solved else {},
            "outcome_by_priority": {k: float(v) for k, v in by_priority.items()} if solved
            else {},
            "targets": targets,
            "targets_met": int(sum(t["met"] for t in targets)),
            "targets_total": len(targets),
            "min_attainment": min_attainment(outcomes) if solved else None,
            "solve_seconds": round(self.solve_seconds, 6),
            "build_seconds": round(self.build_seconds, 6),
            "mip_gap": _finite(self.mip_gap),
            "bound": _finite(self.bound),
            "staff": self._staff_used() if solved else {},
            "buildings": self._buildings() if solved else [],
            "model": {"variables": self.n_variables, "constraints": self.n_constraints,
                      "integer_variables": self.n_integer},
            "checked": self.checked,
            "instance": self.instance_name,
            "years": list(self.years),
            "currency": self.currency,
            "money_unit": self.money_unit,
            "solver": self.solver,
            "warnings": list(self.warnings),
            "kind": "solve",
            "scenario": self.scenario,
            "option": self.option,
            "provenance": dict(self.provenance),
            "labels": self.labels,
        }
