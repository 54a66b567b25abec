"""The instance, as frozen pydantic models.

An instance is validated once, at the edge, into these objects; everything downstream trusts
them. Field-level rules (types, ranges, finiteness, unknown fields) live on the models; rules
that relate one entity to another (references, coverage of years, concavity, feasibility of
shares) live in :mod:`hwbopt.validate`, which reports every problem at once with its location.

The YAML part of an instance maps onto :class:`Instance` fields directly; each CSV table is a
tuple of row models (one row per entity, or per entity and year). ``TABLES`` names the file of
each table and whether it must be present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]*$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"

LABEL_PATTERN = r"^[^\x00-\x1f\x7f]+$"
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, pattern=LABEL_PATTERN),
    Field(description="one line of text: not empty, no control characters"),
]
Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=ID_PATTERN, max_length=64),
    Field(description="an identifier: a letter, then letters, digits, '_' or '-'"),
]


def _not_boolean(value: Any) -> Any:
    # YAML reads yes/no/true/false as booleans, which pydantic would take as 1 and 0
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


Plain = BeforeValidator(_not_boolean)
Real = Annotated[float, Plain]
Year = Annotated[int, Plain, Field(ge=1900, le=2200, description="financial year by its first "
                                   "calendar year: 2013 means 2013/14")]
Share = Annotated[float, Plain, Field(ge=0.0, le=1.0)]
CutShare = Annotated[float, Plain, Field(ge=0.0, lt=1.0)]
NonNegative = Annotated[float, Plain, Field(ge=0.0)]
Growth = Annotated[float, Plain, Field(gt=-1.0, le=10.0)]

PartnerKind = Literal[
    "nhs", "council", "public_health", "police", "fire", "voluntary", "housing", "other"
]


class Frozen(BaseModel):
    """Base of every instance object: immutable, no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        str_strip_whitespace=True,
        validate_default=True,
    )


# ---------------------------------------------------------------------------------------------
# instance.yaml
# ---------------------------------------------------------------------------------------------


class Horizon(Frozen):
    first_year: Year
    last_year: Year

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        if self.last_year - self.first_year >= 50:
            raise ValueError("a horizon of at most 50 years is supported")
        return self

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.first_year, self.last_year + 1))


class Settings(Frozen):
    objective: Literal["outcome", "cost"] = "outcome"
    discount_rate: Annotated[float, Plain, Field(ge=0.0, lt=1.0)] = 0.0
    equity_floor: Share | None = None
    whole_posts: bool = False  # recruit and release whole FTE posts (integers)
    site_charging: Literal["by_use", "owner"] = "by_use"  # who pays a shared site's running cost
    mip_gap: Annotated[float, Plain, Field(ge=0.0, lt=1.0)] = 1e-4


class CutSpec(Frozen):
    """A cut of ``total`` (a share of the baseline) reached evenly over ``over_years`` years."""

    total: CutShare
    over_years: Annotated[int, Plain, Field(ge=1, le=50)]


class RingFence(Frozen):
    """A share of a partner's available money that may fund only the named interventions."""

    id: Id
    name: Label | None = None
    share: Share
    interventions: Annotated[tuple[Id, ...], Field(min_length=1)]


class Partner(Frozen):
    id: Id
    name: Label | None = None
    kind: PartnerKind
    savings_rate: Annotated[float, Plain, Field(ge=0.0, lt=1.0)] = 0.0
    cut: CutSpec | None = None
    cut_by_year: dict[Year, CutShare] | None = None
    remit: tuple[Id, ...] = ()
    ring_fenced: tuple[RingFence, ...] = ()

    @model_validator(mode="after")
    def _one_cut(self) -> Partner:
        if self.cut is not None and self.cut_by_year is not None:
            raise ValueError("give either 'cut' or 'cut_by_year', not both")
        return self

    @property
    def label(self) -> str:
        return self.name or self.id


