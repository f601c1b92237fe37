"""Summary tables: mean ± sd over seeds with n, single-seed label, best per column, and the
Markdown / LaTeX / HTML / CSV renderings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hncse.analysis.tables import (
    frame_table,
    grid_table,
    summary_table,
    to_html,
    to_latex,
    to_markdown,
    write_table,
)


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": ["simcse", "simcse", "simcse", "hncse", "hncse", "hncse", "glove"],
            "STS-B": [76.0, 77.0, 78.0, 79.0, 80.0, None, 58.0],
            "STS avg": [75.0, 76.0, 77.0, 78.0, 79.0, 80.0, 61.5],
        }
    )


def test_summary_cells_give_mean_sd_and_n() -> None:
    table = summary_table(_scores(), ["STS-B", "STS avg"], "t", "T")
    text = table.text
    assert text.at["simcse", "STS-B"] == "77.00 ± 1.00"
    assert text.at["hncse", "STS-B"] == "79.50 ± 0.71 (n=2)"  # fewer seeds than the row
    assert text.at["hncse", "n"] == "3"
    assert text.at["glove", "STS avg"] == "61.50†"  # single seed: no spread, labelled
    assert table.bold is not None
    assert table.bold.at["hncse", "STS-B"] and table.bold.at["hncse", "STS avg"]
    assert not table.bold.at["simcse", "STS-B"]
    row = table.data[(table.data["variant"] == "simcse") & (table.data["column"] == "STS-B")]
    assert row[["mean", "sd", "n"]].iloc[0].tolist() == [77.0, 1.0, 3]


def test_renderings_mark_the_best_and_escape() -> None:
    scores = _scores().replace({"glove": "glove_50d & <avg>"})
    table = summary_table(scores, ["STS-B", "STS avg"], "t", "Scores")
    markdown = to_markdown(table)
    assert "| hncse | 3 | **79.50 ± 0.71 (n=2)** | **79.00 ± 1.00** |" in markdown
    assert "† = single seed" in markdown
    latex = to_latex(table)
    assert r"\bfseries 79.50 $\pm$ 0.71 (n=2)" in latex
    assert r"glove\_50d \& <avg>" in latex and r"$^\dagger$" in latex
    assert r"\toprule" in latex and r"\caption{Scores}" in latex
    html = to_html(table)
    assert "<strong>79.00 ± 1.00</strong>" in html
    assert "glove_50d &amp; &lt;avg&gt;" in html and "<avg>" not in html


def test_tables_without_best_marks_and_grids() -> None:
    plain = summary_table(_scores(), ["STS avg"], "t", "T", mark_best=False)
    assert plain.bold is not None and not plain.bold.to_numpy().any()
    assert "bold" not in plain.note
    grid = grid_table(
        pd.DataFrame({"k": [5, 5, 10], "m": [20, 20, 40], "STS avg": [70.0, 72.0, 75.0]}),
        "STS avg",
        "k",
        "m",
        "g",
        "G",
    )
    assert grid.text.at["k=5", "m=20"] == "71.00 ± 1.41 (n=2)"
    assert grid.text.at["k=5", "m=40"] == "–"
    assert grid.text.at["k=10", "m=40"] == "75.00† (n=1)"
    assert grid.bold is not None and grid.bold.at["k=10", "m=40"]


def test_frame_tables_format_p_values_and_write_three_files(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"difference": [1.23456], "p_t_holm": [0.00001234]}, index=pd.Index(["STS-B"], name="task")
    )
    table = frame_table(frame, "tests", "Tests")
    assert table.text.iloc[0].tolist() == ["1.23", "1.2e-05"]
    paths = write_table(table, tmp_path)
    assert sorted(p.name for p in paths) == ["tests.csv", "tests.md", "tests.tex"]
    back = pd.read_csv(tmp_path / "tests.csv")
    assert back["p_t_holm"].iloc[0] == 0.00001234  # full precision in the CSV
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_frame_tables_show_counts_without_decimals() -> None:
    frame = pd.DataFrame(
        {
            "queries": pd.array([960, 960], dtype="Int64"),
            "mixed": pd.array([230, pd.NA], dtype="Int64"),
            "fraction": [0.24, 0],
            "sts_avg": [56.0, 55.0],  # whole by chance: scores, not counts
        }
    )
    table = frame_table(frame, "counts", "Counts", digits=4)
    assert table.text["queries"].tolist() == ["960", "960"]
    assert table.text["mixed"].tolist() == ["230", "–"]
    assert table.text["fraction"].tolist() == ["0.2400", "0.0000"]
    assert table.text["sts_avg"].tolist() == ["56.0000", "55.0000"]


def test_frame_tables_show_an_interval_at_the_digits_its_width_needs() -> None:
    frame = pd.DataFrame(
        {
            "estimate": [0.178, 0.23],
            "ci_low": [0.175, 0.07],
            "ci_high": [0.181, 0.39],
            "mde": [0.0031, 0.23],
            "p_t_holm": [9e-12, 0.014],
        },
        index=pd.Index(["C4", "C1"], name="claim"),
    )
    table = frame_table(frame, "v", "V")
    shown = table.text["estimate [95% interval]"].tolist()
    assert shown == ["+0.178 [+0.175, +0.181]", "+0.23 [+0.07, +0.39]"]  # never [+0.17, +0.18]
    assert table.text["mde"].tolist() == ["0.0031", "0.23"]  # never 0.00
    markdown = to_markdown(table)
    assert "| claim | estimate [95% interval] | MDE | Holm p (t) |" in markdown
    assert "<th>Holm p (t)</th>" in to_html(table) and "<th>claim</th>" in to_html(table)
    assert list(table.data.columns) == ["claim", *frame.columns]  # the CSV keeps them all
