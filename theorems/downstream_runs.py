"""The runs behind P5, P5m, P5d and D1 (downstream inheritance, paper claim C4), cached by what they depend on.

Every object is a pure function of a small frozen *spec* (hashable: the cache key, and
picklable: a sweep task can rebuild it in another process):

- :class:`TaskSpec` -> the pre-training direction ``w*`` and a downstream ``w'``
  (:func:`numerics.downstream.task_pair`);
- :class:`PretrainSpec` -> a layer pre-trained on ``w*`` in segments (checkpoints);
- :class:`LayerSpec` -> a frozen layer: pure (``W = M^T``), mixed (``W_j = M Q(t) e_j``),
  random, a pre-training checkpoint, or the contrastive layer (P4's setting);
- :class:`HeadKey` (layer, task, :class:`HeadSpec`) -> a head on the frozen layer. Heads are
  fitted in batches (:func:`heads`): every missing head of one (task, head setting, layer
  shape) is one :func:`numerics.downstream.fit_head_batch` run, each bit for bit the head
  fitted alone, so which heads share a batch changes no number;
- :class:`E2ESpec` -> end-to-end clean training on the downstream task (the baseline);
- :class:`EvalSpec` -> per-sample error indicators of a net (:func:`robust`, :func:`clean`).

Robust errors: ``numerics.risk``'s Monte Carlo engine (:func:`numerics.risk.sampling.sample_margins`)
with the per-sample engine that is exact where one exists (heads on the pure layer are
feature-aligned, layers with ``b = 0`` linear: exact worst case per sample) and complete
verification (:mod:`numerics.verification`, ``method="verified"``) for every other two-layer
net; the estimate is numerics.risk's own summary of those samples. Every net of one claim is
evaluated on the same seeded samples (common random numbers), so differences between two nets
are *paired* (:func:`paired`): per sample, the lower side counts the first net's proven errors
against the second's possible ones (proven plus undecided), the upper side the reverse.
Keeping the per-sample indicators is what makes the pairing possible without verifying a net
twice (numerics.risk.paired_risk_difference would sample both nets again).

D1's nets are verified on the digits test set (:func:`digits_robust`: ``numerics.verification.verify``
per test point, Clopper-Pearson over its decisions).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Sequence

import numpy as np

from numerics import ModelConfig, SparseCodingModel, linear_net, mixing_path, random_skew
from numerics.downstream import (FrozenLayer, HeadFit, TaskPair, fit_head_batch, fit_head_on_data, layer_coverage,
                                 mixed_layer, pure_layer, random_layer, task_pair)
from numerics.estimates import Estimate, clopper_pearson, paired_difference
from numerics.purity import REPORTED_K, feature_loadings, network_purity, top_k_loading
from numerics.training import TrainConfig, train

# ------------------------------------------------------------------ models and tasks


def model_config(d: int, k: float, sigma: float, dictionary: str, dictionary_seed: int) -> ModelConfig:
    """The sparse-coding model with ``k`` expected active features out of ``d`` (p = k / d)."""
    return ModelConfig(d=d, p=min(1.0, k / d), sigma=sigma, dictionary=dictionary, dictionary_seed=dictionary_seed)


@cache
def model(cfg: ModelConfig) -> SparseCodingModel:
    return SparseCodingModel(cfg)


@dataclass(frozen=True)
class TaskSpec:
    """``w*`` uniform on the first ``support`` features (seeded signs) and ``w'`` related to it by ``relation``."""

    d: int
    relation: str  # "correlated" | "independent" | "disjoint" | "same"
    support: int
    rho: float = 0.0  # used by "correlated"
    seed: int = 0

    @property
    def name(self) -> str:
        return f"rho={self.rho:g}" if self.relation == "correlated" else self.relation


@cache
def task(spec: TaskSpec) -> TaskPair:
    rho = spec.rho if spec.relation == "correlated" else 0.0
    return task_pair(spec.d, spec.relation, support_size=spec.support, rho=rho, seed=spec.seed)


# ------------------------------------------------------------------ pre-training


@dataclass(frozen=True)
class PretrainSpec:
    """Supervised pre-training of a two-layer net on ``w*`` (the TaskSpec's), cut into segments at ``checkpoints``.

    Segment i continues from the previous weights with a fresh optimiser state and seed
    ``seed + i``; the radius ramps up from 0 over the first ``eps_ramp`` of segment 0 only.
    """

    model: ModelConfig
    task: TaskSpec
    width: int
    eps: float
    norm: str
    lr: float
    batch: int
    steps: int
    pgd_steps: int
    threshold: str
    init_scale: float
    optimiser: str
    eps_ramp: float
    checkpoints: tuple
    seed: int


