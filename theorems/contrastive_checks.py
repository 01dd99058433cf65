"""P4's computations (the runs module of :mod:`theorems.checks.contrastive`): cells, the mixing path, S4's loss.

- A *cell* (:class:`CellSpec`) is one contrastive training setting with its sizes and seeds:
  the four variants (a) both terms attacked, (b) negative-pair term only, (c) positive-pair
  term only, (d) none, for every seed, train as ONE batched run
  (:func:`numerics.contrastive.train_contrastive`: same seed = same init and data, each net bit
  for bit the net trained alone), and every frozen representation is measured
  (:func:`run_cell`): purity (activity-weighted top-k loadings for k = 1, 2, 3 and the
  (tau, k)-purified fractions), coverage, and a clean linear probe's errors (PGD through
  :func:`numerics.contrastive.evaluate_representation`; for the first seeds of the headline
  also the verified robust error, :func:`numerics.risk.robust_error` with
  ``method="verified"``). A cell is a pure function of its spec, so cells run as independent
  sweep tasks (:func:`compute_cells`, :func:`theorems.explore.sweep.run_tasks`) with the same
  results on any scheduler; computed cells are cached by spec.
- :func:`positive_pair_path`: the worst-case rise of each loss term for mixed nets along
  ``Q(t) = expm(tA)`` (the positive-pair statement).
- :func:`loss_invariance_example` and :func:`gram_dependence_sympy`: the clean contrastive
  loss's rotation invariance at b = 0 (S4 for the loss value).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from numerics import ModelConfig, SparseCodingModel, mixing_path, random_skew
from numerics.contrastive import (VARIANTS, ContrastiveConfig, contrastive_terms, evaluate_representations, make_views,
                                  probe_config, representation, term_changes, train_contrastive)
from numerics.downstream import FrozenLayer, fit_head_on_data
from numerics.estimates import Estimate, mean
from numerics.networks import TwoLayerNet
from numerics.purity import REPORTED_K, feature_loadings, network_purity, top_k_loading
from numerics.risk import robust_error
from numerics.sparse_coding import labels

from .explore.sweep import progress_ticker, run_tasks
from .verdict import condition

VARIANT_NAMES = tuple(f"({'abcd'[i]}) {v}" for i, v in enumerate(VARIANTS))
# Per net of a cell, (seeds, 4) arrays in VARIANTS order; purity_k{k} is the activity-weighted mean of
# pi^(k) (k = 1 is evaluate_representation's mean max-loading), purified_k{k} the (tau, k)-purified share.
METRICS = ("purity", "purified_fraction", "coverage", "n_eff", "clean_error", "robust_error")
K_METRICS = tuple(f"purity_k{k}" for k in REPORTED_K) + tuple(f"purified_k{k}" for k in REPORTED_K)


@dataclass(frozen=True)
class ProbeSpec:
    """The clean linear probe on a frozen representation and its evaluation (P4's ``eval.*``, ``probe.*``)."""

    eps: float
    norm: str
    samples: int
    pgd_steps: int
    pgd_restarts: int
    seed: int
    tau: float
    wstar_seed: int
    ridge: float
    steps: int


@dataclass(frozen=True)
class VerifySpec:
    """Verified robust error of the probes of the first ``seeds`` seeds (fresh samples, seed = probe seed + 1)."""

    seeds: int
    samples: int
    branches: int
    level: float


@dataclass(frozen=True)
class CellSpec:
    """Everything one cell's numbers depend on (hashable: the cache key and the sweep task)."""

    model: ModelConfig
    config: ContrastiveConfig
    seeds: tuple[int, ...]
    probe: ProbeSpec
    verify: VerifySpec | None = None


@dataclass(frozen=True)
class CellResult:
    """A cell's measurements: ``metrics[name]`` (seeds, 4); ``verified``: one row per verified probe."""

    spec: CellSpec
    metrics: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    runtime_s: float = 0.0
    verified: tuple = ()
    diverged: str | None = None


def wstar_for(d: int, seed: int) -> np.ndarray:
    """The probe's task direction: seeded Gaussian, unit norm (ties <w*, z> = 0 only at z = 0)."""
    w = np.random.default_rng(seed).standard_normal(d)
    return w / np.linalg.norm(w)


@lru_cache(maxsize=16)
def sparse_model(cfg: ModelConfig) -> SparseCodingModel:
    return SparseCodingModel(cfg)


def probe_sample(model: SparseCodingModel, probe: ProbeSpec):
    """The probe's fit sample: the first draw of ``default_rng(probe.seed)``, as in evaluate_representation."""
    return model.sample(probe.samples, np.random.default_rng(probe.seed))


def probe_net(net: TwoLayerNet, model: SparseCodingModel, w: np.ndarray, probe: ProbeSpec, sample=None) -> TwoLayerNet:
    """The clean probe ``x -> <v, h(x)> + c`` that :func:`evaluate_representation` fits and attacks (same sample,
    same fit), as a two-layer net for the verifier."""
    sample = probe_sample(model, probe) if sample is None else sample
    layer = FrozenLayer(net.W, net.b, net.activation, "representation")
    cfg = probe_config(probe.samples, ridge=probe.ridge, steps=probe.steps, seed=probe.seed)
    return fit_head_on_data(layer, sample.x, labels(sample.z, w), cfg).net


def purity_by_k(net: TwoLayerNet, M: np.ndarray, x: np.ndarray, tau: float) -> dict[str, float]:
    """Activity-weighted mean of pi_j^(k) and the (tau, k)-purified weight share, k = 1, 2, 3 (numerics.purity)."""
    pur = network_purity(net, M, x=x, weights="activity", tau=tau)
    C = feature_loadings(net.W, M)
    out = {f"purity_k{k}": float(pur.node_weight @ top_k_loading(C, k)) for k in REPORTED_K if k <= net.d}
    out.update({f"purified_k{k}": v for k, v in pur.purified_fraction_by_k.items()})
    return out


def verified_row(probe: TwoLayerNet, model: SparseCodingModel, w: np.ndarray, spec: CellSpec, s: int, v: int) -> dict:
    """Verified robust error of one probe and the audit of the suite's PGD against it (SCHEMA.md robustness_audit)."""
    from numerics.verification import Budget

    p, ver = spec.probe, spec.verify
    est = robust_error(probe, model, w, p.eps, p.norm, method="verified", samples=ver.samples, seed=p.seed + 1,
                       level=ver.level, verify={"budget": Budget(branches=ver.branches)})
    det = est.details
    errors = int(det["attackable"]) + int(det["ties"])
    return {"seed": spec.seeds[s], "variant": VARIANTS[v], "estimate": est.to_dict(),
            "audit": {"net": f"{VARIANT_NAMES[v]} probe, seed {spec.seeds[s]}", "eps": p.eps, "norm": p.norm,
                      "samples": ver.samples, "pgd_errors": errors - int(det["pgd_missed"]),
                      "verified_errors": errors, "unknown": int(det["unknown"]),
                      "missed_by_pgd": int(det["pgd_missed"])}}


def run_cell(spec: CellSpec) -> CellResult:
    """Train (a)-(d) for every seed as one batched run and measure every frozen representation."""
    model = sparse_model(spec.model)
    p = spec.probe
    w = wstar_for(model.d, p.wstar_seed)
    try:
        run = train_contrastive(model, spec.config, spec.seeds, VARIANTS)
    except FloatingPointError as exc:  # a diverged setting is a result (inconclusive cell), not a crash
        return CellResult(spec, diverged=" ".join(str(exc).split())[:300])
    S, V = len(spec.seeds), len(VARIANTS)
    out = {k: np.zeros((S, V)) for k in METRICS + K_METRICS}
    sample = probe_sample(model, p)
    verified = []
    # Every probe of the cell fits on the same sample: one batched fit (each bit for bit its fit alone).
    nets = [run.net(s, v) for s in range(S) for v in range(V)]
    evals = evaluate_representations(nets, model, w, eps=p.eps, norm=p.norm, n_probe=p.samples, n_test=p.samples,
                                     tau=p.tau, seed=p.seed, pgd_steps=p.pgd_steps, pgd_restarts=p.pgd_restarts,
                                     ridge=p.ridge, probe_steps=p.steps)
    for s in range(S):
        for v in range(V):
            net, ev = nets[s * V + v], evals[s * V + v]
            for k in METRICS:
                out[k][s, v] = getattr(ev, k)
            for k, val in purity_by_k(net, model.M, sample.x, p.tau).items():
                out[k][s, v] = val
            if spec.verify is not None and s < spec.verify.seeds:
                verified.append(verified_row(probe_net(net, model, w, p, sample), model, w, spec, s, v))
    hist = {"step": [int(t) for t in run.history["step"]],
            "purity_mean_over_seeds": run.history["purity"].mean(axis=1).tolist()}
    return CellResult(spec, out, hist, run.wall_time, tuple(verified))


_CELLS: dict[CellSpec, CellResult] = {}


def compute_cells(specs, scheduler: str = "inprocess", *,
                  desc: str = "P4 cells") -> tuple[dict[CellSpec, CellResult], dict]:
    """Every cell of ``specs`` (cached by spec), the missing ones as sweep tasks on ``scheduler`` with a progress bar;
    returns ``({spec: result}, {"scheduler": where the missing ones ran, "tasks": how many})``.

    A lone task runs in process (a cluster for one task only costs its start-up; the result is
    the same: every task runs single-threaded, :func:`theorems.explore.sweep.call_task`).
    """
    todo = list(dict.fromkeys(s for s in specs if s not in _CELLS))
    ran = {"scheduler": "none (all cells cached)", "tasks": len(todo)}
    if todo:
        results, stats = run_tasks([(run_cell, s) for s in todo], "inprocess" if len(todo) == 1 else scheduler,
                                   progress=progress_ticker(desc, len(todo)))
        _CELLS.update(zip(todo, results))
        ran["scheduler"] = stats.scheduler
    return {s: _CELLS[s] for s in specs}, ran


# ------------------------------------------------------------------ the verdict of one cell


def share_values(P: np.ndarray, col: int, share: float) -> np.ndarray:
    """Per seed: variant ``col``'s gain over (d) minus ``share`` times (a)'s gain over (d)."""
    return (P[:, col] - P[:, 3]) - share * (P[:, 0] - P[:, 3])


def variant_conditions(P: np.ndarray, *, gain_min: float, share: float, level: float, k: int = 1) -> list:
    """The three conditions of P4's verdict on a (seeds, 4) purity table."""
    what = "max-loading" if k == 1 else f"top-{k} loading"
    return [
        condition(f"{what} gain of (a) both terms attacked over (d) clean", mean(P[:, 0] - P[:, 3], level, paired=True),
                  "above", gain_min),
        condition(f"(b)-(d) gain minus {share:g} x (a)-(d) gain [(b) closer to (a)]", mean(share_values(P, 1, share), level),
                  "above", 0.0),
        condition(f"(c)-(d) gain minus {share:g} x (a)-(d) gain [(c) closer to (d)]", mean(share_values(P, 2, share), level),
                  "below", 0.0),
    ]


def shares(P: np.ndarray) -> dict:
    """(b)'s and (c)'s mean gain over (d) as fractions of (a)'s."""
    g = float(np.mean(P[:, 0] - P[:, 3]))
    if g == 0:
        return {"negative_share": None, "positive_share": None}
    return {"negative_share": float(np.mean(P[:, 1] - P[:, 3]) / g),
            "positive_share": float(np.mean(P[:, 2] - P[:, 3]) / g)}


def summary(values: np.ndarray, level: float) -> Estimate:
    """Mean over seeds with a t-interval (exact when every seed gives the same value)."""
    return mean(values, level) if np.ptp(values) > 0 else Estimate.exact(float(values[0]))


# ------------------------------------------------------------------ positive-pair statement


@dataclass(frozen=True)
class PathSpec:
    """The positive-pair statement's setting and sizes (P4's ``train.*``, ``net.*``, ``path.*``, ``grid.path_t``)."""

    model: ModelConfig
    loss: str
    temperature: float
    normalisation: str
    augmentation: str
    drop: float
    activation: str
    b: float
    eps: float
    norm: str
    ts: tuple[float, ...]
    n: int
    negatives: int
    steps: int
    restarts: int
    seed: int
    mixing_seed: int
    resist: float
    level: float


def _path_net(M: np.ndarray, Q: np.ndarray, spec: PathSpec) -> TwoLayerNet:
    """Mixed representation ``W_j = M Q e_j`` (unit rows) with the setting's threshold.

    Unit rows make the relative threshold ``b ||W_j||`` equal to b; a fixed or trained
    threshold is taken at its (initial) value b.
    """
    W = (M @ Q).T.copy()
    d = W.shape[0]
    tau = np.full(d, spec.b)
    return TwoLayerNet(W=W, a=np.ones(d), b=tau if spec.activation == "soft_threshold" else -tau,
                       activation=spec.activation, family="mixed")


@lru_cache(maxsize=8)
def positive_pair_path(spec: PathSpec) -> dict:
    """Worst-case (PGD) rise of each term for mixed nets along ``Q(t)``, on common samples.

    Scale: the unnormalised spectral loss is evaluated at the net's clean-optimal scale
    (``h -> lambda h`` with ``lambda^2 = -E pos / (2 E neg)``, the scale clean training would
    give it: positive term x lambda^2, negative term x lambda^4, the attack is
    scale-equivariant); normalised representations have no free scale.
    Per t: Delta+ and Delta- (mean rise of each term), the signal S = Delta(t) - Delta(0)
    (how much more the attack hurts the mixed net than the pure one), paired per anchor.
    """
    model = sparse_model(spec.model)
    A = random_skew(model.d, spec.mixing_seed)
    level, resist = spec.level, spec.resist
    rows, per = [], []
    for t in spec.ts:
        Q = mixing_path(A, t)
        tc = term_changes(_path_net(model.M, Q, spec), model, spec.eps, loss=spec.loss, temperature=spec.temperature,
                          normalisation=spec.normalisation, augmentation=spec.augmentation, drop=spec.drop,
                          n=spec.n, n_neg=spec.negatives, norm=spec.norm, steps=spec.steps, restarts=spec.restarts,
                          seed=spec.seed)
        lam2 = 1.0
        if spec.loss == "spectral" and spec.normalisation == "none":
            lam2 = float(-tc.pos_clean.mean() / (2.0 * tc.neg_clean.mean()))
        dp, dn = lam2 * tc.pos_change, lam2**2 * tc.neg_change
        per.append((dp, dn))
        rows.append({"t": float(t), "node_max_loading": float(np.abs(Q).max(axis=0).mean()), "scale_lambda_squared": lam2,
                     "positive_clean": mean(lam2 * tc.pos_clean, level),
                     "negative_clean": mean(lam2**2 * tc.neg_clean, level),
                     "positive_rise": mean(dp, level), "negative_rise": mean(dn, level),
                     "negative_minus_positive_over_resist": mean(dn - dp / resist, level)})
    dp0, dn0 = per[0]
    for r, (dp, dn) in zip(rows, per):
        sp, sn = dp - dp0, dn - dn0
        r["positive_signal"] = mean(sp, level, paired=True) if r["t"] > 0 else Estimate.exact(0.0)
        r["negative_signal"] = mean(sn, level, paired=True) if r["t"] > 0 else Estimate.exact(0.0)
        if r["t"] > 0:
            r["signal_upper_check"] = mean(sn - sp / resist, level, paired=True)
            r["signal_lower_check"] = mean(sn + sp / resist, level, paired=True)
    end = rows[-1]
    conds = [condition(f"Delta- - Delta+/{resist:g} at t={end['t']:g} [positive rise < {resist:g} x negative rise]",
                       end["negative_minus_positive_over_resist"], "above", 0.0),
             condition(f"S- - S+/{resist:g} at t={end['t']:g} [positive signal < {resist:g} x negative signal]",
                       end["signal_upper_check"], "above", 0.0),
             condition(f"S- + S+/{resist:g} at t={end['t']:g} [positive signal > -{resist:g} x negative signal]",
                       end["signal_lower_check"], "above", 0.0)]
    from .verdict import combine

    return {"rows": rows, "conditions": conds, "verdict": combine(c.verdict for c in conds),
            "seeds": {"direction": spec.mixing_seed, "sample": spec.seed, "dictionary": spec.model.dictionary_seed},
            "resistance_verdict": conds[0].verdict, "signal_verdict": combine(c.verdict for c in conds[1:])}


# ------------------------------------------------------------------ rotation invariance of the clean loss (S4, extended)


def loss_invariance_example(example: dict, *, model: ModelConfig, b: float, anchors: int, negatives: int,
                            tol: float) -> tuple[list, dict]:
    """Mixed representation Q(t) vs pure (Q = I) at threshold b: per-anchor contrastive terms on a common sample.

    With b = 0 the representation is ``h = Q^T M^T x``, and every similarity ``<h, h'>``
    (hence both terms of every loss, normalised or not) depends on W only through
    ``W^T W = I``: the terms must agree to rounding. With b > 0 they must not.
    """
    sm = sparse_model(model)
    d = sm.d
    Q = mixing_path(random_skew(d, example["mixing_seed"]), example["t"])
    g = torch.Generator().manual_seed(example["mixing_seed"])
    dt = torch.float64
    _, z = sm.sample_torch(anchors, g, dtype=dt)
    _, zn = sm.sample_torch(negatives, g, dtype=dt)
    views = [make_views(sm, v, g) for v in (z, z, zn)]  # anchors, positives, negatives: common to both nets
    terms = {}
    for name, W in (("pure", sm.M.T), ("mixed", (sm.M @ Q).T)):
        Wt = torch.as_tensor(W, dtype=dt)
        tau = torch.full((d,), float(b), dtype=dt)
        h, hp, hn = (representation(v, Wt, tau, "soft_threshold", example["normalisation"]) for v in views)
        pos, neg = contrastive_terms(h, hp, hn, example["loss"], example["temperature"])
        terms[name] = (pos.numpy(), neg.numpy())
    gap = max(float(np.max(np.abs(terms["mixed"][i] - terms["pure"][i]))) for i in (0, 1))
    scale = 1.0 + max(float(np.max(np.abs(terms["pure"][i]))) for i in (0, 1))
    loss_pure = float(np.mean(terms["pure"][0] + terms["pure"][1]))
    loss_mixed = float(np.mean(terms["mixed"][0] + terms["mixed"][1]))
    conds = [condition("max |term(Q) - term(I)| / (1 + max|term|) on the common sample", Estimate.exact(gap / scale),
                       "below", tol)]
    return conds, {"max_term_gap": gap, "loss_pure": loss_pure, "loss_mixed": loss_mixed}


@lru_cache(maxsize=1)
def gram_dependence_sympy() -> dict:
    """sympy: with h = W x, both terms of the spectral loss and the cosine similarity used by
    normalised InfoNCE are functions of the Gram ``G = W^T W`` (m = 3 nodes, d = 2), and they
    are unchanged by a node rotation ``W -> R W`` (m = 2, R a rotation by theta)."""
    import sympy as sp

    m, d = 3, 2
    W = sp.Matrix(m, d, lambda i, j: sp.Symbol(f"w{i}{j}", real=True))
    x, xp, xn = (sp.Matrix(d, 1, lambda i, _, s=s: sp.Symbol(f"{s}{i}", real=True)) for s in ("x", "p", "n"))
    G = W.T * W
    inner = lambda u, v: ((W * u).T * (W * v))[0]  # noqa: E731
    gram = lambda u, v: (u.T * G * v)[0]  # noqa: E731
    pos_ok = sp.expand(-2 * inner(x, xp) - (-2 * gram(x, xp))) == 0
    neg_ok = sp.expand(inner(x, xn) ** 2 - gram(x, xn) ** 2) == 0
    norm_ok = sp.expand(inner(x, x) - gram(x, x)) == 0  # ||Wx||^2 = x^T G x: the cosine's denominators
    th = sp.Symbol("theta", real=True)
    R = sp.Matrix([[sp.cos(th), -sp.sin(th)], [sp.sin(th), sp.cos(th)]])
    W2 = sp.Matrix(2, d, lambda i, j: sp.Symbol(f"v{i}{j}", real=True))
    rot = sp.simplify(((R * W2).T * (R * W2)) - W2.T * W2) == sp.zeros(d, d)
    return {"spectral_positive_term_is_gram_function": bool(pos_ok),
            "spectral_negative_term_is_gram_function": bool(neg_ok),
            "representation_norm_is_gram_function": bool(norm_ok),
            "gram_invariant_under_node_rotation": bool(rot)}
