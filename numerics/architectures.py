"""Networks beyond docs/model.md's two-layer soft-threshold net (seed questions 2, 3 and 8), as torch modules.

Every module maps inputs (n, d) to one score per row, has a ``first_layer()`` (numpy (m, d):
the rows whose purity is measured), ``hidden(x)`` (the first layer's outputs, (n, m)),
``node_weights(x)`` (nonnegative importance of each first-layer node on inputs ``x``, summing
to 1: how much the output moves with the node) and ``project_()`` (called after each
optimiser step: thresholds back onto ``b >= 0``). Each is a
:class:`numerics.torch_nets.RunsModule`: it holds one net or R runs along a leading axis
(``random_init(..., seed=[s0, s1, ...])``; inputs (R, n, d) or (n, d), scores (R, n);
``first_layer()`` and ``node_weights`` then carry the run axis too), so that
:func:`numerics.training.fit` trains R seeds as one tensor program. They train with
:func:`numerics.training.train_module` and are attacked by
:func:`numerics.attacks.pgd.pgd_attack` through autograd. Activations come from
:mod:`numerics.activations` (the smooth threshold included).

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

from .activations import smooth_threshold, smooth_threshold_slope, soft_threshold
from .errors import check_ordered
from .torch_nets import RunsModule, head, linear, seeds_list
from .validation import require_array, require_int, require_real

__all__ = ["SmoothTwoLayer", "ThreeLayer", "NormalisedTwoLayer", "CirculantTwoLayer", "smooth_threshold",
           "smooth_threshold_slope", "smooth_pure_certified_margin", "smooth_pure_l2_bounds"]

_NORM_FLOOR = 1e-8


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
    # raw bounds, no clamp: a lower bound above the attack value means one of them is wrong
    check_ordered("smooth_pure_l2_bounds", lower, best_attack, scale=np.abs(coef).sum(axis=1) * (1.0 + np.abs(v).max()))
    return lower, best_attack


def _gauss(shape, gen, dtype, scale):
    return torch.randn(shape, generator=gen, dtype=dtype) * scale


def _activity_weights(h: torch.Tensor, out_weight: torch.Tensor) -> np.ndarray:
    """``|out_weight_j| mean|h_j|`` normalised to sum 1 over j (uniform if all vanish); per run for runs."""
    w = (out_weight.detach().abs() * h.detach().abs().mean(dim=-2)).double().numpy()
    total = w.sum(axis=-1, keepdims=True)
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / w.shape[-1])


def _runs_of(seed, build):
    """``build(seed)`` for one int seed, or the runs module stacking ``build(s)`` over a sequence of seeds."""
    seeds = seeds_list(seed)
    if seeds is None:
        return build(seed)
    nets = [build(s) for s in seeds]
    return type(nets[0]).stack(nets)


class _Thresholded(RunsModule):
    """Soft-threshold nets: thresholds ``b*`` (parameters named ``b1``, ``b2``) trained, clamped at use."""

    @staticmethod
    def _b(p: torch.Tensor, m: int) -> torch.Tensor:
        """Threshold parameter (..., 1) or (..., m) as per-node thresholds (..., 1, m) against (..., n, m)."""
        return p.expand(p.shape[:-1] + (m,)).clamp_min(0.0).unsqueeze(-2)

    def _bias(self) -> torch.Tensor:
        return self.c if self.runs is None else self.c[:, None]

    def _init_runs(self, lead_tensor: torch.Tensor, core_ndim: int) -> None:
        self.runs = lead_tensor.shape[0] if lead_tensor.ndim == core_ndim + 1 else None

    def _lead(self) -> tuple[int, ...]:
        return () if self.runs is None else (self.runs,)


class SmoothTwoLayer(_Thresholded):
    """Two-layer net with the smooth soft threshold ``g_beta`` (trainable per-node thresholds ``b``)."""

    def __init__(self, W, a, b, beta: float, c=0.0):
        super().__init__()
        self.beta = require_real("beta", beta, low=0.0, low_open=True)
        W = torch.as_tensor(W)
        self._init_runs(W, 2)
        self.W = nn.Parameter(W.clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W.dtype).clone())
        self.b1 = nn.Parameter(torch.as_tensor(b, dtype=W.dtype).expand(W.shape[:-1]).clone())
        self.c = nn.Parameter(torch.as_tensor(c, dtype=W.dtype).expand(self._lead()).clone())

    @classmethod
    def random_init(cls, d: int, m: int, *, seed, beta: float, scale: float = 0.01, b: float = 0.0,
                    dtype=torch.float32) -> "SmoothTwoLayer":
        def build(s):
            g = torch.Generator().manual_seed(require_int("seed", s, low=0))
            return cls(_gauss((require_int("m", m, low=1), require_int("d", d, low=1)), g, dtype, scale),
                       _gauss((m,), g, dtype, scale), torch.full((m,), float(b), dtype=dtype), beta)

        return _runs_of(seed, build)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return smooth_threshold(linear(x, self.W), self._b(self.b1, self.W.shape[-2]), self.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return head(self.hidden(x), self.a) + self._bias()

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"first": [self.W], "threshold": [self.b1], "head": [self.a, self.c]}

    def first_layer(self) -> np.ndarray:
        return self.W.detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self.hidden(x), self.a)


class ThreeLayer(_Thresholded):
    """``f = a . s(W2 s(W1 x; b1); b2) + c``, soft thresholds with one trainable threshold per layer."""

    def __init__(self, W1, W2, a, b1=0.0, b2=0.0, c=0.0):
        super().__init__()
        W1 = torch.as_tensor(W1)
        self._init_runs(W1, 2)
        lead = self._lead()
        self.W1 = nn.Parameter(W1.clone())
        self.W2 = nn.Parameter(torch.as_tensor(W2, dtype=W1.dtype).clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W1.dtype).clone())
        self.b1 = nn.Parameter(torch.as_tensor(b1, dtype=W1.dtype).expand(lead + (1,)).clone())
        self.b2 = nn.Parameter(torch.as_tensor(b2, dtype=W1.dtype).expand(lead + (1,)).clone())
        self.c = nn.Parameter(torch.as_tensor(c, dtype=W1.dtype).expand(lead).clone())
        if self.W2.shape[-1] != self.W1.shape[-2] or self.a.shape[-1] != self.W2.shape[-2]:
            raise ValueError(f"W2 must have shape (m2, {self.W1.shape[-2]}) and a shape (m2,), got "
                             f"{tuple(self.W2.shape)} and {tuple(self.a.shape)}")

    @classmethod
    def random_init(cls, d: int, m1: int, m2: int, *, seed, scale: float = 0.01,
                    dtype=torch.float32) -> "ThreeLayer":
        """Small Gaussian init; layer 2 starts at ``1/sqrt(m1)`` so layer-1 signals pass at init."""
        d, m1, m2 = (require_int(n, v, low=1) for n, v in (("d", d), ("m1", m1), ("m2", m2)))

        def build(s):
            g = torch.Generator().manual_seed(require_int("seed", s, low=0))
            return cls(_gauss((m1, d), g, dtype, scale), _gauss((m2, m1), g, dtype, 1.0 / math.sqrt(m1)),
                       _gauss((m2,), g, dtype, scale))

        return _runs_of(seed, build)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return soft_threshold(linear(x, self.W1), self._b(self.b1, self.W1.shape[-2]))

    def hidden2(self, x: torch.Tensor) -> torch.Tensor:
        return soft_threshold(linear(self.hidden(x), self.W2), self._b(self.b2, self.W2.shape[-2]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return head(self.hidden2(x), self.a) + self._bias()

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"first": [self.W1, self.W2], "threshold": [self.b1, self.b2], "head": [self.a, self.c]}

    def first_layer(self) -> np.ndarray:
        return self.W1.detach().double().numpy().copy()

    def second_layer_composite(self) -> np.ndarray:
        """Rows ``W2 W1`` (m2, d): the feature combination each layer-2 node reads through layer 1."""
        return (self.W2 @ self.W1).detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        """Layer-1 node j: ``mean|h1_j| * sum_k |a_k| |W2_kj|`` (how much it reaches the output)."""
        with torch.no_grad():
            reach = (self.a.abs().unsqueeze(-2) @ self.W2.abs()).squeeze(-2)
            return _activity_weights(self.hidden(x), reach)

    def node_weights2(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self.hidden2(x), self.a)


class NormalisedTwoLayer(_Thresholded):
    """Soft-threshold layer, RMS normalisation ``h / sqrt(mean h^2 + floor)``, linear head."""

    def __init__(self, W, a, b=0.0, c=0.0):
        super().__init__()
        W = torch.as_tensor(W)
        self._init_runs(W, 2)
        self.W = nn.Parameter(W.clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W.dtype).clone())
        self.b1 = nn.Parameter(torch.as_tensor(b, dtype=W.dtype).expand(self._lead() + (1,)).clone())
        self.c = nn.Parameter(torch.as_tensor(c, dtype=W.dtype).expand(self._lead()).clone())

    @classmethod
    def random_init(cls, d: int, m: int, *, seed, scale: float = 0.01, dtype=torch.float32):
        def build(s):
            g = torch.Generator().manual_seed(require_int("seed", s, low=0))
            return cls(_gauss((require_int("m", m, low=1), require_int("d", d, low=1)), g, dtype, scale),
                       _gauss((m,), g, dtype, scale))

        return _runs_of(seed, build)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return soft_threshold(linear(x, self.W), self._b(self.b1, self.W.shape[-2]))

    @staticmethod
    def _normalise(h: torch.Tensor) -> torch.Tensor:
        return h / torch.sqrt((h * h).mean(dim=-1, keepdim=True) + _NORM_FLOOR)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return head(self._normalise(self.hidden(x)), self.a) + self._bias()

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"first": [self.W], "threshold": [self.b1], "head": [self.a, self.c]}

    def first_layer(self) -> np.ndarray:
        return self.W.detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self._normalise(self.hidden(x)), self.a)


class CirculantTwoLayer(_Thresholded):
    """Weight sharing: node j's row is ``roll(f, j)`` (row j, column i holds ``f[(i - j) mod d]``)."""

    def __init__(self, f, a, b=0.0, c=0.0):
        super().__init__()
        f = torch.as_tensor(f)
        self._init_runs(f, 1)
        self.f = nn.Parameter(f.clone())
        self.a = nn.Parameter(torch.as_tensor(a, dtype=f.dtype).clone())
        if self.a.shape != self.f.shape:
            raise ValueError(f"a must have shape {tuple(self.f.shape)} (one node per shift), got {tuple(self.a.shape)}")
        self.b1 = nn.Parameter(torch.as_tensor(b, dtype=f.dtype).expand(self._lead() + (1,)).clone())
        self.c = nn.Parameter(torch.as_tensor(c, dtype=f.dtype).expand(self._lead()).clone())
        d = f.shape[-1]
        self.register_buffer("_index", (torch.arange(d)[None, :] - torch.arange(d)[:, None]) % d)

    @classmethod
    def random_init(cls, d: int, *, seed, scale: float = 0.01, dtype=torch.float32):
        d = require_int("d", d, low=1)

        def build(s):
            g = torch.Generator().manual_seed(require_int("seed", s, low=0))
            return cls(_gauss((d,), g, dtype, scale), _gauss((d,), g, dtype, scale))

        return _runs_of(seed, build)

    def weight(self) -> torch.Tensor:
        return self.f[..., self._index]

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return soft_threshold(linear(x, self.weight()), self._b(self.b1, self.f.shape[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return head(self.hidden(x), self.a) + self._bias()

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"first": [self.f], "threshold": [self.b1], "head": [self.a, self.c]}

    def first_layer(self) -> np.ndarray:
        return self.weight().detach().double().numpy().copy()

    def node_weights(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _activity_weights(self.hidden(x), self.a)
