"""Statistics on simulated data with known answers: false-positive rate under the null,
power under a shift, Holm against a hand computation, bootstrap coverage, verdict rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from hncse.analysis.stats import (
    ALPHA,
    CONTRADICTED,
    NOT_REPRODUCED,
    NOT_TESTED,
    REPRODUCED,
    Interval,
    PairedScores,
    Ranking,
    batch_means_interval,
    combine,
    holm,
    paired_bootstrap,
    paired_seed_tests,
    resampled_spearman,
    verdict,
)


def _seed_frames(rng: np.random.Generator, n_seeds: int, n_tasks: int, shift: float,
                 noise: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores of two methods over seeds × tasks; a shared per-seed effect (same data
    order) makes the pairing matter; ``a`` is higher by ``shift``."""
    seed_effect = rng.normal(0, 2.0, size=(n_seeds, 1))
    b = 80 + seed_effect + rng.normal(0, noise, size=(n_seeds, n_tasks))
    a = 80 + shift + seed_effect + rng.normal(0, noise, size=(n_seeds, n_tasks))
    columns = [f"task{i}" for i in range(n_tasks)]
    return pd.DataFrame(a, columns=columns), pd.DataFrame(b, columns=columns)


def test_equal_methods_reject_at_the_nominal_rate() -> None:
    """2000 null datasets (8 seeds): the t-test rejects in ≈ 5%, Wilcoxon in ≤ 5%."""
    a, b = _seed_frames(np.random.default_rng(1), n_seeds=8, n_tasks=2000, shift=0.0)
    tests = paired_seed_tests(a, b)
    rate_t = (tests["p_t"] < ALPHA).mean()
    rate_w = (tests["p_wilcoxon"] < ALPHA).mean()
    # binomial sd at 2000 draws is 0.005: these bounds are 4 sd wide
    assert 0.03 <= rate_t <= 0.07, rate_t
    assert 0.015 <= rate_w <= 0.07, rate_w  # exact test: attainable level ≈ 0.04 at n = 8


def test_holm_controls_the_familywise_rate() -> None:
    """Under the null, Holm across 7 tasks rejects any task in ≤ α of the comparisons,
    while uncorrected tests reject far more often (1 − 0.95⁷ ≈ 0.30)."""
    rng = np.random.default_rng(2)
    any_holm, any_raw = [], []
    for _ in range(200):
        tests = paired_seed_tests(*_seed_frames(rng, n_seeds=6, n_tasks=7, shift=0.0))
        any_holm.append((tests["p_t_holm"] < ALPHA).any())
        any_raw.append((tests["p_t"] < ALPHA).any())
    assert np.mean(any_holm) <= 0.096  # α + 3 binomial sd at 200 draws
    assert np.mean(any_raw) >= 0.2  # 0.30 − 3 sd
    assert np.mean(any_holm) < np.mean(any_raw)


def test_a_shifted_method_is_detected() -> None:
    a, b = _seed_frames(np.random.default_rng(3), n_seeds=5, n_tasks=7, shift=1.5,
                        noise=0.3)
    tests = paired_seed_tests(a, b)
    assert (tests["p_t_holm"] < ALPHA).all()
    assert (tests["ci_low"] > 0).all() and (tests["ci_low"] < 1.5).all()
    assert (tests["ci_high"] > 1.5).sum() >= 5  # the intervals cover the true shift
    assert (tests["d_z"] > 1).all()  # true d_z = 1.5 / (0.3·√2) ≈ 3.5
    # with 5 seeds the exact Wilcoxon cannot go below 2/2⁵ = 0.0625
    assert tests["p_wilcoxon"].min() == pytest.approx(0.0625)


def test_holm_matches_a_hand_computation() -> None:
    """p = (0.01, 0.04, 0.03, 0.005): sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06,
    0.04·1 = 0.04 → monotone 0.06; a NaN task is left out of the count."""
    p = pd.Series([0.01, 0.04, np.nan, 0.03, 0.005], index=list("abcde"))
    expected = pd.Series([0.03, 0.06, np.nan, 0.06, 0.02], index=list("abcde"))
    pd.testing.assert_series_equal(holm(p), expected)


def test_seed_tests_are_holm_corrected_across_tasks() -> None:
    a, b = _seed_frames(np.random.default_rng(4), n_seeds=6, n_tasks=5, shift=0.8)
    tests = paired_seed_tests(a, b)
    raw = tests["p_t"].sort_values()
    manual = np.maximum.accumulate([min(1, p * (len(raw) - i)) for i, p in enumerate(raw)])
    np.testing.assert_allclose(tests.loc[raw.index, "p_t_holm"], manual)
    first = scipy_stats.ttest_rel(a["task0"], b["task0"])
    assert tests.at["task0", "p_t"] == pytest.approx(first.pvalue)


def test_single_seed_has_no_seed_test() -> None:
    a, b = _seed_frames(np.random.default_rng(5), n_seeds=1, n_tasks=3, shift=1.0)
    tests = paired_seed_tests(a, b)
    assert tests["p_t"].isna().all() and tests["p_wilcoxon"].isna().all()
    assert (tests["n"] == 1).all()


