"""What a part of the model declares about each component it builds.

Each part module (``money.py``, ``activity.py``, …) lists a :class:`Component` for every
variable and constraint it builds, beside the code that builds it: its name and page, the
sentence a board member reads, the family of rules it belongs to when a plan is infeasible,
the roles the analyses give it, and how stress inputs reach its numbers.
:mod:`hwbopt.model.names` collects them; words, explain, compare, the elastic model and the
stress engine read them from there, so adding a constraint touches its part module and its
``models/`` page only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from hwbopt.model.data import ModelData
from hwbopt.model.phrases import Labels, Phrase, State

if TYPE_CHECKING:  # compile imports Pyomo's writer; the declarations need only its type
    from hwbopt.compile import Compiled

Index = tuple[Any, ...]  # a component's index: ids (str) and years (int), as the model has it

# Roles: which analyses report a component. The number beside a role in a declaration is its
# place in that analysis's listing (lower first), so the order a reader sees is declared too.
MARGINAL = "marginal"  # explain prices one more unit of its limit (a dual)
BINDING = "binding"  # explain reports it when at its limit
SOFT = "soft"  # may give in the phase-one elastic model (with a slack)
HARD = "hard"  # may take part in an irreducible conflict among hard rules
MONEY_GAP = "money_gap"  # status quo may run out of money here (compare's money_gap)
STRESS_BINDING = "stress_binding"  # the stress engine reports whether it binds per scenario
ROLES = (MARGINAL, BINDING, SOFT, HARD, MONEY_GAP, STRESS_BINDING)

# Stages of a two-stage plan (``hwbopt plan``, models/plan.md): which of a variable's values
# are committed before the year's cuts are known (one value shared by every scenario).
FIRST = "first"  # every index
FIRST_YEAR = "first_year"  # the indices of the horizon's first year (the year is last)
SECOND = "second"  # adapts to each scenario
STAGES = (FIRST, FIRST_YEAR, SECOND)

# Groups of derived numbers a stress input can move (hwbopt.derived.FEEDS)
MONEY, NEED, COST, STAFF, SITES, TARGETS = "money", "need", "cost", "staff", "sites", "targets"
DERIVED = (MONEY, NEED, COST, STAFF, SITES, TARGETS)

RuleWords = Callable[[ModelData, Labels, Index, State], Phrase]
QuantityWords = Callable[..., str]  # (labels, *index) -> "activity of Telecare in North"
OneMore = Callable[[ModelData, Labels, Index], str]
Relaxation = Callable[[ModelData, Labels, Index, float], str]
Size = Callable[[ModelData, Index], float]


class Entries(Protocol):
    """The entries of one compiled array a stress input reaches (``params.EntryMap``)."""

    def add(self, position: int, source: str, at: tuple[int, ...], k: float,
            delta: bool = False) -> None: ...


@dataclass
class Reach:
    """What a component's reach function is handed: the compiled model, its data, and the
    entry maps to add to.

    An entry is ``k × number`` (set), or ``base + k × Δnumber`` with ``delta`` where the entry
    also holds constants the inputs do not touch; ``number`` is ``source[at]`` of the derived
    numbers (``general[partner, year]``, ``need[offered, year]``, …), at positions given by the
    lookups below.
    """

    comp: Compiled
    d: ModelData
    maps: Mapping[str, Entries]  # array ("row_upper", "A", …) -> its entries
    a_index: Mapping[tuple[int, int], int]  # (row, column) -> position in comp.A.data

    def add(self, array: str, position: int, source: str, at: tuple[int, ...], k: float,
            delta: bool = False) -> None:
        self.maps[array].add(position, source, at, k, delta)

    def a(self, row: int, col: int) -> int:
        """Position of the coefficient of ``col`` in ``row`` in ``comp.A.data``."""
        return self.a_index[row, col]

    @cached_property
    def year(self) -> dict[int, int]:
        return {y: k for k, y in enumerate(self.d.YEARS)}

    @cached_property
    def partner(self) -> dict[str, int]:
        return {p: k for k, p in enumerate(self.d.PARTNERS)}

    @cached_property
    def contributor(self) -> dict[tuple[str, str], int]:
        return {pg: k for k, pg in enumerate(self.d.CONTRIBUTORS)}

    @cached_property
    def offered(self) -> dict[tuple[str, str], int]:
        return {o: k for k, o in enumerate(self.d.OFFERED)}

    @cached_property
    def intervention(self) -> dict[str, int]:
        return {i: k for k, i in enumerate(self.d.INTERVENTIONS)}

    @cached_property
    def staff(self) -> dict[tuple[str, str], int]:
        return {er: k for k, er in enumerate(self.d.STAFF)}

    @cached_property
    def site(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self.d.SITES)}

    @cached_property
    def target(self) -> dict[tuple[str, int], int]:
        return {(t.priority, t.year): k for k, t in enumerate(self.d.instance.targets)}


ReachFn = Callable[[Reach], None]


@dataclass(frozen=True, eq=False)
class Component:
    """One variable (``var``), constraint (``con``) or the objective (``obj``) of the model.

    - ``words``: a constraint's :class:`Phrase` (the rule, the rule at its limit, the unit of
      its limit), as a board member reads it; ``quantity``: a variable in words;
    - ``family``: the key of the :class:`FamilyText` whose relaxation drops this component's
      row bounds (a constraint), or its ``relaxed`` bound (a variable: ``lower`` to zero,
      ``upper`` dropped), when diagnosing an infeasible instance;
    - ``roles``: role -> place in that role's listing (see :data:`ROLES`);
    - ``reach``: derived-number group -> the function adding the entries those numbers reach;
    - ``one_more``: what one more unit of the limit is (``marginal`` rules);
    - ``relaxation`` and ``size``: how far the rule must give in words, and the size a
      relaxation is weighed against (``soft`` rules, and a variable with a soft bound);
    - ``stage``: a variable's stage in a two-stage plan (:data:`STAGES`): ``first`` (committed
      before the scenario is known, every index), ``first_year`` (committed in the horizon's
      first year, the last element of its index), or ``second`` (adapts per scenario).
    """

    name: str
    kind: str  # "var", "con" or "obj"
    page: str  # file in models/
    meaning: str
    words: RuleWords | None = None
    quantity: QuantityWords | None = None
    family: str | None = None
    relaxed: str = "row"  # "row", "lower" or "upper"
    roles: Mapping[str, int] = field(default_factory=dict)
    reach: Mapping[str, ReachFn] = field(default_factory=dict)
    one_more: OneMore | None = None
    relaxation: Relaxation | None = None
    size: Size | None = None
    stage: str = SECOND


@dataclass(frozen=True)
class FamilyText:
    """A family of rules a part declares: its key, its words, its place in the listing."""

    key: str
    text: str
    place: int


@dataclass(frozen=True)
class Family:
    """A kind of rule that can make a plan infeasible, and how to relax it for diagnosis."""

    key: str
    text: str
    rows: tuple[str, ...] = ()  # constraint components whose bounds are dropped
    col_lower: tuple[str, ...] = ()  # variables whose lower bounds go to zero
    col_upper: tuple[str, ...] = ()  # variables whose upper bounds are dropped
