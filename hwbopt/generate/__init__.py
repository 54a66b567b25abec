"""Synthetic instances of any size, for benchmarks and scale tests.

``generate_instance(localities, interventions, partners, years, sites, seed)`` returns one dict
(the YAML fields plus every table as a list of rows) that :func:`hwbopt.instance_from_dict`
accepts with no errors and no warnings; :func:`write_generated` writes it as an instance folder
(``hwbopt generate`` on the command line). Everything is drawn from
``numpy.random.default_rng(seed)``, so the same arguments give a byte-identical folder.

What an instance holds
----------------------
The 25 services, 6 priorities, 7 partners and their money rules of the Westshire county
instance (``instances/county``) are the templates: unit costs, need per 100,000 people, current
coverage, change limits, response curves, avoided costs, remits and pools are taken from it.
Interventions cycle through the templates (the 26th is ``reablement_2``, a second reablement
service with jittered costs, need and effects); partners cycle through CCG, county council,
public health, police, fire, voluntary sector, district councils, housing, community trust,
university. On top of the county, every intervention gets staff and space needs from its
template (reablement needs care workers, OTs and desks; IAPT therapists and clinic rooms, ...),
and the estate gets sites. Every entity kind is present:

- partners of several kinds with remits, council cuts, QIPP ``savings_rate`` on the NHS,
  ``cut_by_year`` on the voluntary sector, and ring-fenced lines (public health's treatment
  budget and sexual health line; a council's line when there is no public health partner);
- pools (an integrated care pool and a substance misuse pool per 50 interventions) with
  contributors and minimum and maximum shares;
- priorities with hard targets (mental health, drugs and alcohol) and soft ones with
  penalties, a target in every year;
- interventions with growth and reduction limits, concave multi-piece responses, at least one
  threshold or S-shaped (non-concave) response per 25 interventions, go/no-go services (a
  minimum scale on some running services; new services with a set-up cost and minimum scale),
  an exclusive pair (a running service and a new alternative model of care) and a dependency
  (a new pilot that runs only with a running service) per 25 interventions;
- avoided costs landing on NHS (QIPP), council and police budgets;
- roles and staff rows for every employer, role and year, with recruitment and release limits
  and integrated working on some; every intervention with staff or space needs has a ``lead``;
- four space types, ``sites`` sites spread over the localities (the first site of each
  locality is a shareable community hub that cannot close; the others belong to partners,
  about half shareable, a few that cannot close), capacities and space needs.

Feasible by construction
------------------------
A *reference plan* keeps every running service at its current activity in every year, staffed
by its lead's own staff and housed in its lead's sites (or the locality's shareable sites), and
starts no new service. It obeys need (need never falls), change limits, the equity floor (each
locality's coverage lies within 12% of its service's base coverage, so within the 0.7 floor),
minimum scales, alternatives and dependencies. Budgets, ring-fenced shares, pool shares, staff
in post and site capacities are then sized from the reference plan's cost with some headroom,
and hard targets are set below what it achieves. All of it is computed from the rounded numbers
that are written, so the reference plan is feasible in the instance as read back.

How the size scales
-------------------
Write ``O`` for the (intervention, locality) pairs offered: about ``0.95 I L`` (a tenth of the
services run in only some localities, and services needing space only in localities with a
site). Measured per year, a model has about

- ``O`` activity columns and ``2 O`` response-curve pieces (``segment``), plus a binary per
  piece but the last of each threshold response (``piece_full``, about ``0.06 O``);
- ``O`` space-use columns when ``S = 2 L`` (one per site, service and space type the site may
  host: the hubs take every service, the other sites their owners' and, if shareable, others');
- about 6 columns per intervention (spending routes, staff deployed, go/no-go) and a few per
  site, role and partner;
- about as many rows as columns (change limits, equity floor, curve pieces, space and staff),
  and about ``0.8 Y I L (L + 25)`` nonzeros: each equity floor row holds every locality of its
  service, so nonzeros (and build time) grow faster than columns when localities grow.

So ``n_cols`` is about ``Y (3.9 I L + 6 I + 5 S + 40)`` (with ``min(S, L)`` in place of four
fifths of ``L`` when there are fewer sites than localities): linear in each argument with the
others fixed, and in ``I L Y`` above all. :func:`estimate_variables` gives the estimate and
:func:`size_for_variables` the arguments for a target:

============  ==========  =============  ========  =====  =====  ==============
target        localities  interventions  partners  years  sites  columns built
============  ==========  =============  ========  =====  =====  ==============
10k           5           75             10        5      10     9,510
100k          10          442            15        5      20     104,460
1M            20          2379           24        5      40     1,024,210
============  ==========  =============  ========  =====  =====  ==============

(columns for seed 0; ``benchmarks/README.md`` has build and solve times and memory.)

Where it is made
----------------
:mod:`hwbopt.generate.templates` holds the county's services, priorities, partners and pools;
:mod:`hwbopt.generate.entities` draws the entities one small function at a time (partners,
localities, interventions, activity and need, responses, staff, sites), and
:mod:`hwbopt.generate.funding` sizes the money around the reference plan (routes, pools,
budgets and ring-fenced shares); :mod:`hwbopt.generate.sizes` checks the arguments.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hwbopt.errors import UsageError
from hwbopt.generate import entities, funding
from hwbopt.generate.sizes import (
    DEFAULTS,
    MAX_VARIABLES,
    MAX_YEARS,
    check_sizes,
    estimate_variables,
    parse_count,
    size_for_variables,
)
from hwbopt.generate.templates import EQUITY_FLOOR, ROLES, SPACE_TYPES
from hwbopt.schema import TABLES, Instance

__all__ = [
    "DEFAULTS", "MAX_VARIABLES", "MAX_YEARS", "check_sizes", "estimate_variables",
    "generate_instance", "instance_files", "parse_count", "size_for_variables",
    "write_generated",
]


def generate_instance(
    localities: int = DEFAULTS["localities"],
    interventions: int = DEFAULTS["interventions"],
    partners: int = DEFAULTS["partners"],
    years: int = DEFAULTS["years"],
    sites: int = DEFAULTS["sites"],
    seed: int = 0,
    first_year: int = 2013,
) -> dict[str, Any]:
    """A synthetic, feasible instance as one dict for :func:`hwbopt.instance_from_dict`.

    See the module docstring for what it holds and how its size grows. Raises
    :class:`UsageError` for sizes that cannot make an instance (0 partners, ...).
    """
    check_sizes(localities, interventions, partners, years, sites, seed, first_year)
    draw = entities.Draw(seed)
    horizon = entities.Horizon(first_year, list(range(first_year, first_year + years)))
    # the order of the steps is the order of the draws: see hwbopt.generate.entities
    who = entities.partners(draw, partners, horizon)
    locs = entities.localities(draw, localities)
    lids = [loc["id"] for loc in locs]
    site_loc = [lids[k % localities] for k in range(sites)]  # a hub in each of the first ones
    ints = entities.interventions(draw, interventions, who)
    parts = entities.special_parts(draw, ints)
    where = entities.offered(draw, ints, parts, lids, sorted(set(site_loc), key=lids.index))
    act = entities.activity(draw, ints, parts, where, locs)
    entities.go_no_go(draw, ints, parts, act)
    response_rows, curves = entities.responses(draw, ints, parts)
    prios = entities.priorities(curves)
    fte_per_unit = entities.staff_needs(ints)
    staffing = entities.staff(draw, who, ints, act, fte_per_unit, horizon)
    space_need = entities.space_needs(draw, ints)
    estate = entities.sites(draw, site_loc, locs, who, ints)
    use = entities.space_use(space_need, act, ints, estate)
    capacity_rows, capacity = entities.capacities(draw, estate, use)

    paths = funding.routes(draw, who, ints)
    shared = funding.pools(draw, who, paths)
    ref = funding.reference_cost(ints, act, fte_per_unit, horizon)
    extra = funding.overheads(staffing, estate, use, capacity, horizon)
    need = funding.needs(who, ints, paths, shared, ref, extra, horizon)
    cash = funding.money(who, paths, shared, ref, need, horizon)
    budgets = funding.budgets(draw, who, cash, horizon)
    funding.settle_partners(who, ints, paths, cash)

    target_rows = entities.targets(draw, prios, curves, ints, act, horizon)
    avoided = entities.avoided_costs(draw, ints, who)
    for r in ints.rows:
        if r["max_reduction"] is None:
            del r["max_reduction"]
    employed = {rid for _, rid in staffing.fte}
    sizes = (f"{localities} localities, {interventions} interventions, {partners} partners, "
             f"{years} years, {sites} sites")
    return {
        "name": f"Synthetic board {seed}",
        "description": (f"A synthetic instance made by `hwbopt generate` with seed {seed}: "
                        f"{sizes}. Magnitudes are scaled from the Westshire county instance; "
                        "it is feasible by construction (keeping current activity is "
                        "affordable, staffed and housed)."),
        "currency": "GBP",
        "money_unit": "thousands",
        "horizon": {"first_year": first_year, "last_year": horizon.years[-1]},
        "settings": {"objective": "outcome", "discount_rate": 0.0,
                     "equity_floor": EQUITY_FLOOR},
        "partners": who.rows,
        "pools": shared.rows,
        "priorities": prios,
        "localities": locs,
        "roles": [{"id": rid, "name": name} for rid, (name, _) in ROLES.items()
                  if rid in employed],
        "space_types": [{"id": st, "name": v[0], "unit": v[1]} for st, v in SPACE_TYPES.items()],
        "exclusive": [{"id": f"model_of_care_{b + 1}", "interventions": [run, alt]}
                      for b, (run, alt) in enumerate(parts.pairs)],
        "dependencies": [{"intervention": pilot, "requires": req} for pilot, req in parts.deps],
        "sources": [f"Synthetic ({sizes}, seed {seed}): generated by hwbopt.generate from the "
                    "magnitudes of instances/county; no real place or organisation."],
        "interventions": ints.rows,
        "activity": act.rows,
        "responses": response_rows,
        "budgets": budgets,
        "targets": target_rows,
        "avoided_costs": avoided,
        "staff": staffing.rows,
        "intervention_staff": [{"intervention": i, "role": rid, "fte_per_unit": q}
                               for (i, rid), q in fte_per_unit.items()],
        "sites": estate.rows,
        "site_capacity": capacity_rows,
        "intervention_space": [{"intervention": i, "space_type": st, "per_unit": per}
                               for (i, st), per in space_need.items()],
    }


def instance_files() -> list[str]:
    """The files an instance folder may hold (instance.yaml and every table)."""
    from hwbopt.io.data import YAML_FILE

    return [YAML_FILE, *(t.file for t in TABLES.values())]


def write_generated(out: str | os.PathLike[str], *, force: bool = False,
                    **kwargs: int) -> tuple[Path, Instance]:
    """Generate an instance (``kwargs`` as :func:`generate_instance`), validate, write to ``out``.

    Refuses (:class:`UsageError`) a folder that already holds any instance file unless
    ``force``; other files in it are left alone. Returns the folder and the validated instance.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    clashes = [f for f in instance_files() if (folder / f).exists()]
    if clashes and not force:
        named = ", ".join(clashes[:3]) + (f" and {len(clashes) - 3} more instance files"
                                          if len(clashes) > 3 else "")
        raise UsageError(f"{folder} already holds {named}: nothing was overwritten; choose a "
                         "new folder, or pass --force to replace the instance files")
    from hwbopt.io.folder import instance_from_dict, write_folder

    inst = instance_from_dict(generate_instance(**kwargs))
    write_folder(inst, folder)
    return folder, inst
