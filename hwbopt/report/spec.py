"""A report as plain data: sections of charts and tables, rendered to HTML and to Excel alike.

A section builder (see :mod:`hwbopt.report.sections`) turns a result into :class:`Section`
objects; :mod:`hwbopt.report.html` and :mod:`hwbopt.report.excel` render the same objects, so
a chart is defined once and appears as a plotly chart in the page and as a native chart in the
workbook. Every string here is user text or plain prose, never markup: renderers escape it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from hwbopt.schema import year_label


@dataclass
class Series:
    """One series of a chart: a value per category (a bar, or a point of a line).

    Series with the same ``stack`` are stacked on each other; a chart with several stacks
    shows them side by side per category. ``marked`` flags points to draw as exceptions (a
    missed target) and ``labels`` is text shown on the bars.
    """

    name: str
    values: Sequence[float | None]
    stack: str = ""
    marked: list[bool] | None = None
    labels: list[str] | None = None
    # a scatter chart's: each point's position on its numeric x axis, whether the points are
    # joined by a line (in order), and text shown when the pointer is on a point
    x: Sequence[float | None] | None = None
    joined: bool = True
    hover: list[str] | None = None


@dataclass
class Chart:
    key: str  # short and unique within the report; names the chart's data in the workbook
    title: str
    categories: list[str]
    series: list[Series]
    y_title: str
    x_title: str = ""
    mode: Literal["stack", "group"] = "stack"
    kind: Literal["bar", "line", "scatter"] = "bar"  # a line chart joins each series' points
    # in order; a scatter chart puts them at (Series.x, value) on two numeric axes (categories
    # unused), joined or not
    horizontal: bool = False  # bars across, categories down: for long category names
    line: float | None = None  # a reference line across the chart (e.g. 100% of target)
    line_label: str = ""
    note: str = ""
    # a histogram's bin edges (one more than its bins): the first len(edges) - 1 categories
    # are bins drawn on a numeric axis with ticks, never a label per bar; any categories after
    # them (scenarios with no value: infeasible, failed) are drawn as bars in a narrow panel
    # beside it, on the same count axis
    edges: list[float] | None = None

    @property
    def across(self) -> bool:
        """Bars drawn across (categories down the side): asked for, or a bar chart whose
        categories would not fit side by side under it (many, or long names)."""
        if self.kind != "bar" or self.edges is not None:
            return self.horizontal
        longest = max((len(c) for c in self.categories), default=0)
        bars = len(self.categories) * max(1, len(self.series) if self.mode == "group" else 1)
        return self.horizontal or len(self.categories) > LONG_LIST or longest > LONG_NAME \
            or bars > 40


LONG_LIST = 10  # categories beyond which a bar chart lists them down the side
LONG_NAME = 48  # a category name longer than this is listed down the side too


@dataclass
class Table:
    key: str
    title: str
    frame: pd.DataFrame  # headers carry units; cells are numbers, booleans or user text
    note: str = ""
    digits: dict[str, int] = field(default_factory=dict)  # decimals shown per column


def show(value: Any) -> str:
    """A key figure as text: numbers with separators, yes/no, blank for nothing."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4g}"
    return str(value)


def figure_table(rows: list[tuple[str, Any]], key: str = "key_figures",
                 title: str = "Key figures") -> Table:
    """Key figures as a two-column table of text, for the page's overview."""
    return Table(key, title, pd.DataFrame([(label, show(v)) for label, v in rows],
                                          columns=["figure", "value"]))


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    blocks: list[Chart | Table] = field(default_factory=list)


@dataclass
class ReportData:
    """A result as a report sees it: its kind, summary.json and tables (typed as read back)."""

    kind: str
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    @property
    def labels(self) -> dict[str, Any]:
        return self.summary.get("labels") or {}

    @property
    def money(self) -> str:
        if self.labels.get("money"):
            return str(self.labels["money"])
        symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(self.summary.get("currency", ""),
                                                          "")
        suffix = {"thousands": "k", "millions": "m"}.get(self.summary.get("money_unit", ""),
                                                         "")
        return f"{symbol}{suffix}" or "money"

    @property
    def title(self) -> str:
        return str(self.labels.get("name") or self.summary.get("instance") or "hwbopt result")

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.summary.get("years", [])]

    def name(self, kind: str, ident: Any) -> str:
        """The readable name of an id: ``name("partners", "ccg")`` -> 'Westshire CCG'."""
        entry = self.labels.get(kind, {}).get(str(ident))
        if isinstance(entry, dict):
            return str(entry.get("name") or ident)
        return str(entry) if entry else str(ident)

    def unit(self, kind: str, ident: Any) -> str:
        entry = self.labels.get(kind, {}).get(str(ident))
        return str(entry.get("unit", "")) if isinstance(entry, dict) else ""

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    def year(self, y: Any) -> str:
        return year_label(int(y))

    def objective_sentence(self) -> str:
        """What the objective counts, in words with the weights (:func:`hwbopt.words.
        objective_sentence`), from the priorities the result's labels carry; '' for a
        result without them."""
        from hwbopt.words import objective_sentence

        priorities = self.labels.get("priorities") or {}
        kind = str(self.summary.get("objective_kind") or "outcome")
        if not priorities and kind != "cost":
            return ""
        settings = self.summary.get("settings") or {}
        return objective_sentence(
            list(priorities.values()), kind, money_label=self.money,
            discount_rate=float(settings.get("discount_rate") or 0.0),
            equity_over=str(settings.get("equity_over") or "targets"))

    def measured(self, value: float, priority: Any, signed: bool = True) -> str:
        """An amount of a priority's outcome with its measure's direction: '+48.6 under-18
        conceptions averted' (:func:`hwbopt.words.measured`)."""
        from hwbopt.words import measured

        entry = self.labels.get("priorities", {}).get(str(priority))
        if not isinstance(entry, dict):
            entry = {"unit": "", "measure": ""}
        return measured(value, entry, signed=signed, significant=4)
