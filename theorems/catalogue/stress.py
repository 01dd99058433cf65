"""Catalogue entries of the stress family P2r, P2i, P1z: instances of the generic stress search.

Each claim is a search (:mod:`theorems.stress_search`) over the parameters of a proposition,
run by its check (:mod:`theorems.checks.stress`) with the ranges, budget and seed registered
here as parameters (``draw.*``, ``search.*``). The claim is that the proposition holds at
every point of those ranges; it is registered ``fail``, and the check also asserts WHERE it
fails, as hypothesis' own tests assert ``minimal(...)``: the search's smallest counterexample
(shrunk towards the reference point, the proposition's own defaults) must change exactly the
registered keys (``judge.changed``), and the boundary the search brackets must be the
registered one. A search that fails elsewhere is red, not a registered failure. The control
``inside_regime`` is the same search over ranges inside the proposition's regime, where it
must find no counterexample.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..parameters import ClaimParams, ParamError, Section, key, param
from ..parameters.vocabulary import SEED_MAX
from ..registry import Claim, control, register
from .supervised import P1Eval, P1Model, P1Opt, P2Eval, P2Grid, P2Judge, P2Model, P2Net, P2Params


def _search(points: int) -> type[Section]:
    @dataclass(frozen=True)
    class Search(Section):
        NAME = "search"
        budget: int = key("search.budget", points)
        seed: int = key("search.seed", 0)
        batch: int = key("search.batch", 4)
        tol: float = key("search.tol", 1e-3)

    return Search


def _changed(default: tuple[str, ...]):
    return param(default, "keys the smallest counterexample must change (the registered boundary's keys)",
                 role="threshold", length=(1, 16))


SEARCH_REGIME = ("stress search of {search.budget} points (seed {search.seed}, batches of {search.batch}, boundaries "
                 "bisected to {search.tol:g} of each range)")


# ======================================================================== P2r: the pure net past eps ~ min(b, 1-b)
@dataclass(frozen=True)
class P2rModel(Section):
    NAME = "model"
    d: int = key("model.d", 64, lo=2, hi=4096)
    k: float = key("model.k", 4.0)


@dataclass(frozen=True)
class P2rNet(Section):
    NAME = "net"
    b: float = key("net.b", 0.3, lo=0.0, hi=1.0, open_lo=True, open_hi=True, doc="eps is measured in min(b, 1 - b)")


@dataclass(frozen=True)
class P2rEval(Section):
    NAME = "eval"
    f: float = param(0.5, "attack radius in units of min(b, 1 - b): eps = f min(b, 1 - b)", lo=0.0, hi=100.0)


@dataclass(frozen=True)
class P2rDraw(Section):
    NAME = "draw"
    f: tuple = param((0.0, 4.0), "range of eval.f searched", role="range", lo=0.0, hi=100.0)
    b: tuple = param((0.02, 0.98), "range of net.b searched", role="range", lo=0.0, hi=1.0, open_lo=True, open_hi=True)
    k: tuple = param((1.0, 8.0), "range of model.k searched", role="range", lo=0.0, hi=1000.0, open_lo=True)
    d: tuple = param((16, 64, 256), "values of model.d searched", lo=2, hi=4096, length=(1, 16))


@dataclass(frozen=True)
class P2rJudge(Section):
    NAME = "judge"
    changed: tuple = _changed(("eval.f",))
    f_tol: float = param(0.02, "relative slack of the registered boundary of f, [1, (1 - b)/min(b, 1 - b)]",
                         role="threshold", lo=0.0, hi=1.0)


P2rSearch = _search(60)


@dataclass(frozen=True)
class P2rParams(ClaimParams):
    CLAIM = "P2r"
    model: P2rModel = P2rModel()
    net: P2rNet = P2rNet()
    eval: P2rEval = P2rEval()
    draw: P2rDraw = P2rDraw()
    search: P2rSearch = P2rSearch()
    judge: P2rJudge = P2rJudge()

    def validate(self) -> None:
        _reference_inside(self, {"eval.f": "draw.f", "net.b": "draw.b", "model.k": "draw.k", "model.d": "draw.d"})


def _reference_inside(params: ClaimParams, pairs: dict[str, str]) -> None:
    """The reference point (where the search shrinks to) must lie in the searched ranges."""
    for k, r in pairs.items():
        v, rng = params.get(k), params.get(r)
        spec = params.specs()[r]
        inside = (rng[0] <= v <= rng[1]) if spec.role == "range" else (v in rng)
        if not inside:
            raise ParamError(f"{r} must contain the reference {k} = {v!r}, got {list(rng)}")


register(Claim(
    id="P2r", title="Stress: the pure net past eps ~ min(b, 1-b)",
    paper_claims=("C2",), scope="extension",
    scope_note="stress: where P2's survival statement stops holding outside its regime",
    statement="P2's survival statement holds at every searched point: the pure net's (threshold b) exact l2 robust "
              "error at eps = f min(b, 1 - b) stays below the A4 level (half of the clean net's correct mass "
              "broken), for f in [{draw.f}], b in [{draw.b}], k in [{draw.k}] expected active features and d in "
              "({draw.d}).",
    regime="sigma = 0, unit magnitudes, uniform w* = 1/sqrt(d), identity dictionary, exact engine; " + SEARCH_REGIME +
           ", shrinking towards f = {eval.f}, b = {net.b}, k = {model.k}, d = {model.d}; registered failure: the "
           "smallest counterexample changes only ({judge.changed}) and the boundary of f through it lies in "
           "[1, (1 - b)/min(b, 1 - b)] within a relative {judge.f_tol:g}",
    params=P2rParams, check="theorems.checks.stress:check_p2r", tests="theorems/test_stress.py",
    method="stress search + exact",
    expected="fail",
    fails_on=("failing points found by the search",),
    expected_reason="Outside its regime the statement breaks: with sparse codes the pure net survives every radius "
                    "below min(b, 1 - b) (f < 1) and is broken once eps reaches 1 - b, the cost of erasing one unit "
                    "feature "
                    "(f = (1 - b)/min(b, 1 - b), which is 1 for b >= 1/2); the search shrinks to a counterexample "
                    "that changes only ({judge.changed}) and brackets its boundary in f between the two.",
    controls=(control("inside_regime", "f in [0, 0.5], k <= 4, d >= 64 (k/d <= 1/16): the search finds no "
                                       "counterexample", expected="pass", draw__f=(0.0, 0.5), draw__k=(1.0, 4.0),
                      draw__d=(64, 256, 1024), draw__b=(0.05, 0.95)),),
    profiles=("stress",),
))


# ======================================================================== P2i: the sqrt(d/k) law under l_inf
@dataclass(frozen=True)
class P2iGrid(P2Grid):
    d: tuple = param((16, 64, 256, 1024), "dimensions d at which both critical radii are computed",
                     role="size", lo=2, hi=100_000, length=(3, 64))


@dataclass(frozen=True)
class P2iDraw(Section):
    NAME = "draw"
    norm: tuple = param(("l2", "linf"), "values of eval.norm searched", choices=("l2", "linf"), length=(1, 2))
    b: tuple = param((0.1, 0.7), "range of net.b searched", role="range", lo=0.0, hi=1.0)
    k: tuple = param((2.0, 3.0, 4.0, 5.0, 6.0), "values of model.k searched (integers: for fractional k the lattice "
                                                "of margins bends the l2 slope, a boundary of its own)",
                     lo=0.0, hi=1000.0, length=(1, 64))


@dataclass(frozen=True)
class P2iJudge(P2Judge):
    changed: tuple = _changed(("eval.norm",))
    linf_slope_lo: float = param(0.8, "lowest slope accepted as the l_inf law d/sqrt(k) (slope 1)", role="threshold",
                                 lo=-10, hi=10)
    linf_slope_hi: float = param(1.2, "highest slope accepted as the l_inf law d/sqrt(k)", role="threshold",
                                 lo=-10, hi=10)


P2iSearch = _search(16)


@dataclass(frozen=True)
class P2iParams(ClaimParams):
    CLAIM = "P2i"
    model: P2Model = P2Model()
    net: P2Net = P2Net()
    grid: P2iGrid = P2iGrid()
    eval: P2Eval = P2Eval()
    draw: P2iDraw = P2iDraw()
    search: P2iSearch = P2iSearch()
    judge: P2iJudge = P2iJudge()

    def validate(self) -> None:
        P2Params(model=self.model, net=self.net, grid=self.grid, eval=self.eval, judge=self.judge)  # P2's own rules
        if self.model.dictionary != "identity" and "linf" in self.draw.norm:
            raise ParamError(f"draw.norm linf needs model.dictionary = identity, got {self.model.dictionary!r}")
        _reference_inside(self, {"eval.norm": "draw.norm", "net.b": "draw.b", "model.k": "draw.k"})


register(Claim(
    id="P2i", title="Stress: the sqrt(d/k) law under l_inf with the identity dictionary",
    paper_claims=("C2",), scope="extension",
    scope_note="stress: where P2's sqrt(d/k) law stops holding (threat model and dictionary)",
    statement="P2's scaling holds at every searched point: both nets at the clean Bayes level (gap below "
              "{judge.clean_tol:g}), the least-squares log-log slope of eps_c(pure)/eps_c(linear) over d in "
              "({grid.d}) lies in [{judge.slope_lo}, {judge.slope_hi}] and the ratio grows at every step, for the "
              "attack norm in ({draw.norm}), b in [{draw.b}] and k in ({draw.k}).",
    regime="P2's model: sigma = 0, unit magnitudes, uniform w*, {model.dictionary} dictionary, k under {model.law}; "
           "exact engine, critical radii by {eval.bisection} bisection halvings; " + SEARCH_REGIME +
           ", shrinking towards norm {eval.norm}, b = {net.b}, k = {model.k}; registered failure: the smallest "
           "counterexample changes only ({judge.changed}), to l_inf, where the slope lies in [{judge.linf_slope_lo}, "
           "{judge.linf_slope_hi}]",
    params=P2iParams, check="theorems.checks.stress:check_p2i", tests="theorems/test_stress.py",
    method="stress search + exact",
    expected="fail",
    fails_on=("failing points found by the search",),
    expected_reason="Under l_inf with the identity dictionary the dense net's dual norm is ||w*||_1 = sqrt(d) ||w*||_2 "
                    "while the pure net is limited by b alone: the ratio grows like d/sqrt(k) (slope 1), outside "
                    "[{judge.slope_lo}, {judge.slope_hi}]. The advantage is larger, but the sqrt(d/k) law is an l2 "
                    "fact; the search shrinks to the norm alone ({judge.changed}).",
    controls=(control("inside_regime", "l2 only: the slope stays in the registered band at every searched b and "
                                       "integer k", expected="pass", draw__norm=("l2",)),),
    profiles=("stress",),
))


# ======================================================================== P1z: purification's loss at b = 0
@dataclass(frozen=True)
class P1zNet(Section):
    NAME = "net"
    mixing_seed: int = key("net.mixing_seed", 0)
    t: float = key("net.t", 0.1, hi=10.0)


@dataclass(frozen=True)
class P1zTrain(Section):
    NAME = "train"
    eps: float = key("train.eps", 0.25, hi=10.0, doc="radius of the adversarial loss that is minimised; 0 = clean")
    b_init: float = key("train.b_init", 0.3, hi=1.0, doc="the fixed threshold of P1's local statement")


@dataclass(frozen=True)
class P1zDraw(Section):
    NAME = "draw"
    b_init: tuple = param((0.0, 0.9), "range of train.b_init searched", role="range", lo=0.0, hi=1.0)
    t: tuple = param((0.05, 0.2), "range of net.t searched", role="range", lo=0.0, hi=10.0)
    mixing_seed: tuple = param((0, 10_000), "range of net.mixing_seed searched", role="range", lo=0, hi=SEED_MAX)


@dataclass(frozen=True)
class P1zJudge(Section):
    NAME = "judge"
    rise_tol: float = param(1e-6, "smallest rise of the optimal adversarial loss counted as a rise (optimisation "
                                  "tolerance)", role="threshold", lo=0.0, hi=1.0)
    changed: tuple = _changed(("train.b_init",))
    b_tol: float = param(0.02, "largest threshold of the smallest counterexample counted as b = 0", role="threshold",
                         lo=0.0, hi=1.0, open_lo=True)


P1zSearch = _search(40)


@dataclass(frozen=True)
class P1zParams(ClaimParams):
    CLAIM = "P1z"
    model: P1Model = P1Model()
    net: P1zNet = P1zNet()
    train: P1zTrain = P1zTrain()
    opt: P1Opt = P1Opt()
    eval: P1Eval = P1Eval()
    draw: P1zDraw = P1zDraw()
    search: P1zSearch = P1zSearch()
    judge: P1zJudge = P1zJudge()

    def validate(self) -> None:
        _reference_inside(self, {"train.b_init": "draw.b_init", "net.t": "draw.t", "net.mixing_seed": "draw.mixing_seed"})


register(Claim(
    id="P1z", title="Stress: purification's loss at b = 0",
    paper_claims=("C1", "C2"), scope="extension",
    scope_note="stress: where P1's local statement stops holding (fixed threshold down to b = 0)",
    statement="P1's local statement with the threshold held fixed holds at every searched point: the mixing "
              "Q(t) = expm(tA) raises the optimal (over lambda in [0, {opt.lam_max}]) adversarial logistic loss at "
              "radius {train.eps} above the pure net's by more than {judge.rise_tol:g}, for the fixed threshold b "
              "in [{draw.b_init}], t in [{draw.t}] and A's seed in [{draw.mixing_seed}].",
    regime="P1's setting: sigma = 0, unit magnitudes, d = {model.d}, k = {model.k} (exact enumeration of z), l2; "
           "margins exact at t = 0, PGD ({eval.pgd_steps} steps, {eval.pgd_restarts} restarts, seed {eval.seed}) "
           "with a certified bound for t > 0 (b's optimisation range [0, {opt.b_max}] and {opt.b_grid}-point grid "
           "unused: b is fixed); " + SEARCH_REGIME + ", shrinking towards b = {train.b_init}, t = {net.t}, seed "
           "{net.mixing_seed}; registered failure: the smallest counterexample changes only ({judge.changed}), to "
           "b <= {judge.b_tol:g}",
    params=P1zParams, check="theorems.checks.stress:check_p1z", tests="theorems/test_stress.py",
    method="stress search + optimisation over exact enumeration",
    expected="fail",
    fails_on=("failing points found by the search",),
    expected_reason="At b = 0 the net is linear and the loss depends on Q only through sum_j a_j W_j (S4): the rise "
                    "is 0. The search shrinks to a counterexample that changes only ({judge.changed}), to a "
                    "threshold of at most {judge.b_tol:g}.",
    controls=(control("inside_regime", "b in [0.2, 0.6]: every searched rotation raises the adversarial loss",
                      expected="pass", draw__b_init=(0.2, 0.6)),),
    profiles=("stress",),
))
