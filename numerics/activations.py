"""Activations of docs/model.md §2: one sign convention, numpy and torch side by side.

Every net, attack, certificate, trainer and the contrastive code of :mod:`numerics` calls
these functions; nothing else in the library writes an activation.

- **soft threshold** ``act_b(t) = ReLU(t - b) - ReLU(-t - b) = t - clip(t, -b, b)``, ``b >= 0``:
  odd, 1-Lipschitz, zero on the *dead zone* ``[-b, b]``, slope 1 outside; ``b = 0`` is the
  identity. Breakpoints ``-b`` and ``b``.
- **ReLU with intercept** ``act_b(t) = ReLU(t + b)``, ``b`` any real: zero for ``t <= -b``,
  slope 1 above. Breakpoint ``-b``. (A ReLU whose dead zone ends at ``tau`` has ``b = -tau``:
  :func:`b_for_dead_zone`.)
- **smooth threshold** ``g_beta(t; b) = (softplus(beta (t - b)) - softplus(beta (-t - b))) / beta``,
  ``beta > 0``: odd, increasing, slope ``sigma(beta (t - b)) + sigma(-beta (t + b))`` in (0, 1),
  ``|g_beta - act_b| <= log(2) / beta``; ``beta -> infinity`` gives the soft threshold.

Slopes (:func:`activation_slope`) are the 0/1 derivatives with the value 0 *at* a kink
(``|t| = b`` for the soft threshold, ``t = -b`` for ReLU): the choice PGD's closed-form
gradient makes (a pre-activation sitting exactly on a kink does not move the output to first
order on the dead side).

The two in-place torch kernels :func:`activate_` and :func:`slope_times_` are the hot path of
PGD and of the batched training loop; they compute bit for bit what :func:`activate` and
``a * activation_slope`` compute (checked in tests/test_activations.py).
"""
from __future__ import annotations

import numpy as np

from .validation import require_real

ACTIVATIONS = ("soft_threshold", "relu")


def _is_torch(t) -> bool:
    return not (isinstance(t, np.ndarray) or np.isscalar(t) or isinstance(t, (list, tuple)))


def _check_kind(kind: str) -> None:
    if kind not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {kind!r}")


def soft_threshold(t, b):
    """Symmetric soft threshold ``t - clip(t, -b, b)`` (``b >= 0``; ``b = 0`` is the identity).

    Torch tensors that need gradients go through :func:`_soft_threshold_autograd` (the same
    values and bit for bit the same gradients as autograd through the clamp, in fewer passes).
    """
    if _is_torch(t):
        import torch

        if torch.is_grad_enabled() and torch.is_tensor(b) and (t.requires_grad or b.requires_grad):
            return _soft_threshold_autograd(t, b)
        return t - torch.clamp(t, -b, b)
    return t - np.clip(t, -np.asarray(b), b)


_SoftThreshold = None  # the autograd.Function, built on first use: this module imports torch only when asked


def _soft_threshold_autograd(t, b):
    """``t - clamp(t, -b, b)`` with a fused backward where every ``b > 0``; plain autograd otherwise.

    Autograd through the clamp spends about ten passes over the (runs, n, m) pre-activations
    (four comparisons, two logical ands, three ``where`` and the sums), a tenth of a batched
    training step at d = 32. With ``out = act_b(t)`` and ``g`` the output's gradient, the same
    numbers come from three fused kernels and two sums: ``grad_t = g`` where ``out != 0`` and 0
    on the dead zone (autograd: ``g + where(|t| <= b, -g, 0)``), and ``grad_b = N - P`` with
    ``P``, ``N`` the sums (to b's shape) of ``g`` where ``out > 0`` and where ``out < 0``
    (autograd: the clamp's max and min gradients ``where(t > b, -g, 0)`` and
    ``where(t < -b, -g, 0)``, each summed, the min one negated through ``-b``). Negation is exact
    and addition commutes, so the results agree bit for bit up to the sign of zeros (tested in
    tests/test_activations.py). Autograd's clamp gives ``b``'s gradient only where
    ``-b < b``, so any ``b <= 0`` takes the plain path. The backward is first order only (it
    writes into a work array): nothing in this library differentiates a gradient.
    """
    import torch

    global _SoftThreshold
    if torch.broadcast_shapes(t.shape, b.shape) != t.shape or not bool((b > 0).all()):
        return t - torch.clamp(t, -b, b)
    if _SoftThreshold is None:
        class _SoftThresholdFunction(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t, b):
                out = t - torch.clamp(t, -b, b)
                ctx.save_for_backward(out)
                ctx.b_shape = b.shape
                return out

            @staticmethod
            def backward(ctx, g):
                (out,) = ctx.saved_tensors
                # the head's backward hands g over transposed (a bmm's output): one copy to out's layout
                # makes the three kernels below straight passes (mixed strides cost each of them ~5x)
                if out.is_contiguous() and not g.is_contiguous():
                    g = g.contiguous()
                grad_t = grad_b = None
                if ctx.needs_input_grad[0]:
                    grad_t = torch.ops.aten.hardshrink_backward(g, out, 0.0)  # 0 where out == 0
                if ctx.needs_input_grad[1]:
                    work = torch.ops.aten.threshold_backward(g, out, 0.0)  # g where out > 0
                    pos = work.sum_to_size(ctx.b_shape)
                    if pos is work:  # b has t's shape: keep the sum apart from the work array reused below
                        pos = pos.clone()
                    torch.neg(out, out=work)  # one work array for both masks: g where -out > 0
                    neg = torch.ops.aten.threshold_backward.grad_input(g, work, 0.0, grad_input=work)
                    grad_b = neg.sum_to_size(ctx.b_shape).sub_(pos)
                return grad_t, grad_b

        _SoftThreshold = _SoftThresholdFunction
    return _SoftThreshold.apply(t, b)


