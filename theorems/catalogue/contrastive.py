"""Catalogue entry of the contrastive family P4: parameter classes and registry entry.

P4's headline setting, fixed a priori as the paper's model and not because of any result:
the spectral contrastive loss without normalisation (the loss of HaoChen et al. that the
theory of contrastive purification analyses), positive pairs = two noisy views of one latent
(the model's own noise, no extra augmentation), the symmetric soft threshold with a threshold
relative to each node's norm (b = 0.5 ||W_j||: the pure net's robust radius is of order
min(b, 1-b), largest at 1/2, and a relative threshold keeps that dead zone whatever scale the
loss gives W), Adam (as P3), and eps = 0.35 ~ sqrt(sqrt(k/d) min(b, 1-b)) at d = 16, k = 2:
the geometric middle between the radius where dense nets break (sqrt(k/d)) and where the
pure net does. These are the class defaults below.

The region map's grid (``grid.*``) was declared with the headline before any verdict was
seen: the factorial loss x augmentation x threshold rule (8 cells), and in the thorough
profile nine one-axis departures from the headline (``grid.extra``); no cell is added or
removed after seeing results.
"""
from __future__ import annotations

from dataclasses import dataclass

from numerics.contrastive import AUGMENTATIONS, LOSSES, NORMALISATIONS, THRESHOLD_RULES

from ..parameters import ClaimParams, ParamError, Section, key, param
from ..parameters.overrides import parse_value
from ..parameters.vocabulary import SEED_MAX
from ..registry import Claim, StressPlan, control, register

# Keys a region-map cell may change (grid.extra): the training setting, not sizes or the judgement.
CELL_SECTIONS = ("model", "net", "train")


@dataclass(frozen=True)
class P4Model(Section):
    NAME = "model"
    d: int = key("model.d", 16, lo=2, hi=4096)
    k: float = key("model.k", 2.0, doc="p = min(1, k/d)")
    sigma: float = key("model.sigma", 0.1, doc="also the views' noise: two noisy views of one latent")
    dictionary: str = key("model.dictionary", "random")
    dictionary_seed: int = key("model.dictionary_seed", 1)


@dataclass(frozen=True)
class P4Net(Section):
    NAME = "net"
    width: int = key("net.width", 32)
    activation: str = key("net.activation", "soft_threshold", choices=("soft_threshold", "relu"))
    mixing_seed: int = key("net.mixing_seed", 0, doc="the positive-pair statement's path")


@dataclass(frozen=True)
class P4Train(Section):
    NAME = "train"
    loss: str = key("train.loss", "spectral", choices=LOSSES)
    normalisation: str = key("train.normalisation", "none", choices=NORMALISATIONS)
    temperature: float = key("train.temperature", 0.5, doc="InfoNCE losses only")
    augmentation: str = key("train.augmentation", "noise", choices=AUGMENTATIONS)
    drop: float = key("train.drop", 0.25)
    threshold: str = key("train.threshold", "relative", choices=THRESHOLD_RULES)
    b_init: float = key("train.b_init", 0.5, doc="relative rule: the ratio b_j / ||W_j||; trained rules: the start")
    eps: float = key("train.eps", 0.35, doc="attack on the anchor of the attacked terms")
    norm: str = key("train.norm", "l2")
    optimiser: str = key("train.optimiser", "adam")
    lr: float = key("train.lr", 0.03)
    momentum: float = key("train.momentum", 0.0)
    steps: int = key("train.steps", 400)
    batch: int = key("train.batch", 32, lo=2, doc="positive pairs per step; in-batch negatives")
    init_scale: float = key("train.init_scale", 1.0, lo=0.0, open_lo=True, doc="rows of W start as init_scale g/sqrt(d)")
    pgd_steps: int = key("train.pgd_steps", 3)
    pgd_restarts: int = key("train.pgd_restarts", 1)
    eps_ramp: float = key("train.eps_ramp", 0.0)
    dtype: str = key("train.dtype", "float32")


