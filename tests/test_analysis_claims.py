"""Verdicts on synthetic results with known answers, the study spec, and every analysis
degrading gracefully (no runs, one seed, no per-pair scores)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import ABLATION_NOISE, SUBSETS, Run, ablation_runs, write_results, write_study

from hncse.analysis.analyses import Options, verdicts
from hncse.analysis.collect import collect
from hncse.analysis.dispatch import run_studies
from hncse.analysis.sections import Section
from hncse.analysis.stats import PAIR_BOOTSTRAP
from hncse.analysis.studies import (
    StudyError,
    analysis_names,
    label_runs,
    load_studies,
    parse_studies,
    select_runs,
    select_studies,
)
from hncse.analysis.tasks import STS_AVG
from hncse.analysis.verdicts import (
    ALPHA,
    BY_CONSTRUCTION,
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_EVALUATED,
    REPRODUCED,
    UNTESTABLE,
)

FAST = Options(n_resamples=200, svg=False)
SEEDS = (1, 2, 3, 4, 5, 6)  # enough for the synthetic effects to pass Holm


def _analyse(root: Path, studies: dict) -> list[Section]:
    return run_studies(collect(root), parse_studies(studies, "test"), FAST)


def _verdict(sections: list[Section], claim: str, part: str = "") -> str:
    rows = [r for r in verdicts(sections) if r.claim == claim and r.part.startswith(part)]
    assert len(rows) == 1, rows
    return rows[0].verdict


@pytest.mark.parametrize(
    ("hncse_noise", "expected"), [(0.6, REPRODUCED), (1.0, INCONCLUSIVE), (2.2, CONTRADICTED)]
)
def test_c1_verdict_follows_the_simulated_truth(
    tmp_path: Path, hncse_noise: float, expected: str
) -> None:
    write_results(tmp_path, ablation_runs(seeds=SEEDS, noise={"simcse": 1.0, "hncse": hncse_noise}))
    sections = _analyse(tmp_path, {"ablation": {"analysis": "ablation"}})
    assert _verdict(sections, "C1") == expected
    row = next(r for r in verdicts(sections) if r.claim == "C1")
    assert row.n == 6 and row.interval is not None and row.interval.n == 6
    assert row.interval.method == "paired t over seeds, Holm-corrected"
    assert (row.interval.low > 0) == (expected == REPRODUCED)
    assert row.mde > 0 and "at 80% power" in row.detail


def test_ablation_claims_and_mechanisms(tmp_path: Path) -> None:
    """HNCSE-PM and -HNM beat SimCSE and HNCSE beats both (by construction); the synthetic
    logs move the mixed positive towards the query (C4's tested part reproduced; its other
    part is decided by construction, whatever the logs say) and make synthetic negatives
    a little easier than their harder parent (C5 (a) contradicted) but harder than the
    query's single hardest in-batch negative (C5 (b) reproduced)."""
    write_results(tmp_path, ablation_runs(seeds=SEEDS))
    sections = _analyse(tmp_path, {"ablation": {"analysis": "ablation"}})
    assert not [s.error for s in sections if s.error]
    assert _verdict(sections, "C3") == REPRODUCED
    assert _verdict(sections, "C4", "closer") == REPRODUCED
    assert _verdict(sections, "C4", "farther") == BY_CONSTRUCTION
    assert _verdict(sections, "C5", "(a)") == CONTRADICTED
    assert _verdict(sections, "C5", "(b)") == REPRODUCED
    rows = {(r.claim, r.part[:3]): r for r in verdicts(sections)}
    c4_row, constructed = rows["C4", "clo"], rows["C4", "far"]
    assert "pm/delta_sim_query" in c4_row.detail and "PM mixed" in c4_row.detail
    assert "(θ = 0.1)" in c4_row.detail and "not among this study's runs" not in c4_row.detail
    assert c4_row.interval is not None and c4_row.interval.low > 0
    assert c4_row.interval.unit == "runs" and c4_row.alpha == ALPHA  # the weakest member
    assert constructed.interval is None and math.isnan(constructed.p_holm)  # no test result
    assert "never farther from n than p" in constructed.detail
    assert "re-normalisation" in rows["C5", "(b)"].detail
    assert "fraction of synthetic negatives above it" in rows["C5", "(b)"].detail
    c4 = next(s for s in sections if s.key == "C4")
    mechanism = c4.tables[0].data.set_index(["variant", "statistic"])
    assert mechanism.at[("hncse", "pm/delta_sim_query"), "verdict"] == REPRODUCED
    assert "pm/delta_sim_negative" not in mechanism.index.get_level_values("statistic")
    assert sorted(mechanism["alpha"]) == [ALPHA / 2, ALPHA]  # Holm over the two variants
    assert {"simcse", "hncse-hnm"}.isdisjoint(mechanism.index.get_level_values("variant"))
    counts = c4.tables[1].data
    assert (counts["queries"] == 40 * 64).all() and counts["mixed"].between(40 * 13, 40 * 25).all()
    c3 = next(s for s in sections if s.key == "C3").tables[-1].data
    assert list(c3["family"].unique()) == [
        "the four ablation comparisons on STS avg",
        "the four ablation comparisons on Transfer avg",
    ]
    c2 = next(s for s in sections if s.key == "C2").tables[-1].data.set_index("task")
    assert len(c2) == 14 and c2["interval"].eq("paired t over seeds, Holm-corrected").all()
    stability = next(s for s in sections if s.key == "stability")
    assert [f.name for f in stability.figures] == ["dev_curves", "loss_curves"]


