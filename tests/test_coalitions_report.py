"""The terminal text and the report of a coalition analysis (results of kind ``coalitions``):
``hwbopt coalitions PATH``, ``--report DIR`` and ``hwbopt report DIR`` on its folder.

The results are built here by hand from a game written out in full (``game``): the value of
every coalition of three partners, from which the Shapley shares, the groups blocking a split,
the best coalition of each size and the coalitions worth less than their parts are computed
independently, so the summary is consistent as ``hwbopt coalitions --json`` writes it. Three
games: one whose core holds the Shapley split (``core``), one whose core is empty
(``empty``), and a sampled one of seven partners with long names and large figures
(``sampled``). Each is printed at 80 and 120 columns (every figure whole, no line too long)
and reported both from the object in memory and from a folder written as ``--out`` writes it
(summary.json, coalitions.csv, partners.csv); the pages must agree. The sampled game's page
is drawn in headless Chromium (tests/chromium.py), its layout checked (no legend over a title,
no labels over one another or beyond a chart's edge) and its screenshot kept beside the
report. Last, the analysis itself (hwbopt.analyses.coalitions) on the tutorial must print and
report the same way.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from rich.console import Console

from hwbopt.report import report_data, write_report
from hwbopt.report.coalitions_text import print_coalitions
from hwbopt.report.html import section_html
from hwbopt.report.sections import build_sections, key_figures, status_line
from hwbopt.report.spec import Chart, Section, Table
from hwbopt.words import num

NAMES = {"ccg": "Westshire CCG", "county": "Westshire County Council",
         "police": "Westshire Police", "fire": "Westshire Fire and Rescue",
         "districts": "Westshire district councils (acting jointly)",
         "public_health": "Westshire Public Health",
         "voluntary": "Westshire Council for Voluntary Service"}
SECTIONS = ["overview", "shares", "core", "sizes", "coalitions"]


# ---------------------------------------------------------------------------------------------
# a game written out in full, and its summary as hwbopt coalitions --json writes it
# ---------------------------------------------------------------------------------------------


def subsets(ids: list[str]) -> list[tuple[str, ...]]:
    return [c for k in range(len(ids) + 1) for c in itertools.combinations(ids, k)]


def shapley(ids: list[str], v: dict[frozenset[str], float]) -> dict[str, float]:
    n = len(ids)
    out = {}
    for p in ids:
        others = [q for q in ids if q != p]
        out[p] = sum(math.factorial(len(s)) * math.factorial(n - len(s) - 1)
                     / math.factorial(n) * (v[frozenset(s) | {p}] - v[frozenset(s)])
                     for s in subsets(others))
    return out


def blocking(ids: list[str], v: dict[frozenset[str], float],
             split: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for s in subsets(ids):
        if 0 < len(s) < len(ids):
            gap = v[frozenset(s)] - sum(split[p] for p in s)
            if gap > 1e-9:
                rows.append({"members": list(s), "shortfall": gap})
    return sorted(rows, key=lambda r: -r["shortfall"])


def not_superadditive(ids: list[str], v: dict[frozenset[str], float]) -> list[dict[str, Any]]:
    rows = []
    for s in subsets(ids):
        best = None
        for k in range(1, len(s)):
            for a in itertools.combinations(s, k):
                b = tuple(p for p in s if p not in a)
                if a < b:
                    gap = v[frozenset(a)] + v[frozenset(b)] - v[frozenset(s)]
                    if gap > 1e-9 and (best is None or gap > best["shortfall"]):
                        best = {"members": list(s), "parts": [list(a), list(b)],
                                "shortfall": gap}
        if best:
            rows.append(best)
    return sorted(rows, key=lambda r: -len(r["members"]))[:20]


class Coalitions:
    """A coalition analysis in memory, as the CLI holds one: ``summary()`` and ``tables``."""

    def __init__(self, summary: dict[str, Any], tables: dict[str, pd.DataFrame]):
        self._summary, self.tables = summary, tables

    def summary(self) -> dict[str, Any]:
        return self._summary


def game(ids: list[str], values: dict[tuple[str, ...], float], *, core: dict[str, Any],
         contributed: dict[str, float], benefit: dict[str, float],
         owen: dict[str, float], remit_gain: dict[str, float], siloed: float = 10066.44,
         status: str = "optimal", exact: bool = True,
         stderr: dict[str, float] | None = None, objective_kind: str = "outcome",
         ranges: dict[str, list[float]] | None = None,
         split: tuple[str, dict[str, float]] | None = None,
         shares: dict[str, float] | None = None, message: str = "",
         stopped: tuple[tuple[str, ...], ...] = (),
         answered: dict[tuple[str, ...], tuple[str, ...]] | None = None) -> Coalitions:
    """The summary and tables of ``hwbopt coalitions`` (hwbopt/analyses/coalitions.py) for the
    game ``values`` (v of each coalition solved, by its members in ``ids`` order; the empty
    coalition is 0). ``core`` gives the core's own figures (empty, allocation, method,
    epsilon); the rest is computed. ``stopped`` coalitions stopped at the time limit (their
    value proven only within 150 above); ``answered`` coalitions another's plan answered."""
    v = {frozenset(k): float(x) for k, x in values.items()}
    v[frozenset()] = 0.0
    known = [s for s in subsets(ids) if frozenset(s) in v]
    sh = shares or shapley(ids, v)
    name, alloc = split or ("shapley", sh)

    def blocks(x: dict[str, float]) -> list[dict[str, Any]]:
        if exact:
            return blocking(ids, v, x)
        found = [{"members": list(s), "shortfall": v[frozenset(s)] - sum(x[p] for p in s)}
                 for s in known if 0 < len(s) < len(ids)]
        return sorted([r for r in found if r["shortfall"] > 1e-9],
                      key=lambda r: -r["shortfall"])

    proposed, owen_blocks = blocks(alloc), blocks(owen)
    grand = v[frozenset(ids)]
    sign = -1.0 if objective_kind == "cost" else 1.0  # under cost a value is money saved

    def high(s: tuple[str, ...]) -> float:
        if s in stopped:
            return v[frozenset(s)] + 150.0
        return v[frozenset(s)] + (4.0 if ranges and len(s) == len(ids) else 0.0)

    rows = [{"members": list(s), "value": v[frozenset(s)],
             "status": "time_limit" if s in stopped else "optimal",
             "objective": siloed + sign * v[frozenset(s)], "value_low": v[frozenset(s)],
             "value_high": high(s), "solved_as": list((answered or {}).get(s, s))}
            for s in known]
    best = []
    for k in range(1, len(ids) + 1):
        size = [s for s in known if len(s) == k]
        if size:
            top = max(size, key=lambda s: v[frozenset(s)])
            best.append({"size": k, "members": list(top), "value": v[frozenset(top)]})
    partners_table = [{"partner": p, "contributed": contributed[p], "shapley": sh[p],
                       "shapley_stderr": None if stderr is None else stderr[p],
                       "owen": owen[p], "benefit": benefit[p], "remit_gain": remit_gain[p],
                       "transfer": sh[p] - remit_gain[p]} for p in ids]
    summary = {
        "status": status, "message": message, "instance": "westshire",
        "scenario": "base", "objective_kind": objective_kind, "currency": "GBP",
        "money_unit": "thousands", "years": [2011, 2012, 2013, 2014], "partners": ids,
        "exact": exact, "samples": None if exact else 200, "seed": None if exact else 7,
        "coalitions": rows, "grand_value": grand, "siloed_objective": siloed,
        "grand_objective": siloed + sign * grand, "shapley": sh,
        "shapley_stderr": None if exact else stderr,
        "shapley_range": ranges if exact else None,
        "core": {"empty": core.get("empty") if exact else None,
                 "shapley_in_core": (not blocking(ids, v, sh)) if exact else None,
                 "allocation": core.get("allocation") or sh,
                 "method": core.get("method") or "least_core",
                 "epsilon": core.get("epsilon"), "blocking": proposed,
                 "partial": not exact},
        "split": {"name": name, "allocation": alloc, "blocking": proposed},
        "owen": {"allocation": owen, "priced_total": 1.25 * grand, "in_core": not owen_blocks,
                 "blocking": owen_blocks},
        "partners_table": partners_table,
        "best_by_size": best,
        "not_superadditive": not_superadditive(ids, v) if exact else [],
        "solves": len(known) - len(answered or {}),
        "seconds": 12.34, "kind": "coalitions",
        "provenance": {"instance_source": "instances/westshire", "instance_sha256": "ab" * 32,
                       "instance_files": ["instance.yaml"], "hwbopt_version": "0.9.0",
                       "solver": "HiGHS", "solver_version": "1.7.2",
                       "seed": None if exact else 7,
                       "options": {"objective": objective_kind, "mip_gap": 1e-6,
                                   "time_limit": None, "scenario": "base",
                                   "samples": None if exact else 200, "split": name,
                                   "workers": 1},
                       "python": "3.11.9", "date": "2024-05-01T10:00:00+00:00"},
        "labels": {"name": "Westshire Health and Wellbeing Board", "money": "£k",
                   "partners": {p: NAMES[p] for p in ids}, "scenarios": {}},
    }
    coalitions = pd.DataFrame(
        [{"members": "+".join(r["members"]), "size": len(r["members"]), "value": r["value"],
          "status": r["status"], "objective": r["objective"], "value_low": r["value_low"],
          "value_high": r["value_high"], "solved_as": "+".join(r["solved_as"])}
         for r in rows],
        columns=["members", "size", "value", "status", "objective", "value_low", "value_high",
                 "solved_as"])
    partners = pd.DataFrame(partners_table, columns=[
        "partner", "contributed", "shapley", "shapley_stderr", "owen", "benefit", "remit_gain",
        "transfer"])
    return Coalitions(summary, {"coalitions": coalitions, "partners": partners})


