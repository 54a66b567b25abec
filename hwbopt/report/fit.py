"""Every terminal table goes through here, so that it fits the console's width, from 80 to 250
columns, without cutting or squeezing a figure.

A table is read as rich builds it: the leading columns up to the first right-justified one are
its *labels* (names, years), the rest its *body*. A figure column (right-justified or centred,
``no_wrap``, or whose cells hold no space to wrap at) is given exactly the width of its widest
cell, so a figure never wraps and is never cut; its header may wrap to two lines. The labels
take what is left and wrap at word boundaries, to at most :data:`LABEL_LINES` lines; when the
figures do not fit beside them, the body is split into as few tables as it takes, each
repeating the labels (title "(continued)"), and only when even that leaves the labels too
little room is a name cut short with "…" (a name holding a figure never is) and written out
whole in a legend under the table.

Widths are measured with rich's own measurement (:class:`rich.measure.Measurement`) and wrapping
(:meth:`rich.text.Text.wrap`), and every column's width is then set, so rich has nothing left
to squeeze. Only a console too narrow for the labels' longest words beside one figure column
(well under 80 columns) is left to rich's own squeezing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

LABEL_LINES = 3  # a name wraps to at most this many lines before it is cut short
HEAD_LINES = 2  # a figure column's header wraps to at most this many lines
PROSE_WIDTH = 24  # the narrowest a column of sentences after the figures is made
CONTINUED = " (continued)"
DIGIT = re.compile(r"\d")


@dataclass
class _Col:
    """One column as measured: its cells as text (None where a cell is not plain text), the
    width that shows every line unwrapped, and the narrowest width it may be given."""

    column: Column
    cells: list[RenderableType]  # the body cells, a copy: a name cut short replaces its own
    texts: list[Text | None]  # header first when shown
    natural: int
    least: int
    fixed: bool  # a figure column (or a label that must not wrap): exactly ``natural`` wide
    full: int = 0  # a figure column's width with its header on one line

    @property
    def distinct(self) -> list[Text]:
        """The column's texts, each different one once (a repeated name wraps alike)."""
        seen: dict[str, Text] = {}
        for t in self.texts:
            if t is not None and t.plain.strip():
                seen.setdefault(t.plain, t)
        return list(seen.values())


def print_table(console: Console, table: Table, *, label_lines: int | None = LABEL_LINES,
                continued: str | None = None, labels: int | None = None) -> None:
    """Print ``table`` on ``console`` fitted to its width (see :func:`fit_table`)."""
    for part in fit_table(console, table, label_lines=label_lines, continued=continued,
                          labels=labels):
        console.print(part)


def fit_table(console: Console, table: Table, *, label_lines: int | None = LABEL_LINES,
              continued: str | None = None, labels: int | None = None,
              width: int | None = None) -> list[Table]:
    """``table`` as one or more tables no wider than ``width`` (the console's by default),
    every figure whole. ``label_lines``: the most lines a label may wrap to before it is cut
    short; None for labels that are sentences (a rule's text), which wrap as far as they need
    and are never cut. ``continued``: the title of every part after the first (default: the
    title with " (continued)"). ``labels``: how many leading columns every part repeats, when
    not the columns before the first figure (a yardstick figure, say)."""
    total = width if width is not None else console.options.max_width
    if not table.columns:
        return [table]
    n_labels = _label_count(table) if labels is None else min(labels, len(table.columns))
    cols = [_measure(console, table, c, is_label=k < n_labels)
            for k, c in enumerate(table.columns)]
    heads, body = cols[:n_labels], cols[n_labels:]
    for natural in ([max(c.natural, c.full) for c in cols], [c.natural for c in cols]):
        # everything on one line (then with figures' headers on two) when it fits
        if _width(table, cols, natural) <= total:
            return [_rebuild(table, cols, natural, table.title, table.caption)]
    groups = _split(console, table, heads, body, total, label_lines)
    label_room = min(_room(table, heads, g, total) for g in groups)
    label_widths = _share(console, heads, label_room)
    legend: list[str] = []
    if label_lines is not None and body:
        legend = _abbreviate(console, heads, label_widths, label_lines)
    caption = _with_legend(table.caption, legend)
    out = []
    for k, group in enumerate(groups):
        widths = [*label_widths, *_grow(table, heads, label_widths, group, total)]
        title = table.title if k == 0 else _continued(table.title, continued)
        part = _rebuild(table, [*heads, *group], widths, title,
                        caption if k == len(groups) - 1 else None)
        if legend and table.caption is None:
            part.caption_justify = "left"  # the legend reads as a note, not a caption
        out.append(part)
    return out


