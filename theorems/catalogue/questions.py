"""Catalogue entries of the questions family Q1-Q10 (beyond the paper): parameter classes and registry entries.

The checks are ``theorems.explore.qNN_*:check`` (plan of independent tasks, compute, judge;
:mod:`theorems.explore`). The trained questions share one training setting (the sections
``TrainedModel`` .. ``Purity`` below: d = 16, k = 2, sigma = 0.1, random dictionary, m = 32,
Adam, online samples, l2 adversarial training at eps = 0.4 with 5-step PGD and a ramped radius),
fixed before any run: eps = 0.4 is just above sqrt(k/d) = 0.354, where dense nets break (P2),
and below the pure net's 1 - b for any b < 0.6, a radius at which only purified nets can be
robust. Sizes (steps, seeds, samples, grids) have per-profile presets in theorems/profiles.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..parameters import ClaimParams, ParamError, Section, key, param
from ..parameters.vocabulary import SEED_MAX
from ..registry import Claim, StressPlan, control, register
from .sections import VerifiedEval

TESTS = "theorems/test_explore.py"
ACTIVATIONS_TRAINED = ("soft", "relu", "smooth")


# ======================================================================== shared sections (trained questions)
@dataclass(frozen=True)
class TrainedModel(Section):
    NAME = "model"
    d: int = key("model.d", 16, lo=2, hi=4096)
    k: float = key("model.k", 2.0, doc="p = min(1, k/d)")
    sigma: float = key("model.sigma", 0.1)
    dictionary: str = key("model.dictionary", "random")
    dictionary_seed: int = key("model.dictionary_seed", 1)


@dataclass(frozen=True)
class TrainedNet(Section):
    NAME = "net"
    width: int = key("net.width", 32, hi=4096)


@dataclass(frozen=True)
class Train(Section):
    NAME = "train"
    eps: float = key("train.eps", 0.4, hi=10.0)
    norm: str = key("train.norm", "l2")
    optimiser: str = key("train.optimiser", "adam")
    lr: float = key("train.lr", 0.01, hi=10.0)
    steps: int = key("train.steps", 300)
    batch: int = key("train.batch", 128)
    init_scale: float = key("train.init_scale", 0.01, lo=0.0, open_lo=True)
    threshold: str = key("train.threshold", "shared", choices=("shared", "per_node", "fixed"),
                         doc="the soft threshold's rule; trainable thresholds start at train.b_init")
    b_init: float = key("train.b_init", 0.0, hi=10.0)
    pgd_steps: int = key("train.pgd_steps", 5)
    pgd_restarts: int = key("train.pgd_restarts", 1)
    eps_ramp: float = key("train.eps_ramp", 0.3)
    loss: str = key("train.loss", "logistic", choices=("logistic", "hinge", "squared"))
    n_train: int = key("train.n_train", 0)


@dataclass(frozen=True)
class Seeds(Section):
    NAME = "seeds"
    n: int = key("seeds.n", 4, lo=2, doc="a paired t-interval needs two")
    first: int = key("seeds.first", 0)


@dataclass(frozen=True)
class TrainedEval(VerifiedEval):
    eps: float = key("eval.eps", 0.4, hi=10.0, doc="robust error of every trained net, reported")
    seed: int = key("eval.seed", 4243, doc="the robust-error samples, the same for every net")
    samples: int = key("eval.samples", 100, doc="per trained net (verified robust error and clean error)")


@dataclass(frozen=True)
class Purity(Section):
    NAME = "purity"
    tau: float = key("purity.tau", 0.9)
    top_k: int = key("purity.top_k", 1, hi=3, doc="k = 1, 2, 3 are reported")
    samples: int = key("purity.samples", 4000)
    seed: int = key("purity.seed", 4242, doc="the same inputs for every net")


def _gap(default: float = 0.2):
    return param(default, "smallest purity gap (adversarial - clean training, activity-weighted mean (tau, k)-loading, "
                           "paired over seeds) counted as purification", role="threshold", lo=-1.0, hi=1.0)


def _advantage():
    return param(2.0, "smallest ratio of critical radii pure / dense counted as a robustness advantage "
                      "(a null effect gives 1)", role="threshold", lo=0.0, hi=1000.0)


@dataclass(frozen=True)
class GapJudge(Section):
    NAME = "judge"
    purity_gap: float = _gap()


@dataclass(frozen=True)
class AdvantageJudge(Section):
    NAME = "judge"
    advantage: float = _advantage()


@dataclass(frozen=True)
class PureNet(Section):
    NAME = "net"
    b: float = key("net.b", 0.3, hi=1.0)


TRAINING_REGIME = (
    "data: d = {model.d}, k = {model.k} expected active features, sigma = {model.sigma}, {model.dictionary} dictionary "
    "(seed {model.dictionary_seed}), unit magnitudes; m = {net.width} hidden nodes; {train.optimiser}, lr {train.lr}, "
    "batch {train.batch}, {train.steps} steps, init scale {train.init_scale}, threshold rule {train.threshold} from "
    "{train.b_init}, {LOSS}training samples {train.n_train} (0 = online); adversarial training in "
    "{train.norm} with {train.pgd_steps}-step PGD ({train.pgd_restarts} restart(s)), the radius ramped over the first "
    "{train.eps_ramp} of the steps; {seeds.n} seeds from {seeds.first} (clean and adversarial runs paired: same init "
    "and data), trained as one batched run per setting; purity on {purity.samples} fresh inputs (seed {purity.seed}), (tau, k)-purity with "
    "tau = {purity.tau}, k = 1, 2, 3 reported, k = {purity.top_k} judged; every trained net's robust error at "
    "{eval.norm} radius {eval.eps} on {eval.samples} samples (seed {eval.seed}): two-layer nets by complete "
    "verification ({eval.verify_branches} branches per sample, {eval.verify_restarts} extra restarts and "
    "{eval.verify_polish} polish iterations for undecided samples; the audit counts the errors the suite's PGD, "
    "{eval.pgd_steps} steps x {eval.pgd_restarts} restarts, missed), other nets by that PGD alone (a lower bound); "
    "intervals at level {eval.level}")


def training_regime(loss: bool = True) -> str:
    """The shared training regime text (``loss=False``: the claim trains several losses, named elsewhere)."""
    return TRAINING_REGIME.replace("{LOSS}", "{train.loss} loss, " if loss else "")


# ======================================================================== Q1 correlated dictionaries, denser codes
@dataclass(frozen=True)
class Q1Model(Section):
    NAME = "model"
    d: int = key("model.d", 64, lo=2, hi=4096)
    k: float = key("model.k", 4.0, doc="p = min(1, k/d)")
    rho: float = key("model.rho", 0.5, lo=0.0, hi=0.99, doc="equicorrelated Gram (1 - rho) I + rho 11^T")
    task: str = key("model.task", "random_signs", choices=("random_signs", "uniform"))


@dataclass(frozen=True)
class Q1Task(Section):
    NAME = "task"
    seed: int = key("task.seed", 3, doc="here: of the signs of w* (model.task = random_signs)")


@dataclass(frozen=True)
class Q1Grid(Section):
    NAME = "grid"
    rho: tuple = param((0.0, 0.5), "dictionary coherences of the region map", role="size", lo=0.0, hi=0.99)
    task: tuple = param(("random_signs", "uniform"), "tasks of the region map", role="size",
                        choices=("random_signs", "uniform"))
    k: tuple = param((1.0, 4.0, 16.0, 64.0), "expected active features k of the sparsity sweep (orthogonal "
                     "dictionary, uniform task, d = model.d)", role="size", lo=0.0, hi=4096.0, open_lo=True)


@dataclass(frozen=True)
class Q1Eval(Section):
    NAME = "eval"
    samples: int = key("eval.samples", 1000, doc="Monte Carlo samples of the attack side of the pure radius")
    bisection: int = key("eval.bisection", 8)
    seed: int = key("eval.seed", 11)
    level: float = key("eval.level", 0.99)


@dataclass(frozen=True)
class Q1Params(ClaimParams):
    CLAIM = "Q1"
    model: Q1Model = Q1Model()
    task: Q1Task = Q1Task()
    net: PureNet = PureNet()
    grid: Q1Grid = Q1Grid()
    eval: Q1Eval = Q1Eval()
    judge: AdvantageJudge = AdvantageJudge()

    def validate(self) -> None:
        if max(self.grid.k) > self.model.d:
            raise ParamError(f"grid.k must not exceed model.d = {self.model.d}, got {list(self.grid.k)}")


register(Claim(
    id="Q1", title="Correlated (non-orthogonal) dictionaries and denser codes",
    paper_claims=(), scope="beyond",
    statement="With a dictionary whose features have pairwise cosine rho = {model.rho} (Gram (1 - rho) I + rho 11^T), "
              "task {model.task} (seed {task.seed}), d = {model.d}, k = {model.k}, threshold b = {net.b}: the "
              "dual-basis pure net's critical l2 radius exceeds {judge.advantage} times the dense net's (interval: "
              "sound relaxation below, Monte Carlo attack above). Region (reported): coherence rho in ({grid.rho}) x "
              "task in ({grid.task}), and k in ({grid.k}) with an orthogonal dictionary and the uniform task (exact).",
    regime="sigma = 0, unit magnitudes, l2, A4 critical radii ({eval.bisection} bisection halvings); pure net W = "
           "M^(-1), dense net <M^(-T) w*, x>; dense radius exact; pure radius sound below (the ellipsoid of feature "
           "moves lies in the ball of radius eps / sqrt(lambda_min)) and by an attack on {eval.samples} samples "
           "(seed {eval.seed}) above, intervals at level {eval.level}",
    params=Q1Params, check="theorems.explore.q01_dictionaries:check", tests=TESTS,
    method="exact + sound/attack interval",
    controls=(control("threshold_zero", "b = 0: the dual-basis net is the dense net, ratio 1", net__b=0.0),),
    stress=StressPlan(vary={"model.rho": (0.0, 0.9), "net.b": (0.05, 0.9), "model.k": (1.0, 16.0)}, budget=12,
                      note="structural claim: strong coherence, thresholds near 0 and 1, denser codes"),
))


# ======================================================================== Q2 activations
@dataclass(frozen=True)
class Q2Net(Section):
    NAME = "net"
    width: int = key("net.width", 32, hi=4096)
    b: float = key("net.b", 0.3, hi=1.0, doc="the structural pure nets' threshold")
    beta_b: float = param(4.0, "sharpness beta * b of the smooth soft threshold (the corner smoothed over about a "
                               "quarter of the dead zone); the trained smooth net has beta = net.beta_b / net.b",
                          lo=0.0, hi=1000.0, open_lo=True)
    relu_threshold: str = param("per_node", "threshold rule of the trained ReLU-with-intercept net (intercepts from "
                                            "train.b_init)", choices=("shared", "per_node"))


@dataclass(frozen=True)
class Q2Structural(Section):
    NAME = "structural"
    d: int = param(64, "dimension of the structural comparison (P2's setting: sigma = 0, uniform w*, identity "
                       "dictionary)", lo=2, hi=4096)
    k: float = param(4.0, "expected active features of the structural comparison", lo=0.0, hi=4096.0, open_lo=True)
    samples: int = param(600, "Monte Carlo samples of the smooth net's radius interval", role="size", lo=1,
                         hi=10_000_000)
    pgd_steps: int = param(0, "PGD steps added to the smooth net's attack side (0: the exact soft-threshold attack "
                              "and the grid attack only)", role="size", lo=0, hi=100_000)
    pgd_restarts: int = param(1, "PGD restarts of that attack", role="size", lo=1, hi=10_000)
    bisection: int = param(7, "bisection halvings of each critical radius", role="size", lo=1, hi=60)
    seed: int = param(21, "seed of the structural Monte Carlo samples", role="seed", lo=0, hi=SEED_MAX)


@dataclass(frozen=True)
class Q2Grid(Section):
    NAME = "grid"
    beta_b: tuple = param((4.0,), "sharpness values beta * b of the smooth threshold's structural sweep (reported)",
                          role="size", lo=0.0, hi=1000.0, open_lo=True)


@dataclass(frozen=True)
class Q2Judge(Section):
    NAME = "judge"
    advantage: float = _advantage()
    purity_gap: float = _gap()
    parts: tuple = param(("structural", "training"), "which parts are judged: the structural radius ratios, the "
                                                     "purification by training", choices=("structural", "training"),
                         length=(1, 2))


@dataclass(frozen=True)
class Q2Params(ClaimParams):
    CLAIM = "Q2"
    model: TrainedModel = TrainedModel()
    net: Q2Net = Q2Net()
    structural: Q2Structural = Q2Structural()
    train: Train = Train()
    seeds: Seeds = Seeds()
    eval: TrainedEval = TrainedEval()
    purity: Purity = Purity()
    grid: Q2Grid = Q2Grid()
    judge: Q2Judge = Q2Judge()

    def validate(self) -> None:
        if "training" in self.judge.parts and self.net.b == 0:
            raise ParamError("net.b must be > 0 when judge.parts includes training (the trained smooth net's "
                             "sharpness is net.beta_b / net.b)")


register(Claim(
    id="Q2", title="Activations: ReLU with intercept, smooth soft threshold",
    paper_claims=(), scope="beyond",
    statement="With ReLU-with-intercept and with the smooth soft threshold at sharpness beta b = {net.beta_b}: (i) "
              "structural: the pure net keeps a critical-radius ratio above {judge.advantage} over the dense net (d = "
              "{structural.d}, k = {structural.k}, b = {net.b}); (ii) training: adversarial training at eps = "
              "{train.eps} purifies, the purity gap adversarial - clean being above {judge.purity_gap} (paired over "
              "seeds), as for the soft threshold (also required). Judged parts: {judge.parts}. Reported: the smooth "
              "net's ratio at beta b in ({grid.beta_b}).",
    regime="structural: sigma = 0, unit magnitudes, uniform w*, l2, A4 radii ({structural.bisection} halvings); the "
           "ReLU pair (2d nodes ReLU(+-<M_j, x> - b)) is the soft-threshold pure net exactly (exact radius); the "
           "smooth net's radius interval from a sound slope certificate (below) and attacks on {structural.samples} "
           "samples (seed {structural.seed}; PGD {structural.pgd_steps} steps x {structural.pgd_restarts} restarts "
           "added when steps > 0) above. Training: soft threshold (rule train.threshold), ReLU with intercept (rule "
           "{net.relu_threshold}) and the smooth threshold (per-node thresholds), all from 0; " + training_regime(),
    params=Q2Params, check="theorems.explore.q02_activations:check", tests=TESTS,
    method="exact + Monte Carlo interval + training",
    controls=(
        control("threshold_zero", "b = 0: the ReLU pair and the smooth threshold are linear, ratio 1 (structural part)",
                net__b=0.0, judge__parts=("structural",)),
        control("eps_zero", "the adversarial runs replaced by the clean ones: gap 0 (training part)", train__eps=0.0,
                judge__parts=("training",)),
    ),
    expected="fail",
    fails_on=("purity gap adversarial - clean training (k=1), smooth (beta b=*)",),
    may_fail=("purity gap adversarial - clean training (k=1), ReLU with intercept",),
    expected_reason="Structurally both activations keep the advantage (the ReLU pair is the soft-threshold net "
                    "exactly; the smooth net's ratio interval lies above {judge.advantage}), but adversarial training "
                    "at eps = {train.eps} does not purify them within {train.steps} steps: the ReLU intercepts move to "
                    "positive values (no dead zone, so nothing forces a node onto one feature) and the smooth net "
                    "grows its thresholds while staying dense (its leak through the dead zone keeps every feature's "
                    "gradient), so their purity gaps stay below {judge.purity_gap}; the soft threshold purifies. The smooth "
                    "net's failure is decided at every profile; the ReLU net's at ci and thorough, while at quick's "
                    "4 seeds its interval over seeds is too wide to decide.",
    stress=StressPlan(vary={"train.eps": (0.2, 0.8), "net.beta_b": (1.0, 30.0)}, budget=4,
                      note="training claim (a few points): does a sharper smooth threshold or another radius purify?"),
))


# ======================================================================== Q3 depth
@dataclass(frozen=True)
class Q3Net(Section):
    NAME = "net"
    width: int = key("net.width", 32, hi=4096, doc="first layer m1 (and the two-layer reference's m)")
    width2: int = param(16, "second hidden layer m2 of the three-layer net", lo=1, hi=4096)


@dataclass(frozen=True)
class Q3Params(ClaimParams):
    CLAIM = "Q3"
    model: TrainedModel = TrainedModel()
    net: Q3Net = Q3Net()
    train: Train = Train()
    seeds: Seeds = Seeds()
    eval: TrainedEval = TrainedEval()
    purity: Purity = Purity()
    judge: GapJudge = GapJudge()


register(Claim(
    id="Q3", title="Depth: purity of each layer of a three-layer net",
    paper_claims=(), scope="beyond",
    statement="In a three-layer soft-threshold net (m1 = {net.width}, m2 = {net.width2}, one trainable threshold per "
              "layer), adversarial training at eps = {train.eps} purifies the first layer: the layer-1 purity gap "
              "adversarial - clean exceeds {judge.purity_gap} (paired over seeds). Layer-2 purity (composite rows "
              "W2 W1) and the two-layer net's gap in the same setting are reported.",
    regime="f = a . s(W2 s(W1 x; b1); b2) + c; layer 1 weighted by how much each node reaches the output, layer 2 by "
           "|a_k| mean|h2_k|; the three-layer nets' robust errors by PGD only (numerics has no bound for them yet); "
           + training_regime(),
    params=Q3Params, check="theorems.explore.q03_depth:check", tests=TESTS,
    method="training + paired t-interval",
    controls=(control("eps_zero", "the adversarial runs replaced by the clean ones: gap 0", train__eps=0.0),),
    stress=StressPlan(vary={"train.eps": (0.2, 0.8), "net.width2": (4, 32)}, budget=4,
                      note="training claim: other radii, a narrower or wider second layer"),
))


# ======================================================================== Q4 threshold range
@dataclass(frozen=True)
class Q4Model(Section):
    NAME = "model"
    d: int = key("model.d", 256, lo=2, hi=100_000, doc="the judged dimension")
    k: float = key("model.k", 4.0, doc="p = min(1, k/d)")


@dataclass(frozen=True)
class Q4Grid(Section):
    NAME = "grid"
    b: tuple = param((0.1, 0.2, 0.3, 0.5, 0.7), "the judged thresholds b (at d = model.d)", role="size", lo=0.0,
                     hi=1.0)
    b_outside: tuple = param((0.0, 0.05, 0.85, 0.95, 1.0), "thresholds of the region map beyond the judged ones "
                                                           "(reported)", role="size", lo=0.0, hi=1.0, length=(0, 64))
    d: tuple = param((256,), "dimensions of the region map (every threshold; reported)", role="size", lo=2,
                     hi=100_000)


@dataclass(frozen=True)
class Q4Eval(Section):
    NAME = "eval"
    bisection: int = key("eval.bisection", 10)


@dataclass(frozen=True)
class Q4Judge(Section):
    NAME = "judge"
    advantage: float = _advantage()
    clean_tol: float = param(0.01, "largest |clean error pure - dense| counted as the clean Bayes level",
                             role="threshold", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class Q4Params(ClaimParams):
    CLAIM = "Q4"
    model: Q4Model = Q4Model()
    grid: Q4Grid = Q4Grid()
    eval: Q4Eval = Q4Eval()
    judge: Q4Judge = Q4Judge()


register(Claim(
    id="Q4", title="Threshold range",
    paper_claims=(), scope="beyond",
    statement="At each threshold b in ({grid.b}) (d = {model.d}, k = {model.k}) the pure net has clean error within "
              "{judge.clean_tol} of the dense (Bayes-level) net and a critical l2 radius more than {judge.advantage} "
              "times the dense net's. Region (reported): every b in ({grid.b}) and ({grid.b_outside}) at every d in "
              "({grid.d}).",
    regime="P2's setting: sigma = 0, unit magnitudes, uniform w*, identity dictionary, exact engine, A4 critical radii "
           "({eval.bisection} bisection halvings)",
    params=Q4Params, check="theorems.explore.q04_threshold:check", tests=TESTS, method="exact",
    controls=(control("threshold_zero", "b = 0: the pure net is the linear net", grid__b=(0.0,)),
              control("dead_threshold", "b = 1: soft(1; 1) = 0, the net is dead (clean error 1)", grid__b=(1.0,))),
    stress=StressPlan(vary={"model.k": (1.0, 16.0), "model.d": (32, 1024)}, budget=20,
                      note="exact claim: denser codes and smaller d shrink the advantage at the range's ends"),
))


# ======================================================================== Q5 approximate purification
@dataclass(frozen=True)
class Q5Net(Section):
    NAME = "net"
    b: float = key("net.b", 0.3, hi=1.0, doc="fixed threshold of every frozen layer")
    mixing_seed: int = key("net.mixing_seed", 0)


@dataclass(frozen=True)
class Q5Head(Section):
    NAME = "head"
    eps: float = key("head.eps", 0.0, hi=10.0)
    lr: float = key("head.lr", 0.01, hi=10.0)
    steps: int = key("head.steps", 300)
    batch: int = key("head.batch", 128)
    pgd_steps: int = key("head.pgd_steps", 5)
    eps_ramp: float = key("head.eps_ramp", 0.3)
    seed: int = key("head.seed", 7, doc="every head of the path")


@dataclass(frozen=True)
class Q5Eval(VerifiedEval):
    eps: float = key("eval.eps", 0.3, hi=10.0)
    seed: int = key("eval.seed", 4247)
    samples: int = key("eval.samples", 6000)


@dataclass(frozen=True)
class Q5Grid(Section):
    NAME = "grid"
    t: tuple = param((0.0, 0.1, 0.4, 0.8), "mixing amounts t of the path, starting at the pure layer t = 0",
                     role="size", lo=0.0, hi=10.0, length=(3, 64))

    def validate(self) -> None:
        if self.t[0] != 0.0 or any(b <= a for a, b in zip(self.t, self.t[1:])):
            raise ParamError(f"grid.t must start at 0 and increase, got {list(self.t)}")


@dataclass(frozen=True)
class Q5Judge(Section):
    NAME = "judge"
    collapse: float = param(0.15, "smallest rise of the robust error from the pure layer to the most mixed one",
                            role="threshold", lo=-1.0, hi=1.0)
    continuity: float = param(0.05, "largest rise of the robust error from the pure layer to the least mixed one",
                              role="threshold", lo=-1.0, hi=1.0)


@dataclass(frozen=True)
class Q5Params(ClaimParams):
    CLAIM = "Q5"
    model: TrainedModel = TrainedModel()
    net: Q5Net = Q5Net()
    head: Q5Head = Q5Head()
    eval: Q5Eval = Q5Eval()
    grid: Q5Grid = Q5Grid()
    judge: Q5Judge = Q5Judge()


register(Claim(
    id="Q5", title="Approximate purification: dose-response of downstream robustness",
    paper_claims=(), scope="beyond",
    statement="Logistic heads (training radius {head.eps}; 0 = clean) on frozen layers W_j = M Q(t) e_j along a "
              "mixing path Q(t) = expm(tA) (A from seed {net.mixing_seed}, threshold b = {net.b}), t in ({grid.t}): "
              "the {eval.norm} robust error at eps = {eval.eps} rises by more than {judge.collapse} from the pure "
              "layer (t = 0) to the last (most mixed) t, and rises by less than {judge.continuity} from the pure layer "
              "to the first t > 0; both judged on the sound side (verified errors: the rise's lower side takes the "
              "mixed head's proven errors against the pure head's upper limit, the continuity's upper side counts "
              "undecided samples as errors). Reported: layer purity (k = 1, 2, 3) and robust error along the path.",
    regime="data: d = {model.d}, k = {model.k}, sigma = {model.sigma}, {model.dictionary} dictionary (seed "
           "{model.dictionary_seed}), task w* = 1/sqrt(d); heads: Adam, lr {head.lr}, batch {head.batch}, "
           "{head.steps} steps, seed {head.seed}, online samples (PGD {head.pgd_steps} steps, ramp {head.eps_ramp}, "
           "when adversarial), all layers of the path as one batched run; robust errors on {eval.samples} samples (seed {eval.seed}): "
           "exact per sample for the pure layer's head, complete verification otherwise ({eval.verify_branches} "
           "branches per sample, {eval.verify_restarts} extra restarts, {eval.verify_polish} polish iterations; audit against the suite's PGD, {eval.pgd_steps} steps x {eval.pgd_restarts} "
           "restarts); intervals at level {eval.level}",
    params=Q5Params, check="theorems.explore.q05_approximate:check", tests=TESTS,
    method="head training + Monte Carlo over exact / verified per-sample decisions",
    controls=(control("threshold_zero", "b = 0: every mixed layer is the same linear representation", net__b=0.0),),
    stress=StressPlan(vary={"net.b": (0.05, 0.6), "eval.eps": (0.1, 0.5)}, budget=8,
                      note="heads only (cheap): where does the dose-response lose its collapse or its continuity?"),
))


# ======================================================================== Q6 norms and dictionaries
@dataclass(frozen=True)
class Q6Model(Section):
    NAME = "model"
    k: float = key("model.k", 4.0, doc="p = min(1, k/d)")
    dictionary_seed: int = key("model.dictionary_seed", 0)


@dataclass(frozen=True)
class Q6Grid(Section):
    NAME = "grid"
    d: tuple = param((16, 64), "dimensions d (the judged one is the largest; the slope in d is reported)",
                     role="size", lo=2, hi=100_000)
    norm: tuple = param(("l2", "linf"), "threat models of the judged cells", choices=("l2", "linf"))
    dictionary: tuple = param(("identity", "random"), "dictionaries of the judged cells",
                              choices=("identity", "random"))


@dataclass(frozen=True)
class Q6Eval(Section):
    NAME = "eval"
    samples: int = key("eval.samples", 600, doc="l_inf with a random dictionary: PGD side")
    pgd_steps: int = key("eval.pgd_steps", 20)
    pgd_restarts: int = key("eval.pgd_restarts", 2)
    bisection: int = key("eval.bisection", 8)
    seed: int = key("eval.seed", 5)
    level: float = key("eval.level", 0.99)


@dataclass(frozen=True)
class Q6Params(ClaimParams):
    CLAIM = "Q6"
    model: Q6Model = Q6Model()
    net: PureNet = PureNet()
    grid: Q6Grid = Q6Grid()
    eval: Q6Eval = Q6Eval()
    judge: AdvantageJudge = AdvantageJudge()


register(Claim(
    id="Q6", title="l_inf vs l2 adversaries, identity vs random dictionary",
    paper_claims=(), scope="beyond",
    statement="At the largest d of ({grid.d}) (k = {model.k}, b = {net.b}) the pure net's critical radius exceeds "
              "{judge.advantage} times the dense net's in every cell of norm in ({grid.norm}) x dictionary in "
              "({grid.dictionary}). The log-log slope of the ratio in d is reported per cell.",
    regime="P2's setting (sigma = 0, unit magnitudes, uniform w*), random dictionary seed {model.dictionary_seed}; "
           "A4 radii ({eval.bisection} halvings); exact except l_inf with a random dictionary: sound l2-ball / "
           "feature-box relaxations below, PGD ({eval.pgd_steps} steps x {eval.pgd_restarts} restarts, "
           "{eval.samples} samples, seed {eval.seed}) above, intervals at level {eval.level}",
    params=Q6Params, check="theorems.explore.q06_norms:check", tests=TESTS, method="exact + sound/attack interval",
    controls=(control("threshold_zero", "b = 0: pure = dense in every cell", net__b=0.0),),
    stress=StressPlan(vary={"net.b": (0.05, 0.9), "model.k": (1.0, 16.0)}, budget=12,
                      note="exact claim (one cell by PGD): thresholds and densities at which l_inf breaks first"),
))


# ======================================================================== Q7 losses
@dataclass(frozen=True)
class Q7Train(Section):
    NAME = "train"
    eps: float = key("train.eps", 0.4, hi=10.0)
    norm: str = key("train.norm", "l2")
    optimiser: str = key("train.optimiser", "adam")
    lr: float = key("train.lr", 0.01, hi=10.0)
    steps: int = key("train.steps", 300)
    batch: int = key("train.batch", 128)
    init_scale: float = key("train.init_scale", 0.01, lo=0.0, open_lo=True)
    threshold: str = key("train.threshold", "shared", choices=("shared", "per_node", "fixed"))
    b_init: float = key("train.b_init", 0.0, hi=10.0)
    pgd_steps: int = key("train.pgd_steps", 5)
    pgd_restarts: int = key("train.pgd_restarts", 1)
    eps_ramp: float = key("train.eps_ramp", 0.3)
    n_train: int = key("train.n_train", 0)


@dataclass(frozen=True)
class Contrastive(Section):
    NAME = "contrastive"
    eps: float = param(0.35, "radius of adversarial contrastive training (PGD on the anchors, both terms attacked)",
                       lo=0.0, hi=10.0)
    optimiser: str = param("adam", "optimiser of contrastive training", choices=("adam", "sgd"))
    lr: float = param(0.03, "learning rate of contrastive training", lo=0.0, hi=10.0, open_lo=True)
    steps: int = param(300, "steps of contrastive training", role="size", lo=1, hi=10_000_000)
    batch: int = param(32, "positive pairs per step (in-batch negatives)", lo=2, hi=100_000)
    seeds: int = param(4, "contrastive seeds (from seeds.first; attacked and clean runs paired)", role="size", lo=2,
                       hi=10_000)
    width: int = param(32, "nodes of the contrastive representation", lo=1, hi=4096)
    init_scale: float = param(1.0, "scale of the rows of W at init (||W_j|| about init_scale)", lo=0.0, hi=100.0,
                              open_lo=True)
    threshold: str = param("relative", "threshold rule of the representation (relative: b ||W_j||)",
                           choices=("relative", "fixed", "shared", "per_node"))
    b: float = param(0.5, "threshold (relative rule: its ratio to ||W_j||)", lo=0.0, hi=10.0)
    pgd_steps: int = param(3, "PGD steps per training step", lo=1, hi=10_000)
    augmentation: str = param("noise", "positive views", choices=("noise", "dropout"))
    temperature: float = param(0.5, "InfoNCE temperature", lo=0.0, hi=100.0, open_lo=True)


@dataclass(frozen=True)
class Q7Judge(Section):
    NAME = "judge"
    purity_gap: float = _gap()
    supervised: tuple = param(("hinge", "squared"), "supervised losses judged (logistic is always reported)",
                              choices=("logistic", "hinge", "squared"), length=(0, 3))
    contrastive: tuple = param(("infonce",), "contrastive losses judged (spectral is always reported)",
                               choices=("spectral", "infonce"), length=(0, 2))

    def validate(self) -> None:
        if not self.supervised and not self.contrastive:
            raise ParamError("judge.supervised and judge.contrastive must not both be empty")


@dataclass(frozen=True)
class Q7Params(ClaimParams):
    CLAIM = "Q7"
    model: TrainedModel = TrainedModel()
    net: TrainedNet = TrainedNet()
    train: Q7Train = Q7Train()
    contrastive: Contrastive = Contrastive()
    seeds: Seeds = Seeds()
    eval: TrainedEval = TrainedEval()
    purity: Purity = Purity()
    judge: Q7Judge = Q7Judge()


CONTRASTIVE_REGIME = (
    "contrastive: P4's headline setting on the same data: {contrastive.threshold} soft threshold b = {contrastive.b}, "
    "{contrastive.augmentation} views, m = {contrastive.width}, init scale {contrastive.init_scale}, "
    "{contrastive.optimiser} lr {contrastive.lr}, batch {contrastive.batch}, {contrastive.steps} steps, "
    "{contrastive.seeds} seeds, {contrastive.pgd_steps}-step PGD on the anchors at {contrastive.eps} (both terms "
    "attacked, no ramp); spectral loss without normalisation, InfoNCE (decoupled, T = {contrastive.temperature}) on "
    "l2-normalised representations (it is unbounded below without)")

register(Claim(
    id="Q7", title="Other losses: hinge, squared, InfoNCE",
    paper_claims=(), scope="beyond",
    statement="The purity gap (adversarial - clean training, paired over seeds) exceeds {judge.purity_gap} for the "
              "supervised losses ({judge.supervised}) at eps = {train.eps} and for the contrastive losses "
              "({judge.contrastive}) with both terms attacked at eps = {contrastive.eps}. Logistic and the spectral "
              "contrastive loss are reported as references.",
    regime="supervised: margin losses of u = y f (logistic, hinge max(0, 1 - u), squared (1 - u)^2); "
           + training_regime(loss=False)
           + "; " + CONTRASTIVE_REGIME,
    params=Q7Params, check="theorems.explore.q07_losses:check", tests=TESTS, method="training + paired t-interval",
    controls=(control("eps_zero", "the adversarial runs replaced by the clean ones: gap 0", train__eps=0.0,
                      contrastive__eps=0.0),),
    stress=StressPlan(vary={"train.eps": (0.2, 0.8), "contrastive.eps": (0.1, 0.6)}, budget=4,
                      note="training claim: the radii of both trainings"),
))


# ======================================================================== Q8 architecture
@dataclass(frozen=True)
class Q8Params(ClaimParams):
    CLAIM = "Q8"
    model: TrainedModel = TrainedModel()
    net: TrainedNet = TrainedNet()
    train: Train = Train()
    seeds: Seeds = Seeds()
    eval: TrainedEval = TrainedEval()
    purity: Purity = Purity()
    judge: GapJudge = GapJudge()


register(Claim(
    id="Q8", title="Architecture: a normalisation layer, weight sharing",
    paper_claims=(), scope="beyond",
    statement="The purity gap (adversarial - clean training at eps = {train.eps}, paired over seeds) exceeds "
              "{judge.purity_gap} for a two-layer net with an RMS normalisation before the head (the model's "
              "dictionary) and for a circulant (weight-shared) first layer of d nodes (identity dictionary: shifts of "
              "one filter line up with features only there). The plain two-layer net's gap is reported.",
    regime="normalised net: h / sqrt(mean h^2 + 1e-8) before the head, one trainable threshold, robust error by PGD "
           "only (not a two-layer net); circulant net: d nodes roll(f, j), one trainable threshold, a two-layer net "
           "(verified); " + training_regime(),
    params=Q8Params, check="theorems.explore.q08_architecture:check", tests=TESTS,
    method="training + paired t-interval",
    controls=(control("eps_zero", "the adversarial runs replaced by the clean ones: gap 0", train__eps=0.0),),
    expected="inconclusive",
    expected_reason="The normalised net purifies. The weight-shared net's outcome depends on the seed: its filter "
                    "either becomes a single tap (a pure filter) or stops at a few taps, so over {seeds.n} seeds the "
                    "paired interval of its gap straddles {judge.purity_gap}: inconclusive at the quick size "
                    "({train.steps} steps). The ci and thorough sizes decide it (pass).",
    # Observed in the ci and thorough references (2026-12), sizes fixed before: both intervals clear the threshold
    # (thorough: circulant gap 0.23, 99% interval [0.218, 0.243]).
    expected_by_profile=tuple(
        (prof, "pass", "With {seeds.n} seeds and {train.steps} training steps the weight-shared net's paired "
                       "interval of its gap clears {judge.purity_gap} (as the normalised net's does): pass; at the "
                       "quick size (4 seeds, 300 steps) it straddles it (inconclusive).")
        for prof in ("ci", "thorough")),
    stress=StressPlan(vary={"train.eps": (0.2, 0.8), "seeds.first": (0, 100)}, budget=4,
                      note="training claim: the circulant net is bimodal over seeds; other seed blocks and radii"),
))


# ======================================================================== Q9 finite samples
@dataclass(frozen=True)
class Q9Train(Train):
    NAME = "train"
    n_train: int = key("train.n_train", 256, doc="the judged sample size (16 d: about 32 samples per active feature)")


@dataclass(frozen=True)
class Q9Grid(Section):
    NAME = "grid"
    n_train: tuple = param((64, 256, 0), "training sample sizes of the region map (0 = online)", role="size", lo=0,
                           hi=100_000_000)


@dataclass(frozen=True)
class Q9Params(ClaimParams):
    CLAIM = "Q9"
    model: TrainedModel = TrainedModel()
    net: TrainedNet = TrainedNet()
    train: Q9Train = Q9Train()
    seeds: Seeds = Seeds()
    eval: TrainedEval = TrainedEval()
    purity: Purity = Purity()
    grid: Q9Grid = Q9Grid()
    judge: GapJudge = GapJudge()


register(Claim(
    id="Q9", title="Finite samples vs population",
    paper_claims=(), scope="beyond",
    statement="Adversarial training at eps = {train.eps} from a fixed sample of n = {train.n_train} inputs (0 = "
              "online) purifies: the purity gap adversarial - clean exceeds {judge.purity_gap} (paired over seeds). "
              "Region (reported): n in ({grid.n_train}); the gap between the population and the training-sample "
              "robust error of the adversarially trained nets is reported.",
    regime="a fixed sample drawn once per seed, visited in seeded minibatches, the same number of steps as online "
           "training; training-sample robust errors by complete verification of the first eval.samples training "
           "inputs; "
           + training_regime(),
    params=Q9Params, check="theorems.explore.q09_samples:check", tests=TESTS, method="training + paired t-interval",
    controls=(control("eps_zero", "the adversarial runs replaced by the clean ones: gap 0", train__eps=0.0),),
    stress=StressPlan(vary={"train.n_train": (16, 1024), "train.eps": (0.2, 0.8)}, budget=4,
                      note="training claim: from how few samples on does adversarial training purify?"),
))


# ======================================================================== Q10 task similarity
@dataclass(frozen=True)
class Q10Model(TrainedModel):
    NAME = "model"
    support: int = key("model.support", 12, lo=1, hi=4095, doc="w* uniform on the first support features")


@dataclass(frozen=True)
class Q10Net(Section):
    NAME = "net"
    width: int = key("net.width", 32, hi=4096)
    b: float = key("net.b", 0.3, hi=10.0, doc="the random layer's threshold (unit Gaussian rows)")


@dataclass(frozen=True)
class Q10Train(Train):
    NAME = "train"
    eps: float = key("train.eps", 0.3, hi=10.0, doc="supervised adversarial pre-training")


@dataclass(frozen=True)
class Q10Head(Section):
    NAME = "head"
    steps: int = key("head.steps", 150, doc="clean logistic heads, Adam, online samples")
    lr: float = key("head.lr", 0.01, hi=10.0)
    batch: int = key("head.batch", 128)
    seed: int = key("head.seed", 1000, doc="the head on the layer of pre-training seed s trains with head.seed + s")


@dataclass(frozen=True)
class Q10Task(Section):
    NAME = "task"
    seed: int = key("task.seed", 0, doc="here: of the downstream directions w' (w* is uniform on its support)")


@dataclass(frozen=True)
class Q10Eval(VerifiedEval):
    eps: float = key("eval.eps", 0.3, hi=10.0)
    seed: int = key("eval.seed", 4245, doc="head of seed s evaluated with eval.seed + s")
    samples: int = key("eval.samples", 200, doc="per head (verified)")


@dataclass(frozen=True)
class Baseline(Section):
    NAME = "baseline"
    samples: int = param(50_000, "Monte Carlo samples of the dense baseline's robust error (exact per sample)",
                         role="size", lo=1, hi=100_000_000)
    seed: int = param(4246, "seed of the dense baseline's samples", role="seed", lo=0, hi=SEED_MAX)


@dataclass(frozen=True)
class Q10Grid(Section):
    NAME = "grid"
    task: tuple = param(("rho=0.5", "disjoint"), "downstream tasks of the region map ('rho=R': cosine R with w* on "
                        "its support; 'same': w*; 'disjoint': on the features w* ignores)", role="size",
                        choices=("same", "rho=0.9", "rho=0.5", "rho=0.2", "rho=0", "disjoint"))


@dataclass(frozen=True)
class Q10Judge(Section):
    NAME = "judge"
    gain: float = param(0.10, "smallest robust-error gain of a clean head over the dense net counted as inherited "
                              "robustness", role="threshold", lo=-1.0, hi=1.0)
    covered_task: str = param("rho=0.5", "the judged covered task", choices=("same", "rho=0.9", "rho=0.5", "rho=0.2",
                                                                             "rho=0"))
    covered_layer: str = param("supervised", "layer judged on the covered task", choices=("supervised", "random"))
    ignored_layer: str = param("contrastive", "layer judged on the disjoint task", choices=("contrastive", "random"))


@dataclass(frozen=True)
class Q10Params(ClaimParams):
    CLAIM = "Q10"
    model: Q10Model = Q10Model()
    net: Q10Net = Q10Net()
    train: Q10Train = Q10Train()
    contrastive: Contrastive = Contrastive()
    head: Q10Head = Q10Head()
    task: Q10Task = Q10Task()
    seeds: Seeds = Seeds()
    eval: Q10Eval = Q10Eval()
    baseline: Baseline = Baseline()
    purity: Purity = Purity()
    grid: Q10Grid = Q10Grid()
    judge: Q10Judge = Q10Judge()

    def validate(self) -> None:
        if self.contrastive.seeds != self.seeds.n:
            raise ParamError(f"contrastive.seeds must equal seeds.n = {self.seeds.n} in Q10 (one frozen contrastive layer "
                             f"per seed), got {self.contrastive.seeds}")
        if self.model.support >= self.model.d:
            raise ParamError(f"model.support must be < model.d = {self.model.d} (the disjoint task needs ignored "
                             f"features), got {self.model.support}")


register(Claim(
    id="Q10", title="Downstream task similarity and ignored features",
    paper_claims=(), scope="beyond",
    statement="Pre-training task w* uniform on {model.support} of {model.d} features. (i) A clean head on the frozen "
              "{judge.covered_layer} layer (supervised: adversarially pre-trained at eps = {train.eps}), on the task "
              "{judge.covered_task} (cosine with w* on its support), has robust error at {eval.norm} radius "
              "{eval.eps} more than {judge.gain} below the dense net's; (ii) a clean head on the frozen "
              "{judge.ignored_layer} layer (contrastive: adversarially contrastive pre-trained, never seeing a label) "
              "does the same on a task supported on the features w* ignores. Gains averaged over seeds, judged on the "
              "sound side (verified: undecided samples count as head errors). Region (reported): every layer "
              "(supervised, contrastive, random) on every task in ({grid.task}).",
    regime="downstream tasks w' seeded ({task.seed}); heads: Adam, lr {head.lr}, batch {head.batch}, {head.steps} "
           "steps, online samples, seed {head.seed} + s, the seeds of a layer kind as one batched run; "
           "random layer: unit Gaussian rows, b = {net.b}; heads' robust errors on {eval.samples} samples (seed "
           "{eval.seed} + s) by complete verification ({eval.verify_branches} branches, {eval.verify_restarts} extra "
           "restarts, {eval.verify_polish} polish iterations; audit against the suite's "
           "PGD, {eval.pgd_steps} x {eval.pgd_restarts}); dense baseline <M w', x>: exact per sample, "
           "{baseline.samples} samples (seed {baseline.seed}); pre-training purity and coverage reported (tau = "
           "{purity.tau}, k = {purity.top_k} and 1-3, {purity.samples} inputs, seed {purity.seed}); supervised pre-training: "
           "{model.d} features, k = {model.k}, sigma = {model.sigma}, {model.dictionary} dictionary (seed "
           "{model.dictionary_seed}), m = {net.width}, {train.optimiser} lr {train.lr}, batch {train.batch}, "
           "{train.steps} steps, init {train.init_scale}, threshold {train.threshold} from {train.b_init}, "
           "{train.loss} loss, n_train {train.n_train}, {train.norm} PGD {train.pgd_steps} steps x "
           "{train.pgd_restarts}, ramp {train.eps_ramp}; {seeds.n} seeds from {seeds.first}, level {eval.level}; "
           + CONTRASTIVE_REGIME,
    params=Q10Params, check="theorems.explore.q10_task_similarity:check", tests=TESTS,
    method="training + verified Monte Carlo + exact-per-sample dense baseline",
    controls=(control("random_layer", "a random frozen layer in place of both pre-trained layers",
                      judge__covered_layer="random", judge__ignored_layer="random"),),
    expected="fail",
    fails_on=("robust error gain over the dense net, contrastive layer, disjoint task*",),
    may_fail=("robust error gain over the dense net, supervised layer, task rho=*",),
    expected_reason="Neither gain reaches {judge.gain}: the pre-trained layers are only partly purified (supervised "
                    "pre-training at eps = {train.eps} gives a few tau-purified nodes covering part of supp(w*); "
                    "spectral contrastive training purifies little, as in Q7), so a clean head has little robustness "
                    "to inherit on the {judge.covered_task} task and none on the ignored features; inheritance shows "
                    "on the most similar tasks (same, rho = 0.9) in the region map. The contrastive layer's gain on "
                    "the ignored features is decided below the threshold at every profile; the supervised layer's "
                    "on the {judge.covered_task} task is decided below it at ci and thorough sizes and undecided at "
                    "quick's (exact paired intervals over its few test points).",
    stress=StressPlan(vary={"model.support": (8, 14), "train.eps": (0.2, 0.5)}, budget=3,
                      note="training claim (expensive): pre-training support and radius"),
))
