"""Compare allocation options side by side, under one or more scenarios.

Built-in options (``models/compare.md``):

- ``pooled``: the instance's pooling rules as written;
- ``siloed``: no pooled fund; each partner funds only its own remit from its own money;
- ``partial``: every contributor's pool share fixed at one fraction (``pool_shares``; the
  nearest share its ``min_share``..``max_share`` allows), or a sweep of fractions: the value
  of pooling as a curve;
- ``status_quo``: today's activity carried forward and evaluated, not optimised: what it costs
  under the cuts, which targets it misses, whether it is affordable and by how much it is not;

plus every option the instance defines (overrides and policy constraints), each policy priced
by re-solving the option without it.

One model is built per scenario and reused by every option that changes only numbers
(siloed, partial, contribution rules and policies): the compiled arrays are changed and the
loaded HiGHS instance re-solved warm (:class:`hwbopt.highs.Session`). Options that change the
instance's structure are built on their own. Every reported plan passes the independent
checker against the option's own rules.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hwbopt import highs
from hwbopt.check import check_policies, check_solution
from hwbopt.compile import Compiled, with_bounds
from hwbopt.errors import InstanceError, UsageError
from hwbopt.model.component import MONEY_GAP
from hwbopt.model.data import ModelData, model_data
from hwbopt.model.gap import with_money_gap
from hwbopt.model.names import with_role
from hwbopt.model.policy import apply_policies
from hwbopt.paths import instance_data
from hwbopt.pipeline import Built, build, result_from
from hwbopt.results import Result, response_value
from hwbopt.scenarios import BASE, apply_changes, scenario_instance, scenario_names
from hwbopt.schema import FixContribution, ForbidChange, Instance, NoClosures, Option, Policy
from hwbopt.status import EARLY, Status

if TYPE_CHECKING:
    from hwbopt.progress import CountedStep

BUILTIN = ("pooled", "siloed", "partial", "status_quo")
GAP_ROWS = with_role(MONEY_GAP)  # where status quo may run out of money
GAP_TOL = 1e-6  # relative to the money of the instance


@dataclass
class PolicyPrice:
    """What one policy of an option costs: objective lost against the option without it."""

    rule: str
    text: str
    price: float | None
    status: str  # status of the option solved without this policy


@dataclass
class Run:
    """One option solved under one scenario."""

    scenario: str
    option: str  # a built-in option or the id of an instance option
    label: str
    result: Result
    instance: Instance  # the rules this run's plan obeys
    data: ModelData | None
    pool_share: float | None = None
    policies: list[PolicyPrice] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None  # status_quo only

    @property
    def name(self) -> str:
        return f"partial@{self.pool_share:g}" if self.option == "partial" else self.option

    @property
    def solved(self) -> bool:
        return self.result.objective is not None


@dataclass
class Comparison:
    instance: Instance
    runs: list[Run]
    scenarios: list[str]
    seconds: float
    models_built: int
    solver_loads: int
    solver_reuses: int
    provenance: dict[str, Any] = field(default_factory=dict)  # see hwbopt.provenance
    labels: dict[str, Any] = field(default_factory=dict)  # names and units of the ids

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import comparison_repr

        return comparison_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import comparison_html

        return comparison_html(self)

    def run(self, option: str, scenario: str = BASE) -> Run | None:
        return next((r for r in self.runs if r.name == option and r.scenario == scenario), None)

    def value_of_pooling(self, scenario: str = BASE) -> float | None:
        pooled, siloed = self.run("pooled", scenario), self.run("siloed", scenario)
        if pooled is None or siloed is None or not (pooled.solved and siloed.solved):
            return None
        a, b = pooled.result.objective, siloed.result.objective
        return None if a is None or b is None else _difference(a, b)

    def value_of_pooling_by_priority(self, scenario: str = BASE) -> dict[str, float]:
        pooled, siloed = self.run("pooled", scenario), self.run("siloed", scenario)
        if pooled is None or siloed is None or not (pooled.solved and siloed.solved):
            return {}
        a, b = _outcome_totals(pooled), _outcome_totals(siloed)
        return {k: a[k] - b.get(k, 0.0) for k in a}

    @property
    def table(self) -> pd.DataFrame:
        """One row per (scenario, option): the main measures, tidy."""
        rows = [_run_record(r, self) for r in self.runs]
        cols = ["scenario", "name", "option", "label", "status", "objective",
                "change_vs_pooled", "total_spend", "targets_met", "targets_total", "pool_share",
                "message"]
        return pd.DataFrame([{c: rec[c] for c in cols} for rec in rows], columns=cols)

    @property
    def partners(self) -> pd.DataFrame:
        """Who pays and who benefits: one row per (scenario, option, partner)."""
        rows = []
        for r in self.runs:
            for p, m in partner_measures(r).items():
                rows.append({"scenario": r.scenario, "option": r.name, "partner": p, **m})
        return pd.DataFrame(rows, columns=["scenario", "option", "partner", *PARTNER_MEASURES])

    @property
    def outcomes(self) -> pd.DataFrame:
        frames = []
        for r in self.runs:
            if r.solved:
                t = r.result.tables["outcomes"].copy()
                t.insert(0, "option", r.name)
                t.insert(0, "scenario", r.scenario)
                frames.append(t)
        if not frames:
            return pd.DataFrame(columns=["scenario", "option", "priority", "year", "achieved",
                                         "target", "shortfall", "met", "hard"])
        return pd.concat(frames, ignore_index=True)

    @property
    def benefits(self) -> pd.DataFrame:
        """Each run's ``benefits`` table (see :func:`hwbopt.results.benefit_table`) summed over
        the horizon: one row per (scenario, option, partner)."""
        cols = ["contributed", "avoided_costs", "remit_funded_by_others", "benefit"]
        rows = []
        for r in self.runs:
            ben = r.result.tables.get("benefits")
            if not r.solved or ben is None or ben.empty:
                continue
            total = ben.groupby("partner", sort=False)[cols].sum()
            for p, m in total.iterrows():
                rows.append({"scenario": r.scenario, "option": r.name, "partner": p,
                             **{c: float(m[c]) for c in cols}})
        return pd.DataFrame(rows, columns=["scenario", "option", "partner", *cols])

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The comparison's tables, as ``--out`` writes them (one CSV file each)."""
        curve = [{"scenario": s, **point} for s in self.scenarios
                 for point in self.pooling_curve(s)]
        return {
            "options": self.table,
            "partners": self.partners,
            "outcomes": self.outcomes,
            "policies": self.policy_prices,
            "pooling_curve": pd.DataFrame(curve, columns=["scenario", "share", "status",
                                                          "objective"]),
            "benefits": self.benefits,
        }

    @property
    def policy_prices(self) -> pd.DataFrame:
        rows = [{"scenario": r.scenario, "option": r.name, "rule": p.rule, "text": p.text,
                 "price": p.price, "status_without": p.status}
                for r in self.runs for p in r.policies]
        return pd.DataFrame(rows, columns=["scenario", "option", "rule", "text", "price",
                                           "status_without"])

    def pooling_curve(self, scenario: str = BASE) -> list[dict[str, Any]]:
        return [{"share": r.pool_share, "status": r.result.status,
                 "objective": r.result.objective}
                for r in self.runs if r.option == "partial" and r.scenario == scenario]

    def summary(self) -> dict[str, Any]:
        """The JSON object of ``hwbopt compare --json``."""
        by_scenario = {s: self.value_of_pooling(s) for s in self.scenarios}
        single = len(self.scenarios) == 1
        inst = self.instance
        return {
            "instance": inst.name,
            "objective_kind": self.runs[0].result.objective_kind if self.runs else None,
            "currency": inst.currency,
            "money_unit": inst.money_unit,
            "scenarios": list(self.scenarios),
            "options": [_run_record(r, self) for r in self.runs],
            "value_of_pooling": by_scenario[self.scenarios[0]] if single else by_scenario,
            "value_of_pooling_by_scenario": by_scenario,
            "value_of_pooling_by_priority": {s: self.value_of_pooling_by_priority(s)
                                             for s in self.scenarios},
            "pooling_curve": {s: self.pooling_curve(s) for s in self.scenarios},
            "seconds": round(self.seconds, 6),
            "runs": len(self.runs),
            "models_built": self.models_built,
            "solver_loads": self.solver_loads,
            "solver_reuses": self.solver_reuses,
            "years": list(inst.years),
            "kind": "compare",
            "provenance": dict(self.provenance),
            "labels": self.labels,
        }


