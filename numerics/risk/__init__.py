"""Population risk of a net on the sparse-coding model (docs/model.md §4).

Four quantities of a net under a :class:`~numerics.sparse_coding.SparseCodingModel`, task ``w*``
(labels ``y = sign(<w*, z>)``), radius ``eps`` and norm ``"l2"`` | ``"linf"``:

- ``clean_error``: ``P(y f(x) <= 0)``; ``robust_error``: ``P(min_{||delta|| <= eps} y f(x + delta) <= 0)``;
- ``logistic_loss``: ``E log(1 + exp(-y f(x)))``; ``adversarial_logistic_loss``: the same at
  the worst-case margin (the loss decreases in the margin, so the worst case of the loss is
  the loss at the worst-case margin).

A tie ``y = 0`` has margin 0 whatever the net does: an error, with loss ``log 2``. Margins
within ``TIE_RTOL`` (relative) of 0 count as 0 (:func:`numerics.sparse_coding.is_error`).

The net: a :class:`~numerics.networks.TwoLayerNet`, a :class:`~numerics.torch_nets.TorchTwoLayer`,
or any ``torch.nn.Module`` mapping (n, d) to n scores. Modules that are linear or two-layer ReLU
stacks (``nn.Sequential(Linear, ReLU, Linear[, Flatten])``) are recognised as two-layer nets
(:func:`numerics.risk.structure.as_two_layer`); every other module is *opaque*: it is evaluated
and attacked (autograd PGD), nothing more.

Each function returns an :class:`~numerics.estimates.Estimate` whose ``method`` says how:

- ``exact`` (point-mass magnitudes; ``lower``/``upper`` add the truncation bound of the atoms
  times the largest possible value, and the quadrature error estimates):
  * linear nets (``net.is_linear()``: the linear net, a mixed net or any soft-threshold net
    with all ``b = 0``, linear torch stacks): any sigma, any dictionary, l2 and l_inf. With ``v``
    the x-space weight and ``u = M^T v`` its feature loadings the margin given ``z`` is
    ``N(y(<u, z> + c) - eps ||v||_{q*}, sigma^2 ||v||^2 / d)``; for l_inf the dual norm is
    ``||v||_1`` *in x-space*, so it depends on the dictionary.
  * feature-aligned soft-threshold nets (each node reads one feature: the pure net and its
    rescalings), ``sigma = 0``: clean quantities; l2 worst case through the exact attack
    :func:`numerics.attacks.pure_l2.pure_l2_min_margin` (any dictionary); l_inf worst case
    in closed form when the dictionary is a signed permutation (the identity).
  * any net or module, ``sigma = 0``, ``d <= ENUMERATION_D``: clean quantities by full enumeration.
- ``mc`` (seeded, batched): Clopper-Pearson for errors, a t-interval for losses, over
  per-sample values that are exact (clean margins; the worst case of linear and feature-aligned
  nets).
- ``verified`` (robust errors of two-layer nets, with :mod:`numerics.verification` installed):
  Monte Carlo over the verifier's exact per-sample decisions; ``lower`` is the lower confidence
  limit of the errors it proves (attack witnesses), ``upper`` the upper limit of those plus the
  samples it could not decide (``details["unknown"]``); ``details`` also counts ``ties``,
  ``robust``, ``attackable`` and ``pgd_missed`` (errors the verifier's own PGD did not find: a
  measure of gradient masking) and the median / 95th percentile of the per-sample time.
- ``bound`` (robust quantities of two-layer nets): from the lower confidence limit of the PGD
  attack's value (:func:`numerics.attacks.pgd.pgd_min_margin`, an upper bound on the worst-case
  margin) to the upper limit of the certified value
  (:func:`numerics.attacks.certified.certified_min_margin`, a lower bound on it); each side at
  ``level``. ``value`` is the attack's estimate. The raw margins are compared per sample: a
  certificate above the attack beyond ``BOUND_RTOL`` raises :class:`numerics.errors.BoundViolation`.
- ``attack`` (robust quantities of opaque modules): PGD alone gives only a *lower* bound on the
  robust error (every error it finds is real; it may miss some): ``lower`` is its lower
  confidence limit, ``value`` its estimate and ``upper`` the trivial bound (1 for an error,
  ``inf`` for a loss).

``method``: ``"auto"`` (exact when available, else Monte Carlo with the best per-sample engine:
exact per sample, then ``verified`` for two-layer nets when the verifier is installed, then
``bound``, then ``attack``), ``"exact"`` (raises :class:`numerics.errors.ExactUnavailable`, or
its subclass ``TooManyAtoms`` / ``TooManyCandidates``, message starting with ``method``, when
no exact method applies), ``"mc"`` (sampling: exact per sample where possible, else ``bound``
for two-layer nets, ``attack`` for opaque modules), ``"bound"``, ``"verified"``, ``"attack"``
(that engine for robust quantities; clean quantities are exact per sample and give ``mc``).

``samples`` (None: ``DEFAULT_SAMPLES`` of the engine used) seeded draws; ``pgd``: overrides of
the one set of PGD defaults (those of :func:`~numerics.attacks.pgd.pgd_min_margin`); ``verify``:
keyword arguments of :func:`numerics.verification.verify` (e.g. its budget).
"""
from __future__ import annotations

