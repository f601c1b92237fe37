"""Tables in the layout of the SimCSE/HNCSE papers, written as Markdown, LaTeX, HTML and CSV.

A summary table has one row per variant (method and the settings that vary in its study)
and one column per task (STS12–16, STS-B, SICK-R, STS avg; MR … MRPC, Transfer avg). Each
cell is the mean over seeds ± the sample standard deviation; ``n`` is the number of seeds
(a cell with a different count says so); a single-seed cell carries † and no spread; the
best mean of each column is bold (every headline metric here is higher-is-better).
"""

from __future__ import annotations

import math
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


#: human headers for the machine column names the analyses use (CSV files keep the machine
#: names); any other name is shown with its underscores as spaces
HEADERS: dict[str, str] = {
    "p_holm": "Holm p",
    "p_t": "p (t)",
    "p_t_holm": "Holm p (t)",
    "p_wilcoxon": "p (Wilcoxon)",
    "p_wilcoxon_holm": "Holm p (Wilcoxon)",
    "p_pearson": "p (Pearson)",
    "p_spearman": "p (Spearman)",
    "pearson_r": "Pearson r",
    "spearman_rho": "Spearman ρ",
    "mde": "MDE",
    "d_z": "d_z",
    "seeds_for_paper_effect": "seeds for the paper's effect",
    "paper_effect": "paper's effect",
    "best_stsb_dev_spearman": "best STS-B dev",
    "sentences_per_s": "sentences / s",
    "cka_to_baseline": "CKA to baseline",
    "config_sha256": "config SHA-256",
    "final_loss": "final loss",
    "best_step": "best step",
}
#: (estimate, low, high) column triples shown as one "estimate [low, high]" column
INTERVALS: tuple[tuple[str, str, str], ...] = (
    ("estimate", "ci_low", "ci_high"),
    ("estimate", "low", "high"),
    ("d_z", "d_z_low", "d_z_high"),
)
INTERVAL_SUFFIX = " [95% interval]"


def header(name: str) -> str:
    """A column's header as a reader sees it: ``p_t_holm`` -> ``Holm p (t)``."""
    base = name.removesuffix(INTERVAL_SUFFIX)
    shown = HEADERS.get(base, base.replace("_", " "))
    return shown + INTERVAL_SUFFIX if name != base else shown


def interval_decimals(low: float, high: float, least: int = 2, most: int = 4) -> int:
    """Decimals that keep an interval's width visible: at least two units of the last
    digit (a width of 0.006 needs three, so [+0.175, +0.181] never collapses to
    [+0.17, +0.18])."""
    width = abs(high - low)
    if not math.isfinite(width) or width == 0:
        return least
    return min(most, max(least, math.ceil(-math.log10(width / 2))))


def format_interval_shown(estimate: float, low: float, high: float) -> str:
    """'+0.178 [+0.175, +0.181]' at the decimals the interval's width needs; the
    estimate alone where there is no interval."""
    if any(not math.isfinite(v) for v in (low, high)):
        return "–" if not math.isfinite(estimate) else f"{estimate:+.2f}"
    places = interval_decimals(low, high)
    return f"{estimate:+.{places}f} [{low:+.{places}f}, {high:+.{places}f}]"


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


def _merge_intervals(frame: pd.DataFrame, text: pd.DataFrame) -> pd.DataFrame:
    """Each (estimate, low, high) triple of ``frame`` as one display column of ``text``,
    at the decimals the row's interval needs."""
    for estimate, low, high in INTERVALS:
        if not {estimate, low, high} <= set(map(str, text.columns)):
            continue
        values = frame[[estimate, low, high]].astype(float).to_numpy()
        text[estimate] = [format_interval_shown(*row) for row in values]
        text = text.drop(columns=[low, high]).rename(columns={estimate: estimate + INTERVAL_SUFFIX})
    return text