PARTNER_MEASURES = ["contributed", "retained", "spent", "outcome_value", "avoided_costs"]


def _difference(a: float, b: float) -> float:
    """``a - b``, with solver noise (1e-11 of the objective) shown as the zero it is."""
    diff = float(a - b)
    return 0.0 if abs(diff) <= 1e-9 * max(1.0, abs(a), abs(b)) else diff


def _outcome_totals(run: Run) -> dict[str, float]:
    out = run.result.tables["outcomes"]
    return {k: float(v) for k, v in out.groupby("priority", sort=False)["achieved"].sum().items()}


def _run_record(run: Run, comp: Comparison) -> dict[str, Any]:
    s = run.result.summary()
    pooled = comp.run("pooled", run.scenario)
    # a plan outside the rules has no objective to compare (status quo: see its evaluation)
    objective = s["objective"] if run.result.status in (Status.OPTIMAL, *EARLY) else None
    change = None
    base = pooled.result.objective if pooled is not None and pooled.solved else None
    if objective is not None and base is not None:
        change = _difference(objective, base)
    return {
        "name": run.name,
        "option": run.option,
        "label": run.label,
        "scenario": run.scenario,
        "status": run.result.status,
        "message": run.result.message,
        "objective": objective,
        "change_vs_pooled": change,
        "total_spend": s["total_spend"],
        "outcome_by_priority": s["outcome_by_priority"],
        "spend_by_partner": s["spend_by_partner"],
        "targets_met": s["targets_met"],
        "targets_total": s["targets_total"],
        "pool_share": run.pool_share,
        "policies": [{"rule": p.rule, "text": p.text, "price": p.price,
                      "status_without": p.status} for p in run.policies],
        "partners": partner_measures(run),
        "evaluation": run.evaluation,
        "mip_gap": s["mip_gap"],
        "checked": s["checked"],
    }


