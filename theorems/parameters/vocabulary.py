"""The shared vocabulary of parameter keys: one name, one meaning, in every claim.

Claims declare their sections with :func:`key`, which takes the key's meaning, type, role
and widest allowed range from :data:`VOCABULARY`; a claim may narrow the range (its
regime, or what its engine supports) but not widen it or change the meaning. So P3's
adversarial training radius and Q7's are both ``train.eps``, P2's soft threshold and Q4's
are both ``net.b``. Keys specific to one claim (what its conditions compare against,
``judge.*``; the ranges hypothesis draws from, ``draw.*``; region-map axes, ``grid.*``)
are declared with :func:`theorems.parameters.core.param` and documented where they are.
"""
from __future__ import annotations

from typing import Any

from .core import param

INF = float("inf")
SEED_MAX = 2**31 - 1

# dotted key -> (kind, role, lo, hi, choices, doc)
VOCABULARY: dict[str, dict[str, Any]] = {
    # ----------------------------------------------------------------- data model
    "model.d": dict(kind="int", lo=1, hi=1_000_000, doc="input dimension d = number of dictionary features"),
    "model.k": dict(kind="float", lo=0.0, hi=1_000_000, open_lo=True,
                    doc="expected number of active features k = p d (each z_i is active with probability p = k/d)"),
    "model.sigma": dict(kind="float", lo=0.0, hi=100.0, doc="noise level: x = M z + xi, xi ~ N(0, sigma^2/d I)"),
    "model.dictionary": dict(kind="str", choices=("random", "identity"),
                             doc="dictionary M: seeded random orthogonal matrix or the identity"),
    "model.dictionary_seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="seed of the random dictionary"),
    "model.task": dict(kind="str", choices=("uniform", "support", "random_signs"),
                       doc="pre-training task w*: uniform 1/sqrt(d), uniform on model.support features, or random signs"),
    "model.support": dict(kind="int", lo=1, hi=1_000_000, doc="number of features w* uses (task = support)"),
    "model.rho": dict(kind="float", lo=-1.0, hi=1.0, doc="pairwise cosine of the dictionary's features (coherence)"),
    "model.law": dict(kind="str", choices=("k_constant", "k_sqrt_d", "k_linear"),
                      doc="sparsity law over d: k(d) = model.k (k_constant), model.k sqrt(d/16) (k_sqrt_d) or "
                          "model.k d/16 (k_linear, not sparse)"),
    "model.signs": dict(kind="str", choices=("independent", "shared"),
                        doc="signs s_i of the active features: independent Rademacher (the model) or one sign "
                            "shared by every feature of a sample (dependent coordinates)"),
    # ----------------------------------------------------------------- networks
    "net.width": dict(kind="int", lo=1, hi=100_000, doc="number of hidden nodes m"),
    "net.b": dict(kind="float", lo=0.0, hi=100.0,
                  doc="soft threshold b of act_b(t) = ReLU(t - b) - ReLU(-t - b) (or the ReLU intercept)"),
    "net.lam": dict(kind="float", lo=0.0, hi=1_000.0, doc="output scale lambda of a structured net"),
    "net.activation": dict(kind="str", choices=("soft_threshold", "relu", "smooth"),
                           doc="activation: symmetric soft threshold, ReLU with intercept, smooth soft threshold"),
    "net.mixing_seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX,
                            doc="seed of the skew-symmetric direction A of the mixing path Q(t) = expm(tA)"),
    "net.t": dict(kind="float", lo=0.0, hi=100.0, doc="mixing amount t of Q(t) = expm(tA) (0 = pure)"),
    # ----------------------------------------------------------------- training
    "train.eps": dict(kind="float", lo=0.0, hi=100.0, doc="adversarial training radius (0 = clean training)"),
    "train.norm": dict(kind="str", choices=("l2", "linf"), doc="norm of the adversarial training ball"),
    "train.optimiser": dict(kind="str", choices=("adam", "sgd"), doc="optimiser"),
    "train.lr": dict(kind="float", lo=0.0, hi=100.0, open_lo=True, doc="learning rate"),
    "train.steps": dict(kind="int", role="size", lo=1, hi=10_000_000, doc="optimisation steps"),
    "train.batch": dict(kind="int", lo=1, hi=1_000_000, doc="samples per step"),
    "train.init_scale": dict(kind="float", lo=0.0, hi=100.0, doc="scale of the random initial weights"),
    "train.threshold": dict(kind="str", choices=("shared", "per_node", "fixed", "relative"),
                            doc="threshold rule: one trainable b for all nodes, one per node, fixed, or b = c ||W_j||"),
    "train.b_init": dict(kind="float", lo=0.0, hi=100.0, doc="initial (or fixed) threshold"),
    "train.pgd_steps": dict(kind="int", lo=1, hi=10_000, doc="PGD steps per training step"),
    "train.pgd_restarts": dict(kind="int", lo=1, hi=1_000, doc="PGD restarts per training step"),
    "train.n_train": dict(kind="int", lo=0, hi=100_000_000,
                          doc="training sample size (0 = online: fresh samples every step)"),
    "train.loss": dict(kind="str", choices=("logistic", "hinge", "squared", "spectral", "infonce", "infonce_std"),
                       doc="training loss"),
    "train.eps_ramp": dict(kind="float", lo=0.0, hi=1.0,
                           doc="fraction of the steps over which the training radius ramps up linearly from 0"),
    # contrastive pre-training (numerics.contrastive)
    "train.normalisation": dict(kind="str", choices=("none", "l2"),
                                doc="contrastive representation: as is, or normalised to unit length (cosine similarities)"),
    "train.temperature": dict(kind="float", lo=0.0, hi=100.0, open_lo=True, doc="temperature T of an InfoNCE loss"),
    "train.augmentation": dict(kind="str", choices=("noise", "dropout"),
                               doc="contrastive views: two noisy views of one latent, or dropout of its features"),
    "train.drop": dict(kind="float", lo=0.0, hi=1.0, open_hi=True,
                       doc="probability that a feature is dropped from a view (train.augmentation = dropout)"),
    "train.momentum": dict(kind="float", lo=0.0, hi=1.0, open_hi=True, doc="momentum of SGD (train.optimiser = sgd)"),
    "train.dtype": dict(kind="str", choices=("float32", "float64"), doc="floating-point type of training"),
    # ----------------------------------------------------------------- evaluation
    "eval.eps": dict(kind="float", lo=0.0, hi=100.0, doc="radius at which robust error is evaluated"),
    "eval.norm": dict(kind="str", choices=("l2", "linf"), doc="norm of the evaluation attack"),
    "eval.samples": dict(kind="int", role="size", lo=1, hi=100_000_000, doc="Monte Carlo samples per estimate"),
    "eval.pgd_steps": dict(kind="int", role="size", lo=1, hi=100_000, doc="PGD steps of the evaluation attack"),
    "eval.pgd_restarts": dict(kind="int", role="size", lo=1, hi=10_000, doc="PGD restarts of the evaluation attack"),
    "eval.level": dict(kind="float", lo=0.5, hi=1.0, open_hi=True, doc="confidence level of every interval"),
    "eval.bisection": dict(kind="int", role="size", lo=1, hi=60, doc="bisection halvings of a critical radius"),
    "eval.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="base seed of the evaluation samples"),
    "eval.verify_branches": dict(kind="int", role="size", lo=1, hi=10_000_000,
                                 doc="branch-and-bound sub-problems per sample of complete verification (numerics."
                                     "verification.Budget); a sample still open after them is unknown"),
    "eval.verify_restarts": dict(kind="int", role="size", lo=0, hi=100_000,
                                 doc="extra PGD restarts complete verification spends on the samples its root bound "
                                     "leaves undecided (numerics.verification.SearchOptions.extra_restarts)"),
    "eval.verify_polish": dict(kind="int", role="size", lo=0, hi=100_000,
                               doc="iterations of the root-bound polish for undecided samples with large search trees "
                                   "(SearchOptions.polish_iters; 0 = off)"),
    "eval.verify_relaxation": dict(kind="str", role="size", choices=("auto", "quadratic", "linear"),
                                   doc="bound of complete verification (SearchOptions.relaxation): the quadratic "
                                       "Lagrangian (auto: up to d = 512) or the optimised linear relaxation; sound "
                                       "either way, only the share of decided samples and the time differ"),
    "eval.zero_threshold": dict(kind="bool",
                                doc="evaluate the trained nets with every threshold (ReLU: intercept) set to 0 (a "
                                    "negative control: soft-threshold nets become linear)"),
    "eval.verify_samples": dict(kind="int", role="size", lo=1, hi=100_000_000,
                                doc="Monte Carlo samples of a verified robust error (complete verification per sample)"),
    # ----------------------------------------------------------------- purity of trained nets
    "purity.tau": dict(kind="float", role="threshold", lo=0.0, hi=1.0, open_lo=True,
                       doc="a node is (tau, k)-purified when pi_j^(k) = sqrt(sum of its k largest squared loadings) "
                           ">= tau"),
    "purity.top_k": dict(kind="int", lo=1, hi=1_000_000,
                         doc="k of the judged (tau, k)-purity (1: one feature per node; k = 1, 2, 3 are reported)"),
    "purity.samples": dict(kind="int", role="size", lo=1, hi=100_000_000,
                           doc="fresh inputs on which the activity weights E|a_j h_j(x)| of the nodes are measured"),
    "purity.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="seed of those inputs"),
    # ----------------------------------------------------------------- seeds
    "seeds.n": dict(kind="int", role="size", lo=1, hi=10_000, doc="number of independent training seeds (paired)"),
    "seeds.first": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="first training seed (seeds first .. first+n-1)"),
    # ----------------------------------------------------------------- hypothesis
    "draw.examples": dict(kind="int", role="size", lo=1, hi=100_000, doc="hypothesis examples drawn per property"),
    # ----------------------------------------------------------------- region maps and sweeps
    "grid.scheduler": dict(kind="str", role="size",
                           doc="where a region map's cells run (theorems.explore.sweep): inprocess, local, local:N "
                               "(a dask LocalCluster) or a dask scheduler address tcp://host:port; results do not "
                               "depend on it"),
    "report.region_map": dict(kind="bool", role="size",
                              doc="compute the claim's region map beside its verdict (the verdict never depends on it)"),
    # ----------------------------------------------------------------- stress search (theorems/stress_search.py)
    "search.budget": dict(kind="int", role="size", lo=1, hi=100_000,
                          doc="parameter points the stress search evaluates (shrinking and bisection included)"),
    "search.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="seed of the stress search's random draws"),
    "search.batch": dict(kind="int", role="size", lo=1, hi=1_000,
                         doc="points per batch of random and targeted draws (fixed: results do not depend on workers)"),
    "search.tol": dict(kind="float", role="size", lo=0.0, hi=0.5, open_lo=True,
                       doc="bisection stops when a boundary interval is narrower than this fraction of the key's range"),
    # ----------------------------------------------------------------- downstream inheritance (P5, P5m, P5d, D1)
    "task.rho": dict(kind="tuple", lo=-1.0, hi=1.0,
                     doc="cosines rho of the correlated downstream tasks: w' = rho w*/||w*|| + sqrt(1 - rho^2) u with "
                         "u a Gaussian direction on supp(w*) orthogonal to w* (numerics.downstream.downstream_task)"),
    "task.relation": dict(kind="tuple", choices=("independent", "disjoint", "same"),
                          doc="further downstream tasks: w' a Gaussian direction on all features (independent), on "
                              "the features w* ignores (disjoint), or w' = w* (same)"),
    "task.covered": dict(kind="tuple", choices=("correlated", "independent", "disjoint", "same"),
                         doc="relations of the downstream tasks on which a frozen layer other than the pure one is "
                             "judged (correlated = the task.rho tasks, on the features pre-training saw)"),
    "task.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX,
                      doc="seed of the signs of w* and of the downstream directions w'"),
    "net.layers": dict(kind="tuple", choices=("pure", "pretrained", "random"),
                       doc="frozen first layers whose heads are judged: the pure layer W = M^T, the (adversarially) "
                           "pre-trained layer, or a seeded random layer"),
    "net.random_seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX,
                            doc="seed of a random frozen layer (rows uniform on the unit sphere)"),
    "train.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX,
                       doc="seed of a training run (its init, data and attack streams are derived from it)"),
    "train.checkpoints": dict(kind="tuple", lo=0.0, hi=1.0, open_lo=True, open_hi=True,
                              doc="fractions of the steps at which training is cut into segments (fresh optimiser "
                                  "state; segment i uses seed train.seed + i; the radius ramps up over the first "
                                  "segment only) and the layer is kept as a checkpoint"),
    "head.steps": dict(kind="int", role="size", lo=1, hi=10_000_000,
                       doc="optimisation steps of a head on a frozen layer (numerics.downstream.fit_head_batch)"),
    "head.batch": dict(kind="int", lo=1, hi=1_000_000, doc="samples per step of a head's training"),
    "head.lr": dict(kind="float", lo=0.0, hi=100.0, open_lo=True, doc="learning rate of a head's training (Adam)"),
    "head.eps": dict(kind="float", lo=0.0, hi=100.0,
                     doc="radius of adversarial head training (the clean head trains at 0)"),
    "head.eps_ramp": dict(kind="float", lo=0.0, hi=1.0,
                          doc="fraction of a head's steps over which its adversarial radius ramps up from 0"),
    "head.pgd_steps": dict(kind="int", lo=1, hi=10_000, doc="PGD steps per step of adversarial head training"),
    "head.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="seed of a head's training run"),
    "e2e.steps": dict(kind="int", role="size", lo=1, hi=10_000_000,
                      doc="steps of end-to-end clean training on the downstream task (every weight trained from a "
                          "random init: the baseline a frozen-layer head is compared with)"),
    "e2e.batch": dict(kind="int", lo=1, hi=1_000_000, doc="samples per step of end-to-end training"),
    "e2e.lr": dict(kind="float", lo=0.0, hi=100.0, open_lo=True, doc="learning rate of end-to-end training (Adam)"),
    "e2e.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="seed of end-to-end training"),
    "data.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX,
                      doc="seed of the stratified train/test split of a real data set (numerics.digits.load)"),
    "data.pretask": dict(kind="str", choices=("small_vs_large", "parity"), doc="binary task of pre-training on digits"),
    "data.task": dict(kind="str", choices=("small_vs_large", "parity"), doc="binary downstream task on digits"),
}

