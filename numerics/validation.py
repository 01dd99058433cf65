"""Argument validation with one error format: the parameter's name and its allowed range.

Every public function of ``numerics`` validates its inputs through these helpers so that a
user who passes ``p=1.5`` reads ``p must be in (0, 1], got 1.5`` and nothing else.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np


def _fmt(value: Any) -> str:
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def require_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` naming ``name`` and the range."""
    rng = _range_text(low, high, True, True, integer=True)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer {rng}, got {_fmt(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {rng}, got {value}")
    return value


def require_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given interval, else ``ValueError``."""
    rng = _range_text(low, high, not low_open, not high_open)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number {rng}, got {_fmt(value)}")
    value = float(value)
    bad = not math.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        raise ValueError(f"{name} must be a real number {rng}, got {_fmt(value)}")
    return value


def require_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {_fmt(value)}")
    return value


def require_array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
    nonnegative: bool = False,
) -> np.ndarray:
    """Return ``value`` as a float64 array of the required shape (``None`` = any size)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers, got {type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 elementwise, got min {arr.min():g}")
    return arr


def _range_text(low, high, low_closed, high_closed, integer=False) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f">= {low}" if low_closed else f"> {low}"
    if low is None:
        return f"<= {high}" if high_closed else f"< {high}"
    left = "[" if low_closed else "("
    right = "]" if high_closed else ")"
    if integer:
        return f"in [{low}, {high}]"
    return f"in {left}{low}, {high}{right}"