# ---------------------------------------------------------------------------------------------
# Who pays and who benefits
# ---------------------------------------------------------------------------------------------


def outcome_value(d: ModelData, activity: pd.DataFrame) -> dict[str, float]:
    """Weighted, discounted outcome each intervention produces in the plan (objective points)."""
    value: dict[str, float] = defaultdict(float)
    for r in activity.itertuples(index=False):
        y = int(r.year)
        for (i, k) in d.segments:
            if i != r.intervention:
                continue
            effect = response_value(d, i, k, float(r.activity), float(r.need))
            value[i] += d.discount[y] * d.weight[k] * effect
    return dict(value)


def remit_holders(inst: Instance) -> dict[str, list[str]]:
    """Partners in whose remit (or ring-fenced lines) each intervention falls."""
    out: dict[str, list[str]] = defaultdict(list)
    for p in inst.partners:
        ids = set(p.remit) | {i for line in p.ring_fenced for i in line.interventions}
        for i in ids:
            out[i].append(p.id)
    return out


def partner_measures(run: Run) -> dict[str, dict[str, float]]:
    """Per partner: money contributed to pools and retained, total spent, the outcome value of
    the services in its remit (shared equally where remits overlap) and the avoided costs that
    land on it."""
    if not run.solved or run.data is None:
        return {}
    t = run.result.tables
    d = run.data
    budgets = t["budgets"]
    holders = remit_holders(d.instance)
    values = outcome_value(d, t["activity"])
    out = {}
    for p in d.PARTNERS:
        b = budgets[budgets.partner == p]
        avoided = t["avoided_costs"]
        out[p] = {
            "contributed": float(b["pooled"].sum()),
            "retained": float(b["retained"].sum()),
            "spent": float(b["spent"].sum()),
            "outcome_value": float(sum(v / len(holders[i]) for i, v in values.items()
                                       if p in holders.get(i, ()))),
            "avoided_costs": float(avoided[avoided["to"] == p]["amount"].sum()),
        }
    return out


