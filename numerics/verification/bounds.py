"""Sound lower bounds on the worst-case margin of a two-layer net over a box of node ranges.

Notation of :mod:`numerics.verification.problem`: minimise ``offset + sum_j psi_j(s_j)``
over ``||delta||_q <= eps`` with ``s = W delta`` and, in a branch, ``s_j`` in ``[lo_j, hi_j]``.
Two families of bounds, both Lagrangian, both sound for *every* value of their multipliers
(so any optimiser, stopped anywhere, gives a valid bound; the optimiser only tightens it):

Linear relaxation (CROWN / alpha-CROWN / beta-CROWN in one formula). For ``gamma`` in R^m,
since ``psi_j(s) - gamma_j s >= min_{[lo_j, hi_j]} (psi_j - gamma_j .)`` and
``<W^T gamma, delta> >= -eps ||W^T gamma||_{q*}`` on the ball::

    L(gamma) = offset + sum_j min_{s in [lo_j, hi_j]} (psi_j(s) - gamma_j s) - eps ||W^T gamma||_{q*}.

The inner minimum of a piecewise-linear function is attained at a kink or an end, so it is a
minimum over at most 4 points. ``gamma_j = alpha_j lambda_j`` with ``lambda_j`` a relaxation
slope is CROWN; maximising over ``gamma`` is the optimised relaxation (alpha-CROWN): by
conjugate duality its maximum equals the minimum of the convex-hull (triangle) relaxation of
every node, the tightest per-node convex relaxation. Split constraints of a branch enter
through ``[lo_j, hi_j]`` (their multipliers, beta-CROWN's beta, are absorbed into
``gamma_j``); in a branch where every node is linear on its range the maximum is the exact
minimum (a linear objective over ball and slab constraints: strong duality). ``gamma = 0``
gives the interval bound (IBP) exactly, so the optimum is never below IBP.

Quadratic Lagrangian (this module's addition; needed on thresholded nets). The convex hull of
a soft threshold straddling its dead zone ignores that pushing a node through the dead zone
costs radius: on purified nets the linear relaxation is loose by the sum over every inactive
node. Dualise ``||delta||^2 <= eps^2`` (multiplier ``mu > 0``; for l_inf one per coordinate,
``delta_i^2 <= eps^2``) and the redundant equalities ``s_j^2 = <W_j, delta>^2`` (multiplier
``D_j``, any sign): for every feasible delta,

    margin >= offset + sum_j min_{s in [lo_j, hi_j]} (psi_j(s) + D_j s^2 - gamma_j s)
              + min_delta (delta^T Q delta + <W^T gamma, delta>) - eps^2 sum_i mu_i,
    Q = diag(mu) - W^T diag(D) W   (must be positive definite).

Each node's term is a one-dimensional piecewise-quadratic minimum (ends, kinks, and the
clipped stationary point of each piece); the coupling is ``-1/4 v^T Q^{-1} v``. With
``D = 0`` and the best ``mu`` it is the linear relaxation; ``D_j > 0`` charges node j the
radius it uses, which is exact for a pure (orthogonal, one node per feature) net up to one
scalar constraint's duality gap. Rigour: ``Q`` is certified positive definite with margin
``tau`` by a float Cholesky of ``Q - (tau + c) I`` (Rump 2006: ``c`` covers the rounding of the
factorisation), and ``min_delta`` is bounded below by ``f(hat delta) - ||grad f(hat delta)||^2
/ (4 tau')`` for the computed ``hat delta`` (strong convexity), so an inaccurate solve costs
tightness, never soundness. Every other term is lowered by :func:`~.problem.float_slack`.

Optimisers, batched over branches: :func:`optimise` (Adam ascent; the supergradients are
``<W_j, delta*> - s_j*`` for ``gamma_j``, ``s_j*^2 - <W_j, delta*>^2`` for ``D_j`` and
``mu_i (delta*_i^2 - eps^2)`` (summed over i for l2) for ``log mu``, where ``s*`` and
``delta*`` are the minimisers, i.e. the violations of the dualised constraints; a step that
leaves ``Q`` indefinite is undone and the branch's step halved) and :func:`newton` (smoothed,
barrier-guarded Levenberg-Marquardt, for the quadratic family). :func:`solve_leaves` solves
branches where every node is linear exactly with an external solver and certifies them.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from ..validation import require_choice, require_int
from .problem import Problem, float_slack

FAMILIES = ("linear", "quadratic")
_TAU_REL = 1e-3  # certified smallest eigenvalue of Q, relative to mean(mu): bounds its conditioning
_TINY = 1e-300


@dataclass
class Multipliers:
    """Multipliers of a batch of branches (B rows): gamma, D (B, m); rho = log mu (B, 1) or (B, d)."""

    gamma: torch.Tensor
    D: torch.Tensor
    rho: torch.Tensor

    def select(self, rows) -> "Multipliers":
        return Multipliers(*(getattr(self, f.name)[rows] for f in fields(self)))

    def where(self, mask: torch.Tensor, other: "Multipliers") -> "Multipliers":
        """``self`` where mask (B,) holds, else ``other``."""
        return Multipliers(*(torch.where(mask[:, None], getattr(self, f.name), getattr(other, f.name))
                             for f in fields(self)))

    def clone(self) -> "Multipliers":
        return Multipliers(*(getattr(self, f.name).clone() for f in fields(self)))

    @staticmethod
    def cat(parts: list["Multipliers"]) -> "Multipliers":
        return Multipliers(*(torch.cat([getattr(p, f.name) for p in parts]) for f in fields(Multipliers)))


@dataclass
class BoundResult:
    """value (B,) sound lower bound; s (B, m) node minimisers; delta (B, d) the Lagrangian's
    minimiser over delta (a primal candidate, not necessarily in the ball); ok (B,) False where
    the multipliers are infeasible (value = -inf); grads: supergradients (Multipliers)."""

    value: torch.Tensor
    s: torch.Tensor
    delta: torch.Tensor
    ok: torch.Tensor
    grads: Multipliers | None
    nodes: tuple | None = None  # (S, val, curv) of node_candidates
    Q: torch.Tensor | None = None  # (B, d, d) quadratic family only
    coupling: torch.Tensor | None = None  # (B,) the coupling and ball terms (certified)
    L: torch.Tensor | None = None  # (B, d, d) Cholesky factor of the certified shift Q - (tau + c) I


def cut_points(prob: Problem, idx, lo, hi) -> torch.Tensor:
    """(B, m, K + 2): the range ends and the kinks of each node's psi clipped into it, sorted."""
    k = prob.kinks[None] - prob.t[idx][..., None]  # kinks in s-space
    k = torch.minimum(torch.maximum(k, lo[..., None]), hi[..., None])
    return torch.cat([lo[..., None], k, hi[..., None]], dim=-1)


