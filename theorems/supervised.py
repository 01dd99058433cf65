"""Population quantities for P1 and P2 (supervised pre-training), built on the exact engines.

P1 works on the exact law of z (full enumeration, sigma = 0, unit magnitudes, identity
dictionary: l2 quantities do not depend on the dictionary). The adversarial margin is exact
at t = 0 (pure net, exact l2 attack) and a PGD upper bound for t > 0, so the adversarial loss
there is a lower bound: a rise it shows is real. The optimisation over (b, lambda) uses that
the net is homogeneous in lambda (margins scale with lambda), so lambda is a 1-D convex
problem per b and b a 1-D profile (grid, then bounded Brent). Every constant of the
optimisation (lambda's and b's ranges, the b grid, PGD steps and restarts, the PGD seed) is
an argument: P1's parameters (theorems/catalogue/supervised.py) set them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import optimize

from numerics import ModelConfig, PointMass, SparseCodingModel, linear_net, mixed_net, mixing_path, pure_net, random_skew
from numerics.attacks.certified import certified_min_margin
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import pure_l2_min_margin
from numerics.estimates import Estimate
from numerics.exact_law import enumerate_atoms, tie_sign
from numerics.risk import clean_error, robust_error

LAMBDA_MAX = 5.0  # defaults of the optimisation's ranges (A3); P1 passes its own
B_MAX = 0.9


@dataclass(frozen=True)
class Lattice:
    """The exact law of z for P1: atoms Z with probabilities P and labels y (ties y = 0)."""

    Z: np.ndarray
    P: np.ndarray
    y: np.ndarray
    w: np.ndarray


@cache
def lattice(d: int, p: float) -> Lattice:
    atoms = enumerate_atoms(d, p, PointMass(1.0))
    w = np.ones(d) / np.sqrt(d)
    val, scale = atoms.linear_form(w)
    y = tie_sign(val, scale)
    return Lattice(atoms.dense(), atoms.P, y.astype(np.float64), w)


def unit_margins(lat: Lattice, Q: np.ndarray | None, b: float, eps: float, *, restarts: int, seed: int,
                 steps: int = 40) -> tuple[np.ndarray, np.ndarray, str]:
    """Worst-case margins of the lambda = 1 net (pure if Q is None) on every atom, as (attack, certificate).

    The attack's margins are >= the true worst case and the certificate's are <= it; they
    coincide where the worst case is exact (pure net, or eps = 0).
    """
    labelled = lat.y != 0
    hi = np.zeros(lat.y.size)  # ties: margin 0 whatever the net
    lo = np.zeros(lat.y.size)
    Zl, yl = lat.Z[labelled], lat.y[labelled]
    if Q is None:
        coef = yl[:, None] * lat.w[None, :]
        hi[labelled] = lo[labelled] = pure_l2_min_margin(coef, Zl, b, eps).margin
        return hi, lo, "exact"
    net = mixed_net(np.eye(lat.w.size), lat.w, Q, b, 1.0)
    if eps == 0:
        hi[labelled] = lo[labelled] = yl * net(Zl)
        return hi, lo, "exact"
    hi[labelled] = pgd_min_margin(net, Zl, yl, eps, norm="l2", steps=steps, restarts=restarts, seed=seed)
    lo[labelled] = certified_min_margin(net, Zl, yl, eps, norm="l2")
    return hi, lo, f"pgd(steps={steps}, restarts={restarts}) / certified"


def loss_at(P: np.ndarray, margins: np.ndarray, lam_max: float = LAMBDA_MAX) -> tuple[float, float]:
    """min over lambda in [0, lam_max] of sum P log(1 + exp(-lambda m)) (convex in lambda)."""
    f = lambda lam: float(P @ np.logaddexp(0.0, -lam * margins))  # noqa: E731
    r = optimize.minimize_scalar(f, bounds=(0.0, lam_max), method="bounded", options={"xatol": 1e-9})
    return float(r.fun), float(r.x)


def optimal_loss(lat: Lattice, Q: np.ndarray | None, eps: float, *, restarts: int, seed: int = 0,
                 b_fixed: float | None = None, grid: int = 7, steps: int = 40, lam_max: float = LAMBDA_MAX,
                 b_max: float = B_MAX) -> Estimate:
    """min over (b, lambda) of the (adversarial) logistic loss, as an interval (method 'optimisation').

    lower: the minimum over (b, lambda) of the loss under the attack's margins (a lower bound
    on every net's adversarial loss, so on the optimum, given the optimiser converged);
    upper: the certified loss at the attack's minimiser (the loss of one net, so >= the optimum).
    """
    seen: dict[float, tuple] = {}

    def profile(b: float) -> float:
        if b not in seen:
            hi, lo, how = unit_margins(lat, Q, b, eps, restarts=restarts, seed=seed, steps=steps)
            val, lam = loss_at(lat.P, hi, lam_max)
            seen[b] = (val, lam, lo, how)
        return seen[b][0]

    if b_fixed is not None:
        profile(float(b_fixed))
        b_star, converged, nfev = float(b_fixed), True, 1
    else:
        bs = np.linspace(0.0, b_max, grid)
        vals = [profile(float(b)) for b in bs]
        i = int(np.argmin(vals))
        lo_b, hi_b = bs[max(i - 1, 0)], bs[min(i + 1, grid - 1)]
        r = optimize.minimize_scalar(profile, bounds=(lo_b, hi_b), method="bounded", options={"xatol": 1e-3})
        b_star = float(r.x) if r.fun <= vals[i] else float(bs[i])
        converged, nfev = bool(r.success), int(r.nfev) + grid
    val, lam, lo_margins, how = seen[b_star]
    upper = float(lat.P @ np.logaddexp(0.0, -lam * lo_margins))
    return Estimate(val, val, max(val, upper), "optimisation",
                    details={"converged": converged, "b": b_star, "lambda": lam, "evaluations": nfev,
                             "attack": how, "lambda_max": lam_max,
                             "b_range": [0.0, b_max] if b_fixed is None else [b_fixed, b_fixed]})


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a - b for two optimisation intervals: [a.lower - b.upper, a.upper - b.lower]; converged when both are."""
    return Estimate(a.value - b.value, a.lower - b.upper, a.upper - b.lower, "optimisation",
                    details={"converged": a.details["converged"] and b.details["converged"],
                             "minuend": a.details, "subtrahend": b.details})