import numpy as np

from ..errors import ExactUnavailable
from ..estimates import Estimate, mean, paired_difference, proportion
from ..validation import require_choice
from .decisions import VerifiedDecisions
from .exact import ENUMERATION_D, exact_estimate, margin_values, plan
from .margins import BOUND_RTOL, box_margins, pure_l2_margins
from .sampling import SampledMargins, exact_per_sample, sample_margins, verification_available
from .spec import NORMS, PGD_OPTIONS, QUANTITIES, Spec, common_args, make_spec, quantity_flags
from .structure import ALIGN_RTOL, FeatureForm, as_two_layer, feature_form

METHODS = ("auto", "exact", "mc", "bound", "verified", "attack")
# Samples per engine when ``samples`` is None: per-sample exact values are cheap (200,000 draws
# take about a second); PGD with its defaults (50 steps x 20 restarts) costs ~1.5 ms per sample and
# complete verification ~5 ms (d = 16, m = 8, one core), so those engines draw fewer.
DEFAULT_SAMPLES = {"exact": 200_000, "bound": 20_000, "verified": 2_000, "attack": 20_000}

__all__ = [
    "clean_error", "robust_error", "logistic_loss", "adversarial_logistic_loss", "risk", "exact_available",
    "paired_risk_difference", "engine_for", "METHODS", "QUANTITIES", "NORMS", "DEFAULT_SAMPLES", "ENUMERATION_D",
    "BOUND_RTOL", "ALIGN_RTOL", "PGD_OPTIONS", "ExactUnavailable", "FeatureForm", "feature_form", "as_two_layer",
    "pure_l2_margins", "box_margins", "verification_available", "VerifiedDecisions",
]


# --------------------------------------------------------------------------- public API


def clean_error(net, model, wstar, *, method: str = "auto", samples: int | None = None, seed: int = 0,
                level: float = 0.99, tol: float = 1e-12) -> Estimate:
    """``P(y f(x) <= 0)`` with ``y = sign(<w*, z>)`` (a tie ``y = 0`` is an error)."""
    return _estimate(make_spec(net, model, wstar, 0.0, "l2", False, False), method, samples, seed, level, None,
                     None, tol)


def robust_error(net, model, wstar, eps: float, norm: str = "l2", *, method: str = "auto",
                 samples: int | None = None, seed: int = 0, level: float = 0.99, pgd: dict | None = None,
                 verify: dict | None = None, tol: float = 1e-12) -> Estimate:
    """``P(min_{||delta||_norm <= eps} y f(x + delta) <= 0)`` (module docstring for methods and arguments)."""
    return _estimate(make_spec(net, model, wstar, eps, norm, True, False), method, samples, seed, level, pgd,
                     verify, tol)


def logistic_loss(net, model, wstar, *, method: str = "auto", samples: int | None = None, seed: int = 0,
                  level: float = 0.99, tol: float = 1e-12) -> Estimate:
    """``E log(1 + exp(-y f(x)))`` (``log 2`` on ties ``y = 0``)."""
    return _estimate(make_spec(net, model, wstar, 0.0, "l2", False, True), method, samples, seed, level, None,
                     None, tol)


