"""Statistics on simulated data with known answers: false-positive rate under the null,
power and MDE against statsmodels/scipy, Holm against a hand computation, the verdict
words (coverage is in test_analysis_coverage.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from hncse.analysis.stats import (
    almost_stochastic_order,
    holm,
    holm_levels,
    minimum_detectable_effect,
    pair_bootstrap,
    seed_test,
    seeds_needed,
    t_interval,
    two_way_interval,
)
from hncse.analysis.verdicts import (
    ALPHA,
    CONSISTENT,
    CONTRADICTED,
    INCONCLUSIVE,
    NO_SIZE,
    NOT_COMPARABLE,
    NOT_EVALUATED,
    NOT_REPRODUCED,
    REPRODUCED,
    UNTESTABLE,
    Evidence,
    combine,
    decide,
    decide_size,
)


def test_equal_methods_reject_at_the_nominal_rate() -> None:
    """1000 null studies of 8 seeds: the t test rejects in ≈ 5%, Wilcoxon in ≤ 5%."""
    rng = np.random.default_rng(1)
    tests = [seed_test(rng.normal(0, 1, 8)) for _ in range(1000)]
    rate_t = np.mean([t.p_t < ALPHA for t in tests])
    rate_w = np.mean([t.p_wilcoxon < ALPHA for t in tests])
    assert 0.03 <= rate_t <= 0.07, rate_t  # binomial sd 0.007: 3 sd wide
    assert 0.015 <= rate_w <= 0.07, rate_w  # exact test: attainable level ≈ 0.04 at n = 8


def test_seed_test_matches_scipy() -> None:
    d = np.array([0.3, 0.1, 0.25, 0.4, 0.05])
    test = seed_test(d)
    reference = scipy_stats.ttest_1samp(d, 0.0)
    ci = reference.confidence_interval(0.95)
    assert test.p_t == pytest.approx(reference.pvalue)
    assert (test.low, test.high) == pytest.approx((ci.low, ci.high))
    assert test.p_wilcoxon == pytest.approx(scipy_stats.wilcoxon(d).pvalue) == 0.0625
    assert test.d_z == pytest.approx(d.mean() / d.std(ddof=1))
    assert test.d_z_low < test.d_z < test.d_z_high
    assert test.n == 5


def test_small_n_has_no_effect_size_and_one_seed_no_test() -> None:
    two = seed_test(np.array([0.2, 0.4]))
    assert math.isnan(two.d_z) and math.isnan(two.d_z_low) and not math.isnan(two.p_t)
    one = seed_test(np.array([0.3]))
    assert math.isnan(one.p_t) and math.isnan(one.low) and math.isnan(one.mde)
    assert one.n == 1 and one.mean == 0.3


def test_minimum_detectable_effect_has_80_percent_power() -> None:
    """At the MDE, the paired t test over n seeds rejects in 80% of simulated studies."""
    rng = np.random.default_rng(3)
    sd, n = 0.3, 5
    mde = minimum_detectable_effect(sd, n)
    d = rng.normal(mde, sd, size=(4000, n))
    power = np.mean(scipy_stats.ttest_1samp(d, 0.0, axis=1).pvalue < ALPHA)
    assert 0.77 <= power <= 0.83, power


def test_seeds_needed_reach_the_power() -> None:
    sd, effect = 0.5, 0.6
    n = int(seeds_needed(effect, sd))
    assert minimum_detectable_effect(sd, n) <= effect < minimum_detectable_effect(sd, n - 1)
    assert seeds_needed(1.2, 0.3) == 3  # the paper's C1 effect at the default seed sd
    assert math.isnan(seeds_needed(1.2, math.nan))


def test_holm_matches_a_hand_computation() -> None:
    """p = (0.01, 0.04, 0.03, 0.005): sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06,
    0.04·1 = 0.04 → monotone 0.06; a NaN member is left out of the count."""
    p = pd.Series([0.01, 0.04, np.nan, 0.03, 0.005], index=list("abcde"))
    expected = pd.Series([0.03, 0.06, np.nan, 0.06, 0.02], index=list("abcde"))
    pd.testing.assert_series_equal(holm(p), expected)
    # Holm's level 1 − α·p/p_Holm: e at 1 − α/4; b's step (×1) carries d's 0.06 over
    levels = holm_levels(p)
    assert levels["e"] == pytest.approx(1 - 0.05 / 4)
    assert levels["b"] == pytest.approx(1 - 0.05 / 1.5) and np.isnan(levels["c"])


def test_corrected_intervals_agree_with_holm() -> None:
    """The interval at each member's Holm level excludes 0 exactly when p_Holm < α."""
    rng = np.random.default_rng(8)
    for _ in range(150):  # small families of borderline effects: Holm's carry-over happens
        tests = [seed_test(rng.normal(rng.uniform(0.6, 1.4), 1, 5)) for _ in range(2)]
        p = pd.Series([t.p_t for t in tests])
        adjusted, levels = holm(p), holm_levels(p)
        for test, p_holm, level in zip(tests, adjusted, levels, strict=True):
            low, high = test.interval(level)
            assert (low > 0 or high < 0) == (p_holm < ALPHA)