@cache
def pretrain(spec: PretrainSpec) -> tuple:
    """``((fraction, FrozenLayer, seconds), ...)`` after each segment, ending with fraction 1."""
    m = model(spec.model)
    wstar = task(spec.task).wstar
    default = TrainConfig()
    fracs = tuple(spec.checkpoints) + (1.0,)
    out, net, done = [], None, 0
    for i, f in enumerate(fracs):
        n = max(1, int(round(f * spec.steps)) - done)
        cfg = TrainConfig(steps=n, batch=spec.batch, lr=spec.lr, optimiser=spec.optimiser, eps=spec.eps,
                          norm=spec.norm, eps_ramp=spec.eps_ramp if i == 0 else 0.0, pgd_steps=spec.pgd_steps,
                          width=spec.width if net is None else default.width, threshold=spec.threshold,
                          init_scale=spec.init_scale if net is None else default.init_scale,
                          seed=spec.seed + i, progress=False)
        res = train(m, wstar, net, cfg)
        net, done = res.net, done + n
        layer = FrozenLayer.of(res.net, f"pre-trained eps={spec.eps:g} at {f:g}", eps=spec.eps, steps=done)
        out.append((f, layer, res.wall_time))
    return tuple(out)


@dataclass(frozen=True)
class ContrastiveSpec:
    """P4's headline contrastive setting at P4's profile ``p4_profile``, trained at this model's d, k, sigma, width."""

    model: ModelConfig
    k: float
    width: int
    p4_profile: str
    seed: int
    variant: str


@cache
def contrastive_run(spec: ContrastiveSpec):
    from numerics.contrastive import train_contrastive

    from .checks.contrastive import contrastive_config, p4_params  # P4's parameters -> its ContrastiveConfig

    cfg = contrastive_config(p4_params(spec.p4_profile, {"model.d": spec.model.d, "model.k": spec.k,
                                                         "model.sigma": spec.model.sigma, "net.width": spec.width}))
    return train_contrastive(model(spec.model), cfg, [spec.seed], (spec.variant,))


# ------------------------------------------------------------------ frozen layers


@dataclass(frozen=True)
class LayerSpec:
    """A frozen first layer: kind "pure" | "mixed" | "random" | "pretrained" | "contrastive" and what it needs."""

    kind: str
    model: ModelConfig
    b: float = 0.0  # pure, mixed, random
    t: float = 0.0  # mixed
    mixing_seed: int = 0  # mixed
    width: int = 0  # random
    seed: int = 0  # random
    pretrain: PretrainSpec | None = None
    fraction: float = 1.0  # pretrained: which checkpoint
    contrastive: ContrastiveSpec | None = None

    @property
    def name(self) -> str:
        if self.kind == "mixed":
            return f"mixed t={self.t:g}"
        if self.kind == "pretrained":
            tag = "AT" if self.pretrain.eps > 0 else "clean"
            return f"{tag} pre-trained" + ("" if self.fraction == 1.0 else f" at {self.fraction:g}")
        return self.kind


@cache
def layer(spec: LayerSpec) -> FrozenLayer:
    M = model(spec.model).M
    if spec.kind == "pure" or (spec.kind == "mixed" and spec.t == 0.0):
        return pure_layer(M, spec.b)
    if spec.kind == "mixed":
        Q = mixing_path(random_skew(spec.model.d, spec.mixing_seed), spec.t)
        return mixed_layer(M, Q, spec.b, t=spec.t)
    if spec.kind == "random":
        return random_layer(spec.model.d, spec.width, spec.b, seed=spec.seed)
    if spec.kind == "pretrained":
        for frac, lay, _ in pretrain(spec.pretrain):
            if frac == spec.fraction:
                return lay
        raise ValueError(f"fraction must be a checkpoint of the pre-training run or 1, got {spec.fraction:g}")
    if spec.kind == "contrastive":
        run = contrastive_run(spec.contrastive)
        return run.frozen_layer(0, spec.contrastive.variant, "contrastive")
    raise ValueError(f"kind must be pure, mixed, random, pretrained or contrastive, got {spec.kind!r}")


# ------------------------------------------------------------------ heads and the end-to-end baseline