def adversarial_logistic_loss(net, model, wstar, eps: float, norm: str = "l2", *, method: str = "auto",
                              samples: int | None = None, seed: int = 0, level: float = 0.99,
                              pgd: dict | None = None, verify: dict | None = None, tol: float = 1e-12) -> Estimate:
    """``E max_{||delta|| <= eps} log(1 + exp(-y f(x + delta)))`` = the loss at the worst-case margin."""
    return _estimate(make_spec(net, model, wstar, eps, norm, True, True), method, samples, seed, level, pgd,
                     verify, tol)


def risk(quantity: str, net, model, wstar, eps: float = 0.0, norm: str = "l2", *, method: str = "auto",
         samples: int | None = None, seed: int = 0, level: float = 0.99, pgd: dict | None = None,
         verify: dict | None = None, tol: float = 1e-12) -> Estimate:
    """Dispatch by name: ``quantity`` in ``QUANTITIES`` (``eps``/``norm`` ignored by the clean ones)."""
    robust, loss = quantity_flags(quantity)
    return _estimate(make_spec(net, model, wstar, eps if robust else 0.0, norm, robust, loss),
                     method, samples, seed, level, pgd, verify, tol)


def exact_available(quantity: str, net, model, wstar, eps: float = 0.0, norm: str = "l2") -> tuple[bool, str]:
    """Whether an exact method applies (structurally: atoms may still turn out too many), and why."""
    robust, loss = quantity_flags(quantity)
    p = plan(make_spec(net, model, wstar, eps if robust else 0.0, norm, robust, loss))
    return (isinstance(p, tuple), p[0] if isinstance(p, tuple) else p)


def engine_for(quantity: str, net, model, wstar, eps: float = 0.0, norm: str = "l2", method: str = "auto") -> str:
    """The Monte Carlo engine ``method`` would use when no exact value applies (``exact`` = exact per sample)."""
    robust, loss = quantity_flags(quantity)
    return _engine(make_spec(net, model, wstar, eps if robust else 0.0, norm, robust, loss),
                   require_choice("method", method, METHODS))


def paired_risk_difference(net_a, net_b, model, wstar, quantity: str = "robust_error", eps: float = 0.0,
                           norm: str = "l2", *, method: str = "auto", samples: int | None = None, seed: int = 0,
                           level: float = 0.99, pgd: dict | None = None, verify: dict | None = None,
                           tol: float = 1e-12) -> Estimate:
    """``risk(net_a) - risk(net_b)`` for one of ``QUANTITIES``.

    Exact (difference of exact values; the interval adds both slacks) when both are exact, else
    Monte Carlo on common random numbers (the same samples and attack seeds) with a paired
    interval (numerics.estimates.paired_difference: exact for errors, Student-t for losses) when
    both are exact per sample; otherwise ``bound``: per sample, the lower side
    from ``attack_a - certified_b`` and the upper side from ``certified_a - attack_b`` (an opaque
    module's missing certificate is the trivial one, 1 for errors and ``inf`` for losses, and the
    method is then ``attack``).
    """
    robust, loss = quantity_flags(quantity)
    spec_a = make_spec(net_a, model, wstar, eps if robust else 0.0, norm, robust, loss, name="net_a")
    spec_b = make_spec(net_b, model, wstar, eps if robust else 0.0, norm, robust, loss, name="net_b")
    method = require_choice("method", method, METHODS)
    samples, seed, level, pgd, tol, verify = common_args(samples, seed, level, pgd, tol, verify)
    if method in ("auto", "exact"):
        try:
            ea, eb = exact_estimate(spec_a, tol), exact_estimate(spec_b, tol)
            return Estimate(ea.value - eb.value, ea.lower - eb.upper, ea.upper - eb.lower, "exact",
                            details={"a": ea.to_dict(), "b": eb.to_dict()})
        except ExactUnavailable as exc:
            if method == "exact":
                raise type(exc)(f"method='exact' is not available: {exc}") from exc
    eng_a, eng_b = _engine(spec_a, method), _engine(spec_b, method)
    n = min(DEFAULT_SAMPLES[eng_a], DEFAULT_SAMPLES[eng_b]) if samples is None else samples
    ra = sample_margins(spec_a, eng_a, n, seed, pgd, verify)
    rb = sample_margins(spec_b, eng_b, n, seed, pgd, verify)
    va_att, va_cert = _values(spec_a, ra)
    vb_att, vb_cert = _values(spec_b, rb)
    if ra.engine == "exact" and rb.engine == "exact":
        return paired_difference(va_att, vb_att, level, quantity=quantity)
    value = float(np.mean(va_att - vb_att))
    lower = -np.inf if np.isinf(vb_cert).any() else paired_difference(va_att, vb_cert, level).lower
    upper = np.inf if np.isinf(va_cert).any() else paired_difference(va_cert, vb_att, level).upper
    trivial = ra.certified is None or rb.certified is None
    return Estimate(value, float(lower), float(upper), "attack" if trivial else "bound", level=level, n=n,
                    details={"quantity": quantity, "paired": True, "attack_difference": value,
                             "engines": [ra.engine, rb.engine], "how": [ra.how, rb.how]})