def test_holm_controls_the_familywise_rate() -> None:
    """Under the null, Holm over 7 members rejects any in ≤ α of the families, while
    uncorrected tests reject far more often (1 − 0.95⁷ ≈ 0.30)."""
    rng = np.random.default_rng(2)
    any_holm, any_raw = [], []
    for _ in range(300):
        p = pd.Series(scipy_stats.ttest_1samp(rng.normal(0, 1, (7, 6)), 0.0, axis=1).pvalue)
        any_holm.append((holm(p) < ALPHA).any())
        any_raw.append((p < ALPHA).any())
    assert np.mean(any_holm) <= 0.088  # α + 3 binomial sd at 300 draws
    assert np.mean(any_raw) >= 0.22


def test_pair_bootstrap_estimate_is_the_observed_spearman_difference() -> None:
    rng = np.random.default_rng(4)
    gold = rng.normal(size=200)
    a, b = gold + 0.5 * rng.normal(size=200), gold + rng.normal(size=200)
    result = pair_bootstrap(gold, a, b, 200, rng)
    expected = 100 * (
        scipy_stats.spearmanr(gold, a).statistic - scipy_stats.spearmanr(gold, b).statistic
    )
    interval = result.interval()
    assert interval.estimate == pytest.approx(expected)
    assert interval.low < expected < interval.high and interval.n == 1


def _evidence(
    estimate: float,
    low: float,
    high: float,
    p: float,
    mde: float = 0.3,
    effect: float | None = None,
) -> Evidence:
    return Evidence(estimate, low, high, p, mde, effect)


@pytest.mark.parametrize(
    ("evidence", "direction", "acted", "expected"),
    [
        (_evidence(0.5, 0.2, 0.8, 0.01), 1, True, REPRODUCED),
        (_evidence(-0.5, -0.8, -0.2, 0.01), 1, True, CONTRADICTED),
        (_evidence(-0.5, -0.8, -0.2, 0.01), -1, True, REPRODUCED),
        (_evidence(0.1, -0.2, 0.4, 0.4, 0.35, 1.2), 1, True, INCONCLUSIVE),  # size apart
        (_evidence(0.1, -0.2, 0.4, 0.4), 1, True, INCONCLUSIVE),
        (_evidence(0.5, 0.2, 0.8, 0.01), 1, False, UNTESTABLE),
        (None, 1, True, NOT_EVALUATED),
    ],
)
def test_direction_words(
    evidence: Evidence | None, direction: int, acted: bool, expected: str
) -> None:
    assert decide(evidence, direction, acted) == expected


