"""Projected gradient descent on the margin, with random restarts (docs/model.md §3).

Computes a perturbation ``delta`` with ``||delta||_q <= eps`` (q = 2 or inf) that makes the
margin ``y * f(x + delta)`` small. It is an *attack*: the margin it reaches is an upper
bound on the true worst-case margin ``min_{||delta|| <= eps} y f(x + delta)``, so the
robust accuracy it implies is an upper bound too (the certificate in
:mod:`numerics.attacks.certified` gives the matching lower bound).

Algorithm (Madry et al.): start from ``delta_0`` (uniform in the ball, or 0), then
``steps`` times ``delta <- Proj(delta - alpha * dir(grad_delta y f(x + delta)))`` with
``dir = g / ||g||_2`` (l2) or ``sign(g)`` (l_inf) and ``Proj`` the Euclidean projection
on the ball. The lowest margin over every iterate (start and final point included) and every
restart is kept.

Defaults (:data:`PGD_DEFAULTS`, the one place every entry point reads them from): 50 steps,
20 restarts, restart 0 from ``delta = 0``, step ``alpha = eps * max(1/8, 2.5 / steps)``: the
Madry step ``2.5 eps / steps`` up to 20 steps, ``eps / 8`` beyond (the Madry step shrinks as
steps grow, and a shrinking step explores less). Chosen on P3's adversarially trained nets
(d = 32, m = 64, eps = 0.4, 1000 inputs, seeds 0 and 1): the error PGD finds grows mostly
with restarts and with a step of ``eps / 8`` to ``eps / 4``, hardly with steps: 50 steps x 20
restarts found 12.0 % and 14.5 % robust error with ``eps / 8`` against 11.2 % and 13.5 % with
``2.5 eps / 50``, and 11.9 % (seed 0) with 200 steps x 100 restarts at ``2.5 eps / 200`` (30x
the time); 50 steps x 4 restarts (the old risk default) found 9.8 % and 12.4 %. 100 restarts
x 50 steps at ``eps / 8`` found 12.4 % and 14.8 %: even the default misses errors on trained
thresholded nets; use verification (:mod:`numerics.verification`) where it applies. The cost
is about 1.3 ms per input at d = 32, m = 64 on one CPU thread.

Gradients. For two-layer nets (:class:`numerics.networks.TwoLayerNet` or
:class:`numerics.torch_nets.TorchTwoLayer`) the gradient is the closed form
``grad_x f = W^T (a * act'(W x; b))``: one matmul for the pre-activations (which also give
the margin of the current iterate) and one for the gradient, so a step costs two matmuls
of shapes (n, d) x (d, m) and (n, m) x (m, d), no autograd, computed in row blocks that stay
in cache with in-place kernels (:func:`numerics.activations.activate_`,
:func:`numerics.activations.slope_times_`). Any other ``torch.nn.Module`` returning one
score per row is attacked through autograd (gradient with respect to the input only; the
module's parameters get no ``.grad``).

Runs. A runs module (:mod:`numerics.torch_nets`: R nets along a leading axis) is attacked
with x (R, n, d), y (R, n) and one seed per run (a sequence of R ints or generators; an int
seeds every run alike): run r's perturbation is bit for bit the one this function gives that
run alone (R = 1), which the batched training loop relies on.

Dead zones. The soft threshold is flat on ``[-b, b]`` and ReLU with intercept is flat below
``-b``: where every node that matters is flat, the gradient is exactly zero and PGD does not
move (``act'`` is the 0/1 slope of :mod:`numerics.activations`, 0 at a kink). An attack that
must cross a dead zone (push an inactive feature past its threshold) is only found when a
random start lands near it: use several restarts for thresholded nets. Restarts do not scale
with dimension: on the pure net past regime S3 (the optimum pushes inactive features through
their dead zones) PGD with 20 restarts missed the exact attack by margins up to 0.4-1.0 at
d = 12 (200 restarts: 2e-3 at b = 0.3, still 0.4 at b = 0.6); there use the exact
:func:`numerics.attacks.pure_l2.pure_l2_min_margin`. Optima at a kink (a feature stopped at
the edge of its dead zone) are reached only to about the step size.

Zero start. Restart 0 may start at ``delta = 0`` (``zero_start``). On a *linear* net the zero
start walks straight along ``-y v`` and reaches the exact optimum ``-eps y v/||v||`` once
``steps * alpha >= eps``; random starts converge to it only linearly (the angle shrinks by
``1/(1 + alpha/eps)`` per step).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..activations import activate_, slope_times_
from ..networks import TwoLayerNet
from ..torch_nets import TorchTwoLayer, array_tensor, head
from ..validation import require_array, require_choice, require_int, require_real

NORMS = ("l2", "linf")

# Rows x columns of the largest (R * restarts * n, max(d, m)) block held at once; restarts are
# batched into blocks under this size so that many restarts never exhaust memory.
_BLOCK_ELEMENTS = 1 << 23
# Rows x columns of the (rows, max(d, m)) working arrays of one row chunk: chunks this small
# keep a step's elementwise passes in cache (PGD is row by row independent).
_CHUNK_ELEMENTS = 1 << 21


def chunk_rows(width: int) -> int:
    """Rows PGD on one closed-form net processes at once: (rows, width) work arrays of ``_CHUNK_ELEMENTS``."""
    return max(1, _CHUNK_ELEMENTS // max(1, width))


@dataclass(frozen=True)
class PGDSettings:
    """PGD strength: ``steps``, ``restarts``, ``zero_start`` (restart 0 from 0) and the default step.

    The step, unless given, is ``alpha = eps * max(step_fraction, 2.5 / steps)``. The module
    docstring says how the defaults (:data:`PGD_DEFAULTS`) were chosen.
    """

    steps: int = 50
    restarts: int = 20
    step_fraction: float = 0.125
    zero_start: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", require_int("steps", self.steps, low=0))
        object.__setattr__(self, "restarts", require_int("restarts", self.restarts, low=1))
        object.__setattr__(self, "step_fraction",
                           require_real("step_fraction", self.step_fraction, low=0.0, low_open=True))
        if not isinstance(self.zero_start, bool):
            raise ValueError(f"zero_start must be a bool, got {self.zero_start!r}")

    def step_size(self, eps: float, steps: int | None = None) -> float:
        """The default step ``eps * max(step_fraction, 2.5 / steps)`` (``steps``: this setting's unless given)."""
        steps = self.steps if steps is None else steps
        madry, frac = 2.5 * eps / max(steps, 1), self.step_fraction * eps  # Madry's exact old formula kept
        return madry if madry >= frac else frac

    def replace(self, **changes) -> "PGDSettings":
        """A copy with ``changes`` (validated; an unknown name raises ValueError naming it)."""
        names = {f.name for f in dataclasses.fields(self)}
        for k in changes:
            if k not in names:
                raise ValueError(f"{k} is not a PGD setting; allowed: {sorted(names)}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The settings as keyword arguments of :func:`pgd_min_margin` and :func:`pgd_attack`."""
        return dataclasses.asdict(self)


PGD_DEFAULTS = PGDSettings()


def pgd_attack(
    model,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    norm: str = "l2",
    steps: int = PGD_DEFAULTS.steps,
    restarts: int = PGD_DEFAULTS.restarts,
    step_size: float | None = None,
    seed: int | torch.Generator | Sequence = 0,
    *,
    zero_start: bool = PGD_DEFAULTS.zero_start,
    step_fraction: float = PGD_DEFAULTS.step_fraction,
    check_finite: bool = True,
) -> torch.Tensor:
    """The best perturbation PGD finds: ``delta`` shaped like x, ``||delta_i||_norm <= eps``.

    model: a :class:`TwoLayerNet`, a :class:`TorchTwoLayer` (closed-form gradient; one net or
    runs), or any ``torch.nn.Module`` mapping (n, d) to n scores, or a runs module mapping
    (R, n, d) to (R, n) (autograd); x: (n, d) float tensor, (R, n, d) for a runs module;
    y: labels shaped like x without its last axis (the margin is ``y * f``; ``y = 0`` rows
    have margin 0 and get ``delta = 0``); eps >= 0; norm "l2" | "linf"; steps >= 0 (0: best
    start); restarts >= 1; step_size > 0 (None: ``eps * max(step_fraction, 2.5 / steps)``,
    :meth:`PGDSettings.step_size`);
    seed: int or ``torch.Generator`` (on x's device) for the random starts, or for a runs
    module a sequence of one per run (an int seeds every run alike); zero_start: restart 0
    starts at ``delta = 0`` instead of a random point; check_finite: scan x and y for NaN and
    inf (False skips the two passes, for callers whose inputs are finite by construction: the
    training loop's batches are sampled or validated when given).

    Returns a detached tensor of x's dtype and device; the model's parameters are neither
    changed nor given gradients, and the model's train/eval mode is left as it is.
    Among iterates of equal margin the earliest is kept.
    """
    runs = getattr(model, "runs", None)
    x, y = _check_xy(x, y, runs, check_finite)
    eps, steps, restarts, alpha = _check_schedule(eps, norm, steps, restarts, step_size, step_fraction)
    X, Y = (x, y) if runs is not None else (x[None], y[None])
    gens = _generators(seed, X.shape[0], x.device)
    oracle = _oracle(model, X)
    delta, _ = _pgd(oracle, X, Y, eps, norm, steps, restarts, alpha, gens, bool(zero_start))
    return delta if runs is not None else delta[0]


def pgd_min_margin(
    net,
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    norm: str = "l2",
    steps: int = PGD_DEFAULTS.steps,
    restarts: int = PGD_DEFAULTS.restarts,
    seed: int = 0,
    *,
    step_size: float | None = None,
    zero_start: bool = PGD_DEFAULTS.zero_start,
    step_fraction: float = PGD_DEFAULTS.step_fraction,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Lowest margin ``y * f(x + delta)`` PGD reaches over ``||delta|| <= eps``: (n,) float64.

    An upper bound on the true worst-case margin. net: a :class:`TwoLayerNet`, a
    :class:`TorchTwoLayer` or any ``torch.nn.Module`` mapping (n, d) to (n,) scores (a runs
    module: x (n, d) shared by its R runs or (R, n, d), result (R, n)). numpy (or torch) in,
    numpy out; the attack runs in torch with ``dtype`` (default float64 for a
    :class:`TwoLayerNet`, the module's own dtype otherwise). The returned margin is
    re-evaluated at the found ``delta`` in float64 with the numpy net when ``net`` is a
    :class:`TwoLayerNet`, after :func:`into_ball` (a float32 attack's projection can leave the ball by a
    rounding: float32(eps) > eps, or an l2 rescaling that overshoots, and a margin found outside the ball
    is no upper bound). Other arguments as in :func:`pgd_attack` (defaults
    :data:`PGD_DEFAULTS`).
    """
    as_np = lambda v: v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else v  # noqa: E731
    if isinstance(net, TwoLayerNet):
        default, device = torch.float64, torch.device("cpu")
    elif isinstance(net, nn.Module):
        default, device = _module_dtype_device(net)
    else:
        raise ValueError(f"net must be a TwoLayerNet or a torch.nn.Module, got {type(net).__name__}")
    runs = getattr(net, "runs", None)
    x_np = require_array("x", as_np(x), ndim=2 if runs is None else None)
    if runs is not None and x_np.ndim == 2:
        x_np = np.broadcast_to(x_np, (runs,) + x_np.shape).copy()
    y_np = require_array("y", as_np(y))
    if runs is not None and y_np.ndim == 1:
        y_np = np.broadcast_to(y_np, (runs,) + y_np.shape).copy()
    if y_np.shape != x_np.shape[:-1]:
        raise ValueError(f"y must have shape {x_np.shape[:-1]}, got {y_np.shape}")
    dtype = default if dtype is None else dtype
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    xt = torch.as_tensor(np.ascontiguousarray(x_np), dtype=dtype, device=device)
    yt = torch.as_tensor(np.ascontiguousarray(y_np), dtype=dtype, device=device)
    delta = pgd_attack(net, xt, yt, eps, norm, steps, restarts, step_size, seed, zero_start=zero_start,
                       step_fraction=step_fraction)
    if isinstance(net, TwoLayerNet):
        return y_np * net(x_np + into_ball(delta.double().numpy(), eps, norm))
    with torch.no_grad():
        return (yt * _scores(net, xt + delta)).double().cpu().numpy()


def into_ball(delta: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """``delta`` (float64, rows) moved into the closed ``norm`` ball of radius ``eps`` in float64: rows outside it
    are clipped (l_inf) or rescaled (l2, then shrunk by an ulp at a time while the computed norm still exceeds
    ``eps``); rows inside are returned unchanged."""
    delta = np.asarray(delta, dtype=np.float64)
    if norm == "linf":
        return np.clip(delta, -eps, eps)
    n = np.linalg.norm(delta, axis=-1, keepdims=True)
    out = np.where(n > eps, delta * (eps / np.where(n > 0, n, 1.0)), delta)
    for _ in range(8):  # the rescaled norm is eps up to a few ulps
        over = np.linalg.norm(out, axis=-1, keepdims=True) > eps
        if not over.any():
            return out
        out = np.where(over, out * (1.0 - 2.0**-52), out)
    raise FloatingPointError(f"could not bring delta into the l2 ball of radius {eps!r}")


# --------------------------------------------------------------------------- internals


def _check_schedule(eps, norm, steps, restarts, step_size, step_fraction=PGD_DEFAULTS.step_fraction
                    ) -> tuple[float, int, int, float]:
    """Validated ``(eps, steps, restarts, alpha)``; ``alpha`` defaults to :meth:`PGDSettings.step_size`."""
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    steps = require_int("steps", steps, low=0)
    restarts = require_int("restarts", restarts, low=1)
    if step_size is None:
        alpha = PGDSettings(steps, restarts, step_fraction).step_size(eps)
    else:
        alpha = require_real("step_size", step_size, low=0.0, low_open=True)
    return eps, steps, restarts, alpha


def _check_xy(x, y, runs, check_finite: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    ndim = 2 if runs is None else 3
    if not isinstance(x, torch.Tensor) or x.ndim != ndim or not x.is_floating_point() or (
            runs is not None and x.shape[0] != runs):
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        want = "(n, d)" if runs is None else f"({runs}, n, d) (one slice per run)"
        raise ValueError(f"x must be a {ndim}-D floating torch tensor {want}, got {shape}")
    if check_finite and not bool(torch.isfinite(x).all()):
        raise ValueError("x must contain only finite numbers")
    y = torch.as_tensor(y).to(dtype=x.dtype, device=x.device)
    if y.shape != x.shape[:-1]:
        raise ValueError(f"y must have shape {tuple(x.shape[:-1])}, got {tuple(y.shape)}")
    if check_finite and not bool(torch.isfinite(y).all()):
        raise ValueError("y must contain only finite numbers")
    return x.detach(), y.detach()


def _generators(seed, runs: int, device) -> list[torch.Generator]:
    if isinstance(seed, (torch.Generator, int, np.integer)):
        seeds = [seed] * runs
    else:
        seeds = list(seed)
        if len(seeds) != runs:
            raise ValueError(f"seed must be an int, a torch.Generator or a sequence of {runs} (one per run), "
                             f"got {len(seeds)}")
    if any(isinstance(s, torch.Generator) for s in seeds) and runs > 1 and len({id(s) for s in seeds}) < runs:
        raise ValueError("seed: runs must not share one torch.Generator (give one per run or int seeds)")
    return [s if isinstance(s, torch.Generator)
            else torch.Generator(device=device).manual_seed(require_int("seed", s, low=0)) for s in seeds]


def _module_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    for p in list(model.parameters()) + list(model.buffers()):
        if p.is_floating_point():
            return p.dtype, p.device
    return torch.get_default_dtype(), torch.device("cpu")


def _scores(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    out = model(z)
    if out.numel() != z.shape[:-1].numel():
        raise ValueError(f"model must return one score per row, got output shape {tuple(out.shape)}")
    return out.reshape(z.shape[:-1])


def _oracle(model, X: torch.Tensor):
    """``oracle(Z (R, N, d), grad) -> (f (R, N), grad_z f (R, N, d) or None)``; ``oracle.width`` sizes blocks."""
    if isinstance(model, TwoLayerNet):
        as_t = lambda v: array_tensor(v, X.dtype, X.device)  # noqa: E731  (copies the pure net's read-only W)
        return _TwoLayerOracle(as_t(model.W), as_t(model.a), as_t(model.b), float(model.c), model.activation, X)
    if isinstance(model, TorchTwoLayer):
        with torch.no_grad():
            W, a, b, c = (p.detach().to(dtype=X.dtype, device=X.device) for p in (model.W, model.a, model.b, model.c))
        return _TwoLayerOracle(W, a, b, c, model.activation, X)
    if isinstance(model, nn.Module):
        return _AutogradOracle(model, runs=getattr(model, "runs", None) is not None)
    raise ValueError(f"model must be a TwoLayerNet or a torch.nn.Module, got {type(model).__name__}")


class _TwoLayerOracle:
    """Closed-form margin gradient of ``a . act(W z; b) + c``: two matmuls and two in-place passes per row chunk.

    One net (W (m, d)): 2-D matmuls into a reused buffer (``_pgd`` feeds it cache-sized row
    chunks). Runs (W (R, m, d)): batched matmuls and the batch-invariant head of
    :func:`numerics.torch_nets.head`.
    """

    def __init__(self, W, a, b, c, kind, X):
        if W.shape[-1] != X.shape[-1]:
            raise ValueError(f"x must have {W.shape[-1]} columns to match the net, got {X.shape[-1]}")
        self.single = W.ndim == 2
        self.W, self.kind = W.contiguous(), kind
        self.Wt = W.transpose(-1, -2).contiguous()
        self.width = W.shape[-2]
        flat = b.reshape(-1)
        self.uniform_b = float(flat[0]) if flat.numel() and bool((flat == flat[0]).all()) else None
        if self.single:
            self.a, self.b, self.c = a, b, c
        else:  # run axis first: broadcast against (R, N, m) and (R, N)
            self.a, self.b = a, b.unsqueeze(-2)
            self.c = torch.as_tensor(c, dtype=W.dtype, device=W.device).reshape(-1, 1)
        self._buffers = {}

    def _runs_buffer(self, name: str, shape, like: torch.Tensor) -> torch.Tensor:
        buf = self._buffers.get(name)
        if buf is None or tuple(buf.shape) != tuple(shape):
            buf = self._buffers[name] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf

    def _buffer(self, name: str, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        """A reused (rows, cols) work array: PGD calls the oracle with the same shapes step after step."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape[0] < rows:
            buf = self._buffers[name] = torch.empty((rows, cols), dtype=like.dtype, device=like.device)
        return buf[:rows]

    def __call__(self, Z: torch.Tensor, grad: bool):
        if not self.single:
            T = self._runs_buffer("T", Z.shape[:-1] + (self.width,), Z)
            activate_(self.kind, torch.matmul(Z, self.Wt, out=T), self.b, uniform_b=self.uniform_b)
            f = head(T, self.a).add_(self.c)
            if not grad:
                return f, None
            G = self._runs_buffer("G", Z.shape, Z)
            return f, torch.matmul(slope_times_(T, self.a.unsqueeze(-2), out=T), self.W, out=G)
        z = Z[0]
        rows = z.shape[0]
        T = torch.matmul(z, self.Wt, out=self._buffer("T", rows, self.width, z))  # matmul 1: pre-activations
        activate_(self.kind, T, self.b, uniform_b=self.uniform_b)
        f = torch.mv(T, self.a).add_(self.c)
        if not grad:
            return f[None], None
        # act' is 1 exactly where h != 0; matmul 2: grad_z f = W^T (a * act')
        G = torch.matmul(slope_times_(T, self.a, out=T), self.W, out=self._buffer("G", rows, z.shape[1], z))
        return f[None], G[None]


class _AutogradOracle:
    def __init__(self, model: nn.Module, runs: bool):
        self.model, self.runs = model, runs

    def __call__(self, Z, grad):
        z = Z if self.runs else Z[0]
        if not grad:
            with torch.no_grad():
                f = _scores(self.model, z)
            return (f if self.runs else f[None]), None
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            f = _scores(self.model, z)
            # gradient with respect to the input only: parameters' .grad stay untouched
            (g,) = torch.autograd.grad(f.sum(), z)
        f, g = f.detach(), g.detach()
        return (f, g) if self.runs else (f[None], g[None])


def _random_starts(x: torch.Tensor, eps: float, norm: str, gens, first: int, r: int, zero_start: bool) -> torch.Tensor:
    """Starts of restarts ``first .. first + r - 1`` for every run: (R, r * n, d), restart-major within a run.

    Uniform in the l2 ball (Gaussian direction, radius ``eps U^{1/d}``) or in the cube; restart 0
    at 0 with ``zero_start`` (and every start at 0 when ``eps = 0``). Run q's draws come from
    ``gens[q]`` only, one draw per restart in order, so restart i gets the same start whatever
    the blocking; the arithmetic on the draws is batched (elementwise: no run sees another).
    """
    R, n, d = x.shape
    kw = dict(dtype=x.dtype, device=x.device)
    zero = [(zero_start and first + i == 0) or eps == 0 for i in range(r)]
    if all(zero):
        return torch.zeros((R, r * n, d), **kw)
    if norm == "linf":
        D = torch.zeros((R, r * n, d), **kw)
        for q, g in enumerate(gens):
            for i in (i for i, z in enumerate(zero) if not z):
                torch.rand((n, d), generator=g, out=D[q, i * n:(i + 1) * n], **kw)
        D = (2.0 * D - 1.0) * eps
    else:
        # zero starts' rows: direction 1, radius 0 (finite arithmetic, replaced by exact zeros below)
        G = (torch.ones if any(zero) else torch.empty)((R, r * n, d), **kw)
        U = (torch.zeros if any(zero) else torch.empty)((R, r * n, 1), **kw)
        for q, g in enumerate(gens):
            for i in (i for i, z in enumerate(zero) if not z):
                torch.randn((n, d), generator=g, out=G[q, i * n:(i + 1) * n], **kw)
                torch.rand((n, 1), generator=g, out=U[q, i * n:(i + 1) * n], **kw)
        D = G.mul_(eps * U ** (1.0 / d) / G.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny))
    if any(zero):  # exact zeros for the zero starts (a cube draw of 0 maps to -eps, not 0)
        mask = torch.tensor(zero, device=x.device).repeat_interleave(n)
        D = torch.where(mask[None, :, None], torch.zeros((), **kw), D)
    return D


def _step_(D: torch.Tensor, g: torch.Tensor, ys: torch.Tensor, alpha: float, eps: float, norm: str,
           out: torch.Tensor | None = None) -> torch.Tensor:
    """``Proj(D - alpha dir(y g))`` (``ys = sign(y)``; zero gradient rows do not move) into ``out``
    (default: ``D`` itself, in place); returns it. ``g`` is overwritten for l_inf."""
    out = D if out is None else out
    if eps == 0:
        return out.zero_()
    if norm == "linf":
        return torch.addcmul(D, g.sign_(), ys[..., None], value=-alpha, out=out).clamp_(-eps, eps)
    # ys / max(||g||, tiny) is finite (|ys| <= 1), and 0 where g = 0: a zero gradient leaves the row
    gn = torch.linalg.vector_norm(g, dim=-1, keepdim=True).clamp_min_(torch.finfo(D.dtype).tiny)
    torch.addcmul(D, g, ys[..., None] / gn, value=-alpha, out=out)
    dn = torch.linalg.vector_norm(out, dim=-1, keepdim=True)
    return out.mul_(torch.div(eps, dn).clamp_max_(1.0))  # eps / ||D|| >= 1 inside the ball (inf at D = 0)


# Up to this many elements, _iterate keeps every iterate (each step writes the next one into
# its own slot) and picks the best at the end instead of a masked select per step (several
# times cheaper); the result is the same.
_HISTORY_ELEMENTS = 1 << 24


def _iterate(oracle, X, Y, D, eps, norm, steps, alpha):
    """``steps`` PGD steps from ``D`` (R, N, d); the best margin (R, N) and its iterate (``D`` may be overwritten)."""
    ys = torch.sign(Y)
    Z = torch.empty_like(D)
    best_margin = torch.full(Y.shape, float("inf"), dtype=X.dtype, device=X.device)
    history = (steps + 1) * D.numel() <= _HISTORY_ELEMENTS
    if history:
        iterates = torch.empty((steps + 1,) + D.shape, dtype=D.dtype, device=D.device)
        D = iterates[0].copy_(D)
        best_k = torch.zeros(Y.shape, dtype=torch.long, device=X.device)
    else:
        best_delta = D.clone()
    for k in range(steps + 1):
        torch.add(X, D, out=Z)
        f, g = oracle(Z, k < steps)
        margin = Y * f
        better = margin < best_margin  # strict: ties keep the earlier iterate
        torch.where(better, margin, best_margin, out=best_margin)
        if history:
            best_k.masked_fill_(better, k)
        else:
            _copy_rows_(best_delta, D, better)
        if k < steps:
            D = _step_(D, g, ys, alpha, eps, norm, out=iterates[k + 1] if history else None)
    if history:
        best_delta = _pick_rows(iterates, best_k)
    return best_margin, best_delta


def _copy_rows_(dst: torch.Tensor, src: torch.Tensor, rows: torch.Tensor) -> None:
    """``dst[..., i, :] = src[..., i, :]`` where ``rows[..., i]`` (in place; dst, src (*S, d) contiguous, rows (*S)).

    A gather and a scatter of the chosen rows: a ``where`` under a mask broadcast along the
    last axis runs two to three times slower (no vectorised inner loop). Where most rows are
    chosen (early PGD steps improve nearly every row) the complement is cheaper: keep the few
    unchosen rows of ``dst``, copy all of ``src`` in one pass, put the kept rows back (about half
    the memory traffic at (1024, 1024); every row ends as the gather and scatter leaves it)."""
    flat = rows.reshape(-1)
    d = dst.shape[-1]
    out, new = dst.view(-1, d), src.reshape(-1, d)
    idx = flat.nonzero().squeeze(1)
    if 2 * idx.numel() <= flat.numel():
        out.index_copy_(0, idx, new.index_select(0, idx))
        return
    keep = flat.logical_not().nonzero().squeeze(1)
    kept = out.index_select(0, keep)
    out.copy_(new)
    out.index_copy_(0, keep, kept)


def _pick_rows(stack: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``out[..., i, :] = stack[k[..., i], ..., i, :]``: stack (K, *S, d), k (*S) -> (*S, d), by row copies."""
    rows = k.numel()
    idx = k.reshape(-1) * rows + torch.arange(rows, device=k.device)
    return stack.reshape(-1, stack.shape[-1]).index_select(0, idx).reshape(k.shape + stack.shape[-1:])


def pgd_with_oracle(oracle, x: torch.Tensor, y: torch.Tensor, eps: float, norm: str, steps: int, restarts: int,
                    step_size: float | None, seed, *, zero_start: bool,
                    step_fraction: float = PGD_DEFAULTS.step_fraction) -> tuple[torch.Tensor, torch.Tensor]:
    """This module's PGD on a caller's closed-form objective (e.g. the contrastive term attacks).

    ``oracle(Z (R, N, d), grad: bool) -> (f (R, N), grad_Z f (R, N, d) or None)`` where rows
    are independent (row k is input ``k mod n`` of restart ``k // n``); x (R, n, d), y (R, n):
    PGD minimises ``y * f``; seed: an int or one per run. Returns ``(delta, margin)``: the best
    perturbation (R, n, d) and its margin (R, n). Same starts, steps, projection and
    best-iterate rule as :func:`pgd_attack`.
    """
    eps, steps, restarts, alpha = _check_schedule(eps, norm, steps, restarts, step_size, step_fraction)
    return _pgd(oracle, x.detach(), y.detach(), eps, norm, steps, restarts, alpha,
                _generators(seed, x.shape[0], x.device), bool(zero_start))


def _pgd(oracle, x, y, eps, norm, steps, restarts, alpha, gens, zero_start):
    """Best ``delta`` (R, n, d) over steps and restarts, restarts batched in memory-bounded blocks.

    x (R, n, d), y (R, n); ``gens[r]`` draws run r's random starts. Rows are independent, so a
    block's rows are processed in cache-sized chunks, each chunk through all its steps.
    """
    R, n, d = x.shape
    best_delta = best_margin = None  # set by the first block
    width = max(d, getattr(oracle, "width", 0))
    per_block = max(1, min(restarts, _BLOCK_ELEMENTS // max(1, n * width)))
    closed_single = getattr(oracle, "single", False)
    done = 0
    while done < restarts:
        r = min(per_block, restarts - done)
        X, Y = (x, y) if r == 1 else (x.repeat(1, r, 1), y.repeat(1, r))  # read only: no copy for one restart
        # one draw per (run, restart), in order: restart i gets the same start whatever the
        # blocking, so a run with more restarts (same seed) extends, and never loses to, one with fewer
        D = _random_starts(x, eps, norm, gens, done, r, zero_start)
        N = r * n
        rows = chunk_rows(width) if closed_single else N
        if rows >= N:  # one chunk: its results are the block's (no copy)
            blk_margin, blk_delta = _iterate(oracle, X, Y, D, eps, norm, steps, alpha)
        else:
            blk_margin = torch.empty((R, N), dtype=x.dtype, device=x.device)
            blk_delta = torch.empty_like(D)
            for i in range(0, N, rows):
                j = min(N, i + rows)
                bm, bd = _iterate(oracle, X[:, i:j], Y[:, i:j], D[:, i:j].contiguous(), eps, norm, steps, alpha)
                blk_margin[:, i:j], blk_delta[:, i:j] = bm, bd
        # best restart of the block (argmin: first of equal margins), then against the blocks before it
        bm = blk_margin.reshape(R, r, n)
        if r == 1:
            m_blk, d_blk = bm[:, 0], blk_delta
        else:
            k = bm.argmin(dim=1)
            m_blk = bm.gather(1, k[:, None]).squeeze(1)
            d_blk = _pick_rows(blk_delta.reshape(R, r, n, d).transpose(0, 1), k)
        if best_margin is None:  # before the first block: margin inf at delta = 0
            best_margin = torch.full((R, n), float("inf"), dtype=x.dtype, device=x.device)
        better = m_blk < best_margin
        if best_delta is None and bool(better.all()):  # the first block wins everywhere (no NaN or inf margin)
            best_margin, best_delta = m_blk, d_blk
        else:
            best_delta = torch.zeros_like(x) if best_delta is None else best_delta
            best_margin = torch.where(better, m_blk, best_margin)
            best_delta = torch.where(better[..., None], d_blk, best_delta)
        done += r
    # y = 0 rows have margin 0 whatever delta is: return the clean point for them (best_delta is
    # this function's own array: filled in place)
    best_delta.masked_fill_((y == 0)[..., None], 0.0)
    return best_delta, best_margin
