"""How big a generated instance is: the variables it gives, the sizes for a target, and the
checks on the arguments (:class:`UsageError` naming every one that cannot make an instance)."""

from __future__ import annotations

import math

from hwbopt.errors import UsageError

MAX_YEARS = 50
MAX_VARIABLES = 30_000_000
# the county's sizes: 5 districts, 25 services (26 with its discharge hub), 7 partners, 35 sites
DEFAULTS = {"localities": 5, "interventions": 25, "partners": 7, "years": 4, "sites": 35}


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