@pytest.mark.parametrize(
    ("evidence", "paper_setting", "expected"),
    [
        (_evidence(0.1, -0.2, 0.4, 0.4, 0.35, 1.2), True, NOT_REPRODUCED),
        (_evidence(0.3, 0.2, 0.4, 0.001, 0.09, 1.2), True, NOT_REPRODUCED),  # reproduced, smaller
        (_evidence(0.1, -0.2, 0.4, 0.4, 1.5, 1.2), True, INCONCLUSIVE),  # no power
        (_evidence(1.0, 0.5, 1.5, 0.01, 0.35, 1.2), True, CONSISTENT),
        (_evidence(0.1, -0.2, 0.4, 0.4, 0.35, 1.2), False, NOT_COMPARABLE),  # a proxy
        (_evidence(1.0, 0.5, 1.5, 0.01, 0.35, 1.2), False, NOT_COMPARABLE),
        (_evidence(0.1, -0.2, 0.4, 0.4), True, NO_SIZE),  # the paper states no effect
        (None, True, NOT_EVALUATED),
    ],
)
def test_size_words(evidence: Evidence | None, paper_setting: bool, expected: str) -> None:
    assert decide_size(evidence, paper_setting) == expected


def test_a_claim_is_as_weak_as_its_weakest_part() -> None:
    assert combine([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert combine([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([REPRODUCED, UNTESTABLE, INCONCLUSIVE]) == UNTESTABLE
    assert combine([INCONCLUSIVE, CONTRADICTED]) == CONTRADICTED
    assert combine([REPRODUCED, NOT_EVALUATED]) == REPRODUCED
    assert combine([NOT_EVALUATED]) == combine([]) == NOT_EVALUATED


@pytest.mark.parametrize(
    ("n_a", "n_b", "shift"), [(7, 7, 0.5), (3, 3, 0.0), (5, 7, -0.3), (10, 4, 1.5)]
)
def test_almost_stochastic_order_is_deepsigs(n_a: int, n_b: int, shift: float) -> None:
    """The vectorised ε_min equals deepsig's own (same algorithm, same random stream)."""
    deepsig = pytest.importorskip("deepsig")
    rng = np.random.default_rng([n_a, n_b])
    a, b = rng.normal(shift, 1, n_a), rng.normal(0, 1, n_b)
    expected = deepsig.aso(a, b, seed=3, show_progress=False)
    assert almost_stochastic_order(a, b, seed=3) == pytest.approx(expected, abs=1e-12)


def test_almost_stochastic_order_reads_the_direction() -> None:
    better, worse = np.array([82.0, 82.4, 82.9, 83.1, 83.5]), np.array([80.1, 80.5, 80.8, 81.0])
    assert almost_stochastic_order(better, worse) == 0.0
    assert almost_stochastic_order(worse, better) > 0.99
    assert math.isnan(almost_stochastic_order(better[:1], worse))


def test_mde_and_seeds_needed_grow_as_holms_alpha_shrinks() -> None:
    assert minimum_detectable_effect(1.0, 7, ALPHA / 14) > minimum_detectable_effect(1.0, 7)
    assert seeds_needed(1.2, 1.0, ALPHA / 14) > seeds_needed(1.2, 1.0)


def test_two_way_interval_adds_the_test_set_variance() -> None:
    """Seed differences that exclude 0 on their own; a test-set sd of the seed-mean
    difference as large as the seed SE widens the interval over 0 (a verdict that holds
    only conditionally), and a negligible one leaves the t interval as it is."""
    d = np.array([0.20, 0.26, 0.31, 0.18, 0.24, 0.29, 0.22])
    low, high = t_interval(d.mean(), d.std(ddof=1), len(d))
    rng = np.random.default_rng(0)
    wide = two_way_interval(d, rng.normal(d.mean(), 0.2, 5000))
    assert low > 0 and wide[0] < 0 < wide[1]
    same = two_way_interval(d, rng.normal(d.mean(), 1e-9, 5000))
    assert same == pytest.approx((low, high), abs=1e-6)
    assert all(math.isnan(v) for v in two_way_interval(d[:1], rng.normal(0, 1, 10)))
