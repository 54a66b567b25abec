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

import math
import re
from collections.abc import Iterable, Mapping
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
# the column of a stress set's table that holds each scenario's probability, not an input
PROBABILITY = "probability"

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


# The one rule for a number written as text, in a CSV cell, a workbook cell or a YAML value
# (whose reader takes only YAML 1.2 decimal numbers): decimal digits with an optional sign,
# point and exponent. Python and pydantic would also read '8_00' as 800; 'nan' and 'inf' pass
# here so the schema refuses them as not finite, naming the field.
PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
                          r"|[-+]?(?:inf|infinity|nan)", re.IGNORECASE)


def number_from_text(text: str) -> float | None:
    """A finite number written as :data:`PLAIN_NUMBER` says, else None."""
    text = text.strip()
    if not PLAIN_NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _plain_number(value: Any) -> Any:
    # YAML reads true/false as booleans, which pydantic would take as 1 and 0
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, str) and not PLAIN_NUMBER.fullmatch(value.strip()):
        raise ValueError("expected a plain number such as 800 or 0.25 (a valid number in "
                         "decimal digits)")
    return value


Plain = BeforeValidator(_plain_number)
Real = Annotated[float, Plain]
Year = Annotated[int, Plain, Field(ge=1900, le=2200, description="financial year by its first "
                                   "calendar year: 2013 means 2013/14")]
Share = Annotated[float, Plain, Field(ge=0.0, le=1.0)]
CutShare = Annotated[float, Plain, Field(ge=0.0, lt=1.0)]
NonNegative = Annotated[float, Plain, Field(ge=0.0)]
Growth = Annotated[float, Plain, Field(gt=-1.0, le=10.0)]

def doc(default: Any, description: str, *, unit: str | None = None, example: Any = None,
        ref: str | None = None) -> Any:
    """A field with its meaning, shared by the docs, the workbook template and messages.

    ``unit`` may hold ``{money}`` for the instance's money unit (e.g. '£k'); ``ref`` names the
    list whose ids the field takes (``partners``, ``interventions``, …); ``example`` is a
    value shown in the workbook template.
    """
    extra = {k: v for k, v in (("unit", unit), ("example", example), ("ref", ref))
             if v is not None}
    return Field(default, description=description, json_schema_extra=extra or None)


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
    first_year: Year = doc(..., "first financial year of the plan", unit="year", example=2013)
    last_year: Year = doc(..., "last financial year of the plan", unit="year", example=2014)

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
    objective: Literal["outcome", "cost"] = doc(
        "outcome", "what the plan optimises: outcome (weighted outcome less shortfall "
        "penalties) or cost (the least money that meets every target)", example="outcome")
    discount_rate: Annotated[float, Plain, Field(ge=0.0, lt=1.0)] = doc(
        0.0, "yearly discount rate applied to later years", unit="share a year", example=0.0)
    equity_floor: Share | None = doc(
        None, "no locality's coverage of a service below this share of the area's (blank: "
        "no floor)", unit="share", example=0.7)
    equity_over: Literal["targets", "localities"] = doc(
        "targets", "what the equity objective lifts first: targets (the lowest share of any "
        "target met) or localities (the worst locality's weighted outcome per head of need; "
        "only with localities, each with a population)", example="targets")
    whole_posts: bool = doc(False, "recruit and release whole FTE posts only",
                            unit="true/false", example=False)
    site_charging: Literal["by_use", "owner"] = doc(
        "by_use", "who pays a shared site's running cost: by_use (each user by its share of "
        "the space used) or owner", example="by_use")
    mip_gap: Annotated[float, Plain, Field(ge=0.0, lt=1.0)] = doc(
        1e-4, "relative gap within which a mixed-integer plan counts as optimal",
        unit="share", example=0.0001)
    stress_set: Id | None = doc(
        None, "the stress set hwbopt stress and hwbopt plan use when --set is not given (blank: "
        "the only one, or --set is needed)", example="cuts_and_pressures")


