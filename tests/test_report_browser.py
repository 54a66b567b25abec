"""The HTML report in a real browser: headless Chromium over the DevTools protocol.

The county's report must draw every chart, log no console error or uncaught exception, ask
for nothing but its own file, and give a screenshot that is not blank; a label holding a
``<script>`` tag must show as text and run nothing. The reports of a comparison, a stress batch
and an explanation, made from an instance whose labels hold markup, must pass the same checks.
Pages built to fail (a script error, a network fetch, a blank page) prove each check can fail.

Chromium is Debian's ``chromium`` package. Without it these tests skip with the reason, unless
``HWBOPT_REQUIRE_CHROMIUM=1`` (``.ci/run`` sets it), when they fail instead.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from chromium import Page, chromium_path, chromium_required, png_pixels, render
from conftest import ODD_KIND_LABELS, ODD_LABELS


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if chromium_required():
            pytest.fail("HWBOPT_REQUIRE_CHROMIUM is set but Chromium is not installed "
                        "(apt-get install -y chromium)")
        pytest.skip("Chromium is not installed (apt-get install -y chromium); the browser "
                    "tests of the HTML report need it")
    return path


def local(url: str) -> bool:
    return url.startswith(("file:", "data:", "blob:", "about:"))


def blank(png: bytes) -> bool:
    """A screenshot with (almost) one colour and (almost) nothing but white is blank."""
    px = png_pixels(png)[:, :, :3].reshape(-1, 3)
    colours = len(np.unique(px, axis=0))
    inked = float(np.mean(px.min(axis=1) < 235))
    return colours < 16 or inked < 0.02


@cache
def opened(path: Path, kind: str) -> Page:
    """A report page opened once for every test that reads it (each opening costs seconds):
    the expressions of its ``kind`` of page and the overlap check (:data:`OVERLAPS`)."""
    return render(path, expressions={**EXPRESSIONS[kind], "overlaps": OVERLAPS})


EXPRESSIONS = {
    "county": {
        "charts": "document.querySelectorAll('.plotly-graph-div').length",
        "drawn": "document.querySelectorAll('.plotly-graph-div svg.main-svg').length > 0 && "
                 "Array.from(document.querySelectorAll('.plotly-graph-div')).every("
                 "d => d.querySelectorAll('.bars .point').length > 0)",
    },
    "kind": {
        "xss": "typeof window.__xss",
        "charts": "document.querySelectorAll('.plotly-graph-div').length",
        "drawn": "Array.from(document.querySelectorAll('.plotly-graph-div')).every("
                 "d => d.querySelectorAll('svg.main-svg').length > 0 && "
                 "d.querySelectorAll('.point').length > 0)",
        "frames": "document.querySelectorAll('iframe, img').length",
    },
}


def test_county_report_renders_with_no_error(county_report: dict) -> None:
    assert county_report["solve"].returncode == 0, county_report["solve"].stderr
    page = opened(county_report["rep"] / "report.html", "county")
    assert page.errors == [], page.errors
    assert [u for u in page.requests if not local(u)] == []
    assert page.values["charts"] == 6 and page.values["drawn"] is True
    assert not blank(page.png)
    for heading in ("Allocation", "Outcomes", "Who pays and who benefits", "Provenance"):
        assert heading in page.text
    assert "Westshire County Council" in page.text


def test_a_label_with_a_script_tag_shows_as_text(odd_report: Path) -> None:
    page = render(odd_report / "report.html", expressions={
        "xss": "typeof window.__xss",
        "legend": "document.querySelector('#chart-spend_by_partner .legend').textContent",
        "images": "document.images.length",
    })
    assert page.errors == [], page.errors
    assert page.dialogs == []
    assert page.values["xss"] == "undefined"  # neither the script nor the onerror ran
    assert page.values["images"] == 0
    assert ODD_LABELS["partner_nhs"] in page.text  # in the tables, as typed
    assert ODD_LABELS["priority_older"] in page.text
    assert ODD_LABELS["name"] in page.text
    # and in the chart's legend, where a long name wraps onto lines of its own
    assert ODD_LABELS["partner_nhs"].replace(" ", "") in page.values["legend"].replace(" ", "")


@pytest.mark.parametrize("kind", ["compare", "stress", "explain"])
def test_every_kind_of_report_renders_with_labels_as_text(odd_kind_reports: dict[str, Path],
                                                          kind: str) -> None:
    page = opened(odd_kind_reports[kind] / "report.html", "kind")
    assert page.errors == [], page.errors
    assert page.dialogs == []
    assert [u for u in page.requests if not local(u)] == []
    assert page.values["xss"] == "undefined" and page.values["frames"] == 0
    assert page.values["charts"] >= 2 and page.values["drawn"] is True
    assert not blank(page.png)
    assert ODD_LABELS["name"] in page.text and "Provenance" in page.text
    assert ODD_LABELS["partner_nhs"] in page.text
    own = {"compare": ODD_KIND_LABELS["option"], "stress": ODD_KIND_LABELS["stress"],
           "explain": "Marginal values"}[kind]
    assert own in page.text


def test_the_checks_catch_errors_requests_and_blank_pages(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html><body><h1>broken</h1>"
        "<script src=\"http://127.0.0.1:9/never.js\"></script>"
        "<script>console.error('deliberate console error');</script>"
        "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    page = render(broken)
    assert any("deliberate console error" in e for e in page.errors), page.errors
    assert any("undefinedFunction" in e for e in page.errors), page.errors
    assert "http://127.0.0.1:9/never.js" in page.requests

    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    page = render(empty)
    assert page.errors == [] and blank(page.png)


# ---------------------------------------------------------------------------------------------
# nothing overlaps: legends beside the plot, labels apart, ticks apart
# ---------------------------------------------------------------------------------------------

# every overlap on the page that a reader would see as a clash, as "chart: what"
OVERLAPS = """(() => {
  const out = [];
  const box = e => e ? e.getBoundingClientRect() : null;
  const seen = b => b && b.width > 0 && b.height > 0;
  const meet = (a, b) => seen(a) && seen(b) && a.left < b.right - 1 && b.left < a.right - 1
    && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const clash = (name, xs) => {
    for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++)
      if (meet(xs[i], xs[j])) { out.push(name); return; }
  };
  for (const d of document.querySelectorAll('.plotly-graph-div')) {
    const legend = box(d.querySelector('.legend .bg') || d.querySelector('.legend'));
    const title = box(d.querySelector('.gtitle'));
    if (meet(legend, title)) out.push(d.id + ': legend over the title');
    for (const p of d.querySelectorAll('.nsewdrag'))
      if (meet(legend, box(p))) out.push(d.id + ': legend over the plot');
    const texts = [...d.querySelectorAll('.bartext, .textpoint text, .annotation-text')]
      .map(box).filter(seen);
    clash(d.id + ': labels on each other', texts);
    for (const axis of ['.xtick text', '.ytick text', '.x2tick text'])
      clash(d.id + ': ' + axis + ' labels on each other',
            [...d.querySelectorAll(axis)].map(box).filter(seen));
    const cats = [...d.querySelectorAll('.ytick text, .xtick text')].map(box).filter(seen);
    for (const t of texts) if (cats.some(c => meet(t, c))) {
      out.push(d.id + ': a label over an axis label'); break; }
  }
  return out;
})()"""


def test_nothing_overlaps_on_the_county_report(county_report: dict) -> None:
    page = opened(county_report["rep"] / "report.html", "county")
    assert page.errors == [], page.errors
    assert page.values["overlaps"] == []


@pytest.mark.parametrize("kind", ["compare", "stress", "explain"])
def test_nothing_overlaps_on_any_kind_of_report(odd_kind_reports: dict[str, Path],
                                                kind: str) -> None:
    page = opened(odd_kind_reports[kind] / "report.html", "kind")
    assert page.errors == [], page.errors
    assert page.values["overlaps"] == []


def test_a_histogram_with_infeasible_scenarios_draws_them(tmp_path: Path) -> None:
    """Scenarios with no plan stand beside the histogram's bins, which sit on a numeric axis
    with round ticks, never a label per bar."""
    from test_report_board import infeasible_stress

    html_path, _ = infeasible_stress(tmp_path)
    page = render(html_path, expressions={
        "overlaps": OVERLAPS,
        "ticks": "[...document.querySelectorAll('#chart-objective_histogram .xtick text')]"
                 ".map(t => t.textContent)",
        "side": "[...document.querySelectorAll('#chart-objective_histogram .x2tick text')]"
                ".map(t => t.textContent)",
    })
    assert page.errors == [], page.errors
    assert page.values["overlaps"] == []
    assert page.values["side"] == ["infeasible (no plan)"]
    ticks = [float(t.replace(",", "")) for t in page.values["ticks"]]
    assert 2 <= len(ticks) <= 12 and all(t == round(t) for t in ticks)


def test_the_overlap_check_catches_clashes(tmp_path: Path) -> None:
    """The old layout's faults, drawn on purpose: a legend over the title, bin labels on each
    other, and a bar's label over the category names."""
    import plotly.graph_objects as go
    import plotly.offline

    fig = go.Figure([go.Bar(x=[f"282,622.617533 to {n}" for n in range(30)], y=list(range(30)),
                            name="a"),
                     go.Bar(x=[f"282,622.617533 to {n}" for n in range(30)], y=list(range(30)),
                            name="b")])
    fig.update_layout(title={"text": "A title the legend covers", "y": 0.97},
                      legend={"orientation": "h", "yanchor": "top", "y": 1.15, "x": 0},
                      xaxis={"tickangle": 0}, margin={"t": 60}, width=900, height=450)
    across = go.Figure(go.Bar(y=["Status quo (today's activity carried forward)", "Pooled"],
                              x=[-100.0, 0.0], orientation="h", text=["x" * 60, ""],
                              textposition="outside", cliponaxis=False))
    page = tmp_path / "clash.html"
    page.write_text("<html><head><script>" + plotly.offline.get_plotlyjs() + "</script></head>"
                    "<body>" + fig.to_html(full_html=False, include_plotlyjs=False)
                    + across.to_html(full_html=False, include_plotlyjs=False)
                    + "</body></html>", encoding="utf-8")
    found = render(page, expressions={"overlaps": OVERLAPS}).values["overlaps"]
    assert any("legend over the title" in f for f in found), found
    assert any(".xtick text labels on each other" in f for f in found), found
    assert any("a label over an axis label" in f for f in found), found
