"""Clean and PGD-adversarial training of two-layer nets on the sparse-coding model.

``train(model, wstar, net, cfg)`` minimises ``E loss(y f(x + delta))`` over a
:class:`~numerics.torch_nets.TorchTwoLayer`, where ``y = sign(<w*, z>)`` and ``delta`` is
the PGD attack at radius ``eps_t`` (``delta = 0`` when ``eps_t = 0``: clean training).

Conventions:

- Data: either fresh samples each step (*online*, a stand-in for the population) drawn
  with :meth:`SparseCodingModel.sample_torch`, or a *fixed* finite sample (given, or drawn
  once with ``cfg.n_train``) visited epoch by epoch: each epoch is a seeded permutation
  cut into batches of ``min(batch, n)``, its last ``n mod batch`` rows skipped.
- Ties: samples with ``y = 0`` (``<w*, z> = 0``, e.g. ``z = 0``) carry no label
  information, so they are **dropped from the loss** (and never attacked). The logged
  accuracies follow the project convention instead: such a sample counts as an error
  (margin ``y f = 0``), so a logged accuracy is at most ``P(y != 0)``.
- Margin losses of ``u = y f``: logistic ``log(1 + e^-u)``, hinge ``max(0, 1 - u)``,
  squared ``(1 - u)^2`` (``= (y - f)^2`` for ``y = +-1``).
- Curriculum: ``eps_t = eps * min(1, t / (eps_ramp * steps))`` (linear ramp from 0);
  ``eps_ramp = 0`` attacks at full ``eps`` from the first step. Adversarial training
  straight at a large radius collapses to a constant predictor; the ramp avoids it.
- A trainable soft threshold is projected back onto ``b >= 0`` after every optimiser
  step: :class:`TorchTwoLayer` clamps ``b`` at use time, which would otherwise leave a
  negative parameter with zero gradient forever.
- Seeds: ``cfg.seed`` spawns three independent seeds (init, data, attack) through
  ``numpy.random.SeedSequence``; the attack at step ``t`` uses ``attack_seed + t``. The
  same config gives bit-identical weights on the same CPU and thread count. Clean
  training never consumes attack randomness, so ``eps = 0`` adversarial training *is*
  clean training, bit for bit.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
import torch

from .config import ModelConfig
from .networks import TwoLayerNet
from .sparse_coding import Sample, SparseCodingModel, labels_torch
from .torch_nets import TorchTwoLayer
from .validation import require_array, require_choice, require_int, require_real

OPTIMISERS = ("adam", "sgd")
LOSSES = ("logistic", "hinge", "squared")
NORMS = ("l2", "linf")
THRESHOLDS = ("fixed", "shared", "per_node")
ACTIVATIONS = ("soft_threshold", "relu")
DTYPES = {"float32": torch.float32, "float64": torch.float64}

# ``attack(model, x, y, eps, norm, steps, restarts, step_size, seed) -> delta`` (torch in/out),
# the signature of :func:`numerics.attacks.pgd.pgd_attack`.
Attack = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; validated on construction.

    steps, batch, lr, optimiser ("adam" | "sgd", ``momentum`` for sgd), weight_decay;
    loss ("logistic" | "hinge" | "squared"); eps, norm ("l2" | "linf"): adversarial
    radius (0 = clean training); pgd_steps, pgd_restarts, pgd_step_size (None: ``2.5 eps_t /
    pgd_steps``, Madry et al.); eps_ramp: fraction of the steps over which eps ramps up
    linearly from 0; monitor_eps: if set, the logged robust accuracy is measured by a
    separate PGD at this radius (otherwise at the training radius ``eps_t``, for free);
    threshold ("fixed" | "shared" | "per_node"): how the soft threshold b is trained
    (a "shared" threshold given a net starts at its ``b[0]``, TorchTwoLayer's rule); train_first,
    train_head: train W, and (a, c) (e.g. a clean head on a frozen layer, MODEL.md P5);
    activation, width m, init_scale (W and a ~ init_scale N(0, 1) entrywise, see
    ``TorchTwoLayer.random_init``), b_init: the random init used when no net is given (a
    given net keeps its own); dtype ("float32" | "float64"); n_train: draw a fixed sample
    of this size once (None = online); seed; log_every; progress: tqdm bar (tty only).
    """

    steps: int = 3000
    batch: int = 128
    lr: float = 0.01
    optimiser: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    loss: str = "logistic"
    eps: float = 0.0
    norm: str = "l2"
    pgd_steps: int = 10
    pgd_restarts: int = 1
    pgd_step_size: float | None = None
    eps_ramp: float = 0.0
    monitor_eps: float | None = None
    threshold: str = "shared"
    b_init: float = 0.0
    train_first: bool = True
    train_head: bool = True
    activation: str = "soft_threshold"
    width: int = 64
    init_scale: float = 0.01
    dtype: str = "float32"
    n_train: int | None = None
    seed: int = 0
    log_every: int = 100
    progress: bool = True

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "steps", require_int("steps", self.steps, low=1, high=10_000_000))
        s(self, "batch", require_int("batch", self.batch, low=1))
        s(self, "lr", require_real("lr", self.lr, low=0.0, low_open=True))
        require_choice("optimiser", self.optimiser, OPTIMISERS)
        s(self, "momentum", require_real("momentum", self.momentum, low=0.0, high=1.0, high_open=True))
        s(self, "weight_decay", require_real("weight_decay", self.weight_decay, low=0.0))
        require_choice("loss", self.loss, LOSSES)
        s(self, "eps", require_real("eps", self.eps, low=0.0))
        require_choice("norm", self.norm, NORMS)
        s(self, "pgd_steps", require_int("pgd_steps", self.pgd_steps, low=1))
        s(self, "pgd_restarts", require_int("pgd_restarts", self.pgd_restarts, low=1))
        if self.pgd_step_size is not None:
            s(self, "pgd_step_size", require_real("pgd_step_size", self.pgd_step_size, low=0.0, low_open=True))
        s(self, "eps_ramp", require_real("eps_ramp", self.eps_ramp, low=0.0, high=1.0))
        if self.monitor_eps is not None:
            s(self, "monitor_eps", require_real("monitor_eps", self.monitor_eps, low=0.0))
        require_choice("threshold", self.threshold, THRESHOLDS)
        s(self, "b_init", require_real("b_init", self.b_init, low=0.0 if self.activation == "soft_threshold" else None))
        require_choice("activation", self.activation, ACTIVATIONS)
        s(self, "width", require_int("width", self.width, low=1))
        s(self, "init_scale", require_real("init_scale", self.init_scale, low=0.0, low_open=True))
        require_choice("dtype", self.dtype, tuple(DTYPES))
        if self.n_train is not None:
            s(self, "n_train", require_int("n_train", self.n_train, low=1))
        s(self, "seed", require_int("seed", self.seed, low=0, high=2**63 - 1))
        s(self, "log_every", require_int("log_every", self.log_every, low=1))
        for name in ("train_first", "train_head", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if not (self.train_first or self.train_head or self.threshold != "fixed"):
            raise ValueError("train_first, train_head and threshold leave nothing to train")

    def eps_at(self, step: int) -> float:
        """The curriculum radius ``eps_t`` used at step ``step`` (0-based)."""
        ramp = self.eps_ramp * self.steps
        if self.eps == 0.0 or ramp <= 0.0:
            return self.eps
        return self.eps * min(1.0, step / ramp)

    def step_size_at(self, eps_t: float) -> float:
        return self.pgd_step_size if self.pgd_step_size is not None else 2.5 * eps_t / self.pgd_steps


class LogRecord(NamedTuple):
    """One history entry, measured on the step's batch *before* the update.

    loss: training objective (on attacked inputs when ``eps_t > 0``); clean_acc: fraction
    with ``y f(x) > 0``; robust_acc: fraction surviving PGD at ``robust_eps`` (``eps_t``,
    or ``monitor_eps`` when set); ``y = 0`` samples count as errors in both accuracies.
    """

    step: int
    loss: float
    clean_acc: float
    robust_acc: float
    eps: float
    robust_eps: float
    threshold_mean: float


@dataclass(frozen=True)
class TrainResult:
    """A trained net with its history and provenance.

    net: the trained :class:`TorchTwoLayer` (a fresh module; the caller's net is never
    modified); init_net: the initial weights as a numpy :class:`TwoLayerNet`; history:
    :class:`LogRecord` entries every ``log_every`` steps and at the last step; seeds: the
    seeds actually used (``init``, ``data``, ``attack``); wall_time: seconds.
    """

    net: TorchTwoLayer
    init_net: TwoLayerNet
    history: tuple[LogRecord, ...]
    seeds: dict
    wall_time: float
    config: TrainConfig
    mode: str = field(default="online")  # "online" | "fixed"
    n_seen: int = 0  # number of (possibly repeated) training inputs drawn

    def history_arrays(self) -> dict[str, np.ndarray]:
        """The history as one numpy array per field."""
        return {name: np.array([getattr(r, name) for r in self.history]) for name in LogRecord._fields}


def derive_seeds(seed: int) -> dict:
    """Independent init, data and attack seeds (ints < 2^31) spawned from one seed."""
    seed = require_int("seed", seed, low=0)
    init, data, attack = np.random.SeedSequence(seed).generate_state(3, dtype=np.uint32) >> 1
    return {"seed": seed, "init": int(init), "data": int(data), "attack": int(attack)}


def margin_loss(kind: str, u: torch.Tensor) -> torch.Tensor:
    """Per-sample margin loss of ``u = y f(x)`` (see the module docstring)."""
    require_choice("loss", kind, LOSSES)
    if kind == "logistic":
        return torch.nn.functional.softplus(-u)
    if kind == "hinge":
        return torch.relu(1.0 - u)
    return (1.0 - u) ** 2


def _default_attack() -> Attack:
    from .attacks.pgd import pgd_attack  # imported late: only adversarial runs need it

    return pgd_attack


def _build_net(net, model: SparseCodingModel, cfg: TrainConfig, init_seed: int) -> TorchTwoLayer:
    dtype = DTYPES[cfg.dtype]
    if net is None:
        out = TorchTwoLayer.random_init(model.d, cfg.width, seed=init_seed, scale=cfg.init_scale, b=cfg.b_init,
                                        activation=cfg.activation, threshold=cfg.threshold, dtype=dtype)
        out.W.requires_grad_(cfg.train_first)
        out.a.requires_grad_(cfg.train_head)
        out.c.requires_grad_(cfg.train_head)
        return out
    if isinstance(net, TwoLayerNet):
        W, a, b, act, c = net.W, net.a, net.b, net.activation, net.c
    elif isinstance(net, TorchTwoLayer):
        with torch.no_grad():
            W, a, b, act, c = net.W, net.a, net.b, net.activation, float(net.c)
    else:
        raise ValueError(f"net must be None, a TwoLayerNet or a TorchTwoLayer, got {type(net).__name__}")
    if W.shape[1] != model.d:
        raise ValueError(f"net must have input dimension d = {model.d}, got {W.shape[1]}")
    # A fresh module in the config's dtype and threshold rule: the caller's net stays untouched.
    as_t = lambda v: torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v.detach()).to(dtype).clone()
    return TorchTwoLayer(as_t(W), as_t(a), as_t(b), act, c, threshold=cfg.threshold,
                         train_head=cfg.train_head, train_first=cfg.train_first)


