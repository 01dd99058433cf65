"""Catalogue entries of the downstream family (TRANSITIONAL legacy entries: not yet parameterised)."""
from __future__ import annotations

from ..registry import Claim, Control, register

register(Claim(
    id='P5', title='A clean head on a frozen purified layer inherits robustness',
    paper_claims=('C4',), scope='extension', scope_note='adds the adversarially pre-trained layer (not only the perfectly purified one) and the dose-response of robustness over purity',
    statement="A clean logistic head trained on y' = sign(<w', z>) over a frozen purified first layer has clean error within 0.05 of end-to-end clean training, l2 robust error at eps = 0.2 within 0.10 of an adversarially trained head on the same layer and at least 0.10 below end-to-end clean training: for the pure layer (every task relation: w' correlated with w* on its support, independent, on features w* ignores) and for the adversarially pre-trained layer on tasks over the features it covers. Along a mixing path Q(t) the clean head's robust error degrades smoothly with purity: within 0.05 of the pure layer's at the first t > 0, no step down by more than 0.05, a rise of more than 0.15 at the most mixed layer.",
    regime='d = 32, k = 3, sigma = 0.1, random dictionary; w* = +-1/4 on 16 features; m = 64; pure/mixed layers b = 0.3; adversarial pre-training l2 eps = 0.45; heads: logistic, Adam, online samples; l2 attack eps = 0.2',
    params=None, check=None, tests='theorems/test_downstream.py', method='training + Monte Carlo (exact worst case or PGD side of [PGD, certified])',
    controls=(Control('random_layer', 'a random frozen layer (unit Gaussian rows, b = 0.3): no purified nodes', expected='fail'), Control('eps_zero', 'the layer pre-trained with eps = 0 (clean pre-training collapses onto +-M w*)', expected='fail'), Control('threshold_zero', 'the pure layer with b = 0: a linear representation, the head is the dense linear net', expected='fail'), Control('uncovered_task', 'the adversarially pre-trained layer on a task supported on features w* ignores', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='P5m', title='A clean head on a frozen mixed layer: clean accuracy fine, robustness collapses',
    paper_claims=('C4',), scope='extension', scope_note='the converse for a mixed (clean pre-training-like) layer: clean accuracy kept while robustness collapses along a mixing path',
    statement='Along the mixing path Q(t) (fixed threshold b = 0.3), the clean head on the frozen mixed layer keeps its clean error within 0.05 of end-to-end clean training at every t > 0, while its l2 robust error at eps = 0.2 rises by more than 0.15 from the pure layer to the most mixed one.',
    regime="as P5; mixing direction A seeded (A2), t up to 0.8 (quick) / 1.2 (thorough); task w' on the covered features, rho = 0",
    params=None, check=None, tests='theorems/test_downstream.py', method='training + Monte Carlo (PGD side of [PGD, certified])',
    controls=(Control('threshold_zero', 'b = 0: every mixed layer is the same linear representation, nothing collapses', expected='fail'),),
    expected='fail', expected_reason="Clean accuracy is not kept at strong mixing with a fixed threshold: at t = 0.8 (purity 0.50) the clean head's clean error is 0.317 against 0.223 for end-to-end training (gap interval [0.052, 0.136], quick profile). Dense nodes have pre-activations of scale sqrt(k/d) = 0.31, about the threshold b = 0.3, so the dead zone erases signal; a mixed layer keeps clean accuracy only with a small b, i.e. when it is nearly linear. The robustness collapse itself holds (robust error 0.30 -> 0.65).",
    legacy=True,
))

register(Claim(
    id='D1', title='Inheritance on real data (scikit-learn digits)',
    paper_claims=('C4',), scope='extension', scope_note='the inheritance on real data (scikit-learn digits, a learned dictionary) instead of the sparse-coding model',
    statement="On sklearn's digits (64 pixels), a two-layer soft-threshold net pre-trained on small-vs-large digits, adversarially (l2 eps = 0.5; l_inf eps = 0.1), frozen, with a clean logistic head trained on parity: the head's test clean accuracy is within 0.05 of (or above) that of the same head on a cleanly pre-trained layer, its PGD robust accuracy at the pre-training radius exceeds it by more than 0.10, and an adversarially trained head on the same layer gains less than 0.10 over it.",
    regime='digits scaled to [0, 1] and centred, stratified 2/3-1/3 split (seed 0); m = 64 (128 thorough), shared trainable soft threshold; purity against a MiniBatchDictionaryLearning dictionary (reported, not judged)',
    params=None, check=None, tests='theorems/test_downstream.py', method='training + test-set Clopper-Pearson; [certified, PGD] reported, PGD judged',
    controls=(Control('random_layer', 'a random frozen layer (unit Gaussian rows, b = 0) in place of the adversarial ones', expected='fail'), Control('eps_zero', 'the cleanly pre-trained layer in place of the adversarial ones', expected='fail'), Control('threshold_zero', 'l2 adversarial pre-training with the threshold fixed at 0 (a linear first layer)', expected='fail'),),
    expected='fail', expected_reason='Only partial inheritance on digits. An adversarially trained head on the same frozen AT layer is far more robust than the clean head: PGD robust-accuracy gap 0.37 [0.27, 0.47] (l2, eps 0.5) and 0.42 [0.32, 0.51] (l_inf, eps 0.1) in the thorough profile, 0.24 [0.14, 0.34] for l2 in quick. Over a cleanly pre-trained layer the clean head gains for l_inf (0.18 vs 0.01 thorough, 0.50 vs 0.29 quick) but not clearly for l2 (thorough 0.20 vs 0.07, gain interval [0.06, 0.20] straddles 0.10; quick 0.34 vs 0.43). The AT layers are purer against the learned dictionary (about 16-18 OMP atoms per node for 90% of the norm, against about 54 for the clean layer and 55 for random directions).',
    legacy=True,
))
