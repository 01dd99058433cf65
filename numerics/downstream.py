"""Downstream inheritance (docs/model.md C4 and P5): a frozen first layer and a trained head.

Pieces:

- Tasks. The pre-training direction ``w*`` has *uniform magnitudes* on a support ``S`` of
  ``s`` features: ``w*_i = +-1/sqrt(s)`` for ``i in S`` (the first ``s`` coordinates in feature
  space; with a random dictionary the positions carry no meaning), 0 elsewhere. The
  downstream direction ``w'`` (unit norm, Gaussian entries, so ties ``<w', z> = 0`` happen only
  when no feature of its support is active) is related to ``w*`` by ``relation``:

  * ``"correlated"``: ``w' = rho w*/||w*|| + sqrt(1 - rho^2) u`` with ``u`` a Gaussian direction
    on ``S`` orthogonalised against ``w*``: support ``S`` (the features pre-training used),
    cosine similarity exactly ``rho``. ``rho = 0`` is an independent task on covered features.
  * ``"independent"``: a Gaussian direction on all ``d`` features, drawn independently of ``w*``.
  * ``"disjoint"``: a Gaussian direction on the complement of ``S`` (features ``w*`` ignores).
  * ``"same"``: ``w' = w*/||w*||``.

- Frozen layers (:class:`FrozenLayer`: ``W`` (m, d), thresholds ``b`` (m,), activation): the
  pure layer ``W_j = M_j``, mixed layers ``W_j = M Q e_j``, a seeded random layer, or the first
  layer of a trained net.

- Heads. :func:`fit_head` trains ``(a, c)`` of ``f(x) = a . act(W x; b) + c`` with ``W`` and
  ``b`` frozen, on ``y' = sign(<w', z>)`` (online fresh samples, or a fixed sample of
  ``cfg.n_train``), clean (``cfg.eps = 0``) or adversarially (PGD at ``eps_t``, the curriculum
  of ``cfg``); :func:`fit_head_on_data` does the same on a fixed labelled sample (real data);
  :func:`fit_head_batch` fits R heads (layers x seeds) as one batched run, each bit for bit
  the head fitted alone. They are the supervised objective of the one training loop
  (:func:`numerics.training.fit`, :class:`numerics.training.MarginObjective`) on a
  :class:`~numerics.torch_nets.TorchTwoLayer` whose first layer and thresholds are frozen, so
  they follow every convention of :func:`numerics.training.train` (margin losses, ties
  weighted 0, seed derivation, eps ramp, default PGD, ``monitor_eps``). A clean fit on a fixed
  sample trains a :class:`~numerics.torch_nets.LinearHead` on the layer's features of the sample,
  computed once: bit for bit the fit through the frozen layer (tests/test_batched_training.py). A head fit freezes
  the layer by definition: ``cfg.train_first`` and ``cfg.threshold`` are not read, except that
  ``threshold="per_node"`` and ``train_head=False`` are rejected; ``width`` and
  ``activation`` must be left at their defaults or equal the layer's, ``init_scale`` and
  ``b_init`` at their defaults. The head starts at 0: the head problem is convex in
  ``(a, c)`` (clean: logistic regression on ``h(x)``; adversarial: the worst-case margin is a
  minimum of functions linear in ``(a, c)``), so the zero start loses nothing.

- Coverage (:func:`layer_coverage`): which features of ``supp(w')`` the layer reads with a
  tau-purified, active node, from :func:`numerics.purity.network_purity` applied to the
  layer with unit head (activity weights ``E|h_j(x)|``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from .networks import TwoLayerNet
from .purity import network_purity
from .sparse_coding import SparseCodingModel
from .torch_nets import LinearHead, TorchTwoLayer
from .training import (Attack, LabelledBatches, MarginObjective, TrainConfig, check_given_net_fields, derive_seeds,
                       fit, supervised_batches)
from .validation import require_array, require_choice, require_int, require_real

RELATIONS = ("correlated", "independent", "disjoint", "same")


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class TaskPair:
    """A pre-training direction ``wstar`` and a downstream direction ``wprime`` (both (d,)).

    support: boolean mask of ``S = supp(w*)``; relation, rho, seed: how ``wprime`` was drawn.
    """

    wstar: np.ndarray
    wprime: np.ndarray
    relation: str
    rho: float
    support: np.ndarray
    seed: int

    @property
    def similarity(self) -> float:
        """Cosine ``<w*, w'> / (||w*|| ||w'||)``."""
        return float(self.wstar @ self.wprime / (np.linalg.norm(self.wstar) * np.linalg.norm(self.wprime)))

    @property
    def downstream_support(self) -> np.ndarray:
        return self.wprime != 0

    def to_dict(self) -> dict:
        return {"relation": self.relation, "rho": self.rho, "seed": self.seed, "similarity": self.similarity,
                "support_size": int(self.support.sum()), "downstream_support_size": int(self.downstream_support.sum()),
                "wstar": self.wstar.tolist(), "wprime": self.wprime.tolist()}


def pretraining_task(d: int, support_size: int, seed: int = 0) -> np.ndarray:
    """``w*_i = s_i / sqrt(support_size)`` on the first ``support_size`` features (fair seeded signs), else 0."""
    d = require_int("d", d, low=1)
    s = require_int("support_size", support_size, low=1, high=d)
    rng = np.random.default_rng([require_int("seed", seed, low=0), 1])
    w = np.zeros(d)
    w[:s] = np.where(rng.random(s) < 0.5, -1.0, 1.0) / np.sqrt(s)
    return w


def downstream_task(wstar, relation: str, *, rho: float = 0.0, seed: int = 0) -> np.ndarray:
    """A unit downstream direction ``w'`` related to ``wstar`` by ``relation`` (module docstring)."""
    w = require_array("wstar", wstar, ndim=1)
    if not np.any(w != 0):
        raise ValueError("wstar must be non-zero")
    require_choice("relation", relation, RELATIONS)
    rho = require_real("rho", rho, low=-1.0, high=1.0)
    rng = np.random.default_rng([require_int("seed", seed, low=0), 2])
    d, S = w.size, w != 0
    ws = w / np.linalg.norm(w)
    if relation == "same":
        return ws.copy()
    g = rng.standard_normal(d)
    if relation == "independent":
        return g / np.linalg.norm(g)
    if relation == "disjoint":
        if S.all():
            raise ValueError("relation 'disjoint' needs wstar to leave some feature unused (support smaller than d)")
        u = np.where(S, 0.0, g)
        return u / np.linalg.norm(u)
    # correlated: on S, cosine exactly rho with w*
    if S.sum() < 2 and abs(rho) < 1:
        raise ValueError("relation 'correlated' with |rho| < 1 needs a support of at least 2 features")
    u = np.where(S, g, 0.0)
    u -= (u @ ws) * ws
    u /= np.linalg.norm(u)
    out = rho * ws + np.sqrt(max(0.0, 1.0 - rho * rho)) * u
    return out / np.linalg.norm(out)