class CutSpec(Frozen):
    """A cut of ``total`` (a share of the baseline) reached evenly over ``over_years`` years."""

    total: CutShare = doc(..., "cut reached at the end, as a share of the baseline budget",
                          unit="share", example=0.28)
    over_years: Annotated[int, Plain, Field(ge=1, le=50)] = doc(
        ..., "years over which the cut is reached in equal steps", unit="years", example=4)


class RingFence(Frozen):
    """A share of a partner's available money that may fund only the named interventions."""

    id: Id = doc(..., "id of the ring-fenced line", example="ph_grant")
    name: Label | None = doc(None, "name of the line", example="Public health grant")
    share: Share = doc(..., "share of the partner's available money that may fund only the "
                       "line's interventions", unit="share", example=0.6)
    interventions: Annotated[tuple[Id, ...], Field(min_length=1)] = doc(
        ..., "an intervention the line may fund", ref="interventions",
        example="drug_treatment")


class Partner(Frozen):
    id: Id = doc(..., "id of the partner", example="nhs")
    name: Label | None = doc(None, "name of the partner", example="Riverside CCG")
    kind: PartnerKind = doc(..., "kind of organisation", example="nhs")
    savings_rate: Annotated[float, Plain, Field(ge=0.0, lt=1.0)] = doc(
        0.0, "savings required each year (QIPP), compounding, as a share of the baseline",
        unit="share a year", example=0.04)
    cut: CutSpec | None = doc(None, "a cut reached evenly over some years (or give "
                              "cut_by_year, not both)")
    cut_by_year: dict[Year, CutShare] | None = doc(
        None, "the cut in each year of the horizon, as a share of the baseline budget",
        unit="share", example=0.07)
    remit: tuple[Id, ...] = doc((), "an intervention the partner's own money may fund",
                                ref="interventions", example="talking_therapies")
    ring_fenced: tuple[RingFence, ...] = doc((), "ring-fenced lines of the partner's money")

    @model_validator(mode="after")
    def _one_cut(self) -> Partner:
        if self.cut is not None and self.cut_by_year is not None:
            raise ValueError("give either 'cut' or 'cut_by_year', not both")
        return self

    @property
    def label(self) -> str:
        return self.name or self.id


class Contributor(Frozen):
    partner: Id = doc(..., "a partner that contributes to the pool", ref="partners",
                      example="nhs")
    min_share: Share = doc(0.0, "least share of its available money the partner puts in",
                           unit="share", example=0.0)
    max_share: Share = doc(1.0, "largest share of its available money the partner may put in",
                           unit="share", example=0.3)

    @model_validator(mode="after")
    def _ordered(self) -> Contributor:
        if self.min_share > self.max_share:
            raise ValueError(
                f"min_share {self.min_share} is above max_share {self.max_share}"
            )
        return self


class Pool(Frozen):
    id: Id = doc(..., "id of the pooled fund", example="bcf")
    name: Label | None = doc(None, "name of the pooled fund", example="Better Care Fund pool")
    interventions: Annotated[tuple[Id, ...], Field(min_length=1)] = doc(
        ..., "an intervention the pool may fund", ref="interventions", example="reablement")
    contributors: Annotated[tuple[Contributor, ...], Field(min_length=1)] = doc(
        ..., "the partners that contribute and their shares")

    @property
    def label(self) -> str:
        return self.name or self.id


class Priority(Frozen):
    id: Id = doc(..., "id of the joint priority", example="mental_health")
    name: Label | None = doc(None, "name of the priority", example="Mental health")
    measure: Label = doc(..., "the outcome measure", example="people moving to recovery")
    unit: Label = doc(..., "unit of the outcome measure", example="people")
    weight: NonNegative = doc(1.0, "objective points per unit of outcome", example=8)
    baseline: Real = doc(0.0, "outcome without any of the interventions",
                         unit="the priority's unit", example=0)
    target_type: Literal["hard", "soft"] = doc(
        ..., "hard (must be met) or soft (a shortfall is allowed, reported and penalised)",
        example="soft")
    shortfall_penalty: NonNegative = doc(
        0.0, "objective points lost per unit of shortfall of a soft target", example=5)

    @property
    def label(self) -> str:
        return self.name or self.id


