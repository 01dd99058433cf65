"""The claims catalogue as a document: ``docs/claims.md`` rendered from the registry.

Every proposition with its rendered statement and regime, scope, controls (with their
parameter overrides), registered verdict and reason, and its parameter table (key, default,
role, allowed values, meaning, and the size presets of each profile). The document is
generated, never edited: ``python -m theorems.catalogue_doc > docs/claims.md``; a registry
test fails when the committed file differs from what the registry renders.
"""
from __future__ import annotations

import sys

from .parameters.core import _show
from .profiles import CONTROL_SIZES, PROFILE_NAMES
from .registry import CLAIMS, PAPER_CLAIMS

HEADER = """# The claims catalogue

Generated from the registry (`theorems/registry.py`, entries in `theorems/catalogue/`) by
`python -m theorems.catalogue_doc > docs/claims.md`; do not edit by hand. The model, the
conventions and the scope of each claim are explained in [model.md](model.md). Statements
are rendered from the registered parameters of the quick profile; `purecheck params ID`
prints the same parameters as TOML, `pytest theorems --set ID.key=value` re-checks a claim
at other constants. Negative controls run at their own profile's sizes, except where
`theorems/profiles.py` says otherwise: {controls}.
"""


def _cell(v) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def render_claim(cid: str) -> str:
    c = CLAIMS[cid]
    out = [f"## {cid}. {c.title}", ""]
    paper = ", ".join(c.paper_claims) or "none"
    out.append(f"- **scope:** {c.scope}" + (f" ({c.scope_note})" if c.scope_note else ""))
    out.append(f"- **paper claims:** {paper}")
    params = c.defaults()
    text = c.render(params)
    out.append(f"- **statement:** {text['statement']}")
    out.append(f"- **regime:** {text['regime']}")
    out.append(f"- **registered verdict:** {c.expected}" + (f" ({c.reason(params)})" if c.expected_reason else ""))
    for prof, verdict, _ in c.expected_by_profile:
        out.append(f"- **registered verdict at {prof}:** {verdict} ({c.reason(c.defaults(prof), prof)})")
    if c.fails_on:
        out.append("- **registered failure:** the conditions that fail are "
                   + ", ".join(f"`{p}`" for p in c.fails_on) + " (each at least once)"
                   + (" and possibly " + ", ".join(f"`{p}`" for p in c.may_fail) if c.may_fail else "")
                   + "; any other failing condition is a mismatch (`*` stands for any text)")
    for d in c.differences:
        out.append(f"- **differs from the paper:** {d}")
    out.append(f"- **check:** `{c.check}`; tests: `{c.tests}`; replay: `{c.replay()}`")
    out.append("- **controls:**")
    for k in c.controls:
        over = ", ".join(f"`{key} = {_show(v)}`" for key, v in k.overrides) or "no parameter change"
        out.append(f"  - `{k.name}` (expected {k.expected}): {k.description} [{over}]")
    if c.stress is not None:
        vary = ", ".join(f"`{k}` in {_show(v)}" for k, v in c.stress.vary)
        out.append(f"- **stress search:** {vary}; budget {c.stress.budget} points")
    out += ["", "| key | default | role | allowed | meaning | " + " | ".join(PROFILE_NAMES[1:]) + " |",
            "|---|---|---|---|---|" + "---|" * (len(PROFILE_NAMES) - 1)]
    presets = {p: c.defaults(p).flat() for p in PROFILE_NAMES[1:]}
    base = params.flat()
    for k, spec in params.specs().items():
        per = [(_show(presets[p][k]) if presets[p][k] != base[k] else "") for p in PROFILE_NAMES[1:]]
        out.append(f"| `{k}` | {_cell(_show(base[k]))} | {spec.role} | {_cell(spec.allowed())} | {_cell(spec.doc)} | "
                   + " | ".join(_cell(x) for x in per) + " |")
    out.append("")
    return "\n".join(out)


def render() -> str:
    rule = "; ".join(f"at {p} the controls run at {q}'s sizes" for p, q in CONTROL_SIZES.items()) or "none"
    parts = [HEADER.format(controls=rule), "## The paper's claims", ""]
    parts += [f"- **{k}**: {v}" for k, v in PAPER_CLAIMS.items()]
    parts += ["", "| id | title | scope | paper claims | registered |", "|---|---|---|---|---|"]
    parts += [f"| [{c.id}](#{c.id.lower()}-{_anchor(c.title)}) | {_cell(c.title)} | {c.scope} | "
              f"{', '.join(c.paper_claims) or '-'} | {c.expected} |" for c in CLAIMS.values()]
    parts.append("")
    parts += [render_claim(cid) for cid in CLAIMS]
    return "\n".join(parts).rstrip() + "\n"


def _anchor(title: str) -> str:
    keep = "".join(ch.lower() if ch.isalnum() or ch in " -" else "" for ch in title)
    return keep.strip().replace(" ", "-")


if __name__ == "__main__":
    sys.stdout.write(render())
