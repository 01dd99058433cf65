"""The exact engine: population risks as finite sums over the atoms of z (:mod:`numerics.exact_law`).

``plan(spec)`` says which exact method applies (or why none does); ``exact_estimate(spec, tol)`` computes
it. Methods: ``linear`` (any sigma, any dictionary, l2 and l_inf: the margin given z is Gaussian),
``feature`` (feature-aligned soft-threshold nets, sigma = 0: clean; l2 through the exact attack;
l_inf when the dictionary is a signed permutation), ``enumeration`` (clean quantities of any net
or torch module, sigma = 0, d <= ENUMERATION_D).
"""
from __future__ import annotations

import numpy as np

from ..activations import soft_threshold
from ..attacks.linear import dual_norm
from ..errors import ExactUnavailable, TooManyAtoms
from ..estimates import Estimate
from ..exact_law import Atoms, enumerate_atoms, gaussian_error, gaussian_logistic, grouped_atoms, point_mass_value, softplus
from ..sparse_coding import TIE_RTOL, is_error, tie_sign
from .margins import BLOCK, box_margins, clean_margin, module_scores, pure_l2_margins
from .spec import Spec
from .structure import FeatureForm, feature_form, signed_permutation

ENUMERATION_D = 12  # full enumeration (3^d atoms) for clean quantities of arbitrary nets
_LOG2 = float(np.log(2.0))


def plan(spec: Spec):
    """``(kind, info)`` of the exact method for ``spec``, or a string saying why there is none."""
    cfg = spec.model.config
    if not cfg.point_mass:
        return "the magnitude law is not a point mass (exact laws need z on {-r, 0, r}^d)"
    net = spec.net
    if net is not None and net.is_linear():
        return ("linear", None)
    if cfg.sigma > 0:
        return "sigma > 0 and the net is not linear (the noise makes the margin non-Gaussian)"
    ff = feature_form(net, spec.model.M) if net is not None else None
    if ff is not None:
        if not spec.robust or spec.norm == "l2":
            return ("feature", ff)
        if signed_permutation(spec.model.M):
            return ("feature", ff)
    if not spec.robust and cfg.d <= ENUMERATION_D:
        return ("enumeration", None)
    if spec.robust:
        if ff is not None:
            return "l_inf worst case of a feature-aligned net needs a signed-permutation (identity) dictionary"
        if net is None:
            return f"no exact worst case for an opaque module ({spec.net_how})"
        return "no exact worst case for this net (not linear, not feature-aligned)"
    return f"the net is neither linear nor feature-aligned and d = {cfg.d} > {ENUMERATION_D} (enumeration limit)"


def exact_estimate(spec: Spec, tol: float) -> Estimate:
    """The exact Estimate; raises :class:`ExactUnavailable` (or a subclass) when none applies."""
    p = plan(spec)
    if isinstance(p, str):
        raise ExactUnavailable(p)
    kind, ff = p
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
    # feature-aligned soft-threshold net, sigma = 0 (the exact l2 attack may raise TooManyCandidates)
    atoms = _atoms(spec, odd=(ff.coef,), even=(ff.thr,), tol=tol)
    D = float(dual_norm(ff.coef, spec.norm)) if spec.robust else 0.0
    bound = _LOG2 + r * np.abs(ff.coef).sum() + abs(ff.c) + spec.eps * D
    if spec.robust and spec.norm == "l2":
        atoms = atoms.restrict(_inactive_needed(atoms, ff.thr, spec.eps))
    else:
        atoms = atoms.restrict(0)
    slack = _off_loading_slack(spec, ff, r)
    return _accumulate(spec, atoms, _feature_margins(spec, ff, slack), bound, "feature", off_loading=ff.off_loading,
                       off_loading_slack=slack)