# ---------------------------------------------------------------------------------------------
# Options as changes of a built model
# ---------------------------------------------------------------------------------------------


def parse_pool_shares(spec: str) -> list[float]:
    """``0.3`` or ``0:1:0.1`` (start:stop:step, stop included) as a list of fractions
    (finite; a sweep has at most ``MAX_POOL_SHARES`` points)."""
    from hwbopt.outputs import MAX_POOL_SHARES

    try:
        if ":" not in spec:
            shares = [float(spec)]
        else:
            start, stop, step = (float(x) for x in spec.split(":"))
            if step <= 0 or not all(map(np.isfinite, (start, stop, step))):
                raise ValueError
            points = np.floor((stop - start) / step + 1e-9) + 1
            if not points <= MAX_POOL_SHARES:  # inf too
                raise UsageError(f"--pool-share {spec!r}: a sweep of {points:,.0f} points "
                                 f"(each a solve); at most {MAX_POOL_SHARES:,}: use a larger "
                                 "step")
            n = int(points)
            shares = [round(start + k * step, 12) for k in range(max(n, 0))]
    except ValueError:
        raise UsageError(f"--pool-share {spec!r}: expected a fraction such as 0.3 or a sweep "
                         "start:stop:step of finite numbers such as 0:1:0.1") from None
    bad = [s for s in shares if not 0.0 <= s <= 1.0]
    if not shares or bad:
        raise UsageError(f"--pool-share {spec!r}: every share must lie in 0..1")
    return shares


def contribution_bounds(comp: Compiled, d: ModelData) -> Compiled:
    """``comp`` with contribution bounds taken from ``d``'s pool shares (the rest unchanged)."""
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    for key, j in comp.cols("contribution").items():
        lo[j], hi[j] = d.contribution_bounds[key]
    return with_bounds(comp, col_lower=lo, col_upper=hi)


def with_shares(inst: Instance, shares: dict[tuple[str, str], float], where: str) -> Instance:
    """``inst`` with the pool share of each (partner, pool) fixed (min_share = max_share)."""
    from hwbopt.schema import Change

    changes = []
    for (p, g), s in shares.items():
        base = f"pools[{g}].contributors[{p}]"
        changes += [Change(path=f"{base}.min_share", value=s),
                    Change(path=f"{base}.max_share", value=s)]
    return apply_changes(inst, changes, where)


def status_quo_instance(inst: Instance, objective: str) -> Instance:
    """The rules today's activity is evaluated against: no equity floor and no change limits
    (nothing changes), and targets reported, not imposed. Under the outcome objective a hard
    target becomes soft with no penalty (soft ones keep theirs, so objectives compare); under
    the cost objective, which treats every target as hard, targets are dropped and measured
    afterwards.
    """
    from hwbopt.io.folder import instance_from_dict

    data = instance_data(inst)
    for p in data["priorities"]:
        if p["target_type"] == "hard":
            p["target_type"], p["shortfall_penalty"] = "soft", 0.0
    if objective == "cost":
        data["targets"] = []
    data["settings"]["equity_floor"] = None
    for i in data["interventions"]:
        i["max_growth"], i["max_reduction"], i["max_growth_of_need"] = None, None, 0.0
    return instance_from_dict(data)


class _Runner:
    """Solves option variants of one scenario with shared builds and a shared HiGHS session."""

    def __init__(self, session: highs.Session, time_limit: float | None, mip_gap: float | None,
                 objective: str | None) -> None:
        self.session = session
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.objective = objective
        self.builds = 0

    def build(self, inst: Instance) -> Built:
        self.builds += 1
        return build(inst, self.objective)

    def solve(self, d: ModelData, comp: Compiled, *, seconds: float = 0.0,
              check_instance: Instance | None = None,
              policies: Sequence[Policy] = ()) -> Result:
        gap = d.mip_gap if self.mip_gap is None else self.mip_gap
        raw = self.session.solve(comp, time_limit=self.time_limit, mip_gap=gap)
        checks = (lambda tables: check_policies(check_instance or d.instance, tables,
                                                policies)) if policies else None
        return result_from(d, comp, raw, build_seconds=seconds, time_limit=self.time_limit,
                           mip_gap=gap, check_instance=check_instance, extra_checks=checks)


