"""The statistics of docs/study.md, two sources of uncertainty kept apart.

- Seed level (training randomness): a method-vs-method comparison over seeds is inferred
  from the seed-paired differences d (same seed, same data order): the paired t test and
  its interval (``scipy.stats.ttest_1samp`` on d), Wilcoxon signed-rank as the second test
  (``scipy.stats.wilcoxon``; with n ≤ 5 its smallest two-sided p is 2/2ⁿ ≥ 0.0625, so it
  cannot reject at 0.05), the effect size d_z = mean(d)/sd(d) with its interval from the
  noncentral t (``scipy.stats.nct``; none below 3 seeds), and the minimum detectable effect
  at 80% power (``statsmodels.stats.power.TTestPower``). Seeds are never resampled: with
  3–5 seeds a percentile bootstrap over them collapses to about their range (≈ 75–80%
  coverage for a stated 95%; tests/test_analysis_coverage.py).
- Multiplicity: Holm over a claim's declared family
  (``statsmodels.stats.multitest.multipletests``). The corrected interval of a member is
  its t interval at the level 1 − α·p/p_Holm (:func:`holm_levels`): it excludes 0 exactly
  when the Holm-adjusted p is below α, so interval and verdict always agree.
- Test-set level (two single models, one seed each): the paired bootstrap over the test
  pairs of ρ(gold, a) − ρ(gold, b) (``scipy.stats.bootstrap``, percentile interval).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

from hncse.analysis.verdicts import ALPHA, POWER

CONFIDENCE = 1 - ALPHA
SEED_T = "paired t over seeds"
PAIR_BOOTSTRAP = "paired bootstrap over test pairs (one seed per method; uncorrected)"


def format_effect(value: float, scale: float | None = None, sign: str = "+") -> str:
    """Two decimals, as Spearman points are printed; where everything shown beside it
    (``scale``: the largest magnitude) is below 0.1, as mechanism similarities are, three
    decimals or two significant digits instead of a bare 0.00."""
    scale = abs(value) if scale is None else scale
    if scale >= 0.1 or value == 0:
        return f"{value:{sign}.2f}"
    return f"{value:{sign}.3f}" if scale >= 0.01 else f"{value:{sign}.2g}"


def format_interval(estimate: float, low: float, high: float) -> str:
    """'+0.18 [-0.05, +0.41]': the three numbers at the precision the largest one needs."""
    scale = max(abs(estimate), abs(low), abs(high))
    return (
        f"{format_effect(estimate, scale)} "
        f"[{format_effect(low, scale)}, {format_effect(high, scale)}]"
    )


@dataclass(frozen=True)
class Interval:
    """A point estimate with an interval, how the interval was made and on how many
    independent units (seeds or runs)."""

    estimate: float
    low: float
    high: float
    method: str
    n: int
    unit: str = "seeds"

    def __str__(self) -> str:
        return format_interval(self.estimate, self.low, self.high)


@dataclass(frozen=True)
class SeedTest:
    """Inference over n seed-paired differences: their mean and sd, the uncorrected 95% t
    interval, the t and Wilcoxon p-values, d_z with its 95% interval (NaN below 3), and the
    minimum detectable effect (80% power, α 0.05, two-sided; NaN below 2)."""

    n: int
    mean: float
    sd: float
    low: float
    high: float
    p_t: float
    p_wilcoxon: float
    d_z: float
    d_z_low: float
    d_z_high: float
    mde: float

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """The t interval of the mean difference at ``confidence`` (a point when every
        seed gave the same difference)."""
        if self.n >= 2 and self.sd == 0:
            return self.mean, self.mean
        low, high = t_interval(self.mean, self.sd, self.n, confidence)
        return float(low), float(high)


def t_interval(
    mean: float | np.ndarray, sd: float | np.ndarray, n: int, confidence: float = CONFIDENCE
) -> tuple[Any, Any]:
    """Student t interval of a mean from its sample sd and n (``scipy.stats.t``); NaN below
    2 values. Vectorised over ``mean`` and ``sd`` (studies sharing n)."""
    if n < 2:
        return np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    return stats.t.interval(confidence, n - 1, loc=mean, scale=np.asarray(sd) / math.sqrt(n))


def d_z_interval(differences: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of the standardised mean difference d_z by inverting the noncentral t
    distribution of t = d_z·√n (Steiger & Fouladi 1997); NaN below 3 differences."""
    n = len(differences)
    sd = differences.std(ddof=1) if n >= 2 else 0.0
    if n < 3 or sd == 0:
        return math.nan, math.nan
    t_observed = differences.mean() / sd * math.sqrt(n)
    tail = (1 - confidence) / 2

    def gap(delta: float, quantile: float) -> float:
        cdf = stats.nct.cdf(t_observed, n - 1, delta)
        if np.isnan(cdf):  # far tails underflow: the cdf is 0 above t, 1 below it
            cdf = 0.0 if delta > t_observed else 1.0
        return cdf - quantile

    def noncentrality(quantile: float) -> float:
        width = 2.0  # widen the bracket until it holds the root (cdf falls as δ grows)
        while gap(t_observed - width, quantile) < 0 or gap(t_observed + width, quantile) > 0:
            width *= 2
        return optimize.brentq(gap, t_observed - width, t_observed + width, args=(quantile,))

    return noncentrality(1 - tail) / math.sqrt(n), noncentrality(tail) / math.sqrt(n)