class Role(Frozen):
    """A staff role: nurse, social worker, occupational therapist, GP sessions, …"""

    id: Id = doc(..., "id of the staff role", example="reablement_worker")
    name: Label | None = doc(None, "name of the role", example="Reablement support worker")


class SpaceType(Frozen):
    """A kind of space in buildings: clinic rooms, beds, desks, community space, …"""

    id: Id = doc(..., "id of the kind of space", example="desk")
    name: Label | None = doc(None, "name of the kind of space", example="Office desks")
    unit: Label = doc(..., "unit in which the space is counted", example="desks")


class Exclusive(Frozen):
    """Mutually exclusive alternatives: at most one of them runs in any year."""

    id: Id = doc(..., "id of the group of alternatives", example="day_or_home")
    interventions: Annotated[tuple[Id, ...], Field(min_length=2)] = doc(
        ..., "an intervention of the group (at most one of them runs in a year)",
        ref="interventions", example="day_centre")


class Dependency(Frozen):
    """``intervention`` may run in a year only if ``requires`` runs that year."""

    intervention: Id = doc(..., "an intervention that may run only if another runs",
                           ref="interventions", example="discharge_hub")
    requires: Id = doc(..., "the intervention it requires that year", ref="interventions",
                       example="reablement")


class Change(Frozen):
    """One override of an instance input, addressed by ``path`` (see :mod:`hwbopt.scenarios`).

    Exactly one of ``value`` (set it), ``scale`` (multiply it) or ``add`` (add to it).
    ``budgets[county].baseline`` addresses every year of the county's budget;
    ``activity[*].need`` every row of activity.csv; ``partners[county].cut.total`` one field.
    """

    path: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           pattern=LABEL_PATTERN)] = doc(
        ..., "the input to change, by path", example="partners[council].cut.total")
    value: Any = doc(None, "the new value (give one of value, scale or add): a number, text, "
                     "true/false, or a mapping or list such as {total: 0.35, over_years: 4}; "
                     "blank with no scale or add sets the field to blank", example=0.35)
    scale: Real | None = doc(None, "multiply the input by this", example=1.1)
    add: Real | None = doc(None, "add this to the input", example=0.02)

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

    id: Id = doc(..., "id of the scenario", example="council_cuts_35")
    name: Label | None = doc(None, "name of the scenario",
                             example="Council cuts of 35% over four years")
    description: str = doc("", "what the scenario assumes, in a sentence or two", example="")
    changes: tuple[Change, ...] = doc((), "the inputs the scenario changes")

    @property
    def label(self) -> str:
        return self.name or self.id


class Protect(Frozen):
    """Keep an intervention's activity at or above its current level every year."""

    rule: Literal["protect"] = doc(..., "the kind of rule", example="protect")
    intervention: Id = doc(..., "the intervention the rule is about", ref="interventions",
                           example="reablement")


class ForbidChange(Frozen):
    """Keep an intervention's activity at its current level every year."""

    rule: Literal["forbid_change"] = doc(..., "the kind of rule", example="forbid_change")
    intervention: Id = doc(..., "the intervention the rule is about", ref="interventions",
                           example="reablement")


class CapChange(Frozen):
    """Let an intervention's activity change by at most ``max_change`` a year, either way."""

    rule: Literal["cap_change"] = doc(..., "the kind of rule", example="cap_change")
    intervention: Id = doc(..., "the intervention the rule is about", ref="interventions",
                           example="reablement")
    max_change: Share = doc(..., "largest change of activity in a year, either way, as a share "
                            "of last year's", unit="share", example=0.1)