@dataclass(frozen=True)
class P4Seeds(Section):
    NAME = "seeds"
    n: int = key("seeds.n", 12, lo=2, doc="paired t-intervals need two")
    first: int = key("seeds.first", 0)


@dataclass(frozen=True)
class P4Purity(Section):
    NAME = "purity"
    tau: float = key("purity.tau", 0.9)
    top_k: int = key("purity.top_k", 1, hi=3, doc="k = 1, 2, 3 are measured")


@dataclass(frozen=True)
class P4Eval(Section):
    NAME = "eval"
    eps: float = key("eval.eps", 0.35, doc="the clean linear probe's robust error")
    norm: str = key("eval.norm", "l2")
    samples: int = key("eval.samples", 1000, lo=2, doc="the probe's fit sample, and as many test samples for PGD")
    pgd_steps: int = key("eval.pgd_steps", 20)
    pgd_restarts: int = key("eval.pgd_restarts", 2)
    seed: int = key("eval.seed", 2024, doc="probe and PGD samples; verified samples use seed + 1")
    level: float = key("eval.level", 0.99)
    verify_samples: int = key("eval.verify_samples", 200)
    verify_branches: int = key("eval.verify_branches", 3000)


@dataclass(frozen=True)
class P4Probe(Section):
    NAME = "probe"
    wstar_seed: int = param(7, "seed of the probe task's direction w* (Gaussian, unit norm: ties only at z = 0)",
                            role="seed", lo=0, hi=SEED_MAX)
    ridge: float = param(1e-3, "L2 penalty (weight decay) of the clean linear probe's logistic fit", lo=0.0, hi=100.0)
    steps: int = param(400, "full-batch Adam steps of the probe's fit", role="size", lo=1, hi=1_000_000)


@dataclass(frozen=True)
class P4Path(Section):
    NAME = "path"
    n: int = param(600, "anchors of the positive-pair path (with their positive views), common to every t",
                   role="size", lo=2, hi=10_000_000)
    negatives: int = param(128, "negatives of the path (views of independent latents)", role="size", lo=1,
                           hi=1_000_000)
    steps: int = param(20, "PGD steps of each term's attack along the path", role="size", lo=1, hi=100_000)
    restarts: int = param(2, "PGD restarts of each term's attack along the path", role="size", lo=1, hi=10_000)
    seed: int = param(11, "seed of the path's sample", role="seed", lo=0, hi=SEED_MAX)
    compare_loss: str = param("infonce", "the path is also reported for this loss with l2-normalised representations "
                                         "(none: the setting's only)", choices=("none",) + LOSSES)


@dataclass(frozen=True)
class P4Draw(Section):
    NAME = "draw"
    examples: int = key("draw.examples", 8, doc="mixings of the S4 loss-invariance property")
    d: int = param(8, "dimension of the S4 property's nets (model.k, model.sigma and the dictionary seed as above)",
                   lo=2, hi=64)
    anchors: int = param(256, "anchors per drawn mixing (a sample common to the pure and the mixed net)", role="size",
                         lo=2, hi=1_000_000)
    negatives: int = param(64, "negatives per drawn mixing", role="size", lo=1, hi=1_000_000)
    mixing_seed: tuple = param((0, 10_000), "seed of a drawn mixing direction A", role="range", lo=0, hi=SEED_MAX)
    t: tuple = param((0.05, 1.0), "mixing amount t of a drawn Q(t) = expm(tA)", role="range", lo=0.0, hi=100.0)
    temperature: tuple = param((0.1, 1.0), "temperature of a drawn InfoNCE loss", role="range", lo=0.0, hi=100.0,
                               open_lo=True)
    loss: tuple = param(LOSSES, "losses a mixing is drawn with", choices=LOSSES, length=(1, len(LOSSES)))
    normalisation: tuple = param(NORMALISATIONS, "normalisations a mixing is drawn with", choices=NORMALISATIONS,
                                 length=(1, len(NORMALISATIONS)))


