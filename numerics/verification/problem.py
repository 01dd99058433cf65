"""The verification problem of a two-layer net in canonical form, and the float policy.

For a net ``f(x) = sum_j a_j act(<W_j, x>; b_j) + c``, a sample ``(x, y)`` and a ball
``||delta||_q <= eps`` (q = 2 or inf) the worst-case margin is

    min_{||delta||_q <= eps}  y c + sum_j psi_j(s_j),   s_j = <W_j, delta>,
    psi_j(s) = alpha_j act(t_j + s; b_j),   alpha_j = y a_j,   t_j = <W_j, x>.

Each ``psi_j`` is piecewise linear in ``s`` with kinks where ``t_j + s`` meets a breakpoint
of the activation (soft threshold: ``-b_j`` and ``b_j``, slopes 1, 0, 1; ReLU with
intercept ``relu(t + b)``: ``-b_j``, slopes 0, 1). ``s_j`` ranges over
``[-r_j, r_j]``, ``r_j = eps ||W_j||_{q*}`` (dual norm), and a branch of the search narrows
node j's range to a sub-interval ``[lo_j, hi_j]``.

Float policy (module :mod:`numerics.verification`): every number is float64. A quantity
that must contain an exact real range is rounded outwards (``r_j`` is inflated by a
relative ``RADIUS_RTOL``); a lower bound computed from ``k`` floating-point terms of total
absolute size ``S`` is lowered by :func:`float_slack` ``= (k + 16) * 4u * S`` (``u = 2^-53``),
which covers the rounding of every sum, product and dot product of length ``<= k``
(Higham's ``gamma_k``) with room to spare. ``t_j`` itself is computed in float: its error
``<= gamma_d |W_j| . |x|`` enters ``S`` through ``psi_j``'s Lipschitz constant ``|alpha_j|``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..activations import ACTIVATIONS, activate, breakpoints
from ..networks import TwoLayerNet
from ..torch_nets import TorchTwoLayer
from ..validation import require_array, require_choice, require_real

NORMS = ("l2", "linf")
UNIT_ROUNDOFF = 2.0**-53
RADIUS_RTOL = 2.0**-40  # outward rounding of the pre-activation radius r_j (>> its rounding error up to d ~ 8000)


def radius_rtol(d: int) -> float:
    """The outward rounding of ``r_j``: ``RADIUS_RTOL``, or Higham's ``gamma`` of a length-``d`` norm with room
    (``2 (d + 16) u``, twice the bound on a length-d sum) where that is larger (d above about 4,000)."""
    return max(RADIUS_RTOL, 2.0 * (d + 16) * UNIT_ROUNDOFF)


def float_slack(terms: int, size):
    """Rigorous bound on the rounding error of a float64 expression of ``terms`` terms, total size ``size``."""
    return (terms + 16) * 4.0 * UNIT_ROUNDOFF * size


def as_two_layer(net) -> TwoLayerNet:
    """The numpy (float64) form of ``net``; ``ValueError`` naming ``net`` for anything else."""
    if isinstance(net, TorchTwoLayer):
        net = net.to_net()
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net must be a TwoLayerNet or a TorchTwoLayer, got {type(net).__name__}")
    require_choice("net.activation", net.activation, ACTIVATIONS)
    return net


def piece_slopes(activation: str) -> tuple[float, ...]:
    """Slopes of the activation on its linear pieces, left to right."""
    return (1.0, 0.0, 1.0) if activation == "soft_threshold" else (0.0, 1.0)


@dataclass(frozen=True)
class Problem:
    """Canonical form of ``verify``'s input, as torch float64 tensors (n samples, m nodes, d inputs).

    W (m, d); t (n, m) pre-activations at x; alpha (n, m) = y a; offset (n,) = y c;
    kinks (m, K) breakpoints of each node's activation in z-space, sorted (K = 2 for the soft
    threshold, 1 for ReLU); slopes (K + 1,) activation slope on each piece; kinked (m,)
    whether node j's activation really bends (a soft threshold with b = 0 is the identity);
    r (m,) radius of ``s_j = <W_j, delta>`` (outward rounded); t_err (n, m) bound on the
    rounding error of t; scale (n,) size of the margin's terms (for ties and tolerances).
    """

    net: TwoLayerNet
    x: np.ndarray
    y: np.ndarray
    eps: float
    norm: str
    W: torch.Tensor
    b: torch.Tensor
    t: torch.Tensor
    alpha: torch.Tensor
    offset: torch.Tensor
    kinks: torch.Tensor
    slopes: torch.Tensor
    kinked: torch.Tensor
    r: torch.Tensor
    t_err: torch.Tensor
    scale: np.ndarray
    outer: torch.Tensor | None  # (m, d * d) rows W_j W_j^T flattened (W^T diag(D) W = D @ outer); quadratic only
    row_sq: torch.Tensor  # (m,) ||W_j||_2^2
    W_abs: torch.Tensor  # (m, d) |W| entrywise (the rounding bounds' sizes)
    n: int
    m: int
    d: int

    def psi(self, idx: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """``psi_j(s) = alpha_j act(t_j + s; b_j)`` for rows ``idx``; s (B, m, k) -> (B, m, k)."""
        z = self.t[idx][..., None] + s
        return self.alpha[idx][..., None] * activate(self.net.activation, z, self.b[None, :, None])

    def margins(self, delta: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """``y f(x + delta)`` evaluated by the numpy net in float64 (the reference evaluation)."""
        rows = np.arange(self.n) if rows is None else rows
        return self.y[rows] * self.net(self.x[rows] + delta)


def dual_norm_rows(W: np.ndarray, norm: str) -> np.ndarray:
    return np.linalg.norm(W, ord=2 if norm == "l2" else 1, axis=-1)


def tie_scale(net: TwoLayerNet, x: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """Size of the worst-case margin's terms: ``sum_j |a_j| (|t_j| + |b_j|) + |c| + eps sum_j |a_j| ||W_j||_{q*}``.

    The suite's tie scale for robust margins (a margin within ``TIE_RTOL`` of it counts as 0).
    """
    t = x @ net.W.T
    gain = float(np.abs(net.a) @ dual_norm_rows(net.W, norm))
    return (np.abs(t) + np.abs(net.b)) @ np.abs(net.a) + abs(net.c) + eps * gain


def build_problem(net, x, y, eps, norm, *, quadratic: bool = True) -> Problem:
    """The canonical form; ``quadratic``: also the (m, d^2) outer products the quadratic family needs."""
    net = as_two_layer(net)
    x = require_array("x", x, shape=(None, net.d))
    if x.shape[0] == 0:
        raise ValueError("x must have at least one row (n >= 1), got 0")
    y = require_array("y", y, shape=(x.shape[0],))
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    T = lambda v: torch.as_tensor(np.ascontiguousarray(v), dtype=torch.float64)  # noqa: E731
    t = x @ net.W.T
    d = net.d
    t_err = float_slack(d, np.abs(x) @ np.abs(net.W).T)
    r = eps * dual_norm_rows(net.W, norm) * (1.0 + radius_rtol(d))
    kinks = breakpoints(net.activation, net.b)  # (m, K), sorted
    # a soft threshold with b = 0 is the identity: its two "kinks" coincide and do not bend
    kinked = net.b > 0 if net.activation == "soft_threshold" else np.ones(net.m, dtype=bool)
    alpha = y[:, None] * net.a[None, :]
    return Problem(
        net=net, x=x, y=y, eps=eps, norm=norm, W=T(net.W), b=T(net.b), t=T(t), alpha=T(alpha), offset=T(y * net.c),
        kinks=T(kinks), slopes=T(piece_slopes(net.activation)), kinked=torch.as_tensor(kinked), r=T(r),
        t_err=T(t_err), scale=tie_scale(net, x, eps, norm),
        outer=T((net.W[:, :, None] * net.W[:, None, :]).reshape(net.m, d * d)) if quadratic else None,
        row_sq=T((net.W**2).sum(axis=1)), W_abs=T(np.abs(net.W)),
        n=x.shape[0], m=net.m, d=d,
    )
