"""Catalogue entries of the downstream family: P5, P5m, P5d (C4 as d grows) and D1 (digits).

Every constant of the checks (theorems/checks/downstream.py) is a parameter below. The judge
thresholds say what the claim's words mean, fixed before any run: "approximately keeps clean
accuracy" is a clean-error gap below 0.05 (as P3's margin), "inherits robustness" a robust-error
gap to an adversarially trained head below 0.10 and a robust-error gain over end-to-end clean
training above 0.10, "collapses" a rise above 0.15, "degrades smoothly" no jump above 0.05 at
the first mixing step and no step down by more than 0.05; for the scaling claim "does not
shrink" is a least-squares slope of the gain in log2 d above -0.05 (a loss of at most 0.05
per doubling of d). The synthetic setting is P3's regime (d = 32, k = 3, sigma = 0.1, random
dictionary, m = 64); the pre-training radius 0.45 was chosen (issue 6) because it purifies;
nothing downstream was tuned.

Controls are parameter variants of the same check; they switch off what the verdict never
reads (``report.region_map``, ``report.curves``) so that a control costs only its own rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..parameters import ClaimParams, ParamError, Section, key, param
from ..registry import Claim, StressPlan, control, register
from .sections import VerifiedEval


def _axis(default: tuple, doc: str, element: str, **kw):
    return param(default, doc, role="size", element=element, length=(0, 64), **kw)


def _increasing(name: str, values: tuple, start: float | None = None) -> None:
    if start is not None and values[0] != start:
        raise ParamError(f"{name} must start at {start:g}, got {list(values)}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ParamError(f"{name} must increase, got {list(values)}")


def _scheduler_ok(value: str) -> None:
    from ..explore.sweep import parse_scheduler

    try:
        parse_scheduler(value)
    except ValueError as exc:
        raise ParamError(f"grid.scheduler: {exc}") from None


# ======================================================================== shared sections
@dataclass(frozen=True)
class DownModel(Section):
    NAME = "model"
    d: int = key("model.d", 32, lo=4, hi=100_000)
    k: float = key("model.k", 3.0, doc="p = k / d")
    sigma: float = key("model.sigma", 0.1, hi=10.0)
    dictionary: str = key("model.dictionary", "random")
    dictionary_seed: int = key("model.dictionary_seed", 1)
    support: int = key("model.support", 16, doc="w* = +-1/sqrt(support) on the first support features (seeded "
                                                 "signs), 0 elsewhere")

    def validate(self) -> None:
        if self.k > self.d:
            raise ParamError(f"model.k must be at most model.d = {self.d}, got {self.k:g}")
        if not 2 <= self.support < self.d:
            raise ParamError(f"model.support must be in [2, model.d - 1] = [2, {self.d - 1}] (correlated tasks need "
                             f"2 features of w*, disjoint ones a feature it ignores), got {self.support}")


@dataclass(frozen=True)
class DownTask(Section):
    NAME = "task"
    rho: tuple = key("task.rho", (0.0,))
    relation: tuple = key("task.relation", ("independent", "disjoint"),
                          doc="judged on the pure layer (it reads every feature)")
    covered: tuple = key("task.covered", ("correlated",))
    seed: int = key("task.seed", 0)


@dataclass(frozen=True)
class DownNet(Section):
    NAME = "net"
    layers: tuple = key("net.layers", ("pure", "pretrained"))
    width: int = key("net.width", 64, hi=100_000, doc="of the pre-trained, random and end-to-end nets; the pure and "
                                                       "mixed layers have m = d")
    b: float = key("net.b", 0.3, hi=10.0, doc="of the pure, mixed and random layers")
    mixing_seed: int = key("net.mixing_seed", 0)
    random_seed: int = key("net.random_seed", 0)


@dataclass(frozen=True)
class DownTrain(Section):
    """Supervised pre-training of the frozen layer on w* (P3's protocol, segmented at the checkpoints)."""

    NAME = "train"
    eps: float = key("train.eps", 0.45, hi=10.0, doc="0 = clean pre-training")
    norm: str = key("train.norm", "l2")
    optimiser: str = key("train.optimiser", "adam")
    lr: float = key("train.lr", 0.01, hi=10.0)
    steps: int = key("train.steps", 1200, hi=1_000_000)
    batch: int = key("train.batch", 128, hi=100_000)
    pgd_steps: int = key("train.pgd_steps", 5, hi=1000)
    threshold: str = key("train.threshold", "shared", choices=("shared", "per_node", "fixed"),
                         doc="fixed: b stays 0")
    init_scale: float = key("train.init_scale", 0.01, hi=10.0, open_lo=True)
    eps_ramp: float = key("train.eps_ramp", 1.0, doc="of the first segment")
    checkpoints: tuple = key("train.checkpoints", (0.3, 0.6))
    seed: int = key("train.seed", 0)

    def validate(self) -> None:
        _increasing("train.checkpoints", self.checkpoints)


@dataclass(frozen=True)
class DownHead(Section):
    NAME = "head"
    steps: int = key("head.steps", 300, hi=1_000_000)
    batch: int = key("head.batch", 256, hi=100_000)
    lr: float = key("head.lr", 0.05, hi=10.0)
    eps: float = key("head.eps", 0.2, hi=10.0, doc="in the evaluation norm")
    eps_ramp: float = key("head.eps_ramp", 0.3)
    pgd_steps: int = key("head.pgd_steps", 3, hi=1000)
    seed: int = key("head.seed", 7)


@dataclass(frozen=True)
class DownE2E(Section):
    NAME = "e2e"
    steps: int = key("e2e.steps", 600, hi=1_000_000)
    batch: int = key("e2e.batch", 128, hi=100_000)
    lr: float = key("e2e.lr", 0.01, hi=10.0)
    seed: int = key("e2e.seed", 11)


@dataclass(frozen=True)
class DownEval(VerifiedEval):
    eps: float = key("eval.eps", 0.2, hi=10.0, doc="the headline radius")
    seed: int = key("eval.seed", 12345)
    verify_branches: int = key("eval.verify_branches", 30)
    verify_samples: int = key("eval.verify_samples", 200, lo=2, hi=1_000_000,
                              doc="robust errors of every net on the same inputs (paired)")
    samples: int = key("eval.samples", 3000, lo=2, hi=100_000_000,
                       doc="clean errors (exact per sample) of every net on the same inputs (paired)")
    verify_relaxation: str = key("eval.verify_relaxation", "auto")


@dataclass(frozen=True)
class DownPurity(Section):
    NAME = "purity"
    tau: float = key("purity.tau", 0.9, doc="coverage and purified shares of every frozen layer (reported)")
    samples: int = key("purity.samples", 4000, hi=10_000_000)
    seed: int = key("purity.seed", 12346)


def _threshold(default: float, doc: str, lo: float = 0.0, hi: float = 1.0):
    return param(default, doc, role="threshold", lo=lo, hi=hi)


_JUDGE_DOCS = {
    "clean_tol": "clean error of a frozen-layer head minus end-to-end training's must stay below this",
    "inherit_tol": "robust error of the clean head minus the adversarial head's must stay below this",
    "gain_min": "robust error of end-to-end training minus the clean head's must exceed this",
    "collapse_min": "robust error at the most mixed layer minus at the pure layer must exceed this",
    "continuity_tol": "robust error at the least mixed layer minus at the pure layer must stay below this",
    "monotone_tol": "a step along the mixing path may not lower the robust error by more than this",
}
_JUDGE_DEFAULTS = {"clean_tol": 0.05, "inherit_tol": 0.10, "gain_min": 0.10, "collapse_min": 0.15,
                   "continuity_tol": 0.05, "monotone_tol": 0.05}


def _judge(name: str):
    """One of P5's thresholds (the same meaning in P5, P5m and P5d)."""
    return _threshold(_JUDGE_DEFAULTS[name], _JUDGE_DOCS[name])


def _path_t():
    return param((0.0, 0.1, 0.2, 0.4, 0.8), "mixing amounts t of the path Q(t) = expm(tA), from the pure layer",
                 role="size", lo=0.0, hi=10.0, length=(3, 64))


@dataclass(frozen=True)
class P5Judge(Section):
    NAME = "judge"
    clean_tol: float = _judge("clean_tol")
    inherit_tol: float = _judge("inherit_tol")
    gain_min: float = _judge("gain_min")
    collapse_min: float = _judge("collapse_min")
    continuity_tol: float = _judge("continuity_tol")
    monotone_tol: float = _judge("monotone_tol")


@dataclass(frozen=True)
class P5Contrastive(Section):
    NAME = "contrastive"
    p4_profile: str = param("quick", "P4 profile whose sizes train the reported contrastive layer", role="size",
                            choices=("quick", "ci", "thorough", "stress"))
    seed: int = param(0, "P4 training seed of the contrastive layer", role="seed", lo=0, hi=2**31 - 1)
    variant: str = param("both", "P4 variant of the contrastive layer (both: the attack enters both loss terms)",
                         choices=("both", "negative", "positive", "none"))


@dataclass(frozen=True)
class P5Grid(Section):
    NAME = "grid"
    t: tuple = _path_t()
    eps: tuple = param((0.1, 0.2), "radii of the robust-error-vs-radius figure", role="size", lo=0.0, hi=10.0,
                       length=(1, 64))
    train_eps: tuple = _axis((0.3, 0.6), "region map: pre-training radii of the train.eps axis", "float", lo=0.0,
                             hi=10.0)
    head_lr: tuple = _axis((), "region map: head learning rates of the head.lr axis", "float", lo=1e-6, hi=10.0)
    init_scale: tuple = _axis((), "region map: init scales of the train.init_scale axis", "float", lo=1e-6, hi=10.0)
    width: tuple = _axis((), "region map: widths of the net.width axis", "int", lo=1, hi=100_000)
    threshold: tuple = _axis((), "region map: threshold rules of the train.threshold axis", "str",
                             choices=("shared", "per_node", "fixed"))
    optimiser: tuple = _axis((), "region map: optimisers of the train.optimiser axis", "str", choices=("adam", "sgd"))
    scheduler: str = key("grid.scheduler", "inprocess")

    def validate(self) -> None:
        _increasing("grid.t", self.t, 0.0)
        _scheduler_ok(self.scheduler)


@dataclass(frozen=True)
class P5Report(Section):
    NAME = "report"
    region_map: bool = key("report.region_map", True)
    curves: bool = param(True, "compute the reported curves and rows (robust error vs radius, the pre-training "
                               "checkpoints, the contrastive layer, the rows of layers that should not inherit); the "
                               "verdict never reads them", role="size")
    checkpoints: bool = param(False, "also the robust error of clean heads on the pre-training checkpoints (complete "
                                     "verification of half-trained layers is the slowest step)", role="size")


# ======================================================================== P5
@dataclass(frozen=True)
class P5Params(ClaimParams):
    CLAIM = "P5"
    model: DownModel = DownModel()
    task: DownTask = DownTask()
    net: DownNet = DownNet()
    train: DownTrain = DownTrain()
    head: DownHead = DownHead()
    e2e: DownE2E = DownE2E()
    eval: DownEval = DownEval()
    purity: DownPurity = DownPurity()
    judge: P5Judge = P5Judge()
    contrastive: P5Contrastive = P5Contrastive()
    grid: P5Grid = P5Grid()
    report: P5Report = P5Report()

    def validate(self) -> None:
        if self.train.norm != self.eval.norm:
            raise ParamError(f"eval.norm must be train.norm = {self.train.norm!r} (one threat model), got "
                             f"{self.eval.norm!r}")
        if "disjoint" in self.task.relation + self.task.covered and self.model.support >= self.model.d:
            raise ParamError("task.relation: disjoint tasks need model.support < model.d")


_SETTING_REGIME = (
    "d = {model.d}, k = {model.k} expected active features, sigma = {model.sigma}, {model.dictionary} dictionary "
    "(seed {model.dictionary_seed}); w* = +-1/sqrt({model.support}) on the first {model.support} features, signs and "
    "w' seeded by {task.seed}; m = d for the pure and mixed layers, {net.width} for the pre-trained, random (seed "
    "{net.random_seed}) and end-to-end nets; pre-training on w*: {train.optimiser} (lr {train.lr}), {train.steps} "
    "steps of batch {train.batch}, {train.norm} PGD ({train.pgd_steps} steps) at radius {train.eps} ramped over "
    "{train.eps_ramp} of the first segment, {train.threshold} soft threshold, init scale {train.init_scale}, segments "
    "cut at ({train.checkpoints}) with fresh Adam state, seeds {train.seed} + segment; heads: logistic, Adam lr "
    "{head.lr}, {head.steps} steps of {head.batch} online samples, seed {head.seed}, the adversarial one at "
    "{head.eps} ({head.pgd_steps} PGD steps, ramp {head.eps_ramp}), every head of a task and setting fitted as one "
    "batched run; end-to-end: Adam lr {e2e.lr}, {e2e.steps} steps of {e2e.batch}, seed {e2e.seed}; robust errors on "
    "{eval.verify_samples} common inputs by the exact worst case (pure-layer heads, linear nets) or complete "
    "verification ({eval.verify_branches} branches per input, {eval.verify_restarts} extra restarts and "
    "{eval.verify_polish} polish iterations, {eval.verify_relaxation} relaxation for undecided ones; the suite's PGD {eval.pgd_steps} steps x "
    "{eval.pgd_restarts} restarts inside, audited), clean errors on {eval.samples} common inputs (seed {eval.seed}), "
    "{eval.level} intervals, differences paired per input, sound side against the claim; purity k = 1, 2, 3 and "
    "coverage at tau = {purity.tau} on {purity.samples} inputs (seed {purity.seed})"
)

_P5_REGIME = _SETTING_REGIME + (
    "; mixing direction A from seed {net.mixing_seed}; figures at radii ({grid.eps}); reported rows and curves: "
    "{report.curves} (checkpoint robust errors: {report.checkpoints}); contrastive layer (reported, not judged): P4's "
    "setting at P4's {contrastive.p4_profile} sizes, seed {contrastive.seed}, variant {contrastive.variant}, trained "
    "at this d, k, sigma and width. Region map ({report.region_map}): one axis at a time around the headline over "
    "train.eps in ({grid.train_eps}), head.lr in ({grid.head_lr}), train.init_scale in ({grid.init_scale}), net.width "
    "in ({grid.width}), train.threshold in ({grid.threshold}), train.optimiser in ({grid.optimiser}); each cell judges "
    "the pre-trained layer's rows; cells as tasks on {grid.scheduler}"
)

register(Claim(
    id="P5", title="A clean head on a frozen purified layer inherits robustness",
    paper_claims=("C4",), scope="extension",
    scope_note="adds the adversarially pre-trained layer (not only the perfectly purified one) and the "
               "dose-response of robustness over purity",
    differences=("The paper's downstream statement is about purified nodes; here the pure layer stands for them and "
                 "an adversarially pre-trained layer is checked on tasks over the features its pre-training saw.",
                 "'Inherits robustness' is made quantitative (the judge.* thresholds) at one radius, eval.eps."),
    statement="A clean logistic head trained on y' = sign(<w', z>) over a frozen first layer, for each judged layer "
              "in ({net.layers}) (the pure layer on every task: correlated with w* at rho in ({task.rho}) and "
              "({task.relation}); the other layers on the tasks ({task.covered})): its clean error exceeds "
              "end-to-end clean training's by less than {judge.clean_tol}, its {eval.norm} robust error at radius "
              "{eval.eps} exceeds an adversarially trained head's on the same layer by less than {judge.inherit_tol} "
              "and is below end-to-end clean training's by more than {judge.gain_min}. Along the mixing path Q(t) at "
              "t in ({grid.t}) (threshold b = {net.b}), on the first correlated task, the clean head's robust error "
              "degrades smoothly with purity: it rises by less than {judge.continuity_tol} at the first t > 0, no "
              "step lowers it by more than {judge.monotone_tol}, and it rises by more than {judge.collapse_min} at "
              "the most mixed layer.",
    regime=_P5_REGIME,
    params=P5Params, check="theorems.checks.downstream:check_p5", tests="theorems/test_downstream.py",
    method="batched training of frozen-layer heads + Monte Carlo over exact or verified per-input decisions; "
           "paired differences",
    # Registered a priori from the sample size alone (2026-12-04, when the paired 0/1 differences got their exact
    # interval): with about half of quick's inputs untied, even no discordant input leaves a half-width above the
    # tolerance, so quick cannot decide the continuity and monotonicity rows; ci and thorough can (and pass).
    expected_by_profile=(
        ("quick", "inconclusive",
         "At quick's {eval.verify_samples} inputs the exact paired interval of a difference of robust errors "
         "cannot lie within {judge.continuity_tol} of 0 even when the two nets agree on every input (about "
         "half the inputs are ties left out; 0 discordant of about 100 gives a half-width of 0.057 at the 99% "
         "level), so the continuity and monotonicity rows are undecided. The ci and thorough sizes decide them "
         "(pass). Before 2026-12-04 a t-interval, zero-wide without discordant inputs, passed them here."),
    ),
    controls=(
        control("random_layer", "a random frozen layer (rows uniform on the sphere, b = net.b) judged in place of "
                                "the pre-trained one: no purified nodes", net__layers=("random",),
                report__region_map=False, report__curves=False),
        control("eps_zero", "pre-training with train.eps = 0 (clean pre-training collapses onto +-M w*)",
                train__eps=0.0, report__region_map=False, report__curves=False),
        control("threshold_zero", "b = 0: the pure and mixed layers are linear, their head is a dense linear net",
                net__b=0.0, report__region_map=False, report__curves=False),
        control("uncovered_task", "the pre-trained layer judged on a task over the features w* ignores",
                task__covered=("disjoint",), report__region_map=False, report__curves=False),
    ),
    stress=StressPlan(vary={"train.eps": (0.2, 0.8), "net.b": (0.05, 0.6), "eval.eps": (0.1, 0.4)}, budget=4,
                      note="each point trains a layer and heads and verifies them (about a minute): where does "
                           "inheritance stop as the pre-training radius, the threshold and the radius change?"),
))


# ======================================================================== P5m
@dataclass(frozen=True)
class P5mTask(Section):
    NAME = "task"
    rho: tuple = key("task.rho", (0.0,))
    seed: int = key("task.seed", 0)


@dataclass(frozen=True)
class P5mNet(Section):
    NAME = "net"
    b: float = key("net.b", 0.3, hi=10.0, doc="of the mixed layers")
    mixing_seed: int = key("net.mixing_seed", 0)
    width: int = key("net.width", 64, hi=100_000, doc="of the end-to-end nets")


@dataclass(frozen=True)
class P5mHead(Section):
    NAME = "head"
    steps: int = key("head.steps", 300, hi=1_000_000)
    batch: int = key("head.batch", 256, hi=100_000)
    lr: float = key("head.lr", 0.05, hi=10.0)
    seed: int = key("head.seed", 7)


@dataclass(frozen=True)
class P5mJudge(Section):
    NAME = "judge"
    clean_tol: float = _judge("clean_tol")
    collapse_min: float = _judge("collapse_min")


@dataclass(frozen=True)
class P5mGrid(Section):
    NAME = "grid"
    t: tuple = _path_t()

    def validate(self) -> None:
        _increasing("grid.t", self.t, 0.0)


@dataclass(frozen=True)
class P5mParams(ClaimParams):
    CLAIM = "P5m"
    model: DownModel = DownModel()
    task: P5mTask = P5mTask()
    net: P5mNet = P5mNet()
    head: P5mHead = P5mHead()
    e2e: DownE2E = DownE2E()
    eval: DownEval = DownEval()
    purity: DownPurity = DownPurity()
    judge: P5mJudge = P5mJudge()
    grid: P5mGrid = P5mGrid()


register(Claim(
    id="P5m", title="A clean head on a frozen mixed layer: clean accuracy fine, robustness collapses",
    paper_claims=("C4",), scope="extension",
    scope_note="the converse for a mixed (clean pre-training-like) layer: clean accuracy kept while robustness "
               "collapses along a mixing path",
    statement="Along the mixing path Q(t) = expm(tA) (A from seed {net.mixing_seed}) at t in ({grid.t}), with the "
              "fixed threshold b = {net.b}, the clean head on the frozen mixed layer keeps its clean error within "
              "{judge.clean_tol} of end-to-end clean training's at every t > 0, while its {eval.norm} robust error "
              "at radius {eval.eps} rises by more than {judge.collapse_min} from the pure layer (t = 0) to the most "
              "mixed one; on each correlated task rho in ({task.rho}).",
    regime="as P5: d = {model.d}, k = {model.k}, sigma = {model.sigma}, {model.dictionary} dictionary (seed "
           "{model.dictionary_seed}), w* on {model.support} features, task seed {task.seed}; clean heads Adam lr "
           "{head.lr}, {head.steps} steps of {head.batch}, seed {head.seed} (one batched run over the path); "
           "end-to-end m = {net.width}, Adam lr {e2e.lr}, {e2e.steps} steps of {e2e.batch}, seed {e2e.seed}; robust "
           "errors on {eval.verify_samples} common inputs (complete verification, {eval.verify_branches} branches, "
           "{eval.verify_restarts} extra restarts, {eval.verify_polish} polish iterations, {eval.verify_relaxation} relaxation, PGD {eval.pgd_steps} x "
           "{eval.pgd_restarts} inside; exact at t = 0), clean errors on {eval.samples} "
           "(seed {eval.seed}), {eval.level} intervals, paired; purity at tau = {purity.tau} on {purity.samples} "
           "inputs (seed {purity.seed})",
    params=P5mParams, check="theorems.checks.downstream:check_p5m", tests="theorems/test_downstream.py",
    method="batched head training + Monte Carlo over exact or verified per-input decisions; paired differences",
    controls=(
        control("threshold_zero", "b = 0: every mixed layer is the same linear representation, nothing collapses",
                net__b=0.0),
    ),
    expected="fail",
    fails_on=("clean error gap (mixed t=* head - end-to-end)*",),
    expected_reason="Clean accuracy is not kept at strong mixing with the fixed threshold b = {net.b}: the nodes of a "
                    "mixed layer read dense combinations of features whose pre-activations are of the order "
                    "sqrt(k/d) (k = {model.k}, d = {model.d}), comparable to b, so the dead zone erases signal and "
                    "the clean head on the most mixed layer errs clearly more often than end-to-end training (a gap "
                    "above {judge.clean_tol}); a mixed layer keeps clean accuracy only with a small b, i.e. when it "
                    "is nearly linear. The robustness collapse itself holds.",
    stress=StressPlan(vary={"net.b": (0.0, 0.5)}, budget=4,
                      note="where along b does the clean-accuracy clause start to fail?"),
))


# ======================================================================== P5d: P5 as d grows
_LAWS = ("k_constant", "k_sqrt_d")


@dataclass(frozen=True)
class P5dModel(Section):
    NAME = "model"
    k: float = key("model.k", 3.0, doc="at d = 16; k(d) under each law of scaling.laws")
    sigma: float = key("model.sigma", 0.1, hi=10.0)
    dictionary: str = key("model.dictionary", "random")
    dictionary_seed: int = key("model.dictionary_seed", 1)


@dataclass(frozen=True)
class P5dTask(Section):
    NAME = "task"
    rho: tuple = key("task.rho", (0.0,), doc="the same at every d")
    seed: int = key("task.seed", 0)


@dataclass(frozen=True)
class P5dNet(Section):
    NAME = "net"
    b: float = key("net.b", 0.3, hi=10.0, doc="of the pure layer, the same at every d")


@dataclass(frozen=True)
class P5dScaling(Section):
    NAME = "scaling"
    laws: tuple = param(_LAWS, "sparsity laws k(d) under which the sweep runs (vocabulary model.law)",
                        choices=_LAWS + ("k_linear",), element="str", length=(1, 3))
    width_per_d: float = param(2.0, "hidden width m = round(width_per_d * d) (of the pre-trained and end-to-end "
                                    "nets; the pure layer has m = d)", lo=0.01, hi=1000.0)
    steps_power: float = param(0.0, "train.steps scale as (d/16)^steps_power (0: the same steps at every d) (so do "
                                    "head.steps and e2e.steps)", lo=-2.0, hi=2.0)
    support_fraction: float = param(0.5, "w* uses the first round(support_fraction * d) features", lo=0.0, hi=1.0,
                                    open_lo=True, open_hi=True)


@dataclass(frozen=True)
class P5dEval(DownEval):
    NAME = "eval"
    verify_samples: int = key("eval.verify_samples", 100, lo=2, hi=1_000_000,
                              doc="robust errors of every net of a point on the same inputs (paired)")
    verify_relaxation: str = key("eval.verify_relaxation", "linear",
                                 doc="the quadratic bound's d x d factorisations cost about 30 times more at d = 128")


@dataclass(frozen=True)
class P5dJudge(Section):
    NAME = "judge"
    clean_tol: float = _judge("clean_tol")
    inherit_tol: float = _judge("inherit_tol")
    gain_min: float = _judge("gain_min")
    slope_min: float = _threshold(-0.05, "least-squares slope of the robustness gain in log2 d must exceed this (the "
                                         "gain does not shrink)", lo=-10.0, hi=10.0)


@dataclass(frozen=True)
class P5dGrid(Section):
    NAME = "grid"
    d: tuple = param((16, 32, 64, 128), "dimensions of the sweep", role="size", lo=4, hi=100_000, length=(3, 64))
    scheduler: str = key("grid.scheduler", "inprocess")

    def validate(self) -> None:
        _increasing("grid.d", self.d)
        _scheduler_ok(self.scheduler)


@dataclass(frozen=True)
class P5dParams(ClaimParams):
    CLAIM = "P5d"
    model: P5dModel = P5dModel()
    task: P5dTask = P5dTask()
    net: P5dNet = P5dNet()
    train: DownTrain = DownTrain()
    head: DownHead = DownHead()
    e2e: DownE2E = DownE2E()
    eval: P5dEval = P5dEval()
    purity: DownPurity = DownPurity()
    judge: P5dJudge = P5dJudge()
    scaling: P5dScaling = P5dScaling()
    grid: P5dGrid = P5dGrid()

    def validate(self) -> None:
        if self.train.norm != self.eval.norm:
            raise ParamError(f"eval.norm must be train.norm = {self.train.norm!r}, got {self.eval.norm!r}")
        if self.model.k > self.grid.d[0]:
            raise ParamError(f"model.k must be at most the smallest d of grid.d ({self.grid.d[0]}), got "
                             f"{self.model.k:g}")
        if round(self.scaling.support_fraction * self.grid.d[0]) < 2:
            raise ParamError(f"scaling.support_fraction must give w* at least 2 features at d = {self.grid.d[0]}, "
                             f"got {self.scaling.support_fraction:g}")


register(Claim(
    id="P5d", title="Downstream inheritance as d grows (P5's pure and adversarially pre-trained layers)",
    paper_claims=("C4",), scope="extension",
    scope_note="P5's inheritance rows at growing d under two sparsity laws, with the trend in d of the robustness "
               "gain (the paper states k << d without a law in d)",
    differences=("How width, steps and the support of w* follow d is a parameter fixed before the run (scaling.*); "
                 "the radii (train.eps, head.eps, eval.eps) and b stay the same at every d: the pure layer's "
                 "critical radius is of order one in d, a dense net's of order sqrt(k/d).",),
    statement="At every d in ({grid.d}) under each sparsity law in ({scaling.laws}) (k = {model.k} at d = 16), for "
              "the pure layer (b = {net.b}) and the layer adversarially pre-trained on w* (radius {train.eps}), the "
              "clean head on the correlated task (rho = {task.rho}) has clean error within {judge.clean_tol} of "
              "end-to-end clean training's, {eval.norm} robust error at radius {eval.eps} within "
              "{judge.inherit_tol} of an adversarial head's (radius {head.eps}) and more than {judge.gain_min} below "
              "end-to-end clean training's (each d's verdict recorded); and per law and layer the least-squares "
              "slope of that gain in log2 d (interval from the per-d intervals) exceeds {judge.slope_min}.",
    regime="m = {scaling.width_per_d} d for the pre-trained and end-to-end nets (m = d for the pure layer), w* on "
           "{scaling.support_fraction} d features, steps times (d/16)^{scaling.steps_power} (fixed a priori); "
           "{model.sigma} noise, {model.dictionary} dictionary (seed {model.dictionary_seed}), task seed "
           "{task.seed}; pre-training {train.optimiser} lr {train.lr}, {train.steps} steps of {train.batch}, "
           "{train.norm} PGD {train.pgd_steps} steps ramped over {train.eps_ramp} of the first segment, "
           "{train.threshold} threshold, init scale {train.init_scale}, segments at ({train.checkpoints}), seed "
           "{train.seed}; heads Adam lr {head.lr}, {head.steps} steps of {head.batch}, seed {head.seed}, adversarial "
           "with {head.pgd_steps} PGD steps, ramp {head.eps_ramp}; end-to-end Adam lr {e2e.lr}, {e2e.steps} steps "
           "of {e2e.batch}, seed {e2e.seed}; robust errors on {eval.verify_samples} common inputs (exact or complete "
           "verification, {eval.verify_branches} branches, {eval.verify_restarts} extra restarts, "
           "{eval.verify_polish} polish iterations, {eval.verify_relaxation} relaxation, PGD {eval.pgd_steps} x {eval.pgd_restarts} inside, "
           "audited), clean errors on {eval.samples} (seed {eval.seed}), {eval.level} intervals, paired; purity "
           "k = 1, 2, 3 at tau = {purity.tau} on {purity.samples} inputs (seed {purity.seed}); each (d, law) a task "
           "on {grid.scheduler}",
    params=P5dParams, check="theorems.checks.downstream:check_p5d", tests="theorems/test_downstream.py",
    method="P5's rows per (d, law) as sweep tasks + least-squares slopes with propagated intervals",
    controls=(
        control("eps_zero", "clean pre-training (train.eps = 0) at every d: the pre-trained layer has nothing to "
                            "pass on", train__eps=0.0),
    ),
    expected="fail",
    fails_on=("[*] clean error gap (frozen-layer clean head - end-to-end) [AT pre-trained*",
              "[*] l2 robustness gain at eps=* (end-to-end - clean head) [AT pre-trained*"),
    expected_reason="Adversarial pre-training at the fixed radius {train.eps} and {train.steps} steps does not purify "
                    "where the codes are not sparse enough: at the smallest d (k = {model.k} active features of d) "
                    "and, under k ~ sqrt(d), at every larger d, the pre-trained layer's clean head loses clean "
                    "accuracy (a gap above {judge.clean_tol}) and gains no robustness over end-to-end training, a "
                    "decided failure. Under k constant the pre-trained layer purifies at the larger d and its gain "
                    "grows with d, and the pure layer's rows hold or are undecided at every d; complete verification "
                    "({eval.verify_relaxation} relaxation, {eval.verify_branches} branches) leaves many inputs of "
                    "the pre-trained layer's heads undecided at large d, so those rows and the slopes are "
                    "inconclusive rather than passed.",
    stress=StressPlan(vary={"scaling.width_per_d": (1.0, 4.0), "train.eps": (0.3, 0.6)}, budget=2,
                      note="every point is a whole sweep over d (minutes): width and pre-training radius"),
))


# ======================================================================== D1 digits
@dataclass(frozen=True)
class D1Data(Section):
    NAME = "data"
    seed: int = key("data.seed", 0, doc="also seeds the pre-training runs")
    pretask: str = key("data.pretask", "small_vs_large")
    task: str = key("data.task", "parity")

    def validate(self) -> None:
        if self.pretask == self.task:
            raise ParamError(f"data.task must differ from data.pretask = {self.pretask!r} (a new task downstream)")


@dataclass(frozen=True)
class D1Net(Section):
    NAME = "net"
    layers: tuple = key("net.layers", ("pretrained",), choices=("pretrained", "random"),
                        doc="pretrained: the layers adversarially pre-trained in each threat model")
    width: int = key("net.width", 64, hi=100_000)
    random_seed: int = key("net.random_seed", 0)


@dataclass(frozen=True)
class D1Train(Section):
    NAME = "train"
    eps_l2: float = param(0.5, "l2 radius of adversarial pre-training (0: clean)", lo=0.0, hi=100.0)
    eps_linf: float = param(0.1, "l_inf radius of adversarial pre-training (0: clean)", lo=0.0, hi=100.0)
    threshold: str = key("train.threshold", "shared", choices=("shared", "fixed"), doc="fixed: b stays 0 (linear)")
    steps: int = key("train.steps", 400, hi=1_000_000)
    batch: int = key("train.batch", 128, hi=100_000)
    lr: float = key("train.lr", 0.01, hi=10.0)
    eps_ramp: float = key("train.eps_ramp", 0.3)
    pgd_steps: int = key("train.pgd_steps", 5, hi=1000)


@dataclass(frozen=True)
class D1Head(Section):
    NAME = "head"
    steps: int = key("head.steps", 300, hi=1_000_000)
    batch: int = key("head.batch", 128, hi=100_000)
    lr: float = key("head.lr", 0.05, hi=10.0)
    eps_ramp: float = key("head.eps_ramp", 0.3)
    pgd_steps: int = key("head.pgd_steps", 5, hi=1000)
    seed: int = key("head.seed", 1)


@dataclass(frozen=True)
class D1Eval(Section):
    NAME = "eval"
    eps_l2: float = param(0.5, "l2 radius of the judged robust accuracies and of the adversarial head", lo=0.0,
                          hi=100.0, open_lo=True)
    eps_linf: float = param(0.1, "l_inf radius of the judged robust accuracies and of the adversarial head", lo=0.0,
                            hi=100.0, open_lo=True)
    norms: tuple = param(("l2", "linf"), "threat models judged", choices=("l2", "linf"), element="str",
                         length=(1, 2))
    verify_samples: int = key("eval.verify_samples", 100, lo=2, hi=1_000_000,
                              doc="the first test points (all when larger than the test set)")
    level: float = key("eval.level", 0.99)
    seed: int = key("eval.seed", 12345, doc="seed of the PGD starts inside verification")
    pgd_steps: int = key("eval.pgd_steps", 30)
    pgd_restarts: int = key("eval.pgd_restarts", 5)
    verify_branches: int = key("eval.verify_branches", 30)
    verify_restarts: int = key("eval.verify_restarts", 20)
    verify_polish: int = key("eval.verify_polish", 0)
    verify_relaxation: str = key("eval.verify_relaxation", "auto")


@dataclass(frozen=True)
class D1Dictionary(Section):
    NAME = "dictionary"
    atoms: int = param(48, "atoms of the learned dictionary purity is measured against (reported)", lo=1, hi=10_000)
    alpha: float = param(0.5, "sparsity penalty of dictionary learning", lo=0.0, hi=100.0, open_lo=True)
    max_iter: int = param(30, "iterations of MiniBatchDictionaryLearning", role="size", lo=1, hi=100_000)
    seed: int = param(0, "seed of dictionary learning", role="seed", lo=0, hi=2**31 - 1)
    tau: float = param(0.7, "a node is purified against the dictionary when its largest |cosine| with an atom is at "
                            "least tau (reported)", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class D1Judge(Section):
    NAME = "judge"
    clean_tol: float = param(0.05, "test clean accuracy of the head on the AT layer may fall below the head on the "
                                   "clean layer's by less than this", role="threshold", lo=0.0, hi=1.0)
    gain_min: float = param(0.10, "robust accuracy of the head on the AT layer minus on the clean layer must exceed "
                                  "this", role="threshold", lo=0.0, hi=1.0)
    inherit_tol: float = param(0.10, "robust accuracy of an adversarial head on the AT layer minus the clean head's "
                                     "must stay below this", role="threshold", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class D1Grid(Section):
    NAME = "grid"
    eps_l2: tuple = param((0.5,), "l2 radii of the robust-accuracy figure", role="size", lo=0.0, hi=100.0,
                          length=(1, 64))
    eps_linf: tuple = param((0.1,), "l_inf radii of the robust-accuracy figure", role="size", lo=0.0,
                            hi=100.0, length=(1, 64))


@dataclass(frozen=True)
class D1Params(ClaimParams):
    CLAIM = "D1"
    data: D1Data = D1Data()
    net: D1Net = D1Net()
    train: D1Train = D1Train()
    head: D1Head = D1Head()
    eval: D1Eval = D1Eval()
    dictionary: D1Dictionary = D1Dictionary()
    judge: D1Judge = D1Judge()
    grid: D1Grid = D1Grid()


register(Claim(
    id="D1", title="Inheritance on real data (scikit-learn digits)",
    paper_claims=("C4",), scope="extension",
    scope_note="the inheritance on real data (scikit-learn digits, a learned dictionary) instead of the "
               "sparse-coding model",
    statement="On scikit-learn's digits (64 pixels), for each threat model in ({eval.norms}): a two-layer soft-"
              "threshold net pre-trained on {data.pretask} adversarially (l2 radius {train.eps_l2}; l_inf radius "
              "{train.eps_linf}), frozen (judged layers: {net.layers}), with a clean logistic head trained on "
              "{data.task}: the head's test clean accuracy is at most {judge.clean_tol} below that of the same head "
              "on a cleanly pre-trained layer, its robust accuracy at the evaluation radius (l2 {eval.eps_l2}; l_inf "
              "{eval.eps_linf}) exceeds it by more than {judge.gain_min}, and an adversarially trained head on the "
              "same layer gains less than {judge.inherit_tol} over it.",
    regime="digits scaled to [0, 1] and centred, stratified 2/3-1/3 split (seed {data.seed}); m = {net.width} (random "
           "layer seed {net.random_seed}), {train.threshold} trainable soft threshold, Adam lr {train.lr}, "
           "{train.steps} steps of {train.batch}, PGD {train.pgd_steps} steps, radius ramp {train.eps_ramp}; heads "
           "Adam lr {head.lr}, {head.steps} steps of {head.batch}, seed {head.seed}, adversarial with "
           "{head.pgd_steps} PGD steps, ramp {head.eps_ramp}; robust accuracies by complete verification of the "
           "first {eval.verify_samples} test points ({eval.verify_branches} branches, {eval.verify_restarts} "
           "extra restarts, {eval.verify_polish} polish iterations, {eval.verify_relaxation} relaxation; PGD {eval.pgd_steps} x "
           "{eval.pgd_restarts} inside, seed {eval.seed}, audited), Clopper-Pearson at {eval.level}, differences "
           "paired per test point, sound side against the claim; figures at l2 radii ({grid.eps_l2}) and l_inf "
           "radii ({grid.eps_linf}); purity (reported) against a MiniBatchDictionaryLearning dictionary of "
           "{dictionary.atoms} atoms (alpha {dictionary.alpha}, {dictionary.max_iter} iterations, seed "
           "{dictionary.seed}, tau {dictionary.tau}), top-k cosines k = 1, 2, 3",
    params=D1Params, check="theorems.checks.downstream:check_d1", tests="theorems/test_downstream.py",
    method="training on digits + complete verification of the test points; paired differences",
    controls=(
        control("random_layer", "a random frozen layer (rows uniform on the sphere, b = 0) in place of the "
                                "adversarial ones", net__layers=("random",)),
        control("eps_zero", "the cleanly pre-trained layer in place of the adversarial ones",
                train__eps_l2=0.0, train__eps_linf=0.0),
        control("threshold_zero", "adversarial pre-training with the threshold fixed at 0 (a linear first layer)",
                train__threshold="fixed"),
    ),
    expected="fail",
    fails_on=("* at eps=*: *",),
    expected_reason="Only partial inheritance on digits: in at least one threat model a row fails, decided. At ci "
                    "and thorough sizes an adversarially trained head on the same frozen adversarially pre-trained "
                    "layer is clearly more robust than the clean head (the inheritance gap exceeds "
                    "{judge.inherit_tol}), so the robustness of the frozen layer is not simply inherited by a clean "
                    "head, and the gain over a cleanly pre-trained layer is not above {judge.gain_min}; at quick's "
                    "sizes (100 test points) only the l2 gain's failure is decided (the gap's exact paired "
                    "interval still reaches below the tolerance). The clean-accuracy row never fails.",
    stress=StressPlan(vary={"train.eps_l2": (0.25, 1.0), "net.width": (32, 128)}, budget=3,
                      note="pre-training radius and width on real data"),
))