@dataclass(frozen=True)
class HeadSpec:
    """How a head on a frozen layer is trained (clean when ``eps`` = 0)."""

    steps: int
    batch: int
    lr: float
    eps: float
    norm: str
    eps_ramp: float
    pgd_steps: int
    seed: int

    def config(self) -> TrainConfig:
        return TrainConfig(steps=self.steps, batch=self.batch, lr=self.lr, eps=self.eps, norm=self.norm,
                           eps_ramp=self.eps_ramp if self.eps else 0.0, pgd_steps=self.pgd_steps, seed=self.seed,
                           progress=False)


@dataclass(frozen=True)
class HeadKey:
    layer: LayerSpec
    task: TaskSpec
    head: HeadSpec

    @property
    def name(self) -> str:
        return f"{'adversarial' if self.head.eps else 'clean'} head on {self.layer.name} [{self.task.name}]"


_HEADS: dict[HeadKey, HeadFit] = {}


def heads(keys: Sequence[HeadKey]) -> list[HeadFit]:
    """The heads of ``keys``; the missing ones fitted as one batched run per (task, head setting, layer shape)."""
    missing = [k for k in dict.fromkeys(keys) if k not in _HEADS]
    groups: dict[tuple, list[HeadKey]] = {}
    for k in missing:
        lay = layer(k.layer)
        groups.setdefault((k.task, k.head, k.layer.model, lay.W.shape, lay.activation), []).append(k)
    for (tk, hs, mc, _, _), ks in groups.items():
        fits = fit_head_batch([layer(k.layer) for k in ks], model(mc), task(tk).wprime, hs.config(),
                              seeds=[hs.seed] * len(ks))
        _HEADS.update(zip(ks, fits))
    return [_HEADS[k] for k in keys]


@dataclass(frozen=True)
class E2ESpec:
    """End-to-end clean training on the downstream task from a random init (every weight trained)."""

    model: ModelConfig
    task: TaskSpec
    width: int
    steps: int
    batch: int
    lr: float
    seed: int

    @property
    def name(self) -> str:
        return f"end-to-end clean training [{self.task.name}]"


@cache
def e2e(spec: E2ESpec):
    cfg = TrainConfig(steps=spec.steps, batch=spec.batch, lr=spec.lr, width=spec.width, seed=spec.seed,
                      progress=False)
    return train(model(spec.model), task(spec.task).wprime, None, cfg).net.to_net()


@dataclass(frozen=True)
class LinearKey:
    """The linear net ``x -> <M w', x>`` (the Bayes classifier of the task when sigma = 0)."""

    model: ModelConfig
    task: TaskSpec

    @property
    def name(self) -> str:
        return f"linear net [{self.task.name}]"


def net_of(key):
    """The two-layer net of a key (HeadKey, E2ESpec, LinearKey)."""
    if isinstance(key, HeadKey):
        return heads([key])[0].net
    if isinstance(key, E2ESpec):
        return e2e(key)
    if isinstance(key, LinearKey):
        return linear_net(model(key.model).M, task(key.task).wprime)
    raise TypeError(f"key must be a HeadKey, E2ESpec or LinearKey, got {type(key).__name__}")


def model_of(key) -> ModelConfig:
    return key.layer.model if isinstance(key, HeadKey) else key.model


def task_of(key) -> TaskSpec:
    return key.task


# ------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class EvalSpec:
    """Where and how errors are estimated: robust errors at ``eps`` (``norm``) on ``samples`` seeded draws (complete
    verification with ``branches`` sub-problems per sample and the suite's PGD of ``pgd_steps`` x ``pgd_restarts``
    inside), clean errors on ``clean_samples`` draws; every interval at ``level``."""

    eps: float
    norm: str
    samples: int
    clean_samples: int
    seed: int
    level: float
    pgd_steps: int
    pgd_restarts: int
    branches: int
    restarts: int = 20  # extra PGD restarts on inputs the root bound leaves undecided
    polish: int = 0  # root-bound polish iterations for undecided inputs
    relaxation: str = "auto"  # the verifier's bound: quadratic Lagrangian (auto) or linear relaxation

    def pgd(self) -> dict:
        return {"steps": self.pgd_steps, "restarts": self.pgd_restarts}

    def verify(self) -> dict:
        return verify_options(self.pgd_steps, self.pgd_restarts, self.branches, self.restarts, self.polish,
                              self.relaxation)