THREE = ["ccg", "county", "police"]


def core_game() -> Coalitions:
    """Three partners whose core holds the Shapley split; CCG + Police is worth less than its
    parts."""
    values = {("ccg",): 10.0, ("county",): 5.0, ("police",): 0.0, ("ccg", "county"): 60.0,
              ("ccg", "police"): 8.5, ("county", "police"): 20.0,
              ("ccg", "county", "police"): 90.0}
    return game(THREE, values,
                core={"empty": False, "method": "nucleolus", "epsilon": -6.25,
                      "allocation": {"ccg": 41.25, "county": 33.75, "police": 15.0}},
                contributed={"ccg": 1234.5, "county": 2871.25, "police": 310.0},
                benefit={"ccg": 915.4, "county": 2210.8, "police": -42.5},
                owen={"ccg": 8.0, "county": 49.0, "police": 33.0},
                remit_gain={"ccg": 30.0, "county": 45.5, "police": 14.5},
                answered={(): ("police",)})


def empty_game(objective_kind: str = "outcome") -> Coalitions:
    """Every pair worth 60, all three 80: the core is empty (least-core epsilon 20/3)."""
    values = {("ccg",): 0.0, ("county",): 0.0, ("police",): 0.0, ("ccg", "county"): 60.0,
              ("ccg", "police"): 60.0, ("county", "police"): 60.0,
              ("ccg", "county", "police"): 80.0}
    third = 80.0 / 3
    return game(THREE, values,
                core={"empty": True, "method": "least_core", "epsilon": 60.0 - 2 * third,
                      "allocation": {p: third for p in THREE}},
                contributed={"ccg": 640.0, "county": 1480.75, "police": 96.5},
                benefit={"ccg": 1210.0, "county": 702.25, "police": 315.5},
                owen={"ccg": 21.0, "county": 48.5, "police": 10.5},
                remit_gain={"ccg": 40.0, "county": 25.0, "police": 15.0},
                objective_kind=objective_kind,
                ranges={p: [third, third + 4.0 / 3] for p in THREE})


