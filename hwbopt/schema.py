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
        given = [k for k in ("value", "scale", "add") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of 'value', 'scale' or 'add' "
                             f"(got {', '.join(given) or 'none'})")
        return self


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