def verify_options(pgd_steps: int, pgd_restarts: int, branches: int, restarts: int, polish: int,
                   relaxation: str = "auto") -> dict:
    """numerics.verification's budget and options: the suite's PGD at these sizes inside (its misses are audited)."""
    from numerics.attacks.pgd import PGD_DEFAULTS
    from numerics.verification import Budget, SearchOptions

    return {"budget": Budget(branches=branches),
            "options": SearchOptions(pgd=PGD_DEFAULTS.replace(steps=pgd_steps, restarts=pgd_restarts),
                                     extra_restarts=restarts, polish_iters=polish, relaxation=relaxation)}


@dataclass(frozen=True)
class Sampled:
    """One net's errors on the claim's common samples: per-sample indicators of a proven error (``att``: an
    attack reached the error, or exact) and of a possible one (``cert``: not proven robust), numerics.risk's
    estimate of them, the verifier's counts and the CPU seconds spent."""

    name: str
    att: np.ndarray
    cert: np.ndarray
    estimate: Estimate
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0
    robust: bool = True
    eps: float = 0.0
    norm: str = "l2"

    @property
    def n(self) -> int:
        return self.att.size

    @property
    def engine(self) -> str:
        return self.estimate.method


def _sampled(name: str, net, mcfg: ModelConfig, w: np.ndarray, eps: float, norm: str, samples: int, seed: int,
             level: float, ev: EvalSpec, robust_: bool) -> Sampled:
    from numerics.risk import _summarise, _values, engine_for
    from numerics.risk.sampling import sample_margins
    from numerics.risk.spec import make_spec

    mdl = model(mcfg)
    t0 = time.process_time()
    spec = make_spec(net, mdl, w, eps if robust_ else 0.0, norm, robust_, False)
    # exact per sample where numerics.risk has it (pure-layer heads, linear nets), else complete verification
    engine = engine_for("robust_error" if robust_ else "clean_error", net, mdl, w, eps if robust_ else 0.0, norm,
                        method="mc")
    engine = "exact" if engine == "exact" else "verified"
    pgd, verify = (ev.pgd(), ev.verify()) if engine == "verified" else ({}, {})
    res = sample_margins(spec, engine, samples, seed, pgd, verify)
    est = _summarise(spec, res, level, samples, pgd, verify)
    att, cert = _values(spec, res)
    counts = {k: int(v) for k, v in (res.details or {}).items()
              if k in ("ties", "robust", "attackable", "unknown", "pgd_missed")}
    return Sampled(name, att.astype(bool), cert.astype(bool), est, counts, time.process_time() - t0, robust_,
                   eps, norm)


_ROBUST: dict[tuple, Sampled] = {}
_CLEAN: dict[tuple, Sampled] = {}


def robust(key, ev: EvalSpec, eps: float | None = None) -> Sampled:
    """Robust error of the net of ``key`` on its task at ``eps`` (default ``ev.eps``), on the common samples."""
    eps = ev.eps if eps is None else float(eps)
    k = (key, ev, eps)
    if k not in _ROBUST:
        _ROBUST[k] = _sampled(key.name, net_of(key), model_of(key), task(task_of(key)).wprime, eps, ev.norm,
                              ev.samples, ev.seed, ev.level, ev, True)
    return _ROBUST[k]


def clean(key, ev: EvalSpec) -> Sampled:
    """Clean error of the net of ``key`` on its task (exact per sample), on the common clean samples."""
    k = (key, ev.clean_samples, ev.seed, ev.level)
    if k not in _CLEAN:
        _CLEAN[k] = _sampled(key.name, net_of(key), model_of(key), task(task_of(key)).wprime, 0.0, ev.norm,
                             ev.clean_samples, ev.seed, ev.level, ev, False)
    return _CLEAN[k]


def paired(a: Sampled, b: Sampled, level: float) -> Estimate:
    """``error(a) - error(b)`` over the same samples; sound on both sides when a side is undecided.

    Both decided everywhere: the exact interval of numerics.estimates.paired_difference (0/1 outcomes).
    Otherwise the lower end is the paired lower limit of ``att_a - cert_b`` (a's proven errors
    against b's possible ones) and the upper end that of ``cert_a - att_b``, as in
    numerics.risk.paired_risk_difference.
    """
    if a.n != b.n:
        raise ValueError(f"paired differences need the same samples, got {a.n} and {b.n}")
    if np.array_equal(a.att, a.cert) and np.array_equal(b.att, b.cert):
        est = paired_difference(a.att.astype(float), b.att.astype(float), level)
        how = "paired exact interval over exact per-sample decisions"
        method = "mc"
    else:
        value = float(np.mean(a.att.astype(float) - b.att))
        lo = paired_difference(a.att.astype(float), b.cert.astype(float), level).lower
        hi = paired_difference(a.cert.astype(float), b.att.astype(float), level).upper
        est = Estimate(value, min(lo, value), max(hi, value), "verified", level=level, n=a.n)
        how = "paired: proven errors of one side against possible errors of the other"
        method = "verified"
    return Estimate(float(est.value), float(est.lower), float(est.upper), method, level=level, n=a.n,
                    details={"paired": True, "how": how, "of": [a.name, b.name],
                             "engines": [a.engine, b.engine],
                             "discordant": int(np.sum(a.att != b.att))})


