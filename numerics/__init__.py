"""numerics: the library behind purecheck (data model, networks, attacks, risk, training, purity).

A plain library: it imports nothing of the project's other packages, and neither pytest
nor hypothesis. ``import numerics`` does not import torch (``to_torch`` loads it on first use).
"""
from .config import ModelConfig, PointMass, UniformMagnitude
from .dictionaries import make_dictionary, random_skew
from .estimates import Estimate, clopper_pearson, mean, paired_difference, proportion
from .networks import TwoLayerNet, linear_net, mixed_net, mixing_path, pure_net
from .purity import effective_features, network_purity, node_purity
from .risk import adversarial_logistic_loss, clean_error, logistic_loss, paired_risk_difference, robust_error
from .sparse_coding import SparseCodingModel, labels

__all__ = [
    "ModelConfig", "PointMass", "UniformMagnitude", "make_dictionary", "random_skew",
    "Estimate", "clopper_pearson", "mean", "paired_difference", "proportion",
    "TwoLayerNet", "linear_net", "mixed_net", "mixing_path", "pure_net", "to_torch",
    "effective_features", "network_purity", "node_purity", "SparseCodingModel", "labels",
    "adversarial_logistic_loss", "clean_error", "logistic_loss", "paired_risk_difference", "robust_error",
]


def __getattr__(name: str):
    # torch is heavy to import: the torch twin is loaded on first use only
    if name == "to_torch":
        from .torch_nets import to_torch

        return to_torch
    raise AttributeError(f"module 'numerics' has no attribute {name!r}")