def _policy_text(rule: Policy, inst: Instance) -> str:
    names = {i.id: i.label for i in inst.interventions}
    if rule.rule == "protect":
        return f"{names[rule.intervention]} kept at or above today's activity"
    if rule.rule == "forbid_change":
        return f"{names[rule.intervention]} kept at today's activity"
    if rule.rule == "cap_change":
        return f"{names[rule.intervention]} changes by at most {rule.max_change:.0%} a year"
    if rule.rule == "keep_open":
        site = next(s for s in inst.sites if s.id == rule.site)
        return f"{site.label} stays open"
    if rule.rule == "no_closures":
        return "no site closes"
    if rule.rule == "fix_contribution":
        partner = next(p for p in inst.partners if p.id == rule.partner)
        pool = next(g for g in inst.pools if g.id == rule.pool)
        return f"{partner.label} puts {rule.share:.0%} of its money into {pool.label}"
    priority = next(p for p in inst.priorities if p.id == rule.priority)
    return f"at least {rule.share:.0%} of spending on {priority.label}"


def _infeasible(scenario: str, option: str, label: str, inst: Instance, message: str,
                objective_kind: str, pool_share: float | None = None) -> Run:
    from hwbopt.results import empty_tables

    result = Result(status=Status.INFEASIBLE, objective=None, objective_kind=objective_kind,
                    instance_name=inst.name, currency=inst.currency,
                    money_unit=inst.money_unit, years=inst.years, tables=empty_tables(),
                    message=message)
    return Run(scenario, option, label, result, inst, None, pool_share)


def _run_pooled(r: _Runner, scenario: str, b: Built) -> Run:
    result = r.solve(b.data, b.compiled, seconds=b.seconds)
    return Run(scenario, "pooled", "Pooled (as the instance says)", result, b.data.instance,
               b.data)


def _run_siloed(r: _Runner, scenario: str, b: Built) -> Run:
    inst = b.data.instance
    hi = b.compiled.col_upper.copy()
    lo = b.compiled.col_lower.copy()
    for j in b.compiled.cols("contribution").values():
        lo[j] = hi[j] = 0.0
    comp = with_bounds(b.compiled, col_lower=lo, col_upper=hi)
    rules = inst.model_copy(update={"pools": ()})
    result = r.solve(b.data, comp, check_instance=rules)
    return Run(scenario, "siloed", "Siloed (no pooled fund)", result, rules, b.data)


def _run_partial(r: _Runner, scenario: str, b: Built, share: float) -> Run:
    inst = b.data.instance
    label = f"Partial pooling ({share:.0%} of each contributor's money)"
    # within each contributor's own range, so a partial plan is always one pooled allows
    pairs = {(c.partner, g.id): min(max(share, c.min_share), c.max_share)
             for g in inst.pools for c in g.contributors}
    try:
        rules = with_shares(inst, pairs, f"partial pooling at {share:g}")
    except InstanceError as exc:
        why = "; ".join(str(p.message) for p in exc.problems[:3])
        return _infeasible(scenario, "partial", label, inst,
                           f"pool shares of {share:g} break the instance's rules: {why}",
                           b.data.objective, share)
    d = model_data(rules, b.data.objective)
    result = r.solve(d, contribution_bounds(b.compiled, d))
    return Run(scenario, "partial", label, result, rules, d, share)