def _off_loading_slack(spec: Spec, ff: FeatureForm, r: float) -> float:
    """A bound on how far the feature form's margin can be from the net's: the off-feature loadings it drops.

    Node j's dropped loadings are at most ``off_loading |w_j|`` each (``feature_form``), so they move its
    pre-activation by at most ``off_loading |w_j| (d r + kappa eps)`` (``|C_off z| <= ||C_off||_2 ||z||_2``
    with ``||z||_2 <= r sqrt(d)``; the attack's part through the orthonormal dictionary with ``kappa = sqrt(d)``
    for l2, ``d`` for l_inf), and the soft threshold is 1-Lipschitz: the margin moves by at most that times
    ``|a_j|``, summed, i.e. ``off_loading sum_i |coef_i| (d r + kappa eps)``.
    """
    if ff.off_loading == 0.0:
        return 0.0
    d = spec.model.config.d
    kappa = (np.sqrt(d) if spec.norm == "l2" else float(d)) if spec.robust else 0.0
    return float(ff.off_loading * np.abs(ff.coef).sum() * (d * r + kappa * spec.eps))


def _atoms(spec: Spec, odd, even, tol: float) -> Atoms:
    cfg = spec.model.config
    try:
        return grouped_atoms(spec.wstar, cfg.p, cfg.magnitude, odd=odd, even=even, tol=tol)
    except TooManyAtoms:
        if cfg.d <= ENUMERATION_D:
            return enumerate_atoms(cfg.d, cfg.p, cfg.magnitude, max_d=ENUMERATION_D)
        raise


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


def _accumulate(spec: Spec, atoms: Atoms, margins, bound: float, how: str, **details) -> Estimate:
    """Sum ``P * value`` over atom blocks; the interval adds truncation and quadrature errors."""
    total, quad_err = 0.0, 0.0
    for rows, Z in atoms.blocks(BLOCK):
        P = atoms.P[rows]
        vals, errs = margins(atoms, Z)
        total += float(P @ vals)
        quad_err += float(P @ errs)
    vmax = bound if spec.loss else 1.0
    rounding = 4 * np.finfo(float).eps * atoms.n * max(1.0, abs(total))
    upper = total + atoms.truncated_mass * vmax + quad_err + rounding
    lower = max(0.0, total - quad_err - rounding) if not spec.loss else total - quad_err - rounding
    if not spec.loss:
        upper = min(1.0, upper)  # a probability: the truncation bound never needs to pass 1
    return Estimate(total, min(lower, total), max(upper, total), "exact",
                    details={"how": how, "atoms": atoms.n, "atom_law": atoms.method,
                             "truncated_mass": atoms.truncated_mass, "quadrature_error": quad_err, **details})


def _labels(atoms: Atoms, Z: np.ndarray, wstar: np.ndarray) -> np.ndarray:
    w = wstar[atoms.columns]
    return tie_sign(Z @ w, np.abs(Z) @ np.abs(w))


def _linear_margins(spec: Spec, u: np.ndarray, c: float, D: float, s: float):
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


def _feature_margins(spec: Spec, ff: FeatureForm, slack: float = 0.0):
    """Per-atom values of the feature form; with ``slack`` > 0 (dropped off-feature loadings, see
    :func:`_off_loading_slack`) an atom whose value could differ anywhere within ``slack`` of its margin gets
    that difference as its error, so the interval holds for the net itself."""
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
        vals = margin_values(spec, m, scale)
        if slack == 0.0:
            return vals, np.zeros(len(Z))
        if spec.loss:  # softplus is 1-Lipschitz
            return vals, np.full(len(Z), slack)
        lo, hi = margin_values(spec, m - slack, scale), margin_values(spec, m + slack, scale)
        return vals, np.abs(hi - lo)

    return fn


def _generic_margins(spec: Spec):
    M = spec.model.M

    def fn(atoms: Atoms, Z: np.ndarray):
        y = _labels(atoms, Z, spec.wstar)
        x = Z @ M[:, atoms.columns].T
        if spec.net is not None:
            m, scale = clean_margin(spec.net, x, y)
        else:  # an opaque module: its own output, no tie tolerance beyond y = 0
            m, scale = y * module_scores(spec.module, x), np.zeros(len(y))
        return margin_values(spec, m, scale), np.zeros(len(Z))

    return fn


def margin_values(spec: Spec, m: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per-sample values at margins ``m``: 0-1 errors (ties and floating zeros count) or logistic losses."""
    m = np.where(np.abs(m) <= TIE_RTOL * scale, 0.0, m)
    return softplus(-m) if spec.loss else is_error(m, scale).astype(np.float64)
