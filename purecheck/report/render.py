"""Render a results file into ``report.md``, a self-contained ``index.html`` and ``figures/*.png``.

The page answers the reviewer's question first: one section per paper claim (``paper-C1``
...; the answer is derived by :mod:`purecheck.report.answers`), one for the questions beyond
the paper, then each proposition concisely (statement, verdict, key numbers, figures,
controls, replay command), and the full evidence in a collapsed appendix.

Output is a pure function of the inputs (the results, and the baseline when one is given):
no clock, no host details other than those in the results' environment manifest, fixed
figure bytes. Files are written into a temporary directory beside ``out_dir`` and moved in
at the end, so an error leaves ``out_dir`` untouched; on success only ``report.md``,
``index.html`` and ``figures/`` in ``out_dir`` are replaced (``figures/`` as a whole, so no
stale figure survives), anything else there (e.g. ``results.json``) is left alone.
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from . import format as fmt
from .answers import ANSWER_CLASS, ANSWERS, FAILS, REGION, RULE, beyond_claims, paper_answers, proposition_answer
from .compare import Comparison
from .derived import region_figure, scaling_figure, stress_figure
from .figures import DPI, FIGSIZE, figure_png
from .pdf import write_pdf
from .schema import VERDICTS, figure_filename, load_results, validate_figure, validate_results

TEMPLATES = Path(__file__).parent / "templates"
REPORT_MD, INDEX_HTML, REPORT_PDF, FIGURES_DIR = "report.md", "index.html", "report.pdf", "figures"
DEFAULT_MAX_EXAMPLES = 10
EVIDENCE_DEPTH = 2       # levels of tables in the appendix; deeper values are indented text
MAX_COMPARISON_ROWS = 200
NOT_RUN = "not run"      # a control's observed outcome when a partial run skipped it
_ENV_ORDER = (("commit", "Commit"), ("dirty", "Uncommitted changes"), ("python", "Python"),
              ("platform", "Platform"), ("machine", "Machine"), ("cpus", "CPUs"),
              ("threads", "Threads (torch, BLAS)"), ("seeds", "Seeds"), ("started", "Started"), ("runtime_s", "Runtime"))
SCOPE_TEXT = {"paper": "states a sentence of the paper", "extension": "goes beyond the paper's statement",
              "lemma": "a tool the checks rest on", "beyond": "a question beyond the paper"}


def render_report(results: dict | Path | str, out_dir: Path | str, *,
                  max_examples: int = DEFAULT_MAX_EXAMPLES, comparison: Comparison | None = None,
                  pdf_engine: str | None = None) -> list[Path]:
    """Render ``results`` (a results dict or a path to results.json) into ``out_dir``.

    ``comparison`` (from :func:`purecheck.report.compare.compare`, baseline -> these results)
    adds the "changes since the baseline" section; ``pdf_engine`` (see
    :mod:`purecheck.report.pdf`) also prints ``report.pdf``. Returns the written paths:
    ``report.md``, ``index.html``, ``report.pdf`` if printed, then the figure PNGs. Raises
    :class:`~purecheck.report.schema.ReportInputError` for bad input, ``PdfError`` when the
    PDF engine fails and ``OSError`` for an unusable ``out_dir``; in each case ``out_dir``
    is not modified.
    """
    data = load_results(results) if isinstance(results, (str, Path)) else validate_results(results)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"output path exists and is not a directory: {out_dir}")
    context, pngs = build_context(data, max_examples=max_examples, comparison=comparison)
    env = _environment()
    texts = {REPORT_MD: env.get_template("report.md.j2").render(context),
             INDEX_HTML: env.get_template("index.html.j2").render(context)}
    return _write_atomically(out_dir, texts, pngs, pdf_engine)


# --------------------------------------------------------------------------- figures

class _Figures:
    """Every figure of the report (the claims' own and the derived ones), one PNG per file name."""

    def __init__(self, data: dict) -> None:
        self.pngs: dict[str, bytes] = {}
        self.own = {c["id"]: [self._add(f) for f in c["figures"]] for c in data["claims"]}
        self.derived: dict[str, dict[str, list[dict]]] = {}
        for c in data["claims"]:
            stress = data["stress"].get(c["id"])
            self.derived[c["id"]] = {
                "regions": [self._add_spec(region_figure(c["id"], r)) for r in c["regions"]],
                "scaling": [self._add_spec(scaling_figure(c["id"], s)) for s in c["scaling"]],
                "stress": [self._add_spec(stress_figure(c["id"], stress))] if stress is not None else [],
            }

    def _add_spec(self, spec: dict | None) -> dict | None:
        if spec is None:
            return None
        base = figure_filename(spec["id"])[:-4]
        name, n = base, 1
        while f"{name}.png" in self.pngs:  # never overwrite a claim's own figure
            n += 1
            name = f"{base}_{n}"
        spec["id"] = name
        return self._add(validate_figure(spec, f"derived figure {name}"))

    def _add(self, spec: dict) -> dict:
        name = figure_filename(spec["id"])
        png = self.pngs.setdefault(name, figure_png(spec))
        return {"id": spec["id"], "kind": spec["kind"], "title": spec.get("title") or spec["id"],
                "file": f"{FIGURES_DIR}/{name}",
                "data_uri": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}

    def headline(self, claims: list[dict]) -> tuple[dict, str] | tuple[None, None]:
        """The one figure that best shows a set of claims, and whose it is: the first region map
        among them, else the first scaling sweep, stress search, own heatmap, own figure."""
        pools = [[(f, c["id"]) for c in claims for f in self.derived[c["id"]][group] if f is not None]
                 for group in ("regions", "scaling", "stress")]
        pools.append([(f, c["id"]) for c in claims for f in self.own[c["id"]] if f["kind"] == "heatmap"])
        pools.append([(f, c["id"]) for c in claims for f in self.own[c["id"]]])
        return next((pool[0] for pool in pools if pool), (None, None))


# --------------------------------------------------------------------------- context

def _mismatch_why(match: dict) -> tuple[str | None, str | None]:
    """Why a verdict that reads as registered is not: a crash, or a registered fail on other conditions
    (short form for the match line, long form for the claim)."""
    if match.get("matches"):
        return None, None
    if match.get("crashed"):
        return "crashed", "the main check crashed; its verdict is no outcome"
    other, missing = match.get("unregistered_failures") or [], match.get("missing_failures") or []
    parts = ([f"conditions fail that the registered failure does not name: {'; '.join(other)}"] if other else []) + \
            ([f"the registered failure is not among the failing conditions: {'; '.join(missing)}"] if missing else [])
    return ("fails elsewhere", " and ".join(parts)) if parts else (None, None)


def build_context(data: dict, *, max_examples: int = DEFAULT_MAX_EXAMPLES,
                  comparison: Comparison | None = None) -> tuple[dict, dict[str, bytes]]:
    """Everything the templates show, already formatted (templates only lay it out), and the PNGs."""
    figures = _Figures(data)
    by_id = {c["id"]: c for c in data["claims"]}
    runs = _runs(data)
    claims = [_claim_view(c, data, figures, max_examples, len(runs) > 1) for c in data["claims"]]
    answers = [_answer_view(a, by_id, figures) for a in paper_answers(data)]
    beyond = [_beyond_view(c, data) for c in beyond_claims(data)]
    env = data["environment"]
    verdict_mismatch = [c for c in claims if not c["match"]["matches"]]
    controls = [k for c in claims for k in c["controls"]]
    return {
        "schema": data["schema"],
        "spec": data["spec"],
        "derived": data["derived"],
        "profile": data["profile"],
        "command": data["command"],
        "commit": str(env.get("commit", "unknown")),
        "dirty": _dirty_text(env.get("dirty")),
        "answers": answers,
        "beyond": beyond,
        "beyond_counts": [(w, n) for w in ANSWERS if (n := sum(b["answer"] == w for b in beyond))],
        "rule": RULE,
        "claims": claims,
        "counts": {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS},
        "matchline": {"n": len(claims), "matching": len(claims) - len(verdict_mismatch),
                      "mismatches": verdict_mismatch, "n_controls": len(controls),
                      "controls_matching": sum(k["match"] for k in controls),
                      "controls_not_run": sum(k["not_run"] for k in controls),
                      "control_mismatches": [(c["id"], c["anchor"], k["name"]) for c in claims
                                             for k in c["controls"] if not k["match"] and not k["not_run"]]},
        "runs": runs,
        "comparison": _comparison_view(comparison, by_id) if comparison is not None else None,
        "assumptions": data["assumptions"],
        "manifest": _manifest(data),
        "packages": sorted((str(k), str(v)) for k, v in (env.get("packages") or {}).items()),
        "figure_px": (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)),
    }, figures.pngs


