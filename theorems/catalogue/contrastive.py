"""Catalogue entries of the contrastive family (TRANSITIONAL legacy entries: not yet parameterised)."""
from __future__ import annotations

from ..registry import Claim, Control, register

register(Claim(
    id='P4', title='Contrastive adversarial training purifies mainly through negative pairs',
    paper_claims=('C3',), scope='extension', scope_note='checked through the training dynamics of adversarial contrastive training with the attack on one term at a time',
    statement="Adversarial contrastive training with the attack on (a) both terms, (b) the negative-pair term only, (c) the positive-pair term only, (d) no term, same seeds (init and data) and budget: (a) purifies (activity-weighted max-loading gain over (d) > 0.02), (b)'s gain over (d) exceeds half of (a)'s and (c)'s stays below half of (a)'s; paired 99% t-intervals over seeds. Verdict in the headline setting, fixed a priori as the paper's model (spectral loss, no normalisation, noisy views, symmetric soft threshold b = 0.5 ||W_j||, Adam, eps = 0.35). Reported beside it: the same verdict over a region map (loss x augmentation x threshold rule; more axes in thorough) with its smallest counterexample, the positive-pair statement along a mixing path (worst-case rise of each term and its dependence on mixing; own sub-verdict) and the clean loss's rotation invariance at b = 0 (S4 for the loss value).",
    regime='d = 16, k = 2, sigma = 0.1, m = 32 nodes, batch 32 (in-batch negatives), online pairs, l2 PGD on the anchor; quick: 12 seeds x 400 steps; thorough: 16 seeds x 1000 steps',
    params=None, check=None, tests='theorems/test_contrastive.py', method='adversarial contrastive training + paired t-intervals over seeds; PGD term attacks; Monte Carlo',
    controls=(Control('eps_zero', 'eps = 0: the four variants are the same clean run, no purification gap', expected='fail'), Control('linear_start', 'threshold fixed at 0 (linear representation): rotation symmetry leaves no purification signal, so no variant purifies', expected='fail'),),
    legacy=True,
))
