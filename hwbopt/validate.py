"""Rules that relate one part of an instance to another.

Each ``check_*`` function looks at one concern and returns located problems; ``reference_problems``
runs them all so a user sees every mistake at once. Table rows are located by row index + 2 (one
header line, 1-based), which the folder reader maps to the row's real line in its CSV file (blank
lines and cells holding line breaks shift it); YAML entries are located by their path.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable

from hwbopt.derived import cut_share, savings_share
from hwbopt.errors import Problem
from hwbopt.schema import TABLES, Instance, SiteRow

YAML = "instance.yaml"


def _row(table: str, index: int, field: str | None, message: str,
         severity: str = "error") -> Problem:
    return Problem(TABLES[table].file, index + 2, field, message, severity)


def _yaml(path: str, message: str, severity: str = "error") -> Problem:
    return Problem(YAML, None, path, message, severity)


def _known(kind: str, ids: Iterable[str]) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:12]) + (", …" if len(ids) > 12 else "")
    return f"expected one of the {kind} ids ({shown})"


def check_unique_ids(inst: Instance) -> list[Problem]:
    out: list[Problem] = []
    for kind in ("partners", "pools", "priorities", "localities", "roles", "space_types",
                 "exclusive"):
        seen: set[str] = set()
        for k, item in enumerate(getattr(inst, kind)):
            if item.id in seen:
                out.append(_yaml(f"{kind}[{k}].id", f"duplicate id '{item.id}'"))
            seen.add(item.id)
    for k, p in enumerate(inst.partners):
        lines = Counter(r.id for r in p.ring_fenced)
        for rid, n in lines.items():
            if n > 1:
                out.append(_yaml(f"partners[{k}].ring_fenced", f"duplicate line id '{rid}'"))
    seen = set()
    for k, iv in enumerate(inst.interventions):
        if iv.id in seen:
            out.append(_row("interventions", k, "id", f"duplicate intervention id '{iv.id}'"))
        seen.add(iv.id)
    seen = set()
    for k, site in enumerate(inst.sites):
        if site.id in seen:
            out.append(_row("sites", k, "id", f"duplicate site id '{site.id}'"))
        seen.add(site.id)
    return out


def check_yaml_references(inst: Instance) -> list[Problem]:
    out: list[Problem] = []
    interventions = {i.id for i in inst.interventions}
    partners = {p.id for p in inst.partners}
    years = set(inst.years)

    def refs(path: str, ids: Iterable[str]) -> None:
        for j, iid in enumerate(ids):
            if iid not in interventions:
                out.append(_yaml(f"{path}[{j}]", f"unknown intervention '{iid}': "
                                 + _known("intervention", interventions)))

    for k, p in enumerate(inst.partners):
        refs(f"partners[{k}].remit", p.remit)
        for r, line in enumerate(p.ring_fenced):
            refs(f"partners[{k}].ring_fenced[{r}].interventions", line.interventions)
        if p.cut_by_year is not None:
            for y in p.cut_by_year:
                if y not in years:
                    out.append(_yaml(f"partners[{k}].cut_by_year.{y}",
                                     f"year {y} is outside the horizon "
                                     f"{inst.horizon.first_year}-{inst.horizon.last_year}"))
            for y in inst.years:
                if y not in p.cut_by_year:
                    out.append(_yaml(f"partners[{k}].cut_by_year",
                                     f"no cut given for {y}: cut_by_year must list every year "
                                     "of the horizon (use 0 for no cut)"))
    for g, group in enumerate(inst.exclusive):
        refs(f"exclusive[{g}].interventions", group.interventions)
    for j, dep in enumerate(inst.dependencies):
        refs(f"dependencies[{j}]", (dep.intervention, dep.requires))
        if dep.intervention == dep.requires:
            out.append(_yaml(f"dependencies[{j}]",
                             f"'{dep.intervention}' cannot depend on itself"))
    for g, pool in enumerate(inst.pools):
        refs(f"pools[{g}].interventions", pool.interventions)
        seen: set[str] = set()
        for c, con in enumerate(pool.contributors):
            path = f"pools[{g}].contributors[{c}].partner"
            if con.partner not in partners:
                out.append(_yaml(path, f"unknown partner '{con.partner}': "
                                 + _known("partner", partners)))
            if con.partner in seen:
                out.append(_yaml(path, f"partner '{con.partner}' contributes twice"))
            seen.add(con.partner)
    return out


def check_money_shares(inst: Instance) -> list[Problem]:
    """Cuts plus savings must leave money; fences plus minimum pool shares must fit in it."""
    out: list[Problem] = []
    min_pool: dict[str, float] = defaultdict(float)
    for pool in inst.pools:
        for con in pool.contributors:
            min_pool[con.partner] += con.min_share
    for k, p in enumerate(inst.partners):
        cuts, saves = cut_share(p, inst.years), savings_share(p, inst.years)
        for y in inst.years:
            if cuts[y] + saves[y] >= 1.0:
                out.append(_yaml(f"partners[{k}]", (
                    f"in {y} the cut ({cuts[y]:.1%}) and required savings ({saves[y]:.1%}) "
                    "leave no money: together they must stay below 100%")))
                break
        fence = sum(r.share for r in p.ring_fenced)
        if fence > 1.0 + 1e-12:
            out.append(_yaml(f"partners[{k}].ring_fenced",
                             f"ring-fenced shares add up to {fence:.1%}: at most 100% expected"))
        if fence + min_pool[p.id] > 1.0 + 1e-12:
            out.append(_yaml(f"partners[{k}]", (
                f"ring-fenced shares ({fence:.1%}) plus minimum pool shares "
                f"({min_pool[p.id]:.1%}) exceed 100% of the available money")))
    return out


def check_tables(inst: Instance) -> list[Problem]:
    out: list[Problem] = []
    interventions = {i.id for i in inst.interventions}
    partners = {p.id for p in inst.partners}
    priorities = {p.id for p in inst.priorities}
    localities = {loc.id for loc in inst.localities}
    years = set(inst.years)
    horizon = f"{inst.horizon.first_year}-{inst.horizon.last_year}"

    def ref(table: str, k: int, field: str, value: str, known: Collection[str],
            kind: str) -> None:
        if value not in known:
            out.append(_row(table, k, field, f"unknown {kind} '{value}': " + _known(kind, known)))

    def in_horizon(table: str, k: int, year: int) -> None:
        if year not in years:
            out.append(_row(table, k, "year", f"year {year} is outside the horizon {horizon}"))

    # activity: one row per intervention (and locality); every intervention somewhere
    seen_act: set[tuple[str, str | None]] = set()
    covered: set[str] = set()
    for k, act in enumerate(inst.activity):
        ref("activity", k, "intervention", act.intervention, interventions, "intervention")
        if localities:
            if act.locality is None:
                out.append(_row("activity", k, "locality",
                                "the instance declares localities: every row needs one"))
            else:
                ref("activity", k, "locality", act.locality, localities, "locality")
        elif act.locality is not None:
            out.append(_row("activity", k, "locality", (
                f"locality '{act.locality}' given but instance.yaml declares no localities")))
        key = (act.intervention, act.locality)
        if key in seen_act:
            out.append(_row("activity", k, "intervention", "duplicate row for "
                            + " in ".join(x for x in key if x)))
        seen_act.add(key)
        covered.add(act.intervention)
        if act.current > act.need:
            out.append(_row("activity", k, "current", (
                f"current activity {act.current:g} is above need {act.need:g}: "
                "need is the most activity the area can use")))
    for k, iv in enumerate(inst.interventions):
        if iv.id not in covered:
            out.append(_row("interventions", k, "id", (
                f"intervention '{iv.id}' has no row in activity.csv: give its current "
                "activity and need")))

    # responses: piecewise-linear curves ending at the whole need; concave ones stay LP,
    # others (thresholds, S-shapes) are modelled exactly with binaries (models/outcomes.md)
    curves: dict[tuple[str, str], list[tuple[float, float, int]]] = defaultdict(list)
    for k, resp in enumerate(inst.responses):
        ref("responses", k, "intervention", resp.intervention, interventions, "intervention")
        ref("responses", k, "priority", resp.priority, priorities, "priority")
        curves[resp.intervention, resp.priority].append((resp.upto_share, resp.effect, k))
    for (iid, kid), segs in curves.items():
        segs.sort()
        for (u0, _, _), (u1, _, k1) in itertools.pairwise(segs):
            if u1 == u0:
                out.append(_row("responses", k1, "upto_share",
                                f"two segments of {iid} -> {kid} end at upto_share {u1:g}"))
        last_u, _, last_k = segs[-1]
        if abs(last_u - 1.0) > 1e-12:
            out.append(_row("responses", last_k, "upto_share", (
                f"the last segment of {iid} -> {kid} ends at {last_u:g}: the curve must run to "
                "upto_share 1 (the whole need)")))

    # budgets: every partner, every year, once
    seen_budget: set[tuple[str, int]] = set()
    for k, bud in enumerate(inst.budgets):
        ref("budgets", k, "partner", bud.partner, partners, "partner")
        in_horizon("budgets", k, bud.year)
        if (bud.partner, bud.year) in seen_budget:
            out.append(_row("budgets", k, "partner",
                            f"duplicate budget for {bud.partner} in {bud.year}"))
        seen_budget.add((bud.partner, bud.year))
    for k, p in enumerate(inst.partners):
        missing = [y for y in inst.years if (p.id, y) not in seen_budget]
        if missing:
            out.append(Problem(TABLES["budgets"].file, None, "partner", (
                f"partner '{p.id}' (instance.yaml partners[{k}]) has no baseline budget for "
                + ", ".join(map(str, missing)))))

    seen_target: set[tuple[str, int]] = set()
    for k, tgt in enumerate(inst.targets):
        ref("targets", k, "priority", tgt.priority, priorities, "priority")
        in_horizon("targets", k, tgt.year)
        if (tgt.priority, tgt.year) in seen_target:
            out.append(_row("targets", k, "priority",
                            f"duplicate target for {tgt.priority} in {tgt.year}"))
        seen_target.add((tgt.priority, tgt.year))

    seen_avoid: set[tuple[str, str]] = set()
    for k, avoid in enumerate(inst.avoided_costs):
        ref("avoided_costs", k, "intervention", avoid.intervention, interventions, "intervention")
        ref("avoided_costs", k, "partner", avoid.partner, partners, "partner")
        if (avoid.intervention, avoid.partner) in seen_avoid:
            out.append(_row("avoided_costs", k, "intervention",
                            f"duplicate avoided cost of {avoid.intervention} for {avoid.partner}"))
        seen_avoid.add((avoid.intervention, avoid.partner))
    return out


def check_fundable(inst: Instance) -> list[Problem]:
    """Warn about interventions that no remit, ring-fenced line or pool may fund."""
    routes: set[str] = set()
    for p in inst.partners:
        routes.update(p.remit)
        for line in p.ring_fenced:
            routes.update(line.interventions)
    for pool in inst.pools:
        routes.update(pool.interventions)
    return [
        _row("interventions", k, "id", (
            f"no partner remit, ring-fenced line or pool may fund '{row.id}': "
            "its activity can only be zero"), severity="warning")
        for k, row in enumerate(inst.interventions)
        if row.id not in routes
    ]


def check_targets_pursued(inst: Instance) -> list[Problem]:
    with_targets = {t.priority for t in inst.targets}
    return [
        _yaml(f"priorities[{k}].shortfall_penalty", (
            f"soft targets of '{p.id}' have shortfall_penalty 0: shortfalls are reported but "
            "not penalised"), severity="warning")
        for k, p in enumerate(inst.priorities)
        if p.target_type == "soft" and p.shortfall_penalty == 0 and p.id in with_targets
    ]


def check_staff_and_estate(inst: Instance) -> list[Problem]:
    """Staff, sites and space: references, coverage of years, and who may serve what."""
    out: list[Problem] = []
    interventions = {i.id: i for i in inst.interventions}
    partners = {p.id for p in inst.partners}
    roles = {r.id for r in inst.roles}
    spaces = {t.id for t in inst.space_types}
    localities = {loc.id for loc in inst.localities}
    sites = {s.id: s for s in inst.sites}
    years = set(inst.years)

    def ref(table: str, k: int, field: str, value: str, known: Collection[str],
            kind: str) -> bool:
        if value not in known:
            out.append(_row(table, k, field, f"unknown {kind} '{value}': " + _known(kind, known)))
            return False
        return True

    for k, iv in enumerate(inst.interventions):
        if iv.lead is not None:
            ref("interventions", k, "lead", iv.lead, partners, "partner")

    staff_years: dict[tuple[str, str], set[int]] = defaultdict(set)
    first_row: dict[tuple[str, str], int] = {}
    for k, st in enumerate(inst.staff):
        ref("staff", k, "employer", st.employer, partners, "partner")
        ref("staff", k, "role", st.role, roles, "role")
        if st.year not in years:
            out.append(_row("staff", k, "year", f"year {st.year} is outside the horizon "
                            f"{inst.horizon.first_year}-{inst.horizon.last_year}"))
        key = (st.employer, st.role)
        if st.year in staff_years[key]:
            out.append(_row("staff", k, "role", f"duplicate staff row for {st.employer} "
                            f"{st.role} in {st.year}"))
        staff_years[key].add(st.year)
        first_row.setdefault(key, k)
    for key, got in staff_years.items():
        missing = sorted(years - got)
        if missing:
            out.append(_row("staff", first_row[key], "year", (
                f"{key[0]} {key[1]} has no staff row for "
                + ", ".join(map(str, missing)) + ": give every year of the horizon")))

    def needs_lead(table: str, k: int, iid: str, what: str) -> None:
        i = interventions.get(iid)
        if i is not None and i.lead is None:
            out.append(_row(table, k, "intervention", (
                f"'{iid}' needs {what} but has no lead partner: set 'lead' in "
                "interventions.csv (whose staff serve it and whose sites host it)")))

    seen: set[tuple[str, str]] = set()
    for k, req in enumerate(inst.intervention_staff):
        ok = ref("intervention_staff", k, "intervention", req.intervention, interventions,
                 "intervention")
        ref("intervention_staff", k, "role", req.role, roles, "role")
        if (req.intervention, req.role) in seen:
            out.append(_row("intervention_staff", k, "role",
                            f"duplicate requirement of {req.role} for {req.intervention}"))
        seen.add((req.intervention, req.role))
        if ok:
            needs_lead("intervention_staff", k, req.intervention, "staff")

    for k, site in enumerate(inst.sites):
        ref("sites", k, "owner", site.owner, partners, "partner")
        if localities:
            if site.locality is None:
                out.append(_row("sites", k, "locality",
                                "the instance declares localities: every site needs one"))
            else:
                ref("sites", k, "locality", site.locality, localities, "locality")
        elif site.locality is not None:
            out.append(_row("sites", k, "locality", (
                f"locality '{site.locality}' given but instance.yaml declares no localities")))
    seen = set()
    for k, cap in enumerate(inst.site_capacity):
        ref("site_capacity", k, "site", cap.site, sites, "site")
        ref("site_capacity", k, "space_type", cap.space_type, spaces, "space type")
        if (cap.site, cap.space_type) in seen:
            out.append(_row("site_capacity", k, "space_type",
                            f"duplicate capacity of {cap.space_type} at {cap.site}"))
        seen.add((cap.site, cap.space_type))
    seen = set()
    for k, space in enumerate(inst.intervention_space):
        ok = ref("intervention_space", k, "intervention", space.intervention, interventions,
                 "intervention")
        ref("intervention_space", k, "space_type", space.space_type, spaces, "space type")
        if (space.intervention, space.space_type) in seen:
            out.append(_row("intervention_space", k, "space_type",
                            f"duplicate need for {space.space_type} by {space.intervention}"))
        seen.add((space.intervention, space.space_type))
        if ok:
            needs_lead("intervention_space", k, space.intervention, "space")
    return out


def check_servable(inst: Instance) -> list[Problem]:
    """Warn where staff or space rules leave an intervention no way to run."""
    out: list[Problem] = []
    interventions = {i.id: i for i in inst.interventions}
    can_serve: dict[str, set[str]] = defaultdict(set)  # role -> employers (lead or integrated)
    integrated: set[str] = set()
    for st in inst.staff:
        can_serve[st.role].add(st.employer)
        if st.integrated:
            integrated.add(st.role)
    for k, req in enumerate(inst.intervention_staff):
        i = interventions.get(req.intervention)
        if i is None or i.lead is None:
            continue
        if i.lead not in can_serve[req.role] and req.role not in integrated:
            out.append(_row("intervention_staff", k, "role", (
                f"no staff can serve {req.role} for {req.intervention}: its lead {i.lead} "
                "employs none and no employer allows integrated working in that role; "
                "its activity can only be zero"), severity="warning"))
    hosts: dict[str | None, list[SiteRow]] = defaultdict(list)  # locality -> sites
    capacity = {(c.site, c.space_type) for c in inst.site_capacity}
    for site in inst.sites:
        hosts[site.locality].append(site)
    offered: dict[str, set[str | None]] = defaultdict(set)  # intervention -> localities
    for a in inst.activity:
        if a.need > 0:
            offered[a.intervention].add(a.locality)
    for k, space in enumerate(inst.intervention_space):
        i = interventions.get(space.intervention)
        if i is None or i.lead is None:
            continue
        for loc in sorted(offered[space.intervention], key=str):
            ok = any((s.id, space.space_type) in capacity and (s.shareable or s.owner == i.lead)
                     for s in hosts[loc])
            if not ok:
                out.append(_row("intervention_space", k, "space_type", (
                    f"{space.intervention} needs {space.space_type} but no site in "
                    f"{loc or 'the area'} offers it to {i.lead}: its activity there can "
                    "only be zero"), severity="warning"))
    needs: dict[str, float] = defaultdict(float)
    for a in inst.activity:
        needs[a.intervention] += a.need
    for k, i in enumerate(inst.interventions):
        if i.min_scale > needs[i.id] > 0 or (i.min_scale > 0 and needs[i.id] == 0):
            out.append(_row("interventions", k, "min_scale", (
                f"minimum scale {i.min_scale:g} is above the whole need {needs[i.id]:g} in "
                "the first year: it can run only if need grows"), severity="warning"))
    return out


def check_repeated_members(inst: Instance) -> list[Problem]:
    """An id given twice in a list of ids is a mistake the model would act on silently (an
    exclusive group naming an intervention twice bans it), so each list names each id once."""
    out: list[Problem] = []

    def once(path: str, ids: Iterable[str], what: str) -> None:
        first: dict[str, int] = {}
        for j, iid in enumerate(ids):
            if iid in first:
                out.append(_yaml(f"{path}[{j}]", (
                    f"{what} '{iid}' is listed twice (first at {path}[{first[iid]}]): give "
                    "each once")))
            first.setdefault(iid, j)

    for k, p in enumerate(inst.partners):
        once(f"partners[{k}].remit", p.remit, "intervention")
        for r, line in enumerate(p.ring_fenced):
            once(f"partners[{k}].ring_fenced[{r}].interventions", line.interventions,
                 "intervention")
    for g, pool in enumerate(inst.pools):
        once(f"pools[{g}].interventions", pool.interventions, "intervention")
    for g, group in enumerate(inst.exclusive):
        once(f"exclusive[{g}].interventions", group.interventions, "intervention")
    for k, stress in enumerate(inst.stress):
        for j, item in enumerate(stress.inputs):
            once(f"stress[{k}].inputs[{j}].paths", item.paths, "path")
    return out


# The range of figures the solver takes safely (README.md, "Limits"; models/README.md): a
# nonzero money, activity, outcome, staff or space figure must lie within it in magnitude,
# also after growing over the horizon. HiGHS treats coefficients below 1e-9 as zero and
# values of 1e15 and more as infinite, and works to absolute tolerances of 1e-7; figures in
# this range leave every coefficient and bound clear of both.
SAFE_MIN, SAFE_MAX = 1e-6, 1e9

# (table or "priorities", field, kind) of every figure that becomes a coefficient or a bound
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("interventions", "unit_cost", "money"),
    ("interventions", "setup_cost", "money"),
    ("interventions", "min_scale", "activity"),
    ("activity", "current", "activity"),
    ("activity", "need", "activity"),
    ("responses", "effect", "outcome"),
    ("budgets", "baseline", "money"),
    ("targets", "target", "outcome"),
    ("avoided_costs", "saving_per_unit", "money"),
    ("staff", "fte", "staff"),
    ("staff", "cost_per_fte", "money"),
    ("staff", "recruit_limit", "staff"),
    ("staff", "recruit_cost", "money"),
    ("staff", "release_cost", "money"),
    ("intervention_staff", "fte_per_unit", "staff"),
    ("sites", "running_cost", "money"),
    ("sites", "closure_cost", "money"),
    ("sites", "disposal_receipt", "money"),
    ("site_capacity", "capacity", "space"),
    ("intervention_space", "per_unit", "space"),
    ("priorities", "weight", "outcome"),
    ("priorities", "baseline", "outcome"),
    ("priorities", "shortfall_penalty", "outcome"),
)


def _unit_advice(inst: Instance, kind: str, large: bool) -> str:
    if kind == "money":
        units = ("units", "thousands", "millions")
        k = units.index(inst.money_unit) + (1 if large else -1)
        if 0 <= k < len(units):
            return (f"write every money figure in {units[k]} (money_unit: {units[k]}, now "
                    f"{inst.money_unit})")
        return ("check the figure: no money unit brings it into range"
                + ("" if large else " (write 0 if it means none)"))
    thing = {"activity": "activity (current, need, min_scale; unit costs, effects and "
                         "staff and space per unit change with it)",
             "outcome": "the priority's outcome (its targets, baseline and effects; weight and "
                        "penalty change with it)",
             "staff": "staff (FTE)", "space": "space"}[kind]
    return (f"count {thing} in a {'larger' if large else 'smaller'} unit, so that its figures "
            f"lie between {SAFE_MIN:g} and {SAFE_MAX:g}"
            + ("" if large else ", or write 0 if it means none"))


def check_magnitudes(inst: Instance) -> list[Problem]:
    """Figures the solver cannot take safely: refused before any work, with a unit that fits."""
    out: list[Problem] = []
    span = len(inst.years) - 1

    def judge(value: float, what: str) -> tuple[bool, str] | None:
        size = abs(value)
        if size == 0 or SAFE_MIN <= size <= SAFE_MAX:
            return None
        large = size > SAFE_MAX
        return large, (f"{what} {value:g} is too {'large' if large else 'small'} for the "
                       f"solver: a nonzero figure must lie between {SAFE_MIN:g} and "
                       f"{SAFE_MAX:g} in magnitude, or the model is numerically unsafe")

    for table, name, kind in FIGURES:
        rows = inst.priorities if table == "priorities" else getattr(inst, table)
        for k, row in enumerate(rows):
            value = getattr(row, name)
            found = judge(float(value), name) if value is not None else None
            grown = None
            growth = {"unit_cost": "cost_growth"}.get(name) if table == "interventions" else \
                "need_growth" if (table, name) == ("activity", "need") else None
            if found is None and growth and span > 0 and value:
                rate = getattr(row, growth) if table == "interventions" else next(
                    (i.need_growth for i in inst.interventions if i.id == row.intervention),
                    0.0)
                grown = float(value) * (1.0 + rate) ** span
                found = judge(grown, f"{name} grown by {growth} {rate:g} to "
                              f"{inst.horizon.last_year}:")
            if found is None:
                continue
            large, message = found
            if name in ("weight", "shortfall_penalty"):
                message += (f"; objective points per unit of outcome: scale every weight and "
                            f"shortfall_penalty {'down' if large else 'up'} by the same factor "
                            "(only their ratios matter)")
            else:
                message += "; " + _unit_advice(inst, kind, large)
            if table == "priorities":
                out.append(_yaml(f"priorities[{k}].{name}", message))
            else:
                out.append(_row(table, k, name, message))
    if out:
        return out
    return _reach_problems(inst, span)


# (table, field, kind, what) of the per-unit figures that, times the most activity the area
# can use, give a row's value: the money, outcome, staff or space an intervention can reach
PER_UNIT: tuple[tuple[str, str, str, str], ...] = (
    ("interventions", "unit_cost", "money", "spend"),
    ("avoided_costs", "saving_per_unit", "money", "avoided cost"),
    ("responses", "effect", "outcome", "outcome"),
    ("intervention_staff", "fte_per_unit", "staff", "staff (FTE)"),
    ("intervention_space", "per_unit", "space", "space"),
)


def _reach_problems(inst: Instance, span: int) -> list[Problem]:
    """A figure per unit of activity times the most activity the area can use (need, grown)
    is a value the solver works with too: it must stay within :data:`SAFE_MAX`."""
    out: list[Problem] = []
    growth = {i.id: i for i in inst.interventions}
    most: dict[str, float] = defaultdict(float)
    for a in inst.activity:
        i = growth.get(a.intervention)
        rate = i.need_growth if i is not None else 0.0
        most[a.intervention] += a.need * max(1.0, (1.0 + rate) ** span)
    for table, name, kind, what in PER_UNIT:
        for k, row in enumerate(getattr(inst, table)):
            iid = row.id if table == "interventions" else row.intervention
            value = abs(float(getattr(row, name)))
            if table == "interventions":
                value *= max(1.0, (1.0 + row.cost_growth) ** span)
            reach = value * most.get(iid, 0.0)
            if reach <= SAFE_MAX:
                continue
            out.append(_row(table, k, name, (
                f"{name} {getattr(row, name):g} times the need for {iid} "
                f"({most[iid]:g} units of activity) gives {what} of {reach:.3g}, too large "
                f"for the solver: at most {SAFE_MAX:g} expected; "
                + _unit_advice(inst, kind, True))))
    return out


BUILTIN_OPTIONS = ("pooled", "siloed", "partial", "status_quo")


def check_options(inst: Instance) -> list[Problem]:
    """Scenario and option ids, and what each policy names."""
    out: list[Problem] = []
    seen: set[str] = set()
    for k, s in enumerate(inst.scenarios):
        if s.id == "base":
            out.append(_yaml(f"scenarios[{k}].id",
                             "'base' is the built-in scenario that changes nothing: "
                             "choose another id"))
        if s.id in seen:
            out.append(_yaml(f"scenarios[{k}].id", f"duplicate scenario id '{s.id}'"))
        seen.add(s.id)
    known = {
        "intervention": ("intervention", {i.id for i in inst.interventions}),
        "site": ("site", {s.id for s in inst.sites}),
        "partner": ("partner", {p.id for p in inst.partners}),
        "pool": ("pool", {g.id for g in inst.pools}),
        "priority": ("priority", {p.id for p in inst.priorities}),
    }
    contributors = {(c.partner, g.id) for g in inst.pools for c in g.contributors}
    seen = set()
    for k, o in enumerate(inst.options):
        if o.id in BUILTIN_OPTIONS:
            out.append(_yaml(f"options[{k}].id", (
                f"'{o.id}' is a built-in option ({', '.join(BUILTIN_OPTIONS)}): "
                "choose another id")))
        if o.id in seen:
            out.append(_yaml(f"options[{k}].id", f"duplicate option id '{o.id}'"))
        seen.add(o.id)
        for j, rule in enumerate(o.policies):
            path = f"options[{k}].policies[{j}]"
            bad = False
            for field, (kind, ids) in known.items():
                value = getattr(rule, field, None)
                if value is not None and value not in ids:
                    out.append(_yaml(f"{path}.{field}",
                                     f"unknown {kind} '{value}': " + _known(kind, ids)))
                    bad = True
            pair = (getattr(rule, "partner", None), getattr(rule, "pool", None))
            if not bad and rule.rule == "fix_contribution" and pair not in contributors:
                out.append(_yaml(path, f"partner '{pair[0]}' does not contribute to pool "
                                 f"'{pair[1]}'"))
    return out


def check_equity_over(inst: Instance) -> list[Problem]:
    """``equity_over: localities`` compares localities per head of need: it needs localities,
    each with a population (models/equity.md)."""
    if inst.settings.equity_over != "localities":
        return []
    if not inst.localities:
        return [_yaml("settings.equity_over", (
            "'localities' needs localities, and instance.yaml declares none: use 'targets' "
            "(the default) or declare localities"))]
    return [_yaml(f"localities[{k}].population", (
                f"locality '{loc.id}' has no population: settings.equity_over: localities "
                "compares localities per head of need (population × need_index)"))
            for k, loc in enumerate(inst.localities) if not loc.population]


def check_default_stress_set(inst: Instance) -> list[Problem]:
    """``settings.stress_set`` names the set ``stress`` and ``plan`` use without --set: it
    must be one the instance defines. A scenario's changed instance is checked without its
    stress sets (they are the instance's, not the scenario's): with none, there is nothing to
    check against, and ``hwbopt stress`` says the instance defines none."""
    name = inst.settings.stress_set
    known = [s.id for s in inst.stress]
    if name is None or not known or name in known:
        return []
    return [_yaml("settings.stress_set", f"unknown stress set '{name}': "
                  + _known("stress set", known))]


CHECKS = (
    check_unique_ids,
    check_yaml_references,
    check_money_shares,
    check_tables,
    check_fundable,
    check_targets_pursued,
    check_staff_and_estate,
    check_servable,
    check_options,
    check_equity_over,
    check_default_stress_set,
    check_repeated_members,
    check_magnitudes,
)


def reference_problems(inst: Instance) -> list[Problem]:
    """Every cross-reference problem and warning of a field-valid instance."""
    return [p for check in CHECKS for p in check(inst)]
