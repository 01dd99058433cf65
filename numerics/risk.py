"""Population risk of a two-layer net on the sparse-coding model (MODEL.md section 4).

Four quantities of a :class:`~numerics.networks.TwoLayerNet` under a
:class:`~numerics.sparse_coding.SparseCodingModel`, task ``w*`` (labels
``y = sign(<w*, z>)``), radius ``eps`` and norm ``"l2"`` | ``"linf"``:

- ``clean_error``: ``P(y f(x) <= 0)``; ``robust_error``: ``P(min_{||delta|| <= eps} y f(x + delta) <= 0)``;
- ``logistic_loss``: ``E log(1 + exp(-y f(x)))``; ``adversarial_logistic_loss``: the same at
  the worst-case margin (the loss decreases in the margin, so the worst case of the loss is
  the loss at the worst-case margin).

A tie ``y = 0`` has margin 0 whatever the net does: an error, with loss ``log 2``. Margins
within ``TIE_RTOL`` (relative) of 0 count as 0 (:func:`numerics.exact_law.is_error`).

Each returns an :class:`~numerics.estimates.Estimate`:

- ``exact`` (point mass magnitude; ``lower``/``upper`` add the truncation bound of the
  atoms times the largest possible value, and the quadrature error estimates):
  * linear nets (``net.is_linear()``: the linear net, a mixed net or any soft-threshold net
    with all ``b = 0``): any sigma, any dictionary, l2 and l_inf. With ``v`` the x-space
    weight and ``u = M^T v`` its feature loadings the margin given ``z`` is
    ``N(y(<u, z> + c) - eps ||v||_{q*}, sigma^2 ||v||^2 / d)``; for l_inf the dual norm is
    ``||v||_1`` *in x-space*, so it depends on the dictionary.
  * feature-aligned soft-threshold nets (each node reads one feature: the pure net and its
    rescalings), ``sigma = 0``: clean quantities; l2 worst case through the exact attack
    :func:`numerics.attacks.pure_l2.pure_l2_min_margin` (any dictionary); l_inf worst case
    in closed form when the dictionary is a signed permutation (the identity), where the
    l_inf ball is a box in feature space and each feature is pushed by ``eps`` against its
    coefficient.
  * any net, ``sigma = 0``, ``d <= ENUMERATION_D``: clean quantities by full enumeration.
  Atoms come from :mod:`numerics.exact_law` (grouped law; enumeration when that needs too
  many atoms and d is small).
- ``mc`` (seeded, batched, ``samples`` draws): Clopper-Pearson for errors, a t-interval for
  losses. The worst case is exact per sample for linear and feature-aligned nets (l2; l_inf
  with a signed-permutation dictionary).
- ``bound`` (robust quantities of other nets, Monte Carlo): the interval runs from the
  lower confidence limit of the PGD attack's value (:func:`numerics.attacks.pgd.pgd_min_margin`,
  an upper bound on the worst-case margin) to the upper limit of the certified value
  (:func:`numerics.attacks.certified.certified_min_margin`, a lower bound on it); each side
  at ``level``, so the interval covers with probability at least ``level``. ``value`` is
  the attack's estimate.

``method="auto"`` uses exact when available, else Monte Carlo; ``"exact"`` raises
``ValueError`` (naming ``method``) when no exact method applies; ``"mc"`` forces sampling.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .attacks.linear import dual_norm
from .attacks.pure_l2 import pure_l2_min_margin
from .config import ModelConfig
from .estimates import Estimate, mean, paired_difference, proportion
from .exact_law import (TIE_RTOL, Atoms, enumerate_atoms, gaussian_error, gaussian_logistic, grouped_atoms,
                        is_error, point_mass_value, softplus, tie_sign)
from .activations import activate, soft_threshold
from .networks import TwoLayerNet
from .sparse_coding import SparseCodingModel
from .validation import require_array, require_choice, require_int, require_real

NORMS = ("l2", "linf")
METHODS = ("auto", "exact", "mc")
QUANTITIES = ("clean_error", "robust_error", "logistic_loss", "adversarial_logistic_loss")
ENUMERATION_D = 12  # full enumeration (3^d atoms) for clean quantities of arbitrary nets
ALIGN_RTOL = 1e-10  # off-feature loadings below this (relative) make a node "reads one feature"
PGD_DEFAULTS = {"steps": 50, "restarts": 4}
_BLOCK = 1 << 21  # elements per batch (samples x d) in Monte Carlo and atom blocks
_LOG2 = float(np.log(2.0))


class ExactUnavailable(ValueError):
    """No exact method exists for this (net, model, quantity); the message says why."""


# --------------------------------------------------------------------------- public API


def clean_error(net, model, wstar, *, method: str = "auto", samples: int = 200_000, seed: int = 0,
                level: float = 0.99, tol: float = 1e-12) -> Estimate:
    """``P(y f(x) <= 0)`` with ``y = sign(<w*, z>)`` (a tie ``y = 0`` is an error)."""
    return _estimate(_spec(net, model, wstar, 0.0, "l2", False, False), method, samples, seed, level, None, tol)


def robust_error(net, model, wstar, eps: float, norm: str = "l2", *, method: str = "auto",
                 samples: int = 200_000, seed: int = 0, level: float = 0.99, pgd: dict | None = None,
                 tol: float = 1e-12) -> Estimate:
    """``P(min_{||delta||_norm <= eps} y f(x + delta) <= 0)``; ``pgd``: overrides of ``PGD_DEFAULTS``."""
    return _estimate(_spec(net, model, wstar, eps, norm, True, False), method, samples, seed, level, pgd, tol)


def logistic_loss(net, model, wstar, *, method: str = "auto", samples: int = 200_000, seed: int = 0,
                  level: float = 0.99, tol: float = 1e-12) -> Estimate:
    """``E log(1 + exp(-y f(x)))`` (``log 2`` on ties ``y = 0``)."""
    return _estimate(_spec(net, model, wstar, 0.0, "l2", False, True), method, samples, seed, level, None, tol)


def adversarial_logistic_loss(net, model, wstar, eps: float, norm: str = "l2", *, method: str = "auto",
                              samples: int = 200_000, seed: int = 0, level: float = 0.99,
                              pgd: dict | None = None, tol: float = 1e-12) -> Estimate:
    """``E max_{||delta|| <= eps} log(1 + exp(-y f(x + delta)))`` = the loss at the worst-case margin."""
    return _estimate(_spec(net, model, wstar, eps, norm, True, True), method, samples, seed, level, pgd, tol)


def risk(quantity: str, net, model, wstar, eps: float = 0.0, norm: str = "l2", *, method: str = "auto",
         samples: int = 200_000, seed: int = 0, level: float = 0.99, pgd: dict | None = None,
         tol: float = 1e-12) -> Estimate:
    """Dispatch by name: ``quantity`` in ``QUANTITIES`` (``eps``/``norm`` ignored by the clean ones)."""
    require_choice("quantity", quantity, QUANTITIES)
    robust, loss = "robust" in quantity or "adversarial" in quantity, "loss" in quantity
    return _estimate(_spec(net, model, wstar, eps if robust else 0.0, norm, robust, loss),
                     method, samples, seed, level, pgd, tol)


def exact_available(quantity: str, net, model, wstar, eps: float = 0.0, norm: str = "l2") -> tuple[bool, str]:
    """Whether an exact method applies (structurally: atoms may still turn out too many), and why."""
    require_choice("quantity", quantity, QUANTITIES)
    robust, loss = "robust" in quantity or "adversarial" in quantity, "loss" in quantity
    spec = _spec(net, model, wstar, eps if robust else 0.0, norm, robust, loss)
    plan = _plan(spec)
    return (isinstance(plan, tuple), plan[0] if isinstance(plan, tuple) else plan)


def paired_risk_difference(net_a, net_b, model, wstar, quantity: str = "robust_error", eps: float = 0.0,
                           norm: str = "l2", *, method: str = "auto", samples: int = 200_000, seed: int = 0,
                           level: float = 0.99, pgd: dict | None = None, tol: float = 1e-12) -> Estimate:
    """``risk(net_a) - risk(net_b)`` for one of ``QUANTITIES``.

    Exact (difference of exact values; the interval adds both slacks) when both are
    exact, else Monte Carlo on common random numbers (the same samples and, for general
    nets, the same attack seeds) with a paired t-interval; a ``bound`` when either side
    needs PGD/certificates: lower from ``attack_a - certified_b``, upper from
    ``certified_a - attack_b`` per sample.
    """
    require_choice("quantity", quantity, QUANTITIES)
    robust, loss = "robust" in quantity or "adversarial" in quantity, "loss" in quantity
    spec_a = _spec(net_a, model, wstar, eps if robust else 0.0, norm, robust, loss, name="net_a")
    spec_b = _spec(net_b, model, wstar, eps if robust else 0.0, norm, robust, loss, name="net_b")
    method = require_choice("method", method, METHODS)
    samples, seed, level, pgd, tol = _common_args(samples, seed, level, pgd, tol)
    if method != "mc":
        try:
            ea, eb = _exact(spec_a, tol), _exact(spec_b, tol)
            return Estimate(ea.value - eb.value, ea.lower - eb.upper, ea.upper - eb.lower, "exact",
                            details={"a": ea.to_dict(), "b": eb.to_dict()})
        except ExactUnavailable as exc:
            if method == "exact":
                raise ValueError(f"method='exact' is not available: {exc}") from None
    ra, rb = _mc_margins(spec_a, samples, seed, pgd), _mc_margins(spec_b, samples, seed, pgd)
    va_att, va_cert = _values(spec_a, ra)
    vb_att, vb_cert = _values(spec_b, rb)
    if ra.exact and rb.exact:
        return paired_difference(va_att, vb_att, level, quantity=quantity)
    lo = mean(va_att - vb_cert, level)
    hi = mean(va_cert - vb_att, level)
    value = float(np.mean(va_att - vb_att))
    return Estimate(value, min(lo.lower, value), max(hi.upper, value), "bound", level=level, n=samples,
                    details={"quantity": quantity, "paired": True, "attack_difference": value,
                             "lower_mean": lo.value, "upper_mean": hi.value})


# --------------------------------------------------------------------------- specification


@dataclass(frozen=True)
class _Spec:
    net: TwoLayerNet
    model: SparseCodingModel
    wstar: np.ndarray
    eps: float
    norm: str
    robust: bool  # worst case over the ball (eps > 0) or clean
    loss: bool  # logistic loss (True) or 0-1 error (False)


def _spec(net, model, wstar, eps, norm, robust, loss, name="net") -> _Spec:
    if not isinstance(net, TwoLayerNet):
        if hasattr(net, "to_net"):  # a TorchTwoLayer
            net = net.to_net()
        else:
            raise ValueError(f"{name} must be a TwoLayerNet, got {type(net).__name__}")
    if isinstance(model, ModelConfig):
        model = SparseCodingModel(model)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a SparseCodingModel or a ModelConfig, got {type(model).__name__}")
    d = model.d
    if net.d != d:
        raise ValueError(f"{name} must have input dimension d={d} (the model's), got {net.d}")
    w = require_array("wstar", wstar, shape=(d,))
    if not np.any(w != 0):
        raise ValueError("wstar must be non-zero")
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    return _Spec(net, model, w, eps, norm, bool(robust and eps > 0), loss)


def _common_args(samples, seed, level, pgd, tol):
    samples = require_int("samples", samples, low=2)
    seed = require_int("seed", seed, low=0)
    level = require_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    tol = require_real("tol", tol, low=0.0, high=1e-3)
    opts = dict(PGD_DEFAULTS)
    if pgd is not None:
        if not isinstance(pgd, dict) or not set(pgd) <= {"steps", "restarts", "step_size", "zero_start"}:
            raise ValueError(f"pgd must be a dict with keys among steps, restarts, step_size, zero_start, got {pgd!r}")
        opts.update(pgd)
    return samples, seed, level, opts, tol


def _estimate(spec: _Spec, method, samples, seed, level, pgd, tol) -> Estimate:
    method = require_choice("method", method, METHODS)
    samples, seed, level, pgd, tol = _common_args(samples, seed, level, pgd, tol)
    if method != "mc":
        try:
            return _exact(spec, tol)
        except ExactUnavailable as exc:
            if method == "exact":
                raise ValueError(f"method='exact' is not available: {exc}") from None
    res = _mc_margins(spec, samples, seed, pgd)
    att, cert = _values(spec, res)
    stat = mean if spec.loss else proportion
    if res.exact:
        return stat(att, level, how=res.how)
    lo, hi = stat(att, level), stat(cert, level)
    return Estimate(lo.value, lo.lower, max(hi.upper, lo.value), "bound", level=level, n=samples,
                    details={"how": res.how, "attack": lo.value, "certified": hi.value, "pgd": pgd})


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class FeatureForm:
    """``f(x) = sum_i coef_i soft(<M_i, x>, thr_i) + c``: a soft-threshold net whose nodes each read one feature."""

    coef: np.ndarray  # (d,) 0 for features no node reads
    thr: np.ndarray  # (d,)
    c: float
    off_loading: float  # largest ignored off-feature loading, relative to the node's main loading


def feature_form(net: TwoLayerNet, M: np.ndarray, rtol: float = ALIGN_RTOL) -> FeatureForm | None:
    """The per-feature form of ``net`` when every node with ``a_j != 0`` reads one feature, else ``None``.

    Node j with ``W_j = w_j M_i`` computes ``a_j soft(w_j <M_i, x>, b_j) = a_j w_j soft(<M_i, x>, b_j/|w_j|)``
    (the soft threshold is odd and ``soft(w t, b) = w soft(t, b/|w|)``), so
    ``coef_i = a_j w_j`` and ``thr_i = b_j / |w_j|``; two nodes may not read the same feature.
    """
    if net.activation != "soft_threshold":
        return None
    d = net.d
    if net.W.shape == (d, d) and np.array_equal(net.W, M.T):  # the pure layer: skip the d^3 product
        return FeatureForm(net.a.copy(), net.b.copy(), net.c, 0.0)
    live = (net.a != 0) & np.any(net.W != 0, axis=1)
    C = net.W[live] @ M  # loadings of each live node on the features
    coef, thr = np.zeros(d), np.zeros(d)
    if C.shape[0] == 0:
        return FeatureForm(coef, thr, net.c, 0.0)
    main = np.argmax(np.abs(C), axis=1)
    w = C[np.arange(C.shape[0]), main]
    off = np.abs(C).copy()
    off[np.arange(C.shape[0]), main] = 0.0
    rel = float(np.max(off.max(axis=1) / np.abs(w)))
    if rel > rtol or np.unique(main).size != main.size:
        return None
    coef[main] = net.a[live] * w
    thr[main] = net.b[live] / np.abs(w)
    return FeatureForm(coef, thr, net.c, rel)


def _signed_permutation(M: np.ndarray) -> bool:
    A = np.abs(M)
    return bool(np.all((A == 0) | (A == 1)) and np.all(A.sum(axis=0) == 1) and np.all(A.sum(axis=1) == 1))


def _plan(spec: _Spec):
    """``(kind, info)`` of the exact method for ``spec``, or a string saying why there is none."""
    cfg = spec.model.config
    if not cfg.point_mass:
        return "the magnitude law is not a point mass (exact laws need z on {-r, 0, r}^d)"
    if spec.net.is_linear():
        return ("linear", None)
    if cfg.sigma > 0:
        return "sigma > 0 and the net is not linear (the noise makes the margin non-Gaussian)"
    ff = feature_form(spec.net, spec.model.M)
    if ff is not None:
        if not spec.robust or spec.norm == "l2":
            return ("feature", ff)
        if _signed_permutation(spec.model.M):
            return ("feature", ff)
    if not spec.robust and cfg.d <= ENUMERATION_D:
        return ("enumeration", None)
    if spec.robust:
        if ff is not None:
            return "l_inf worst case of a feature-aligned net needs a signed-permutation (identity) dictionary"
        return "no exact worst case for this net (not linear, not feature-aligned)"
    return f"the net is neither linear nor feature-aligned and d = {cfg.d} > {ENUMERATION_D} (enumeration limit)"


# --------------------------------------------------------------------------- exact engine


def _exact(spec: _Spec, tol: float) -> Estimate:
    plan = _plan(spec)
    if isinstance(plan, str):
        raise ExactUnavailable(plan)
    kind, ff = plan
    cfg = spec.model.config
    r = point_mass_value(cfg.magnitude)
    if kind == "enumeration":
        return _accumulate(spec, enumerate_atoms(cfg.d, cfg.p, cfg.magnitude, max_d=ENUMERATION_D),
                           _generic_margins(spec), 0.0, "enumeration")
    if kind == "linear":
        v, c = spec.net.linear_part()
        u = spec.model.M.T @ v
        D = float(dual_norm(v, spec.norm)) if spec.robust else 0.0
        s = cfg.sigma * float(np.linalg.norm(v)) / np.sqrt(cfg.d)
        atoms = _atoms(spec, odd=(u,), even=(), tol=tol)
        bound = _LOG2 + r * np.abs(u).sum() + abs(c) + spec.eps * D + 0.8 * s
        return _accumulate(spec, atoms.restrict(0), _linear_margins(spec, u, c, D, s), bound, "linear")
    # feature-aligned soft-threshold net, sigma = 0
    atoms = _atoms(spec, odd=(ff.coef,), even=(ff.thr,), tol=tol)
    D = float(dual_norm(ff.coef, spec.norm)) if spec.robust else 0.0
    bound = _LOG2 + r * np.abs(ff.coef).sum() + abs(ff.c) + spec.eps * D
    if spec.robust and spec.norm == "l2":
        atoms = atoms.restrict(_inactive_needed(atoms, ff.thr, spec.eps))
    else:
        atoms = atoms.restrict(0)
    try:
        return _accumulate(spec, atoms, _feature_margins(spec, ff), bound, "feature", off_loading=ff.off_loading)
    except ValueError as exc:  # the exact l2 attack refuses inputs needing too many candidates
        if "max_candidates" not in str(exc):
            raise
        raise ExactUnavailable(f"the exact l2 attack needs too many candidates ({exc})") from None


def _atoms(spec: _Spec, odd, even, tol: float) -> Atoms:
    cfg = spec.model.config
    try:
        return grouped_atoms(spec.wstar, cfg.p, cfg.magnitude, odd=odd, even=even, tol=tol)
    except ValueError as exc:
        if "max_atoms" not in str(exc):
            raise
        if cfg.d <= ENUMERATION_D:
            return enumerate_atoms(cfg.d, cfg.p, cfg.magnitude, max_d=ENUMERATION_D)
        raise ExactUnavailable(f"the grouped law needs too many atoms ({exc})") from None


def _inactive_needed(atoms: Atoms, thr: np.ndarray, eps: float) -> np.ndarray | None:
    """Per group, how many inactive features an optimal l2 attack can use: ``floor(eps^2 / thr_g^2)``."""
    groups = atoms.group_of_feature
    if groups is None:
        return None
    G = int(groups.max()) + 1
    t = np.zeros(G)
    t[groups] = thr  # thr is constant on groups (it is a grouping key)
    with np.errstate(divide="ignore"):
        need = np.where(t > 0, np.floor(eps**2 / np.maximum(t, 1e-300) ** 2), np.inf)
    return np.minimum(need, atoms.d).astype(np.int64)


def _accumulate(spec: _Spec, atoms: Atoms, margins, bound: float, how: str, **details) -> Estimate:
    """Sum ``P * value`` over atom blocks; the interval adds truncation and quadrature errors."""
    total, quad_err = 0.0, 0.0
    for rows, Z in atoms.blocks(_BLOCK):
        P = atoms.P[rows]
        vals, errs = margins(atoms, Z)
        total += float(P @ vals)
        quad_err += float(P @ errs)
    vmax = bound if spec.loss else 1.0
    rounding = 4 * np.finfo(float).eps * atoms.n * max(1.0, abs(total))
    upper = total + atoms.truncated_mass * vmax + quad_err + rounding
    lower = max(0.0, total - quad_err - rounding) if not spec.loss else total - quad_err - rounding
    if not spec.loss:
        upper = min(1.0, upper)
    return Estimate(total, min(lower, total), max(upper, total), "exact",
                    details={"how": how, "atoms": atoms.n, "atom_law": atoms.method,
                             "truncated_mass": atoms.truncated_mass, "quadrature_error": quad_err, **details})


def _labels(atoms: Atoms, Z: np.ndarray, wstar: np.ndarray) -> np.ndarray:
    w = wstar[atoms.columns]
    return tie_sign(Z @ w, np.abs(Z) @ np.abs(w))


def _linear_margins(spec: _Spec, u: np.ndarray, c: float, D: float, s: float):
    def fn(atoms: Atoms, Z: np.ndarray):
        uc = u[atoms.columns]
        y = _labels(atoms, Z, spec.wstar)
        m = y * (Z @ uc + c) - np.abs(y) * spec.eps * D
        scale = np.abs(Z) @ np.abs(uc) + abs(c) + spec.eps * D
        m[np.abs(m) <= TIE_RTOL * scale] = 0.0
        tie = y == 0  # margin 0 whatever the noise: an error, loss log 2
        if spec.loss:
            vals, errs = gaussian_logistic(m, np.where(tie, 0.0, s))
            return vals, errs
        return gaussian_error(m, np.where(tie, 0.0, s)), np.zeros(m.size)

    return fn


def _feature_margins(spec: _Spec, ff: FeatureForm):
    def fn(atoms: Atoms, Z: np.ndarray):
        cols = atoms.columns
        coef, thr = ff.coef[cols], ff.thr[cols]
        y = _labels(atoms, Z, spec.wstar)
        if not spec.robust:
            m = y * (soft_threshold(Z, thr) @ coef + ff.c)
            scale = (np.abs(Z) + thr) @ np.abs(coef) + abs(ff.c)
        elif spec.norm == "l2":
            m = np.zeros(len(Z))
            nz = y != 0
            m[nz] = pure_l2_margins(coef, y[nz, None] * Z[nz], thr, spec.eps) + y[nz] * ff.c
            scale = (np.abs(Z) + thr + spec.eps) @ np.abs(coef) + abs(ff.c)
        else:
            m = box_margins(ff.coef, ff.thr, y[:, None] * Z, cols, spec.eps) + y * ff.c
            m[y == 0] = 0.0
            scale = (np.abs(Z) + thr + spec.eps) @ np.abs(coef) + np.abs(ff.coef).sum() * spec.eps + abs(ff.c)
        return _margin_values(spec, m, scale), np.zeros(len(Z))

    return fn


def _generic_margins(spec: _Spec):
    net, M = spec.net, spec.model.M

    def fn(atoms: Atoms, Z: np.ndarray):
        y = _labels(atoms, Z, spec.wstar)
        m, scale = _clean_margin(net, Z @ M[:, atoms.columns].T, y)
        return _margin_values(spec, m, scale), np.zeros(len(Z))

    return fn


def _margin_values(spec: _Spec, m: np.ndarray, scale: np.ndarray) -> np.ndarray:
    m = np.where(np.abs(m) <= TIE_RTOL * scale, 0.0, m)
    return softplus(-m) if spec.loss else is_error(m, scale).astype(np.float64)


def _clean_margin(net: TwoLayerNet, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y f(x)`` and its tie scale ``sum_j |a_j| (|t_j| + |b_j|) + |c|``."""
    t = x @ net.W.T
    f = activate(net.activation, t, net.b) @ net.a + net.c
    scale = (np.abs(t) + np.abs(net.b)) @ np.abs(net.a) + abs(net.c)
    return y * f, scale