# --------------------------------------------------------------------------- dispatch


def _engine(spec: Spec, method: str) -> str:
    """The per-sample engine of ``method`` for ``spec`` (see :mod:`numerics.risk.sampling`)."""
    if not spec.robust or (method in ("auto", "mc", "exact") and exact_per_sample(spec) is not None):
        return "exact"
    two_layer = spec.net is not None
    if method in ("auto", "mc", "exact"):
        if method == "auto" and two_layer and verification_available():
            return "verified"
        return "bound" if two_layer else "attack"
    if method in ("bound", "verified") and not two_layer:
        raise ValueError(f"method={method!r} needs a two-layer net (certificates and verification exist only "
                         f"for those), got {spec.net_how}; use method='attack' or 'auto'")
    if method == "verified" and not verification_available():
        raise ValueError("method='verified' needs numerics.verification, which is not installed in this tree")
    return method


def _estimate(spec: Spec, method, samples, seed, level, pgd, verify, tol) -> Estimate:
    method = require_choice("method", method, METHODS)
    samples, seed, level, pgd, tol, verify = common_args(samples, seed, level, pgd, tol, verify)
    if method in ("auto", "exact"):
        try:
            return exact_estimate(spec, tol)
        except ExactUnavailable as exc:
            if method == "exact":
                raise type(exc)(f"method='exact' is not available: {exc}") from exc
    engine = _engine(spec, method)
    n = DEFAULT_SAMPLES[engine] if samples is None else samples
    res = sample_margins(spec, engine, n, seed, pgd, verify)
    return _summarise(spec, res, level, n, pgd, verify)


def _summarise(spec: Spec, res: SampledMargins, level: float, n: int, pgd: dict, verify: dict) -> Estimate:
    att, cert = _values(spec, res)
    stat = mean if spec.loss else proportion
    if res.engine == "exact":
        return stat(att, level, how=res.how)
    lo = stat(att, level)
    details = {"how": res.how, "attack": lo.value}
    if res.engine in ("bound", "attack"):
        details["pgd"] = _pgd_settings(pgd)
    if res.engine == "attack":
        upper = np.inf if spec.loss else 1.0
        return Estimate(lo.value, lo.lower, upper, "attack", level=level, n=n,
                        details={**details, "certified": None, "sides": "attack only: upper is the trivial bound"})
    hi = stat(cert, level)
    details["certified"] = hi.value
    method = "bound"
    if res.engine == "verified":
        details.update({"verify": {k: repr(v) for k, v in verify.items()}, **(res.details or {}),
                        "unknown": int(res.unknown.sum())})
        method = "bound" if spec.loss else "verified"
    return Estimate(lo.value, lo.lower, hi.upper, method, level=level, n=n, details=details)


def _values(spec: Spec, res: SampledMargins) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample values at the attained and at the certified margin (error indicators or losses);
    without a certificate the trivial value (1 for errors, inf for losses)."""
    att = margin_values(spec, res.attack, res.scale)
    if res.certified is None:
        return att, np.full(att.shape, np.inf if spec.loss else 1.0)
    return att, margin_values(spec, res.certified, res.scale)


def _pgd_settings(pgd: dict) -> dict:
    """The PGD settings used: the one set of defaults (:data:`numerics.attacks.pgd.PGD_DEFAULTS`) with ``pgd`` applied."""
    from ..attacks.pgd import PGD_DEFAULTS

    return PGD_DEFAULTS.as_dict() | pgd