def test_holm_families_do_not_depend_on_other_tasks(tmp_path: Path) -> None:
    """C3's STS avg family is the same whether or not transfer tasks were evaluated, and
    the claim names the members it could not test."""
    write_results(tmp_path / "all", ablation_runs())
    runs = ablation_runs()
    for run in runs:
        run.tasks = tuple(task for task in SUBSETS)  # STS only
    write_results(tmp_path / "sts", runs)
    tables = {}
    for name in ("all", "sts"):
        sections = _analyse(tmp_path / name, {"ablation": {"analysis": "ablation"}})
        c3 = next(s for s in sections if s.key == "C3").tables[-1].data
        tables[name] = c3[c3["task"] == STS_AVG].reset_index(drop=True)
    pd.testing.assert_frame_equal(tables["all"], tables["sts"])
    row = next(r for r in verdicts(sections) if r.claim == "C3")
    assert "not evaluated (missing): hncse-pm − simcse · Transfer avg" in row.detail


def test_single_seed_gets_the_pair_bootstrap_and_no_verdict(tmp_path: Path) -> None:
    runs = ablation_runs(seeds=(1,))
    for run in runs:
        run.pairs = run.method != "hncse-pm"
    write_results(tmp_path, runs)
    sections = _analyse(tmp_path, {"ablation": {"analysis": "ablation"}})
    c1 = next(s for s in sections if s.key == "C1")
    assert any(p.startswith("Single-seed") for p in c1.paragraphs)
    assert "†" in c1.tables[0].text.to_string()
    assert _verdict(sections, "C1") == INCONCLUSIVE  # one seed: no seed-level inference
    c2 = next(s for s in sections if s.key == "C2").tables[-1].data.set_index("task")
    assert c2.at["STS-B", "interval"] == PAIR_BOOTSTRAP
    assert c2.at["MR", "interval"] == "none (one seed per method)"
    c3 = next(s for s in sections if s.key == "C3").tables[-1].data
    c3 = c3[c3["task"] == STS_AVG].set_index("comparison")
    assert c3.at["hncse-pm − simcse", "interval"] == "none (one seed per method)"
    assert c3.at["hncse-hnm − simcse", "interval"] == PAIR_BOOTSTRAP


def test_a_mechanism_that_never_acted_is_untestable(tmp_path: Path) -> None:
    """Real short runs: PM may never mix a query, so its deltas are NaN in every step."""
    write_results(tmp_path, [Run("hncse-pm", seed, mixes=False) for seed in (1, 2, 3)])
    sections = _analyse(tmp_path, {"ablation": {"analysis": "ablation"}})
    c4 = next(s for s in sections if s.key == "C4")
    assert _verdict(sections, "C4", "closer") == UNTESTABLE
    assert _verdict(sections, "C4", "farther") == BY_CONSTRUCTION
    assert c4.tables[0].data["verdict"].eq(UNTESTABLE).all()
    row = next(r for r in verdicts(sections) if r.claim == "C4")
    assert "PM mixed 0 of 7680 queries" in row.detail and "left out (no mixed query)" in (
        row.detail
    )


