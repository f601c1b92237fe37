"""The statistics of docs/study.md: paired tests over seeds with Holm correction, effect sizes,
the paired bootstrap over test pairs, intervals for training statistics, and verdicts.

- Seeds: method and baseline runs are paired by seed (same seed, same data order).
  Per task: paired t-test (``scipy.stats.ttest_rel``, with its 95% interval of the mean
  difference) and Wilcoxon signed-rank (``scipy.stats.wilcoxon``, exact for small n; note
  that with n ≤ 5 seeds its smallest two-sided p is 2/2ⁿ ≥ 0.0625, so it cannot reject at
  α = 0.05). The p-values of one comparison are Holm-corrected across its tasks
  (``statsmodels.stats.multitest.multipletests(method="holm")``). Effect size: Cohen's
  d_z = mean(d) / sd(d) of the paired differences d.
- Pairs: the difference in Spearman (×100) between two models scored on the same test
  pairs, ``ρ(gold, a) − ρ(gold, b)``, resampled with replacement B times (percentile 95%
  interval, Efron & Tibshirani 1993). With several seeds each replicate also resamples the
  matched seed pairs (a two-level bootstrap), so the interval carries seed variance as
  well as test-set variance; with one seed it is the plain paired bootstrap. A resample is
  held as item counts and ranked from one presort (:class:`Ranking`), exactly as
  ``rankdata`` would rank it, in O(n) instead of O(n log n) per replicate.
- Training statistics are autocorrelated over steps: their interval is a t-interval over
  runs (seeds) when there are several, else over ~20 contiguous batch means of the one run
  (the batch-means method).
"""

from __future__ import annotations

