"""Per-sample margins ``y f(x)`` and worst-case margins: exact where a closed form or an exact
attack exists, else the raw attack and certificate values (compared, never clamped)."""
from __future__ import annotations

import numpy as np

from ..activations import activate, soft_threshold
from ..attacks.pure_l2 import pure_l2_min_margin
from ..errors import check_ordered
from ..networks import TwoLayerNet

BLOCK = 1 << 21  # elements per batch (samples x d) in Monte Carlo and atom blocks
BOUND_RTOL = 1e-9  # rounding allowance, relative to the margin's scale, for certificate <= attack


def clean_margin(net: TwoLayerNet, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y f(x)`` and its tie scale ``sum_j |a_j| (|t_j| + |b_j|) + |c|``."""
    t = x @ net.W.T
    f = activate(net.activation, t, net.b) @ net.a + net.c
    scale = (np.abs(t) + np.abs(net.b)) @ np.abs(net.a) + abs(net.c)
    return y * f, scale


def module_dtype_device(module):
    """The dtype and device of a module's first floating parameter or buffer (else torch's defaults)."""
    import torch

    for p in list(module.parameters()) + list(module.buffers()):
        if p.is_floating_point():
            return p.dtype, p.device
    return torch.get_default_dtype(), torch.device("cpu")


def module_scores(module, x: np.ndarray) -> np.ndarray:
    """``f(x)`` (n,) float64 of a torch module, evaluated in the module's own dtype and device."""
    import torch

    dtype, device = module_dtype_device(module)
    out = np.empty(len(x))
    step = max(1, BLOCK // max(1, x.shape[1]))
    with torch.no_grad():
        for s in range(0, len(x), step):
            f = module(torch.as_tensor(x[s:s + step], dtype=dtype, device=device))
            n = min(step, len(x) - s)
            if f.numel() != n:
                raise ValueError(f"net must return one score per row, got output shape {tuple(f.shape)} for {n} rows")
            out[s:s + n] = f.reshape(n).double().cpu().numpy()
    return out


def pure_l2_margins(coef: np.ndarray, V: np.ndarray, thr: np.ndarray, eps: float) -> np.ndarray:
    """``min_{||u||_2 <= eps} sum_i coef_i soft(V_i + u_i, thr_i)`` per row (exact; features with coef 0 dropped).

    Raises :class:`numerics.errors.TooManyCandidates` where the exact attack would need too many candidates.
    """
    keep = coef != 0
    if not np.any(keep):
        return np.zeros(len(V))
    out = np.empty(len(V))
    Vk, ck, tk = V[:, keep], coef[keep], thr[keep]
    step = max(1, BLOCK // Vk.shape[1])
    for s in range(0, len(V), step):
        out[s:s + step] = np.asarray(pure_l2_min_margin(ck, Vk[s:s + step], tk, eps).margin, dtype=np.float64)
    return out


def box_margins(coef: np.ndarray, thr: np.ndarray, V: np.ndarray, cols: np.ndarray, eps: float) -> np.ndarray:
    """``min_{||u||_inf <= eps} sum_i coef_i soft(V_i + u_i, thr_i)`` (exact: separable and monotone).

    Each feature moves by ``eps`` against its coefficient. ``V`` is given on ``cols``; the
    features outside ``cols`` are 0 and contribute ``-|coef_i| (eps - thr_i)_+`` each.
    """
    outside = np.ones(coef.size, dtype=bool)
    outside[cols] = False
    base = -np.sum(np.abs(coef[outside]) * np.maximum(eps - thr[outside], 0.0))
    c, t = coef[cols], thr[cols]
    return soft_threshold(V - eps * np.sign(c), t) @ c + base


def attack_margins(net, x: np.ndarray, y: np.ndarray, clean: np.ndarray, eps: float, norm: str, seed: int,
                   pgd: dict) -> np.ndarray:
    """PGD's lowest margin (>= the worst case, an attained value); ties ``y = 0`` keep margin 0.

    ``net``: a two-layer net or any torch module; ``pgd``: overrides of the PGD defaults (which are
    :func:`numerics.attacks.pgd.pgd_min_margin`'s, stated once there). delta = 0 is feasible, so the
    attack's value is the lower of PGD's and the clean margin (both attained: not a clamp).
    """
    from ..attacks.pgd import pgd_min_margin  # imported here: torch, which exact work never needs

    nz = y != 0
    a_m = np.zeros(len(y))
    if np.any(nz):
        a_m[nz] = pgd_min_margin(net, x[nz], y[nz], eps, norm, seed=seed, **pgd)
    return np.minimum(a_m, clean)


def certified_margins(net: TwoLayerNet, x: np.ndarray, y: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """Sound lower bounds on the worst-case margin (:mod:`numerics.attacks.certified`); ties keep 0."""
    from ..attacks.certified import certified_min_margin

    nz = y != 0
    c_m = np.zeros(len(y))
    if np.any(nz):
        c_m[nz] = certified_min_margin(net, x[nz], y[nz], eps, norm)
    return c_m


def ordered(what: str, certified: np.ndarray, attack: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The certified margins after checking ``certified <= attack`` (raw values, ``BOUND_RTOL`` x scale).

    A violation beyond the tolerance raises :class:`numerics.errors.BoundViolation`. Within it the
    two are equal up to rounding, and the certified value is taken as the smaller of the two so
    that the per-sample error / loss indicators stay ordered.
    """
    check_ordered(what, certified, attack, scale=scale, rtol=BOUND_RTOL)
    return np.minimum(certified, attack)


def network_gain(net: TwoLayerNet, norm: str) -> float:
    """``sum_j |a_j| ||W_j||_{q*}``: a Lipschitz constant of ``f`` in the attack norm (tie scales)."""
    from ..attacks.linear import dual_norm

    return float(np.sum(np.abs(net.a) * dual_norm(net.W, norm)))
