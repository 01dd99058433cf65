"""Catalogue entries of the training family (TRANSITIONAL legacy entries: not yet parameterised)."""
from __future__ import annotations

from ..registry import Claim, Control, register

register(Claim(
    id='P3', title='Adversarial training from random init purifies',
    paper_claims=('C1', 'C2'), scope='extension', scope_note='a claim about gradient training dynamics from a small random init (the paper speaks of minimisers); also judges clean accuracy kept and robustness gained',
    statement='Adversarial (l2 PGD, eps = 0.4) training from a small random init ends with purified nodes: the activity-weighted effective number of features per node is at least halved relative to clean training from the same init and data (paired over seeds) and most activity sits on 0.9-purified nodes; clean training ends dense (n_eff > d/4) and vulnerable (PGD breaks more than half of the inputs at eps = 0.4).',
    regime='d = 32, k = 3, sigma = 0.1, uniform w*, m = 64 hidden nodes, trainable shared symmetric threshold, Adam, online samples, 1000 steps (quick) / 3000 (thorough)',
    params=None, check=None, tests='theorems/test_training_claims.py', method='training + paired t-interval over seeds',
    controls=(Control('eps_zero', 'eps = 0: adversarial training is clean training, no purification gap', expected='fail'), Control('threshold_zero', 'threshold fixed at 0: the activation is linear, rotation symmetry leaves no purification signal', expected='fail'),),
    legacy=True,
))