@dataclass(frozen=True)
class P4Judge(Section):
    NAME = "judge"
    # With 8 seeds the paired 99% half-width of a null gap is about 0.01 (clean runs), and 0.02 is under 3%
    # of the range from fully dense (1/sqrt(d) = 0.25 at d = 16) to pure (1).
    gain_min: float = param(0.02, "smallest purity gain of (a) over (d) counted as purification", role="threshold",
                            lo=0.0, hi=1.0)
    share: float = param(0.5, "(b) closer to (a): gain(b) > share x gain(a); (c) closer to (d): gain(c) < share x "
                              "gain(a) (one half = the midpoint)", role="threshold", lo=0.0, hi=1.0)
    resist: float = param(0.5, "positive pairs resistant: the positive term's rise (and mixing signal) below resist x "
                               "the negative term's", role="threshold", lo=0.0, hi=10.0, open_lo=True)
    invariance_tol: float = param(1e-9, "largest relative gap of the clean terms of a mixed and the pure net counted "
                                        "as equal (rounding)", role="threshold", lo=0.0, hi=1.0)
    invariance_control_b: float = param(0.5, "threshold b at which the S4 property must fail (a dead zone sees the "
                                             "mixing)", lo=0.0, hi=100.0, open_lo=True)


@dataclass(frozen=True)
class P4Grid(Section):
    NAME = "grid"
    loss: tuple = param(("spectral", "infonce"), "region map axis: losses (a cell whose InfoNCE loss differs from the "
                                                 "setting's is l2-normalised: unnormalised InfoNCE is unbounded below)",
                        role="size", choices=LOSSES, length=(1, len(LOSSES)))
    augmentation: tuple = param(("noise", "dropout"), "region map axis: views", role="size", choices=AUGMENTATIONS,
                                length=(1, len(AUGMENTATIONS)))
    threshold: tuple = param(("relative", "per_node"), "region map axis: threshold rules", role="size",
                             choices=THRESHOLD_RULES, length=(1, len(THRESHOLD_RULES)))
    extra: tuple = param((), "further cells, each a departure from the setting: 'key=value; key=value' of model.*, "
                             "net.* or train.* keys", role="size", kind="tuple", element="str", length=(0, 64))
    path_t: tuple = param((0.0, 0.2, 0.4, 0.8), "mixing amounts t of the positive-pair path, from the pure net t = 0",
                          role="size", lo=0.0, hi=10.0, length=(2, 64))
    scheduler: str = key("grid.scheduler", "inprocess")

    def validate(self) -> None:
        if self.path_t[0] != 0.0 or any(b <= a for a, b in zip(self.path_t, self.path_t[1:])):
            raise ParamError(f"grid.path_t must start at 0 and increase, got {list(self.path_t)}")
        from ..explore.sweep import parse_scheduler

        try:
            parse_scheduler(self.scheduler)
        except ValueError as exc:
            raise ParamError(f"grid.scheduler: {exc}") from None
        for k in ("loss", "augmentation", "threshold"):
            vals = getattr(self, k)
            if len(set(vals)) != len(vals):
                raise ParamError(f"grid.{k} must list distinct values, got {list(vals)}")


@dataclass(frozen=True)
class P4Report(Section):
    NAME = "report"
    region_map: bool = key("report.region_map", True)
    sub_statements: bool = param(True, "compute the positive-pair path and the S4 loss invariance (reported "
                                       "sub-verdicts; the verdict never depends on them)", role="size")
    verified_seeds: int = param(1, "training seeds (from seeds.first) whose four probes get the verified robust error "
                                   "(0: none)", role="size", lo=0, hi=10_000)


def parse_cell(text: str) -> dict:
    """``"train.loss=infonce; train.normalisation=l2"`` -> ``{"train.loss": "infonce", ...}`` (values as TOML)."""
    out = {}
    for part in text.split(";"):
        k, sep, raw = part.partition("=")
        k = k.strip()
        if not sep or not k:
            raise ParamError(f"grid.extra: each cell is 'key=value; key=value', got {text!r}")
        out[k] = parse_value(raw.strip())
    return out


