"""Torch nets: the two-layer net of :mod:`numerics.networks` as a module, and the run axis every torch net shares.

Run axis. A torch net of this library holds either one net or ``R`` independent nets
("runs": seeds, variants) stacked along a leading axis of every parameter: ``W`` (m, d) or
(R, m, d), ``a`` (m,) or (R, m), and so on. A runs module maps inputs (R, n, d) (or (n, d),
shared by every run) to scores (R, n); a single net maps (n, d) to (n,). Every operation is
written so that run r's numbers do not depend on the other runs: batched matmuls, the head as
a row-vector product (``a (R, 1, m) @ h^T``, which unlike ``h @ a[..., None]`` is
batch-invariant in torch's CPU kernels), reductions over a run's own axes only. That is what
lets :func:`numerics.training.fit` train R runs as one tensor program with each run bit for
bit what it would be trained alone (R = 1).

:class:`RunsModule` is the base: ``runs`` (None for one net), :meth:`~RunsModule.run`
(one run as a single net), :meth:`~RunsModule.stack` (single nets into a runs module),
:meth:`~RunsModule.parameter_groups` (``first`` layer(s), ``threshold``, ``head``: what
:class:`~numerics.training.TrainConfig`'s ``train_first``, ``threshold`` and ``train_head``
act on) and :meth:`~RunsModule.project_` (thresholds back onto ``b >= 0`` after an optimiser
step).

Conversion to and from the numpy :class:`~numerics.networks.TwoLayerNet`:
:meth:`TorchTwoLayer.from_net` / :func:`to_torch` and :meth:`TorchTwoLayer.to_net`
(:mod:`numerics.networks` imports nothing from here: no import cycle).
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .activations import ACTIVATIONS, activate
from .networks import TwoLayerNet
from .validation import require_choice, require_int, require_real

THRESHOLDS = ("fixed", "shared", "per_node")


def array_tensor(v, dtype: torch.dtype, device=None) -> torch.Tensor:
    """``torch.as_tensor(v, dtype, device)``, except that a read-only numpy array is copied.

    torch would share a read-only array of the same dtype and warn (once per process) that the
    tensor may write to it; the pure net's ``W`` is such an array (a read-only view of ``M``).
    A copy in ``dtype`` is one conversion, as ``as_tensor`` makes for another dtype anyway.
    """
    v = np.asarray(v)
    if not v.flags.writeable:
        v = np.array(v, dtype=torch.empty((), dtype=dtype).numpy().dtype, order="C")
    return torch.as_tensor(v, dtype=dtype, device=device)


def head(h: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``sum_j a_j h_j``: h (..., n, m), a (..., m) -> (..., n); single nets use ``h @ a``, runs the batch-invariant row product."""
    if a.ndim == 1:
        return h @ a
    return (a.unsqueeze(-2) @ h.transpose(-1, -2)).squeeze(-2)


