"""The registry agrees with the checks, the parameters and the profiles.

Each test here names the defect it catches:
- a parameter the check uses but the rendered statement never shows (prose drifting from code);
- a strategy drawing outside the range the registry states;
- a profile preset changing what is claimed (a non-size key);
- a TOML round trip that does not give back the same parameters (``purecheck params`` / ``--params``);
- a registered reason quoting numbers of a past run (those belong in results.json);
- a claim without a bound main test or control test.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from .parameters import ParamError, load_toml, render, template_keys, to_toml
from .profiles import PROFILE_NAMES
from .registry import CLAIMS

PARAMETERISED = list(CLAIMS.values())
IDS = [c.id for c in PARAMETERISED]


def test_every_claim_has_a_check_and_its_controls(request):
    seen = request.config._purecheck_coverage
    files = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    # Coverage is a property of the whole suite: on a partial collection (-k, single files) missing tests are
    # expected, so the check cannot be judged there and says so; `pytest theorems` (CI) always runs it.
    if request.config.option.keyword or files - request.config._purecheck_files:
        pytest.skip("only part of theorems/ was collected (-k or single files); run pytest theorems to check coverage")
    missing = {}
    for cid, claim in CLAIMS.items():
        want = {"main"} | {c.name for c in claim.controls}
        lacking = want - seen.get(cid, set())
        if lacking:
            missing[cid] = sorted(lacking)
    assert not missing, f"registry entries without a main test or control test: {missing}"


@pytest.mark.parametrize("cid", IDS)
def test_statement_shows_every_parameter_the_check_uses(cid):
    """Every setting, threshold and range appears in the statement or regime template (sizes and seeds too)."""
    claim = CLAIMS[cid]
    params = claim.defaults()
    missing = sorted(set(params.flat()) - claim.template_keys())
    assert not missing, f"{cid}: parameters not shown in the statement or regime: {missing}"
    unknown = sorted(claim.template_keys() - set(params.flat()))
    assert not unknown, f"{cid}: templates refer to keys the parameters do not have: {unknown}"
    text = claim.render(params)
    assert "{" not in text["statement"] + text["regime"], f"{cid}: unfilled template field in {text}"


@pytest.mark.parametrize("cid", IDS)
def test_rendered_statement_shows_the_values_used(cid):
    """Overriding a setting changes the rendered statement (the statement is not fixed prose)."""
    claim = CLAIMS[cid]
    params = claim.defaults()
    specs = params.specs()
    for k, v in params.flat().items():
        s = specs[k]
        if s.kind == "float" and s.role in ("setting", "threshold") and k in template_keys(claim.statement):
            new = v / 2 if v else (s.hi if s.hi is not None and math.isfinite(s.hi) and s.hi <= 1 else 0.5)
            if s.lo is not None and new < s.lo or s.hi is not None and new > s.hi or new == v:
                continue
            try:
                other = params.with_values({k: new})
            except ParamError:  # a cross-field rule (e.g. lo <= hi) refuses this value: try the next key
                continue
            assert claim.render(other)["statement"] != claim.render(params)["statement"], (
                f"{cid}: changing {k} from {v} to {new} leaves the statement unchanged")


@pytest.mark.parametrize("cid", IDS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_profile_presets_change_sizes_only(cid, profile):
    CLAIMS[cid].defaults(profile)  # raises TypeError naming the key when a preset touches a non-size parameter


@pytest.mark.parametrize("cid", IDS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_params_toml_round_trips(cid, profile, tmp_path):
    """``purecheck params ID`` output read back by ``--params`` gives the same parameters."""
    claim = CLAIMS[cid]
    params = claim.defaults(profile)
    path = tmp_path / "p.toml"
    path.write_text(to_toml(params))
    back = load_toml(path)
    assert set(back) == {cid}
    assert params.with_values(back[cid]) == params
    assert params.with_values(back[cid]).flat() == params.flat()


@pytest.mark.parametrize("cid", IDS)
def test_controls_are_valid_parameter_variants(cid):
    claim = CLAIMS[cid]
    params = claim.defaults()
    for ctl in claim.controls:
        variant = ctl.params(params)
        changed = variant.diff(params)
        assert changed or ctl.name == "inside_regime", f"{cid}/{ctl.name}: the control changes no parameter"


_PAST_RUN_NUMBER = re.compile(r"(?<![\w.{])\d+\.\d{2,}")


@pytest.mark.parametrize("cid", [c.id for c in PARAMETERISED if c.expected_reason])
def test_expected_reason_quotes_no_numbers_of_a_past_run(cid):
    """Reasons say why; numbers of a run live in results.json (parameter values are rendered from templates)."""
    claim = CLAIMS[cid]
    template = claim.expected_reason
    bare = re.sub(r"\{[^}]*\}", "", template)
    found = _PAST_RUN_NUMBER.findall(bare)
    assert not found, f"{cid}: expected_reason quotes numbers {found}; render parameters with {{section.key}}"
    render(template, claim.defaults())


def _range_keys(params):
    return {k.split(".", 1)[1]: v for k, v in params.flat().items() if params.specs()[k].role == "range"}


_SEARCH = settings(max_examples=1000, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))


def _drawn(example: dict, name: str) -> list[float]:
    """The values of quantity ``name`` in an example: the key itself, or the elements of ``name_i``'s list."""
    if name in example and not isinstance(example[name], (list, tuple, dict)):
        return [example[name]]
    if name.endswith("_i") and isinstance(example.get(name[:-2]), (list, tuple)):
        return list(example[name[:-2]])
    return []


