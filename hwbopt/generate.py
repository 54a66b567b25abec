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
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwbopt.errors import UsageError

# ---------------------------------------------------------------------------------------------
# Templates (magnitudes from instances/county)
# ---------------------------------------------------------------------------------------------

ROLES = {  # id: (name, cost per FTE in £k a year in the first year)
    "support_worker": ("Care and support workers", 24.0),
    "nurse": ("Community nurses", 42.0),
    "social_worker": ("Social workers", 40.0),
    "occupational_therapist": ("Occupational therapists", 40.0),
    "therapist": ("Psychological therapists", 44.0),
    "drug_worker": ("Drug and alcohol workers", 32.0),
    "health_trainer": ("Health trainers and advisers", 26.0),
}

SPACE_TYPES = {  # id: (name, unit, running cost per unit of capacity in £k, a typical site)
    "clinic_room": ("Clinic and consulting rooms", "room-sessions a year", 0.03, 900.0),
    "desk": ("Office desks", "desks", 2.5, 20.0),
    "bed": ("Intermediate care beds", "beds", 12.0, 10.0),
    "community_space": ("Community halls and group rooms", "hall-hours a year", 0.015, 1000.0),
}


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    unit: str
    cost: float  # full cost per unit, £k (staff included)
    cost_growth: float
    need_growth: float
    max_growth: float
    max_growth_of_need: float
    max_reduction: float
    need_per_100k: float
    coverage: float  # current activity / need
    homes: tuple[str, ...]  # partner kinds whose remit holds it; the first leads it
    pool: str | None  # "integrated_care" or "substance_misuse"
    line: str | None  # ring-fenced line of public health that may fund it
    responses: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]
    avoided: tuple[tuple[str, float], ...]  # (partner kind, saving per unit)
    staff: tuple[tuple[str, float], ...]  # (role, share of the full cost)
    space: tuple[tuple[str, float], ...]  # (space type, per unit)