def linear(x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``x W^T``: x (..., n, d) or (n, d), W (..., m, d) -> (..., n, m)."""
    return x @ W.transpose(-1, -2)


def seeds_list(seed) -> list[int] | None:
    """``None`` for one int seed (a single net), else the list of per-run seeds."""
    if isinstance(seed, (int, np.integer)):
        return None
    seeds = [require_int("seed", s, low=0) for s in seed]
    if not seeds:
        raise ValueError("seed must be an int or a non-empty sequence of ints (one per run)")
    return seeds


class RunsModule(nn.Module):
    """Base of the library's torch nets: one net, or R runs along a leading axis (module docstring).

    Subclasses set ``self.runs`` (None or R) and name in ``RUN_BUFFERS`` the buffers that
    carry the run axis (every parameter does).
    """

    RUN_BUFFERS: tuple[str, ...] = ()
    runs: int | None = None

    def _run_tensors(self) -> list[str]:
        return [n for n, _ in self.named_parameters()] + [n for n in self.RUN_BUFFERS if n in self._buffers]

    def _replace(self, fn) -> "RunsModule":
        out = copy.deepcopy(self)
        for name in self._run_tensors():
            old = getattr(self, name)
            new = fn(name, old)
            if isinstance(old, nn.Parameter):
                setattr(out, name, nn.Parameter(new, requires_grad=old.requires_grad))
            else:
                setattr(out, name, new)
        return out

    def run(self, r: int) -> "RunsModule":
        """Run ``r`` as a single net (a copy; parameters keep their ``requires_grad``)."""
        if self.runs is None:
            raise ValueError("run() needs a runs module; this one holds a single net")
        r = require_int("r", r, low=0, high=self.runs - 1)
        out = self._replace(lambda name, t: t.detach()[r].clone())
        out.runs = None
        return out

    @classmethod
    def stack(cls, modules: Sequence["RunsModule"]) -> "RunsModule":
        """Single nets of one class and shape as one runs module (copies)."""
        modules = list(modules)
        if not modules or any(type(m) is not type(modules[0]) or m.runs is not None for m in modules):
            raise ValueError("modules must be a non-empty sequence of single nets of one class")
        names = modules[0]._run_tensors()
        for m in modules[1:]:
            if m._run_tensors() != names or any(getattr(m, n).shape != getattr(modules[0], n).shape for n in names):
                raise ValueError("modules must all have the same parameter shapes to be stacked")
        out = modules[0]._replace(lambda name, t: torch.stack([getattr(m, name).detach() for m in modules]).clone())
        out.runs = len(modules)
        return out

    def as_runs(self) -> "RunsModule":
        """This module as a runs module: itself if it is one, else a copy with R = 1."""
        return self if self.runs is not None else type(self).stack([self])

    def load_run_(self, r: int, single: "RunsModule") -> None:
        """Copy the single net ``single`` into run ``r`` of this runs module (in place), or into self when single."""
        with torch.no_grad():
            for name in self._run_tensors():
                dst, src = getattr(self, name), getattr(single, name)
                (dst if self.runs is None else dst[r]).copy_(src)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """``first`` (the representation's weights), ``threshold`` (trainable thresholds), ``head`` (output layer)."""
        # Interface method: every concrete RunsModule (two-layer, three-layer, normalised, circulant) names its own
        # groups; the training loop calls it, so a new module that forgets it fails loudly at its first fit.
        raise NotImplementedError(f"{type(self).__name__} must define parameter_groups()")

    def thresholds_soft(self) -> bool:
        """Whether the trainable thresholds are soft thresholds (projected onto ``b >= 0``)."""
        return True

    def project_(self) -> None:
        """Trainable soft thresholds back onto ``b >= 0`` (called after every optimiser step)."""
        if not self.thresholds_soft():
            return
        with torch.no_grad():
            for p in self.parameter_groups().get("threshold", []):
                p.clamp_(min=0.0)


class TorchTwoLayer(RunsModule):
    """``f(x) = h(x) @ a + c`` with ``h = act(x W^T; b)``, one net or R runs.

    W: (m, d) or (R, m, d); a: (m,) or (R, m); b: broadcastable to (m,) / (R, m); c: a float,
    or (R,) per run. ``threshold`` selects how ``b`` is parametrised when trained:
    ``"fixed"`` (a buffer), ``"shared"`` (one trainable scalar per net, starting at the mean of
    ``b``) or ``"per_node"``. The soft threshold is only defined for ``b >= 0``, so ``b`` is
    clamped at use time (and the training loop projects the parameter back after each step).
    """

    RUN_BUFFERS = ("b_param",)

    def __init__(self, W, a, b, activation: str = "soft_threshold", c=0.0, *,
                 threshold: str = "fixed", train_head: bool = True, train_first: bool = True):
        super().__init__()
        require_choice("activation", activation, ACTIVATIONS)
        require_choice("threshold", threshold, THRESHOLDS)
        self.activation, self.threshold = activation, threshold
        W = torch.as_tensor(W)
        if W.ndim not in (2, 3) or not W.is_floating_point():
            raise ValueError(f"W must be a floating (m, d) or (R, m, d) tensor, got shape {tuple(W.shape)}")
        self.runs = W.shape[0] if W.ndim == 3 else None
        lead, m = tuple(W.shape[:-2]), W.shape[-2]
        self.W = nn.Parameter(W.clone(), requires_grad=train_first)
        a = torch.as_tensor(a, dtype=W.dtype)
        if tuple(a.shape) != lead + (m,):
            raise ValueError(f"a must have shape {lead + (m,)}, got {tuple(a.shape)}")
        self.a = nn.Parameter(a.clone(), requires_grad=train_head)
        b = torch.as_tensor(b, dtype=W.dtype)
        full = b.expand(lead + (m,))
        if threshold == "shared":
            self.b_param = nn.Parameter((b.expand(lead) if b.ndim == 0 else full.mean(-1)).clone())
        elif threshold == "per_node":
            self.b_param = nn.Parameter(full.clone())
        else:
            self.register_buffer("b_param", full.clone())
        c = torch.as_tensor(c, dtype=W.dtype)
        self.c = nn.Parameter(c.expand(lead).clone(), requires_grad=train_head)

    @property
    def m(self) -> int:
        return self.W.shape[-2]

    @property
    def d(self) -> int:
        return self.W.shape[-1]

    @property
    def b(self) -> torch.Tensor:
        """Per-node thresholds (m,) / (R, m), clamped at 0 for the soft threshold."""
        b = self.b_param[..., None] if self.threshold == "shared" else self.b_param
        b = b.expand(self.W.shape[:-1])
        return b.clamp_min(0.0) if self.activation == "soft_threshold" else b

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.W)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return activate(self.activation, self.preactivation(x), self.b.unsqueeze(-2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.c if self.runs is None else self.c[:, None]
        return head(self.hidden(x), self.a) + c

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        thr = [self.b_param] if isinstance(self.b_param, nn.Parameter) else []
        return {"first": [self.W], "threshold": thr, "head": [self.a, self.c]}

    def thresholds_soft(self) -> bool:
        return self.activation == "soft_threshold"

    @classmethod
    def from_net(cls, net: TwoLayerNet, *, dtype=None, trainable: bool = False,
                 threshold: str = "fixed") -> "TorchTwoLayer":
        """The same function as a module (float64 unless ``dtype``); frozen unless ``trainable``."""
        if not isinstance(net, TwoLayerNet):
            raise ValueError(f"net must be a TwoLayerNet, got {type(net).__name__}")
        dtype = dtype or torch.float64
        mod = cls(array_tensor(net.W, dtype), array_tensor(net.a, dtype), array_tensor(net.b, dtype),
                  net.activation, net.c, threshold=threshold)
        if not trainable:
            mod.requires_grad_(False)
        return mod

    @classmethod
    def random_init(cls, d: int, m: int, *, seed, scale: float = 0.01, b: float = 0.0,
                    activation: str = "soft_threshold", threshold: str = "fixed",
                    dtype=torch.float32) -> "TorchTwoLayer":
        """Seeded Gaussian init: every entry of ``W`` and ``a`` is ``scale * N(0, 1)`` (a small init).

        ``seed``: an int (one net) or a sequence of ints (one run per seed; run r is exactly
        the net ``random_init(..., seed=seed[r])``).
        """
        seeds = seeds_list(seed)
        if seeds is not None:
            return cls.stack([cls.random_init(d, m, seed=s, scale=scale, b=b, activation=activation,
                                              threshold=threshold, dtype=dtype) for s in seeds])
        d = require_int("d", d, low=1)
        m = require_int("m", m, low=1)
        scale = require_real("scale", scale, low=0.0, low_open=True)
        g = torch.Generator().manual_seed(require_int("seed", seed, low=0))
        W = torch.randn((m, d), generator=g, dtype=dtype) * scale
        a = torch.randn((m,), generator=g, dtype=dtype) * scale
        return cls(W, a, torch.full((m,), float(b), dtype=dtype), activation, threshold=threshold)

    def to_net(self, family: str = "trained") -> TwoLayerNet:
        """Back to a numpy :class:`TwoLayerNet` (float64) for exact evaluation; single nets only."""
        if self.runs is not None:
            raise ValueError("to_net needs a single net; use run(r).to_net() or to_nets()")
        with torch.no_grad():
            return TwoLayerNet(W=self.W.detach().double().numpy().copy(), a=self.a.detach().double().numpy().copy(),
                               b=self.b.detach().double().numpy().copy(), activation=self.activation,
                               c=float(self.c.detach()), family=family)

    def to_nets(self, family: str = "trained") -> list[TwoLayerNet]:
        """Every run as a numpy :class:`TwoLayerNet` (a single net gives a list of one)."""
        if self.runs is None:
            return [self.to_net(family)]
        return [self.run(r).to_net(family) for r in range(self.runs)]


class LinearHead(RunsModule):
    """``f(h) = h @ a + c`` on given features ``h``: the head of a two-layer net whose first layer is frozen.

    a: (m,) or (R, m); c: a float or (R,). Inputs are the frozen layer's features ``h(x)``, (n, m)
    or (R, n, m); the head is computed by :func:`head` exactly as :meth:`TorchTwoLayer.forward`
    computes it, so on ``h = net.hidden(x)`` the scores are bit for bit ``net(x)``. Nothing here
    is a threshold or a first layer (``parameter_groups`` has only the head).
    """

    def __init__(self, a, c=0.0):
        super().__init__()
        a = torch.as_tensor(a)
        if a.ndim not in (1, 2) or not a.is_floating_point():
            raise ValueError(f"a must be a floating (m,) or (R, m) tensor, got shape {tuple(a.shape)}")
        self.runs = a.shape[0] if a.ndim == 2 else None
        self.a = nn.Parameter(a.clone())
        c = torch.as_tensor(c, dtype=a.dtype)
        self.c = nn.Parameter(c.expand(tuple(a.shape[:-1])).clone())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        c = self.c if self.runs is None else self.c[:, None]
        return head(h, self.a) + c

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"first": [], "threshold": [], "head": [self.a, self.c]}

    def thresholds_soft(self) -> bool:
        return False


def to_torch(net: TwoLayerNet, *, dtype=None, trainable: bool = False) -> TorchTwoLayer:
    """The same function as a :class:`TorchTwoLayer` module (:meth:`TorchTwoLayer.from_net`)."""
    return TorchTwoLayer.from_net(net, dtype=dtype, trainable=trainable)