@dataclass
class BranchTerms:
    """What bounding the branches (idx, lo, hi) needs that no multiplier moves: the cut points
    (:func:`cut_points`), psi there, and the sizes behind :func:`node_terms`' rounding bound.

    An optimiser evaluates the same branches at every iterate (about 30 times a branch in the
    search), so it builds these once (:meth:`of`) and selects rows as branches freeze
    (:meth:`select`); evaluations with and without them agree bit for bit.
    """

    cuts: torch.Tensor  # (B, m, K + 2)
    psi_cuts: torch.Tensor  # (B, m, K + 2)
    alpha: torch.Tensor  # (B, m) |alpha_j|
    span: torch.Tensor  # (B, m) |t_j| + |b_j| + |lo_j| + |hi_j|
    t_term: torch.Tensor  # (B, m) |alpha_j| t_err_j

    @staticmethod
    def of(prob: Problem, idx, lo, hi) -> "BranchTerms":
        cuts = cut_points(prob, idx, lo, hi)
        alpha = prob.alpha[idx].abs()
        span = prob.t[idx].abs() + prob.b.abs() + lo.abs() + hi.abs()
        return BranchTerms(cuts, prob.psi(idx, cuts), alpha, span, alpha * prob.t_err[idx])

    def select(self, rows) -> "BranchTerms":
        return BranchTerms(*(getattr(self, f.name)[rows] for f in fields(self)))


def node_candidates(prob: Problem, idx, lo, hi, gamma, D, stationary: bool = True,
                    terms: BranchTerms | None = None):
    """Candidate minimisers of ``psi(s) + D s^2 - gamma s`` on ``[lo, hi]`` per node.

    Returns S (B, m, C) the points (range ends, kinks, the clipped stationary point of each
    piece when D > 0), val (B, m, C) the function there and curv (B, m, C): ``1/(2D)`` at a
    stationary point strictly inside its piece (where the piece's minimum is a smooth concave
    function of (gamma, D) with that curvature), 0 elsewhere (affine in (gamma, D)).
    ``terms``: the branches' :class:`BranchTerms` (built here when not given).
    """
    terms = BranchTerms.of(prob, idx, lo, hi) if terms is None else terms
    cuts = terms.cuts
    if stationary:
        alpha = prob.alpha[idx]
        piece = alpha[..., None] * prob.slopes  # (B, m, K + 1) slope of psi on each piece
        Dp = D[..., None]
        pos = Dp > 0
        st = (gamma[..., None] - piece) / torch.where(pos, 2.0 * Dp, torch.ones_like(Dp))
        st = torch.where(pos, st, cuts[..., :-1])
        left, right = cuts[..., :-1], cuts[..., 1:]
        inside = pos & (st > left) & (st < right)
        st = torch.minimum(torch.maximum(st, left), right)
        S = torch.cat([cuts, st], dim=-1)
        cst = torch.where(inside, 0.5 / torch.where(pos, Dp, torch.ones_like(Dp)), torch.zeros_like(st))
        curv = torch.cat([torch.zeros_like(cuts), cst], dim=-1)
        psi = torch.cat([terms.psi_cuts, prob.psi(idx, st)], dim=-1)  # psi is elementwise in s
    else:
        S, curv, psi = cuts, torch.zeros_like(cuts), terms.psi_cuts
    val = psi + (D[..., None] * S - gamma[..., None]) * S
    return S, val, curv


