"""Contrastive pre-training on the sparse-coding model, clean or with an attack on chosen loss terms.

A small package, one job per module:

- :mod:`~numerics.contrastive.views`: views and positive pairs (``make_views``, ``sample_pairs``);
- :mod:`~numerics.contrastive.losses`: the representation ``h(x)``, threshold rules and the loss
  split into its positive-pair and negative-pair terms (``representation``, ``thresholds``,
  ``contrastive_terms``);
- :mod:`~numerics.contrastive.attacks`: PGD on chosen terms (``attack_terms``, ``TermScore``,
  ``VARIANTS``);
- :mod:`~numerics.contrastive.training`: the training objective of the one loop
  (``ContrastiveConfig``, ``ContrastiveObjective``, ``train_contrastive``, ``ContrastiveRun``,
  ``contrastive_frozen_layer``);
- :mod:`~numerics.contrastive.evaluation`: purity and a clean probe's robust error
  (``evaluate_representation``), term sensitivity (``term_changes``).

Activations follow :mod:`numerics.activations` (soft threshold ``b >= 0``, ReLU with intercept
``b``); a config's ``b`` is the dead zone's edge (:mod:`numerics.contrastive.losses`).
"""
from .attacks import VARIANT_TERMS, VARIANTS, TermScore, _objective_and_grad, attack_terms
from .evaluation import RepresentationEval, TermChanges, evaluate_representation, evaluate_representations, probe_config, term_changes
from .losses import LOSSES, NORMALISATIONS, THRESHOLD_RULES, contrastive_terms, representation, thresholds
from .training import ContrastiveConfig, ContrastiveObjective, ContrastiveRun, contrastive_frozen_layer, train_contrastive
from .views import AUGMENTATIONS, make_views, sample_pairs

__all__ = [
    "VARIANTS", "VARIANT_TERMS", "TermScore", "attack_terms", "RepresentationEval", "TermChanges",
    "evaluate_representation", "evaluate_representations", "probe_config", "term_changes", "LOSSES", "NORMALISATIONS", "THRESHOLD_RULES",
    "contrastive_terms", "representation", "thresholds", "ContrastiveConfig", "ContrastiveObjective",
    "ContrastiveRun", "contrastive_frozen_layer", "train_contrastive", "AUGMENTATIONS", "make_views", "sample_pairs",
]