def _against_targets(outcomes: pd.DataFrame, inst: Instance, objective: str) -> pd.DataFrame:
    """Outcomes measured against the instance's own targets (hard or soft as it says)."""
    target = {(t.priority, t.year): t.target for t in inst.targets}
    hard = {p.id: p.target_type == "hard" or objective == "cost" for p in inst.priorities}
    out = outcomes.copy()
    out["target"] = [target.get((k, int(y)), np.nan) for k, y in zip(out.priority, out.year,
                                                                      strict=True)]
    out["shortfall"] = np.where(out.target.isna(), 0.0,
                                np.maximum(out.target - out.achieved, 0.0))
    out["met"] = out.target.isna() | (out.shortfall <= 1e-6 * np.maximum(1.0, out.target.abs()))
    out["hard"] = out.priority.map(hard).astype(bool)
    return out


def _run_status_quo(r: _Runner, scenario: str, inst: Instance) -> Run:
    label = "Status quo (today's activity carried forward)"
    objective = r.objective or inst.settings.objective
    rules = status_quo_instance(inst, objective)
    b = r.build(rules)
    d = b.data
    policies: list[Policy] = [ForbidChange(rule="forbid_change", intervention=i)
                              for i in d.INTERVENTIONS]
    if d.SITES:
        policies.append(NoClosures(rule="no_closures"))
    fixed = apply_policies(b.compiled, d, policies)
    # with activity fixed nothing trades off against a gap, so any positive weight finds the
    # smallest one; 1 keeps the problem well scaled
    comp, gap_cols = with_money_gap(fixed, 1.0, GAP_ROWS)
    raw = r.session.solve(comp, time_limit=r.time_limit,
                          mip_gap=d.mip_gap if r.mip_gap is None else r.mip_gap)
    scale = max([1.0, *(abs(m["available"]) for m in d.money.values())])
    gaps: dict[str, dict[str, float]] = {}
    if raw.x is not None:
        keep = np.ones(comp.n_cols, dtype=bool)
        keep[gap_cols] = False
        for j in gap_cols:
            if raw.x[j] > GAP_TOL * scale:
                rule, *idx = comp.col_index[j]
                where = ":".join(str(v) for v in idx[:-1])
                gaps.setdefault(f"{rule}[{where}]", {})[str(idx[-1])] = float(raw.x[j])
        x = raw.x[keep]
        value = float(comp.c[keep] @ x + comp.offset)  # the plan's own objective, no gap
        raw = replace(raw, x=x, objective=value,
                      bound=value if not gaps else raw.bound,
                      mip_gap=0.0 if not gaps else raw.mip_gap)
    affordable = raw.x is not None and not gaps
    result = result_from(d, fixed, raw, build_seconds=b.seconds, time_limit=r.time_limit,
                         check=False)
    broken: list[str] = []
    if gaps:
        total = sum(v for g in gaps.values() for v in g.values())
        broken.append(f"not affordable: {total:,.6g} {inst.money_label} short in all")
    if result.objective is not None:
        result.tables["outcomes"] = _against_targets(result.tables["outcomes"], inst, objective)
        # measured against the scenario's own rules, by the independent checker: every rule
        # today's activity breaks is named (overspent budgets, missed hard targets, equity)
        broken += check_solution(inst, result.tables, objective, result.objective)
        broken += check_policies(rules, result.tables, policies)
        result.checked = True
    evaluation = {"affordable": affordable, "funding_gap": gaps, "rules_broken": broken,
                  "objective": result.objective}
    if broken and result.objective is not None:
        result.status = Status.INFEASIBLE
        result.message = ("today's activity cannot be carried forward within the rules: "
                          + "; ".join(broken[:6])
                          + (f"; and {len(broken) - 6} more" if len(broken) > 6 else ""))
    return Run(scenario, "status_quo", label, result, rules, d, evaluation=evaluation)


