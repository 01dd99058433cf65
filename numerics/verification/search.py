"""Complete verification of two-layer nets: bounds, attacks and branch and bound (``verify``).

Per sample, ``verify`` decides whether ``min_{||delta||_q <= eps} y f(x + delta) > threshold``:

1. Attack: the suite's PGD (:func:`numerics.attacks.pgd.pgd_attack` with ``PGD_DEFAULTS``).
   Every candidate perturbation is projected into the ball and its margin is evaluated by the
   numpy net in float64; the lowest is ``upper`` and its perturbation the ``witness``.
   ``upper <= threshold`` decides "attackable".
2. Root bound: the optimised linear relaxation (Adam), then the quadratic Lagrangian of
   :mod:`numerics.verification.bounds` (smoothed Newton), both sound for any multipliers.
   ``lower > threshold`` decides "robust". Each Lagrangian minimiser over delta is also an
   attack candidate.
3. For the undecided samples: ``extra_restarts`` more PGD restarts (dead zones hide errors from
   gradients; random starts find most of them), then, where the search tree is too large to
   enumerate within the budget, a portfolio of longer root optimisations (Newton from three
   curvatures, Adam, a Newton polish): the quadratic Lagrangian's optimum lies near the
   boundary of its domain, where no single optimiser is reliable.
4. Branch and bound over the nodes whose activation bends inside their range: a branch is a
   box ``s_j in [lo_j, hi_j]`` on the pre-activation offsets ``s = W delta``; a split cuts one
   node's range at the activation's breakpoints (soft threshold: up to three children, left,
   dead zone, right; ReLU: two), so that in each child that node is linear. A child is bounded
   from its parent's multipliers (so never below the parent) and afresh (linear relaxation
   warm-started from the parent's gamma, lifted to the quadratic family, Newton), the better
   kept. A branch in which every node is linear (a leaf) is a convex problem solved exactly
   (LP by HiGHS for l_inf, SLSQP with KKT multipliers for l2) and certified by the linear
   relaxation at the solver's multipliers; its minimiser is the exact minimiser of that linear
   piece, an attack candidate. A branch whose bound exceeds the threshold is closed. Robust
   when no branch is open; attackable when a candidate reaches the threshold; unknown when the
   budget runs out (or when an exactly solved leaf sits on the threshold up to the solver's
   accuracy: ``details["float_ties"]``).

Which node to split: at a Lagrangian optimum a node whose term is attained in two pieces at
once (a tie) is where the relaxation mixes two activation states. The score is ``|alpha_j|``
times the spread of node j's candidate minimisers under soft-minimum weights (plus the gap
``phi_j(<W_j, delta*>) - phi_j(s*_j)`` as a tie-break). Branches are processed best-first
(lowest bound) per sample, batched over samples and branches; samples in chunks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import numpy as np
import torch

from ..attacks.pgd import PGD_DEFAULTS, PGDSettings, pgd_attack
from ..errors import check_ordered
from ..validation import require_array, require_choice, require_int, require_real
from . import bounds as bd
from .problem import Problem, as_two_layer, build_problem

STATUSES = ("robust", "attackable", "unknown")
RELAXATIONS = ("auto", "quadratic", "linear")
QUADRATIC_MAX_ENTRIES = 1 << 22  # m d^2 above this: the quadratic family's d x d work costs too much ("auto")
CHUNK_ELEMENTS = 1 << 22  # samples x nodes x candidates per chunk of samples searched at once


@dataclass(frozen=True)
class Budget:
    """Resources per sample: ``branches`` (sub-problems bounded, the root included; >= 1) and
    ``seconds`` (wall-clock attributed to the sample, None = no limit; makes results
    machine-dependent). A sample still open when either runs out is "unknown"."""

    branches: int = 3000
    seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", require_int("branches", self.branches, low=1))
        if self.seconds is not None:
            object.__setattr__(self, "seconds", require_real("seconds", self.seconds, low=0.0, low_open=True))


@dataclass(frozen=True)
class SearchOptions:
    """Algorithm settings (the defaults are the tested ones).

    relaxation: "quadratic" (the quadratic Lagrangian), "linear" (the optimised linear
    relaxation only) or "auto" (quadratic when ``m d^2 <= QUADRATIC_MAX_ENTRIES``); linear_iters,
    root_iters: Adam steps of the root bound (linear, then quadratic); branch_iters: steps per
    child; batch: most branches bounded at once; pgd: the root attack's settings (the suite's
    defaults, so that ``pgd_upper`` is what the suite's PGD finds); extra_restarts: PGD restarts
    (same steps, other seeds) for the samples the root bound leaves undecided, before branching
    (dead zones hide errors from gradients; many random starts find most of them cheaply);
    polish_iters: Newton steps of each run of the root portfolio for undecided samples (0: off).
    """

    relaxation: str = "auto"
    linear_iters: int = 30
    root_iters: int = 30
    branch_iters: int = 15
    batch: int = 1024
    pgd: PGDSettings = PGD_DEFAULTS
    extra_restarts: int = 200
    polish_iters: int = 100

    def __post_init__(self) -> None:
        require_choice("relaxation", self.relaxation, RELAXATIONS)
        for name, low in (("linear_iters", 1), ("root_iters", 0), ("branch_iters", 1), ("batch", 4),
                          ("extra_restarts", 0), ("polish_iters", 0)):
            object.__setattr__(self, name, require_int(name, getattr(self, name), low=low))
        if not isinstance(self.pgd, PGDSettings):
            raise ValueError(f"pgd must be a PGDSettings, got {type(self.pgd).__name__}")


@dataclass(frozen=True)
class Verification:
    """Per-sample result of :func:`verify` (n samples).

    status: "robust" (``lower > threshold``), "attackable" (``upper <= threshold``, a witness)
    or "unknown" (budget exhausted); lower: sound lower bound on the worst-case margin;
    upper: lowest margin reached by an attack (``y f(x + witness)`` in float64);
    witness: (n, d) perturbation with ``||witness|| <= eps`` reaching ``upper``;
    branches: sub-problems bounded; evaluations: bound evaluations; seconds: wall-clock
    attributed; found_by: "pgd" (the root PGD), "pgd_restarts" (the extra restarts on undecided
    samples) or "bound" (a Lagrangian minimiser of a branch): which search found the witness; pgd_upper:
    the margin the root PGD alone reached (so ``attackable & (pgd_upper > threshold)`` are the
    errors PGD missed: a measure of gradient masking).
    """

    status: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    witness: np.ndarray
    branches: np.ndarray
    evaluations: np.ndarray
    seconds: np.ndarray
    found_by: np.ndarray
    pgd_upper: np.ndarray
    eps: float
    norm: str
    threshold: np.ndarray
    details: dict = field(default_factory=dict, compare=False)

    @property
    def robust(self) -> np.ndarray:
        return self.status == "robust"

    @property
    def attackable(self) -> np.ndarray:
        return self.status == "attackable"

    @property
    def unknown(self) -> np.ndarray:
        return self.status == "unknown"

    @property
    def decided(self) -> np.ndarray:
        return self.status != "unknown"

    @property
    def pgd_missed(self) -> np.ndarray:
        """Attackable samples whose error the root PGD did not find."""
        return self.attackable & (self.pgd_upper > self.threshold)

    def counts(self) -> dict:
        out = {s: int((self.status == s).sum()) for s in STATUSES}
        out["pgd_missed"] = int(self.pgd_missed.sum())
        return out


class _Witnesses:
    """Best attack candidate per sample (numpy, float64)."""

    def __init__(self, prob: Problem):
        self.prob = prob
        self.upper = np.full(prob.n, np.inf)
        self.delta = np.zeros((prob.n, prob.d))
        self.found_by = np.full(prob.n, "none", dtype=object)

    def project(self, delta: np.ndarray) -> np.ndarray:
        eps = self.prob.eps
        if self.prob.norm == "linf":
            return np.clip(delta, -eps, eps)
        nrm = np.linalg.norm(delta, axis=1)
        cap = eps * (1.0 - 1e-12)  # strictly inside: the float norm of the result is <= eps
        scale = np.where(nrm > cap, cap / np.where(nrm > 0, nrm, 1.0), 1.0)
        return delta * scale[:, None]

    def offer(self, rows: np.ndarray, delta: np.ndarray, source: str) -> None:
        if len(rows) == 0:
            return
        delta = self.project(delta)
        marg = self.prob.margins(delta, rows)
        # several candidates may belong to one sample: keep each sample's lowest
        order = np.lexsort((marg, rows))
        rows, marg, delta = rows[order], marg[order], delta[order]
        first = np.r_[True, rows[1:] != rows[:-1]]
        rows, marg, delta = rows[first], marg[first], delta[first]
        better = marg < self.upper[rows]
        r = rows[better]
        self.upper[r] = marg[better]
        self.delta[r] = delta[better]
        self.found_by[r] = source


def _thresholds(threshold, n: int) -> np.ndarray:
    thr = require_array("threshold", threshold)
    if thr.ndim > 1 or (thr.ndim == 1 and thr.shape[0] != n):
        raise ValueError(f"threshold must be a scalar or an (n,) array with n = {n}, got shape {thr.shape}")
    return np.broadcast_to(thr, (n,)).astype(np.float64).copy()


def verify(net, x, y, eps: float, norm: str = "l2", *, budget: Budget | None = None, threshold=0.0,
           seed: int = 0, options: SearchOptions | None = None) -> Verification:
    """Decide per sample whether ``min_{||delta||_norm <= eps} y f(x + delta) > threshold``.

    net: :class:`~numerics.networks.TwoLayerNet` or :class:`~numerics.torch_nets.TorchTwoLayer`
    (soft threshold or ReLU with intercept, any weights; evaluated in float64); x (n, d);
    y (n,) labels (any reals; the margin is ``y f``); eps >= 0; norm "l2" | "linf";
    budget: :class:`Budget` (default ``Budget()``); threshold: scalar or (n,), the margin at
    or below which a sample counts as an error (0: ``margin <= 0`` is an error, ties
    included); seed: the PGD restarts' seed; options: :class:`SearchOptions`.
    """
    budget = Budget() if budget is None else budget
    if not isinstance(budget, Budget):
        raise ValueError(f"budget must be a Budget, got {type(budget).__name__}")
    options = SearchOptions() if options is None else options
    if not isinstance(options, SearchOptions):
        raise ValueError(f"options must be a SearchOptions, got {type(options).__name__}")
    seed = require_int("seed", seed, low=0)
    net = as_two_layer(net)
    small = net.m * net.d**2 <= QUADRATIC_MAX_ENTRIES
    quad = options.relaxation == "quadratic" or (options.relaxation == "auto" and small)
    x = require_array("x", x, shape=(None, net.d))
    if x.shape[0] == 0:
        raise ValueError("x must have at least one row (n >= 1), got 0")
    y = require_array("y", y, shape=(x.shape[0],))
    thr = _thresholds(threshold, x.shape[0])
    chunk = max(1, CHUNK_ELEMENTS // (net.m * 8))
    parts = []
    for start in range(0, max(x.shape[0], 1), chunk):
        sl = slice(start, start + chunk)
        prob = build_problem(net, x[sl], y[sl], eps, norm, quadratic=quad)
        with torch.no_grad():
            parts.append(_Search(prob, thr[sl], budget, options, seed, quad).run())
    return parts[0] if len(parts) == 1 else _concat(parts)


def _concat(parts: list[Verification]) -> Verification:
    cat = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
           for f in fields(Verification) if f.name not in ("eps", "norm", "details")}
    details = dict(parts[0].details, float_ties=np.concatenate([p.details["float_ties"] for p in parts]))
    return Verification(**cat, eps=parts[0].eps, norm=parts[0].norm, details=details)


class _Search:
    def __init__(self, prob: Problem, thr: np.ndarray, budget: Budget, options: SearchOptions, seed: int,
                 quadratic: bool):
        self.prob, self.thr, self.budget, self.opt, self.seed = prob, thr, budget, options, seed
        n = prob.n
        self.wit = _Witnesses(prob)
        self.lower = np.full(n, -np.inf)
        self.closed_min = np.full(n, np.inf)  # min bound over closed leaves
        self.branches = np.zeros(n, dtype=np.int64)
        self.evals = np.zeros(n, dtype=np.int64)
        self.seconds = np.zeros(n)
        self.open = np.ones(n, dtype=bool)  # still being searched
        self.status = np.full(n, "unknown", dtype=object)
        self.ties = np.zeros(n, dtype=bool)  # left unknown: worst case within solver accuracy of the threshold
        self.family = "quadratic" if quadratic and prob.eps > 0 else "linear"
        self.thr_t = torch.as_tensor(thr, dtype=torch.float64)

    # ------------------------------------------------------------------ phases

    def run(self) -> Verification:
        prob = self.prob
        if prob.n:
            self._attack()
            self._root()
            self._more_restarts()
            self._polish_root()
            self._branch_and_bound()
        self._finish_unknown()
        lower = np.where(self.status == "robust", self.closed_min, self.lower)
        check_ordered("verify: lower bound vs attack margin", lower, self.wit.upper, scale=prob.scale, rtol=1e-11)
        return Verification(
            status=self.status.astype(str), lower=lower, upper=self.wit.upper.copy(), witness=self.wit.delta.copy(),
            branches=self.branches, evaluations=self.evals, seconds=self.seconds,
            found_by=self.wit.found_by.astype(str), pgd_upper=self.pgd_upper, eps=prob.eps, norm=prob.norm,
            threshold=self.thr,
            details={"relaxation": self.family, "budget": self.budget, "options": self.opt,
                     "float_ties": self.ties.copy()},
        )

    def _charge(self, rows: np.ndarray, seconds: float, weights: np.ndarray | None = None) -> None:
        if len(rows) == 0:
            return
        w = np.ones(len(rows)) if weights is None else weights.astype(np.float64)
        np.add.at(self.seconds, rows, seconds * w / w.sum())

    def _decide(self) -> None:
        """Attackable where the witness reaches the threshold."""
        att = self.open & (self.wit.upper <= self.thr)
        self.status[att] = "attackable"
        self.open &= ~att

    def _decide_at_root(self) -> None:
        """Attackable as in :meth:`_decide`; robust where the root bound exceeds the threshold."""
        self._decide()
        robust = self.open & (self.lower > self.thr)
        self.status[robust] = "robust"
        self.closed_min[robust] = self.lower[robust]
        self.open &= ~robust

    def _attack(self) -> None:
        t0 = time.perf_counter()
        prob, pgd = self.prob, self.opt.pgd
        rows = np.arange(prob.n)
        self.wit.offer(rows, np.zeros((prob.n, prob.d)), "pgd")  # delta = 0 is in the ball
        if prob.eps > 0:
            xt = torch.as_tensor(prob.x, dtype=torch.float64)
            yt = torch.as_tensor(prob.y, dtype=torch.float64)
            delta = pgd_attack(prob.net, xt, yt, prob.eps, prob.norm, pgd.steps, pgd.restarts,
                               pgd.step_size(prob.eps), seed=self.seed, zero_start=pgd.zero_start)
            self.wit.offer(rows, delta.numpy(), "pgd")
        self.pgd_upper = self.wit.upper.copy()
        self._decide()
        self._charge(rows, time.perf_counter() - t0)

    def _polish_root(self) -> None:
        """A portfolio of longer optimisations of the root bound for the samples still undecided.

        Every multiplier gives a sound bound, so the best of several runs is sound too; the
        quadratic Lagrangian's optimum sits near the boundary of its domain, where no single
        optimiser is reliable: Newton from three starting curvatures, then Adam from the best
        point and a final Newton polish. Only for samples whose search tree is too large to
        enumerate within the budget (on small nets branching is cheaper).
        """
        if self.family != "quadratic" or not self.open.any() or self.opt.polish_iters == 0:
            return
        t0 = time.perf_counter()
        prob = self.prob
        idx, lo, hi, res = self.root
        # only where branch and bound could not enumerate the tree within the budget: with U
        # unstable nodes it has up to (K + 1)^U leaves
        unstable = bd.has_kink(prob, idx, lo, hi).sum(dim=1).numpy()
        big = unstable * np.log(prob.kinks.shape[1] + 1) > np.log(self.budget.branches)
        rows = torch.nonzero(torch.as_tensor(self.open & big))[:, 0]
        if rows.numel() == 0:
            return
        ri, rlo, rhi = idx[rows], lo[rows], hi[rows]
        stop = self.thr_t[ri]
        lin = bd.Multipliers(self.root_mult.gamma[rows], torch.zeros_like(self.root_mult.D[rows]),
                             self.root_mult.rho[rows])
        best = bd.Optimised(res.value[rows].clone(), res.s[rows].clone(), res.delta[rows].clone(),
                            self.root_mult.select(rows), torch.zeros(rows.shape[0], dtype=torch.long))
        it = self.opt.polish_iters
        for c in (0.7, 0.5, 0.3):
            q = bd.lift_to_quadratic(prob, lin, curvature=c)
            out = bd.newton(prob, ri, rlo, rhi, q, it, stop=stop, tau=(1e-1, 1e-4))
            best.evaluations += out.evaluations
            _take(best, out, torch.arange(rows.shape[0]))
        out = bd.optimise(prob, ri, rlo, rhi, best.mult, "quadratic", 10 * it, stop=stop, lr=0.05, lr_final=0.002)
        best.evaluations += out.evaluations
        _take(best, out, torch.arange(rows.shape[0]))
        out = bd.newton(prob, ri, rlo, rhi, best.mult, it // 2, stop=stop, tau=(1e-3, 1e-6))
        best.evaluations += out.evaluations
        _take(best, out, torch.arange(rows.shape[0]))
        self.evals[rows.numpy()] += best.evaluations.numpy()
        self.wit.offer(rows.numpy(), best.delta.numpy(), "bound")
        res.value[rows], res.s[rows], res.delta[rows] = best.value, best.s, best.delta
        for f in ("gamma", "D", "rho"):
            getattr(self.root_mult, f)[rows] = getattr(best.mult, f)
        r = rows.numpy()
        self.lower[r] = best.value.numpy()
        self._decide_at_root()
        self._charge(r, time.perf_counter() - t0)

    def _more_restarts(self) -> None:
        rows = np.nonzero(self.open)[0]
        if not len(rows) or self.opt.extra_restarts == 0 or self.prob.eps == 0:
            return
        t0 = time.perf_counter()
        prob, pgd = self.prob, self.opt.pgd
        xt = torch.as_tensor(prob.x[rows], dtype=torch.float64)
        yt = torch.as_tensor(prob.y[rows], dtype=torch.float64)
        delta = pgd_attack(prob.net, xt, yt, prob.eps, prob.norm, pgd.steps, self.opt.extra_restarts,
                           pgd.step_size(prob.eps), seed=self.seed + 1, zero_start=False)
        self.wit.offer(rows, delta.numpy(), "pgd_restarts")
        self._decide()
        self._charge(rows, time.perf_counter() - t0)

    def _root(self) -> None:
        t0 = time.perf_counter()
        prob, n = self.prob, self.prob.n
        idx = torch.arange(n)
        lo = (-prob.r).expand(n, -1).clone()
        hi = prob.r.expand(n, -1).clone()
        stop = torch.as_tensor(np.where(self.open, self.thr, -np.inf), dtype=torch.float64)
        mult = bd.initial_multipliers(prob, idx, lo, hi)
        res = bd.optimise(prob, idx, lo, hi, mult, "linear", self.opt.linear_iters, stop=stop)
        self.evals += res.evaluations.numpy()
        self.branches += 1
        self.wit.offer(np.arange(n), res.delta.numpy(), "bound")
        self._decide()
        if self.family == "quadratic":
            need = torch.as_tensor(self.open) & (res.value <= stop)
            rows = torch.nonzero(need)[:, 0]
            if rows.numel():
                q = bd.lift_to_quadratic(prob, res.mult.select(rows), curvature=0.5)
                rq = bd.newton(prob, idx[rows], lo[rows], hi[rows], q, self.opt.root_iters, stop=stop[rows],
                               tau=(1e-1, 1e-3))
                self.evals[rows.numpy()] += rq.evaluations.numpy()
                better = rq.value > res.value[rows]
                res.value[rows] = torch.maximum(rq.value, res.value[rows])
                res.s[rows[better]] = rq.s[better]
                res.delta[rows[better]] = rq.delta[better]
                self.wit.offer(rows.numpy(), rq.delta.numpy(), "bound")
                # the quadratic point is the one branches continue from
                self.root_mult = bd.lift_to_quadratic(prob, res.mult)
                for f in ("gamma", "D", "rho"):
                    getattr(self.root_mult, f)[rows] = getattr(rq.mult, f)
            else:
                self.root_mult = bd.lift_to_quadratic(prob, res.mult)
        else:
            self.root_mult = res.mult
        self.lower = res.value.numpy().copy()
        self._decide_at_root()
        self.root = (idx, lo, hi, res)
        self._charge(np.arange(n), time.perf_counter() - t0)

    # ------------------------------------------------------------------ branch and bound

    def _branch_and_bound(self) -> None:
        prob = self.prob
        idx, lo, hi, res = self.root
        keep = torch.as_tensor(self.open)
        pool = _Pool(idx[keep], lo[keep], hi[keep], self.root_mult.select(keep), res.value[keep],
                     res.s[keep], res.delta[keep])
        K1 = prob.kinks.shape[1] + 1  # most children of one split
        while True:
            self._budget_check()
            live = torch.as_tensor(self.open)[pool.idx]
            if not bool(live.any()):
                break
            t0 = time.perf_counter()
            pool = pool.select(live)
            active = np.unique(pool.idx.numpy())
            quota = max(1, self.opt.batch // (K1 * len(active)))
            quota = min(quota, int(self.budget.branches))
            take = _lowest_per_sample(pool.idx, pool.value, quota)
            sel, rest = pool.select(take), pool.select(~take)
            children, leaves = self._split(sel)
            stop_c, stop_l = self.thr_t[children.idx], self.thr_t[leaves.idx]
            leaf_out, leaf_solved = self._solve_leaves(leaves)
            out = _cat_optimised(self._bound(children, stop_c), leaf_out)
            work = children.cat(leaves)
            stop = torch.cat([stop_c, stop_l])
            widx = work.idx.numpy()
            np.add.at(self.evals, widx, out.evaluations.numpy())
            np.add.at(self.branches, widx, 1)
            self.wit.offer(widx, out.delta.numpy(), "bound")
            solved = torch.cat([torch.zeros(children.idx.shape[0], dtype=torch.bool), leaf_solved])
            work = _Pool(work.idx, work.lo, work.hi, out.mult, out.value, out.s, out.delta)
            closed = out.value > stop
            if bool(closed.any()):
                ci = work.idx[closed].numpy()
                np.minimum.at(self.closed_min, ci, out.value[closed].numpy())
            self._decide()
            # a leaf solved exactly and still open, with no witness: the sample's worst case is
            # the threshold up to the solver's accuracy (a tie in floating point): undecidable
            stuck = (solved & ~closed).numpy()
            if stuck.any():
                tie = np.zeros(prob.n, dtype=bool)
                tie[widx[stuck]] = True
                self.ties |= tie & self.open
                self.open &= ~tie
            pool = rest.cat(work.select(~closed))
            self._decide()
            # robust: sampled searched whose branches are all closed
            has_open = np.zeros(prob.n, dtype=bool)
            has_open[pool.idx.numpy()] = True
            robust = self.open & ~has_open
            self.status[robust] = "robust"
            self.open &= ~robust
            # lower bound of every sample still in the search: min over its leaves
            pmin = np.full(prob.n, np.inf)
            np.minimum.at(pmin, pool.idx.numpy(), pool.value.numpy())
            searched = np.zeros(prob.n, dtype=bool)
            searched[active] = True
            self.lower[searched] = np.minimum(pmin, self.closed_min)[searched]
            self._charge(widx, time.perf_counter() - t0)

    def _bound(self, work: "_Pool", stop: torch.Tensor) -> bd.Optimised:
        """Bound new branches: from the parent's multipliers, and (quadratic) afresh.

        Near the quadratic Lagrangian's optimum Q is nearly singular and Newton steps from
        there mostly leave the domain, so children are also bounded from a fresh start: the
        linear relaxation (warm-started from the parent's gamma: it has no such boundary),
        lifted to the quadratic family and refined by Newton. The better bound is kept.
        """
        prob, opt = self.prob, self.opt
        if work.idx.shape[0] == 0:
            return _empty_optimised(prob, work)
        lin = bd.Multipliers(work.mult.gamma.clone(), torch.zeros_like(work.mult.D), work.mult.rho.clone())
        res = bd.optimise(prob, work.idx, work.lo, work.hi, lin, "linear", opt.linear_iters, stop=stop)
        if self.family == "linear":
            return res
        warm = bd.evaluate(prob, work.idx, work.lo, work.hi, work.mult, "quadratic", grads=False)
        need = res.value <= stop
        rows = torch.nonzero(need)[:, 0]
        if rows.numel():
            q = bd.lift_to_quadratic(prob, res.mult.select(rows), curvature=0.5)
            rq = bd.newton(prob, work.idx[rows], work.lo[rows], work.hi[rows], q, opt.branch_iters, stop=stop[rows],
                           tau=(1e-1, 1e-3))
            res.evaluations[rows] += rq.evaluations
            _take(res, rq, rows)
        res.keep_better(torch.arange(res.value.shape[0]), warm.value > res.value, warm, work.mult)
        res.evaluations += 1
        return res

    def _solve_leaves(self, leaves: "_Pool") -> bd.Optimised:
        """Branches where every node is linear: a convex problem, solved exactly (:func:`~.bounds.solve_leaves`)."""
        prob = self.prob
        if leaves.idx.shape[0] == 0:
            return _empty_optimised(prob, leaves), torch.zeros(0, dtype=torch.bool)
        return bd.solve_leaves(prob, leaves.idx, leaves.lo, leaves.hi, leaves.mult)

    def _budget_check(self) -> None:
        over = self.open & (self.branches >= self.budget.branches)
        if self.budget.seconds is not None:
            over |= self.open & (self.seconds >= self.budget.seconds)
        self.open &= ~over  # left "unknown"

    def _finish_unknown(self) -> None:
        self.status[self.open] = "unknown"
        self.open[:] = False

    def _split(self, sel: "_Pool") -> tuple["_Pool", "_Pool"]:
        """Children of the branches with a node to split; the others (leaves) come back as they are."""
        prob = self.prob
        kinked = bd.has_kink(prob, sel.idx, sel.lo, sel.hi)
        can = kinked.any(dim=1)
        leaves = sel.select(~can)
        par = sel.select(can)
        if par.idx.shape[0] == 0:
            return par, leaves
        score = self._split_scores(par)
        score = torch.where(bd.has_kink(prob, par.idx, par.lo, par.hi), score, torch.full_like(score, -1.0))
        j = score.argmax(dim=1)
        P = par.idx.shape[0]
        rowsP = torch.arange(P)
        cuts = bd.cut_points(prob, par.idx, par.lo, par.hi)[rowsP, j]  # (P, K + 2)
        kids = []
        for k in range(cuts.shape[1] - 1):
            a, b = cuts[:, k], cuts[:, k + 1]
            valid = b > a
            if not bool(valid.any()):
                continue
            rv = rowsP[valid]
            lo = par.lo[rv].clone()
            hi = par.hi[rv].clone()
            lo[torch.arange(rv.shape[0]), j[rv]] = a[valid]
            hi[torch.arange(rv.shape[0]), j[rv]] = b[valid]
            kids.append(_Pool(par.idx[rv], lo, hi, par.mult.select(rv), par.value[rv], par.s[rv], par.delta[rv]))
        children = kids[0]
        for c in kids[1:]:
            children = children.cat(c)
        return children, leaves

    def _split_scores(self, par: "_Pool") -> torch.Tensor:
        """Split score per node: how fractional node j is at the bound's optimum.

        At a Lagrangian optimum a node whose term is attained in two pieces at once (a tie) is
        where the relaxation mixes two activation states; splitting it separates them. The soft
        minimum's weights at a small temperature measure this: the score is ``|alpha_j|`` times the
        standard deviation of node j's minimiser under those weights (0 for a unique minimiser),
        plus the consistency gap ``phi_j(<W_j, delta*>) - phi_j(s*_j)`` as a tie-break.
        """
        prob = self.prob
        mult = par.mult
        quad = self.family == "quadratic"
        D = mult.D if quad else torch.zeros_like(mult.gamma)
        S, val, _ = bd.node_candidates(prob, par.idx, par.lo, par.hi, mult.gamma, D, quad)
        unit = (prob.alpha[par.idx].abs() * prob.r).mean(dim=1).clamp_min(1e-300)
        tau = 1e-2 * unit[:, None, None]
        w = torch.softmax(-(val - val.min(dim=-1, keepdim=True).values) / tau, dim=-1)
        es = (w * S).sum(-1)
        sd = ((w * (S - es[..., None]) ** 2).sum(-1)).clamp_min(0.0).sqrt()
        s_hat = par.delta @ prob.W.T
        Sg = torch.stack([s_hat, par.s], dim=-1)
        vg = prob.psi(par.idx, Sg) + (D[..., None] * Sg - mult.gamma[..., None]) * Sg
        return prob.alpha[par.idx].abs() * sd + 1e-3 * (vg[..., 0] - vg[..., 1])


@dataclass
class _Pool:
    """Open branches (P rows): sample index, node ranges, multipliers, bound and minimisers."""

    idx: torch.Tensor
    lo: torch.Tensor
    hi: torch.Tensor
    mult: bd.Multipliers
    value: torch.Tensor
    s: torch.Tensor
    delta: torch.Tensor

    def select(self, rows) -> "_Pool":
        return _Pool(self.idx[rows], self.lo[rows], self.hi[rows], self.mult.select(rows), self.value[rows],
                     self.s[rows], self.delta[rows])

    def cat(self, other: "_Pool") -> "_Pool":
        return _Pool(torch.cat([self.idx, other.idx]), torch.cat([self.lo, other.lo]), torch.cat([self.hi, other.hi]),
                     bd.Multipliers.cat([self.mult, other.mult]), torch.cat([self.value, other.value]),
                     torch.cat([self.s, other.s]), torch.cat([self.delta, other.delta]))


def _cat_optimised(a: bd.Optimised, b: bd.Optimised) -> bd.Optimised:
    return bd.Optimised(torch.cat([a.value, b.value]), torch.cat([a.s, b.s]), torch.cat([a.delta, b.delta]),
                        bd.Multipliers.cat([a.mult, b.mult]), torch.cat([a.evaluations, b.evaluations]))


def _empty_optimised(prob: Problem, pool: "_Pool") -> bd.Optimised:
    z = torch.zeros((0,), dtype=torch.float64)
    return bd.Optimised(z, pool.s, pool.delta, pool.mult, torch.zeros((0,), dtype=torch.long))


def _take(res: bd.Optimised, new: bd.Optimised, rows: torch.Tensor) -> None:
    """``res[rows] <- new`` where ``new`` is better (in place; multipliers follow the bound)."""
    res.keep_better(rows, new.value > res.value[rows], new, new.mult)


def _lowest_per_sample(idx: torch.Tensor, value: torch.Tensor, quota: int) -> torch.Tensor:
    """Mask of each sample's ``quota`` lowest-bound branches."""
    order = torch.argsort(value, stable=True)
    order = order[torch.argsort(idx[order], stable=True)]
    si = idx[order]
    start = torch.ones_like(si, dtype=torch.bool)
    start[1:] = si[1:] != si[:-1]
    pos = torch.arange(si.shape[0])
    first = torch.cummax(torch.where(start, pos, torch.zeros_like(pos)), dim=0).values
    rank = pos - first
    mask = torch.zeros_like(idx, dtype=torch.bool)
    mask[order[rank < quota]] = True
    return mask