@dataclass(frozen=True)
class P4Params(ClaimParams):
    CLAIM = "P4"
    model: P4Model = P4Model()
    net: P4Net = P4Net()
    train: P4Train = P4Train()
    seeds: P4Seeds = P4Seeds()
    purity: P4Purity = P4Purity()
    eval: P4Eval = P4Eval()
    probe: P4Probe = P4Probe()
    path: P4Path = P4Path()
    draw: P4Draw = P4Draw()
    judge: P4Judge = P4Judge()
    grid: P4Grid = P4Grid()
    report: P4Report = P4Report()

    def validate(self) -> None:
        if self.purity.top_k > self.model.d:
            raise ParamError(f"purity.top_k must be at most model.d = {self.model.d}, got {self.purity.top_k}")
        if self.report.verified_seeds > self.seeds.n:
            raise ParamError(f"report.verified_seeds must be at most seeds.n = {self.seeds.n}, got "
                             f"{self.report.verified_seeds}")
        specs = self.specs()
        for text in self.grid.extra:
            for k, v in parse_cell(text).items():
                if k not in specs or k.split(".")[0] not in CELL_SECTIONS:
                    raise ParamError(f"grid.extra: {k!r} in {text!r} is not a key of {', '.join(CELL_SECTIONS)}.* "
                                     f"of P4")
                specs[k].check(f"grid.extra: {k}", v)
        if self.report.region_map:  # the setting is a cell of the declared grid
            for axis in ("loss", "augmentation", "threshold"):
                value, grid = getattr(self.train, axis), getattr(self.grid, axis)
                if value not in grid:
                    raise ParamError(f"grid.{axis} must contain train.{axis} = {value!r} (the setting is a cell of "
                                     f"the region map; or set report.region_map = false), got {list(grid)}")


# The report's extras off: a control (or a stress point) judges the verdict's conditions only.
_VERDICT_ONLY = dict(report__region_map=False, report__sub_statements=False, report__verified_seeds=0)