SEVEN = ["ccg", "county", "districts", "public_health", "police", "fire", "voluntary"]


def sampled_game() -> Coalitions:
    """Seven partners, Shapley sampled: only the singletons, the grand coalition and the
    coalitions the orders drew are solved; large figures."""
    weight = {"ccg": 3.0, "county": 4.0, "districts": 1.0, "public_health": 2.0,
              "police": 0.5, "fire": 0.25, "voluntary": 0.75}
    values: dict[tuple[str, ...], float] = {}
    for s in subsets(SEVEN):
        if s and (len(s) in (1, 2, 6, 7)):
            w = sum(weight[p] for p in s)
            values[s] = round(4871.3 * w ** 1.5 - 250.0 * (len(s) == 2), 2)
    grand = values[tuple(SEVEN)]
    total = sum(weight.values())
    sh = {p: grand * weight[p] / total for p in SEVEN}
    return game(SEVEN, values,
                core={"empty": None, "method": "least_core", "epsilon": None},
                contributed={p: 123456.7 * weight[p] for p in SEVEN},
                benefit={p: 98765.4 * weight[p] - 20000.0 for p in SEVEN},
                owen={p: grand * (weight[p] + 0.1) / (total + 0.7) for p in SEVEN},
                remit_gain={p: sh[p] * 0.8 for p in SEVEN}, shares=sh, exact=False,
                stderr={p: 1234.56 * weight[p] for p in SEVEN}, status="time_limit",
                stopped=(tuple(SEVEN), tuple(SEVEN[:6]), tuple(SEVEN[1:])),
                message="3 coalitions stopped at the time limit: their values are the best "
                        "plans found, within their proven bounds")


