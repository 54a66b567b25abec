"""``hwbopt alternatives``: room for manoeuvre within a slack of the optimum
(``models/alternatives.md``).

Registered on the ``hwbopt`` group at the end of :mod:`hwbopt.cli`. ``--slack``, ``--of`` and
``--count`` are checked by click (exit 2 naming the option, before the instance is even read)
and ``--scheduler`` before any work; the output folders are checked and the instance read as
every command does (``hwbopt.cli._start``).
"""

from __future__ import annotations

from pathlib import Path

import click

from hwbopt.cli_options import (
    FiniteRange,
    examples,
    force_option,
    instance_path,
    json_option,
    mip_gap_option,
    objective_option,
    out_option,
    quiet_option,
    report_option,
    time_limit_option,
)
from hwbopt.progress import indicator

KINDS = ("partners", "interventions", "priorities", "sites", "pools")  # as the analysis's


@click.command(epilog=examples(
    "hwbopt alternatives myboard --slack 0.05",
    "hwbopt alternatives myboard --slack 0.02 --of interventions --count 3"))
@instance_path
@click.option("--slack", type=FiniteRange(min=0, max=1, max_open=True), default=0.05,
              show_default=True, metavar="S",
              help="How much of the optimal objective a plan may give up, as a share "
                   "(0.05: within 5%); 0 <= S < 1.")
@click.option("--of", "kinds", type=click.Choice(KINDS), multiple=True,
              help="Which quantities to range (repeat for several): each partner's spend by "
                   "year, each intervention's activity over the horizon, each priority's "
                   "outcome by year, the years each site is open, the money paid into each "
                   "pool by year. Default: partners and interventions.")
@click.option("--count", type=click.IntRange(min=1), default=None, metavar="K",
              help="Also find K alternative plans within the slack, chosen to differ as much "
                   "as possible from the optimum and from each other.")
@click.option("--hold-integers", is_flag=True,
              help="Keep the optimum's integer decisions (sites, go/no-go, curve pieces): "
                   "linear re-solves, faster, over fewer plans (default: free, every plan "
                   "within the slack).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local worker processes for the re-solves.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run the re-solves on an existing Dask cluster instead.")
@objective_option
@json_option
@out_option("Write summary.json, ranges.csv, alternatives.csv and each alternative's tables "
            "(alternatives/NN/, as solve --out writes them) into this folder.")
@report_option
@time_limit_option("Seconds HiGHS may take for each solve.")
@mip_gap_option(default="the instance's settings.mip_gap, 1e-4, for the optimum and each "
                "bound")
@quiet_option
@force_option()
def alternatives(path: Path, slack: float, kinds: tuple[str, ...], count: int | None,
                 hold_integers: bool, workers: int, scheduler: str | None,
                 objective: str | None, as_json: bool, out: Path | None,
                 report_dir: Path | None, time_limit: float | None, mip_gap: float | None,
                 quiet: bool, force: bool) -> None:
    """How much of the plan for the instance at PATH is open to negotiation: the lowest and
    highest value of each quantity among the plans within the slack of the optimum (each a
    checked plan), and with --count, alternative plans that differ as much as they can."""
    from hwbopt.cli import _clear, _exit_for, _show, _start, _write_report

    if scheduler is not None:
        from hwbopt.outputs import check_scheduler

        check_scheduler(scheduler)
    with indicator(quiet, "reading the instance") as shown:
        run = _start("alternatives", path, out, report_dir, force)
        from hwbopt.analyses.alternatives import alternatives as run_alternatives
        from hwbopt.analyses.alternatives import write_alternatives

        shown.step("solving the optimum, then each quantity's lowest and highest value"
                   + (f" and {count} alternative plans" if count else ""))
        result = run_alternatives(
            run.inst, slack=slack, of=kinds or None, count=count or 0, objective=objective,
            time_limit=time_limit, mip_gap=mip_gap, workers=workers, scheduler=scheduler,
            hold_integers=hold_integers,
            on_progress=shown.counter("finding each quantity's lowest and highest value"))
        result.provenance.update(run.source)
        for a in result.alternatives:
            if a.result is not None:
                a.result.provenance.update(run.source)
        if out is not None:
            shown.step("writing the results")
            _clear(out, run.clear)
            write_alternatives(result, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(out if out is not None else result, report_dir)
    from hwbopt.report.alternatives_text import print_alternatives

    _show(result.summary(), as_json, print_alternatives, out, report_dir, run.warnings)
    _exit_for(result.status, result.objective, result.message, not as_json)