def _as_fixed_data(data, model: SparseCodingModel, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(data, Sample):
        x, z = data.x, data.z
    elif isinstance(data, tuple) and len(data) == 2:
        x, z = data
    else:
        raise ValueError("data must be a Sample or a tuple (x, z) of arrays")
    to_np = lambda v: v.detach().cpu().numpy() if torch.is_tensor(v) else v
    x = require_array("data x", to_np(x), shape=(None, model.d))
    z = require_array("data z", to_np(z), shape=(x.shape[0], model.d))
    return torch.as_tensor(x, dtype=dtype), torch.as_tensor(z, dtype=dtype)


def _project_threshold(net: TorchTwoLayer) -> None:
    if net.activation == "soft_threshold" and net.b_param.requires_grad:
        with torch.no_grad():
            net.b_param.clamp_(min=0.0)


def _progress(steps: int, enabled: bool):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: a plain range without a bar
        return range(steps), None
    bar = tqdm(total=steps, disable=not (enabled and sys.stderr.isatty()), leave=False, desc="train")
    return range(steps), bar


def train(model: ModelConfig | SparseCodingModel, wstar, net: TwoLayerNet | TorchTwoLayer | None = None,
          cfg: TrainConfig | None = None, *, data: Sample | tuple | None = None,
          attack: Attack | None = None) -> TrainResult:
    """Train a two-layer net on ``y = sign(<w*, z>)``, clean (``cfg.eps = 0``) or adversarially.

    model: the data model (config or model); wstar: (d,) label direction; net: initial
    weights (``None``: seeded random init from ``cfg``); data: a fixed sample ``(x, z)``
    (or a :class:`Sample`) to train on instead of fresh draws (exclusive with
    ``cfg.n_train``); attack: the inner maximiser (default
    :func:`numerics.attacks.pgd.pgd_attack`), called as
    ``attack(net, x, y, eps, norm, steps, restarts, step_size, seed) -> delta`` (the
    perturbation, ``||delta|| <= eps`` per row; the net trains on ``x + delta``).
    """
    if isinstance(model, ModelConfig):
        model = SparseCodingModel(model)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a ModelConfig or a SparseCodingModel, got {type(model).__name__}")
    cfg = TrainConfig() if cfg is None else cfg
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    w = require_array("wstar", wstar, shape=(model.d,))
    if not np.any(w != 0):
        raise ValueError("wstar must be non-zero")
    if data is not None and cfg.n_train is not None:
        raise ValueError("data and cfg.n_train are exclusive: give a sample or its size, not both")
    needs_attack = cfg.eps > 0 or (cfg.monitor_eps is not None and cfg.monitor_eps > 0)
    if attack is None and needs_attack:
        attack = _default_attack()

    dtype = DTYPES[cfg.dtype]
    seeds = derive_seeds(cfg.seed)
    net_t = _build_net(net, model, cfg, seeds["init"])
    init_net = net_t.to_net()
    w_t = torch.as_tensor(w, dtype=dtype)
    gen = torch.Generator().manual_seed(seeds["data"])

    fixed = None
    if data is not None:
        fixed = _as_fixed_data(data, model, dtype)
    elif cfg.n_train is not None:
        fixed = model.sample_torch(cfg.n_train, gen, dtype=dtype)
    mode = "online" if fixed is None else "fixed"
    batch = cfg.batch if fixed is None else min(cfg.batch, fixed[0].shape[0])
    perm, cursor = None, 0

    params = [p for p in net_t.parameters() if p.requires_grad]
    if cfg.optimiser == "adam":
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    history: list[LogRecord] = []
    n_seen = 0
    steps, bar = _progress(cfg.steps, cfg.progress)
    t0 = time.perf_counter()
    try:
        for step in steps:
            if fixed is None:
                x, z = model.sample_torch(batch, gen, dtype=dtype)
            else:
                if perm is None or cursor + batch > perm.numel():
                    perm, cursor = torch.randperm(fixed[0].shape[0], generator=gen), 0
                idx = perm[cursor:cursor + batch]
                cursor += batch
                x, z = fixed[0][idx], fixed[1][idx]
            n_seen += batch
            y = labels_torch(z, w_t)
            keep = y != 0  # ties carry no label: out of the loss (module docstring)
            xk, yk = x[keep], y[keep]
            eps_t = cfg.eps_at(step)
            if eps_t > 0 and xk.shape[0] > 0:
                x_in = xk + attack(net_t, xk, yk, eps_t, cfg.norm, cfg.pgd_steps, cfg.pgd_restarts,
                                   cfg.step_size_at(eps_t), seeds["attack"] + step).detach()
            else:
                x_in = xk
            opt.zero_grad(set_to_none=True)  # the attack may have left gradients on the weights
            margins = yk * net_t(x_in)
            loss = margin_loss(cfg.loss, margins).mean() if xk.shape[0] > 0 else None
            log_now = step % cfg.log_every == 0 or step == cfg.steps - 1
            if log_now:
                history.append(_log_record(net_t, cfg, step, loss, x, y, keep, margins, eps_t, attack,
                                           seeds["attack"] + step))
                if bar is not None:
                    r = history[-1]
                    bar.set_postfix(loss=f"{r.loss:.3f}", acc=f"{r.clean_acc:.2f}", rob=f"{r.robust_acc:.2f}")
            if loss is not None:
                loss.backward()
                opt.step()
                _project_threshold(net_t)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    net_t.zero_grad(set_to_none=True)
    return TrainResult(net=net_t, init_net=init_net, history=tuple(history), seeds=seeds, wall_time=wall,
                       config=cfg, mode=mode, n_seen=n_seen)


def _log_record(net, cfg, step, loss, x, y, keep, train_margins, eps_t, attack, attack_seed) -> LogRecord:
    n = x.shape[0]
    with torch.no_grad():
        clean_ok = (y * net(x) > 0).sum().item()
    if cfg.monitor_eps is not None:
        r_eps = cfg.monitor_eps
        if r_eps > 0 and keep.any():
            # a separate attack stream (offset by steps) so monitoring never alters training
            xk = x[keep]
            x_adv = xk + attack(net, xk, y[keep], r_eps, cfg.norm, cfg.pgd_steps, cfg.pgd_restarts,
                                cfg.step_size_at(r_eps), attack_seed + cfg.steps).detach()
            with torch.no_grad():
                robust_ok = (y[keep] * net(x_adv) > 0).sum().item()
        else:
            robust_ok = clean_ok
    else:
        r_eps = eps_t
        robust_ok = (train_margins.detach() > 0).sum().item()
    return LogRecord(step=step, loss=float(loss.detach()) if loss is not None else math.nan,
                     clean_acc=clean_ok / n, robust_acc=robust_ok / n, eps=eps_t, robust_eps=r_eps,
                     threshold_mean=float(net.b.detach().mean()))