class KeepOpen(Frozen):
    """Keep a site open for the whole horizon."""

    rule: Literal["keep_open"] = doc(..., "the kind of rule", example="keep_open")
    site: Id = doc(..., "the site kept open for the whole horizon", ref="sites",
                   example="hub")


class NoClosures(Frozen):
    """Close no site."""

    rule: Literal["no_closures"] = doc(..., "the kind of rule", example="no_closures")


class FixContribution(Frozen):
    """Fix a partner's contribution to a pool at ``share`` of its available money each year."""

    rule: Literal["fix_contribution"] = doc(..., "the kind of rule",
                                            example="fix_contribution")
    partner: Id = doc(..., "the partner whose contribution is fixed", ref="partners",
                      example="nhs")
    pool: Id = doc(..., "the pool it contributes to", ref="pools", example="bcf")
    share: Share = doc(..., "share of its available money the partner puts into the pool "
                       "each year", unit="share", example=0.3)


class MinPriorityShare(Frozen):
    """Spend at least ``share`` of each year's service spending on services for a priority."""

    rule: Literal["min_priority_share"] = doc(..., "the kind of rule",
                                              example="min_priority_share")
    priority: Id = doc(..., "the priority whose services get a least share of spending",
                       ref="priorities", example="mental_health")
    share: Share = doc(..., "least share of each year's service spending on the priority's "
                       "services", unit="share", example=0.3)


Policy = Annotated[
    Protect | ForbidChange | CapChange | KeepOpen | NoClosures | FixContribution
    | MinPriorityShare,
    Field(discriminator="rule"),
]
POLICY_RULES = ("protect", "forbid_change", "cap_change", "keep_open", "no_closures",
                "fix_contribution", "min_priority_share")


