"""Purity metrics (docs/model.md §2).

Node j's feature loadings are ``c = M^T W_j / ||W_j||``; its purity ``pi_j = max_i |c_i|``
(1 = pure, ``1/sqrt(d)`` = fully dense) and effective number of features
``n_eff = 1 / sum_i c_i^4`` (1 = pure, d = dense).

One or a few features: the top-k purity ``pi_j^(k) = sqrt(sum of the k largest c_i^2)`` (the
norm of the node's projection on its k main features; ``pi^(1) = pi``). A node is
(tau, k)-purified when ``pi_j^(k) >= tau``, i.e. its k largest squared loadings carry at least
``tau^2`` of its squared norm (``sum_i c_i^2 = 1``): k = 1 is exactly the single-feature
notion ``max_i |c_i| >= tau``. A network's purity averages over the
nodes that matter, weighted either by ``|a_j| ||W_j||`` (``"norm"``) or by activity
``E|a_j h_j(x)|`` on given inputs (``"activity"``): a large node that never fires does not
make a network pure or dense.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .activations import activate
from .validation import require_array, require_choice, require_int, require_real


def feature_loadings(W: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``C[j] = M^T W_j / ||W_j||`` (m, d); zero rows stay zero."""
    W = require_array("W", W, ndim=2)
    M = require_array("M", M, shape=(W.shape[1], W.shape[1]))
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    C = W @ M
    return np.divide(C, norms, out=np.zeros_like(C), where=norms > 0)


def top_k_loading(C: np.ndarray, k: int) -> np.ndarray:
    """``pi_j^(k) = sqrt(sum of the k largest c_ji^2)`` per row of the loadings ``C`` (m, d); k = 1 is ``max_i |c_ji|``."""
    k = require_int("top_k", k, low=1, high=C.shape[1])
    if k == 1:  # exactly max |c| (no square root round trip)
        return np.abs(C).max(axis=1)
    sq = np.sort(C**2, axis=1)[:, ::-1]
    return np.sqrt(sq[:, :k].sum(axis=1))


def node_purity(W: np.ndarray, M: np.ndarray, top_k: int = 1) -> np.ndarray:
    """``pi_j^(k)`` per node (module docstring); the default ``top_k = 1`` is ``pi_j = max_i |c_ji|``."""
    return top_k_loading(feature_loadings(W, M), top_k)


def effective_features(W: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``n_eff_j = 1 / sum_i c_ji^4`` per node (inf for a zero node)."""
    C = feature_loadings(W, M)
    s4 = np.sum(C**4, axis=1)
    return np.divide(1.0, s4, out=np.full_like(s4, np.inf), where=s4 > 0)


def node_weights(net, x: np.ndarray | None = None, kind: str = "activity") -> np.ndarray:
    """Nonnegative importance weights summing to 1: activity ``mean|a_j h_j(x)|`` or ``|a_j| ||W_j||``."""
    require_choice("kind", kind, ("activity", "norm"))
    if kind == "norm":
        w = np.abs(net.a) * np.linalg.norm(net.W, axis=1)
    else:
        if x is None:
            raise ValueError("x must be given for activity weights (inputs on which nodes fire)")
        x = require_array("x", x, shape=(None, net.d))
        h = activate(net.activation, x @ net.W.T, net.b)
        w = np.abs(net.a) * np.mean(np.abs(h), axis=0)
    total = w.sum()
    if total <= 0:
        return np.full(net.m, 1.0 / net.m)
    return w / total


REPORTED_K = (1, 2, 3)


@dataclass(frozen=True)
class NetworkPurity:
    """Weighted summaries of a network's nodes, plus per-node arrays for histograms.

    ``purified_fraction`` and ``coverage`` use the (tau, ``top_k``)-purification;
    ``purified_fraction_by_k`` gives the purified fraction for k = 1, 2, 3 (those <= d).
    """

    mean_max_loading: float  # weighted mean of pi_j
    mean_effective_features: float  # weighted mean of n_eff_j
    purified_fraction: float  # weight share of nodes with pi_j^(top_k) >= tau
    coverage: float  # fraction of the features in `support` read by a purified node
    tau: float
    node_max_loading: np.ndarray
    node_effective_features: np.ndarray
    node_weight: np.ndarray
    top_k: int = 1
    purified_fraction_by_k: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        out["purified_fraction_by_k"] = {str(k): v for k, v in self.purified_fraction_by_k.items()}
        return out


def network_purity(net, M: np.ndarray, *, x: np.ndarray | None = None, weights: str = "activity",
                   tau: float = 0.9, support: np.ndarray | None = None, min_share: float = 1e-3,
                   top_k: int = 1) -> NetworkPurity:
    """Purity of a whole network.

    coverage: fraction of features in ``support`` (default: all) that are among the ``top_k``
    main features of at least one (tau, top_k)-purified node carrying at least ``min_share``
    of the weight (``top_k = 1``: the main feature of a tau-purified node).
    """
    tau = require_real("tau", tau, low=0.0, high=1.0)
    C = feature_loadings(net.W, M)
    top_k = require_int("top_k", top_k, low=1, high=C.shape[1])
    pi = np.abs(C).max(axis=1)
    s4 = np.sum(C**4, axis=1)
    neff = np.divide(1.0, s4, out=np.full_like(s4, float(net.d)), where=s4 > 0)
    w = node_weights(net, x, weights)
    by_k = {k: float(w[top_k_loading(C, k) >= tau].sum()) for k in REPORTED_K if k <= C.shape[1]}
    purified = top_k_loading(C, top_k) >= tau
    main = np.argsort(-np.abs(C), axis=1, kind="stable")[:, :top_k]  # the top_k main features per node
    read = np.zeros(net.d, dtype=bool)
    read[main[purified & (w >= min_share)].ravel()] = True
    sup = np.ones(net.d, dtype=bool) if support is None else np.asarray(support, dtype=bool)
    coverage = float(read[sup].mean()) if sup.any() else float("nan")
    return NetworkPurity(
        mean_max_loading=float(w @ pi), mean_effective_features=float(w @ neff),
        purified_fraction=float(w[purified].sum()), coverage=coverage, tau=tau,
        node_max_loading=pi, node_effective_features=neff, node_weight=w, top_k=top_k,
        purified_fraction_by_k=by_k,
    )