S = Service
# the first four cover two soft and two hard priorities, so the smallest instance has both
SERVICES: tuple[Service, ...] = (
    S("reablement", "Home care reablement", "episode", 2.1, 0.02, 0.03, 0.15, 0.0, 0.1, 812,
      0.65, ("council", "nhs"), "integrated_care", None,
      (("older_people", ((0.6, 0.7), (1.0, 0.5))),), (("nhs", 0.08), ("council", 1.2)),
      (("support_worker", 0.45), ("occupational_therapist", 0.1)), (("desk", 0.004),)),
    S("iapt", "IAPT talking therapies", "completed course", 0.88, 0.02, 0.02, 0.2, 0.05, 0.05,
      1313, 0.53, ("nhs",), None, None, (("mental_health", ((0.6, 0.45), (1.0, 0.35))),),
      (("nhs", 0.03),), (("therapist", 0.6),), (("clinic_room", 7.0),)),
    S("drug_treatment", "Community drug treatment", "client-year", 3.0, 0.02, 0.0, 0.1, 0.0,
      0.05, 388, 0.81, ("public_health",), "substance_misuse", "treatment_budget",
      (("drugs_alcohol", ((0.8, 0.22), (1.0, 0.15))),), (("police", 1.5), ("nhs", 0.05)),
      (("drug_worker", 0.4), ("nurse", 0.1)), (("clinic_room", 6.0),)),
    S("stop_smoking", "NHS stop smoking service", "person setting a quit date", 0.15, 0.0, 0.0,
      0.1, 0.0, 0.2, 1875, 0.5, ("public_health",), None, None,
      (("smoking", ((0.5, 0.5), (1.0, 0.4))),), (("nhs", 0.01),),
      (("health_trainer", 0.4),), (("clinic_room", 4.0),)),
    S("intermediate_care", "Bed-based intermediate care", "admission", 3.6, 0.02, 0.03, 0.1,
      0.0, 0.1, 350, 0.68, ("nhs", "council"), "integrated_care", None,
      (("older_people", ((0.5, 0.65), (1.0, 0.45))),), (("nhs", 0.35), ("council", 0.6)),
      (("nurse", 0.3), ("support_worker", 0.15)), (("bed", 0.06),)),
    S("telecare", "Telecare (alarm, sensors, monitoring)", "user-year", 0.35, 0.0, 0.04, 0.2,
      0.05, 0.15, 2000, 0.44, ("council",), "integrated_care", None,
      (("older_people", ((0.3, 0.1), (0.6, 0.05), (1.0, 0.02))),),
      (("nhs", 0.015), ("council", 0.2)), (("support_worker", 0.15),), (("desk", 0.0005),)),
    S("falls_prevention", "Falls prevention (strength and balance, home hazards)", "person",
      0.3, 0.02, 0.03, 0.25, 0.05, 0.2, 875, 0.26, ("nhs", "public_health"),
      "integrated_care", None, (("older_people", ((0.3, 0.08), (1.0, 0.03))),),
      (("nhs", 0.08), ("council", 0.1)), (("health_trainer", 0.3),),
      (("community_space", 1.2),)),
    S("fire_safety", "Fire home safety visits to vulnerable households", "visit", 0.1, 0.02,
      0.0, 0.2, 0.0, 0.2, 2000, 0.56, ("fire",), None, None,
      (("older_people", ((0.4, 0.012), (1.0, 0.004))),), (("fire", 0.02),), (), ()),
    S("carers_support", "Carers' breaks and support", "carer-year", 0.5, 0.02, 0.02, 0.15, 0.0,
      0.05, 875, 0.46, ("council", "voluntary"), "integrated_care", None,
      (("older_people", ((0.4, 0.08), (1.0, 0.03))), ("mental_health", ((1.0, 0.03),))),
      (("council", 0.3),), (("social_worker", 0.2),), (("community_space", 1.0),)),
    S("dfg", "Disabled facilities grant adaptations", "adaptation", 4.5, 0.02, 0.02, 0.15, 0.0,
      0.05, 144, 0.61, ("council",), "integrated_care", None,
      (("older_people", ((0.5, 0.6), (1.0, 0.4))),), (("council", 1.5), ("nhs", 0.08)),
      (("occupational_therapist", 0.1),), ()),
    S("housing_support", "Housing-related (Supporting People) floating support",
      "household-year", 1.5, 0.0, 0.0, 0.1, 0.0, 0.15, 425, 0.76, ("council", "housing"),
      "integrated_care", None,
      (("older_people", ((0.4, 0.14), (1.0, 0.05))), ("mental_health", ((0.4, 0.1), (1.0, 0.04))),
       ("drugs_alcohol", ((1.0, 0.03),))),
      (("council", 0.5), ("nhs", 0.05), ("police", 0.1)), (("support_worker", 0.6),),
      (("desk", 0.004),)),
    S("befriending", "Befriending and social inclusion", "person-year", 0.25, 0.0, 0.02, 0.25,
      0.05, 0.25, 625, 0.3, ("voluntary", "council"), "integrated_care", None,
      (("older_people", ((0.3, 0.02), (1.0, 0.01))),
       ("mental_health", ((0.3, 0.03), (1.0, 0.015)))), (), (), (("community_space", 2.0),)),
    S("crisis_resolution", "Crisis resolution and home treatment", "episode", 2.4, 0.02, 0.0,
      0.1, 0.0, 0.05, 237, 0.79, ("nhs",), "integrated_care", None,
      (("mental_health", ((1.0, 0.3),)),), (("nhs", 0.35),),
      (("nurse", 0.5), ("social_worker", 0.1)), (("desk", 0.01),)),
    S("ips_employment", "Individual placement and support (IPS) employment", "client-year",
      2.5, 0.02, 0.0, 0.3, 0.05, 0.2, 112, 0.28, ("council",), None, None,
      (("mental_health", ((0.3, 0.4), (1.0, 0.25))),), (), (("support_worker", 0.5),),
      (("desk", 0.01),)),
    S("adult_weight_mgmt", "Adult weight management (12-week referral)", "participant", 0.1,
      0.0, 0.03, 0.3, 0.05, 0.25, 1500, 0.22, ("public_health", "council"), None, None,
      (("obesity", ((0.3, 0.2), (0.7, 0.12), (1.0, 0.06))),), (),
      (("health_trainer", 0.5),), (("community_space", 1.0),)),
    S("child_weight", "Child and family weight management", "child", 0.35, 0.0, 0.03, 0.25,
      0.05, 0.25, 275, 0.2, ("public_health",), None, None,
      (("obesity", ((0.3, 0.4), (1.0, 0.15))),), (), (("health_trainer", 0.4),),
      (("community_space", 1.5),)),
    S("exercise_referral", "Exercise on referral", "participant", 0.2, 0.02, 0.02, 0.25, 0.0,
      0.2, 1000, 0.3, ("council", "public_health"), None, None,
      (("obesity", ((1.0, 0.08),)), ("mental_health", ((1.0, 0.01),)),
       ("older_people", ((1.0, 0.004),))), (), (("health_trainer", 0.3),),
      (("community_space", 1.0),)),
    S("alcohol_treatment", "Specialist community alcohol treatment", "client-year", 1.4, 0.02,
      0.02, 0.15, 0.0, 0.1, 375, 0.4, ("public_health",), "substance_misuse", None,
      (("drugs_alcohol", ((0.5, 0.35), (1.0, 0.25))),), (("nhs", 0.08), ("police", 0.2)),
      (("drug_worker", 0.5),), (("clinic_room", 5.0),)),
    S("alcohol_brief", "Alcohol identification and brief advice (primary care)",
      "brief intervention", 0.03, 0.0, 0.0, 0.4, 0.05, 0.25, 5625, 0.2,
      ("nhs", "public_health"), "substance_misuse", None,
      (("drugs_alcohol", ((0.3, 0.012), (0.7, 0.008), (1.0, 0.004))),), (), (), ()),
    S("alcohol_liaison", "Hospital alcohol liaison nurses", "patient seen", 0.2, 0.02, 0.02,
      0.3, 0.05, 0.2, 625, 0.32, ("nhs",), "substance_misuse", None,
      (("drugs_alcohol", ((0.5, 0.08), (1.0, 0.05))),), (("nhs", 0.12),), (("nurse", 0.7),), ()),
    S("dip", "Drug intervention programme (arrest referral)", "client", 1.0, 0.02, 0.0, 0.1,
      0.0, 0.1, 162, 0.69, ("police",), "substance_misuse", None,
      (("drugs_alcohol", ((1.0, 0.12),)),), (("police", 0.8),), (("drug_worker", 0.5),),
      (("desk", 0.005),)),
    S("larc", "Long-acting reversible contraception for under-25s", "fitting", 0.12, 0.0, 0.0,
      0.25, 0.05, 0.2, 813, 0.4, ("public_health",), None, "sexual_health",
      (("teenage_pregnancy", ((0.5, 0.04), (1.0, 0.025))),), (), (("nurse", 0.3),),
      (("clinic_room", 1.0),)),
    S("sexual_health_outreach", "Young people's sexual health outreach (C-card, drop-ins)",
      "young person", 0.05, 0.0, 0.0, 0.25, 0.05, 0.25, 1500, 0.37,
      ("public_health", "voluntary"), None, "sexual_health",
      (("teenage_pregnancy", ((0.4, 0.008), (1.0, 0.004))),), (), (("nurse", 0.2),),
      (("community_space", 0.2),)),
    S("school_sre", "School sex and relationships education", "pupil", 0.015, 0.0, 0.0, 0.3,
      0.05, 0.25, 2500, 0.3, ("council", "public_health"), None, None,
      (("teenage_pregnancy", ((0.5, 0.002), (1.0, 0.001))),), (), (), ()),
    S("fnp", "Family Nurse Partnership (teenage first-time mothers)", "family-year", 3.0, 0.02,
      0.0, 0.5, 0.1, 0.15, 52, 0.24, ("nhs",), None, None,
      (("teenage_pregnancy", ((1.0, 0.08),)), ("mental_health", ((1.0, 0.03),))),
      (("council", 0.4),), (("nurse", 0.7),), (("desk", 0.02),)),
)
del S