class Option(Frozen):
    """A policy variant to compare: overrides of the inputs plus policy constraints."""

    id: Id = doc(..., "id of the option", example="protect_reablement")
    name: Label | None = doc(None, "name of the option",
                             example="Protect reablement at today's level")
    description: str = doc("", "what the option is, in a sentence or two", example="")
    changes: tuple[Change, ...] = doc((), "the inputs the option changes")
    policies: tuple[Policy, ...] = doc((), "the policy rules the option adds")

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

    name: Id | None = doc(None, "name of the input in results and tables (needed with "
                          "paths)", example="demand")
    path: Annotated[str, StringConstraints(min_length=1, pattern=LABEL_PATTERN)] | None = doc(
        None, "the input drawn, by path (or give paths)", example="activity[*].need")
    paths: tuple[Annotated[str, StringConstraints(min_length=1, pattern=LABEL_PATTERN)],
                 ...] = doc((), "several inputs that share one draw, by path",
                            example="partners[council].cut.total")
    op: Literal["value", "scale", "add"] = doc(
        "value", "how the draw applies: value (set), scale (multiply) or add", example="scale")
    dist: Literal["uniform", "triangular", "normal", "discrete"] | None = doc(
        None, "the distribution drawn from (blank when the set has a table)",
        example="uniform")
    low: Real | None = doc(None, "lowest value (uniform, triangular; cuts a normal)",
                           example=0.9)
    high: Real | None = doc(None, "highest value (uniform, triangular; cuts a normal)",
                            example=1.15)
    mode: Real | None = doc(None, "most likely value (triangular)", example=1.0)
    mean: Real | None = doc(None, "mean (normal)", example=1.0)
    sd: Annotated[float, Plain, Field(gt=0.0)] | None = doc(
        None, "standard deviation (normal)", example=0.05)
    values: tuple[Real, ...] = doc((), "the values a discrete input takes", example=0.9)
    weights: tuple[NonNegative, ...] = doc(
        (), "relative weight of each value of a discrete input (blank: equal)", example=1)

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
        low, high, mode, mean, sd = self.low, self.high, self.mode, self.mean, self.sd
        if (low is None) != (high is None) and self.dist == "normal":
            raise ValueError("a normal input cut to bounds needs both low and high")
        if low is not None and high is not None and not low < high:
            raise ValueError(f"low {low:g} must be below high {high:g}")
        # the checks above make sure each number a distribution needs is given
        if self.dist == "triangular" and low is not None and high is not None and \
                mode is not None and not low <= mode <= high:
            raise ValueError(f"mode {mode:g} must lie between low and high")
        if self.dist == "normal" and low is not None and high is not None and mean is not None \
                and sd is not None and not (low <= mean + 6 * sd and high >= mean - 6 * sd):
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
    per input ``name``; the reader puts its rows into ``table_rows``. An optional column
    ``probability`` gives each row's relative probability (``table_probabilities``, normalised
    by :meth:`probabilities`; ``hwbopt plan`` weighs its scenarios by them, ``hwbopt stress``
    does not use them).
    """

    id: Id = doc(..., "id of the stress set", example="cuts_and_pressures")
    name: Label | None = doc(None, "name of the stress set",
                             example="Deeper cuts and demand growth")
    description: str = doc("", "what the set samples, in a sentence or two", example="")
    samples: Annotated[int, Plain, Field(ge=1, le=100_000_000)] | None = doc(
        None, "how many scenarios to draw (blank with a table: all its rows)",
        unit="scenarios", example=1000)
    seed: Annotated[int, Plain, Field(ge=0)] = doc(0, "seed of the draws", example=7)
    inputs: Annotated[tuple[StressInput, ...], Field(min_length=1)] = doc(
        ..., "the inputs drawn")
    table: Annotated[str, StringConstraints(pattern=r"^[^/\\]+\.csv$")] | None = doc(
        None, "file of explicit scenarios in the folder form (one column per input name)",
        example="stress_explicit.csv")
    table_rows: tuple[tuple[Real, ...], ...] = doc(
        (), "explicit scenarios: one value per input, a row per scenario")
    table_probabilities: tuple[NonNegative, ...] = doc(
        (), "relative probability of each explicit scenario, a value per table row (the "
        "table's optional column 'probability'; blank: all equally likely)", example=0.5)

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
        self._check_probabilities(columns)
        return self

    def _check_probabilities(self, columns: list[str]) -> None:
        if PROBABILITY in columns and (self.table is not None or self.table_rows):
            raise ValueError(f"an input of a set with a table may not be named "
                             f"'{PROBABILITY}': the table's column of that name holds each "
                             "scenario's probability")
        if not self.table_probabilities:
            return
        if len(self.table_probabilities) != len(self.table_rows):
            raise ValueError(f"{len(self.table_probabilities)} probabilities for "
                             f"{len(self.table_rows)} table rows: give one per row")
        if not any(w > 0 for w in self.table_probabilities):
            raise ValueError("the table's probabilities are all 0: at least one scenario "
                             "must be possible")

    def probabilities(self, n: int | None = None) -> tuple[float, ...]:
        """The probability of each of the first ``n`` scenarios (default: :attr:`size`),
        summing to 1: a table's ``probability`` column normalised over those rows, else
        equal. Raises ``ValueError`` if those rows' probabilities are all zero."""
        n = self.size if n is None else n
        if not self.table_probabilities:
            return (1.0 / n,) * n if n else ()
        if n > len(self.table_probabilities):
            raise ValueError(f"the table has {len(self.table_probabilities)} scenarios, not {n}")
        weights = self.table_probabilities[:n]
        top = max(weights, default=0.0)
        if not top > 0:
            raise ValueError(f"the first {n} scenarios of the table all have probability 0")
        scaled = [w / top for w in weights]  # no overflow in the sum, however large the values
        total = math.fsum(scaled)
        return tuple(w / total for w in scaled)

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
    id: Id = doc(..., "id of the locality", example="kingsbridge")
    name: Label | None = doc(None, "name of the locality", example="Kingsbridge")
    population: NonNegative | None = doc(None, "people living there", unit="people",
                                         example=205000)
    need_index: NonNegative | None = doc(None, "relative need (1 is the area's average)",
                                         example=1.15)