def frame_table(
    frame: pd.DataFrame, name: str, title: str, note: str = "", digits: int = 2
) -> Table:
    """A plain table (test results, correlations): numbers rounded for display (a value
    below 0.1 to three significant digits, so an MDE of 0.003 never reads 0.00), kept
    whole in the CSV; p-values in scientific notation below 0.001; integer columns
    (counts: give them an integer dtype, ``Int64`` where values may be missing) without
    decimals; an estimate with its interval columns as one "estimate [low, high]" column."""
    counts = {str(c) for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])}

    def show(column: str, value: object) -> str:
        if value is None or value is pd.NA:
            return "–"
        if column in counts:
            return f"{value:d}"
        if isinstance(value, float | np.floating):
            if np.isnan(value):
                return "–"
            if column.startswith("p_"):
                return f"{value:.1e}" if 0 < value < 1e-3 else f"{value:.3f}"
            return f"{value:.3g}" if 0 < abs(value) < 0.1 else f"{value:.{digits}f}"
        return str(value)

    labels = [
        " · ".join(map(show_value, v)) if isinstance(v, tuple) else show_value(v)
        for v in frame.index
    ]
    text = pd.DataFrame(
        {c: [show(str(c), v) for v in frame[c]] for c in frame.columns}, index=labels
    )
    text = _merge_intervals(frame, text)
    index_name = " · ".join(str(n) for n in frame.index.names if n is not None)
    return Table(name, title, text, frame.reset_index(), note=note, index_name=index_name)


def _bold(table: Table, row: int, col: int) -> bool:
    return table.bold is not None and bool(table.bold.iat[row, col])


def to_markdown(table: Table) -> str:
    header_row = [table.index_name, *(header(str(c)) for c in table.text.columns)]
    lines = ["| " + " | ".join(header_row) + " |", "|" + "---|" * len(header_row)]
    for i, (label, row) in enumerate(table.text.iterrows()):
        cells = [f"**{v}**" if _bold(table, i, j) else v for j, v in enumerate(row)]
        lines.append("| " + " | ".join([str(label), *cells]) + " |")
    note = f"\n\n{table.note}" if table.note else ""
    return f"**{table.title}**\n\n" + "\n".join(lines) + note + "\n"


def to_latex(table: Table) -> str:
    """A ``booktabs`` tabular via pandas' Styler: labels and cells escaped, bold as
    ``\\bfseries``, ± and † as math."""
    shown = table.text.rename(columns=lambda c: header(str(c)))
    styler = shown.style.format(escape="latex").format_index(escape="latex", axis=0)
    styler = styler.format_index(escape="latex", axis=1)
    if table.bold is not None:
        css = table.bold.map(lambda b: "font-weight: bold;" if b else "").set_axis(
            shown.columns, axis=1
        )
        styler = styler.apply(lambda _: css, axis=None)
    latex = styler.to_latex(hrules=True, convert_css=True, caption=table.title.replace("_", r"\_"))
    return latex.replace("±", r"$\pm$").replace(SINGLE_SEED_MARK, r"$^\dagger$")


def to_html(table: Table) -> str:
    """An HTML table whose first header cell names the row labels (no separate index-name
    row), headers as a reader sees them, cells escaped, the best in bold."""
    text = table.text.copy()
    for j, column in enumerate(text.columns):
        text[column] = [
            f"<strong>{escape(v)}</strong>" if _bold(table, i, j) else str(escape(v))
            for i, v in enumerate(table.text[column])
        ]
    text.columns = [str(escape(header(str(c)))) for c in text.columns]
    labels = [str(escape(label)) for label in text.index]
    text.insert(0, str(escape(table.index_name)), labels, allow_duplicates=True)
    return text.to_html(escape=False, border=0, classes="results", index=False)


def write_table(table: Table, folder: Path) -> list[Path]:
    """``<folder>/<name>.md``, ``.tex`` and ``.csv``."""
    return [
        write_text(folder / f"{table.name}.md", to_markdown(table)),
        write_text(folder / f"{table.name}.tex", to_latex(table)),
        *write_frame(table.data, folder / table.name, ("csv",)),
    ]