def test_a_smoke_study_with_one_task(tmp_path: Path) -> None:
    """The CI smoke study evaluates STS16 only: no STS avg, no transfer, no STS-B."""
    runs = ablation_runs(seeds=(1,))
    for run in runs:
        run.tasks = ("STS16",)
    write_results(tmp_path, runs)
    sections = _analyse(tmp_path, {"smoke": {"analysis": "ablation"}})
    assert not [s.error for s in sections if s.error]
    assert _verdict(sections, "C1") == NOT_EVALUATED  # STS-B was not evaluated
    c1 = next(s for s in sections if s.key == "C1")
    assert c1.figures == []  # no forest: STS-B is missing (levels: the sts table)
    c2 = next(s for s in sections if s.key == "C2")
    assert [f.name for f in c2.figures] == ["c2_forest"]  # the one member it can test
    assert "transfer" not in [t.name for t in c2.tables]  # no table of dashes only
    tests = c2.tables[-1].data.set_index("task")
    assert tests.at["STS16", "interval"] == PAIR_BOOTSTRAP
    assert tests.at["STS16", "ci_low"] > 0  # noise 0.6 vs 1.0: the bootstrap sees it


def test_every_analysis_reports_a_study_without_runs(tmp_path: Path) -> None:
    write_results(tmp_path, [Run("simcse", 1)])
    studies = {
        f"empty-{a}": {"analysis": a, "runs": {"method": "nothing"}} for a in analysis_names()
    }
    sections = _analyse(tmp_path, studies)
    assert not [s.error for s in sections if s.error]
    assert {s.study for s in sections} == set(studies)
    assert all(any("No runs yet" in p for p in s.paragraphs) for s in sections)
    words = {r.verdict for r in verdicts(sections) if (r.claim, r.part[:3]) != ("C4", "far")}
    assert words == {NOT_EVALUATED}  # only C4's second part is decided without data
    assert sorted({r.claim for r in verdicts(sections)}) == ["C1", "C2", "C3", "C4", "C5"]


def test_older_logs_leave_c5_not_evaluated(tmp_path: Path) -> None:
    write_results(
        tmp_path, [Run(m, seed, c5_logs=False) for m in ("hncse-hnm",) for seed in (1, 2, 3)]
    )
    sections = _analyse(tmp_path, {"ablation": {"analysis": "ablation"}})
    rows = [r for r in verdicts(sections) if r.claim == "C5"]
    assert [r.verdict for r in rows] == [NOT_EVALUATED, NOT_EVALUATED]
    assert "did not log hnm/gap_harder_parent, hnm/gap_hardest_single" in rows[0].detail


def test_an_empty_results_folder_is_not_an_error(tmp_path: Path) -> None:
    sections = run_studies(collect(tmp_path), load_studies(None), FAST)
    assert sections and not [s.error for s in sections if s.error]


def test_contexts_get_their_own_verdicts(tmp_path: Path) -> None:
    runs = []
    for size in (1000, 3000):
        for run in ablation_runs(seeds=(1, 2), noise={"simcse": 1.0, "hncse": 0.6}):
            run.settings = {"max_sentences": size}
            runs.append(run)
    write_results(tmp_path, runs)
    sections = _analyse(tmp_path, {"ablation": {"analysis": "ablation"}})
    rows = [r for r in verdicts(sections) if r.claim == "C1"]
    assert sorted(r.context for r in rows) == ["max_sentences=1000", "max_sentences=3000"]


