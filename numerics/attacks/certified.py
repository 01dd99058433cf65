"""Certified (sound) lower bounds on the worst-case margin of a two-layer net.

For ``f(x) = sum_j a_j act(<W_j, x>; b_j) + c`` with a monotone, 1-Lipschitz, piecewise
linear activation (soft threshold or ReLU with intercept), this module computes numbers
``L_i <= min_{||delta||_q <= eps} y_i f(x_i + delta)`` for q = 2 or inf. They are the
certificate side of docs/model.md §3: PGD gives the upper side.

Two bounds, each sound on its own; :func:`certified_min_margin` returns the larger:

* interval bounds (IBP): node j's pre-activation lies in ``t_j +- eps ||W_j||_{q*}``
  (``q*`` the dual exponent); the activation is monotone, so ``y a_j act(.)`` is at least
  its value at the endpoint chosen by the sign of ``y a_j``. Summing the per-node minima
  ignores that one ``delta`` must serve all nodes: exact for one node, loose for many.
* local Lipschitz: ``f(x + delta) - f(x) = sum_j a_j s_j <W_j, delta>`` with ``s_j`` the
  secant slope of node j on its pre-activation interval. ``s_j = 1`` when the interval lies
  in one linear piece (always for the soft threshold with ``b_j = 0``), ``s_j = 0`` when it
  lies in the flat zone, ``s_j in [0, 1]`` otherwise (the uncertain set U). Hence
  ``y f(x + delta) >= y f(x) - |y| eps sup_s ||sum_j a_j s_j W_j||_{q*}``, and the sup is
  bounded by the tighter of (a) the coordinate-wise range of ``g_0 + sum_{j in U} s_j a_j
  W_j`` (``g_0`` the sum over linear nodes), whose largest-magnitude endpoints give a
  vector dominating every such gradient, and (b) for l2 only, ``||g_0|| + ||W||_op ||a_U||_2``.
  With no uncertain node (a linear net; a pure net inside the regime of proposition S3) the
  bound is the exact dual-norm value ``y f(x) - eps ||g_0||_{q*}``.

Soundness is exact in real arithmetic; in float64 :func:`certified_min_margin` subtracts a bound on the
rounding of either computation (:func:`rounding_allowance`), so it holds for the computed numbers too
(the two parts alone, :func:`ibp_min_margin` and :func:`lipschitz_min_margin`, are the unrounded bounds).
"""
from __future__ import annotations

import numpy as np

from ..activations import activate
from ..networks import TwoLayerNet
from ..torch_nets import TorchTwoLayer
from ..validation import require_array, require_choice, require_real
from .linear import dual_norm

NORMS = ("l2", "linf")

# Above this size the exact spectral norm (an SVD) costs too much; the bound then uses
# min(Frobenius, sqrt(||W||_1 ||W||_inf)), both rigorous upper bounds on ||W||_op.
_SVD_MAX_DIM = 2048


def certified_min_margin(net, x: np.ndarray, y: np.ndarray, eps: float, norm: str = "l2") -> np.ndarray:
    """Sound lower bound on ``min_{||delta||_norm <= eps} y f(x + delta)``, per row: (n,).

    net: a :class:`TwoLayerNet` or :class:`TorchTwoLayer`; x: (n, d); y: (n,) labels;
    eps >= 0; norm "l2" | "linf". The larger of :func:`ibp_min_margin` and
    :func:`lipschitz_min_margin`; equals ``y f(x)`` at ``eps = 0`` and the exact
    dual-norm value for linear nets.
    """
    net, x, y, eps, norm = _check(net, x, y, eps, norm)
    best = np.maximum(_ibp(net, x, y, eps, norm), _lipschitz(net, x, y, eps, norm))
    return best - rounding_allowance(net, x, y, eps, norm)


def rounding_allowance(net, x: np.ndarray, y: np.ndarray, eps: float, norm: str = "l2") -> np.ndarray:
    """A bound on the float64 rounding error of either bound, per row: ``gamma * size`` (n,).

    Both bounds are sums of O(d + m) rounded products and sums of the terms of ``size`` =
    ``|y| (sum_j |a_j| (|x| |W_j| + eps ||W_j||_* + |b_j|) + |c|)`` (plus the Lipschitz bound's gradient
    norm, at most ``eps sum_j |a_j| ||W_j||_*`` again, hence the 2). The classical forward error bound
    of a length-n dot product, ``gamma_n = n u / (1 - n u)`` times the sum of the absolute products, with
    ``n = d + m + 8`` (the pre-activation, the node sum and the handful of operations between), bounds each;
    the factor 2 leaves room for the norms' own rounding.
    """
    net, x, y, eps, norm = _check(net, x, y, eps, norm)
    n = net.d + net.m + 8
    u = np.finfo(np.float64).eps / 2
    gamma = 2.0 * n * u / (1.0 - n * u)
    W_abs, a_abs = np.abs(net.W), np.abs(net.a)
    per_node = np.abs(x) @ W_abs.T + 2.0 * eps * dual_norm(net.W, norm)[None, :] + np.abs(net.b)[None, :]
    return gamma * np.abs(y) * (per_node @ a_abs + abs(net.c))


