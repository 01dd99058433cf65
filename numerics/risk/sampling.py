"""The Monte Carlo engine: seeded samples of the model and one margin pair per sample.

Per sample it computes an *upper* value (attained: an attack's margin, >= the worst case) and a
*lower* one (sound: a certificate, <= the worst case), with the engine that applies:

- ``exact``: both equal, the exact worst case (clean margins; the dual-norm formula of a linear
  net; the exact l2 attack of a feature-aligned net; its l_inf box with a signed-permutation
  dictionary);
- ``bound``: PGD (upper) and the interval / Lipschitz certificate (lower) of a two-layer net;
- ``verified``: complete verification of a two-layer net (:mod:`numerics.verification`): exact
  decisions, the samples it cannot decide within its budget widen the interval;
- ``attack``: PGD alone (an opaque module): no lower value (``None``), so only the errors the
  attack finds are known (a lower bound on the robust error).

Samples come in batches of ``BLOCK // d``; batch k's attacks use seed ``seed + k`` (common random
numbers: two nets evaluated with the same seed see the same inputs and attack starts).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attacks.linear import dual_norm
from ..errors import TooManyCandidates
from ..sparse_coding import TIE_RTOL, tie_sign
from .margins import (BLOCK, attack_margins, box_margins, certified_margins, clean_margin, module_scores, network_gain,
                      ordered, pure_l2_margins)
from .spec import Spec
from .structure import feature_form, signed_permutation

ENGINES = ("exact", "bound", "verified", "attack")


@dataclass
class SampledMargins:
    attack: np.ndarray  # (n,) >= the true worst-case margin (equal when exact)
    certified: np.ndarray | None  # (n,) <= the true worst-case margin; None: no certificate (attack only)
    scale: np.ndarray  # (n,) tie scale
    engine: str  # "exact" (every sample exact), "bound", "verified" or "attack"
    how: str
    unknown: np.ndarray | None = None  # (n,) bool: verification undecided (verified engine only)
    details: dict | None = None


def exact_per_sample(spec: Spec) -> str | None:
    """How the worst case is exact per sample (a description), or ``None`` when it is not."""
    if not spec.robust:
        return "clean margin"
    net = spec.net
    if net is None:
        return None
    if net.is_linear():
        return "dual norm (exact per sample)"
    ff = feature_form(net, spec.model.M)
    if ff is not None and (spec.norm == "l2" or signed_permutation(spec.model.M)):
        return f"exact {spec.norm} attack of a feature-aligned net"
    return None


def draw_batches(spec: Spec, samples: int, seed: int):
    """The seeded draws every engine sees: ``(k, rows, sample, labels)`` per batch of ``BLOCK // d``
    (batch k's attacks use seed ``seed + k``); labels by the tie rule (0 on ties)."""
    rng = np.random.default_rng(seed)
    batch = max(1, BLOCK // spec.model.d)
    for k, start in enumerate(range(0, samples, batch)):
        n = min(batch, samples - start)
        smp = spec.model.sample(n, rng)
        yield k, slice(start, start + n), smp, tie_sign(smp.z @ spec.wstar, np.abs(smp.z) @ np.abs(spec.wstar))


def sample_margins(spec: Spec, engine: str, samples: int, seed: int, pgd: dict, verify: dict) -> SampledMargins:
    """Margins of ``samples`` seeded draws with ``engine`` (one of ``ENGINES``; ``exact`` falls back
    to ``bound`` on the batches where the exact l2 attack needs too many candidates)."""
    model, d = spec.model, spec.model.d
    att, scale = np.empty(samples), np.empty(samples)
    cert = None if engine == "attack" and spec.robust else np.empty(samples)
    unknown = np.zeros(samples, dtype=bool) if engine == "verified" else None
    how = exact_per_sample(spec) if engine == "exact" else {
        "bound": "pgd and certified bound", "verified": "complete verification",
        "attack": "pgd only (no certificate for this net)"}[engine]
    all_exact = engine == "exact"
    ff = feature_form(spec.net, model.M) if engine == "exact" and spec.robust and not spec.net.is_linear() else None
    extra: dict = {}
    seconds: list[np.ndarray] = []  # per-sample verification time (verified engine)
    for k, sl, smp, y in draw_batches(spec, samples, seed):
        n = sl.stop - sl.start
        if spec.net is not None:
            m, sc = clean_margin(spec.net, smp.x, y)
        else:
            m, sc = y * module_scores(spec.module, smp.x), np.zeros(n)
        if not spec.robust:
            att[sl], scale[sl] = m, sc
            if cert is not None:
                cert[sl] = m
            continue
        if engine == "exact" and spec.net.is_linear():
            v, _ = spec.net.linear_part()
            D = float(dual_norm(v, spec.norm))
            worst = m - np.abs(y) * spec.eps * D
            att[sl], cert[sl], scale[sl] = worst, worst, sc + spec.eps * D
            continue
        if engine == "exact":
            nz = y != 0
            V = smp.x @ model.M  # feature coordinates (noise included)
            worst = np.zeros(n)
            scale[sl] = sc + spec.eps * float(dual_norm(ff.coef, spec.norm))
            try:
                if spec.norm == "l2":
                    worst[nz] = pure_l2_margins(ff.coef, y[nz, None] * V[nz], ff.thr, spec.eps) + y[nz] * ff.c
                else:
                    worst[nz] = box_margins(ff.coef, ff.thr, y[nz, None] * V[nz], np.arange(d), spec.eps) \
                        + y[nz] * ff.c
                att[sl], cert[sl] = worst, worst
            except TooManyCandidates:  # the exact l2 attack is exponential on general inputs
                att[sl] = attack_margins(spec.net, smp.x, y, m, spec.eps, spec.norm, seed + k, pgd)
                cert[sl] = ordered("certified margin vs pgd margin", certified_margins(spec.net, smp.x, y, spec.eps,
                                                                                      spec.norm), att[sl], scale[sl])
                if all_exact:
                    all_exact = False
                    how += " (pgd and certified bound where it needs too many candidates)"
            continue
        if spec.net is not None:
            scale[sl] = sc + spec.eps * network_gain(spec.net, spec.norm)
        else:
            scale[sl] = sc
        if engine == "verified":
            a_m, c_m, unk, info, secs = verified_margins(spec, smp.x, y, m, scale[sl], seed + k, verify)
            att[sl], unknown[sl] = a_m, unk
            cert[sl] = ordered("verified lower bound vs attained margin", c_m, a_m, scale[sl])
            for key, val in info.items():
                extra[key] = extra.get(key, 0) + val
            seconds.append(secs)
            continue
        net = spec.net if spec.net is not None else spec.module
        att[sl] = attack_margins(net, smp.x, y, m, spec.eps, spec.norm, seed + k, pgd)
        if engine == "bound":
            cert[sl] = ordered("certified margin vs pgd margin",
                               certified_margins(spec.net, smp.x, y, spec.eps, spec.norm), att[sl], scale[sl])
    final = "exact" if all_exact else ("bound" if engine == "exact" else engine)
    if seconds:
        secs = np.concatenate(seconds)
        if secs.size:
            extra.update(seconds_median=float(np.median(secs)), seconds_p95=float(np.percentile(secs, 95)))
    return SampledMargins(att, cert, scale, final, how, unknown, extra or None)


def verification_available() -> bool:
    """Whether the complete verifier (:func:`numerics.verification.verify`) is importable."""
    try:
        from ..verification import verify  # noqa: F401
    except ImportError:
        return False
    return True


def verified_margins(spec: Spec, x: np.ndarray, y: np.ndarray, clean: np.ndarray, scale: np.ndarray, seed: int,
                     opts: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict, np.ndarray]:
    """Verified margins of the rows of one batch: ``(attained, lower, unknown, counts, seconds)``.

    x (n, d), y (n,) labels, clean (n,) clean margins, scale (n,) tie scales; opts: the
    verifier's keyword arguments. ``attained`` is the lowest margin found (an upper bound),
    ``lower`` a sound lower bound, ``unknown`` the rows left undecided, ``seconds`` the
    verifier's time per decided row.

    The verifier's error threshold is the tie rule's (``TIE_RTOL * scale``), so its "attackable"
    / "robust" decisions are exactly this library's error indicator. Ties ``y = 0`` are errors
    whatever the net does (margin 0, decided). The sound lower margin is the larger of the
    verifier's and the interval / Lipschitz certificate (both sound: the verifier stops bounding a
    sample once it is decided, e.g. at a witness, where its own bound may still be -inf).
    """
    from ..verification import verify

    nz = y != 0
    a_m, c_m = np.zeros(len(y)), np.zeros(len(y))
    unk = np.zeros(len(y), dtype=bool)
    counts = {"ties": int(np.sum(~nz)), "robust": 0, "attackable": 0, "unknown": 0, "pgd_missed": 0}
    seconds = np.zeros(0)
    if np.any(nz):
        res = verify(spec.net, x[nz], y[nz], spec.eps, norm=spec.norm, threshold=TIE_RTOL * scale[nz], seed=seed,
                     **opts)
        status = np.asarray(res.status)
        a_m[nz] = np.minimum(np.asarray(res.upper, dtype=np.float64), clean[nz])  # delta = 0 is feasible
        c_m[nz] = np.maximum(np.asarray(res.lower, dtype=np.float64),
                             certified_margins(spec.net, x[nz], y[nz], spec.eps, spec.norm))
        unk[nz] = status == "unknown"
        counts.update({k: int(v) for k, v in res.counts().items() if k in counts})
        seconds = np.asarray(res.seconds, dtype=np.float64)
    return a_m, c_m, unk, counts, seconds