def minimum_detectable_effect(sd: float, n: int, alpha: float = ALPHA) -> float:
    """Smallest true mean difference a two-sided paired t test over n seeds detects with
    80% power at ``alpha`` (a member's Holm level), given the seed sd of the differences;
    NaN below 2 seeds."""
    if n < 2 or not np.isfinite(sd) or not np.isfinite(alpha):
        return math.nan
    return _detectable_d_z(n, round(alpha, 12)) * sd


@functools.cache
def _detectable_d_z(n: int, alpha: float) -> float:
    """The standardised effect detectable with 80% power at ``alpha`` over n pairs."""
    return float(TTestPower().solve_power(nobs=n, alpha=alpha, power=POWER))


def seeds_needed(effect: float, sd: float, alpha: float = ALPHA, most: int = 10_000) -> float:
    """Seeds a two-sided paired t test needs to detect ``effect`` with 80% power at
    ``alpha``, given the seed sd of the differences (NaN when sd or α is unknown; 2 when sd
    is 0)."""
    if not np.isfinite(sd) or not np.isfinite(alpha) or effect == 0:
        return math.nan
    if sd == 0:
        return 2.0
    power = TTestPower()
    size = abs(effect) / sd
    if power.power(effect_size=size, nobs=2, alpha=alpha) >= POWER:  # NaN: not enough
        return 2.0
    for n in range(3, 101):
        achieved = power.power(effect_size=size, nobs=n, alpha=alpha)
        if np.isnan(achieved) or achieved >= POWER:  # NaN: nct underflows as power → 1
            return float(n)
    n = power.solve_power(effect_size=size, alpha=alpha, power=POWER)
    return float(math.ceil(n)) if np.isfinite(n) else float(most)


def seed_test(differences: np.ndarray) -> SeedTest:
    """All seed-level inference on the seed-paired differences (NaN entries dropped)."""
    d = np.asarray(differences, float)
    d = d[~np.isnan(d)]
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n >= 2 else math.nan
    p_t = p_wilcoxon = d_z = math.nan
    if n >= 2:
        if sd > 0:
            p_t = float(stats.ttest_1samp(d, 0.0).pvalue)
            d_z = mean / sd
        else:  # identical differences on every seed: no spread to test against
            p_t = 1.0 if mean == 0 else 0.0
        p_wilcoxon = 1.0 if not d.any() else float(stats.wilcoxon(d).pvalue)
    d_low, d_high = d_z_interval(d)
    test = SeedTest(
        n,
        mean,
        sd,
        math.nan,
        math.nan,
        p_t,
        p_wilcoxon,
        d_z if n >= 3 else math.nan,
        d_low,
        d_high,
        minimum_detectable_effect(sd, n),
    )
    low, high = test.interval()
    return dataclasses.replace(test, low=low, high=high)


