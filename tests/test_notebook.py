"""What a notebook shows: a short repr and a compact, well-formed HTML summary for every object
the Python API returns, naming its status and its objective; names from the instance escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

import hwbopt
from hwbopt.plan import plan

VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}


class Strict(HTMLParser):
    """Collects text and fails on a tag closed out of order or left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Strict:
    parser = Strict()
    parser.feed(page)
    parser.close()
    assert parser.open == [], f"left open: {parser.open}"
    return parser


def figure(value: float) -> str:
    """How a headline figure is written: to the penny, thousands separated."""
    return f"{value:,.2f}".removesuffix(".00")


@pytest.fixture(scope="module")
def shown() -> dict[str, object]:
    """One of everything, on the tutorial (a few seconds in all)."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    return {
        "Instance": inst,
        "Result": hwbopt.solve(inst),
        "Comparison": hwbopt.compare(inst),
        "Explanation": hwbopt.explain(inst),
        "Coalitions": hwbopt.coalitions(inst),
        "Frontier": hwbopt.frontier(inst, "outcome,cost", points=3),
        "Alternatives": hwbopt.alternatives(inst, slack=0.05),
        "PlanResult": plan(inst, stress_set="cuts_and_pressures", scenarios=3),
        "StressRun": hwbopt.stress(inst, set="cuts_and_pressures", scenarios=10, seed=2),
    }


KINDS = ["Instance", "Result", "Comparison", "Explanation", "Coalitions", "Frontier",
         "Alternatives", "PlanResult", "StressRun"]


@pytest.mark.parametrize("kind", KINDS)
def test_repr_is_one_short_line(shown, kind):
    text = repr(shown[kind])
    assert text.startswith(f"<{kind} ") and text.endswith(">")
    assert len(text) < 300 and "\n" not in text, text
    assert str(shown[kind]) == text or kind != "Instance"


def test_the_old_reprs_were_what_this_replaces(shown):
    """pydantic's and the dataclass's own reprs run to thousands of characters."""
    from pydantic import BaseModel

    inst, result = shown["Instance"], shown["Result"]
    assert len(BaseModel.__repr__(inst)) > 3000
    assert len(repr(result)) < 300 < len(repr(result.tables))


@pytest.mark.parametrize("kind", KINDS)
def test_html_is_well_formed_and_compact(shown, kind):
    page = shown[kind]._repr_html_()
    parser = parsed(page)
    assert len(page) < 20_000
    assert "script" not in parser.tags
    assert kind in "".join(parser.text)


@pytest.mark.parametrize(("kind", "status", "objective"), [
    ("Result", "optimal", lambda o: o.objective),
    ("Explanation", "optimal", lambda o: o.objective),
    ("Alternatives", "optimal", lambda o: o.objective),
    ("Coalitions", "optimal", lambda o: o.grand_value),
    ("Frontier", "optimal", lambda o: o.points[0].values["outcome"]),
    ("PlanResult", "optimal", lambda o: o.rp),
    ("Comparison", "optimal", lambda o: o.run("pooled").result.objective),
    ("StressRun", None, lambda o: o.summary()["base_objective"]),
])
def test_html_names_the_status_and_the_objective(shown, kind, status, objective):
    obj = shown[kind]
    text = " ".join("".join(parsed(obj._repr_html_()).text).split())
    if status is not None:
        assert status in text
    assert figure(objective(obj)) in text, (figure(objective(obj)), text[:500])


def test_result_html_shows_outcomes_against_targets_and_the_weights(shown):
    result = shown["Result"]
    text = " ".join("".join(parsed(result._repr_html_()).text).split())
    assert "points of weighted outcome" in text
    assert "Outcomes against targets" in text
    outcomes = result.outcomes.dropna(subset=["target"])
    met = int(outcomes.met.astype(bool).sum())
    assert f"{met} of {len(outcomes)} targets met" in text
    assert "Older people's independence" in text and "2014/15" in text
    assert "= 10 points" in text  # the weight of older people's independence, in words
    assert ".allocation" in text


def test_stress_html_gives_the_probability_of_each_target(shown):
    run = shown["StressRun"]
    text = " ".join("".join(parsed(run._repr_html_()).text).split())
    for name, share in run.summary()["target_probability"].items():
        label = run.summary()["labels"]["priorities"][name]["name"]
        assert label in text
        assert f"{100 * share:.0f}%" in text
    assert "10 of 10 scenarios solved" in repr(run)


def test_a_failed_solve_says_so_briefly(shown):
    inst = shown["Instance"]
    result = hwbopt.solve(inst.with_changes({"targets[mental_health].target": {"scale": 100}}))
    assert result.status == "infeasible"
    assert len(repr(result)) < 300 and "infeasible" in repr(result)
    text = "".join(parsed(result._repr_html_()).text)
    assert "infeasible" in text and "no plan" in text.lower()


def test_names_from_the_instance_are_escaped(shown):
    inst = shown["Instance"].with_changes({
        "name": "<script>alert(1)</script> board",
        "priorities[obesity].name": "<b>Healthy</b> weight & more"})
    result = hwbopt.solve(inst)
    for page in (inst._repr_html_(), result._repr_html_()):
        parser = parsed(page)
        assert "script" not in parser.tags and "b" not in parser.tags
        assert "<script>alert(1)</script> board" in "".join(parser.text)
    assert "<b>Healthy</b> weight & more" in "".join(parsed(result._repr_html_()).text)


def test_long_names_keep_the_repr_short(shown):
    inst = shown["Instance"].with_changes({"name": "A board " * 60})
    assert len(repr(inst)) < 300 and "…" in repr(inst)
    assert len(repr(hwbopt.solve(inst))) < 300


def test_ipython_shows_the_html_and_the_short_text(shown):
    """What Jupyter asks of an object to display it (nbclient and ipykernel are not installed
    here, so no notebook is executed; IPython's formatter is what the kernel calls)."""
    formatters = pytest.importorskip("IPython.core.formatters")
    for kind in ("Instance", "Result", "StressRun"):
        data, _ = formatters.DisplayFormatter().format(shown[kind])
        assert data["text/plain"] == repr(shown[kind])
        assert data["text/html"] == shown[kind]._repr_html_()