_NARROWABLE = ("lo", "hi", "choices", "open_lo", "open_hi")
REFERENCE_D = 16  # model.law's reference dimension: k(16) = model.k under every law


def k_at(d: int, k: float, law: str) -> float:
    """The expected number of active features at dimension d under a sparsity law (capped at d)."""
    scale = {"k_constant": 1.0, "k_sqrt_d": (d / REFERENCE_D) ** 0.5, "k_linear": d / REFERENCE_D}[law]
    return min(float(d), k * scale)


def key(dotted: str, default: Any, doc: str | None = None, **narrow) -> Any:
    """A section field for the vocabulary key ``dotted`` (range narrowed by ``lo``/``hi``/``choices``)."""
    if dotted not in VOCABULARY:
        raise KeyError(f"{dotted} is not in the parameter vocabulary (theorems/parameters/vocabulary.py)")
    base = dict(VOCABULARY[dotted])
    extra = set(narrow) - set(_NARROWABLE)
    if extra:
        raise TypeError(f"{dotted}: only {', '.join(_NARROWABLE)} may be narrowed, got {sorted(extra)}")
    lo, hi = narrow.get("lo", base.get("lo")), narrow.get("hi", base.get("hi"))
    if base.get("lo") is not None and (lo is None or lo < base["lo"]):
        raise ValueError(f"{dotted}: lo {lo} widens the vocabulary's range (lo {base['lo']})")
    if base.get("hi") is not None and (hi is None or hi > base["hi"]):
        raise ValueError(f"{dotted}: hi {hi} widens the vocabulary's range (hi {base['hi']})")
    choices = narrow.get("choices", base.get("choices"))
    if base.get("choices") is not None and not set(choices) <= set(base["choices"]):
        raise ValueError(f"{dotted}: choices {choices} are not a subset of {base['choices']}")
    text = base["doc"] if doc is None else f"{base['doc']} ({doc})"
    return param(default, text, role=base.get("role", "setting"), kind=base["kind"], lo=lo, hi=hi, choices=choices,
                 open_lo=narrow.get("open_lo", base.get("open_lo", False)),
                 open_hi=narrow.get("open_hi", base.get("open_hi", False)))
