"""Catalogue entries of the symbolic family (TRANSITIONAL legacy entries: not yet parameterised)."""
from __future__ import annotations

from ..registry import Claim, Control, register

register(Claim(
    id='S1', title='Dual-norm inner maximisation for linear scores',
    paper_claims=('C2',), scope='lemma', scope_note=None,
    statement="min_{||delta||_q <= eps} y(<v, x+delta> + c) = y(<v, x> + c) - eps ||v||_{q*} for q in {2, inf, 1}, q* the dual exponent; the engine's exact attack and PGD agree with it.",
    regime='any v, x, y in {-1, +1}, eps >= 0',
    params=None, check=None, tests='theorems/test_symbolic.py', method='symbolic+exact+pgd',
    controls=(Control('wrong_dual', 'l_inf attack paired with the l2 norm of v instead of its dual l1 norm', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='S2', title='Soft-threshold facts and the per-feature damage function',
    paper_claims=('C1',), scope='lemma', scope_note=None,
    statement='act_b(t) = ReLU(t-b) - ReLU(-t-b) is odd, 1-Lipschitz and zero exactly on [-b, b]; the damage an l2 budget t does to one feature is psi(t) = |c| max(min(t, alpha), t - gap) with alpha, gap from (v, b).',
    regime='b >= 0, any pre-activation v, any coefficient c',
    params=None, check=None, tests='theorems/test_symbolic.py', method='symbolic+exact',
    controls=(Control('relu_intercept', 'ReLU with intercept in place of the symmetric threshold (not odd)', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='S3', title='Pure-net worst case in the easy regime',
    paper_claims=('C2',), scope='lemma', scope_note=None,
    statement="sigma = 0, unit magnitudes, active set S: if eps <= b and eps |w*_i| / ||w*_S|| <= 1 - b for i in S, the l2 attack lowers the pure net's margin by exactly lambda eps ||w*_S||, versus lambda eps ||w*|| for the linear net; past either boundary the exact attack departs from the formula.",
    regime='sigma = 0, point-mass magnitude 1, 0 <= b < 1, eps inside both boundaries',
    params=None, check=None, tests='theorems/test_symbolic.py', method='symbolic+exact',
    controls=(Control('past_boundary', 'the same formula tested on eps beyond the regime (eps > b or a saturated feature)', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='S4', title='Rotation invariance at b = 0',
    paper_claims=('C2', 'C3'), scope='lemma', scope_note=None,
    statement='With b = 0 the supervised clean objective depends on the mixing Q only through sum_j a_j W_j (= lambda M w* for every Q) and a linear contrastive objective only through the Gram W^T W, so clean losses cannot prefer purified nodes.',
    regime='b = 0 (linear activation), any orthogonal Q',
    params=None, check=None, tests='theorems/test_symbolic.py', method='symbolic+exact',
    controls=(Control('threshold_positive', 'b > 0: the function, and so the clean loss, changes with Q', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='S5', title='Sparse-coding moments and the law of <w, z>',
    paper_claims=('C1',), scope='lemma', scope_note=None,
    statement="E<w,z> = 0, E<w,z>^2 = p E[r^2] ||w||^2, E<w,z>^4 = p E[r^4] sum w_i^4 + 3 p^2 E[r^2]^2 ((sum w_i^2)^2 - sum w_i^4); the exact engine's law of <w, z> has these moments.",
    regime='independent coordinates z_i = B_i s_i r_i, any w',
    params=None, check=None, tests='theorems/test_symbolic.py', method='symbolic+exact+mc',
    controls=(Control('shared_sign', 'dependent coordinates (one sign shared by all features): the moment formula breaks', expected='fail'),),
    legacy=True,
))