def replay_command(claim: dict, profile: str) -> str:
    """The command that replays ``claim`` (with its ``--set`` overrides) under the profile it ran in."""
    replay = claim["replay"]
    if "HYPOTHESIS_PROFILE" in replay or "--profile" in replay:
        return replay
    return f"HYPOTHESIS_PROFILE={claim['stamp'].get('profile') or profile} {replay}"


def anchor(claim_id: str) -> str:
    return "claim-" + figure_filename(claim_id)[:-4]


def _answer_view(a, by_id: dict, figures: _Figures) -> dict:
    deciding = [by_id[p.claim_id] for p in a.deciding]
    # Scope paper before extension; lemmas only when no deciding proposition has a figure.
    ordered = sorted(deciding, key=lambda c: c["scope"] != "paper")
    figure, figure_from = figures.headline(ordered)
    if figure is None:
        figure, figure_from = figures.headline([by_id[i] for i in a.supporting])
    caveats = []
    for c in deciding:
        if c["scope"] == "extension" or c["scope_note"] or c["differences"] or c["overrides"]:
            caveats.append({"id": c["id"], "anchor": anchor(c["id"]), "scope": c["scope"],
                            "scope_note": c["scope_note"], "differences": c["differences"],
                            "overrides": _overrides(c)})
    return {
        "id": a.id, "anchor": f"paper-{a.id}", "text": a.text, "source": a.source,
        "answer": a.answer, "cls": ANSWER_CLASS[a.answer], "why": a.why,
        "deciding": [{"id": p.claim_id, "anchor": anchor(p.claim_id), "title": by_id[p.claim_id]["title"],
                      "scope": p.scope, "verdict": p.verdict, "answer": p.answer, "cls": ANSWER_CLASS[p.answer],
                      "grids": [g.summary() for g in p.grids], "overridden": p.overridden,
                      "holds_in": list(p.holds_in), "fails_in": list(p.fails_in)} for p in a.deciding],
        "supporting": [{"id": i, "anchor": anchor(i), "verdict": by_id[i]["verdict"]} for i in a.supporting],
        "figure": figure, "figure_from": figure_from, "caveats": caveats,
        "card_fails": _short([f if re.match(rf"{re.escape(p.claim_id)}\b", f) else f"{p.claim_id} {f}"
                              for p in a.deciding for f in p.fails_in])
        if a.answer in (REGION, FAILS) else "",
    }


