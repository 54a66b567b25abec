"""Build tiny instances in a few lines, for cases whose optimum is derived by hand."""

from __future__ import annotations

from typing import Any

import hwbopt


def tiny(
    *,
    partners: list[dict[str, Any]],
    interventions: list[dict[str, Any]],
    priorities: list[dict[str, Any]] | None = None,
    responses: list[tuple[str, str, float, float]] | None = None,
    budgets: dict[str, float | list[float]] | None = None,
    years: tuple[int, int] = (2013, 2013),
    activity: list[dict[str, Any]] | None = None,
    targets: list[tuple[str, int, float]] | None = None,
    pools: list[dict[str, Any]] | None = None,
    avoided: list[tuple[str, str, float]] | None = None,
    localities: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An instance dict. Interventions take ``need``/``current`` (no localities) inline.

    ``responses`` rows are (intervention, priority, upto_share, effect); ``budgets`` maps a
    partner to one baseline for every year or a list, one per year. Any other keyword (staff,
    sites, roles, exclusive, ...) is passed through as an instance field.
    """
    first, last = years
    year_list = list(range(first, last + 1))
    priorities = priorities or [{"id": "health", "measure": "health gained", "unit": "points",
                                 "target_type": "soft"}]
    rows = []
    acts = list(activity or [])
    for spec in interventions:
        spec = dict(spec)
        need = spec.pop("need", None)
        current = spec.pop("current", 0.0)
        spec.setdefault("unit", "unit")
        rows.append(spec)
        if need is not None:
            acts.append({"intervention": spec["id"], "current": current, "need": need})
    budget_rows = []
    for p, b in (budgets or {}).items():
        values = b if isinstance(b, list) else [b] * len(year_list)
        budget_rows += [{"partner": p, "year": y, "baseline": v}
                        for y, v in zip(year_list, values, strict=True)]
    data: dict[str, Any] = {
        "name": "tiny",
        "currency": "GBP",
        "money_unit": "thousands",
        "horizon": {"first_year": first, "last_year": last},
        "settings": settings or {},
        "partners": [{"kind": "other", **p} for p in partners],
        "pools": pools or [],
        "priorities": priorities,
        "localities": [{"id": loc} for loc in (localities or [])],
        "interventions": rows,
        "activity": acts,
        "responses": [{"intervention": i, "priority": k, "upto_share": u, "effect": e}
                      for (i, k, u, e) in (responses or [])],
        "budgets": budget_rows,
        "targets": [{"priority": k, "year": y, "target": t} for (k, y, t) in (targets or [])],
        "avoided_costs": [{"intervention": i, "partner": p, "saving_per_unit": v}
                          for (i, p, v) in (avoided or [])],
        **extra,
    }
    return data


def build(**kw: Any) -> hwbopt.Instance:
    return hwbopt.instance_from_dict(tiny(**kw))