PRIORITIES = {  # id: (name, measure, unit, weight, hard, shortfall penalty)
    "older_people": ("Older people's independence", "older people helped to stay living at "
                     "home", "people", 8.0, False, 6.0),
    "mental_health": ("Mental health", "people moving to recovery or into work after mental "
                      "health support", "people", 5.0, True, 0.0),
    "obesity": ("Healthy weight", "adults losing 5% of body weight at 12 months, or children "
                "reducing BMI z-score", "people", 1.5, False, 2.0),
    "drugs_alcohol": ("Drugs and alcohol", "people leaving treatment free of dependence, or "
                      "drinking reduced to lower risk", "people", 6.0, True, 0.0),
    "teenage_pregnancy": ("Teenage pregnancy", "under-18 conceptions averted", "conceptions",
                          10.0, False, 10.0),
    "smoking": ("Smoking", "smokers quit at four weeks", "people", 0.6, False, 1.0),
}

# (id, name, kind, money rule); cycled with a number for more partners
PARTNER_PLAN = (
    ("ccg", "Clinical commissioning group", "nhs", "qipp"),
    ("county", "County council", "council", "cut28"),
    ("public_health", "Public health", "public_health", "none"),
    ("police", "Police", "police", "cut20"),
    ("fire", "Fire and rescue service", "fire", "cut20"),
    ("voluntary", "Voluntary and community sector", "voluntary", "by_year"),
    ("districts", "District councils", "council", "cut24"),
    ("housing", "Housing association", "housing", "cut10"),
    ("community_trust", "Community health trust", "nhs", "qipp"),
    ("university", "University public health partnership", "other", "none"),
)

# group: (name, ((contributor kind, min_share, max_share, usual part of the pool), ...))
POOLS = {
    "integrated_care": ("Integrated care pool (Section 75)", (
        ("nhs", 0.25, 0.6, 0.45), ("council", 0.15, 0.6, 0.4), ("public_health", 0.0, 0.15, 0.1),
        ("fire", 0.0, 0.3, 0.05))),
    "substance_misuse": ("Drug and alcohol action team pooled budget", (
        ("police", 0.3, 0.9, 0.6), ("public_health", 0.0, 0.15, 0.3), ("nhs", 0.0, 0.1, 0.1))),
}
LINES = {"treatment_budget": "Drug treatment (ring-fenced)",
         "sexual_health": "Prescribed sexual health services"}

SITE_KINDS = {  # owner kind: (site names, space types it may have)
    "nhs": (("health centre", "community hospital", "clinic"),
            ("clinic_room", "desk", "bed")),
    "council": (("council offices", "day centre", "library hub"),
                ("desk", "community_space", "clinic_room")),
    "public_health": (("sexual health clinic", "wellbeing centre"), ("clinic_room", "desk")),
    "police": (("police station",), ("desk",)),
    "fire": (("fire station",), ("community_space", "desk")),
    "voluntary": (("community centre",), ("community_space", "desk")),
    "housing": (("extra care scheme",), ("community_space", "bed")),
    "other": (("campus",), ("desk", "clinic_room")),
}

PLACE_HEADS = ("King", "Salt", "Harrow", "North", "East", "West", "Ash", "Brook", "Thorn",
               "Elm", "Oak", "Mill", "Stone", "Fair", "Black", "White", "Red", "Green",
               "Long", "Hazel", "Wick", "Cold", "Mar", "Brad")
PLACE_TAILS = ("bridge", "marsh", "by", "dale", "wold", "ford", "ham", "ton", "field", "well",
               "stead", "combe", "leigh", "worth", "bury", "minster")

EQUITY_FLOOR = 0.7
TILT = 0.12  # locality coverage within ±12% of the service's coverage: ratio >= 0.786 > 0.7
MONEY_HEADROOM = (1.01, 1.06)
MAX_YEARS = 50
MAX_VARIABLES = 30_000_000
# the county's sizes: 5 districts, 25 services (26 with its discharge hub), 7 partners, 35 sites
DEFAULTS = {"localities": 5, "interventions": 25, "partners": 7, "years": 4, "sites": 35}


# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------


def estimate_variables(localities: int, interventions: int, partners: int, years: int,
                       sites: int) -> int:
    """About how many columns ``hwbopt.pipeline.build`` makes of a generated instance.

    A least-squares fit to measured counts: within 5% from 5,000 to over a million columns,
    within about 25% for the smallest instances. Four services in five need space and run only
    where there is a site, hence ``places``. Partners hardly matter.
    """
    L, NI, Y, S = localities, interventions, years, sites
    places = 0.2 * L + 0.8 * min(S, L)
    return round(Y * (3.9 * NI * places + 6.0 * NI + 5.0 * S + 40.0))


def size_for_variables(target: int) -> dict[str, int]:
    """Generator arguments giving about ``target`` columns, in realistic proportions.

    A five-year plan; localities grow slowly (5 at 10k columns, 10 at 100k, 20 at a million:
    districts, then neighbourhoods), two sites per locality (the county has seven, but most
    columns should stay with services rather than buildings), partners grow slowly too (10,
    15, 24), and interventions make up the rest (75, 442 and 2,379).
    """
    if not isinstance(target, int) or target < 1000:
        raise UsageError(f"a target of at least 1000 variables is supported, got {target!r}")
    years = 5
    localities = max(2, round(5 * (target / 10_000) ** 0.3))
    partners = max(4, min(40, round(10 * (target / 10_000) ** 0.19)))
    sites = 2 * localities
    lo, hi = 4, 10_000_000
    while lo < hi:  # the fewest interventions reaching the target
        mid = (lo + hi) // 2
        if estimate_variables(localities, mid, partners, years, sites) < target:
            lo = mid + 1
        else:
            hi = mid
    return {"localities": localities, "interventions": lo, "partners": partners,
            "years": years, "sites": sites}