def _short(items: list[str], limit: int = 120) -> str:
    """The first item, cut to ``limit`` characters, and how many more there are (for the answer cards)."""
    if not items:
        return ""
    head = items[0] if len(items[0]) <= limit else items[0][:limit - 1].rstrip() + "…"
    return head + (f" (+{len(items) - 1} more)" if len(items) > 1 else "")


def _beyond_view(c: dict, data: dict) -> dict:
    p = proposition_answer(c, data["stress"].get(c["id"]))
    # What was found, briefly: the key numbers; else the check's message (it starts with
    # "[Q1] PASS  ...", and the verdict is shown beside it already); else the statement.
    line = "; ".join(f"{k['name']}: {fmt.fmt_interval(k)}" for k in c["key_numbers"])
    line = line or re.sub(r"^\[[^\]]*\]\s*(PASS|FAIL|INCONCLUSIVE)?\s*", "", c["message"] or "") or c["statement"]
    return {"id": c["id"], "anchor": anchor(c["id"]), "title": c["title"], "verdict": c["verdict"],
            "answer": p.answer, "cls": ANSWER_CLASS[p.answer], "line": line, "holds_in": list(p.holds_in),
            "fails_in": list(p.fails_in)}


def _claim_view(c: dict, data: dict, figures: _Figures, max_examples: int, show_stamp: bool) -> dict:
    examples = c["drawn_examples"]
    if examples and all(isinstance(e, dict) for e in examples):
        example_node: Any = fmt.records(examples, max_rows=max_examples)
    else:
        example_node = fmt.Sequence([fmt.evidence_tree(e) for e in examples[:max_examples]], len(examples))
    cex = c["counterexample"]
    stress = data["stress"].get(c["id"])
    derived = figures.derived[c["id"]]
    control_details = {k["name"]: k["details"] for k in c["controls"] if k.get("details")}
    return {
        "id": c["id"],
        "anchor": anchor(c["id"]),
        "paper_claim": c["paper_claim"],
        "paper_claims": [{"id": p, "anchor": f"paper-{p}"} for p in c["paper_claims"]],
        "scope": c["scope"], "scope_text": SCOPE_TEXT[c["scope"]], "scope_note": c["scope_note"],
        "differences": c["differences"],
        "title": c["title"],
        "statement": c["statement"],
        "statement_html": mark_overrides_html(c["statement"], c["overrides"]),
        "statement_md": mark_overrides_md(c["statement"], c["overrides"]),
        "overrides": _overrides(c),
        "regime": c["regime"],
        "module": c["module"],
        "method": c["method"],
        "verdict": c["verdict"],
        "expected": c["expected"],
        "match": c["match"],
        "mismatch_short": _mismatch_why(c["match"])[0],
        "mismatch_why": _mismatch_why(c["match"])[1],
        "expected_reason": c["expected_reason"],
        "message": c["message"],
        "stamp": _stamp_text(c["stamp"]) if show_stamp else None,
        "runtime": fmt.fmt_seconds(c["runtime_s"]) if c["runtime_s"] is not None else None,
        "main_runtime": fmt.fmt_seconds(c["main_runtime_s"]) if c["main_runtime_s"] is not None else None,
        "key_numbers": [_number_row(k["name"], k) for k in c["key_numbers"]],
        "conditions": [_condition_row(k) for k in c["conditions"]],
        "controls": [{"name": k["name"], "description": k["description"] or "", "expected": k["expected"],
                      "observed": k["observed"], "match": k["expected"] == k["observed"],
                      "not_run": k["observed"] == NOT_RUN,
                      "runtime": fmt.fmt_seconds(k["runtime_s"]) if k["runtime_s"] is not None else "",
                      "overrides": ", ".join([f"{key} = {fmt.fmt_inline(v)}" for key, v in k["overrides"].items()]
                                             + _control_sizes(k, c["stamp"]))}
                     for k in c["controls"]],
        "counterexample": None if cex is None else {
            "message": cex["message"] or "",
            "seed": fmt.fmt_number(cex["seed"]),
            "params": fmt.fmt_inline(cex["params"]) if cex["params"] else "",
            "numbers": fmt.evidence_tree(cex["numbers"], max_depth=1),
            "extra": fmt.evidence_tree({k: v for k, v in cex.items()
                                        if k not in ("message", "seed", "params", "numbers")}, max_depth=1),
        },
        "regions": [_region_view(r, f) for r, f in zip(c["regions"], derived["regions"])],
        "scaling": [_scaling_view(s, f) for s, f in zip(c["scaling"], derived["scaling"])],
        "stress": None if stress is None else _stress_view(stress, derived["stress"][0]),
        "audit": fmt.records(c["robustness_audit"]) if c["robustness_audit"] else None,
        "figures": figures.own[c["id"]],
        "replay": replay_command(c, data["profile"]),
        "check_command": c.get("check_command") if isinstance(c.get("check_command"), str) else None,
        # the appendix
        "evidence": fmt.evidence_tree(c["evidence"], max_depth=EVIDENCE_DEPTH),
        "params": fmt.Block(fmt.pretty_text(c["params"])) if c["params"] else None,
        "control_details": fmt.evidence_tree(control_details, max_depth=1) if control_details else None,
        "examples": example_node,
        "examples_shown": min(len(examples), max_examples),
        "examples_listed": len(examples),
        "n_examples": c["n_examples"],
    }