# ---------------------------------------------------------------------------------------------
# CSV tables: one model per row
# ---------------------------------------------------------------------------------------------


class InterventionRow(Frozen):
    id: Id = doc(..., "id of the intervention (a service or programme)", example="reablement")
    name: Label | None = doc(None, "name of the intervention", example="Home reablement")
    unit: Label = doc(..., "unit of activity", example="episode")
    unit_cost: Annotated[float, Plain, Field(gt=0.0)] = doc(
        ..., "cost of one unit of activity in the first year", unit="{money} a unit",
        example=0.8)
    cost_growth: Growth = doc(0.0, "yearly growth of the unit cost", unit="share a year",
                              example=0.02)
    need_growth: Growth = doc(0.0, "yearly growth of need", unit="share a year", example=0.03)
    max_growth: NonNegative | None = doc(
        None, "largest increase of activity in a year, as a share of last year's (blank: no "
        "limit)", unit="share", example=0.15)
    max_growth_of_need: Share = doc(
        0.0, "growth allowed on top of max_growth, as a share of need (lets a new service "
        "start)", unit="share", example=0)
    max_reduction: Share | None = doc(
        None, "largest reduction of activity in a year, as a share of last year's (blank: no "
        "limit)", unit="share", example=0.1)
    lead: Id | None = doc(None, "lead partner, whose staff serve it and whose sites host it",
                          ref="partners", example="council")
    min_scale: NonNegative = doc(0.0, "least activity if it runs at all (a go/no-go "
                                 "decision)", unit="units of activity", example=0)
    setup_cost: NonNegative = doc(0.0, "one-off cost of starting it", unit="{money}",
                                  example=0)

    @property
    def label(self) -> str:
        return self.name or self.id


class ActivityRow(Frozen):
    intervention: Id = doc(..., "the intervention", ref="interventions", example="reablement")
    locality: Id | None = doc(None, "the locality (blank if the instance has none)",
                              ref="localities", example="kingsbridge")
    current: NonNegative = doc(..., "activity in the year before the horizon",
                               unit="units of activity", example=250)
    need: NonNegative = doc(..., "the most activity the area can use in the first year",
                            unit="units of activity", example=300)


class ResponseRow(Frozen):
    intervention: Id = doc(..., "the intervention", ref="interventions", example="reablement")
    priority: Id = doc(..., "the priority it moves", ref="priorities", example="older_people")
    upto_share: Annotated[float, Plain, Field(gt=0.0, le=1.0)] = doc(
        ..., "this piece of the response runs up to this share of need (the last piece ends "
        "at 1)", unit="share", example=1)
    effect: Real = doc(..., "outcome per unit of activity on this piece",
                       unit="priority's unit a unit of activity", example=0.5)


class BudgetRow(Frozen):
    partner: Id = doc(..., "the partner", ref="partners", example="nhs")
    year: Year = doc(..., "financial year", unit="year", example=2013)
    baseline: NonNegative = doc(..., "in-scope budget before cuts and savings",
                                unit="{money}", example=1000)


class TargetRow(Frozen):
    priority: Id = doc(..., "the priority", ref="priorities", example="mental_health")
    year: Year = doc(..., "financial year", unit="year", example=2013)
    target: Real = doc(..., "outcome to reach that year", unit="the priority's unit",
                       example=150)


class AvoidedCostRow(Frozen):
    intervention: Id = doc(..., "the intervention", ref="interventions", example="reablement")
    partner: Id = doc(..., "the partner whose costs it avoids", ref="partners", example="nhs")
    saving_per_unit: NonNegative = doc(
        ..., "cost the partner avoids per unit of activity, whoever pays for it",
        unit="{money} a unit", example=1)


