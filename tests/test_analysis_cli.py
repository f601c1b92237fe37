"""``hncse aggregate``: the files it writes from a synthetic results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest
from conftest import Run, ablation_runs, write_results

from hncse.analysis import cli
from hncse.analysis.api import (
    VERDICT_COLUMNS,
    AnalysisOptions,
    Source,
    analyse,
    load_source,
    write_tables,
)
from hncse.analysis.stats import CONDITIONAL_ON
from hncse.analysis.verdicts import NOT_COMPARABLE, VERDICTS
from hncse.cli import COMMANDS, main


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_commands_are_registered(capsys: pytest.CaptureFixture[str]) -> None:
    assert COMMANDS["aggregate"][0] == "hncse.analysis.cli"
    assert COMMANDS["report"][0] == "hncse.report.build"
    for command in ("aggregate", "report"):  # each module's parser is reachable from `hncse`
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0 and "--results" in capsys.readouterr().out


def test_aggregate_writes_tables_statistics_figures(tmp_path: Path) -> None:
    results = write_results(
        tmp_path / "results",
        [*ablation_runs(seeds=(1, 2)), Run("glove", None, 2.0, untrained=True)],
    )
    out = tmp_path / "analysis"
    code = cli.run(
        _parse(["--results", str(results), "--out", str(out), "--bootstrap", "200", "--no-cka"])
    )
    assert code == 0
    tidy = pd.read_parquet(out / "results.parquet")
    assert len(tidy) == len(pd.read_csv(out / "results.csv"))
    assert set(tidy["method"]) == {"simcse", "hncse-pm", "hncse-hnm", "hncse", "glove"}
    verdicts = pd.read_csv(out / "verdicts.csv")
    assert list(verdicts["claim"]) == ["C1", "C2", "C3", "C4", "C4", "C5", "C5"]
    assert list(verdicts.columns) == VERDICT_COLUMNS
    assert verdicts["verdict"].isin(VERDICTS).all()
    c1 = verdicts.iloc[0]
    assert c1["size"] == NOT_COMPARABLE and c1["conditional_on"] == CONDITIONAL_ON
    assert c1["alpha"] == pytest.approx(1 - c1["level"])
    study = out / "all-runs"
    for stem in ("sts", "transfer", "ablation", "c2_tests", "c3_tests", "c4_mechanism"):
        for suffix in (".md", ".tex", ".csv"):
            assert (study / f"{stem}{suffix}").stat().st_size > 0, stem + suffix
    assert not list(study.glob("*_levels.png"))  # levels are the tables, not figures
    for stem in (
        "c1_forest",
        "c2_forest",
        "c3_forest",
        "dev_curves",
        "loss_curves",
        "c4_step_counts",
    ):
        assert (study / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert b"<svg" in (study / f"{stem}.svg").read_bytes()[:500], stem
    sts = pd.read_csv(study / "sts.csv")
    assert {"variant", "column", "mean", "sd", "n", "best"} <= set(sts.columns)
    # the main comparison: HNCSE − SimCSE on STS avg over the matched seeds, with its MDE
    main_comparison = pd.read_csv(study / "main_comparison.csv").iloc[0]
    sts_avg = sts[sts["column"] == "STS avg"].set_index("variant")["mean"]
    assert main_comparison["comparison"] == "hncse − simcse"
    assert main_comparison["n"] == 2 and main_comparison["mde"] > 0
    assert main_comparison["estimate"] == pytest.approx(sts_avg["hncse"] - sts_avg["simcse"])
    # Q3 correlates over the trained runs: the encoders used as they are (no seed here)
    # are listed in q3_runs but left out of the correlations
    runs = pd.read_csv(out / "embedding-space" / "q3_runs.csv").dropna(subset=["alignment"])
    correlations = pd.read_csv(out / "embedding-space" / "q3_correlations.csv")
    assert runs["seed"].isna().any()
    alignment = correlations.set_index("metric").loc["alignment"]
    assert alignment["runs"].sum() == runs["seed"].notna().sum()
    assert not list(out.rglob("*.tmp"))


def test_aggregate_rejects_too_few_bootstrap_replicates(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parse(["--results", str(tmp_path), "--bootstrap", "10"])


def test_from_tables_reproduces_the_seed_level_verdicts(tmp_path: Path) -> None:
    """Re-analysing the written results.csv/runs.csv gives the same C1–C4 verdict rows as
    the run folders (all seed-level; C4's counts are rebuilt from the per-step means when
    the summed counts are absent, as in tables written before they were recorded)."""
    results = write_results(tmp_path / "results", ablation_runs(seeds=(1, 2, 3)))
    first = tmp_path / "first"
    assert cli.run(_parse(["--results", str(results), "--out", str(first), "--no-cka"])) == 0
    tidy = pd.read_csv(first / "results.csv")
    tidy[tidy["split"] != "sum"].to_csv(first / "results.csv", index=False)  # older tables
    again = tmp_path / "again"
    assert cli.run(_parse(["--from-tables", str(first), "--out", str(again), "--no-cka"])) == 0
    columns = ["claim", "verdict", "estimate", "ci_low", "ci_high", "n", "p_holm", "mde"]
    before, after = (
        pd.read_csv(folder / "verdicts.csv").set_index("claim") for folder in (first, again)
    )
    pd.testing.assert_frame_equal(
        before.loc[["C1", "C2", "C3", "C4"], columns[1:]],
        after.loc[["C1", "C2", "C3", "C4"], columns[1:]],
    )
    counts = [pd.read_csv(folder / "all-runs" / "c4_counts.csv") for folder in (first, again)]
    pd.testing.assert_frame_equal(*counts, check_dtype=False)
    for frame in counts:  # counts are written as whole numbers, rebuilt ones too
        assert (frame[["queries", "mixed"]].dtypes == "int64").all()


def test_the_library_entry_needs_no_command_line(tmp_path: Path) -> None:
    """`analyse(load_source(...), AnalysisOptions(...))` is what `hncse aggregate` runs:
    the same files, with no argparse in between."""
    results = write_results(tmp_path / "results", ablation_runs(seeds=(1, 2)))
    loaded = load_source(Source("results", results))
    analysis = analyse(loaded, AnalysisOptions(bootstrap=200, cka=False, studies=("all-runs",)))
    assert {s.study for s in analysis.sections} == {"all-runs"}
    library = tmp_path / "library"
    written = write_tables(analysis, library)
    assert all(path.is_file() and path.is_relative_to(library) for path in written)
    command = tmp_path / "command"
    argv = ["--results", str(results), "--out", str(command), "--bootstrap", "200", "--no-cka"]
    assert cli.run(_parse([*argv, "--study", "all-runs"])) == 0
    for name in ("verdicts.csv", "all-runs/sts.csv", "all-runs/main_comparison.csv"):
        assert (library / name).read_text() == (command / name).read_text(), name