def _control_sizes(control: dict, stamp: dict) -> list[str]:
    """``["at ci sizes"]`` when the control ran at another profile's sizes than its claim (the thorough profile's rule)."""
    size = control.get("size_profile")
    return [f"at {size} sizes"] if size and size != stamp.get("profile") else []


def _number_row(name: str, d: dict) -> dict:
    value, lower, upper, method = (d.get(k) for k in fmt.INTERVAL_KEYS)
    if lower is None and upper is None or (method == "exact" and lower == value == upper):
        interval = ""
    else:
        interval = f"[{'?' if lower is None else fmt.fmt_number(lower)}, {'?' if upper is None else fmt.fmt_number(upper)}]"
    how = [str(method)] if method else []
    if d.get("level") is not None:
        how.append(f"{fmt.fmt_number(100 * d['level'])}%")
    if d.get("n") is not None:
        how.append(f"n={fmt.fmt_number(d['n'])}")
    return {"name": name, "value": fmt.fmt_number(value), "interval": interval, "method": ", ".join(how),
            "text": fmt.fmt_interval(d)}


_SIDE = {"above": ">", "below": "<", "greater": ">", "less": "<", "at_least": ">=", "at_most": "<="}


def _condition_row(k: dict) -> dict:
    est = k["estimate"]
    side = _SIDE.get(k["side"], k["side"] or "")
    threshold = "" if k["threshold"] is None else fmt.fmt_number(k["threshold"])
    return {"name": k["name"], "estimate": fmt.fmt_interval(est) if fmt.is_interval(est) else fmt.fmt_inline(est),
            "required": f"{side} {threshold}".strip(), "verdict": k["verdict"] or ""}