def node_terms(prob: Problem, idx, lo, hi, gamma, D, stationary: bool = True, terms: BranchTerms | None = None,
               zero_D: bool = False):
    """``min_{s in [lo, hi]} psi(s) + D s^2 - gamma s`` per node: value, minimiser, error bound (B, m),
    and the candidates of :func:`node_candidates`. ``zero_D``: D is exactly 0 (the linear family),
    whose terms in the error bound are exact zeros and are left out."""
    terms = BranchTerms.of(prob, idx, lo, hi) if terms is None else terms
    S, val, curv = node_candidates(prob, idx, lo, hi, gamma, D, stationary, terms)
    q, k = val.min(dim=-1)
    s = torch.gather(S, -1, k[..., None])[..., 0]
    # rounding: psi (Lipschitz |alpha|) at a float point near the exact minimiser, t's own error
    alpha, span = terms.alpha, terms.span
    if zero_D:  # alpha + 2 |D| |s| = alpha and + |D| s^2 = + 0 exactly for D = +-0 and finite s
        size = (alpha + gamma.abs()) * span
    else:
        size = (alpha + 2.0 * D.abs() * s.abs() + gamma.abs()) * span + D.abs() * s * s
    err = float_slack(8, size) + terms.t_term
    return q, s, err, (S, val, curv)


def smoothed_terms(S, val, curv, tau):
    """Soft minimum ``-tau log sum exp(-val / tau)`` over the candidates (a lower bound on the
    minimum, smooth), its gradient in (gamma, D) and the 2 x 2 blocks of minus its Hessian."""
    lo = val.min(dim=-1, keepdim=True).values
    e = torch.exp(-(val - lo) / tau)
    Z = e.sum(dim=-1, keepdim=True)
    w = e / Z
    q = lo[..., 0] - tau[..., 0] * torch.log(Z[..., 0])
    Es = (w * S).sum(-1)
    S2 = S * S
    Es2 = (w * S2).sum(-1)
    Es3 = (w * S2 * S).sum(-1)
    Es4 = (w * S2 * S2).sum(-1)
    wc = w * curv
    it = 1.0 / tau[..., 0]
    n11 = wc.sum(-1) + it * (Es2 - Es * Es)
    n12 = -2.0 * (wc * S).sum(-1) - it * (Es3 - Es * Es2)
    n22 = 4.0 * (wc * S2).sum(-1) + it * (Es4 - Es2 * Es2)
    return q, -Es, Es2, n11, n12, n22


def evaluate(prob: Problem, idx, lo, hi, mult: Multipliers, family: str, grads: bool = True,
             terms: BranchTerms | None = None) -> BoundResult:
    """The bound of ``family`` at ``mult`` for branches (idx, lo, hi), rigorous in float64.

    ``terms``: the branches' :class:`BranchTerms`, when the caller evaluates them repeatedly."""
    W, eps = prob.W, prob.eps
    m, d = W.shape
    quadratic = family == "quadratic"
    D = mult.D if quadratic else torch.zeros_like(mult.gamma)
    q, s, q_err, nodes = node_terms(prob, idx, lo, hi, mult.gamma, D, quadratic, terms, zero_D=not quadratic)
    v = mult.gamma @ W
    v_size = mult.gamma.abs() @ prob.W_abs
    if family == "linear":
        if prob.norm == "l2":
            nv = v.norm(dim=1)
            coupling = -eps * nv
            unit = v / nv.clamp_min(_TINY)[:, None]
            c_size = eps * v_size.norm(dim=1)
        else:
            coupling = -eps * v.abs().sum(dim=1)
            unit = torch.sign(v)
            c_size = eps * v_size.sum(dim=1)
        c_err = float_slack(m + d, c_size)
        delta = -eps * unit
        ok = torch.ones_like(coupling, dtype=torch.bool)
        g = Q = L = None
        if grads:
            g = Multipliers(delta @ W.T - s, torch.zeros_like(D), torch.zeros_like(mult.rho))
    else:
        coupling, delta, ok, c_err, g, Q, L = _quadratic_coupling(prob, mult, v, v_size, s, grads)
    value = prob.offset[idx] + q.sum(dim=1) + coupling - q_err.sum(dim=1) - c_err
    value = value - float_slack(m, (q.abs() + q_err).sum(dim=1))  # the sum over nodes
    value = torch.where(ok, value, torch.full_like(value, -torch.inf))
    return BoundResult(value, s, delta, ok, g, nodes, Q, coupling, L)