def relu_intercept(t, b):
    """ReLU with intercept, ``max(t + b, 0)``."""
    if _is_torch(t):
        import torch

        return torch.relu(t + b)
    return np.maximum(t + b, 0.0)


def activate(kind: str, t, b):
    """``act_b(t)`` of ``kind`` ("soft_threshold" | "relu") for numpy arrays or torch tensors."""
    _check_kind(kind)
    return soft_threshold(t, b) if kind == "soft_threshold" else relu_intercept(t, b)


def activation_slope(kind: str, t, b):
    """Derivative of the activation in ``t``: 1 off the dead zone, 0 on it and at its kinks."""
    _check_kind(kind)
    if kind == "soft_threshold":
        live = (abs(t) > b) if _is_torch(t) else (np.abs(t) > b)
    else:
        live = t + b > 0
    return live.to(t.dtype) if _is_torch(t) else live * 1.0


def breakpoints(kind: str, b) -> np.ndarray:
    """Kinks of the activation per node: (m, 2) ``[-b, b]`` (soft threshold) or (m, 1) ``[-b]`` (ReLU)."""
    _check_kind(kind)
    b = np.atleast_1d(np.asarray(b, dtype=np.float64))
    return np.stack([-b, b], axis=-1) if kind == "soft_threshold" else -b[..., None]


def b_for_dead_zone(kind: str, tau):
    """The parameter ``b`` whose dead zone ends at ``tau >= 0``: ``tau`` (soft threshold) or ``-tau`` (ReLU).

    Its own inverse: ``b_for_dead_zone(kind, b)`` is the dead-zone edge of parameter ``b``.
    """
    _check_kind(kind)
    return tau if kind == "soft_threshold" else -tau


# --------------------------------------------------------------------------- torch hot path


def activate_(kind: str, t, b, *, uniform_b: float | None = None):
    """``t <- act_b(t)`` in place (torch); returns ``t``.

    ``uniform_b``: every node's threshold equals this float (one fused pass: torch's
    ``softshrink``); otherwise ``b`` broadcasts against ``t`` (two passes). Bit for bit equal
    to :func:`activate`.
    """
    import torch

    if kind == "soft_threshold":
        if uniform_b is not None:
            return torch._C._nn.softshrink(t, uniform_b, out=t)
        return t.sub_(torch.clamp(t, -b, b))
    if kind == "relu":
        return t.add_(b).relu_()
    _check_kind(kind)


def slope_times_(h, a, out=None):
    """``a * act'`` from the activation's output ``h = act_b(t)`` (torch): ``a`` where ``h != 0``, else 0.

    Valid for both activations (their slope is 1 exactly where the output is non-zero); one
    pass, written into ``out`` (which may be ``h`` itself). ``a`` broadcasts against ``h``.
    """
    import torch

    grad = a.expand_as(h)
    if out is None:
        return torch.ops.aten.hardshrink_backward(grad, h, 0.0)
    return torch.ops.aten.hardshrink_backward.grad_input(grad, h, 0.0, grad_input=out)


# --------------------------------------------------------------------------- smooth threshold


def _sharpness(beta) -> float:
    """beta, validated: 0 divides by zero, a negative one turns the threshold inside out."""
    if hasattr(beta, "item"):  # a scalar tensor or numpy number
        beta = beta.item()
    return require_real("beta", beta, low=0.0, low_open=True)


def smooth_threshold(t, b, beta: float):
    """``g_beta(t; b)`` for numpy arrays or torch tensors (module docstring)."""
    beta = _sharpness(beta)
    if _is_torch(t):
        import torch

        sp = torch.nn.functional.softplus
        return (sp(beta * (t - b)) - sp(beta * (-t - b))) / beta
    t = np.asarray(t, dtype=np.float64)
    return (np.logaddexp(0.0, beta * (t - b)) - np.logaddexp(0.0, beta * (-t - b))) / beta


def smooth_threshold_slope(t, b, beta: float):
    """``g_beta'(t; b) = sigma(beta (t - b)) + sigma(-beta (t + b))``, increasing in ``|t|``."""
    beta = _sharpness(beta)
    if _is_torch(t):
        import torch

        return torch.sigmoid(beta * (t - b)) + torch.sigmoid(-beta * (t + b))
    t = np.asarray(t, dtype=np.float64)
    sig = lambda u: 0.5 * (1.0 + np.tanh(0.5 * u))  # noqa: E731  (stable logistic)
    return sig(beta * (t - b)) + sig(-beta * (t + b))
