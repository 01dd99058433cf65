"""The claims catalogue as data: one registry read by the checks, the results file, the report and the CLI.

Each entry says which paper claim it encodes (C1-C4 of MODEL.md section 5, or "beyond the
paper"), the proposition, its regime, the module that checks it, its negative controls
(variants on which the same check must report that the claim does not hold) and the
expected verdict. A claim whose check shows that the paper's statement fails in our model
is registered ``expected="fail"`` with the reason; pytest then runs it as a strict xfail.
"""
from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Control:
    """A negative control: a variant of the claim's setting and the verdict the check must give there."""

    name: str
    description: str
    expected: str = "fail"

    def __post_init__(self) -> None:
        if self.expected not in VERDICTS:
            raise ValueError(f"Control.expected must be one of {VERDICTS}, got {self.expected!r}")


@dataclass(frozen=True)
class Claim:
    id: str
    paper_claim: str
    title: str
    statement: str
    regime: str
    module: str
    controls: tuple[Control, ...]
    expected: str = "pass"
    expected_reason: str | None = None
    method: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.expected not in VERDICTS:
            raise ValueError(f"Claim.expected must be one of {VERDICTS}, got {self.expected!r}")
        if self.expected != "pass" and not self.expected_reason:
            raise ValueError(f"claim {self.id}: an expected {self.expected!r} needs expected_reason")
        if not self.controls:
            raise ValueError(f"claim {self.id}: every claim needs at least one negative control")

    @property
    def replay(self) -> str:
        # -k matches substrings: exclude longer ids that contain this one (Q1 vs Q10).
        clash = sorted(other for other in CLAIMS if other != self.id and self.id in other)
        expr = " and ".join([self.id] + [f"not {o}" for o in clash])
        return f"pytest {self.module} -k '{expr}'" if clash else f"pytest {self.module} -k {self.id}"

    def control(self, name: str) -> Control:
        for c in self.controls:
            if c.name == name:
                return c
        raise KeyError(f"claim {self.id} has no control {name!r}")


def _c(name: str, description: str, expected: str = "fail") -> Control:
    return Control(name, description, expected)


CLAIMS: dict[str, Claim] = {}


def _register(claim: Claim) -> None:
    if claim.id in CLAIMS:
        raise ValueError(f"claim {claim.id} registered twice")
    CLAIMS[claim.id] = claim


