"""Projected gradient descent on the margin, with random restarts (MODEL.md section 3).

Computes a perturbation ``delta`` with ``||delta||_q <= eps`` (q = 2 or inf) that makes the
margin ``y * f(x + delta)`` small. It is an *attack*: the margin it reaches is an upper
bound on the true worst-case margin ``min_{||delta|| <= eps} y f(x + delta)``, so the
robust accuracy it implies is an upper bound too (the certificate in
:mod:`numerics.attacks.certified` gives the matching lower bound).

Algorithm (Madry et al.): start from ``delta_0`` (uniform in the ball, or 0), then
``steps`` times ``delta <- Proj(delta - alpha * dir(grad_delta y f(x + delta)))`` with
``dir = g / ||g||_2`` (l2) or ``sign(g)`` (l_inf) and ``Proj`` the Euclidean projection
on the ball. Default step ``alpha = 2.5 eps / steps``. The lowest margin over every iterate
(start and final point included) and every restart is kept.

Gradients. For two-layer nets (:class:`numerics.networks.TwoLayerNet` or
:class:`numerics.torch_nets.TorchTwoLayer`) the gradient is the closed form
``grad_x f = W^T (a * act'(W x; b))``: one matmul for the pre-activations (which also give
the margin of the current iterate) and one for the gradient, so a step costs two matmuls
of shapes (n, d) x (d, m) and (n, m) x (m, d), no autograd. Any other ``torch.nn.Module``
returning one score per row is attacked through autograd (gradient with respect to the
input only; the module's parameters get no ``.grad``).

Dead zones. The soft threshold is flat on ``[-b, b]`` and ReLU with intercept is flat below
``-b``: where every node that matters is flat, the gradient is exactly zero and PGD does not
move (``act'`` is the right-continuous 0/1 slope of :mod:`numerics.activations`, so a
pre-activation sitting exactly at the kink ``|t| = b`` also has slope 0). An attack that
must cross a dead zone (push an inactive feature past its threshold) is only found when a
random start lands near it: use several restarts for thresholded nets. Restarts do not scale
with dimension: on the pure net past regime S3 (the optimum pushes inactive features through
their dead zones) PGD with 20 restarts missed the exact attack by margins up to 0.4-1.0 at
d = 12 (200 restarts: 2e-3 at b = 0.3, still 0.4 at b = 0.6); there use the exact
:func:`numerics.attacks.pure_l2.pure_l2_min_margin`. Optima at a kink (a feature stopped at
the edge of its dead zone) are reached only to about 1e-2 with a fixed step.

Zero start. Restart 0 may start at ``delta = 0`` (``zero_start``). With the default step,
random starts on a *linear* net converge to the optimum ``-eps y v/||v||`` only linearly
(the angle to it shrinks by ``1/(1 + alpha/eps)`` per step, about ``e^{-2.5}`` in all), so
they leave a relative margin gap of order 1e-2; the zero start walks straight along
``-y v`` and reaches the exact optimum once ``steps * alpha >= eps``.
:func:`pgd_min_margin` (evaluation) uses it by default, :func:`pgd_attack` (training) not.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..networks import TwoLayerNet
from ..torch_nets import TorchTwoLayer
from ..validation import require_array, require_choice, require_int, require_real

NORMS = ("l2", "linf")

# Rows x columns of the largest (restarts * n, max(d, m)) block held at once; restarts are
# batched into blocks under this size so that many restarts never exhaust memory.
_BLOCK_ELEMENTS = 1 << 23


def pgd_attack(
    model,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    norm: str = "l2",
    steps: int = 20,
    restarts: int = 1,
    step_size: float | None = None,
    seed: int | torch.Generator = 0,
    *,
    zero_start: bool = False,
) -> torch.Tensor:
    """The best perturbation PGD finds: ``delta`` (n, d), ``||delta_i||_norm <= eps``.

    model: a :class:`TwoLayerNet`, a :class:`TorchTwoLayer` (closed-form gradient) or any
    ``torch.nn.Module`` mapping (n, d) to n scores (autograd); x: (n, d) float tensor;
    y: (n,) labels (the margin is ``y * f``; ``y = 0`` rows have margin 0 and get
    ``delta = 0``); eps >= 0; norm "l2" | "linf"; steps >= 0 (0: best random start);
    restarts >= 1; step_size > 0 (None: ``2.5 eps / steps``); seed: int or a
    ``torch.Generator`` (on x's device) for the random starts; zero_start: restart 0 starts
    at ``delta = 0`` instead of a random point.

    Returns a detached tensor of x's dtype and device; the model's parameters are neither
    changed nor given gradients, and the model's train/eval mode is left as it is.
    Among iterates of equal margin the earliest is kept.
    """
    x, y = _check_xy(x, y)
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    steps = require_int("steps", steps, low=0)
    restarts = require_int("restarts", restarts, low=1)
    alpha = _step(step_size, eps, steps)
    gen = _generator(seed, x.device)
    oracle = _oracle(model, x)
    delta, _ = _pgd(oracle, x, y, eps, norm, steps, restarts, alpha, gen, bool(zero_start))
    return delta


def pgd_min_margin(
    net,
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    norm: str = "l2",
    steps: int = 50,
    restarts: int = 10,
    seed: int = 0,
    *,
    step_size: float | None = None,
    zero_start: bool = True,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Lowest margin ``y * f(x + delta)`` PGD reaches over ``||delta|| <= eps``: (n,) float64.

    An upper bound on the true worst-case margin. numpy in and out; the attack runs in torch
    with ``dtype`` (default float64 for a :class:`TwoLayerNet`, the module's own dtype
    otherwise). The returned margin is re-evaluated at the found ``delta`` in float64 with
    the numpy net when ``net`` is a :class:`TwoLayerNet`. Arguments as in
    :func:`pgd_attack`; by default restart 0 starts at ``delta = 0`` (see module docstring).
    """
    as_np = lambda v: v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else v  # noqa: E731
    x_np = require_array("x", as_np(x), ndim=2)
    y_np = require_array("y", as_np(y), shape=(x_np.shape[0],))
    if isinstance(net, TwoLayerNet):
        default, device = torch.float64, torch.device("cpu")
    elif isinstance(net, nn.Module):
        default, device = _module_dtype_device(net)
    else:
        raise ValueError(f"net must be a TwoLayerNet or a torch.nn.Module, got {type(net).__name__}")
    dtype = default if dtype is None else dtype
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    xt = torch.as_tensor(x_np, dtype=dtype, device=device)
    yt = torch.as_tensor(y_np, dtype=dtype, device=device)
    delta = pgd_attack(net, xt, yt, eps, norm, steps, restarts, step_size, seed, zero_start=zero_start)
    if isinstance(net, TwoLayerNet):
        return y_np * net(x_np + delta.double().numpy())
    with torch.no_grad():
        return (yt * _scores(net, xt + delta)).double().cpu().numpy()


# --------------------------------------------------------------------------- internals


def _check_xy(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or not x.is_floating_point():
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"x must be a 2-D floating torch tensor (n, d), got {shape}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x must contain only finite numbers")
    y = torch.as_tensor(y).to(dtype=x.dtype, device=x.device)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},), got {tuple(y.shape)}")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("y must contain only finite numbers")
    return x.detach(), y.detach()


