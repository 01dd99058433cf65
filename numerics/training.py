"""The training loop of :mod:`numerics`: one loop, any module, R independent runs as one tensor program.

:func:`fit` ``(objective, cfg) -> FitResult`` is the only optimisation loop of the library.
An *objective* holds a runs module (:mod:`numerics.torch_nets`: parameters shaped (R, ...))
and returns, per step, the per-run losses (R,); the loop sums them (runs share no parameter,
so each run's gradient is its own), takes an Adam or SGD step (elementwise, so per run),
projects thresholds (``objective.after_step``), logs and shows a tqdm bar (``cfg.progress``,
only on a terminal). Because every operation of the nets, the batched PGD
(:func:`numerics.attacks.pgd.pgd_attack` on a runs module) and the losses is batch-invariant,
each run of a batch is bit for bit the run trained alone (R = 1) on the same CPU and thread
count (tested in tests/test_training.py).

Objectives: :class:`MarginObjective` (supervised margin losses, below; two-layer nets, the
architectures of :mod:`numerics.architectures`, heads on frozen layers) and
:class:`numerics.contrastive.objective.ContrastiveObjective` (contrastive pre-training).

Entry points (thin: they build an objective and call :func:`fit`):

- :func:`train` one two-layer net, :func:`train_batch` R of them (one per seed), returning
  :class:`TrainResult` per run;
- :func:`train_module` any :class:`~numerics.torch_nets.RunsModule` in place (one net),
  :func:`train_module_batch` a runs module;
- :func:`numerics.downstream.fit_head` a head on a frozen layer;
- :func:`numerics.contrastive.train_contrastive` contrastive pre-training.

Conventions of the supervised objective (``y = sign(<w*, z>)``; ``delta`` the PGD attack at
radius ``eps_t``, ``delta = 0`` when ``eps_t = 0``: clean training):

- Data: either fresh samples each step (*online*, a stand-in for the population) drawn with
  :meth:`SparseCodingModel.sample_torch` from the run's own generator (up to 64 steps' batches
  per draw: :class:`LabelledBatches`), or a *fixed* finite
  sample (given, or drawn once per run with ``cfg.n_train``) visited epoch by epoch: each
  epoch is a seeded permutation cut into batches of ``min(batch, n)``, its last
  ``n mod batch`` rows skipped.
- Ties: samples with ``y = 0`` carry no label information, so they get weight 0 in the loss
  (the loss is the mean over the labelled rows of the batch; the attack leaves them at
  ``delta = 0``). A batch with no labelled row contributes a zero gradient (Adam's moments
  still move that step). The logged accuracies follow the project convention instead: such a
  sample counts as an error (margin ``y f = 0``), so a logged accuracy is at most ``P(y != 0)``.
- Margin losses of ``u = y f``: logistic ``log(1 + e^-u)``, hinge ``max(0, 1 - u)``,
  squared ``(1 - u)^2`` (``= (y - f)^2`` for ``y = +-1``).
- Curriculum: ``eps_t = eps * min(1, t / (eps_ramp * steps))`` (linear ramp from 0);
  ``eps_ramp = 0`` attacks at full ``eps`` from the first step. Adversarial training
  straight at a large radius collapses to a constant predictor; the ramp avoids it.
  Training attacks start at a random point (``zero_start=False``), ``cfg.pgd_restarts`` of them.
- A trainable soft threshold is projected back onto ``b >= 0`` after every optimiser step
  (the nets clamp ``b`` at use time, which would otherwise leave a negative parameter with
  zero gradient forever).
- Seeds: each run's seed spawns three independent seeds (init, data, attack) through
  ``numpy.random.SeedSequence`` (:func:`derive_seeds`); the attack at step ``t`` uses
  ``attack_seed + t`` (monitoring attacks ``attack_seed + steps + t``). Clean training never
  consumes attack randomness, so ``eps = 0`` adversarial training *is* clean training, bit
  for bit.

:class:`TrainConfig` fields are honoured by every entry point or rejected: fields about the
random init of a two-layer net (``width``, ``activation``, ``init_scale``, ``b_init``) apply
when the trainer builds the net; an entry point given its net, module or layer requires them
at their defaults or, for ``width`` and ``activation``, equal to the given net's (ValueError
naming the field otherwise). ``threshold="fixed"`` freezes a module's thresholds, any other
rule trains them (a module whose thresholds are shared rejects ``"per_node"``).
"""
from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch

