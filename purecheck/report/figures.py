"""Draw the declarative figure specs of a results file as deterministic PNGs.

Kinds (validated by :mod:`purecheck.report.schema`):
- ``curves``: one line per series through ``(x, value)``; the interval ``[lower, upper]``
  is a shaded band (``"intervals": "band"``, default) or error bars (``"errorbars"``);
  numeric x is sorted, string x is categorical in order of first appearance;
- ``histogram``: the series overlaid as filled steps on *shared* bin edges (``bins``: a
  count over the range of all finite values, default 20, or explicit edges), optional
  per-value ``weights`` and ``density``; null/non-finite values are dropped;
- ``heatmap``: ``z[i][j]`` at column ``x[j]``, row ``y[i]`` (first row at the bottom),
  optional per-cell ``text`` labels; null cells are blank; ``colorbar: false`` drops the bar;
- ``scatter``: markers at ``(x, y)`` per series (optional ``color`` and ``marker``); string
  y values are categories (in ``ycategories`` order, else first appearance).
``hlines``/``vlines`` (``[{"y"|"x": v, "label": s}]``) add dashed reference lines.

Determinism: figures are built with the object-oriented API (no pyplot state, no
backend switch), under matplotlib's default style plus fixed overrides (so a user's
matplotlibrc cannot change the bytes), and saved as PNG at a fixed dpi with the
``Software`` metadata removed; the PNG writer adds no timestamp.
"""
from __future__ import annotations

import io
import textwrap
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import matplotlib as mpl
import matplotlib.style  # noqa: F401  (mpl.style is a submodule; not loaded by `import matplotlib`)
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .format import fmt_number

FIGSIZE = (6.4, 4.0)  # inches
DPI = 100             # so every PNG is 640 x 400 pixels
_RC = {
    "svg.hashsalt": "purecheck",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",  # bundled with matplotlib: same glyphs everywhere
    "font.size": 9.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "savefig.dpi": DPI,
    "figure.dpi": DPI,
}
PNG_METADATA = {"Software": None}
TITLE_WIDTH = 70  # characters per title line (the title is 10.8 pt, over axes narrower than the 6.4 in figure)


@contextmanager
def _style() -> Iterator[None]:
    with mpl.style.context("default"), mpl.rc_context(_RC), warnings.catch_warnings():
        # e.g. non-positive values on a log axis: drawn as gaps, no need to warn on stderr.
        warnings.simplefilter("ignore")
        yield


def build_figure(spec: dict) -> Figure:
    """A matplotlib Figure for one validated figure spec."""
    with _style():
        fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        {"curves": _curves, "histogram": _histogram, "heatmap": _heatmap, "scatter": _scatter}[
            spec["kind"]](fig, ax, spec)
        if spec.get("title"):
            # A long title would run past the figure's edge: wrap it onto at most three lines.
            ax.set_title("\n".join(textwrap.wrap(spec["title"], TITLE_WIDTH, max_lines=3, placeholder=" …")))
        if spec.get("xlabel"):
            ax.set_xlabel(spec["xlabel"])
        if spec.get("ylabel"):
            ax.set_ylabel(spec["ylabel"])
        return fig


def figure_png(spec: dict) -> bytes:
    """PNG bytes of one validated figure spec (same spec -> same bytes)."""
    fig = build_figure(spec)
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_METADATA)
    return buf.getvalue()


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _reference_lines(ax, spec: dict) -> None:
    for line in spec.get("hlines", []):
        ax.axhline(line["y"], color="0.35", linestyle="--", linewidth=1, label=line.get("label") or None)
    for line in spec.get("vlines", []):
        ax.axvline(line["x"], color="0.35", linestyle=":", linewidth=1, label=line.get("label") or None)


def _scales(ax, spec: dict) -> None:
    ax.set_xscale(spec.get("xscale", "linear"))
    ax.set_yscale(spec.get("yscale", "linear"))
    for axis, key, lim in ((ax.xaxis, "xscale", ax.get_xlim), (ax.yaxis, "yscale", ax.get_ylim)):
        if spec.get(key) != "log":
            continue
        # Default log ticks label minor ticks on short ranges (the labels collide) and give
        # a single label on ~1 decade; over <= 3 decades use 1-2-5 ticks with plain numbers.
        axis.set_minor_formatter(NullFormatter())
        lo, hi = lim()
        if lo > 0 and np.log10(hi / lo) <= 3:
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))


def _legend(ax) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize="small")


def _no_data(ax) -> None:
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.4")


def _categories(spec: dict, coord: str, first: list[str] | None = None) -> list[str]:
    """String values of ``coord`` over all series' points, in order of first appearance (after ``first``)."""
    categories = list(first or [])
    for series in spec["series"]:
        for p in series["points"]:
            if isinstance(p[coord], str) and p[coord] not in categories:
                categories.append(p[coord])
    return categories


