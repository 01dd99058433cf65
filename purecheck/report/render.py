"""Render a results file into ``report.md``, a self-contained ``index.html`` and ``figures/*.png``.

Output is a pure function of the results: no clock, no host details other than those in
the results' environment manifest, fixed figure bytes. Files are written into a temporary
directory beside ``out_dir`` and moved in at the end, so an error leaves ``out_dir``
untouched; on success only ``report.md``, ``index.html`` and ``figures/`` in ``out_dir``
are replaced (``figures/`` as a whole, so no stale figure survives), anything else there
(e.g. ``results.json``) is left alone.
"""
from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from . import format as fmt
from .figures import DPI, FIGSIZE, figure_png
from .schema import VERDICTS, figure_filename, load_results, validate_results

TEMPLATES = Path(__file__).parent / "templates"
REPORT_MD, INDEX_HTML, FIGURES_DIR = "report.md", "index.html", "figures"
DEFAULT_MAX_EXAMPLES = 10
_ENV_ORDER = (("commit", "Commit"), ("dirty", "Uncommitted changes"), ("python", "Python"),
              ("platform", "Platform"), ("machine", "Machine"), ("cpus", "CPUs"),
              ("seeds", "Seeds"), ("started", "Started"), ("runtime_s", "Runtime"))


def render_report(results: dict | Path | str, out_dir: Path | str, *,
                  max_examples: int = DEFAULT_MAX_EXAMPLES) -> list[Path]:
    """Render ``results`` (a results dict or a path to results.json) into ``out_dir``.

    Returns the written paths: ``report.md``, ``index.html``, then the figure PNGs in
    the order the claims list them. Raises :class:`~purecheck.report.schema.ReportInputError`
    for bad input and ``OSError`` for an unusable ``out_dir``; in both cases ``out_dir``
    is not modified.
    """
    data = load_results(results) if isinstance(results, (str, Path)) else validate_results(results)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"output path exists and is not a directory: {out_dir}")

    pngs = {figure_filename(f["id"]): figure_png(f) for c in data["claims"] for f in c["figures"]}
    context = build_context(data, pngs, max_examples=max_examples)
    env = _environment()
    texts = {REPORT_MD: env.get_template("report.md.j2").render(context),
             INDEX_HTML: env.get_template("index.html.j2").render(context)}
    return _write_atomically(out_dir, texts, pngs)


# --------------------------------------------------------------------------- context

def build_context(data: dict, pngs: dict[str, bytes], *, max_examples: int = DEFAULT_MAX_EXAMPLES) -> dict:
    """Everything the templates show, already formatted (templates only lay it out)."""
    claims = [_claim_view(c, data["profile"], pngs, max_examples) for c in data["claims"]]
    counts = {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS}
    env = data["environment"]
    return {
        "profile": data["profile"],
        "command": data["command"],
        "commit": str(env.get("commit", "unknown")),
        "dirty": _dirty_text(env.get("dirty")),
        "claims": claims,
        "counts": counts,
        "mismatches": [c for c in claims if not c["match"]],
        "control_mismatches": sum(not k["match"] for c in claims for k in c["controls"]),
        "assumptions": data["assumptions"],
        "manifest": _manifest(data),
        "packages": sorted((str(k), str(v)) for k, v in (env.get("packages") or {}).items()),
        "figure_px": (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)),
    }


def replay_command(claim: dict, profile: str) -> str:
    """The command that replays ``claim`` under the same Hypothesis profile."""
    replay = claim["replay"]
    return replay if "HYPOTHESIS_PROFILE" in replay else f"HYPOTHESIS_PROFILE={profile} {replay}"


def _claim_view(c: dict, profile: str, pngs: dict[str, bytes], max_examples: int) -> dict:
    examples = c["drawn_examples"]
    if examples and all(isinstance(e, dict) for e in examples):
        example_node: Any = fmt.records(examples, max_rows=max_examples)
    else:
        example_node = fmt.Sequence([fmt.evidence_tree(e) for e in examples[:max_examples]], len(examples))
    cex = c["counterexample"]
    return {
        "id": c["id"],
        "anchor": "claim-" + figure_filename(c["id"])[:-4],
        "paper_claim": c["paper_claim"],
        "title": c["title"],
        "statement": c["statement"],
        "regime": c["regime"],
        "module": c["module"],
        "method": c["method"],
        "verdict": c["verdict"],
        "expected": c["expected"],
        "match": c["verdict"] == c["expected"],
        "expected_reason": c["expected_reason"],
        "runtime": fmt.fmt_seconds(c["runtime_s"]) if c["runtime_s"] is not None else None,
        "key_numbers": [{"name": k["name"], "text": fmt.fmt_interval(k)} for k in c["key_numbers"]],
        "evidence": fmt.evidence_tree(c["evidence"]),
        "controls": [{"name": k["name"], "description": k["description"] or "", "expected": k["expected"],
                      "observed": k["observed"], "match": k["expected"] == k["observed"]}
                     for k in c["controls"]],
        "counterexample": None if cex is None else {
            "message": cex["message"] or "",
            "seed": fmt.fmt_number(cex["seed"]),
            "params": fmt.evidence_tree(cex["params"]),
            "numbers": fmt.evidence_tree(cex["numbers"]),
            "extra": fmt.evidence_tree({k: v for k, v in cex.items()
                                        if k not in ("message", "seed", "params", "numbers")}),
        },
        "figures": [{"id": f["id"], "kind": f["kind"], "title": f["title"] or f["id"],
                     "file": f"{FIGURES_DIR}/{figure_filename(f['id'])}",
                     "data_uri": "data:image/png;base64,"
                                 + base64.b64encode(pngs[figure_filename(f["id"])]).decode("ascii")}
                    for f in c["figures"]],
        "examples": example_node,
        "examples_shown": min(len(examples), max_examples),
        "examples_listed": len(examples),
        "n_examples": c["n_examples"],
        "replay": replay_command(c, profile),
    }


def _dirty_text(dirty: Any) -> str:
    if dirty is True:
        return "dirty (uncommitted changes)"
    if dirty is False:
        return "clean"
    return "unknown"


def _manifest(data: dict) -> list[tuple[str, str]]:
    """(label, text) rows: the known environment fields first, then any others verbatim."""
    env = data["environment"]
    rows = [("Profile", data["profile"]), ("Command", data["command"])]
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

def _write_atomically(out_dir: Path, texts: dict[str, str], pngs: dict[str, bytes]) -> list[Path]:
    absolute = out_dir.absolute()
    absolute.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{absolute.name}.tmp-", dir=absolute.parent))
    try:
        (tmp / FIGURES_DIR).mkdir()
        for name, data in pngs.items():
            (tmp / FIGURES_DIR / name).write_bytes(data)
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8", newline="\n")
        out_dir.mkdir(exist_ok=True)
        target = out_dir / FIGURES_DIR
        if target.exists() or target.is_symlink():
            os.replace(target, tmp / "previous-figures")
        os.replace(tmp / FIGURES_DIR, target)
        # index.html last: it is what a reader opens, so it appears only when all else is in place.
        for name in (REPORT_MD, INDEX_HTML):
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out_dir / REPORT_MD, out_dir / INDEX_HTML] + [out_dir / FIGURES_DIR / n for n in pngs]