# ---------------------------------------------------------------------------------------------
# the terminal
# ---------------------------------------------------------------------------------------------


def printed(summary: dict[str, Any], width: int) -> str:
    console = Console(width=width, record=True, highlight=False, color_system=None,
                      force_terminal=False, file=open("/dev/null", "w"))  # noqa: SIM115
    print_coalitions(summary, console)
    return console.export_text()


def figures_of(summary: dict[str, Any]) -> list[str]:
    """Every figure the terminal must show whole, as it formats them."""
    from hwbopt.report.coalitions_text import figure, value_digits

    digits = value_digits(summary)
    out = []
    for r in summary["partners_table"]:
        out += [figure(r["contributed"], 1), figure(r["shapley"], digits),
                figure(r["owen"], digits), figure(r["benefit"], 1),
                figure(r["transfer"], digits)]
    for e in (summary.get("shapley_stderr") or {}).values():
        out.append(f"± {figure(e, digits)}")
    for r in summary["best_by_size"]:
        out.append(figure(r["value"], digits))
    out.append(num(summary["grand_value"], 4))  # sentences: four significant figures
    for r in summary["split"]["blocking"][:10]:
        out.append(num(r["shortfall"], 4))
    return out


GAMES = {"core": core_game, "empty": empty_game, "sampled": sampled_game}


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("which", list(GAMES))
def test_terminal_fits_and_every_figure_is_whole(which: str, width: int) -> None:
    summary = GAMES[which]().summary()
    text = printed(summary, width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(
        line for line in lines if len(line) > width)
    assert "…" not in text.replace("… and", "")  # nothing cut short
    flat = " ".join(lines)
    for number in figures_of(summary):
        # each figure stands whole on one line, never broken or cut
        assert any(re.search(rf"(?<![\d,.]){re.escape(number)}(?![\d,])", line)
                   for line in lines), (number, text)
    for name in summary["labels"]["partners"].values():
        assert name.split()[-1] in flat


def test_terminal_says_what_the_core_and_the_splits_are() -> None:
    core = printed(core_game().summary(), 80)
    flat = " ".join(core.split())
    assert "value of pooling: 90 points of weighted outcome" in flat
    assert "Exact: every one of the 8 coalitions of the 3 partners valued (each a proven " \
           "optimum) by 7 solves in 12.3 s." in flat
    assert ("The core is not empty: no group of partners gains by leaving the Shapley split."
            in flat)
    assert "The nucleolus: Westshire CCG 41.25, Westshire County Council 33.75 and " \
           "Westshire Police 15 (points of weighted outcome)." in flat
    # Owen's split gives CCG 8 < v(CCG) = 10, and CCG + County 57 < 60
    assert "Owen's split (each partner's pooled money valued at the grand coalition's " \
           "shadow prices, scaled to the value of pooling) is not in the core: Westshire " \
           "CCG + Westshire County Council " \
           "would gain 3 points of weighted outcome by pooling on their own; Westshire CCG " \
           "would gain 2 points of weighted outcome by pooling on its own." in flat
    assert "Westshire CCG + Westshire Police is worth" not in flat  # a table, not words
    assert re.search(r"│ Westshire CCG\s*│\s*1\.50 │\n.*│ and Westshire Police", core)

    empty = " ".join(printed(empty_game().summary(), 80).split())
    assert ("The core is empty: any split leaves some group better off alone by at least "
            "6.667 points of weighted outcome; the least-core split" in empty)
    assert "3 groups would gain by leaving the Shapley split:" in empty
    assert "Westshire CCG + Westshire County Council would gain 6.667 points of weighted " \
           "outcome by pooling on their own." in empty
    assert "each Shapley share lies within (points of weighted outcome): Westshire CCG " \
           "26.67 to 28.00" in empty

    sampled = " ".join(printed(sampled_game().summary(), 80).split())
    assert "Sampled: the Shapley shares are estimated from 200 random orders of the " \
           "partners (seed 7)" in sampled
    assert "Whether the core is empty is not known" in sampled
    assert "3 coalitions stopped at the time limit" in sampled
    assert "coalitions of 7 partners, scenario base (as the instance says): time_limit" \
        in sampled


def test_terminal_in_money_for_a_cost_objective() -> None:
    text = " ".join(printed(empty_game("cost").summary(), 80).split())
    assert "value of pooling: £k 80 (every partner pooling" in text
    assert "would gain £k 6.667 by pooling on their own" in text
    assert "Each partner's share of the value of pooling (£k)" in text


def test_terminal_too_narrow_splits_the_table_rather_than_cutting_figures() -> None:
    summary = sampled_game().summary()
    text = printed(summary, 60)
    assert "Each partner's money (£k)" in text
    lines = text.splitlines()
    for number in figures_of(summary)[:35]:
        assert any(number in line for line in lines), number


def test_infeasible_prints_the_headline_only() -> None:
    summary = core_game().summary()
    summary.update(status="infeasible", grand_value=None,
                   message="the grand coalition's plan is infeasible")
    text = printed(summary, 80)
    assert "infeasible" in text and "the grand coalition's plan is infeasible" in text
    assert "Shapley" not in text


# ---------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------


def write_folder(result: Coalitions, out: Path) -> Path:
    """The folder ``hwbopt coalitions --out`` writes, as hwbopt/io/results.py writes every
    kind: one CSV per table, then summary.json."""
    out.mkdir(parents=True, exist_ok=True)
    for name, table in result.tables.items():
        (out / f"{name}.csv").write_text(table.to_csv(index=False), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=2, allow_nan=False)
                                      + "\n", encoding="utf-8")
    return out