def _curves(fig: Figure, ax, spec: dict) -> None:
    categories = _categories(spec, "x")
    drawn = False
    for i, series in enumerate(spec["series"]):
        points = series["points"]
        if not points:
            continue
        if categories:
            x = np.array([categories.index(p["x"]) for p in points], dtype=float)
        else:
            x = _floats([p["x"] for p in points])
        order = np.argsort(x, kind="stable")
        x = x[order]
        value, lower, upper = (_floats([p[k] for p in points])[order] for k in ("value", "lower", "upper"))
        color = f"C{i % 10}"
        label = series.get("label") or None
        has_interval = bool(np.any(np.isfinite(lower) | np.isfinite(upper)))
        if spec.get("intervals") == "errorbars" and has_interval:
            # Errors are distances from the value; a missing bound draws no bar on that side.
            err = np.vstack([np.nan_to_num(np.clip(value - lower, 0, None)),
                             np.nan_to_num(np.clip(upper - value, 0, None))])
            ax.errorbar(x, value, yerr=err, color=color, marker="o", markersize=3, capsize=3,
                        linewidth=1.2, label=label)
        else:
            ax.plot(x, value, color=color, marker="o", markersize=3, linewidth=1.2, label=label)
            if has_interval:
                ax.fill_between(x, lower, upper, color=color, alpha=0.2, linewidth=0)
        drawn = True
    _scales(ax, spec)
    if categories:  # after _scales: setting a scale resets the tick locator
        ax.set_xticks(range(len(categories)), categories)
    _reference_lines(ax, spec)
    if not drawn:
        _no_data(ax)
    _legend(ax)


def histogram_edges(spec: dict) -> np.ndarray:
    """The shared bin edges of a histogram spec (explicit, or ``bins`` equal bins over all finite values)."""
    if isinstance(spec.get("bins"), list):
        return np.asarray(spec["bins"], dtype=float)
    finite = [v for s in spec["series"] for v in _floats(s["values"]) if np.isfinite(v)]
    if not finite:
        return np.array([0.0, 1.0])
    return np.histogram_bin_edges(np.asarray(finite), bins=int(spec.get("bins", 20)))


def _histogram(fig: Figure, ax, spec: dict) -> None:
    edges = histogram_edges(spec)
    drawn = False
    for i, series in enumerate(spec["series"]):
        values = _floats(series["values"])
        weights = None if series.get("weights") is None else _floats(series["weights"])
        keep = np.isfinite(values)
        if not keep.any():
            continue
        counts, _ = np.histogram(values[keep], bins=edges,
                                 weights=None if weights is None else weights[keep],
                                 density=bool(spec.get("density", False)))
        color = f"C{i % 10}"
        ax.stairs(counts, edges, fill=True, alpha=0.3, color=color)
        ax.stairs(counts, edges, color=color, linewidth=1.3, label=series.get("label") or None)
        drawn = True
    _scales(ax, spec)
    if not spec.get("ylabel"):
        any_weights = any(s.get("weights") is not None for s in spec["series"])
        ax.set_ylabel("density" if spec.get("density") else ("total weight" if any_weights else "count"))
    _reference_lines(ax, spec)
    if not drawn:
        _no_data(ax)
    _legend(ax)


def _tick_labels(values: list[Any]) -> list[str]:
    return [v if isinstance(v, str) else fmt_number(v) for v in values]


def _thin_ticks(ax_set, n: int, labels: list[str], limit: int = 12) -> None:
    step = max(1, -(-n // limit))  # at most ~12 tick labels per axis
    idx = list(range(0, n, step))
    ax_set(idx, [labels[i] for i in idx])


def _heatmap(fig: Figure, ax, spec: dict) -> None:
    z = np.array([[np.nan if v is None else float(v) for v in row] for row in spec["z"]], dtype=float)
    nx, ny = len(spec["x"]), len(spec["y"])
    if z.size == 0:
        _no_data(ax)
        return
    z = z.reshape(ny, nx)
    masked = np.ma.masked_invalid(z)
    im = ax.imshow(masked, origin="lower", aspect="auto", cmap=spec.get("cmap", "viridis"),
                   vmin=spec.get("vmin"), vmax=spec.get("vmax"), interpolation="nearest")
    ax.grid(False)
    _thin_ticks(ax.set_xticks, nx, _tick_labels(spec["x"]))
    _thin_ticks(ax.set_yticks, ny, _tick_labels(spec["y"]))
    if spec.get("colorbar", True):
        fig.colorbar(im, ax=ax, label=spec.get("zlabel") or None)
    text = spec.get("text")
    if text is not None:
        norm = im.norm
        size = max(5.0, min(9.0, 90.0 / max(nx, ny)))
        for i in range(ny):
            for j in range(nx):
                label = text[i][j]
                if label is None or label == "":
                    continue
                # White on dark cells, black on light ones (luminance of the cell colour).
                r, g, b, _ = im.cmap(norm(z[i, j])) if np.isfinite(z[i, j]) else (1.0, 1.0, 1.0, 1.0)
                shade = 0.299 * r + 0.587 * g + 0.114 * b
                ax.text(j, i, label if isinstance(label, str) else _tick_labels([label])[0],
                        ha="center", va="center", fontsize=size,
                        color="white" if shade < 0.5 else "black")


def _scatter(fig: Figure, ax, spec: dict) -> None:
    categories = _categories(spec, "y", spec.get("ycategories"))
    drawn = False
    for i, series in enumerate(spec["series"]):
        points = series["points"]
        if not points:
            continue
        x = _floats([p["x"] for p in points])
        y = np.array([categories.index(p["y"]) if isinstance(p["y"], str) else float(p["y"]) for p in points],
                     dtype=float)
        ax.scatter(x, y, s=28, color=series.get("color") or f"C{i % 10}", marker=series.get("marker") or "o",
                   label=series.get("label") or None, zorder=3)
        drawn = True
    _scales(ax, spec)
    if categories:
        ax.set_yticks(range(len(categories)), categories)
        ax.set_ylim(-0.5, len(categories) - 0.5)
    _reference_lines(ax, spec)
    if not drawn:
        _no_data(ax)
    _legend(ax)
