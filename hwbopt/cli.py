"""The ``hwbopt`` command. Thin: parse, call the library, print or write.

Exit codes: 0 solved (or valid), 1 anything unexpected, 2 invalid input or usage, 3 infeasible,
4 no solution within the time limit, 130 interrupted (Ctrl-C). Errors are one short message on
stderr; ``--debug`` shows the traceback of unexpected ones. Output paths are checked before any
work (:mod:`hwbopt.outputs`); a closed stdout (``hwbopt solve t | head -1``) is not an error.
Options several commands share are defined once, in :mod:`hwbopt.cli_options`. Commands that
can take more than a couple of seconds show their progress on stderr when it is a terminal
(:mod:`hwbopt.progress`; ``--quiet`` hides it), and every command's ``--help`` ends with
examples that run on a board made by ``hwbopt init myboard``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from hwbopt.cli_options import (
    OPEN_SHARE,
    PATH,
    SHARE,
    FiniteRange,
    complete_option,
    complete_scenario,
    examples,
    force_option,
    instance_path,
    json_option,
    mip_gap_option,
    objective_option,
    out_option,
    quiet_option,
    report_option,
    scenarios_option,
    seed_option,
    set_option,
    time_limit_option,
)
from hwbopt.errors import HwbError, InstanceError, UsageError
from hwbopt.interrupt import leave
from hwbopt.progress import SOLVE_DELAY, Indicator, indicator
from hwbopt.status import EARLY, Status

if TYPE_CHECKING:
    from hwbopt.errors import Problem
    from hwbopt.plan import PlanResult, Risk
    from hwbopt.report import Reportable
    from hwbopt.results import Result
    from hwbopt.schema import Instance

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 1, 2, 3, 4
STATUS_EXIT: dict[str, int] = {
    Status.OPTIMAL: EXIT_OK,
    Status.INFEASIBLE: EXIT_INFEASIBLE,
    Status.UNBOUNDED: EXIT_UNEXPECTED,
    Status.TIME_LIMIT: EXIT_NO_SOLUTION,
    Status.STOPPED: EXIT_NO_SOLUTION,
    Status.ERROR: EXIT_UNEXPECTED,
}
MAX_PROBLEMS_SHOWN = 60
EXIT_INTERRUPTED = 130


def _closed_pipe() -> NoReturn:
    """The reader of stdout went away (``| head``): not an error; stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(EXIT_OK)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    leave(code)


def _report_instance_error(exc: InstanceError) -> NoReturn:
    shown = exc.problems[:MAX_PROBLEMS_SHOWN]
    n = len(exc.problems)
    where = f"{exc.source}: " if exc.source else ""
    click.echo(f"error: {where}{n} problem{'s' if n != 1 else ''} in the instance", err=True)
    for p in shown:
        click.echo(f"  - {p}", err=True)
    if n > len(shown):
        click.echo(f"  … and {n - len(shown)} more", err=True)
    leave(EXIT_INPUT)


