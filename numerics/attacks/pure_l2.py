"""Exact l2 worst case of the pure soft-threshold net (docs/model.md §3 and S3).

Problem, per sample (row): feature coordinates ``v`` (d,), coefficients ``coef`` (d,) (for the
pure net ``coef_i = y a_i``), thresholds ``b >= 0`` and radius ``eps >= 0``::

    min_{||u||_2 <= eps}  offset + sum_i coef_i * A(v_i + u_i; b_i),   A = soft threshold

(``u = M^T delta`` and ``||u|| = ||delta||``: this is the exact robust margin of the pure net).

Reduction. The attacker moves feature i against its coefficient, ``u_i = -sign(coef_i) t_i`` with
``t_i >= 0`` (moving it the other way never lowers the margin, A being nondecreasing). With
``c = |coef_i|`` and ``w = sign(coef_i) v_i`` the damage is

    psi_i(t) = c (A(w) - A(w - t)) = c * max(min(t, alpha), t - gap),
    alpha = max(w - b, 0)  (first piece, slope 1),   gap = clip(w + b, 0, 2b)  (dead zone, slope 0),

and the attack is ``max sum_i psi_i(t_i)  s.t.  ||t||_2 <= eps, t >= 0``. Features with
``gap = 0`` (``w <= -b`` or ``b = 0``) are *linear* (``psi = c t``). A feature with ``gap > 0`` is in
one of two states: *unpushed*, ``c min(t, alpha)`` (concave), or *pushed* through its dead zone,
``c (t - gap)`` (linear); ``psi_i`` is the max of the two, which is why the problem is not concave.

Exact algorithm and its proofs. ``V(P)`` is the optimum when the set P is pushed (the others
unpushed); a *family* is a set of P's of the form ``F <= P <= C`` (forced F, candidates C).

(a) For a fixed P the problem is concave: water-filling with one multiplier, ``t_i = c_i tau`` for
    linear and pushed features, ``t_i = min(c_i tau, alpha_i)`` for unpushed ones, ``tau`` fixed by
    ``||t|| = eps`` (closed form per segment between the sorted breakpoints ``alpha_i / c_i``).
    Since ``psi_i = max(unpushed, pushed)``, ``max_t sum psi = max_P V(P)``.
(b) Crossing. If i in P has ``t_i <= alpha_i + gap_i`` then ``c(t_i - gap) <= c min(t_i, alpha)``:
    the same t is as good for ``P - {i}``. So only ``alpha_i + gap_i < eps`` can be usefully pushed
    (``eps <= min b``: no pushing at all).
(c) Level bounds. Let ``Phi_U(L)`` be the best value of linear features of total mass ``L = sum c^2``
    plus the unpushed set U: ``Phi_U(L) = max_{B <= eps^2} sqrt(L B) + R_U(eps^2 - B)`` is concave
    and nondecreasing (``sqrt(L B)`` is jointly concave, ``R_U`` is a concave value function), its
    slope is ``tau_U(L) / 2`` (envelope theorem), the water level ``tau_U(L)`` decreases in L and in
    U, and ``Phi_U(L + a) - Phi_U(L) <= eps (sqrt(L + a) - sqrt(L))`` (use for L the split that is
    optimal for ``L + a``). Within a family, every P has ``L >= L_min = L0 + sum_F c^2`` (``L0``:
    linear features), ``L <= L_max = L0 + sum_C c^2``, ``U`` between ``U_never`` (alpha > 0, not
    in C) and ``U_maybe`` (alpha > 0, not in F). Removing i from P loses at most
    ``min(eps c_i^2 / (sqrt(L_min + c_i^2) + sqrt(L_min)), c_i^2 tau_never(L_min) / 2) - c_i gap_i``
    (un-pushing can only enlarge U), so if that is ``<= 0`` i is *ruled out* (C shrinks). Adding i
    gains at least ``c_i^2 tau_maybe(L_max) / 2 - c_i (alpha_i + gap_i)`` (concavity, and dropping i
    from U costs at most ``c_i alpha_i``), so if that is ``>= 0`` i is *ruled in* (F grows).
    Each step keeps an optimal P in the family (remove/add one feature at a time); iterated to a
    fixpoint. This decides most features (e.g. all light inactive ones).
(d) Chains. Write ``psi_i = c_i g_i`` with ``g_i`` of slope 1 except on the dead interval
    ``I_i = [alpha_i, alpha_i + gap_i]``. If ``c_i >= c_j`` and ``I_i`` is inside ``I_j`` (same
    interval; or ``alpha = 0`` for both and ``gap_i <= gap_j``) then for ``x < y``,
    ``c_i (g_i(y) - g_i(x)) >= c_j (g_j(y) - g_j(x))``: giving i the larger of the two t's never
    hurts. Sorting t along a chain of this order (undecided features only) keeps ``||t||`` and
    does not lower the value, and along a chain the dead-zone ends are non-decreasing, so the
    features beyond their dead zone form a *prefix*: only the count pushed per chain matters.
    Chains used: identical ``(alpha, gap)`` sorted by c (the rearrangement inequality), and for
    ``alpha = 0`` ("dead") features, any chain with c non-increasing and gap non-decreasing (equal
    gaps first; merged into a minimum chain cover by patience sorting when that helps). The optimum
    need not be symmetric inside a group of identical features (two identical active features: push
    one through, saturate the other; see the tests).
(e) Unimodality on one dead chain. Fix every other choice (so U and ``Phi = Phi_U`` are fixed).
    Pushing the first k items of a dead chain (``c_1 >= c_2 >= ...``, ``gap_1 <= gap_2 <= ...``)
    gives ``f(k) = Phi(L_k) - sum_{j<=k} c_j gap_j``, ``L_k = L + sum_{j<=k} c_j^2``, and
    ``(f(k+1) - f(k)) / c_{k+1} = c_{k+1} * slope(Phi on [L_k, L_{k+1}]) - gap_{k+1}``, which is
    non-increasing in k (consecutive intervals of a concave Phi; chain order). So the increments
    change sign at most once (+ then -), the best k is the first k with ``f(k+1) <= f(k)``, found
    by bisection: ``O(log n)`` water-fillings instead of n.

Algorithm per sample: (b), (c) decide features; the undecided ones are grouped in chains (d); the
longest dead chain is bisected (e); the counts of all other chains are enumerated (product of
``(length + 1)``); each candidate is a closed-form water-filling (a). Vectorised over
(sample, candidate) rows.

Complexity. Typical population calls (``sigma = 0``: inactive features share ``(alpha, gap) =
(0, b)``, active ones share ``|v| = r``) have one long dead chain and a few short groups:
``O(d log d)`` per sample plus ``O(prod (n_g + 1) * m * log d)`` for the candidates (``m`` = number
of features with ``alpha > 0``); 1000 samples at d = 4096 take about a second. General inputs
(``sigma > 0``: all features distinct) are *exponential* in the number of undecided features that
form no chains (``prod (n_g + 1)`` candidates); no polynomial algorithm is claimed (for a fixed
level the choice of dead features is a concave-of-sum knapsack). Above ``max_candidates``
candidates in a sample :class:`numerics.errors.TooManyCandidates` (a ``ValueError``) is raised;
nothing is ever approximated.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, replace

import numpy as np

from ..activations import soft_threshold
from ..errors import TooManyCandidates
from ..networks import TwoLayerNet
from ..validation import require_array, require_int, require_real

# Candidate rows per vectorised chunk, times (number of alpha > 0 features + 1).
_CHUNK_ELEMENTS = 2_000_000
# Try merging dead groups into chains (patience sorting) when a sample has more candidates than this.
_MERGE_ABOVE = 256


@dataclass(frozen=True)
class PureL2Result:
    """Exact l2 worst case of a pure soft-threshold net, per sample.

    margin: (n,) the exact minimum margin, evaluated at ``v + u`` (an attained value).
    u: (n, d) an optimal perturbation in feature coordinates, ``||u|| <= eps``.
    clean_margin: (n,) the margin at ``u = 0``.
    tau: (n,) the water level: ``t_i = |coef_i| tau`` on linear and pushed features
        (``inf`` when the budget does not bind: every feature is saturated).
    n_pushed: (n,) features pushed through their dead zone (``t_i > alpha_i + gap_i``).
    n_saturated: (n,) unpushed features stopped at the edge of their dead zone (``t_i = alpha_i > 0``).
    n_candidates: (n,) pushed-set candidates enumerated (before the bisection on one chain).
    easy: (n,) no feature pushed nor saturated: the drop is ``eps * sqrt(sum c_i^2)`` over the
        features outside a dead zone (``gap_i = 0`` or ``alpha_i > 0``), as in S3.
    delta: (n, d) the perturbation in input space (only from :func:`pure_net_min_margin`).
    """

    margin: np.ndarray
    u: np.ndarray
    clean_margin: np.ndarray
    tau: np.ndarray
    n_pushed: np.ndarray
    n_saturated: np.ndarray
    n_candidates: np.ndarray
    easy: np.ndarray
    delta: np.ndarray | None = None


# ----------------------------------------------------------------------------------------------
# Per-feature damage
# ----------------------------------------------------------------------------------------------


def damage_pieces(coef, v, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(c, alpha, gap)`` with ``psi(t) = c max(min(t, alpha), t - gap)`` (arrays broadcast).

    ``psi(t) = coef * (A(v) - A(v - sign(coef) t))`` is the margin lost when feature i moves by
    ``t`` against its coefficient; ``c = |coef|``, ``alpha`` = length of the first slope-1 piece,
    ``gap`` = length of the dead zone crossed next.
    """
    coef = np.asarray(coef, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    w = np.sign(coef) * v
    alpha = np.maximum(w - b, 0.0)
    gap = np.minimum(np.maximum(w + b, 0.0), 2.0 * b)
    return np.abs(coef), alpha, gap


def feature_damage(t, coef, v, b) -> np.ndarray:
    """``psi_i(t) = coef_i (A(v_i) - A(v_i - sign(coef_i) t))`` via the closed form (broadcasts)."""
    c, alpha, gap = damage_pieces(coef, v, b)
    t = np.asarray(t, dtype=np.float64)
    return c * np.maximum(np.minimum(t, alpha), t - gap)


# ----------------------------------------------------------------------------------------------
# The S3 closed form
# ----------------------------------------------------------------------------------------------


def _s3_inputs(wstar, active):
    w = require_array("wstar", wstar, ndim=1)
    act = np.asarray(active)
    if act.dtype != bool:
        raise ValueError(f"active must be a boolean mask, got dtype {act.dtype}")
    if act.ndim not in (1, 2) or act.shape[-1] != w.shape[0]:
        raise ValueError(f"active must have shape (d,) or (n, d) with d = {w.shape[0]}, got {act.shape}")
    return w, act


def easy_regime_radius(wstar, active, b: float, r: float = 1.0) -> np.ndarray:
    """Largest eps of the S3 regime: ``min(b, (r - b) ||w*_S|| / max_{i in S} |w*_i|)``.

    ``sigma = 0``, magnitudes all ``r``, active set S (boolean mask (d,) or (n, d)). Past ``b`` the
    attacker can push inactive features through their dead zones; past the second term the
    coordinate with the largest ``|w*_i|`` may saturate at the edge of its dead zone. ``-inf`` when
    ``b > r`` (active features already dead: the first piece is empty) and ``S`` carries weight.
    """
    w, act = _s3_inputs(wstar, active)
    b = require_real("b", b, low=0.0)
    r = require_real("r", r, low=0.0, low_open=True)
    ws = np.abs(w) * act
    norm = np.linalg.norm(ws, axis=-1)
    top = ws.max(axis=-1) if ws.shape[-1] else np.zeros(ws.shape[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(top > 0, (r - b) * norm / np.where(top > 0, top, 1.0), np.inf)
    sat = np.where((top > 0) & (r < b), -np.inf, sat)
    return np.minimum(b, sat)


def in_easy_regime(wstar, active, eps: float, b: float, r: float = 1.0) -> np.ndarray:
    """S3 regime predicate: ``eps <= b`` and ``eps |w*_i| <= (r - b) ||w*_S||`` for all i in S.

    Sufficient (it also bounds the misaligned active features, which are linear and never
    saturate) for the drop to equal :func:`easy_regime_drop`; the exact solver covers the rest.
    """
    eps = require_real("eps", eps, low=0.0)
    return eps <= easy_regime_radius(wstar, active, b, r)


def easy_regime_drop(wstar, active, eps: float, lam: float = 1.0) -> np.ndarray:
    """S3 closed form: the l2 attack lowers the pure net's margin by ``lam eps ||w*_S||_2``."""
    w, act = _s3_inputs(wstar, active)
    eps = require_real("eps", eps, low=0.0)
    lam = require_real("lam", lam)
    return abs(lam) * eps * np.linalg.norm(w * act, axis=-1)


# ----------------------------------------------------------------------------------------------
# Grouping into chains
# ----------------------------------------------------------------------------------------------


def _c_order(c: np.ndarray) -> np.ndarray:
    """Columns by c descending in each row (stable); one shared sort when all rows have the same c
    (the pure net: ``|coef| = lambda |w*|`` for every sample)."""
    if np.all(c == c[:1]):
        return np.broadcast_to(np.argsort(-c[0], kind="stable"), c.shape)
    return np.argsort(-c, axis=1, kind="stable")


def _group_rows(mask: np.ndarray, keys: list[np.ndarray], order: np.ndarray):
    """Label, within each row, the groups of masked entries with identical ``keys``.

    ``order``: columns by c descending (:func:`_c_order`). Returns ``gid`` and ``rank`` (R, d)
    (-1 off the mask; rank = position by c descending inside the group, ties in column order)
    and the number of groups per row.
    """
    R, d = mask.shape
    gid = np.full((R, d), -1, dtype=np.int64)
    rank = np.full((R, d), -1, dtype=np.int64)
    if not mask.any():
        return gid, rank, np.zeros(R, dtype=np.int64)
    ms = np.take_along_axis(mask, order, axis=1)
    multi = np.zeros(R, dtype=bool)
    for k in keys:
        kmin = np.where(mask, k, np.inf).min(axis=1)
        kmax = np.where(mask, k, -np.inf).max(axis=1)
        multi |= kmin < kmax
    # Rows with one group: rank = running count of entries in c order.
    put = np.where(ms, np.cumsum(ms, axis=1) - 1, -1)
    np.put_along_axis(rank, order, put, axis=1)
    np.put_along_axis(gid, order, np.where(ms, 0, -1), axis=1)
    ngroups = mask.any(axis=1).astype(np.int64)
    rows = np.nonzero(multi)[0]
    if len(rows):
        # Stable sort by (entries first, keys): c order is kept inside each group.
        o_r = np.take_along_axis(mask[rows], order[rows], axis=1)
        ks = [np.take_along_axis(k[rows], order[rows], axis=1) for k in keys]
        o2 = np.lexsort([np.where(o_r, k, 0.0) for k in reversed(ks)] + [~o_r], axis=1)
        cols = np.take_along_axis(order[rows], o2, axis=1)
        ms2 = np.take_along_axis(o_r, o2, axis=1)
        new = ms2.copy()
        if d > 1:
            diff = np.zeros((len(rows), d - 1), dtype=bool)
            for k in ks:
                k2 = np.take_along_axis(k, o2, axis=1)
                diff |= k2[:, 1:] != k2[:, :-1]
            new[:, 1:] &= diff
        pos = np.arange(d)
        g_s = np.where(ms2, np.cumsum(new, axis=1) - 1, -1)
        r_s = np.where(ms2, pos - np.maximum.accumulate(np.where(new, pos, 0), axis=1), -1)
        g_r = np.empty_like(g_s)
        r_r = np.empty_like(r_s)
        np.put_along_axis(g_r, cols, g_s, axis=1)
        np.put_along_axis(r_r, cols, r_s, axis=1)
        gid[rows] = g_r
        rank[rows] = r_r
        ngroups[rows] = new.sum(axis=1)
    return gid, rank, ngroups


def _patience_chains(c: np.ndarray, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum chain cover of dead items under (c non-increasing, gap non-decreasing).

    Items visited by c descending (gap ascending on ties); each goes on the chain whose last gap
    is the largest one <= its gap (best fit), which gives the minimum number of chains.
    """
    order = np.lexsort((gap, -c))
    tails: list[float] = []
    tail_ids: list[int] = []
    lengths: list[int] = []
    gid = np.empty(len(c), dtype=np.int64)
    rank = np.empty(len(c), dtype=np.int64)
    for i in order:
        g = float(gap[i])
        pos = bisect_right(tails, g) - 1
        if pos >= 0:
            cid = tail_ids[pos]
            tails[pos] = g
        else:
            cid = len(lengths)
            lengths.append(0)
            tails.insert(0, g)
            tail_ids.insert(0, cid)
        gid[i] = cid
        rank[i] = lengths[cid]
        lengths[cid] += 1
    return gid, rank


def _log_candidates(sizes_alpha: np.ndarray, sizes_dead: np.ndarray) -> np.ndarray:
    """log of the number of enumerated candidates: all alpha groups, dead groups but the largest."""
    la = np.log1p(sizes_alpha).sum(axis=1)
    ld = np.log1p(sizes_dead).sum(axis=1) - np.log1p(sizes_dead.max(axis=1, initial=0))
    return la + ld


def _sizes(gid: np.ndarray, ngroups: np.ndarray) -> np.ndarray:
    R = gid.shape[0]
    G = int(ngroups.max(initial=0))
    sizes = np.zeros((R, max(G, 1)), dtype=np.int64)
    rows, cols = np.nonzero(gid >= 0)
    np.add.at(sizes, (rows, gid[rows, cols]), 1)
    return sizes[:, :G] if G else np.zeros((R, 0), dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Water-filling over the unpushed features with alpha > 0
# ----------------------------------------------------------------------------------------------


def _wf_tables(bp, c2, a2, ca, act):
    """Cumulative tables of the water-filling for rows with active-feature mask ``act`` (t, m)."""
    t = act.shape[0]
    C2 = np.where(act, c2, 0.0)
    z = np.zeros((t, 1))
    A2cum = np.concatenate([z, np.cumsum(np.where(act, a2, 0.0), axis=1)], axis=1)
    CAcum = np.concatenate([z, np.cumsum(np.where(act, ca, 0.0), axis=1)], axis=1)
    C2suf = np.concatenate([np.cumsum(C2[:, ::-1], axis=1)[:, ::-1], z], axis=1)
    return bp, C2suf, A2cum, CAcum


def _phi(L, tables, eps2, details=False):
    """``Phi(L)``: best value of linear mass L plus the unpushed features, budget ``eps^2``.

    With the first ``ns`` (by breakpoint ``alpha/c``) features saturated the budget is
    ``tau^2 (L + sum_unsat c^2) + sum_sat alpha^2``; ``ns`` is the number of breakpoints whose
    budget fits, and the value is ``sqrt(rem * lin) + sum_sat c alpha``.
    """
    bp, C2suf, A2cum, CAcum = tables
    with np.errstate(invalid="ignore", over="ignore"):
        h = bp * bp * (L[:, None] + C2suf[:, 1:]) + A2cum[:, 1:]
    ns = np.count_nonzero(h <= eps2, axis=1)
    ri = np.arange(len(L))
    sa = A2cum[ri, ns]
    lin = L + C2suf[ri, ns]
    rem = np.maximum(eps2 - sa, 0.0)
    val = np.sqrt(rem * lin) + CAcum[ri, ns]
    if not details:
        return val
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(lin > 0, np.sqrt(rem / np.where(lin > 0, lin, 1.0)), np.inf)
    return val, ns, tau


# ----------------------------------------------------------------------------------------------
# The solver, in the steps of the module docstring
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WaterFill:
    """Per row, the features with ``alpha > 0`` in breakpoint order ``alpha / c`` (docstring (a))."""

    col: np.ndarray  # (R, m) column of the j-th such feature (0 where invalid)
    valid: np.ndarray  # (R, m)
    bp: np.ndarray  # (R, m) breakpoints alpha / c (inf where invalid)
    c2: np.ndarray  # (R, m) c^2
    alpha: np.ndarray  # (R, m)
    a2: np.ndarray  # (R, m) alpha^2
    ca: np.ndarray  # (R, m) c * alpha

    @property
    def m(self) -> int:
        return self.col.shape[1]

    def tables(self, act: np.ndarray, rows=slice(None)):
        """Water-filling tables of rows ``rows`` with unpushed-feature mask ``act``."""
        return _wf_tables(self.bp[rows], self.c2[rows], self.a2[rows], self.ca[rows], act)

    def gather(self, x: np.ndarray) -> np.ndarray:
        """``x[r, col[r, j]]`` (R, m) for a per-feature array ``x`` (R, d)."""
        return np.take_along_axis(x, self.col, axis=1)


def _waterfill_layout(c, alpha, gap) -> _WaterFill:
    R = c.shape[0]
    wf_mask = (c > 0) & (alpha > 0) & (gap > 0)
    rr, cc = np.nonzero(wf_mask)
    bk = alpha[rr, cc] / c[rr, cc]
    o = np.lexsort((bk, rr))
    rr, cc, bk = rr[o], cc[o], bk[o]
    cnt = np.bincount(rr, minlength=R)
    m = int(cnt.max(initial=0))
    jj = np.arange(len(rr)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    col = np.zeros((R, m), dtype=np.int64)
    col[rr, jj] = cc
    valid = np.zeros((R, m), dtype=bool)
    valid[rr, jj] = True
    bp = np.full((R, m), np.inf)
    bp[rr, jj] = bk
    c2 = np.where(valid, np.take_along_axis(c * c, col, axis=1), 0.0)
    wf_alpha = np.where(valid, np.take_along_axis(alpha, col, axis=1), 0.0)
    return _WaterFill(col, valid, bp, c2, wf_alpha, wf_alpha * wf_alpha, np.sqrt(c2) * wf_alpha)


def _decide_features(c, alpha, gap, eps, L0, wf: _WaterFill):
    """Docstring (b), (c): ``(pushable, forced)`` masks (R, d) after ruling features out / in.

    (b): a pushed feature must cross its dead zone within the budget. (c): bounds on the water
    level rule features out (cannot pay for the gap) or in (always pays); iterated to a fixpoint.
    """
    R, d = c.shape
    eps2 = eps * eps
    pushable = (c > 0) & (gap > 0) & (alpha + gap < eps)
    forced = np.zeros_like(pushable)
    fr, fc = np.nonzero(pushable)  # the undecided ("free") features, as flat entries
    f_c, f_a, f_g = c[fr, fc], alpha[fr, fc], gap[fr, fc]
    L_min = L0.copy()
    for _ in range(2 * d + 2):
        L_max = L_min + np.bincount(fr, weights=f_c * f_c, minlength=R)
        wf_cand = wf.gather(pushable)
        wf_forced = wf.gather(forced)
        never = wf.valid & ~wf_cand  # unpushed in every remaining candidate
        maybe = wf.valid & ~wf_forced  # unpushed in some remaining candidate
        _, _, tau_hi = _phi(L_min, wf.tables(never), eps2, details=True)
        _, _, tau_lo = _phi(L_max, wf.tables(maybe), eps2, details=True)
        lm = L_min[fr]
        gain_sqrt = eps * f_c / (np.sqrt(lm + f_c * f_c) + np.sqrt(lm))
        with np.errstate(invalid="ignore"):
            out = ~(np.minimum(gain_sqrt, 0.5 * f_c * tau_hi[fr]) > f_g)
            into = ~out & (f_c * tau_lo[fr] >= 2.0 * (f_a + f_g))
        if not (out.any() or into.any()):
            break
        pushable[fr[out], fc[out]] = False
        forced[fr[into], fc[into]] = True
        L_min = L_min + np.bincount(fr[into], weights=f_c[into] ** 2, minlength=R)
        keep = ~(out | into)
        fr, fc, f_c, f_a, f_g = fr[keep], fc[keep], f_c[keep], f_a[keep], f_g[keep]
    return pushable & ~forced, forced


@dataclass(frozen=True)
class _Chains:
    """Docstring (d): undecided features grouped into chains (gid: chain per row, rank: position)."""

    gid_a: np.ndarray  # (R, d) chain of each undecided alpha > 0 feature (-1 elsewhere)
    rank_a: np.ndarray
    ng_a: np.ndarray  # (R,) number of alpha chains per row
    gid_d: np.ndarray  # (R, d) chain of each undecided dead (alpha = 0) feature (-1 elsewhere)
    rank_d: np.ndarray
    ng_d: np.ndarray
    sizes_a: np.ndarray  # (R, max ng_a) chain lengths
    sizes_d: np.ndarray


def _chains(c, alpha, gap, alpha_push, dead_push, max_candidates) -> _Chains:
    """Identical ``(alpha, gap)`` for alpha > 0, identical gap for dead features; dead groups are
    merged into a minimum chain cover (patience sorting) where a sample has many candidates.
    Raises :class:`TooManyCandidates` when a sample needs more than ``max_candidates``."""
    order = _c_order(c)
    gid_a, rank_a, ng_a = _group_rows(alpha_push, [alpha, gap], order)
    gid_d, rank_d, ng_d = _group_rows(dead_push, [gap], order)
    sizes_a = _sizes(gid_a, ng_a)
    sizes_d = _sizes(gid_d, ng_d)
    logn = _log_candidates(sizes_a, sizes_d)
    merge_rows = np.nonzero((logn > math.log(_MERGE_ABOVE)) & (ng_d > 1))[0]
    for r in merge_rows:  # general inputs only: merge dead groups into a minimum chain cover
        cols = np.nonzero(dead_push[r])[0]
        g, k = _patience_chains(c[r, cols], gap[r, cols])
        sz = np.bincount(g)
        new_log = np.log1p(sizes_a[r]).sum() + np.log1p(sz).sum() - np.log1p(sz.max())
        if new_log < logn[r]:
            gid_d[r, cols], rank_d[r, cols], ng_d[r] = g, k, len(sz)
    if len(merge_rows):
        sizes_d = _sizes(gid_d, ng_d)
        logn = _log_candidates(sizes_a, sizes_d)
    too_many = np.nonzero(logn > math.log(max_candidates) + 1e-9)[0]
    if len(too_many):
        r = int(too_many[0])
        raise TooManyCandidates(
            f"max_candidates: sample {r} needs about {math.exp(logn[r]):.3g} pushed-set candidates "
            f"(> max_candidates = {max_candidates}); the exact l2 attack is exponential in the number "
            "of pushable features that form no chains (general inputs, e.g. sigma > 0 with eps > b). "
            "Raise max_candidates, reduce d or eps, or use PGD for a bound."
        )
    return _Chains(gid_a, rank_a, ng_a, gid_d, rank_d, ng_d, sizes_a, sizes_d)


@dataclass(frozen=True)
class _Candidates:
    """The enumerated candidates (docstring (d), (e)): per row, a count of pushed features for
    every chain but the longest dead one (the digits of a mixed-radix index), and that chain's
    count found by bisection. ``setup`` evaluates a batch of candidate indices."""

    wf: _WaterFill
    wf_forced: np.ndarray  # (R, m) forced features among the water-filling ones
    wf_gid: np.ndarray  # (R, m) alpha chain of each water-filling feature (-1: never pushed)
    wf_rank: np.ndarray  # (R, m)
    L_min: np.ndarray  # (R,) linear mass: linear and forced features
    K0: np.ndarray  # (R,) gap cost of the forced features
    radix: np.ndarray  # (R, Ge) chain lengths + 1 of the enumerated chains
    S2e: np.ndarray  # (R, Ge, Le + 1) prefix sums of c^2 along each enumerated chain
    S1e: np.ndarray  # (R, Ge, Le + 1) prefix sums of c * gap
    P2: np.ndarray  # (R, Nb + 1) the same along the bisected chain
    P1: np.ndarray
    nb: np.ndarray  # (R,) length of the bisected chain
    is_big: np.ndarray  # (R, d) feature on the bisected chain
    eidx_d: np.ndarray  # (R, d) enumerated-chain index of each dead feature off it (-1 elsewhere)
    eps2: float

    @property
    def n_cand(self) -> np.ndarray:
        return np.prod(self.radix, axis=1).astype(np.int64)

    def setup(self, idx, starts):
        """Rows, digits, linear mass, gap cost, unpushed mask and water-filling tables of ``idx``."""
        Ge = self.radix.shape[1]
        row = np.searchsorted(starts, idx, side="right") - 1
        local = idx - starts[row]
        digits = np.zeros((len(idx), Ge), dtype=np.int64)
        for g in range(Ge):
            rg = self.radix[row, g]
            digits[:, g] = local % rg
            local = local // rg
        L = self.L_min[row].copy()
        K = self.K0[row].copy()
        for g in range(Ge):
            L += self.S2e[row, g, digits[:, g]]
            K += self.S1e[row, g, digits[:, g]]
        gidr = self.wf_gid[row]
        kpush = np.take_along_axis(digits, np.maximum(gidr, 0), axis=1) if Ge else np.zeros_like(gidr)
        act = self.wf.valid[row] & ~self.wf_forced[row] & ((gidr < 0) | (self.wf_rank[row] >= kpush))
        return row, digits, L, K, act, self.wf.tables(act, row)

    def value(self, sel, row, L, k, tables):
        """Value (before the gap cost K) of candidates ``sel`` with ``k`` pushed on the bisected chain."""
        sub = tuple(x[sel] for x in tables)
        return _phi(L[sel] + self.P2[row[sel], k], sub, self.eps2) - self.P1[row[sel], k]


def _candidates(c, gap, eps, forced, wf: _WaterFill, ch: _Chains, L0) -> _Candidates:
    """Docstring (e): the longest dead chain of each row is bisected; the other chains enumerated."""
    R, _ = c.shape
    L_min = L0 + np.where(forced, c * c, 0.0).sum(axis=1)
    K0 = np.where(forced, c * gap, 0.0).sum(axis=1)
    sizes_a, sizes_d, ng_a, ng_d, gid_d = ch.sizes_a, ch.sizes_d, ch.ng_a, ch.ng_d, ch.gid_d
    Gd = sizes_d.shape[1]
    big = np.argmax(sizes_d, axis=1) if Gd else np.zeros(R, dtype=np.int64)
    nb = sizes_d[np.arange(R), big] if Gd else np.zeros(R, dtype=np.int64)
    is_big = (gid_d >= 0) & (gid_d == big[:, None])
    # Enumerated chains per row: alpha chains first, then dead chains except the big one.
    eidx_d = np.where((gid_d >= 0) & ~is_big, ng_a[:, None] + gid_d - (gid_d > big[:, None]), -1)
    n_enum = ng_a + np.maximum(ng_d - 1, 0)
    Ge = int(n_enum.max(initial=0))
    sizes_e = np.zeros((R, Ge), dtype=np.int64)
    sizes_e[:, : sizes_a.shape[1]] = sizes_a
    rr, gg = np.nonzero(sizes_d > 0)
    other = gg != big[rr]
    rr, gg = rr[other], gg[other]
    sizes_e[rr, ng_a[rr] + gg - (gg > big[rr])] = sizes_d[rr, gg]
    Le = int(sizes_e.max(initial=0))

    # Prefix sums of c^2 and c*gap along each chain (pushing the first k costs sum c*gap).
    c2 = c * c
    cg = c * gap
    S2e = np.zeros((R, Ge, Le + 1))
    S1e = np.zeros((R, Ge, Le + 1))
    for gid_x, rank_x in ((np.where(ch.gid_a >= 0, ch.gid_a, -1), ch.rank_a), (eidx_d, ch.rank_d)):
        rr, cc = np.nonzero(gid_x >= 0)
        S2e[rr, gid_x[rr, cc], rank_x[rr, cc] + 1] = c2[rr, cc]
        S1e[rr, gid_x[rr, cc], rank_x[rr, cc] + 1] = cg[rr, cc]
    S2e = np.cumsum(S2e, axis=2)
    S1e = np.cumsum(S1e, axis=2)
    Nb = int(nb.max(initial=0))
    P2 = np.zeros((R, Nb + 1))
    P1 = np.zeros((R, Nb + 1))
    rr, cc = np.nonzero(is_big)
    P2[rr, ch.rank_d[rr, cc] + 1] = c2[rr, cc]
    P1[rr, ch.rank_d[rr, cc] + 1] = cg[rr, cc]
    P2 = np.cumsum(P2, axis=1)
    P1 = np.cumsum(P1, axis=1)

    wf_gid = np.where(wf.valid, wf.gather(ch.gid_a), -1)  # -1: never pushed
    wf_rank = wf.gather(ch.rank_a)
    return _Candidates(wf, wf.gather(forced), wf_gid, wf_rank, L_min, K0, sizes_e + 1, S2e, S1e, P2, P1, nb,
                       is_big, eidx_d, eps * eps)


def _best_candidates(cand: _Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best candidate index per row and its bisected count (docstring (e)), in memory-bounded
    blocks of whole samples (about ``_CHUNK_ELEMENTS`` table entries each); ties: the first."""
    n_cand = cand.n_cand
    R = n_cand.size
    starts = np.concatenate([[0], np.cumsum(n_cand)[:-1]])
    best = np.empty(R, dtype=np.int64)
    best_kb = np.empty(R, dtype=np.int64)
    ends = np.cumsum(n_cand)
    chunk = max(1, _CHUNK_ELEMENTS // (cand.wf.m + 1))
    r0 = 0
    while r0 < R:
        r1 = max(r0 + 1, int(np.searchsorted(ends, starts[r0] + chunk, side="right")))
        idx = np.arange(starts[r0], ends[r1 - 1])
        row, digits, L, K, act, tables = cand.setup(idx, starts)
        lo = np.zeros(len(idx), dtype=np.int64)
        hi = cand.nb[row].copy()
        while True:
            sel = np.nonzero(lo < hi)[0]
            if not len(sel):
                break
            mid = (lo[sel] + hi[sel]) // 2
            up = cand.value(sel, row, L, mid + 1, tables) - cand.value(sel, row, L, mid, tables) > 0
            lo[sel] = np.where(up, mid + 1, lo[sel])
            hi[sel] = np.where(up, hi[sel], mid)
        F = cand.value(np.arange(len(idx)), row, L, lo, tables) - K
        seg = starts[r0:r1] - starts[r0]
        hit = np.nonzero(F >= np.maximum.reduceat(F, seg)[row - r0])[0]
        _, first = np.unique(row[hit], return_index=True)
        best[r0:r1] = idx[hit[first]]
        best_kb[r0:r1] = lo[hit[first]]
        r0 = r1
    return best, best_kb, starts


def _optimal_t(c, alpha, gap, eps, linear, forced, dead_push, ch: _Chains, cand: _Candidates, best, kb,
               starts):
    """Rebuild the optimal ``t`` (R, d) of the best candidates, with the water level and counts."""
    wf = cand.wf
    row, digits, L, K, act, tables = cand.setup(best, starts)
    _, ns, tau = _phi(L + cand.P2[row, kb], tables, cand.eps2, details=True)
    tau_f = np.where(np.isfinite(tau), tau, 0.0)[:, None]
    t = np.where(linear, c * tau_f, 0.0)
    j = np.arange(wf.m)[None, :]
    t_wf = np.where(act & (j < ns[:, None]), wf.alpha, np.sqrt(wf.c2) * tau_f)
    rr, jj = np.nonzero(wf.valid)
    t[rr, wf.col[rr, jj]] = t_wf[rr, jj]
    Ge = cand.radix.shape[1]
    k_dead = np.take_along_axis(digits, np.maximum(cand.eidx_d, 0), axis=1) if Ge else np.zeros_like(cand.eidx_d)
    rank_d = ch.rank_d
    pushed_dead = dead_push & np.where(cand.is_big, rank_d < kb[:, None], (cand.eidx_d >= 0) & (rank_d < k_dead))
    t = np.where(pushed_dead | forced, c * tau_f, t)
    norm = np.sqrt((t * t).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t *= np.where(norm > eps, eps / np.where(norm > 0, norm, 1.0), 1.0)[:, None]  # rounding only
    n_pushed = np.count_nonzero((gap > 0) & (t > alpha + gap), axis=1)
    n_sat = np.count_nonzero(act & (j < ns[:, None]), axis=1)
    return t, tau, n_pushed, n_sat


def _solve(c, alpha, gap, eps, max_candidates):
    """Optimal ``t`` (n, d) of ``max sum psi_i(t_i) s.t. ||t|| <= eps`` and diagnostics.

    Steps (module docstring): water-filling layout (a); deciding features by crossing and level
    bounds (b, c); chains (d); candidates, the longest dead chain bisected (e); the best candidate
    per sample; its optimal t. Returns ``(t, tau, n_pushed, n_saturated, n_candidates)``.
    """
    R, d = c.shape
    if R == 0 or d == 0:
        z = np.zeros(R, dtype=np.int64)
        return np.zeros((R, d)), np.full(R, np.inf), z, z, z + 1
    linear = (c > 0) & (gap == 0)
    L0 = np.where(linear, c * c, 0.0).sum(axis=1)
    wf = _waterfill_layout(c, alpha, gap)
    pushable, forced = _decide_features(c, alpha, gap, eps, L0, wf)
    dead_push = pushable & (alpha == 0)
    ch = _chains(c, alpha, gap, pushable & (alpha > 0), dead_push, max_candidates)
    cand = _candidates(c, gap, eps, forced, wf, ch, L0)
    best, kb, starts = _best_candidates(cand)
    t, tau, n_pushed, n_sat = _optimal_t(c, alpha, gap, eps, linear, forced, dead_push, ch, cand, best, kb, starts)
    return t, tau, n_pushed, n_sat, cand.n_cand


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def _as_rows(name: str, x) -> np.ndarray:
    arr = require_array(name, x)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be a (d,) or (n, d) array, got shape {arr.shape}")
    return arr


def pure_l2_min_margin(coef, v, b, eps: float, *, offset=0.0, max_candidates: int = 2**16) -> PureL2Result:
    """Exact ``min_{||u||_2 <= eps} offset + sum_i coef_i A(v_i + u_i; b_i)`` per row.

    coef, v: (n, d) or (d,) (broadcast against each other); b: scalar, (d,) or (n, d), ``>= 0``;
    offset: scalar or (n,) added to every margin (``y c`` for a net with output bias c).
    Exact by the algorithm of the module docstring; :class:`numerics.errors.TooManyCandidates`
    (a ``ValueError`` naming ``max_candidates``) when a sample needs more than ``max_candidates``
    enumerated pushed sets. 1-D inputs give
    scalar-shaped results (``margin`` shape ``()``, ``u`` shape ``(d,)``).
    """
    eps = require_real("eps", eps, low=0.0)
    coef = _as_rows("coef", coef)
    v = _as_rows("v", v)
    max_candidates = require_int("max_candidates", max_candidates, low=1)
    squeeze = coef.ndim == 1 and v.ndim == 1
    coef2, v2 = np.atleast_2d(coef), np.atleast_2d(v)
    d = coef2.shape[1]
    if v2.shape[1] != d:
        raise ValueError(f"v must have d = {d} features like coef, got shape {v.shape}")
    n = max(coef2.shape[0], v2.shape[0])
    if coef2.shape[0] not in (1, n) or v2.shape[0] not in (1, n):
        raise ValueError(f"v must have as many rows as coef (or one), got {v.shape} and {coef.shape}")
    coef2 = np.broadcast_to(coef2, (n, d))
    v2 = np.broadcast_to(v2, (n, d))
    b = require_array("b", b, nonnegative=True)
    if b.ndim > 2 or (b.ndim >= 1 and b.shape[-1] != d) or (b.ndim == 2 and b.shape[0] not in (1, n)):
        raise ValueError(f"b must be a scalar, (d,) or (n, d) array with d = {d}, n = {n}, got shape {b.shape}")
    b2 = np.broadcast_to(b, (n, d))
    off = require_array("offset", offset)
    if off.ndim > 1 or (off.ndim == 1 and off.shape[0] not in (1, n)):
        raise ValueError(f"offset must be a scalar or an (n,) array with n = {n}, got shape {off.shape}")
    off = np.broadcast_to(off, (n,))

    c, alpha, gap = damage_pieces(coef2, v2, b2)
    t, tau, n_pushed, n_sat, n_cand = _solve(c, alpha, gap, eps, max_candidates)
    u = -np.sign(coef2) * t + 0.0  # + 0.0: no negative zeros
    clean = off + (coef2 * soft_threshold(v2, b2)).sum(axis=1)
    margin = off + (coef2 * soft_threshold(v2 + u, b2)).sum(axis=1)
    res = PureL2Result(
        margin=margin, u=u, clean_margin=clean, tau=tau, n_pushed=n_pushed, n_saturated=n_sat,
        n_candidates=n_cand, easy=(n_pushed == 0) & (n_sat == 0),
    )
    if squeeze:
        res = PureL2Result(**{k: (None if x is None else x[0]) for k, x in res.__dict__.items()})
    return res


def pure_net_min_margin(net: TwoLayerNet, x, y, eps: float, M, *, max_candidates: int = 2**16) -> PureL2Result:
    """Exact l2 robust margin ``min_{||delta|| <= eps} y f(x + delta)`` of a pure net.

    ``net`` must have ``family == "pure"``, the soft threshold and ``W = M^T`` (node j reads
    feature ``M_j``), ``M`` orthogonal. x: (n, d), y: (n,). ``delta = u M^T`` is returned too.
    """
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net must be a TwoLayerNet, got {type(net).__name__}")
    if net.family != "pure" or net.activation != "soft_threshold":
        raise ValueError(f"net must be a pure soft-threshold net (family 'pure'), got family {net.family!r}")
    M = require_array("M", M, ndim=2)
    d = net.d
    if M.shape != (d, d) or net.m != d:
        raise ValueError(f"M must have shape ({d}, {d}) matching net (m = {net.m}), got {M.shape}")
    if not np.allclose(M.T @ M, np.eye(d), atol=1e-8):
        raise ValueError("M must be orthogonal (M^T M = I)")
    if not np.allclose(net.W, M.T, atol=1e-10):
        raise ValueError("net.W rows must be the columns of M (a pure net built on this M)")
    x = require_array("x", x, shape=(None, d))
    y = require_array("y", y, shape=(x.shape[0],))
    res = pure_l2_min_margin(y[:, None] * net.a[None, :], x @ M, net.b, eps, offset=y * net.c,
                             max_candidates=max_candidates)
    return replace(res, delta=res.u @ M.T)
