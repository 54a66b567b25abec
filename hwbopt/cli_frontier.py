"""``hwbopt frontier``: the Pareto frontier between two criteria (``models/frontier.md``).

Registered on the ``hwbopt`` group at the end of :mod:`hwbopt.cli`. ``--between`` is read
before anything else (exit 2 naming the option, before the instance is even read); the output
folders are checked and the instance read as every command does (``hwbopt.cli._start``).
"""

from __future__ import annotations

from pathlib import Path

import click

from hwbopt.cli_options import (
    examples,
    force_option,
    instance_path,
    json_option,
    mip_gap_option,
    out_option,
    quiet_option,
    report_option,
    time_limit_option,
)
from hwbopt.progress import indicator


@click.command(epilog=examples(
    "hwbopt frontier myboard --between outcome,cost",
    "hwbopt frontier myboard --between outcome,equity --points 5 --report paper/frontier/"))
@instance_path
@click.option("--between", required=True, metavar="A,B",
              help="The two criteria to trade, among outcome, cost and equity (e.g. "
                   "outcome,cost: the best outcome for each amount of money).")
@click.option("--points", type=click.IntRange(min=2), default=None, metavar="N",
              help="Points of a mixed-integer frontier, both ends included (default 11); a "
                   "linear model gets its exact frontier, every breakpoint.")
@json_option
@out_option("Write summary.json, frontier.csv, changes.csv and each point's tables "
            "(points/NN/, as solve --out writes them) into this folder.")
@report_option
@time_limit_option("Seconds HiGHS may take for each solve.")
@mip_gap_option(default="the instance's settings.mip_gap, 1e-4")
@quiet_option
@force_option()
def frontier(path: Path, between: str, points: int | None, as_json: bool, out: Path | None,
             report_dir: Path | None, time_limit: float | None, mip_gap: float | None,
             quiet: bool, force: bool) -> None:
    """The Pareto frontier of the instance at PATH between two criteria: every efficient
    trade-off (each a plan, checked), and which decisions change along it."""
    from hwbopt.analyses.frontier import frontier as run_frontier
    from hwbopt.analyses.frontier import parse_between, write_frontier
    from hwbopt.cli import _clear, _exit_for, _show, _start, _write_report

    chosen = parse_between(between)  # a usage error before any work
    with indicator(quiet, "reading the instance") as shown:
        run = _start("frontier", path, out, report_dir, force)
        # the search reports no steps of its own: a spinner with the time taken
        shown.step(f"tracing the frontier between {chosen[0]} and {chosen[1]}"
                   + (f" ({points} points)" if points else ""))
        result = run_frontier(run.inst, chosen, points=points, time_limit=time_limit,
                              mip_gap=mip_gap)
        result.provenance.update(run.source)
        for p in result.points:
            p.result.provenance.update(run.source)
        if out is not None:
            shown.step("writing the results")
            _clear(out, run.clear)
            write_frontier(result, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(out if out is not None else result, report_dir)
    from hwbopt.report.frontier_text import print_frontier

    _show(result.summary(), as_json, print_frontier, out, report_dir,
          [*map(str, run.warnings), *result.warnings])
    # a frontier with points is usable even when one was stopped early (exit 0, a warning)
    _exit_for(result.status, float(len(result.points)) if result.points else None,
              result.message, not as_json)