def _quadratic_coupling(prob: Problem, mult: Multipliers, v, v_size, s, grads):
    """``min_delta delta^T Q delta + v.delta - eps^2 sum(mu)``, certified from below."""
    W, eps = prob.W, prob.eps
    m, d = W.shape
    B = v.shape[0]
    mu = torch.exp(mult.rho).expand(B, d)
    D = mult.D
    M = (D @ prob.outer).view(B, d, d)  # W^T diag(D) W
    Q = -M
    Q.diagonal(dim1=1, dim2=2).add_(mu)
    # Frobenius bound on the stored Q's rounding: M's (|W|^T |D| |W|, outer products included) and
    # the diagonal's sum mu - M_ii
    diag = Q.diagonal(dim1=1, dim2=2).abs().sum(dim=1) + mu.sum(dim=1)
    E = float_slack(m, D.abs() @ prob.row_sq) + float_slack(1, diag)
    tau = torch.maximum(_TAU_REL * mu.mean(dim=1), 2.0 * E) + 1e-290
    QF = Q.flatten(1).norm(dim=1)
    rump = float_slack(d, Q.diagonal(dim1=1, dim2=2).abs().sum(dim=1)) + 1e-290
    shifted = Q.clone()
    shifted.diagonal(dim1=1, dim2=2).sub_((tau + rump)[:, None])
    L, info = torch.linalg.cholesky_ex(shifted)
    ok = info == 0
    if not bool(ok.all()):
        L = torch.where(ok[:, None, None], L, torch.eye(d, dtype=W.dtype))
    delta = -0.5 * torch.cholesky_solve(v[..., None], L)[..., 0]
    Qd = torch.bmm(Q, delta[..., None])[..., 0]
    f = (delta * (Qd + v)).sum(dim=1)
    r = 2.0 * Qd + v
    dn = delta.norm(dim=1)
    r_err = float_slack(d, 2.0 * QF * dn + v.norm(dim=1))
    lam = tau - E  # certified lower bound on lambda_min of the exact Q
    corr = (r.norm(dim=1) + r_err + 2.0 * E * dn) ** 2 / (4.0 * lam) + E * dn * dn
    ball = eps * eps * torch.exp(mult.rho).sum(dim=1)  # one multiplier (l2) or one per coordinate
    # f's own rounding, and v's (W^T gamma): on the ball it moves the minimum by <= eps ||error of v||
    ball_l2 = eps if prob.norm == "l2" else eps * d**0.5  # largest ||delta||_2 in the ball
    f_size = QF * dn * dn + v_size.norm(dim=1) * (dn + ball_l2)
    coupling = f - corr - ball
    c_err = float_slack(m + d, f_size + ball)
    g = None
    if grads:
        wd = delta @ W.T
        if prob.norm == "l2":
            grho = (mu[:, :1] * ((delta * delta).sum(dim=1, keepdim=True) - eps * eps))
        else:
            grho = mu * (delta * delta - eps * eps)
        g = Multipliers(wd - s, s * s - wd * wd, grho)
    return coupling, delta, ok, c_err, g, Q, L


# --------------------------------------------------------------------------- initialisation


def initial_multipliers(prob: Problem, idx, lo, hi) -> Multipliers:
    """CROWN's start: ``gamma_j = alpha_j x`` (chord slope of node j's activation on its range), D = 0."""
    ends = torch.stack([lo, hi], dim=-1)
    vals = prob.psi(idx, ends)
    width = hi - lo
    gamma = torch.where(width > 0, (vals[..., 1] - vals[..., 0]) / width.clamp_min(_TINY), torch.zeros_like(lo))
    B, d = idx.shape[0], prob.d
    rho = torch.zeros((B, 1 if prob.norm == "l2" else d), dtype=lo.dtype)
    return Multipliers(gamma, torch.zeros_like(gamma), rho)


def lift_to_quadratic(prob: Problem, mult: Multipliers, curvature: float = 0.0) -> Multipliers:
    """A quadratic-family point from a linear-family one: the best mu for D = 0 (the same bound),
    and with ``curvature`` > 0, ``D_j = curvature * mu / R_j``, ``R_j = sum_k |<W_j, W_k>|`` (then
    ``W^T diag(D) W <= curvature * mu I`` by the Schur test, so Q stays positive definite)."""
    v = (mult.gamma @ prob.W).abs()
    eps = max(prob.eps, _TINY)
    floor = 1e-9 * (1.0 + (prob.alpha.abs() * prob.r).sum(dim=1).max()) / (eps * eps)
    if prob.norm == "l2":
        mu = (v.norm(dim=1, keepdim=True) / (2.0 * eps)).clamp_min(floor)
    else:
        mu = (v / (2.0 * eps)).clamp_min(floor)
    D = torch.zeros_like(mult.gamma)
    if curvature > 0:
        R = (prob.W @ prob.W.T).abs().sum(dim=1).clamp_min(1e-300)
        D = curvature * mu.min(dim=1, keepdim=True).values / R[None, :]
    return Multipliers(mult.gamma.clone(), D, torch.log(mu))


# --------------------------------------------------------------------------- optimiser


@dataclass
class Optimised:
    """Best certified bound per branch over an optimisation run, with what produced it.

    value (B,); s (B, m) and delta (B, d) the minimisers at the best multipliers; mult the
    best multipliers; evaluations (B,) bound evaluations spent on each branch.
    """

    value: torch.Tensor
    s: torch.Tensor
    delta: torch.Tensor
    mult: Multipliers
    evaluations: torch.Tensor

    def keep_better(self, rows: torch.Tensor, better: torch.Tensor, res, mult: Multipliers) -> None:
        """``self[rows[better]] <- res[better]`` (value, minimisers and multipliers), in place."""
        if not bool(better.any()):
            return
        r = rows[better]
        self.value[r], self.s[r], self.delta[r] = res.value[better], res.s[better], res.delta[better]
        for f in fields(Multipliers):
            getattr(self.mult, f.name)[r] = getattr(mult, f.name)[better]


def _lr_scales(prob: Problem, idx, family):
    alpha = prob.alpha[idx].abs()
    floor = 1e-3 * alpha.amax(dim=1, keepdim=True) + 1e-12
    sg = alpha + floor
    sD = sg / prob.r.clamp_min(1e-12) if family == "quadratic" else torch.zeros_like(sg)
    return sg, sD


def has_kink(prob: Problem, idx, lo, hi) -> torch.Tensor:
    """(B, m): node j's psi bends strictly inside (lo_j, hi_j) (a node a split can refine)."""
    k = prob.kinks[None] - prob.t[idx][..., None]
    inside = (k > lo[..., None]) & (k < hi[..., None])
    return inside.any(dim=-1) & prob.kinked[None] & (prob.alpha[idx] != 0)


