"""Verified per-input decisions of one two-layer net on fixed seeded inputs, at any radius.

A search over radii (a critical radius, a robust-error curve) asks the complete verifier the
same question on the same inputs at many radii. An input's error is monotone in the radius
(the worst-case margin falls and the tie scale ``TIE_RTOL * (scale + eps * gain)`` rises), so
an input proven broken at ``e`` is broken at every ``e' >= e`` (the witness stays in the larger
ball) and one proven safe at ``e`` is safe at every ``e' <= e``. :class:`VerifiedDecisions`
keeps, per input, the smallest radius proven broken and the largest proven safe, and at a new
radius verifies only the inputs these do not decide. Its counts are those of
``robust_error(..., method="verified")`` on the same draws (same ``samples``, ``seed``), except
that an input the verifier leaves undecided at ``e`` may be decided by an earlier radius: the
proven count is never below, the possible count never above, the direct ones (tested).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..validation import require_real
from .exact import margin_values
from .margins import clean_margin, network_gain
from .sampling import draw_batches, verified_margins
from .spec import common_args, make_spec


class VerifiedDecisions:
    """Per-input verified decisions of ``net`` at radii of the ``norm`` ball, on the ``samples``
    draws of ``seed`` (those of :func:`numerics.risk.robust_error` with the same arguments).

    ``counts(eps)`` returns ``(proven, possible, n)``: inputs proven misclassified within the
    ball (ties included), and those not proven safe. ``verified_rows`` counts the inputs the
    verifier was asked about, over all radii (out of ``n`` per radius asked).
    """

    def __init__(self, net, model, wstar, norm: str = "l2", *, samples: int, seed: int = 0,
                 verify: dict | None = None):
        samples, seed, _, _, _, verify = common_args(samples, seed, 0.5, None, 0.0, verify)
        if samples is None:
            raise ValueError("samples must be an int >= 2, got None")
        spec = make_spec(net, model, wstar, 0.0, norm, True, False)
        if spec.net is None:
            raise ValueError(f"net must be a two-layer net (verification exists only for those), got {spec.net_how}")
        self.spec, self.seed, self.verify = spec, seed, verify
        xs, ys, ms, scs, ks = [], [], [], [], []
        for k, sl, smp, y in draw_batches(spec, samples, seed):
            m, sc = clean_margin(spec.net, smp.x, y)
            xs.append(smp.x), ys.append(y), ms.append(m), scs.append(sc), ks.append(np.full(len(y), k))
        self.x, self.y = np.concatenate(xs), np.concatenate(ys)
        self.clean, self.clean_scale, self.batch = np.concatenate(ms), np.concatenate(scs), np.concatenate(ks)
        self.gain = network_gain(spec.net, norm)
        self.n = len(self.y)
        broken0 = margin_values(spec, self.clean, self.clean_scale) > 0  # clean errors and ties: broken at 0
        self.broken_from = np.where(broken0, 0.0, np.inf)  # smallest radius proven broken
        self.safe_to = np.where(broken0, -np.inf, 0.0)  # largest radius proven safe
        self.verified_rows = 0

    def counts(self, eps: float) -> tuple[int, int, int]:
        eps = require_real("eps", eps, low=0.0)
        rows = np.flatnonzero((self.broken_from > eps) & (self.safe_to < eps))
        if rows.size:
            spec = dataclasses.replace(self.spec, eps=eps)
            scale = self.clean_scale + eps * self.gain
            for k in np.unique(self.batch[rows]):
                r = rows[self.batch[rows] == k]
                att, cert, _, _, _ = verified_margins(spec, self.x[r], self.y[r], self.clean[r], scale[r],
                                             self.seed + int(k), self.verify)
                broken = margin_values(spec, att, scale[r]) > 0
                safe = margin_values(spec, cert, scale[r]) == 0
                self.broken_from[r[broken]] = np.minimum(self.broken_from[r[broken]], eps)
                self.safe_to[r[safe]] = np.maximum(self.safe_to[r[safe]], eps)
            self.verified_rows += int(rows.size)
        proven = int(np.sum(self.broken_from <= eps))
        possible = self.n - int(np.sum(self.safe_to >= eps))
        return proven, possible, self.n