def _spearman_of_normal(rho: float) -> float:
    """Population Spearman of a bivariate normal with Pearson ρ: (6/π)·asin(ρ/2)."""
    return 6 / np.pi * np.arcsin(rho / 2)


def test_bootstrap_interval_covers_the_true_difference() -> None:
    """Scores = latent + noise: the population Spearman difference is known in closed
    form; the 95% interval must cover it in about 95% of 100 simulated test sets."""
    rng = np.random.default_rng(6)
    sd_a, sd_b, n = 0.6, 0.9, 250
    truth = 100 * (_spearman_of_normal(1 / np.sqrt(1 + sd_a**2))
                   - _spearman_of_normal(1 / np.sqrt(1 + sd_b**2)))
    covered = []
    for _ in range(100):
        latent = rng.normal(size=n)
        scores = PairedScores(latent, (latent + sd_a * rng.normal(size=n))[None],
                              (latent + sd_b * rng.normal(size=n))[None])
        interval = paired_bootstrap(scores, n_resamples=300, rng=rng)
        covered.append(interval.low <= truth <= interval.high)
    assert 0.88 <= np.mean(covered) <= 1.0, np.mean(covered)  # 0.95 ± 3 binomial sd


def test_bootstrap_estimate_is_the_observed_spearman_difference() -> None:
    rng = np.random.default_rng(7)
    gold = np.round(rng.uniform(0, 5, 200), 1)  # ties, as in real gold scores
    a = gold + rng.normal(0, 1, (2, 200))
    b = gold + rng.normal(0, 1.5, (2, 200))
    interval = paired_bootstrap(PairedScores(gold, a, b), n_resamples=200, rng=rng)
    expected = 100 * np.mean([scipy_stats.spearmanr(a[i], gold).statistic
                              - scipy_stats.spearmanr(b[i], gold).statistic for i in (0, 1)])
    assert interval.estimate == pytest.approx(expected)
    assert interval.low < expected < interval.high
    assert interval.method.endswith("and seeds") and interval.n_seeds == 2


def test_resampled_spearman_equals_ranking_the_resample() -> None:
    """The O(n) weighted-rank Spearman of a resample equals scipy's on the explicit
    resample, ties included (gold scores repeat; cosine NaN → 0 repeats too)."""
    rng = np.random.default_rng(10)
    gold = np.round(rng.uniform(0, 5, 400), 1)
    scores = gold + rng.normal(0, 1, 400)
    scores[:30] = 0.0
    counts = rng.multinomial(400, np.full(400, 1 / 400), size=6)
    fast = resampled_spearman(counts.astype(float), Ranking.of(scores),
                              Ranking.of(gold).centred_ranks(counts.astype(float)))
    for row, value in zip(counts, fast, strict=True):
        expected = scipy_stats.spearmanr(np.repeat(scores, row), np.repeat(gold, row))
        assert value == pytest.approx(expected.statistic, abs=1e-12)


def test_identical_models_give_an_interval_at_zero() -> None:
    rng = np.random.default_rng(8)
    gold = rng.normal(size=100)
    a = (gold + rng.normal(size=100))[None]
    interval = paired_bootstrap(PairedScores(gold, a, a.copy()), n_resamples=200, rng=rng)
    assert (interval.estimate, interval.low, interval.high) == (0.0, 0.0, 0.0)
    assert verdict(interval) == NOT_REPRODUCED


@pytest.mark.parametrize(("low", "high", "direction", "expected"), [
    (0.1, 2.0, 1, REPRODUCED), (-2.0, -0.1, 1, CONTRADICTED), (-1.0, 1.0, 1, NOT_REPRODUCED),
    (-2.0, -0.1, -1, REPRODUCED), (0.1, 2.0, -1, CONTRADICTED), (0.0, 1.0, 1, NOT_REPRODUCED),
])
def test_verdict_rules(low: float, high: float, direction: int, expected: str) -> None:
    interval = Interval((low + high) / 2, low, high, "test", 3)
    assert verdict(interval, direction) == expected


def test_verdicts_combine_part_by_part() -> None:
    assert verdict(None) == NOT_TESTED
    assert combine([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert combine([REPRODUCED, NOT_REPRODUCED]) == NOT_REPRODUCED
    assert combine([REPRODUCED, CONTRADICTED]) == CONTRADICTED
    assert combine([REPRODUCED, NOT_TESTED]) == NOT_REPRODUCED
    assert combine([NOT_TESTED]) == combine([]) == NOT_TESTED


def test_batch_means_widen_the_interval_of_an_autocorrelated_series() -> None:
    """AR(1) with φ = 0.9 around 0.5: batch means cover the mean; a naive iid interval
    would be about √((1+φ)/(1−φ)) ≈ 4× too narrow."""
    rng = np.random.default_rng(9)
    series = np.empty(4000)
    series[0] = 0.5
    for t in range(1, len(series)):
        series[t] = 0.5 + 0.9 * (series[t - 1] - 0.5) + rng.normal(0, 0.1)
    interval = batch_means_interval(series)
    naive = scipy_stats.sem(series) * 1.96
    assert interval is not None and interval.low < 0.5 < interval.high
    assert (interval.high - interval.low) / 2 > 2.5 * naive