def by_key(sections: list[Section]) -> dict[str, Section]:
    return {s.key: s for s in sections}


def block(sec: Section, key: str, kind: type) -> Any:
    (found,) = [b for b in sec.blocks if isinstance(b, kind) and b.key == key]
    return found


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each game reported from its folder (and the first from memory too)."""
    work = tmp_path_factory.mktemp("coalitions")
    out = {}
    for which, make in GAMES.items():
        result = make()
        folder = write_folder(result, work / which / "out")
        if which == "core":
            write_report(result, work / which / "memory")
        write_report(folder, work / which / "folder")
        out[which] = {"result": result, "summary": result.summary(), "out": folder,
                      "memory": work / which / "memory", "folder": work / which / "folder",
                      "sections": build_sections(report_data(folder))}
    return out


@pytest.mark.parametrize("which", list(GAMES))
def test_memory_and_folder_give_the_same_report(reports: dict[str, Any], which: str) -> None:
    r = reports[which]
    mem = build_sections(report_data(r["result"]))
    assert [s.key for s in mem] == [s.key for s in r["sections"]] == SECTIONS
    for a, b in zip(mem, r["sections"], strict=True):
        assert section_html(a) == section_html(b), a.key
    if which == "core":
        assert (r["memory"] / "report.html").read_bytes() == \
            (r["folder"] / "report.html").read_bytes()


def test_report_command_on_a_coalitions_folder(reports: dict[str, Any], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hwbopt.cli import cli

    r = reports["core"]
    got = CliRunner().invoke(cli, ["report", str(r["out"]), "--out", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert (tmp_path / "report.html").read_bytes() == (r["folder"] / "report.html").read_bytes()


def test_headline_and_key_figures(reports: dict[str, Any]) -> None:
    data = report_data(reports["core"]["out"])
    assert status_line(data) == ("optimal: pooling among 3 partners is worth 90 points of "
                                 "weighted outcome (every coalition solved)", True)
    figures = dict(key_figures(data))
    assert figures["kind of result"] == "coalitions"
    assert figures["value of pooling, v(N) (points of weighted outcome)"] == 90.0
    assert figures["objective with nobody pooling (points of weighted outcome)"] == 10066.44
    assert figures["the core is empty"] is False
    assert figures["the Shapley split is in the core"] is True
    assert (figures["coalitions valued"], figures["solves (a plan in which some members pool "
                                                  "nothing answers several coalitions)"]) \
        == (8, 7)
    assert figures["coalitions worth less than two parts of them"] == 1
    sampled = report_data(reports["sampled"]["out"])
    text, ok = status_line(sampled)
    assert not ok and text.startswith("time_limit: pooling among 7 partners is worth")
    assert text.endswith("(Shapley shares sampled)")
    figures = dict(key_figures(sampled))
    assert figures["the core is empty"] == "not known"
    assert (figures["random orders sampled"], figures["seed of the orders"]) == (200, 7)
    page = text_of((reports["core"]["folder"] / "report.html").read_text(encoding="utf-8"))
    assert "optimal: pooling among 3 partners is worth 90 points" in page
    assert "coalitions result, money in £k" in page


def test_shares_against_contributions_and_benefits(reports: dict[str, Any]) -> None:
    s = reports["core"]["summary"]
    sec = by_key(reports["core"]["sections"])["shares"]
    chart = block(sec, "coalition_shares", Chart)
    assert chart.mode == "group"
    assert chart.categories == ["Westshire CCG", "Westshire County Council",
                                "Westshire Police"]
    assert [x.name for x in chart.series] == ["money paid into the pools",
                                              "benefit in its remit", "Shapley share",
                                              "Owen's split"]
    for series in chart.series:  # each a share of its total across the partners
        assert sum(series.values) == pytest.approx(100.0)
    assert chart.series[1].values[2] == pytest.approx(-100 * 42.5 / 3083.7)
    shapley = chart.series[2].values
    assert shapley == pytest.approx([100 * s["shapley"][p] / 90.0 for p in THREE])
    frame = block(sec, "coalition_partners", Table).frame
    assert list(frame.columns) == [
        "partner", "paid into the pools (£k)", "benefit in its remit (£k)",
        "Shapley share (points of weighted outcome)", "Owen's split (points of weighted "
        "outcome)", "gain landing in its remit (points of weighted outcome)",
        "transfer owed to it (points of weighted outcome)"]
    rows = {r["partner"]: r for r in s["partners_table"]}
    for values, p in zip(frame.itertuples(index=False), THREE, strict=True):
        assert values[0] == NAMES[p]
        assert list(values[1:]) == [rows[p][k] for k in ("contributed", "benefit", "shapley",
                                                         "owen", "remit_gain", "transfer")]
    # a cost objective: shares of a saving (the value of pooling negative) are shares too
    result = empty_game("cost")
    result.summary()["grand_value"] = -80.0
    for r in result.summary()["partners_table"]:
        r["shapley"] = -r["shapley"]
    cost = by_key(build_sections(report_data(result)))["shares"]
    chart = block(cost, "coalition_shares", Chart)
    assert [x.name for x in chart.series][:3] == ["money paid into the pools",
                                                  "benefit in its remit", "Shapley share"]
    assert chart.series[2].values == pytest.approx([100 / 3] * 3)
    assert "of the value of pooling (£k -80) under the Shapley value" in chart.note


def test_the_core_in_one_sentence_and_blocking_groups_in_words(
        reports: dict[str, Any]) -> None:
    core = by_key(reports["core"]["sections"])["core"]
    assert core.intro.split("\n")[0] == ("The core is not empty: no group of partners gains "
                                         "by leaving the Shapley split.")
    assert not [b for b in core.blocks if b.key == "coalition_blocking"]
    splits = block(core, "coalition_splits", Chart)
    assert [x.name for x in splits.series] == ["Shapley", "nucleolus", "Owen's split"]
    assert splits.series[1].values == [41.25, 33.75, 15.0]

    empty = by_key(reports["empty"]["sections"])["core"]
    lines = empty.intro.split("\n")
    assert lines[0].startswith("The core is empty: any split leaves some group better off "
                               "alone by at least 6.667 points of weighted outcome")
    assert lines[1] == "3 groups would gain by leaving the Shapley split:"
    assert lines[2] == ("Westshire CCG + Westshire County Council would gain 6.667 points of "
                        "weighted outcome by pooling on their own.")
    frame = block(empty, "coalition_blocking", Table).frame
    assert frame.iloc[0].tolist() == ["Westshire CCG + Westshire County Council", 2, 60.0,
                                      pytest.approx(160 / 3), pytest.approx(20 / 3)]
    assert [x.name for x in block(empty, "coalition_splits", Chart).series] == \
        ["Shapley", "least-core split", "Owen's split"]
    page = text_of((reports["empty"]["folder"] / "report.html").read_text(encoding="utf-8"))
    assert "Westshire CCG + Westshire Police would gain 6.667 points of weighted outcome by " \
           "pooling on their own." in page

    sampled = by_key(reports["sampled"]["sections"])["core"]
    assert sampled.intro.startswith("Whether the core is empty is not known")
    assert "a group that would gain by leaving may have been missed" in sampled.intro


def test_best_coalition_of_each_size_and_every_coalition(reports: dict[str, Any]) -> None:
    sizes = by_key(reports["core"]["sections"])["sizes"]
    chart = block(sizes, "coalition_sizes", Chart)
    assert chart.horizontal and chart.categories == [
        "1 partner: Westshire CCG", "2 partners: Westshire CCG + Westshire County Council",
        "all 3 partners"]
    assert chart.series[0].values == [10.0, 60.0, 90.0]
    assert chart.series[0].labels == ["10", "60", "90"]
    assert "Westshire CCG + Westshire Police is worth 1.5 points of weighted outcome less " \
           "than two parts of it pooling separately: Westshire CCG on one side, Westshire " \
           "Police on the other." in sizes.intro
    parts = block(sizes, "coalition_not_superadditive", Table).frame
    assert parts.iloc[0].tolist() == ["Westshire CCG + Westshire Police", "Westshire CCG",
                                      "Westshire Police", 1.5]
    every = block(by_key(reports["core"]["sections"])["coalitions"], "coalition_values",
                  Table).frame
    assert len(every) == 8 and every.iloc[0, 0] == "no partner"
    assert every.iloc[-1, 0] == "all 3 partners" and every.iloc[-1, 2] == 90.0
    # sampled: the stopped grand coalition is outlined
    sampled = block(by_key(reports["sampled"]["sections"])["sizes"], "coalition_sizes", Chart)
    assert sampled.series[0].marked == [False, False, False, True]
    assert "not a proven optimum" in sampled.note


def test_workbook_holds_the_tables_and_figures(reports: dict[str, Any]) -> None:
    r = reports["core"]
    wb = load_workbook(r["folder"] / "report.xlsx")
    assert wb.sheetnames == ["summary", "charts", "coalitions", "partners"]
    rows = [[c.value for c in row] for row in wb["coalitions"].iter_rows()]
    assert rows[0] == ["members", "size", "value", "status", "objective", "value_low",
                       "value_high", "solved_as"]
    assert [x[0] for x in rows[1:]] == [None, "ccg", "county", "police", "ccg+county",
                                        "ccg+police", "county+police", "ccg+county+police"]
    assert [x[2] for x in rows[1:]] == [c["value"] for c in r["summary"]["coalitions"]]
    partners = [[c.value for c in row] for row in wb["partners"].iter_rows()]
    assert partners[0][:2] == ["partner", "contributed (£k)"]
    figures = {x[0].value: x[1].value for x in wb["summary"].iter_rows() if x[0].value}
    assert figures["value of pooling, v(N) (points of weighted outcome)"] == 90
    charts = [x[0].value for x in wb["charts"].iter_rows()]
    for title in ("Shapley shares against contributions and benefits by partner",
                  "The splits side by side", "The best coalition of each size"):
        assert title in charts
    for ws in wb.worksheets:
        assert not [c.coordinate for x in ws.iter_rows() for c in x if c.data_type == "f"]


def test_labels_reach_the_page_as_text(tmp_path: Path) -> None:
    result = empty_game()
    odd = "<script>window.__xss = 1</script> Police"
    result.summary()["labels"]["partners"]["police"] = odd
    result.summary()["labels"]["name"] = "=Westshire & <b>partners</b>"
    html_path, xlsx_path = write_report(result, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "<script>window.__xss" not in page and "<b>partners" not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt; Police" in page
    printed_ = printed(result.summary(), 80)
    assert "<script>window.__xss = 1</script>" in " ".join(printed_.split())
    wb = load_workbook(xlsx_path)
    assert wb["summary"]["A1"].value == "=Westshire & <b>partners</b>"
    assert wb["summary"]["A1"].data_type == "s"


# ---------------------------------------------------------------------------------------------
# the page in a real browser
# ---------------------------------------------------------------------------------------------

# every chart's problems of layout, as the browser drew it: a legend over the title, labels
# (on bars, on either axis, in the legend) over one another or beyond the chart's edge
LAYOUT = """(() => {
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
                        a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const out = [];
  for (const d of document.querySelectorAll('.plotly-graph-div')) {
    const svg = d.querySelector('svg.main-svg').getBoundingClientRect();
    const title = d.querySelector('.gtitle'), legend = d.querySelector('.legend');
    if (title && legend && hit(title.getBoundingClientRect(), legend.getBoundingClientRect()))
      out.push(d.id + ': the legend covers the title');
    for (const sel of ['.bartext', '.xtick text', '.ytick text', '.legendtext']) {
      const b = Array.from(d.querySelectorAll(sel)).map(e => e.getBoundingClientRect())
        .filter(r => r.width > 0);
      b.forEach((r, i) => {
        if (r.left < svg.left - 1 || r.right > svg.right + 1) out.push(d.id + ': ' + sel +
                                                                       ' beyond the edge');
        b.slice(i + 1).forEach(q => { if (hit(r, q)) out.push(d.id + ': ' + sel +
                                                              ' over one another'); });
      });
    }
  }
  return out;
})()"""


def test_the_page_draws_readably_in_a_browser(reports: dict[str, Any]) -> None:
    from chromium import chromium_path, chromium_required, png_pixels, render

    if chromium_path() is None:
        if chromium_required():
            pytest.fail("HWBOPT_REQUIRE_CHROMIUM is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    folder = reports["sampled"]["folder"]
    page = render(folder / "report.html", height=1400, expressions={
        "charts": "document.querySelectorAll('.plotly-graph-div').length",
        "drawn": "Array.from(document.querySelectorAll('.plotly-graph-div')).every("
                 "d => d.querySelectorAll('.bars .point').length > 0)",
        "layout": LAYOUT})
    (folder / "screenshot.png").write_bytes(page.png)
    assert page.errors == [], page.errors
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "blob:",
                                                          "about:"))] == []
    assert page.values["charts"] == 3 and page.values["drawn"] is True
    assert page.values["layout"] == [], page.values["layout"]
    px = png_pixels(page.png)[:, :, :3].reshape(-1, 3)
    assert float((px.min(axis=1) < 235).mean()) > 0.02  # not blank
    for words in ("Who gets what share of the value of pooling",
                  "Whether the core is empty is not known", "Westshire Fire and Rescue"):
        assert words in page.text


def test_a_run_whose_analysis_could_not_finish(tmp_path: Path) -> None:
    """A coalition without a value: the run has the values it has and no split, core or
    partners' table; nothing pretends to them."""
    result = core_game()
    s = result.summary()
    s.update(status="error", message="the coalition ccg + police has no value: the solver "
             "failed", shapley={}, core=None, split=None, owen=None, partners_table=[],
             not_superadditive=[])
    s["coalitions"][6].update(value=None, status="error", objective=None, value_low=None,
                              value_high=None)
    text = " ".join(printed(s, 80).split())
    assert "Whether the core is empty is not known" in text
    assert "would gain" not in text and "Every coalition is worth" not in text
    assert "the coalition ccg + police has no value" in text
    html_path, _ = write_report(result, tmp_path)
    page = text_of(html_path.read_text(encoding="utf-8"))
    assert "would gain" not in page and "Every coalition is worth" not in page
    assert "Whether the core is empty is not known" in page
    keys = [x.key for x in build_sections(report_data(result))]
    assert keys == ["overview", "core", "sizes", "coalitions"]
    assert status_line(report_data(result))[1] is False


