"""Catalogue entries of the questions family (TRANSITIONAL legacy entries: not yet parameterised)."""
from __future__ import annotations

from ..registry import Claim, Control, register

register(Claim(
    id='Q1', title='Correlated (non-orthogonal) dictionaries and denser codes',
    paper_claims=(), scope='beyond', scope_note=None,
    statement="With a dictionary whose features have pairwise cosine rho = 0.5 (Gram (1-rho)I + rho 11^T), a task w* with random signs, d = 64, k = 4, b = 0.3: the dual-basis pure net's critical l2 radius exceeds twice the dense net's (interval: sound relaxation below, Monte Carlo attack above). Region: coherence rho x task (random signs; uniform, along the dictionary's common direction) and k/d up to 1 (orthogonal, exact).",
    regime='sigma = 0, unit magnitudes, l2, A4 critical radii; pure net W = M^{-1}, dense net <M^{-T} w*, x>',
    params=None, check=None, tests='theorems/test_explore.py', method='exact + sound/attack interval',
    controls=(Control('threshold_zero', 'b = 0: the dual-basis net is the dense net, ratio 1', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q2', title='Activations: ReLU with intercept, smooth soft threshold',
    paper_claims=(), scope='beyond', scope_note=None,
    statement='With ReLU-with-intercept and with the smooth soft threshold at sharpness beta*b = 4: (i) the pure net keeps a critical-radius ratio > 2 over the dense net (d = 64, k = 4, b = 0.3), and (ii) adversarial training (d = 16, k = 2, eps = 0.4) purifies, the purity gap adversarial - clean being > 0.2 (paired over seeds), as for the soft threshold (also required).',
    regime="structural: P2's setting; training: theorems/explore/trained.py (trainable thresholds/intercepts from 0)",
    params=None, check=None, tests='theorems/test_explore.py', method='exact + Monte Carlo interval + training',
    controls=(Control('threshold_zero', 'b = 0: the ReLU pair and the smooth threshold are linear, ratio 1', expected='fail'), Control('eps_zero', 'the adversarial runs replaced by the clean ones: gap 0', expected='fail'),),
    expected='fail', expected_reason="Structurally both activations keep the advantage (the ReLU pair is the soft-threshold net exactly; the smooth net's ratio interval is above 2), but adversarial training does not purify them at these budgets: the ReLU intercepts move to positive values (no dead zone; gap about 0.0-0.2, smoke/quick) and the smooth net grows its thresholds while staying dense (gap about 0, interval below 0.2; in a 1500-step probe only a nearly hard beta*b = 30 purified). The soft threshold purifies (gap about 0.6).",
    legacy=True,
))

register(Claim(
    id='Q3', title='Depth: purity of each layer of a three-layer net',
    paper_claims=(), scope='beyond', scope_note=None,
    statement='In a three-layer soft-threshold net (m1 = 32, m2 = 16, one trainable threshold per layer), adversarial training at eps = 0.4 purifies the first layer: the layer-1 purity gap adversarial - clean exceeds 0.2 (paired over seeds). Layer-2 purity (composite rows W2 W1) is reported.',
    regime='theorems/explore/trained.py: d = 16, k = 2, sigma = 0.1, random dictionary, Adam, online samples',
    params=None, check=None, tests='theorems/test_explore.py', method='training + paired t-interval',
    controls=(Control('eps_zero', 'the adversarial runs replaced by the clean ones: gap 0', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q4', title='Threshold range',
    paper_claims=(), scope='beyond', scope_note=None,
    statement="For every b in [0.1, 0.7] (d = 256, k = 4) the pure net has clean error within 0.01 of the dense (Bayes-level) net and a critical l2 radius more than twice the dense net's. Region: all b in [0, 1].",
    regime="P2's setting: sigma = 0, unit magnitudes, uniform w*, exact engine",
    params=None, check=None, tests='theorems/test_explore.py', method='exact',
    controls=(Control('threshold_zero', 'b = 0: the pure net is the linear net', expected='fail'), Control('dead_threshold', 'b = 1: soft(1; 1) = 0, the net is dead (clean error 1)', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q5', title='Approximate purification: dose-response of downstream robustness',
    paper_claims=(), scope='beyond', scope_note=None,
    statement="Clean logistic heads on frozen layers along a mixing path Q(t) (b = 0.3; d = 16, k = 2, sigma = 0.1): the l2 robust error at eps = 0.3 rises by more than 0.15 from the pure layer to the most mixed one (sound: attack lower limit vs the pure head's upper limit), and at the least mixed layer stays within 0.05 of the pure layer's (PGD side). Region: the lowest layer purity keeping the robust error within 0.05.",
    regime='theorems/explore/trained.py model; mixing direction seed 0 (A2); task w* = 1/sqrt(d)',
    params=None, check=None, tests='theorems/test_explore.py', method='head training + Monte Carlo',
    controls=(Control('threshold_zero', 'b = 0: every mixed layer is the same linear representation', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q6', title='l_inf vs l2 adversaries, identity vs random dictionary',
    paper_claims=(), scope='beyond', scope_note=None,
    statement="At the largest d of the profile (k = 4, b = 0.3), the pure net's critical radius exceeds twice the dense net's in all four cells (l2, l_inf) x (identity, random dictionary). The log-log slope of the ratio in d is reported per cell.",
    regime="P2's setting; exact except l_inf with a random dictionary (sound l2-ball / feature-box relaxations below, PGD above)",
    params=None, check=None, tests='theorems/test_explore.py', method='exact + sound/attack interval',
    controls=(Control('threshold_zero', 'b = 0: pure = dense in every cell', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q7', title='Other losses: hinge, squared, InfoNCE',
    paper_claims=(), scope='beyond', scope_note=None,
    statement='The purity gap (adversarial - clean training, paired over seeds) exceeds 0.2 for the hinge and the squared loss (supervised, eps = 0.4) and for InfoNCE (contrastive, l2-normalised, T = 0.5, both terms attacked at eps = 0.35). Logistic and the spectral contrastive loss are reported as references.',
    regime="theorems/explore/trained.py model; contrastive: P4's headline setting (relative threshold b = 0.5)",
    params=None, check=None, tests='theorems/test_explore.py', method='training + paired t-interval',
    controls=(Control('eps_zero', 'the adversarial runs replaced by the clean ones: gap 0', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q8', title='Architecture: a normalisation layer, weight sharing',
    paper_claims=(), scope='beyond', scope_note=None,
    statement='The purity gap (adversarial - clean training at eps = 0.4, paired over seeds) exceeds 0.2 for a two-layer net with an RMS normalisation before the head (random dictionary) and for a circulant (weight-shared) first layer (identity dictionary).',
    regime='theorems/explore/trained.py setting; circulant net on the identity dictionary',
    params=None, check=None, tests='theorems/test_explore.py', method='training + paired t-interval',
    controls=(Control('eps_zero', 'the adversarial runs replaced by the clean ones: gap 0', expected='fail'),),
    expected='inconclusive', expected_reason="The normalised net purifies (gap about 0.55, interval above 0.2). The weight-shared net's outcome depends on the seed and on the number of steps: its filter either becomes a single tap (purity 0.99) or stops at a few taps (about 0.49). At 300 steps (smoke) 2 of 4 seeds stop and at 1500 steps (thorough) 9 of 10 (gap 0.29 [0.12, 0.45]): inconclusive; at 600 steps (quick) all 6 seeds purified (pass). Longer training does not settle it.",
    legacy=True,
))

register(Claim(
    id='Q9', title='Finite samples vs population',
    paper_claims=(), scope='beyond', scope_note=None,
    statement='Adversarial training from a fixed sample of n = 256 = 16 d inputs purifies: the purity gap adversarial - clean exceeds 0.2 (paired over seeds). Region: n on a grid and online training; the gap between the population and the training-sample robust error is reported.',
    regime='theorems/explore/trained.py setting with TrainConfig.n_train = n, same number of steps',
    params=None, check=None, tests='theorems/test_explore.py', method='training + paired t-interval',
    controls=(Control('eps_zero', 'the adversarial runs replaced by the clean ones: gap 0', expected='fail'),),
    legacy=True,
))

register(Claim(
    id='Q10', title='Downstream task similarity and ignored features',
    paper_claims=(), scope='beyond', scope_note=None,
    statement="Pre-training task w* uniform on 12 of 16 features. (i) A clean head on the frozen adversarially (supervised) pre-trained layer, on a task with cosine 0.5 to w* on its support, has PGD robust error at eps = 0.3 more than 0.1 below the dense net's; (ii) a clean head on a frozen adversarially contrastive (spectral) pre-trained layer does the same on a task supported on the 4 features w* ignores.",
    regime="theorems/explore/trained.py model; pre-training eps = 0.3 (supervised), 0.35 (contrastive, P4's headline)",
    params=None, check=None, tests='theorems/test_explore.py', method='training + PGD Monte Carlo + exact-per-sample dense baseline',
    controls=(Control('random_layer', 'a random frozen layer in place of both pre-trained layers', expected='fail'),),
    expected='fail', expected_reason="At these budgets neither gain reaches 0.1: the supervised layer's head gains 0.04-0.08 on the covered task (smoke: interval below 0.1; quick: 0.079 [0.054, 0.105]) and the spectral contrastive layer's head none on the ignored features (quick: -0.004 [-0.022, 0.015]); inheritance does show on the most similar tasks (rho = 0.9 and w' = w*, quick). The pre-trained layers are only partly purified (supervised: a few tau-purified nodes covering part of supp(w*); spectral contrastive training purifies little, as in Q7), so there is little to inherit.",
    legacy=True,
))
