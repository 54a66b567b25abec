"""Every variable and constraint of the model: its name, its ``models/`` page, and its meaning.

This is the one place that names components. Tests check that the built model has no component
missing from here and that every name appears on its page in ``models/``; messages, results
and (later) explanations speak these names in words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # "var" or "con"
    page: str  # file in models/
    meaning: str


COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component("activity", "var", "activity.md", "units of an intervention run in a locality"),
        Component("growth_limit", "con", "activity.md",
                  "how much an intervention may grow in a year"),
        Component("reduction_limit", "con", "activity.md",
                  "how much an intervention may shrink in a year"),
        Component("equity_floor", "con", "activity.md",
                  "each locality's coverage against the whole area's"),
        Component("contribution", "var", "money.md", "money a partner puts into a pool"),
        Component("spend_retained", "var", "money.md",
                  "a partner's own money spent on its remit"),
        Component("spend_fenced", "var", "money.md", "money spent from a ring-fenced line"),
        Component("spend_pooled", "var", "money.md", "money a pool spends on an intervention"),
        Component("qipp_credit", "var", "money.md",
                  "avoided costs counted towards a partner's required savings"),
        Component("budget", "con", "money.md", "a partner's general money in a year"),
        Component("ring_fence", "con", "money.md", "a ring-fenced line in a year"),
        Component("pool_balance", "con", "money.md", "a pool spends no more than it receives"),
        Component("qipp_credit_limit", "con", "money.md",
                  "savings credited are savings actually avoided"),
        Component("funding", "con", "money.md", "an intervention's cost is paid in full"),
        Component("segment", "var", "outcomes.md", "activity on one piece of a response curve"),
        Component("outcome", "var", "outcomes.md", "what a priority achieves in a year"),
        Component("shortfall", "var", "outcomes.md", "how far a soft target is missed"),
        Component("segment_sum", "con", "outcomes.md",
                  "response pieces add up to the activity"),
        Component("outcome_def", "con", "outcomes.md", "outcome from activity"),
        Component("target", "con", "outcomes.md", "an outcome target for a year"),
        Component("objective", "obj", "objective.md", "what the plan optimises"),
    )
}


@dataclass(frozen=True)
class Family:
    """A kind of rule that can make a plan infeasible, and how to relax it for diagnosis."""

    key: str
    text: str
    rows: tuple[str, ...] = ()  # constraint components whose bounds are dropped
    col_lower: tuple[str, ...] = ()  # variables whose lower bounds go to zero
    col_upper: tuple[str, ...] = ()  # variables whose upper bounds are dropped


FAMILIES: tuple[Family, ...] = (
    Family("targets", "the hard outcome targets", rows=("target",)),
    Family("money", "the money available (budgets, ring-fences and pools)",
           rows=("budget", "ring_fence", "pool_balance")),
    Family("need", "the need for each intervention (its maximum activity)",
           col_upper=("activity", "segment")),
    Family("reduction_limit", "the limits on how fast services may shrink",
           rows=("reduction_limit",)),
    Family("growth_limit", "the limits on how fast services may grow", rows=("growth_limit",)),
    Family("pool_minimum", "the minimum pool contributions", col_lower=("contribution",)),
    Family("equity_floor", "the equity floor between localities", rows=("equity_floor",)),
)