def _run_option(r: _Runner, scenario: str, b: Built, option: Option, k: int) -> Run:
    inst = b.data.instance
    label = option.label
    fixes = {(p.partner, p.pool): p.share for p in option.policies
             if isinstance(p, FixContribution)}
    rest = [p for p in option.policies if not isinstance(p, FixContribution)]
    try:
        rules = apply_changes(inst, option.changes, f"options[{k}].changes")
        if fixes:
            rules = with_shares(rules, fixes, f"options[{k}].policies")
    except InstanceError as exc:
        why = "; ".join(str(p.message) for p in exc.problems[:3])
        return _infeasible(scenario, option.id, label, inst,
                           f"this option's rules cannot hold under scenario '{scenario}': {why}",
                           b.data.objective)
    if option.changes:
        own = r.build(rules)
        d, base, seconds = own.data, own.compiled, own.seconds
    else:
        d = model_data(rules, b.data.objective)
        base, seconds = contribution_bounds(b.compiled, d), 0.0  # numbers only
    comp = apply_policies(base, d, rest)
    result = r.solve(d, comp, seconds=seconds, check_instance=rules, policies=rest)
    run = Run(scenario, option.id, label, result, rules, d)
    run.policies = _price_policies(r, inst, option, d, base, result, rules)
    return run


def _without(inst: Instance, option: Option, rule: Policy) -> Instance:
    """The option's rules with one contribution rule taken away."""
    others = {(p.partner, p.pool): p.share for p in option.policies
              if isinstance(p, FixContribution) and p is not rule}
    loose = apply_changes(inst, option.changes, "option")
    return with_shares(loose, others, "option") if others else loose


def _price_policies(r: _Runner, inst: Instance, option: Option, d: ModelData,
                    base: Compiled, result: Result, rules: Instance) -> list[PolicyPrice]:
    """Each policy's price: the objective lost against the same option without it."""
    rest = [p for p in option.policies if not isinstance(p, FixContribution)]
    prices = []
    for rule in option.policies:
        text = _policy_text(rule, inst)
        if isinstance(rule, FixContribution):
            # only the contribution bounds change: the same build, re-solved warm
            try:
                loose = _without(inst, option, rule)
            except InstanceError:
                prices.append(PolicyPrice(rule.rule, text, None, Status.INFEASIBLE))
                continue
            d2 = model_data(loose, d.objective)
            comp = apply_policies(contribution_bounds(base, d2), d2, rest)
            alt = r.solve(d2, comp, check_instance=loose, policies=rest)
        else:
            # a policy switched off keeps its rows, freed: the same structure again
            others = [p for p in rest if p is not rule]
            comp = apply_policies(base, d, rest, active=[p is not rule for p in rest])
            alt = r.solve(d, comp, check_instance=rules, policies=others)
        price = None
        if alt.objective is not None and result.objective is not None:
            lost = _difference(alt.objective, result.objective)
            price = lost if d.objective == "outcome" else -lost
        prices.append(PolicyPrice(rule.rule, text, price, alt.status))
    return prices


def _check_options(instance: Instance, options: Sequence[str] | None,
                   pool_shares: Sequence[float] | None) -> list[str]:
    """The options to run, in order: as asked (unknown names refused, listing the known
    ones), or all of them (``partial`` only with pool shares)."""
    known = [*BUILTIN, *(o.id for o in instance.options)]
    if options is None:
        chosen = [o for o in known if o != "partial" or pool_shares]
    else:
        chosen = list(dict.fromkeys(options))
        unknown = [o for o in chosen if o not in known]
        if unknown:
            raise UsageError(f"unknown option '{unknown[0]}': expected one of "
                             f"{', '.join(known)}")
    if "partial" in chosen and not pool_shares:
        raise UsageError("the partial option needs pool shares: give --pool-share 0.3 or a "
                         "sweep such as --pool-share 0:1:0.1")
    if pool_shares and "partial" not in chosen:
        chosen.append("partial")
    return chosen


def _check_scenarios(instance: Instance, scenarios: Sequence[str] | None) -> list[str]:
    names = list(dict.fromkeys(scenarios or [BASE]))
    valid = scenario_names(instance)
    for s in names:
        if s not in valid:
            raise UsageError(f"unknown scenario '{s}': expected one of {', '.join(valid)}")
    return names


def _label(instance: Instance, option: str, share: float | None) -> str:
    """How the progress of a comparison names a run before it is solved."""
    if option == "partial":
        return f"partial pooling at {share:.0%}"
    builtin = {"pooled": "pooled", "siloed": "siloed (no pooled fund)",
               "status_quo": "status quo"}
    if option in builtin:
        return builtin[option]
    return next((o.label for o in instance.options if o.id == option), option)