class _Group(click.Group):
    """Turns every error into a message and an exit code; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InstanceError as exc:
            _report_instance_error(exc)
        except HwbError as exc:
            _fail(str(exc), exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError:
            _closed_pipe()
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the "
                  "traceback, and please report it)", EXIT_UNEXPECTED)


COMPLETION = ('eval "$(_HWBOPT_COMPLETE=bash_source hwbopt)"   # shell completion: in '
              '~/.bashrc (zsh_source, fish_source for the others)')


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=examples("hwbopt init myboard          # the tutorial as a starting point",
                             "hwbopt solve myboard", "hwbopt compare myboard",
                             "hwbopt solve --help         # each command's options and "
                             "examples", COMPLETION))
@click.version_option(package_name="hwbopt")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Optimise how a health and wellbeing board pools money behind its joint priorities."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    from rich.console import Console

    Console.on_broken_pipe = _rich_broken_pipe  # type: ignore[method-assign]


def _rich_broken_pipe(self: Any) -> None:
    """Rich turns a closed stdout into exit 1; hand it to ``_Group.invoke`` instead (exit 0)."""
    raise BrokenPipeError(32, "Broken pipe")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _read(path: str) -> tuple[Instance, list[Problem]]:
    from hwbopt.io.instance import read_instance

    return read_instance(path)


@dataclass(frozen=True)
class _Start:
    inst: Instance
    warnings: list[Problem]
    source: dict[str, Any]  # the instance files as read, for the results' provenance
    clear: bool  # whether --out holds old results to remove before writing (--force)


def _start(kind: str, path: Path, out: Path | None, report_dir: Path | None,
           force: bool) -> _Start:
    """How solve, compare and explain begin: the output folders are checked before any work,
    the instance is read before the solver stack loads (bad input fails fast), and --out is
    claimed before solving."""
    _check_dirs(out, report_dir, path, force)
    inst, warnings = _read(str(path))
    from hwbopt.provenance import instance_provenance

    source = instance_provenance(path)
    return _Start(inst, warnings, source, _claim_out(out, kind, source, force))


def _check_dirs(out: Path | None, report_dir: Path | None, path: Path | None = None,
                force: bool = False) -> None:
    """Refuse unusable --out and --report folders before any work is done (even reading the
    instance): folders that cannot be made or written, files that cannot be replaced, a report
    that would overwrite the instance ``path``."""
    from hwbopt.outputs import check_folder, check_report_target

    if out is not None:
        from hwbopt.io.results import check_out_dir

        check_out_dir(out)
        check_folder(out, "--out", ("summary.json",))
    if report_dir is not None:
        check_report_target(report_dir, [path] if path is not None else [], force)


def _claim_out(out: Path | None, kind: str, source: dict[str, Any], force: bool) -> bool:
    """Refuse an --out folder another command or instance wrote (before solving, after the
    instance is read); whether its old results must be removed before writing (--force)."""
    if out is None:
        return False
    from hwbopt.outputs import check_result_folder

    return check_result_folder(out, kind, source, force)


def _clear(out: Path | None, clear: bool) -> None:
    if out is not None and clear:
        from hwbopt.outputs import clear_results

        clear_results(out)


def _exit_for(status: str, objective: float | None, message: str, say_error: bool) -> NoReturn:
    """Exit with the status's code; a plan found but not proven optimal (time limit, stopped)
    is usable, so exit 0 with a warning. ``say_error``: print the status of a failure."""
    code = STATUS_EXIT[status]
    if status in EARLY and objective is not None:
        code = EXIT_OK
        click.echo(f"warning: {message}", err=True)
    elif code and say_error:
        click.echo(f"error: {status}: {message}", err=True)
    sys.exit(code)


def _write_report(source: Path | Reportable, report_dir: Path | None) -> None:
    if report_dir is not None:
        from hwbopt.report import write_report

        write_report(source, report_dir)


def _said_report(report_dir: Path | None) -> None:
    if report_dir is not None:
        click.echo(f"wrote {report_dir / 'report.html'} and {report_dir / 'report.xlsx'}")


def _show(summary: dict[str, Any], as_json: bool, printer: Callable[[dict[str, Any]], None],
          out: Path | None, report_dir: Path | None, warnings: Iterable[object]) -> None:
    """How an analysis command ends: its JSON, or its text and where it wrote; then its
    warnings on stderr."""
    if as_json:
        click.echo(json.dumps(summary, indent=2, allow_nan=False))
    else:
        printer(summary)
        if out is not None:
            click.echo(f"\nwrote results to {out}")
        _said_report(report_dir)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


@cli.command(epilog=examples("hwbopt validate myboard"))
@instance_path
def validate(path: Path) -> None:
    """Check the instance at PATH (a folder, or a workbook ending in .xlsx) and list every
    problem with its file, line and field (sheet and cell for a workbook)."""
    inst, warnings = _read(str(path))
    counts = [
        _plural(len(inst.partners), "partner"), _plural(len(inst.pools), "pool"),
        _plural(len(inst.priorities), "priority", "priorities"),
        _plural(len(inst.interventions), "intervention"),
        _plural(len(inst.localities) or 1, "locality", "localities"),
        _plural(len(inst.years), "year"), _plural(len(inst.activity), "activity row"),
    ]
    if inst.scenarios or inst.options:
        counts += [_plural(len(inst.scenarios), "scenario"), _plural(len(inst.options), "option")]
    click.echo(f"valid: {inst.name} — {', '.join(counts)}")
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


@cli.command(epilog=examples(
    "hwbopt solve myboard --out results/",
    "hwbopt solve myboard --objective cost --json",
    "hwbopt solve myboard --scenario council_cuts_35 --option keep_estate"))
@instance_path
@json_option
@out_option("Write the result tables as CSV plus summary.json into this folder.")
@report_option
@click.option("--objective", type=click.Choice(["outcome", "cost", "equity"]), default=None,
              help="Override the instance's objective; equity lifts the worst-served target "
                   "first, then the weighted outcome (models/equity.md).")
@click.option("--scenario", default=None, metavar="NAME", shell_complete=complete_scenario,
              help="Solve under this scenario of the instance (base: the instance as "
                   "written).")
@click.option("--option", default=None, metavar="NAME", shell_complete=complete_option,
              help="Solve this option, as hwbopt compare does: pooled (the instance as "
                   "written), siloed, status_quo or an option of the instance.")
@time_limit_option("Seconds HiGHS may take; beyond it nothing is reported as optimal.")
@mip_gap_option(default="the instance's settings.mip_gap, 1e-4")
@quiet_option
@force_option()
def solve(path: Path, as_json: bool, out: Path | None, report_dir: Path | None,
          objective: str | None, scenario: str | None, option: str | None,
          time_limit: float | None, mip_gap: float | None, quiet: bool, force: bool) -> None:
    """Solve the instance at PATH (a folder, or a workbook ending in .xlsx) and print the
    plan, outcomes and budgets."""
    with indicator(quiet, "reading the instance", SOLVE_DELAY) as shown:
        run = _start("solve", path, out, report_dir, force)
        shown.step("solving (HiGHS)")
        result, inst = _solve_named(run, scenario, option, objective, time_limit, mip_gap)
        result.provenance.update(run.source)
        summary = result.summary()
        if out is not None:
            shown.step("writing the results")
            from hwbopt.io.results import write_result

            _clear(out, run.clear)
            write_result(result, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(result, report_dir)
    if as_json:
        click.echo(json.dumps(summary, indent=2, allow_nan=False))
    else:
        from hwbopt.report.text import print_result

        _say_applied(run.inst, result)
        print_result(result, inst)
        if out is not None:
            click.echo(f"\nwrote results to {out}")
        _said_report(report_dir)
    _exit_for(result.status, result.objective, result.message, not as_json)


def _solve_named(run: _Start, scenario: str | None, option: str | None,
                 objective: str | None, time_limit: float | None, mip_gap: float | None
                 ) -> tuple[Result, Instance]:
    """``solve``'s plan, under ``--scenario`` and for ``--option`` if given; with the
    instance whose rules it obeys. The pooled option is the instance itself (under the
    scenario), solved as plain ``solve`` solves it; any other option exactly as ``compare``
    runs it (:func:`hwbopt.analyses.compare.solve_option`)."""
    warnings = [str(w) for w in run.warnings]
    inst = run.inst
    if option not in (None, "pooled"):
        if objective == "equity":
            raise UsageError(f"--option {option} with --objective equity: options are solved "
                             "under the outcome or cost objective, as hwbopt compare solves "
                             "them; drop one of the two")
        from hwbopt.analyses.compare import solve_option

        named = solve_option(inst, option=option, scenario=scenario or "base",
                             objective=objective, time_limit=time_limit, mip_gap=mip_gap)
        result, inst = named.result, named.instance
        result.warnings[:0] = warnings
    else:
        if scenario is not None:
            from hwbopt.scenarios import scenario_instance

            inst = scenario_instance(inst, scenario)  # unknown: exit 2 naming the scenarios
        if objective == "equity":  # two solves of one model (hwbopt.analyses.criteria)
            from hwbopt.analyses.criteria import solve_equity

            result = solve_equity(inst, time_limit, mip_gap, warnings=warnings)
        else:
            from hwbopt.pipeline import build as build_model
            from hwbopt.pipeline import solve_built

            result = solve_built(build_model(inst, objective), time_limit=time_limit,
                                 mip_gap=mip_gap, warnings=warnings)
    result.scenario, result.option = scenario, option
    return result, inst


def _say_applied(inst: Instance, result: Result) -> None:
    """One line naming the scenario and option a plan was solved under, when asked for."""
    parts = []
    if result.scenario is not None:
        found = next((s for s in inst.scenarios if s.id == result.scenario), None)
        parts.append(f"scenario {result.scenario}" + (f" ({found.name})" if found and
                                                      found.name else ""))
    if result.option is not None:
        own = next((o for o in inst.options if o.id == result.option), None)
        parts.append(f"option {result.option}" + (f" ({own.label})" if own else ""))
    if parts:
        import textwrap

        click.echo(textwrap.fill("Solved under " + ", ".join(parts),
                                 width=max(40, min(shutil.get_terminal_size().columns, 100))))


@cli.command(epilog=examples(
    "hwbopt compare myboard",
    "hwbopt compare myboard --option pooled --option siloed --scenario base "
    "--scenario council_cuts_35",
    "hwbopt compare myboard --pool-share 0:1:0.25 --report paper/compare/"))
@instance_path
@click.option("--option", "options", multiple=True, metavar="NAME",
              shell_complete=complete_option,
              help="An option to run (repeatable): pooled, siloed, partial, status_quo or an "
                   "option of the instance. Default: all of them.")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME",
              shell_complete=complete_scenario,
              help="A scenario to run under (repeatable): base or a scenario of the instance. "
                   "Default: base.")
@click.option("--pool-share", default=None, metavar="SHARE|START:STOP:STEP",
              help="Fix every contributor's pool share for the partial option, or sweep it "
                   "(0:1:0.1) to see the value of pooling as a curve.")
@json_option
@out_option("Write the comparison tables as CSV, summary.json, and each run's tables.")
@report_option
@objective_option
@time_limit_option("Seconds HiGHS may take for each run.")
@mip_gap_option()
@quiet_option
@force_option()
def compare(path: Path, options: tuple[str, ...], scenarios: tuple[str, ...],
            pool_share: str | None, as_json: bool, out: Path | None, report_dir: Path | None,
            objective: str | None, time_limit: float | None, mip_gap: float | None,
            quiet: bool, force: bool) -> None:
    """Solve the options of the instance at PATH side by side, under one or more scenarios."""
    from hwbopt.analyses.compare import parse_pool_shares

    shares = parse_pool_shares(pool_share) if pool_share is not None else None
    with indicator(quiet, "reading the instance") as shown:
        run = _start("compare", path, out, report_dir, force)
        from hwbopt.analyses.compare import compare as run_compare

        comparison = run_compare(run.inst, options=list(options) or None,
                                 scenarios=list(scenarios) or None, pool_shares=shares,
                                 objective=objective, time_limit=time_limit, mip_gap=mip_gap,
                                 on_progress=shown.counted)
        comparison.provenance.update(run.source)
        if out is not None:
            shown.step("writing the results")
            from hwbopt.io.results import write_comparison

            _clear(out, run.clear)
            write_comparison(comparison, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(comparison, report_dir)
    if as_json:
        click.echo(json.dumps(comparison.summary(), indent=2, allow_nan=False))
    else:
        from hwbopt.report.compare_text import print_comparison

        print_comparison(comparison)
        if out is not None:
            click.echo(f"\nwrote results to {out}")
        _said_report(report_dir)
    for w in run.warnings:
        click.echo(f"warning: {w}", err=True)
    failed = [r for r in comparison.runs if r.result.status == "error"]
    if failed:
        for r in failed:
            click.echo(f"error: {r.scenario}/{r.name}: {r.result.message}", err=True)
        sys.exit(EXIT_UNEXPECTED)


@cli.command(epilog=examples(
    "hwbopt stress myboard --set cuts_and_pressures --scenarios 200 --out runs/cuts",
    "hwbopt stress myboard --set explicit --out runs/explicit --report paper/stress/",
    "hwbopt stress myboard --out runs/cuts --resume --exact-curve"))
@instance_path
@set_option
@scenarios_option("How many scenarios to solve (default: the set's samples).")
@seed_option
@out_option("Folder for the Parquet results, run.json and summary.json "
            "(default: runs/SET-seedSEED).")
@click.option("--resume", is_flag=True,
              help="Finish an interrupted run in --out, with the set, scenarios, seed and "
                   "other options its run.json records (one given must agree with it).")
@report_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes, forked as the run begins (default: one per "
                   "core, no more than the batch has chains of 32 scenarios).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run the batch on an existing Dask cluster instead.")
@click.option("--block-size", type=click.IntRange(min=1), default=None,
              help="Scenarios per task (whole chains of 32; default: about eight tasks a "
                   "worker, at most 256).")
@click.option("--mip", is_flag=True,
              help="Re-solve the full mixed-integer model per scenario, instead of the "
                   "plan's integer decisions fixed.")
@click.option("--hold-first-year", is_flag=True,
              help="Keep the instance's own first-year figures in every scenario (the set's "
                   "inputs reach the years after): the futures hwbopt plan chooses over.")
@click.option("--plan", "plan_dir", type=PATH, default=None, metavar="DIR",
              help="Test the plan `hwbopt plan --out DIR` saved: hold its first-stage "
                   "decisions (sites, go/no-go, posts, this year's money and activity) in "
                   "every scenario and re-plan the rest. Implies --hold-first-year: the plan "
                   "committed the first year knowing it.")
@objective_option
@time_limit_option("Seconds HiGHS may take for each scenario (and for the plan).")
@click.option("--cold-check", type=FiniteRange(min=0, max=1), default=0.01,
              show_default=True,
              help="Share of scenarios re-solved from scratch as a check on the warm starts. "
                   "Each check costs a cold solve: lower it for large models.")
@click.option("--exact-curve/--no-exact-curve", "exact_curve", default=None,
              help="When one drawn input dominates the objective, also compute the exact "
                   "curve along it (as hwbopt curve, the other inputs at the instance's "
                   "values) into --out/exact_curve, for the report to draw over the sampled "
                   "scenarios; it costs about as much as hwbopt curve (default: with "
                   "--report only).")
@json_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@force_option("Start afresh in an --out folder holding another run or another command's "
              "results (they are removed first), or write a --report folder holding an "
              "instance workbook.")
def stress(path: Path, set_name: str | None, scenarios: int | None, seed: int | None,
           out: Path | None, resume: bool, report_dir: Path | None, workers: int | None,
           scheduler: str | None, block_size: int | None, mip: bool, hold_first_year: bool,
           plan_dir: Path | None, objective: str | None, time_limit: float | None,
           cold_check: float, exact_curve: bool | None, as_json: bool, quiet: bool,
           force: bool) -> None:
    """Solve every scenario of a stress set of the instance at PATH, and sum them up."""
    if scheduler is not None:
        from hwbopt.outputs import check_scheduler

        check_scheduler(scheduler)
    _check_dirs(None, report_dir, path, force)
    if out is not None:
        from hwbopt.outputs import check_folder

        check_folder(out, "--out", ("summary.json", "run.json"))
    inst, warnings = _read(str(path))
    from hwbopt.provenance import instance_provenance

    source = instance_provenance(path)
    from click.core import ParameterSource

    from hwbopt.batch.run import resume_settings, run_stress
    from hwbopt.batch.setup import load_plan, pick_stress_set

    # what the user typed, None where an option was left at its default: --resume takes the
    # rest from the run's own record (run.json), and refuses what contradicts it
    ctx = click.get_current_context()
    typed: dict[str, Any] = {
        name: value if ctx.get_parameter_source(param) not in (
            ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP) else None
        for name, param, value in (
            ("set_name", "set_name", set_name), ("scenarios", "scenarios", scenarios),
            ("seed", "seed", seed), ("objective", "objective", objective), ("mip", "mip", mip),
            ("hold_first_year", "hold_first_year", hold_first_year),
            ("time_limit", "time_limit", time_limit), ("cold_check", "cold_check", cold_check),
            ("plan", "plan_dir", plan_dir))}
    if out is None:
        _, chosen = pick_stress_set(inst, set_name)
        out = Path("runs") / f"{chosen.id}-seed{chosen.seed if seed is None else seed}"
        from hwbopt.outputs import check_folder

        check_folder(out, "--out", ("summary.json", "run.json"))
    if resume and not force:
        typed = resume_settings(out, typed)
    # a bad --plan folder is refused before any solve, and before --force clears --out
    saved = None if typed["plan"] is None else load_plan(typed["plan"], source)
    pick_stress_set(inst, typed["set_name"])  # an unknown set is refused before any work
    from hwbopt.outputs import result_owner

    owner = result_owner(out)
    # another command's results, or files no command wrote, are refused here; a stress run's
    # own folder (its run.json, readable or not) is store.open_run's to judge
    theirs = owner is not None and owner["kind"] != "stress" and \
        not (owner["kind"] is None and owner["file"] == "run.json")
    if theirs and _claim_out(out, "stress", source, force):
        _clear(out, True)
    try:
        summary = _run_stress(run_stress, inst, set_name=typed["set_name"],
                              scenarios=typed["scenarios"], seed=typed["seed"], out=out,
                              resume=resume, workers=workers, scheduler=scheduler,
                              block_size=block_size, mip=typed["mip"],
                              hold_first_year=typed["hold_first_year"],
                              objective=typed["objective"], time_limit=typed["time_limit"],
                              cold_check=typed["cold_check"],
                              progress=not quiet and sys.stderr.isatty(), source=source,
                              force=force, plan=saved,
                              # the curve is drawn in the report: computed for one by default
                              exact_curve=report_dir is not None if exact_curve is None
                              else exact_curve)
    except KeyboardInterrupt:
        _stress_interrupted(out)
    _write_report(out, report_dir)  # from the run's folder: the Parquet results are there
    if as_json:
        click.echo(json.dumps(summary, indent=2, allow_nan=False))
    else:
        from hwbopt.report.stress_text import print_stress

        if saved is not None:
            import textwrap

            click.echo(textwrap.fill(
                f"Testing the plan in {saved.folder}: its {len(saved.values):,} first-stage "
                "decisions held in every scenario and the rest re-planned, with the first "
                "year's figures the instance's own (the plan committed them knowing them).",
                width=max(40, min(shutil.get_terminal_size().columns, 100))))
        print_stress(summary, inst)
        click.echo(f"\nresults in {out} (Parquet: {out}/scenarios, summary.json)")
        _said_report(report_dir)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if saved is not None and saved.elsewhere:
        click.echo(f"warning: the plan in {saved.folder} was made on another instance "
                   f"({saved.elsewhere}); its decisions are exactly this instance's first "
                   "stage, so they were tested as given", err=True)
    if saved is not None and saved.objective not in (None, summary["objective_kind"]):
        click.echo(f"warning: the plan in {saved.folder} was chosen for the objective "
                   f"{saved.objective}; this run re-plans for {summary['objective_kind']}",
                   err=True)


def _run_stress(run_stress: Callable[..., dict[str, Any]], inst: Instance, **kw: Any
                ) -> dict[str, Any]:
    """``run_stress``, with Dask's own reports of a Ctrl-C (a cluster's client logs every
    cancelled task) kept off the terminal; local workers ignore Ctrl-C themselves
    (:mod:`hwbopt.batch.pool`)."""
    import logging

    try:
        return run_stress(inst, **kw)
    except KeyboardInterrupt:
        logging.disable(logging.CRITICAL)  # the cluster closing logs every cancelled task
        raise


def _stress_interrupted(out: Path) -> NoReturn:
    """One line for a Ctrl-C in a stress run: how much is saved, and how to finish it."""
    from hwbopt.batch.store import RUN_FILE, done_scenarios

    started = False
    with contextlib.suppress(OSError):  # a report of an interrupt must not fail
        started = (out / RUN_FILE).is_file()
    if not started:
        # stopped in the set-up: the run is not written yet, so --resume has nothing to finish
        click.echo(f"interrupted before the first scenario: nothing saved in {out}; run the "
                   "same command again to start", err=True)
        leave(EXIT_INTERRUPTED)
    try:
        total = json.loads((out / RUN_FILE).read_text(encoding="utf-8")).get("scenarios")
        done = len(done_scenarios(out))
        saved = f"{done:,} of {total:,} scenarios saved in {out}" if isinstance(total, int) \
            else f"{done:,} scenarios saved in {out}"
    except Exception:  # a report of an interrupt must not fail
        saved = f"partial results in {out}"
    click.echo(f"interrupted: {saved}; finish it with the instance and --resume --out {out} "
               "(the run's options are read from its run.json)", err=True)
    leave(EXIT_INTERRUPTED)


@cli.command(epilog=examples(
    "hwbopt plan myboard --set explicit",
    "hwbopt plan myboard --set cuts_and_pressures --scenarios 10 --risk cvar --out "
    "plans/hedged"))
@instance_path
@set_option
@scenarios_option("How many scenarios to plan over: the first N the set draws, or the first N "
                  "rows of its table (default: the set's samples, at most 50).")
@seed_option
@click.option("--risk", type=click.Choice(["expectation", "cvar"]), default=None,
              help="What the plan optimises across the scenarios: the probability-weighted "
                   "expectation (default), or cvar: part of the weight on the worst tail.")
@click.option("--alpha", type=OPEN_SHARE, default=None,
              help="With --risk cvar: the tail is the worst 1 - ALPHA of the probability "
                   "(default 0.9: the worst 10%).")
@click.option("--weight", type=SHARE, default=None,
              help="With --risk cvar: the weight on the tail, 0 to 1 (default 0.5); the rest "
                   "is on the expectation.")
@click.option("--method", type=click.Choice(["auto", "extensive", "decomposed"]),
              default="auto", show_default=True,
              help="How to solve: extensive (one mixed-integer model over every scenario), "
                   "decomposed (a first-stage master and one subproblem per scenario, on "
                   "--workers), or auto: extensive for a few scenarios, decomposed beyond.")
@click.option("--evaluate", type=click.IntRange(min=2), default=None, metavar="M",
              help="Test the hedged and mean-value plans on M fresh futures (a seed stream "
                   "of their own), with 95% confidence intervals and the hedged plan's "
                   "estimated optimality gap.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local worker processes for the scenario subproblems.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Solve the scenario subproblems on an existing Dask cluster instead.")
@report_option
@objective_option
@time_limit_option("Seconds HiGHS may take for each solve (the hedged plan, the plan for the "
                   "average future and each scenario's own).")
@mip_gap_option(default="the instance's settings.mip_gap, 1e-4")
@json_option
@out_option("Write summary.json and the hedged plan's tables (as solve --out writes them) "
            "into this folder.")
@quiet_option
@force_option("Write into --out even if another command, or this one on another instance, "
              "wrote it (the old results are removed first).")
def plan(path: Path, set_name: str | None, scenarios: int | None, seed: int | None,
         risk: str | None, alpha: float | None, weight: float | None, method: str,
         evaluate: int | None, workers: int, scheduler: str | None, report_dir: Path | None,
         objective: str | None, time_limit: float | None, mip_gap: float | None,
         as_json: bool, out: Path | None, quiet: bool, force: bool) -> None:
    """Choose the commitments (sites, go/no-go, posts, this year's money) that hold up best
    across the scenarios of a stress set of the instance at PATH, and compare them with the
    plan for the average future."""
    chosen_risk = _plan_risk(risk, alpha, weight)
    if scheduler is not None:
        from hwbopt.outputs import check_scheduler

        check_scheduler(scheduler)
    with indicator(quiet, "reading the instance") as shown:
        run = _start("plan", path, out, report_dir, force)
        _check_plan_request(run.inst, set_name, scenarios)
        from hwbopt.plan import plan as run_plan

        result = run_plan(run.inst, stress_set=set_name, scenarios=scenarios, seed=seed,
                          risk=chosen_risk, objective=objective, time_limit=time_limit,
                          mip_gap=mip_gap, method=method, workers=workers,
                          scheduler=scheduler, evaluate=evaluate,
                          on_round=lambda r: _round_line(shown, r), on_step=shown.step)
        result.provenance.update(run.source)
        if out is not None:
            shown.step("writing the results")
            from hwbopt.io.results import write_plan

            _clear(out, run.clear)
            write_plan(result, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(out if out is not None else result, report_dir)
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2, allow_nan=False))
    else:
        from hwbopt.report.plan_text import print_plan

        print_plan(result, run.inst, method)
        if out is not None:
            click.echo(f"\nwrote results to {out}")
        _said_report(report_dir)
    for w in [*map(str, run.warnings), *_plan_warnings(result)]:
        click.echo(f"warning: {w}", err=True)
    _exit_for(result.status, result.rp, result.message, not as_json)


# how the terminal names a decomposition round's phase (hwbopt.plan.decomposed.Round.phase)
_PHASES = {"lp": "LP round", "rounding": "roundings", "mip": "MIP round"}


def _round_line(shown: Indicator, r: Any) -> None:
    """One line on stderr per round of the decomposition, kept above the progress, for a
    person at a terminal (short enough for 80 columns at the county's figures: whole
    numbers, no exponents); nothing when the progress is not shown."""
    def figure(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"

    best = "none yet" if r.best is None else figure(r.best)
    phase = _PHASES.get(r.phase, r.phase)
    shown.note(f"  {phase}: bound {figure(r.bound)}, best {best}, {r.cuts} cuts, "
               f"{r.seconds:,.0f} s (master {r.master_seconds:,.0f} s)")
    shown.step(f"the hedged plan: decomposition ({phase}, bound {figure(r.bound)}, best "
               f"{best})")


def _plan_warnings(result: PlanResult) -> list[str]:
    """What a user of the hedged plan's tables must know: they are a plan of the instance
    itself, which may not hold every commitment (or any plan at all)."""
    tables = result.result
    if result.rp is None or tables is None:
        return []
    out = list(tables.warnings)
    if tables.objective is None:
        out.append(f"the hedged plan's commitments give no plan on the instance itself "
                   f"({tables.status}: {tables.message or 'no plan'}), so its tables are "
                   "empty (--out); the figures over the scenarios stand")
    return out


def _plan_risk(measure: str | None, alpha: float | None, weight: float | None) -> Risk:
    """The risk measure of ``hwbopt plan``: --alpha and --weight shape the CVaR part, so they
    are refused without --risk cvar rather than silently ignored."""
    from hwbopt.plan import CVAR, Risk

    given = [name for name, v in (("--alpha", alpha), ("--weight", weight)) if v is not None]
    if given and measure != CVAR:
        raise UsageError(f"{' and '.join(given)} shape{'s' if len(given) == 1 else ''} the "
                         "CVaR part of the objective: add --risk cvar (the expectation weighs "
                         "every scenario by its probability alone)")
    if measure != CVAR:
        return Risk()
    return Risk(CVAR, alpha=0.9 if alpha is None else alpha,
                weight=0.5 if weight is None else weight)


def _check_plan_request(inst: Instance, set_name: str | None, scenarios: int | None) -> None:
    """Refuse a plan no run can honour before any solve: no such stress set, more scenarios
    than its table has rows (as ``hwbopt stress`` refuses them), or chosen rows that all have
    probability 0."""
    from hwbopt.plan.scenarios import chosen_set

    _, chosen = chosen_set(inst, set_name, scenarios, None)
    try:
        chosen.probabilities()
    except ValueError as exc:
        raise UsageError(f"stress set '{chosen.id}', table {chosen.table}: {exc}; choose "
                         "more scenarios with --scenarios") from None


@cli.command(epilog=examples(
    "hwbopt coalitions myboard",
    "hwbopt coalitions myboard --scenario council_cuts_35 --split contributions"))
@instance_path
@click.option("--scenario", default="base", show_default=True, metavar="NAME",
              shell_complete=complete_scenario,
              help="Value the coalitions under this scenario of the instance.")
@click.option("--samples", type=click.IntRange(min=2), default=None, metavar="N",
              help="Estimate Shapley shares from N random orders of joining, with standard "
                   "errors, instead of valuing every coalition (the default up to 12 "
                   "partners; beyond, 200 orders unless given).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the sampled orders (default 0).")
@click.option("--split", "split", default="shapley", show_default=True,
              metavar="NAME|PARTNER=VALUE,...",
              help="The split to test for groups that would leave it: shapley, contributions "
                   "(in proportion to pooled money), owen, nucleolus, or a value per partner "
                   "such as ccg=4000,county=2500,...")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local worker processes for the coalitions' solves.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Solve the coalitions on an existing Dask cluster instead.")
@json_option
@out_option("Write summary.json, coalitions.csv and partners.csv into this folder.")
@report_option
@objective_option
@time_limit_option("Seconds HiGHS may take for each coalition.")
@mip_gap_option(default="1e-6: a coalition's value is a difference of two objectives "
                "some 30 times larger")
@quiet_option
@force_option()
def coalitions(path: Path, scenario: str, samples: int | None, seed: int | None, split: str,
               workers: int, scheduler: str | None, as_json: bool, out: Path | None,
               report_dir: Path | None, objective: str | None, time_limit: float | None,
               mip_gap: float | None, quiet: bool, force: bool) -> None:
    """Value every coalition of the partners of the instance at PATH (what pooling is worth
    when only they pool), split the value of pooling fairly (Shapley), and find the groups
    that would gain by leaving a split (the core)."""
    chosen = _parse_split(split)
    if scheduler is not None:
        from hwbopt.outputs import check_scheduler

        check_scheduler(scheduler)
    with indicator(quiet, "reading the instance") as shown:
        run = _start("coalitions", path, out, report_dir, force)
        from hwbopt.analyses.coalitions import coalitions as run_coalitions

        shown.step("valuing the coalitions")
        result = run_coalitions(run.inst, scenario=scenario, samples=samples, seed=seed,
                                split=chosen, objective=objective, time_limit=time_limit,
                                mip_gap=mip_gap, workers=workers, scheduler=scheduler,
                                on_progress=shown.counter("valuing the coalitions"))
        result.provenance.update(run.source)
        if out is not None:
            shown.step("writing the results")
            from hwbopt.io.results import write_coalitions

            _clear(out, run.clear)
            write_coalitions(result, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(out if out is not None else result, report_dir)
    from hwbopt.report.coalitions_text import print_coalitions

    _show(result.summary(), as_json, print_coalitions, out, report_dir, run.warnings)
    _exit_for(result.status, result.grand_value, result.message, not as_json)


def _parse_split(text: str) -> str | dict[str, float]:
    """``--split``: a name, or PARTNER=VALUE pairs (checked against the partners later,
    before any solve)."""
    if "=" not in text:
        return text.strip()
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not name.strip() or not math.isfinite(number):
            raise UsageError(f"--split {text!r}: {part.strip()!r} is not PARTNER=VALUE with a "
                             "finite value")
        if name.strip() in out:
            raise UsageError(f"--split {text!r}: {name.strip()!r} is given twice")
        out[name.strip()] = number
    return out


@cli.command(epilog=examples("hwbopt export myboard --out model.mps",
                             "hwbopt export myboard --out model.lp --objective cost"))
@instance_path
@out_option("The file to write: .mps or .lp.", required=True)
@objective_option
@force_option("Replace the file if it exists.")
def export(path: Path, out: Path, objective: str | None, force: bool) -> None:
    """Write the compiled model of the instance at PATH as MPS or LP, with readable names."""
    if out.suffix.lower() not in (".mps", ".lp"):
        raise UsageError(f"--out {out}: expected a file ending .mps or .lp")
    from hwbopt.outputs import check_file

    check_file(out, "--out", force)
    if os.path.abspath(out) == os.path.abspath(path):
        raise UsageError(f"--out {out} is the instance being read; choose another file")
    inst, _ = _read(str(path))
    from hwbopt.highs import write_model
    from hwbopt.pipeline import build as build_model

    built = build_model(inst, objective)
    write_model(built.compiled, out)
    comp = built.compiled
    click.echo(f"wrote {out}: {comp.n_cols:,} columns ({int(comp.integer.sum()):,} integer), "
               f"{comp.n_rows:,} rows, named as in models/ (e.g. {comp.row_name(0)})")


@cli.command(epilog=examples("hwbopt explain myboard",
                             "hwbopt explain myboard --all --out why/ --report paper/why/"))
@instance_path
@json_option
@click.option("--all", "show_all", is_flag=True,
              help="List every marginal value (zero ones too) and every binding rule.")
@out_option("Write summary.json and the explanation's tables as CSV into this folder.")
@report_option
@objective_option
@time_limit_option("Seconds HiGHS may take for the solve, for each diagnostic solve, and for "
                   "the search for what would fund the unfunded interventions (default 60).")
@mip_gap_option()
@quiet_option
@force_option()
def explain(path: Path, as_json: bool, show_all: bool, out: Path | None,
            report_dir: Path | None, objective: str | None, time_limit: float | None,
            mip_gap: float | None, quiet: bool, force: bool) -> None:
    """Explain the plan for PATH: marginal values, binding rules, unfunded interventions; or,
    for an infeasible instance, the smallest relaxation or the conflicting rules (exit 3)."""
    with indicator(quiet, "reading the instance") as shown:
        run = _start("explain", path, out, report_dir, force)
        from hwbopt.analyses.explain import explain_built
        from hwbopt.pipeline import build as build_model

        shown.step("building the model")
        ex = explain_built(build_model(run.inst, objective), all_values=show_all,
                           time_limit=time_limit, mip_gap=mip_gap,
                           warnings=[str(w) for w in run.warnings], on_step=shown.step)
        ex.provenance.update(run.source)
        if out is not None:
            shown.step("writing the results")
            from hwbopt.io.results import write_explanation

            _clear(out, run.clear)
            write_explanation(ex, out)
        if report_dir is not None:
            shown.step("writing the report")
        _write_report(ex, report_dir)
    if as_json:
        click.echo(json.dumps(ex.summary(), indent=2, allow_nan=False))
    else:
        from hwbopt.report.explain import print_explanation

        print_explanation(ex, show_all)
        if out is not None:
            click.echo(f"\nwrote results to {out}")
        _said_report(report_dir)
    # an infeasible instance's explanation already says why: no error line under it
    _exit_for(ex.status, ex.objective, ex.message, not as_json and ex.infeasibility is None)


@cli.command(epilog=examples("hwbopt init myboard",
                             "hwbopt init countyboard --example county",
                             "hwbopt init board.xlsx --excel"))
@click.argument("directory", type=PATH)
@click.option("--example", default="tutorial", show_default=True,
              help="Which shipped instance to copy (tutorial or county).")
@click.option("--excel", is_flag=True,
              help="Write one workbook instead of a folder: DIRECTORY/instance.xlsx, or "
                   "DIRECTORY itself if it ends in .xlsx.")
def init(directory: Path, example: str, excel: bool) -> None:
    """Copy a shipped instance into DIRECTORY as the starting point for a new board."""
    from hwbopt.shipped import shipped_instance

    source = shipped_instance(example)
    if excel:
        from hwbopt.io.folder import load_instance
        from hwbopt.io.instance import is_workbook, write_instance

        target = directory if is_workbook(directory) else directory / "instance.xlsx"
        if not is_workbook(directory) and directory.exists() and not directory.is_dir():
            raise UsageError(f"{directory} exists and is not a folder")
        if target.exists():
            raise UsageError(f"{target} already exists: nothing was overwritten; choose a new "
                             "path")
        write_instance(load_instance(source), target)
        click.echo(f"created {target} from the {example} instance: every sheet has its field "
                   f"names in row 1 and their meaning in row 2; next:\n"
                   f"  hwbopt validate {target}\n  hwbopt solve {target}")
        return
    files = sorted(p for p in source.iterdir() if p.is_file())
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    clashes = [f.name for f in files if (directory / f.name).exists()]
    if clashes:
        raise UsageError(f"{directory} already holds {', '.join(clashes)}: nothing was "
                         "overwritten; choose an empty or new folder")
    directory.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy2(f, directory / f.name)
    click.echo(f"created {directory} from the {example} instance ({len(files)} files); next:\n"
               f"  hwbopt validate {directory}\n  hwbopt solve {directory}")


@cli.command(epilog=examples("hwbopt convert myboard board.xlsx      # folder -> workbook",
                             "hwbopt convert board.xlsx myboard2      # workbook -> folder"))
@click.argument("src", type=PATH)
@click.argument("dest", type=PATH)
@force_option("Replace files already at DEST.")
def convert(src: Path, dest: Path, force: bool) -> None:
    """Turn the instance SRC into DEST: a folder into a workbook (DEST ends in .xlsx) or a
    workbook into a folder (DEST has no suffix, or is an existing folder; any other DEST is
    refused). The instance is validated first; nothing is overwritten unless --force."""
    from hwbopt.io.instance import existing_outputs, is_workbook, write_instance

    # DEST's suffix says what to write: any suffix but .xlsx (out.csv, x.xls) would otherwise
    # become a folder of that name, silently
    if not is_workbook(dest) and dest.suffix and not dest.is_dir():
        excel = " (hwbopt writes workbooks as .xlsx only)" \
            if dest.suffix.lower() in (".xls", ".xlsm", ".xlsb", ".ods") else ""
        raise UsageError(f"DEST {dest}: expected a workbook ending in .xlsx, or a folder (a "
                         f"name without a suffix, such as {dest.with_suffix('')}, or an "
                         f"existing folder); '{dest.suffix}' is neither{excel}")
    clashes = existing_outputs(dest)
    if clashes and not force:
        raise UsageError(f"{', '.join(map(str, clashes[:5]))} already exist"
                         f"{'s' if len(clashes) == 1 else ''}: nothing was overwritten; "
                         "choose a new path or pass --force")
    inst, warnings = _read(str(src))
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    written = write_instance(inst, dest, force=force)
    click.echo(f"wrote {written}: {inst.name}")


@cli.command(epilog=examples("hwbopt solve myboard --out results/",
                             "hwbopt report results/ --out paper/"))
@click.argument("result_dir", type=PATH)
@out_option("Folder for report.html and report.xlsx (default: RESULT_DIR).")
@force_option("Write even where report.xlsx is an instance workbook.")
def report(result_dir: Path, out: Path | None, force: bool) -> None:
    """Write report.html and report.xlsx from RESULT_DIR, the folder `hwbopt solve --out`
    (or compare, stress or explain --out) wrote."""
    from hwbopt.outputs import check_report_target, result_source
    from hwbopt.report import write_report

    check_report_target(out or result_dir, result_source(result_dir), force,
                        "--out" if out is not None else "RESULT_DIR")
    html_path, xlsx_path = write_report(result_dir, out or result_dir)
    click.echo(f"wrote {html_path} and {xlsx_path}")


@cli.command(epilog=examples(
    "hwbopt generate --variables 10k --seed 7 big/",
    "hwbopt generate --localities 3 --interventions 12 --partners 4 --years 3 --sites 6 "
    "small/"))
@click.argument("out", type=PATH)
@click.option("--localities", type=int, default=None,
              help="Localities (districts or neighbourhoods). Default 5.")
@click.option("--interventions", type=int, default=None,
              help="Interventions (services), at least 4. Default 25.")
@click.option("--partners", type=int, default=None, help="Partners, at least 2. Default 7.")
@click.option("--years", type=int, default=None, help="Years in the horizon, 1-50. Default 4.")
@click.option("--sites", type=int, default=None,
              help="Sites (buildings), spread over the localities. Default 35.")
@click.option("--variables", default=None, metavar="N",
              help="Instead of the sizes, aim at about N variables (e.g. 10k, 100k, 1m).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same arguments and seed give the same files.")
@click.option("--first-year", type=int, default=2013, show_default=True,
              help="First financial year of the horizon (2013 = 2013/14).")
@force_option("Replace the instance files already in OUT.")
def generate(out: Path, localities: int | None, interventions: int | None,
             partners: int | None, years: int | None, sites: int | None,
             variables: str | None, seed: int, first_year: int, force: bool) -> None:
    """Write a synthetic, feasible instance of any size into the folder OUT."""
    from hwbopt.generate import (
        DEFAULTS,
        estimate_variables,
        parse_count,
        size_for_variables,
        write_generated,
    )

    given = {"localities": localities, "interventions": interventions, "partners": partners,
             "years": years, "sites": sites}
    if variables is not None:
        named = [f"--{k}" for k, v in given.items() if v is not None]
        if named:
            raise UsageError(f"give either --variables or the sizes ({', '.join(named)}), "
                             "not both")
        sizes = size_for_variables(parse_count(variables))
    else:
        sizes = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
    folder, inst = write_generated(out, force=force, seed=seed, first_year=first_year, **sizes)
    click.echo(f"wrote {folder}: {inst.name} — " + ", ".join(
        _plural(n, word, plural) for n, word, plural in (
            (sizes["localities"], "locality", "localities"),
            (sizes["interventions"], "intervention", None),
            (sizes["partners"], "partner", None), (sizes["years"], "year", None),
            (sizes["sites"], "site", None))))
    click.echo(f"about {estimate_variables(**sizes):,} variables; next:\n"
               f"  hwbopt validate {folder}\n  hwbopt solve {folder}")


# commands defined in modules of their own (hwbopt/cli_*.py), each registered on `cli` here
from hwbopt.cli_alternatives import alternatives as _alternatives  # noqa: E402

cli.add_command(_alternatives)
from hwbopt.cli_frontier import frontier as _frontier  # noqa: E402

cli.add_command(_frontier)
from hwbopt.cli_curve import curve as _curve  # noqa: E402

cli.add_command(_curve)


def main() -> None:
    from hwbopt import interrupt

    interrupt.CTRL_C_ENDS_PROCESS = True  # this process ends on Ctrl-C (hwbopt.interrupt)
    try:
        cli(prog_name="hwbopt")
    except BrokenPipeError:  # stdout closed while click itself wrote (help, version)
        _closed_pipe()
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # what was left in the buffer when the reader went away
            _closed_pipe()


if __name__ == "__main__":
    main()