def optimise(prob: Problem, idx, lo, hi, mult: Multipliers, family: str, iters: int, *,
             stop: torch.Tensor | None = None, lr: float = 0.2, lr_final: float = 0.02,
             check_every: int = 5) -> Optimised:
    """Adam ascent on the bound of ``family`` from ``mult``; the best certified iterate per branch.

    ``stop`` (B,): a branch whose bound exceeds it is frozen (decided: nothing to gain). The
    result is never below the bound at the starting point.
    """
    B = idx.shape[0]
    terms = BranchTerms.of(prob, idx, lo, hi)  # fixed while the multipliers move
    cur = evaluate(prob, idx, lo, hi, mult, family, terms=terms)
    out = Optimised(cur.value.clone(), cur.s.clone(), cur.delta.clone(), mult.clone(),
                    torch.ones(B, dtype=torch.long))
    rows = torch.arange(B)
    if stop is not None:
        rows = rows[out.value <= stop]
        mult, cur = mult.select(rows), _select(cur, rows)
    ri, rlo, rhi, rterms = idx[rows], lo[rows], hi[rows], terms.select(rows)
    sg, sD = _lr_scales(prob, ri, family)
    b1, b2, e = 0.9, 0.99, 1e-12
    zeros = lambda: Multipliers(*(torch.zeros_like(getattr(mult, f.name)) for f in fields(mult)))  # noqa: E731
    m1, m2 = zeros(), zeros()
    lr_mult = torch.ones(rows.shape[0], dtype=lo.dtype)
    # the linear family's bound reads gamma only: its D and rho gradients are zeros, so their
    # Adam steps are exact zeros and the two are carried unchanged
    moving = ("gamma", "D", "rho") if family == "quadratic" else ("gamma",)
    for it in range(iters):
        if rows.shape[0] == 0:
            break
        rate = lr * (lr_final / lr) ** (it / max(iters - 1, 1))
        c1, c2 = 1.0 - b1 ** (it + 1), 1.0 - b2 ** (it + 1)
        new = {f.name: getattr(mult, f.name) for f in fields(mult)}
        for name in moving:
            scale = {"gamma": sg, "D": sD, "rho": 0.5}[name]
            gi = getattr(cur.grads, name)
            a1 = getattr(m1, name).mul_(b1).add_(gi, alpha=1 - b1)
            a2 = getattr(m2, name).mul_(b2).addcmul_(gi, gi, value=1 - b2)
            step = (a1 / c1) / ((a2 / c2).sqrt() + e) * (rate * lr_mult)[:, None] * scale
            new[name] = getattr(mult, name) + step
        prev, mult = mult, Multipliers(**new)
        cur = evaluate(prob, ri, rlo, rhi, mult, family, terms=rterms)
        out.evaluations[rows] += 1
        if not bool(cur.ok.all()):  # left the domain (Q indefinite): undo, halve the step
            bad = ~cur.ok
            mult = mult.where(~bad, prev)
            lr_mult = torch.where(bad, 0.5 * lr_mult, lr_mult)
            cur = evaluate(prob, ri, rlo, rhi, mult, family, terms=rterms)
            out.evaluations[rows] += 1
        out.keep_better(rows, cur.value > out.value[rows], cur, mult)
        if stop is not None and (it + 1) % check_every == 0:
            keep = out.value[rows] <= stop[rows]
            if not bool(keep.all()):
                rows, mult, cur = rows[keep], mult.select(keep), _select(cur, keep)
                m1, m2, lr_mult, sg, sD = m1.select(keep), m2.select(keep), lr_mult[keep], sg[keep], sD[keep]
                ri, rlo, rhi, rterms = idx[rows], lo[rows], hi[rows], rterms.select(keep)
    return out


def _select(res: BoundResult, rows) -> BoundResult:
    g = res.grads.select(rows) if res.grads is not None else None
    pick = lambda t: None if t is None else t[rows]  # noqa: E731
    nodes = None if res.nodes is None else tuple(t[rows] for t in res.nodes)
    return BoundResult(res.value[rows], res.s[rows], res.delta[rows], res.ok[rows], g, nodes, pick(res.Q),
                       pick(res.coupling), pick(res.L))


def _logdet(L: torch.Tensor) -> torch.Tensor:
    return 2.0 * torch.log(L.diagonal(dim1=1, dim2=2)).sum(dim=1)


def _merge(new: BoundResult, old: BoundResult, take: torch.Tensor) -> BoundResult:
    w1 = lambda a, b: torch.where(take.view(-1, *([1] * (a.dim() - 1))), a, b)  # noqa: E731
    g = Multipliers(*(w1(getattr(new.grads, f.name), getattr(old.grads, f.name)) for f in fields(Multipliers)))
    nodes = tuple(w1(a, b) for a, b in zip(new.nodes, old.nodes))
    return BoundResult(w1(new.value, old.value), w1(new.s, old.s), w1(new.delta, old.delta), new.ok | old.ok, g,
                       nodes, w1(new.Q, old.Q), w1(new.coupling, old.coupling), w1(new.L, old.L))