def holm(pvalues: pd.Series) -> pd.Series:
    """Holm step-down adjusted p-values; NaN entries (untested members) stay NaN and do
    not count towards the number of tests."""
    adjusted = pd.Series(np.nan, index=pvalues.index)
    present = pvalues.dropna()
    if not present.empty:
        # multipletests' Holm branch calls gc.collect(), which walks the whole heap (0.1-0.2 s
        # a call in a process holding pandas, scipy and matplotlib); frozen objects are skipped
        gc.freeze()
        try:
            adjusted[present.index] = multipletests(present.to_numpy(), alpha=ALPHA, method="holm")[
                1
            ]
        finally:
            gc.unfreeze()
    return adjusted


def holm_alphas(pvalues: pd.Series) -> pd.Series:
    """Each member's α under Holm, α·p/p_Holm: the level its verdict uses (the step-down's
    multiplier for the j-th smallest of m p-values is at least m − j + 1, more when an
    earlier step carries over). NaN where untested."""
    present = pvalues.dropna()
    adjusted = holm(present)
    steps = len(present) - present.rank(method="first") + 1
    multiplier = (adjusted / present).where(present > 0, steps)
    return (ALPHA / multiplier).reindex(pvalues.index)


def holm_levels(pvalues: pd.Series) -> pd.Series:
    """Each member's confidence level under Holm, 1 − α·p/p_Holm: its t interval at that
    level excludes 0 exactly when the Holm-adjusted p is below α. NaN where untested."""
    return 1 - holm_alphas(pvalues)


