"""Purity metrics (MODEL.md section 2).

Node j's feature loadings are ``c = M^T W_j / ||W_j||``; its purity ``pi_j = max_i |c_i|``
(1 = pure, ``1/sqrt(d)`` = fully dense) and effective number of features
``n_eff = 1 / sum_i c_i^4`` (1 = pure, d = dense). A network's purity averages over the
nodes that matter, weighted either by ``|a_j| ||W_j||`` (``"norm"``) or by activity
``E|a_j h_j(x)|`` on given inputs (``"activity"``): a large node that never fires does not
make a network pure or dense.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import activate
from .validation import require_array, require_choice, require_real


def feature_loadings(W: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``C[j] = M^T W_j / ||W_j||`` (m, d); zero rows stay zero."""
    W = require_array("W", W, ndim=2)
    M = require_array("M", M, shape=(W.shape[1], W.shape[1]))
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    C = W @ M
    return np.divide(C, norms, out=np.zeros_like(C), where=norms > 0)


def node_purity(W: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``pi_j = max_i |c_ji|`` per node."""
    return np.abs(feature_loadings(W, M)).max(axis=1)


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


@dataclass(frozen=True)
class NetworkPurity:
    """Weighted summaries of a network's nodes, plus per-node arrays for histograms."""

    mean_max_loading: float  # weighted mean of pi_j
    mean_effective_features: float  # weighted mean of n_eff_j
    purified_fraction: float  # weight share of nodes with pi_j >= tau
    coverage: float  # fraction of the features in `support` read by a purified node
    tau: float
    node_max_loading: np.ndarray
    node_effective_features: np.ndarray
    node_weight: np.ndarray

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


def network_purity(net, M: np.ndarray, *, x: np.ndarray | None = None, weights: str = "activity",
                   tau: float = 0.9, support: np.ndarray | None = None, min_share: float = 1e-3) -> NetworkPurity:
    """Purity of a whole network.

    coverage: fraction of features in ``support`` (default: all) that are the main feature
    of at least one tau-purified node carrying at least ``min_share`` of the weight.
    """
    tau = require_real("tau", tau, low=0.0, high=1.0)
    C = feature_loadings(net.W, M)
    pi = np.abs(C).max(axis=1)
    s4 = np.sum(C**4, axis=1)
    neff = np.divide(1.0, s4, out=np.full_like(s4, float(net.d)), where=s4 > 0)
    w = node_weights(net, x, weights)
    purified = pi >= tau
    main = np.abs(C).argmax(axis=1)
    read = np.zeros(net.d, dtype=bool)
    read[main[purified & (w >= min_share)]] = True
    sup = np.ones(net.d, dtype=bool) if support is None else np.asarray(support, dtype=bool)
    coverage = float(read[sup].mean()) if sup.any() else float("nan")
    return NetworkPurity(
        mean_max_loading=float(w @ pi), mean_effective_features=float(w @ neff),
        purified_fraction=float(w[purified].sum()), coverage=coverage, tau=tau,
        node_max_loading=pi, node_effective_features=neff, node_weight=w,
    )