def newton(prob: Problem, idx, lo, hi, mult: Multipliers, iters: int, *, stop: torch.Tensor | None = None,
           tau: tuple[float, float] = (3e-2, 1e-4), damping: float = 1e-2, fix_D: bool = False,
           barrier: float = 1.0) -> Optimised:
    """Smoothed Levenberg-Marquardt ascent on the quadratic Lagrangian; the best certified iterate per branch.

    The node minima make the bound non-smooth (the minimiser jumps between candidates), so the
    Newton model is built on the soft minimum at temperature ``tau_k`` (geometric from
    ``tau[0]`` to ``tau[1]``, relative to the branch's ``mean_j |alpha_j| r_j``), a smooth lower
    bound of the bound. Variables (gamma, D, mu). Node j contributes a 2 x 2 block of ``-H``
    (:func:`smoothed_terms`); the coupling ``-1/4 v^T Q^{-1} v`` contributes ``2 J^T Q^{-1} J``
    with ``J = [W^T / 2, -W^T diag(W delta*), delta*]`` (``diag(delta*)`` per coordinate for
    l_inf). ``(N + lambda S + 2 J^T Q^{-1} J) step = grad`` is solved by Woodbury with one d x d
    Cholesky; a step is kept if the smoothed bound rises (lambda /= 3), else lambda *= 4. The
    certified (hard-minimum) bound of every kept iterate is tracked: only it is returned.

    The optimum lies where Q is nearly singular (the pure-net limit), where first-order steps
    crawl and unguarded Newton steps leave the domain: the surrogate adds the log-barrier
    ``barrier * tau_k * logdet(Q_s)`` (``Q_s`` the certified shift of Q; its gradient and the
    diagonal of its Hessian enter the Newton model) and each step is cut to 95% of the way to
    the domain's boundary (Q is affine in (D, mu): the largest feasible step is ``-1/lambda_min``
    of the generalised eigenproblem of the step's dQ against Q_s). ``fix_D``: keep D as given.
    """
    B = idx.shape[0]
    W = prob.W
    m, d = W.shape
    terms = BranchTerms.of(prob, idx, lo, hi)  # fixed while the multipliers move
    cur = evaluate(prob, idx, lo, hi, mult, "quadratic", terms=terms)
    out = Optimised(cur.value.clone(), cur.s.clone(), cur.delta.clone(), mult.clone(),
                    torch.ones(B, dtype=torch.long))
    rows = torch.arange(B)
    if stop is not None:
        keep = out.value <= stop
        rows, mult, cur = rows[keep], mult.select(keep), _select(cur, keep)
    rterms = terms.select(rows)
    sg, sD = _lr_scales(prob, idx[rows], "quadratic")
    unit = (prob.alpha[idx[rows]].abs() * prob.r).mean(dim=1).clamp_min(1e-300)
    lam = torch.full((rows.shape[0],), float(damping), dtype=W.dtype)
    eye = torch.eye(d, dtype=W.dtype)
    off = prob.offset
    for it in range(iters):
        if rows.shape[0] == 0:
            break
        R = rows.shape[0]
        frac = it / max(iters - 1, 1)
        t_it = (tau[0] * (tau[1] / tau[0]) ** frac) * unit
        tt = t_it[:, None, None]
        ri, rlo, rhi = idx[rows], lo[rows], hi[rows]
        qs, gq_g, gq_D, n11, n12, n22 = smoothed_terms(*cur.nodes, tt)
        beta = barrier * t_it
        f_cur = off[ri] + qs.sum(dim=1) + cur.coupling + beta * _logdet(cur.L)
        # log-barrier beta logdet(Q_s): keeps Newton inside Q > 0 (the optimum is near its boundary)
        Li = cur.L
        U = torch.linalg.solve_triangular(Li, W.T.expand(R, d, m), upper=False)  # L^{-1} W^T
        uj = (U * U).sum(dim=1)  # w_j^T P w_j
        Linv = torch.linalg.solve_triangular(Li, eye.expand(R, d, d), upper=False)
        P = Linv.transpose(1, 2) @ Linv
        if prob.norm == "l2":
            b_mu = P.diagonal(dim1=1, dim2=2).sum(dim=1, keepdim=True)
            h_mu = (P * P).sum(dim=(1, 2))[:, None]
        else:
            b_mu = P.diagonal(dim1=1, dim2=2)
            h_mu = b_mu * b_mu
        mu = torch.exp(mult.rho)
        delta = cur.delta
        z = delta @ W.T
        g_g = gq_g + z
        g_D = gq_D - z * z - beta[:, None] * uj
        if prob.norm == "l2":
            g_mu = (delta * delta).sum(dim=1, keepdim=True) - prob.eps**2
        else:
            g_mu = delta * delta - prob.eps**2
        g_mu = g_mu + beta[:, None] * b_mu
        a11 = n11 + lam[:, None] / (sg * sg)
        a22 = n22 + lam[:, None] / (sD * sD) + beta[:, None] * uj * uj
        a12 = n12
        if fix_D:
            i11, i12, i22 = 1.0 / a11, torch.zeros_like(a11), torch.zeros_like(a11)
        else:
            det = a11 * a22 - a12 * a12
            i11, i12, i22 = a22 / det, -a12 / det, a11 / det
        a_mu = lam[:, None] / (mu * mu) + beta[:, None] * h_mu
        omega = 0.25 * i11 - z * i12 + z * z * i22  # e^T A^{-1} e, e = (1/2, -z): J A^{-1} J^T's node part
        K = 0.5 * cur.Q + (omega @ prob.outer).view(R, d, d)
        if prob.norm == "l2":
            K = K + (delta[:, :, None] * delta[:, None, :]) / a_mu[:, :, None]
        else:
            K = K + torch.diag_embed(delta * delta / a_mu)
        yg = i11 * g_g + i12 * g_D
        yD = i12 * g_g + i22 * g_D
        rhs = (0.5 * yg - z * yD) @ W + delta * (g_mu / a_mu)
        L, info = torch.linalg.cholesky_ex(K)
        good = info == 0
        if not bool(good.all()):
            L = torch.where(good[:, None, None], L, eye)
        xi = torch.cholesky_solve(rhs[..., None], L)[..., 0]
        zeta = xi @ W.T
        r1, r2 = g_g - 0.5 * zeta, g_D + z * zeta
        step_g = i11 * r1 + i12 * r2
        step_D = i12 * r1 + i22 * r2
        if prob.norm == "l2":
            step_mu = (g_mu - (delta * xi).sum(dim=1, keepdim=True)) / a_mu
        else:
            step_mu = (g_mu - delta * xi) / a_mu
        # fraction to the boundary: the largest step keeping Q - (tau + c) I positive definite
        # (Q is affine in (D, mu)), from the generalised eigenvalues of (dQ, current shifted Q)
        dQ = -(step_D @ prob.outer).view(R, d, d)
        dQ.diagonal(dim1=1, dim2=2).add_(step_mu.expand(R, d))
        Li = cur.L
        X = torch.linalg.solve_triangular(Li, dQ, upper=False)
        X = torch.linalg.solve_triangular(Li, X.transpose(1, 2), upper=False)
        lam_min = torch.linalg.eigvalsh(0.5 * (X + X.transpose(1, 2)))[:, 0]
        frac = torch.where(lam_min < 0, torch.clamp(-0.95 / lam_min, max=1.0), torch.ones_like(lam_min))
        frac = torch.where(torch.isfinite(frac), frac, torch.zeros_like(frac))[:, None]
        step_g, step_D, step_mu = step_g * frac, step_D * frac, step_mu * frac
        new_mu = mu + step_mu
        pos = (new_mu > 0).all(dim=1) & good
        rho = torch.log(torch.where(new_mu > 0, new_mu, mu))
        cand = Multipliers(mult.gamma + step_g, mult.D + step_D, rho)
        nxt = evaluate(prob, ri, rlo, rhi, cand, "quadratic", terms=rterms)
        out.evaluations[rows] += 1
        f_new = off[ri] + smoothed_terms(*nxt.nodes, tt)[0].sum(dim=1) + nxt.coupling
        if bool(nxt.ok.any()):
            f_new = torch.where(nxt.ok, f_new + beta * _logdet(nxt.L), f_new)
        acc = pos & nxt.ok & (f_new > f_cur)
        lam = torch.where(acc, torch.clamp_min(lam / 3.0, 1e-12), lam * 4.0)
        if bool(acc.any()):
            mult = cand.where(acc, mult)
            cur = _merge(nxt, cur, acc)
            out.keep_better(rows, acc & (cur.value > out.value[rows]), cur, mult)
        keep = lam < 1e14
        if stop is not None:
            keep &= out.value[rows] <= stop[rows]
        if not bool(keep.all()):
            rows, mult, cur = rows[keep], mult.select(keep), _select(cur, keep)
            lam, sg, sD, unit, rterms = lam[keep], sg[keep], sD[keep], unit[keep], rterms.select(keep)
    return out


