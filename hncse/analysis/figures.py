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
from matplotlib.artist import Artist

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


def _add_to_legend(ax: plt.Axes, artist: Artist, label: str) -> None:
    """Append ``artist`` to the legend seaborn drew (its handles are not the axes')."""
    legend = ax.get_legend()
    handles = list(legend.legend_handles) if legend is not None else []
    labels = [t.get_text() for t in legend.get_texts()] if legend is not None else []
    title = legend.get_title().get_text() if legend is not None else None
    ax.legend([*handles, artist], [*labels, label], title=title)


#: one colour and marker per method in every figure, in this order; baselines follow
METHOD_ORDER = ("simcse", "hncse-pm", "hncse-hnm", "hncse")
_METHOD_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
_OTHER_COLOURS = ("#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
#: colours of a setting (a corpus) where the marker carries the method: none is a method's
_SETTING_COLOURS = ("#222222", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2", "#9edae5")
PUBLISHED_STYLE = {"color": "black", "marker": "x", "s": 60, "zorder": 5}
START_STYLE = {"color": "black", "marker": "|", "s": 160, "linewidths": 2, "zorder": 5}


@dataclass(frozen=True)
class Style:
    colour: str
    marker: str


def ordered(names: list[str]) -> list[str]:
    """``names`` in the methods' order: SimCSE, HNCSE-PM, HNCSE-HNM, HNCSE, then the
    others alphabetically."""
    known = [m for m in METHOD_ORDER if m in names]
    return known + sorted(n for n in set(names) if n not in METHOD_ORDER)


def method_styles(names: list[str]) -> dict[str, Style]:
    """The fixed style of each method; other names (baselines, sweep variants) take the
    remaining colours and markers in order."""
    styles = {
        m: Style(c, _MARKERS[i])
        for i, (m, c) in enumerate(zip(METHOD_ORDER, _METHOD_COLOURS, strict=True))
    }
    others = [n for n in ordered(names) if n not in styles]
    for i, name in enumerate(others):
        colours = (
            _OTHER_COLOURS
            if len(others) <= len(_OTHER_COLOURS)
            else [matplotlib.colors.to_hex(c) for c in sns.color_palette("husl", len(others))]
        )
        styles[name] = Style(colours[i % len(colours)], _MARKERS[(4 + i) % len(_MARKERS)])
    return {n: styles[n] for n in ordered(names)}


def _legend(ax: plt.Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(
        unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )


def forest(
    rows: pd.DataFrame, seeds: pd.DataFrame, name: str, title: str, xlabel: str, *, svg: bool = True
) -> Figure:
    """A forest plot of differences: one line per ``label`` (comparison · task), its
    estimate with the interval (``ci_low``–``ci_high``; none when NaN), the per-seed
    differences as small points, and the paper's stated effect (``paper_effect``) as a
    black × where it states one, and where the untrained start would sit (``start``: start
    − the compared-with method's mean) as a black bar. ``rows``: label, method, estimate,
    ci_low, ci_high, paper_effect, start; ``seeds``: label, value."""
    labels = list(rows["label"])
    styles = method_styles(list(rows["method"].unique()))
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(labels) + 1.4))
    ys = {label: len(labels) - 1 - i for i, label in enumerate(labels)}
    for _, row in rows.iterrows():
        style, y = styles[row["method"]], ys[row["label"]]
        if not np.isnan(row["ci_low"]):
            ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=style.colour, linewidth=2)
        ax.scatter(
            [row["estimate"]],
            [y],
            s=50,
            color=style.colour,
            marker=style.marker,
            edgecolors="black",
            linewidths=0.5,
            zorder=4,
            label=row["method"],
        )
        if not pd.isna(row.get("paper_effect", np.nan)):
            ax.scatter([row["paper_effect"]], [y], label="paper's stated effect", **PUBLISHED_STYLE)
        if not pd.isna(row.get("start", np.nan)):
            ax.scatter([row["start"]], [y], label="untrained start", **START_STYLE)
    drawn = [
        "marker: estimate; line: its interval as the tests table below states it "
        "(paired t over seeds, Holm-corrected; with one seed per method the "
        "uncorrected bootstrap over test pairs)"
    ]
    if len(seeds):
        drawn.append("grey points: the per-seed differences")
    if rows.get("paper_effect", pd.Series(dtype=float)).notna().any():
        drawn.append("×: the paper's stated effect")
    if rows.get("start", pd.Series(dtype=float)).notna().any():
        drawn.append("|: the untrained start (start − the compared-with method's mean)")
    jitter = np.random.default_rng(0)  # fixed: the same input draws the same figure
    for label, part in seeds.groupby("label", sort=False):
        if label in ys:
            y = ys[label] + jitter.uniform(-0.18, 0.18, len(part))
            ax.scatter(
                part["value"], y, s=10, color="#555555", alpha=0.6, zorder=3, label="one seed pair"
            )
    ax.axvline(0.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(list(ys.values()), list(ys.keys()))
    ax.set(xlabel=xlabel, ylim=(-0.7, len(labels) - 0.3))
    _legend(ax)
    return render(fig, name, title, "; ".join([*drawn, "dashed: no difference"]), svg)


def heatmap(
    mean: pd.DataFrame,
    labels: pd.DataFrame,
    name: str,
    title: str,
    caption: str,
    *,
    svg: bool = True,
) -> Figure:
    """A grid of means (e.g. k rows × m columns) annotated with ``labels``."""
    fig, ax = plt.subplots(figsize=(1.0 * mean.shape[1] + 3, 0.6 * mean.shape[0] + 2))
    sns.heatmap(
        mean.astype(float),
        annot=labels.to_numpy(),
        fmt="",
        cmap="viridis",
        ax=ax,
        cbar_kws={"label": "STS avg"},
    )
    return render(fig, name, title, caption, svg)


def curves(
    data: pd.DataFrame,
    x: str,
    y: str,
    hue: str,
    name: str,
    title: str,
    logx: bool = False,
    ylabel: str | None = None,
    caption: str = "",
    *,
    logy: bool = False,
    every_point: bool = False,
    style: str | None = None,
    reference: tuple[float, str] | None = None,
    svg: bool = True,
) -> Figure:
    """Lines of ``y`` over ``x`` per ``hue`` (methods in their fixed colours and markers;
    ``style``: a second grouping drawn as dash patterns); band: sd over runs at the same
    ``x`` (on a log axis: the range over runs, which stays positive); markers where there
    are few points, or at every point with ``every_point`` (evaluations); ``reference``: a
    (value, label) drawn as a dotted horizontal line."""
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    few = style is None and (every_point or data[x].nunique() <= MARKER_LIMIT)
    styles = method_styles(list(data[hue].unique()))
    sns.lineplot(
        data,
        x=x,
        y=y,
        hue=hue,
        hue_order=list(styles),
        palette={n: s.colour for n, s in styles.items()},
        errorbar=("pi", 100) if logy else "sd",
        style=style or (hue if few else None),
        markers={n: s.marker for n, s in styles.items()} if few else False,
        dashes=style is not None,
        ax=ax,
    )
    if few:  # every run's own value beside the mean
        for group, part in data.dropna(subset=[y]).groupby(hue, sort=False):
            ax.scatter(
                part[x],
                part[y],
                s=9,
                color=styles[group].colour,
                alpha=0.45,
                linewidths=0,
                zorder=1,
            )
    if reference is not None:
        line = ax.axhline(reference[0], color="black", linestyle=":", linewidth=1.2)
        _add_to_legend(ax, line, reference[1])
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(ylabel=ylabel or y)
    _legend_outside(ax)
    band = "range over seeds" if logy else "sd over seeds"
    points = "; small points: one run each" if few else ""
    return render(
        fig, name, title, (caption or f"line: mean over seeds; band: {band}") + points, svg
    )


def counts(
    long: pd.DataFrame,
    name: str,
    title: str,
    meanings: dict[str, str],
    zero: str,
    *,
    svg: bool = True,
) -> Figure:
    """One panel per ``statistic``: how many logged steps fall in each bin, per
    ``variant`` (counts, not densities), with labelled axes and a line at 0, which means
    ``zero``; the caption says what each drawn statistic is (``meanings``)."""
    statistics = list(dict.fromkeys(long["statistic"]))
    styles = method_styles(list(long["variant"].unique()))
    fig, axes = plt.subplots(
        1, len(statistics), figsize=(min(10.5, 3.4 * len(statistics) + 2), 3.2), squeeze=False
    )
    for ax, statistic in zip(axes[0], statistics, strict=True):
        part = long[long["statistic"] == statistic]
        sns.histplot(
            part,
            x="value",
            hue="variant",
            hue_order=list(styles),
            palette={n: s.colour for n, s in styles.items()},
            stat="count",
            element="step",
            bins=30,
            ax=ax,
            legend=ax is axes[0][-1],
        )
        ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
        ax.set(xlabel=statistic, ylabel="logged steps")
    _legend_outside(axes[0][-1])
    described = [f"{s}: {meanings[s]}" for s in statistics if s in meanings]
    caption = "logged training steps per bin (all runs of a variant); " + "; ".join(
        [*described, f"dashed line at 0: {zero}"]
    )
    return render(fig, name, title, caption, svg)


def scatter(
    data: pd.DataFrame,
    x: str,
    y: str,
    name: str,
    title: str,
    colour: str = "method",
    left_out: str = "",
    *,
    svg: bool = True,
) -> Figure:
    """One point per run: marker and, when ``colour`` is the method, colour by the fixed
    method styles; another ``colour`` column (a corpus) takes its own palette. The
    caption says what colour and marker mean and which runs ``left_out`` names."""
    styles = method_styles(list(data["method"].unique()))
    palette = (
        {n: s.colour for n, s in styles.items()}
        if colour == "method"
        else dict(
            zip(ordered(list(data[colour].astype(str).unique())), _SETTING_COLOURS, strict=False)
        )
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sns.scatterplot(
        data.assign(**{colour: data[colour].astype(str)}),
        x=x,
        y=y,
        hue=colour,
        hue_order=list(palette),
        palette=palette,
        style="method",
        style_order=list(styles),
        markers={n: s.marker for n, s in styles.items()},
        s=60,
        edgecolor="black",
        linewidth=0.4,
        ax=ax,
    )
    _legend_outside(ax)
    parts = [f"one point per run; colour: {colour}; marker: method"]
    if left_out:
        parts.append(f"left out (outside the trained runs' range): {left_out}")
    return render(fig, name, title, "; ".join(parts), svg)


def intervals(
    data: pd.DataFrame,
    x: str,
    hue: str,
    name: str,
    title: str,
    xlabel: str,
    logx: bool = False,
    *,
    svg: bool = True,
) -> Figure:
    """Point estimates with their 95% intervals (``estimate``, ``low``, ``high`` columns)
    over ``x``, per ``hue``; the dashed line is no difference."""
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    groups = list(dict.fromkeys(data[hue]))
    positions = {v: i for i, v in enumerate(dict.fromkeys(data[x]))}
    numeric = pd.api.types.is_numeric_dtype(data[x])
    # a group "method − baseline (context)" takes its method's colour
    methods = {g: str(g).split(" − ")[0] for g in groups}
    styles = method_styles(list(set(methods.values())))
    fallback = sns.color_palette(n_colors=len(groups))
    unique = len(set(methods.values())) == len(groups)
    for offset, group in enumerate(groups):
        color = styles[methods[group]].colour if unique else fallback[offset]
        part = data[data[hue] == group]
        xs = (
            part[x].to_numpy(float)
            if numeric
            else np.array([positions[v] + 0.1 * (offset - (len(groups) - 1) / 2) for v in part[x]])
        )
        err = np.vstack([part["estimate"] - part["low"], part["high"] - part["estimate"]])
        ax.errorbar(
            xs,
            part["estimate"],
            yerr=err,
            fmt="o-" if numeric else "o",
            capsize=3,
            color=color,
            label=str(group),
        )
    ax.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    if logx and numeric:
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(list(positions.values()), [str(v) for v in positions])
    ax.set(xlabel=xlabel, ylabel="difference (Spearman ×100)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return render(fig, name, title, "point: estimate; bar: 95% interval", svg)
