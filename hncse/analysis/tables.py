"""Tables in the layout of the SimCSE/HNCSE papers, written as Markdown, LaTeX, HTML and CSV.

A summary table has one row per variant (method and the settings that vary in its study)
and one column per task (STS12–16, STS-B, SICK-R, STS avg; MR … MRPC, Transfer avg). Each
cell is the mean over seeds ± the sample standard deviation; ``n`` is the number of seeds
(a cell with a different count says so); a single-seed cell carries † and no spread; the
best mean of each column is bold (every headline metric here is higher-is-better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import escape

from hncse.analysis.output import write_frame
from hncse.files import write_text

SINGLE_SEED_MARK = "†"
SUMMARY_NOTE = (
    f"mean ± sd over seeds; n = number of seeds; {SINGLE_SEED_MARK} = single "
    "seed (no spread); bold = best per column"
)


@dataclass
class Table:
    """One table: display ``text`` (strings, index = row labels), optional ``bold`` mask,
    the raw numbers ``data`` for CSV, and a ``note`` printed under it."""

    name: str
    title: str
    text: pd.DataFrame
    data: pd.DataFrame
    bold: pd.DataFrame | None = None
    note: str = ""
    index_name: str = field(default="")


def show_value(value: object) -> str:
    """A setting's value as a label: 1000.0 -> 1000, 0.05 -> 0.05."""
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def _number(value: float) -> str:
    """Two decimals, or three significant digits for a small value (a final loss of 0.004
    must not read 0.00)."""
    return f"{value:.3g}" if 0 < abs(value) < 0.1 else f"{value:.2f}"


def _cell(mean: float, sd: float, n: int, row_n: int) -> str:
    if n == 0 or np.isnan(mean):
        return "–"
    text = f"{_number(mean)}{SINGLE_SEED_MARK}" if n == 1 else f"{_number(mean)} ± {_number(sd)}"
    return text if n == row_n else f"{text} (n={n})"


def summary_table(
    scores: pd.DataFrame,
    columns: list[str],
    name: str,
    title: str,
    by: str = "variant",
    mark_best: bool = True,
) -> Table:
    """Mean ± sd (n) over the runs of each ``by`` group, per column of ``scores``; the
    highest mean per column in bold when ``mark_best`` (higher-is-better columns only)."""
    groups = scores.groupby(by, sort=False)[columns]
    mean, sd, count = groups.mean(), groups.std(ddof=1), groups.count()
    row_n = count.max(axis=1)
    text = pd.DataFrame(
        {
            c: [
                _cell(mean.at[r, c], sd.at[r, c], int(count.at[r, c]), int(row_n[r]))
                for r in mean.index
            ]
            for c in columns
        },
        index=mean.index,
    )
    text.insert(0, "n", row_n.astype(int).astype(str))
    bold = (mean.eq(mean.max()) & mean.notna()) if mark_best else mean.notna() & False
    bold.insert(0, "n", False)
    long = pd.concat({"mean": mean, "sd": sd, "n": count, "best": bold[columns]}, axis=1)
    data = long.stack(level=1, future_stack=True).reset_index()
    data.columns = [by, "column", *data.columns[2:]]
    note = SUMMARY_NOTE if mark_best else SUMMARY_NOTE.removesuffix("; bold = best per column")
    return Table(name, title, text, data, bold, note, index_name=by)


def grid_table(
    scores: pd.DataFrame, value: str, rows: str, columns: str, name: str, title: str
) -> Table:
    """A two-setting grid (e.g. k × m) of ``value``: mean ± sd (n) per cell, best in bold."""
    summary = scores.groupby([rows, columns])[value].agg(["mean", "std", "count"])
    cells = summary.apply(lambda r: _cell(r["mean"], r["std"], int(r["count"]), -1), axis=1)
    text = cells.unstack(columns).fillna("–")
    mean = summary["mean"].unstack(columns).reindex_like(text)
    bold = mean.eq(mean.max().max()) & mean.notna()
    text.index = [f"{rows}={show_value(v)}" for v in text.index]
    text.columns = [f"{columns}={show_value(v)}" for v in text.columns]
    bold.index, bold.columns = text.index, text.columns
    note = f"{value}: mean ± sd over seeds (n seeds); {SINGLE_SEED_MARK} = single seed"
    return Table(name, title, text, summary.reset_index(), bold, note)