# --------------------------------------------------------------------------- public bound


BOUNDS = ("crown", "linear", "quadratic")


def relaxation_bound(net, x, y, eps: float, norm: str = "l2", *, relaxation: str = "quadratic",
                     linear_iters: int = 30, quadratic_iters: int = 30) -> np.ndarray:
    """Sound lower bound on ``min_{||delta||_norm <= eps} y f(x + delta)`` per row (n,), no branching.

    relaxation: "crown" (the linear relaxation at CROWN's chord slopes, not optimised),
    "linear" (optimised slopes: alpha-CROWN's optimum, the convex-hull relaxation; never below
    the interval bound), "quadratic" (the quadratic Lagrangian started from the linear optimum;
    never below "linear").
    """
    from .problem import build_problem

    require_choice("relaxation", relaxation, BOUNDS)
    linear_iters = require_int("linear_iters", linear_iters, low=1)
    quadratic_iters = require_int("quadratic_iters", quadratic_iters, low=0)
    prob = build_problem(net, x, y, eps, norm, quadratic=relaxation == "quadratic")
    n = prob.n
    with torch.no_grad():
        idx = torch.arange(n)
        lo, hi = (-prob.r).expand(n, -1).clone(), prob.r.expand(n, -1).clone()
        start = initial_multipliers(prob, idx, lo, hi)
        ibp = evaluate(prob, idx, lo, hi, Multipliers(torch.zeros_like(start.gamma), start.D, start.rho), "linear")
        crown = evaluate(prob, idx, lo, hi, start, "linear")
        best = torch.maximum(ibp.value, crown.value)
        if relaxation != "crown":
            lin = optimise(prob, idx, lo, hi, start, "linear", linear_iters)
            best = torch.maximum(best, lin.value)
            if relaxation == "quadratic" and prob.eps > 0 and quadratic_iters:
                quad = newton(prob, idx, lo, hi, lift_to_quadratic(prob, lin.mult, 0.5), quadratic_iters,
                              tau=(1e-1, 1e-3))
                best = torch.maximum(best, quad.value)
    return best.numpy()


