"""Golden LP files: one tiny instance per model part, its model exported and kept under
``tests/golden/<part>/``. A change to any constraint shows here as a readable diff.

Set ``HWBOPT_REGENERATE_GOLDEN=1`` to rewrite the files after an intended change, then review
the diff by hand (``git diff tests/golden``); ``tests/golden/README.md`` says what each
instance exercises.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import hwbopt
from hwbopt.cli import cli

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("HWBOPT_REGENERATE_GOLDEN") == "1"


def export(instance: Path, out: Path, *options: str) -> None:
    """``hwbopt export INSTANCE --out OUT [OPTIONS]``, as a user types it."""
    result = CliRunner().invoke(cli, ["export", str(instance), "--out", str(out), *options])
    assert result.exit_code == 0, result.output


def export_cost(instance: Path, out: Path) -> None:
    export(instance, out, "--objective", "cost")


def export_policies(instance: Path, out: Path) -> None:
    """The built model with the policies of the option ``every_rule`` applied, written as
    ``hwbopt export`` writes a model (policies are rows and bounds on the compiled arrays,
    which the CLI exports only through ``compare``)."""
    from hwbopt.highs import write_model
    from hwbopt.model.policy import apply_policies
    from hwbopt.pipeline import build

    inst = hwbopt.load(instance)
    built = build(inst)
    (option,) = [o for o in inst.options if o.id == "every_rule"]
    write_model(apply_policies(built.compiled, built.data, option.policies), out)


def export_money_gap(instance: Path, out: Path) -> None:
    """The built model with a ``money_gap`` column on every rule declared where money may run
    out (compare's status quo), written as ``hwbopt export`` writes a model."""
    from hwbopt.highs import write_model
    from hwbopt.model.component import MONEY_GAP
    from hwbopt.model.gap import with_money_gap
    from hwbopt.model.names import with_role
    from hwbopt.pipeline import build

    comp, _ = with_money_gap(build(hwbopt.load(instance)).compiled, 1.0, with_role(MONEY_GAP))
    write_model(comp, out)


# (part, file under tests/golden/<part>/, how the file is made from <part>/instance)
CASES: list[tuple[str, str, Callable[[Path, Path], None]]] = [
    ("activity", "model.lp", export),
    ("money", "model.lp", export),
    ("money", "money_gap.lp", export_money_gap),
    ("outcomes", "model.lp", export),
    ("staff", "model.lp", export),
    ("estate", "model.lp", export),
    ("choices", "model.lp", export),
    ("objective", "model.lp", export),
    ("objective", "cost.lp", export_cost),
    ("policy", "model.lp", export_policies),
]


def lines(path: Path) -> list[str]:
    """The file's lines without LP comments (``\\`` lines: HiGHS's banner), which say nothing
    about the model."""
    return [ln for ln in path.read_text().splitlines(keepends=True) if not ln.startswith("\\")]


@pytest.mark.parametrize(("part", "name", "make"), CASES,
                         ids=[f"{part}/{name}" for part, name, _ in CASES])
def test_golden_lp(part: str, name: str, make: Callable[[Path, Path], None],
                   tmp_path: Path) -> None:
    stored = GOLDEN / part / name
    fresh = tmp_path / name
    make(GOLDEN / part / "instance", fresh)
    if REGENERATE:
        stored.write_text(fresh.read_text())
    diff = "".join(difflib.unified_diff(lines(stored), lines(fresh),
                                        f"tests/golden/{part}/{name} (stored)",
                                        f"{part}/{name} (built now)"))
    assert not diff, (f"the model of tests/golden/{part}/instance changed; if intended, "
                      f"rerun with HWBOPT_REGENERATE_GOLDEN=1 and review the diff:\n{diff}")


def test_every_part_has_a_golden_instance() -> None:
    """Each folder under tests/golden is covered by a case, and each case's files exist."""
    folders = {p.name for p in GOLDEN.iterdir() if p.is_dir()}
    assert folders == {part for part, _, _ in CASES}
    if not REGENERATE:
        for part, name, _ in CASES:
            assert (GOLDEN / part / name).is_file(), f"tests/golden/{part}/{name} is missing"