def audit_row(s: Sampled) -> dict | None:
    """SCHEMA.md's robustness_audit row of a verified evaluation (None for exact ones: no attack to audit)."""
    if s.engine != "verified" or not s.robust:
        return None
    c = s.counts
    errors = c.get("attackable", 0) + c.get("ties", 0)
    return {"net": s.name, "eps": s.eps, "norm": s.norm, "samples": s.n, "pgd_errors": errors - c.get("pgd_missed", 0),
            "verified_errors": errors, "unknown": c.get("unknown", 0), "missed_by_pgd": c.get("pgd_missed", 0),
            "seconds": round(s.seconds, 2)}


def est_dict(e: Estimate, nd: int = 4) -> dict:
    return {"value": round(e.value, nd), "interval": [round(e.lower, nd), round(e.upper, nd)], "method": e.method}


# ------------------------------------------------------------------ purity of frozen layers


@cache
def layer_report(spec: LayerSpec, tk: TaskSpec, tau: float, samples: int, seed: int) -> dict:
    """Coverage of the task's support and (tau, k)-purity for k = 1, 2, 3 (activity weights on fresh inputs)."""
    lay = layer(spec)
    mdl = model(spec.model)
    x = mdl.sample(samples, seed).x
    cov = layer_coverage(lay, mdl.M, x, task(tk).wprime, tau=tau)
    net = lay.with_head(np.ones(lay.m))
    pur = network_purity(net, mdl.M, x=x, weights="activity", tau=tau)
    C = feature_loadings(net.W, mdl.M)
    by_k = {f"purity_k{k}": round(float(pur.node_weight @ top_k_loading(C, k)), 4) for k in REPORTED_K if k <= lay.d}
    by_k.update({f"purified_k{k}": round(v, 4) for k, v in pur.purified_fraction_by_k.items()})
    return {"layer": spec.name, "m": lay.m, "coverage": round(cov["coverage"], 4),
            "weighted_coverage": round(cov["weighted_coverage"], 4),
            "mean_max_loading": round(cov["mean_max_loading"], 4),
            "mean_effective_features": round(cov["mean_effective_features"], 3), "tau": tau, **by_k}


# ------------------------------------------------------------------ digits (D1)


@dataclass(frozen=True)
class DigitsPretrain:
    """A first layer pre-trained on a binary digits task (eps = 0: clean)."""

    data_seed: int
    pretask: str
    width: int
    eps: float
    norm: str
    threshold: str
    steps: int
    batch: int
    lr: float
    eps_ramp: float
    pgd_steps: int
    seed: int


@cache
def digits_data(seed: int):
    from numerics.digits import load

    return load(seed=seed)


@cache
def digits_pretrained(spec: DigitsPretrain):
    """The pre-trained net and a summary (test accuracy on the pre-training task, mean threshold)."""
    from numerics.digits import label_carrier

    dg = digits_data(spec.data_seed)
    z, w = label_carrier(dg.labels(spec.pretask), dg.x_train.shape[1])
    cfg = TrainConfig(steps=spec.steps, batch=spec.batch, lr=spec.lr, eps=spec.eps, norm=spec.norm,
                      eps_ramp=spec.eps_ramp if spec.eps else 0.0, pgd_steps=spec.pgd_steps, width=spec.width,
                      seed=spec.seed, threshold=spec.threshold, progress=False)
    res = train(ModelConfig(d=dg.x_train.shape[1], p=1.0), w, None, cfg, data=(dg.x_train, z))
    net = res.net.to_net()
    acc = float(np.mean(dg.labels(spec.pretask, "test") * net(dg.x_test) > 0))
    return net, {"eps": spec.eps, "norm": spec.norm, "threshold": spec.threshold,
                 "test_accuracy_pretask": round(acc, 4), "b_mean": round(float(net.b.mean()), 4),
                 "wall_time_s": round(res.wall_time, 2)}