def _region_view(r: dict, figure: dict | None) -> dict:
    cex = r["smallest_counterexample"]
    return {"id": r["id"], "title": r["title"] or r["id"], "axes": r["axes"], "holds_in": r["holds_in"],
            "counts": {v: sum(c["verdict"] == v for c in r["cells"]) for v in VERDICTS},
            "headline": fmt.fmt_inline(r["headline"]) if r["headline"] else None,
            "counterexample": None if cex is None else f"{fmt.fmt_inline(cex['params'])} ({cex['verdict']})"
                              + (f": {fmt.fmt_inline(cex['numbers'])}" if cex["numbers"] else ""),
            "figure": figure,
            "cells": fmt.records([{**c["params"], "verdict": c["verdict"] + (" (headline)" if c["headline"] else ""),
                                   **c["numbers"]} for c in r["cells"]])}


def _scaling_view(s: dict, figure: dict | None) -> dict:
    ff = s["first_failure"]
    return {"id": s["id"], "title": s["title"] or s["id"], "x": s["x"], "law": s["law"], "figure": figure,
            "slopes": [_number_row(k["name"], k) for k in s["slopes"]],
            "first_failure": None if ff is None else fmt.fmt_inline(ff),
            "points": fmt.records([{k: v for k, v in p.items() if k != "numbers"} | p["numbers"]
                                   for p in s["points"]])}