_register(Claim(
    id="S1", paper_claim="C2 (tool)", title="Dual-norm inner maximisation for linear scores",
    statement="min_{||delta||_q <= eps} y(<v, x+delta> + c) = y(<v, x> + c) - eps ||v||_{q*} for q in {2, inf, 1}, "
              "q* the dual exponent; the engine's exact attack and PGD agree with it.",
    regime="any v, x, y in {-1, +1}, eps >= 0",
    module="theorems/test_symbolic.py", method="symbolic+exact+pgd",
    controls=(_c("wrong_dual", "l_inf attack paired with the l2 norm of v instead of its dual l1 norm"),),
))
_register(Claim(
    id="S2", paper_claim="C1 (tool)", title="Soft-threshold facts and the per-feature damage function",
    statement="act_b(t) = ReLU(t-b) - ReLU(-t-b) is odd, 1-Lipschitz and zero exactly on [-b, b]; the damage an "
              "l2 budget t does to one feature is psi(t) = |c| max(min(t, alpha), t - gap) with alpha, gap from (v, b).",
    regime="b >= 0, any pre-activation v, any coefficient c",
    module="theorems/test_symbolic.py", method="symbolic+exact",
    controls=(_c("relu_intercept", "ReLU with intercept in place of the symmetric threshold (not odd)"),),
))
_register(Claim(
    id="S3", paper_claim="C2", title="Pure-net worst case in the easy regime",
    statement="sigma = 0, unit magnitudes, active set S: if eps <= b and eps |w*_i| / ||w*_S|| <= 1 - b for i in S, "
              "the l2 attack lowers the pure net's margin by exactly lambda eps ||w*_S||, versus lambda eps ||w*|| for "
              "the linear net; past either boundary the exact attack departs from the formula.",
    regime="sigma = 0, point-mass magnitude 1, 0 <= b < 1, eps inside both boundaries",
    module="theorems/test_symbolic.py", method="symbolic+exact",
    controls=(_c("past_boundary", "the same formula tested on eps beyond the regime (eps > b or a saturated feature)"),),
))
_register(Claim(
    id="S4", paper_claim="C2, C3", title="Rotation invariance at b = 0",
    statement="With b = 0 the supervised clean objective depends on the mixing Q only through sum_j a_j W_j "
              "(= lambda M w* for every Q) and a linear contrastive objective only through the Gram W^T W, so "
              "clean losses cannot prefer purified nodes.",
    regime="b = 0 (linear activation), any orthogonal Q",
    module="theorems/test_symbolic.py", method="symbolic+exact",
    controls=(_c("threshold_positive", "b > 0: the function, and so the clean loss, changes with Q"),),
))
_register(Claim(
    id="S5", paper_claim="C1 (tool)", title="Sparse-coding moments and the law of <w, z>",
    statement="E<w,z> = 0, E<w,z>^2 = p E[r^2] ||w||^2, E<w,z>^4 = p E[r^4] sum w_i^4 + 3 p^2 E[r^2]^2 "
              "((sum w_i^2)^2 - sum w_i^4); the exact engine's law of <w, z> has these moments.",
    regime="independent coordinates z_i = B_i s_i r_i, any w",
    module="theorems/test_symbolic.py", method="symbolic+exact+mc",
    controls=(_c("shared_sign", "dependent coordinates (one sign shared by all features): the moment formula breaks"),),
))
_register(Claim(
    id="P1", paper_claim="C1, C2", title="Mixing raises the optimal adversarial loss, not the clean one",
    statement="Along a mixing path Q(t) = expm(tA), with (b, lambda) optimised at each t, the optimal adversarial "
              "population logistic loss at t > 0 exceeds its value at the pure net (t = 0), while the optimal clean "
              "loss stays flat within its error; at t = 0 every drawn mixing direction increases the adversarial loss.",
    regime="sigma = 0, unit magnitudes, small d (exact enumeration of z), l2 attack, lambda in [0, lambda_max], b in [0, 0.9]",
    module="theorems/test_supervised.py", method="optimisation over exact enumeration (PGD lower bound for t > 0)",
    controls=(
        _c("threshold_zero", "b fixed at 0: every Q gives the same linear function, so mixing cannot matter"),
        _c("clean_loss", "the adversarial loss replaced by the clean loss (eps = 0)"),
    ),
))
_register(Claim(
    id="P2", paper_claim="C2", title="Dense nets break at sqrt(k/d), the pure net at order min(b, 1-b)",
    statement="At the clean Bayes level, the linear (dense) net's critical l2 radius is of order sqrt(k/d) while the "
              "pure net's is of order one, so their ratio grows like sqrt(d/k) over d = 16..4096 (log-log slope in "
              "[0.4, 0.6]). (That clean training from random init ends unpurified and vulnerable is checked with P3's runs.)",
    regime="sigma = 0, unit magnitudes, uniform w*, k = p d fixed, b in (0, 1), l2; exact engine",
    module="theorems/test_supervised.py", method="exact",
    controls=(
        _c("threshold_zero", "b = 0: the pure net is the linear net, so the ratio stays 1"),
        _c("not_sparse", "k = d/4 grows with d (outside k << d): sqrt(d/k) is constant, so the ratio cannot grow"),
    ),
))
_register(Claim(
    id="P3", paper_claim="C1", title="Adversarial training from random init purifies",
    statement="Adversarial (l2 PGD, eps = 0.4) training from a small random init ends with purified nodes: the "
              "activity-weighted effective number of features per node is at least halved relative to clean training "
              "from the same init and data (paired over seeds) and most activity sits on 0.9-purified nodes; clean "
              "training ends dense (n_eff > d/4) and vulnerable (PGD breaks more than half of the inputs at eps = 0.4).",
    regime="d = 32, k = 3, sigma = 0.1, uniform w*, m = 64 hidden nodes, trainable shared symmetric threshold, Adam, "
           "online samples, 1000 steps (quick) / 3000 (thorough)",
    module="theorems/test_training_claims.py", method="training + paired t-interval over seeds",
    controls=(
        _c("eps_zero", "eps = 0: adversarial training is clean training, no purification gap"),
        _c("threshold_zero", "threshold fixed at 0: the activation is linear, rotation symmetry leaves no purification signal"),
    ),
))

