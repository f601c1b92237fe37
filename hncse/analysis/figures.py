"""The figures of docs/study.md, drawn with seaborn and kept as PNG and SVG bytes (the report
embeds the PNG; ``hncse aggregate`` writes both for Snakemake's ``report()``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from hncse.files import write_bytes

sns.set_theme(style="whitegrid", context="paper")
matplotlib.rcParams["svg.hashsalt"] = "hncse"  # stable SVG ids: same input, same file
DPI = 110
MARKER_LIMIT = 20


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    png: bytes
    svg: bytes | None  # None when only the PNG was asked for (the HTML report)
    caption: str = ""


def render(fig: plt.Figure, name: str, title: str, caption: str, svg: bool) -> Figure:
    """Rasterise (and, with ``svg``, vectorise) a matplotlib figure, then free it."""
    fig.suptitle(title)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI)
    vector = None
    if svg:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})  # no date: stable files
        vector = buffer.getvalue()
    plt.close(fig)
    return Figure(name, title, png.getvalue(), vector, caption)


def write_figure(figure: Figure, folder: Path) -> list[Path]:
    paths = [write_bytes(folder / f"{figure.name}.png", figure.png)]
    if figure.svg is not None:
        paths.append(write_bytes(folder / f"{figure.name}.svg", figure.svg))
    return paths


def _legend_outside(ax: plt.Axes) -> None:
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def task_bars(long: pd.DataFrame, name: str, title: str, ylabel: str, *, svg: bool = True
              ) -> Figure:
    """Bars per task, one per variant side by side; error bars = sd over seeds.
    ``long`` has columns task, variant, value (one row per run × task)."""
    n_tasks = long["task"].nunique()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * n_tasks + 2.5), 3.6))
    sns.barplot(long, x="task", y="value", hue="variant", errorbar="sd", capsize=0.1, ax=ax)
    low, high = long["value"].min(), long["value"].max()
    margin = max(1.0, 0.1 * (high - low))
    ax.set_ylim(max(0.0, low - 3 * margin), high + margin)  # differences, not the axis, matter
    ax.set(xlabel="", ylabel=ylabel)
    _legend_outside(ax)
    return render(fig, name, title, "bars: mean over seeds; error bars: sd over seeds", svg)


def heatmap(mean: pd.DataFrame, labels: pd.DataFrame, name: str, title: str,
            caption: str, *, svg: bool = True) -> Figure:
    """A grid of means (e.g. k rows × m columns) annotated with ``labels``."""
    fig, ax = plt.subplots(figsize=(1.0 * mean.shape[1] + 3, 0.6 * mean.shape[0] + 2))
    sns.heatmap(mean.astype(float), annot=labels.to_numpy(), fmt="", cmap="viridis", ax=ax,
                cbar_kws={"label": "STS avg"})
    return render(fig, name, title, caption, svg)


def curves(data: pd.DataFrame, x: str, y: str, hue: str, name: str, title: str,
           logx: bool = False, ylabel: str | None = None, caption: str = "", *,
           svg: bool = True) -> Figure:
    """Lines of ``y`` over ``x`` per ``hue``; band = sd over runs at the same ``x``;
    markers only where there are few points (sweeps, not training steps)."""
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    few = data[x].nunique() <= MARKER_LIMIT
    sns.lineplot(data, x=x, y=y, hue=hue, errorbar="sd", marker="o" if few else None, ax=ax)
    if logx:
        ax.set_xscale("log")
    ax.set(ylabel=ylabel or y)
    _legend_outside(ax)
    return render(fig, name, title, caption or "line: mean over seeds; band: sd over seeds", svg)


def histograms(long: pd.DataFrame, name: str, title: str, caption: str, *, svg: bool = True
               ) -> Figure:
    """One panel per ``statistic``: the distribution over logged steps, per ``variant``."""
    statistics = list(dict.fromkeys(long["statistic"]))
    fig, axes = plt.subplots(1, len(statistics), figsize=(3.6 * len(statistics) + 1.5, 3.2),
                             squeeze=False)
    for ax, statistic in zip(axes[0], statistics, strict=True):
        part = long[long["statistic"] == statistic]
        sns.histplot(part, x="value", hue="variant", stat="density", common_norm=False,
                     element="step", bins=30, ax=ax, legend=ax is axes[0][-1])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set(xlabel=statistic, ylabel="")
    _legend_outside(axes[0][-1])
    return render(fig, name, title, caption, svg)


def scatter(data: pd.DataFrame, x: str, y: str, hue: str, style: str, name: str, title: str,
            caption: str, *, svg: bool = True) -> Figure:
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    sns.scatterplot(data, x=x, y=y, hue=hue, style=style, s=60, ax=ax)
    _legend_outside(ax)
    return render(fig, name, title, caption, svg)


def intervals(data: pd.DataFrame, x: str, hue: str, name: str, title: str, xlabel: str,
              logx: bool = False, *, svg: bool = True) -> Figure:
    """Point estimates with their 95% intervals (``estimate``, ``low``, ``high`` columns)
    over ``x``, per ``hue``; the dashed line is no difference."""
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    groups = list(dict.fromkeys(data[hue]))
    positions = {v: i for i, v in enumerate(dict.fromkeys(data[x]))}
    numeric = pd.api.types.is_numeric_dtype(data[x])
    for offset, (group, color) in enumerate(zip(groups, sns.color_palette(n_colors=len(groups)),
                                                strict=True)):
        part = data[data[hue] == group]
        xs = part[x].to_numpy(float) if numeric else np.array(
            [positions[v] + 0.1 * (offset - (len(groups) - 1) / 2) for v in part[x]])
        err = np.vstack([part["estimate"] - part["low"], part["high"] - part["estimate"]])
        ax.errorbar(xs, part["estimate"], yerr=err, fmt="o-" if numeric else "o", capsize=3,
                    color=color, label=str(group))
    ax.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    if logx and numeric:
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(list(positions.values()), [str(v) for v in positions])
    ax.set(xlabel=xlabel, ylabel="difference (Spearman ×100)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return render(fig, name, title, "point: estimate; bar: 95% interval", svg)
