"""Networks beyond MODEL.md's two-layer soft-threshold net (seed questions 2, 3 and 8), as torch modules.

Every module maps inputs (n, d) to one score per row, has a ``first_layer()`` (numpy (m, d):
the rows whose purity is measured), ``hidden(x)`` (the first layer's outputs, (n, m)),
``node_weights(x)`` (nonnegative importance of each first-layer node on inputs ``x``, summing
to 1: how much the output moves with the node) and ``project_()`` (called after each
optimiser step: thresholds back onto ``b >= 0``). They train with
:func:`numerics.module_training.train_module` and are attacked by
:func:`numerics.attacks.pgd.pgd_attack` through autograd.

- :class:`SmoothTwoLayer`: ``f = sum_j a_j g_beta(<W_j, x>; b_j) + c`` with the *smooth soft
  threshold* ``g_beta(t; b) = (softplus(beta (t - b)) - softplus(beta (-t - b))) / beta``: odd,
  increasing, slope ``g' = sigma(beta (t - b)) + sigma(-beta (t + b))`` in (0, 1), and
  ``|g_beta - soft_b| <= log(2) / beta``; beta -> infinity gives the soft threshold. Its slope at
  0, ``2 sigma(-beta b)``, is the *leak* through the dead zone.
- :class:`ThreeLayer`: ``f = a . s(W2 s(W1 x; b1); b2) + c`` with soft thresholds ``s`` (one
  trainable threshold per layer). Layer-2 purity is measured on the composite rows
  ``W2 W1`` (which combination of features each layer-2 node reads, through layer 1's linear
  part).
- :class:`NormalisedTwoLayer`: the soft-threshold layer followed by an RMS normalisation
  ``h / sqrt(mean_j h_j^2 + floor)`` before the head (a parameter-free layer norm).
- :class:`CirculantTwoLayer`: weight sharing: ``d`` nodes whose rows are the cyclic shifts of
  one filter ``f`` (d,) (a 1-D convolution with circular padding), soft threshold, head a.
  On the identity dictionary node j reads ``shift_j(f)``, so every node has the purity of f.

:func:`smooth_pure_certified_margin` is a sound lower bound on the l2 robust margin of a
*pure* smooth net (each node reads one feature of an orthogonal dictionary).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .validation import require_array, require_int, require_real

_NORM_FLOOR = 1e-8


def smooth_threshold(t, b, beta: float):
    """``g_beta(t; b)`` for numpy arrays or torch tensors (see the module docstring)."""
    if isinstance(t, torch.Tensor):
        sp = torch.nn.functional.softplus
        return (sp(beta * (t - b)) - sp(beta * (-t - b))) / beta
    t = np.asarray(t, dtype=np.float64)
    return (np.logaddexp(0.0, beta * (t - b)) - np.logaddexp(0.0, beta * (-t - b))) / beta


def smooth_threshold_slope(t, b, beta: float) -> np.ndarray:
    """``g_beta'(t; b) = sigma(beta (t - b)) + sigma(-beta (t + b))`` (numpy), increasing in ``|t|``."""
    t = np.asarray(t, dtype=np.float64)
    sig = lambda u: 0.5 * (1.0 + np.tanh(0.5 * u))  # noqa: E731  (stable logistic)
    return sig(beta * (t - b)) + sig(-beta * (t + b))


def smooth_pure_certified_margin(coef, v, b, beta: float, eps: float) -> np.ndarray:
    """Sound lower bound on ``min_{||u||_2 <= eps} sum_i coef_i g_beta(v_i + u_i; b)`` per row.

    ``g(v + u) - g(v) >= -s_i |u_i|`` with ``s_i`` the largest slope on ``[v_i - eps, v_i + eps]``,
    which is ``g'(|v_i| + eps)`` (the slope grows with ``|t|``); Cauchy-Schwarz then gives the
    bound ``clean - eps sqrt(sum_i coef_i^2 s_i^2)``. coef, v: (n, d); b scalar or (d,).
    """
    coef = require_array("coef", coef, ndim=2)
    v = require_array("v", v, shape=coef.shape)
    beta = require_real("beta", beta, low=0.0, low_open=True)
    eps = require_real("eps", eps, low=0.0)
    clean = (coef * smooth_threshold(v, b, beta)).sum(axis=1)
    s = smooth_threshold_slope(np.abs(v) + eps, b, beta)
    return clean - eps * np.sqrt(((coef * s) ** 2).sum(axis=1))