def _stress_view(st: dict, figure: dict | None) -> dict:
    cex = st["counterexample"]
    return {"varied": _varied_text(st["varied"]), "seed": fmt.fmt_number(st["seed"]),
            "budget": fmt.fmt_number(st["budget"]), "budget_used": fmt.fmt_number(st["budget_used"]),
            "counts": {v: sum(p["verdict"] == v for p in st["points"]) for v in VERDICTS},
            "boundaries": [{"key": k, "fail_side": fmt.fmt_number(b["fail_side"]),
                            "pass_side": fmt.fmt_number(b["pass_side"])} for k, b in st["boundaries"].items()],
            "counterexample": None if cex is None else
            f"{fmt.fmt_inline(cex['params'])} ({cex['verdict']})"
            + (f"; changed keys: {', '.join(map(str, cex['changed_keys']))}" if cex.get("changed_keys") else ""),
            "figure": figure,
            "points": fmt.records([{**p["params"], "verdict": p["verdict"], **p["numbers"]} for p in st["points"]])}


def _varied_text(varied: dict) -> str:
    """``{"net.b": {"lo": 0, "hi": 0.9}}`` -> ``net.b in [0, 0.9]``; ``{"values": [..]}`` -> ``key in {a, b}``."""
    parts = []
    for key, v in varied.items():
        if isinstance(v, dict) and "lo" in v and "hi" in v:
            parts.append(f"{key} in [{fmt.fmt_number(v['lo'])}, {fmt.fmt_number(v['hi'])}]")
        elif isinstance(v, dict) and isinstance(v.get("values"), list):
            parts.append(f"{key} in {{{', '.join(fmt.fmt_inline(x) for x in v['values'])}}}")
        else:
            parts.append(f"{key}: {fmt.fmt_inline(v)}")
    return "; ".join(parts)


def _overrides(c: dict) -> list[dict]:
    return [{"key": k, "value": fmt.fmt_inline(v["value"]),
             "default": None if v["default"] is None else fmt.fmt_inline(v["default"])}
            for k, v in c["overrides"].items()]


def _override_patterns(overrides: dict, esc) -> list[re.Pattern]:
    pats = []
    for key, item in overrides.items():
        leaf = key.rsplit(".", 1)[-1]
        value = fmt.fmt_inline(item["value"])
        pats.append(re.compile(rf"(?<![\w.]){re.escape(esc(leaf))}\s*=\s*{re.escape(esc(value))}(?![\w.])"))
    return pats


def mark_overrides_html(statement: str, overrides: dict) -> Markup:
    """The statement, escaped, with each ``leaf = value`` of an overridden key wrapped in ``<mark>``."""
    out = str(escape(statement))
    for pat in _override_patterns(overrides, lambda s: str(escape(s))):
        out = pat.sub(lambda m: f'<mark class="override" title="overridden">{m.group(0)}</mark>', out)
    return Markup(out)


def mark_overrides_md(statement: str, overrides: dict) -> str:
    """The statement, Markdown-escaped, with each overridden ``leaf = value`` in bold."""
    out = fmt.md_escape(statement)
    for pat in _override_patterns(overrides, fmt.md_escape):
        out = pat.sub(lambda m: f"**{m.group(0)}**", out)
    return out


def _runs(data: dict) -> list[str]:
    """The distinct runs the claim records come from (one line each)."""
    return list(dict.fromkeys(_stamp_text(c["stamp"]) for c in data["claims"]))


def _stamp_text(stamp: dict) -> str:
    dirty = {True: ", dirty", False: ""}.get(stamp.get("dirty"), "")
    return (f"commit {stamp.get('commit') or 'unknown'}{dirty}, profile {stamp.get('profile') or 'unknown'}, "
            f"started {stamp.get('started') or 'unknown'}")


def _comparison_view(cmp: Comparison, by_id: dict) -> dict:
    rows = [{"kind": ch.kind, "claim": ch.claim,
             "anchor": anchor(ch.claim) if ch.claim in by_id else (f"paper-{ch.claim}" if ch.kind in
                                                                   ("answer", "paper claim added") else None),
             "what": ch.what, "old": ch.old, "new": ch.new} for ch in cmp.changes]
    return {"old": cmp.old_label, "new": cmp.new_label, "summary": cmp.summary(),
            "verdict_changed": bool(cmp.verdict_changes), "rows": rows[:MAX_COMPARISON_ROWS], "total": len(rows),
            "verdicts": [r for r in rows if r["kind"] in ("verdict", "control", "answer")]}