def ibp_min_margin(net, x: np.ndarray, y: np.ndarray, eps: float, norm: str = "l2") -> np.ndarray:
    """Interval bound: ``y c + sum_j min(y a_j act(lo_j), y a_j act(hi_j))`` (n,)."""
    return _ibp(*_check(net, x, y, eps, norm))


def lipschitz_min_margin(net, x: np.ndarray, y: np.ndarray, eps: float, norm: str = "l2") -> np.ndarray:
    """Local Lipschitz bound: ``y f(x) - |y| eps * (bound on the gradient's dual norm)`` (n,)."""
    return _lipschitz(*_check(net, x, y, eps, norm))


# --------------------------------------------------------------------------- internals


def _check(net, x, y, eps, norm):
    if isinstance(net, TorchTwoLayer):
        net = net.to_net()
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net must be a TwoLayerNet or a TorchTwoLayer, got {type(net).__name__}")
    x = require_array("x", x, shape=(None, net.d))
    y = require_array("y", y, shape=(x.shape[0],))
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    return net, x, y, eps, norm


def _intervals(net: TwoLayerNet, x: np.ndarray, eps: float, norm: str):
    t = x @ net.W.T
    r = eps * dual_norm(net.W, norm)  # (m,) radius of each node's pre-activation range
    return t, t - r, t + r


def _ibp(net, x, y, eps, norm) -> np.ndarray:
    _, lo, hi = _intervals(net, x, eps, norm)
    ya = y[:, None] * net.a[None, :]
    # monotone activation: the minimum of ya * act over [lo, hi] is at lo when ya >= 0
    worst = np.where(ya >= 0, ya * activate(net.activation, lo, net.b), ya * activate(net.activation, hi, net.b))
    return worst.sum(axis=1) + y * net.c


def _slope_status(net: TwoLayerNet, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks (n, m): secant slope is exactly 1 (``linear``) / unknown in [0, 1] (``uncertain``)."""
    b = net.b[None, :]
    if net.activation == "soft_threshold":
        linear = (lo >= b) | (hi <= -b) | (b == 0)
        dead = (lo >= -b) & (hi <= b) & ~linear
    else:  # relu(t + b): linear on [-b, inf), flat below
        linear = lo >= -b
        dead = hi <= -b
    return linear, ~(linear | dead)


def _op_norm(W: np.ndarray) -> float:
    if min(W.shape) <= _SVD_MAX_DIM:
        return float(np.linalg.norm(W, 2))
    return float(min(np.linalg.norm(W), np.sqrt(np.abs(W).sum(axis=0).max() * np.abs(W).sum(axis=1).max())))


def _lipschitz(net, x, y, eps, norm) -> np.ndarray:
    t, lo, hi = _intervals(net, x, eps, norm)
    margin = y * (activate(net.activation, t, net.b) @ net.a + net.c)
    if eps == 0:
        return margin
    linear, uncertain = _slope_status(net, lo, hi)
    aW = net.a[:, None] * net.W  # (m, d): node j's contribution a_j W_j to the gradient
    g0 = (linear * 1.0) @ aW
    gain = dual_norm(g0, norm)
    if uncertain.any():
        u = uncertain * 1.0
        pos, neg = u @ np.maximum(aW, 0.0), u @ np.maximum(-aW, 0.0)
        # every gradient lies coordinate-wise in [g0 - neg, g0 + pos]; |.| peaks at an end
        box = dual_norm(np.maximum(np.abs(g0 - neg), np.abs(g0 + pos)), norm)
        if norm == "l2":
            spectral = gain + _op_norm(net.W) * np.sqrt(u @ net.a**2)
            box = np.minimum(box, spectral)
        gain = np.where(uncertain.any(axis=1), box, gain)
    return margin - np.abs(y) * eps * gain