@dataclass(frozen=True)
class P1Setting:
    """Everything one P1 optimisation depends on (hashable: results are cached on it)."""

    d: int
    k: float
    eps: float
    b_fixed: float | None  # None: b optimised over [0, b_max]
    restarts: int
    steps: int
    seed: int
    lam_max: float
    b_max: float
    grid: int

    @property
    def p(self) -> float:
        return min(1.0, self.k / self.d)


def p1_loss(s: P1Setting, mixing_seed: int | None, t: float) -> Estimate:
    """The optimal loss of P1 at the mixing Q(t) = expm(tA) (A from ``mixing_seed``; t = 0 or None: the pure net)."""
    if mixing_seed is None or t == 0:
        return _p1_loss(s, None, 0.0)
    return _p1_loss(s, int(mixing_seed), float(t))


@cache
def _p1_loss(s: P1Setting, mixing_seed: int | None, t: float) -> Estimate:
    Q = None if mixing_seed is None else mixing_path(random_skew(s.d, mixing_seed), t)
    return optimal_loss(lattice(s.d, s.p), Q, s.eps, restarts=s.restarts, seed=s.seed, b_fixed=s.b_fixed,
                        grid=s.grid, steps=s.steps, lam_max=s.lam_max, b_max=s.b_max)


def p1_rise(s: P1Setting, mixing_seed: int, t: float) -> Estimate:
    """Rise of the optimal loss from the pure net to Q(t): an interval, converged when both optima are."""
    return difference(p1_loss(s, mixing_seed, t), p1_loss(s, None, 0.0))


# ------------------------------------------------------------------ P2
def critical_radius(net, model: SparseCodingModel, w: np.ndarray, level: float, hi: float, *, iters: int = 14,
                    norm: str = "l2") -> tuple[float, float]:
    """Smallest eps with exact robust error >= level (bisection on a monotone function), and the half-width."""
    lo = 0.0
    for _ in range(60):  # grow the bracket until the net is broken at hi
        if robust_error(net, model, w, hi, norm=norm, method="exact").value >= level:
            break
        lo, hi = hi, hi * 2
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if robust_error(net, model, w, mid, norm=norm, method="exact").value >= level:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi), 0.5 * (hi - lo)


@cache
def p2_dimension(d: int, k: float, b: float, *, dictionary: str = "identity", iters: int = 14, norm: str = "l2") -> dict:
    """Exact clean errors and critical radii (``norm`` attack) of the linear and the pure net at dimension d.

    The linear net's radius starts its bracket at its order, 1/sqrt(d) in l2 and 1/d in l_inf
    (||w*||_1 = sqrt(d) for the uniform w*); the bracket grows until the net is broken, so the
    start only saves evaluations.
    """
    model = SparseCodingModel(ModelConfig(d=d, p=min(1.0, k / d), sigma=0.0, dictionary=dictionary))
    w = np.ones(d) / np.sqrt(d)
    lin = linear_net(model.M, w)
    pure = pure_net(model.M, w, b)
    ce_lin = clean_error(lin, model, w, method="exact")
    ce_pure = clean_error(pure, model, w, method="exact")
    # Breaking half of what the clean net gets right: a level both nets share (A4).
    level = ce_lin.value + 0.5 * (1.0 - ce_lin.value)
    r_lin, h_lin = critical_radius(lin, model, w, level, hi=1.0 / (np.sqrt(d) if norm == "l2" else d), iters=iters,
                                   norm=norm)
    r_pure, h_pure = critical_radius(pure, model, w, level, hi=max(0.05, b), iters=iters, norm=norm)
    return {"d": d, "k": k, "b": b, "clean_error_linear": ce_lin, "clean_error_pure": ce_pure, "level": level,
            "eps_c_linear": r_lin, "eps_c_linear_halfwidth": h_lin, "eps_c_pure": r_pure,
            "eps_c_pure_halfwidth": h_pure, "ratio": r_pure / r_lin, "sqrt_d_over_k": float(np.sqrt(d / k))}


def robust_curve(net, model, w, eps_grid, norm: str = "l2") -> list[Estimate]:
    return [robust_error(net, model, w, float(e), norm=norm, method="exact") for e in eps_grid]