# ---------------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------------


def _label_count(table: Table) -> int:
    """The leading columns up to the first right-justified or centred one; a table that starts
    with a figure (a row number) repeats that one."""
    for k, c in enumerate(table.columns):
        if c.justify in ("right", "center"):
            return max(k, 1)
    return len(table.columns)


def _as_text(console: Console, cell: RenderableType, table: Table, column: Column) -> Text | None:
    if isinstance(cell, Text):
        return cell
    if isinstance(cell, str):
        highlight = table.highlight if column.highlight is None else column.highlight
        return console.render_str(cell, highlight=highlight)
    return None


def _lines(console: Console, text: Text, width: int) -> int:
    """The lines ``text`` wraps to at ``width`` (rich's own wrapping, at words)."""
    return len(text.wrap(console, max(width, 1), overflow="fold"))


def _narrowest(console: Console, texts: Sequence[Text], lines: int, low: int,
               high: int) -> int:
    """The narrowest width from ``low`` to ``high`` at which no text wraps to more than
    ``lines`` lines (``high`` if none is)."""
    plain = list(texts)
    while low < high:
        mid = (low + high) // 2
        if all(_lines(console, t, mid) <= lines for t in plain):
            high = mid
        else:
            low = mid + 1
    return high


def _measure(console: Console, table: Table, column: Column, is_label: bool) -> _Col:
    options = console.options
    header = [column.header] if table.show_header else []
    cells: list[RenderableType] = [*header, *column.cells]
    texts = [_as_text(console, c, table, column) for c in cells]
    sizes = [Measurement.get(console, options, c) for c in cells] or [Measurement(1, 1)]
    natural = max(1, *(m.maximum for m in sizes))
    least = max(1, *(m.minimum for m in sizes))
    # cells with no space to wrap at (years, "open", "met") are figures wherever they stand
    unwrappable = all(t is not None and len(t.plain.split()) <= 1
                      for t in texts[len(header):])
    figure = column.justify in ("right", "center") or column.no_wrap or unwrappable
    if is_label:
        fixed = column.no_wrap or unwrappable
        return _Col(column, cells[len(header):], texts, natural,
                    natural if fixed else least, fixed)
    if not figure:
        return _Col(column, cells[len(header):], texts, natural,
                    min(natural, max(least, PROSE_WIDTH)), False)
    body = [m.maximum for m in sizes[len(header):]] or [1]
    width = max(body)
    head_text = texts[0] if header else None
    if head_text is not None:
        # the header wraps (at words) to as few lines as the figures allow, at most HEAD_LINES
        head = _narrowest(console, [head_text], HEAD_LINES, max(sizes[0].minimum, width),
                          max(sizes[0].maximum, width))
        width = max(width, head)
    elif header:
        width = max(width, sizes[0].maximum)
    full = max(width, sizes[0].maximum) if header else width
    return _Col(column, cells[len(header):], texts, width, width, True, full)


def _width(table: Table, cols: Sequence[_Col], widths: Sequence[int]) -> int:
    """The printed width of a table of these columns at these content widths: borders and
    padding as rich draws them."""
    n = len(cols)
    _top, right, _bottom, left = table.padding
    if table.collapse_padding:
        left, right = 0, abs(left - right)
    pad = n * (left + right)
    if not table.pad_edge and n:
        pad -= left + right
    borders = (2 if table.box and table.show_edge else 0) + (n - 1 if table.box else 0)
    return sum(widths) + pad + borders