from .activations import ACTIVATIONS
from .attacks.pgd import NORMS
from .config import ModelConfig
from .networks import TwoLayerNet
from .sparse_coding import Sample, SparseCodingModel, labels_torch
from .torch_nets import THRESHOLDS, RunsModule, TorchTwoLayer
from .validation import require_array, require_choice, require_int, require_real

OPTIMISERS = ("adam", "sgd")
LOSSES = ("logistic", "hinge", "squared")
DTYPES = {"float32": torch.float32, "float64": torch.float64}

# ``attack(module, x, y, eps, norm, steps, restarts, step_size, seeds) -> delta`` (torch in/out):
# a runs module, x (R, n, d), y (R, n), one seed per run; the signature of
# :func:`numerics.attacks.pgd.pgd_attack`.
Attack = Callable[..., torch.Tensor]


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class LoopConfig:
    """What every objective trained by :func:`fit` shares: the optimiser, the inner attack's schedule, logging.

    steps, batch, lr, optimiser ("adam" | "sgd", ``momentum`` for sgd), weight_decay; eps, norm
    ("l2" | "linf"): adversarial radius (0 = clean); pgd_steps, pgd_restarts, pgd_step_size
    (None: ``2.5 eps_t / pgd_steps``, Madry et al.); eps_ramp: fraction of the steps over which
    eps ramps up linearly from 0; dtype ("float32" | "float64"); log_every; progress: tqdm bar
    (shown only on a terminal). Validated on construction (ValueError naming the field).
    """

    steps: int = 3000
    batch: int = 128
    lr: float = 0.01
    optimiser: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    eps: float = 0.0
    norm: str = "l2"
    pgd_steps: int = 10
    pgd_restarts: int = 1
    pgd_step_size: float | None = None
    eps_ramp: float = 0.0
    dtype: str = "float32"
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
        s(self, "eps", require_real("eps", self.eps, low=0.0))
        require_choice("norm", self.norm, NORMS)
        s(self, "pgd_steps", require_int("pgd_steps", self.pgd_steps, low=1))
        s(self, "pgd_restarts", require_int("pgd_restarts", self.pgd_restarts, low=1))
        if self.pgd_step_size is not None:
            s(self, "pgd_step_size", require_real("pgd_step_size", self.pgd_step_size, low=0.0, low_open=True))
        s(self, "eps_ramp", require_real("eps_ramp", self.eps_ramp, low=0.0, high=1.0))
        require_choice("dtype", self.dtype, tuple(DTYPES))
        s(self, "log_every", require_int("log_every", self.log_every, low=1))
        if not isinstance(self.progress, bool):
            raise ValueError(f"progress must be a bool, got {self.progress!r}")

    def eps_at(self, step: int) -> float:
        """The curriculum radius ``eps_t`` used at step ``step`` (0-based)."""
        ramp = self.eps_ramp * self.steps
        if self.eps == 0.0 or ramp <= 0.0:
            return self.eps
        return self.eps * min(1.0, step / ramp)

    def step_size_at(self, eps_t: float) -> float:
        return self.pgd_step_size if self.pgd_step_size is not None else 2.5 * eps_t / self.pgd_steps

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]


