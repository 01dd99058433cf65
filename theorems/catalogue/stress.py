"""Catalogue entries of the stress family (TRANSITIONAL legacy entries: not yet parameterised)."""
from __future__ import annotations

from ..registry import Claim, Control, register

register(Claim(
    id='P2r', title='Stress: the pure net past eps ~ min(b, 1-b)',
    paper_claims=('C2',), scope='extension', scope_note="stress: where P2's survival statement stops holding outside its regime",
    statement="P2's survival statement: the pure net's exact l2 robust error at eps stays below the A4 level. Drawn with eps = f min(b, 1-b), f in [0, 4], b in [0.02, 0.98], k in [1, 8], d in {16, 64, 256}; target: maximise robust error - level.",
    regime="P2's model (sigma = 0, unit magnitudes, uniform w*), exact engine",
    params=None, check=None, tests='theorems/test_stress.py', method='hypothesis (targeted) + exact',
    controls=(Control('inside_regime', 'f in [0, 0.5], k <= d/16: the property holds on every drawn example', expected='pass'),),
    expected='fail', expected_reason='Outside its regime the statement breaks: the search finds radii past about min(b, 1-b) (in units of it) where the pure net is broken; the shrunk counterexample and its boundary are recorded.',
    profiles=('stress',),
    legacy=True,
))

register(Claim(
    id='P2i', title='Stress: the sqrt(d/k) law under l_inf with the identity dictionary',
    paper_claims=('C2',), scope='extension', scope_note="stress: where P2's sqrt(d/k) law stops holding (threat model and dictionary)",
    statement="P2's scaling: the least-squares log-log slope of eps_c(pure)/eps_c(linear) over d = 16, 64, 256, 1024 lies in [0.4, 0.6]. Drawn over norm in {l2, l_inf} (identity dictionary), b in [0.1, 0.7], integer k in [2, 6]; target: maximise |slope - 0.5|.",
    regime="P2's model, exact engine (l_inf exact for the identity dictionary)",
    params=None, check=None, tests='theorems/test_stress.py', method='hypothesis (targeted) + exact',
    controls=(Control('inside_regime', 'l2 only: the slope stays in [0.4, 0.6] (integer k: for fractional k, e.g. 3.23, the lattice of margins bends the l2 slope to about 0.65, a boundary of its own)', expected='pass'),),
    expected='fail', expected_reason="Under l_inf with the identity dictionary the dense net's dual norm is ||w*||_1 = sqrt(d) ||w*||_2 while the pure net is limited by b alone: the ratio grows like d/sqrt(k) (slope about 1), outside [0.4, 0.6]. The advantage is larger, but the sqrt(d/k) law is an l2 fact.",
    profiles=('stress',),
    legacy=True,
))

register(Claim(
    id='P1z', title="Stress: purification's loss at b = 0",
    paper_claims=('C1', 'C2'), scope='extension', scope_note="stress: where P1's local statement stops holding (fixed threshold down to b = 0)",
    statement="P1's local statement with the threshold held fixed: a mixing rotation Q(t) (t in [0.05, 0.2], drawn direction) raises the optimal (over lambda) adversarial logistic loss above the pure net's. Drawn with b in [0, 0.9]; target: minimise the rise.",
    regime="P1's setting: d = 8, exact enumeration of z, eps = 0.25, PGD lower bound for t > 0",
    params=None, check=None, tests='theorems/test_stress.py', method='hypothesis (targeted) + optimisation over exact enumeration',
    controls=(Control('inside_regime', 'b in [0.2, 0.9]: every drawn rotation raises the adversarial loss', expected='pass'),),
    expected='fail', expected_reason='At b = 0 the net is linear and the loss depends on Q only through sum_j a_j W_j (S4): the rise is 0. The search shrinks to b = 0.',
    profiles=('stress',),
    legacy=True,
))