# ---------------------------------------------------------------------------------------------
# splitting and sharing the width
# ---------------------------------------------------------------------------------------------


def _split(console: Console, table: Table, labels: list[_Col], body: list[_Col], total: int,
           label_lines: int | None) -> list[list[_Col]]:
    """The body in as few groups (in order) as leave the labels room to wrap to at most
    ``label_lines`` lines beside the widest group; the groups as even as can be, so the labels
    get the most room."""
    if not body:
        return [[]]
    # sentences (label_lines None) may run longer than names before a table is split
    lines = label_lines if label_lines is not None else 2 * LABEL_LINES
    need = sum(c.natural if c.fixed else _narrowest(console, c.distinct, lines, c.least, c.natural)
               for c in labels)
    for k in range(1, len(body) + 1):
        groups = _partition(table, labels, body, k)
        if min(_room(table, labels, g, total) for g in groups) >= need:
            return groups
    return [[c] for c in body]  # the labels' least room is beside one column at a time


def _least(c: _Col) -> int:
    """The narrowest a body column is made: a figure's exact width, a sentence's least."""
    return c.natural if c.fixed else c.least


def _room(table: Table, labels: list[_Col], group: list[_Col], total: int) -> int:
    """The width the labels' text may take beside ``group`` within ``total``."""
    widths = [0] * len(labels) + [_least(c) for c in group]
    return total - _width(table, [*labels, *group], widths)


def _partition(table: Table, labels: list[_Col], body: list[_Col], k: int) -> list[list[_Col]]:
    """``body`` in at most ``k`` runs, in order, the widest run as narrow as can be."""
    cost = [_width(table, [*labels, c], [0] * (len(labels) + 1))
            - _width(table, labels, [0] * len(labels)) + _least(c) for c in body]

    def pack(limit: int) -> list[list[int]]:
        runs: list[list[int]] = [[]]
        used = 0
        for j, w in enumerate(cost):
            if runs[-1] and used + w > limit:
                runs.append([])
                used = 0
            runs[-1].append(j)
            used += w
        return runs

    low, high = max(cost), sum(cost)
    while low < high:
        mid = (low + high) // 2
        if len(pack(mid)) <= k:
            high = mid
        else:
            low = mid + 1
    return [[body[j] for j in run] for run in pack(high)]


def _share(console: Console, labels: list[_Col], room: int) -> list[int]:
    """The labels' widths within ``room``: each at least its longest word; the fewest lines
    the room allows for all of them alike; then, cheapest first, a column at a time onto fewer
    lines still; what is left to those still short of their natural width, in order."""
    widths = [c.natural if c.fixed else c.least for c in labels]
    free = [k for k, c in enumerate(labels) if not c.fixed]
    if not free or sum(c.natural for c in labels) <= room:
        return [c.natural for c in labels] if free or not labels else widths
    distinct = {k: labels[k].distinct for k in free}

    def narrowest(k: int, lines: int) -> int:
        return _narrowest(console, distinct[k], lines, labels[k].least, labels[k].natural)

    most = max((_lines(console, t, widths[k]) for k in free for t in distinct[k]), default=1)
    # the fewest lines (searched upward) at which every free label fits the room together
    lines = most
    for n in range(1, max(most, 1) + 1):
        trial = list(widths)
        for k in free:
            trial[k] = narrowest(k, n)
        if sum(trial) <= room:
            widths, lines = trial, n
            break
    # fewer lines for the columns that need least extra width to get there
    for n in range(lines - 1, 0, -1):
        for k in sorted(free, key=lambda k: narrowest(k, n) - widths[k]):
            need = narrowest(k, n) - widths[k]
            if 0 < need <= room - sum(widths):
                widths[k] += need
    spare = room - sum(widths)
    for k in free:
        give = min(max(spare, 0), labels[k].natural - widths[k])
        widths[k] += give
        spare -= give
    return widths