class Contributor(Frozen):
    partner: Id
    min_share: Share = 0.0
    max_share: Share = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Contributor:
        if self.min_share > self.max_share:
            raise ValueError(
                f"min_share {self.min_share} is above max_share {self.max_share}"
            )
        return self


class Pool(Frozen):
    id: Id
    name: Label | None = None
    interventions: Annotated[tuple[Id, ...], Field(min_length=1)]
    contributors: Annotated[tuple[Contributor, ...], Field(min_length=1)]

    @property
    def label(self) -> str:
        return self.name or self.id


class Priority(Frozen):
    id: Id
    name: Label | None = None
    measure: Label
    unit: Label
    weight: NonNegative = 1.0
    baseline: Real = 0.0
    target_type: Literal["hard", "soft"]
    shortfall_penalty: NonNegative = 0.0

    @property
    def label(self) -> str:
        return self.name or self.id


class Role(Frozen):
    """A staff role: nurse, social worker, occupational therapist, GP sessions, …"""

    id: Id
    name: Label | None = None


class SpaceType(Frozen):
    """A kind of space in buildings: clinic rooms, beds, desks, community space, …"""

    id: Id
    name: Label | None = None
    unit: Label


class Exclusive(Frozen):
    """Mutually exclusive alternatives: at most one of them runs in any year."""

    id: Id
    interventions: Annotated[tuple[Id, ...], Field(min_length=2)]


class Dependency(Frozen):
    """``intervention`` may run in a year only if ``requires`` runs that year."""

    intervention: Id
    requires: Id


class Change(Frozen):
    """One override of an instance input, addressed by ``path`` (see :mod:`hwbopt.scenarios`).

    Exactly one of ``value`` (set it), ``scale`` (multiply it) or ``add`` (add to it).
    ``budgets[county].baseline`` addresses every year of the county's budget;
    ``activity[*].need`` every row of activity.csv; ``partners[county].cut.total`` one field.
    """

    path: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           pattern=LABEL_PATTERN)]
    value: Any = None
    scale: Real | None = None
    add: Real | None = None

    @model_validator(mode="after")
    def _one_operation(self) -> Change:
        # a dumped change carries all three keys, the unused ones null: count what is set
        given = [k for k in ("value", "scale", "add") if getattr(self, k) is not None]
        if len(given) > 1 or (not given and "value" not in self.model_fields_set):
            raise ValueError("give exactly one of 'value', 'scale' or 'add' "
                             f"(got {', '.join(given) or 'none'})")
        return self

    @property
    def op(self) -> str:
        """``scale``, ``add`` or ``value`` (which may set a field to null)."""
        return "scale" if self.scale is not None else "add" if self.add is not None else "value"


