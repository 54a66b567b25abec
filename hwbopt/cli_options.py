"""The options several ``hwbopt`` commands share, each defined once: its name, type, checks
and help. A command lists them as decorators in the order its ``--help`` shows them; options
whose help says what they cover in that command (``--out``, ``--time-limit``) take it as an
argument, with the type and checks still here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class FiniteRange(click.FloatRange):
    """A float range that also refuses nan and inf (which pass every comparison-based check)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return rv


SECONDS = FiniteRange(min=0, min_open=True)
GAP = FiniteRange(min=0, max=1, max_open=True)
OPEN_SHARE = FiniteRange(min=0, max=1, min_open=True, max_open=True)  # 0 < x < 1
SHARE = FiniteRange(min=0, max=1)  # 0 <= x <= 1
FORCE_HELP = ("Write into --out or --report even if another command, another instance or an "
              "instance workbook is there (the old results are removed first).")

PATH = click.Path(path_type=Path)

instance_path = click.argument("path", type=PATH)
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object for scripts.")
report_option = click.option(
    "--report", "report_dir", type=PATH, default=None,
    help="Write report.html and report.xlsx (charts and tables for a board paper) into this "
         "folder.")
objective_option = click.option("--objective", type=click.Choice(["outcome", "cost"]),
                                default=None, help="Override the instance's objective.")
seed_option = click.option("--seed", type=click.IntRange(min=0), default=None,
                           help="Seed of the draws (default: the set's seed).")


def scenarios_option(help: str) -> Callable[[F], F]:
    """``--scenarios``: how many scenarios of the stress set, at least 1."""
    return click.option("--scenarios", type=click.IntRange(min=1), default=None, help=help)


def out_option(help: str, required: bool = False) -> Callable[[F], F]:
    """``--out``: the folder (or file, for export) a command writes."""
    return click.option("--out", type=PATH, default=None, required=required, help=help)


def time_limit_option(help: str) -> Callable[[F], F]:
    """``--time-limit``: seconds, positive and finite; ``help`` says what it bounds."""
    return click.option("--time-limit", type=SECONDS, default=None, help=help)


def mip_gap_option(default: str = "") -> Callable[[F], F]:
    """``--mip-gap``: a relative gap in [0, 1); ``default`` says what applies without it."""
    note = f" (default: {default})" if default else ""
    return click.option("--mip-gap", type=GAP, default=None,
                        help=f"Relative gap within which a mixed-integer plan counts as "
                             f"optimal{note}.")


def force_option(help: str = FORCE_HELP) -> Callable[[F], F]:
    """``--force``: a flag; ``help`` says what it lets the command replace."""
    return click.option("--force", is_flag=True, help=help)


def examples(*lines: str) -> str:
    """A command's ``--help`` epilog: real commands that run on a board made by ``hwbopt init
    myboard`` (tests/test_cli_help.py runs them). ``\\b`` keeps click from rewrapping them."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


# ---------------------------------------------------------------------------------------------
# shell completion (``_HWBOPT_COMPLETE=bash_source hwbopt``): names from the instance typed
# ---------------------------------------------------------------------------------------------

BUILTIN_OPTIONS = ("pooled", "siloed", "partial", "status_quo")  # hwbopt.analyses.compare


def _ids_in_instance(ctx: click.Context, section: str) -> list[str]:
    """The ids of ``section`` (scenarios, options, stress) in the instance folder named by the
    command's PATH, read from instance.yaml alone (completion must be quick and never fail:
    no validation, and nothing for a workbook or an unreadable file)."""
    path = ctx.params.get("path")
    if path is None:
        # completing an option's value, click parses the words typed so far leniently and
        # leaves PATH unparsed, among the context's remaining words
        path = next((a for a in ctx.args if not a.startswith("-")), None)
    if path is None:
        return []
    try:
        import yaml

        yaml_file = Path(path) / "instance.yaml"
        if not yaml_file.is_file() or yaml_file.stat().st_size > 10_000_000:
            return []
        data = yaml.safe_load(yaml_file.read_text(encoding="utf-8"))
        items = data.get(section) if isinstance(data, dict) else None
        return [str(i["id"]) for i in items or [] if isinstance(i, dict) and "id" in i]
    except Exception:  # a half-written instance: complete nothing rather than fail
        return []


def _matching(names: list[str], incomplete: str) -> list[str]:
    return [n for n in dict.fromkeys(names) if n.startswith(incomplete)]


def complete_scenario(ctx: click.Context, param: click.Parameter,
                      incomplete: str) -> list[str]:
    """``--scenario``: base and the instance's scenarios."""
    return _matching(["base", *_ids_in_instance(ctx, "scenarios")], incomplete)


def complete_option(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """``--option``: the built-in options and the instance's."""
    builtin = [o for o in BUILTIN_OPTIONS if o != "partial" or ctx.command.name != "solve"]
    return _matching([*builtin, *_ids_in_instance(ctx, "options")], incomplete)


def complete_set(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """``--set``: the instance's stress sets."""
    return _matching(_ids_in_instance(ctx, "stress"), incomplete)


set_option = click.option("--set", "set_name", default=None, metavar="NAME",
                          shell_complete=complete_set,
                          help="Which stress set of the instance (needed when it has several).")
quiet_option = click.option("--quiet", is_flag=True,
                            help="No progress on stderr (it is shown only on a terminal).")
