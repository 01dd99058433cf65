"""Complete verification of two-layer nets (issue 13): sound bounds, attacks, branch and bound.

Entry points: :func:`verify` (per-sample decisions with a sound lower bound and a witness),
:func:`relaxation_bound` (a bound alone, no branching). The Monte Carlo robust error over the
per-sample decisions is ``numerics.risk.robust_error(..., method="verified")`` (one implementation;
risk sits above verification in the layering).

Modules: :mod:`.problem` (canonical form, float policy), :mod:`.bounds` (the linear relaxation =
optimised CROWN, and the quadratic Lagrangian, with their optimisers and the exact solution of
fully linear branches), :mod:`.search` (attacks and branch and bound).

Float policy. Everything is float64. (1) Ranges that must contain an exact real range (node
pre-activation radii) are rounded outwards. (2) Every bound is a value computed in float64 minus
a rigorous rounding slack (Higham's ``gamma_k`` times the total size of the terms, with room to
spare: :func:`.problem.float_slack`), including the error of the pre-activations ``W x`` themselves.
(3) The quadratic Lagrangian's matrix ``Q`` is certified positive definite with a margin by a
float Cholesky of a shifted matrix (Rump's criterion), and its inverse enters only through a
strong-convexity bound around the computed minimiser, so an inaccurate solve costs tightness,
never soundness. (4) Witnesses are projected strictly inside the ball and their margin is the
float64 evaluation of the numpy net; "attackable" means that value is ``<= threshold``.
(5) "robust" needs ``lower > threshold``, and a lower bound above a witness's margin by more than
1e-11 of the margin's scale raises :class:`numerics.errors.BoundViolation` (nothing is clamped).
A sample whose worst case equals the threshold up to solver accuracy stays "unknown".
"""
from .bounds import relaxation_bound
from .search import Budget, SearchOptions, Verification, verify

__all__ = ["Budget", "SearchOptions", "Verification", "relaxation_bound", "verify"]