@dataclass(frozen=True)
class DigitsLayer:
    kind: str  # "pretrained" | "random"
    pretrain: DigitsPretrain | None = None
    width: int = 0
    seed: int = 0

    @property
    def name(self) -> str:
        if self.kind == "random":
            return "random"
        p = self.pretrain
        if p.eps == 0:
            return "clean" if p.threshold != "fixed" else "clean (threshold fixed)"
        return f"{p.norm}-AT" + (" (threshold fixed)" if p.threshold == "fixed" else "")


@cache
def digits_layer(spec: DigitsLayer) -> FrozenLayer:
    if spec.kind == "random":
        return random_layer(64, spec.width, 0.0, seed=spec.seed)
    return FrozenLayer.of(digits_pretrained(spec.pretrain)[0], spec.name)


@dataclass(frozen=True)
class DigitsHead:
    layer: DigitsLayer
    data_seed: int
    task: str
    steps: int
    batch: int
    lr: float
    eps: float
    norm: str
    eps_ramp: float
    pgd_steps: int
    seed: int

    @property
    def name(self) -> str:
        return f"{'adversarial (' + self.norm + ')' if self.eps else 'clean'} head on {self.layer.name} layer"


@cache
def digits_head(spec: DigitsHead):
    dg = digits_data(spec.data_seed)
    cfg = TrainConfig(steps=spec.steps, batch=spec.batch, lr=spec.lr, eps=spec.eps, norm=spec.norm,
                      eps_ramp=spec.eps_ramp if spec.eps else 0.0, pgd_steps=spec.pgd_steps, seed=spec.seed,
                      progress=False)
    return fit_head_on_data(digits_layer(spec.layer), dg.x_train, dg.labels(spec.task), cfg).net


@dataclass(frozen=True)
class DigitsEval:
    level: float
    pgd_steps: int
    pgd_restarts: int
    branches: int
    seed: int
    test_points: int  # the first ones of the test set (all when larger)
    restarts: int = 20
    polish: int = 0
    relaxation: str = "auto"


@cache
def digits_clean(head: DigitsHead, ev: DigitsEval) -> Sampled:
    dg = digits_data(head.data_seed)
    net = digits_head(head)
    n = min(ev.test_points, dg.x_test.shape[0])
    y = dg.labels(head.task, "test")[:n]
    err = (y * net(dg.x_test[:n])) <= 0
    lo, hi = clopper_pearson(int(err.sum()), n, ev.level)
    est = Estimate(float(err.mean()), lo, hi, "mc", level=ev.level, n=n, details={"test_points": n})
    return Sampled(head.name, err, err.copy(), est, {}, 0.0, False, 0.0, head.norm)


@cache
def digits_robust(head: DigitsHead, ev: DigitsEval, eps: float, norm: str) -> Sampled:
    """Verified robust error on the test points: per point ``verify`` (sound lower bound, attack witness);
    Clopper-Pearson from the proven errors (lower) to the proven plus undecided ones (upper)."""
    from numerics.verification import verify

    dg = digits_data(head.data_seed)
    net = digits_head(head)
    n = min(ev.test_points, dg.x_test.shape[0])
    x, y = dg.x_test[:n], dg.labels(head.task, "test")[:n].astype(float)
    t0 = time.process_time()
    res = verify(net, x, y, eps, norm, seed=ev.seed,
                 **verify_options(ev.pgd_steps, ev.pgd_restarts, ev.branches, ev.restarts, ev.polish,
                                ev.relaxation))
    att = np.asarray(res.attackable, dtype=bool)
    cert = att | np.asarray(res.unknown, dtype=bool)
    lo, _ = clopper_pearson(int(att.sum()), n, ev.level)
    _, hi = clopper_pearson(int(cert.sum()), n, ev.level)
    counts = {k: int(v) for k, v in res.counts().items()}
    counts["ties"] = 0
    est = Estimate(float(att.mean()), lo, hi, "verified", level=ev.level, n=n,
                   details={"test_points": n, **counts})
    return Sampled(f"{head.name}, {norm} eps={eps:g}", att, cert, est, counts, time.process_time() - t0, True,
                   eps, norm)


def accuracy(s: Sampled) -> Estimate:
    """1 - error, with the interval's ends swapped (a robust accuracy: its lower end is the proven-robust share)."""
    e = s.estimate
    return Estimate(1 - e.value, 1 - e.upper, 1 - e.lower, e.method, level=e.level, n=e.n, details=e.details)