def spearman_rows(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman correlation along ``axis`` (``y`` broadcasts against ``x``; average ranks
    for ties, as ``scipy.stats.spearmanr``)."""
    x, y = np.broadcast_arrays(x, y)
    rx = stats.rankdata(x, axis=axis)
    ry = stats.rankdata(y, axis=axis)
    rx -= rx.mean(axis=axis, keepdims=True)
    ry -= ry.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis) / np.sqrt((rx * rx).sum(axis) * (ry * ry).sum(axis))


def spearman_difference(
    gold: np.ndarray, a: np.ndarray, b: np.ndarray, axis: int = -1
) -> np.ndarray:
    """ρ(gold, a) − ρ(gold, b) in Spearman points ×100."""
    return 100 * (spearman_rows(a, gold, axis) - spearman_rows(b, gold, axis))


@dataclass(frozen=True)
class PairBootstrap:
    """The paired bootstrap over test pairs of one test set: the observed difference and
    its replicates (kept so that averages over independent test sets can be formed)."""

    estimate: float
    replicates: np.ndarray

    def interval(self) -> Interval:
        tail = 100 * ALPHA / 2
        low, high = np.nanpercentile(self.replicates, [tail, 100 - tail])
        return Interval(self.estimate, float(low), float(high), PAIR_BOOTSTRAP, 1)

    @classmethod
    def mean_of(cls, parts: list[PairBootstrap]) -> PairBootstrap:
        """The average over independent test sets (e.g. STS avg over its seven tasks)."""
        return cls(
            float(np.mean([p.estimate for p in parts])),
            np.mean([p.replicates for p in parts], axis=0),
        )


def pair_bootstrap(
    gold: np.ndarray, a: np.ndarray, b: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> PairBootstrap:
    """Resample the test pairs with replacement (the same pairs for both models) and
    recompute ρ(gold, a) − ρ(gold, b) ×100 (``scipy.stats.bootstrap``, paired)."""
    result = stats.bootstrap(
        (gold, a, b),
        spearman_difference,
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        method="percentile",
        confidence_level=CONFIDENCE,
        random_state=rng,
        batch=200,
    )
    return PairBootstrap(float(spearman_difference(gold, a, b)), result.bootstrap_distribution)


#: what every seed-level interval is conditional on, and the interval that is not
CONDITIONAL_ON = "the benchmark's fixed test sets"
TWO_WAY = "seeds and test pairs (bootstrap over test pairs jointly for all runs)"
Statistic = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def resampled_test_set_means(
    gold: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    statistic: Statistic = spearman_difference,
) -> np.ndarray:
    """Replicates of the seed-mean difference mean_s statistic(gold, a_s, b_s) with the test
    pairs resampled jointly for every run (``a``, ``b``: seeds × pairs, same pairs): the
    test-set sampling of the difference a study reports, its seeds held fixed."""
    pairs = len(gold)
    replicates = []
    for start in range(0, n_resamples, 50):  # chunks keep seeds × 50 × pairs in memory
        rows = rng.integers(0, pairs, (min(50, n_resamples - start), pairs))
        replicates.append(statistic(gold[rows], a[:, rows], b[:, rows]).mean(axis=0))
    return np.concatenate(replicates)


def two_way_interval(
    differences: np.ndarray, replicates: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The interval of the population difference (over seeds and test sets): the seed
    variance of the mean, s²/n, plus the test-set variance of the seed-mean difference
    (``replicates`` of :func:`resampled_test_set_means`), with Satterthwaite's degrees of freedom
    (the test-set part counts as known); NaN below 2 seeds."""
    d = np.asarray(differences, float)
    n = len(d)
    if n < 2 or len(replicates) < 2:
        return math.nan, math.nan
    seed_part = d.var(ddof=1) / n
    total = seed_part + float(np.var(replicates, ddof=1))
    if total == 0:
        return float(d.mean()), float(d.mean())
    df = math.inf if seed_part == 0 else total**2 * (n - 1) / seed_part**2
    half = stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(total)
    return float(d.mean() - half), float(d.mean() + half)


#: ASO's settings, deepsig's defaults (``deepsig.aso``): bootstrap iterations, the step of
#: the integral over quantiles, the confidence of ε_min
ASO_ITERATIONS, ASO_DT, ASO_CONFIDENCE = 1000, 0.005, 0.95


def _quantiles(scores: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The empirical quantile function at ``p`` (any shape), row-wise over ``scores``
    (..., n): the ⌈n·p⌉-th smallest value, as deepsig computes it."""
    n = scores.shape[-1]
    index = np.clip(np.ceil(n * p).astype(int) - 1, 0, n - 1)
    rows = np.broadcast_shapes(scores.shape[:-1], p.shape[:-1])
    ordered = np.broadcast_to(np.sort(scores, axis=-1), (*rows, n))
    return np.take_along_axis(ordered, np.broadcast_to(index, (*rows, p.shape[-1])), axis=-1)


def _violation_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ε_W2 of Dror et al. (2019), eq. 4–5, row-wise: the share of the squared Wasserstein
    distance between the quantile functions where a's quantile is below b's (0.5 where
    the distance is 0)."""
    t = np.arange(ASO_DT, 1, ASO_DT)
    grid = np.broadcast_to(t, (*a.shape[:-1], len(t)))
    gap = _quantiles(b, grid) - _quantiles(a, grid)
    distance = (gap**2 * ASO_DT).sum(axis=-1)
    violated = np.where(gap > 0, gap, 0.0)[..., 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (violated**2 * ASO_DT).sum(axis=-1) / distance
    return np.where(distance == 0, 0.5, ratio)


def almost_stochastic_order(a: np.ndarray, b: np.ndarray, seed: int = 0) -> float:
    """ε_min of almost stochastic order (Dror et al. 2019) of the per-seed scores ``a`` over
    ``b``: near 0 when a is stochastically larger, near 1 when b is; a is called better
    below 0.5. NaN below 2 seeds on either side. The algorithm and random stream of
    ``deepsig.aso(a, b, seed=seed)``, vectorised over its bootstrap (deepsig loops in
    Python: 2 s a comparison; tests/test_analysis_stats.py checks the two agree)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if min(len(a), len(b)) < 2:
        return math.nan
    draws = np.array(
        [
            np.random.RandomState(seed + i).uniform(0, 1, len(a) + len(b))
            for i in range(1, ASO_ITERATIONS + 1)
        ]
    )
    samples = _violation_ratio(_quantiles(a, draws[:, : len(a)]), _quantiles(b, draws[:, len(a) :]))
    observed = float(_violation_ratio(a, b))
    const = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    sigma = float(np.std(const * (samples - observed)))
    bound = observed - sigma / const * stats.norm.ppf(1 - ASO_CONFIDENCE)
    return float(np.clip(bound, 0, 1))