def frame_table(
    frame: pd.DataFrame, name: str, title: str, note: str = "", digits: int = 2
) -> Table:
    """A plain table (test results, correlations): numbers rounded for display, kept
    whole in the CSV; p-values in scientific notation below 0.001; integer columns
    (counts: give them an integer dtype, ``Int64`` where values may be missing) without
    decimals."""
    counts = {str(c) for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])}

    def show(column: str, value: object) -> str:
        if value is None or value is pd.NA:
            return "–"
        if column in counts:
            return f"{value:d}"
        if isinstance(value, float | np.floating):
            if np.isnan(value):
                return "–"
            if column.startswith("p_") and 0 < value < 1e-3:
                return f"{value:.1e}"
            return f"{value:.{3 if column.startswith('p_') else digits}f}"
        return str(value)

    labels = [
        " · ".join(map(show_value, v)) if isinstance(v, tuple) else show_value(v)
        for v in frame.index
    ]
    text = pd.DataFrame(
        {c: [show(str(c), v) for v in frame[c]] for c in frame.columns}, index=labels
    )
    index_name = " · ".join(str(n) for n in frame.index.names if n is not None)
    return Table(name, title, text, frame.reset_index(), note=note, index_name=index_name)


def _bold(table: Table, row: int, col: int) -> bool:
    return table.bold is not None and bool(table.bold.iat[row, col])


def to_markdown(table: Table) -> str:
    header = [table.index_name, *map(str, table.text.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, (label, row) in enumerate(table.text.iterrows()):
        cells = [f"**{v}**" if _bold(table, i, j) else v for j, v in enumerate(row)]
        lines.append("| " + " | ".join([str(label), *cells]) + " |")
    note = f"\n\n{table.note}" if table.note else ""
    return f"**{table.title}**\n\n" + "\n".join(lines) + note + "\n"


def to_latex(table: Table) -> str:
    """A ``booktabs`` tabular via pandas' Styler: labels and cells escaped, bold as
    ``\\bfseries``, ± and † as math."""
    styler = table.text.style.format(escape="latex").format_index(escape="latex", axis=0)
    styler = styler.format_index(escape="latex", axis=1)
    if table.bold is not None:
        css = table.bold.map(lambda b: "font-weight: bold;" if b else "")
        styler = styler.apply(lambda _: css, axis=None)
    latex = styler.to_latex(hrules=True, convert_css=True, caption=table.title.replace("_", r"\_"))
    return latex.replace("±", r"$\pm$").replace(SINGLE_SEED_MARK, r"$^\dagger$")


def to_html(table: Table) -> str:
    text = table.text.copy()
    for j, column in enumerate(text.columns):
        text[column] = [
            f"<strong>{escape(v)}</strong>" if _bold(table, i, j) else str(escape(v))
            for i, v in enumerate(table.text[column])
        ]
    text.index = [str(escape(label)) for label in text.index]
    text.columns = [str(escape(c)) for c in text.columns]
    text.index.name = str(escape(table.index_name)) or None
    return text.to_html(escape=False, border=0, classes="results")


def write_table(table: Table, folder: Path) -> list[Path]:
    """``<folder>/<name>.md``, ``.tex`` and ``.csv``."""
    return [
        write_text(folder / f"{table.name}.md", to_markdown(table)),
        write_text(folder / f"{table.name}.tex", to_latex(table)),
        *write_frame(table.data, folder / table.name, ("csv",)),
    ]