# --- P4 (contrastive pre-training) entries: theorems/test_contrastive.py ---
_register(Claim(
    id="P4", paper_claim="C3", title="Contrastive adversarial training purifies mainly through negative pairs",
    statement="Adversarial contrastive training with the attack on (a) both terms, (b) the negative-pair term only, "
              "(c) the positive-pair term only, (d) no term, same seeds (init and data) and budget: (a) purifies "
              "(activity-weighted max-loading gain over (d) > 0.02), (b)'s gain over (d) exceeds half of (a)'s and "
              "(c)'s stays below half of (a)'s; paired 99% t-intervals over seeds. Verdict in the headline setting, "
              "fixed a priori as the paper's model (spectral loss, no normalisation, noisy views, symmetric soft "
              "threshold b = 0.5 ||W_j||, Adam, eps = 0.35). Reported beside it: the same verdict over a region map "
              "(loss x augmentation x threshold rule; more axes in thorough) with its smallest counterexample, the "
              "positive-pair statement along a mixing path (worst-case rise of each term and its dependence on mixing; "
              "own sub-verdict) and the clean loss's rotation invariance at b = 0 (S4 for the loss value).",
    regime="d = 16, k = 2, sigma = 0.1, m = 32 nodes, batch 32 (in-batch negatives), online pairs, l2 PGD on the "
           "anchor; quick: 12 seeds x 400 steps; thorough: 16 seeds x 1000 steps",
    module="theorems/test_contrastive.py",
    method="adversarial contrastive training + paired t-intervals over seeds; PGD term attacks; Monte Carlo",
    controls=(
        _c("eps_zero", "eps = 0: the four variants are the same clean run, no purification gap"),
        _c("linear_start", "threshold fixed at 0 (linear representation): rotation symmetry leaves no purification "
                           "signal, so no variant purifies"),
    ),
))

