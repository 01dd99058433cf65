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
    # ----------------------------------------------------------------- evaluation
    "eval.eps": dict(kind="float", lo=0.0, hi=100.0, doc="radius at which robust error is evaluated"),
    "eval.norm": dict(kind="str", choices=("l2", "linf"), doc="norm of the evaluation attack"),
    "eval.samples": dict(kind="int", role="size", lo=1, hi=100_000_000, doc="Monte Carlo samples per estimate"),
    "eval.pgd_steps": dict(kind="int", role="size", lo=1, hi=100_000, doc="PGD steps of the evaluation attack"),
    "eval.pgd_restarts": dict(kind="int", role="size", lo=1, hi=10_000, doc="PGD restarts of the evaluation attack"),
    "eval.level": dict(kind="float", lo=0.5, hi=1.0, open_hi=True, doc="confidence level of every interval"),
    "eval.bisection": dict(kind="int", role="size", lo=1, hi=60, doc="bisection halvings of a critical radius"),
    "eval.seed": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="base seed of the evaluation samples"),
    # ----------------------------------------------------------------- seeds
    "seeds.n": dict(kind="int", role="size", lo=1, hi=10_000, doc="number of independent training seeds (paired)"),
    "seeds.first": dict(kind="int", role="seed", lo=0, hi=SEED_MAX, doc="first training seed (seeds first .. first+n-1)"),
    # ----------------------------------------------------------------- hypothesis
    "draw.examples": dict(kind="int", role="size", lo=1, hi=100_000, doc="hypothesis examples drawn per property"),
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