def parse_count(text: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    mult = 1
    if t.endswith("k"):
        mult, t = 1000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise UsageError(f"expected a count such as 10000, 10k or 1m, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"expected a positive count, got {text!r}")
    return round(value)


def check_sizes(localities: int, interventions: int, partners: int, years: int, sites: int,
                seed: int, first_year: int) -> None:
    """Raise :class:`UsageError` naming every argument that cannot make an instance."""
    wrong = []
    for name, value, least, why in (
        ("localities", localities, 1, "at least one locality"),
        ("interventions", interventions, 4, "at least 4 interventions (an exclusive pair and "
         "a dependency need two each)"),
        ("partners", partners, 2, "at least 2 partners (pooling, integrated teams and "
         "co-location need two)"),
        ("years", years, 1, "at least one year"),
        ("sites", sites, 1, "at least one site"),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            wrong.append(f"{name} must be a whole number, got {value!r}")
        elif value < least:
            wrong.append(f"{name} is {value}: expected {why}")
    if isinstance(years, int) and years > MAX_YEARS:
        wrong.append(f"years is {years}: a horizon of at most {MAX_YEARS} years is supported")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        wrong.append(f"seed must be a whole number >= 0, got {seed!r}")
    span = years if isinstance(years, int) and years >= 1 else 1
    if not isinstance(first_year, int) or not 1900 <= first_year <= 2200 - span + 1:
        wrong.append(f"first year {first_year!r} is out of range: the horizon must lie within "
                     "1900-2200")
    if wrong:
        raise UsageError("cannot generate an instance: " + "; ".join(wrong))
    n = estimate_variables(localities, interventions, partners, years, sites)
    if n > MAX_VARIABLES:
        raise UsageError(f"these sizes give about {n:,} variables: at most {MAX_VARIABLES:,} "
                         "are supported")


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def _r(x: float, digits: int = 3) -> float:
    """Round to ``digits`` significant figures (readable CSV cells)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, digits - 1 - math.floor(math.log10(abs(x)))))


def _up(x: float, step: float = 1.0) -> float:
    """Round up to a multiple of ``step`` (money and capacities: never below what is needed)."""
    return round(math.ceil(x / step - 1e-9) * step, 6)


def _curve(pieces: tuple[tuple[float, float], ...], need: float, act: float) -> float:
    """Outcome of ``act`` units on a curve of (upto_share, effect) pieces, filled in order."""
    total, start = 0.0, 0.0
    for upto, effect in pieces:
        end = upto * need
        if act <= start:
            break
        total += effect * (min(act, end) - start)
        start = end
    return total


def _place_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """n distinct (id, name) pairs of invented English place names."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    combos = [h + t for h in PLACE_HEADS for t in PLACE_TAILS]
    order = rng.permutation(len(combos))
    for k in range(n):
        base = combos[order[k % len(combos)]]
        name = base if k < len(combos) else f"{base} {k // len(combos) + 1}"
        lid = name.lower().replace(" ", "_")
        assert lid not in seen
        seen.add(lid)
        out.append((lid, name))
    return out


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
    rng = np.random.default_rng(seed)
    L, NI, P, Y, NS = localities, interventions, partners, years, sites
    YEARS = list(range(first_year, first_year + Y))

    def u(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    # ---- partners ---------------------------------------------------------------------------
    plist: list[dict[str, Any]] = []
    kind_of: dict[str, str] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for j in range(P):
        pid, pname, kind, rule = PARTNER_PLAN[j % len(PARTNER_PLAN)]
        rep = j // len(PARTNER_PLAN)
        if rep:
            pid, pname = f"{pid}_{rep + 1}", f"{pname} {rep + 1}"
        p: dict[str, Any] = {"id": pid, "name": pname, "kind": kind}
        if rule == "qipp":
            p["savings_rate"] = _r(u(0.03, 0.05), 2)
        elif rule.startswith("cut"):
            p["cut"] = {"total": _r(int(rule[3:]) / 100 * u(0.9, 1.1), 2),
                        "over_years": min(4, Y)}
        elif rule == "by_year":
            steps = np.cumsum(rng.uniform(0.02, 0.04, size=Y))
            p["cut_by_year"] = {y: _r(min(float(c), 0.3), 2) for y, c in
                                zip(YEARS, steps, strict=True)}
        plist.append(p)
        kind_of[pid] = kind
        by_kind[kind].append(pid)
    pids = [p["id"] for p in plist]

    def of_kind(kinds: tuple[str, ...] | list[str]) -> list[str]:
        return [pid for k in kinds for pid in by_kind.get(k, ())]

    # ---- localities -------------------------------------------------------------------------
    locs: list[dict[str, Any]] = []
    for lid, name in _place_names(rng, L):
        locs.append({"id": lid, "name": name,
                     "population": float(round(math.exp(u(math.log(6e4), math.log(2.5e5))),
                                               -3)),
                     "need_index": _r(u(0.7, 1.35), 2)})
    lids = [loc["id"] for loc in locs]
    # sites: the first min(S, L) localities get one each (a hub), the rest spread round
    site_loc = [lids[k % L] for k in range(NS)]
    with_site = sorted(set(site_loc), key=lids.index)

    # ---- interventions ----------------------------------------------------------------------
    rows: list[dict[str, Any]] = []
    svc: dict[str, Service] = {}
    jit: dict[str, dict[str, float]] = {}
    lead: dict[str, str] = {}
    remit: dict[str, list[str]] = defaultdict(list)
    for j in range(NI):
        t = SERVICES[j % len(SERVICES)]
        copy = j // len(SERVICES)
        iid = t.id if copy == 0 else f"{t.id}_{copy + 1}"
        name = t.name if copy == 0 else f"{t.name} {copy + 1}"
        f = {"cost": 1.0, "need": 1.0, "effect": 1.0, "coverage": 1.0}
        if copy:
            f = {"cost": u(0.8, 1.25), "need": u(0.5, 1.5), "effect": u(0.8, 1.25),
                 "coverage": u(0.8, 1.2)}
        svc[iid], jit[iid] = t, f
        homes = of_kind(t.homes[:1]) or of_kind(t.homes) or of_kind(("council", "nhs"))
        lead[iid] = homes[int(rng.integers(len(homes)))]
        remit[lead[iid]].append(iid)
        others = [p for p in of_kind(t.homes) if p != lead[iid]]
        if others and rng.random() < 0.4:
            remit[others[int(rng.integers(len(others)))]].append(iid)
        rows.append({"id": iid, "name": name, "unit": t.unit, "cost_growth": t.cost_growth,
                     "need_growth": t.need_growth, "max_growth": t.max_growth,
                     "max_growth_of_need": t.max_growth_of_need,
                     "max_reduction": t.max_reduction, "lead": lead[iid]})
    iids = [r["id"] for r in rows]
    row_of = {r["id"]: r for r in rows}

    # special roles: per 25 interventions an exclusive pair (running service, new model of care),
    # a dependency (new pilot, running service it needs), a threshold response, a minimum scale
    blocks = max(1, NI // 25)
    perm = [iids[k] for k in rng.permutation(NI)]
    pairs = [(perm[2 * b], perm[2 * b + 1]) for b in range(blocks)]
    deps = [(perm[2 * blocks + 2 * b], perm[2 * blocks + 2 * b + 1]) for b in range(blocks)]
    new = {alt for _, alt in pairs} | {pilot for pilot, _ in deps}
    running_choice = {run for run, _ in pairs} | {req for _, req in deps}
    rest = [i for i in perm if i not in new and i not in running_choice]
    nonconcave = set(perm[len(perm) - blocks:]) if 4 * blocks < NI else {perm[-1]}
    min_scaled = set(rest[:blocks]) | {req for _, req in deps[:1]}
    for run, alt in pairs:
        row_of[run]["max_reduction"] = None  # an alternative can replace it: it may close
        row_of[alt]["name"] = f"{row_of[run]['name']}: new model of care"
    for pilot, req in deps:
        row_of[pilot]["name"] = f"{row_of[pilot]['name']} (pilot alongside {req})"

    # ---- activity ---------------------------------------------------------------------------
    offered: dict[str, list[str]] = {}
    for iid in iids:
        places = with_site if svc[iid].space else lids
        if iid not in new and len(places) > 1 and rng.random() < 0.1:
            k = max(1, round(len(places) * u(0.3, 0.8)))
            pick = set(rng.choice(len(places), size=k, replace=False).tolist())
            places = [p for n, p in enumerate(places) if n in pick]
        offered[iid] = list(places)
    loc_of = {loc["id"]: loc for loc in locs}
    activity: list[dict[str, Any]] = []
    need0: dict[tuple[str, str], float] = {}
    cur: dict[tuple[str, str], float] = {}
    for iid in iids:
        t, f = svc[iid], jit[iid]
        cov = min(t.coverage * f["coverage"], 0.8)
        for lid in offered[iid]:
            loc = loc_of[lid]
            n = t.need_per_100k * f["need"] * loc["population"] / 1e5 * loc["need_index"] \
                * u(0.9, 1.1)
            n = max(float(round(n)), 1.0)
            c = 0.0 if iid in new else float(math.floor(n * cov * (1 + u(-TILT, TILT))))
            need0[iid, lid], cur[iid, lid] = n, c
            activity.append({"intervention": iid, "locality": lid, "current": c, "need": n})

    def need_at(iid: str, lid: str, y: int) -> float:
        return need0[iid, lid] * (1.0 + row_of[iid]["need_growth"]) ** (y - first_year)

    total_cur = {i: sum(cur[i, lid] for lid in offered[i]) for i in iids}
    total_need0 = {i: sum(need0[i, lid] for lid in offered[i]) for i in iids}
    for iid in iids:
        r = row_of[iid]
        if iid in new:
            r["max_growth_of_need"] = _r(u(0.15, 0.3), 2)
            r["min_scale"] = float(math.floor(0.4 * r["max_growth_of_need"] * total_need0[iid]))
            r["setup_cost"] = _r(u(50.0, 300.0), 2)
        elif iid in min_scaled and total_cur[iid] > 0:
            r["min_scale"] = float(math.floor(u(0.3, 0.5) * total_cur[iid]))

    # ---- responses --------------------------------------------------------------------------
    responses: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
    for iid in iids:
        t, f = svc[iid], jit[iid]
        for k, (kid, pieces) in enumerate(t.responses):
            pieces = tuple((upto, _r(e * f["effect"])) for upto, e in pieces)
            if iid in nonconcave and k == 0:
                e = pieces[0][1]
                if rng.random() < 0.5:  # a threshold: little benefit below critical mass
                    u0 = _r(u(0.2, 0.4), 2)
                    pieces = ((u0, _r(0.3 * e)), (1.0, _r(1.3 * e)))
                else:  # an S-shape
                    u0 = _r(u(0.15, 0.3), 2)
                    pieces = ((u0, _r(0.3 * e)), (_r(u0 + 0.4, 2), _r(1.4 * e)),
                              (1.0, _r(0.5 * e)))
            curves[iid, kid] = pieces
            for upto, e in pieces:
                responses.append({"intervention": iid, "priority": kid, "upto_share": upto,
                                  "effect": e})
    moved = {kid for (_, kid) in curves}
    priorities = []
    for kid, (name, measure, unit, weight, hard, penalty) in PRIORITIES.items():
        if kid not in moved:
            continue
        pr: dict[str, Any] = {"id": kid, "name": name, "measure": measure, "unit": unit,
                              "weight": weight, "target_type": "hard" if hard else "soft"}
        if not hard:
            pr["shortfall_penalty"] = penalty
        priorities.append(pr)

    # ---- unit costs, staff needs --------------------------------------------------------------
    role_cost = {rid: c for rid, (_, c) in ROLES.items()}
    fte_per_unit: dict[tuple[str, str], float] = {}
    for iid in iids:
        t, f = svc[iid], jit[iid]
        full = t.cost * f["cost"]
        share = 0.0
        for rid, s in t.staff:
            fte_per_unit[iid, rid] = _r(s * full / role_cost[rid])
            share += s
        row_of[iid]["unit_cost"] = _r(full * (1.0 - share))

    def cost_per_fte(rid: str, y: int) -> float:
        return round(role_cost[rid] * 1.01 ** (y - first_year), 2)

    # staff: every lead employs the roles its services need, enough for current activity; now
    # and then another partner employs the role too, in an integrated team
    demand: dict[tuple[str, str], float] = defaultdict(float)
    for (iid, rid), q in fte_per_unit.items():
        demand[lead[iid], rid] += q * total_cur[iid]
    pairs_staff = sorted(demand, key=lambda k: (pids.index(k[0]), list(ROLES).index(k[1])))
    for rid in ROLES:
        if any(r == rid for _, r in pairs_staff) and rng.random() < 0.6:
            cand = [p for p in pids if (p, rid) not in demand]
            if cand:
                pairs_staff.append((cand[int(rng.integers(len(cand)))], rid))
    staff_rows: list[dict[str, Any]] = []
    fte: dict[tuple[str, str], float] = {}
    for e, rid in pairs_staff:
        d = demand.get((e, rid), 0.0)
        fte[e, rid] = _up(d * u(1.03, 1.12), 0.1) if d > 0 else float(round(u(2, 15)))
        integrated = (e, rid) not in demand or rng.random() < 0.4
        limit = max(1.0, _up(fte[e, rid] * u(0.05, 0.15), 0.1))
        release = _r(u(0.03, 0.1), 2)
        for y in YEARS:
            w = cost_per_fte(rid, y)
            staff_rows.append({
                "employer": e, "role": rid, "year": y, "fte": fte[e, rid], "cost_per_fte": w,
                "recruit_limit": limit, "recruit_cost": round(0.1 * w, 2),
                "max_release": release, "release_cost": round(0.3 * w, 2),
                "integrated": integrated})

    # ---- sites and space --------------------------------------------------------------------
    space_need = {(iid, st): _r(per * u(0.9, 1.1) if jit[iid]["cost"] != 1.0 else per)
                  for iid in iids for st, per in svc[iid].space}
    site_rows: list[dict[str, Any]] = []
    types_at: dict[str, list[str]] = {}
    sites_in: dict[str, list[str]] = defaultdict(list)
    owner_w = np.array([1.0 + sum(1 for i in iids if lead[i] == p and svc[i].space)
                        for p in pids])
    owner_w = owner_w / owner_w.sum()
    hub_owner = by_kind["council"][0]
    name_count: dict[str, int] = defaultdict(int)
    for k, lid in enumerate(site_loc):
        hub = lid not in sites_in
        if hub:
            owner, label, types = hub_owner, "community hub", list(SPACE_TYPES)
            shareable, can_close = True, False
        else:
            owner = pids[int(rng.choice(P, p=owner_w))]
            names, allowed = SITE_KINDS[kind_of[owner]]
            label = names[int(rng.integers(len(names)))]
            n_types = int(rng.integers(1, len(allowed) + 1))
            types = sorted(rng.choice(allowed, size=n_types, replace=False).tolist(),
                           key=list(SPACE_TYPES).index)
            shareable, can_close = bool(rng.random() < 0.5), bool(rng.random() >= 0.1)
        base = f"{loc_of[lid]['name']} {label}"
        name_count[base] += 1
        name = base if name_count[base] == 1 else f"{base} {name_count[base]}"
        sid = f"s{k + 1}_{lid}"
        types_at[sid] = types
        sites_in[lid].append(sid)
        site_rows.append({"id": sid, "name": name, "owner": owner, "locality": lid,
                          "shareable": shareable, "can_close": can_close})

    # the reference plan's space: the lead's own sites in the locality, else shareable ones
    ref_use: dict[tuple[str, str], float] = defaultdict(float)
    ref_by: dict[tuple[str, str, str], float] = defaultdict(float)  # (site, type, lead)
    owner_of = {r["id"]: r["owner"] for r in site_rows}
    shareable_of = {r["id"]: r["shareable"] for r in site_rows}
    for (iid, st), per in space_need.items():
        for lid in offered[iid]:
            amount = per * cur[iid, lid]
            own = [s for s in sites_in[lid] if st in types_at[s] and owner_of[s] == lead[iid]]
            hosts = own or [s for s in sites_in[lid] if st in types_at[s] and shareable_of[s]]
            for s in hosts:
                ref_use[s, st] += amount / len(hosts)
                ref_by[s, st, lead[iid]] += amount / len(hosts)
    capacity_rows: list[dict[str, Any]] = []
    capacity: dict[tuple[str, str], float] = {}
    for row in site_rows:
        sid = row["id"]
        running = u(15.0, 40.0)
        for st in types_at[sid]:
            typical = SPACE_TYPES[st][3]
            used = ref_use.get((sid, st), 0.0)
            if used > 0:
                k_ = _up(used * u(1.1, 1.4) + typical * u(0.05, 0.2))
            else:
                k_ = _up(typical * u(0.5, 1.5))
            capacity[sid, st] = k_
            capacity_rows.append({"site": sid, "space_type": st, "capacity": k_})
            running += k_ * SPACE_TYPES[st][2] * u(0.8, 1.2)
        row["running_cost"] = _up(running)
        if row["can_close"]:
            row["closure_cost"] = _up(running * u(0.5, 1.5))
            row["disposal_receipt"] = _up(running * u(0.0, 4.0))
    space_rows = [{"intervention": i, "space_type": st, "per_unit": per}
                  for (i, st), per in space_need.items()]
    staff_need_rows = [{"intervention": i, "role": rid, "fte_per_unit": q}
                       for (i, rid), q in fte_per_unit.items()]

    # ---- money routes -----------------------------------------------------------------------
    line_holders = by_kind.get("public_health") or by_kind["council"][:1]
    line_items: dict[tuple[str, str], list[str]] = defaultdict(list)
    primary: dict[str, tuple[str, Any]] = {}
    pool_items: dict[str, list[str]] = defaultdict(list)
    pool_group: dict[str, str] = {}
    for j, iid in enumerate(iids):
        t = svc[iid]
        if t.pool:
            gid = t.pool if j < 50 else f"{t.pool}_{j // 50 + 1}"
            pool_items[gid].append(iid)
            pool_group[gid] = t.pool
        if t.line and lead[iid] in line_holders:
            line_items[lead[iid], t.line].append(iid)
            primary[iid] = ("line", (lead[iid], t.line))
        elif t.pool and rng.random() < 0.7:
            primary[iid] = ("pool", gid)
        else:
            primary[iid] = ("remit", lead[iid])
    if not line_items:  # always at least one ring-fenced line
        holder = line_holders[0]
        mine = remit[holder] or [iids[0]]
        if not remit[holder]:
            remit[holder].append(iids[0])
        line_items[holder, "treatment_budget"].append(mine[0])
    if not pool_items:  # always at least one pool
        pool_items["integrated_care"].append(iids[0])
        pool_group["integrated_care"] = "integrated_care"

    pools: list[dict[str, Any]] = []
    contrib: dict[str, list[dict[str, Any]]] = {}
    pool_part: dict[tuple[str, str], float] = {}  # who usually pays which part of a pool
    for gid, items in pool_items.items():
        cons = []
        for kind, lo, hi, part in POOLS[pool_group[gid]][1]:
            cand = by_kind.get(kind, [])
            if cand:
                cons.append({"partner": cand[int(rng.integers(len(cand)))],
                             "min_share": lo, "max_share": hi})
                pool_part[gid, cons[-1]["partner"]] = part * u(0.8, 1.2)
        contrib[gid] = cons
        suffix = "" if gid == pool_group[gid] else f" {gid.rsplit('_', 1)[1]}"
        pools.append({"id": gid, "name": POOLS[pool_group[gid]][0] + suffix,
                      "interventions": items, "contributors": contrib[gid]})
    # minimum shares of one partner add up to at most 30% of its money
    min_total: dict[str, float] = defaultdict(float)
    for cons in contrib.values():
        for c in cons:
            min_total[c["partner"]] += c["min_share"]
    for cons in contrib.values():
        for c in cons:
            if min_total[c["partner"]] > 0.3:
                c["min_share"] = math.floor(c["min_share"] * 0.3 / min_total[c["partner"]]
                                            * 1000) / 1000
    min_share_of = defaultdict(float)
    for cons in contrib.values():
        for c in cons:
            min_share_of[c["partner"]] += c["min_share"]

    # ---- the reference plan's money -------------------------------------------------------------
    def unit_cost(iid: str, y: int) -> float:
        r = row_of[iid]
        return r["unit_cost"] * (1.0 + r["cost_growth"]) ** (y - first_year)

    roles_of: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (i, rid), q in fte_per_unit.items():
        roles_of[i].append((rid, q))

    def ref_cost(iid: str, y: int) -> float:
        staff = sum(q * cost_per_fte(rid, y) for rid, q in roles_of[iid])
        return total_cur[iid] * (unit_cost(iid, y) + staff)

    ref = {(i, y): ref_cost(i, y) for i in iids for y in YEARS}
    # staff idle cost, own sites' running costs, co-location charges (charges received are
    # left out: more headroom)
    extra: dict[tuple[str, int], float] = defaultdict(float)
    for (e, rid), n in fte.items():
        for y in YEARS:
            extra[e, y] += cost_per_fte(rid, y) * (n - demand.get((e, rid), 0.0))
    running_of = {r["id"]: r["running_cost"] for r in site_rows}
    for sid in owner_of:
        for y in YEARS:
            extra[owner_of[sid], y] += running_of[sid]
    charges: dict[str, float] = defaultdict(float)
    for (sid, st, p), used in ref_by.items():
        if p != owner_of[sid]:
            charges[p] += running_of[sid] * used / capacity[sid, st] / len(types_at[sid])
    for p, ch in charges.items():
        for y in YEARS:
            extra[p, y] += ch

    lines_of: dict[str, list[str]] = defaultdict(list)
    for (p, line) in line_items:
        lines_of[p].append(line)
    fence: dict[tuple[str, str], float] = {}
    available: dict[tuple[str, int], float] = {}
    need_general: dict[tuple[str, int], float] = {}
    pool_need: dict[tuple[str, str, int], float] = {}
    for y in YEARS:
        for gid, cons in contrib.items():
            total = sum(ref[i, y] for i in pool_items[gid] if primary[i] == ("pool", gid))
            weights = sum(pool_part[gid, c["partner"]] for c in cons)
            for c in cons:
                pool_need[gid, c["partner"], y] = total * pool_part[gid, c["partner"]] / weights
        for p in pids:
            retained = sum(ref[i, y] for i in iids if primary[i] == ("remit", p))
            pooled = sum(v for (g, q, yy), v in pool_need.items() if q == p and yy == y)
            need_general[p, y] = retained + pooled + extra[p, y]
    for p in pids:
        fenced_cost = {(line, y): sum(ref[i, y] for i in line_items[p, line]
                                      if primary[i] == ("line", (p, line)))
                       for line in lines_of[p] for y in YEARS}
        for line in lines_of[p]:
            share = max(
                fenced_cost[line, y] / (need_general[p, y] / (1 - min_share_of[p])
                                        + sum(fenced_cost[ln, y] for ln in lines_of[p]) + 1e-9)
                for y in YEARS)
            fence[p, line] = min(max(_up(share * 1.02, 0.001), 0.02), 0.6 / len(lines_of[p]))
        free = 1.0 - sum(fence[p, ln] for ln in lines_of[p]) - min_share_of[p]
        for y in YEARS:
            a = need_general[p, y] / free
            for line in lines_of[p]:
                a = max(a, fenced_cost[line, y] / fence[p, line])
            for gid, cons in contrib.items():
                for c in cons:
                    if c["partner"] == p:
                        a = max(a, pool_need[gid, p, y] / c["max_share"])
            available[p, y] = a

    from hwbopt.money import cut_share, savings_share
    from hwbopt.schema import Partner

    budgets: list[dict[str, Any]] = []
    for pdict in plist:
        p = pdict["id"]
        part = Partner.model_validate({k: v for k, v in pdict.items()})
        cuts, saves = cut_share(part, tuple(YEARS)), savings_share(part, tuple(YEARS))
        base = max(available[p, y] / (1.0 - cuts[y] - saves[y]) for y in YEARS)
        if base <= 0:
            base = u(200.0, 1000.0)
        base = _up(base * u(*MONEY_HEADROOM) + 1.0)
        for y in YEARS:
            budgets.append({"partner": p, "year": y, "baseline": base})

    for pdict in plist:
        p = pdict["id"]
        if remit[p]:
            pdict["remit"] = list(dict.fromkeys(remit[p]))
        if lines_of[p]:
            pdict["ring_fenced"] = [
                {"id": line, "name": LINES[line], "share": fence[p, line],
                 "interventions": line_items[p, line]} for line in lines_of[p]]

    # ---- targets ----------------------------------------------------------------------------
    targets: list[dict[str, Any]] = []
    movers: dict[str, list[tuple[str, tuple[tuple[float, float], ...]]]] = defaultdict(list)
    for (i, k), pieces in curves.items():
        movers[k].append((i, pieces))
    for pr in priorities:
        kid = pr["id"]
        ambition = u(0.85, 0.95) if pr["target_type"] == "hard" else u(1.0, 1.1)
        for n, y in enumerate(YEARS):
            gain = sum(_curve(pieces, need_at(i, lid, y), cur[i, lid])
                       for i, pieces in movers[kid] for lid in offered[i])
            if pr["target_type"] == "hard":  # below what keeping current activity achieves
                t = math.floor(gain * ambition)
            else:  # more than that, rising: shortfalls are possible and penalised
                t = _up(gain * ambition * (1.0 + 0.03 * n))
            targets.append({"priority": kid, "year": y, "target": float(t)})

    # ---- avoided costs ----------------------------------------------------------------------
    avoided: list[dict[str, Any]] = []
    for iid in iids:
        seen: set[str] = set()
        for kind, saving in svc[iid].avoided:
            cand = by_kind.get(kind, [])
            if not cand:
                continue
            p = lead[iid] if lead[iid] in cand else cand[int(rng.integers(len(cand)))]
            if p in seen:
                continue
            seen.add(p)
            avoided.append({"intervention": iid, "partner": p,
                            "saving_per_unit": _r(saving * jit[iid]["cost"])})

    for r in rows:
        if r["max_reduction"] is None:
            del r["max_reduction"]
    sizes = f"{L} localities, {NI} interventions, {P} partners, {Y} years, {NS} sites"
    return {
        "name": f"Synthetic board {seed}",
        "description": (f"A synthetic instance made by `hwbopt generate` with seed {seed}: "
                        f"{sizes}. Magnitudes are scaled from the Westshire county instance; "
                        "it is feasible by construction (keeping current activity is "
                        "affordable, staffed and housed)."),
        "currency": "GBP",
        "money_unit": "thousands",
        "horizon": {"first_year": first_year, "last_year": YEARS[-1]},
        "settings": {"objective": "outcome", "discount_rate": 0.0,
                     "equity_floor": EQUITY_FLOOR},
        "partners": plist,
        "pools": pools,
        "priorities": priorities,
        "localities": locs,
        "roles": [{"id": rid, "name": name} for rid, (name, _) in ROLES.items()
                  if any(r == rid for _, r in pairs_staff)],
        "space_types": [{"id": st, "name": v[0], "unit": v[1]} for st, v in SPACE_TYPES.items()],
        "exclusive": [{"id": f"model_of_care_{b + 1}", "interventions": [run, alt]}
                      for b, (run, alt) in enumerate(pairs)],
        "dependencies": [{"intervention": pilot, "requires": req} for pilot, req in deps],
        "sources": [f"Synthetic ({sizes}, seed {seed}): generated by hwbopt.generate from the "
                    "magnitudes of instances/county; no real place or organisation."],
        "interventions": rows,
        "activity": activity,
        "responses": responses,
        "budgets": budgets,
        "targets": targets,
        "avoided_costs": avoided,
        "staff": staff_rows,
        "intervention_staff": staff_need_rows,
        "sites": site_rows,
        "site_capacity": capacity_rows,
        "intervention_space": space_rows,
    }


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def instance_files() -> list[str]:
    """The files an instance folder may hold (instance.yaml and every table)."""
    from hwbopt.io.folder import YAML_FILE
    from hwbopt.schema import TABLES

    return [YAML_FILE, *(t.file for t in TABLES.values())]


def write_generated(out: str | os.PathLike[str], *, force: bool = False,
                    **kwargs: Any) -> tuple[Path, Any]:
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