def test_every_sweep_builds_tables_and_figures(tmp_path: Path) -> None:
    spec = write_study(tmp_path)
    sweeps = [s for s in load_studies(spec) if s.analysis != "ablation"]  # tested above
    sections = run_studies(collect(tmp_path), sweeps, FAST)
    assert not [s.error for s in sections if s.error]
    by_key = {s.key: s for s in sections if s.study != "not-run-yet"}
    for key in ("grid_km", "tau", "theta", "Q1", "Q2-scaling", "Q2-domain", "Q3"):
        assert by_key[key].tables and by_key[key].figures, key
    grid = by_key["grid_km"].tables[0].text
    assert grid.at["k=10", "m=40"].endswith("(n=3)") and grid.at["k=5", "m=20"] != "–"
    tables = {t.name: t.data for t in by_key["Q2-scaling"].tables}
    gains = tables["Q2-scaling_gains"]
    assert set(gains["max_sentences"]) == {1000, 3000} and (gains["seeds"] == 2).all()
    interaction = tables["Q2-scaling_gain_differences"]  # the question: does the gain change?
    assert interaction["comparison"].str.contains("max_sentences = 3000 − at 1000").all()
    assert (interaction["seeds"] == 2).all() and interaction["mde"].notna().all()
    correlations = by_key["Q3"].tables[1].data
    alignment = correlations[correlations["metric"] == "alignment"].set_index("corpus")
    assert len(alignment) > 1  # one correlation per corpus, never pooled
    largest = alignment.loc[alignment["runs"].idxmax()]
    assert largest["r_within"] < -0.5  # more noise: worse alignment
    assert largest["seeds"] >= 2  # runs sharing a seed: seed-centred


def test_study_spec_is_validated_with_named_errors(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"study 'x'.*analysis"):
        parse_studies({"x": {"analysis": "nonsense"}}, "spec.yaml")
    with pytest.raises(StudyError, match=r"study 'x'.*Extra inputs"):
        parse_studies({"x": {"analysis": "tau", "filter": {}}}, "spec.yaml")
    with pytest.raises(StudyError, match="grid_km sweeps 2 setting"):
        parse_studies({"x": {"analysis": "grid_km", "x": ["k"]}}, "spec.yaml")
    assert parse_studies({"x": {"analysis": "theta", "x": ["pm_w1"]}}, "s")[0].swept == ("pm_w1",)
    both = parse_studies({"a": {"analysis": "tau"}, "b": {"analysis": "beta"}}, "s")
    assert [s.name for s in select_studies(both, ["b"])] == ["b"]
    with pytest.raises(StudyError, match="unknown study c; the spec has a, b"):
        select_studies(both, ["c"])
    with pytest.raises(StudyError, match="not found"):
        load_studies(tmp_path / "missing.yaml")
    write_results(tmp_path, ablation_runs(seeds=(1,)))
    runs = collect(tmp_path).runs
    with pytest.raises(StudyError, match=r"unknown filter key 'kk'.*k, m"):
        select_runs(runs, parse_studies({"x": {"analysis": "tau", "runs": {"kk": 1}}}, "s")[0])


def test_study_filters(tmp_path: Path) -> None:
    write_results(
        tmp_path,
        [
            Run("simcse", 1, settings={"temperature": 0.05}),
            Run("simcse", 1, settings={"temperature": 0.1}),
            Run("hncse", 2, settings={"max_sentences": 1000}),
            Run("hncse", 3),
        ],
    )
    runs = collect(tmp_path).runs

    def pick(spec: object) -> list[str]:
        study = parse_studies({"s": {"analysis": "tau", "runs": spec}}, "t")[0]
        return sorted(select_runs(runs, study)["run"])

    assert len(pick({})) == 4
    assert pick({"temperature": 0.1}) == ["runs/minilm/simcse-temperature0.1/seed1"]
    assert len(pick({"method": ["simcse", "hncse"], "seed": [1, 3]})) == 3
    assert pick({"method": "hncse", "max_sentences": None}) == ["runs/minilm/hncse/seed3"]
    assert pick(["runs/minilm/hncse*/*"]) == [
        "runs/minilm/hncse-max_sentences1000/seed2",
        "runs/minilm/hncse/seed3",
    ]
    labelled = label_runs(runs, swept=("temperature",)).set_index("run")
    assert labelled.at["runs/minilm/simcse-temperature0.1/seed1", "variant"] == (
        "simcse (temperature=0.1)"
    )
    assert labelled.at["runs/minilm/simcse-temperature0.1/seed1", "series"] == "simcse"
    assert labelled.at["runs/minilm/hncse/seed3", "variant"] == "hncse (max_sentences=none)"
    assert ABLATION_NOISE["hncse"] < ABLATION_NOISE["simcse"]