def _step(step_size, eps: float, steps: int) -> float:
    if step_size is None:
        return 2.5 * eps / max(steps, 1)
    return require_real("step_size", step_size, low=0.0, low_open=True)


def _generator(seed, device) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator(device=device).manual_seed(require_int("seed", seed, low=0))


def _module_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype, p.device
    return torch.get_default_dtype(), torch.device("cpu")


def _scores(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    out = model(z)
    if out.numel() != z.shape[0]:
        raise ValueError(f"model must return one score per row, got output shape {tuple(out.shape)}")
    return out.reshape(z.shape[0])


def _oracle(model, x: torch.Tensor):
    """``oracle(z, y, grad) -> (margin (N,), d margin / dz (N, d) or None)``."""
    if isinstance(model, TwoLayerNet):
        as_t = lambda v: torch.as_tensor(v, dtype=x.dtype, device=x.device)  # noqa: E731
        W, a, b, c, kind = as_t(model.W), as_t(model.a), as_t(model.b), float(model.c), model.activation
    elif isinstance(model, TorchTwoLayer):
        with torch.no_grad():
            W, a, b = (p.detach().to(dtype=x.dtype, device=x.device) for p in (model.W, model.a, model.b))
            c, kind = float(model.c.detach()), model.activation
    elif isinstance(model, nn.Module):
        return _autograd_oracle(model)
    else:
        raise ValueError(f"model must be a TwoLayerNet or a torch.nn.Module, got {type(model).__name__}")
    if W.shape[1] != x.shape[1]:
        raise ValueError(f"x must have {W.shape[1]} columns to match the net, got {x.shape[1]}")
    Wt = W.T.contiguous()

    zero = torch.zeros((), dtype=x.dtype, device=x.device)

    def oracle(z, y, grad):
        t = z @ Wt  # matmul 1: pre-activations, shared by the margin and the gradient
        h = _fused_activation(kind, t, b)
        margin = y * (h @ a + c)
        if not grad:
            return margin, None
        # act' is 1 exactly where h != 0 (right-continuous 0/1 slope, as activation_slope)
        g = torch.where(h != 0, a, zero) @ W  # matmul 2: grad_x f = W^T (a * act')
        return margin, g * y[:, None]

    oracle.width = W.shape[0]  # hidden width m: sizes the restart blocks
    return oracle


def _fused_activation(kind: str, t: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``activate(kind, t, b)`` in two passes over (n, m) instead of six (the hot path).

    ``soft(t, b) = t - clamp(t, -b, b)``; ``relu(t + b)``. Kept equal to
    :func:`numerics.activations.activate` (checked against it in tests/test_pgd.py).
    """
    if kind == "soft_threshold":
        return t - torch.clamp(t, -b, b)
    return torch.relu_(t + b)


def _autograd_oracle(model: nn.Module):
    def oracle(z, y, grad):
        if not grad:
            with torch.no_grad():
                return y * _scores(model, z), None
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            margin = y * _scores(model, z)
            # gradient with respect to the input only: parameters' .grad stay untouched
            (g,) = torch.autograd.grad(margin.sum(), z)
        return margin.detach(), g.detach()

    return oracle


def _random_start(shape, eps: float, norm: str, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Uniform in the l2 ball (Gaussian direction, radius ``eps U^{1/d}``) or in the cube."""
    if norm == "linf":
        u = torch.rand(shape, generator=gen, dtype=like.dtype, device=like.device)
        return (2.0 * u - 1.0) * eps
    g = torch.randn(shape, generator=gen, dtype=like.dtype, device=like.device)
    r = torch.rand((shape[0], 1), generator=gen, dtype=like.dtype, device=like.device) ** (1.0 / shape[1])
    return g * (eps * r / g.norm(dim=1, keepdim=True).clamp_min(torch.finfo(like.dtype).tiny))


def _project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    n = delta.norm(dim=1, keepdim=True)
    scale = torch.where(n > eps, eps / n.clamp_min(torch.finfo(delta.dtype).tiny), torch.ones_like(n))
    return delta * scale


def _direction(g: torch.Tensor, norm: str) -> torch.Tensor:
    """Steepest-descent direction of unit ``norm`` for the gradient ``g`` (0 where g = 0)."""
    if norm == "linf":
        return g.sign()
    return g / g.norm(dim=1, keepdim=True).clamp_min(torch.finfo(g.dtype).tiny)


def _pgd(oracle, x, y, eps, norm, steps, restarts, alpha, gen, zero_start):
    """Best ``delta`` over steps and restarts, restarts batched in memory-bounded blocks."""
    n, d = x.shape
    best_delta = torch.zeros_like(x)
    best_margin = torch.full((n,), float("inf"), dtype=x.dtype, device=x.device)
    width = max(d, getattr(oracle, "width", 0))
    per_block = max(1, min(restarts, _BLOCK_ELEMENTS // max(1, n * width)))
    done = 0
    while done < restarts:
        r = min(per_block, restarts - done)
        X, Y = x.repeat(r, 1), y.repeat(r)
        # one draw per restart, in order: restart i gets the same start whatever the blocking,
        # so a run with more restarts (same seed) extends, and never loses to, one with fewer
        starts = [
            torch.zeros_like(x) if (zero_start and done + i == 0) or eps == 0
            else _random_start((n, d), eps, norm, gen, x)
            for i in range(r)
        ]
        D = torch.cat(starts)
        blk_margin = torch.full((r * n,), float("inf"), dtype=x.dtype, device=x.device)
        blk_delta = D.clone()
        for k in range(steps + 1):
            margin, g = oracle(X + D, Y, k < steps)
            better = margin < blk_margin  # strict: ties keep the earlier iterate
            blk_margin = torch.where(better, margin, blk_margin)
            blk_delta = torch.where(better[:, None], D, blk_delta)
            if k < steps:
                D = _project(D - alpha * _direction(g, norm), eps, norm)
        # best restart of the block, then against the blocks before it
        blk_margin = blk_margin.reshape(r, n)
        i = blk_margin.argmin(dim=0)
        m_blk = blk_margin.gather(0, i[None]).squeeze(0)
        d_blk = blk_delta.reshape(r, n, d)[i, torch.arange(n, device=x.device)]
        better = m_blk < best_margin
        best_margin = torch.where(better, m_blk, best_margin)
        best_delta = torch.where(better[:, None], d_blk, best_delta)
        done += r
    # y = 0 rows have margin 0 whatever delta is: return the clean point for them
    best_delta = torch.where((y == 0)[:, None], torch.zeros_like(best_delta), best_delta)
    return best_delta, best_margin
