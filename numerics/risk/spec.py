"""What a risk call is about (:class:`Spec`) and the validation of its arguments."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ModelConfig
from ..networks import TwoLayerNet
from ..sparse_coding import SparseCodingModel
from ..validation import require_array, require_choice, require_int, require_real
from .structure import as_two_layer

NORMS = ("l2", "linf")
QUANTITIES = ("clean_error", "robust_error", "logistic_loss", "adversarial_logistic_loss")
PGD_OPTIONS = ("steps", "restarts", "step_size", "zero_start")  # keywords of pgd_min_margin a caller may set
VERIFY_OPTIONS = ("budget", "options")  # keywords of verification.verify (threshold and seed are the risk's)


@dataclass(frozen=True)
class Spec:
    """One quantity of one net: ``net`` when it is a two-layer net (given or recognised), else
    ``module`` (an opaque torch module mapping (n, d) to n scores); ``net_how`` says which."""

    net: TwoLayerNet | None
    module: object | None
    net_how: str
    model: SparseCodingModel
    wstar: np.ndarray
    eps: float
    norm: str
    robust: bool  # worst case over the ball (eps > 0) or clean
    loss: bool  # logistic loss (True) or 0-1 error (False)


def quantity_flags(quantity: str) -> tuple[bool, bool]:
    """``(robust, loss)`` of a quantity name in ``QUANTITIES``."""
    require_choice("quantity", quantity, QUANTITIES)
    return "robust" in quantity or "adversarial" in quantity, "loss" in quantity


def make_spec(net, model, wstar, eps, norm, robust, loss, name="net") -> Spec:
    if isinstance(model, ModelConfig):
        model = SparseCodingModel(model)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a SparseCodingModel or a ModelConfig, got {type(model).__name__}")
    d = model.d
    two_layer, how = as_two_layer(net)
    module = None
    if two_layer is None:
        if not _is_module(net):
            raise ValueError(f"{name} must be a TwoLayerNet, a TorchTwoLayer or a torch.nn.Module mapping (n, d) "
                             f"to n scores, got {type(net).__name__}")
        _check_module(net, d, name)
        module = net
    elif two_layer.d != d:
        raise ValueError(f"{name} must have input dimension d={d} (the model's), got {two_layer.d}")
    w = require_array("wstar", wstar, shape=(d,))
    if not np.any(w != 0):
        raise ValueError("wstar must be non-zero")
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    return Spec(two_layer, module, how, model, w, eps, norm, bool(robust and eps > 0), loss)


def _is_module(net) -> bool:
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(net, nn.Module)


def _check_module(module, d: int, name: str) -> None:
    """One forward pass on two zero inputs: it must run and give two scores."""
    import torch

    from .margins import module_dtype_device

    dtype, device = module_dtype_device(module)
    try:
        with torch.no_grad():
            out = module(torch.zeros((2, d), dtype=dtype, device=device))
    except Exception as exc:  # noqa: BLE001 - any failure of the forward pass is a bad argument
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ValueError(f"{name} must map (n, {d}) inputs to n scores: the forward pass failed "
                         f"({type(exc).__name__}: {first})") from None
    if not isinstance(out, torch.Tensor) or out.numel() != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{name} must map (n, {d}) inputs to n scores, got output shape {shape} for n = 2")


MAX_SAMPLES = 100_000_000  # Monte Carlo samples per call: more would not fit in memory at any d of interest


def common_args(samples, seed, level, pgd, tol, verify):
    samples = None if samples is None else require_int("samples", samples, low=2, high=MAX_SAMPLES)
    seed = require_int("seed", seed, low=0)
    level = require_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    tol = require_real("tol", tol, low=0.0, high=1e-3)
    if pgd is not None and (not isinstance(pgd, dict) or not set(pgd) <= set(PGD_OPTIONS)):
        raise ValueError(f"pgd must be a dict with keys among {', '.join(PGD_OPTIONS)}, got {pgd!r}")
    if verify is not None and (not isinstance(verify, dict) or not set(verify) <= set(VERIFY_OPTIONS)):
        raise ValueError(f"verify must be a dict with keys among {', '.join(VERIFY_OPTIONS)} "
                         f"(keywords of numerics.verification.verify), got {verify!r}")
    return samples, seed, level, dict(pgd or {}), tol, dict(verify or {})