def _run_named(runner: _Runner, scenario: str, inst: Instance, b: Built, option: str,
               share: float | None) -> Run:
    """One option (built-in or the instance's) under one scenario, on the scenario's build."""
    if option == "pooled":
        run = _run_pooled(runner, scenario, b)
    elif option == "siloed":
        run = _run_siloed(runner, scenario, b)
    elif option == "partial":
        assert share is not None
        run = _run_partial(runner, scenario, b, share)
    elif option == "status_quo":
        run = _run_status_quo(runner, scenario, inst)
    else:
        k, chosen = next((k, o) for k, o in enumerate(b.data.instance.options)
                         if o.id == option)
        run = _run_option(runner, scenario, b, chosen, k)
    # each run's result says what it is, in its own summary.json (runs/SCENARIO/OPTION/)
    run.result.scenario, run.result.option = scenario, run.name
    return run


def compare(
    instance: Instance,
    *,
    options: Sequence[str] | None = None,
    scenarios: Sequence[str] | None = None,
    pool_shares: Sequence[float] | None = None,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    on_progress: CountedStep | None = None,
) -> Comparison:
    """Solve the options side by side under each scenario. See the module docstring.

    ``options``: names among ``pooled``, ``siloed``, ``partial``, ``status_quo`` and the
    instance's option ids (default: all of them, ``partial`` only with ``pool_shares``).
    ``scenarios``: ``base`` and the instance's scenario ids (default: ``base``).
    ``on_progress(done, total, what)``: called before each build and each run, with the runs
    finished, the runs in all and what is being done now.
    """
    start = time.perf_counter()
    chosen = _check_options(instance, options, pool_shares)
    names = _check_scenarios(instance, scenarios)
    jobs = [(o, share) for o in chosen
            for share in ((pool_shares or ()) if o == "partial" else (None,))]
    total = len(jobs) * len(names)
    session = highs.Session(threads)
    runner = _Runner(session, time_limit, mip_gap, objective)
    runs: list[Run] = []
    for s in names:
        under = "" if len(names) == 1 else f", scenario {s}"
        if on_progress is not None:
            on_progress(len(runs), total, f"building the model{under}")
        inst = scenario_instance(instance, s)
        b = runner.build(inst)
        for o, share in jobs:
            if on_progress is not None:
                on_progress(len(runs), total, f"solving {len(runs) + 1} of {total}: "
                            f"{_label(instance, o, share)}{under}")
            runs.append(_run_named(runner, s, inst, b, o, share))
    if on_progress is not None:
        on_progress(total, total, "done")
    from hwbopt.provenance import instance_labels, run_provenance

    provenance = run_provenance(highs.highs_version(), options={
        "objective": objective or instance.settings.objective, "mip_gap": mip_gap,
        "time_limit": time_limit, "options": chosen, "scenarios": names,
        "pool_shares": list(pool_shares or [])})
    return Comparison(instance, runs, names, time.perf_counter() - start, runner.builds,
                      session.loads, session.reuses, provenance, instance_labels(instance))


SOLVABLE = tuple(o for o in BUILTIN if o != "partial")  # options solve takes by name


def solve_option(
    instance: Instance,
    *,
    option: str = "pooled",
    scenario: str = BASE,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
) -> Run:
    """One option under one scenario, exactly as :func:`compare` solves it (the same rules,
    the same checks): ``hwbopt solve --option NAME --scenario NAME``. ``partial`` needs pool
    shares, so it is refused here (compare it with ``pool_shares``).
    """
    known = [*SOLVABLE, *(o.id for o in instance.options)]
    if option not in known:
        more = (" (partial pools a share of each contributor's money: compare it with "
                "hwbopt compare --pool-share)") if option == "partial" else ""
        raise UsageError(f"unknown option '{option}': expected one of {', '.join(known)}"
                         f"{more}")
    _check_scenarios(instance, [scenario])
    runner = _Runner(highs.Session(threads), time_limit, mip_gap, objective)
    inst = scenario_instance(instance, scenario)
    return _run_named(runner, scenario, inst, runner.build(inst), option, None)
