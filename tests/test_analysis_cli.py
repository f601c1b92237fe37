"""``hncse aggregate``: the files it writes from a synthetic results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest
from conftest import Run, ablation_runs, write_results

from hncse.analysis import cli
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
    results = write_results(tmp_path / "results", [*ablation_runs(seeds=(1, 2)),
                                                   Run("glove", None, 2.0, untrained=True)])
    out = tmp_path / "analysis"
    code = cli.run(_parse(["--results", str(results), "--out", str(out), "--bootstrap", "200",
                           "--no-cka"]))
    assert code == 0
    tidy = pd.read_parquet(out / "results.parquet")
    assert len(tidy) == len(pd.read_csv(out / "results.csv"))
    assert set(tidy["method"]) == {"simcse", "hncse-pm", "hncse-hnm", "hncse", "glove"}
    verdicts = pd.read_csv(out / "verdicts.csv")
    assert list(verdicts["claim"]) == ["C1", "C2", "C3", "C4", "C5"]
    study = out / "all-runs"
    for stem in ("sts", "transfer", "ablation", "c2_tests", "c3_tests", "c4_mechanism"):
        for suffix in (".md", ".tex", ".csv"):
            assert (study / f"{stem}{suffix}").stat().st_size > 0, stem + suffix
    for stem in ("sts_bars", "transfer_bars", "dev_curves", "c4_histograms"):
        assert (study / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert b"<svg" in (study / f"{stem}.svg").read_bytes()[:500], stem
    sts = pd.read_csv(study / "sts.csv")
    assert {"variant", "column", "mean", "sd", "n", "best"} <= set(sts.columns)
    assert (out / "embedding-space" / "q3_runs.csv").is_file()
    assert not list(out.rglob("*.tmp"))


def test_aggregate_rejects_too_few_bootstrap_replicates(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parse(["--results", str(tmp_path), "--bootstrap", "10"])