class StaffRow(Frozen):
    employer: Id = doc(..., "the employing partner", ref="partners", example="council")
    role: Id = doc(..., "the staff role", ref="roles", example="reablement_worker")
    year: Year = doc(..., "financial year", unit="year", example=2013)
    fte: NonNegative = doc(..., "staff in post before the plan's changes", unit="FTE",
                           example=12)
    cost_per_fte: NonNegative = doc(..., "yearly cost of one FTE with on-costs",
                                    unit="{money} a year", example=30)
    recruit_limit: NonNegative = doc(0.0, "most staff that may be recruited that year",
                                     unit="FTE", example=2)
    recruit_cost: NonNegative = doc(0.0, "one-off cost per FTE recruited",
                                    unit="{money} an FTE", example=3)
    max_release: Share = doc(0.0, "largest share of last year's staff that may be released "
                             "that year", unit="share", example=0.1)
    release_cost: NonNegative = doc(0.0, "one-off cost per FTE released",
                                    unit="{money} an FTE", example=5)
    integrated: bool = doc(False, "may serve other partners' services in integrated teams",
                           unit="true/false", example=False)


class InterventionStaffRow(Frozen):
    intervention: Id = doc(..., "the intervention", ref="interventions", example="reablement")
    role: Id = doc(..., "a staff role it needs", ref="roles", example="reablement_worker")
    fte_per_unit: Annotated[float, Plain, Field(gt=0.0)] = doc(
        ..., "staff needed per unit of activity", unit="FTE a unit", example=0.04)


class SiteRow(Frozen):
    id: Id = doc(..., "id of the site (building)", example="hub")
    name: Label | None = doc(None, "name of the site", example="Riverside Hub")
    owner: Id = doc(..., "the partner that owns it", ref="partners", example="council")
    locality: Id | None = doc(None, "the locality it is in (blank if the instance has none)",
                              ref="localities", example="kingsbridge")
    running_cost: NonNegative = doc(..., "running cost while open", unit="{money} a year",
                                    example=60)
    closure_cost: NonNegative = doc(0.0, "one-off cost of closing it", unit="{money}",
                                    example=30)
    disposal_receipt: NonNegative = doc(0.0, "money received when it is closed and sold",
                                        unit="{money}", example=100)
    shareable: bool = doc(False, "other partners may co-locate", unit="true/false",
                          example=False)
    can_close: bool = doc(True, "may be closed", unit="true/false", example=True)
    available: bool = doc(True, "the site can be used at all (false: lost before the horizon "
                          "starts, so it closes in the first year)", unit="true/false",
                          example=True)

    @property
    def label(self) -> str:
        return self.name or self.id


class SiteCapacityRow(Frozen):
    site: Id = doc(..., "the site", ref="sites", example="hub")
    space_type: Id = doc(..., "a kind of space", ref="space_types", example="desk")
    capacity: Annotated[float, Plain, Field(gt=0.0)] = doc(
        ..., "space available", unit="the space type's unit", example=20)


