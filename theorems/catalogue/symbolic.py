"""Catalogue entries of the symbolic family S1-S5: parameter classes and registry entries.

Each lemma is derived with sympy (:mod:`theorems.symbolic`) and checked against the numerics
engines on hypothesis-drawn examples (:mod:`theorems.checks.symbolic`). The ranges those
examples are drawn from are ``draw.*`` parameters that the strategies read
(:mod:`theorems.strategies`), every tolerance is a ``judge.*`` threshold, and the statements
are rendered from both, so the registered prose shows exactly what is drawn and judged.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..parameters import ClaimParams, ParamError, Section, key, param
from ..parameters.vocabulary import SEED_MAX
from ..registry import Claim, StressPlan, control, register

NORMS = ("l2", "linf", "l1")
BIG = 1e6  # widest allowed magnitude of a drawn coordinate (the engines are exact in float64 far beyond)


def _examples():
    return key("draw.examples", 8)


def _tol(default: float, what: str):
    return param(default, what, role="threshold", lo=0.0, hi=1.0)


# ======================================================================== S1 dual norms
@dataclass(frozen=True)
class S1Draw(Section):
    NAME = "draw"
    examples: int = _examples()
    d: tuple = param((1, 6), "dimension d of v and x", role="range", lo=1, hi=8)
    v_i: tuple = param((-3.0, 3.0), "each coordinate v_i of the score's weight v", role="range", lo=-BIG, hi=BIG)
    x_i: tuple = param((-3.0, 3.0), "each coordinate x_i of the point x", role="range", lo=-BIG, hi=BIG)
    c: tuple = param((-1.0, 1.0), "the score's offset c", role="range", lo=-BIG, hi=BIG)
    eps: tuple = param((0.0, 2.0), "attack radius eps", role="range", lo=0.0, hi=100.0)
    seed: tuple = param((0, 2**16), "seed of PGD's random starts", role="range", lo=0, hi=SEED_MAX)
    norm: tuple = param(NORMS, "attack norms q the examples are drawn from", choices=NORMS, length=(1, 3))


@dataclass(frozen=True)
class S1Eval(Section):
    NAME = "eval"
    pgd_steps: int = key("eval.pgd_steps", 30)
    pgd_restarts: int = key("eval.pgd_restarts", 2)


@dataclass(frozen=True)
class S1Judge(Section):
    NAME = "judge"
    formula_norm: str = param("dual", "norm of v in the checked formula: 'dual' = the dual norm q* of the attack "
                                      "norm (the lemma), 'l2' = ||v||_2 whatever q (right only for q = 2)",
                              choices=("dual", "l2"))
    tol: float = _tol(1e-9, "largest |a - b| / (1 + |b|) of two exact quantities counted as agreement")
    pgd_tol: float = _tol(1e-6, "largest |PGD - formula| / (1 + |formula|) counted as PGD reaching the minimum")
    pgd_slack: float = _tol(1e-7, "largest (formula - PGD) / (1 + |formula|) allowed: PGD is an attack, it cannot "
                                  "go below the exact minimum beyond rounding")


@dataclass(frozen=True)
class S1Params(ClaimParams):
    CLAIM = "S1"
    draw: S1Draw = S1Draw()
    eval: S1Eval = S1Eval()
    judge: S1Judge = S1Judge()


register(Claim(
    id="S1", title="Dual-norm inner maximisation for linear scores",
    paper_claims=("C2",), scope="lemma",
    statement="The minimum over ||delta||_q <= eps of y(<v, x+delta> + c) is y(<v, x> + c) - eps N_q(v) for q in "
              "({draw.norm}), with N_q the {judge.formula_norm} norm (dual: ||v||_q* with q* the dual exponent; "
              "l2: ||v||_2 for every q), derived with sympy; the engine's exact attack and the delta it returns "
              "attain it (relative error below {judge.tol:g}), and PGD ({eval.pgd_steps} steps x "
              "{eval.pgd_restarts} restarts; l2 and linf, eps > 0, v != 0) reaches it within {judge.pgd_tol:g} "
              "and never goes below it by more than {judge.pgd_slack:g} (relative to 1 + |minimum|).",
    regime="{draw.examples} drawn examples: d in [{draw.d}], v_i in [{draw.v_i}], x_i in [{draw.x_i}], "
           "c in [{draw.c}], y = +-1, eps in [{draw.eps}], PGD seed in [{draw.seed}]",
    params=S1Params, check="theorems.checks.symbolic:check_s1", strategy="theorems.strategies:linear_score",
    tests="theorems/test_symbolic.py", method="symbolic+exact+pgd",
    controls=(control("wrong_dual", "l_inf attack paired with the l2 norm of v instead of its dual l1 norm",
                      judge__formula_norm="l2", draw__norm=("linf",)),),
    stress=StressPlan(vary={"draw.eps": ((0.0, 2.0), (0.0, 50.0)), "draw.v_i": ((-3.0, 3.0), (-1000.0, 1000.0)),
                            "eval.pgd_steps": (1, 30), "draw.norm": (("l2",), ("linf",), ("l1",))},
                      budget=40, note="PGD on a linear score: does it need the registered steps?"),
))


# ======================================================================== S2 soft threshold
@dataclass(frozen=True)
class S2Net(Section):
    NAME = "net"
    activation: str = key("net.activation", "soft_threshold", choices=("soft_threshold", "relu"))


@dataclass(frozen=True)
class S2Draw(Section):
    NAME = "draw"
    examples: int = _examples()
    b: tuple = param((0.0, 1.5), "threshold b", role="range", lo=0.0, hi=100.0)
    v: tuple = param((-3.0, 3.0), "pre-activation v", role="range", lo=-BIG, hi=BIG)
    s: tuple = param((-3.0, 3.0), "second pre-activation s of the Lipschitz check", role="range", lo=-BIG, hi=BIG)
    c: tuple = param((-2.0, 2.0), "output coefficient c of the feature", role="range", lo=-BIG, hi=BIG)
    c_min_abs: float = param(1e-3, "coefficients with |c| at most this are not drawn (sign(c) must be defined)",
                             lo=0.0, hi=BIG)
    t: tuple = param((0.0, 4.0), "l2 budget t spent on the feature", role="range", lo=0.0, hi=BIG)

    def validate(self) -> None:
        if max(abs(self.c[0]), abs(self.c[1])) <= self.c_min_abs:
            raise ParamError(f"draw.c must reach beyond |c| > draw.c_min_abs = {self.c_min_abs:g}, got "
                             f"[{self.c[0]:g}, {self.c[1]:g}]")


@dataclass(frozen=True)
class S2Judge(Section):
    NAME = "judge"
    tol: float = _tol(1e-9, "largest |a - b| / (1 + |b|) of two exact quantities counted as agreement")
    zero_tol: float = _tol(1e-12, "largest value counted as zero: |f(v) - f(s)| - |v - s| (Lipschitz) and f on "
                                  "the dead zone")


@dataclass(frozen=True)
class S2Params(ClaimParams):
    CLAIM = "S2"
    net: S2Net = S2Net()
    draw: S2Draw = S2Draw()
    judge: S2Judge = S2Judge()


register(Claim(
    id="S2", title="Soft-threshold facts and the per-feature damage function",
    paper_claims=("C1",), scope="lemma",
    statement="The engine's activation ({net.activation}) is act_b(t) = ReLU(t-b) - ReLU(-t-b) as sympy derives "
              "it (relative error below {judge.tol:g}), odd, 1-Lipschitz (|f(v) - f(s)| - |v - s| below "
              "{judge.zero_tol:g}) and zero on [-b, b] (below {judge.zero_tol:g}); the damage an l2 budget t does "
              "to one feature is psi(t) = |c| max(min(t, alpha), t - gap) with alpha, gap from (v, b): it equals "
              "the direct difference and the exact attack (d = 1) within {judge.tol:g}.",
    regime="{draw.examples} drawn examples: b in [{draw.b}], pre-activations v in [{draw.v}] and s in "
           "[{draw.s}], coefficient c in [{draw.c}] with |c| > {draw.c_min_abs:g}, budget t in [{draw.t}]",
    params=S2Params, check="theorems.checks.symbolic:check_s2", strategy="theorems.strategies:threshold_point",
    tests="theorems/test_symbolic.py", method="symbolic+exact",
    controls=(control("relu_intercept", "ReLU with intercept in place of the symmetric threshold (not odd)",
                      net__activation="relu"),),
    stress=StressPlan(vary={"draw.b": ((0.0, 1.5), (0.0, 50.0)), "draw.t": ((0.0, 4.0), (0.0, 100.0)),
                            "draw.c": ((-2.0, 2.0), (-1000.0, 1000.0)),
                            "net.activation": ("soft_threshold", "relu")},
                      budget=60, note="large thresholds, budgets and coefficients; the ReLU breaks oddness"),
))


# ======================================================================== S3 pure-net easy regime
@dataclass(frozen=True)
class S3Draw(Section):
    NAME = "draw"
    examples: int = _examples()
    d: tuple = param((2, 10), "dimension d", role="range", lo=1, hi=12)
    wstar_abs: tuple = param((0.1, 2.0), "each |w*_i| (signs drawn at random)", role="range", lo=0.0, hi=BIG,
                             open_lo=True)
    b: tuple = param((0.05, 0.9), "threshold b of the pure net", role="range", lo=0.0, hi=1.0)
    lam: tuple = param((0.5, 2.0), "output scale lambda", role="range", lo=0.0, hi=1000.0)
    eps_over_cap: tuple = param((0.0, 1.0), "f = eps / cap, cap = min(b, (1 - b) ||w*_S|| / max_S |w*_i|) the "
                                            "largest radius inside both boundaries (f <= 1: inside the easy "
                                            "regime)", role="range", lo=0.0, hi=100.0)


@dataclass(frozen=True)
class S3Judge(Section):
    NAME = "judge"
    tol: float = _tol(1e-9, "largest |a - b| / (1 + |b|) of two exact quantities counted as agreement")


@dataclass(frozen=True)
class S3Params(ClaimParams):
    CLAIM = "S3"
    draw: S3Draw = S3Draw()
    judge: S3Judge = S3Judge()


register(Claim(
    id="S3", title="Pure-net worst case in the easy regime",
    paper_claims=("C2",), scope="lemma",
    statement="sigma = 0, unit magnitudes, active set S: at eps = f cap with f in [{draw.eps_over_cap}], where "
              "cap = min(b, (1 - b) ||w*_S|| / max_S |w*_i|) is the largest eps with eps <= b and "
              "eps |w*_i| / ||w*_S|| <= 1 - b for i in S, the exact l2 attack lowers the pure net's margin by "
              "lambda eps ||w*_S|| (the sympy Lagrange optimum), and the linear net's by lambda eps ||w*|| (each "
              "within relative {judge.tol:g}). (Control past_boundary: past either boundary, f > 1, the exact attack "
              "departs from the formula.)",
    regime="{draw.examples} drawn examples: d in [{draw.d}], |w*_i| in [{draw.wstar_abs}] with random signs, "
           "S = the first |S| features with |S| in [1, d] and z_i = +-1 on S, y = sign(<w*, z>) (+1 at a tie), "
           "b in [{draw.b}], lambda in [{draw.lam}]",
    params=S3Params, check="theorems.checks.symbolic:check_s3", strategy="theorems.strategies:easy_regime",
    tests="theorems/test_symbolic.py", method="symbolic+exact",
    controls=(control("past_boundary", "the same formula tested on eps beyond the regime (eps > b or a saturated "
                                       "feature)", draw__eps_over_cap=(1.05, 4.05)),),
    stress=StressPlan(vary={"draw.eps_over_cap": ((0.0, 1.0), (0.9, 1.0), (1.0, 1.01), (1.0, 1.1), (1.0, 4.0)),
                            "draw.b": ((0.05, 0.9), (0.0, 0.05), (0.9, 1.0)),
                            "draw.wstar_abs": ((0.1, 2.0), (0.001, 0.1), (2.0, 100.0)),
                            "draw.d": ((2, 10), (10, 12))},
                      budget=60, note="exact claim: the boundary f = 1 of eps / cap should be found"),
))


# ======================================================================== S4 rotation invariance
@dataclass(frozen=True)
class S4Model(Section):
    NAME = "model"
    d: int = key("model.d", 8, lo=2, hi=256)
    k: float = key("model.k", 3.0, doc="p = min(1, k/d)")
    sigma: float = key("model.sigma", 0.1)
    dictionary: str = key("model.dictionary", "random")
    dictionary_seed: int = key("model.dictionary_seed", 1)


@dataclass(frozen=True)
class S4Net(Section):
    NAME = "net"
    b: float = key("net.b", 0.0, hi=10.0)


@dataclass(frozen=True)
class S4Eval(Section):
    NAME = "eval"
    samples: int = key("eval.samples", 4000, doc="common samples per mixing path (seeded by the mixing seed)")
    level: float = key("eval.level", 0.99)


@dataclass(frozen=True)
class S4Draw(Section):
    NAME = "draw"
    examples: int = _examples()
    mixing_seed: tuple = param((0, 10_000), "seed of the skew-symmetric direction A of Q(t) = expm(tA)",
                               role="range", lo=0, hi=SEED_MAX)
    t: tuple = param((0.05, 0.6), "mixing amount t of Q(t) = expm(tA)", role="range", lo=0.0, hi=100.0)


@dataclass(frozen=True)
class S4Judge(Section):
    NAME = "judge"
    tol: float = _tol(1e-9, "largest gap counted as no dependence on Q: outputs, clean loss (interval), Gram")


@dataclass(frozen=True)
class S4Params(ClaimParams):
    CLAIM = "S4"
    model: S4Model = S4Model()
    net: S4Net = S4Net()
    eval: S4Eval = S4Eval()
    draw: S4Draw = S4Draw()
    judge: S4Judge = S4Judge()


register(Claim(
    id="S4", title="Rotation invariance at b = 0",
    paper_claims=("C2", "C3"), scope="lemma",
    statement="With threshold b = {net.b} the supervised clean objective depends on the mixing Q only through "
              "sum_j a_j W_j (= lambda M w* for every Q) and a linear contrastive objective only through the Gram "
              "W^T W (sympy, Cayley-parametrised Q, d = 2, 3), so clean losses cannot prefer purified nodes: the "
              "mixed net's outputs on a common sample, its clean logistic loss (|bound| of the {eval.level} "
              "paired interval of the difference) and W^T W differ from the pure net's by less than "
              "{judge.tol:g}.",
    regime="d = {model.d}, k = {model.k} expected active features, sigma = {model.sigma}, {model.dictionary} "
           "dictionary (seed {model.dictionary_seed}), uniform w* = 1/sqrt(d), lambda = 1; {draw.examples} drawn "
           "mixing paths Q(t) = expm(tA) with A's seed in [{draw.mixing_seed}] and t in [{draw.t}], "
           "{eval.samples} common samples each",
    params=S4Params, check="theorems.checks.symbolic:check_s4", strategy="theorems.strategies:mixing_amount",
    tests="theorems/test_symbolic.py", method="symbolic+exact",
    controls=(control("threshold_positive", "b > 0: the function, and so the clean loss, changes with Q",
                      net__b=0.3),),
    stress=StressPlan(vary={"net.b": (0.0, 0.9), "model.sigma": (0.0, 1.0), "model.d": (2, 8, 16, 64),
                            "draw.t": ((0.05, 0.6), (0.6, 6.0))},
                      budget=16, note="the invariance should break at any b > 0 and hold at any sigma, d, t"),
))


# ======================================================================== S5 sparse-coding moments
MAGNITUDES = ("point", "uniform")


@dataclass(frozen=True)
class S5Model(Section):
    NAME = "model"
    signs: str = key("model.signs", "independent")


@dataclass(frozen=True)
class S5Draw(Section):
    NAME = "draw"
    examples: int = _examples()
    d: tuple = param((1, 6), "dimension d of w and z", role="range", lo=1, hi=10)
    p: tuple = param((0.05, 1.0), "activation probability p of each feature", role="range", lo=0.0, hi=1.0,
                     open_lo=True)
    w_i: tuple = param((-2.0, 2.0), "each coordinate w_i of w", role="range", lo=-BIG, hi=BIG)
    magnitude: tuple = param(MAGNITUDES, "magnitude laws of r drawn: point mass r, or uniform on "
                                         "[r_low, r_low + r_width]", choices=MAGNITUDES, length=(1, 2))
    r: tuple = param((0.2, 2.0), "value r of a point-mass magnitude", role="range", lo=0.0, hi=BIG, open_lo=True)
    r_low: tuple = param((0.0, 1.0), "lower end r_low of a uniform magnitude", role="range", lo=0.0, hi=BIG)
    r_width: tuple = param((0.1, 1.5), "width r_width of a uniform magnitude", role="range", lo=0.0, hi=BIG,
                           open_lo=True)


@dataclass(frozen=True)
class S5Eval(Section):
    NAME = "eval"
    samples: int = key("eval.samples", 200_000)
    level: float = key("eval.level", 0.999)
    seed: int = key("eval.seed", 0, doc="mixed with a hash of the drawn example")


@dataclass(frozen=True)
class S5Judge(Section):
    NAME = "judge"
    tol: float = _tol(1e-9, "largest |a - b| / (1 + |b|) of exact moments counted as agreement")
    mc_miss: float = _tol(0.05, "largest relative distance |E S^2 - formula| / formula that counts as "
                                "agreement: the whole Monte Carlo interval of E S^2 must lie within it")


@dataclass(frozen=True)
class S5Params(ClaimParams):
    CLAIM = "S5"
    model: S5Model = S5Model()
    draw: S5Draw = S5Draw()
    eval: S5Eval = S5Eval()
    judge: S5Judge = S5Judge()


register(Claim(
    id="S5", title="Sparse-coding moments and the law of <w, z>",
    paper_claims=("C1",), scope="lemma",
    statement="With S = <w, z>: E S = 0, E S^2 = p E[r^2] ||w||^2, E S^4 = p E[r^4] sum w_i^4 + "
              "3 p^2 E[r^2]^2 ((sum w_i^2)^2 - sum w_i^4) (sympy, derived at the drawn d, at least 3 with w zero-padded); for point-mass "
              "magnitudes the exact engine's law of S has these moments (relative error below {judge.tol:g}), "
              "and for every drawn law the {eval.level} Monte Carlo interval of E S^2 ({eval.samples} samples) "
              "lies within {judge.mc_miss:g} of the formula, relative to it.",
    regime="z_i = B_i s_i r_i, B_i ~ Bernoulli(p), signs s_i {model.signs}, magnitude laws {draw.magnitude}; "
           "{draw.examples} drawn examples: d in [{draw.d}], p in [{draw.p}], w_i in [{draw.w_i}], point mass "
           "r in [{draw.r}], uniform r on [r_low, r_low + r_width] with r_low in [{draw.r_low}] and r_width in "
           "[{draw.r_width}]; Monte Carlo seed {eval.seed} mixed with a hash of the example",
    params=S5Params, check="theorems.checks.symbolic:check_s5", strategy="theorems.strategies:sparse_moments",
    tests="theorems/test_symbolic.py", method="symbolic+exact+mc",
    controls=(control("shared_sign", "dependent coordinates (one sign shared by all features): the moment formula "
                                     "breaks", model__signs="shared"),),
    stress=StressPlan(vary={"draw.p": ((0.05, 1.0), (0.001, 0.05)), "eval.samples": (2000, 200_000),
                            "draw.r": ((0.2, 2.0), (0.001, 0.2), (2.0, 100.0)),
                            "model.signs": ("independent", "shared")},
                      budget=16, note="rare features, few samples, extreme magnitudes; shared signs break it"),
))