register(Claim(
    id="P4", title="Contrastive adversarial training purifies mainly through negative pairs",
    paper_claims=("C3",), scope="extension",
    scope_note="checked through the training dynamics of adversarial contrastive training with the attack on one "
               "term at a time",
    statement="Adversarial contrastive training with the attack on (a) both terms, (b) the negative-pair term only, "
              "(c) the positive-pair term only, (d) no term, same seeds (init and data) and budget: (a) purifies "
              "(its gain over (d) in the activity-weighted mean top-{purity.top_k} loading pi^(k) = sqrt(sum of a "
              "node's k largest squared loadings) exceeds {judge.gain_min:g}), (b)'s gain over (d) exceeds "
              "{judge.share:g} x (a)'s and (c)'s stays below {judge.share:g} x (a)'s; paired {eval.level:g} "
              "t-intervals over seeds. Setting (the headline, fixed a priori as the paper's model): {train.loss} "
              "loss, normalisation {train.normalisation} (InfoNCE temperature {train.temperature:g}), "
              "{train.augmentation} views (dropout {train.drop:g}), {net.activation} with the {train.threshold} "
              "threshold rule at b = {train.b_init:g} (relative: b_j = {train.b_init:g} ||W_j||), "
              "{train.optimiser} (lr {train.lr:g}, momentum {train.momentum:g}), {train.norm} PGD at eps = "
              "{train.eps:g} on the anchor ({train.pgd_steps} steps, {train.pgd_restarts} restart(s), ramp "
              "{train.eps_ramp:g}). Reported beside it: the same verdict over a region map (loss in ({grid.loss}) "
              "x augmentation in ({grid.augmentation}) x threshold rule in ({grid.threshold}), further cells "
              "[{grid.extra}]) with its smallest counterexample; the positive-pair statement along the mixing path "
              "Q(t) = expm(tA) (A from seed {net.mixing_seed}, t in ({grid.path_t})): at the largest t the attack "
              "raises the positive-pair term by less than {judge.resist:g} x the negative-pair term and mixing adds "
              "less to the positive term's rise than {judge.resist:g} x to the negative's (own sub-verdict; also for "
              "{path.compare_loss}); the clean loss's rotation invariance at b = 0 (S4 for the loss value: relative "
              "gap of the clean terms below {judge.invariance_tol:g} on every drawn mixing, and not at b = "
              "{judge.invariance_control_b:g}); purity at k = 1, 2, 3 ((tau, k)-purified at tau = {purity.tau:g}) "
              "and the clean linear probe's {eval.norm} robust error at eps = {eval.eps:g}.",
    regime="d = {model.d}, k = {model.k:g} expected active features, sigma = {model.sigma:g}, {model.dictionary} "
           "dictionary (seed {model.dictionary_seed}), unit magnitudes; m = {net.width} nodes (rows start at "
           "{train.init_scale:g} g / sqrt(d)), batch {train.batch} online pairs (in-batch negatives), "
           "{train.dtype}, PGD step 2.5 eps / steps; {seeds.n} seeds from {seeds.first} x {train.steps} steps, "
           "the four variants of all seeds as one batched run; purity weighted by activity on the probe sample; "
           "clean linear probe on h(x) for w* (Gaussian, seed {probe.wstar_seed}): {eval.samples} samples (seed "
           "{eval.seed}), ridge {probe.ridge:g}, {probe.steps} Adam steps; its robust error by PGD "
           "({eval.pgd_steps} steps x {eval.pgd_restarts} restarts, {eval.samples} test samples) for every net "
           "and verified (complete verification, {eval.verify_samples} fresh samples, {eval.verify_branches} "
           "branches per sample) for the probes of the first {report.verified_seeds} seed(s); path: {path.n} "
           "anchors, {path.negatives} negatives (seed {path.seed}), PGD {path.steps} steps x {path.restarts} "
           "restarts; S4 property: d = {draw.d}, {draw.examples} drawn mixings with {draw.anchors} anchors and "
           "{draw.negatives} negatives each, A's seed in [{draw.mixing_seed}], t in [{draw.t}], losses "
           "({draw.loss}), normalisations ({draw.normalisation}), T in [{draw.temperature}]; region map: "
           "{report.region_map} (cells as tasks on {grid.scheduler}); sub-statements: {report.sub_statements}",
    params=P4Params, check="theorems.checks.contrastive:check_p4", tests="theorems/test_contrastive.py",
    strategy="theorems.checks.contrastive:mixing_draws",
    method="adversarial contrastive training + paired t-intervals over seeds; PGD term attacks; Monte Carlo; "
           "complete verification of the probes",
    differences=("The paper's statement is about the loss landscape; here it is judged on the training dynamics from "
                 "a random init, with the attack moved from one loss term to the other.",),
    # Observed in the ci reference (2026-12): the (b)-vs-(a) condition's 99% interval reached -0.0006 (value 0.010);
    # quick (400 steps) and thorough (1000 steps, 16 seeds) pass. Registered as observed, never tuned: the ci
    # sizes were fixed before their verdict was seen.
    expected_by_profile=(
        ("ci", "inconclusive",
         "At ci's {train.steps} training steps over {seeds.n} seeds, the margin by which attacking only the "
         "negative pairs (b) beats half the gain of attacking both (a) has a 99% interval that reaches just below "
         "0: inconclusive. The quick and thorough sizes decide it (pass)."),
    ),
    controls=(
        control("eps_zero", "eps = 0: the four variants are the same clean run, no purification gap",
                train__eps=0.0, **_VERDICT_ONLY),
        control("linear_start", "threshold fixed at 0 (linear representation): rotation symmetry leaves no "
                                "purification signal, so no variant purifies",
                train__threshold="fixed", train__b_init=0.0, **_VERDICT_ONLY),
    ),
    stress=StressPlan(vary={"train.eps": (0.1, 1.0)}, budget=6,
                      note="each point trains the four variants x seeds (a minute or so): where does P4 stop "
                           "holding as the training radius grows, and how small a radius still purifies?"),
))