def pure_l2_margins(coef: np.ndarray, V: np.ndarray, thr: np.ndarray, eps: float) -> np.ndarray:
    """``min_{||u||_2 <= eps} sum_i coef_i soft(V_i + u_i, thr_i)`` per row (exact; features with coef 0 dropped)."""
    keep = coef != 0
    if not np.any(keep):
        return np.zeros(len(V))
    out = np.empty(len(V))
    Vk, ck, tk = V[:, keep], coef[keep], thr[keep]
    step = max(1, _BLOCK // Vk.shape[1])
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


# --------------------------------------------------------------------------- Monte Carlo engine


@dataclass
class _MCMargins:
    attack: np.ndarray  # (n,) >= true worst-case margin (equal when exact)
    certified: np.ndarray  # (n,) <= true worst-case margin
    scale: np.ndarray  # (n,) tie scale
    exact: bool
    how: str


def _mc_margins(spec: _Spec, samples: int, seed: int, pgd: dict) -> _MCMargins:
    net, model, cfg = spec.net, spec.model, spec.model.config
    rng = np.random.default_rng(seed)
    batch = max(1, _BLOCK // cfg.d)
    att, cert, scale = np.empty(samples), np.empty(samples), np.empty(samples)
    ff = feature_form(net, model.M) if spec.robust and not net.is_linear() else None
    if not spec.robust:
        how, exact = "clean margin", True
    elif net.is_linear():
        how, exact = "dual norm (exact per sample)", True
    elif ff is not None and (spec.norm == "l2" or _signed_permutation(model.M)):
        how, exact = f"exact {spec.norm} attack of a feature-aligned net", True
    else:
        how, exact = "pgd and certified bound", False
    exact_attack = exact
    for k, start in enumerate(range(0, samples, batch)):
        n = min(batch, samples - start)
        smp = model.sample(n, rng)
        sl = slice(start, start + n)
        y = tie_sign(smp.z @ spec.wstar, np.abs(smp.z) @ np.abs(spec.wstar))
        m, sc = _clean_margin(net, smp.x, y)
        if not spec.robust:
            att[sl], cert[sl], scale[sl] = m, m, sc
            continue
        nz = y != 0
        if net.is_linear():
            v, c = net.linear_part()
            D = float(dual_norm(v, spec.norm))
            worst = m - np.abs(y) * spec.eps * D
            att[sl], cert[sl], scale[sl] = worst, worst, sc + spec.eps * D
        elif exact_attack:
            V = smp.x @ model.M  # feature coordinates (noise included)
            worst = np.zeros(n)
            scale[sl] = sc + spec.eps * float(dual_norm(ff.coef, spec.norm))
            try:
                if spec.norm == "l2":
                    worst[nz] = pure_l2_margins(ff.coef, y[nz, None] * V[nz], ff.thr, spec.eps) + y[nz] * ff.c
                else:
                    worst[nz] = box_margins(ff.coef, ff.thr, y[nz, None] * V[nz], np.arange(cfg.d), spec.eps) \
                        + y[nz] * ff.c
                att[sl], cert[sl] = worst, worst
            except ValueError as exc:  # the exact l2 attack is exponential on general inputs
                if "max_candidates" not in str(exc):
                    raise
                att[sl], cert[sl] = _attack_and_certificate(spec, smp.x, y, m, seed + k, pgd)
                if exact:
                    exact, how = False, how + " (pgd and certified bound where it needs too many candidates)"
        else:
            att[sl], cert[sl] = _attack_and_certificate(spec, smp.x, y, m, seed + k, pgd)
            gain = float(np.sum(np.abs(net.a) * dual_norm(net.W, spec.norm)))
            scale[sl] = sc + spec.eps * gain
    return _MCMargins(att, cert, scale, exact, how)


def _attack_and_certificate(spec: _Spec, x: np.ndarray, y: np.ndarray, clean: np.ndarray, seed: int,
                            pgd: dict) -> tuple[np.ndarray, np.ndarray]:
    """PGD margins (>= the worst case) and certified margins (<= it); ties ``y = 0`` keep margin 0."""
    # imported here: they import torch, which exact and linear work never needs
    from .attacks.certified import certified_min_margin
    from .attacks.pgd import pgd_min_margin

    nz = y != 0
    a_m, c_m = np.zeros(len(y)), np.zeros(len(y))
    if np.any(nz):
        a_m[nz] = pgd_min_margin(spec.net, x[nz], y[nz], spec.eps, spec.norm, seed=seed, **pgd)
        c_m[nz] = certified_min_margin(spec.net, x[nz], y[nz], spec.eps, spec.norm)
    # delta = 0 is feasible, so the worst case is at most the clean margin; keep cert <= attack
    a_m = np.minimum(a_m, clean)
    return a_m, np.minimum(c_m, a_m)


def _values(spec: _Spec, res: _MCMargins) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample values at the attack margin and at the certified margin (error indicators or losses)."""
    return _margin_values(spec, res.attack, res.scale), _margin_values(spec, res.certified, res.scale)