def task_pair(d: int, relation: str, *, support_size: int | None = None, rho: float = 0.0, seed: int = 0) -> TaskPair:
    """``w*`` from :func:`pretraining_task` (default support ``d // 2``) and ``w'`` from :func:`downstream_task`."""
    d = require_int("d", d, low=2)
    s = d // 2 if support_size is None else support_size
    wstar = pretraining_task(d, s, seed)
    wprime = downstream_task(wstar, relation, rho=rho, seed=seed)
    return TaskPair(wstar, wprime, relation, float(rho) if relation == "correlated" else float("nan"),
                    wstar != 0, int(seed))


# --------------------------------------------------------------------------- frozen layers


@dataclass(frozen=True)
class FrozenLayer:
    """A first layer ``h(x) = act(W x; b)``: W (m, d), b (m,), activation; ``name`` and ``details`` say where it came from."""

    W: np.ndarray
    b: np.ndarray
    activation: str = "soft_threshold"
    name: str = "layer"
    details: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        W = require_array("W", self.W, ndim=2)
        b = require_array("b", self.b, shape=(W.shape[0],)) if np.ndim(self.b) else np.full(W.shape[0], float(self.b))
        require_choice("activation", self.activation, ("soft_threshold", "relu"))
        if self.activation == "soft_threshold" and np.any(b < 0):
            raise ValueError(f"b must be >= 0 for the soft threshold, got min {b.min():g}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    @property
    def m(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        return self.W.shape[1]

    def with_head(self, a, c: float = 0.0, family: str = "frozen_head") -> TwoLayerNet:
        """The net ``a . h(x) + c`` on this layer."""
        return TwoLayerNet(W=self.W, a=require_array("a", a, shape=(self.m,)), b=self.b, activation=self.activation,
                           c=c, family=family, params={"layer": self.name})

    def hidden(self, x) -> np.ndarray:
        return self.with_head(np.ones(self.m)).hidden(x)

    @classmethod
    def of(cls, net, name: str = "trained", **details) -> "FrozenLayer":
        """The first layer of a :class:`TwoLayerNet` or :class:`TorchTwoLayer` (copied)."""
        if isinstance(net, TorchTwoLayer):
            net = net.to_net()
        if not isinstance(net, TwoLayerNet):
            raise ValueError(f"net must be a TwoLayerNet or a TorchTwoLayer, got {type(net).__name__}")
        return cls(net.W.copy(), net.b.copy(), net.activation, name, details)


def pure_layer(M, b: float) -> FrozenLayer:
    """``W_j = M_j`` (node j reads feature j), threshold ``b`` on every node."""
    M = require_array("M", M, ndim=2)
    b = require_real("b", b, low=0.0)
    return FrozenLayer(M.T.copy(), np.full(M.shape[1], b), "soft_threshold", "pure", {"b": b})


def mixed_layer(M, Q, b: float, **details) -> FrozenLayer:
    """``W_j = M Q e_j`` for an orthogonal ``Q``, threshold ``b``."""
    M = require_array("M", M, ndim=2)
    d = M.shape[0]
    Q = require_array("Q", Q, shape=(d, d))
    if not np.allclose(Q.T @ Q, np.eye(d), atol=1e-8):
        raise ValueError("Q must be orthogonal (Q^T Q = I)")
    b = require_real("b", b, low=0.0)
    return FrozenLayer((M @ Q).T.copy(), np.full(d, b), "soft_threshold", "mixed", {"b": b, **details})


def random_layer(d: int, m: int, b: float, *, seed: int = 0) -> FrozenLayer:
    """Rows drawn uniformly on the unit sphere (seeded), threshold ``b``: a layer no training has seen."""
    d = require_int("d", d, low=1)
    m = require_int("m", m, low=1)
    b = require_real("b", b, low=0.0)
    g = np.random.default_rng([require_int("seed", seed, low=0), 3]).standard_normal((m, d))
    return FrozenLayer(g / np.linalg.norm(g, axis=1, keepdims=True), np.full(m, b), "soft_threshold", "random",
                       {"b": b, "seed": seed})


# --------------------------------------------------------------------------- heads


@dataclass(frozen=True)
class HeadFit:
    """A trained head on a frozen layer: ``net`` (numpy, float64), the per-step training losses
    (``losses``, on attacked inputs when ``eps_t > 0``), the seeds used, the wall time (of the
    whole batch when fitted with others) and the logged ``history`` (step, loss, accuracies)."""

    net: TwoLayerNet
    losses: np.ndarray
    seeds: dict
    wall_time: float
    config: TrainConfig
    adversarial: bool
    history: dict = field(default_factory=dict, repr=False, compare=False)


def fit_head(layer: FrozenLayer, model: SparseCodingModel, wprime, cfg: TrainConfig | None = None, *,
             attack: Attack | None = None) -> HeadFit:
    """Train the head ``(a, c)`` on ``y' = sign(<w', z>)`` with the layer frozen (module docstring).

    Clean when ``cfg.eps = 0``, else adversarial at ``cfg.eps`` (``cfg.norm``, PGD with the
    curriculum of ``cfg``). ``attack`` as in :func:`numerics.training.train_batch`.
    """
    cfg = _check_cfg(cfg)
    return fit_head_batch([layer], model, wprime, cfg, seeds=[cfg.seed], attack=attack)[0]


def fit_head_batch(layers: Sequence[FrozenLayer] | FrozenLayer, model: SparseCodingModel, wprime,
                   cfg: TrainConfig | None = None, *, seeds: Sequence[int], attack: Attack | None = None
                   ) -> tuple[HeadFit, ...]:
    """R heads as one batched run: head r on ``layers[r]`` (or one layer for all) with seed ``seeds[r]``.

    Each is bit for bit :func:`fit_head` on that layer with ``cfg.seed = seeds[r]``; the layers
    must share their shape and activation.
    """
    cfg = _check_cfg(cfg)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a SparseCodingModel, got {type(model).__name__}")
    seeds = [require_int("seeds", s, low=0) for s in seeds]
    layers = _check_layers(layers, len(seeds), cfg)
    if layers[0].d != model.d:
        raise ValueError(f"layer must have input dimension d = {model.d}, got {layers[0].d}")
    w = require_array("wprime", wprime, shape=(model.d,))
    if not np.any(w != 0):
        raise ValueError("wprime must be non-zero")
    derived = [derive_seeds(s) for s in seeds]
    return _fit(layers, supervised_batches(model, w, cfg, None, derived), cfg, derived, attack)


def fit_head_on_data(layer: FrozenLayer, x, y, cfg: TrainConfig | None = None, *,
                     attack: Attack | None = None) -> HeadFit:
    """Train the head on a fixed labelled sample ``x`` (n, d), ``y`` (n,) in {-1, 0, +1}, seeded minibatches."""
    return fit_heads_on_data([layer], x, y, cfg, attack=attack)[0]


def fit_heads_on_data(layers: Sequence[FrozenLayer], x, y, cfg: TrainConfig | None = None, *,
                      attack: Attack | None = None) -> tuple[HeadFit, ...]:
    """One head per layer on the same labelled sample and seed, as one batched run.

    Head r is bit for bit :func:`fit_head_on_data` on ``layers[r]`` alone (the same minibatches:
    every run's generator has seed ``cfg.seed``); the layers must share their shape and activation.
    """
    cfg = _check_cfg(cfg)
    layers = list(layers) if not isinstance(layers, FrozenLayer) else [layers]
    layers = _check_layers(layers, len(layers), cfg)
    if cfg.n_train is not None:
        raise ValueError("n_train must be None: fit_head_on_data trains on the sample it is given")
    x = require_array("x", x, shape=(None, layers[0].d))
    y = require_array("y", y, shape=(x.shape[0],))
    if not np.all(np.isin(y, (-1.0, 0.0, 1.0))):
        raise ValueError("y must contain only -1, 0 or +1")
    dtype = cfg.torch_dtype
    derived = [derive_seeds(cfg.seed) for _ in layers]
    x, y = torch.as_tensor(x, dtype=dtype), torch.as_tensor(y, dtype=dtype)
    seeds = [ds["data"] for ds in derived]
    if attack is None and not _perturbs_inputs(cfg):
        # A clean fit on a fixed sample sees the frozen layer only through h(x) of the sample's rows: h is computed
        # once and the head is trained on it (LinearHead), the same minibatches (the same generators draw the same
        # row indices) and the same head arithmetic, instead of recomputing h of every minibatch at every step,
        # which was most of the fit's time (P4's probes: 61 of 78 s).
        with torch.no_grad():
            feats = _frozen_net(layers, dtype).hidden(x.expand((len(layers),) + tuple(x.shape)))
        batches = LabelledBatches.fixed(feats, y.expand(len(layers), -1), cfg.batch, seeds)
        head = LinearHead(torch.zeros(len(layers), layers[0].m, dtype=dtype), torch.zeros(len(layers), dtype=dtype))
        return _fit(layers, batches, cfg, derived, None, head)
    return _fit(layers, LabelledBatches.fixed(x, y, cfg.batch, seeds), cfg, derived, attack)


def _perturbs_inputs(cfg: TrainConfig) -> bool:
    """Whether the fit attacks its inputs (training at eps > 0, or a monitoring attack)."""
    return cfg.eps > 0 or (cfg.monitor_eps is not None and cfg.monitor_eps > 0)


def _check_cfg(cfg) -> TrainConfig:
    cfg = TrainConfig() if cfg is None else cfg
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if not cfg.train_head:
        raise ValueError("train_head must be True: a head fit trains the head")
    if cfg.threshold == "per_node":
        raise ValueError("threshold 'per_node' does not apply: a head fit keeps the layer's thresholds frozen")
    return cfg


def _check_layers(layers, runs: int, cfg: TrainConfig) -> list[FrozenLayer]:
    layers = [layers] * runs if isinstance(layers, FrozenLayer) else list(layers)
    if not layers or not all(isinstance(lay, FrozenLayer) for lay in layers):
        raise ValueError("layer must be a FrozenLayer (or layers a non-empty sequence of them)")
    if len(layers) != runs:
        raise ValueError(f"layers must hold one layer per seed ({runs}) or be one layer, got {len(layers)}")
    if any(lay.W.shape != layers[0].W.shape or lay.activation != layers[0].activation for lay in layers):
        raise ValueError("layers must share their shape and activation to be fitted as one batch")
    check_given_net_fields(cfg, width=layers[0].m, activation=layers[0].activation, entry="fit_head")
    return layers


def _frozen_net(layers: list[FrozenLayer], dtype) -> TorchTwoLayer:
    """The layers as one runs module with their W and b frozen (no gradient, not in the optimiser) and a zero head."""
    return TorchTwoLayer.stack([TorchTwoLayer(torch.as_tensor(lay.W, dtype=dtype), torch.zeros(lay.m, dtype=dtype),
                                              torch.as_tensor(lay.b, dtype=dtype), lay.activation, 0.0,
                                              threshold="fixed") for lay in layers])


def _fit(layers: list[FrozenLayer], batches: LabelledBatches, cfg: TrainConfig, derived: list[dict],
         attack, net: TorchTwoLayer | LinearHead | None = None) -> tuple[HeadFit, ...]:
    """Train the heads (from 0: the problem is convex) on ``batches`` of inputs, or of the layers' features when
    ``net`` is a :class:`LinearHead`."""
    net = _frozen_net(layers, cfg.torch_dtype) if net is None else net
    head_cfg = cfg.replace(train_first=False, threshold="fixed", train_head=True)
    res = fit(MarginObjective(net, batches, head_cfg, [ds["attack"] for ds in derived], attack), head_cfg)
    logs = dict(res.logs)
    if isinstance(net, LinearHead) and "threshold_mean" in logs:  # the layers' frozen thresholds, as the full net logs
        b = _frozen_net(layers, cfg.torch_dtype).b.detach().mean(-1).numpy()
        logs["threshold_mean"] = np.broadcast_to(b, logs["threshold_mean"].shape).copy()
    out = []
    with torch.no_grad():
        for r, lay in enumerate(layers):
            a, c = net.a[r].detach().double().numpy().copy(), float(net.c[r].detach())
            out.append(HeadFit(lay.with_head(a, c, family="frozen_head"), res.losses[:, r].copy(), derived[r],
                               res.wall_time, cfg.replace(seed=derived[r]["seed"]), cfg.eps > 0,
                               {"step": res.log_steps, **{k: v[:, r] for k, v in logs.items()}}))
    return tuple(out)


# --------------------------------------------------------------------------- coverage


def layer_coverage(layer: FrozenLayer, M, x, wprime, *, tau: float = 0.9, min_share: float = 1e-3) -> dict:
    """How much of the downstream task's support the layer reads with tau-purified active nodes.

    Returns ``coverage`` (fraction of the features of ``supp(w')`` that are the main feature
    of a tau-purified node carrying at least ``min_share`` of the activity ``E|h_j(x)|``),
    ``weighted_coverage`` (the share of ``||w'||^2`` on those features) and the layer's
    purity summaries (activity-weighted ``mean_max_loading``, ``mean_effective_features``,
    ``purified_fraction``), all from :func:`numerics.purity.network_purity` on the layer with
    a unit head.
    """
    if not isinstance(layer, FrozenLayer):
        raise ValueError(f"layer must be a FrozenLayer, got {type(layer).__name__}")
    M = require_array("M", M, shape=(layer.d, layer.d))
    x = require_array("x", x, shape=(None, layer.d))
    w = require_array("wprime", wprime, shape=(layer.d,))
    net = layer.with_head(np.ones(layer.m))
    support = w != 0
    pur = network_purity(net, M, x=x, weights="activity", tau=tau, support=support, min_share=min_share)
    # features read by a purified active node: recomputed here to weight them by w'^2
    C = net.W @ M / np.maximum(np.linalg.norm(net.W, axis=1, keepdims=True), 1e-300)
    main = np.abs(C).argmax(axis=1)
    ok = (pur.node_max_loading >= tau) & (pur.node_weight >= min_share)
    read = np.zeros(layer.d, dtype=bool)
    read[main[ok]] = True
    wc = float(np.sum(w[read] ** 2) / np.sum(w**2))
    return {"coverage": pur.coverage, "weighted_coverage": wc, "mean_max_loading": pur.mean_max_loading,
            "mean_effective_features": pur.mean_effective_features, "purified_fraction": pur.purified_fraction,
            "tau": tau, "features_read": np.flatnonzero(read).tolist()}
