"""``hwbopt curve``: the exact response of the plan to one input along a line
(``models/curve.md``).

Registered on the ``hwbopt`` group at the end of :mod:`hwbopt.cli`. ``--from`` and ``--to``
are checked by click (finite numbers) and against each other before the instance is read; the
output folders are checked and the instance read as every command does
(``hwbopt.cli._start``); an input the curve cannot follow (one that moves costs or the
matrix, or a range that breaks the instance's rules) exits 2 naming it.
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
    report_option,
    time_limit_option,
)

NUMBER = FiniteRange()


@click.command(epilog=examples(
    'hwbopt curve myboard --input "partners[council].cut.total" --from 0 --to 0.5',
    'hwbopt curve myboard --input "partners[nhs].savings_rate" --from 0.02 --to 0.08 --json',
    'hwbopt curve myboard --input "partners[council].cut.total" --from 0.1 --to 0.4 '
    '--hold-at 0.2'))
@instance_path
@click.option("--input", "input_path", required=True, metavar="PATH",
              help="The input to move, by path as in a named scenario's changes (e.g. "
                   "partners[council].cut.total, partners[nhs].savings_rate, "
                   "pools[bcf].contributors[nhs].min_share); it must move only limits.")
@click.option("--from", "start", type=NUMBER, required=True, metavar="V",
              help="The input's value at the start of the range (the plan's yes/no and "
                   "whole-number decisions are those of the optimum here, unless --hold-at).")
@click.option("--to", "end", type=NUMBER, required=True, metavar="V",
              help="The input's value at the end of the range (above --from).")
@click.option("--hold-at", "hold_at", type=NUMBER, default=None, metavar="V",
              help="Hold the yes/no and whole-number decisions of the optimum at this value "
                   "of the input (from --from to --to; e.g. the instance's own value, whose "
                   "plan a stress run's scenarios hold) instead of those at --from.")
@click.option("--mip-checks", type=click.IntRange(min=0), default=24, show_default=True,
              metavar="N",
              help="Points (breakpoints and the middle of each piece, spread evenly) at which "
                   "the mixed-integer model is re-solved with those decisions free, to mark "
                   "where changing them does better; 0: none.")
@objective_option
@json_option
@out_option("Write summary.json and the curve's tables (breakpoints.csv, pieces.csv, "
            "targets.csv, dropouts.csv, integer_changes.csv, and outcomes, spend and activity "
            "at each breakpoint) into this folder.")
@report_option
@time_limit_option("Seconds HiGHS may take for each mixed-integer solve.")
@mip_gap_option(default="the instance's settings.mip_gap, 1e-4")
@force_option()
def curve(path: Path, input_path: str, start: float, end: float, hold_at: float | None,
          mip_checks: int,
          objective: str | None, as_json: bool, out: Path | None, report_dir: Path | None,
          time_limit: float | None, mip_gap: float | None, force: bool) -> None:
    """The exact response of the plan for the instance at PATH to one input moved from --from
    to --to: every breakpoint, the objective and each target between them, the interventions
    that fall out and where, where each target stops being met, and the value of money on
    each piece."""
    from hwbopt.analyses.curve import curve as run_curve
    from hwbopt.analyses.curve import write_curve
    from hwbopt.cli import _clear, _exit_for, _show, _start, _write_report
    from hwbopt.errors import UsageError

    if not start < end:
        raise UsageError(f"--from {start:g} --to {end:g}: --from must be below --to")
    run = _start("curve", path, out, report_dir, force)
    result = run_curve(run.inst, input_path, start, end, objective=objective,
                       time_limit=time_limit, mip_gap=mip_gap, mip_checks=mip_checks,
                       hold_at=hold_at)
    result.provenance.update(run.source)
    if out is not None:
        _clear(out, run.clear)
        write_curve(result, out)
    _write_report(out if out is not None else result, report_dir)
    from hwbopt.report.curve_text import print_curve

    _show(result.summary(), as_json, print_curve, out, report_dir,
          [*map(str, run.warnings), *result.warnings])
    objective_value = result.objective_at(start) if result.pieces else None
    _exit_for(result.status, objective_value, result.message, not as_json)