class Scenario(Frozen):
    """A named partial override of the inputs: a deeper cut, a QIPP shortfall, demand growth."""

    id: Id
    name: Label | None = None
    description: str = ""
    changes: tuple[Change, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.id


class Protect(Frozen):
    """Keep an intervention's activity at or above its current level every year."""

    rule: Literal["protect"]
    intervention: Id


class ForbidChange(Frozen):
    """Keep an intervention's activity at its current level every year."""

    rule: Literal["forbid_change"]
    intervention: Id


class CapChange(Frozen):
    """Let an intervention's activity change by at most ``max_change`` a year, either way."""

    rule: Literal["cap_change"]
    intervention: Id
    max_change: Share


class KeepOpen(Frozen):
    """Keep a site open for the whole horizon."""

    rule: Literal["keep_open"]
    site: Id


class NoClosures(Frozen):
    """Close no site."""

    rule: Literal["no_closures"]


class FixContribution(Frozen):
    """Fix a partner's contribution to a pool at ``share`` of its available money each year."""

    rule: Literal["fix_contribution"]
    partner: Id
    pool: Id
    share: Share


class MinPriorityShare(Frozen):
    """Spend at least ``share`` of each year's service spending on services for a priority."""

    rule: Literal["min_priority_share"]
    priority: Id
    share: Share


Policy = Annotated[
    Protect | ForbidChange | CapChange | KeepOpen | NoClosures | FixContribution
    | MinPriorityShare,
    Field(discriminator="rule"),
]
POLICY_RULES = ("protect", "forbid_change", "cap_change", "keep_open", "no_closures",
                "fix_contribution", "min_priority_share")


class Option(Frozen):
    """A policy variant to compare: overrides of the inputs plus policy constraints."""

    id: Id
    name: Label | None = None
    description: str = ""
    changes: tuple[Change, ...] = ()
    policies: tuple[Policy, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.id


class StressInput(Frozen):
    """One sampled input of a stress set: where it goes (``path``, or several ``paths`` that
    share one draw), how it applies (``op``, as a scenario change) and what it is drawn from.

    ``uniform`` (low, high), ``triangular`` (low, mode, high), ``normal`` (mean, sd, optionally
    cut to low..high) or ``discrete`` (values, optional weights). A stress set with a ``table``
    takes its values from the table's column of this input's ``name`` instead.
    """

    name: Id | None = None
    path: Annotated[str, StringConstraints(min_length=1, pattern=LABEL_PATTERN)] | None = None
    paths: tuple[Annotated[str, StringConstraints(min_length=1, pattern=LABEL_PATTERN)],
                 ...] = ()
    op: Literal["value", "scale", "add"] = "value"
    dist: Literal["uniform", "triangular", "normal", "discrete"] | None = None
    low: Real | None = None
    high: Real | None = None
    mode: Real | None = None
    mean: Real | None = None
    sd: Annotated[float, Plain, Field(gt=0.0)] | None = None
    values: tuple[Real, ...] = ()
    weights: tuple[NonNegative, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> StressInput:
        if (self.path is None) == (not self.paths):
            raise ValueError("give either 'path' or 'paths'")
        if self.paths and self.name is None:
            raise ValueError("an input with several 'paths' needs a 'name'")
        given = {k for k in ("low", "high", "mode", "mean", "sd") if getattr(self, k) is not None}
        needs = {"uniform": {"low", "high"}, "triangular": {"low", "mode", "high"},
                 "normal": {"mean", "sd"}, "discrete": set(), None: set()}[self.dist]
        allowed = needs | ({"low", "high"} if self.dist == "normal" else set())
        if needs - given:
            raise ValueError(f"a {self.dist} input needs {', '.join(sorted(needs - given))}")
        if given - allowed:
            raise ValueError(f"{', '.join(sorted(given - allowed))} "
                             f"{'is' if len(given - allowed) == 1 else 'are'} not used by "
                             f"{'a ' + self.dist if self.dist else 'an input without dist'}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        if self.dist == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode {self.mode:g} must lie between low and high")
        if self.dist == "normal" and self.low is not None and not (
                self.low <= self.mean + 6 * self.sd and self.high >= self.mean - 6 * self.sd):
            raise ValueError("the bounds leave (almost) nothing of the normal distribution")
        if self.dist == "discrete":
            if not self.values:
                raise ValueError("a discrete input needs 'values'")
            if self.weights and (len(self.weights) != len(self.values) or sum(self.weights) <= 0):
                raise ValueError("'weights' needs one non-negative weight per value, not all 0")
        elif self.values or self.weights:
            raise ValueError("'values' and 'weights' belong to a discrete input")
        return self

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.path,) if self.path is not None else self.paths

    @property
    def column(self) -> str:
        """The input's name in result tables: ``name``, or its path made into an id."""
        if self.name is not None:
            return self.name
        text = (self.path or "").replace("*", "all")
        return "_".join(p for p in re.split(r"[^A-Za-z0-9_\-]+", text) if p)


class StressSet(Frozen):
    """Named distributions over inputs (or a table of explicit scenarios), a count and a seed.

    ``table`` names a CSV file in the instance folder with one row per scenario and one column
    per input ``name``; the reader puts its rows into ``table_rows``.
    """

    id: Id
    name: Label | None = None
    description: str = ""
    samples: Annotated[int, Plain, Field(ge=1, le=100_000_000)] | None = None
    seed: Annotated[int, Plain, Field(ge=0)] = 0
    inputs: Annotated[tuple[StressInput, ...], Field(min_length=1)]
    table: Annotated[str, StringConstraints(pattern=r"^[^/\\]+\.csv$")] | None = None
    table_rows: tuple[tuple[Real, ...], ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> StressSet:
        columns = [i.column for i in self.inputs]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise ValueError(f"input names must differ: {', '.join(dupes)} given twice")
        tabled = self.table is not None or bool(self.table_rows)
        for k, i in enumerate(self.inputs):
            if tabled and i.dist is not None:
                raise ValueError(f"inputs[{k}] has a 'dist' but the set takes its values from "
                                 "a table")
            if not tabled and i.dist is None:
                raise ValueError(f"inputs[{k}] needs a 'dist' (uniform, triangular, normal or "
                                 "discrete), or the set a 'table'")
        if not tabled and self.samples is None:
            raise ValueError("give 'samples': how many scenarios to draw")
        for n, row in enumerate(self.table_rows):
            if len(row) != len(self.inputs):
                raise ValueError(f"table row {n + 1} has {len(row)} values for "
                                 f"{len(self.inputs)} inputs")
        return self

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def size(self) -> int:
        """Scenarios in the set: its table's rows, else ``samples``."""
        if self.table_rows:
            return len(self.table_rows) if self.samples is None else min(
                self.samples, len(self.table_rows))
        return int(self.samples or 0)


class Locality(Frozen):
    id: Id
    name: Label | None = None
    population: NonNegative | None = None
    need_index: NonNegative | None = None


# ---------------------------------------------------------------------------------------------
# CSV tables: one model per row
# ---------------------------------------------------------------------------------------------


class InterventionRow(Frozen):
    id: Id
    name: Label | None = None
    unit: Label
    unit_cost: Annotated[float, Plain, Field(gt=0.0)]
    cost_growth: Growth = 0.0
    need_growth: Growth = 0.0
    max_growth: NonNegative | None = None
    max_growth_of_need: Share = 0.0
    max_reduction: Share | None = None
    lead: Id | None = None
    min_scale: NonNegative = 0.0
    setup_cost: NonNegative = 0.0

    @property
    def label(self) -> str:
        return self.name or self.id


class ActivityRow(Frozen):
    intervention: Id
    locality: Id | None = None
    current: NonNegative
    need: NonNegative


class ResponseRow(Frozen):
    intervention: Id
    priority: Id
    upto_share: Annotated[float, Plain, Field(gt=0.0, le=1.0)]
    effect: Real


class BudgetRow(Frozen):
    partner: Id
    year: Year
    baseline: NonNegative


class TargetRow(Frozen):
    priority: Id
    year: Year
    target: Real


class AvoidedCostRow(Frozen):
    intervention: Id
    partner: Id
    saving_per_unit: NonNegative


class StaffRow(Frozen):
    employer: Id
    role: Id
    year: Year
    fte: NonNegative
    cost_per_fte: NonNegative
    recruit_limit: NonNegative = 0.0
    recruit_cost: NonNegative = 0.0
    max_release: Share = 0.0
    release_cost: NonNegative = 0.0
    integrated: bool = False


class InterventionStaffRow(Frozen):
    intervention: Id
    role: Id
    fte_per_unit: Annotated[float, Plain, Field(gt=0.0)]


class SiteRow(Frozen):
    id: Id
    name: Label | None = None
    owner: Id
    locality: Id | None = None
    running_cost: NonNegative
    closure_cost: NonNegative = 0.0
    disposal_receipt: NonNegative = 0.0
    shareable: bool = False
    can_close: bool = True
    available: bool = True  # false: lost before the horizon starts, so closed from its first year

    @property
    def label(self) -> str:
        return self.name or self.id


class SiteCapacityRow(Frozen):
    site: Id
    space_type: Id
    capacity: Annotated[float, Plain, Field(gt=0.0)]


class InterventionSpaceRow(Frozen):
    intervention: Id
    space_type: Id
    per_unit: Annotated[float, Plain, Field(gt=0.0)]


@dataclass(frozen=True)
class Table:
    file: str
    row_model: type[Frozen]
    required: bool


TABLES: dict[str, Table] = {
    "interventions": Table(file="interventions.csv", row_model=InterventionRow, required=True),
    "activity": Table(file="activity.csv", row_model=ActivityRow, required=True),
    "responses": Table(file="responses.csv", row_model=ResponseRow, required=True),
    "budgets": Table(file="budgets.csv", row_model=BudgetRow, required=True),
    "targets": Table(file="targets.csv", row_model=TargetRow, required=False),
    "avoided_costs": Table(file="avoided_costs.csv", row_model=AvoidedCostRow, required=False),
    "staff": Table(file="staff.csv", row_model=StaffRow, required=False),
    "intervention_staff": Table(file="intervention_staff.csv", row_model=InterventionStaffRow,
                                required=False),
    "sites": Table(file="sites.csv", row_model=SiteRow, required=False),
    "site_capacity": Table(file="site_capacity.csv", row_model=SiteCapacityRow, required=False),
    "intervention_space": Table(file="intervention_space.csv", row_model=InterventionSpaceRow,
                                required=False),
}


class Instance(Frozen):
    """A whole instance: the YAML part and every table. Build one with :func:`hwbopt.load`."""

    name: Label
    description: str = ""
    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)]
    money_unit: Literal["units", "thousands", "millions"]
    horizon: Horizon
    settings: Settings = Settings()
    partners: Annotated[tuple[Partner, ...], Field(min_length=1)]
    pools: tuple[Pool, ...] = ()
    priorities: Annotated[tuple[Priority, ...], Field(min_length=1)]
    localities: tuple[Locality, ...] = ()
    roles: tuple[Role, ...] = ()
    space_types: tuple[SpaceType, ...] = ()
    exclusive: tuple[Exclusive, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    options: tuple[Option, ...] = ()
    stress: tuple[StressSet, ...] = ()
    sources: tuple[str, ...] = ()

    interventions: Annotated[tuple[InterventionRow, ...], Field(min_length=1)]
    activity: Annotated[tuple[ActivityRow, ...], Field(min_length=1)]
    responses: Annotated[tuple[ResponseRow, ...], Field(min_length=1)]
    budgets: Annotated[tuple[BudgetRow, ...], Field(min_length=1)]
    targets: tuple[TargetRow, ...] = ()
    avoided_costs: tuple[AvoidedCostRow, ...] = ()
    staff: tuple[StaffRow, ...] = ()
    intervention_staff: tuple[InterventionStaffRow, ...] = ()
    sites: tuple[SiteRow, ...] = ()
    site_capacity: tuple[SiteCapacityRow, ...] = ()
    intervention_space: tuple[InterventionSpaceRow, ...] = ()

    @property
    def years(self) -> tuple[int, ...]:
        return self.horizon.years

    @property
    def money_label(self) -> str:
        """How money is written in headers: '£k', '£m', '£' (or 'EUR k', …)."""
        symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(self.currency, self.currency + " ")
        suffix = {"units": "", "thousands": "k", "millions": "m"}[self.money_unit]
        return f"{symbol}{suffix}".strip()


YAML_FIELDS = tuple(f for f in Instance.model_fields if f not in TABLES)


def year_label(year: int) -> str:
    """2013 -> '2013/14' (English financial years run April to March)."""
    return f"{year}/{(year + 1) % 100:02d}"
