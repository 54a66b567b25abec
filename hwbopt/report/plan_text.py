"""The terminal view of a two-stage plan (``hwbopt plan``): what to commit now, where it
differs from the plan for the average future, what planning for the spread buys (VSS) and
what knowing the future would be worth (EVPI), each plan's spread of outcomes and chance of
meeting each target, with ``--evaluate`` both plans on fresh futures, and the futures in which
some rule had to give.

Every table fits an 80-column terminal: long texts wrap in their own column, numbers do not.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.model.phrases import labels, money, num, percent
from hwbopt.plan import CVAR, PlanResult
from hwbopt.report.fit import print_table
from hwbopt.report.text import summary_console
from hwbopt.schema import Instance, year_label
from hwbopt.status import EARLY

SHOWN = 15  # rows of a long listing shown in the terminal; --json and --out hold them all
HEDGED, AVERAGE = "hedged plan", "plan for the average future"
# the binary decisions (sites, go/no-go) and their two states in words
YES_NO = {"open": ("open", "closed"), "run": ("runs", "not run"), "start": ("starts", "no")}


def _value(v: float | None) -> str:
    return "–" if v is None else f"{v:,.2f}"


def _share(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _unit(plan: PlanResult, inst: Instance) -> str:
    """What the objective counts: objective points of outcome, or money."""
    return "outcome points" if plan.objective_kind == "outcome" else inst.money_label


def risk_words(plan: PlanResult) -> str:
    """What the hedged plan optimises, in a phrase."""
    what = "expected weighted outcome" if plan.objective_kind == "outcome" else \
        "expected cost"
    r = plan.risk
    if r.measure != CVAR or r.lam == 0:
        return f"the {what} (each scenario weighted by its probability)"
    worst = "worst" if plan.objective_kind == "outcome" else "costliest"
    tail = f"the mean of the {worst} {percent(1 - r.alpha)} of futures (CVaR {percent(r.alpha)})"
    if r.lam == 1:
        return tail
    return f"{percent(1 - r.lam)} on the {what}, {percent(r.lam)} on {tail}"


def header(plan: PlanResult, inst: Instance, method: str) -> list[str]:
    """The run in three lines: what was planned over, how it was solved, how sure it is."""
    lines = [
        f"[bold]{escape(inst.name)}[/bold] — {_plural(plan.scenarios, 'scenario')} of stress "
        f"set {escape(plan.stress_set)}, seed {plan.seed}: {plan.status}",
        f"optimises {escape(risk_words(plan))}",
    ]
    chose = "; --method auto chose it" if method == "auto" else ""
    proof = ""
    if plan.bound is not None and plan.gap is not None:
        proof = f"; bound {_value(plan.bound)}, gap {plan.gap:.4%}"
    how = METHOD_WORDS.get(plan.method, plan.method)
    groups = (plan.decomposition or {}).get("cut_groups")
    if groups and groups < plan.scenarios:
        how = how.removesuffix(")") + f"; the master's cuts averaged over {groups} groups " \
            "of like scenarios)"
    lines.append(f"method: {how}{chose}, {plan.seconds:,.1f} s{proof}")
    return lines


METHOD_WORDS = {
    "extensive": "the extensive form (one mixed-integer model over every scenario)",
    "decomposed": "decomposition (a master over the commitments, one subproblem per "
                  "scenario)",
}


# ---------------------------------------------------------------------------------------------
# commitments in a board's words
# ---------------------------------------------------------------------------------------------

Index = tuple[str | int, ...]


def parse_decision(decision: str) -> tuple[str, Index]:
    """``open[kingsbridge_lodge,2013]`` -> ("open", ("kingsbridge_lodge", 2013)). Ids start
    with a letter and hold no comma or bracket, so a part of digits is a year (or a piece)."""
    name, _, rest = decision.partition("[")
    parts = rest[:-1].split(",") if rest.endswith("]") else []
    return name, tuple(int(v) if v.isdigit() else v for v in parts)


def commitment(inst: Instance, decision: str, value: float) -> str | None:
    """A first-stage decision at ``value`` as a board member reads it ("keep Kingsbridge
    Lodge open in 2013/14"); None for a decision without board words of its own."""
    name, idx = parse_decision(decision)
    if not idx or not isinstance(idx[-1], int):
        return None
    lab, y = labels(inst), year_label(idx[-1])
    key = [str(v) for v in idx[:-1]]
    on = value > 0.5
    if name == "open" and len(key) == 1:
        site = lab.site.get(key[0], key[0])
        return f"keep {site} open in {y}" if on else f"close {site} by {y}"
    if name in ("run", "start") and len(key) == 1:
        service = lab.intervention.get(key[0], key[0])
        return f"{name} {service} in {y}" if on else f"do not {name} {service} in {y}"
    if name in ("recruit", "release") and len(key) == 2:
        who = f"{lab.role.get(key[1], key[1])} at {lab.partner.get(key[0], key[0])}"
        amount = f"{num(value, 3)} FTE" if value > 1e-9 else "no"
        return f"{name} {amount} {who} in {y}"
    if name == "contribution" and len(key) == 2:
        amount = money(inst, value) if value > 1e-9 else "nothing"
        return (f"{lab.partner.get(key[0], key[0])} puts {amount} into "
                f"{lab.pool.get(key[1], key[1])} in {y}")
    return None


def decision_value(decision: str, value: float) -> str:
    """A decision's value as a board reads it: a site open or closed, a service run or not;
    the number otherwise (four significant figures)."""
    states = YES_NO.get(parse_decision(decision)[0])
    if states is not None:
        return states[0] if value > 0.5 else states[1]
    return num(value, 4)


def _rank(decision: str) -> int:
    """Sites and go/no-go first, then posts, then money and activity."""
    name = parse_decision(decision)[0]
    return 0 if name in YES_NO else 1 if name in ("recruit", "release") else 2


def commitments(plan: PlanResult, inst: Instance) -> list[str]:
    """The hedged plan's first stage in a board's words, most telling first: each site that
    closes (from the first year it is closed), each service's go/no-go, posts recruited or
    released, pool contributions; then how many other figures are committed."""
    closed: dict[str, int] = {}
    kept: set[str] = set()
    runs: dict[str, list[int]] = {}
    starts: dict[str, list[int]] = {}
    lines: list[str] = []
    others = 0
    for row in sorted(plan.first_stage, key=lambda r: _rank(str(r["decision"]))):
        decision, value = str(row["decision"]), float(row["value"])
        name, idx = parse_decision(decision)
        if name in YES_NO and len(idx) == 2 and isinstance(idx[1], int):
            key, year, on = str(idx[0]), idx[1], value > 0.5
            if name == "open" and on:
                kept.add(key)
            elif name == "open":
                closed[key] = min(year, closed.get(key, year))
            elif name == "run":
                runs.setdefault(key, []).extend([year] if on else [])
            elif on:
                starts.setdefault(key, []).append(year)
            continue
        if name in ("recruit", "release") and value <= 1e-9:
            continue
        words = commitment(inst, decision, value)
        if words is None:
            others += 1
            continue
        lines.append(words)
    tail = [f"and {_plural(others, 'figure')} of the first year's money and activity "
            "(--json or --out lists every one)"] if others else []
    return [*_sites(inst, closed, sorted(kept - set(closed))), *_services(inst, runs, starts),
            *lines, *tail]


def _years(years: list[int]) -> str:
    """'2013/14', '2013/14 and 2014/15', '2013/14 to 2016/17' (consecutive), or a list."""
    ys = sorted(set(years))
    if len(ys) > 2 and ys == list(range(ys[0], ys[-1] + 1)):
        return f"{year_label(ys[0])} to {year_label(ys[-1])}"
    words = [year_label(y) for y in ys]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _services(inst: Instance, runs: dict[str, list[int]],
              starts: dict[str, list[int]]) -> list[str]:
    """Each go/no-go service: the years it runs (and starts), or that it does not run."""
    lab = labels(inst)
    out = []
    for i, years in runs.items():
        name = lab.intervention.get(i, i)
        if not years:
            out.append(f"do not run {name}")
            continue
        began = f" (starting in {_years(starts[i])})" if starts.get(i) else ""
        out.append(f"run {name} in {_years(years)}{began}")
    return out


def _sites(inst: Instance, closed: dict[str, int], open_all: list[str]) -> list[str]:
    """Each site that closes, from its first year closed; then those kept open throughout,
    by name when few."""
    lab = labels(inst)
    out = [f"close {lab.site.get(k, k)} by {year_label(y)}" for k, y in closed.items()]
    if len(open_all) > 3:
        which = _plural(len(open_all), "other site") if closed else "every site"
        out.append(f"keep {which} open throughout")
    elif open_all:
        out.append(f"keep {', '.join(lab.site.get(k, k) for k in open_all)} open throughout")
    return out


def commitments_table(plan: PlanResult, inst: Instance) -> Table:
    """The hedged plan's first stage: what the board commits now."""
    t = Table(title="What to commit now (the same in every future)", title_justify="left",
              show_header=False)
    t.add_column("commitment", ratio=1)
    rows = commitments(plan, inst)
    for line in rows[:SHOWN]:
        t.add_row(escape(line))
    if len(rows) > SHOWN:
        t.add_row(f"[dim]… and {len(rows) - SHOWN:,} more (--json or --out lists them "
                  "all)[/dim]")
    return t


def differences_table(plan: PlanResult, inst: Instance) -> Table:
    """Where the hedged plan commits otherwise than the plan for the average future, and
    how many futures' own best plans agree with the hedged choice."""
    t = Table(title=f"Where the {HEDGED} differs from the {AVERAGE}", title_justify="left",
              caption="needed in: the probability of the futures whose own best plan makes "
                      "the hedged plan's choice", caption_justify="left")
    t.add_column("decision", ratio=1)
    t.add_column("hedged", justify="right", no_wrap=True)
    t.add_column("average", justify="right", no_wrap=True)
    t.add_column("needed in", justify="right", no_wrap=True)
    rows = sorted(plan.differs_from_deterministic, key=lambda r: _rank(str(r["decision"])))
    for row in rows[:SHOWN]:
        decision = str(row["decision"])
        words = str(row["text"])
        if parse_decision(decision)[0] in YES_NO:  # in the hedged plan's words
            words = commitment(inst, decision, float(row["hedged"])) or words
        t.add_row(escape(words), decision_value(decision, row["hedged"]),
                  decision_value(decision, row["deterministic"]),
                  _share(row.get("needed_share")))
    _more(t, len(rows), 4)
    return t


def _more(t: Table, total: int, columns: int) -> None:
    if total > SHOWN:
        t.add_row(f"[dim]… and {total - SHOWN:,} more (--json or --out lists them all)[/dim]",
                  *[""] * (columns - 1))


def measures_table(plan: PlanResult, inst: Instance) -> Table:
    """RP, EV, EEV, VSS, WS and EVPI with what each means."""
    t = Table(title=f"The value of hedging ({escape(_unit(plan, inst))})",
              title_justify="left", caption_justify="left",
              caption=_measured_as(plan))
    t.add_column("measure", no_wrap=True)
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("what it is", ratio=1)
    rows = (
        ("RP", plan.rp, f"the {HEDGED}, across the futures"),
        ("EV", plan.ev, f"the {AVERAGE}, if the average came true"),
        ("EEV", plan.eev, f"the {AVERAGE}, across the futures (its commitments kept, the rest "
                          "adapted)"),
        ("VSS", plan.vss, "value of the stochastic solution: what hedging gains over planning "
                          "for the average"),
        ("WS", plan.ws, "wait and see: each future's own best plan, as if it were known"),
        ("EVPI", plan.evpi, "expected value of perfect information: what knowing the future "
                            "would add"),
    )
    for name, value, meaning in rows:
        t.add_row(name, _value(value), meaning)
    return t


def _measured_as(plan: PlanResult) -> str | None:
    """How RP, EEV and WS weigh the futures, unless by their expectation."""
    lam, cvar = plan.risk.lam, f"CVaR {percent(plan.risk.alpha)}"
    if lam == 0:
        return None
    how = f"the {cvar}" if lam == 1 else \
        f"{percent(1 - lam)} of the mean plus {percent(lam)} of the {cvar}"
    return f"RP, EEV and WS are each {how} over the futures; EV is one future's value"


def vss_sentence(plan: PlanResult, inst: Instance) -> str | None:
    """The value of the stochastic solution, explained in a sentence."""
    if plan.vss is None:
        return None
    if plan.objective_kind == "outcome":
        gain = f"{_value(plan.vss)} outcome points more"
    else:
        gain = f"{escape(inst.money_label)} {_value(plan.vss)} less"
    return (f"[bold]VSS[/bold]: committing to the {HEDGED} instead of the {AVERAGE} is worth "
            f"{gain} across these futures: what planning for the spread of futures buys over "
            "planning for the average one.")


def evpi_sentence(plan: PlanResult, inst: Instance) -> str | None:
    """The expected value of perfect information, explained in a sentence."""
    if plan.evpi is None:
        return None
    amount = f"{_value(plan.evpi)} outcome points" if plan.objective_kind == "outcome" \
        else f"{escape(inst.money_label)} {_value(plan.evpi)}"
    return (f"[bold]EVPI[/bold]: knowing which future will come before committing would be "
            f"worth {amount} more; no forecast, however good, can be worth more than that.")


def spread_table(plan: PlanResult, inst: Instance) -> Table:
    """Both plans across the futures, side by side: the mean, CVaR and percentiles of their
    value, and the probability of meeting every year's target of each priority."""
    t = Table(title=f"The {HEDGED} and the {AVERAGE}, across the futures",
              title_justify="left")
    t.add_column("", ratio=1)
    t.add_column("hedged", justify="right", no_wrap=True)
    t.add_column("average", justify="right", no_wrap=True)
    rows = ((f"mean ({escape(_unit(plan, inst))})", "mean"),
            (f"CVaR {percent(plan.risk.alpha)}", "cvar"), ("p5", "p5"), ("median", "p50"),
            ("p95", "p95"))
    for label, key in rows:
        t.add_row(label, _value(plan.hedged.get(key)), _value(plan.deterministic.get(key)))
    if plan.hedged.get("breaks_share") or plan.deterministic.get("breaks_share"):
        t.add_row("futures where a rule breaks", _share(plan.hedged.get("breaks_share")),
                  _share(plan.deterministic.get("breaks_share")))
        t.add_row("mean without the penalties", _value(plan.hedged.get("mean_without_penalties")),
                  _value(plan.deterministic.get("mean_without_penalties")))
    hedged = plan.hedged.get("target_probability") or {}
    average = plan.deterministic.get("target_probability") or {}
    if hedged or average:
        t.rows[-1].end_section = True
        t.add_row("[bold]probability of meeting every year's target[/bold]", "", "")
        names = {p.id: p.label for p in inst.priorities}
        for k in dict.fromkeys([*hedged, *average]):
            t.add_row(f"  {escape(names.get(k, k))}", _share(hedged.get(k)),
                      _share(average.get(k)))
    return t


def spread_note(plan: PlanResult) -> str:
    """What CVaR and the percentiles of :func:`spread_table` mean, in a sentence."""
    alpha = plan.risk.alpha
    outcome = plan.objective_kind == "outcome"
    worst = "worst" if outcome else "costliest"
    low, high = ("do worse", "do better") if outcome else ("cost less", "cost more")
    scores = "scores far lower" if outcome else "costs far more"
    return (f"[dim]CVaR {percent(alpha)}: the mean of the {worst} {percent(1 - alpha)} of "
            f"futures; 5% of futures {low} than p5, 5% {high} than p95. A future in which a "
            f"plan's commitments break a rule (money, staff, space, a target) counts a large "
            f"penalty for it (models/plan.md), so such a plan {scores} there.[/dim]")


def out_of_sample_table(plan: PlanResult, inst: Instance) -> Table | None:
    """``--evaluate M``: both plans' mean value on the M fresh futures with its 95%
    confidence interval, and the hedged plan's estimated optimality gap (None without)."""
    oos = plan.out_of_sample
    if not oos:
        return None
    t = Table(title=f"Tested on {_plural(int(oos.get('scenarios') or 0), 'fresh future')} "
                    f"(seed {oos.get('seed')})", title_justify="left", caption_justify="left",
              caption=f"[dim]drawn apart from the {_plural(plan.scenarios, 'future')} the "
                      f"{HEDGED} was chosen on; each plan's commitments held, the rest "
                      "adapted to each future[/dim]")
    t.add_column("", ratio=1)
    t.add_column(f"mean ({escape(_unit(plan, inst))})", justify="right", no_wrap=True)
    t.add_column("95% interval", justify="right", no_wrap=True)
    for label, key in ((HEDGED, "hedged"), (AVERAGE, "deterministic")):
        est = oos.get(key) or {}
        t.add_row(label, _value(est.get("mean")),
                  f"{_value(est.get('ci_low'))} to {_value(est.get('ci_high'))}")
    gap = oos.get("gap_estimate")
    if gap:
        t.rows[-1].end_section = True
        t.add_row(f"the {HEDGED}'s optimality gap, estimated", _value(gap.get("value")),
                  f"at most {_value(gap.get('ci_high'))}")
    return t


def breaks_sentence(plan: PlanResult, inst: Instance) -> str | None:
    """Where the plan for the average future breaks rules: in what share of the futures,
    which rules, and what VSS counts for it."""
    share_ = plan.deterministic.get("breaks_share") or 0.0
    if not share_:
        return None
    rules = plan.deterministic.get("broken_rules") or []
    named = "; ".join(escape(str(r["text"])) for r in rules[:3])
    more = f" and {len(rules) - 3} more" if len(rules) > 3 else ""
    without = _value(plan.deterministic.get("mean_without_penalties"))
    return (f"[bold]The {AVERAGE}[/bold] breaks a rule in {_share(share_)} of these futures "
            f"({named}{more}): its value there counts a penalty for each break, and VSS "
            f"includes them; without the penalties its mean would be {without} "
            f"{escape(_unit(plan, inst))}.")


def elastic_table(plan: PlanResult) -> Table | None:
    """The futures in which a rule had to give whatever the commitments (elastic slack)."""
    if not plan.elastic:
        return None
    t = Table(title="Rules some futures could not keep under the hedged commitments",
              title_justify="left", caption_justify="left",
              caption="scenarios numbered from 0 as hwbopt stress numbers them; by: how far "
                      "the rule gives, in its own unit")
    t.add_column("scenario", justify="right", no_wrap=True)
    t.add_column("rule", ratio=1)
    t.add_column("by", justify="right", no_wrap=True)
    for row in plan.elastic[:SHOWN]:
        t.add_row(str(row["scenario"]), escape(str(row.get("text") or row["rule"])),
                  num(row["amount"]))
    _more(t, len(plan.elastic), 3)
    return t


def print_plan(plan: PlanResult, inst: Instance, method: str = "extensive",
               console: Console | None = None) -> None:
    """Print the plan: its run, commitments, differences from the plan for the average
    future, the measures with VSS and EVPI in a sentence each, both plans' spread and target
    probabilities, and the rules that gave. ``method`` is the --method asked for."""
    console = summary_console(console)
    for line in header(plan, inst, method):
        console.print(line)
    if plan.rp is None:
        return  # the CLI prints the reason on stderr
    if plan.message:
        colour = "yellow" if plan.status in EARLY else "dim"
        console.print(f"[{colour}]{escape(plan.message)}[/{colour}]")
    console.print()
    # commitments and rules are sentences with their amounts: they wrap, never cut short
    print_table(console, commitments_table(plan, inst), label_lines=None)
    _print_differences(plan, inst, console)
    print_table(console, measures_table(plan, inst))
    for sentence in (vss_sentence(plan, inst), evpi_sentence(plan, inst)):
        if sentence is not None:
            console.print(sentence)
    console.print()
    print_table(console, spread_table(plan, inst))
    console.print(spread_note(plan))
    oos = out_of_sample_table(plan, inst)
    if oos is not None:
        console.print()
        print_table(console, oos)
    sentence = breaks_sentence(plan, inst)
    if sentence is not None:
        console.print(sentence)
    table = elastic_table(plan)
    if table is not None:
        print_table(console, table, label_lines=None)
    if not plan.elastic:
        console.print("every rule held in every future under the hedged commitments "
                      "(no elastic slack used)")


def _print_differences(plan: PlanResult, inst: Instance, console: Console) -> None:
    if plan.differs_from_deterministic:
        print_table(console, differences_table(plan, inst), label_lines=None)
    else:
        console.print(f"The {HEDGED} commits exactly as the {AVERAGE} does.")

