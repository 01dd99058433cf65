"""Figure specs the report draws itself from a claim's region maps, scaling sweeps and stress search.

- a region map becomes a ``heatmap`` of verdicts: columns are the values of its first axis,
  rows the combinations of the others; green = pass, yellow = inconclusive, red = fail; the
  headline cell's label carries a ``*``;
- a scaling sweep becomes ``curves`` over its x key (log axes), one series per recorded
  number (first four), with the first failure as a dotted vertical line;
- a stress search becomes a ``scatter`` of the points over the first (one or two) varied
  keys, coloured by verdict, the counterexample as a black cross and the boundary
  interval as reference lines.

Ids are ``region_<claim>_<id>``, ``scaling_<claim>_<id>`` and ``stress_<claim>``; specs go
through the same validation as the results' own figures.
"""
from __future__ import annotations

import json
from typing import Any

from .answers import scaling_x
from .format import fmt_number, is_interval

VERDICT_CODE = {"fail": 0.0, "inconclusive": 0.5, "pass": 1.0}
VERDICT_COLOR = {"pass": "#1a7f37", "inconclusive": "#bf8700", "fail": "#cf222e"}
MAX_SCALING_SERIES = 4


def _values(cells: list[dict], key: str) -> list[Any]:
    seen = list(dict.fromkeys(_hashable(c["params"].get(key)) for c in cells))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen):
        return sorted(seen)
    return seen


def _hashable(v: Any) -> Any:
    """A grid value usable as a key: scalars as they are, lists and objects as their JSON text."""
    return v if isinstance(v, (str, int, float, bool, type(None))) else json.dumps(v, sort_keys=True)


def _label(v: Any) -> str:
    return fmt_number(v) if not isinstance(v, str) else v


def region_figure(claim_id: str, region: dict) -> dict | None:
    """A verdict heatmap of one region map (None when it has no axes or no cells)."""
    axes, cells = region["axes"], region["cells"]
    if not axes or not cells:
        return None
    xs = _values(cells, axes[0])
    rest = axes[1:]
    if rest:
        rows = list(dict.fromkeys(tuple(_hashable(c["params"].get(a)) for a in rest) for c in cells))
        if all(all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r) for r in rows):
            rows.sort()
    else:
        rows = [()]
    z: list[list[float | None]] = [[None] * len(xs) for _ in rows]
    text: list[list[str | None]] = [[None] * len(xs) for _ in rows]
    headline = region.get("headline") or {}
    for c in cells:
        j = xs.index(_hashable(c["params"].get(axes[0])))
        i = rows.index(tuple(_hashable(c["params"].get(a)) for a in rest))
        z[i][j] = VERDICT_CODE[c["verdict"]]
        is_headline = c.get("headline") or (headline and all(c["params"].get(k) == v for k, v in headline.items()))
        text[i][j] = ("inconcl." if c["verdict"] == "inconclusive" else c["verdict"]) + ("*" if is_headline else "")
    if len(rest) == 1:
        ylabels = [_label(r[0]) for r in rows]
        ylabel = rest[0]
    else:
        # Several axes on the rows: values only (the axis names, in order, label the axis).
        ylabels = [" / ".join(_label(v) for v in r) for r in rows] if rest else [""]
        ylabel = " / ".join(a.rsplit(".", 1)[-1] for a in rest)
    title = region.get("title") or region["id"]
    return {"id": f"region_{claim_id}_{region['id']}", "kind": "heatmap",
            "title": f"{claim_id}: {title} (* = headline)", "xlabel": axes[0], "ylabel": ylabel,
            "x": [_label(v) for v in xs], "y": ylabels, "z": z, "text": text,
            "cmap": "RdYlGn", "vmin": 0.0, "vmax": 1.0, "colorbar": False}


def scaling_figure(claim_id: str, scaling: dict) -> dict | None:
    """Curves of a scaling sweep's numbers against its x key (None without numeric points)."""
    key = scaling["x"]
    names: list[str] = []
    for p in scaling["points"]:
        for name, v in p["numbers"].items():
            if name not in names and (is_interval(v) or _is_number(v)):
                names.append(name)
    names = names[:MAX_SCALING_SERIES]
    series = []
    for name in names:
        points = []
        for p in scaling["points"]:
            x, v = scaling_x(p, key), p["numbers"].get(name)
            if not _is_number(x) or v is None:
                continue
            if is_interval(v):
                points.append({"x": x, "value": v["value"], "lower": v.get("lower"), "upper": v.get("upper")})
            elif _is_number(v):
                points.append({"x": x, "value": v, "lower": None, "upper": None})
        series.append({"label": name, "points": points})
    if not any(s["points"] for s in series):
        return None
    positive = all((pt["value"] or 0) > 0 for s in series for pt in s["points"])
    vlines = []
    ff = scaling.get("first_failure")
    if ff and _is_number(ff.get("d", ff.get("x"))):
        vlines.append({"x": ff.get("d", ff.get("x")), "label": "first failure"})
    law = f" ({scaling['law']})" if scaling.get("law") else ""
    return {"id": f"scaling_{claim_id}_{scaling['id']}", "kind": "curves",
            "title": f"{claim_id}: {scaling.get('title') or scaling['id']}{law}", "xlabel": key, "ylabel": "",
            "xscale": "log", "yscale": "log" if positive else "linear", "series": series, "vlines": vlines}


def stress_figure(claim_id: str, stress: dict) -> dict | None:
    """Verdicts of a stress search over its first one or two varied keys (None without points)."""
    keys = list(stress["varied"])
    points = [p for p in stress["points"] if _is_number(p["params"].get(keys[0]) if keys else None)]
    if not keys or not points:
        return None
    two_d = len(keys) >= 2 and all(_is_number(p["params"].get(keys[1])) for p in points)

    def y_of(p: dict) -> Any:
        return p["params"][keys[1]] if two_d else p["verdict"]

    series = [{"label": v, "color": VERDICT_COLOR[v], "marker": "o",
               "points": [{"x": p["params"][keys[0]], "y": y_of(p)} for p in points if p["verdict"] == v]}
              for v in ("pass", "inconclusive", "fail")]
    series = [s for s in series if s["points"]]
    cex = stress.get("counterexample")
    if cex is not None and _is_number(cex["params"].get(keys[0])) and \
            (not two_d or _is_number(cex["params"].get(keys[1]))):
        series.append({"label": "smallest counterexample", "color": "black", "marker": "x",
                       "points": [{"x": cex["params"][keys[0]], "y": y_of(cex)}]})
    vlines, hlines = [], []
    for axis, lines in ((keys[0], vlines), (keys[1] if two_d else None, hlines)):
        b = stress["boundaries"].get(axis) if axis else None
        if b:
            for side in ("fail_side", "pass_side"):
                if _is_number(b.get(side)):
                    lines.append({("x" if lines is vlines else "y"): b[side], "label": f"boundary ({side[:4]})"})
    return {"id": f"stress_{claim_id}", "kind": "scatter", "title": f"{claim_id}: stress search over "
            + ", ".join(keys[:2 if two_d else 1]), "xlabel": keys[0], "ylabel": keys[1] if two_d else "verdict",
            "series": series, "ycategories": None if two_d else ["fail", "inconclusive", "pass"],
            "vlines": vlines, "hlines": hlines}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