class InterventionSpaceRow(Frozen):
    intervention: Id = doc(..., "the intervention", ref="interventions", example="reablement")
    space_type: Id = doc(..., "a kind of space it needs", ref="space_types", example="desk")
    per_unit: Annotated[float, Plain, Field(gt=0.0)] = doc(
        ..., "space needed per unit of activity", unit="the space type's unit a unit",
        example=0.04)


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

    name: Label = doc(..., "name of the board or instance", example="Riverside tutorial")
    description: str = doc("", "what the instance is, in a paragraph", example="")
    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] = doc(
        ..., "three-letter currency code", example="GBP")
    money_unit: Literal["units", "thousands", "millions"] = doc(
        ..., "unit of every money figure", example="thousands")
    horizon: Horizon = doc(..., "the financial years planned")
    settings: Settings = doc(Settings(), "how the plan is optimised")
    partners: Annotated[tuple[Partner, ...], Field(min_length=1)] = doc(..., "the partners")
    pools: tuple[Pool, ...] = doc((), "pooled funds")
    priorities: Annotated[tuple[Priority, ...], Field(min_length=1)] = doc(
        ..., "the joint priorities")
    localities: tuple[Locality, ...] = doc((), "localities (districts or neighbourhoods)")
    roles: tuple[Role, ...] = doc((), "staff roles")
    space_types: tuple[SpaceType, ...] = doc((), "kinds of space in buildings")
    exclusive: tuple[Exclusive, ...] = doc((), "groups of mutually exclusive interventions")
    dependencies: tuple[Dependency, ...] = doc((), "interventions that require another")
    scenarios: tuple[Scenario, ...] = doc((), "named partial overrides of the inputs")
    options: tuple[Option, ...] = doc((), "policy variants to compare: overrides and policies")
    stress: tuple[StressSet, ...] = doc((), "distributions over inputs for stress batches")
    sources: tuple[str, ...] = doc((), "where a magnitude comes from (one source a row)",
                                   example="PSSRU Unit Costs of Health and Social Care 2012")

    interventions: Annotated[tuple[InterventionRow, ...], Field(min_length=1)] = doc(
        ..., "services and programmes: cost, change limits, lead, go/no-go")
    activity: Annotated[tuple[ActivityRow, ...], Field(min_length=1)] = doc(
        ..., "current activity and need of each intervention (per locality)")
    responses: Annotated[tuple[ResponseRow, ...], Field(min_length=1)] = doc(
        ..., "pieces of each intervention's effect on each priority")
    budgets: Annotated[tuple[BudgetRow, ...], Field(min_length=1)] = doc(
        ..., "each partner's baseline budget per year")
    targets: tuple[TargetRow, ...] = doc((), "each priority's target per year")
    avoided_costs: tuple[AvoidedCostRow, ...] = doc(
        (), "costs an intervention avoids for a partner")
    staff: tuple[StaffRow, ...] = doc((), "staff by employer, role and year")
    intervention_staff: tuple[InterventionStaffRow, ...] = doc(
        (), "staff each intervention needs per unit of activity")
    sites: tuple[SiteRow, ...] = doc((), "buildings: owner, locality, costs and receipts")
    site_capacity: tuple[SiteCapacityRow, ...] = doc((), "space each site offers")
    intervention_space: tuple[InterventionSpaceRow, ...] = doc(
        (), "space each intervention needs per unit of activity")

    @property
    def years(self) -> tuple[int, ...]:
        return self.horizon.years

    @property
    def money_label(self) -> str:
        """How money is written in headers: '£k', '£m', '£' (or 'EUR k', …)."""
        symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(self.currency, self.currency + " ")
        suffix = {"units": "", "thousands": "k", "millions": "m"}[self.money_unit]
        return f"{symbol}{suffix}".strip()

    def with_changes(self, changes: Mapping[str, object] | Iterable[Any]) -> Instance:
        """A new, validated instance with ``changes`` applied; this one is not touched.

        ``changes`` maps paths, in the language of ``instance.yaml``'s scenarios, to values:
        ``inst.with_changes({"partners[council].cut.total": 0.35, "activity[*].need":
        {"scale": 1.1}})`` (``{"scale": x}`` multiplies, ``{"add": x}`` adds). A path that
        addresses nothing, or a value that breaks a rule, raises
        :class:`hwbopt.errors.InstanceError` naming the path (see
        :func:`hwbopt.scenarios.with_changes`).
        """
        from hwbopt.scenarios import with_changes  # scenarios imports this module

        return with_changes(self, changes)

    # pydantic's repr lists every row of every table (thousands of characters): a notebook or
    # a traceback needs a line that says which instance this is
    def __repr__(self) -> str:
        from hwbopt.notebook import instance_repr

        return instance_repr(self)

    def __str__(self) -> str:
        return self.__repr__()

    def _repr_html_(self) -> str:
        from hwbopt.notebook import instance_html

        return instance_html(self)


YAML_FIELDS = tuple(f for f in Instance.model_fields if f not in TABLES)


def year_label(year: int) -> str:
    """2013 -> '2013/14' (English financial years run April to March)."""
    return f"{year}/{(year + 1) % 100:02d}"