def test_the_analysis_itself_on_the_tutorial(tmp_path: Path) -> None:
    """hwbopt.analyses.coalitions's own answer prints and reports: its summary is the format
    built by hand above (two partners: four coalitions)."""
    analysis = pytest.importorskip("hwbopt.analyses.coalitions")
    import hwbopt

    result = analysis.coalitions(hwbopt.load(hwbopt.shipped_instance("tutorial")))
    s = result.summary()
    assert s["kind"] == "coalitions" and len(s["coalitions"]) == 4
    text = printed(s, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert f"value of pooling: {num(s['grand_value'], 4)} points" in " ".join(text.split())
    write_folder(result, tmp_path / "out")
    write_report(tmp_path / "out", tmp_path / "rep")
    folder = build_sections(report_data(tmp_path / "out"))
    assert [x.key for x in folder] == SECTIONS
    for a, b in zip(build_sections(report_data(result)), folder, strict=True):
        assert section_html(a) == section_html(b), a.key


def test_a_split_that_cannot_be_made_and_a_sampled_split_outside_the_core() -> None:
    s = sampled_game().summary()
    s["split"] = {"name": "owen", "allocation": None, "blocking": [],
                  "message": "the grand plan's shadow prices value the pooled money at nothing"}
    s["core"]["shapley_in_core"] = False
    text = " ".join(printed(s, 80).split())
    assert "Owen's split cannot be made: the grand plan's shadow prices value the pooled " \
           "money at nothing." in text
    assert "Whether the core is empty is not known, as not every coalition was valued, but " \
           "the Shapley split is outside it" in text
    core = by_key(build_sections(report_data(Coalitions(s, sampled_game().tables))))["core"]
    assert "Owen's split cannot be made" in core.intro