import gc
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05
CONFIDENCE = 0.95
Verdict = Literal["reproduced", "not reproduced at this scale", "contradicted", "not tested"]
REPRODUCED: Verdict = "reproduced"
NOT_REPRODUCED: Verdict = "not reproduced at this scale"
CONTRADICTED: Verdict = "contradicted"
NOT_TESTED: Verdict = "not tested"


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% interval, how it was obtained and on how many seeds."""

    estimate: float
    low: float
    high: float
    method: str
    n_seeds: int

    def __str__(self) -> str:
        return f"{self.estimate:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"


def holm(pvalues: pd.Series) -> pd.Series:
    """Holm step-down adjusted p-values; NaN entries (untestable tasks) stay NaN and do not
    count towards the number of tests."""
    adjusted = pd.Series(np.nan, index=pvalues.index)
    present = pvalues.dropna()
    if not present.empty:
        # multipletests' Holm branch calls gc.collect(), which walks the whole heap (0.1-0.2 s
        # a call in a process holding pandas, scipy and matplotlib); frozen objects are skipped
        gc.freeze()
        try:
            adjusted[present.index] = multipletests(present.to_numpy(), alpha=ALPHA,
                                                    method="holm")[1]
        finally:
            gc.unfreeze()
    return adjusted


def paired_seed_tests(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Per column (task) of two seed-indexed frames: the paired tests of ``a − b`` over the
    seeds both have a value for, then Holm across the tasks.

    Columns: n, mean_diff, sd_diff, d_z, ci_low, ci_high (t-based 95%), t, p_t,
    p_wilcoxon, p_t_holm, p_wilcoxon_holm. Fewer than 2 seeds: NaN tests. All tasks are
    tested in one vectorised call (``nan_policy="omit"`` drops a task's missing seeds).
    """
    tasks = a.columns.intersection(b.columns, sort=False)
    seeds = a.index.intersection(b.index, sort=False)
    if tasks.empty:
        return pd.DataFrame()
    a_values = a.loc[seeds, tasks].to_numpy(float)
    b_values = b.loc[seeds, tasks].to_numpy(float)
    diff = a_values - b_values
    n = (~np.isnan(diff)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN tasks: NaN is the answer
        mean = np.nanmean(diff, axis=0)
        sd = np.where(n >= 2, np.nanstd(diff, axis=0, ddof=1), np.nan)
    table = pd.DataFrame({"n": n, "mean_diff": mean, "sd_diff": sd,
                          "d_z": np.where(sd > 0, mean / np.where(sd > 0, sd, 1), np.nan),
                          "ci_low": np.nan, "ci_high": np.nan, "t": np.nan, "p_t": np.nan,
                          "p_wilcoxon": np.nan}, index=tasks)
    spread = (n >= 2) & (sd > 0)
    if spread.any():
        test = stats.ttest_rel(a_values[:, spread], b_values[:, spread], nan_policy="omit")
        ci = test.confidence_interval(CONFIDENCE)
        table.loc[spread, ["t", "p_t", "ci_low", "ci_high"]] = np.column_stack(
            [test.statistic, test.pvalue, ci.low, ci.high])
    # identical differences on every seed: a degenerate interval at the mean
    constant = (n >= 2) & (sd == 0)
    table.loc[constant, ["ci_low", "ci_high"]] = np.column_stack([mean[constant]] * 2)
    table.loc[constant, "p_t"] = np.where(mean[constant] == 0, 1.0, 0.0)
    ranked = (n >= 2) & ~((sd == 0) & (mean == 0))  # no difference at all: nothing to rank
    if ranked.any():
        table.loc[ranked, "p_wilcoxon"] = stats.wilcoxon(diff[:, ranked],
                                                         nan_policy="omit").pvalue
    table.loc[(n >= 2) & (sd == 0) & (mean == 0), "p_wilcoxon"] = 1.0
    table["p_t_holm"] = holm(table["p_t"])
    table["p_wilcoxon_holm"] = holm(table["p_wilcoxon"])
    return table


def t_interval(values: np.ndarray, method: str) -> Interval | None:
    """Mean and its t-based 95% interval (``scipy.stats.ttest_1samp``); None below 2 values."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return None
    if np.ptp(values) == 0:
        return Interval(values[0], values[0], values[0], method, len(values))
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(CONFIDENCE)
    return Interval(float(values.mean()), float(ci.low), float(ci.high), method, len(values))


def batch_means_interval(series: np.ndarray, n_batches: int = 20) -> Interval | None:
    """Interval of the mean of one autocorrelated series: t-interval over the means of
    ``n_batches`` contiguous batches (fewer for short series)."""
    series = np.asarray(series, float)
    series = series[~np.isnan(series)]
    if len(series) < 2:
        return None
    batches = [chunk.mean() for chunk in np.array_split(series, min(n_batches, len(series)))]
    interval = t_interval(np.array(batches), "batch means over steps (single run)")
    if interval is None:
        return None
    return Interval(float(series.mean()), interval.low, interval.high, interval.method, 1)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation along the last axis (``y`` broadcasts against ``x``; average
    ranks for ties, as ``scipy.stats.spearmanr``)."""
    rx = stats.rankdata(x, axis=-1)
    ry = stats.rankdata(np.broadcast_to(y, x.shape), axis=-1)
    rx -= rx.mean(axis=-1, keepdims=True)
    ry -= ry.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(-1) / np.sqrt((rx * rx).sum(-1) * (ry * ry).sum(-1))


@dataclass(frozen=True)
class Ranking:
    """Sort order and tie groups of one score vector: enough to rank any bootstrap
    resample of it without sorting again."""

    order: np.ndarray  # argsort of the scores
    starts: np.ndarray  # position, in sorted order, where each tie group starts
    group: np.ndarray  # tie group of each item (original order)

    @classmethod
    def of(cls, values: np.ndarray) -> Ranking:
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        new_group = np.r_[True, ordered[1:] != ordered[:-1]]
        group = np.empty(len(values), dtype=int)
        group[order] = np.cumsum(new_group) - 1
        return cls(order, np.flatnonzero(new_group), group)

    def centred_ranks(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Average rank of each item within resamples that hold it ``counts`` (B, n)
        times (the counts of lower tie groups plus the middle of its own group), minus the
        mean rank (n + 1)/2; and the count-weighted norm of those ranks (B,)."""
        in_group = np.add.reduceat(counts[:, self.order], self.starts, axis=1)  # (B, G)
        below = np.cumsum(in_group, axis=1) - in_group
        ranks = (below + (in_group + 1) / 2)[:, self.group] - (counts.shape[1] + 1) / 2
        return ranks, np.sqrt((counts * ranks * ranks).sum(1))


def resampled_spearman(counts: np.ndarray, x: Ranking, y: tuple[np.ndarray, np.ndarray]
                       ) -> np.ndarray:
    """Spearman of ``x`` with ``y`` (centred ranks and norms from ``centred_ranks`` on the
    same ``counts``) over resamples given as item counts (B, n): the Pearson correlation
    of the resample's ranks, each item weighted by its count. Exact (what ``rankdata`` on
    the resample gives) and O(n) per resample after one sort."""
    rx, nx = x.centred_ranks(counts)
    ry, ny = y
    return (counts * rx * ry).sum(1) / (nx * ny)


@dataclass(frozen=True)
class PairedScores:
    """Per-pair scores of two models on one test set, matched by seed:
    ``gold`` (n,), ``a`` and ``b`` (seeds, n)."""

    gold: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @property
    def n_seeds(self) -> int:
        return self.a.shape[0]

    def difference(self) -> float:
        """Observed mean over seeds of ρ(gold, a) − ρ(gold, b), in Spearman points ×100."""
        return float(100 * (spearman_rows(self.a, self.gold)
                            - spearman_rows(self.b, self.gold)).mean())


def draw_seeds(n_seeds: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Seed indices of each replicate (B, S): resampled when there are several seeds."""
    if n_seeds == 1:
        return np.zeros((n_resamples, 1), dtype=int)
    return rng.integers(0, n_seeds, size=(n_resamples, n_seeds))


def bootstrap_replicates(scores: PairedScores, seeds: np.ndarray, rng: np.random.Generator,
                         chunk: int = 100) -> np.ndarray:
    """Replicates (B,) of the seed-mean Spearman difference ×100. Replicate r resamples the
    test pairs with replacement (the same pairs for both models and every seed) and
    averages the per-seed differences over its seed draw ``seeds[r]``."""
    n = scores.gold.shape[0]
    gold = Ranking.of(scores.gold)
    models = [(Ranking.of(a), Ranking.of(b)) for a, b in zip(scores.a, scores.b, strict=True)]
    out = np.empty(seeds.shape[0])
    for start in range(0, seeds.shape[0], chunk):
        draw = seeds[start:start + chunk]  # (c, S)
        picks = rng.integers(0, n, size=(draw.shape[0], n))
        offsets = n * np.arange(draw.shape[0])[:, None]  # one bincount for all resamples
        counts = np.bincount((picks + offsets).ravel(), minlength=picks.size).reshape(
            picks.shape).astype(float)
        gold_ranks = gold.centred_ranks(counts)
        per_seed = np.stack([  # (c, S): every seed's difference on these resamples
            resampled_spearman(counts, a, gold_ranks) - resampled_spearman(counts, b, gold_ranks)
            for a, b in models], axis=1)
        out[start:start + chunk] = 100 * np.take_along_axis(per_seed, draw, axis=1).mean(1)
    return out


def percentile_interval(replicates: np.ndarray, estimate: float, n_seeds: int) -> Interval:
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.nanpercentile(replicates, [tail, 100 - tail])
    method = "paired bootstrap over test pairs" + (" and seeds" if n_seeds > 1 else "")
    return Interval(estimate, float(low), float(high), method, n_seeds)


def paired_bootstrap(scores: PairedScores, n_resamples: int = 1000,
                     rng: np.random.Generator | None = None) -> Interval:
    """95% percentile interval of ρ(gold, a) − ρ(gold, b) (×100) on one test set."""
    rng = rng or np.random.default_rng(0)
    seeds = draw_seeds(scores.n_seeds, n_resamples, rng)
    replicates = bootstrap_replicates(scores, seeds, rng)
    return percentile_interval(replicates, scores.difference(), scores.n_seeds)


def verdict(interval: Interval | None, direction: int = 1) -> Verdict:
    """``reproduced`` when the interval excludes 0 in the paper's ``direction`` (+1: the
    method is higher), ``contradicted`` when it excludes 0 the other way, else ``not
    reproduced at this scale``; ``not tested`` without an interval."""
    if interval is None or np.isnan(interval.low) or np.isnan(interval.high):
        return NOT_TESTED
    low, high = sorted((direction * interval.low, direction * interval.high))
    if low > 0:
        return REPRODUCED
    if high < 0:
        return CONTRADICTED
    return NOT_REPRODUCED


def combine(verdicts: list[Verdict]) -> Verdict:
    """A claim made of parts: reproduced when every part is, contradicted when any part
    is, not tested when none could be tested, else not reproduced at this scale."""
    if not verdicts or all(v == NOT_TESTED for v in verdicts):
        return NOT_TESTED
    if any(v == CONTRADICTED for v in verdicts):
        return CONTRADICTED
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return NOT_REPRODUCED