def _dirty_text(dirty: Any) -> str:
    if dirty is True:
        return "dirty (uncommitted changes)"
    if dirty is False:
        return "clean"
    return "unknown"


def _manifest(data: dict) -> list[tuple[str, str]]:
    """(label, text) rows: the known environment fields first, then any others verbatim."""
    env = data["environment"]
    rows = [("Schema", str(data["schema"])), ("Profile", data["profile"]), ("Command", data["command"])]
    if data["spec"]:
        rows.append(("Specification", data["spec"]))
    for key, label in _ENV_ORDER:
        v = env.get(key)
        if key == "dirty":
            text = _dirty_text(v)
        elif key == "runtime_s":
            text = fmt.fmt_seconds(v)
        elif v is None:
            text = "unknown"
        else:
            text = fmt.fmt_inline(v) if isinstance(v, (dict, list)) else fmt.fmt_number(v)
        rows.append((label, text))
    known = {k for k, _ in _ENV_ORDER} | {"packages"}
    rows += [(str(k), fmt.fmt_inline(v)) for k, v in env.items() if k not in known]
    return rows


# --------------------------------------------------------------------------- templates

def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a template typo is a bug, not an empty cell
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters.update(md=fmt.md_escape, code=fmt.md_code, tree_md=fmt.tree_markdown)
    return env


# --------------------------------------------------------------------------- output

def _write_atomically(out_dir: Path, texts: dict[str, str], pngs: dict[str, bytes],
                      pdf_engine: str | None = None) -> list[Path]:
    absolute = out_dir.absolute()
    if absolute.exists() and not absolute.is_dir():
        raise OSError(f"--out {out_dir}: exists and is not a folder")
    names = [REPORT_MD, INDEX_HTML] + ([REPORT_PDF] if pdf_engine is not None else [])
    # Every destination must be replaceable before anything moves: a folder where a page goes (or a file where
    # the figures go) would stop the moves halfway, with part of the old report already replaced.
    blocked = [n for n in names if (absolute / n).is_dir() and not (absolute / n).is_symlink()]
    if (absolute / FIGURES_DIR).exists() and not (absolute / FIGURES_DIR).is_dir():
        blocked.append(FIGURES_DIR)
    if blocked:
        raise OSError(f"--out {out_dir}: {', '.join(blocked)} cannot be replaced (a folder where a file goes, "
                      f"or a file where the figures go)")
    created = not absolute.exists()
    absolute.mkdir(parents=True, exist_ok=True)
    # the temporary folder inside --out: the moves below stay on one filesystem (--out may be a mount point)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".report.tmp-", dir=absolute))
    except OSError as exc:
        if created:
            absolute.rmdir()
        raise OSError(f"--out {out_dir}: not writable ({exc.strerror or type(exc).__name__})") from None
    try:
        (tmp / FIGURES_DIR).mkdir()
        for name, data in pngs.items():
            (tmp / FIGURES_DIR / name).write_bytes(data)
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8", newline="\n")
        pdf = []
        if pdf_engine is not None:  # printed from the finished page, before anything moves in
            write_pdf(tmp / INDEX_HTML, tmp / REPORT_PDF, engine=pdf_engine)
            pdf = [REPORT_PDF]
        target = out_dir / FIGURES_DIR
        if target.exists() or target.is_symlink():
            os.replace(target, tmp / "previous-figures")
        os.replace(tmp / FIGURES_DIR, target)
        # index.html last: it is what a reader opens, so it appears only when all else is in place.
        for name in (REPORT_MD, *pdf, INDEX_HTML):
            os.replace(tmp / name, out_dir / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            shutil.rmtree(absolute, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    return [out_dir / REPORT_MD, out_dir / INDEX_HTML] + [out_dir / n for n in pdf] + \
        [out_dir / FIGURES_DIR / n for n in pngs]