@dataclass(frozen=True)
class TrainConfig(LoopConfig):
    """Everything that defines a supervised training run; validated on construction.

    The fields of :class:`LoopConfig`, and: loss ("logistic" | "hinge" | "squared");
    monitor_eps: if set, the logged robust accuracy is measured by a separate PGD at this
    radius (otherwise at the training radius ``eps_t``, for free); threshold ("fixed" |
    "shared" | "per_node"): how the soft threshold b is trained (a "shared" threshold given a
    net starts at the mean of its ``b``); train_first, train_head: train W, and (a, c) (e.g. a
    clean head on a frozen layer, docs/model.md P5); activation, width m, init_scale (W and a ~
    init_scale N(0, 1) entrywise, see ``TorchTwoLayer.random_init``), b_init: the random init
    used when no net is given (see the module docstring for given nets); n_train: draw a fixed
    sample of this size once (None = online); seed.
    """

    loss: str = "logistic"
    monitor_eps: float | None = None
    threshold: str = "shared"
    b_init: float = 0.0
    train_first: bool = True
    train_head: bool = True
    activation: str = "soft_threshold"
    width: int = 64
    init_scale: float = 0.01
    n_train: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        s = object.__setattr__
        require_choice("loss", self.loss, LOSSES)
        if self.monitor_eps is not None:
            s(self, "monitor_eps", require_real("monitor_eps", self.monitor_eps, low=0.0))
        require_choice("threshold", self.threshold, THRESHOLDS)
        require_choice("activation", self.activation, ACTIVATIONS)
        s(self, "b_init", require_real("b_init", self.b_init, low=0.0 if self.activation == "soft_threshold" else None))
        s(self, "width", require_int("width", self.width, low=1))
        s(self, "init_scale", require_real("init_scale", self.init_scale, low=0.0, low_open=True))
        if self.n_train is not None:
            s(self, "n_train", require_int("n_train", self.n_train, low=1))
        s(self, "seed", require_int("seed", self.seed, low=0, high=2**63 - 1))
        for name in ("train_first", "train_head"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if not (self.train_first or self.train_head or self.threshold != "fixed"):
            raise ValueError("train_first, train_head and threshold leave nothing to train")

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


_DEFAULT = TrainConfig()


def check_given_net_fields(cfg: TrainConfig, *, width: int, activation: str | None, entry: str) -> None:
    """The init fields of ``cfg`` against a given net: at their defaults, or equal to the net's (module docstring)."""
    if cfg.width != _DEFAULT.width and cfg.width != width:
        raise ValueError(f"width must be the given net's width {width} (or left at its default): {entry} trains the "
                         f"net it is given, got {cfg.width}")
    if activation is not None and cfg.activation != _DEFAULT.activation and cfg.activation != activation:
        raise ValueError(f"activation must be the given net's activation {activation!r} (or left at its default), "
                         f"got {cfg.activation!r}")
    if activation is None and cfg.activation != _DEFAULT.activation:
        raise ValueError(f"activation is fixed by the given module's class in {entry}; leave it at its default")
    for name in ("init_scale", "b_init"):
        if getattr(cfg, name) != getattr(_DEFAULT, name):
            raise ValueError(f"{name} applies only to the trainer's random init; {entry} is given its net "
                             f"(leave {name} at its default {getattr(_DEFAULT, name)!r})")


# --------------------------------------------------------------------------- the loop


def make_optimiser(params, cfg: LoopConfig) -> torch.optim.Optimizer:
    """Adam or SGD over ``params`` with ``cfg``'s lr, momentum and weight decay (elementwise: per run)."""
    if cfg.optimiser == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def progress_bar(total: int, enabled: bool, desc: str = "train"):
    """A tqdm bar on a terminal when ``enabled`` (None otherwise, or when tqdm is missing)."""
    if not (enabled and sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return None
    return tqdm(total=total, leave=False, desc=desc)


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns: losses (steps, R) float64 (the objective's per-run loss at each step,
    before the update), the logged steps, ``logs`` (name -> (len(log_steps), R) float64 arrays,
    the objective's log records) and the wall time in seconds."""

    losses: np.ndarray
    log_steps: np.ndarray
    logs: dict
    wall_time: float

    @property
    def runs(self) -> int:
        return self.losses.shape[1]


def fit(objective, cfg: LoopConfig, *, desc: str = "train") -> FitResult:
    """Minimise ``objective`` for ``cfg.steps`` steps: the one training loop (module docstring).

    ``objective`` provides ``runs`` (R), ``parameters()`` (the trainable tensors),
    ``step_loss(step, log) -> (losses (R,), record)`` (``record``: a dict of per-run tensors
    (R,) when ``log``, else None; computed before the update) and ``after_step()``.
    """
    if not isinstance(cfg, LoopConfig):
        raise ValueError(f"cfg must be a TrainConfig or another LoopConfig, got {type(cfg).__name__}")
    params = list(objective.parameters())
    if not params:
        raise ValueError("objective has no trainable parameter")
    opt = make_optimiser(params, cfg)
    R = objective.runs
    losses = torch.empty((cfg.steps, R), dtype=torch.float64)
    log_steps, records = [], []
    bar = progress_bar(cfg.steps, cfg.progress, desc)
    t0 = time.perf_counter()
    try:
        for step in range(cfg.steps):
            log = step % cfg.log_every == 0 or step == cfg.steps - 1
            loss, record = objective.step_loss(step, log)
            if record is not None:
                log_steps.append(step)
                records.append({k: torch.as_tensor(v).detach().double().reshape(R) for k, v in record.items()})
            opt.zero_grad(set_to_none=True)  # an attack may have left gradients on the weights
            loss.sum().backward()  # runs share no parameter: the sum's gradient is each run's own
            opt.step()
            objective.after_step()
            losses[step] = loss.detach().double()
            if bar is not None:
                if record is not None:
                    bar.set_postfix({k: f"{float(v.mean()):.3g}" for k, v in list(records[-1].items())[:3]})
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    for p in params:
        p.grad = None
    logs = {k: torch.stack([r[k] for r in records]).numpy() for k in (records[0] if records else {})}
    return FitResult(losses.numpy(), np.array(log_steps, dtype=np.int64), logs, wall)


# --------------------------------------------------------------------------- supervised objective


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


# Online draws are made this many rows x columns at a time per run (fewer, larger draws): a
# chunk holds max(1, min(64, _DRAW_ELEMENTS // (batch * d))) steps, a function of the batch
# shape only, so a run's stream does not depend on the other runs nor on the number of steps.
_DRAW_ELEMENTS = 1 << 20
_DRAW_STEPS = 64


class LabelledBatches:
    """Per-run labelled batches ``(x (R, n, d), y (R, n))``: online draws or epochs over fixed samples.

    Build with :meth:`online` or :meth:`fixed`; ``next(step)`` gives the step's batch, ``mode``
    is "online" or "fixed", ``batch`` the rows per step. A batch is a view: online inputs are
    overwritten by the draw of a later chunk, so use (or copy) a batch within its step.
    """

    def __init__(self, mode: str, batch: int, gens: list[torch.Generator], draw=None, x=None, y=None,
                 chunk: int = 1, d: int | None = None, dtype=None):
        self.mode, self.batch, self.gens = mode, batch, gens
        self._draw, self._x, self._y, self._chunk = draw, x, y, chunk
        self._d, self._dtype, self._xs = d, dtype, None  # online: the reused input buffer (R, chunk * n, d)
        self._perm = [None] * len(gens)
        self._cursor = [0] * len(gens)
        self._buf, self._pos = None, 0

    @classmethod
    def online(cls, model: SparseCodingModel, wstar, batch: int, data_seeds: Sequence[int], dtype) -> "LabelledBatches":
        """Fresh samples of the model per run and step, each run from its own generator.

        Drawn ``chunk`` steps at a time (``model.sample_torch(chunk * batch)``, module constants):
        run r's stream is the same whatever the other runs and however many steps are taken.
        """
        w = torch.as_tensor(np.asarray(wstar), dtype=dtype)
        gens = [torch.Generator().manual_seed(int(s)) for s in data_seeds]
        d = model.d
        chunk = max(1, min(_DRAW_STEPS, _DRAW_ELEMENTS // (batch * d)))

        def draw(g, out):
            _, z = model.sample_torch(chunk * batch, g, dtype=dtype, out=out)
            return labels_torch(z, w)

        return cls("online", batch, gens, draw=draw, chunk=chunk, d=d, dtype=dtype)

    @classmethod
    def fixed(cls, x: torch.Tensor, y: torch.Tensor, batch: int, data_seeds: Sequence[int]) -> "LabelledBatches":
        """Seeded epochs over a fixed sample: x (n, d), y (n,) shared by every run, or x (R, n, d), y (R, n).

        Each run shuffles its sample at every epoch with its own generator; a batch of the whole
        sample (``batch >= n``) is the sample in its given order at every step (no draw).
        """
        gens = [torch.Generator().manual_seed(int(s)) for s in data_seeds]
        if x.ndim == 2:
            x, y = x.expand((len(gens),) + x.shape), y.expand((len(gens),) + y.shape)
        return cls("fixed", min(batch, x.shape[1]), gens, x=x, y=y)

    def next(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mode == "online":
            if self._buf is None or self._pos == self._chunk:
                # run r draws straight into its (chunk * n, d) block of one (R, chunk, n, d) buffer, reused
                # chunk after chunk (no stacking copy, no fresh pages: a new one cost as much as the copy);
                # a step's batch is the (R, n, d) view of every run's block at that step
                R, n, k = len(self.gens), self.batch, self._chunk
                if self._xs is None:
                    self._xs = torch.empty((R, k * n, self._d), dtype=self._dtype)
                ys = torch.stack([self._draw(g, self._xs[r]) for r, g in enumerate(self.gens)])
                self._buf, self._pos = (self._xs.view(R, k, n, self._d), ys.view(R, k, n)), 0
            self._pos += 1
            return self._buf[0][:, self._pos - 1], self._buf[1][:, self._pos - 1]
        n = self._x.shape[1]
        if self.batch == n:  # full batch: every step is the whole sample, whose order the mean loss does not need
            return self._x, self._y
        picks = []
        for r, g in enumerate(self.gens):
            if self._perm[r] is None or self._cursor[r] + self.batch > n:
                self._perm[r], self._cursor[r] = torch.randperm(n, generator=g), 0
            picks.append(self._perm[r][self._cursor[r]:self._cursor[r] + self.batch])
            self._cursor[r] += self.batch
        # one gather for every run (run r's rows picks[r]); a loop of per-run gathers and a stack cost twice the copy
        rows, idx = torch.arange(len(self.gens))[:, None], torch.stack(picks)
        return self._x[rows, idx], self._y[rows, idx]


def _default_attack() -> Attack:
    from .attacks.pgd import pgd_attack

    def attack(module, x, y, eps, norm, steps, restarts, step_size, seeds):
        # the loop's batches are finite by construction (sampled, or validated when given): no scan per step
        return pgd_attack(module, x, y, eps, norm, steps, restarts, step_size, seeds, zero_start=False,
                          check_finite=False)

    return attack


def trainable_parameters(module: RunsModule, cfg: TrainConfig) -> list[torch.nn.Parameter]:
    """Set ``requires_grad`` on ``module``'s groups from ``cfg`` (train_first, threshold, train_head); the trainable ones."""
    groups = module.parameter_groups()
    want = {"first": cfg.train_first, "threshold": cfg.threshold != "fixed", "head": cfg.train_head}
    out = []
    for name, params in groups.items():
        for p in params:
            p.requires_grad_(want.get(name, True))
            if p.requires_grad:
                out.append(p)
    return out


def _threshold_mean(module) -> torch.Tensor:
    if isinstance(module, TorchTwoLayer):
        return module.b.detach().mean(-1)
    thr = module.parameter_groups().get("threshold", [])
    if not thr:
        return torch.full((module.runs,), float("nan"))
    return torch.cat([p.detach().clamp_min(0.0).reshape(module.runs, -1) for p in thr], dim=1).mean(-1)


class MarginObjective:
    """``mean over labelled rows of loss(y f(x + delta))`` per run, for any runs module (module docstring).

    module: a :class:`~numerics.torch_nets.RunsModule` with R runs (trained in place);
    batches: :class:`LabelledBatches`; cfg: :class:`TrainConfig` (loss, eps schedule, PGD,
    monitor_eps, train_first / threshold / train_head); attack_seeds: R ints; attack: the inner
    maximiser (default :func:`numerics.attacks.pgd.pgd_attack` with random starts).
    """

    def __init__(self, module: RunsModule, batches: LabelledBatches, cfg: TrainConfig, attack_seeds: Sequence[int],
                 attack: Attack | None = None):
        if not isinstance(module, RunsModule) or module.runs is None:
            raise ValueError(f"module must be a runs module (numerics.torch_nets.RunsModule with a run axis), "
                             f"got {type(module).__name__}")
        self.module, self.batches, self.cfg = module, batches, cfg
        self.runs = module.runs
        self.attack_seeds = [int(s) for s in attack_seeds]
        needs_attack = cfg.eps > 0 or (cfg.monitor_eps is not None and cfg.monitor_eps > 0)
        self.attack = attack if attack is not None or not needs_attack else _default_attack()
        self._params = trainable_parameters(module, cfg)

    def parameters(self):
        return self._params

    def after_step(self) -> None:
        self.module.project_()

    def _attacked(self, x, y, eps, offset):
        c = self.cfg
        seeds = [s + offset for s in self.attack_seeds]
        return x + self.attack(self.module, x, y, eps, c.norm, c.pgd_steps, c.pgd_restarts, c.step_size_at(eps),
                               seeds).detach()

    def step_loss(self, step: int, log: bool):
        c = self.cfg
        x, y = self.batches.next(step)
        keep = y != 0  # ties carry no label: weight 0 in the loss (module docstring)
        count = keep.sum(-1)
        eps_t = c.eps_at(step)
        x_in = self._attacked(x, y, eps_t, step) if eps_t > 0 else x
        margins = y * self.module(x_in)
        per_sample = torch.where(keep, margin_loss(c.loss, margins), torch.zeros((), dtype=margins.dtype))
        loss = per_sample.sum(-1) / count.clamp_min(1)
        if not log:
            return loss, None
        n = y.shape[-1]
        with torch.no_grad():
            clean_ok = (y * self.module(x) > 0).sum(-1)
            if c.monitor_eps is not None:
                r_eps = c.monitor_eps
                if r_eps > 0:  # a separate attack stream (offset by steps): monitoring never alters training
                    robust_ok = (y * self.module(self._attacked(x, y, r_eps, step + c.steps)) > 0).sum(-1)
                else:
                    robust_ok = clean_ok
            else:
                r_eps = eps_t
                robust_ok = (margins.detach() > 0).sum(-1)
        full = lambda v: torch.full((self.runs,), v, dtype=torch.float64)  # noqa: E731
        record = {"loss": torch.where(count > 0, loss.detach().double(), full(float("nan"))),
                  "clean_acc": clean_ok.double() / n, "robust_acc": robust_ok.double() / n, "eps": full(eps_t),
                  "robust_eps": full(r_eps), "threshold_mean": _threshold_mean(self.module)}
        return loss, record


# --------------------------------------------------------------------------- two-layer entry points


class LogRecord(NamedTuple):
    """One history entry, measured on the step's batch *before* the update.

    loss: training objective (on attacked inputs when ``eps_t > 0``; NaN for a batch of ties
    only); clean_acc: fraction with ``y f(x) > 0``; robust_acc: fraction surviving PGD at
    ``robust_eps`` (``eps_t``, or ``monitor_eps`` when set); ``y = 0`` samples count as errors
    in both accuracies.
    """

    step: int
    loss: float
    clean_acc: float
    robust_acc: float
    eps: float
    robust_eps: float
    threshold_mean: float


def _history(res: FitResult, r: int) -> tuple[LogRecord, ...]:
    fields = LogRecord._fields[1:]
    return tuple(LogRecord(int(s), *(float(res.logs[f][i, r]) for f in fields)) for i, s in enumerate(res.log_steps))


@dataclass(frozen=True)
class TrainResult:
    """A trained net with its history and provenance.

    net: the trained :class:`TorchTwoLayer` (a fresh single net; the caller's net is never
    modified); init_net: the initial weights as a numpy :class:`TwoLayerNet`; history:
    :class:`LogRecord` entries every ``log_every`` steps and at the last step; seeds: the
    seeds actually used (``init``, ``data``, ``attack``); wall_time: seconds (of the whole
    batch when trained with others); config: the run's config (its own ``seed``).
    """

    net: TorchTwoLayer
    init_net: TwoLayerNet
    history: tuple[LogRecord, ...]
    seeds: dict
    wall_time: float
    config: TrainConfig
    mode: str = field(default="online")  # "online" | "fixed"
    n_seen: int = 0  # number of (possibly repeated) training inputs drawn
    losses: np.ndarray = field(default=None, repr=False, compare=False)  # (steps,) per-step loss

    def history_arrays(self) -> dict[str, np.ndarray]:
        """The history as one numpy array per field."""
        return {name: np.array([getattr(r, name) for r in self.history]) for name in LogRecord._fields}


def _as_model(model) -> SparseCodingModel:
    if isinstance(model, ModelConfig):
        model = SparseCodingModel(model)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a ModelConfig or a SparseCodingModel, got {type(model).__name__}")
    return model


def _check_cfg(cfg) -> TrainConfig:
    cfg = TrainConfig() if cfg is None else cfg
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    return cfg


def _check_wstar(wstar, d: int, name: str = "wstar") -> np.ndarray:
    w = require_array(name, wstar, shape=(d,))
    if not np.any(w != 0):
        raise ValueError(f"{name} must be non-zero")
    return w


def _check_seeds(seeds) -> list[int]:
    seeds = [require_int("seeds", s, low=0, high=2**63 - 1) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    return seeds


def _as_fixed_data(data, d: int, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(data, Sample):
        x, z = data.x, data.z
    elif isinstance(data, tuple) and len(data) == 2:
        x, z = data
    else:
        raise ValueError("data must be a Sample or a tuple (x, z) of arrays")
    to_np = lambda v: v.detach().cpu().numpy() if torch.is_tensor(v) else v  # noqa: E731
    x = require_array("data x", to_np(x), shape=(None, d))
    z = require_array("data z", to_np(z), shape=(x.shape[0], d))
    return torch.as_tensor(x, dtype=dtype), torch.as_tensor(z, dtype=dtype)


def supervised_batches(model: SparseCodingModel, w: np.ndarray, cfg: TrainConfig, data, derived) -> LabelledBatches:
    """The batches of ``y = sign(<w, z>)``: a given sample, one sample of ``cfg.n_train`` per run, or online draws."""
    if data is not None and cfg.n_train is not None:
        raise ValueError("data and cfg.n_train are exclusive: give a sample or its size, not both")
    dtype = cfg.torch_dtype
    data_seeds = [ds["data"] for ds in derived]
    wt = torch.as_tensor(w, dtype=dtype)
    if data is not None:
        x, z = _as_fixed_data(data, model.d, dtype)
        return LabelledBatches.fixed(x, labels_torch(z, wt), cfg.batch, data_seeds)
    if cfg.n_train is None:
        return LabelledBatches.online(model, w, cfg.batch, data_seeds, dtype)
    gens = [torch.Generator().manual_seed(s) for s in data_seeds]
    drawn = [model.sample_torch(cfg.n_train, g, dtype=dtype) for g in gens]
    return LabelledBatches("fixed", min(cfg.batch, cfg.n_train), gens, x=torch.stack([d[0] for d in drawn]),
                           y=torch.stack([labels_torch(d[1], wt) for d in drawn]))


def _two_layer_start(net, d: int, cfg: TrainConfig) -> TorchTwoLayer:
    """A fresh single net in the config's dtype and threshold rule from a given net (the caller's stays untouched)."""
    if isinstance(net, TwoLayerNet):
        W, a, b, act, c = net.W, net.a, net.b, net.activation, net.c
    elif isinstance(net, TorchTwoLayer) and net.runs is None:
        with torch.no_grad():
            W, a, b, act, c = net.W, net.a, net.b, net.activation, float(net.c)
    else:
        raise ValueError(f"net must be None, a TwoLayerNet or a single TorchTwoLayer, got {type(net).__name__}")
    if W.shape[1] != d:
        raise ValueError(f"net must have input dimension d = {d}, got {W.shape[1]}")
    check_given_net_fields(cfg, width=W.shape[0], activation=act, entry="train")
    as_t = lambda v: torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v.detach()).to(cfg.torch_dtype).clone()  # noqa: E731
    return TorchTwoLayer(as_t(W), as_t(a), as_t(b), act, c, threshold=cfg.threshold)


def train_batch(model: ModelConfig | SparseCodingModel, wstar, cfg: TrainConfig | None = None, *,
                seeds: Sequence[int], net: TwoLayerNet | TorchTwoLayer | None = None,
                data: Sample | tuple | None = None, attack: Attack | None = None) -> tuple[TrainResult, ...]:
    """Train one two-layer net per seed as one batched run; result r is bit for bit ``train`` with ``seed=seeds[r]``.

    model: the data model; wstar: (d,) label direction; cfg: the shared config (its ``seed``
    is replaced by each run's); net: the initial weights of every run (None: each run's seeded
    random init from ``cfg``); data: a fixed sample ``(x, z)`` (or a :class:`Sample`) shared
    by the runs (exclusive with ``cfg.n_train``, which draws one sample per run); attack:
    the inner maximiser (default :func:`numerics.attacks.pgd.pgd_attack`), called as
    ``attack(module, x, y, eps, norm, steps, restarts, step_size, seeds) -> delta`` with the
    runs module, x (R, n, d), y (R, n) and one seed per run.
    """
    model = _as_model(model)
    cfg = _check_cfg(cfg)
    w = _check_wstar(wstar, model.d)
    seeds = _check_seeds(seeds)
    if data is not None and cfg.n_train is not None:
        raise ValueError("data and cfg.n_train are exclusive: give a sample or its size, not both")
    dtype = cfg.torch_dtype
    derived = [derive_seeds(s) for s in seeds]
    if net is None:
        singles = [TorchTwoLayer.random_init(model.d, cfg.width, seed=ds["init"], scale=cfg.init_scale, b=cfg.b_init,
                                             activation=cfg.activation, threshold=cfg.threshold, dtype=dtype)
                   for ds in derived]
    else:
        start = _two_layer_start(net, model.d, cfg)
        singles = [start] * len(seeds)
    module = TorchTwoLayer.stack(singles)
    init_nets = [s.to_net() for s in singles]
    batches = supervised_batches(model, w, cfg, data, derived)
    objective = MarginObjective(module, batches, cfg, [ds["attack"] for ds in derived], attack)
    res = fit(objective, cfg)
    return tuple(TrainResult(net=module.run(r), init_net=init_nets[r], history=_history(res, r), seeds=derived[r],
                             wall_time=res.wall_time, config=cfg.replace(seed=seeds[r]), mode=batches.mode,
                             n_seen=cfg.steps * batches.batch, losses=res.losses[:, r].copy())
                 for r in range(len(seeds)))


def train(model: ModelConfig | SparseCodingModel, wstar, net: TwoLayerNet | TorchTwoLayer | None = None,
          cfg: TrainConfig | None = None, *, data: Sample | tuple | None = None,
          attack: Attack | None = None) -> TrainResult:
    """Train a two-layer net on ``y = sign(<w*, z>)``, clean (``cfg.eps = 0``) or adversarially.

    :func:`train_batch` with the one seed ``cfg.seed`` (arguments as there).
    """
    cfg = _check_cfg(cfg)
    return train_batch(model, wstar, cfg, seeds=[cfg.seed], net=net, data=data, attack=attack)[0]


# --------------------------------------------------------------------------- any module


@dataclass(frozen=True)
class ModuleTrainResult:
    """A trained module with its per-step losses ((steps,) for one net, (steps, R) for runs), history, seeds, wall time."""

    module: torch.nn.Module
    losses: np.ndarray
    seeds: object
    wall_time: float
    config: TrainConfig
    history: dict = field(default_factory=dict, repr=False)


def _module_width(module: RunsModule) -> int:
    return int(module.first_layer().shape[-2])


def _check_module_cfg(module: RunsModule, cfg: TrainConfig, entry: str) -> None:
    if isinstance(module, TorchTwoLayer):
        check_given_net_fields(cfg, width=module.m, activation=module.activation, entry=entry)
        if cfg.threshold != module.threshold and cfg.threshold != "fixed" and cfg.threshold != _DEFAULT.threshold:
            raise ValueError(f"threshold must be the module's rule {module.threshold!r} or 'fixed', got {cfg.threshold!r}")
        return
    check_given_net_fields(cfg, width=_module_width(module), activation=None, entry=entry)
    thr = module.parameter_groups().get("threshold", [])
    shared = all(p.shape[-1] == 1 for p in thr)
    if cfg.threshold == "per_node" and shared:
        raise ValueError(f"threshold 'per_node' is not available: {type(module).__name__} has shared thresholds")


def train_module_batch(module: RunsModule, model: SparseCodingModel, wstar, cfg: TrainConfig, *,
                       seeds: Sequence[int], data: Sample | tuple | None = None,
                       attack: Attack | None = None) -> ModuleTrainResult:
    """Train a runs module (in place) on ``y = sign(<w*, z>)``, run r with data and attack seeds of ``seeds[r]``.

    The module's own init stands (build it with ``random_init(..., seed=[derive_seeds(s)["init"] for s in seeds])``
    to follow :func:`train`'s seed derivation); everything else as :func:`train_batch`.
    """
    if not isinstance(module, RunsModule) or module.runs is None:
        raise ValueError(f"module must be a runs module (numerics.torch_nets.RunsModule with a run axis), "
                         f"got {type(module).__name__}")
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a SparseCodingModel, got {type(model).__name__}")
    cfg = _check_cfg(cfg)
    w = _check_wstar(wstar, model.d)
    seeds = _check_seeds(seeds)
    if len(seeds) != module.runs:
        raise ValueError(f"seeds must hold one seed per run ({module.runs}), got {len(seeds)}")
    _check_module_cfg(module, cfg, "train_module")
    module.to(cfg.torch_dtype)
    derived = [derive_seeds(s) for s in seeds]
    batches = supervised_batches(model, w, cfg, data, derived)
    res = fit(MarginObjective(module, batches, cfg, [ds["attack"] for ds in derived], attack), cfg)
    return ModuleTrainResult(module, res.losses, tuple(derived), res.wall_time, cfg,
                             {"step": res.log_steps, **res.logs})


def train_module(module: RunsModule, model: SparseCodingModel, wstar, cfg: TrainConfig, *,
                 attack: Attack | None = None) -> ModuleTrainResult:
    """Train one module (in place) on ``y = sign(<w*, z>)``, clean (``cfg.eps = 0``) or adversarially.

    :func:`train_module_batch` on the module as a batch of one run with seed ``cfg.seed``; the
    result's ``losses`` are (steps,) and ``seeds`` the run's derived seeds.
    """
    if not isinstance(module, RunsModule) or module.runs is not None:
        raise ValueError(f"module must be a single net of numerics.architectures / numerics.torch_nets "
                         f"(a RunsModule without run axis), got {type(module).__name__}")
    cfg = _check_cfg(cfg)
    module.to(cfg.torch_dtype)
    runs = module.as_runs()
    res = train_module_batch(runs, model, wstar, cfg, seeds=[cfg.seed], attack=attack)
    module.load_run_(0, runs.run(0))
    for p_single, p_runs in zip(module.parameters(), runs.parameters()):
        p_single.requires_grad_(p_runs.requires_grad)
    return ModuleTrainResult(module, res.losses[:, 0].copy(), res.seeds[0], res.wall_time, cfg,
                             {k: (v if k == "step" else v[:, 0]) for k, v in res.history.items()})