@pytest.mark.parametrize("cid", [c.id for c in PARAMETERISED if c.strategy])
def test_strategy_draws_inside_the_registered_ranges(cid):
    """Each drawn quantity X with a registered range draw.X (or each element of X for draw.X_i) lies in it,
    and a search reaches both ends (a strategy with narrower or shifted bounds than registered fails)."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample

    claim = CLAIMS[cid]
    params = claim.defaults()
    ranges = {k: v for k, v in _range_keys(params).items() if isinstance(v[0], (int, float))}
    strategy = claim.strategy_function()(params)
    seen = {k: False for k in ranges}

    @_SEARCH
    @given(strategy)
    def draws(example):
        for k, (lo, hi) in ranges.items():
            for v in _drawn(example, k):
                seen[k] = True
                assert lo - 1e-12 <= v <= hi + 1e-12, f"{cid}: drew {k} = {v} outside draw.{k} = [{lo}, {hi}]"

    draws()
    for k, (lo, hi) in ranges.items():
        if not seen[k] or hi <= lo:
            continue
        near = 0.05 * (hi - lo)
        for end, test in (("low", lambda ex, k=k, lo=lo: any(v <= lo + near for v in _drawn(ex, k))),
                          ("high", lambda ex, k=k, hi=hi: any(v >= hi - near for v in _drawn(ex, k)))):
            try:
                find(strategy, test, settings=_SEARCH)
            except NoSuchExample:
                pytest.fail(f"{cid}: no draw of {k} reaches the {end} end of draw.{k} = [{lo}, {hi}]")


def test_vocabulary_keys_mean_one_thing():
    """A key shared by claims has one documentation line (modulo a claim's parenthetical note) and role."""
    seen: dict[str, tuple[str, str]] = {}
    for claim in PARAMETERISED:
        for k, s in claim.defaults().specs().items():
            if k.split(".")[0] in ("judge", "draw", "grid"):
                continue
            base = s.doc.split(" (")[0]
            if k in seen:
                assert seen[k] == (base, s.role), f"{k}: {claim.id} documents it as {(base, s.role)}, another claim as {seen[k]}"
            seen[k] = (base, s.role)


def test_committed_catalogue_document_is_what_the_registry_renders():
    """docs/claims.md is generated; a registry change without regenerating it is caught here."""
    from pathlib import Path

    from .catalogue_doc import render as render_catalogue

    path = Path(__file__).resolve().parent.parent / "docs" / "claims.md"
    assert path.read_text() == render_catalogue(), (
        "docs/claims.md is stale: regenerate it with python -m theorems.catalogue_doc > docs/claims.md")