# --- P5 (downstream inheritance) entries: theorems/test_downstream.py ---
_register(Claim(
    id="P5", paper_claim="C4", title="A clean head on a frozen purified layer inherits robustness",
    statement="A clean logistic head trained on y' = sign(<w', z>) over a frozen purified first layer has clean error "
              "within 0.05 of end-to-end clean training, l2 robust error at eps = 0.2 within 0.10 of an adversarially "
              "trained head on the same layer and at least 0.10 below end-to-end clean training: for the pure layer "
              "(every task relation: w' correlated with w* on its support, independent, on features w* ignores) and for "
              "the adversarially pre-trained layer on tasks over the features it covers. Along a mixing path Q(t) the "
              "clean head's robust error degrades smoothly with purity: within 0.05 of the pure layer's at the first "
              "t > 0, no step down by more than 0.05, a rise of more than 0.15 at the most mixed layer.",
    regime="d = 32, k = 3, sigma = 0.1, random dictionary; w* = +-1/4 on 16 features; m = 64; pure/mixed layers b = 0.3; "
           "adversarial pre-training l2 eps = 0.45; heads: logistic, Adam, online samples; l2 attack eps = 0.2",
    module="theorems/test_downstream.py", method="training + Monte Carlo (exact worst case or PGD side of [PGD, certified])",
    controls=(
        _c("random_layer", "a random frozen layer (unit Gaussian rows, b = 0.3): no purified nodes"),
        _c("eps_zero", "the layer pre-trained with eps = 0 (clean pre-training collapses onto +-M w*)"),
        _c("threshold_zero", "the pure layer with b = 0: a linear representation, the head is the dense linear net"),
        _c("uncovered_task", "the adversarially pre-trained layer on a task supported on features w* ignores"),
    ),
))
_register(Claim(
    id="P5m", paper_claim="C4", title="A clean head on a frozen mixed layer: clean accuracy fine, robustness collapses",
    statement="Along the mixing path Q(t) (fixed threshold b = 0.3), the clean head on the frozen mixed layer keeps its "
              "clean error within 0.05 of end-to-end clean training at every t > 0, while its l2 robust error at "
              "eps = 0.2 rises by more than 0.15 from the pure layer to the most mixed one.",
    regime="as P5; mixing direction A seeded (A2), t up to 0.8 (quick) / 1.2 (thorough); task w' on the covered features, rho = 0",
    module="theorems/test_downstream.py", method="training + Monte Carlo (PGD side of [PGD, certified])",
    controls=(_c("threshold_zero", "b = 0: every mixed layer is the same linear representation, nothing collapses"),),
    expected="fail",
    expected_reason="Clean accuracy is not kept at strong mixing with a fixed threshold: at t = 0.8 (purity 0.50) the clean "
                    "head's clean error is 0.317 against 0.223 for end-to-end training (gap interval [0.052, 0.136], quick "
                    "profile). Dense nodes have pre-activations of scale sqrt(k/d) = 0.31, about the threshold b = 0.3, "
                    "so the dead zone erases signal; a mixed layer keeps clean accuracy only with a small b, i.e. when it "
                    "is nearly linear. The robustness collapse itself holds (robust error 0.30 -> 0.65).",
))
_register(Claim(
    id="D1", paper_claim="beyond the paper", title="Inheritance on real data (scikit-learn digits)",
    statement="On sklearn's digits (64 pixels), a two-layer soft-threshold net pre-trained on small-vs-large digits, "
              "adversarially (l2 eps = 0.5; l_inf eps = 0.1), frozen, with a clean logistic head trained on parity: the "
              "head's test clean accuracy is within 0.05 of (or above) that of the same head on a cleanly pre-trained "
              "layer, its PGD robust accuracy at the pre-training radius exceeds it by more than 0.10, and an "
              "adversarially trained head on the same layer gains less than 0.10 over it.",
    regime="digits scaled to [0, 1] and centred, stratified 2/3-1/3 split (seed 0); m = 64 (128 thorough), shared trainable "
           "soft threshold; purity against a MiniBatchDictionaryLearning dictionary (reported, not judged)",
    module="theorems/test_downstream.py", method="training + test-set Clopper-Pearson; [certified, PGD] reported, PGD judged",
    controls=(
        _c("random_layer", "a random frozen layer (unit Gaussian rows, b = 0) in place of the adversarial ones"),
        _c("eps_zero", "the cleanly pre-trained layer in place of the adversarial ones"),
        _c("threshold_zero", "l2 adversarial pre-training with the threshold fixed at 0 (a linear first layer)"),
    ),
    expected="fail",
    expected_reason="Only partial inheritance on digits. An adversarially trained head on the same frozen AT layer is "
                    "far more robust than the clean head: PGD robust-accuracy gap 0.37 [0.27, 0.47] (l2, eps 0.5) and "
                    "0.42 [0.32, 0.51] (l_inf, eps 0.1) in the thorough profile, 0.24 [0.14, 0.34] for l2 in quick. Over "
                    "a cleanly pre-trained layer the clean head gains for l_inf (0.18 vs 0.01 thorough, 0.50 vs 0.29 "
                    "quick) but not clearly for l2 (thorough 0.20 vs 0.07, gain interval [0.06, 0.20] straddles 0.10; "
                    "quick 0.34 vs 0.43). The AT layers are purer against the learned dictionary (about 16-18 OMP atoms "
                    "per node for 90% of the norm, against about 54 for the clean layer and 55 for random directions).",
))