def solve_leaves(prob: Problem, idx, lo, hi, mult: Multipliers) -> Optimised:
    """Branches where every node is linear on its range: a convex problem per branch, solved by an
    independent solver, then certified by the linear-family bound at the solver's multipliers.

    The branch minimises ``sum_j c_j s_j`` (``c_j`` node j's slope) over ``s = W delta``,
    ``lo <= s <= hi`` and the ball. l_inf: an LP (HiGHS), whose slab duals give
    ``gamma = c + lambda_hi - lambda_lo``. l2: SLSQP for the primal, then the KKT multipliers of
    its active constraints by non-negative least squares (``g + 2 nu delta + W^T kappa = 0``),
    ``gamma = c + kappa``. Either way the certificate is :func:`evaluate`'s rigorous value, so a
    solver's inaccuracy costs tightness only; its primal point is the exact minimiser of the
    branch's linear piece (an attack candidate). A failed solve keeps the given bound.
    """
    from scipy.optimize import linprog, minimize, nnls

    B = idx.shape[0]
    W = prob.W.numpy()
    m, d = W.shape
    eps = prob.eps
    ends = torch.stack([lo, hi], dim=-1)
    vals = prob.psi(idx, ends)
    width = hi - lo
    slope = torch.where(width > 0, (vals[..., 1] - vals[..., 0]) / width.clamp_min(1e-300),
                        prob.alpha[idx] * _slope_at(prob, idx, 0.5 * (lo + hi))).numpy()
    lo_n, hi_n = lo.numpy(), hi.numpy()
    gamma = mult.gamma.clone()
    delta = torch.zeros((B, d), dtype=lo.dtype)
    A_ub = np.concatenate([W, -W])
    solved = torch.zeros(B, dtype=torch.bool)
    for i in range(B):
        c = slope[i]
        g = W.T @ c
        if prob.norm == "linf":
            res = linprog(g, A_ub=A_ub, b_ub=np.concatenate([hi_n[i], -lo_n[i]]), bounds=[(-eps, eps)] * d,
                          method="highs")
            if res.status != 0:
                continue
            lam = -res.ineqlin.marginals
            kappa, x = lam[:m] - lam[m:], res.x
        else:
            cons = [{"type": "ineq", "fun": lambda v: eps * eps - v @ v, "jac": lambda v: -2.0 * v},
                    {"type": "ineq", "fun": lambda v, i=i: hi_n[i] - W @ v, "jac": lambda v: -W},
                    {"type": "ineq", "fun": lambda v, i=i: W @ v - lo_n[i], "jac": lambda v: W}]
            gn = np.linalg.norm(g)
            x0 = -eps * g / gn if gn > 0 else np.zeros(d)
            res = minimize(lambda v: g @ v, x0, jac=lambda v: g, constraints=cons, method="SLSQP",
                           options={"maxiter": 200, "ftol": 1e-15})
            x = res.x
            if not np.all(np.isfinite(x)):
                continue
            sx = W @ x
            tol = 1e-7 * (1.0 + np.abs(sx))
            act_hi, act_lo = np.abs(sx - hi_n[i]) <= tol, np.abs(sx - lo_n[i]) <= tol
            cols = [2.0 * x[:, None], W[act_hi].T, -W[act_lo].T]
            coef, _ = nnls(np.concatenate(cols, axis=1), -g)
            kappa = np.zeros(m)
            kappa[act_hi] += coef[1:1 + act_hi.sum()]
            kappa[act_lo] -= coef[1 + act_hi.sum():]
        gamma[i] = torch.as_tensor(c + kappa)
        delta[i] = torch.as_tensor(x)
        solved[i] = True
    zeros = torch.zeros_like(gamma)
    cand = Multipliers(gamma, zeros, mult.rho)
    res = evaluate(prob, idx, lo, hi, cand, "linear", grads=False)
    old = evaluate(prob, idx, lo, hi, Multipliers(mult.gamma, zeros, mult.rho), "linear", grads=False)
    better = res.value >= old.value
    out_mult = cand.where(better, Multipliers(mult.gamma, zeros, mult.rho))
    out = Optimised(torch.where(better, res.value, old.value), torch.where(better[:, None], res.s, old.s), delta,
                    out_mult, torch.full((B,), 2, dtype=torch.long))
    failed = torch.nonzero(~solved)[:, 0]
    if failed.numel():
        alt = optimise(prob, idx[failed], lo[failed], hi[failed], out.mult.select(failed), "linear", 300)
        out.value[failed], out.s[failed], out.delta[failed] = alt.value, alt.s, alt.delta
        for f in fields(Multipliers):
            getattr(out.mult, f.name)[failed] = getattr(alt.mult, f.name)
        out.evaluations[failed] += alt.evaluations
    return out, solved


def _slope_at(prob: Problem, idx, s) -> torch.Tensor:
    """The activation's slope at ``t + s`` (a point inside a linear piece)."""
    z = prob.t[idx] + s
    k = (z[..., None] > prob.kinks[None]).sum(dim=-1)  # piece index
    return prob.slopes[k]
