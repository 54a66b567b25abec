"""What each result column holds: its type when read back from CSV, and its unit.

Result folders are read back as text first and typed from here, so an id that looks like a
number or like ``NA`` stays text. A table or column unknown here (a later kind of result)
reads as text unless every value is a number. Units give the headers of the Excel report:
``money`` becomes e.g. "money (£k)"; ``each intervention's unit`` and the like mark columns
whose unit differs by row (the sheet then carries a ``unit`` column).
"""

from __future__ import annotations

TEXT = frozenset({
    "partner", "fund", "source", "intervention", "locality", "priority", "pool", "from", "to",
    "employer", "role", "site", "owner", "users", "space_type", "payer", "payee", "kind", "lead",
    # comparisons and explanations
    "scenario", "option", "label", "status", "message", "rule", "text", "status_without",
    "constraint", "what", "unit", "name", "method",
})
BOOL = frozenset({"met", "hard", "open", "closed", "runs", "starts", "integrated",
                  "holds_for_increase", "checked"})
INTEGER = frozenset({"year"})

MONEY = "money"
FTE = "FTE"
ACTIVITY = "each intervention's unit"
OUTCOME = "each priority's unit"
SPACE = "each space type's unit"
POINTS = "objective points"

# table -> column -> unit; columns left out have none (ids, years, flags)
UNITS: dict[str, dict[str, str]] = {
    "allocation": {"money": MONEY, "activity": ACTIVITY},
    "outcomes": {"achieved": OUTCOME, "target": OUTCOME, "shortfall": OUTCOME},
    "budgets": {c: MONEY for c in (
        "baseline", "cut", "savings_required", "available", "fenced", "avoided_costs",
        "qipp_credit", "pooled", "retained", "spent", "unspent", "pay_bill", "recruitment",
        "staff_income", "site_costs", "receipts")},
    "pools": {"contributed": MONEY, "spent": MONEY},
    "avoided_costs": {"amount": MONEY},
    "activity": {"current": ACTIVITY, "activity": ACTIVITY, "need": ACTIVITY,
                 "unit_cost": f"{MONEY} a unit", "money": MONEY, "staff_cost": MONEY,
                 "setup_cost": MONEY},
    "staff": {"available": FTE, "recruited": FTE, "released": FTE, "in_post": FTE,
              "deployed": FTE, "idle": FTE, "pay_bill": MONEY, "recruitment": MONEY},
    "deployment": {"fte": FTE, "cost": MONEY},
    "sites": {"running_cost": MONEY, "charges": MONEY, "closure_cost": MONEY,
              "receipt": MONEY},
    "space": {"capacity": SPACE, "used": SPACE},
    "site_use": {"used": SPACE},
    "choices": {"setup_cost": MONEY},
    "recharges": {"amount": MONEY},
    "contributions": {"outcome": OUTCOME, "weighted": POINTS},
    "benefits": {"contributed": MONEY, "avoided_costs": MONEY,
                 "remit_funded_by_others": MONEY, "benefit": MONEY},
    # a comparison's tables (outcomes and benefits as above)
    "options": {"total_spend": MONEY},
    "partners": {"contributed": MONEY, "retained": MONEY, "spent": MONEY,
                 "outcome_value": POINTS, "avoided_costs": MONEY},
    # an explanation's tables
    "unfunded": {"unit_cost": f"{MONEY} a unit", "unit_cost_needed": f"{MONEY} a unit",
                 "cheaper_by": f"{MONEY} a unit", "cheaper_by_percent": "%",
                 "more_effective_by_percent": "%"},
    "relaxations": {"share": "share of the rule"},
    # a stress run's tables
    "target_probability": {"probability": "share of scenarios"},
    "target_probability_by_year": {"probability": "share of scenarios"},
    "cut_response": {"cut_depth": "share of money", "cut_depth_from": "share of money",
                     "cut_depth_to": "share of money", "probability_met": "share of scenarios",
                     "outcome_p50": OUTCOME},
    "cut_first": {"cut_depth": "share of money", "activity_at_mildest": "share of the plan",
                  "activity_at_deepest": "share of the plan"},
    "binding": {},
    "objective_distribution": {"share": "share of scenarios"},
}

# tables whose rows are in different units: the column naming what sets the unit of a row
ROW_UNIT: dict[str, tuple[str, str]] = {
    "allocation": ("intervention", "interventions"),
    "activity": ("intervention", "interventions"),
    "outcomes": ("priority", "priorities"),
    "contributions": ("priority", "priorities"),
    "space": ("space_type", "space_types"),
    "site_use": ("space_type", "space_types"),
    "cut_response": ("priority", "priorities"),
}


def unit_of(table: str, column: str, money: str) -> str | None:
    """The unit of a column as shown in a header, with money written as the instance's."""
    unit = UNITS.get(table, {}).get(column)
    return None if unit is None else unit.replace(MONEY, money)


def header(table: str, column: str, money: str) -> str:
    """``money (£k)``, ``fte (FTE)``, ``achieved (each priority's unit)``, or the bare name."""
    unit = unit_of(table, column, money)
    return f"{column} ({unit})" if unit else column