def _grow(table: Table, labels: list[_Col], label_widths: list[int], group: list[_Col],
          total: int) -> list[int]:
    """The widths of one group's columns: figures exact; sentences from their least width
    up to their natural one as the room allows."""
    widths = [_least(c) for c in group]
    spare = total - _width(table, [*labels, *group], [*label_widths, *widths])
    for k, c in enumerate(group):
        if not c.fixed and spare > 0:
            give = min(spare, c.natural - widths[k])
            widths[k] += give
            spare -= give
    return widths


# ---------------------------------------------------------------------------------------------
# names cut short, and the parts rebuilt
# ---------------------------------------------------------------------------------------------


def _abbreviate(console: Console, labels: list[_Col], widths: list[int],
                lines: int) -> list[str]:
    """Cut short each label cell (never a header, never one holding a figure) that wraps to
    more than ``lines`` lines at its width: its first lines, the last ending in "…". Return
    the names cut, in full, for the legend."""
    cut: list[str] = []
    for col, width in zip(labels, widths, strict=True):
        if col.fixed:
            continue
        offset = len(col.texts) - len(col.cells)  # the header's text comes first
        for k, text in enumerate(col.texts[offset:]):
            if text is None or DIGIT.search(text.plain):
                continue
            wrapped = list(text.wrap(console, width, overflow="fold"))
            if len(wrapped) <= lines:
                continue
            kept = wrapped[:lines]
            last = kept[-1]
            last.rstrip()
            if last.cell_len >= width:
                last.truncate(max(width - 1, 1))
            last.append("…")
            col.cells[k] = Text("\n").join(kept)
            cut.append(text.plain.strip())
    return list(dict.fromkeys(cut))


def _with_legend(caption: str | Text | None, legend: list[str]) -> str | Text | None:
    if not legend:
        return caption
    key = Text("names cut short (…) in full: " + "; ".join(legend), style="dim")
    if caption is None:
        return key
    head = Text.from_markup(caption) if isinstance(caption, str) else caption.copy()
    return Text("\n").join([head, key])


def _continued(title: str | Text | None, continued: str | None) -> str | Text | None:
    if continued is not None:
        return continued
    if title is None:
        return None
    if isinstance(title, Text):
        return title + Text(CONTINUED)
    return title + CONTINUED


def _rebuild(table: Table, cols: Iterable[_Col], widths: Sequence[int],
             title: str | Text | None, caption: str | Text | None) -> Table:
    """A table of ``table``'s look with these columns at these exact widths."""
    cols = list(cols)
    out = Table(
        title=title, caption=caption, box=table.box, safe_box=table.safe_box,
        padding=table.padding, collapse_padding=table.collapse_padding,
        pad_edge=table.pad_edge, show_header=table.show_header,
        show_footer=table.show_footer, show_edge=table.show_edge,
        show_lines=table.show_lines, leading=table.leading, style=table.style,
        row_styles=table.row_styles, header_style=table.header_style,
        footer_style=table.footer_style, border_style=table.border_style,
        title_style=table.title_style, caption_style=table.caption_style,
        title_justify=table.title_justify, caption_justify=table.caption_justify,
        highlight=table.highlight)
    for c, w in zip(cols, widths, strict=True):
        k = c.column
        out.add_column(k.header, k.footer, header_style=k.header_style,
                       highlight=k.highlight, footer_style=k.footer_style, style=k.style,
                       justify=k.justify, vertical=k.vertical,
                       overflow="fold" if not c.fixed else k.overflow, width=w,
                       no_wrap=False)
    cells = [c.cells for c in cols]
    for r, row in enumerate(table.rows):
        out.add_row(*(column[r] for column in cells), style=row.style,
                    end_section=row.end_section)
    return out