# --- Q1-Q10 (beyond the paper) entries: theorems/test_explore.py ---
_Q = "theorems/test_explore.py"
_BEYOND = "beyond the paper"
_register(Claim(
    id="Q1", paper_claim=_BEYOND, title="Correlated (non-orthogonal) dictionaries and denser codes",
    statement="With a dictionary whose features have pairwise cosine rho = 0.5 (Gram (1-rho)I + rho 11^T), a task w* with "
              "random signs, d = 64, k = 4, b = 0.3: the dual-basis pure net's critical l2 radius exceeds twice the dense "
              "net's (interval: sound relaxation below, Monte Carlo attack above). Region: coherence rho x task (random "
              "signs; uniform, along the dictionary's common direction) and k/d up to 1 (orthogonal, exact).",
    regime="sigma = 0, unit magnitudes, l2, A4 critical radii; pure net W = M^{-1}, dense net <M^{-T} w*, x>",
    module=_Q, method="exact + sound/attack interval",
    controls=(_c("threshold_zero", "b = 0: the dual-basis net is the dense net, ratio 1"),),
))
_register(Claim(
    id="Q2", paper_claim=_BEYOND, title="Activations: ReLU with intercept, smooth soft threshold",
    statement="With ReLU-with-intercept and with the smooth soft threshold at sharpness beta*b = 4: (i) the pure net keeps a "
              "critical-radius ratio > 2 over the dense net (d = 64, k = 4, b = 0.3), and (ii) adversarial training "
              "(d = 16, k = 2, eps = 0.4) purifies, the purity gap adversarial - clean being > 0.2 (paired over seeds), as "
              "for the soft threshold (also required).",
    regime="structural: P2's setting; training: theorems/explore/trained.py (trainable thresholds/intercepts from 0)",
    module=_Q, method="exact + Monte Carlo interval + training",
    controls=(_c("threshold_zero", "b = 0: the ReLU pair and the smooth threshold are linear, ratio 1"),
              _c("eps_zero", "the adversarial runs replaced by the clean ones: gap 0")),
    expected="fail",
    expected_reason="Structurally both activations keep the advantage (the ReLU pair is the soft-threshold net exactly; the "
                    "smooth net's ratio interval is above 2), but adversarial training does not purify them at these "
                    "budgets: the ReLU intercepts move to positive values (no dead zone; gap about 0.0-0.2, smoke/quick) and "
                    "the smooth net grows its thresholds while staying dense (gap about 0, interval below 0.2; in a 1500-step "
                    "probe only a nearly hard beta*b = 30 purified). The soft threshold purifies (gap about 0.6).",
))
_register(Claim(
    id="Q3", paper_claim=_BEYOND, title="Depth: purity of each layer of a three-layer net",
    statement="In a three-layer soft-threshold net (m1 = 32, m2 = 16, one trainable threshold per layer), adversarial "
              "training at eps = 0.4 purifies the first layer: the layer-1 purity gap adversarial - clean exceeds 0.2 "
              "(paired over seeds). Layer-2 purity (composite rows W2 W1) is reported.",
    regime="theorems/explore/trained.py: d = 16, k = 2, sigma = 0.1, random dictionary, Adam, online samples",
    module=_Q, method="training + paired t-interval",
    controls=(_c("eps_zero", "the adversarial runs replaced by the clean ones: gap 0"),),
))
_register(Claim(
    id="Q4", paper_claim=_BEYOND, title="Threshold range",
    statement="For every b in [0.1, 0.7] (d = 256, k = 4) the pure net has clean error within 0.01 of the dense "
              "(Bayes-level) net and a critical l2 radius more than twice the dense net's. Region: all b in [0, 1].",
    regime="P2's setting: sigma = 0, unit magnitudes, uniform w*, exact engine",
    module=_Q, method="exact",
    controls=(_c("threshold_zero", "b = 0: the pure net is the linear net"),
              _c("dead_threshold", "b = 1: soft(1; 1) = 0, the net is dead (clean error 1)")),
))
_register(Claim(
    id="Q5", paper_claim=_BEYOND, title="Approximate purification: dose-response of downstream robustness",
    statement="Clean logistic heads on frozen layers along a mixing path Q(t) (b = 0.3; d = 16, k = 2, sigma = 0.1): the l2 "
              "robust error at eps = 0.3 rises by more than 0.15 from the pure layer to the most mixed one (sound: attack "
              "lower limit vs the pure head's upper limit), and at the least mixed layer stays within 0.05 of the pure "
              "layer's (PGD side). Region: the lowest layer purity keeping the robust error within 0.05.",
    regime="theorems/explore/trained.py model; mixing direction seed 0 (A2); task w* = 1/sqrt(d)",
    module=_Q, method="head training + Monte Carlo",
    controls=(_c("threshold_zero", "b = 0: every mixed layer is the same linear representation"),),
))
_register(Claim(
    id="Q6", paper_claim=_BEYOND, title="l_inf vs l2 adversaries, identity vs random dictionary",
    statement="At the largest d of the profile (k = 4, b = 0.3), the pure net's critical radius exceeds twice the dense "
              "net's in all four cells (l2, l_inf) x (identity, random dictionary). The log-log slope of the ratio in d "
              "is reported per cell.",
    regime="P2's setting; exact except l_inf with a random dictionary (sound l2-ball / feature-box relaxations below, PGD above)",
    module=_Q, method="exact + sound/attack interval",
    controls=(_c("threshold_zero", "b = 0: pure = dense in every cell"),),
))
_register(Claim(
    id="Q7", paper_claim=_BEYOND, title="Other losses: hinge, squared, InfoNCE",
    statement="The purity gap (adversarial - clean training, paired over seeds) exceeds 0.2 for the hinge and the squared "
              "loss (supervised, eps = 0.4) and for InfoNCE (contrastive, l2-normalised, T = 0.5, both terms attacked at "
              "eps = 0.35). Logistic and the spectral contrastive loss are reported as references.",
    regime="theorems/explore/trained.py model; contrastive: P4's headline setting (relative threshold b = 0.5)",
    module=_Q, method="training + paired t-interval",
    controls=(_c("eps_zero", "the adversarial runs replaced by the clean ones: gap 0"),),
))
_register(Claim(
    id="Q8", paper_claim=_BEYOND, title="Architecture: a normalisation layer, weight sharing",
    statement="The purity gap (adversarial - clean training at eps = 0.4, paired over seeds) exceeds 0.2 for a two-layer "
              "net with an RMS normalisation before the head (random dictionary) and for a circulant (weight-shared) "
              "first layer (identity dictionary).",
    regime="theorems/explore/trained.py setting; circulant net on the identity dictionary",
    module=_Q, method="training + paired t-interval",
    controls=(_c("eps_zero", "the adversarial runs replaced by the clean ones: gap 0"),),
    expected="inconclusive",
    expected_reason="The normalised net purifies (gap about 0.55, interval above 0.2). The weight-shared net's outcome "
                    "depends on the seed and on the number of steps: its filter either becomes a single tap (purity 0.99) "
                    "or stops at a few taps (about 0.49). At 300 steps (smoke) 2 of 4 seeds stop and at 1500 steps "
                    "(thorough) 9 of 10 (gap 0.29 [0.12, 0.45]): inconclusive; at 600 steps (quick) all 6 seeds purified "
                    "(pass). Longer training does not settle it."
))
_register(Claim(
    id="Q9", paper_claim=_BEYOND, title="Finite samples vs population",
    statement="Adversarial training from a fixed sample of n = 256 = 16 d inputs purifies: the purity gap adversarial - "
              "clean exceeds 0.2 (paired over seeds). Region: n on a grid and online training; the gap between the "
              "population and the training-sample robust error is reported.",
    regime="theorems/explore/trained.py setting with TrainConfig.n_train = n, same number of steps",
    module=_Q, method="training + paired t-interval",
    controls=(_c("eps_zero", "the adversarial runs replaced by the clean ones: gap 0"),),
))
_register(Claim(
    id="Q10", paper_claim=_BEYOND, title="Downstream task similarity and ignored features",
    statement="Pre-training task w* uniform on 12 of 16 features. (i) A clean head on the frozen adversarially "
              "(supervised) pre-trained layer, on a task with cosine 0.5 to w* on its support, has PGD robust error at "
              "eps = 0.3 more than 0.1 below the dense net's; (ii) a clean head on a frozen adversarially contrastive "
              "(spectral) pre-trained layer does the same on a task supported on the 4 features w* ignores.",
    regime="theorems/explore/trained.py model; pre-training eps = 0.3 (supervised), 0.35 (contrastive, P4's headline)",
    module=_Q, method="training + PGD Monte Carlo + exact-per-sample dense baseline",
    controls=(_c("random_layer", "a random frozen layer in place of both pre-trained layers"),),
    expected="fail",
    expected_reason="At these budgets neither gain reaches 0.1: the supervised layer's head gains 0.04-0.08 on the covered "
                    "task (smoke: interval below 0.1; quick: 0.079 [0.054, 0.105]) and the spectral contrastive layer's head "
                    "none on the ignored features (quick: -0.004 [-0.022, 0.015]); inheritance does show on the most similar "
                    "tasks (rho = 0.9 and w' = w*, quick). The "
                    "pre-trained layers are only partly purified (supervised: a few tau-purified nodes covering part of "
                    "supp(w*); spectral contrastive training purifies little, as in Q7), so there is little to inherit.",
))
# Stress claims (theorems/test_stress.py, run only with HYPOTHESIS_PROFILE=stress pytest theorems -m stress): a
# proposition's property drawn outside its regime, where it must break; hypothesis' target pushes toward the violation
# and the shrunk counterexample, with the boundary it crosses, is the result. Control: the same property inside.
_S = "theorems/test_stress.py"
_register(Claim(
    id="P2r", paper_claim="C2 (stress)", title="Stress: the pure net past eps ~ min(b, 1-b)",
    statement="P2's survival statement: the pure net's exact l2 robust error at eps stays below the A4 level. Drawn "
              "with eps = f min(b, 1-b), f in [0, 4], b in [0.02, 0.98], k in [1, 8], d in {16, 64, 256}; target: "
              "maximise robust error - level.",
    regime="P2's model (sigma = 0, unit magnitudes, uniform w*), exact engine",
    module=_S, method="hypothesis (targeted) + exact",
    controls=(_c("inside_regime", "f in [0, 0.5], k <= d/16: the property holds on every drawn example", "pass"),),
    expected="fail",
    expected_reason="Outside its regime the statement breaks: the search finds radii past about min(b, 1-b) (in units "
                    "of it) where the pure net is broken; the shrunk counterexample and its boundary are recorded.",
))
_register(Claim(
    id="P2i", paper_claim="C2 (stress)", title="Stress: the sqrt(d/k) law under l_inf with the identity dictionary",
    statement="P2's scaling: the least-squares log-log slope of eps_c(pure)/eps_c(linear) over d = 16, 64, 256, 1024 "
              "lies in [0.4, 0.6]. Drawn over norm in {l2, l_inf} (identity dictionary), b in [0.1, 0.7], integer k in "
              "[2, 6]; target: maximise |slope - 0.5|.",
    regime="P2's model, exact engine (l_inf exact for the identity dictionary)",
    module=_S, method="hypothesis (targeted) + exact",
    controls=(_c("inside_regime", "l2 only: the slope stays in [0.4, 0.6] (integer k: for fractional k, e.g. 3.23, "
                                  "the lattice of margins bends the l2 slope to about 0.65, a boundary of its own)", "pass"),),
    expected="fail",
    expected_reason="Under l_inf with the identity dictionary the dense net's dual norm is ||w*||_1 = sqrt(d) ||w*||_2 "
                    "while the pure net is limited by b alone: the ratio grows like d/sqrt(k) (slope about 1), outside "
                    "[0.4, 0.6]. The advantage is larger, but the sqrt(d/k) law is an l2 fact.",
))
_register(Claim(
    id="P1z", paper_claim="C1, C2 (stress)", title="Stress: purification's loss at b = 0",
    statement="P1's local statement with the threshold held fixed: a mixing rotation Q(t) (t in [0.05, 0.2], drawn "
              "direction) raises the optimal (over lambda) adversarial logistic loss above the pure net's. Drawn with "
              "b in [0, 0.9]; target: minimise the rise.",
    regime="P1's setting: d = 8, exact enumeration of z, eps = 0.25, PGD lower bound for t > 0",
    module=_S, method="hypothesis (targeted) + optimisation over exact enumeration",
    controls=(_c("inside_regime", "b in [0.2, 0.9]: every drawn rotation raises the adversarial loss", "pass"),),
    expected="fail",
    expected_reason="At b = 0 the net is linear and the loss depends on Q only through sum_j a_j W_j (S4): the rise is 0. "
                    "The search shrinks to b = 0.",
))
