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
        Component("total_activity", "var", "activity.md",
                  "an intervention's activity over the whole area"),
        Component("total_activity_def", "con", "activity.md",
                  "the area total adds up the localities"),
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
        Component("piece_full", "var", "outcomes.md",
                  "a piece of a non-concave response curve is full"),
        Component("piece_fill", "con", "outcomes.md",
                  "a piece marked full holds its whole width"),
        Component("piece_order", "con", "outcomes.md",
                  "a piece holds activity only once the one before is full"),
        Component("recruit", "var", "staff.md", "FTE recruited in a role in a year"),
        Component("release", "var", "staff.md", "FTE released (redeployed out) in a year"),
        Component("in_post", "var", "staff.md", "FTE an employer has in post in a role"),
        Component("deploy", "var", "staff.md",
                  "FTE of an employer's role serving an intervention"),
        Component("staff_balance", "con", "staff.md",
                  "staff in post follow recruitment and release"),
        Component("release_limit", "con", "staff.md", "how many staff may be released a year"),
        Component("staff_capacity", "con", "staff.md", "no more staff deployed than in post"),
        Component("staffing", "con", "staff.md", "an intervention's activity is fully staffed"),
        Component("open", "var", "estate.md", "a site is open in a year"),
        Component("use", "var", "estate.md", "space at a site used by an intervention"),
        Component("site_closure", "con", "estate.md", "a closed site stays closed"),
        Component("site_capacity", "con", "estate.md", "space used fits in an open site"),
        Component("space_need", "con", "estate.md",
                  "activity in a locality has space in that locality's sites"),
        Component("run", "var", "choices.md", "an intervention runs in a year (go/no-go)"),
        Component("start", "var", "choices.md", "an intervention starts (pays its set-up cost)"),
        Component("run_min", "con", "choices.md", "a running intervention's minimum scale"),
        Component("run_max", "con", "choices.md", "no activity unless the intervention runs"),
        Component("start_def", "con", "choices.md", "starting follows from running"),
        Component("start_run", "con", "choices.md", "only a running intervention starts"),
        Component("start_new", "con", "choices.md",
                  "only an intervention not running the year before starts"),
        Component("exclusive", "con", "choices.md", "at most one of a set of alternatives"),
        Component("dependency", "con", "choices.md", "one intervention only if another runs"),
        Component("dependency_activity", "con", "choices.md",
                  "a required intervention has activity when one that needs it runs"),
        Component("objective", "obj", "objective.md", "what the plan optimises"),
    )
}


# Parts added to the compiled model after the build, by options (``hwbopt.model.policy``,
# ``hwbopt.analyses.compare``): not Pyomo components, but named rows and columns all the same.
ARRAY_COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component("change_cap_up", "con", "policy.md",
                  "an intervention grows by at most a policy's share a year"),
        Component("change_cap_down", "con", "policy.md",
                  "an intervention shrinks by at most a policy's share a year"),
        Component("priority_share", "con", "policy.md",
                  "a minimum share of spending on services for a priority"),
        Component("money_gap", "var", "compare.md",
                  "money a rule would need on top of what it has (status quo)"),
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
    Family("staff", "the staff available in each role (and recruitment limits)",
           rows=("staff_capacity",)),
    Family("space", "the space in open sites", rows=("site_capacity", "space_need")),
    Family("min_scale", "the minimum viable scale of go/no-go interventions",
           rows=("run_min",)),
    Family("choices", "the exclusive alternatives and dependencies between interventions",
           rows=("exclusive", "dependency", "dependency_activity")),
)