def smooth_pure_l2_bounds(coef, v, b, beta: float, eps: float, *, grid: int = 257,
                          lambdas: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Sound lower bound and attack value of ``min_{||u||_2 <= eps} sum_i coef_i g_beta(v_i + u_i; b)``.

    The attacker moves feature i by ``t_i >= 0`` against its coefficient (``g`` is increasing),
    doing damage ``psi_i(t) = |coef_i| (g(w_i) - g(w_i - t))``, ``w_i = sign(coef_i) v_i``, under
    ``sum t_i^2 <= eps^2``. Weak Lagrangian duality gives, for every ``lambda >= 0``,
    ``max sum psi_i <= lambda eps^2 + sum_i max_{0 <= t <= eps} (psi_i(t) - lambda t^2)``; each 1-D
    maximum is taken on ``grid`` points of ``[0, eps]`` plus a sound Lipschitz correction
    ``(|coef_i| + 2 lambda eps) h / 2`` (``psi_i`` is |coef_i|-Lipschitz, h the spacing), and the
    best of ``lambdas`` geometric values of lambda (and 0) is kept: a sound *lower* bound on the
    margin. Attack (*upper* value): for each lambda the grid maximisers ``t_i``, scaled down onto
    the ball when ``||t|| > eps`` (damage is monotone in each t_i), evaluated exactly; the best.
    Features are grouped by ``(|coef_i|, w_i)`` so repeated feature types cost one 1-D problem.
    coef, v: (n, d); b: scalar. Returns ``(lower, upper)`` (n,) each.
    """
    coef = require_array("coef", coef, ndim=2)
    v = require_array("v", v, shape=coef.shape)
    b = require_real("b", b, low=0.0)
    beta = require_real("beta", beta, low=0.0, low_open=True)
    eps = require_real("eps", eps, low=0.0)
    grid = require_int("grid", grid, low=3)
    lambdas = require_int("lambdas", lambdas, low=1)
    clean = (coef * smooth_threshold(v, b, beta)).sum(axis=1)
    if eps == 0:
        return clean, clean.copy()
    c = np.abs(coef)
    w = np.sign(coef) * v
    pairs, inv = np.unique(np.stack([c.ravel(), w.ravel()], axis=1), axis=0, return_inverse=True)
    inv = inv.reshape(coef.shape)
    ts = np.linspace(0.0, eps, grid)
    h = ts[1] - ts[0]
    psi = pairs[:, :1] * (smooth_threshold(pairs[:, 1:2], b, beta) - smooth_threshold(pairs[:, 1:2] - ts[None, :], b, beta))
    # lambda scale: the damage slope is at most max|coef|, so lambda beyond max|coef| / eps stops every move
    top = max(float(pairs[:, 0].max()) / eps, 1e-12)
    lams = np.concatenate([[0.0], top * np.geomspace(1e-4, 1.0, lambdas)])
    best_dual = np.full(coef.shape[0], np.inf)
    best_attack = clean.copy()
    for lam in lams:
        obj = psi - lam * ts[None, :] ** 2  # (types, grid)
        arg = obj.argmax(axis=1)
        phi = obj[np.arange(len(pairs)), arg] + (pairs[:, 0] + 2 * lam * eps) * h / 2
        dual = lam * eps**2 + phi[inv].sum(axis=1)
        best_dual = np.minimum(best_dual, dual)
        t = ts[arg][inv]  # (n, d) the grid maximisers per feature
        norm = np.sqrt((t**2).sum(axis=1))
        t = t * np.minimum(1.0, np.divide(eps, norm, out=np.ones_like(norm), where=norm > 0))[:, None]
        u = -np.sign(coef) * t
        best_attack = np.minimum(best_attack, (coef * smooth_threshold(v + u, b, beta)).sum(axis=1))
    lower = np.maximum(clean - best_dual, smooth_pure_certified_margin(coef, v, b, beta, eps))
    return np.minimum(lower, best_attack), best_attack


def _gauss(shape, gen, dtype, scale):
    return torch.randn(shape, generator=gen, dtype=dtype) * scale


def _activity_weights(h: torch.Tensor, out_weight: torch.Tensor) -> np.ndarray:
    """``|out_weight_j| mean|h_j|`` normalised to sum 1 (uniform if all vanish)."""
    w = (out_weight.detach().abs() * h.detach().abs().mean(dim=0)).double().numpy()
    total = w.sum()
    return w / total if total > 0 else np.full(w.size, 1.0 / w.size)


class _Thresholded(nn.Module):
    def _b(self, p: torch.Tensor, m: int) -> torch.Tensor:
        return p.expand(m).clamp_min(0.0)

    def project_(self) -> None:
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("b"):
                    p.clamp_(min=0.0)


class SmoothTwoLayer(_Thresholded):
    """Two-layer net with the smooth soft threshold ``g_beta`` (trainable per-node thresholds ``b``)."""

    def __init__(self, W, a, b, beta: float, c: float = 0.0):
        super().__init__()
        self.beta = require_real("beta", beta, low=0.0, low_open=True)
        W = torch.as_tensor(W)
        self.W = nn.Parameter(W.clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W.dtype).clone())
        self.b1 = nn.Parameter(torch.as_tensor(b, dtype=W.dtype).expand(W.shape[0]).clone())
        self.c = nn.Parameter(torch.as_tensor(float(c), dtype=W.dtype))

    @classmethod
    def random_init(cls, d: int, m: int, *, seed: int, beta: float, scale: float = 0.01, b: float = 0.0,
                    dtype=torch.float32) -> "SmoothTwoLayer":
        g = torch.Generator().manual_seed(require_int("seed", seed, low=0))
        return cls(_gauss((require_int("m", m, low=1), require_int("d", d, low=1)), g, dtype, scale),
                   _gauss((m,), g, dtype, scale), torch.full((m,), float(b), dtype=dtype), beta)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return smooth_threshold(x @ self.W.T, self._b(self.b1, self.W.shape[0]), self.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x) @ self.a + self.c

    def first_layer(self) -> np.ndarray:
        return self.W.detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self.hidden(x), self.a)


class ThreeLayer(_Thresholded):
    """``f = a . s(W2 s(W1 x; b1); b2) + c``, soft thresholds with one trainable threshold per layer."""

    def __init__(self, W1, W2, a, b1: float = 0.0, b2: float = 0.0, c: float = 0.0):
        super().__init__()
        W1 = torch.as_tensor(W1)
        self.W1 = nn.Parameter(W1.clone())
        self.W2 = nn.Parameter(torch.as_tensor(W2, dtype=W1.dtype).clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W1.dtype).clone())
        self.b1 = nn.Parameter(torch.tensor([float(b1)], dtype=W1.dtype))
        self.b2 = nn.Parameter(torch.tensor([float(b2)], dtype=W1.dtype))
        self.c = nn.Parameter(torch.as_tensor(float(c), dtype=W1.dtype))
        if self.W2.shape[1] != self.W1.shape[0] or self.a.shape[0] != self.W2.shape[0]:
            raise ValueError(f"W2 must have shape (m2, {self.W1.shape[0]}) and a shape (m2,), got "
                             f"{tuple(self.W2.shape)} and {tuple(self.a.shape)}")

    @classmethod
    def random_init(cls, d: int, m1: int, m2: int, *, seed: int, scale: float = 0.01,
                    dtype=torch.float32) -> "ThreeLayer":
        """Small Gaussian init; layer 2 starts at ``1/sqrt(m1)`` so layer-1 signals pass at init."""
        g = torch.Generator().manual_seed(require_int("seed", seed, low=0))
        d, m1, m2 = (require_int(n, v, low=1) for n, v in (("d", d), ("m1", m1), ("m2", m2)))
        return cls(_gauss((m1, d), g, dtype, scale), _gauss((m2, m1), g, dtype, 1.0 / math.sqrt(m1)),
                   _gauss((m2,), g, dtype, scale))

    @staticmethod
    def _soft(t, b):
        return t - torch.clamp(t, -b, b)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return self._soft(x @ self.W1.T, self.b1.clamp_min(0.0))

    def hidden2(self, x: torch.Tensor) -> torch.Tensor:
        return self._soft(self.hidden(x) @ self.W2.T, self.b2.clamp_min(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden2(x) @ self.a + self.c

    def first_layer(self) -> np.ndarray:
        return self.W1.detach().double().numpy().copy()

    def second_layer_composite(self) -> np.ndarray:
        """Rows ``W2 W1`` (m2, d): the feature combination each layer-2 node reads through layer 1."""
        return (self.W2 @ self.W1).detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        """Layer-1 node j: ``mean|h1_j| * sum_k |a_k| |W2_kj|`` (how much it reaches the output)."""
        with torch.no_grad():
            return _activity_weights(self.hidden(x), self.a.abs() @ self.W2.abs())

    def node_weights2(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self.hidden2(x), self.a)


class NormalisedTwoLayer(_Thresholded):
    """Soft-threshold layer, RMS normalisation ``h / sqrt(mean h^2 + floor)``, linear head."""

    def __init__(self, W, a, b: float = 0.0, c: float = 0.0):
        super().__init__()
        W = torch.as_tensor(W)
        self.W = nn.Parameter(W.clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W.dtype).clone())
        self.b1 = nn.Parameter(torch.tensor([float(b)], dtype=W.dtype))
        self.c = nn.Parameter(torch.as_tensor(float(c), dtype=W.dtype))

    @classmethod
    def random_init(cls, d: int, m: int, *, seed: int, scale: float = 0.01, dtype=torch.float32):
        g = torch.Generator().manual_seed(require_int("seed", seed, low=0))
        return cls(_gauss((require_int("m", m, low=1), require_int("d", d, low=1)), g, dtype, scale),
                   _gauss((m,), g, dtype, scale))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        t = x @ self.W.T
        return t - torch.clamp(t, -self.b1.clamp_min(0.0), self.b1.clamp_min(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden(x)
        h = h / torch.sqrt((h * h).mean(dim=1, keepdim=True) + _NORM_FLOOR)
        return h @ self.a + self.c

    def first_layer(self) -> np.ndarray:
        return self.W.detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            h = self.hidden(x)
            hn = h / torch.sqrt((h * h).mean(dim=1, keepdim=True) + _NORM_FLOOR)
            return _activity_weights(hn, self.a)


class CirculantTwoLayer(_Thresholded):
    """Weight sharing: node j's row is ``roll(f, j)`` (row j, column i holds ``f[(i - j) mod d]``)."""

    def __init__(self, f, a, b: float = 0.0, c: float = 0.0):
        super().__init__()
        f = torch.as_tensor(f)
        self.f = nn.Parameter(f.clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=f.dtype).clone())
        if self.a.shape != self.f.shape:
            raise ValueError(f"a must have shape {tuple(self.f.shape)} (one node per shift), got {tuple(self.a.shape)}")
        self.b1 = nn.Parameter(torch.tensor([float(b)], dtype=f.dtype))
        self.c = nn.Parameter(torch.as_tensor(float(c), dtype=f.dtype))
        d = f.shape[0]
        self.register_buffer("_index", (torch.arange(d)[None, :] - torch.arange(d)[:, None]) % d)

    @classmethod
    def random_init(cls, d: int, *, seed: int, scale: float = 0.01, dtype=torch.float32):
        g = torch.Generator().manual_seed(require_int("seed", seed, low=0))
        d = require_int("d", d, low=1)
        return cls(_gauss((d,), g, dtype, scale), _gauss((d,), g, dtype, scale))

    def weight(self) -> torch.Tensor:
        return self.f[self._index]

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        t = x @ self.weight().T
        return t - torch.clamp(t, -self.b1.clamp_min(0.0), self.b1.clamp_min(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x) @ self.a + self.c

    def first_layer(self) -> np.ndarray:
        return self.weight().detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self.hidden(x), self.a)
