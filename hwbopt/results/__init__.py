"""A solved model as tidy tables and one summary; every result-table builder lives here.

- :mod:`hwbopt.results.tables`: money, activity, outcomes, budgets, pools and benefits
  (:func:`plan_tables` for the checker, :func:`display_tables` for a board);
- :mod:`hwbopt.results.resources`: staff, estate and go/no-go decisions;
- :mod:`hwbopt.results.solved`: the solver's values of a model component;
- :mod:`hwbopt.results.result`: :class:`Result`, one solve's status, tables and summary.
"""

from hwbopt.results.result import Result
from hwbopt.results.tables import (
    TABLE_COLUMNS,
    benefit_table,
    build_tables,
    display_tables,
    earned_credit,
    empty_tables,
    plan_tables,
    response_value,
    settle_contributions,
)

__all__ = [
    "TABLE_COLUMNS", "Result", "benefit_table", "build_tables", "display_tables",
    "earned_credit", "empty_tables", "plan_tables", "response_value", "settle_contributions",
]
